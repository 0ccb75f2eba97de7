//! ARN-aware matching of `Resource` patterns and the `Arn*` condition operators.
//!
//! Owns: splitting an ARN into its six `:`-separated parts and matching a pattern part by
//! part, either policy text as written or a compiled [`Pattern`] ([`Glob`]), without
//! allocating. It does not resolve policy variables (callers pass a compiled [`Pattern`]).
//!
//! AWS, "IAM JSON policy elements: Condition operators", ARN condition operators: "Each of the
//! six colon-delimited components of the ARN is checked separately and each can include
//! multi-character match wildcards (*) or single-character match wildcards (?)." The sixth
//! part (the resource) may itself contain `:` and `/`, and a `*` there spans both.

use crate::pattern::{Case, Glob, Pattern, Token, ascii_matches};

/// The number of `:`-separated parts of an ARN (`arn:partition:service:region:account:resource`).
const ARN_PARTS: usize = 6;

/// Splits `text` into its six ARN parts, or `None` when it is not an ARN.
pub(crate) fn split_arn(text: &str) -> Option<[&str; ARN_PARTS]> {
    let rest = text.strip_prefix("arn:")?;
    let (partition, rest) = split_colon(rest)?;
    let (service, rest) = split_colon(rest)?;
    let (region, rest) = split_colon(rest)?;
    let (account, resource) = split_colon(rest)?;
    Some(["arn", partition, service, region, account, resource])
}

/// `split_once(':')` by a plain byte scan (ARN parts are short).
/// The account field of an ARN, when it has a non-empty one.
pub(crate) fn account_of(arn: &str) -> Option<&str> {
    Target::new(arn).account()
}

pub(crate) fn split_colon(text: &str) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == b':')?;
    Some((text.get(..at)?, text.get(at + 1..)?))
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
    glob_resource_matches(pattern.as_glob(), resource)
}

/// [`resource_matches`] for a pattern that need not be compiled (no allocation).
pub(crate) fn glob_resource_matches(pattern: Glob<'_>, resource: &str) -> bool {
    glob_target_matches(pattern, Target::new(resource))
}

/// A resource ARN (or any text a resource pattern is matched against) read once, so that
/// matching it against many patterns does not scan it again for each: whether it is ASCII
/// and, for an ASCII ARN, where its first five `:` are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    text: &'a str,
    ascii: bool,
    /// Byte offsets of the first five `:` of an ASCII ARN; `None` for ASCII text that is not
    /// an ARN (and for non-ASCII text, which takes the general path).
    colons: Option<[usize; ARN_PARTS - 1]>,
}

impl<'a> Target<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let ascii = text.is_ascii();
        let colons = if ascii {
            arn_colons(text.as_bytes())
        } else {
            None
        };
        Self {
            text,
            ascii,
            colons,
        }
    }

    /// The account field (between the fourth and fifth `:`) of an ARN, when not empty. Read
    /// off the colons already found for an ASCII ARN (this runs for every evaluation).
    pub(crate) fn account(&self) -> Option<&'a str> {
        let account = match self.colons {
            Some([_, _, _, before, after]) => self.text.get(before + 1..after),
            None if !self.ascii => split_arn(self.text).and_then(|parts| parts.get(4).copied()),
            None => None,
        };
        account.filter(|a| !a.is_empty())
    }
}

/// The byte offsets of the first five `:` of `resource` when it is an ARN.
fn arn_colons(resource: &[u8]) -> Option<[usize; ARN_PARTS - 1]> {
    if !resource.starts_with(b"arn:") {
        return None;
    }
    let mut colons = [0usize; ARN_PARTS - 1];
    let mut found = 0;
    for (at, byte) in resource.iter().enumerate() {
        if *byte == b':' {
            let Some(slot) = colons.get_mut(found) else {
                break;
            };
            *slot = at;
            found += 1;
        }
    }
    (found == ARN_PARTS - 1).then_some(colons)
}

