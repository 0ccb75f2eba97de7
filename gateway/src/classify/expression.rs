//! DynamoDB expressions (projection, update, condition, key condition), read only as far as
//! authorization needs: the top-level attribute names a request touches, and the partition-key
//! equality of a key condition.
//!
//! Owns: a tokenizer for the expression language and `#name` resolution against
//! `ExpressionAttributeNames`. Anything outside the expression alphabet is an error, never skipped.
//! Must not: evaluate expressions or check them against a table's schema.

use serde_json::{Map, Value};

use super::ClassifyError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A bare attribute name, keyword or function name.
    Word(&'a str),
    /// `#name`, resolved through `ExpressionAttributeNames`.
    Alias(&'a str),
    /// `:value`, resolved through `ExpressionAttributeValues`.
    Value(&'a str),
    Number,
    Dot,
    Open,
    Close,
    BracketOpen,
    BracketClose,
    Comma,
    Equals,
    Operator,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn tokenize<'a>(expr: &'a str, member: &str) -> Result<Vec<Token<'a>>, ClassifyError> {
    let invalid = |reason: &'static str| ClassifyError::InvalidExpression {
        member: member.to_owned(),
        reason,
    };
    let bytes = expr.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let word_end = |start: usize| {
            bytes
                .get(start..)
                .and_then(|rest| rest.iter().position(|&c| !is_word_byte(c)))
                .map_or(bytes.len(), |n| start + n)
        };
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'#' | b':' => {
                let end = word_end(i + 1);
                let name = expr
                    .get(i + 1..end)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| invalid("a `#` or `:` is not followed by a name"))?;
                tokens.push(if b == b'#' {
                    Token::Alias(name)
                } else {
                    Token::Value(name)
                });
                i = end;
            }
            b'0'..=b'9' => {
                let end = word_end(i);
                tokens.push(Token::Number);
                i = end;
            }
            _ if is_word_byte(b) => {
                let end = word_end(i);
                let word = expr.get(i..end).ok_or_else(|| invalid("not utf-8"))?;
                tokens.push(Token::Word(word));
                i = end;
            }
            b'.' => {
                tokens.push(Token::Dot);
                i += 1;
            }
            b'(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            b')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            b'[' => {
                tokens.push(Token::BracketOpen);
                i += 1;
            }
            b']' => {
                tokens.push(Token::BracketClose);
                i += 1;
            }
            b',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            b'=' => {
                tokens.push(Token::Equals);
                i += 1;
            }
            b'<' | b'>' => {
                // `<`, `<=`, `<>`, `>`, `>=`
                let next = bytes.get(i + 1).copied();
                i += if matches!(next, Some(b'=' | b'>')) && !(b == b'>' && next == Some(b'>')) {
                    2
                } else {
                    1
                };
                tokens.push(Token::Operator);
            }
            b'+' | b'-' => {
                tokens.push(Token::Operator);
                i += 1;
            }
            _ => return Err(invalid("it has a character outside the expression syntax")),
        }
    }
    Ok(tokens)
}

/// Words that are syntax, not attribute names, when they are not followed by `(`.
/// They are DynamoDB reserved words, so a request cannot use them as bare attribute names.
fn is_keyword(word: &str) -> bool {
    [
        "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(word))
}

fn resolve<'a>(
    alias: &str,
    names: Option<&'a Map<String, Value>>,
    member: &str,
) -> Result<&'a str, ClassifyError> {
    let key = format!("#{alias}");
    match names.and_then(|n| n.get(&key)) {
        Some(Value::String(name)) if !name.is_empty() => Ok(name),
        Some(_) => Err(ClassifyError::WrongType {
            member: format!("ExpressionAttributeNames.{key}"),
            expected: "a non-empty string",
        }),
        None => Err(ClassifyError::UndefinedName {
            name: key,
            member: member.to_owned(),
        }),
    }
}

/// The top-level attribute names an expression refers to, `#names` resolved, in order of
/// appearance and without repeats.
pub(super) fn top_level_names(
    expr: &str,
    names: Option<&Map<String, Value>>,
    member: &str,
) -> Result<Vec<String>, ClassifyError> {
    let tokens = tokenize(expr, member)?;
    let mut out: Vec<String> = Vec::new();
    let mut previous: Option<Token<'_>> = None;
    for (i, token) in tokens.iter().enumerate() {
        let nested = previous == Some(Token::Dot);
        let next = tokens.get(i + 1).copied();
        let root = match *token {
            Token::Word(word) if !nested && next != Some(Token::Open) && !is_keyword(word) => {
                if word.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
                    None
                } else {
                    Some(word.to_owned())
                }
            }
            Token::Alias(alias) => {
                let name = resolve(alias, names, member)?;
                (!nested).then(|| name.to_owned())
            }
            _ => None,
        };
        if let Some(name) = root
            && !out.contains(&name)
        {
            out.push(name);
        }
        previous = Some(*token);
    }
    Ok(out)
}

/// The `:value` placeholders compared with `=` to the bare partition-key attribute
/// (`pk = :v` or `:v = pk`, `pk` possibly a `#name`) in a key condition expression.
pub(super) fn partition_key_placeholders<'a>(
    expr: &'a str,
    names: Option<&Map<String, Value>>,
    partition_key: &str,
    member: &str,
) -> Result<Vec<&'a str>, ClassifyError> {
    let tokens = tokenize(expr, member)?;
    let is_key = |token: Option<&Token<'_>>| -> Result<bool, ClassifyError> {
        Ok(match token {
            Some(Token::Word(word)) => *word == partition_key,
            Some(Token::Alias(alias)) => resolve(alias, names, member)? == partition_key,
            _ => false,
        })
    };
    let is_path_continuation = |token: Option<&Token<'_>>| {
        matches!(token, Some(Token::Dot | Token::BracketOpen | Token::Open))
    };
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if *token != Token::Equals || i == 0 {
            continue;
        }
        let before = tokens.get(i - 1);
        let before2 = i.checked_sub(2).and_then(|j| tokens.get(j));
        let after = tokens.get(i + 1);
        let after2 = tokens.get(i + 2);
        // `pk = :v`: `pk` must be a whole path (not `x.pk`) and `:v` a whole operand.
        if is_key(before)?
            && before2 != Some(&Token::Dot)
            && let Some(Token::Value(v)) = after
            && !matches!(after2, Some(Token::Operator))
        {
            out.push(*v);
        }
        // `:v = pk`
        if let Some(Token::Value(v)) = before
            && is_key(after)?
            && !is_path_continuation(after2)
            && before2 != Some(&Token::Operator)
        {
            out.push(*v);
        }
    }
    Ok(out)
}
