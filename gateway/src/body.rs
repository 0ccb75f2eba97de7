//! The body of one DynamoDB call: its bytes (what SigV4 signed and what is forwarded) and its
//! JSON object, parsed at most once however many stages read it.
//!
//! Owns: the only place a request body is parsed. Classification, `dynamodb:LeadingKeys`, the
//! resource-policy operations, `CreateTable`'s `ResourcePolicy`, key-schema invalidation and the
//! audit record all read the one [`RequestBody::object`]; the parse runs inside a `OnceLock`, so
//! a second parse of the same body cannot happen, and [`parses_on_this_thread`] counts parses
//! for the test that proves it. The reading is strict: a repeated object key at any depth makes
//! the body unclassifiable (DynamoDB and the gateway could read it differently), though the audit
//! trail still shows it as serde_json reads it (the last value of a repeated key wins).
//! Must not: know anything about DynamoDB operations.

use std::cell::Cell;
use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A request body's top-level JSON object.
pub type JsonObject = Map<String, Value>;

/// Why a body is not one JSON object that classification may read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BodyError {
    #[error("request body is not json")]
    NotJson(#[source] Arc<serde_json::Error>),
    #[error("request body repeats an object key")]
    RepeatedKey(#[source] Arc<serde_json::Error>),
    #[error("request body is not a json object")]
    NotObject,
}

/// One call's body, parsed lazily and at most once.
#[derive(Debug)]
pub struct RequestBody {
    bytes: Bytes,
    parsed: OnceLock<Parsed>,
}

#[derive(Debug)]
struct Parsed {
    /// The object with the last value of a repeated key, or `None` when the body is no object.
    object: Option<Arc<JsonObject>>,
    /// Why the object may not be classified, if it may not.
    error: Option<BodyError>,
}

thread_local! {
    static PARSES: Cell<u64> = const { Cell::new(0) };
}

/// How many request bodies this thread has parsed. For the test that proves a call's body is
/// parsed once (a call handled on a current-thread runtime parses on the test's thread).
pub fn parses_on_this_thread() -> u64 {
    PARSES.with(Cell::get)
}

impl RequestBody {
    pub fn new(bytes: Bytes) -> Self {
        Self {
            bytes,
            parsed: OnceLock::new(),
        }
    }

    /// The bytes as received.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The body's JSON object, read strictly (no repeated key at any depth).
    pub fn object(&self) -> Result<&Arc<JsonObject>, BodyError> {
        let parsed = self.parsed();
        match (&parsed.error, &parsed.object) {
            (Some(error), _) => Err(error.clone()),
            (None, Some(object)) => Ok(object),
            (None, None) => Err(BodyError::NotObject),
        }
    }

    /// The body's JSON object as serde_json reads it (a repeated key's last value wins), for
    /// the audit trail; `None` when the body is not a JSON object.
    pub fn lenient_object(&self) -> Option<&JsonObject> {
        self.parsed().object.as_deref()
    }

    fn parsed(&self) -> &Parsed {
        self.parsed.get_or_init(|| parse(&self.bytes))
    }
}

fn parse(body: &[u8]) -> Parsed {
    PARSES.with(|count| count.set(count.get() + 1));
    let repeated = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = LenientValue {
        repeated: &repeated,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    match value {
        // A strict reader stops at the first repeated key, so that is the error it reports.
        Err(_) if repeated.get() => Parsed {
            object: None,
            error: Some(repeated_key()),
        },
        Err(source) => Parsed {
            object: None,
            error: Some(BodyError::NotJson(Arc::new(source))),
        },
        Ok(Value::Object(map)) => Parsed {
            object: Some(Arc::new(map)),
            error: repeated.get().then(repeated_key),
        },
        Ok(_) => Parsed {
            object: None,
            error: Some(BodyError::NotObject),
        },
    }
}

fn repeated_key() -> BodyError {
    BodyError::RepeatedKey(Arc::new(de::Error::custom("repeated object key")))
}

/// A seed that builds a `serde_json::Value` as serde_json does and notes a repeated object key.
#[derive(Debug, Clone, Copy)]
struct LenientValue<'r> {
    repeated: &'r Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for LenientValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LenientValue<'_> {
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
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(self)?;
            if map.insert(key, value).is_some() {
                self.repeated.set(true);
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> RequestBody {
        RequestBody::new(Bytes::copy_from_slice(text.as_bytes()))
    }

    #[test]
    fn reads_an_object_once_however_often_it_is_asked_for() {
        let before = parses_on_this_thread();
        let b = body(r#"{"TableName":"t","Key":{"pk":{"S":"a"}}}"#);
        assert_eq!(b.object().unwrap()["TableName"], "t");
        assert_eq!(b.lenient_object().unwrap()["TableName"], "t");
        assert!(b.object().is_ok());
        assert_eq!(parses_on_this_thread() - before, 1);
    }

    #[test]
    fn a_repeated_key_is_refused_but_shown_with_its_last_value() {
        let b = body(r#"{"A":{"x":1,"x":2}}"#);
        assert!(matches!(b.object(), Err(BodyError::RepeatedKey(_))));
        assert_eq!(b.lenient_object().unwrap()["A"]["x"], 2);
        assert!(matches!(body("{").object(), Err(BodyError::NotJson(_))));
        assert!(matches!(body("[1]").object(), Err(BodyError::NotObject)));
        assert!(body("[1]").lenient_object().is_none());
    }
}
