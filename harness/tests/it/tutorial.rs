//! The Curity DynamoDB tutorial, verbatim, with the AWS CLI v1 from PyPI against `irsa up`: the
//! cluster's issuer from `aws eks describe-cluster`, the IAM OIDC provider, policy and role made
//! with `aws iam` and the administrator's keys from `DIR/env/admin.env`, then a pod (`irsa exec`)
//! reading and writing `curity-*` tables. The world starts without provider, policy or role.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{irsa_up, repo};

const ACCOUNT: &str = "111122223333";

fn scratch(name: &str) -> PathBuf {
    common::scratch("tutorial", name)
}

fn read_env(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The AWS CLI with exactly `env` (plus PATH), a fresh HOME and no config files, in `cwd`.
fn aws(aws: &Path, env: &[(String, String)], home: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(aws)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_tutorial_runs_verbatim_with_the_aws_cli_against_irsa_up() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tools = runtime
        .block_on(irsa_harness::backend::python::ensure_python_tools())
        .expect("a venv with the AWS CLI from PyPI");
    let state = scratch("state");
    let work = scratch("work");
    let world = repo().join("scenarios/worlds/curity-tutorial.yaml");
    let up = irsa_up(&world, &state);
    let admin = read_env(&state.join("env/admin.env"));
    for key in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_EKS",
    ] {
        assert!(
            admin.iter().any(|(k, _)| k == key),
            "{key} not in admin.env"
        );
    }
    let run = |args: &[&str]| aws(&tools.aws, &admin, &scratch("home"), &work, args);

    // Who am I: the administrator, an IAM user.
    let me = ok(
        &run(&[
            "sts",
            "get-caller-identity",
            "--query",
            "Arn",
            "--output",
            "text",
        ]),
        "get-caller-identity",
    );
    assert_eq!(me.trim(), format!("arn:aws:iam::{ACCOUNT}:user/admin"));

    // Before the tutorial: the pod is refused, as on EKS without an IAM OIDC provider.
    let before = common::pod_aws(
        &up,
        &scratch("home"),
        &tools.aws,
        &[
            "dynamodb",
            "get-item",
            "--table-name",
            "curity-accounts",
            "--key",
            r#"{"pk":{"S":"x"}}"#,
        ],
    );
    let stderr = String::from_utf8_lossy(&before.stderr);
    assert!(!before.status.success());
    assert!(
        stderr.contains("InvalidIdentityToken") && stderr.contains("No OpenIDConnect provider found in your account for https://oidc.eks.eu-west-1.amazonaws.com/id/"),
        "{stderr}"
    );

    // aws eks describe-cluster --name curity-dynamo-irsa --query "cluster.identity.oidc.issuer" --output text
    let issuer = ok(
        &run(&[
            "eks",
            "describe-cluster",
            "--name",
            "curity-dynamo-irsa",
            "--query",
            "cluster.identity.oidc.issuer",
            "--output",
            "text",
        ]),
        "describe-cluster",
    );
    let issuer = issuer.trim().to_owned();
    assert!(
        issuer.starts_with("https://oidc.eks.eu-west-1.amazonaws.com/id/"),
        "{issuer}"
    );
    let oidc_id = issuer.rsplit('/').next().unwrap().to_owned();
    let host_path = issuer.trim_start_matches("https://").to_owned();

    // An unknown cluster: EKS's 404.
    let missing = run(&["eks", "describe-cluster", "--name", "nope"]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("An error occurred (ResourceNotFoundException) when calling the DescribeCluster operation: No cluster found for name: nope."),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );

    // aws iam list-open-id-connect-providers | grep $oidc_id  → nothing yet.
    let listed = ok(
        &run(&["iam", "list-open-id-connect-providers"]),
        "list providers",
    );
    assert!(!listed.contains(&oidc_id), "{listed}");

    // The provider, as eksctl utils associate-iam-oidc-provider registers it.
    let created = ok(
        &run(&[
            "iam",
            "create-open-id-connect-provider",
            "--url",
            &issuer,
            "--client-id-list",
            "sts.amazonaws.com",
            "--thumbprint-list",
            "9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
        ]),
        "create provider",
    );
    let provider_arn = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{host_path}");
    assert!(created.contains(&provider_arn), "{created}");
    let listed = ok(
        &run(&["iam", "list-open-id-connect-providers"]),
        "list providers",
    );
    assert!(listed.contains(&oidc_id), "{listed}");
    let again = run(&["iam", "create-open-id-connect-provider", "--url", &issuer]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("An error occurred (EntityAlreadyExists) when calling the CreateOpenIDConnectProvider operation: Provider with url"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let got = ok(
        &run(&[
            "iam",
            "get-open-id-connect-provider",
            "--open-id-connect-provider-arn",
            &provider_arn,
        ]),
        "get provider",
    );
    assert!(
        got.contains("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
            && got.contains("sts.amazonaws.com"),
        "{got}"
    );

    // aws iam create-policy --policy-name dynamo-iam-policy --policy-document file://dynamo-iam-policy.json
    std::fs::copy(
        repo().join("scenarios/worlds/curity/dynamo-iam-policy.json"),
        work.join("dynamo-iam-policy.json"),
    )
    .unwrap();
    let policy = ok(
        &run(&[
            "iam",
            "create-policy",
            "--policy-name",
            "dynamo-iam-policy",
            "--policy-document",
            "file://dynamo-iam-policy.json",
        ]),
        "create-policy",
    );
    let policy_arn = format!("arn:aws:iam::{ACCOUNT}:policy/dynamo-iam-policy");
    assert!(policy.contains(&policy_arn), "{policy}");

    // The trust policy eksctl create iamserviceaccount writes.
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                format!("{host_path}:aud"): "sts.amazonaws.com",
                format!("{host_path}:sub"): "system:serviceaccount:curity:dynamo-sa"
            }}
        }]
    });
    std::fs::write(work.join("trust-policy.json"), format!("{trust:#}")).unwrap();
    let role = ok(
        &run(&[
            "iam",
            "create-role",
            "--role-name",
            "curity-dynamodb",
            "--assume-role-policy-document",
            "file://trust-policy.json",
        ]),
        "create-role",
    );
    assert!(
        role.contains(&format!("arn:aws:iam::{ACCOUNT}:role/curity-dynamodb")),
        "{role}"
    );
    // botocore decodes IAM's URL-encoded documents: the CLI prints the trust policy as JSON.
    let role_json: serde_json::Value = serde_json::from_str(&ok(
        &run(&[
            "iam",
            "get-role",
            "--role-name",
            "curity-dynamodb",
            "--output",
            "json",
        ]),
        "get-role",
    ))
    .unwrap();
    assert_eq!(
        role_json["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Federated"],
        provider_arn.as_str()
    );
    let no_role = run(&["iam", "get-role", "--role-name", "nope"]);
    assert!(
        String::from_utf8_lossy(&no_role.stderr).contains("An error occurred (NoSuchEntity) when calling the GetRole operation: The role with name nope cannot be found."),
        "{}",
        String::from_utf8_lossy(&no_role.stderr)
    );

    // Role exists, policy not attached yet: the pod assumes the role but may do nothing.
    let home = scratch("home");
    let unattached = common::pod_aws(
        &up,
        &home,
        &tools.aws,
        &[
            "dynamodb",
            "get-item",
            "--table-name",
            "curity-accounts",
            "--key",
            r#"{"pk":{"S":"x"}}"#,
        ],
    );
    assert!(
        String::from_utf8_lossy(&unattached.stderr).contains("(AccessDeniedException) when calling the GetItem operation: User: arn:aws:sts::111122223333:assumed-role/curity-dynamodb/"),
        "{}",
        String::from_utf8_lossy(&unattached.stderr)
    );

    // aws iam attach-role-policy: takes effect for the next call, even of the same session.
    ok(
        &run(&[
            "iam",
            "attach-role-policy",
            "--role-name",
            "curity-dynamodb",
            "--policy-arn",
            &policy_arn,
        ]),
        "attach-role-policy",
    );
    let attached = ok(
        &run(&[
            "iam",
            "list-attached-role-policies",
            "--role-name",
            "curity-dynamodb",
        ]),
        "list-attached-role-policies",
    );
    assert!(attached.contains(&policy_arn), "{attached}");

    // The pod reads and writes curity-* tables, and nothing else.
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
            r#"{"pk":{"S":"un#tutorial"},"userName":{"S":"tutorial"}}"#,
        ],
    );
    ok(&put, "pod put-item");
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
            r#"{"pk":{"S":"un#tutorial"}}"#,
            "--output",
            "json",
        ],
    );
    assert!(ok(&get, "pod get-item").contains("\"tutorial\""));
    let other = common::pod_aws(
        &up,
        &home,
        &tools.aws,
        &["dynamodb", "scan", "--table-name", "other-table"],
    );
    assert!(
        String::from_utf8_lossy(&other.stderr)
            .contains("because no identity-based policy allows the dynamodb:Scan action"),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
}

