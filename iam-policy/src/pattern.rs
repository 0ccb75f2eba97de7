//! `*` / `?` wildcard patterns, the matching primitive of the policy language.
//!
//! Owns: compiling policy text into tokens (a wildcard, or a character that must match
//! literally) and matching text against them, or against policy text as written ([`Glob`]) when
//! there is nothing to substitute, without compiling or allocating. It does not know about ARNs, actions or policy
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
    /// A pattern where every `*` and `?` in `text` is a wildcard (evaluation matches such text
    /// as a [`Glob::Text`] without compiling it).
    #[cfg(test)]
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

    /// Whether `text` matches the whole pattern.
    #[cfg(test)]
    pub(crate) fn matches(&self, text: &str, case: Case) -> bool {
        Glob::Tokens(&self.tokens).matches(text, case)
    }

    /// A borrowed view for matching.
    pub(crate) fn as_glob(&self) -> Glob<'_> {
        Glob::Tokens(&self.tokens)
    }
}

/// A pattern to match against without compiling it first: policy text read as is (`*` and
/// `?` wildcards, every other character literal, exactly what `Pattern::push_glob` compiles),
/// or the tokens of a compiled [`Pattern`]. Matching never allocates.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Glob<'a> {
    /// Policy text without variables.
    Text(&'a str),
    /// Compiled tokens (after variable substitution).
    Tokens(&'a [Token]),
}

impl<'a> Glob<'a> {
    /// The token at position `at` (a byte offset for text, an index for tokens) and the
    /// position after it.
    fn token_at(self, at: usize) -> Option<(Token, usize)> {
        match self {
            Self::Text(text) => {
                let c = text.get(at..)?.chars().next()?;
                let token = match c {
                    '*' => Token::Star,
                    '?' => Token::Question,
                    other => Token::Char(other),
                };
                Some((token, at + c.len_utf8()))
            }
            Self::Tokens(tokens) => tokens.get(at).map(|t| (*t, at + 1)),
        }
    }

    /// Whether every token from position `at` on is `*` (and `at` is within the pattern).
    fn only_stars_from(self, at: usize) -> bool {
        match self {
            Self::Text(text) => text
                .get(at..)
                .is_some_and(|rest| rest.bytes().all(|b| b == b'*')),
            Self::Tokens(tokens) => tokens
                .get(at..)
                .is_some_and(|rest| rest.iter().all(|t| *t == Token::Star)),
        }
    }

    /// True when the pattern is exactly one `*`.
    pub(crate) fn is_match_all(self) -> bool {
        match self {
            Self::Text(text) => text == "*",
            Self::Tokens(tokens) => tokens == [Token::Star],
        }
    }

    /// Splits at the first literal `:`.
    pub(crate) fn split_colon(self) -> Option<(Self, Self)> {
        match self {
            Self::Text(text) => {
                let at = text.bytes().position(|b| b == b':')?;
                Some((Self::Text(text.get(..at)?), Self::Text(text.get(at + 1..)?)))
            }
            Self::Tokens(tokens) => {
                let at = tokens.iter().position(|t| *t == Token::Char(':'))?;
                Some((
                    Self::Tokens(tokens.get(..at)?),
                    Self::Tokens(tokens.get(at + 1..)?),
                ))
            }
        }
    }

    /// Whether `text` matches the whole pattern.
    ///
    /// Greedy matching with a single backtrack point (the last `*` seen): linear in practice,
    /// `O(len(pattern) * len(text))` in the worst case, never exponential.
    pub(crate) fn matches(self, text: &str, case: Case) -> bool {
        if let Self::Text(pattern) = self
            && pattern.is_ascii()
            && text.is_ascii()
        {
            return ascii_matches(pattern.as_bytes(), text.as_bytes(), case);
        }
        let (mut p, mut t) = (0usize, 0usize);
        // (position after the `*` token, text offset it currently swallows up to)
        let mut backtrack: Option<(usize, usize)> = None;
        while let Some(c) = text.get(t..).and_then(|rest| rest.chars().next()) {
            match self.token_at(p) {
                Some((Token::Star, next)) => {
                    backtrack = Some((next, t));
                    p = next;
                    continue;
                }
                Some((Token::Question, next)) => {
                    p = next;
                    t += c.len_utf8();
                    continue;
                }
                Some((Token::Char(expected), next)) if chars_equal(expected, c, case) => {
                    p = next;
                    t += c.len_utf8();
                    continue;
                }
                _ => {}
            }
            match backtrack {
                Some((after_star, swallowed)) => {
                    let width = text
                        .get(swallowed..)
                        .and_then(|rest| rest.chars().next())
                        .map_or(1, char::len_utf8);
                    p = after_star;
                    t = swallowed + width;
                    backtrack = Some((after_star, t));
                }
                None => return false,
            }
        }
        self.only_stars_from(p)
    }
}

/// [`Glob::matches`] for ASCII pattern text and ASCII text, where every character is one byte
/// (the same algorithm, byte by byte).
pub(crate) fn ascii_matches(pattern: &[u8], text: &[u8], case: Case) -> bool {
    let equal = |a: u8, b: u8| match case {
        Case::Sensitive => a == b,
        Case::Insensitive => a.eq_ignore_ascii_case(&b),
    };
    // The literal text before the first wildcard must match as is: compare it at once.
    let literal = pattern
        .iter()
        .position(|b| matches!(b, b'*' | b'?'))
        .unwrap_or(pattern.len());
    let (Some(head), Some(text_head)) = (pattern.get(..literal), text.get(..literal)) else {
        return false; // the text is shorter than the literal head
    };
    let head_equal = match case {
        Case::Sensitive => head == text_head,
        Case::Insensitive => head.eq_ignore_ascii_case(text_head),
    };
    if !head_equal {
        return false;
    }
    match pattern.get(literal..) {
        Some([]) => return text.len() == literal,
        Some([b'*']) => return true,
        _ => {}
    }
    let (mut p, mut t) = (literal, literal);
    let mut backtrack: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p + 1, t));
                p += 1;
                continue;
            }
            Some(b'?') => {
                p += 1;
                t += 1;
                continue;
            }
            Some(&expected) if equal(expected, c) => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((after_star, swallowed)) => {
                p = after_star;
                t = swallowed + 1;
                backtrack = Some((after_star, t));
            }
            None => return false,
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|b| *b == b'*'))
}

fn chars_equal(a: char, b: char, case: Case) -> bool {
    match case {
        Case::Sensitive => a == b,
        Case::Insensitive => {
            a == b
                || if a.is_ascii() && b.is_ascii() {
                    a.eq_ignore_ascii_case(&b)
                } else {
                    a.to_lowercase().eq(b.to_lowercase())
                }
        }
    }
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
        fn text_matching_agrees_with_naive_matcher(pattern in "[ab*?é]{0,8}", text in "[abé]{0,10}") {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            prop_assert_eq!(Glob::Text(&pattern).matches(&text, Case::Sensitive), naive(&p, &t));
        }

        #[test]
        fn text_and_compiled_patterns_agree_ignoring_case(
            pattern in "[aAéÉ\u{212A}k*?:]{0,8}",
            text in "[aAéÉ\u{212A}kK:]{0,10}",
        ) {
            prop_assert_eq!(
                Glob::Text(&pattern).matches(&text, Case::Insensitive),
                Pattern::glob(&pattern).matches(&text, Case::Insensitive)
            );
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
