//! The `irsa` binary as users run it: `irsa run` on the bundled catalog, and `irsa up` +
//! `irsa exec -- aws dynamodb …` with the AWS CLI from PyPI.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{IRSA, Up, repo};

fn scratch(name: &str) -> std::path::PathBuf {
    common::scratch("cli", name)
}

fn irsa_up(state: &Path) -> (Up, String) {
    let up = common::irsa_up(&repo().join("scenarios/worlds/curity.yaml"), state);
    let endpoint = up.endpoint.clone();
    (up, endpoint)
}

#[test]
fn irsa_run_passes_the_bundled_catalog_and_prints_the_table() {
    let state = scratch("run");
    // The folder holding `catalog/` and `worlds/`: searched recursively, world files skipped.
    let out = Command::new(IRSA)
        .args(["run", "scenarios", "--state-dir"])
        .arg(&state)
        .arg("--json")
        .arg(state.join("report.json"))
        .current_dir(repo())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("scenario") && stdout.contains("expected") && stdout.contains("got"));
    assert!(stdout.contains("deny AccessDeniedException"), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    assert!(!stdout.contains('✗'), "{stdout}");
    // Every catalog file ran: as many scenarios in the JSON report as files in the catalog.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("report.json")).unwrap()).unwrap();
    let mut names: Vec<&str> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scenario"].as_str().unwrap())
        .collect();
    names.dedup();
    let files = std::fs::read_dir(repo().join("scenarios/catalog"))
        .unwrap()
        .count();
    assert_eq!(names.len(), files, "{names:?}");
}

#[test]
fn irsa_run_exits_1_and_explains_when_an_expectation_is_wrong() {
    let dir = scratch("run-fail");
    let world = repo().join("scenarios/worlds/curity.yaml");
    let scenario = dir.join("wrong.yaml");
    std::fs::write(
        &scenario,
        format!(
            "name: wrong expectation\nworld: {0}\nsteps:\n  - name: expects allow on a table outside the prefix\n    as: curity/dynamo-sa\n    call: dynamodb:DeleteTable\n    request: {{TableName: other-table}}\n    expect: allow\n",
            world.display()
        ),
    )
    .unwrap();
    let out = Command::new(IRSA)
        .arg("run")
        .arg(&scenario)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--junit")
        .arg(dir.join("junit.xml"))
        .arg("--json")
        .arg(dir.join("report.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains('✗'), "{stdout}");
    assert!(
        stdout.contains("is not authorized to perform: dynamodb:DeleteTable on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/other-table"),
        "{stdout}"
    );
    // The policy engine's explanation is printed under the failed row.
    assert!(
        stdout.contains("ImplicitDeny: `dynamodb:DeleteTable`")
            && stdout.contains("identity-based policy `dynamo-iam-policy`"),
        "{stdout}"
    );
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains("tests=\"1\" failures=\"1\""), "{junit}");
    assert!(
        junit.contains("<failure message=\"expected allow, got deny AccessDeniedException\">"),
        "{junit}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["failed"], 1);
    assert_eq!(report["steps"][0]["error_code"], "AccessDeniedException");

    // `irsa audit --denied` on the run's trail names the table the call was refused on; the
    // deny is implicit, so no statement decided it.
    let audit = Command::new(IRSA)
        .args(["audit", "--denied", "--state-dir"])
        .arg(dir.join("state/world-0"))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&audit.stdout);
    assert_eq!(audit.status.code(), Some(0), "{table}");
    let header = table.lines().next().unwrap_or_default();
    assert!(
        header.contains("RESOURCE") && header.ends_with("DECISIVE STATEMENT"),
        "{table}"
    );
    let row = table
        .lines()
        .find(|l| l.contains("DeleteTable"))
        .unwrap_or_else(|| panic!("no DeleteTable row:\n{table}"));
    assert!(row.contains("AccessDeniedException"), "{row}");
    assert!(row.contains("table/other-table"), "{row}");
    assert!(row.trim_end().ends_with(" -"), "{row}");

    // The compact format: one line per step under its scenario, the failure's details below it,
    // and no colour when stdout is not a terminal (even though it was asked for by format).
    let out = Command::new(IRSA)
        .args(["run", "--format", "compact"])
        .arg(&scenario)
        .arg("--state-dir")
        .arg(dir.join("state-compact"))
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"wrong expectation"), "{stdout}");
    assert!(
        lines.get(1).is_some_and(|l| l.starts_with(
            "  ✗ expects allow on a table outside the prefix  curity/dynamo-sa  dynamodb:DeleteTable  expected allow, got deny AccessDeniedException"
        )),
        "{stdout}"
    );
    assert_eq!(lines.get(2), Some(&"      on other-table"), "{stdout}");
    assert!(
        stdout.contains("is not authorized to perform: dynamodb:DeleteTable"),
        "{stdout}"
    );
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
    assert!(
        !stdout.contains('…'),
        "not cut when written to a pipe: {stdout}"
    );
    // Neither the report nor the log carry colour escapes into a pipe.
    assert!(
        !stdout.contains('\u{1b}') && !stderr.contains('\u{1b}'),
        "{stderr}"
    );
}

