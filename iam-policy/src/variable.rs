//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team}`,
//! `${oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub}`, defaults `${key, 'default'}` and the
//! escapes `${*}`, `${?}`, `${$}`.
//!
//! Owns: turning policy text into a [`Pattern`] for one request. It does not decide which
//! elements or operators allow variables (the evaluator does) and never reads anything but the
//! request [`Context`].
//!
//! AWS, "IAM policy elements: Variables and tags":
//! * "When you use a policy variable, AWS substitutes a value from the request context key in
//!   place of the variable in your policy."
//! * Special characters: "`${*}` - use where you need an * (asterisk) character", likewise
//!   `${?}` and `${$}`.
//! * Default values: "surround the default value with single quotes (' '), and separate the
//!   variable text and the default value with a comma and space (, )".
//! * "If AWS cannot resolve a variable this might cause the entire statement to be invalid."
//!
//! Not sourced from AWS's own documentation, our choices: a substituted value is matched
//! literally (a `*` in a tag value is not a wildcard); a multivalued key does not resolve; `''`
//! inside a default stands for one `'`; an unterminated `${` is literal text.

use crate::pattern::Pattern;
use crate::request::Context;

/// A `${...}` that has no value in the request and no default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unresolved {
    /// The variable as written, `${...}` included.
    pub(crate) variable: String,
}

/// Whether `text` contains a `${` (the only text [`substitute`] changes when it resolves).
pub(crate) fn has_variable(text: &str) -> bool {
    // Most policy text has no `$` at all, which `contains` (`memchr`) rules out fastest.
    let bytes = text.as_bytes();
    bytes.contains(&b'$') && bytes.windows(2).any(|pair| pair == b"${")
}

/// Compiles `text` for matching, reading `*` and `?` as wildcards and, when `resolve` is set,
/// substituting `${...}` from `context`.
pub(crate) fn substitute(
    text: &str,
    context: &Context,
    resolve: bool,
) -> Result<Pattern, Unresolved> {
    let mut pattern = Pattern::default();
    if !resolve {
        pattern.push_glob(text);
        return Ok(pattern);
    }
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let (before, from_dollar) = rest.split_at(start);
        pattern.push_glob(before);
        let inner_and_after = from_dollar.get(2..).unwrap_or_default();
        let Some(end) = closing_brace(inner_and_after) else {
            // unterminated: the rest is literal text (wildcards still wildcards)
            pattern.push_glob(from_dollar);
            return Ok(pattern);
        };
        let inner = inner_and_after.get(..end).unwrap_or_default();
        let variable = from_dollar.get(..end + 3).unwrap_or_default();
        pattern.push_literal(&resolve_one(inner, context).ok_or_else(|| Unresolved {
            variable: variable.to_owned(),
        })?);
        rest = inner_and_after.get(end + 1..).unwrap_or_default();
    }
    pattern.push_glob(rest);
    Ok(pattern)
}

/// Like [`substitute`], but an unresolved variable becomes a `*` wildcard: the widest pattern
/// the policy text could stand for once the variable had a value.
pub(crate) fn substitute_widest(text: &str, context: &Context) -> Pattern {
    let mut pattern = Pattern::default();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let (before, from_dollar) = rest.split_at(start);
        pattern.push_glob(before);
        let inner_and_after = from_dollar.get(2..).unwrap_or_default();
        let Some(end) = closing_brace(inner_and_after) else {
            pattern.push_glob(from_dollar);
            return pattern;
        };
        let inner = inner_and_after.get(..end).unwrap_or_default();
        match resolve_one(inner, context) {
            Some(value) => pattern.push_literal(&value),
            None => pattern.push_glob("*"),
        }
        rest = inner_and_after.get(end + 1..).unwrap_or_default();
    }
    pattern.push_glob(rest);
    pattern
}

