//! Matching the request's principal against a `Principal` / `NotPrincipal` element.
//!
//! AWS, "AWS JSON policy elements: Principal":
//! * Account principals: "When you specify an AWS account ... in the Principal element ... you
//!   grant permissions to all identities in the account", written as the 12-digit id or as
//!   `arn:aws:iam::123456789012:root`.
//! * Role principals: a role ARN in a resource-based policy matches the sessions of that role
//!   ("When you specify a role ARN ... the principal making the request is the role session").
//! * "You cannot use a wildcard to match part of a principal name or ARN."
//! * AWS account principals: "This delegates authority to the account. When you allow access to
//!   a different account, an administrator in that account must then grant access to an
//!   identity (IAM user or role) in that account." An account match therefore grants nothing by
//!   itself ([`PrincipalMatch::Account`]); a `Deny` that names the account still applies.
//! * All principals: "Identity-based policy types, such as permissions boundaries or session
//!   policies, do not limit permissions granted using the aws:PrincipalArn condition key with a
//!   wildcard(*) in the Principal element, unless the identity-based policies contain an explicit
//!   deny." So `*` is a direct grant ([`PrincipalMatch::Direct`]).
//! * `"Principal": "*"` and `"Principal": {"AWS": "*"}` both name every principal, anonymous
//!   callers included; we read `{"AWS": "*"}` as also matching federated and service principals
//!   (not sourced: AWS only says the two forms are equivalent).

use crate::arn::split_arn;
use crate::policy::PrincipalSet;
use crate::request::{Context, Principal};

/// How a principal matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrincipalMatch {
    No,
    /// Matched only through the account (id or `:root` ARN): authority delegated to the account.
    Account,
    /// Matched through the role of a session, a provider, a service or `aws:PrincipalArn`.
    Yes,
    /// Matched by `*` or by the exact ARN of an IAM user, role session or federated-user
    /// session: the grant is "directly to the session" in AWS's evaluation-logic terms.
    Direct,
}

/// Whether `arn` names an IAM user, a role session or a federated-user session.
fn is_session_or_user(arn: &str) -> bool {
    let Some(parts) = split_arn(arn) else {
        return false;
    };
    match (parts.get(2).copied(), parts.get(5).copied()) {
        (Some("sts"), Some(resource)) => {
            resource.starts_with("assumed-role/") || resource.starts_with("federated-user/")
        }
        (Some("iam"), Some(resource)) => resource.starts_with("user/"),
        _ => false,
    }
}

/// `arn:P:iam::A:role/<path/>R` is the role of the session `arn:P:sts::A:assumed-role/R/S`.
fn is_role_of_session(candidate: &str, session: &str) -> bool {
    let (Some(c), Some(s)) = (split_arn(candidate), split_arn(session)) else {
        return false;
    };
    let session_role = s
        .get(5)
        .and_then(|r| r.strip_prefix("assumed-role/"))
        .and_then(|r| r.split('/').next());
    let candidate_role = c
        .get(5)
        .and_then(|r| r.strip_prefix("role/"))
        .and_then(|r| r.rsplit('/').next());
    s.get(2) == Some(&"sts")
        && c.get(2) == Some(&"iam")
        && c.get(1) == s.get(1)
        && c.get(4) == s.get(4)
        && session_role.is_some()
        && session_role == candidate_role
}

fn is_account_of(candidate: &str, arn: &str) -> bool {
    let Some(parts) = split_arn(arn) else {
        return false;
    };
    let (Some(partition), Some(account)) = (parts.get(1), parts.get(4)) else {
        return false;
    };
    !account.is_empty()
        && (candidate == *account
            || candidate
                .strip_prefix("arn:")
                .and_then(|rest| rest.strip_prefix(*partition))
                .and_then(|rest| rest.strip_prefix(":iam::"))
                .and_then(|rest| rest.strip_prefix(*account))
                == Some(":root"))
}

