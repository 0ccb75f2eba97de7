//! Policy documents as IAM takes and returns them: parsed with IAM's size quotas and element
//! rules per kind (trust or identity policy), and returned URL-encoded.

use iam_policy::{Policy, PolicyErrorKind};

use crate::error::IamError;

/// Which element rules a document must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A role's trust policy: a principal, no resource.
    Trust,
    /// A managed or inline identity policy: a resource, no principal.
    Identity,
}

/// Parse a policy document as IAM does: size quota (non-whitespace characters), JSON, grammar.
pub(super) fn parse_document(text: &str, max: usize, kind: Kind) -> Result<Policy, IamError> {
    if non_whitespace_len(text) > max {
        // [mem] IAM's quota wording: `ACLSizePerRole` for trust policies, `PolicySize` for
        // managed policies.
        let quota = match kind {
            Kind::Trust => "ACLSizePerRole",
            Kind::Identity => "PolicySize",
        };
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for {quota}: {max}"
        )));
    }
    let policy = Policy::parse(text).map_err(|e| match e.kind {
        // [mem]
        PolicyErrorKind::InvalidJson { .. } => {
            IamError::MalformedPolicyDocument("This policy contains invalid Json".to_owned())
        }
        // [mem] IAM's generic grammar answer; the precise cause is in the harness's log.
        _ => IamError::MalformedPolicyDocument("Syntax errors in policy.".to_owned()),
    })?;
    // [mem] IAM's answers for the element rules of each policy kind.
    let malformed = |text: &str| Err(IamError::MalformedPolicyDocument(text.to_owned()));
    for statement in &policy.statements {
        match kind {
            Kind::Trust if statement.resource.is_some() => {
                return malformed("Has prohibited field Resource");
            }
            Kind::Trust if statement.principal.is_none() => {
                return malformed("Missing required field Principal");
            }
            Kind::Identity if statement.principal.is_some() => {
                return malformed("Policy document should not specify a principal.");
            }
            Kind::Identity if statement.resource.is_none() => {
                return malformed("Policy statement must contain resources.");
            }
            _ => {}
        }
    }
    Ok(policy)
}

/// The size IAM's policy quotas count: characters other than whitespace.
pub(super) fn non_whitespace_len(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// IAM returns policy documents URL-encoded (RFC 3986: everything but unreserved characters
/// percent-encoded, upper-case hex); botocore decodes them, the Rust SDK hands them over as is.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
