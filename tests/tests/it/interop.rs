//! Issues 7 and 13: every SDK our users run, unmodified and configured by nothing but the
//! environment `irsa exec` gives a pod, runs the same IRSA script against the harness:
//! web-identity credentials through the SDK's default chain, `GetCallerIdentity`,
//! `PutItem`/`GetItem`/`Query` on `curity-accounts` and a `Query` on its index, a `DeleteTable`
//! the policy refuses, and an STS refusal for a service account the trust policy does not name.
//! SDKs that read `AWS_ENDPOINT_URL*` use the plain edge; those that predate it (Java SDK v2
//! 2.21.42, Go SDK v2 of September 2023, boto3 1.26) go to the real AWS host names, through the
//! harness's HTTPS proxy, and are also run with the pod's variables alone to show where they
//! would go. Each SDK then runs the environment probes (`irsa_tests::interop::PROBES`): which
//! proxy and CA settings it honours, measured and checked against the matrix.
//!
//! The SDKs are the matrix `irsa_tests::interop::SDKS` (how each is built, how its clock is
//! moved, what it is expected to do, the notes the doc prints). The client programs live in
//! `tests/interop/` (Java SDK v2 in three versions, Go SDK v2, JavaScript SDK v3, boto3) and
//! print one JSON line per step; the AWS CLI v1 is driven one command per step, and the Rust
//! SDK runs in-process. This file judges what each saw, counts
//! each one's `AssumeRoleWithWebIdentity` calls in its own stack's audit trail, and renders
//! `docs/sdk-compatibility.md` from the results (`IRSA_BLESS=1` rewrites it; otherwise a
//! difference fails). A toolchain that is missing fails the suite: no SDK is skipped.
//!
//! Then, per SDK, refresh rounds: one long-lived client making one call per round while the
//! harness clock, and the SDK's own clock with it (libfaketime, Go's clock hook, Rust's
//! `TimeSource`; `tests/interop/README.md`), moves towards and past its credentials'
//! `Expiration`; the ARWWI calls of each round are counted. Java (2.21.42 too, through the
//! proxy) also runs the Curity workload, with its allowed calls and the policy's refusals.
//!
//! Every program has a network guard (`tests/interop/README.md`): nothing it does can connect
//! anywhere but this machine.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
use base64::Engine as _;
use irsa_core::clock::Clock as _;
use irsa_harness::stack::Stack;
use irsa_tests::interop::{self, Boto3Install, Build, ClockControl, Probe, ProbeGroup, SDKS, Sdk};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

/// The suite's world, relative to `scenarios/worlds` (what `start_stack` takes).
const WORLD: &str = "../../tests/interop/world.yaml";
/// The trusted pod and the one the trust policy does not name.
const TRUSTED: (&str, &str) = ("curity", "dynamo-sa");
const UNTRUSTED: (&str, &str) = ("default", "dynamo-sa");
const ACCOUNT_ROLE_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/curity-dynamodb/";
/// No client program may take longer than this for one mode.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(240);

/// How a client is run.
#[derive(Debug, Clone)]
enum Runner {
    /// A program that takes `MODE ID` and prints JSON lines; `env` is the suite's own (where a
    /// program's network guard is: `PYTHONPATH`), added to the pod's.
    Program {
        program: PathBuf,
        args: Vec<String>,
        env: Vec<(String, String)>,
    },
    /// The AWS CLI v1, one command per step, with the Python network guard in `env`.
    AwsCli {
        aws: PathBuf,
        env: Vec<(String, String)>,
    },
    /// The Rust SDK, in this process (the probes: `rust_sdk_probe`, a process of its own).
    Rust,
}

/// `PYTHONPATH` for a Python client: the network guard (`sitecustomize.py`), then `site`; and
/// no bytecode written next to the guard's source.
fn python_path(site: Option<&Path>) -> Vec<(String, String)> {
    let mut path = interop::python_guard_dir().display().to_string();
    if let Some(site) = site {
        path = format!("{path}:{}", site.display());
    }
    vec![
        ("PYTHONPATH".to_owned(), path),
        ("PYTHONDONTWRITEBYTECODE".to_owned(), "1".to_owned()),
    ]
}

/// An SDK of the matrix, installed.
#[derive(Debug, Clone)]
struct Client {
    sdk: &'static Sdk,
    /// [`Sdk::label`]: names the SDK in every failure.
    label: String,
    runner: Runner,
}

/// What one client run printed.
#[derive(Debug, Default)]
struct Run {
    steps: Vec<Value>,
    requests: Vec<Value>,
    stdout: String,
    stderr: String,
    status: String,
}

impl Run {
    fn step(&self, name: &str) -> Option<&Value> {
        self.steps.iter().find(|s| s["step"] == name)
    }

    fn version(&self) -> String {
        self.steps
            .first()
            .and_then(|s| s["version"].as_str())
            .unwrap_or("?")
            .to_owned()
    }

    fn context(&self) -> String {
        format!(
            "exit: {}\nstdout:\n{}\nstderr (end):\n{}",
            self.status,
            self.stdout,
            irsa_harness::backend::dynamodb_local::jar::tail(&self.stderr, 20)
        )
    }
}

