//! Strict reading of a JSON request body and typed access to its members.
//!
//! Owns: parsing the body into a JSON object while rejecting repeated object keys (a body that
//! DynamoDB and the gateway could read differently must not be classified at all), and member
//! accessors whose errors name the member's path (`TransactItems[2].Put.TableName`).
//! Must not: know anything about DynamoDB operations.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::ClassifyError;

/// Parses `body` as one JSON object, rejecting repeated keys at any depth.
pub(super) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ClassifyError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = StrictValue
        .deserialize(&mut de)
        .and_then(|value| de.end().map(|()| value))
        .map_err(|source| match source.classify() {
            serde_json::error::Category::Data => ClassifyError::DuplicateKey { source },
            _ => ClassifyError::BodyNotJson { source },
        })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ClassifyError::BodyNotObject),
    }
}

/// A seed that builds a `serde_json::Value` but fails on a repeated object key.
#[derive(Debug, Clone, Copy)]
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom("repeated object key"));
            }
            let value = access.next_value_seed(StrictValue)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

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