#[test]
fn the_iam_api_enforces_the_signing_users_policies() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tools = runtime
        .block_on(irsa_harness::backend::python::ensure_python_tools())
        .expect("a venv with the AWS CLI from PyPI");
    let state = scratch("state-auditor");
    let work = scratch("work-auditor");
    let world = repo().join("scenarios/worlds/curity-tutorial.yaml");
    let loaded = irsa_harness::world_file::load(&world).unwrap().world;
    let key = &loaded.users["auditor"].access_keys[0];
    let _up = irsa_up(&world, &state);
    let mut env = read_env(&state.join("env/admin.env"));
    for (k, v) in &mut env {
        match k.as_str() {
            "AWS_ACCESS_KEY_ID" => *v = key.id.clone(),
            "AWS_SECRET_ACCESS_KEY" => *v = key.secret.expose().to_owned(),
            _ => {}
        }
    }
    let run = |args: &[&str]| aws(&tools.aws, &env, &scratch("home-auditor"), &work, args);
    ok(
        &run(&["iam", "list-open-id-connect-providers"]),
        "auditor lists",
    );
    let denied = run(&[
        "iam",
        "create-role",
        "--role-name",
        "sneaky",
        "--assume-role-policy-document",
        r#"{"Version":"2012-10-17","Statement":[]}"#,
    ]);
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(!denied.status.success());
    assert!(
        stderr.contains(&format!("An error occurred (AccessDenied) when calling the CreateRole operation: User: arn:aws:iam::{ACCOUNT}:user/auditor is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::{ACCOUNT}:role/sneaky because no identity-based policy allows the iam:CreateRole action")),
        "{stderr}"
    );
    // A wrong secret: the Query front end's signature error.
    for (k, v) in &mut env {
        if k == "AWS_SECRET_ACCESS_KEY" {
            *v = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned();
        }
    }
    let forged = aws(
        &tools.aws,
        &env,
        &scratch("home-forged"),
        &work,
        &["iam", "list-open-id-connect-providers"],
    );
    assert!(
        String::from_utf8_lossy(&forged.stderr).contains("(SignatureDoesNotMatch)"),
        "{}",
        String::from_utf8_lossy(&forged.stderr)
    );
}

