//! Issue 13: the harness as the HTTPS endpoint of `*.amazonaws.com`. SDKs meet it where they
//! already go: through its HTTPS proxy (`CONNECT sts.eu-west-1.amazonaws.com:443`, TLS
//! terminated with the state dir's local CA) with no endpoint setting at all, or over HTTPS on
//! the edge with an endpoint and the CA. `aws:SecureTransport` is the transport actually used.
//!
//! The Rust SDK runs in-process with an HTTP client that trusts the local CA (and, for the
//! proxy, `ProxyConfig::https`); the Java SDK v2 2.21.42 client of the interop suite, which
//! reads no endpoint setting, runs unmodified with the environment `irsa exec` sets.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
use aws_smithy_http_client::tls::TrustStore;
use irsa_harness::stack::Stack;
use irsa_tests::tls::{client, http_client};
use irsa_tests::{pod_config_loader, s, world_path};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const ROLE: &str = "curity-dynamodb";
const POD: (&str, &str) = ("curity", "dynamo-sa");
/// The common "deny when `aws:SecureTransport` is false" statement (the condition key of the IAM
/// User Guide's "AWS global condition context keys": whether the request was sent over TLS).
const DENY_INSECURE_TRANSPORT: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;

/// A stack on the interop suite's world, its role also carrying `inline` when given.
async fn stack(name: &str, inline: Option<&str>) -> Stack {
    let mut world = irsa_harness::world_file::load(&world_path("../../tests/interop/world.yaml"))
        .expect("the interop world loads")
        .world;
    if let Some(document) = inline {
        let role = world.roles.get_mut(ROLE).expect("the role");
        role.policies.push(
            iam_policy::NamedPolicy::parse("deny-insecure-transport", document).expect("policy"),
        );
    }
    irsa_tests::start_world_stack(world, name).await
}

/// The pod's variables with the endpoint variables set to `endpoint`, or removed (`None`).
fn pod_vars(stack: &Stack, endpoint: Option<&str>) -> Vec<(String, String)> {
    irsa_tests::tls::pod_vars(stack, POD, endpoint)
}

fn arwwi_calls(state_dir: &Path) -> usize {
    irsa_harness::stack::audit::read(state_dir)
        .unwrap_or_default()
        .iter()
        .filter(|r| r["eventName"] == "AssumeRoleWithWebIdentity" && r["errorCode"].is_null())
        .count()
}

