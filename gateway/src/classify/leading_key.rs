//! The `dynamodb:LeadingKeys` condition key: the partition-key values a single-table request
//! addresses. It needs the table's key schema, so the caller passes the partition-key attribute.
//!
//! Owns: reading partition-key values from `Key`, `Item`, and the partition-key equality of
//! `KeyConditionExpression` (or legacy `KeyConditions`), and rendering them as strings.
//! Must not: look up key schemas or guess one.

use serde_json::{Map, Value};

use super::{expression, json};

/// The values of `dynamodb:LeadingKeys` for a `GetItem`, `PutItem`, `UpdateItem`, `DeleteItem`
/// or `Query` request whose table's partition key is `partition_key`.
///
/// Values render as the attribute value's string: `S` as is, `N` as its decimal text and `B` as
/// its base64 text, as sent. (UNSOURCED for `N` and `B`: AWS documents the key with string
/// partition keys only.)
///
/// `None` when the values cannot be derived from the request: another operation (`Scan` has no
/// leading keys; batches and transactions span tables with their own key schemas), a malformed
/// body, a missing partition key, or a `Query` whose key condition has no equality on it.
/// `request` is the request's JSON object ([`super::Classified::request`]).
pub fn leading_keys(
    operation: &str,
    request: &Map<String, Value>,
    partition_key: &str,
) -> Option<Vec<String>> {
    let root = json::Obj::root(request);
    match operation {
        "GetItem" | "UpdateItem" | "DeleteItem" => {
            let key = root.obj("Key").ok()?;
            partition_key_value(key.map(), partition_key).map(|v| vec![v])
        }
        "PutItem" => {
            let item = root.obj("Item").ok()?;
            partition_key_value(item.map(), partition_key).map(|v| vec![v])
        }
        "Query" => query(&root, partition_key),
        _ => None,
    }
}

/// The partition-key value of one `Key` or `Item` object, rendered as [`leading_keys`] renders
/// it; `None` when the object lacks the key or its value is not a plain `S`, `N` or `B`.
pub fn partition_key_value(
    key_or_item: &Map<String, Value>,
    partition_key: &str,
) -> Option<String> {
    render(key_or_item.get(partition_key)?)
}

fn query(root: &json::Obj<'_>, partition_key: &str) -> Option<Vec<String>> {
    if let Some(expr) = root.opt_str("KeyConditionExpression").ok()? {
        let names = root.opt_obj("ExpressionAttributeNames").ok()?;
        let values = root.opt_obj("ExpressionAttributeValues").ok()?;
        let placeholders = expression::partition_key_placeholders(
            expr,
            names.as_ref().map(json::Obj::map),
            partition_key,
            "KeyConditionExpression",
        )
        .ok()?;
        let values: &Map<String, Value> = values.as_ref().map(json::Obj::map)?;
        let mut out = Vec::new();
        for placeholder in placeholders {
            let value = render(values.get(&format!(":{placeholder}"))?)?;
            if !out.contains(&value) {
                out.push(value);
            }
        }
        return (!out.is_empty()).then_some(out);
    }
    let conditions = root.opt_obj("KeyConditions").ok()??;
    let condition = conditions.opt_obj(partition_key).ok()??;
    if condition.opt_str("ComparisonOperator").ok()?? != "EQ" {
        return None;
    }
    match condition.map().get("AttributeValueList")? {
        Value::Array(list) => match list.as_slice() {
            [value] => render(value).map(|v| vec![v]),
            _ => None,
        },
        _ => None,
    }
}

/// `{"S": "x"}` → `x`; `{"N": "1"}` → `1`; `{"B": "AQI="}` → `AQI=`; anything else → `None`.
fn render(value: &Value) -> Option<String> {
    let Value::Object(typed) = value else {
        return None;
    };
    let mut entries = typed.iter();
    let (Some((kind, Value::String(text))), None) = (entries.next(), entries.next()) else {
        return None;
    };
    matches!(kind.as_str(), "S" | "N" | "B").then(|| text.clone())
}
