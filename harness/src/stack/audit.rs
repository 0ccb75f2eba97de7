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

/// A statement named as a decision trace names it: its policy, and its `Sid` or 1-based
/// position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementId {
    pub policy: String,
    pub statement: String,
}

impl std::fmt::Display for StatementId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "statement `{}` of policy `{}`",
            self.statement, self.policy
        )
    }
}

/// What one call's audit record says about its authorisation: the explanation text, the
/// resources authorised (ARNs, in order) and the statements the decision rested on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallExplanation {
    pub text: String,
    pub resources: Vec<String>,
    pub decisive: Vec<StatementId>,
}

/// The part of a record the harness reads, in the shape the gateway and STS write it
/// (`explanation[].trace` is `iam_policy::Explanation` serialised).
#[derive(Debug, Default, serde::Deserialize)]
struct ExplainedRecord {
    #[serde(default)]
    explanation: Vec<Evaluated>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Evaluated {
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    trace: Trace,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Trace {
    #[serde(default)]
    layers: Vec<LayerTrace>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct LayerTrace {
    #[serde(default)]
    policies: Vec<PolicyTrace>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct PolicyTrace {
    #[serde(default)]
    name: String,
    #[serde(default)]
    statements: Vec<StatementTrace>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct StatementTrace {
    #[serde(default)]
    statement: StatementRef,
    #[serde(default)]
    decisive: bool,
}

/// `iam_policy::StatementRef` as serialised: `{"sid": ..}` or `{"index": ..}`.
#[derive(Debug, Default, serde::Deserialize)]
struct StatementRef {
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    index: Option<u64>,
}

impl StatementRef {
    fn id(&self) -> String {
        match (&self.sid, self.index) {
            (Some(sid), _) => sid.clone(),
            (None, Some(index)) => index.to_string(),
            (None, None) => String::new(),
        }
    }
}

/// The explanation carried by one audit record. A record whose explanation does not have the
/// trace's shape explains nothing (no decisive statement), so an expectation on one fails.
pub fn explanation_of(record: &Value) -> CallExplanation {
    let parsed = <ExplainedRecord as serde::Deserialize>::deserialize(record).unwrap_or_default();
    let mut out = CallExplanation::default();
    for evaluated in parsed.explanation {
        if !evaluated.text.is_empty() {
            if !out.text.is_empty() {
                out.text.push('\n');
            }
            out.text.push_str(&evaluated.text);
        }
        if let Some(resource) = evaluated.resource
            && !out.resources.contains(&resource)
        {
            out.resources.push(resource);
        }
        for layer in evaluated.trace.layers {
            for policy in layer.policies {
                for statement in policy.statements.into_iter().filter(|s| s.decisive) {
                    out.decisive.push(StatementId {
                        policy: policy.name.clone(),
                        statement: statement.statement.id(),
                    });
                }
            }
        }
    }
    out
}

/// The newest record of the call with this request id.
pub fn find<'r>(records: &'r [Value], request_id: &str) -> Option<&'r Value> {
    records
        .iter()
        .rev()
        .find(|r| r.get("requestID").and_then(Value::as_str) == Some(request_id))
}

fn text<'a>(record: &'a Value, pointer: &str) -> &'a str {
    record
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `irsa audit`: time, service, operation, principal, decision (`allow` or the error code),
/// request id; `denied` keeps only calls that failed, `last` the newest N. With `denied`, each
/// row also names the resources the call was refused on (the table or index, as CloudTrail's
/// `resources` names them) and the statements the decision rested on (`-` for an implicit
/// deny, which rests on none).
pub fn render_table(records: &[Value], denied: bool, last: Option<usize>) -> String {
    let rows: Vec<&Value> = records
        .iter()
        .filter(|r| !denied || r.get("errorCode").is_some())
        .collect();
    let skip = last.map_or(0, |n| rows.len().saturating_sub(n));
    let mut out = format!(
        "{:<20}  {:<8}  {:<26}  {:<60}  {:<28}  {}",
        "TIME", "SERVICE", "OPERATION", "PRINCIPAL", "RESULT", "REQUEST ID"
    );
    if denied {
        out.push_str(&format!("  {:<40}  DECISIVE STATEMENT", "RESOURCE"));
    }
    out.push('\n');
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
            "{:<20}  {:<8}  {:<26}  {:<60}  {:<28}  {:<36}",
            text(r, "/eventTime"),
            service,
            text(r, "/eventName"),
            if principal.is_empty() { "-" } else { principal },
            result,
            text(r, "/requestID"),
        ));
        if denied {
            let explanation = explanation_of(r);
            let resources: Vec<&str> = explanation
                .resources
                .iter()
                .map(|arn| resource_name(arn))
                .collect();
            let decisive: Vec<String> = explanation
                .decisive
                .iter()
                .map(|d| format!("{}/{}", d.policy, d.statement))
                .collect();
            out.push_str(&format!(
                "  {:<40}  {}",
                or_dash(&resources.join(", ")),
                or_dash(&decisive.join(", "))
            ));
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
    }
    out
}

