//! Running scenario files against a stack: each step acts as a pod, calls one operation over
//! the wire, and is compared with what the file expects.

pub mod client;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use futures_util::StreamExt as _;
use irsa_core::World;
use irsa_core::clock::Clock;
use scenarios::{
    Action, Actor, Call, Change, Expect, ScenarioError, ScenarioFile, Step, TokenOverrides,
    WorldNames, WorldRef,
};

use crate::runner::client::{AwsError, Credentials, WireClient};
use crate::backend::dynamodb_local::{self, ProvisionOptions};
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
    /// The policy engine's explanation, from the call's audit record.
    pub explanation: Option<String>,
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
            if !result.passed {
                if let Outcome::Denied { message, .. } = &result.got {
                    let _ = writeln!(out, "    ↳ {message}");
                }
                if let Expect::Deny {
                    decisive: Some(want),
                    ..
                } = &result.expected
                {
                    let _ = writeln!(
                        out,
                        "    ↳ expected the decision to rest on statement `{}` of policy `{}`",
                        want.statement, want.policy
                    );
                }
                if let Some(explanation) = &result.explanation {
                    for line in explanation.lines() {
                        let _ = writeln!(out, "      {line}");
                    }
                }
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

/// A scenario file read and parsed (stage one), with its text kept for locating stage-two
/// problems.
#[derive(Debug)]
pub struct LoadedScenario {
    pub file: PathBuf,
    pub text: String,
    pub scenario: ScenarioFile,
}

/// Stage one for every file: the scenarios that parsed, and the problems of those that did not.
fn parse_files(files: &[PathBuf]) -> anyhow::Result<(Vec<LoadedScenario>, String)> {
    let mut loaded = Vec::new();
    let mut errors = String::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading `{}`", file.display()))?;
        match scenarios::parse(&text, &file.display().to_string()) {
            Ok(scenario) => loaded.push(LoadedScenario {
                file: file.clone(),
                text,
                scenario,
            }),
            Err(e) => errors.push_str(&e.to_string()),
        }
    }
    Ok((loaded, errors))
}

/// Both stages for every file; every problem of every file is reported at once.
pub fn load_and_resolve(files: &[PathBuf]) -> anyhow::Result<Vec<Group>> {
    let (loaded, mut errors) = parse_files(files)?;
    match resolve_all(loaded) {
        Ok(groups) if errors.is_empty() => Ok(groups.into_values().collect()),
        Ok(_) => Err(anyhow!("{errors}")),
        Err(more) => {
            errors.push_str(&more.to_string());
            Err(anyhow!("{errors}"))
        }
    }
}

/// Where a world comes from, as the key that groups scenarios onto one stack.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum WorldKey {
    File(PathBuf),
    /// An inline world: the scenario file it is written in.
    Inline(PathBuf),
}

/// Stage two: load each world and check every scenario against it; all problems of all files
/// are reported together, each with its file, line and path.
fn resolve_all(scenarios: Vec<LoadedScenario>) -> anyhow::Result<BTreeMap<WorldKey, Group>> {
    let mut groups: BTreeMap<WorldKey, Group> = BTreeMap::new();
    let mut errors = String::new();
    for loaded in scenarios {
        let base = loaded.file.parent().unwrap_or(Path::new("."));
        let (key, world) = match &loaded.scenario.world {
            WorldRef::File(path) => {
                let path = base.join(path);
                let key = WorldKey::File(path.clone());
                match groups.get(&key) {
                    Some(group) => (key, Ok((group.world.clone(), group.node.clone()))),
                    None => (
                        key,
                        crate::world_file::load(&path)
                            .map_err(|e| e.to_string())
                            .and_then(|l| {
                                let node = crate::stack::imds::load_node_role(&path, &l.world)
                                    .map_err(|e| e.to_string())?;
                                Ok((l.world, node))
                            }),
                    ),
                }
            }
            WorldRef::Inline(value) => (
                WorldKey::Inline(loaded.file.clone()),
                crate::world_file::parse(&value.to_string(), &loaded.file)
                    .map_err(|e| e.to_string())
                    .and_then(|world| {
                        let node = crate::stack::imds::parse_node_role(value, &world)
                            .map_err(|e| format!("{}: {e}", loaded.file.display()))?;
                        Ok((world, node))
                    }),
            ),
        };
        let (world, node) = match world {
            Ok(found) => found,
            Err(e) => {
                errors.push_str(&format!(
                    "{}: its world cannot be loaded:\n{e}",
                    loaded.file.display()
                ));
                continue;
            }
        };
        let problems = scenarios::resolve(&loaded.scenario, &world_names(&world, node.is_some()));
        if !problems.is_empty() {
            errors.push_str(
                &ScenarioError::located(&loaded.file.display().to_string(), &loaded.text, problems)
                    .to_string(),
            );
            continue;
        }
        groups
            .entry(key)
            .or_insert_with(|| Group {
                world,
                node,
                scenarios: Vec::new(),
            })
            .scenarios
            .push(loaded.scenario);
    }
    if errors.is_empty() {
        Ok(groups)
    } else {
        Err(anyhow!("{errors}"))
    }
}