/// One client's results against its own stack.
#[derive(Debug)]
struct Outcome {
    client: Client,
    /// The script, the refusal and the Curity workload ran with the environment `irsa exec`
    /// gives a pod: its variables and the proxy and CA ones.
    script: Run,
    refusal: Run,
    arwwi_script: usize,
    arwwi_refusal: usize,
    /// Java only: the Curity workload (`CurityWorkload.java`).
    curity: Option<Run>,
    /// Java with endpoint settings only: the script with the endpoints given as JVM system
    /// properties instead of `AWS_ENDPOINT_URL*` (the pod's variables without those, and
    /// without the proxy and CA variables).
    sysprops: Option<Run>,
    /// SDKs that read no endpoint setting: the script with the pod's variables alone (no proxy
    /// or CA variable), and the ARWWI calls that reached the harness then (none may).
    unproxied: Option<(Run, usize)>,
    /// Each of the SDK's [`interop::PROBES`], run on this stack.
    probes: Vec<(&'static Probe, Run)>,
}

/// Where a request is addressed that is not this machine's: `host:port`.
fn is_outside(host_port: &str) -> bool {
    let host = host_port
        .rsplit_once(':')
        .map_or(host_port, |(host, _)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    !matches!(host, "127.0.0.1" | "localhost" | "::1" | "")
}

/// The hosts outside this machine the runs' requests were addressed to: through a proxy on
/// this machine, or stopped by the program's network guard.
fn outside_hosts<'a>(runs: impl IntoIterator<Item = &'a Run>) -> BTreeSet<String> {
    runs.into_iter()
        .flat_map(|run| &run.requests)
        .filter_map(|r| r["host"].as_str())
        .filter(|h| is_outside(h))
        .map(str::to_owned)
        .collect()
}

/// Builds (once) or finds the client of `sdk`.
async fn install(sdk: &'static Sdk) -> anyhow::Result<Runner> {
    use tokio::task::spawn_blocking;
    let boto3 = interop::interop_dir().join("python/interop_boto3.py");
    Ok(match sdk.build {
        Build::Java { version } => {
            let c = spawn_blocking(move || interop::ensure_java_client(version)).await??;
            // The network guard: host names resolve from a loopback-only hosts file.
            Runner::Program {
                program: c.java,
                args: vec![
                    format!("-Djdk.net.hosts.file={}", c.loopback_hosts.display()),
                    "-cp".into(),
                    c.classpath,
                    "Interop".into(),
                ],
                env: vec![],
            }
        }
        Build::Go { modules } => Runner::Program {
            program: spawn_blocking(move || interop::ensure_go_client(modules)).await??,
            args: vec![],
            env: vec![],
        },
        Build::JavaScript => {
            let c = spawn_blocking(interop::ensure_js_client).await??;
            Runner::Program {
                program: c.node,
                args: vec![c.script.display().to_string()],
                env: vec![],
            }
        }
        Build::Boto3 {
            install: Boto3Install::HarnessVenv,
        } => Runner::Program {
            program: irsa_harness::backend::python::ensure_python_tools()
                .await?
                .python,
            args: vec![boto3.display().to_string()],
            env: python_path(None),
        },
        Build::Boto3 {
            install: Boto3Install::Boto3_1_26,
        } => {
            let installed = spawn_blocking(interop::ensure_boto3_1_26).await??;
            Runner::Program {
                program: installed.python,
                args: vec![boto3.display().to_string()],
                env: python_path(Some(&installed.site)),
            }
        }
        Build::AwsCli => Runner::AwsCli {
            aws: irsa_harness::backend::python::ensure_python_tools()
                .await?
                .aws,
            env: python_path(None),
        },
        Build::Rust => Runner::Rust,
    })
}

/// Every SDK of the matrix, installed concurrently, in the matrix's order; and the SDKs that
/// could not be installed, with the reason.
async fn install_clients() -> (Vec<Client>, Vec<String>) {
    let mut tasks = tokio::task::JoinSet::new();
    for (order, sdk) in SDKS.iter().enumerate() {
        tasks.spawn(async move { (order, sdk, install(sdk).await) });
    }
    let mut installed = Vec::new();
    while let Some(done) = tasks.join_next().await {
        installed.push(done.expect("an install task panicked"));
    }
    installed.sort_by_key(|(order, ..)| *order);
    let mut clients = Vec::new();
    let mut missing = Vec::new();
    for (_, sdk, runner) in installed {
        match runner {
            Ok(runner) => clients.push(Client {
                sdk,
                label: sdk.label(),
                runner,
            }),
            Err(e) => missing.push(format!("{}: {e:#}", sdk.label())),
        }
    }
    (clients, missing)
}

/// The pod's environment, plus only what any process needs: `PATH` to find its interpreter's
/// helpers and an empty `HOME` (no `~/.aws`; the CLI's disk cache starts empty); and the
/// suite's own variables of the runner (the Python network guard's `PYTHONPATH`).
fn child_env(
    pod: &[(String, String)],
    home: &Path,
    suite: &[(String, String)],
) -> Vec<(String, String)> {
    let mut env = pod.to_vec();
    env.push(("PATH".into(), std::env::var("PATH").unwrap_or_default()));
    env.push(("HOME".into(), home.display().to_string()));
    env.extend(suite.iter().cloned());
    env
}

async fn run_program(
    program: &Path,
    args: &[String],
    mode: &str,
    id: &str,
    env: &[(String, String)],
) -> Run {
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .args([mode, id])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = match command.spawn() {
        Ok(child) => tokio::time::timeout(CLIENT_TIMEOUT, child.wait_with_output()).await,
        Err(e) => {
            return Run {
                status: format!("could not start `{}`: {e}", program.display()),
                ..Run::default()
            };
        }
    };
    match output {
        Ok(Ok(output)) => parse_run(
            &String::from_utf8_lossy(&output.stdout),
            &String::from_utf8_lossy(&output.stderr),
            output.status.to_string(),
        ),
        Ok(Err(e)) => Run {
            status: format!("waiting failed: {e}"),
            ..Run::default()
        },
        Err(_) => Run {
            status: format!("timed out after {CLIENT_TIMEOUT:?}"),
            ..Run::default()
        },
    }
}

fn parse_run(stdout: &str, stderr: &str, status: String) -> Run {
    let mut run = Run {
        stdout: stdout.to_owned(),
        stderr: stderr.to_owned(),
        status,
        ..Run::default()
    };
    for line in stdout.lines() {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        match value["event"].as_str() {
            Some("step") => run.steps.push(value),
            Some("request") => run.requests.push(value),
            _ => {}
        }
    }
    run
}

/// `An error occurred (CODE) when calling …` → `CODE`.
fn cli_error_code(stderr: &str) -> Option<String> {
    let rest = stderr.split("An error occurred (").nth(1)?;
    Some(rest.split(')').next()?.to_owned())
}

async fn run_cli(aws: &Path, mode: &str, id: &str, env: &[(String, String)]) -> Run {
    let version = irsa_harness::backend::python::PINS
        .iter()
        .find_map(|p| p.strip_prefix("awscli=="))
        .unwrap_or("?");
    let pk = format!("un#{id}");
    let item = json!({"pk": {"S": pk}, "userNameInitial": {"S": id}, "userName": {"S": format!("{id}-name")}});
    let key = json!({"pk": {"S": pk}});
    let table_values = json!({":pk": {"S": pk}});
    let index_values = json!({":i": {"S": id}});
    let steps: Vec<(&str, Vec<String>, &str)> = if mode == "refused" || mode == "probe" {
        let step = if mode == "probe" {
            "probe"
        } else {
            "sts-refusal"
        };
        vec![(step, strings(&["sts", "get-caller-identity"]), "/Arn")]
    } else {
        vec![
            (
                "get-caller-identity",
                strings(&["sts", "get-caller-identity"]),
                "/Arn",
            ),
            (
                "put-item",
                strings(&[
                    "dynamodb",
                    "put-item",
                    "--table-name",
                    "curity-accounts",
                    "--item",
                ])
                .into_iter()
                .chain([item.to_string()])
                .collect(),
                "",
            ),
            (
                "get-item",
                strings(&[
                    "dynamodb",
                    "get-item",
                    "--consistent-read",
                    "--table-name",
                    "curity-accounts",
                    "--key",
                ])
                .into_iter()
                .chain([key.to_string()])
                .collect(),
                "/Item/userName/S",
            ),
            (
                "query",
                strings(&[
                    "dynamodb",
                    "query",
                    "--table-name",
                    "curity-accounts",
                    "--key-condition-expression",
                    "pk = :pk",
                    "--expression-attribute-values",
                ])
                .into_iter()
                .chain([table_values.to_string()])
                .collect(),
                "/Count",
            ),
            (
                "query-index",
                strings(&[
                    "dynamodb",
                    "query",
                    "--table-name",
                    "curity-accounts",
                    "--index-name",
                    "userNameInitial-userName-index",
                    "--key-condition-expression",
                    "userNameInitial = :i",
                    "--expression-attribute-values",
                ])
                .into_iter()
                .chain([index_values.to_string()])
                .collect(),
                "/Count",
            ),
            (
                "delete-table-denied",
                strings(&["dynamodb", "delete-table", "--table-name", "curity-audit"]),
                "/TableDescription/TableName",
            ),
        ]
    };
    let mut run = Run {
        status: "one `aws` command per step".into(),
        ..Run::default()
    };
    for (step, args, pointer) in steps {
        let output = tokio::time::timeout(
            CLIENT_TIMEOUT,
            tokio::process::Command::new(aws)
                .args(&args)
                .args(["--output", "json"])
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await;
        let record = match output {
            Ok(Ok(output)) => {
                let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
                let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
                run.stdout.push_str(&stdout);
                run.stderr.push_str(&stderr);
                if output.status.success() {
                    let parsed: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
                    let detail = match parsed.pointer(pointer) {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                        None if pointer.is_empty() => format!("un#{id}"),
                        None => "<missing>".into(),
                    };
                    json!({"ok": true, "code": null, "detail": detail})
                } else {
                    json!({"ok": false, "code": cli_error_code(&stderr), "detail": stderr.trim()})
                }
            }
            Ok(Err(e)) => {
                json!({"ok": false, "code": null, "detail": format!("could not run aws: {e}")})
            }
            Err(_) => json!({"ok": false, "code": null, "detail": "timed out"}),
        };
        let mut record = record;
        record["event"] = json!("step");
        record["sdk"] = json!("aws-cli");
        record["version"] = json!(version);
        record["step"] = json!(step);
        run.steps.push(record);
    }
    run
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The AWS error code anywhere in an error's source chain: the Rust SDK wraps the STS error of
/// the web-identity provider inside the credentials error of the call that needed credentials.
fn rust_error_code(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    type ArwwiError = aws_sdk_sts::error::SdkError<
        aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError,
    >;
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(sdk) = e.downcast_ref::<ArwwiError>() {
            return sdk.code().map(str::to_owned);
        }
        current = e.source();
    }
    None
}

fn rust_record<T>(step: &str, result: Result<String, aws_sdk_dynamodb::error::SdkError<T>>) -> Value
where
    T: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let base = json!({"event": "step", "sdk": "rust", "version": aws_sdk_dynamodb::meta::PKG_VERSION, "step": step});
    let mut record = base;
    match result {
        Ok(detail) => {
            record["ok"] = json!(true);
            record["code"] = Value::Null;
            record["detail"] = json!(detail);
        }
        Err(e) => {
            record["ok"] = json!(false);
            record["code"] = json!(e.code().map(str::to_owned).or_else(|| rust_error_code(&e)));
            record["detail"] = json!(format!(
                "{}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&e)
            ));
        }
    }
    record
}

async fn run_rust(stack: &Stack, mode: &str, id: &str, env: Vec<(String, String)>) -> Run {
    let config = irsa_tests::pod_config_loader(stack.state_dir(), env)
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&config);
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let mut run = Run {
        status: "in-process".into(),
        ..Run::default()
    };
    let caller = sts
        .get_caller_identity()
        .send()
        .await
        .map(|o| o.arn().unwrap_or_default().to_owned());
    if mode == "refused" {
        run.steps.push(rust_record("sts-refusal", caller));
        return run;
    }
    run.steps.push(rust_record("get-caller-identity", caller));
    let pk = format!("un#{id}");
    let s = irsa_tests::s;
    let put = ddb
        .put_item()
        .table_name("curity-accounts")
        .item("pk", s(&pk))
        .item("userNameInitial", s(id))
        .item("userName", s(&format!("{id}-name")))
        .send()
        .await
        .map(|_| pk.clone());
    run.steps.push(rust_record("put-item", put));
    let got = ddb
        .get_item()
        .table_name("curity-accounts")
        .key("pk", s(&pk))
        .consistent_read(true)
        .send()
        .await
        .map(|o| {
            o.item()
                .and_then(|i| i.get("userName"))
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_else(|| "<no item>".into())
        });
    run.steps.push(rust_record("get-item", got));
    let query = ddb
        .query()
        .table_name("curity-accounts")
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s(&pk))
        .send()
        .await
        .map(|o| o.count().to_string());
    run.steps.push(rust_record("query", query));
    let query_index = ddb
        .query()
        .table_name("curity-accounts")
        .index_name("userNameInitial-userName-index")
        .key_condition_expression("userNameInitial = :i")
        .expression_attribute_values(":i", s(id))
        .send()
        .await
        .map(|o| o.count().to_string());
    run.steps.push(rust_record("query-index", query_index));
    let delete = ddb
        .delete_table()
        .table_name("curity-audit")
        .send()
        .await
        .map(|o| {
            o.table_description()
                .and_then(|d| d.table_name())
                .unwrap_or_default()
                .to_owned()
        });
    run.steps.push(rust_record("delete-table-denied", delete));
    run
}