pub(crate) fn principal_matches(
    set: &PrincipalSet,
    principal: Option<&Principal>,
    context: &Context,
) -> PrincipalMatch {
    let Some(principal) = principal else {
        return PrincipalMatch::No;
    };
    if set.any || set.aws.iter().any(|v| v == "*") {
        return PrincipalMatch::Direct;
    }
    let found = |yes: bool| {
        if yes {
            PrincipalMatch::Yes
        } else {
            PrincipalMatch::No
        }
    };
    match principal {
        Principal::Aws(arn) => {
            if set.aws.iter().any(|v| v == arn) {
                return if is_session_or_user(arn) {
                    PrincipalMatch::Direct
                } else {
                    PrincipalMatch::Yes
                };
            }
            let principal_arn = context.get("aws:PrincipalArn").and_then(|v| v.single());
            if set
                .aws
                .iter()
                .any(|v| is_role_of_session(v, arn) || principal_arn == Some(v.as_str()))
            {
                PrincipalMatch::Yes
            } else if set.aws.iter().any(|v| is_account_of(v, arn)) {
                PrincipalMatch::Account
            } else {
                PrincipalMatch::No
            }
        }
        Principal::Federated(id) => found(set.federated.iter().any(|v| v == id)),
        Principal::Service(name) => found(set.service.iter().any(|v| v == name)),
        Principal::Anonymous => PrincipalMatch::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(aws: &[&str]) -> PrincipalSet {
        PrincipalSet {
            aws: aws.iter().map(|s| (*s).to_owned()).collect(),
            ..PrincipalSet::default()
        }
    }

    const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/curity-dynamo/botocore-1";

    fn m(aws: &[&str], who: &str) -> PrincipalMatch {
        principal_matches(
            &set(aws),
            Some(&Principal::Aws(who.into())),
            &Context::new(),
        )
    }

    #[test]
    fn role_arn_matches_its_sessions() {
        assert_eq!(
            m(&["arn:aws:iam::111122223333:role/curity-dynamo"], SESSION),
            PrincipalMatch::Yes
        );
        assert_eq!(
            m(
                &["arn:aws:iam::111122223333:role/team/curity-dynamo"],
                SESSION
            ),
            PrincipalMatch::Yes
        );
        assert_eq!(
            m(&["arn:aws:iam::111122223333:role/other"], SESSION),
            PrincipalMatch::No
        );
        assert_eq!(
            m(&["arn:aws:iam::444455556666:role/curity-dynamo"], SESSION),
            PrincipalMatch::No
        );
    }

    #[test]
    fn session_arn_is_a_direct_grant() {
        assert_eq!(m(&[SESSION], SESSION), PrincipalMatch::Direct);
        assert_eq!(
            m(
                &["arn:aws:iam::111122223333:user/u"],
                "arn:aws:iam::111122223333:user/u"
            ),
            PrincipalMatch::Direct
        );
    }

    #[test]
    fn account_forms_delegate_to_the_account() {
        assert_eq!(m(&["111122223333"], SESSION), PrincipalMatch::Account);
        assert_eq!(
            m(&["arn:aws:iam::111122223333:root"], SESSION),
            PrincipalMatch::Account
        );
        assert_eq!(m(&["444455556666"], SESSION), PrincipalMatch::No);
    }

    #[test]
    fn no_partial_wildcards_in_principals() {
        assert_eq!(
            m(&["arn:aws:iam::111122223333:role/curity-*"], SESSION),
            PrincipalMatch::No
        );
    }

    #[test]
    fn anonymous_matches_only_star() {
        let any = PrincipalSet {
            any: true,
            ..PrincipalSet::default()
        };
        assert_eq!(
            principal_matches(&any, Some(&Principal::Anonymous), &Context::new()),
            PrincipalMatch::Direct
        );
        assert_eq!(
            principal_matches(
                &set(&["111122223333"]),
                Some(&Principal::Anonymous),
                &Context::new()
            ),
            PrincipalMatch::No
        );
    }
}
