//! The audit trail on disk: `<state-dir>/audit.jsonl`, one CloudTrail-shaped JSON record per STS
//! and DynamoDB call (built by mock-sts and the gateway), and the readers behind `irsa audit` and
//! `irsa explain`.
//!
//! Owns the file and its rendering. Must not build records or add anything to them: what the
//! services hand over is written as is (they keep secrets, tokens, signatures and item values out).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context as _, anyhow};
use irsa_core::audit::AuditSink;
use serde_json::Value;

pub const FILE_NAME: &str = "audit.jsonl";

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// Appends each record as one line.
#[derive(Debug)]
pub struct FileAuditSink {
    file: Mutex<std::fs::File>,
}

impl FileAuditSink {
    /// Opens (creating) `<state-dir>/audit.jsonl` for appending.
    pub fn open(state_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("creating state dir `{}`", state_dir.display()))?;
        let file = path(state_dir);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .with_context(|| format!("opening `{}`", file.display()))?;
        Ok(Self {
            file: Mutex::new(file),
        })
    }
}

impl AuditSink for FileAuditSink {
    fn record(&self, event: Value) {
        let mut line = event.to_string();
        line.push('\n');
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = file.write_all(line.as_bytes()) {
            tracing::warn!(error = %e, "could not append to the audit trail");
        }
    }
}

/// Every record of the trail, oldest first. A line that is not JSON is skipped with a warning.
pub fn read(state_dir: &Path) -> anyhow::Result<Vec<Value>> {
    let file = path(state_dir);
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("reading the audit trail `{}`", file.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| match serde_json::from_str(l) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error = %e, "skipping a malformed audit line");
                None
            }
        })
        .collect())
}

fn text<'a>(record: &'a Value, pointer: &str) -> &'a str {
    record
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `irsa audit`: time, service, operation, principal, decision (`allow` or the error code),
/// request id; `denied` keeps only calls that failed, `last` the newest N.
pub fn render_table(records: &[Value], denied: bool, last: Option<usize>) -> String {
    let rows: Vec<&Value> = records
        .iter()
        .filter(|r| !denied || r.get("errorCode").is_some())
        .collect();
    let skip = last.map_or(0, |n| rows.len().saturating_sub(n));
    let mut out = format!(
        "{:<20}  {:<8}  {:<26}  {:<60}  {:<28}  {}\n",
        "TIME", "SERVICE", "OPERATION", "PRINCIPAL", "RESULT", "REQUEST ID"
    );
    for r in rows.into_iter().skip(skip) {
        let service = text(r, "/eventSource")
            .split('.')
            .next()
            .unwrap_or_default();
        let principal = match text(r, "/userIdentity/arn") {
            "" => text(r, "/userIdentity/userName"),
            arn => arn,
        };
        let result = r
            .get("errorCode")
            .and_then(Value::as_str)
            .unwrap_or("allow");
        out.push_str(&format!(
            "{:<20}  {:<8}  {:<26}  {:<60}  {:<28}  {}\n",
            text(r, "/eventTime"),
            service,
            text(r, "/eventName"),
            if principal.is_empty() { "-" } else { principal },
            result,
            text(r, "/requestID"),
        ));
    }
    out
}

/// `irsa explain`: the call and every decision trace for it.
pub fn explain(records: &[Value], request_id: &str) -> anyhow::Result<String> {
    let record = records
        .iter()
        .rev()
        .find(|r| text(r, "/requestID") == request_id)
        .ok_or_else(|| anyhow!("no call with request id `{request_id}` in the audit trail"))?;
    let mut out = format!(
        "{} {} at {} by {}\n",
        text(record, "/eventSource"),
        text(record, "/eventName"),
        text(record, "/eventTime"),
        match text(record, "/userIdentity/arn") {
            "" => "an unauthenticated caller",
            arn => arn,
        }
    );
    match record.get("errorCode").and_then(Value::as_str) {
        Some(code) => out.push_str(&format!(
            "result: {code}: {}\n",
            text(record, "/errorMessage")
        )),
        None => out.push_str("result: allowed\n"),
    }
    let explanations = record
        .get("explanation")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if explanations.is_empty() {
        out.push_str("no policy was evaluated (the call was refused before authorisation)\n");
    }
    for e in explanations {
        out.push('\n');
        out.push_str(text(e, "/text"));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Value> {
        vec![
            serde_json::json!({"eventTime":"2026-11-28T20:33:48Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRoleWithWebIdentity","userIdentity":{"type":"WebIdentityUser","userName":"system:serviceaccount:curity:dynamo-sa"},"requestID":"r1","explanation":[]}),
            serde_json::json!({"eventTime":"2026-11-28T20:33:49Z","eventSource":"dynamodb.amazonaws.com","eventName":"GetItem","userIdentity":{"arn":"arn:aws:sts::1:assumed-role/r/s"},"errorCode":"AccessDeniedException","errorMessage":"User: … denied","requestID":"r2","explanation":[{"text":"ImplicitDeny: `dynamodb:GetItem` on `t`\n"}]}),
        ]
    }

    #[test]
    fn the_table_filters_denied_and_last() {
        let all = render_table(&sample(), false, None);
        assert!(all.contains("AssumeRoleWithWebIdentity") && all.contains("AccessDeniedException"));
        let denied = render_table(&sample(), true, None);
        assert!(!denied.contains("AssumeRoleWithWebIdentity"));
        let last = render_table(&sample(), false, Some(1));
        assert!(!last.contains("r1") && last.contains("r2"));
    }

    #[test]
    fn explain_prints_the_trace_of_one_request() {
        let text = explain(&sample(), "r2").unwrap();
        assert!(text.contains("result: AccessDeniedException: User: … denied"));
        assert!(text.contains("ImplicitDeny: `dynamodb:GetItem` on `t`"));
        assert!(explain(&sample(), "nope").is_err());
    }
}