/// `AssumeRoleWithWebIdentity` records in the stack's audit trail: (allowed, refused).
fn arwwi_counts(stack: &Stack) -> (usize, usize) {
    let records = irsa_harness::stack::audit::read(stack.state_dir()).unwrap_or_default();
    let arwwi = records
        .iter()
        .filter(|r| r["eventName"] == "AssumeRoleWithWebIdentity");
    arwwi.fold((0, 0), |(ok, refused), r| {
        if r.get("errorCode").is_some_and(|c| !c.is_null()) {
            (ok, refused + 1)
        } else {
            (ok + 1, refused)
        }
    })
}

/// A fresh `HOME` for one run.
fn fresh_home(stack: &Stack, name: &str) -> PathBuf {
    let home = stack.state_dir().join(format!("home-{name}"));
    std::fs::create_dir_all(&home).expect("a fresh HOME");
    home
}

/// Runs `mode` with the pod's variables `vars`, in a fresh `HOME` named `home`.
async fn run_mode(
    client: &Client,
    stack: &Stack,
    mode: &str,
    id: &str,
    vars: Vec<(String, String)>,
    home: &str,
) -> Run {
    let home = fresh_home(stack, home);
    match &client.runner {
        Runner::Program { program, args, env } => {
            run_program(program, args, mode, id, &child_env(&vars, &home, env)).await
        }
        Runner::AwsCli { aws, env } => run_cli(aws, mode, id, &child_env(&vars, &home, env)).await,
        Runner::Rust => run_rust(stack, mode, id, vars).await,
    }
}

/// What `irsa exec` gives the pod `pod`: its variables and the proxy and CA ones.
fn exec_env(stack: &Stack, pod: (&str, &str)) -> Vec<(String, String)> {
    stack.pod_env_with_proxy(pod.0, pod.1).expect("exec env")
}

/// One probe: the SDK's `probe` mode (the Rust SDK: `rust_sdk_probe`, its own process) with
/// the probe's environment.
async fn run_probe(client: &Client, stack: &Stack, probe: &Probe, id: &str) -> Run {
    let vars = interop::probe_env(
        client.sdk,
        probe,
        &exec_env(stack, TRUSTED),
        &stack.https_endpoint(),
    )
    .expect("probe environment");
    let home = fresh_home(stack, "probe");
    match &client.runner {
        Runner::Program { program, args, env } => {
            run_program(program, args, "probe", id, &child_env(&vars, &home, env)).await
        }
        Runner::AwsCli { aws, env } => {
            run_cli(aws, "probe", id, &child_env(&vars, &home, env)).await
        }
        Runner::Rust => {
            let probe = Path::new(env!("CARGO_BIN_EXE_rust_sdk_probe"));
            run_program(probe, &[], "probe", id, &child_env(&vars, &home, &[])).await
        }
    }
}

async fn exercise(client: Client) -> Outcome {
    let name = format!("interop-{}", client.label.replace([' ', '.'], "-"));
    let stack = irsa_tests::start_stack(WORLD, &name).await;
    let id = format!("{name}-{}", std::process::id());
    let trusted = exec_env(&stack, TRUSTED);
    let script = run_mode(&client, &stack, "allowed", &id, trusted.clone(), "allowed").await;
    let (arwwi_script, before_refusal) = arwwi_counts(&stack);
    assert_eq!(
        before_refusal, 0,
        "{}: a refused ARWWI in the script run",
        client.label
    );
    let untrusted = exec_env(&stack, UNTRUSTED);
    let refusal = run_mode(&client, &stack, "refused", &id, untrusted, "refused").await;
    let (after, arwwi_refusal) = arwwi_counts(&stack);
    assert_eq!(
        after, arwwi_script,
        "{}: the refused pod got credentials",
        client.label
    );
    let curity = if client.sdk.jvm_workloads {
        Some(run_mode(&client, &stack, "curity", &id, trusted, "curity").await)
    } else {
        None
    };
    let pod_only = stack.pod_env(TRUSTED.0, TRUSTED.1).expect("pod env");
    let sysprops = match (&curity, &client.runner) {
        (Some(_), Runner::Program { program, args, env })
            if client.sdk.reads_endpoint_variables =>
        {
            let vars: Vec<(String, String)> = pod_only
                .iter()
                .filter(|(k, _)| !k.starts_with("AWS_ENDPOINT_URL"))
                .cloned()
                .collect();
            let home = fresh_home(&stack, "sysprops");
            let mut with_props = vec![
                format!("-Daws.endpointUrlSts={}", stack.endpoint()),
                format!("-Daws.endpointUrlDynamoDb={}", stack.endpoint()),
            ];
            with_props.extend(args.iter().cloned());
            let id = format!("{id}-sysprops");
            Some(
                run_program(
                    program,
                    &with_props,
                    "allowed",
                    &id,
                    &child_env(&vars, &home, env),
                )
                .await,
            )
        }
        _ => None,
    };
    let unproxied = if client.sdk.reads_endpoint_variables {
        None
    } else {
        let (before, _) = arwwi_counts(&stack);
        let id = format!("{id}-unproxied");
        let run = run_mode(&client, &stack, "allowed", &id, pod_only, "unproxied").await;
        let (after, _) = arwwi_counts(&stack);
        Some((run, after - before))
    };
    let mut probes = Vec::new();
    for probe in client.sdk.probes() {
        probes.push((probe, run_probe(&client, &stack, probe, &id).await));
    }
    stack.shutdown().await;
    Outcome {
        client,
        script,
        refusal,
        arwwi_script,
        arwwi_refusal,
        curity,
        sysprops,
        unproxied,
        probes,
    }
}

