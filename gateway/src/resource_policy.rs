//! DynamoDB resource-based policies on tables and streams (`PutResourcePolicy`,
//! `GetResourcePolicy`, `DeleteResourcePolicy`, and `CreateTable`'s `ResourcePolicy`).
//!
//! DynamoDB Local (3.3.1) answers these three operations with `UnknownOperationException`, so the
//! gateway keeps the policies itself and answers them; what DynamoDB Local never sees cannot be
//! wrong there. The policy attached to a table also governs its indexes ("You can control index
//! permissions using the base table's policy", API_PutResourcePolicy); a stream has its own.
//! Evaluation combines it with the caller's identity-based policies by IAM's same-account rule
//! (either may allow, an explicit deny in either denies), which `iam_policy::evaluate` does for
//! `PolicySet::resource`.
//!
//! Sourced (AWS DynamoDB API reference, PutResourcePolicy; "resource-based policy
//! considerations"): the 20 KB limit counting whitespace; `PutResourcePolicy` is idempotent (the
//! same document gives the same `RevisionId`); an `ExpectedRevisionId` that does not match answers
//! `PolicyNotFoundException`. Not modelled: the eventual consistency and the 15-second block on
//! successive updates (the harness applies a policy at once). UNSOURCED: the texts of
//! `PolicyNotFoundException` (no capture found); the `RevisionId` format (AWS shows a decimal
//! number; here it is the harness clock in milliseconds at the change).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use iam_policy::NamedPolicy;

/// The largest policy document DynamoDB accepts, whitespace included.
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// One attached policy.
#[derive(Debug, Clone)]
pub struct Attached {
    /// The document as given (returned verbatim by `GetResourcePolicy`).
    pub text: String,
    /// Shared with every evaluation that uses it (no copy per request).
    pub policy: Arc<NamedPolicy>,
    pub revision_id: String,
}

/// Why a resource-policy call failed, as DynamoDB answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// `PolicyNotFoundException`.
    NotFound(String),
    /// `ValidationException`.
    Invalid(String),
}

/// The resource-based policies of one backend's tables and streams, by resource ARN (in the
/// world's form, `arn:aws:dynamodb:<region>:<account>:table/T[/stream/S]`).
#[derive(Debug, Default)]
pub struct ResourcePolicies {
    by_arn: RwLock<BTreeMap<String, Attached>>,
}

/// The ARN whose policy governs `resource`: a table's for the table and its indexes, a stream's
/// own for a stream; `None` for anything else (`*`, backups, exports).
pub fn governing_arn(resource: &str) -> Option<&str> {
    let (prefix, rest) = resource.split_once(":table/")?;
    let base_len = prefix.len() + ":table/".len();
    match rest.split_once('/') {
        None => Some(resource),
        Some((table, tail)) if tail.starts_with("index/") => resource.get(..base_len + table.len()),
        Some((_, tail)) if tail.starts_with("stream/") => Some(resource),
        Some(_) => None,
    }
}

/// Check a policy document as `PutResourcePolicy` does: size, then IAM grammar.
pub fn validate(arn: &str, text: &str) -> Result<NamedPolicy, PolicyError> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(PolicyError::Invalid(format!(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to {MAX_POLICY_BYTES}"
        )));
    }
    NamedPolicy::parse(format!("resource-based policy of {arn}"), text).map_err(|e| {
        // UNSOURCED wording; the code is what AWS documents for a malformed policy here.
        PolicyError::Invalid(format!("Invalid policy document: {e}"))
    })
}

