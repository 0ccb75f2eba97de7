//! The audit record of one DynamoDB call, in CloudTrail's record shape plus an `explanation`.
//!
//! Owns what a call's stages report for its record ([`Outcome`]) and its rendering into JSON.
//! The request parameters come from the call's [`RequestBody`], parsed once for every stage. Must not: include a secret, a session token,
//! a signature or an item's values. Key and item values, expression attribute values and PartiQL
//! statements are replaced by `HIDDEN_DUE_TO_SECURITY_REASONS` (CloudTrail's placeholder); the
//! `Authorization` header that `IncompleteSignatureException` echoes is cut from `errorMessage`.

use std::net::SocketAddr;
use std::sync::Arc;

use iam_policy::Evaluation;
use irsa_core::World;
use irsa_core::audit::{assumed_role_identity, redact_message, render_event_time};
use irsa_core::session::Session;
use serde_json::{Map, Value, json};

use crate::body::{JsonObject, RequestBody};
use crate::classify::Authorization;
use crate::error::DdbError;

pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// What happened to one call, for its audit record.
#[derive(Debug, Default)]
pub struct Outcome {
    pub session: Option<Arc<Session>>,
    /// The IAM user who signed the call, when it was signed with a static key.
    pub user: Option<irsa_core::world::User>,
    /// The region the client signed for.
    pub region: Option<String>,
    /// The error the gateway answered, or the backend's `(code, message)`.
    pub error: Option<(String, String)>,
    /// Each evaluated authorization with its evaluation; for a denied call the last one denied.
    pub evaluations: Vec<(Authorization, Evaluation)>,
}

impl Outcome {
    /// The call was answered with `error`.
    pub fn fail(&mut self, error: &DdbError) {
        self.error = Some((error.code().to_owned(), error.to_string()));
    }
}

/// Everything the record is made from.
#[derive(Debug)]
pub struct Call<'a> {
    pub parts: &'a http::request::Parts,
    pub body: &'a RequestBody,
    pub peer: Option<SocketAddr>,
    pub request_id: &'a str,
    pub now: i64,
    pub world: &'a World,
    pub outcome: &'a Outcome,
    pub status: u16,
}

/// Members whose values are data (item values, key values, statements): hidden, names kept.
const VALUE_MEMBERS: &[&str] = &[
    "Key",
    "Keys",
    "Item",
    "ExpressionAttributeValues",
    "ExclusiveStartKey",
    "Expected",
    "AttributeUpdates",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
    "Statement",
    "Parameters",
];