/// How a probe ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reach {
    /// `GetCallerIdentity` answered by the harness.
    Harness,
    /// The SDK connected (or tried to) to the AWS host itself: the program's network guard
    /// stopped it before any name was resolved.
    Direct,
    /// The handshake with the harness's certificate failed: the SDK does not trust the CA.
    Untrusted,
    /// The SDK sent its loopback endpoint through the proxy, which refuses it (`403`: not an
    /// AWS host).
    ProxiedLoopback,
    /// Anything else, with the program's words.
    Unexplained(String),
}

impl Reach {
    fn cell(&self) -> String {
        match self {
            Reach::Harness => "✓".to_owned(),
            Reach::Direct => "direct".to_owned(),
            Reach::Untrusted => "untrusted".to_owned(),
            Reach::ProxiedLoopback => "proxied".to_owned(),
            Reach::Unexplained(text) => format!("✗ {text}"),
        }
    }
}

/// Classifies a probe run by what its step and streams say.
fn reach(run: &Run) -> Reach {
    let Some(step) = run.step("probe") else {
        return Reach::Unexplained(format!("no result: {}", run.status));
    };
    if step["ok"] == true {
        return Reach::Harness;
    }
    let detail = step["detail"].as_str().unwrap_or_default();
    // The JVM echoes `JAVA_TOOL_OPTIONS` ("Picked up ..."), whose property names are no outcome.
    let stderr: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.starts_with("Picked up JAVA_TOOL_OPTIONS"))
        .collect();
    let text = format!("{detail}\n{}\n{}", run.stdout, stderr.join("\n"));
    let direct = text.contains("irsa-harness interop: refused")
        || (text.contains("UnknownHostException") && text.contains(".amazonaws.com"));
    if direct {
        return Reach::Direct;
    }
    let lower = text.to_lowercase();
    let tls = [
        "certificate",
        "pkix",
        "x509",
        "ssl",
        "unknownissuer",
        "unknown issuer",
        "self-signed",
        "self signed",
        "handshake",
    ];
    if tls.iter().any(|word| lower.contains(word)) {
        return Reach::Untrusted;
    }
    // The proxy's refusal of `CONNECT 127.0.0.1:<port>`, as each HTTP stack words it: Java
    // SDK v2's Apache client hands the proxy's `403` on as if STS had answered it, but with no
    // request ID (the harness's STS answers carry one).
    let proxied = [
        "tunnel",
        "failed to connect to proxy",
        "proxyconnect",
        "status code: 403, request id: null",
    ];
    if proxied.iter().any(|word| lower.contains(word)) {
        return Reach::ProxiedLoopback;
    }
    Reach::Unexplained(detail.lines().next().unwrap_or_default().to_owned())
}

/// Every way the probes differ from the matrix's `honours`, and from what the controls must
/// show.
fn judge_probes(outcome: &Outcome) -> Vec<String> {
    let sdk = outcome.client.sdk;
    let label = &outcome.client.label;
    let mut failures = Vec::new();
    for (probe, run) in &outcome.probes {
        let seen = reach(run);
        let honoured = sdk.honours.contains(&probe.id);
        let context = || {
            format!(
                "{}\n{}",
                run.steps.first().map(Value::to_string).unwrap_or_default(),
                irsa_harness::backend::dynamodb_local::jar::tail(&run.stderr, 8)
            )
        };
        if (seen == Reach::Harness) != honoured {
            failures.push(format!(
                "{label}, probe `{}`: expected {}, saw {seen:?}\n{}",
                probe.id,
                if honoured { "the harness" } else { "no answer" },
                context()
            ));
        }
        let control = match (probe.group, probe.setting) {
            (ProbeGroup::Proxy, None) => Some(Reach::Direct),
            (ProbeGroup::Trust, None) => Some(Reach::Untrusted),
            _ => None,
        };
        if let Some(control) = control
            && seen != control
            && !matches!(seen, Reach::Direct)
        {
            failures.push(format!(
                "{label}, control probe `{}`: expected {control:?}, saw {seen:?}\n{}",
                probe.id,
                context()
            ));
        }
        if let Reach::Unexplained(_) = seen {
            failures.push(format!(
                "{label}, probe `{}`: an outcome the suite cannot name\n{}",
                probe.id,
                context()
            ));
        }
    }
    failures
}

/// The Curity workload's steps and what AWS answers each: `None` for success, else the code.
const CURITY_STEPS: &[(&str, Option<&str>)] = &[
    ("curity-describe-table", None),
    ("curity-create-account-transaction", None),
    // Each Put's `attribute_not_exists(pk)` fails: DynamoDB cancels the whole transaction.
    (
        "curity-create-account-again-refused",
        Some("TransactionCanceledException"),
    ),
    ("curity-password-check-get-item", None),
    ("curity-query-index-count", None),
    ("curity-update-account-versioned", None),
    ("curity-session-put-if-absent", None),
    ("curity-session-update-if-present", None),
    ("curity-delete-account-transaction", None),
    // What the least-privilege policy refuses Curity: no `Scan` grant, no table outside
    // `table/curity-*`, and so no transaction with an item there (authorised per item).
    ("curity-scan-refused", Some("AccessDeniedException")),
    (
        "curity-prefixed-table-refused",
        Some("AccessDeniedException"),
    ),
    (
        "curity-transaction-outside-policy-refused",
        Some("AccessDeniedException"),
    ),
];

fn judge_curity(label: &str, run: &Run) -> Vec<String> {
    let mut failures = Vec::new();
    for (step, expected) in CURITY_STEPS {
        let seen = run.step(step);
        let ok = match (seen, expected) {
            (Some(s), None) => s["ok"] == true,
            (Some(s), Some(code)) => s["ok"] == false && s["code"] == *code,
            (None, _) => false,
        };
        if !ok {
            failures.push(format!(
                "{label}, Curity workload step `{step}`: expected {}, saw {}",
                expected.unwrap_or("success"),
                seen.map_or_else(|| format!("no result\n{}", run.context()), Value::to_string)
            ));
        }
    }
    if let Some(s) = run.step("curity-query-index-count")
        && s["detail"] != "1"
    {
        failures.push(format!(
            "{label}, Curity workload: the index COUNT query saw {s}"
        ));
    }
    failures
}

/// A predicate on a step's reported result.
type Check = Box<dyn Fn(&str) -> bool>;