/// The resource part of an ARN (`table/curity-accounts/index/by-owner`, `role/app`), or the
/// text itself when it is not an ARN.
fn resource_name(arn: &str) -> &str {
    if arn.starts_with("arn:") {
        arn.splitn(6, ':').nth(5).unwrap_or(arn)
    } else {
        arn
    }
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

/// `irsa explain`: the call and every decision trace for it.
pub fn explain(records: &[Value], request_id: &str) -> anyhow::Result<String> {
    let record = find(records, request_id)
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
            serde_json::json!({"eventTime":"2026-11-28T20:33:49Z","eventSource":"dynamodb.amazonaws.com","eventName":"GetItem","userIdentity":{"arn":"arn:aws:sts::1:assumed-role/r/s"},"errorCode":"AccessDeniedException","errorMessage":"User: … denied","requestID":"r2","explanation":[{"resource":"arn:aws:dynamodb:eu-west-1:1:table/t/index/by-owner","text":"ImplicitDeny: `dynamodb:GetItem` on `t`\n","trace":{"layers":[{"policies":[{"name":"p","statements":[{"statement":{"sid":"NoRead"},"decisive":true}]}]}]}}]}),
        ]
    }

    #[test]
    fn the_table_filters_denied_and_last() {
        let all = render_table(&sample(), false, None);
        assert!(all.contains("AssumeRoleWithWebIdentity") && all.contains("AccessDeniedException"));
        assert!(!all.contains("RESOURCE"));
        let denied = render_table(&sample(), true, None);
        assert!(!denied.contains("AssumeRoleWithWebIdentity"));
        assert!(
            denied
                .lines()
                .next()
                .unwrap()
                .ends_with("RESOURCE                                  DECISIVE STATEMENT")
        );
        let row = denied.lines().nth(1).unwrap();
        assert!(row.contains("r2"), "{denied}");
        assert!(
            row.ends_with("table/t/index/by-owner                    p/NoRead"),
            "{denied}"
        );
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

    #[test]
    fn decisive_statements_and_resources_are_read_from_the_record() {
        let record = serde_json::json!({
            "requestID": "r1",
            "explanation": [{
                "resource": "arn:aws:dynamodb:eu-west-1:1:table/t",
                "text": "ExplicitDeny: ...",
                "trace": {"layers": [{"policies": [{"name": "p", "statements": [
                    {"statement": {"sid": "Allow1"}, "decisive": false},
                    {"statement": {"sid": "NoDelete"}, "decisive": true},
                    {"statement": {"index": 3}, "decisive": true}
                ]}]}]}
            }]
        });
        let e = explanation_of(&record);
        let id = |p: &str, s: &str| StatementId {
            policy: p.into(),
            statement: s.into(),
        };
        assert_eq!(e.decisive, [id("p", "NoDelete"), id("p", "3")]);
        assert_eq!(e.resources, ["arn:aws:dynamodb:eu-west-1:1:table/t"]);
        assert_eq!(e.text, "ExplicitDeny: ...");
        // A record of another shape explains nothing rather than something made up.
        let odd = serde_json::json!({"explanation": [{"trace": {"layers": "no"}}]});
        assert_eq!(explanation_of(&odd), CallExplanation::default());
    }
}
