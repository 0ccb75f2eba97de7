//! `dynamodb:LeadingKeys` in the authorizations of a call: the partition-key values each one
//! addresses, read from the request with the table's key schema (from [`KeySchemaCache`]).
//!
//! Owns: which operations carry the key and how batch and transaction items map to their
//! authorizations. Must not: guess. When a policy names the key and the values cannot be derived
//! (no schema, a request without the partition key, a PartiQL statement), it is an `Err` and the
//! caller denies the call: an absent key would make `ForAllValues:` conditions pass.
//!
//! UNSOURCED: for `Query` on a global secondary index the index's partition key is used (AWS
//! documents `LeadingKeys` as "the partition key" of the table only); a local secondary index
//! shares the table's.

use serde_json::{Map, Value};

use crate::classify::{Authorization, leading_keys, partition_key_value};
use crate::forward::Upstream;
use crate::key_schema::{KeySchemaCache, KeySchemaError, table_name};

pub const LEADING_KEYS: &str = "dynamodb:LeadingKeys";

#[derive(Debug, thiserror::Error)]
pub enum LeadingKeyError {
    #[error(transparent)]
    Schema(#[from] KeySchemaError),
    #[error("cannot derive `dynamodb:LeadingKeys` for table `{table}`: {reason}")]
    Underivable { table: String, reason: &'static str },
    #[error("`dynamodb:LeadingKeys` is not derived from PartiQL statements")]
    PartiQl,
}

/// Whether any of the session's policies has a condition on `dynamodb:LeadingKeys` (condition
/// keys compare case-insensitively). Only then is the key derived: it cannot change a decision
/// otherwise, and deriving it costs a `DescribeTable` per table.
pub fn referenced<'a>(policies: impl IntoIterator<Item = &'a iam_policy::NamedPolicy>) -> bool {
    policies.into_iter().any(|named| {
        named.policy.statements.iter().any(|statement| {
            statement
                .conditions
                .iter()
                .any(|c| c.key().eq_ignore_ascii_case(LEADING_KEYS))
        })
    })
}

/// What the filler needs from the gateway.
#[derive(Debug, Clone, Copy)]
pub struct Backend<'a> {
    pub cache: &'a KeySchemaCache,
    pub upstream: &'a Upstream,
    pub region: &'a str,
    pub now: time::OffsetDateTime,
}

