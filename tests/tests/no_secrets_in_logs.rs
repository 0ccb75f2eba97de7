//! Secrets, tokens and signatures never reach the logs (house style, Logging).
//!
//! This binary installs one global subscriber at TRACE for our crates only, writing into memory,
//! drives every kind of call through a stack (allowed and denied DynamoDB calls, a signed STS
//! call, a refused assume, a hand-signed request whose signature we know), then reads back the
//! secret material and proves none of it is in the captured text, nor in any file the stack
//! writes outside the pods' token files.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use aws_sdk_sts::config::ProvideCredentials as _;
use irsa_core::SessionStore as _;
use irsa_core::clock::Clock as _;
use irsa_harness::pod::env::token_path;
use irsa_harness::stack::Stack;
use irsa_tests::s;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Our crates' targets: everything they emit is captured, down to TRACE.
const OUR_TARGETS: &[&str] = &[
    "gateway",
    "mock_sts",
    "mock_oidc",
    "irsa_core",
    "irsa_harness",
    "sigv4_verify",
    "iam_policy",
];

/// An in-memory log sink shared by every thread of the process.
#[derive(Debug, Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs the capturing subscriber once for this test binary and returns its sink.
fn captured_logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let sink = Captured::default();
        let targets = OUR_TARGETS.iter().fold(Targets::new(), |t, name| {
            t.with_target(*name, LevelFilter::TRACE)
        });
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(sink.clone())
            .with_ansi(false)
            .with_filter(targets);
        tracing_subscriber::registry()
            .with(layer)
            .try_init()
            .expect("the only subscriber of this test binary");
        sink
    })
}

/// A GetItem on `curity-accounts`, signed by hand with `sigv4_verify::sign_request` and sent
/// over a plain socket; returns the HTTP status and the `Signature=` value it carried.
async fn hand_signed_get_item(
    stack: &Stack,
    access_key_id: &str,
    secret: &str,
    session_token: &str,
) -> (u16, String) {
    let host = stack
        .endpoint()
        .strip_prefix("http://")
        .expect("the edge endpoint is http");
    let body = br#"{"TableName":"curity-accounts","Key":{"pk":{"S":"un#no-secrets"}}}"#;
    let now = time::OffsetDateTime::from_unix_timestamp(stack.clock().now()).expect("valid now");
    let base = [
        ("host", host),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "DynamoDB_20120810.GetItem"),
    ];
    let signed = sigv4_verify::sign_request(
        "POST",
        "/",
        "",
        &base,
        body,
        access_key_id,
        &sigv4_verify::SecretKey::new(secret.to_owned()),
        Some(session_token),
        "eu-west-1",
        "dynamodb",
        now,
    );
    let authorization = signed
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.clone())
        .expect("an authorization header");
    let signature = authorization
        .split_once("Signature=")
        .map(|(_, sig)| sig.to_owned())
        .expect("a Signature= part");

    let mut request = String::from("POST / HTTP/1.1\r\n");
    for (k, v) in base
        .iter()
        .map(|(k, v)| (*k, *v))
        .chain(signed.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let addr: SocketAddr = host.parse().expect("host is ip:port");
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to the edge");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send headers");
    stream.write_all(body).await.expect("send body");
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the edge answers in time")
    .expect("read the answer");
    let answer = String::from_utf8_lossy(&answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer}"));
    (status, signature)
}

