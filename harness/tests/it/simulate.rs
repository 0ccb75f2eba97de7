//! `irsa simulate` as users run it: policy files and flags in, decision, explanation and exit
//! code out; `--jsonl` answering every stdin line.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const IRSA: &str = env!("CARGO_BIN_EXE_irsa");
const SEED: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"CurityTables","Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/curity-*"}]}"#;
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/curity-dynamodb/pod-1";
const TABLE: &str = "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("irsa-simulate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn irsa(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(IRSA)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `irsa simulate --jsonl` on `requests`: it exits 0 and answers with JSON lines.
fn simulate_jsonl(requests: &str) -> Vec<serde_json::Value> {
    let out = irsa(&["simulate", "--jsonl"], requests);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn simulate_allows_a_curity_table_and_exits_zero() {
    let dir = scratch("allow");
    let policy = write(&dir, "seed.json", SEED);
    let out = irsa(
        &[
            "simulate",
            "--policy",
            policy.to_str().unwrap(),
            "--action",
            "dynamodb:GetItem",
            "--resource",
            TABLE,
            "--principal",
            SESSION,
        ],
        "",
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("Allow: `dynamodb:GetItem`"), "{stdout}");
    assert!(
        stdout.contains("identity-based policy `seed.json`"),
        "{stdout}"
    );
    assert!(stdout.contains("`CurityTables` Allow decisive"), "{stdout}");
}

#[test]
fn simulate_explains_a_denial_and_exits_one() {
    let dir = scratch("deny");
    let policy = write(&dir, "seed.json", SEED);
    let out = irsa(
        &[
            "simulate",
            "--policy",
            policy.to_str().unwrap(),
            "--action",
            "dynamodb:DeleteTable",
            "--resource",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/billing",
        ],
        "",
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("ImplicitDeny") && stdout.contains("no identity-based policy allows it"),
        "{stdout}"
    );
    assert!(
        stdout.contains("matches none of `Resource` `arn:aws:dynamodb:*:*:table/curity-*`"),
        "{stdout}"
    );
}

#[test]
fn simulate_applies_trust_boundary_session_and_context() {
    let dir = scratch("layers");
    let identity = write(&dir, "seed.json", SEED);
    let boundary = write(
        &dir,
        "boundary.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*",
            "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]}}}]}"#,
    );
    let session = write(
        &dir,
        "session.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}]}"#,
    );
    let run = |leading: &str, action: &str| {
        irsa(
            &[
                "simulate",
                "--policy",
                identity.to_str().unwrap(),
                "--boundary",
                boundary.to_str().unwrap(),
                "--session-policy",
                session.to_str().unwrap(),
                "--action",
                action,
                "--resource",
                TABLE,
                "--principal",
                SESSION,
                "--context",
                "aws:username=alice",
                "--context",
                &format!("dynamodb:LeadingKeys=[\"{leading}\"]"),
            ],
            "",
        )
    };
    assert_eq!(run("alice", "dynamodb:GetItem").status.code(), Some(0));
    let other_user = run("bob", "dynamodb:GetItem");
    assert_eq!(other_user.status.code(), Some(1));
    assert!(text(&other_user.stdout).contains("no permissions boundary allows it"));
    let put = run("alice", "dynamodb:PutItem");
    assert_eq!(put.status.code(), Some(1));
    assert!(text(&put.stdout).contains("no session policy allows it"));

    let trust = write(
        &dir,
        "trust.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"},
            "Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:curity:dynamo-sa"}}}]}"#,
    );
    let assume = |sub: &str| {
        irsa(
            &[
                "simulate",
                "--resource-policy",
                trust.to_str().unwrap(),
                "--action",
                "sts:AssumeRoleWithWebIdentity",
                "--resource",
                "arn:aws:iam::111122223333:role/curity-dynamodb",
                "--principal",
                "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
                "--context",
                &format!("oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub={sub}"),
            ],
            "",
        )
    };
    assert_eq!(
        assume("system:serviceaccount:curity:dynamo-sa")
            .status
            .code(),
        Some(0)
    );
    let wrong = assume("system:serviceaccount:default:other");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong.stdout).contains("system:serviceaccount:default:other"),
        "{}",
        text(&wrong.stdout)
    );
}