/// [`glob_resource_matches`] for a resource read once ([`Target`]).
pub(crate) fn glob_target_matches(pattern: Glob<'_>, target: Target<'_>) -> bool {
    if pattern.is_match_all() {
        return true;
    }
    let resource = target.text;
    if let Glob::Text(text) = pattern
        && target.ascii
        && text.is_ascii()
    {
        return match target.colons {
            Some(colons) => ascii_arn_matches(text.as_bytes(), resource.as_bytes(), colons),
            None => ascii_matches(text.as_bytes(), resource.as_bytes(), Case::Sensitive),
        };
    }
    let Some(resource_parts) = split_arn(resource) else {
        return pattern.matches(resource, Case::Sensitive);
    };
    let mut rest = pattern;
    // byte offset of the current part in `resource`
    let mut offset = 0;
    for (i, part) in resource_parts.iter().enumerate() {
        // the pattern's last part matches the rest of the ARN, `:` included
        let remainder = resource.get(offset..).unwrap_or_default();
        if i + 1 == ARN_PARTS {
            return rest.matches(remainder, Case::Sensitive);
        }
        match rest.split_colon() {
            Some((head, tail)) => {
                if !head.matches(part, Case::Sensitive) {
                    return false;
                }
                rest = tail;
            }
            None => return rest.matches(remainder, Case::Sensitive),
        }
        offset += part.len() + 1;
    }
    true
}

/// [`glob_resource_matches`] for ASCII pattern text (not `*` alone) and an ASCII ARN whose
/// first five `:` are at `colons`: the same part-wise matching, byte by byte.
fn ascii_arn_matches(pattern: &[u8], resource: &[u8], colons: [usize; ARN_PARTS - 1]) -> bool {
    // Every match is anchored at the start, part by part, so the pattern's text before its
    // first wildcard must equal the resource's text of the same length, `:` included; where
    // it does, the pattern's `:` in that text sit where the resource's first ones do, and the
    // parts wholly inside it have matched: compare that text once (`arn:aws:dynamodb:` of
    // `arn:aws:dynamodb:*:*:table/x-*`) and go on after the last such part.
    let literal = pattern
        .iter()
        .position(|b| matches!(b, b'*' | b'?'))
        .unwrap_or(pattern.len());
    let (Some(head), Some(text)) = (pattern.get(..literal), resource.get(..literal)) else {
        return false; // the resource is shorter than the pattern's literal text
    };
    if head != text {
        return false;
    }
    if literal == pattern.len() {
        return resource.len() == literal;
    }
    let done = colons.iter().take_while(|&&at| at < literal).count();
    let mut start = match done.checked_sub(1).and_then(|last| colons.get(last)) {
        Some(at) => at + 1,
        None => 0,
    };
    let mut pattern = pattern.get(start..).unwrap_or_default();
    for &end in colons.get(done..).unwrap_or_default() {
        let Some(p) = pattern.iter().position(|b| *b == b':') else {
            // the pattern's last part matches the rest of the ARN, `:` included
            break;
        };
        let (Some(head), Some(part)) = (pattern.get(..p), resource.get(start..end)) else {
            return false;
        };
        // `*` matches any part (most patterns' region and account): no need to look
        if head != b"*" && !ascii_matches(head, part, Case::Sensitive) {
            return false;
        }
        pattern = pattern.get(p + 1..).unwrap_or_default();
        start = end + 1;
    }
    ascii_matches(
        pattern,
        resource.get(start..).unwrap_or_default(),
        Case::Sensitive,
    )
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
pub(crate) fn arn_condition_matches(pattern: Glob<'_>, value: &str) -> bool {
    split_arn(value).is_some() && glob_resource_matches(pattern, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, resource: &str) -> bool {
        let compiled = resource_matches(&Pattern::glob(pattern), resource);
        assert_eq!(
            glob_resource_matches(Glob::Text(pattern), resource),
            compiled,
            "{pattern} against {resource}"
        );
        compiled
    }

    proptest::proptest! {
        /// The ASCII ARN path (literal text compared at once, `*` parts skipped) and the
        /// compiled path agree.
        #[test]
        fn ascii_arn_patterns_agree_with_compiled(
            pattern in "arn:[ab*?:]{0,16}",
            resource in "arn:[ab:]{0,16}",
        ) {
            let text = glob_resource_matches(Glob::Text(&pattern), &resource);
            let compiled = resource_matches(&Pattern::glob(&pattern), &resource);
            proptest::prop_assert_eq!(text, compiled);
        }

        /// The ASCII fast path, the general path over text and the compiled path agree.
        #[test]
        fn text_and_compiled_resource_patterns_agree(
            pattern in "(arn:)?[a*?:/é]{0,14}",
            resource in "(arn:)?[a:/é]{0,14}",
        ) {
            let text = glob_resource_matches(Glob::Text(&pattern), &resource);
            let compiled = resource_matches(&Pattern::glob(&pattern), &resource);
            proptest::prop_assert_eq!(text, compiled);
        }
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
        assert!(!arn_condition_matches(Glob::Text("abc*"), "abc:d"));
    }
}