/// Scenarios sharing one world, and so one stack.
#[derive(Debug)]
pub struct Group {
    pub world: World,
    /// The world's `node_role:`, served on instance metadata.
    pub node: Option<crate::stack::imds::NodeRole>,
    pub scenarios: Vec<ScenarioFile>,
}

fn world_names(world: &World, has_node_role: bool) -> WorldNames {
    WorldNames {
        service_accounts: world
            .service_accounts
            .iter()
            .map(|sa| format!("{}/{}", sa.namespace, sa.name))
            .collect(),
        users: world.users.keys().cloned().collect(),
        clusters: world.clusters.iter().map(|c| c.name.clone()).collect(),
        has_node_role,
    }
}

/// How many worlds' stacks run at once.
const PARALLEL_WORLDS: usize = 3;

pub async fn run(
    files: &[PathBuf],
    dynamodb: &ProvisionOptions,
    state_root: &Path,
) -> anyhow::Result<Report> {
    let groups = load_and_resolve(files)?;
    // One backend for the whole run, shared by each world's stack.
    let backend = dynamodb_local::provision(dynamodb)
        .await
        .context("starting a DynamoDB backend")?;
    let shared = ProvisionOptions {
        endpoint: Some(backend.endpoint().to_owned()),
        ..ProvisionOptions::default()
    };
    let tools = if groups
        .iter()
        .flat_map(|g| &g.scenarios)
        .flat_map(|s| &s.steps)
        .any(|step| matches!(step.action, Action::Exec { .. }))
    {
        Some(crate::backend::python::ensure_python_tools().await?)
    } else {
        None
    };
    // Worlds are independent (each has its own stack and sessions, and the scenarios use their
    // own items), so a few run at once; the report keeps the files' order.
    let total = groups.len();
    let tools = tools.as_ref();
    let shared = &shared;
    let jobs = groups.into_iter().enumerate().map(|(i, group)| async move {
        let Group {
            world,
            node,
            scenarios,
        } = group;
        let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
        if total > 1 {
            eprintln!("[{}/{total}] {}", i + 1, names.join(", "));
        }
        let stack = Stack::start(StackConfig {
            world,
            port: 0,
            state_dir: state_root.join(format!("world-{i}")),
            dynamodb: shared.clone(),
        })
        .await?;
        let imds = match node {
            Some(node) => Some(crate::stack::imds::ImdsServer::start(&stack, node).await?),
            None => None,
        };
        let actors = Actors {
            imds: imds.as_ref().map(|i| i.node_endpoint().to_owned()),
        };
        let mut report = Report::default();
        let result = run_on(&stack, &scenarios, &actors, tools, &mut report).await;
        drop(imds);
        stack.shutdown().await;
        result.map(|()| report)
    });
    let mut report = Report::default();
    let reports: Vec<anyhow::Result<Report>> = futures_util::stream::iter(jobs)
        .buffered(PARALLEL_WORLDS)
        .collect()
        .await;
    for part in reports {
        report.results.extend(part?.results);
    }
    backend.shutdown().await;
    Ok(report)
}

/// How actors other than service accounts get credentials on this stack.
#[derive(Debug, Clone, Default)]
pub struct Actors {
    /// The node view of the instance metadata service serving the world's `node_role`.
    pub imds: Option<String>,
}

