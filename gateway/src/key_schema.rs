//! Key schemas of the backend's tables, for `dynamodb:LeadingKeys`: which attribute is the
//! partition key of a table and of each of its indexes.
//!
//! Owns the cache (by region and table name) and the `DescribeTable` that fills it on first use,
//! sent to the backend through [`Upstream`] with the gateway's local key. It must not decide
//! anything: a schema it cannot read is an `Err`, and the caller denies the call (fail closed).
//! Entries are dropped when the gateway forwards a `CreateTable`, `DeleteTable` or `UpdateTable`
//! for the table; a table changed behind the gateway's back (directly at the backend) keeps its
//! stale entry until then.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use serde_json::Value;

use crate::body::JsonObject;
use crate::forward::{ForwardError, Upstream};

/// The partition-key attributes of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchema {
    /// The table's partition (`HASH`) key attribute.
    pub partition_key: String,
    /// Each index's partition key: a global secondary index has its own, a local one shares the
    /// table's.
    pub indexes: BTreeMap<String, String>,
}

impl KeySchema {
    /// The partition key a `Query` addresses: the index's with `IndexName`, else the table's.
    /// `None` for an index the table does not have.
    pub fn partition_key_for(&self, index: Option<&str>) -> Option<&str> {
        match index {
            None => Some(&self.partition_key),
            Some(index) => self.indexes.get(index).map(String::as_str),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeySchemaError {
    #[error("the DynamoDB backend did not answer `DescribeTable` for table `{table}`")]
    Unreachable {
        table: String,
        #[source]
        source: ForwardError,
    },
    #[error("`DescribeTable` for table `{table}` failed: {answer}")]
    Refused { table: String, answer: String },
    #[error("`DescribeTable` for table `{table}` answered no partition key")]
    Malformed { table: String },
}

/// Key schemas by `(region, table name)`. Shared by every request of one gateway.
#[derive(Debug, Default)]
pub struct KeySchemaCache {
    tables: RwLock<HashMap<(String, String), Arc<KeySchema>>>,
}

impl KeySchemaCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached schema, or one read from the backend now and cached.
    pub async fn get(
        &self,
        upstream: &Upstream,
        region: &str,
        table: &str,
        now: time::OffsetDateTime,
    ) -> Result<Arc<KeySchema>, KeySchemaError> {
        let key = (region.to_owned(), table.to_owned());
        if let Some(found) = self.read().get(&key) {
            return Ok(Arc::clone(found));
        }
        let body = serde_json::json!({ "TableName": table }).to_string();
        let answer = upstream
            .send(
                "DynamoDB_20120810.DescribeTable",
                "application/x-amz-json-1.0",
                Bytes::from(body),
                region,
                now,
            )
            .await
            .map_err(|source| KeySchemaError::Unreachable {
                table: table.to_owned(),
                source,
            })?;
        if !answer.status.is_success() {
            return Err(KeySchemaError::Refused {
                table: table.to_owned(),
                answer: describe_error(&answer.body),
            });
        }
        let schema =
            parse_describe_table(&answer.body).ok_or_else(|| KeySchemaError::Malformed {
                table: table.to_owned(),
            })?;
        let schema = Arc::new(schema);
        self.write().insert(key, Arc::clone(&schema));
        Ok(schema)
    }

    /// Forget a table's schema (it was created, deleted or updated through the gateway).
    pub fn invalidate(&self, region: &str, table: &str) {
        self.write().remove(&(region.to_owned(), table.to_owned()));
    }

    /// After forwarding `operation` (whatever the backend answered): a `CreateTable`,
    /// `DeleteTable` or `UpdateTable` drops the schema of the table its request names.
    pub fn after_forward(&self, operation: &str, request: &JsonObject, region: &str) {
        if matches!(operation, "CreateTable" | "DeleteTable" | "UpdateTable")
            && let Some(table) = table_named_in(request)
        {
            self.invalidate(region, table);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<(String, String), Arc<KeySchema>>> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still valid.
        self.tables
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<(String, String), Arc<KeySchema>>> {
        self.tables
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `TableName` as DynamoDB accepts it (a name or a table ARN) → the table's name.
pub fn table_name(name_or_arn: &str) -> &str {
    match name_or_arn.split_once(":table/") {
        Some((_, rest)) if name_or_arn.starts_with("arn:") => {
            rest.split_once('/').map_or(rest, |(table, _)| table)
        }
        _ => name_or_arn,
    }
}

/// The table a table-level request names in `TableName` (a name or an ARN).
pub fn table_named_in(request: &JsonObject) -> Option<&str> {
    Some(table_name(request.get("TableName")?.as_str()?))
}

/// Reads the partition keys from a `DescribeTable` response body.
pub fn parse_describe_table(body: &[u8]) -> Option<KeySchema> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let table = value.get("Table")?;
    let partition_key = hash_key(table.get("KeySchema")?)?;
    let mut indexes = BTreeMap::new();
    for member in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        for index in table
            .get(member)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if let (Some(name), Some(key)) = (
                index.get("IndexName").and_then(Value::as_str),
                index.get("KeySchema").and_then(hash_key),
            ) {
                indexes.insert(name.to_owned(), key);
            }
        }
    }
    Some(KeySchema {
        partition_key,
        indexes,
    })
}

fn hash_key(key_schema: &Value) -> Option<String> {
    key_schema.as_array()?.iter().find_map(|element| {
        (element.get("KeyType")?.as_str()? == "HASH")
            .then(|| element.get("AttributeName")?.as_str().map(str::to_owned))
            .flatten()
    })
}

/// `Code: message` from a DynamoDB error body, for the denial's text.
fn describe_error(body: &[u8]) -> String {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = value
        .get("__type")
        .and_then(Value::as_str)
        .map(|t| t.rsplit_once('#').map_or(t, |(_, code)| code))
        .unwrap_or("an error");
    let message = value
        .get("message")
        .or_else(|| value.get("Message"))
        .and_then(Value::as_str);
    match message {
        Some(message) => format!("`{code}: {message}`"),
        None => format!("`{code}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_table_and_index_partition_keys() {
        let body = br#"{"Table":{"TableName":"t","KeySchema":[{"AttributeName":"sk","KeyType":"RANGE"},{"AttributeName":"pk","KeyType":"HASH"}],
            "GlobalSecondaryIndexes":[{"IndexName":"g","KeySchema":[{"AttributeName":"email","KeyType":"HASH"}]}],
            "LocalSecondaryIndexes":[{"IndexName":"l","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"created","KeyType":"RANGE"}]}]}}"#;
        let schema = parse_describe_table(body).unwrap();
        assert_eq!(schema.partition_key, "pk");
        assert_eq!(schema.partition_key_for(None), Some("pk"));
        assert_eq!(schema.partition_key_for(Some("g")), Some("email"));
        assert_eq!(schema.partition_key_for(Some("l")), Some("pk"));
        assert_eq!(schema.partition_key_for(Some("nope")), None);
        assert!(parse_describe_table(br#"{"Table":{"KeySchema":[]}}"#).is_none());
    }

    #[test]
    fn table_names_come_from_names_and_arns() {
        assert_eq!(table_name("t"), "t");
        assert_eq!(
            table_name("arn:aws:dynamodb:eu-west-1:111122223333:table/t"),
            "t"
        );
        assert_eq!(
            table_name("arn:aws:dynamodb:eu-west-1:111122223333:table/t/index/i"),
            "t"
        );
    }

    #[test]
    fn describes_backend_errors_by_code_and_message() {
        assert_eq!(
            describe_error(
                br#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Cannot do operations on a non-existent table"}"#
            ),
            "`ResourceNotFoundException: Cannot do operations on a non-existent table`"
        );
    }
}
