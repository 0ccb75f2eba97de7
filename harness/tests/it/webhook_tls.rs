//! `irsa webhook --tls` and `--print-config` as a cluster's API server meets them: the printed
//! `MutatingWebhookConfiguration` read as the Kubernetes type, and an HTTPS AdmissionReview
//! client that trusts only that configuration's `caBundle` (the state dir's CA) verifying the
//! chain and getting the mutation; a client without the CA failing in the handshake.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http_body_util::BodyExt as _;
use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};

use crate::common::{IRSA, repo, scratch};

/// `irsa webhook` in the background; killed on drop.
struct Webhook {
    child: Child,
    addr: SocketAddr,
    /// The line it printed when listening.
    banner: String,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `irsa webhook --tls --port 0` on the Curity fixture and world, once it listens.
fn start_webhook(state: &Path, extra: &[&str]) -> Webhook {
    let mut child = Command::new(IRSA)
        .args([
            "webhook",
            "-f",
            "tests/fixtures/curity-deployment.yaml",
            "--world",
        ])
        .arg(repo().join("scenarios/worlds/curity.yaml"))
        .args(["--port", "0", "--tls", "--state-dir"])
        .arg(state)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("irsa webhook starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let banner = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("irsa webhook printed where it listens");
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no https URL in {banner:?}"));
    let authority = url
        .trim_start_matches("https://")
        .split('/')
        .next()
        .expect("authority");
    Webhook {
        addr: authority.parse().expect("address"),
        child,
        banner,
    }
}

fn roots_of(pem: &[u8]) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        roots.add(cert.expect("PEM certificate")).expect("a root");
    }
    assert!(!roots.is_empty());
    roots
}

fn review(uid: &str) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "curity",
            "operation": "CREATE",
            "object": {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"generateName": "curity-idsvr-runtime-"},
                "spec": {"serviceAccountName": "dynamo-sa",
                         "containers": [{"name": "idsvr", "image": "curity.azurecr.io/curity/idsvr"}]}
            }
        }
    })
}

/// What the client saw: the server's chain, and the AdmissionReview it answered.
struct Answer {
    chain: Vec<CertificateDer<'static>>,
    review: Value,
}

/// POST `body` to `/mutate` over TLS to `addr`, verifying the server as `server_name` against
/// `roots` only, as the API server does with a `caBundle`.
async fn post_review(
    addr: SocketAddr,
    roots: rustls::RootCertStore,
    server_name: &str,
    body: &Value,
) -> std::io::Result<Answer> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from(server_name.to_owned()).expect("server name");
    let tls = connector.connect(name, tcp).await?;
    let chain = tls
        .get_ref()
        .1
        .peer_certificates()
        .expect("peer certificates")
        .iter()
        .map(|c| c.clone().into_owned())
        .collect();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    let request = http::Request::post("/mutate")
        .header("host", server_name)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_string(),
        )))
        .expect("request");
    let response = sender
        .send_request(request)
        .await
        .map_err(std::io::Error::other)?;
    assert_eq!(response.status(), http::StatusCode::OK);
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    Ok(Answer {
        chain,
        review: serde_json::from_slice(&bytes).expect("JSON answer"),
    })
}

/// The JSONPatch of an answer, decoded.
fn patch_of(answer: &Value) -> Value {
    let encoded = answer["response"]["patch"].as_str().expect("a patch");
    serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64"),
    )
    .expect("JSON patch")
}

/// `irsa webhook -f - --print-config --state-dir STATE ARGS...`, parsed as the Kubernetes type.
fn print_config(state: &Path, args: &[&str]) -> (String, MutatingWebhookConfiguration) {
    let out = Command::new(IRSA)
        .args(["webhook", "-f", "-", "--print-config", "--state-dir"])
        .arg(state)
        .args(args)
        .output()
        .expect("irsa webhook --print-config runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let yaml = String::from_utf8(out.stdout).expect("UTF-8");
    let config: MutatingWebhookConfiguration =
        serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    (yaml, config)
}

#[test]
fn the_printed_configuration_is_a_mutating_webhook_configuration_with_the_ca() {
    let state = scratch("webhook-tls", "config");
    let (yaml, config) = print_config(
        &state,
        &[
            "--url",
            "https://172.17.0.1:8443/mutate",
            "--namespace",
            "curity",
        ],
    );
    assert!(!yaml.contains("PRIVATE KEY"), "{yaml}");
    assert_eq!(
        config.metadata.name.as_deref(),
        Some("irsa-harness-pod-identity-webhook")
    );
    let hooks = config.webhooks.as_deref().expect("webhooks");
    assert_eq!(hooks.len(), 1);
    let hook = &hooks[0];
    // The CA `--print-config` created in the state dir, byte for byte.
    let ca_pem = std::fs::read(state.join("ca/ca.pem")).expect("the state dir's CA");
    assert_eq!(
        hook.client_config.ca_bundle.as_ref().map(|b| &b.0),
        Some(&ca_pem)
    );
    assert_eq!(
        hook.client_config.url.as_deref(),
        Some("https://172.17.0.1:8443/mutate")
    );
    assert!(hook.client_config.service.is_none());
    assert_eq!(hook.side_effects, "None");
    assert_eq!(hook.failure_policy.as_deref(), Some("Ignore"));
    assert_eq!(hook.admission_review_versions, ["v1", "v1beta1"]);
    let rules = hook.rules.as_deref().expect("rules");
    assert_eq!(
        rules[0].operations.as_deref(),
        Some(&["CREATE".to_owned()][..])
    );
    assert_eq!(
        rules[0].resources.as_deref(),
        Some(&["pods".to_owned()][..])
    );
    let namespaces = hook.namespace_selector.as_ref().expect("namespaceSelector");
    assert_eq!(
        namespaces.match_expressions.as_ref().expect("expressions")[0].values,
        Some(vec!["curity".to_owned()])
    );
    // The serve command it names covers the URL's host.
    assert!(yaml.contains("--tls-san 172.17.0.1"), "{yaml}");

    // Printed again: the same CA (it is kept), a service reference this time.
    let (_, again) = print_config(&state, &["--service", "irsa/pod-identity"]);
    let hook = &again.webhooks.as_deref().expect("webhooks")[0];
    assert_eq!(
        hook.client_config.ca_bundle.as_ref().map(|b| &b.0),
        Some(&ca_pem)
    );
    let service = hook.client_config.service.as_ref().expect("service");
    assert_eq!(
        (service.namespace.as_str(), service.name.as_str()),
        ("irsa", "pod-identity")
    );
    assert_eq!(service.path.as_deref(), Some("/mutate"));

    let refused = Command::new(IRSA)
        .args(["webhook", "-f", "-", "--print-config", "--state-dir"])
        .arg(&state)
        .args(["--url", "http://127.0.0.1:8443/mutate"])
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("https://"));
    std::fs::remove_dir_all(state).unwrap();
}