/// Run scenarios against a started stack, appending to `report`.
pub async fn run_on(
    stack: &Stack,
    scenarios: &[ScenarioFile],
    actors: &Actors,
    tools: Option<&crate::backend::python::PythonTools>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let client = WireClient::new(stack.endpoint())?;
    let region = stack.world().region.clone();
    let mut sessions = Sessions::default();
    for scenario in scenarios {
        for step in &scenario.steps {
            for change in &step.before {
                apply(stack, change).await?;
            }
            let (got, request_id) = match &step.action {
                Action::Call { call, request } => {
                    run_call(
                        stack,
                        &client,
                        actors,
                        &region,
                        step,
                        call,
                        request,
                        &mut sessions,
                    )
                    .await?
                }
                Action::Exec { argv } => (run_exec(stack, step, argv, tools).await?, None),
            };
            // The audit trail is read only when a step needs it: to check a decisive statement,
            // or to explain a failure.
            let matched = matches_expectation(&step.expect, &got);
            let wants_decisive = matches!(
                &step.expect,
                Expect::Deny {
                    decisive: Some(_),
                    ..
                }
            );
            let explanation = if matched && !wants_decisive {
                None
            } else {
                request_id
                    .as_deref()
                    .and_then(|id| audit_explanation(stack, id))
            };
            let passed = matched && decisive_matches(&step.expect, explanation.as_ref());
            report.results.push(StepResult {
                scenario: scenario.name.clone(),
                step: step.name.clone(),
                principal: step.actor.to_string(),
                action: step.action.to_string(),
                resource: resource_of(stack, step),
                expected: step.expect.clone(),
                got,
                passed,
                explanation: explanation.map(|e| e.text),
            });
        }
    }
    Ok(())
}

async fn apply(stack: &Stack, change: &Change) -> anyhow::Result<()> {
    match change {
        Change::AdvanceClock { seconds } => {
            stack.clock().advance(*seconds);
            Ok(())
        }
        Change::RotateKey { cluster, keep_old } => {
            stack.rotate_key(cluster, *keep_old).await?;
            Ok(())
        }
        Change::IssuerReachable { cluster, reachable } => {
            stack.set_issuer_reachable(cluster, *reachable)
        }
    }
}

/// Credentials each actor got, reused by its later steps as an SDK would reuse them.
#[derive(Default)]
struct Sessions {
    by_actor: HashMap<(Actor, Option<TokenOverrides>), Result<Credentials, AwsError>>,
    /// The token each service account presented last.
    last_token: HashMap<(String, String), String>,
}

fn resource_of(stack: &Stack, step: &Step) -> String {
    let Action::Call { call, request } = &step.action else {
        return "-".into();
    };
    if call.service == "sts" {
        return match &step.actor {
            Actor::ServiceAccount { namespace, name } => request
                .get("RoleArn")
                .and_then(|r| r.as_str())
                .or_else(|| {
                    stack
                        .world()
                        .service_account(namespace, name)
                        .and_then(|sa| sa.role_arn())
                })
                .unwrap_or("-")
                .to_owned(),
            _ => "-".into(),
        };
    }
    if let Some(table) = request.get("TableName").and_then(|t| t.as_str()) {
        return match request.get("IndexName").and_then(|i| i.as_str()) {
            Some(index) => format!("{table}/index/{index}"),
            None => table.to_owned(),
        };
    }
    // Multi-table calls: every table they name.
    let mut tables: Vec<String> = Vec::new();
    if let Some(items) = request.get("RequestItems").and_then(|r| r.as_object()) {
        tables.extend(items.keys().cloned());
    }
    if let Some(items) = request.get("TransactItems").and_then(|r| r.as_array()) {
        for item in items {
            if let Some(table) = item
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(|v| v.get("TableName"))
                .and_then(|t| t.as_str())
            {
                tables.push(table.to_owned());
            }
        }
    }
    tables.dedup();
    if tables.is_empty() {
        "*".into()
    } else {
        tables.join(", ")
    }
}

