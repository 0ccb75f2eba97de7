//! The Curity workload through boto3 (from the cached venv), with nothing but the pod's
//! environment, against DynamoDB Local: the allowed calls under the least-privilege policy, each
//! negative case denied as AWS answers it, a denied transaction writing nothing, and
//! `dynamodb:LeadingKeys` isolating two service accounts' rows.

use std::collections::BTreeMap;
use std::path::Path;

use irsa_tests::{backend_client, s, scratch_dir, start_stack};
use serde_json::Value;

/// Run the script as a pod of `namespace/name`; its steps by name.
async fn run_script(
    stack: &irsa_harness::stack::Stack,
    namespace: &str,
    name: &str,
    args: &[&str],
) -> BTreeMap<String, Value> {
    let tools = irsa_harness::backend::python::ensure_python_tools()
        .await
        .expect("the Python venv with boto3");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/curity_workload.py");
    let home = scratch_dir(&format!("boto3-home-{namespace}-{name}"));
    let none = home.join("no-such-aws-file");
    let output = tokio::process::Command::new(&tools.python)
        .arg(&script)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none)
        .envs(stack.pod_env(namespace, name).expect("pod env"))
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "boto3 script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            (v["step"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

fn allowed(steps: &BTreeMap<String, Value>, step: &str) {
    let v = &steps[step];
    assert_eq!(v["ok"], true, "boto3 step `{step}` was refused: {v}");
}

fn denied(steps: &BTreeMap<String, Value>, step: &str, code: &str, message: &str) {
    let v = &steps[step];
    assert_eq!(v["ok"], false, "boto3 step `{step}` was allowed");
    assert_eq!(v["code"], code, "boto3 step `{step}`: {v}");
    let got = v["message"].as_str().unwrap_or_default();
    assert!(
        got.contains(message),
        "boto3 step `{step}`: `{got}` lacks `{message}`"
    );
}

#[tokio::test]
async fn boto3_runs_the_curity_workload_under_the_least_privilege_policy() {
    let stack = start_stack("curity-least-privilege.yaml", "boto3-workload").await;
    let steps = run_script(&stack, "curity", "dynamo-sa", &["least-privilege"]).await;
    for step in [
        "describe accounts",
        "create session",
        "read session",
        "password check",
        "create account",
        "query accounts by key",
        "the denied transaction wrote nothing",
        "delete account",
    ] {
        allowed(&steps, step);
    }
    let head = "User: arn:aws:sts::111122223333:assumed-role/curity-dynamodb/";
    denied(
        &steps,
        "query an index not granted",
        "AccessDeniedException",
        "on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts/index/userNameInitial-userName-index because no identity-based policy allows the dynamodb:Query action",
    );
    denied(
        &steps,
        "scan without a grant",
        "AccessDeniedException",
        head,
    );
    denied(
        &steps,
        "delete table",
        "AccessDeniedException",
        "dynamodb:DeleteTable",
    );
    denied(
        &steps,
        "table outside the grant",
        "AccessDeniedException",
        "table/other-table because no identity-based policy allows the dynamodb:GetItem action",
    );
    denied(
        &steps,
        "delete a session (explicit deny)",
        "AccessDeniedException",
        "dynamodb:DeleteItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/curity-sessions with an explicit deny in an identity-based policy",
    );
    denied(
        &steps,
        "transaction with one denied item",
        "AccessDeniedException",
        "dynamodb:DeleteItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/curity-sessions",
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn boto3_pods_see_only_their_own_rows_under_leading_keys() {
    let stack = start_stack("tenants.yaml", "boto3-tenants").await;
    for (me, other) in [("tenant-a", "tenant-b"), ("tenant-b", "tenant-a")] {
        let steps = run_script(&stack, "tenants", me, &["tenant", me, other]).await;
        allowed(&steps, "write own row");
        allowed(&steps, "query own partition");
        denied(
            &steps,
            "read the other tenant's row",
            "AccessDeniedException",
            "because no identity-based policy allows the dynamodb:GetItem action",
        );
        denied(
            &steps,
            "write into the other tenant's partition",
            "AccessDeniedException",
            "dynamodb:PutItem",
        );
    }
    // Nothing of the refused writes reached DynamoDB Local.
    let backend = backend_client(&stack.world().region);
    for victim in ["tenant-a", "tenant-b"] {
        let item = backend
            .get_item()
            .table_name("tenants-rows")
            .key(
                "tenant",
                s(&format!("system:serviceaccount:tenants:{victim}")),
            )
            .key("item", s("intruder"))
            .send()
            .await
            .expect("backend read");
        assert!(item.item().is_none(), "an intruder row reached {victim}");
    }
    stack.shutdown().await;
}
