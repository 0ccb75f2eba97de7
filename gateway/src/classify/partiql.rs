//! PartiQL statements, read only as far as authorization needs: the verb (which picks
//! `dynamodb:PartiQLSelect`/`Insert`/`Update`/`Delete`) and the table or `"table"."index"`.
//!
//! Owns: a tokenizer that keeps string literals and quoted identifiers whole, and the four
//! statement shapes DynamoDB accepts (`SELECT … FROM t[.i] …`, `INSERT INTO t VALUE …`,
//! `UPDATE t SET|REMOVE …`, `DELETE FROM t …`), plus `EXISTS(SELECT …)` condition checks in
//! transactions. A statement of any other shape is an error, never a guess.
//! Must not: evaluate statements.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verb {
    Select,
    Insert,
    Update,
    Delete,
}

impl Verb {
    pub(super) fn action(self) -> &'static str {
        match self {
            Verb::Select => "dynamodb:PartiQLSelect",
            Verb::Insert => "dynamodb:PartiQLInsert",
            Verb::Update => "dynamodb:PartiQLUpdate",
            Verb::Delete => "dynamodb:PartiQLDelete",
        }
    }
}

/// What a statement touches: its verb, table (a name or a table ARN, not yet validated) and,
/// for `SELECT … FROM "t"."i"`, the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Statement {
    pub(super) verb: Verb,
    pub(super) table: String,
    pub(super) index: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A bare identifier or keyword.
    Word(String),
    /// A `"double quoted"` identifier, unescaped.
    Quoted(String),
    /// A `'single quoted'` string literal.
    Literal,
    /// A number or `?` parameter.
    Scalar,
    Punct(u8),
}

fn tokenize(statement: &str) -> Result<Vec<Token>, &'static str> {
    let bytes = statement.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'\'' | b'"' => {
                // Quoted text; a doubled quote stands for one quote character.
                let mut text = Vec::new();
                let mut j = i + 1;
                loop {
                    match bytes.get(j) {
                        None => return Err("a quote is not closed"),
                        Some(&c) if c == b => {
                            if bytes.get(j + 1) == Some(&b) {
                                text.push(b);
                                j += 2;
                            } else {
                                break;
                            }
                        }
                        Some(&c) => {
                            text.push(c);
                            j += 1;
                        }
                    }
                }
                tokens.push(if b == b'"' {
                    Token::Quoted(String::from_utf8(text).map_err(|_| "not utf-8")?)
                } else {
                    Token::Literal
                });
                i = j + 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => return Err("comments are not supported"),
            b'/' if bytes.get(i + 1) == Some(&b'*') => return Err("comments are not supported"),
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let end = bytes
                    .get(i..)
                    .and_then(|rest| {
                        rest.iter()
                            .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'$'))
                    })
                    .map_or(bytes.len(), |n| i + n);
                let word = statement.get(i..end).ok_or("not utf-8")?;
                tokens.push(Token::Word(word.to_owned()));
                i = end;
            }
            _ if b.is_ascii_digit() || b == b'?' => {
                let end = bytes
                    .get(i + 1..)
                    .and_then(|rest| {
                        rest.iter()
                            .position(|&c| !(c.is_ascii_alphanumeric() || c == b'.'))
                    })
                    .map_or(bytes.len(), |n| i + 1 + n);
                tokens.push(Token::Scalar);
                i = end;
            }
            _ if b.is_ascii_punctuation() => {
                tokens.push(Token::Punct(b));
                i += 1;
            }
            _ => return Err("it has a character outside the partiql syntax"),
        }
    }
    Ok(tokens)
}

fn is_word(token: Option<&Token>, keyword: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
}

/// An identifier: quoted (any text) or bare.
fn identifier(token: Option<&Token>) -> Option<String> {
    match token {
        Some(Token::Quoted(name)) => Some(name.clone()),
        Some(Token::Word(name)) => Some(name.clone()),
        _ => None,
    }
}