pub fn matches_expectation(expect: &Expect, got: &Outcome) -> bool {
    match (expect, got) {
        (Expect::Allow, Outcome::Allowed) => true,
        (
            Expect::Deny {
                code,
                message_contains,
                message_matches,
                ..
            },
            Outcome::Denied { code: got, message },
        ) => {
            code == got
                && message_contains
                    .as_ref()
                    .is_none_or(|m| message.contains(m.as_str()))
                && message_matches.as_ref().is_none_or(|pattern| {
                    regex_lite::Regex::new(pattern).is_ok_and(|re| re.is_match(message))
                })
        }
        _ => false,
    }
}

/// What the audit trail says about one call: its explanation text and the statements the
/// decision rested on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditExplanation {
    pub text: String,
    /// `(policy, statement)` of every decisive statement; `statement` is the `Sid` or the
    /// 1-based position.
    pub decisive: Vec<(String, String)>,
}

fn audit_explanation(stack: &Stack, request_id: &str) -> Option<AuditExplanation> {
    let records = crate::stack::audit::read(stack.state_dir()).ok()?;
    let record = records
        .iter()
        .rev()
        .find(|r| r.get("requestID").and_then(|v| v.as_str()) == Some(request_id))?;
    Some(explanation_of(record))
}

/// The explanation carried by one audit record.
pub fn explanation_of(record: &serde_json::Value) -> AuditExplanation {
    let mut out = AuditExplanation::default();
    let Some(items) = record.get("explanation").and_then(|e| e.as_array()) else {
        return out;
    };
    for item in items {
        if let Some(text) = item.get("text").and_then(|t| t.as_str()) {
            if !out.text.is_empty() {
                out.text.push('\n');
            }
            out.text.push_str(text);
        }
        let layers = item
            .pointer("/trace/layers")
            .and_then(|l| l.as_array())
            .into_iter()
            .flatten();
        for layer in layers {
            let policies = layer
                .get("policies")
                .and_then(|p| p.as_array())
                .into_iter()
                .flatten();
            for policy in policies {
                let name = policy.get("name").and_then(|n| n.as_str()).unwrap_or("");
                let statements = policy
                    .get("statements")
                    .and_then(|s| s.as_array())
                    .into_iter()
                    .flatten();
                for statement in statements {
                    if statement.get("decisive").and_then(|d| d.as_bool()) != Some(true) {
                        continue;
                    }
                    let reference = statement.get("statement");
                    let id = reference
                        .and_then(|r| r.get("sid"))
                        .and_then(|s| s.as_str())
                        .map(str::to_owned)
                        .or_else(|| {
                            reference
                                .and_then(|r| r.get("index"))
                                .map(|i| i.to_string())
                        })
                        .unwrap_or_default();
                    out.decisive.push((name.to_owned(), id));
                }
            }
        }
    }
    out
}

fn decisive_matches(expect: &Expect, explanation: Option<&AuditExplanation>) -> bool {
    let Expect::Deny {
        decisive: Some(want),
        ..
    } = expect
    else {
        return true;
    };
    explanation.is_some_and(|e| {
        e.decisive
            .iter()
            .any(|(policy, statement)| *policy == want.policy && *statement == want.statement)
    })
}

/// The token a step's service account presents.
fn token_for(
    stack: &Stack,
    namespace: &str,
    name: &str,
    overrides: Option<&TokenOverrides>,
    last: Option<&String>,
) -> anyhow::Result<String> {
    let Some(overrides) = overrides else {
        return stack.mint_token(namespace, name);
    };
    if let Some(raw) = &overrides.raw {
        return Ok(raw.clone());
    }
    if overrides.reuse {
        return last.cloned().ok_or_else(|| {
            anyhow!("`token: {{reuse: true}}` needs an earlier step of `{namespace}/{name}` that presented a token")
        });
    }
    let mint = mock_oidc::TokenOverrides {
        audiences: (!overrides.audience.is_empty()).then(|| overrides.audience.clone()),
        expires_in: overrides.expires_in,
        not_before: overrides.not_before,
        issuer: overrides.issuer.clone(),
        kid: overrides.kid.clone(),
        sub: overrides.sub.clone(),
        signing_key: if overrides.foreign_key {
            mock_oidc::KeyChoice::Foreign
        } else {
            mock_oidc::KeyChoice::Active
        },
        unbound: false,
    };
    stack.mint_token_with(namespace, name, &mint)
}