/// Adds `dynamodb:LeadingKeys` to each authorization of `operation` that has partition keys:
/// `GetItem`/`PutItem`/`UpdateItem`/`DeleteItem`/`Query`; per table for `BatchGetItem` and
/// `BatchWriteItem` (every key of the table's items); per item for `TransactGetItems` and
/// `TransactWriteItems`. `Scan` and the table-level operations have none. `root` is the
/// request's JSON object as classification read it.
pub async fn fill(
    backend: Backend<'_>,
    operation: &str,
    root: &Map<String, Value>,
    authorizations: &mut [Authorization],
) -> Result<(), LeadingKeyError> {
    match operation {
        "GetItem" | "PutItem" | "UpdateItem" | "DeleteItem" | "Query" => {
            let table = string(root, "TableName");
            let index = if operation == "Query" {
                root.get("IndexName").and_then(Value::as_str)
            } else {
                None
            };
            let schema = backend.schema(table).await?;
            let partition_key =
                schema
                    .partition_key_for(index)
                    .ok_or_else(|| LeadingKeyError::Underivable {
                        table: table.to_owned(),
                        reason: "the table has no such index",
                    })?;
            let values = leading_keys(operation, root, partition_key).ok_or_else(|| {
                LeadingKeyError::Underivable {
                    table: table.to_owned(),
                    reason: if operation == "Query" {
                        "the key condition has no equality on the partition key"
                    } else {
                        "the request does not name the partition key"
                    },
                }
            })?;
            for a in authorizations.iter_mut() {
                add(a, values.clone());
            }
        }
        "BatchGetItem" | "BatchWriteItem" => {
            let Some(Value::Object(items)) = root.get("RequestItems") else {
                return Ok(());
            };
            for (table, request) in items {
                let name = table_name(table);
                let schema = backend.schema(name).await?;
                let mut values = Vec::new();
                let elements: Vec<&Value> = if operation == "BatchGetItem" {
                    array(request.get("Keys")).iter().collect()
                } else {
                    array(Some(request))
                        .iter()
                        .filter_map(|write| {
                            write
                                .pointer("/PutRequest/Item")
                                .or_else(|| write.pointer("/DeleteRequest/Key"))
                        })
                        .collect()
                };
                for element in elements {
                    let value = key_value(element, &schema.partition_key).ok_or_else(|| {
                        LeadingKeyError::Underivable {
                            table: name.to_owned(),
                            reason: "an item does not name the partition key",
                        }
                    })?;
                    if !values.contains(&value) {
                        values.push(value);
                    }
                }
                for a in authorizations
                    .iter_mut()
                    .filter(|a| table_name(&a.resource) == name)
                {
                    add(a, values.clone());
                }
            }
        }
        "TransactGetItems" | "TransactWriteItems" => {
            // classify emits one authorization per item, in order.
            let items = array(root.get("TransactItems"));
            for (item, authorization) in items.iter().zip(authorizations.iter_mut()) {
                let Some((member, request)) = item.as_object().and_then(|o| o.iter().next()) else {
                    continue;
                };
                let table = request
                    .get("TableName")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let schema = backend.schema(table).await?;
                let element_member = if member == "Put" { "Item" } else { "Key" };
                let value = request
                    .get(element_member)
                    .and_then(|e| key_value(e, &schema.partition_key))
                    .ok_or_else(|| LeadingKeyError::Underivable {
                        table: table.to_owned(),
                        reason: "an item does not name the partition key",
                    })?;
                add(authorization, vec![value]);
            }
        }
        "ExecuteStatement" | "BatchExecuteStatement" | "ExecuteTransaction" => {
            return Err(LeadingKeyError::PartiQl);
        }
        _ => {}
    }
    Ok(())
}

impl Backend<'_> {
    async fn schema(
        &self,
        table: &str,
    ) -> Result<std::sync::Arc<crate::key_schema::KeySchema>, KeySchemaError> {
        self.cache
            .get(self.upstream, self.region, table_name(table), self.now)
            .await
    }
}

fn add(authorization: &mut Authorization, values: Vec<String>) {
    authorization
        .context
        .push((LEADING_KEYS.to_owned(), values));
}

fn string<'a>(map: &'a Map<String, Value>, member: &str) -> &'a str {
    map.get(member).and_then(Value::as_str).unwrap_or_default()
}

fn array(value: Option<&Value>) -> &[Value] {
    value
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The partition-key value of one `Key` or `Item`, rendered as for single-item requests.
fn key_value(element: &Value, partition_key: &str) -> Option<String> {
    partition_key_value(element.as_object()?, partition_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_leading_keys_conditions_in_any_case() {
        let with = iam_policy::NamedPolicy::parse(
            "p",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*","Condition":{"ForAllValues:StringEquals":{"DynamoDB:leadingkeys":["a"]}}}]}"#,
        )
        .unwrap();
        let without = iam_policy::NamedPolicy::parse(
            "q",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}]}"#,
        )
        .unwrap();
        assert!(referenced([&without, &with]));
        assert!(!referenced([&without]));
    }

    #[test]
    fn renders_batch_items_like_single_items() {
        let key: Value = serde_json::json!({"pk": {"S": "a"}, "sk": {"N": "1"}});
        assert_eq!(key_value(&key, "pk").as_deref(), Some("a"));
        assert_eq!(key_value(&key, "sk").as_deref(), Some("1"));
        assert_eq!(key_value(&key, "other"), None);
    }
}
