//! IAM's document size quotas and allowed characters.
//!
//! Owns: deciding whether a policy document's text is small enough for where it is used. It
//! does not parse the document (use [`crate::Policy::parse`] for that).
//!
//! AWS, "IAM and AWS STS quotas":
//! * "Policy documents can contain only the following Unicode characters: horizontal tab
//!   (U+0009), linefeed (U+000A), carriage return (U+000D), and characters in the range U+0020
//!   to U+00FF."
//! * Managed policies: 6,144 characters; inline policies, aggregate per entity: user 2,048,
//!   role 10,240, group 5,120; "IAM does not count white space when calculating the size of a
//!   policy against these quotas."
//! * "Role trust policy length": default 2,048 characters, adjustable up to 4,096.
//! * AWS STS `AssumeRole*` `Policy` parameter: "The plaintext that you use for both inline and
//!   managed session policies can't exceed 2,048 characters." Whether white space counts there
//!   is not documented; we count it (it is "plaintext").
//! * AWS Organizations quotas: a service control policy document is at most 5,120 characters
//!   (white space handling not documented; we do not count it, as for IAM).

use crate::policy::{PolicyError, PolicyErrorKind};

/// A size quota for one place a policy document is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeQuota {
    /// Where the quota applies, for the error message.
    pub what: &'static str,
    /// Maximum characters.
    pub limit: usize,
    /// Whether white space counts towards the limit.
    pub counts_whitespace: bool,
}

impl SizeQuota {
    /// A customer managed policy (also a permissions boundary).
    pub const MANAGED_POLICY: Self = Self::iam("a managed policy", 6_144);
    /// All inline policies of a user together.
    pub const USER_INLINE: Self = Self::iam("the inline policies of a user", 2_048);
    /// All inline policies of a role together.
    pub const ROLE_INLINE: Self = Self::iam("the inline policies of a role", 10_240);
    /// All inline policies of a group together.
    pub const GROUP_INLINE: Self = Self::iam("the inline policies of a group", 5_120);
    /// A role trust policy at the default quota.
    pub const TRUST_POLICY: Self = Self::iam("a role trust policy", 2_048);
    /// A role trust policy at the maximum adjustable quota.
    pub const TRUST_POLICY_MAX: Self = Self::iam("a role trust policy", 4_096);
    /// An inline session policy passed to `AssumeRole*`.
    pub const SESSION_POLICY: Self = Self {
        what: "a session policy",
        limit: 2_048,
        counts_whitespace: true,
    };
    /// A service control policy.
    pub const SERVICE_CONTROL_POLICY: Self = Self::iam("a service control policy", 5_120);

    const fn iam(what: &'static str, limit: usize) -> Self {
        Self {
            what,
            limit,
            counts_whitespace: false,
        }
    }

    /// The size of `json` as this quota counts it.
    pub fn size_of(&self, json: &str) -> usize {
        if self.counts_whitespace {
            json.chars().count()
        } else {
            json.chars().filter(|c| !c.is_whitespace()).count()
        }
    }
}

/// Checks `json` against `quota` and IAM's allowed characters; returns the counted size.
pub fn check_size(json: &str, quota: SizeQuota) -> Result<usize, PolicyError> {
    if let Some((offset, c)) = json
        .char_indices()
        .find(|(_, c)| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
    {
        return Err(PolicyError {
            pointer: String::new(),
            kind: PolicyErrorKind::InvalidCharacter {
                character: c,
                offset,
            },
        });
    }
    let size = quota.size_of(json);
    if size > quota.limit {
        return Err(PolicyError {
            pointer: String::new(),
            kind: PolicyErrorKind::TooLarge {
                size,
                limit: quota.limit,
                what: quota.what,
            },
        });
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_does_not_count_for_iam_quotas() {
        let padded = format!("{{{}}}", " ".repeat(10_000));
        assert_eq!(check_size(&padded, SizeQuota::TRUST_POLICY), Ok(2));
    }

    #[test]
    fn oversized_trust_policy_is_rejected() {
        let big = format!("{{\"Id\":\"{}\"}}", "x".repeat(2_100));
        let err = check_size(&big, SizeQuota::TRUST_POLICY).unwrap_err();
        assert_eq!(
            err.to_string(),
            "policy document: 2109 characters exceed the limit of 2048 for a role trust policy"
        );
        assert!(check_size(&big, SizeQuota::TRUST_POLICY_MAX).is_ok());
    }

    #[test]
    fn session_policy_counts_whitespace() {
        let padded = format!("{{{}}}", " ".repeat(2_047));
        assert!(check_size(&padded, SizeQuota::SESSION_POLICY).is_err());
    }

    #[test]
    fn characters_outside_latin1_are_rejected() {
        let err = check_size("{\"Id\":\"café ☕\"}", SizeQuota::MANAGED_POLICY).unwrap_err();
        assert_eq!(
            err.to_string(),
            "policy document: character `☕` (U+2615) at byte 13 is not allowed"
        );
    }
}
