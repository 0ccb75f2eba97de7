//! ARN-aware matching of `Resource` patterns and the `Arn*` condition operators.
//!
//! Owns: splitting an ARN into its six `:`-separated parts and matching a compiled pattern
//! part by part. It does not resolve policy variables (callers pass a compiled [`Pattern`]).
//!
//! AWS, "IAM JSON policy elements: Condition operators", ARN condition operators: "Each of the
//! six colon-delimited components of the ARN is checked separately and each can include
//! multi-character match wildcards (*) or single-character match wildcards (?)." The sixth
//! part (the resource) may itself contain `:` and `/`, and a `*` there spans both.

use crate::pattern::{Case, Pattern, Token, match_tokens};

/// The number of `:`-separated parts of an ARN (`arn:partition:service:region:account:resource`).
const ARN_PARTS: usize = 6;

/// Splits `text` into its six ARN parts, or `None` when it is not an ARN.
pub(crate) fn split_arn(text: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = text.splitn(ARN_PARTS, ':').collect();
    (parts.len() == ARN_PARTS && parts.first() == Some(&"arn")).then_some(parts)
}

/// Splits the tokens of a pattern at its first five literal `:` characters.
fn split_pattern(pattern: &Pattern) -> Vec<Vec<Token>> {
    let mut parts: Vec<Vec<Token>> = vec![Vec::new()];
    for token in pattern.tokens() {
        if *token == Token::Char(':') && parts.len() < ARN_PARTS {
            parts.push(Vec::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(*token);
        }
    }
    parts
}

/// Whether `resource` (an ARN, or any other text) matches the policy `pattern`.
///
/// * `*` alone matches everything.
/// * When `resource` is an ARN, each of the pattern's parts is matched against the same part
///   of the ARN; a pattern with fewer than six parts lets its last part match the rest of the
///   ARN (so `arn:aws:ec2:*` matches any EC2 ARN). AWS documents part-wise matching for six-part
///   patterns; the behaviour for shorter patterns is not documented and is our choice.
/// * When `resource` is not an ARN, the pattern matches the whole text.
pub(crate) fn resource_matches(pattern: &Pattern, resource: &str) -> bool {
    if pattern.is_match_all() {
        return true;
    }
    let Some(resource_parts) = split_arn(resource) else {
        return pattern.matches(resource, Case::Sensitive);
    };
    let pattern_parts = split_pattern(pattern);
    if pattern_parts.len() > ARN_PARTS {
        return false;
    }
    let last = pattern_parts.len().saturating_sub(1);
    pattern_parts.iter().enumerate().all(|(i, tokens)| {
        let text = if i == last {
            resource_parts
                .get(i..)
                .map(|rest| rest.join(":"))
                .unwrap_or_default()
        } else {
            resource_parts
                .get(i)
                .map(|s| (*s).to_owned())
                .unwrap_or_default()
        };
        let chars: Vec<char> = text.chars().collect();
        match_tokens(tokens, &chars, Case::Sensitive)
    })
}

/// Whether `resource` could match `pattern` whatever its resource part (the sixth part) stands
/// for: the first five parts match. For a pattern or resource that is not an ARN, whether the
/// whole pattern with its text after the last `:` widened to `*` matches.
pub(crate) fn prefix_matches(pattern: &Pattern, resource: &str) -> bool {
    let mut parts = split_pattern(pattern);
    if let Some(last) = parts.last_mut() {
        *last = vec![Token::Star];
    }
    let widened: Vec<Token> = parts.join(&Token::Char(':'));
    resource_matches(&Pattern::from_tokens(widened), resource)
}

/// `ArnEquals` / `ArnLike`: like [`resource_matches`], but a request value that is not an ARN
/// never matches (AWS compares ARNs part by part; a plain string has no parts).
pub(crate) fn arn_condition_matches(pattern: &Pattern, value: &str) -> bool {
    split_arn(value).is_some() && resource_matches(pattern, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, resource: &str) -> bool {
        resource_matches(&Pattern::glob(pattern), resource)
    }

    #[test]
    fn star_in_resource_part_spans_slashes() {
        assert!(m(
            "arn:aws:dynamodb:*:*:table/curity-*",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts/index/by-email"
        ));
    }

    #[test]
    fn star_in_region_does_not_span_colons() {
        // the region `*` may not swallow `eu-west-1:111122223333`
        assert!(!m(
            "arn:aws:dynamodb:*:table/curity-x",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-x"
        ));
    }

    #[test]
    fn matching_is_case_sensitive() {
        assert!(!m(
            "arn:aws:dynamodb:*:*:table/Curity-*",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-a"
        ));
    }

    #[test]
    fn empty_region_matches_only_empty_or_star() {
        assert!(m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b"));
        assert!(m("arn:aws:s3:*:*:bucket/*", "arn:aws:s3:::bucket/a/b"));
        assert!(!m("arn:aws:s3:?::bucket/*", "arn:aws:s3:::bucket/a/b"));
    }

    #[test]
    fn short_pattern_last_part_spans_the_rest() {
        assert!(m("arn:aws:ec2:*", "arn:aws:ec2:eu-west-1:1:instance/i-1"));
        assert!(!m("arn:aws:s3:*", "arn:aws:ec2:eu-west-1:1:instance/i-1"));
    }

    #[test]
    fn resource_part_may_contain_colons() {
        assert!(m(
            "arn:aws:logs:*:*:log-group:/aws/*",
            "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/x:*"
        ));
    }

    #[test]
    fn prefix_match_ignores_the_resource_part() {
        let p = Pattern::glob("arn:aws:dynamodb:*:*:table/x-y");
        assert!(prefix_matches(
            &p,
            "arn:aws:dynamodb:eu-west-1:1:table/billing"
        ));
        assert!(!prefix_matches(&p, "arn:aws:s3:::bucket/k"));
    }

    #[test]
    fn non_arn_resource_matches_whole_text() {
        assert!(m("*", "anything"));
        assert!(m("abc*", "abc:d"));
        assert!(!arn_condition_matches(&Pattern::glob("abc*"), "abc:d"));
    }
}
