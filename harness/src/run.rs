//! Running scenario files against a stack: each step acts as a pod, calls one operation over
//! the wire, and is compared with what the file expects.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use irsa_core::clock::Clock;
use scenarios::{Actor, Expect, ScenarioFile, Step};

use crate::client::{AwsError, Credentials, WireClient};
use crate::dynamodb_local::{self, ProvisionOptions};
use crate::stack::{Stack, StackConfig};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied { code: String, message: String },
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Allowed => f.write_str("allow"),
            Outcome::Denied { code, .. } => write!(f, "deny {code}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct StepResult {
    pub scenario: String,
    pub step: String,
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub expected: Expect,
    pub got: Outcome,
    pub passed: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub results: Vec<StepResult>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.passed)
    }

    pub fn failures(&self) -> usize {
        self.results.iter().filter(|r| !r.passed).count()
    }

    /// The allow/deny table, with the message under each failed row.
    pub fn render_table(&self) -> String {
        let headers = [
            "scenario",
            "step",
            "principal",
            "action",
            "resource",
            "expected",
            "got",
            "",
        ];
        let rows: Vec<[String; 8]> = self
            .results
            .iter()
            .map(|r| {
                [
                    r.scenario.clone(),
                    r.step.clone(),
                    r.principal.clone(),
                    r.action.clone(),
                    r.resource.clone(),
                    r.expected.to_string(),
                    r.got.to_string(),
                    if r.passed { "✓".into() } else { "✗".into() },
                ]
            })
            .collect();
        let mut widths = headers.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| -> String {
            let mut out = String::new();
            for (cell, w) in cells.iter().zip(widths.iter()) {
                let pad = w.saturating_sub(cell.chars().count());
                let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
            }
            out.trim_end().to_owned() + "\n"
        };
        let mut out = line(&headers.map(str::to_owned));
        out.push_str(&line(&widths.map(|w| "-".repeat(w))));
        for (row, result) in rows.iter().zip(&self.results) {
            out.push_str(&line(row));
            if !result.passed
                && let Outcome::Denied { message, .. } = &result.got
            {
                let _ = writeln!(out, "    ↳ {message}");
            }
        }
        let total = self.results.len();
        let failed = self.failures();
        let _ = writeln!(out, "\n{} passed, {failed} failed", total - failed);
        out
    }
}

impl Report {
    /// JUnit XML: one test suite per scenario, one test case per step; a failed expectation is
    /// a `<failure>` whose text is what the call answered.
    pub fn render_junit(&self) -> String {
        let mut suites: Vec<(&str, Vec<&StepResult>)> = Vec::new();
        for r in &self.results {
            match suites.iter_mut().find(|(name, _)| *name == r.scenario) {
                Some((_, steps)) => steps.push(r),
                None => suites.push((&r.scenario, vec![r])),
            }
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"irsa run\" tests=\"{}\" failures=\"{}\">",
            self.results.len(),
            self.failures()
        );
        for (name, steps) in suites {
            let failures = steps.iter().filter(|r| !r.passed).count();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
                xml_attr(name),
                steps.len()
            );
            for r in steps {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{}\"",
                    xml_attr(&r.scenario),
                    xml_attr(&format!(
                        "{} ({} {} on {})",
                        r.step, r.principal, r.action, r.resource
                    ))
                );
                if r.passed {
                    out.push_str("/>\n");
                } else {
                    let detail = match &r.got {
                        Outcome::Allowed => "the call was allowed".to_owned(),
                        Outcome::Denied { code, message } => format!("{code}: {message}"),
                    };
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"expected {}, got {}\">{}</failure>\n    </testcase>",
                        xml_attr(&r.expected.to_string()),
                        xml_attr(&r.got.to_string()),
                        xml_attr(&detail)
                    );
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// The results as JSON, one object per step.
    pub fn render_json(&self) -> serde_json::Value {
        let steps: Vec<serde_json::Value> = self
            .results
            .iter()
            .map(|r| {
                let (code, message) = match &r.got {
                    Outcome::Allowed => (None, None),
                    Outcome::Denied { code, message } => {
                        (Some(code.as_str()), Some(message.as_str()))
                    }
                };
                serde_json::json!({
                    "scenario": r.scenario,
                    "step": r.step,
                    "principal": r.principal,
                    "action": r.action,
                    "resource": r.resource,
                    "expected": r.expected.to_string(),
                    "got": r.got.to_string(),
                    "error_code": code,
                    "error_message": message,
                    "passed": r.passed,
                })
            })
            .collect();
        serde_json::json!({
            "passed": self.results.len() - self.failures(),
            "failed": self.failures(),
            "steps": steps,
        })
    }
}

fn xml_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Scenario files named by `paths`: files as given, folders searched for `*.yaml` (sorted).
pub fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("reading `{}`", path.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(anyhow!(
                "`{}` is neither a scenario file nor a folder",
                path.display()
            ));
        }
    }
    Ok(files)
}

