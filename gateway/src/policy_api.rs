//! `PutResourcePolicy`, `GetResourcePolicy`, `DeleteResourcePolicy`, answered by the gateway
//! once the call has been authorised: DynamoDB Local (3.3.1) answers them with
//! `UnknownOperationException`, so the policies live in [`ResourcePolicies`]. The resource must
//! be a table (or a stream of one) of this account and region that exists in the backend.
//!
//! Must not: parse the body (it reads the request object classification read).

use axum::body::Bytes;
use serde_json::Value;

use crate::body::JsonObject;
use crate::error::DdbError;
use crate::forward::{Upstream, backend_error};
use crate::resource_policy::{self, PolicyError, ResourcePolicies};

/// Whether the gateway answers `operation` itself.
pub fn answers(operation: &str) -> bool {
    matches!(
        operation,
        "PutResourcePolicy" | "GetResourcePolicy" | "DeleteResourcePolicy"
    )
}

/// What answering a resource-policy call needs of the backend.
#[derive(Debug, Clone, Copy)]
pub struct Backend<'a> {
    pub upstream: &'a Upstream,
    pub region: &'a str,
    pub account: &'a str,
    /// The harness clock, in Unix seconds.
    pub now: i64,
}

/// A store error as DynamoDB answers it.
pub fn policy_error(e: PolicyError) -> DdbError {
    match e {
        PolicyError::NotFound(m) => DdbError::PolicyNotFound(m),
        PolicyError::Invalid(m) => DdbError::Validation(m),
    }
}

/// Answer one resource-policy call (`operation`, one that [`answers`]) whose request object is
/// `request`.
pub async fn answer(
    store: &ResourcePolicies,
    backend: Backend<'_>,
    operation: &str,
    request: &JsonObject,
) -> Result<Value, DdbError> {
    let arn = request
        .get("ResourceArn")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            DdbError::Validation(
                "1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null"
                    .to_owned(),
            )
        })?
        .to_owned();
    let table = table_of(&arn, backend)?;
    check_table_exists(backend, &table, &arn).await?;
    let expected = request.get("ExpectedRevisionId").and_then(|v| v.as_str());
    let now_ms = backend.now.saturating_mul(1000);
    match operation {
        "PutResourcePolicy" => {
            let policy = request.get("Policy").and_then(|v| v.as_str()).ok_or_else(|| {
                DdbError::Validation(
                    "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null"
                        .to_owned(),
                )
            })?;
            let revision = store
                .put(&arn, policy, expected, now_ms)
                .map_err(policy_error)?;
            Ok(serde_json::json!({ "RevisionId": revision }))
        }
        "GetResourcePolicy" => {
            let attached = store
                .get(&arn)
                .ok_or_else(|| policy_error(resource_policy::not_found(&arn)))?;
            Ok(serde_json::json!({ "Policy": attached.text, "RevisionId": attached.revision_id }))
        }
        _ => {
            let revision = store.delete(&arn, expected).map_err(policy_error)?;
            Ok(serde_json::json!({ "RevisionId": revision }))
        }
    }
}

/// The table a policy ARN of this account and region belongs to (the ARN must be the one that
/// governs its resource: a table's or a stream's).
fn table_of(arn: &str, backend: Backend<'_>) -> Result<String, DdbError> {
    let prefix = crate::backend_arn::world_prefix(backend.region, backend.account);
    arn.strip_prefix(&prefix)
        .and_then(|rest| rest.strip_prefix("table/"))
        .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
        .filter(|_| resource_policy::governing_arn(arn) == Some(arn))
        .ok_or_else(|| {
            // UNSOURCED text.
            DdbError::Validation(format!(
                "Invalid ResourceArn provided as input {arn}: irsa-harness serves tables and streams of account {} in {}",
                backend.account, backend.region
            ))
        })
}

/// `DescribeTable` at the backend: a table it does not have is `ResourceNotFoundException`.
async fn check_table_exists(backend: Backend<'_>, table: &str, arn: &str) -> Result<(), DdbError> {
    let now = time::OffsetDateTime::from_unix_timestamp(backend.now)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let described = backend
        .upstream
        .send(
            "DynamoDB_20120810.DescribeTable",
            "application/x-amz-json-1.0",
            Bytes::from(serde_json::json!({ "TableName": table }).to_string()),
            backend.region,
            now,
        )
        .await
        .map_err(|_| {
            DdbError::BackendUnavailable(format!(
                "irsa-harness: the DynamoDB backend at {} did not answer",
                backend.upstream.endpoint()
            ))
        })?;
    if described.status.is_success() {
        return Ok(());
    }
    let (code, message) = backend_error(&described.body);
    if code.ends_with("ResourceNotFoundException") {
        return Err(DdbError::ResourceNotFound(format!(
            "Requested resource not found: {arn}"
        )));
    }
    Err(DdbError::Validation(message))
}
