//! The AWS config profile access method: `role_arn` + `web_identity_token_file` in a written
//! config file, selected by `AWS_PROFILE`, with the Rust SDK and with boto3 under `irsa exec`.

use irsa_harness::Harness;
use tokio::process::Command;

const WORLD: &str = "tests/fixtures/my-world.yaml";
const ROLE_PREFIX: &str = "arn:aws:sts::111122223333:assumed-role/curity-dynamodb/";

#[tokio::test]
async fn rust_sdk_assumes_the_role_through_a_web_identity_profile() {
    let harness = Harness::builder()
        .world(WORLD)
        .start()
        .await
        .expect("start");
    let env = harness
        .profile_env("curity", "dynamo-sa", "curity")
        .expect("profile env");
    assert!(env.iter().all(|(k, _)| k != "AWS_ROLE_ARN"), "{env:?}");
    let config = irsa_harness::harness::config_from_env(harness.state_dir(), env)
        .load()
        .await;
    let sts = irsa_harness::aws_sdk_sts::Client::new(&config);
    let me = sts.get_caller_identity().send().await.expect("caller");
    assert!(
        me.arn().unwrap_or_default().starts_with(ROLE_PREFIX),
        "{me:?}"
    );
    let records = harness.audit().expect("audit");
    assert!(
        records
            .iter()
            .any(|r| r["eventName"] == "AssumeRoleWithWebIdentity"),
        "the profile must go through AssumeRoleWithWebIdentity"
    );
}

#[tokio::test]
async fn boto3_under_irsa_exec_profile_reads_the_written_profile() {
    let tools = match irsa_harness::backend::python::ensure_python_tools().await {
        Ok(tools) => tools,
        Err(e) => panic!("the pinned boto3 venv is required: {e}"),
    };
    let state = std::env::temp_dir().join(format!("irsa-profile-exec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let harness = Harness::builder()
        .world(WORLD)
        .state_dir(&state)
        .start()
        .await
        .expect("start");
    let script = r#"
import os, boto3
assert "AWS_ROLE_ARN" not in os.environ and "AWS_WEB_IDENTITY_TOKEN_FILE" not in os.environ
print(os.environ["AWS_PROFILE"])
print(open(os.environ["AWS_CONFIG_FILE"]).read().splitlines()[1])
print(boto3.Session().get_credentials().method)
print(boto3.client("sts").get_caller_identity()["Arn"])
"#;
    let home = state.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let out = Command::new(env!("CARGO_BIN_EXE_irsa"))
        .arg("exec")
        .arg("--state-dir")
        .arg(&state)
        .args([
            "--service-account",
            "curity/dynamo-sa",
            "--profile",
            "curity",
            "--",
        ])
        .arg(&tools.python)
        .args(["-c", script])
        .env("HOME", &home)
        .output()
        .await
        .expect("irsa exec runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "curity");
    assert_eq!(lines[1], "[profile curity]");
    assert_eq!(lines[2], "assume-role-with-web-identity");
    assert!(lines[3].starts_with(ROLE_PREFIX), "{stdout}");
    harness.shutdown().await;
    let _ = std::fs::remove_dir_all(&state);
}