impl ResourcePolicies {
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Attached>> {
        self.by_arn
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Attached>> {
        self.by_arn
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The policy attached to exactly this ARN.
    pub fn get(&self, arn: &str) -> Option<Attached> {
        self.read().get(arn).cloned()
    }

    /// The policy that takes part in authorising a request on `resource`.
    pub fn for_resource(&self, resource: &str) -> Option<Arc<NamedPolicy>> {
        let arn = governing_arn(resource)?;
        self.read().get(arn).map(|a| Arc::clone(&a.policy))
    }

    /// `PutResourcePolicy`: attach or replace; the same document again keeps its revision.
    pub fn put(
        &self,
        arn: &str,
        text: &str,
        expected_revision: Option<&str>,
        now_ms: i64,
    ) -> Result<String, PolicyError> {
        let policy = validate(arn, text)?;
        let mut map = self.write();
        if let Some(expected) = expected_revision
            && map.get(arn).map(|a| a.revision_id.as_str()) != Some(expected)
        {
            return Err(PolicyError::NotFound(format!(
                "Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id {expected}, but the policy associated to target table {arn} has revision id {}.",
                map.get(arn).map_or("NO_POLICY", |a| a.revision_id.as_str())
            )));
        }
        if let Some(existing) = map.get(arn)
            && existing.text == text
        {
            return Ok(existing.revision_id.clone());
        }
        let mut revision = now_ms.max(0);
        if let Some(existing) = map.get(arn)
            && existing.revision_id == revision.to_string()
        {
            revision += 1;
        }
        let revision_id = revision.to_string();
        map.insert(
            arn.to_owned(),
            Attached {
                text: text.to_owned(),
                policy: Arc::new(policy),
                revision_id: revision_id.clone(),
            },
        );
        Ok(revision_id)
    }

    /// `DeleteResourcePolicy`: the revision of the removed policy.
    pub fn delete(
        &self,
        arn: &str,
        expected_revision: Option<&str>,
    ) -> Result<String, PolicyError> {
        let mut map = self.write();
        let Some(existing) = map.get(arn) else {
            return Err(not_found(arn));
        };
        if let Some(expected) = expected_revision
            && existing.revision_id != expected
        {
            return Err(PolicyError::NotFound(format!(
                "Resource-based policy not found for the provided ResourceArn: Requested delete for policy with revision id {expected}, but the policy associated to target table {arn} has revision id {}.",
                existing.revision_id
            )));
        }
        let revision = existing.revision_id.clone();
        map.remove(arn);
        Ok(revision)
    }

    /// A deleted table takes its policy and its streams' policies with it.
    pub fn forget_table(&self, table_arn: &str) {
        let stream_prefix = format!("{table_arn}/stream/");
        self.write()
            .retain(|arn, _| arn != table_arn && !arn.starts_with(&stream_prefix));
    }
}

/// `GetResourcePolicy`/`DeleteResourcePolicy` on a resource without a policy.
pub fn not_found(arn: &str) -> PolicyError {
    PolicyError::NotFound(format!(
        "Resource-based policy not found for the provided ResourceArn: {arn}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts";
    const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/r"},"Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts"}]}"#;

    #[test]
    fn a_table_policy_governs_the_table_and_its_indexes_and_a_stream_its_own() {
        assert_eq!(governing_arn(TABLE), Some(TABLE));
        assert_eq!(
            governing_arn(&format!("{TABLE}/index/email-index")),
            Some(TABLE)
        );
        let stream = format!("{TABLE}/stream/2026-11-29T01:21:30.443");
        assert_eq!(governing_arn(&stream), Some(stream.as_str()));
        assert_eq!(governing_arn("*"), None);
        assert_eq!(governing_arn(&format!("{TABLE}/backup/01")), None);
    }

    #[test]
    fn put_is_idempotent_and_checks_the_expected_revision() {
        let store = ResourcePolicies::new();
        let first = store.put(TABLE, DOC, None, 1000).unwrap();
        assert_eq!(store.put(TABLE, DOC, None, 2000).unwrap(), first);
        assert!(store.for_resource(&format!("{TABLE}/index/i")).is_some());
        let changed = DOC.replace("GetItem", "Query");
        let err = store.put(TABLE, &changed, Some("42"), 3000).unwrap_err();
        assert!(matches!(err, PolicyError::NotFound(_)));
        let second = store.put(TABLE, &changed, Some(&first), 3000).unwrap();
        assert_ne!(second, first);
        assert_eq!(store.get(TABLE).unwrap().text, changed);
        assert_eq!(store.delete(TABLE, Some(&second)).unwrap(), second);
        assert!(store.get(TABLE).is_none());
        assert_eq!(store.delete(TABLE, None).unwrap_err(), not_found(TABLE));
    }

    #[test]
    fn oversized_or_malformed_documents_are_refused() {
        let store = ResourcePolicies::new();
        let big = format!("{}{}", DOC, " ".repeat(MAX_POLICY_BYTES));
        assert!(matches!(
            store.put(TABLE, &big, None, 1),
            Err(PolicyError::Invalid(m)) if m.contains("less than or equal to 20480")
        ));
        assert!(matches!(
            store.put(TABLE, "{not json", None, 1),
            Err(PolicyError::Invalid(_))
        ));
        assert!(store.get(TABLE).is_none());
    }

    #[test]
    fn deleting_a_table_forgets_its_policies() {
        let store = ResourcePolicies::new();
        store.put(TABLE, DOC, None, 1).unwrap();
        let stream = format!("{TABLE}/stream/x");
        store.put(&stream, DOC, None, 1).unwrap();
        let other = "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts2";
        store.put(other, DOC, None, 1).unwrap();
        store.forget_table(TABLE);
        assert!(store.get(TABLE).is_none());
        assert!(store.get(&stream).is_none());
        assert!(store.get(other).is_some());
    }
}
