//! Stage three of a run: each world's stack started (a few at once, on one shared DynamoDB
//! backend), each step's changes applied, its call made over the wire as its actor, and the
//! answer compared with what the file expects.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use futures_util::StreamExt as _;
use irsa_core::clock::Clock;
use scenarios::{Action, Actor, Call, Change, Expect, ScenarioFile, Step, StsOperation, Transport};

use crate::backend::dynamodb_local::{self, ProvisionOptions};
use crate::runner::client::WireClient;
use crate::runner::credentials::{Sessions, credentials_for};
use crate::runner::load::{Group, load_and_resolve};
use crate::runner::report::{Outcome, Report, StepResult};
use crate::stack::audit::{CallExplanation, StatementId};
use crate::stack::{Stack, StackConfig};

/// How many worlds' stacks run at once.
const PARALLEL_WORLDS: usize = 3;

/// Load every file (stages one and two), then run each world's scenarios on its own stack.
/// With `explain_every_step`, every step carries its explanation and decisive statements, not
/// only the failed ones.
pub async fn run(
    files: &[PathBuf],
    dynamodb: &ProvisionOptions,
    state_root: &Path,
    explain_every_step: bool,
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
            node_role: node,
        })
        .await?;
        let actors = Actors {
            imds: stack.imds().map(|i| i.node_endpoint().to_owned()),
        };
        let mut report = Report::default();
        let result = run_on(
            &stack,
            &scenarios,
            &actors,
            tools,
            explain_every_step,
            &mut report,
        )
        .await;
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
    explain_every_step: bool,
    report: &mut Report,
) -> anyhow::Result<()> {
    let plain = WireClient::new(stack.endpoint(), None)?;
    let tls = WireClient::new(
        &stack.https_endpoint(),
        Some(stack.local_ca().certificate_der()),
    )?;
    let region = stack.world().region.clone();
    let mut sessions = Sessions::default();
    for scenario in scenarios {
        for step in &scenario.steps {
            for change in &step.before {
                apply(stack, change).await?;
            }
            let (got, request_id) = match &step.action {
                Action::Call { call, request } => {
                    let client = match step.transport {
                        Transport::Http => &plain,
                        Transport::Https => &tls,
                    };
                    run_call(
                        stack,
                        client,
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
            // to explain a failure, or when every step is to be explained (`--verbose`).
            let matched = matches_expectation(&step.expect, &got);
            let wants_decisive = matches!(
                &step.expect,
                Expect::Deny {
                    decisive: Some(_),
                    ..
                }
            );
            let explanation = if matched && !wants_decisive && !explain_every_step {
                None
            } else {
                request_id
                    .as_deref()
                    .and_then(|id| audit_explanation(stack, id))
            };
            let (explanation, decisive) = match explanation {
                Some(e) => (Some(e.text), e.decisive),
                None => (None, Vec::new()),
            };
            let passed = matched && decisive_matches(&step.expect, &decisive);
            report.results.push(StepResult {
                scenario: scenario.name.clone(),
                step: step.name.clone(),
                principal: step.actor.to_string(),
                action: step.action.to_string(),
                resource: resource_of(stack, step),
                expected: step.expect.clone(),
                got,
                passed,
                explanation,
                decisive,
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

fn resource_of(stack: &Stack, step: &Step) -> String {
    let Action::Call { call, request } = &step.action else {
        return "-".into();
    };
    if let Call::Sts(_) = call {
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

/// Whether the decision rested on the statement the step names (always, when it names none).
fn decisive_matches(expect: &Expect, decisive: &[StatementId]) -> bool {
    let Expect::Deny {
        decisive: Some(want),
        ..
    } = expect
    else {
        return true;
    };
    decisive
        .iter()
        .any(|id| id.policy == want.policy && id.statement == want.statement)
}

fn audit_explanation(stack: &Stack, request_id: &str) -> Option<CallExplanation> {
    let records = crate::stack::audit::read(stack.state_dir()).ok()?;
    crate::stack::audit::find(&records, request_id).map(crate::stack::audit::explanation_of)
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
    let assume = (*call == Call::Sts(StsOperation::AssumeRoleWithWebIdentity)).then_some(request);
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
    let answer = match call {
        Call::Sts(action) => client
            .sts_signed(credentials.as_ref(), region, action.name(), now)
            .await?
            .map(|_| ()),
        Call::DynamoDb(operation) => client
            .dynamodb(credentials.as_ref(), region, operation.name(), request, now)
            .await?
            .map(|_| ()),
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

    #[test]
    fn a_decisive_expectation_needs_that_statement() {
        let id = |p: &str, s: &str| StatementId {
            policy: p.into(),
            statement: s.into(),
        };
        let found = [id("p", "NoDelete"), id("p", "3")];
        let want = |statement: &str| Expect::Deny {
            code: "AccessDeniedException".into(),
            message_contains: None,
            message_matches: None,
            decisive: Some(scenarios::Decisive {
                policy: "p".into(),
                statement: statement.into(),
            }),
        };
        assert!(decisive_matches(&want("NoDelete"), &found));
        assert!(decisive_matches(&want("3"), &found));
        assert!(!decisive_matches(&want("Allow1"), &found));
        assert!(!decisive_matches(&want("NoDelete"), &[]));
        assert!(decisive_matches(&Expect::Allow, &[]));
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
}
