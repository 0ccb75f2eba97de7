//! Session policies of `AssumeRoleWithWebIdentity`: the inline `Policy` and the managed
//! `PolicyArns`, validated as the botocore model constrains them, resolved against the world,
//! and carried by the session so the gateway intersects the role's permissions with them.

use iam_policy::{NamedPolicy, Policy, PolicyErrorKind};
use irsa_core::World;

use crate::error::StsError;

/// Model: `Policy` 1–2048 characters of `[\u0009\u000A\u000D\u0020-\u00FF]`.
pub const MAX_POLICY_CHARS: usize = 2048;
/// Model: at most 10 `PolicyArns`, each 20–2048 characters.
pub const MAX_POLICY_ARNS: usize = 10;
/// The name the inline session policy has in explanations.
pub const INLINE_NAME: &str = "session policy";

/// Coral validation messages for the two parameters (each violated constraint counts once).
pub fn validate(policy: Option<&str>, arns: Option<&[String]>) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(p) = policy {
        let len = p.chars().count();
        if len < 1 {
            errors.push("Value '' at 'policy' failed to satisfy constraint: Member must have length greater than or equal to 1".to_owned());
        }
        if len > MAX_POLICY_CHARS {
            errors.push(format!("Value '{p}' at 'policy' failed to satisfy constraint: Member must have length less than or equal to {MAX_POLICY_CHARS}"));
        }
        if !p
            .chars()
            .all(|c| matches!(c, '\u{09}' | '\u{0A}' | '\u{0D}' | '\u{20}'..='\u{FF}'))
        {
            errors.push(format!("Value '{p}' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"));
        }
    }
    if let Some(arns) = arns {
        if arns.len() > MAX_POLICY_ARNS {
            // [rec] how coral prints a list of structures in the message was not captured.
            errors.push(format!(
                "Value '[{}]' at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to {MAX_POLICY_ARNS}",
                arns.join(", ")
            ));
        }
        for (i, arn) in arns.iter().enumerate() {
            let len = arn.chars().count();
            let at = format!("policyArns.{}.member.arn", i + 1);
            if len < 20 {
                errors.push(format!("Value '{arn}' at '{at}' failed to satisfy constraint: Member must have length greater than or equal to 20"));
            } else if len > 2048 {
                errors.push(format!("Value '{arn}' at '{at}' failed to satisfy constraint: Member must have length less than or equal to 2048"));
            }
        }
    }
    errors
}

/// The session policies: the inline one first, then each managed one, which must exist in the
/// account. Runs after the trust decision (a refused caller learns nothing about policies).
pub fn resolve(
    world: &World,
    policy: Option<&str>,
    arns: &[String],
) -> Result<Vec<NamedPolicy>, StsError> {
    let mut out = Vec::new();
    if let Some(text) = policy {
        let parsed = Policy::parse(text).map_err(|e| StsError::MalformedPolicyDocument {
            message: match e.kind {
                // [src] the historical STS text (wire-contracts §1.4); AWS now sometimes sends
                // the raw parser message instead.
                PolicyErrorKind::InvalidJson { .. } => {
                    "The policy is not in the valid JSON format.".to_owned()
                }
                // [mem] IAM's generic grammar answer.
                _ => "Syntax errors in policy.".to_owned(),
            },
        })?;
        out.push(NamedPolicy::new(INLINE_NAME, parsed));
    }
    for arn in arns {
        let managed = world.managed_policies.get(arn).ok_or_else(|| {
            // [rec] STS's answer for a managed session policy that does not exist was not
            // found in any capture; IAM's attach wording is reused.
            StsError::MalformedPolicyDocument {
                message: format!("Policy {arn} does not exist or is not attachable."),
            }
        })?;
        out.push(managed.policy.clone());
    }
    Ok(out)
}

/// `PackedPolicySize`: the percentage of the packed-policy allowance the session policies use.
/// [rec] AWS's packing (compression of the policies and tags into the session token) is not
/// documented; this approximates it as the inline policy's non-whitespace characters plus 100
/// per managed ARN, over 2048, rounded up. Only sent when session policies were passed.
pub fn packed_policy_size(policy: Option<&str>, arns: &[String]) -> u32 {
    let chars =
        policy.map_or(0, |p| p.chars().filter(|c| !c.is_whitespace()).count()) + 100 * arns.len();
    let percent = (chars * 100).div_ceil(MAX_POLICY_CHARS);
    u32::try_from(percent.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_long_and_too_many_are_counted_separately() {
        let long = "x".repeat(2049);
        let arns: Vec<String> = (0..11)
            .map(|i| format!("arn:aws:iam::111122223333:policy/p{i}"))
            .collect();
        let errors = validate(Some(&long), Some(&arns));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].ends_with("Member must have length less than or equal to 2048"));
        assert!(errors[1].contains("at 'policyArns' failed"));
    }

    #[test]
    fn malformed_inline_policies_are_malformed_policy_documents() {
        let world = World::empty("111122223333".into(), "eu-west-1".into());
        let e = resolve(&world, Some("{not json"), &[]).unwrap_err();
        assert_eq!(e.code(), "MalformedPolicyDocument");
        assert_eq!(e.to_string(), "The policy is not in the valid JSON format.");
        let e = resolve(
            &world,
            None,
            &["arn:aws:iam::111122223333:policy/missing".to_owned()],
        )
        .unwrap_err();
        assert_eq!(e.code(), "MalformedPolicyDocument");
        let ok = resolve(
            &world,
            Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}]}"#),
            &[],
        )
        .unwrap();
        assert_eq!(ok[0].name, INLINE_NAME);
        assert!(packed_policy_size(Some("{}"), &[]) >= 1);
    }
}
