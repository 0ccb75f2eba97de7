//! The request context a policy is evaluated against.
//!
//! Owns: who is asking ([`Principal`]), for what ([`Request::action`] on
//! [`Request::resource`]) and the condition keys ([`Context`]). It does not derive keys (the
//! caller fills `aws:PrincipalArn`, `aws:SourceIp`, token claims, ... exactly as AWS would).

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// Who makes the request, as a resource-based or trust policy's `Principal` element sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Principal {
    /// An IAM user, role, role session (`arn:aws:sts::…:assumed-role/R/S`), federated-user
    /// session or account root, by ARN.
    #[serde(rename = "AWS")]
    Aws(String),
    /// A web-identity or SAML provider: the provider ARN
    /// (`arn:aws:iam::111122223333:oidc-provider/…`) or a well-known name
    /// (`accounts.google.com`).
    Federated(String),
    /// An AWS service principal (`lambda.amazonaws.com`).
    Service(String),
    /// An unauthenticated caller; only `"*"` principals match it.
    Anonymous,
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Aws(arn) => write!(f, "AWS `{arn}`"),
            Self::Federated(id) => write!(f, "Federated `{id}`"),
            Self::Service(name) => write!(f, "Service `{name}`"),
            Self::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// One request to authorize.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// `None` when only identity-based policies are evaluated and who asks does not matter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// `service:Action`, e.g. `dynamodb:GetItem`.
    pub action: String,
    /// The resource ARN (or `*` for actions without a resource).
    pub resource: String,
    /// Condition keys.
    #[serde(default)]
    pub context: Context,
}

impl Request {
    /// A request without a principal and with an empty context.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            principal: None,
            action: action.into(),
            resource: resource.into(),
            context: Context::new(),
        }
    }

    /// Sets the principal.
    #[must_use]
    pub fn with_principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    /// Sets the context.
    #[must_use]
    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }
}

/// The value of one condition key: one string for a single-valued key, a list for a
/// multivalued key (`aws:TagKeys`, `dynamodb:Attributes`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextValue {
    /// The values; a single-valued key has exactly one.
    pub values: Arc<[String]>,
    /// Whether the key is multivalued (a list even when it holds one value).
    pub multivalued: bool,
}

impl ContextValue {
    /// The only value of a single-valued key; `None` for a multivalued key.
    pub fn single(&self) -> Option<&str> {
        match (self.multivalued, &*self.values) {
            (false, [one]) => Some(one.as_str()),
            _ => None,
        }
    }
}

/// Condition keys of a request. Key names compare case-insensitively, as AWS documents: "Key
/// names are case-insensitive. For example, `aws:CurrentTime` is equivalent to
/// `AWS:currenttime`" (IAM policy elements: Variables and tags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Sorted by lowercased name, one entry per lowercased name. A sorted vector rather than a
    /// map: evaluation looks keys up many times per decision, and scanning or bisecting
    /// contiguous entries is cheaper than walking tree nodes.
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// The name lowercased (`to_lowercase`), the sort key.
    lower: String,
    /// The name as given.
    name: String,
    value: ContextValue,
}