#[test]
fn irsa_run_exits_2_when_a_folder_holds_no_scenario() {
    let dir = scratch("run-none");
    std::fs::copy(
        repo().join("scenarios/worlds/tenants.yaml"),
        dir.join("tenants.yaml"),
    )
    .unwrap();
    let out = Command::new(IRSA).arg("run").arg(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no scenario file in"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
}

#[test]
fn irsa_run_exits_2_naming_the_nearest_operation_of_a_misspelt_call() {
    let dir = scratch("run-typo");
    let scenario = dir.join("typo.yaml");
    std::fs::write(
        &scenario,
        format!(
            "name: typo\nworld: {}\nsteps:\n  - as: curity/dynamo-sa\n    call: dynamodb:GetItm\n    request: {{TableName: curity-accounts}}\n    expect: allow\n",
            repo().join("scenarios/worlds/curity.yaml").display()
        ),
    )
    .unwrap();
    let out = Command::new(IRSA)
        .arg("run")
        .arg(&scenario)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "typo.yaml:5: /steps/0/call: `GetItm` is not a DynamoDB operation; did you mean `GetItem`?"
        ),
        "{stderr}"
    );
}

#[test]
fn irsa_run_exits_2_naming_every_problem_of_a_bad_scenario() {
    let dir = scratch("run-bad");
    std::fs::write(
        dir.join("bad.yaml"),
        "name: bad\nwrld: x\nsteps:\n  - as: nobody\n    call: s3:GetObject\n    expect: allow\n",
    )
    .unwrap();
    // Parses, but names what its world lacks: found in stage two, reported with stage one's.
    std::fs::write(
        dir.join("unknown.yaml"),
        format!(
            "name: unknown\nworld: {}\nsteps:\n  - as: curity/ghost\n    call: dynamodb:ListTables\n    expect: allow\n",
            repo().join("scenarios/worlds/curity.yaml").display()
        ),
    )
    .unwrap();
    let out = Command::new(IRSA).arg("run").arg(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for expected in [
        "bad.yaml:2: /wrld: unknown field",
        "bad.yaml:1: /world: `world` is required",
        "bad.yaml:4: /steps/0/as:",
        "bad.yaml:5: /steps/0/call:",
        "unknown.yaml:4: /steps/0/as: `curity/ghost` is not a service account of the world",
    ] {
        assert!(
            stderr.contains(expected),
            "missing `{expected}` in:\n{stderr}"
        );
    }
}

#[test]
fn aws_cli_under_irsa_exec_reads_and_writes_curity_tables_and_is_denied_elsewhere() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tools = runtime
        .block_on(irsa_harness::backend::python::ensure_python_tools())
        .expect("a venv with the AWS CLI from PyPI");
    let state = scratch("up");
    let home = scratch("home");
    let (up, endpoint) = irsa_up(&state);
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let env_file = std::fs::read_to_string(state.join("env/curity/dynamo-sa.env")).unwrap();
    for key in [
        "AWS_ROLE_ARN=arn:aws:iam::111122223333:role/curity-dynamodb",
        "AWS_WEB_IDENTITY_TOKEN_FILE=",
        "AWS_REGION=eu-west-1",
        "AWS_DEFAULT_REGION=eu-west-1",
        "AWS_STS_REGIONAL_ENDPOINTS=regional",
        "AWS_ENDPOINT_URL_STS=",
        "AWS_ENDPOINT_URL_DYNAMODB=",
    ] {
        assert!(env_file.contains(key), "{key} missing from\n{env_file}");
    }
    let token = std::fs::read(state.join("tokens/curity/dynamo-sa/token")).unwrap();
    assert!(
        !token.ends_with(b"\n"),
        "token files have no trailing newline"
    );

    let item = r#"{"pk":{"S":"un#cli-user"},"userName":{"S":"cli"}}"#;
    let put = common::pod_aws(
        &up,
        &home,
        &tools.aws,
        &[
            "dynamodb",
            "put-item",
            "--table-name",
            "curity-accounts",
            "--item",
            item,
        ],
    );
    assert!(
        put.status.success(),
        "put-item: {}",
        String::from_utf8_lossy(&put.stderr)
    );
    let get = common::pod_aws(
        &up,
        &home,
        &tools.aws,
        &[
            "dynamodb",
            "get-item",
            "--table-name",
            "curity-accounts",
            "--key",
            r#"{"pk":{"S":"un#cli-user"}}"#,
            "--output",
            "json",
        ],
    );
    assert!(
        get.status.success(),
        "get-item: {}",
        String::from_utf8_lossy(&get.stderr)
    );
    assert!(String::from_utf8_lossy(&get.stdout).contains("\"cli\""));

    let denied = common::pod_aws(
        &up,
        &home,
        &tools.aws,
        &["dynamodb", "delete-table", "--table-name", "other-table"],
    );
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(!denied.status.success());
    assert!(
        stderr.contains("An error occurred (AccessDeniedException) when calling the DeleteTable operation: User: arn:aws:sts::111122223333:assumed-role/curity-dynamodb/"),
        "{stderr}"
    );
    assert!(
        stderr.contains("because no identity-based policy allows the dynamodb:DeleteTable action"),
        "{stderr}"
    );
}