/// Byte offset of the `}` closing a variable whose body starts `body`, skipping `}` inside a
/// quoted default.
fn closing_brace(body: &str) -> Option<usize> {
    let mut in_quote = false;
    for (i, c) in body.char_indices() {
        match c {
            '\'' => in_quote = !in_quote, // `''` toggles twice: stays inside the quote
            '}' if !in_quote => return Some(i),
            _ => {}
        }
    }
    None
}

fn resolve_one(inner: &str, context: &Context) -> Option<String> {
    let inner = inner.trim();
    match inner {
        "*" | "?" | "$" => return Some(inner.to_owned()),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => (key.trim(), Some(parse_default(default.trim())?)),
        None => (inner, None),
    };
    if key.is_empty() {
        return None;
    }
    context
        .get(key)
        .and_then(|v| v.single())
        .map(str::to_owned)
        .or(default)
}

/// `'text'` with `''` standing for `'`; anything else is malformed.
fn parse_default(quoted: &str) -> Option<String> {
    let body = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(body.replace("''", "'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Case;

    fn ctx() -> Context {
        Context::new()
            .with("aws:username", "alice")
            .with("aws:PrincipalTag/team", "curity")
            .with(
                "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub",
                "system:serviceaccount:curity:dynamo-sa",
            )
            .with_multi("aws:TagKeys", vec!["a".into()])
    }

    fn text(s: &str) -> Result<String, Unresolved> {
        substitute(s, &ctx(), true).map(|p| p.to_text())
    }

    #[test]
    fn substitutes_global_tag_and_issuer_keys() {
        assert_eq!(text("home/${aws:username}/*").unwrap(), "home/alice/*");
        assert_eq!(
            text("table/${aws:PrincipalTag/team}-*").unwrap(),
            "table/curity-*"
        );
        assert_eq!(
            text("${oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub}").unwrap(),
            "system:serviceaccount:curity:dynamo-sa"
        );
    }

    #[test]
    fn key_names_are_case_insensitive() {
        assert_eq!(text("${AWS:UserName}").unwrap(), "alice");
    }

    #[test]
    fn missing_key_uses_default_or_fails() {
        assert_eq!(text("${aws:userid, 'anonymous'}").unwrap(), "anonymous");
        assert_eq!(text("${aws:userid,'it''s'}").unwrap(), "it's");
        assert_eq!(
            text("a${aws:userid}").unwrap_err().variable,
            "${aws:userid}"
        );
    }

    #[test]
    fn multivalued_key_does_not_resolve() {
        assert!(text("${aws:TagKeys}").is_err());
    }

    #[test]
    fn escapes_are_literal_characters() {
        let p = substitute("a${*}b${?}c${$}", &ctx(), true).unwrap();
        assert!(p.matches("a*b?c$", Case::Sensitive));
        assert!(!p.matches("axb?c$", Case::Sensitive));
    }

    #[test]
    fn substituted_values_are_literal() {
        let c = Context::new().with("k", "a*");
        let p = substitute("${k}", &c, true).unwrap();
        assert!(p.matches("a*", Case::Sensitive));
        assert!(!p.matches("ab", Case::Sensitive));
    }

    #[test]
    fn without_resolution_variables_are_literal_text() {
        let p = substitute("home/${aws:username}", &ctx(), false).unwrap();
        assert!(p.matches("home/${aws:username}", Case::Sensitive));
        assert!(!p.matches("home/alice", Case::Sensitive));
    }

    #[test]
    fn unterminated_variable_is_literal() {
        assert_eq!(text("a${b").unwrap(), "a${b");
    }

    #[test]
    fn widest_pattern_turns_unresolved_variables_into_wildcards() {
        let p = substitute_widest("t/${aws:userid}-${aws:username}", &ctx());
        assert_eq!(p.to_text(), "t/*-alice");
        assert!(p.matches("t/x-alice", Case::Sensitive));
    }

    #[test]
    fn default_may_contain_a_brace() {
        assert_eq!(text("${nope, 'x}y'}z").unwrap(), "x}yz");
    }
}
