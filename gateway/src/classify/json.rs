//! Typed access to the members of a request's JSON object (parsed once by
//! [`crate::body::RequestBody`]).
//!
//! Owns: member accessors whose errors name the member's path (`TransactItems[2].Put.TableName`).
//! Must not: parse, or know anything about DynamoDB operations.

use serde_json::{Map, Value};

use super::ClassifyError;

/// A JSON object together with its path in the request, for error messages.
#[derive(Debug, Clone)]
pub(super) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    pub(super) fn root(map: &'a Map<String, Value>) -> Self {
        Self {
            map,
            path: String::new(),
        }
    }

    pub(super) fn path_of(&self, member: &str) -> String {
        if self.path.is_empty() {
            member.to_owned()
        } else {
            format!("{}.{member}", self.path)
        }
    }

    pub(super) fn map(&self) -> &'a Map<String, Value> {
        self.map
    }

    /// The member's value, treating JSON `null` as absent (as the AWS JSON protocol does).
    fn get(&self, member: &str) -> Option<&'a Value> {
        self.map.get(member).filter(|v| !v.is_null())
    }

    pub(super) fn has(&self, member: &str) -> bool {
        self.get(member).is_some()
    }

    pub(super) fn opt_str(&self, member: &str) -> Result<Option<&'a str>, ClassifyError> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.wrong_type(member, "a string")),
        }
    }

    pub(super) fn str(&self, member: &str) -> Result<&'a str, ClassifyError> {
        self.opt_str(member)?.ok_or_else(|| self.missing(member))
    }

    pub(super) fn opt_obj(&self, member: &str) -> Result<Option<Obj<'a>>, ClassifyError> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Obj {
                map,
                path: self.path_of(member),
            })),
            Some(_) => Err(self.wrong_type(member, "an object")),
        }
    }

    pub(super) fn obj(&self, member: &str) -> Result<Obj<'a>, ClassifyError> {
        self.opt_obj(member)?.ok_or_else(|| self.missing(member))
    }

    pub(super) fn opt_array(&self, member: &str) -> Result<Option<Arr<'a>>, ClassifyError> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(Arr {
                items,
                path: self.path_of(member),
            })),
            Some(_) => Err(self.wrong_type(member, "an array")),
        }
    }

    pub(super) fn array(&self, member: &str) -> Result<Arr<'a>, ClassifyError> {
        self.opt_array(member)?.ok_or_else(|| self.missing(member))
    }

    /// Every entry of this object, each value required to be an object.
    pub(super) fn entries_as_objects(&self) -> Result<Vec<(&'a str, Obj<'a>)>, ClassifyError> {
        self.map
            .iter()
            .map(|(key, value)| match value {
                Value::Object(map) => Ok((
                    key.as_str(),
                    Obj {
                        map,
                        path: self.path_of(key),
                    },
                )),
                _ => Err(self.wrong_type(key, "an object")),
            })
            .collect()
    }

    /// The keys of the member object (e.g. the attribute names of `Item` or `Key`).
    pub(super) fn opt_keys(&self, member: &str) -> Result<Vec<String>, ClassifyError> {
        Ok(self
            .opt_obj(member)?
            .map(|o| o.map.keys().cloned().collect())
            .unwrap_or_default())
    }

    pub(super) fn missing(&self, member: &str) -> ClassifyError {
        ClassifyError::MissingMember {
            member: self.path_of(member),
        }
    }

    pub(super) fn wrong_type(&self, member: &str, expected: &'static str) -> ClassifyError {
        ClassifyError::WrongType {
            member: self.path_of(member),
            expected,
        }
    }
}

/// A JSON array together with its path in the request.
#[derive(Debug, Clone)]
pub(super) struct Arr<'a> {
    items: &'a [Value],
    path: String,
}

impl<'a> Arr<'a> {
    pub(super) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(super) fn path(&self) -> &str {
        &self.path
    }

    /// Every element, each required to be an object.
    pub(super) fn objects(&self) -> Result<Vec<Obj<'a>>, ClassifyError> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = format!("{}[{i}]", self.path);
                match item {
                    Value::Object(map) => Ok(Obj { map, path }),
                    _ => Err(ClassifyError::WrongType {
                        member: path,
                        expected: "an object",
                    }),
                }
            })
            .collect()
    }

    /// Every element, each required to be a string.
    pub(super) fn strings(&self) -> Result<Vec<&'a str>, ClassifyError> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.as_str()),
                _ => Err(ClassifyError::WrongType {
                    member: format!("{}[{i}]", self.path),
                    expected: "a string",
                }),
            })
            .collect()
    }
}