/// Reads `table` or, when `allow_index`, `table.index` at `tokens[at..]`; returns the names and
/// the position after them.
fn table_ref(
    tokens: &[Token],
    at: usize,
    allow_index: bool,
) -> Result<(String, Option<String>, usize), &'static str> {
    let table = identifier(tokens.get(at)).ok_or("no table name where one is expected")?;
    if tokens.get(at + 1) == Some(&Token::Punct(b'.')) {
        if !allow_index {
            return Err("this statement cannot name an index");
        }
        let index = identifier(tokens.get(at + 2)).ok_or("no index name after `.`")?;
        if tokens.get(at + 3) == Some(&Token::Punct(b'.')) {
            return Err("a table reference has more than two parts");
        }
        return Ok((table, Some(index), at + 3));
    }
    Ok((table, None, at + 1))
}

/// Reads one statement.
pub(super) fn parse(statement: &str) -> Result<Statement, &'static str> {
    let tokens = tokenize(statement)?;
    let tokens = strip_exists(&tokens)?;
    let first = tokens.first();
    if is_word(first, "SELECT") {
        parse_select(tokens)
    } else if is_word(first, "INSERT") {
        if !is_word(tokens.get(1), "INTO") {
            return Err("`INSERT` is not followed by `INTO`");
        }
        let (table, _, next) = table_ref(tokens, 2, false)?;
        if !is_word(tokens.get(next), "VALUE") {
            return Err("the table of an `INSERT` is not followed by `VALUE`");
        }
        Ok(Statement {
            verb: Verb::Insert,
            table,
            index: None,
        })
    } else if is_word(first, "UPDATE") {
        let (table, _, next) = table_ref(tokens, 1, false)?;
        let clause = tokens.get(next);
        if !(is_word(clause, "SET") || is_word(clause, "REMOVE")) {
            return Err("the table of an `UPDATE` is not followed by `SET` or `REMOVE`");
        }
        Ok(Statement {
            verb: Verb::Update,
            table,
            index: None,
        })
    } else if is_word(first, "DELETE") {
        if !is_word(tokens.get(1), "FROM") {
            return Err("`DELETE` is not followed by `FROM`");
        }
        let (table, _, next) = table_ref(tokens, 2, false)?;
        let clause = tokens.get(next);
        if !(clause.is_none() || is_word(clause, "WHERE") || is_word(clause, "RETURNING")) {
            return Err("the table of a `DELETE` is followed by something unexpected");
        }
        Ok(Statement {
            verb: Verb::Delete,
            table,
            index: None,
        })
    } else {
        Err("it does not start with `SELECT`, `INSERT`, `UPDATE`, `DELETE` or `EXISTS`")
    }
}

/// `EXISTS ( <select> )` → the inner tokens; anything else unchanged.
fn strip_exists(tokens: &[Token]) -> Result<&[Token], &'static str> {
    if !is_word(tokens.first(), "EXISTS") {
        return Ok(tokens);
    }
    match (tokens.get(1), tokens.last()) {
        (Some(Token::Punct(b'(')), Some(Token::Punct(b')'))) if tokens.len() > 3 => tokens
            .get(2..tokens.len() - 1)
            .filter(|inner| is_word(inner.first(), "SELECT"))
            .ok_or("`EXISTS` does not enclose a `SELECT`"),
        _ => Err("`EXISTS` is not followed by a parenthesised `SELECT`"),
    }
}

fn parse_select(tokens: &[Token]) -> Result<Statement, &'static str> {
    let mut depth: usize = 0;
    let mut from = None;
    for (i, token) in tokens.iter().enumerate().skip(1) {
        match token {
            Token::Punct(b'(' | b'[' | b'{') => depth += 1,
            Token::Punct(b')' | b']' | b'}') => {
                depth = depth.checked_sub(1).ok_or("unbalanced brackets")?;
            }
            Token::Word(w) if depth == 0 && w.eq_ignore_ascii_case("FROM") => {
                from = Some(i);
                break;
            }
            _ => {}
        }
    }
    let from = from.ok_or("a `SELECT` has no `FROM`")?;
    let (table, index, next) = table_ref(tokens, from + 1, true)?;
    let clause = tokens.get(next);
    if !(clause.is_none() || is_word(clause, "WHERE") || is_word(clause, "ORDER")) {
        return Err("the table of a `SELECT` is followed by something unexpected");
    }
    Ok(Statement {
        verb: Verb::Select,
        table,
        index,
    })
}