/// Every way this client's results differ from what AWS would answer; empty when it passes.
fn judge(outcome: &Outcome, id_prefix: &str) -> Vec<String> {
    let label = &outcome.client.label;
    let mut failures = Vec::new();
    let mut fail =
        |step: &str, what: String| failures.push(format!("{label}, step `{step}`: {what}"));
    let script = &outcome.script;
    let outside = outside_hosts(
        [script, &outcome.refusal]
            .into_iter()
            .chain(outcome.curity.as_ref()),
    );
    if outcome.client.sdk.reads_endpoint_variables {
        if !outside.is_empty() {
            fail(
                "endpoint",
                format!("requests for hosts outside this machine: {outside:?}"),
            );
        }
    } else {
        // Through the HTTPS proxy: the SDK's own choice of AWS host names, tunnelled to the
        // harness (the steps below succeed only if they were).
        let aws: BTreeSet<String> = [
            "sts.eu-west-1.amazonaws.com:443".to_owned(),
            "dynamodb.eu-west-1.amazonaws.com:443".to_owned(),
        ]
        .into();
        if !outside.is_subset(&aws) || !outside.contains("sts.eu-west-1.amazonaws.com:443") {
            fail(
                "endpoint",
                format!("expected requests for {aws:?} through the proxy, saw {outside:?}"),
            );
        }
        // Without the proxy and CA variables: ARWWI goes to the real regional STS host, which
        // the program's network guard stops; nothing reaches the harness.
        match &outcome.unproxied {
            Some((run, arwwi)) => {
                let expected: BTreeSet<String> =
                    ["sts.eu-west-1.amazonaws.com:443".to_owned()].into();
                let seen = outside_hosts([run]);
                if seen != expected {
                    fail(
                        "unproxied",
                        format!("expected only the stopped host {expected:?}, saw {seen:?}"),
                    );
                }
                if *arwwi != 0 {
                    fail("unproxied", "an ARWWI reached the harness".into());
                }
                if run.steps.len() != 6 || run.steps.iter().any(|s| s["ok"] == true) {
                    fail(
                        "unproxied",
                        format!("expected 6 failed steps\n{}", run.context()),
                    );
                }
            }
            None => fail("unproxied", "not run".into()),
        }
    }
    let expect_ok = |step: &str, detail: &dyn Fn(&str) -> bool| -> Option<String> {
        match script.step(step) {
            None => Some(format!("no result\n{}", script.context())),
            Some(s) if s["ok"] != true => Some(format!(
                "failed with {} ({})",
                s["code"],
                s["detail"].as_str().unwrap_or_default()
            )),
            Some(s) => {
                let d = s["detail"].as_str().unwrap_or_default();
                (!detail(d)).then(|| format!("unexpected result `{d}`"))
            }
        }
    };
    let id = format!("{id_prefix}-{}", std::process::id());
    let checks: [(&str, Check); 5] = [
        (
            "get-caller-identity",
            Box::new(|d: &str| d.starts_with(ACCOUNT_ROLE_SESSION)),
        ),
        ("put-item", Box::new(|_: &str| true)),
        (
            "get-item",
            Box::new(move |d: &str| d == format!("{id}-name")),
        ),
        ("query", Box::new(|d: &str| d == "1")),
        ("query-index", Box::new(|d: &str| d == "1")),
    ];
    for (step, check) in &checks {
        if let Some(problem) = expect_ok(step, check.as_ref()) {
            fail(step, problem);
        }
    }
    match script.step("delete-table-denied") {
        Some(s) if s["ok"] == false && s["code"] == "AccessDeniedException" => {}
        Some(s) => fail(
            "delete-table-denied",
            format!("expected AccessDeniedException, saw {s}"),
        ),
        None => fail(
            "delete-table-denied",
            format!("no result\n{}", script.context()),
        ),
    }
    match refusal_surface(&outcome.refusal) {
        Ok(_) => {}
        Err(problem) => fail("sts-refusal", problem),
    }
    if let Some(s) = outcome.refusal.step("sts-refusal-web-identity-provider")
        && !(s["ok"] == false && s["code"] == "AccessDenied")
    {
        fail(
            "sts-refusal-web-identity-provider",
            format!("expected AccessDenied, saw {s}"),
        );
    }
    if let Some(curity) = &outcome.curity {
        for problem in judge_curity(label, curity) {
            fail("curity", problem);
        }
    }
    if let Some(run) = &outcome.sysprops {
        let seen = outside_hosts([run]);
        if !seen.is_empty() {
            fail(
                "sysprops",
                format!("requests for hosts outside this machine: {seen:?}"),
            );
        }
        let expected = [
            ("get-caller-identity", None),
            ("put-item", None),
            ("get-item", None),
            ("query", None),
            ("query-index", None),
            ("delete-table-denied", Some("AccessDeniedException")),
        ];
        for (step, code) in expected {
            let good = run.step(step).is_some_and(|s| match code {
                None => s["ok"] == true,
                Some(code) => s["ok"] == false && s["code"] == code,
            });
            if !good {
                fail(
                    "sysprops",
                    format!(
                        "`{step}` with -Daws.endpointUrl* and no AWS_ENDPOINT_URL*:\n{}",
                        run.context()
                    ),
                );
            }
        }
    }
    if outcome.arwwi_script == 0 {
        fail(
            "arwwi",
            "no AssumeRoleWithWebIdentity reached the harness".into(),
        );
    }
    if outcome.arwwi_refusal == 0 {
        fail(
            "arwwi",
            "the refused pod's ARWWI never reached the harness".into(),
        );
    }
    failures.extend(judge_probes(outcome));
    failures
}

/// How the client surfaced STS's `AccessDenied` for the untrusted pod.
fn refusal_surface(run: &Run) -> Result<String, String> {
    let Some(s) = run.step("sts-refusal") else {
        return Err(format!("no result\n{}", run.context()));
    };
    let detail = s["detail"].as_str().unwrap_or_default();
    if s["ok"] != false {
        return Err(format!("the untrusted pod got an identity: {detail}"));
    }
    if s["code"] == "AccessDenied" {
        return Ok("error code `AccessDenied`".into());
    }
    // Java's default chain reports each provider's failure as text inside one
    // SdkClientException: the STS error code is not reachable, its message and status are.
    if s["code"].is_null()
        && s["exception"] == "SdkClientException"
        && detail.contains("Not authorized to perform sts:AssumeRoleWithWebIdentity (Service: Sts, Status Code: 403")
    {
        return Ok("`SdkClientException` from the default chain, with STS's message and status 403 in its text (no error code)".into());
    }
    Err(format!("expected AccessDenied, saw {s}"))
}