async fn credentials_for(
    stack: &Stack,
    client: &WireClient,
    actors: &Actors,
    step: &Step,
    assume: Option<&serde_json::Value>,
    sessions: &mut Sessions,
) -> anyhow::Result<Option<Result<Credentials, AwsError>>> {
    let key = (step.actor.clone(), step.token.clone());
    if assume.is_none()
        && let Some(found) = sessions.by_actor.get(&key)
    {
        return Ok(Some(found.clone()));
    }
    let answer = match &step.actor {
        Actor::Anonymous => return Ok(None),
        Actor::User { name } => {
            let world = stack.world_store().snapshot();
            let user = world
                .users
                .get(name)
                .ok_or_else(|| anyhow!("`{name}` is not an IAM user of the world"))?;
            let key = user
                .access_keys
                .first()
                .ok_or_else(|| anyhow!("IAM user `{name}` has no access key"))?;
            Ok(Credentials {
                access_key_id: key.id.clone(),
                secret_access_key: key.secret.clone(),
                session_token: None,
                assumed_role_arn: user.arn.clone(),
            })
        }
        Actor::NodeRole => {
            let endpoint = actors.imds.as_deref().ok_or_else(|| {
                anyhow!("the world has no `node_role` served on instance metadata")
            })?;
            Ok(crate::runner::client::imds_credentials(endpoint).await?)
        }
        Actor::ServiceAccount { namespace, name } => {
            let sa = stack
                .world()
                .service_account(namespace, name)
                .ok_or_else(|| {
                    anyhow!("`{namespace}/{name}` is not a service account of the world")
                })?;
            let request = assume.and_then(|r| r.as_object());
            let param = |key: &str| {
                request.and_then(|r| r.get(key)).map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            };
            let Some(role) = param("RoleArn").or_else(|| sa.role_arn().map(str::to_owned)) else {
                return Err(anyhow!(
                    "service account `{namespace}/{name}` has no `eks.amazonaws.com/role-arn` annotation and the step names no `RoleArn`"
                ));
            };
            let token = match param("WebIdentityToken") {
                Some(token) => token,
                None => token_for(
                    stack,
                    namespace,
                    name,
                    step.token.as_ref(),
                    sessions.last_token.get(&(namespace.clone(), name.clone())),
                )?,
            };
            sessions
                .last_token
                .insert((namespace.clone(), name.clone()), token.clone());
            let session_name =
                param("RoleSessionName").unwrap_or_else(|| format!("irsa-{namespace}-{name}"));
            let mut form: Vec<(String, String)> = vec![
                ("RoleArn".into(), role),
                ("RoleSessionName".into(), session_name),
                ("WebIdentityToken".into(), token),
            ];
            if let Some(request) = request {
                for (k, v) in request {
                    if matches!(
                        k.as_str(),
                        "RoleArn" | "RoleSessionName" | "WebIdentityToken"
                    ) {
                        continue;
                    }
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    form.push((k.clone(), v));
                }
            }
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            client.assume_role_with_web_identity_form(&form).await?
        }
    };
    sessions.by_actor.insert(key, answer.clone());
    Ok(Some(answer))
}

#[allow(clippy::too_many_arguments)]
async fn run_call(
    stack: &Stack,
    client: &WireClient,
    actors: &Actors,
    region: &str,
    step: &Step,
    call: &Call,
    request: &serde_json::Value,
    sessions: &mut Sessions,
) -> anyhow::Result<(Outcome, Option<String>)> {
    let assume =
        (call.service == "sts" && call.operation == "AssumeRoleWithWebIdentity").then_some(request);
    let credentials = match credentials_for(stack, client, actors, step, assume, sessions).await? {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            return Ok((
                Outcome::Denied {
                    code: e.code,
                    message: e.message,
                },
                e.request_id,
            ));
        }
        None => None,
    };
    if assume.is_some() {
        return Ok((Outcome::Allowed, None));
    }
    let now = time::OffsetDateTime::from_unix_timestamp(stack.clock().now())?;
    let answer = match (call.service.as_str(), call.operation.as_str()) {
        ("sts", action) => client
            .sts_signed(credentials.as_ref(), region, action, now)
            .await?
            .map(|_| ()),
        ("dynamodb", operation) => client
            .dynamodb(credentials.as_ref(), region, operation, request, now)
            .await?
            .map(|_| ()),
        (service, _) => return Err(anyhow!("unsupported service `{service}`")),
    };
    Ok(match answer {
        Ok(()) => (Outcome::Allowed, None),
        Err(e) => (
            Outcome::Denied {
                code: e.code,
                message: e.message,
            },
            e.request_id,
        ),
    })
}