#[test]
fn irsa_up_stops_cleanly_on_ctrl_c() {
    let state = scratch("up-ctrl-c");
    let (mut up, _) = irsa_up(&state);
    let stack_json = up.state.join("stack.json");
    let info: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&stack_json).expect("`irsa up` wrote stack.json"),
    )
    .unwrap();
    let backend = info["dynamodb_backend"]
        .as_str()
        .expect("stack.json names its dynamodb_backend");
    let backend: std::net::SocketAddr = backend
        .strip_prefix("http://")
        .unwrap_or(backend)
        .parse()
        .unwrap_or_else(|e| panic!("`{backend}` is not http://ip:port: {e}"));
    assert!(
        std::net::TcpStream::connect_timeout(&backend, Duration::from_secs(5)).is_ok(),
        "the backend answers while `irsa up` runs"
    );

    let kill = Command::new("kill")
        .arg("-INT")
        .arg(up.child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success(), "kill -INT");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = up.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "`irsa up` did not exit within 60 s of SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");

    // The child has exited, so its stdout reaches end of file and the reader thread hangs up.
    let mut rest = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match up.lines.recv_timeout(left) {
            Ok(line) => rest.push(line),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("stdout did not close: {rest:?}")
            }
        }
    }
    assert!(rest.iter().any(|l| l == "irsa: stopped"), "{rest:?}");
    assert!(!stack_json.exists(), "stack.json is removed on stop");

    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect_timeout(&backend, Duration::from_secs(1)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the DynamoDB backend at {backend} still answers after `irsa up` stopped"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// boto3, configured by nothing but the pod environment `irsa exec` gives it.
const BOTO3_PROBE: &str = r#"
import json, boto3, botocore.exceptions
out = {}
ddb = boto3.client("dynamodb")
ddb.put_item(TableName="curity-accounts", Item={"pk": {"S": "un#boto3"}, "userName": {"S": "boto"}})
out["get"] = ddb.get_item(TableName="curity-accounts", Key={"pk": {"S": "un#boto3"}}, ConsistentRead=True)["Item"]["userName"]["S"]
out["query"] = ddb.query(TableName="curity-accounts", KeyConditionExpression="pk = :pk",
                         ExpressionAttributeValues={":pk": {"S": "un#boto3"}})["Count"]
try:
    ddb.delete_table(TableName="other-table")
    out["delete_table"] = "allowed"
except botocore.exceptions.ClientError as e:
    out["delete_table"] = {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                           "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
out["arn"] = boto3.client("sts").get_caller_identity()["Arn"]
print(json.dumps(out))
"#;

#[test]
fn boto3_under_irsa_exec_reads_and_writes_curity_tables_and_sees_aws_denials() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tools = runtime
        .block_on(irsa_harness::backend::python::ensure_python_tools())
        .expect("a venv with boto3 from PyPI");
    let state = scratch("boto3");
    let (up, _endpoint) = irsa_up(&state);
    let script = state.join("probe.py");
    std::fs::write(&script, BOTO3_PROBE).unwrap();
    let out = Command::new(IRSA)
        .arg("exec")
        .arg("--state-dir")
        .arg(&up.state)
        .args(["--service-account", "curity/dynamo-sa", "--"])
        .arg(&tools.python)
        .arg(&script)
        .env("HOME", scratch("boto3-home"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value =
        serde_json::from_str(stdout.trim()).expect("the probe prints JSON");
    assert_eq!(result["get"], "boto");
    assert_eq!(result["query"], 1);
    assert_eq!(result["delete_table"]["code"], "AccessDeniedException");
    assert_eq!(result["delete_table"]["status"], 400);
    let message = result["delete_table"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "User: arn:aws:sts::111122223333:assumed-role/curity-dynamodb/botocore-session-"
        ),
        "{message}"
    );
    assert!(
        message
            .ends_with("because no identity-based policy allows the dynamodb:DeleteTable action"),
        "{message}"
    );
    let arn = result["arn"].as_str().unwrap();
    assert!(
        arn.starts_with("arn:aws:sts::111122223333:assumed-role/curity-dynamodb/botocore-session-"),
        "{arn}"
    );
}
