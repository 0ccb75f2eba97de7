//! The policy document model and its parser.
//!
//! Owns: turning IAM JSON into a [`Policy`] and saying precisely (with a JSON pointer) what is
//! wrong when it cannot, as IAM's `MalformedPolicyDocument` would. It does not evaluate.

mod parse;
mod statement;

use std::fmt;

pub use statement::{
    ActionBlock, Effect, PrincipalBlock, PrincipalSet, ResourceBlock, Statement, StatementRef,
};

/// The policy language version (`Version` element).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PolicyVersion {
    /// `2012-10-17`: the current language, with policy variables.
    #[serde(rename = "2012-10-17")]
    V2012_10_17,
    /// `2008-10-17`: the old language; `${...}` is literal text.
    #[serde(rename = "2008-10-17")]
    V2008_10_17,
}

impl PolicyVersion {
    /// The text of the `Version` element.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2012_10_17 => "2012-10-17",
            Self::V2008_10_17 => "2008-10-17",
        }
    }
}

/// A parsed IAM policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `Version`; `None` when absent.
    pub version: Option<PolicyVersion>,
    /// `Id`.
    pub id: Option<String>,
    /// `Statement`, in document order (an object is one statement).
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Parses a policy document from JSON text.
    pub fn parse(json: &str) -> Result<Policy, PolicyError> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| PolicyError {
            pointer: String::new(),
            kind: PolicyErrorKind::InvalidJson {
                line: e.line(),
                column: e.column(),
            },
        })?;
        Self::from_value(&value)
    }

    /// Parses a policy document from a JSON value.
    pub fn from_value(value: &serde_json::Value) -> Result<Policy, PolicyError> {
        parse::policy(value)
    }

    /// Whether `${...}` policy variables are resolved in this policy.
    ///
    /// AWS, IAM JSON policy elements: Version: without `2012-10-17` "you cannot use features such
    /// as policy variables"; under `2008-10-17` "variables such as `${aws:username}` aren't
    /// recognized as variables and are instead treated as literal strings in the policy".
    pub fn resolves_variables(&self) -> bool {
        self.version == Some(PolicyVersion::V2012_10_17)
    }
}

/// A policy with the name the explanation refers to it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedPolicy {
    /// For example the managed policy or inline policy name.
    pub name: String,
    /// The document.
    pub policy: Policy,
}

impl NamedPolicy {
    /// Pairs a name with a policy.
    pub fn new(name: impl Into<String>, policy: Policy) -> Self {
        Self {
            name: name.into(),
            policy,
        }
    }

    /// Parses `json` and names it.
    pub fn parse(name: impl Into<String>, json: &str) -> Result<Self, PolicyError> {
        Ok(Self::new(name, Policy::parse(json)?))
    }
}

/// A policy document IAM would reject, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {kind}", PointerDisplay(pointer))]
pub struct PolicyError {
    /// RFC 6901 JSON pointer to the offending element (`""` is the whole document).
    pub pointer: String,
    /// What is wrong.
    pub kind: PolicyErrorKind,
}

struct PointerDisplay<'a>(&'a str);

impl fmt::Display for PointerDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("policy document")
        } else {
            write!(f, "`{}`", self.0)
        }
    }
}

/// What is wrong with a policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// Not JSON at all.
    #[error("not valid JSON (line {line}, column {column})")]
    InvalidJson {
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
    },
    /// A value of the wrong JSON type.
    #[error("expected {expected}, got {got}")]
    WrongType {
        /// What AWS accepts there.
        expected: &'static str,
        /// The JSON type found.
        got: &'static str,
    },
    /// `Effect` other than `Allow` or `Deny` (case-sensitive).
    #[error("expected `Allow` or `Deny`, got `{got}`")]
    InvalidEffect {
        /// The text found.
        got: String,
    },
    /// `Version` other than the two IAM knows.
    #[error("expected `2012-10-17` or `2008-10-17`, got `{got}`")]
    InvalidVersion {
        /// The text found.
        got: String,
    },
    /// An element IAM does not know.
    #[error("unknown element `{name}`")]
    UnknownElement {
        /// The element name.
        name: String,
    },
    /// A required element is absent.
    #[error("missing `{name}`")]
    Missing {
        /// What is missing (`Effect`, `Action` or `NotAction`, ...).
        name: &'static str,
    },
    /// Two elements that exclude each other.
    #[error("`{first}` and `{second}` cannot both be present")]
    Conflict {
        /// The first element.
        first: &'static str,
        /// The second element.
        second: &'static str,
    },
    /// An empty list or object where at least one entry is required.
    #[error("must not be empty")]
    Empty,
    /// An action that is neither `*` nor `service:action`.
    #[error("expected `*` or `service:action`, got `{got}`")]
    InvalidAction {
        /// The text found.
        got: String,
    },
    /// A resource that is neither `*` nor an ARN.
    #[error("expected `*` or an ARN, got `{got}`")]
    InvalidResource {
        /// The text found.
        got: String,
    },
    /// A principal type other than `AWS`, `Federated`, `Service`, `CanonicalUser`.
    #[error("expected `AWS`, `Federated`, `Service` or `CanonicalUser`, got `{got}`")]
    InvalidPrincipalType {
        /// The key found.
        got: String,
    },
    /// A condition operator IAM does not know.
    #[error("unknown condition operator `{got}`")]
    UnknownOperator {
        /// The operator text.
        got: String,
    },
    /// Two statements with the same `Sid`.
    #[error("duplicate `Sid` `{sid}`")]
    DuplicateSid {
        /// The repeated Sid.
        sid: String,
    },
    /// A character IAM does not allow in policy documents.
    #[error("character `{character}` (U+{:04X}) at byte {offset} is not allowed", u32::from(*character))]
    InvalidCharacter {
        /// The character.
        character: char,
        /// Its byte offset in the document.
        offset: usize,
    },
    /// The document exceeds the size IAM allows for its kind.
    #[error("{size} characters exceed the limit of {limit} for {what}")]
    TooLarge {
        /// Non-whitespace characters in the document.
        size: usize,
        /// The limit applied.
        limit: usize,
        /// The kind of document the limit is for.
        what: &'static str,
    },
}

/// Appends an RFC 6901 reference token (escaping `~` and `/`) to `pointer`.
pub(crate) fn push_pointer(pointer: &str, token: &str) -> String {
    let escaped = token.replace('~', "~0").replace('/', "~1");
    format!("{pointer}/{escaped}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_names_pointer_and_problem() {
        let err = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"s3:*","Resource":"*"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`/Statement/0/Effect`: expected `Allow` or `Deny`, got `allow`"
        );
    }

    #[test]
    fn invalid_json_points_at_the_document() {
        let err = Policy::parse("{").unwrap_err();
        assert_eq!(err.pointer, "");
        assert!(
            err.to_string()
                .starts_with("policy document: not valid JSON")
        );
    }

    #[test]
    fn pointer_escapes_slashes_and_tildes() {
        assert_eq!(
            push_pointer("/Condition/StringEquals", "a/b~c"),
            "/Condition/StringEquals/a~1b~0c"
        );
    }
}
