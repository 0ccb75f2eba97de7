//! `irsa curity-sim` as a pod under the bundled least-privilege world: which of Curity's
//! operations that policy breaks.

use irsa_harness::Harness;
use tokio::process::Command;

#[tokio::test]
async fn curity_sim_shows_what_the_least_privilege_policy_breaks() {
    let harness = Harness::builder()
        .world("../scenarios/worlds/curity-least-privilege.yaml")
        .start()
        .await
        .expect("start");
    let env = harness.pod_env("curity", "dynamo-sa").expect("pod env");
    let none = harness.state_dir().join("none");
    let out = Command::new(env!("CARGO_BIN_EXE_irsa"))
        .arg("curity-sim")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", harness.state_dir())
        .env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none)
        .envs(env)
        .output()
        .await
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result = |phase: &str, operation: &str, table: &str| -> String {
        stdout
            .lines()
            .find(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                l.starts_with(phase)
                    && l.contains(&format!(" {operation} "))
                    && cols.contains(&table)
            })
            .unwrap_or_else(|| panic!("no `{phase} {operation} {table}` line in:\n{stdout}"))
            .to_owned()
    };
    let allowed = |line: String| assert!(line.ends_with("allowed"), "{line}");
    let denied = |line: String| assert!(line.ends_with("DENIED AccessDeniedException"), "{line}");
    allowed(result("startup", "DescribeTable", "curity-accounts"));
    allowed(result(
        "account create",
        "TransactWriteItems",
        "curity-accounts",
    ));
    allowed(result("login", "GetItem", "curity-accounts"));
    allowed(result("login", "PutItem", "curity-sessions"));
    allowed(result("login", "GetItem", "curity-sessions"));
    // Tables the policy does not name: the login path breaks.
    denied(result("login", "PutItem", "curity-nonces"));
    denied(result("login", "PutItem", "curity-tokens"));
    denied(result("login", "PutItem", "curity-delegations"));
    // Index ARNs are not granted.
    denied(result(
        "listing",
        "Query",
        "curity-accounts/index/userNameInitial-userName-index",
    ));
    allowed(result(
        "account update",
        "TransactWriteItems",
        "curity-accounts",
    ));
    // The explicit deny on curity-sessions.
    denied(result("logout", "DeleteItem", "curity-sessions"));
    allowed(result(
        "account delete",
        "TransactWriteItems",
        "curity-accounts",
    ));
    assert!(
        stdout.contains("with an explicit deny in an identity-based policy"),
        "{stdout}"
    );
    assert!(
        stdout.contains("because no identity-based policy allows the dynamodb:Query action"),
        "{stdout}"
    );
}
