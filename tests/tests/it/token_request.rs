//! The Kubernetes TokenRequest API of the mock cluster, driven by the real clients: `kubectl
//! create token` with the kubeconfig the stack writes, and kube-rs's `create_token_request`. The
//! tokens they get verify against the issuer's JWKS and buy credentials from STS.

use std::path::Path;
use std::process::Command;

use irsa_harness::stack::Stack;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

const CLUSTER: &str = "curity-dynamo-irsa";

fn kubectl() -> Option<&'static Path> {
    let path = Path::new("/usr/bin/kubectl");
    path.exists().then_some(path)
}

/// The token verifies with the cluster's JWKS and STS grants the service account's role for it.
async fn assert_usable(stack: &Stack, token: &str, expected_lifetime: i64) {
    let peeked = irsa_core::token::peek(token).expect("a JWT");
    let issuer = stack.issuers().by_cluster(CLUSTER).expect("issuer");
    irsa_core::token::verify_signature(token, &peeked, &issuer.jwks())
        .expect("verifies with the issuer's JWKS");
    let c = &peeked.claims;
    assert_eq!(c.iss, issuer.url());
    assert_eq!(
        c.sub.as_deref(),
        Some("system:serviceaccount:curity:dynamo-sa")
    );
    assert_eq!(
        c.aud.as_ref().map(|a| a.values().join(",")),
        Some("sts.amazonaws.com".to_owned())
    );
    assert_eq!(
        c.exp.zip(c.iat).map(|(e, i)| e - i),
        Some(expected_lifetime)
    );
    assert!(
        c.other["kubernetes.io"].get("pod").is_none(),
        "a TokenRequest without a bound object names no pod: {:?}",
        c.other
    );
    let role = stack
        .world()
        .service_account("curity", "dynamo-sa")
        .and_then(|sa| sa.role_arn())
        .expect("role")
        .to_owned();
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .region(aws_sdk_sts::config::Region::new(
                stack.world().region.clone(),
            ))
            .endpoint_url(stack.endpoint())
            .build(),
    );
    let answer = sts
        .assume_role_with_web_identity()
        .role_arn(&role)
        .role_session_name("token-request")
        .web_identity_token(token)
        .send()
        .await
        .expect("STS accepts the token");
    assert!(
        answer
            .assumed_role_user()
            .is_some_and(|u| u.arn().ends_with("/token-request")),
        "{answer:?}"
    );
}

fn kubectl_create_token(stack: &Stack, args: &[&str]) -> std::process::Output {
    let kubectl = kubectl().expect("checked by the caller");
    Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(stack.kubeconfig())
        .args(["create", "token"])
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", stack.state_dir())
        .output()
        .expect("kubectl runs")
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_create_token_gets_a_token_sts_accepts() {
    let Some(_) = kubectl() else {
        println!("SKIPPED: kubectl is not at /usr/bin/kubectl; the kube-rs test covers the API");
        return;
    };
    let stack = irsa_tests::start_stack("curity.yaml", "kubectl-token").await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(stack.kubeconfig())
            .expect("the stack wrote a kubeconfig")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let out = kubectl_create_token(
        &stack,
        &[
            "dynamo-sa",
            "-n",
            "curity",
            "--audience",
            "sts.amazonaws.com",
        ],
    );
    assert!(
        out.status.success(),
        "kubectl create token: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).expect("utf-8");
    assert_usable(&stack, token.trim_end(), 3600).await;

    let out = kubectl_create_token(
        &stack,
        &[
            "dynamo-sa",
            "-n",
            "curity",
            "--audience",
            "sts.amazonaws.com",
            "--duration",
            "2h",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_usable(
        &stack,
        String::from_utf8_lossy(&out.stdout).trim_end(),
        7200,
    )
    .await;

    let out = kubectl_create_token(&stack, &["nobody", "-n", "curity"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("serviceaccounts \"nobody\" not found"),
        "{stderr}"
    );

    let out = kubectl_create_token(&stack, &["dynamo-sa", "-n", "curity", "--duration", "5m"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("may not specify a duration less than 10 minutes"),
        "{stderr}"
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kube_rs_create_token_request_gets_a_token_sts_accepts() {
    let stack = irsa_tests::start_stack("curity.yaml", "kube-rs-token").await;
    let kubeconfig = Kubeconfig::read_from(stack.kubeconfig()).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube config");
    let client = kube::Client::try_from(config).expect("kube client");
    let accounts: Api<ServiceAccount> = Api::namespaced(client, "curity");

    let sa = accounts.get("dynamo-sa").await.expect("GET serviceaccount");
    assert_eq!(
        sa.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("eks.amazonaws.com/role-arn"))
            .map(String::as_str),
        stack
            .world()
            .service_account("curity", "dynamo-sa")
            .and_then(|sa| sa.role_arn()),
        "{sa:?}"
    );

    let answer = accounts
        .create_token_request(
            "dynamo-sa",
            &PostParams::default(),
            &TokenRequest {
                spec: TokenRequestSpec {
                    audiences: vec!["sts.amazonaws.com".to_owned()],
                    ..TokenRequestSpec::default()
                },
                ..TokenRequest::default()
            },
        )
        .await
        .expect("TokenRequest");
    let status = answer.status.expect("status");
    assert_usable(&stack, &status.token, 3600).await;
    let peeked = irsa_core::token::peek(&status.token).expect("JWT");
    assert_eq!(
        peeked.claims.other["kubernetes.io"]["serviceaccount"]["uid"].as_str(),
        sa.metadata.uid.as_deref(),
        "the token names the service account's uid"
    );
    assert_eq!(
        status.expiration_timestamp.0.as_second(),
        peeked.claims.exp.expect("exp")
    );

    match accounts.get("nobody").await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 404);
            assert_eq!(status.reason, "NotFound");
            assert_eq!(status.message, "serviceaccounts \"nobody\" not found");
        }
        other => panic!("expected a NotFound Status, got {other:?}"),
    }
    stack.shutdown().await;
}