pub fn record(call: &Call<'_>) -> Value {
    let target = call
        .parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (source, operation) = match target.split_once('.') {
        Some((prefix, op)) if prefix.starts_with("DynamoDBStreams") => {
            ("streams.dynamodb.amazonaws.com", op)
        }
        Some((_, op)) => ("dynamodb.amazonaws.com", op),
        None => ("dynamodb.amazonaws.com", target),
    };
    let outcome = call.outcome;
    let user_identity = match (outcome.session.as_deref(), &outcome.user) {
        (Some(session), _) => assumed_role_identity(session),
        (None, Some(user)) => irsa_core::audit::iam_user_identity(user, call.world),
        (None, None) => json!({"type": "Unknown"}),
    };
    let read_only = [
        "Get",
        "Describe",
        "List",
        "Query",
        "Scan",
        "BatchGet",
        "TransactGet",
    ]
    .iter()
    .any(|p| operation.starts_with(p));
    let data_event = matches!(
        operation,
        "GetItem"
            | "PutItem"
            | "UpdateItem"
            | "DeleteItem"
            | "Query"
            | "Scan"
            | "BatchGetItem"
            | "BatchWriteItem"
            | "TransactGetItems"
            | "TransactWriteItems"
            | "ExecuteStatement"
            | "BatchExecuteStatement"
            | "ExecuteTransaction"
    );
    let mut record = Map::new();
    record.insert("eventVersion".into(), "1.09".into());
    record.insert("userIdentity".into(), user_identity);
    record.insert("eventTime".into(), render_event_time(call.now).into());
    record.insert("eventSource".into(), source.into());
    record.insert("eventName".into(), operation.into());
    record.insert(
        "awsRegion".into(),
        outcome
            .region
            .clone()
            .unwrap_or_else(|| call.world.region.clone())
            .into(),
    );
    record.insert(
        "sourceIPAddress".into(),
        call.peer.map_or(Value::Null, |p| p.ip().to_string().into()),
    );
    if let Some(agent) = call
        .parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
    {
        record.insert("userAgent".into(), agent.into());
    }
    record.insert(
        "requestParameters".into(),
        call.body
            .lenient_object()
            .map_or(Value::Null, request_parameters),
    );
    if let Some((code, message)) = &outcome.error {
        record.insert("errorCode".into(), code.as_str().into());
        record.insert("errorMessage".into(), redact_message(message).into());
    }
    record.insert("requestID".into(), call.request_id.into());
    record.insert("eventID".into(), uuid::Uuid::new_v4().to_string().into());
    record.insert("readOnly".into(), read_only.into());
    record.insert("eventType".into(), "AwsApiCall".into());
    record.insert("managementEvent".into(), (!data_event).into());
    record.insert(
        "recipientAccountId".into(),
        call.world.account.as_str().into(),
    );
    record.insert(
        "eventCategory".into(),
        if data_event { "Data" } else { "Management" }.into(),
    );
    record.insert("httpStatus".into(), call.status.into());
    record.insert(
        "explanation".into(),
        outcome
            .evaluations
            .iter()
            .map(|(authorization, evaluation)| {
                json!({
                    "action": authorization.action,
                    "resource": authorization.resource,
                    "decision": evaluation.decision,
                    "text": evaluation.explanation.to_string(),
                    "trace": evaluation.explanation,
                })
            })
            .collect::<Vec<_>>()
            .into(),
    );
    Value::Object(record)
}

/// The request's JSON object with data values hidden and member names in CloudTrail's lower
/// camel case.
pub fn request_parameters(request: &JsonObject) -> Value {
    redact_object(request)
}

fn redact_object(map: &JsonObject) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| {
                let v = if VALUE_MEMBERS.contains(&k.as_str()) {
                    hide(v)
                } else if k == "RequestItems" {
                    // Keys are table names: kept as they are.
                    match v {
                        Value::Object(tables) => Value::Object(
                            tables.iter().map(|(t, r)| (t.clone(), redact(r))).collect(),
                        ),
                        other => redact(other),
                    }
                } else {
                    redact(v)
                };
                (lower_camel(k), v)
            })
            .collect(),
    )
}

fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => redact_object(map),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// Attribute names kept, every value hidden.
fn hide(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.keys()
                .map(|k| (k.clone(), Value::from(HIDDEN)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(hide).collect()),
        _ => Value::from(HIDDEN),
    }
}

fn lower_camel(member: &str) -> String {
    let mut chars = member.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_key_and_item_values_but_keeps_names() {
        let body = br#"{"TableName":"t","Key":{"pk":{"S":"secret-row"}},"ProjectionExpression":"a",
            "ExpressionAttributeValues":{":v":{"S":"x"}},
            "RequestItems":{"My-Table":{"Keys":[{"pk":{"S":"k1"}}]}},
            "TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"k2"}}}}]}"#;
        let body = RequestBody::new(bytes::Bytes::from_static(body));
        let params = request_parameters(body.object().unwrap());
        let text = params.to_string();
        for value in ["secret-row", "k1", "k2", "\"x\""] {
            assert!(!text.contains(value), "{text}");
        }
        assert_eq!(params["tableName"], "t");
        assert_eq!(params["key"]["pk"], HIDDEN);
        assert_eq!(params["projectionExpression"], "a");
        assert_eq!(params["requestItems"]["My-Table"]["keys"][0]["pk"], HIDDEN);
        assert_eq!(params["transactItems"][0]["put"]["item"]["pk"], HIDDEN);
    }
}