/// Parse every file; all problems of all files are reported together.
pub fn load_scenarios(files: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, ScenarioFile)>> {
    let mut loaded = Vec::new();
    let mut errors = String::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading `{}`", file.display()))?;
        match scenarios::parse(&text, &file.display().to_string()) {
            Ok(s) => loaded.push((file.clone(), s)),
            Err(e) => errors.push_str(&e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(anyhow!("{errors}"))
    }
}

pub async fn run(
    files: &[PathBuf],
    dynamodb: &ProvisionOptions,
    state_root: &Path,
) -> anyhow::Result<Report> {
    let scenarios = load_scenarios(files)?;
    let mut by_world: BTreeMap<PathBuf, Vec<ScenarioFile>> = BTreeMap::new();
    for (file, scenario) in scenarios {
        let base = file.parent().unwrap_or(Path::new("."));
        by_world
            .entry(base.join(&scenario.world))
            .or_default()
            .push(scenario);
    }
    // One backend for the whole run, shared by each world's stack.
    let backend = dynamodb_local::provision(dynamodb)
        .await
        .context("starting a DynamoDB backend")?;
    let shared = ProvisionOptions {
        endpoint: Some(backend.endpoint().to_owned()),
        ..ProvisionOptions::default()
    };
    let mut report = Report::default();
    for (i, (world_path, scenarios)) in by_world.iter().enumerate() {
        let loaded = crate::world_file::load(world_path).map_err(|e| anyhow!("{e}"))?;
        let stack = Stack::start(StackConfig {
            world: loaded.world,
            port: 0,
            state_dir: state_root.join(format!("world-{i}")),
            dynamodb: shared.clone(),
        })
        .await?;
        let result = run_on(&stack, scenarios, &mut report).await;
        stack.shutdown().await;
        result?;
    }
    backend.shutdown().await;
    Ok(report)
}

/// Run scenarios against a started stack, appending to `report`.
pub async fn run_on(
    stack: &Stack,
    scenarios: &[ScenarioFile],
    report: &mut Report,
) -> anyhow::Result<()> {
    let client = WireClient::new(stack.endpoint())?;
    let region = stack.world().region.clone();
    let mut sessions: HashMap<Actor, Result<Credentials, AwsError>> = HashMap::new();
    for scenario in scenarios {
        for step in &scenario.steps {
            let got = run_step(stack, &client, &region, step, &mut sessions).await?;
            let passed = matches_expectation(&step.expect, &got);
            report.results.push(StepResult {
                scenario: scenario.name.clone(),
                step: step.name.clone(),
                principal: step.actor.to_string(),
                action: step.call.to_string(),
                resource: resource_of(stack, step),
                expected: step.expect.clone(),
                got,
                passed,
            });
        }
    }
    Ok(())
}

fn resource_of(stack: &Stack, step: &Step) -> String {
    if step.call.service == "sts" {
        let Actor::ServiceAccount { namespace, name } = &step.actor;
        return stack
            .world()
            .service_account(namespace, name)
            .and_then(|sa| sa.role_arn())
            .unwrap_or("-")
            .to_owned();
    }
    step.request
        .get("TableName")
        .and_then(|t| t.as_str())
        .unwrap_or("*")
        .to_owned()
}

pub fn matches_expectation(expect: &Expect, got: &Outcome) -> bool {
    match (expect, got) {
        (Expect::Allow, Outcome::Allowed) => true,
        (
            Expect::Deny {
                code,
                message_contains,
            },
            Outcome::Denied { code: got, message },
        ) => {
            code == got
                && message_contains
                    .as_ref()
                    .is_none_or(|m| message.contains(m.as_str()))
        }
        _ => false,
    }
}

async fn credentials_for(
    stack: &Stack,
    client: &WireClient,
    actor: &Actor,
    sessions: &mut HashMap<Actor, Result<Credentials, AwsError>>,
) -> anyhow::Result<Result<Credentials, AwsError>> {
    if let Some(found) = sessions.get(actor) {
        return Ok(found.clone());
    }
    let Actor::ServiceAccount { namespace, name } = actor;
    let sa = stack
        .world()
        .service_account(namespace, name)
        .ok_or_else(|| {
            anyhow!("scenario acts as `{actor}`, which is not a service account of the world")
        })?;
    let role = sa
        .role_arn()
        .ok_or_else(|| {
            anyhow!("service account `{actor}` has no `eks.amazonaws.com/role-arn` annotation")
        })?
        .to_owned();
    let token = stack.mint_token(namespace, name)?;
    let session_name = format!("irsa-{}-{}", namespace, name);
    let answer = client
        .assume_role_with_web_identity(&role, &session_name, &token)
        .await?;
    sessions.insert(actor.clone(), answer.clone());
    Ok(answer)
}

async fn run_step(
    stack: &Stack,
    client: &WireClient,
    region: &str,
    step: &Step,
    sessions: &mut HashMap<Actor, Result<Credentials, AwsError>>,
) -> anyhow::Result<Outcome> {
    let credentials = match credentials_for(stack, client, &step.actor, sessions).await? {
        Ok(c) => c,
        Err(e) => {
            return Ok(Outcome::Denied {
                code: e.code,
                message: e.message,
            });
        }
    };
    let now = time::OffsetDateTime::from_unix_timestamp(stack.clock().now())?;
    let answer = match (step.call.service.as_str(), step.call.operation.as_str()) {
        ("sts", "AssumeRoleWithWebIdentity") => Ok(()),
        ("sts", action) => client
            .sts_signed(&credentials, region, action, now)
            .await?
            .map(|_| ()),
        ("dynamodb", operation) => client
            .dynamodb(&credentials, region, operation, &step.request, now)
            .await?
            .map(|_| ()),
        (service, _) => return Err(anyhow!("unsupported service `{service}`")),
    };
    Ok(match answer {
        Ok(()) => Outcome::Allowed,
        Err(e) => Outcome::Denied {
            code: e.code,
            message: e.message,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let step = |name: &str, expected: Expect, got: Outcome| StepResult {
            scenario: "curity <spine>".into(),
            step: name.into(),
            principal: "curity/dynamo-sa".into(),
            action: "dynamodb:GetItem".into(),
            resource: "other-table".into(),
            passed: matches_expectation(&expected, &got),
            expected,
            got,
        };
        Report {
            results: vec![
                step("read", Expect::Allow, Outcome::Allowed),
                step(
                    "read \"other\"",
                    Expect::Allow,
                    Outcome::Denied {
                        code: "AccessDeniedException".into(),
                        message: "User: a & b".into(),
                    },
                ),
            ],
        }
    }

    #[test]
    fn junit_has_one_case_per_step_and_a_failure_with_the_answer() {
        let xml = report().render_junit();
        assert!(
            xml.contains("<testsuites name=\"irsa run\" tests=\"2\" failures=\"1\">"),
            "{xml}"
        );
        assert!(
            xml.contains("<testsuite name=\"curity &lt;spine&gt;\" tests=\"2\" failures=\"1\">"),
            "{xml}"
        );
        assert_eq!(xml.matches("<testcase ").count(), 2);
        assert!(
            xml.contains(
                "name=\"read &quot;other&quot; (curity/dynamo-sa dynamodb:GetItem on other-table)\""
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"expected allow, got deny AccessDeniedException\">AccessDeniedException: User: a &amp; b</failure>"),
            "{xml}"
        );
    }

    #[test]
    fn json_counts_and_carries_the_error() {
        let json = report().render_json();
        assert_eq!(json["passed"], 1);
        assert_eq!(json["failed"], 1);
        assert_eq!(json["steps"][1]["error_code"], "AccessDeniedException");
        assert_eq!(json["steps"][0]["error_code"], serde_json::Value::Null);
        assert_eq!(json["steps"][1]["passed"], false);
    }
}