/// Orders the stored lowercase name `lower` against `key` as if `key` were lowercased; `key`
/// is ASCII, so its `to_lowercase` is its ASCII lowercase, compared without building it.
fn cmp_ascii_folded(lower: &str, key: &str) -> std::cmp::Ordering {
    lower
        .bytes()
        .cmp(key.bytes().map(|b| b.to_ascii_lowercase()))
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single-valued key, replacing any value it had.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let value = ContextValue {
            values: Arc::from([value.into()]),
            multivalued: false,
        };
        self.put(key.into(), value);
    }

    /// Sets a multivalued key, replacing any value it had.
    pub fn insert_multi(&mut self, key: impl Into<String>, values: Vec<String>) {
        self.put(
            key.into(),
            ContextValue {
                values: values.into(),
                multivalued: true,
            },
        );
    }

    /// Builder form of [`Context::insert`].
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Builder form of [`Context::insert_multi`].
    #[must_use]
    pub fn with_multi(mut self, key: impl Into<String>, values: Vec<String>) -> Self {
        self.insert_multi(key, values);
        self
    }

    fn put(&mut self, name: String, value: ContextValue) {
        let lower = name.to_lowercase();
        let entry = Entry { lower, name, value };
        match self.position(&entry.lower) {
            Ok(at) => {
                if let Some(slot) = self.entries.get_mut(at) {
                    *slot = entry;
                }
            }
            Err(at) => self.entries.insert(at, entry),
        }
    }

    /// Where the entry with lowercase name `lower` is (or would be inserted).
    fn position(&self, lower: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|e| e.lower.as_str().cmp(lower))
    }

    /// The value of `key`, compared case-insensitively.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        /// Up to this many keys, an ASCII key is looked for by scanning the entries.
        const SCAN: usize = 16;
        let at = if key.is_ascii() {
            if self.entries.len() <= SCAN {
                // Stored names are lowercase (`to_lowercase`), so for an ASCII `key` "equals
                // its lowercase" is "equals it ignoring ASCII case"; most entries differ in
                // length and are passed over without comparing text.
                return self
                    .entries
                    .iter()
                    .find(|e| e.lower.len() == key.len() && e.lower.eq_ignore_ascii_case(key))
                    .map(|e| &e.value);
            }
            self.entries
                .binary_search_by(|e| cmp_ascii_folded(&e.lower, key))
        } else {
            self.position(&key.to_lowercase())
        };
        at.ok()
            .and_then(|at| self.entries.get(at))
            .map(|e| &e.value)
    }

    /// The value of the key whose lowercase (`to_lowercase`) is `lower`: what [`Context::get`]
    /// finds for any spelling of it, without folding case on every comparison.
    pub(crate) fn get_lowercase(&self, lower: &str) -> Option<&ContextValue> {
        /// Up to this many keys, the entries are scanned.
        const SCAN: usize = 16;
        if self.entries.len() <= SCAN {
            return self
                .entries
                .iter()
                .find(|e| e.lower == lower)
                .map(|e| &e.value);
        }
        self.position(lower)
            .ok()
            .and_then(|at| self.entries.get(at))
            .map(|e| &e.value)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<ContextValue> {
        let at = self.position(&key.to_lowercase()).ok()?;
        (at < self.entries.len()).then(|| self.entries.remove(at).value)
    }

    /// Keys (as first given) and values, in case-insensitive key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|e| (e.name.as_str(), &e.value))
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Serialize for Context {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in self.iter() {
            match value.single() {
                Some(one) => map.serialize_entry(key, one)?,
                None => map.serialize_entry(key, &value.values)?,
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Context {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContextVisitor;

        impl<'de> Visitor<'de> for ContextVisitor {
            type Value = Context;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from condition key to a string, number, boolean or list")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Context, A::Error> {
                let mut context = Context::new();
                while let Some((key, value)) = access.next_entry::<String, serde_json::Value>()? {
                    match value {
                        serde_json::Value::Array(items) => {
                            let values = items
                                .iter()
                                .map(|item| scalar_text(item).ok_or_else(|| de::Error::custom(format!("condition key `{key}`: list items must be strings, numbers or booleans"))))
                                .collect::<Result<Vec<_>, _>>()?;
                            context.insert_multi(key, values);
                        }
                        other => {
                            let text = scalar_text(&other).ok_or_else(|| {
                                de::Error::custom(format!(
                                    "condition key `{key}`: expected a string, number, boolean or list"
                                ))
                            })?;
                            context.insert(key, text);
                        }
                    }
                }
                Ok(context)
            }
        }

        deserializer.deserialize_map(ContextVisitor)
    }
}

/// Strings as is; numbers and booleans as their JSON text (how AWS compares them).
pub(crate) fn scalar_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive() {
        let ctx = Context::new().with("aws:CurrentTime", "2024-01-01T00:00:00Z");
        assert!(ctx.get("AWS:currenttime").is_some());
    }

    #[test]
    fn lookups_agree_for_small_and_large_contexts() {
        let mut small = Context::new()
            .with("aws:PrincipalTag/Team", "a")
            .with("k\u{212A}", "b");
        let mut large = small.clone();
        for i in 0..40 {
            large.insert(format!("pad:Key{i}"), "x");
        }
        for ctx in [&mut small, &mut large] {
            assert_eq!(
                ctx.get("AWS:principaltag/team")
                    .and_then(ContextValue::single),
                Some("a")
            );
            assert_eq!(ctx.get("KK").and_then(ContextValue::single), Some("b"));
            assert_eq!(
                ctx.get("k\u{212A}").and_then(ContextValue::single),
                Some("b")
            );
            assert!(ctx.get("aws:PrincipalTag/Tea").is_none());
            assert_eq!(
                ctx.get_lowercase("aws:principaltag/team")
                    .and_then(ContextValue::single),
                Some("a")
            );
            assert_eq!(
                ctx.get_lowercase("kk").and_then(ContextValue::single),
                Some("b")
            );
            assert!(ctx.get_lowercase("AWS:principaltag/team").is_none());
        }
    }

    #[test]
    fn context_round_trips_through_json() {
        let ctx = Context::new()
            .with("aws:SourceIp", "10.0.0.1")
            .with_multi("dynamodb:LeadingKeys", vec!["u1".into()]);
        let json = serde_json::to_value(&ctx).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"dynamodb:LeadingKeys": ["u1"], "aws:SourceIp": "10.0.0.1"})
        );
        let back: Context = serde_json::from_value(json).unwrap();
        assert_eq!(back, ctx);
    }

    #[test]
    fn numbers_and_booleans_become_strings() {
        let ctx: Context = serde_json::from_value(serde_json::json!({"a": 5, "b": true})).unwrap();
        assert_eq!(ctx.get("a").and_then(ContextValue::single), Some("5"));
        assert_eq!(ctx.get("B").and_then(ContextValue::single), Some("true"));
    }
}