#[test]
fn simulate_json_prints_the_explanation_as_json() {
    let dir = scratch("json");
    let policy = write(&dir, "seed.json", SEED);
    let out = irsa(
        &[
            "simulate",
            "--json",
            "--policy",
            policy.to_str().unwrap(),
            "--action",
            "dynamodb:GetItem",
            "--resource",
            TABLE,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["decision"], "Allow");
    assert_eq!(json["layers"][0]["kind"], "identity");
    assert_eq!(
        json["layers"][0]["policies"][0]["statements"][0]["decisive"],
        true
    );
}

#[test]
fn simulate_errors_exit_two_with_the_file_and_pointer() {
    let dir = scratch("error");
    let bad = write(
        &dir,
        "bad.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}"#,
    );
    let out = irsa(
        &[
            "simulate",
            "--policy",
            bad.to_str().unwrap(),
            "--action",
            "s3:GetObject",
            "--resource",
            "*",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.json") && stderr.contains("`/Statement/0/Effect`"),
        "{stderr}"
    );
    let missing = irsa(
        &[
            "simulate",
            "--policy",
            "/nonexistent/p.json",
            "--action",
            "a:b",
            "--resource",
            "*",
        ],
        "",
    );
    assert_eq!(missing.status.code(), Some(2));
    let no_action = irsa(&["simulate", "--resource", "*"], "");
    assert_eq!(no_action.status.code(), Some(2));
}

#[test]
fn simulate_jsonl_answers_every_line_in_order() {
    let requests = format!(
        "{}\n# comment\nnot json\n{}\n{}\n",
        serde_json::json!({"id": "ok", "identityPolicies": [SEED],
            "request": {"principal": SESSION, "action": "dynamodb:GetItem", "resource": TABLE,
                        "context": {"dynamodb:LeadingKeys": ["u1"]}}}),
        serde_json::json!({"id": 2, "identityPolicies": [SEED],
            "request": {"principal": SESSION, "action": "dynamodb:GetItem",
                        "resource": "arn:aws:dynamodb:eu-west-1:111122223333:table/billing"}}),
        serde_json::json!({"id": 3, "request": {"action": 5}}),
    );
    let lines = simulate_jsonl(&requests);
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0]["id"], "ok");
    assert_eq!(lines[0]["decision"], "Allowed");
    assert!(lines[0]["explanation"]["layers"].is_array());
    assert_eq!(lines[1]["decision"], "Error");
    assert_eq!(lines[1]["error"], "invalid.json");
    assert_eq!(lines[2]["id"], 2);
    assert_eq!(lines[2]["decision"], "ImplicitlyDenied");
    assert_eq!(lines[3]["id"], 3);
    assert_eq!(lines[3]["error"], "invalid.request");
}

#[test]
fn simulate_jsonl_evaluates_accounts_scp_hierarchies_and_rcps() {
    let shared_table = "arn:aws:dynamodb:eu-west-1:444455556666:table/curity-accounts";
    let shared = serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"AWS":"111122223333"},"Action":"dynamodb:GetItem","Resource":shared_table}]});
    let allow_all = serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]});
    let no_get = serde_json::json!({"Version":"2012-10-17","Statement":[{"Sid":"NoGet","Effect":"Deny","Action":"dynamodb:GetItem","Resource":"*"}]});
    let perimeter = serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",
        "Action":"dynamodb:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]});
    let get = |resource: &str| serde_json::json!({"principal": SESSION, "action": "dynamodb:GetItem", "resource": resource});
    let requests = [
        serde_json::json!({"id": "cross-no-resource-policy", "identityPolicies": [SEED], "request": get(shared_table)}),
        serde_json::json!({"id": "cross-shared", "identityPolicies": [SEED], "resourcePolicy": shared, "request": get(shared_table)}),
        serde_json::json!({"id": "scp-ou-deny", "identityPolicies": [SEED], "request": get(TABLE),
            "scp": [{"orgIdentifier": "r-ab12", "policies": [allow_all]},
                    {"orgIdentifier": "ou-prod", "policies": [allow_all, no_get]},
                    {"orgIdentifier": "111122223333", "policies": [allow_all]}]}),
        serde_json::json!({"id": "rcp-outsider", "identityPolicies": [SEED], "resourcePolicy": shared,
            "rcp": [{"orgIdentifier": "r-cd34", "policies": [perimeter]}], "request": get(shared_table)}),
    ]
    .iter()
    .map(|r| format!("{r}\n"))
    .collect::<String>();
    let lines = simulate_jsonl(&requests);
    let answers: Vec<(&str, &str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap_or(""),
                l["decision"].as_str().unwrap_or(""),
                l["explanation"]["denied_by"].as_str().unwrap_or("-"),
                l["explanation"]["denied_at"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        answers,
        [
            (
                "cross-no-resource-policy",
                "ImplicitlyDenied",
                "resource",
                "-"
            ),
            ("cross-shared", "Allowed", "-", "-"),
            (
                "scp-ou-deny",
                "ExplicitlyDenied",
                "service_control",
                "ou-prod"
            ),
            (
                "rcp-outsider",
                "ExplicitlyDenied",
                "resource_control",
                "r-cd34"
            ),
        ],
        "{lines:?}"
    );
    assert_eq!(
        lines[1]["explanation"]["cross_account"]["resource_account"],
        "444455556666"
    );
}