#[tokio::test]
async fn an_https_client_trusting_only_the_ca_bundle_gets_the_mutation() {
    let state = scratch("webhook-tls", "serve");
    let (_, config) = print_config(&state, &[]);
    let bundle = config.webhooks.as_deref().expect("webhooks")[0]
        .client_config
        .ca_bundle
        .clone()
        .expect("caBundle")
        .0;
    let hook = start_webhook(
        &state,
        &[
            "--tls-san",
            "host.docker.internal",
            "--tls-san",
            "10.11.12.13",
        ],
    );
    assert!(
        hook.banner.contains("host.docker.internal"),
        "{}",
        hook.banner
    );
    assert!(!hook.banner.contains("PRIVATE KEY"));

    // The names an API server may verify: loopback, and each `--tls-san`.
    for name in [
        "127.0.0.1",
        "localhost",
        "host.docker.internal",
        "10.11.12.13",
    ] {
        let answer = post_review(hook.addr, roots_of(&bundle), name, &review(name))
            .await
            .unwrap_or_else(|e| panic!("as {name}: {e}"));
        assert_eq!(answer.review["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(answer.review["response"]["uid"], name);
        assert_eq!(answer.review["response"]["allowed"], true);
        assert_eq!(answer.review["response"]["patchType"], "JSONPatch");
        // The chain: a leaf, then the state dir's CA itself.
        assert_eq!(answer.chain.len(), 2);
        let ca = CertificateDer::from_pem_slice(&bundle).expect("PEM");
        assert_eq!(answer.chain[1], ca);
        let patch = patch_of(&answer.review);
        let containers = patch
            .as_array()
            .expect("patch list")
            .iter()
            .find(|op| op["path"] == "/spec/containers")
            .expect("containers patched");
        let env = &containers["value"][0]["env"];
        assert!(
            env.as_array().expect("env").contains(&json!({
                "name": "AWS_ROLE_ARN",
                "value": "arn:aws:iam::111122223333:role/curity-dynamodb"
            })),
            "{env}"
        );
        assert!(
            env.as_array().expect("env").contains(&json!({
                "name": "AWS_WEB_IDENTITY_TOKEN_FILE",
                "value": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
            })),
            "{env}"
        );
    }
    // A name the certificate does not carry is refused by the verifying client.
    let wrong = post_review(
        hook.addr,
        roots_of(&bundle),
        "sts.amazonaws.com",
        &review("x"),
    )
    .await
    .err()
    .expect("a name outside the certificate fails");
    let cause = wrong
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a TLS error: {wrong}"));
    assert!(
        matches!(
            cause,
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{cause:?}"
    );
    drop(hook);
    std::fs::remove_dir_all(state).unwrap();
}

#[tokio::test]
async fn a_client_without_the_ca_fails_in_the_handshake() {
    let state = scratch("webhook-tls", "untrusted");
    let hook = start_webhook(&state, &[]);
    // Another CA (the shape of the harness's own, not this state dir's).
    let (other, _key) =
        irsa_harness::stack::local_ca::LocalCa::generate(time::OffsetDateTime::now_utc())
            .expect("another CA");
    let failed = post_review(
        hook.addr,
        roots_of(other.certificate_pem().as_bytes()),
        "127.0.0.1",
        &review("u-1"),
    )
    .await
    .err()
    .expect("the handshake fails without the CA");
    let cause = failed
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a TLS error: {failed}"));
    assert_eq!(
        cause,
        &rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
    );
    // The failed handshake closed that connection only: with the CA, the next one is answered.
    let ca = std::fs::read(state.join("ca/ca.pem")).expect("CA");
    let answer = post_review(hook.addr, roots_of(&ca), "127.0.0.1", &review("u-2"))
        .await
        .expect("answered with the CA");
    assert_eq!(answer.review["response"]["uid"], "u-2");
    drop(hook);
    std::fs::remove_dir_all(state).unwrap();
}
