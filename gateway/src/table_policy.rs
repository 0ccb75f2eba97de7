//! A table's resource-based policy follows the table's life through the gateway: `CreateTable`'s
//! `ResourcePolicy` (which DynamoDB Local does not know) is taken out of the request, validated
//! before the table exists (AWS validates it with the request), and attached once the backend
//! created the table; a successful `DeleteTable` forgets the table's policies and its streams'.
//!
//! Must not: parse the body (it reads the request object classification read).

use axum::body::Bytes;

use crate::body::JsonObject;
use crate::error::DdbError;
use crate::key_schema::table_named_in;
use crate::policy_api::policy_error;
use crate::resource_policy::{self, ResourcePolicies};

/// A `CreateTable` request's `ResourcePolicy`, taken out of the request.
#[derive(Debug, Clone)]
pub struct NewTablePolicy {
    /// The new table's ARN in the world's form.
    pub arn: String,
    pub text: String,
    /// The request without `ResourcePolicy`: what the backend is sent.
    pub forwarded_body: Bytes,
}

/// For a `CreateTable` with a `ResourcePolicy`: the policy, checked, and the request without it.
/// `None` for any other call. `world_prefix` is the world's ARN prefix
/// ([`crate::backend_arn::world_prefix`]).
pub fn take(
    operation: &str,
    request: &JsonObject,
    world_prefix: &str,
) -> Result<Option<NewTablePolicy>, DdbError> {
    if operation != "CreateTable" {
        return Ok(None);
    }
    let Some(policy) = request.get("ResourcePolicy") else {
        return Ok(None);
    };
    let table = table_named_in(request).unwrap_or_default();
    let arn = format!("{world_prefix}table/{table}");
    let text = policy.as_str().unwrap_or_default().to_owned();
    resource_policy::validate(&arn, &text).map_err(policy_error)?;
    let mut without = request.clone();
    without.remove("ResourcePolicy");
    Ok(Some(NewTablePolicy {
        arn,
        text,
        forwarded_body: Bytes::from(serde_json::Value::Object(without).to_string()),
    }))
}

/// After the backend accepted a call: attach a created table's policy, forget a deleted table's.
pub fn after_success(
    store: &ResourcePolicies,
    operation: &str,
    request: &JsonObject,
    world_prefix: &str,
    new_policy: Option<&NewTablePolicy>,
    now: i64,
) {
    let Some(table) = table_named_in(request) else {
        return;
    };
    if operation == "DeleteTable" {
        store.forget_table(&format!("{world_prefix}table/{table}"));
    }
    if let Some(policy) = new_policy {
        let _ = store.put(&policy.arn, &policy.text, None, now * 1000);
    }
}