/// wire-contracts §6 trap 8: the AWS CLI v1 caches web-identity credentials under
/// `~/.aws/cli/cache`, so a later STS refusal stays hidden for that HOME; a fresh HOME sees it.
#[test]
fn the_aws_cli_disk_cache_hides_a_later_sts_refusal_unless_home_is_fresh() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tools = runtime
        .block_on(irsa_harness::backend::python::ensure_python_tools())
        .expect("a venv with the AWS CLI from PyPI");
    let state = scratch("state-cache");
    let work = scratch("work-cache");
    let up = irsa_up(&repo().join("scenarios/worlds/curity.yaml"), &state);
    let admin = read_env(&state.join("env/admin.env"));
    let cached_home = scratch("home-cached");
    let who = |home: &Path| {
        common::pod_aws(
            &up,
            home,
            &tools.aws,
            &[
                "sts",
                "get-caller-identity",
                "--query",
                "Arn",
                "--output",
                "text",
            ],
        )
    };
    let first = ok(&who(&cached_home), "first get-caller-identity");
    assert!(first.contains("assumed-role/curity-dynamodb/"), "{first}");
    assert!(
        cached_home.join(".aws/cli/cache").is_dir(),
        "the CLI cached the credentials"
    );

    // The role stops trusting the cluster.
    std::fs::write(
        work.join("deny.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#,
    )
    .unwrap();
    ok(
        &aws(
            &tools.aws,
            &admin,
            &scratch("home-admin"),
            &work,
            &[
                "iam",
                "update-assume-role-policy",
                "--role-name",
                "curity-dynamodb",
                "--policy-document",
                "file://deny.json",
            ],
        ),
        "update-assume-role-policy",
    );

    let cached = who(&cached_home);
    assert!(
        cached.status.success(),
        "the disk cache answers without calling STS: {}",
        String::from_utf8_lossy(&cached.stderr)
    );
    let fresh = who(&scratch("home-fresh"));
    let stderr = String::from_utf8_lossy(&fresh.stderr);
    assert!(!fresh.status.success());
    assert!(
        stderr.contains("An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity"),
        "{stderr}"
    );
}