/// Every `ASIA…` access key id (20 characters of `[A-Z2-7]`) mentioned in `text`.
fn access_key_ids(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = text
        .match_indices("ASIA")
        .filter_map(|(at, _)| text.get(at..at + 20))
        .filter(|id| {
            id.bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        })
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next)
            .expect("read state dir")
            .map_while(Result::ok)
        {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn no_token_secret_key_session_token_or_signature_reaches_the_logs_or_state_files() {
    let logs = captured_logs();
    let stack = irsa_tests::start_stack("curity.yaml", "no-secrets").await;

    // Allowed and denied DynamoDB calls and a signed STS call, by the real SDKs.
    let config = irsa_tests::pod_sdk_config(&stack, "curity", "dynamo-sa").await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let pk = format!("un#no-secrets-{}", std::process::id());
    ddb.put_item()
        .table_name("curity-accounts")
        .item("pk", s(&pk))
        .item("userName", s("nobody"))
        .send()
        .await
        .expect("PutItem on curity-accounts is allowed");
    ddb.get_item()
        .table_name("curity-accounts")
        .key("pk", s(&pk))
        .send()
        .await
        .expect("GetItem on curity-accounts is allowed");
    let denied = ddb
        .get_item()
        .table_name("other-table")
        .key("id", s("x"))
        .send()
        .await
        .expect_err("GetItem on other-table is denied");
    assert_eq!(
        aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&denied.into_service_error()),
        Some("AccessDeniedException")
    );
    aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");

    // A refused assume: the trust policy's `:sub` condition does not match namespace `default`.
    let refused = irsa_tests::pod_sdk_config(&stack, "default", "dynamo-sa").await;
    aws_sdk_dynamodb::Client::new(&refused)
        .get_item()
        .table_name("curity-accounts")
        .key("pk", s(&pk))
        .send()
        .await
        .expect_err("the default/dynamo-sa pod gets no credentials");

    // A session's credentials from the same chain, and a request signed with them by hand.
    let credentials = config
        .credentials_provider()
        .expect("a credentials provider")
        .provide_credentials()
        .await
        .expect("web identity credentials");
    let session_token = credentials
        .session_token()
        .expect("a session token")
        .to_owned();
    let (status, signature) = hand_signed_get_item(
        &stack,
        credentials.access_key_id(),
        credentials.secret_access_key(),
        &session_token,
    )
    .await;
    assert_eq!(status, 200, "the hand-signed GetItem is allowed");

    let text = logs.text();
    assert!(!text.is_empty(), "nothing was logged");
    for evidence in [
        "decision",
        "access allowed",
        "access denied",
        "assumed role",
        "assume role refused",
    ] {
        assert!(
            text.contains(evidence),
            "no `{evidence}` in the logs:\n{text}"
        );
    }

    // The secret material: both pods' tokens (and each of their parts), and the secret key and
    // session token of every session the logs mention, plus the one we signed with.
    let mut secrets: Vec<(String, String)> = Vec::new();
    for namespace in ["curity", "default"] {
        let jwt = std::fs::read_to_string(token_path(stack.state_dir(), namespace, "dynamo-sa"))
            .expect("token file");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3, "a JWT has three parts: {jwt}");
        for (i, part) in parts.iter().enumerate() {
            secrets.push((
                format!("part {i} of the {namespace}/dynamo-sa token"),
                (*part).to_owned(),
            ));
        }
        secrets.push((format!("the {namespace}/dynamo-sa token"), jwt));
    }
    let ids = access_key_ids(&text);
    assert!(
        ids.len() >= 2,
        "the SDK's session and ours are both in the logs: {ids:?}"
    );
    assert!(ids.iter().any(|id| id == credentials.access_key_id()));
    for id in &ids {
        let session = stack
            .sessions()
            .get(id)
            .expect("a logged access key id names a session");
        let creds = &session.credentials;
        secrets.push((
            format!("secret key of {id}"),
            creds.secret_access_key.expose().to_owned(),
        ));
        secrets.push((
            format!("session token of {id}"),
            creds.session_token.expose().to_owned(),
        ));
    }
    secrets.push((
        "our secret key".into(),
        credentials.secret_access_key().to_owned(),
    ));
    secrets.push(("our session token".into(), session_token.clone()));
    secrets.push(("our request signature".into(), signature.clone()));

    for (what, secret) in &secrets {
        assert!(
            secret.len() >= 16,
            "{what} is too short to search for: `{secret}`"
        );
        assert!(
            !text.contains(secret.as_str()),
            "{what} is in the logs:\n{text}"
        );
    }

    // The administrator's static secret is in `env/admin.env` by design, never in the logs.
    let admin = &stack.world().users["admin"].access_keys[0];
    assert!(
        !text.contains(admin.secret.expose()),
        "the admin secret key is in the logs"
    );

    // The state dir holds tokens by design (`tokens/`: the pod reads its token there); nothing
    // else in it may hold a credential or signature.
    let tokens = stack.state_dir().join("tokens");
    let files: Vec<PathBuf> = files_under(stack.state_dir())
        .into_iter()
        .filter(|f| !f.starts_with(&tokens))
        .collect();
    assert!(files.iter().any(|f| f.ends_with("stack.json")), "{files:?}");
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "env")),
        "{files:?}"
    );
    for file in &files {
        let content =
            String::from_utf8_lossy(&std::fs::read(file).expect("read state file")).into_owned();
        for (what, secret) in &secrets {
            assert!(
                !content.contains(secret.as_str()),
                "{what} is in `{}`",
                file.display()
            );
        }
    }
    stack.shutdown().await;
}
