//! `*` / `?` wildcard patterns, the matching primitive of the policy language.
//!
//! Owns: compiling policy text into tokens (a wildcard, or a character that must match
//! literally) and matching text against them. It does not know about ARNs, actions or policy
//! variables; those build [`Pattern`]s and decide case sensitivity.

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// A character that must appear as is (possibly compared ignoring case).
    Char(char),
    /// `*`: any run of zero or more characters.
    Star,
    /// `?`: exactly one character.
    Question,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

/// Whether characters compare exactly or ignoring case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    Sensitive,
    Insensitive,
}

impl Pattern {
    /// A pattern where every `*` and `?` in `text` is a wildcard.
    pub(crate) fn glob(text: &str) -> Self {
        let mut pattern = Self::default();
        pattern.push_glob(text);
        pattern
    }

    /// Appends `text`, reading `*` and `?` as wildcards.
    pub(crate) fn push_glob(&mut self, text: &str) {
        self.tokens.extend(text.chars().map(|c| match c {
            '*' => Token::Star,
            '?' => Token::Question,
            other => Token::Char(other),
        }));
    }

    /// Appends `text` with every character literal.
    pub(crate) fn push_literal(&mut self, text: &str) {
        self.tokens.extend(text.chars().map(Token::Char));
    }

    pub(crate) fn from_tokens(tokens: Vec<Token>) -> Self {
        Self { tokens }
    }

    pub(crate) fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The pattern read back as plain text, wildcards rendered as `*` and `?`.
    ///
    /// Operators without wildcards (`StringEquals`, ...) compare against this text.
    pub(crate) fn to_text(&self) -> String {
        self.tokens
            .iter()
            .map(|t| match t {
                Token::Char(c) => *c,
                Token::Star => '*',
                Token::Question => '?',
            })
            .collect()
    }

    /// True when the pattern is exactly one `*`.
    pub(crate) fn is_match_all(&self) -> bool {
        self.tokens == [Token::Star]
    }

    /// Whether `text` matches the whole pattern.
    pub(crate) fn matches(&self, text: &str, case: Case) -> bool {
        let chars: Vec<char> = text.chars().collect();
        match_tokens(&self.tokens, &chars, case)
    }
}

fn chars_equal(a: char, b: char, case: Case) -> bool {
    match case {
        Case::Sensitive => a == b,
        Case::Insensitive => a == b || a.to_lowercase().eq(b.to_lowercase()),
    }
}

/// Greedy matching with a single backtrack point (the last `*` seen): linear in practice,
/// `O(len(tokens) * len(text))` in the worst case, never exponential.
pub(crate) fn match_tokens(tokens: &[Token], text: &[char], case: Case) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // (index of the `*` token, text position it currently swallows up to)
    let mut backtrack: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match tokens.get(p) {
            Some(Token::Star) => {
                backtrack = Some((p, t));
                p += 1;
                continue;
            }
            Some(Token::Question) => {
                p += 1;
                t += 1;
                continue;
            }
            Some(Token::Char(expected)) if chars_equal(*expected, c, case) => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((star, swallowed)) => {
                p = star + 1;
                t = swallowed + 1;
                backtrack = Some((star, swallowed + 1));
            }
            None => return false,
        }
    }
    tokens
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|t| *t == Token::Star))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The obviously correct exponential matcher the fast one is checked against.
    fn naive(pattern: &[char], text: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('*', rest)) => (0..=text.len()).any(|i| naive(rest, &text[i..])),
            Some(('?', rest)) => !text.is_empty() && naive(rest, &text[1..]),
            Some((c, rest)) => text.first() == Some(c) && naive(rest, &text[1..]),
        }
    }

    #[test]
    fn star_matches_across_slashes_and_colons() {
        assert!(Pattern::glob("a*z").matches("a/b:c/z", Case::Sensitive));
    }

    #[test]
    fn question_matches_exactly_one_character() {
        let p = Pattern::glob("a?c");
        assert!(p.matches("abc", Case::Sensitive));
        assert!(!p.matches("ac", Case::Sensitive));
        assert!(!p.matches("abbc", Case::Sensitive));
    }

    #[test]
    fn literal_star_is_not_a_wildcard() {
        let mut p = Pattern::default();
        p.push_literal("a*");
        assert!(p.matches("a*", Case::Sensitive));
        assert!(!p.matches("ab", Case::Sensitive));
    }

    #[test]
    fn insensitive_case_folds_both_sides() {
        assert!(Pattern::glob("DynamoDB:Get*").matches("dynamodb:getitem", Case::Insensitive));
        assert!(!Pattern::glob("DynamoDB:Get*").matches("dynamodb:getitem", Case::Sensitive));
    }

    proptest! {
        #[test]
        fn agrees_with_naive_matcher(pattern in "[ab*?]{0,8}", text in "[ab]{0,10}") {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            prop_assert_eq!(Pattern::glob(&pattern).matches(&text, Case::Sensitive), naive(&p, &t));
        }

        #[test]
        fn agrees_with_naive_matcher_on_arn_like_text(
            pattern in "[a:/*?]{0,10}",
            text in "[a:/]{0,12}",
        ) {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            prop_assert_eq!(Pattern::glob(&pattern).matches(&text, Case::Sensitive), naive(&p, &t));
        }
    }
}