/// Run a command as the actor's pod would: the webhook's environment, nothing inherited from
/// the caller's AWS setup. Exit status 0 is `allow`; otherwise the AWS CLI's
/// `An error occurred (CODE) when calling …` names the error code.
async fn run_exec(
    stack: &Stack,
    step: &Step,
    argv: &[String],
    tools: Option<&crate::backend::python::PythonTools>,
) -> anyhow::Result<Outcome> {
    let Actor::ServiceAccount { namespace, name } = &step.actor else {
        return Err(anyhow!("`exec` runs as a service account's pod"));
    };
    let env = stack.pod_env(namespace, name)?;
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| anyhow!("`exec` needs a command"))?;
    let mut path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(tools) = tools
        && let Some(bin) = tools.aws.parent()
    {
        let mut dirs = vec![bin.to_owned()];
        dirs.extend(std::env::split_paths(&path));
        path = std::env::join_paths(dirs)?;
    }
    let home = stack.state_dir().join("exec-home");
    std::fs::create_dir_all(&home)?;
    let output = tokio::process::Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", &home)
        .envs(env)
        .output()
        .await
        .with_context(|| format!("running `{program}`"))?;
    if output.status.success() {
        return Ok(Outcome::Allowed);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = stderr
        .split("An error occurred (")
        .nth(1)
        .and_then(|rest| rest.split_once(')'))
        .map(|(code, _)| code.to_owned())
        .unwrap_or_else(|| format!("exit {}", output.status.code().unwrap_or(-1)));
    let message = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_owned();
    Ok(Outcome::Denied { code, message })
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
            explanation: None,
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
    fn every_bundled_scenario_passes_both_stages() {
        let files = collect_files(&[PathBuf::from("../scenarios/catalog")]).unwrap();
        let groups = load_and_resolve(&files).unwrap_or_else(|e| panic!("{e}"));
        let scenarios: usize = groups.iter().map(|g| g.scenarios.len()).sum();
        assert_eq!(scenarios, files.len());
        assert!(scenarios >= 30, "issue 6 asks for at least 30: {scenarios}");
    }

    #[test]
    fn decisive_statements_are_read_from_the_audit_record() {
        let record = serde_json::json!({
            "requestID": "r1",
            "explanation": [{
                "text": "ExplicitDeny: ...",
                "trace": {"layers": [{"policies": [{"name": "p", "statements": [
                    {"statement": {"sid": "Allow1"}, "decisive": false},
                    {"statement": {"sid": "NoDelete"}, "decisive": true},
                    {"statement": {"index": 3}, "decisive": true}
                ]}]}]}
            }]
        });
        let e = explanation_of(&record);
        assert_eq!(
            e.decisive,
            [
                ("p".to_owned(), "NoDelete".to_owned()),
                ("p".to_owned(), "3".to_owned())
            ]
        );
        let want = |statement: &str| Expect::Deny {
            code: "AccessDeniedException".into(),
            message_contains: None,
            message_matches: None,
            decisive: Some(scenarios::Decisive {
                policy: "p".into(),
                statement: statement.into(),
            }),
        };
        assert!(decisive_matches(&want("NoDelete"), Some(&e)));
        assert!(decisive_matches(&want("3"), Some(&e)));
        assert!(!decisive_matches(&want("Allow1"), Some(&e)));
        assert!(!decisive_matches(&want("NoDelete"), None));
    }

    #[test]
    fn message_patterns_are_regular_expressions() {
        let got = Outcome::Denied {
            code: "InvalidIdentityToken".into(),
            message: "Incorrect token audience".into(),
        };
        let expect = |pattern: &str| Expect::Deny {
            code: "InvalidIdentityToken".into(),
            message_contains: None,
            message_matches: Some(pattern.into()),
            decisive: None,
        };
        assert!(matches_expectation(
            &expect("^Incorrect token audience$"),
            &got
        ));
        assert!(!matches_expectation(&expect("^Incorrect$"), &got));
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