async fn get_item(config: &aws_config::SdkConfig, table: &str) -> Result<(), String> {
    aws_sdk_dynamodb::Client::new(config)
        .get_item()
        .table_name(table)
        .key("pk", s("un#nobody"))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().map_or_else(|| format!("{e:?}"), str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_transport_is_true_over_the_https_edge_and_false_over_plain_http() {
    let stack = stack("tls-secure-transport", Some(DENY_INSECURE_TRANSPORT)).await;
    // Plain HTTP: the deny-insecure-transport statement applies.
    let plain = pod_config_loader(stack.state_dir(), pod_vars(&stack, Some(stack.endpoint())))
        .load()
        .await;
    assert_eq!(
        get_item(&plain, "curity-accounts").await,
        Err("AccessDeniedException".to_owned()),
        "over plain HTTP aws:SecureTransport is false"
    );
    // HTTPS on the edge, the same pod: STS and DynamoDB over TLS.
    let https = stack.https_endpoint();
    let tls = pod_config_loader(stack.state_dir(), pod_vars(&stack, Some(&https)))
        .http_client(http_client(&stack, false))
        .load()
        .await;
    assert_eq!(get_item(&tls, "curity-accounts").await, Ok(()));
    // Without the statement, plain HTTP is allowed: the deny above was the transport's.
    let open = stack_without_deny().await;
    let plain = pod_config_loader(open.state_dir(), pod_vars(&open, Some(open.endpoint())))
        .load()
        .await;
    assert_eq!(get_item(&plain, "curity-accounts").await, Ok(()));
}

async fn stack_without_deny() -> Stack {
    stack("tls-secure-transport-open", None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_sdk_with_no_endpoint_reaches_the_harness_through_the_proxy() {
    let stack = stack("tls-proxy-rust", Some(DENY_INSECURE_TRANSPORT)).await;
    let config = pod_config_loader(stack.state_dir(), pod_vars(&stack, None))
        .http_client(http_client(&stack, true))
        .load()
        .await;
    // The SDK chooses `sts.eu-west-1.amazonaws.com` and DynamoDB's endpoint itself; both are
    // tunnelled to the harness, over TLS, so the deny-insecure-transport statement does not apply.
    assert_eq!(get_item(&config, "curity-accounts").await, Ok(()));
    assert_eq!(
        arwwi_calls(stack.state_dir()),
        1,
        "the web-identity call was the harness's"
    );
    assert_eq!(
        get_item(&config, "other-table").await,
        Err("AccessDeniedException".to_owned()),
        "the role's policy still decides"
    );
    let ddb_hosts: Vec<String> = irsa_harness::stack::audit::read(stack.state_dir())
        .unwrap_or_default()
        .iter()
        .filter(|r| r["eventSource"] == "dynamodb.amazonaws.com")
        .map(|r| r["eventName"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(ddb_hosts.iter().any(|n| n == "GetItem"), "{ddb_hosts:?}");
    assert!(
        stack.local_ca().leaves_issued() >= 2,
        "a leaf for STS and one for DynamoDB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_scoped_to_another_region_than_the_host_gets_aws_error() {
    let stack = stack("tls-proxy-region", None).await;
    let credentials =
        aws_sdk_dynamodb::config::Credentials::new("AKIAIOSFODNN7EXAMPLE", "x", None, None, "t");
    let ddb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-2"))
            .endpoint_url("https://dynamodb.eu-west-1.amazonaws.com")
            .credentials_provider(credentials.clone())
            .http_client(http_client(&stack, true))
            .build(),
    );
    let err = ddb
        .describe_table()
        .table_name("curity-accounts")
        .send()
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Some("InvalidSignatureException"));
    assert_eq!(
        err.message(),
        Some("Credential should be scoped to a valid region, not 'us-east-2'.")
    );
    let sts = aws_sdk_sts::Client::from_conf(
        irsa_tests::sts_config("https://sts.amazonaws.com")
            .region(aws_sdk_sts::config::Region::new("ap-southeast-2"))
            .credentials_provider(credentials)
            .http_client(http_client(&stack, true))
            .build(),
    );
    let err = sts.get_caller_identity().send().await.expect_err("refused");
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(
        err.message(),
        Some("Credential should be scoped to a valid region, not 'ap-southeast-2'.")
    );
}

/// Send `request` on a fresh connection to the edge and read the answer until it closes or a
/// blank line and `max` body bytes arrived.
async fn raw_exchange(stack: &Stack, request: &str) -> String {
    let addr = stack.endpoint().trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_to_other_hosts_and_services_is_refused_and_nothing_is_forwarded() {
    let stack = stack("tls-proxy-refusals", None).await;
    for (authority, reason) in [
        ("example.com:443", "not an AWS host"),
        (
            "s3.eu-west-1.amazonaws.com:443",
            "an AWS service the harness does not emulate",
        ),
        ("sts.amazonaws.com:80", "only port 443"),
    ] {
        let answer = raw_exchange(
            &stack,
            &format!(
                "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
            ),
        )
        .await;
        assert!(
            answer.starts_with("HTTP/1.1 403 Forbidden\r\n"),
            "{authority}: {answer}"
        );
        assert!(answer.contains(reason), "{authority}: {answer}");
        assert!(
            answer.contains("Nothing is forwarded to the internet"),
            "{answer}"
        );
        assert!(answer.contains("sts.<region>.amazonaws.com"), "{answer}");
    }
    let accepted = raw_exchange(
        &stack,
        "CONNECT sts.eu-west-1.amazonaws.com:443 HTTP/1.1\r\nHost: sts.eu-west-1.amazonaws.com:443\r\n\r\n",
    )
    .await;
    assert!(accepted.starts_with("HTTP/1.1 200 OK\r\n"), "{accepted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_trust_the_ca_fails_in_the_handshake() {
    let stack = stack("tls-untrusted", None).await;
    // Through the proxy with the platform's roots only (not the harness CA): the tunnel opens,
    // the handshake fails, no request is answered.
    let untrusted = client(TrustStore::empty(), Some(stack.proxy_url()));
    let config = pod_config_loader(stack.state_dir(), pod_vars(&stack, None))
        .http_client(untrusted)
        .load()
        .await;
    let err = get_item(&config, "curity-accounts")
        .await
        .expect_err("no trust, no call");
    assert!(
        err.contains("DispatchFailure") || err.contains("Dispatch"),
        "{err}"
    );
    assert_eq!(arwwi_calls(stack.state_dir()), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_sdk_2_21_42_unmodified_runs_the_irsa_script_through_the_proxy() {
    let java = irsa_tests::interop::ensure_java_client("2.21.42").expect("java client builds");
    let stack = stack("tls-java-2-21-42", None).await;
    let id = format!("tls-java-{}", std::process::id());
    let home = stack.state_dir().join("home");
    std::fs::create_dir_all(&home).expect("home");
    // What `irsa exec` gives the process: the pod's variables and the proxy/CA ones.
    let mut env = stack.pod_env_with_proxy(POD.0, POD.1).expect("env");
    env.push(("PATH".into(), std::env::var("PATH").unwrap_or_default()));
    env.push(("HOME".into(), home.display().to_string()));
    let output = tokio::time::timeout(
        Duration::from_secs(240),
        tokio::process::Command::new(&java.java)
            // The suite's network guard (LoopbackOnly.java): names resolve only to loopback.
            .arg(format!(
                "-Djdk.net.hosts.file={}",
                java.loopback_hosts.display()
            ))
            .args(["-cp", &java.classpath, "Interop", "allowed", &id])
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("in time")
    .expect("java runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let steps: Vec<&Value> = lines.iter().filter(|l| l["event"] == "step").collect();
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("no step {name}\n{context}"))
    };
    assert_eq!(step("get-caller-identity")["version"], "2.21.42");
    for name in [
        "get-caller-identity",
        "put-item",
        "get-item",
        "query",
        "query-index",
    ] {
        assert_eq!(step(name)["ok"], true, "{name}\n{context}");
    }
    assert_eq!(step("delete-table-denied")["ok"], false, "{context}");
    assert_eq!(
        step("delete-table-denied")["code"],
        "AccessDeniedException",
        "{context}"
    );
    // Every request went to a real AWS host name, through the proxy (the client's guard lets it
    // out only because the JVM resolves no name outside this machine).
    let hosts: Vec<&str> = lines
        .iter()
        .filter(|l| l["event"] == "request")
        .filter_map(|l| l["host"].as_str())
        .collect();
    assert!(
        hosts.contains(&"sts.eu-west-1.amazonaws.com:443"),
        "{hosts:?}\n{context}"
    );
    assert!(
        hosts.iter().all(|h| h.ends_with(".amazonaws.com:443")),
        "{hosts:?}"
    );
    assert!(
        arwwi_calls(stack.state_dir()) >= 1,
        "ARWWI counted at the harness\n{context}"
    );
}
