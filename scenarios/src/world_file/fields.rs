//! The world file reader's state (the file, its folder, how `*_file` documents are read, the
//! problems found so far) and its typed accessors: each reports a problem at its JSON pointer
//! and carries on, so that every problem of a file is found at once.

use std::collections::BTreeMap;
use std::path::PathBuf;

use iam_policy::{NamedPolicy, Policy};
use serde_json::{Map, Value};

use super::{Problem, ReadFile};

/// Customer managed policies by name: `(arn, document)`.
pub(super) type Managed = BTreeMap<String, (String, NamedPolicy)>;

pub(super) struct Resolver<'r> {
    pub(super) file: PathBuf,
    pub(super) base: PathBuf,
    pub(super) read: ReadFile<'r>,
    pub(super) problems: Vec<Problem>,
}

pub(super) fn child(path: &str, key: &str) -> String {
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

pub(super) fn index(path: &str, i: usize) -> String {
    format!("{path}/{i}")
}

/// A managed policy of the file by name or by ARN: `(arn, document)`.
pub(super) fn find_managed<'m>(
    managed: &'m Managed,
    reference: &str,
) -> Option<&'m (String, NamedPolicy)> {
    managed
        .iter()
        .find(|(name, (arn, _))| *name == reference || arn == reference)
        .map(|(_, entry)| entry)
}

pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

impl Resolver<'_> {
    pub(super) fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            path: path.to_owned(),
            message: message.into(),
        });
    }

    /// A mapping whose keys must all be in `allowed`; unknown keys are reported.
    pub(super) fn mapping<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Value::Object(map) = v else {
            self.problem(path, format!("expected a mapping, got {}", kind(v)));
            return None;
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                self.problem(
                    &child(path, key),
                    format!(
                        "unknown field `{key}`; expected one of: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        Some(map)
    }

    pub(super) fn list<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> &'v [Value] {
        match map.get(key) {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.problem(
                    &child(path, key),
                    format!("expected a list, got {}", kind(other)),
                );
                &[]
            }
        }
    }

    pub(super) fn string(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
    ) -> Option<String> {
        match map.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.problem(&child(path, key), format!("`{key}` is required"));
                }
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            // YAML readers turn an unquoted account number into a number: accept it back.
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(other) => {
                self.problem(
                    &child(path, key),
                    format!("expected a string, got {}", kind(other)),
                );
                None
            }
        }
    }

    pub(super) fn boolean(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        default: bool,
    ) -> bool {
        match map.get(key) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.problem(
                    &child(path, key),
                    format!("expected true or false, got {}", kind(other)),
                );
                default
            }
        }
    }

    pub(super) fn strings(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<Vec<String>> {
        let value = map.get(key)?;
        match value {
            Value::String(s) => Some(vec![s.clone()]),
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        other => self.problem(
                            &index(&child(path, key), i),
                            format!("expected a string, got {}", kind(other)),
                        ),
                    }
                }
                Some(out)
            }
            other => {
                self.problem(
                    &child(path, key),
                    format!("expected a list of strings, got {}", kind(other)),
                );
                None
            }
        }
    }

    /// An IAM document given inline (`key`: mapping or JSON string) or as a file (`key_file`),
    /// and its text: the file's or string's text as given, a mapping as compact JSON (what the
    /// IAM API answers for it).
    pub(super) fn document_with_text(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        path: &str,
        name: &str,
    ) -> Option<(NamedPolicy, String)> {
        let file_key = format!("{key}_file");
        let (value, at) = match (map.get(key), map.get(&file_key)) {
            (Some(_), Some(_)) => {
                self.problem(
                    path,
                    format!("give either `{key}` or `{file_key}`, not both"),
                );
                return None;
            }
            (Some(v), None) => (v.clone(), child(path, key)),
            (None, Some(Value::String(rel))) => {
                let full = self.base.join(rel);
                match (self.read)(&full) {
                    Ok(text) => (Value::String(text), child(path, &file_key)),
                    Err(e) => {
                        self.problem(
                            &child(path, &file_key),
                            format!("cannot read `{}`: {e}", full.display()),
                        );
                        return None;
                    }
                }
            }
            (None, Some(other)) => {
                self.problem(
                    &child(path, &file_key),
                    format!("expected a path, got {}", kind(other)),
                );
                return None;
            }
            (None, None) => {
                self.problem(path, format!("`{key}` or `{file_key}` is required"));
                return None;
            }
        };
        let parsed = match &value {
            Value::String(text) => Policy::parse(text),
            other => Policy::from_value(other),
        };
        let text = match &value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        match parsed {
            Ok(policy) => Some((
                NamedPolicy {
                    name: name.to_owned(),
                    policy,
                },
                text,
            )),
            Err(e) => {
                self.problem(&at, format!("not a valid IAM policy: {e}"));
                None
            }
        }
    }
}