fn render_doc(outcomes: &[Outcome], refreshes: &[(Client, Vec<Round>)]) -> String {
    let mut doc = String::new();
    doc.push_str(
        "<!-- GENERATED by tests/tests/it/interop.rs from the interop suite's results. Do not edit: \
         run `IRSA_BLESS=1 cargo test -p irsa-tests --test it interop::` to rewrite it. -->\n\n",
    );
    doc.push_str("# SDK compatibility\n\n");
    doc.push_str(
        "Each SDK below runs the same script against the harness, unmodified and configured by \
         nothing but the environment a pod gets from `irsa exec` (its env file `DIR/env/<ns>/<sa>.env`): \
         the pod-identity webhook's variables (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`, \
         `AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_STS_REGIONAL_ENDPOINTS`), the endpoint \
         variables `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_DYNAMODB`, and the \
         HTTPS proxy and CA variables (`HTTPS_PROXY`, `https_proxy`, `NO_PROXY`, `no_proxy`, \
         `AWS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`, `JAVA_TOOL_OPTIONS`; \
         `docs/https-proxy.md`). The script: credentials through the SDK's default chain, \
         `GetCallerIdentity`, `PutItem`, `GetItem`, `Query` on `curity-accounts` and on its \
         index `userNameInitial-userName-index`, a `DeleteTable` the policy refuses, and the \
         same calls for a service account the trust policy does not name. An SDK that reads the \
         endpoint variables sends its calls to the harness's plain edge; one that predates them \
         sends them to `sts.eu-west-1.amazonaws.com` and `dynamodb.eu-west-1.amazonaws.com`, \
         through the harness's HTTPS proxy. The programs are in `tests/interop/`; the suite is \
         `cargo test -p irsa-tests --test it interop::`, part of `cargo test --workspace`.\n\n",
    );
    doc.push_str("## Results\n\n");
    doc.push_str(
        "| SDK | version | reaches the harness | script (6 steps) | denied `DeleteTable` surfaced as | STS refusal surfaced as | ARWWI calls for the script | without the proxy and CA variables |\n",
    );
    doc.push_str("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for o in outcomes {
        let passed = o.script.steps.iter().filter(|s| s["ok"] == true).count()
            + usize::from(
                o.script
                    .step("delete-table-denied")
                    .is_some_and(|s| s["ok"] == false),
            );
        let through = if o.client.sdk.reads_endpoint_variables {
            "endpoint variables"
        } else {
            "HTTPS proxy"
        };
        let delete = o
            .script
            .step("delete-table-denied")
            .and_then(|s| s["code"].as_str())
            .map_or("—".to_owned(), |c| format!("`{c}`"));
        let refusal = refusal_surface(&o.refusal)
            .unwrap_or_else(|e| format!("✗ {}", e.lines().next().unwrap_or_default()));
        let unproxied = match &o.unproxied {
            None => "the same (it reads the endpoint variables)".to_owned(),
            Some((run, _)) => {
                let hosts: Vec<String> = outside_hosts([run])
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect();
                format!(
                    "ARWWI sent to {} (stopped by the suite's guard)",
                    hosts.join(", ")
                )
            }
        };
        let _ = writeln!(
            doc,
            "| {} | {} | {through} | {passed}/6 as AWS would answer | {delete} | {refusal} | {} | {unproxied} |",
            o.client.sdk.name,
            o.script.version(),
            o.arwwi_script,
        );
    }
    doc.push_str(
        "\nARWWI calls are counted in each SDK's own stack's audit trail (`audit.jsonl`) over one \
         run of the script (one process; for the AWS CLI, six commands sharing one `HOME`). An SDK \
         that builds a credentials provider per client calls STS once per client: the script \
         uses one STS and one DynamoDB client.\n\n",
    );
    doc.push_str("## The Curity workload through Java SDK v2\n\n");
    doc.push_str(
        "The calls of the Curity Identity Server's DynamoDB plugin (`curity-workload.md`), made \
         through Curity's own SDK by `tests/interop/java/src/CurityWorkload.java` under the \
         suite's item-level policy on `table/curity-*` (no `Scan`, no table outside the prefix); \
         `TransactWriteItems` is authorised per item. 2.21.42, the version Curity pins, runs it \
         through the HTTPS proxy with `irsa exec`'s environment alone.\n\n",
    );
    let javas: Vec<&Outcome> = outcomes.iter().filter(|o| o.curity.is_some()).collect();
    let _ = writeln!(
        doc,
        "| step | expected | {} |",
        javas
            .iter()
            .map(|o| format!("java {}", o.script.version()))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(doc, "| --- | --- |{}", " --- |".repeat(javas.len()));
    for (step, expected) in CURITY_STEPS {
        let cells: Vec<String> = javas
            .iter()
            .map(|o| {
                o.curity
                    .as_ref()
                    .and_then(|r| r.step(step))
                    .map_or("—".to_owned(), |s| {
                        if s["ok"] == true {
                            "ok".to_owned()
                        } else {
                            format!("`{}`", s["code"].as_str().unwrap_or("error"))
                        }
                    })
            })
            .collect();
        let _ = writeln!(
            doc,
            "| `{step}` | {} | {} |",
            expected.map_or("ok".to_owned(), |c| format!("`{c}`")),
            cells.join(" | ")
        );
    }
    doc.push('\n');
    doc.push_str("## Credential refresh\n\n");
    doc.push_str(
        "Each SDK runs one long-lived process (the AWS CLI: one command per round, sharing one \
         `HOME`) making one `GetItem` per round, on its own stack, with `irsa exec`'s \
         environment (so the SDKs without endpoint settings refresh through the proxy). Before \
         a round the harness clock is moved so that the SDK's latest credentials are that far \
         from their `Expiration`, and the SDK's own clock is moved with it: libfaketime \
         (`LD_PRELOAD`, `FAKETIME_TIMESTAMP_FILE`) for the Java, JavaScript, boto3 and CLI \
         processes; the SDK's clock hook `internal/sdk.NowTime` for Go, which reads the time \
         without libc; the config's `TimeSource` for Rust. The SDK decides on its own when to \
         refresh. The pod's token lives 600 s and is rewritten at 80% of that, so every refresh \
         after the first move had to read the token file again (the first token had expired).\n\n",
    );
    doc.push_str("| SDK | version | ARWWI calls per round: first call / 30 min left / 50 s left / expired 1 min ago / again | refreshed ahead of expiry with 50 s left |\n");
    doc.push_str("| --- | --- | --- | --- |\n");
    for (client, rounds) in refreshes {
        let counts: Vec<String> = rounds.iter().map(|r| r.new_arwwi.to_string()).collect();
        let ahead = rounds
            .iter()
            .find(|r| r.name == "50-s-left")
            .map_or("—", |r| {
                if r.new_arwwi > 0 {
                    "yes"
                } else {
                    "no (refreshes nearer to, or at, expiry)"
                }
            });
        let version = outcomes
            .iter()
            .find(|o| o.client.label == client.label)
            .map(|o| o.script.version())
            .unwrap_or_default();
        let _ = writeln!(
            doc,
            "| {} | {version} | {} | {ahead} |",
            client.sdk.name,
            counts.join(" / "),
        );
    }
    doc.push('\n');
    render_probes(&mut doc, outcomes);
    doc.push_str("## What each SDK reads\n\n");
    doc.push_str(
        "From `wire-contracts.md` §2 and the SDKs' sources; measured by the suite only where a cell says so.\n\n",
    );
    doc.push_str("| SDK | version | region variable | endpoint variables | credential refresh |\n");
    doc.push_str("| --- | --- | --- | --- | --- |\n");
    for o in outcomes {
        let notes = &o.client.sdk.notes;
        let _ = writeln!(
            doc,
            "| {} | {} | {} | {} | {} |",
            o.client.sdk.name,
            o.script.version(),
            notes.region,
            notes.endpoints,
            notes.refresh,
        );
    }
    doc.push_str(JAVA_FINDING);
    doc
}

/// The measured table of the proxy and CA settings, one column per probe.
fn render_probes(doc: &mut String, outcomes: &[Outcome]) {
    doc.push_str("## Proxy and CA settings: what each SDK honours (measured)\n\n");
    doc.push_str(
        "Each cell is one run of the SDK's program in `probe` mode (one `GetCallerIdentity` \
         through the default chain, as the trusted pod) with one setting varied and the rest \
         held, every value taken from `irsa exec`'s environment (`irsa_tests::interop::PROBES`):\n\n\
         * **proxy**: no endpoint variable, every CA setting, and one proxy setting (or none): \
         does the SDK send its call for `sts.eu-west-1.amazonaws.com` through the proxy?\n\
         * **CA**: one CA setting (or none), over the HTTPS edge (`AWS_ENDPOINT_URL*=https://127.0.0.1:<port>`, \
         no proxy) where the SDK reads endpoint variables, else through the proxy with \
         `irsa exec`'s proxy settings: does it trust the harness's certificate?\n\
         * **no-proxy**: the HTTPS edge as endpoint with every proxy and CA setting, and one \
         no-proxy setting (or none): does it keep the loopback endpoint off the proxy (which \
         refuses a `CONNECT` to anything but the emulated AWS hosts)?\n\n\
         `✓`: the harness answered. `direct`: the SDK connected to the AWS host itself; the \
         program's network guard stopped it before any name was resolved (Java: a hosts file \
         naming only loopback, `-Djdk.net.hosts.file`; Go: the transport's dialer; Node: \
         `net.Socket`; Python: `socket.getaddrinfo` in a `sitecustomize.py`; Rust: the HTTP \
         client's DNS resolver). `untrusted`: the TLS handshake with the harness's certificate \
         failed. `proxied`: the loopback endpoint went to the proxy, which refused it. `—`: not \
         applicable (a JVM property, or no endpoint variable to name the HTTPS edge with). The \
         suite fails when a cell differs from the matrix's `honours` list for that SDK. Java \
         2.28.1 is not probed: its HTTP stack is the current version's.\n\n",
    );
    let columns: Vec<&Probe> = interop::PROBES.iter().collect();
    let _ = writeln!(
        doc,
        "| SDK | version | {} |",
        columns
            .iter()
            .map(|p| format!("`{}`", p.id))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(doc, "| --- | --- |{}", " --- |".repeat(columns.len()));
    let probed: Vec<&Outcome> = outcomes.iter().filter(|o| o.client.sdk.probed).collect();
    for o in &probed {
        let cells: Vec<String> = columns
            .iter()
            .map(|column| {
                o.probes
                    .iter()
                    .find(|(p, _)| p.id == column.id)
                    .map_or("—".to_owned(), |(_, run)| reach(run).cell())
            })
            .collect();
        let _ = writeln!(
            doc,
            "| {} | {} | {} |",
            o.client.sdk.name,
            o.script.version(),
            cells.join(" | ")
        );
    }
    doc.push_str("\nWhat the measurements show (and the sources that explain them):\n\n");
    let mut notes: Vec<(&str, Vec<String>)> = Vec::new();
    for o in &probed {
        let sdk = format!("{} {}", o.client.sdk.name, o.script.version());
        let note = o.client.sdk.notes.transport;
        match notes.iter_mut().find(|(n, _)| *n == note) {
            Some((_, sdks)) => sdks.push(sdk),
            None => notes.push((note, vec![sdk])),
        }
    }
    for (note, sdks) in notes {
        let _ = writeln!(doc, "* **{}**: {note}.", sdks.join(", "));
    }
    doc.push('\n');
}

const JAVA_FINDING: &str = "
## Curity and Java SDK v2 2.21.42

Curity's DynamoDB plugin pins Java SDK v2 **2.21.42**. That version reads **no** endpoint
setting from the environment: it has no `AWS_ENDPOINT_URL`/`AWS_ENDPOINT_URL_<SERVICE>` variable,
no `aws.endpointUrl*` system property and no `endpoint_url` profile key (its `SdkSystemSetting`
lists none; service-specific endpoint overrides arrived in **2.28.1**, aws/aws-sdk-java-v2 PR
#5562). With the pod's variables alone it sends `AssumeRoleWithWebIdentity` to
`sts.eu-west-1.amazonaws.com:443` (above: stopped by the suite's guard).

With `irsa exec`'s environment it reaches the harness **unmodified**, through the HTTPS proxy:
`JAVA_TOOL_OPTIONS` carries the proxy properties (its Apache HTTP client reads the
`http.proxyHost` pair, see the measurements) and the PKCS#12 trust store holding the harness's
CA, so the web-identity call goes to `sts.eu-west-1.amazonaws.com` and the DynamoDB calls to
`dynamodb.eu-west-1.amazonaws.com`, both tunnelled to the harness. The suite runs the script,
the refusal, the Curity workload and the refresh rounds on it that way. For a Curity container,
mount the CA's trust store and give it that `JAVA_TOOL_OPTIONS` with the proxy address the
container can reach (`irsa env --format docker` prints the set; `docs/https-proxy.md`).

Without the proxy (only endpoint settings) there are two ways, both outside Curity's own
configuration for STS:

* **DynamoDB**: Curity's own DynamoDB endpoint setting (the one endpoint it lets you override)
  pointed at the harness's URL.
* **STS**: Java SDK v2 **2.28.1 or newer** on the plugin's classpath (replacing the SDK jars
  the plugin ships); then `AWS_ENDPOINT_URL_STS`, or `-Daws.endpointUrlSts=<harness URL>`,
  points the web-identity provider at the harness, and `AWS_ENDPOINT_URL_DYNAMODB` or
  `-Daws.endpointUrlDynamoDb=<harness URL>` (that case: `aws.endpointUrlDynamodb` is ignored)
  DynamoDB. The suite runs the script both ways on 2.28.1 and the current version.
";

/// The refresh rounds: the name, and how many seconds before the `Expiration` of the SDK's
/// latest credentials the harness clock (and the SDK's clock with it) is set before the call.
/// `None` leaves the clock where it is.
const ROUNDS: &[(&str, Option<i64>)] = &[
    ("first-call", None),
    ("30-min-left", Some(1800)),
    ("50-s-left", Some(50)),
    ("expired-1-min-ago", Some(-60)),
    ("again", None),
];

/// The ARWWI calls each round may add: exact, or at most one where the SDKs differ (how far
/// ahead of `Expiration` each refreshes is what the round measures).
const ROUND_ARWWI: &[(usize, usize)] = &[(1, 1), (0, 0), (0, 1), (1, 1), (0, 0)];

/// The matrix's refresh exceptions name rounds the suite runs.
#[test]
fn every_refresh_exception_names_a_round() {
    for sdk in SDKS {
        for exception in sdk.refresh_exceptions {
            assert!(
                ROUNDS.iter().any(|(name, _)| *name == exception.round),
                "{}: no refresh round `{}`",
                sdk.label(),
                exception.round
            );
        }
    }
}

#[derive(Debug)]
struct Round {
    name: &'static str,
    new_arwwi: usize,
    step: Value,
}

/// The Rust SDK's clock, moved with the harness clock.
#[derive(Debug)]
struct MovedClock(Arc<AtomicI64>);

impl aws_types::sdk_config::TimeSource for MovedClock {
    fn now(&self) -> SystemTime {
        let offset = self.0.load(Ordering::SeqCst);
        let magnitude = Duration::from_secs(offset.unsigned_abs());
        if offset >= 0 {
            SystemTime::now() + magnitude
        } else {
            SystemTime::now() - magnitude
        }
    }
}

/// A long-running client program and what it has printed so far.
struct ProcessDriver {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    seen: String,
}

/// How a refresh round's call is made.
enum Driver {
    /// A long-running program reading one `ROUND OFFSET` line per round.
    Process(Box<ProcessDriver>),
    /// One `aws dynamodb get-item` per round, sharing one `HOME` (and so the CLI's disk cache).
    Cli {
        aws: PathBuf,
        env: Vec<(String, String)>,
    },
    Rust {
        ddb: aws_sdk_dynamodb::Client,
        offset: Arc<AtomicI64>,
    },
}

impl Driver {
    async fn call(&mut self, round: &str, offset: i64, id: &str) -> Value {
        let name = format!("refresh-{round}");
        match self {
            Driver::Process(process) => {
                let ProcessDriver {
                    stdin, lines, seen, ..
                } = &mut **process;
                if let Err(e) = stdin
                    .write_all(format!("{round} {offset}\n").as_bytes())
                    .await
                {
                    return json!({"ok": false, "code": null, "detail": format!("stdin closed: {e}; output so far:\n{seen}")});
                }
                let _ = stdin.flush().await;
                let read = async {
                    while let Ok(Some(line)) = lines.next_line().await {
                        seen.push_str(&line);
                        seen.push('\n');
                        if let Ok(v) = serde_json::from_str::<Value>(&line)
                            && v["step"] == name.as_str()
                        {
                            return Some(v);
                        }
                    }
                    None
                };
                match tokio::time::timeout(CLIENT_TIMEOUT, read).await {
                    Ok(Some(v)) => v,
                    Ok(None) => {
                        json!({"ok": false, "code": null, "detail": format!("the program ended; output:\n{seen}")})
                    }
                    Err(_) => json!({"ok": false, "code": null, "detail": "timed out"}),
                }
            }
            Driver::Cli { aws, env } => {
                let key = json!({"pk": {"S": format!("un#{id}")}});
                let output = tokio::process::Command::new(&*aws)
                    .args([
                        "dynamodb",
                        "get-item",
                        "--table-name",
                        "curity-accounts",
                        "--key",
                    ])
                    .arg(key.to_string())
                    .env_clear()
                    .envs(env.iter().map(|(k, v)| (k, v)))
                    .stdin(Stdio::null())
                    .kill_on_drop(true)
                    .output()
                    .await;
                match output {
                    Ok(o) if o.status.success() => {
                        json!({"ok": true, "code": null, "detail": "200"})
                    }
                    Ok(o) => {
                        let stderr = String::from_utf8_lossy(&o.stderr);
                        json!({"ok": false, "code": cli_error_code(&stderr), "detail": stderr.trim()})
                    }
                    Err(e) => json!({"ok": false, "code": null, "detail": e.to_string()}),
                }
            }
            Driver::Rust { ddb, offset: moved } => {
                moved.store(offset, Ordering::SeqCst);
                let result = ddb
                    .get_item()
                    .table_name("curity-accounts")
                    .key("pk", irsa_tests::s(&format!("un#{id}")))
                    .send()
                    .await
                    .map(|_| "200".to_owned());
                rust_record(&name, result)
            }
        }
    }

    async fn finish(self) {
        if let Driver::Process(process) = self {
            let ProcessDriver {
                mut child, stdin, ..
            } = *process;
            drop(stdin);
            let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
        }
    }
}

/// The `Expiration` of the latest credentials STS issued in this stack.
fn latest_expiration(stack: &Stack) -> Option<i64> {
    let records = irsa_harness::stack::audit::read(stack.state_dir()).ok()?;
    let text = records
        .iter()
        .rev()
        .filter(|r| r["eventName"] == "AssumeRoleWithWebIdentity")
        .find(|r| r.get("errorCode").is_none_or(Value::is_null))?
        .pointer("/responseElements/credentials/expiration")?
        .as_str()?
        .to_owned();
    let parsed =
        time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(parsed.unix_timestamp())
}

/// Waits until the harness's kubelet stand-in has rewritten the pod's token for the moved
/// clock (it does so at 80% of the token's 600 s lifetime).
async fn wait_for_fresh_token(stack: &Stack) {
    let file = irsa_harness::pod::env::token_path(stack.state_dir(), TRUSTED.0, TRUSTED.1);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let iat = std::fs::read_to_string(&file).ok().and_then(|jwt| {
            let payload = jwt.split('.').nth(1)?.to_owned();
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()?;
            serde_json::from_slice::<Value>(&bytes).ok()?["iat"].as_i64()
        });
        if iat.is_some_and(|iat| stack.clock().now() - iat < 480) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the token file was not rewritten for the moved clock"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start_driver(
    client: &Client,
    stack: &Stack,
    faketime: &Path,
    id: &str,
    offset: Arc<AtomicI64>,
) -> Driver {
    let env = exec_env(stack, TRUSTED);
    let home = fresh_home(stack, "refresh");
    let suite = match &client.runner {
        Runner::Program { env, .. } | Runner::AwsCli { env, .. } => env.clone(),
        Runner::Rust => Vec::new(),
    };
    let mut faked = child_env(&env, &home, &suite);
    faked.extend([
        ("LD_PRELOAD".to_owned(), faketime.display().to_string()),
        (
            "FAKETIME_TIMESTAMP_FILE".to_owned(),
            stack.state_dir().join("faketime").display().to_string(),
        ),
        ("FAKETIME_NO_CACHE".to_owned(), "1".to_owned()),
        ("FAKETIME_DONT_FAKE_MONOTONIC".to_owned(), "1".to_owned()),
    ]);
    match &client.runner {
        Runner::Program { program, args, .. } => {
            let env = match client.sdk.clock {
                ClockControl::Libfaketime => faked,
                ClockControl::ClockHook | ClockControl::TimeSource => {
                    child_env(&env, &home, &suite)
                }
            };
            let stderr = std::fs::File::create(stack.state_dir().join("refresh.stderr"))
                .expect("stderr file");
            let mut child = tokio::process::Command::new(program)
                .args(args)
                .args(["refresh", id])
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(stderr)
                .kill_on_drop(true)
                .spawn()
                .expect("the refresh program starts");
            let stdin = child.stdin.take().expect("stdin");
            let stdout = child.stdout.take().expect("stdout");
            Driver::Process(Box::new(ProcessDriver {
                child,
                stdin,
                lines: BufReader::new(stdout).lines(),
                seen: String::new(),
            }))
        }
        Runner::AwsCli { aws, .. } => Driver::Cli {
            aws: aws.clone(),
            env: faked,
        },
        Runner::Rust => {
            let config = irsa_tests::pod_config_loader(stack.state_dir(), env)
                .time_source(MovedClock(Arc::clone(&offset)))
                .load()
                .await;
            Driver::Rust {
                ddb: aws_sdk_dynamodb::Client::new(&config),
                offset,
            }
        }
    }
}

/// Runs the refresh rounds for one client on its own stack.
async fn refresh(client: Client, faketime: PathBuf) -> (Client, Vec<Round>) {
    let name = format!("refresh-{}", client.label.replace([' ', '.'], "-"));
    let stack = irsa_tests::start_stack(WORLD, &name).await;
    let id = format!("{name}-{}", std::process::id());
    std::fs::write(stack.state_dir().join("faketime"), "+0s").expect("faketime file");
    let offset = Arc::new(AtomicI64::new(0));
    let mut driver = start_driver(&client, &stack, &faketime, &id, Arc::clone(&offset)).await;
    let mut rounds = Vec::new();
    for (round, left) in ROUNDS {
        let (before, _) = arwwi_counts(&stack);
        if let Some(left) = left {
            let expiration = latest_expiration(&stack).unwrap_or_else(|| stack.clock().now());
            stack
                .clock()
                .advance(expiration - stack.clock().now() - left);
            let offset = stack.clock().offset();
            std::fs::write(stack.state_dir().join("faketime"), format!("{offset:+}s"))
                .expect("faketime file");
            wait_for_fresh_token(&stack).await;
        }
        let step = driver.call(round, stack.clock().offset(), &id).await;
        // A refresh an SDK starts in the background after the call still belongs to this round.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (after, _) = arwwi_counts(&stack);
        rounds.push(Round {
            name: round,
            new_arwwi: after - before,
            step,
        });
    }
    driver.finish().await;
    stack.shutdown().await;
    (client, rounds)
}

/// The ARWWI calls a round may add for this SDK: the general bounds but where the matrix says
/// otherwise.
fn round_bounds(sdk: &Sdk, round: &str, general: (usize, usize)) -> (usize, usize) {
    sdk.refresh_exceptions
        .iter()
        .find(|exception| exception.round == round)
        .map_or(general, |exception| exception.arwwi)
}

fn judge_refresh(client: &Client, rounds: &[Round]) -> Vec<String> {
    let label = &client.label;
    let mut failures = Vec::new();
    for (round, general) in rounds.iter().zip(ROUND_ARWWI) {
        let (least, most) = round_bounds(client.sdk, round.name, *general);
        if round.step["ok"] != true {
            failures.push(format!(
                "{label}, refresh round `{}`: the call failed: {}",
                round.name, round.step
            ));
        }
        if round.new_arwwi < least || round.new_arwwi > most {
            failures.push(format!(
                "{label}, refresh round `{}`: {} AssumeRoleWithWebIdentity calls, expected {least}..={most}",
                round.name, round.new_arwwi
            ));
        }
    }
    failures
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sdk_runs_the_irsa_script_against_the_harness() {
    let started = std::time::Instant::now();
    let (clients, missing) = install_clients().await;
    assert!(
        missing.is_empty(),
        "the interop suite cannot run every SDK; none is skipped:\n{}",
        missing.join("\n")
    );
    println!("interop: clients ready in {:?}", started.elapsed());

    let mut tasks = tokio::task::JoinSet::new();
    for (order, client) in clients.into_iter().enumerate() {
        tasks.spawn(async move { (order, exercise(client).await) });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = tasks.join_next().await {
        outcomes.push(done.expect("an SDK run panicked"));
    }
    outcomes.sort_by_key(|(order, _)| *order);
    let outcomes: Vec<Outcome> = outcomes.into_iter().map(|(_, o)| o).collect();
    println!("interop: every SDK ran in {:?}", started.elapsed());

    let mut failures = Vec::new();
    for o in &outcomes {
        let name = format!("interop-{}", o.client.label.replace([' ', '.'], "-"));
        println!(
            "interop: {} {}: {} steps, {} ARWWI for the script, {} refused",
            o.client.label,
            o.script.version(),
            o.script.steps.len() + o.refusal.steps.len(),
            o.arwwi_script,
            o.arwwi_refusal
        );
        let probes: Vec<String> = o
            .probes
            .iter()
            .map(|(p, run)| format!("{}={}", p.id, reach(run).cell()))
            .collect();
        println!("interop: probes {}: {}", o.client.label, probes.join(", "));
        failures.extend(judge(o, &name));
    }
    assert!(
        failures.is_empty(),
        "SDK interop failures:\n{}",
        failures.join("\n\n")
    );

    // Credential refresh, each SDK on its own stack with the clock moved under it.
    let faketime = tokio::task::spawn_blocking(interop::ensure_libfaketime)
        .await
        .expect("libfaketime install task")
        .unwrap_or_else(|e| panic!("the refresh rounds need libfaketime: {e:#}"));
    let mut tasks = tokio::task::JoinSet::new();
    for (order, o) in outcomes.iter().enumerate() {
        let (client, faketime) = (o.client.clone(), faketime.clone());
        tasks.spawn(async move { (order, refresh(client, faketime).await) });
    }
    let mut refreshes = Vec::new();
    while let Some(done) = tasks.join_next().await {
        refreshes.push(done.expect("a refresh run panicked"));
    }
    refreshes.sort_by_key(|(order, _)| *order);
    let refreshes: Vec<(Client, Vec<Round>)> = refreshes.into_iter().map(|(_, r)| r).collect();
    println!("interop: refresh rounds done at {:?}", started.elapsed());
    for (client, rounds) in &refreshes {
        let counts: Vec<String> = rounds
            .iter()
            .map(|r| format!("{}={}", r.name, r.new_arwwi))
            .collect();
        println!("interop: refresh {}: {}", client.label, counts.join(" "));
        failures.extend(judge_refresh(client, rounds));
    }
    assert!(
        failures.is_empty(),
        "SDK refresh failures:\n{}",
        failures.join("\n\n")
    );

    let doc = render_doc(&outcomes, &refreshes);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/sdk-compatibility.md");
    if std::env::var_os("IRSA_BLESS").is_some() {
        std::fs::write(&path, &doc).expect("writing docs/sdk-compatibility.md");
    } else {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == doc,
            "docs/sdk-compatibility.md differs from what the suite produced; rerun with \
             IRSA_BLESS=1 to rewrite it. Produced:\n{doc}"
        );
    }
}
