//! The projected token is refreshed as the kubelet does it: once it is older than 80% of its
//! lifetime, the file is rewritten with a newer token, and a pod that reads it afterwards still
//! gets credentials and reaches its tables.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_types::os_shim_internal::Env;
use aws_types::sdk_config::TimeSource;
use base64::Engine as _;
use irsa_harness::dynamodb_local::{ProvisionOptions, provision};
use irsa_harness::stack::{DEFAULT_TOKEN_SECONDS, Stack, StackConfig, token_path};

/// One DynamoDB Local for the whole test binary (copied from `e2e.rs`).
fn backend_endpoint() -> &'static str {
    static BACKEND: OnceLock<Result<String, String>> = OnceLock::new();
    let result = BACKEND.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                match provision(&ProvisionOptions::default()).await {
                    Ok(backend) => {
                        let _ = tx.send(Ok(backend.endpoint().to_owned()));
                        // Keep the backend alive for the life of the test process.
                        std::future::pending::<()>().await;
                        drop(backend);
                    }
                    Err(e) => {
                        let _ = tx.send(Err(format!("{e:#}")));
                    }
                }
            });
        });
        rx.recv().unwrap_or_else(|e| Err(e.to_string()))
    });
    match result {
        Ok(endpoint) => endpoint,
        Err(e) => panic!("DynamoDB Local could not be started: {e}"),
    }
}

fn world_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/worlds/curity.yaml")
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("irsa-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn start_stack(name: &str) -> Stack {
    let world = irsa_harness::world_file::load(&world_path())
        .expect("bundled world loads")
        .world;
    Stack::start(StackConfig {
        world,
        port: 0,
        state_dir: scratch_dir(name),
        dynamodb: ProvisionOptions {
            endpoint: Some(backend_endpoint().to_owned()),
            ..ProvisionOptions::default()
        },
    })
    .await
    .expect("stack starts")
}

/// The pod's wall clock, moved by the same offset as the harness clock: a pod that lives at the
/// harness's "now" signs requests the gateway accepts (SigV4 allows only ±5 minutes of skew).
#[derive(Debug)]
struct PodClock {
    offset_seconds: u64,
}

impl TimeSource for PodClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + Duration::from_secs(self.offset_seconds)
    }
}

/// The SDK config of a pod started from the env file `irsa up` writes, which reads the token
/// file as the stack's refresher left it (`Stack::pod_env` would mint a fresh one).
async fn pod_sdk_config_from_env_file(stack: &Stack, clock: PodClock) -> aws_config::SdkConfig {
    let env_file = stack.state_dir().join("env/curity/dynamo-sa.env");
    let text = std::fs::read_to_string(&env_file).expect("the pod's env file");
    let mut vars: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let none = stack.state_dir().join("no-such-aws-file");
    vars.push(("AWS_CONFIG_FILE".into(), none.display().to_string()));
    vars.push((
        "AWS_SHARED_CREDENTIALS_FILE".into(),
        none.display().to_string(),
    ));
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    aws_config::defaults(BehaviorVersion::latest())
        .env(Env::from_slice(&pairs))
        .time_source(clock)
        .load()
        .await
}

/// The token's claims, decoded without verification.
fn claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("the payload is base64url");
    serde_json::from_slice(&bytes).expect("the payload is JSON")
}

fn iat(jwt: &str) -> i64 {
    claims(jwt)["iat"].as_i64().expect("an integer `iat`")
}

#[tokio::test(flavor = "multi_thread")]
async fn token_file_is_rewritten_at_80_percent_of_its_lifetime_and_still_works() {
    let stack = start_stack("token-refresh").await;
    let token_file = token_path(stack.state_dir(), "curity", "dynamo-sa");
    let first = std::fs::read_to_string(&token_file).expect("the token file `irsa up` wrote");
    assert!(
        !first.ends_with('\n'),
        "token files have no trailing newline"
    );

    let advance = DEFAULT_TOKEN_SECONDS * 8 / 10 + 60;
    stack.clock().advance(advance);

    // The refresher checks every second against the harness clock.
    let deadline = Instant::now() + Duration::from_secs(15);
    let refreshed = loop {
        let now = std::fs::read_to_string(&token_file).expect("the token file stays readable");
        if now != first {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "the token file was not refreshed within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        !refreshed.ends_with('\n'),
        "a refreshed token has no trailing newline either"
    );
    assert!(
        iat(&refreshed) >= iat(&first) + DEFAULT_TOKEN_SECONDS * 8 / 10,
        "the refreshed token is issued at the advanced time: {} then {}",
        iat(&first),
        iat(&refreshed)
    );
    let new_claims = claims(&refreshed);
    assert_eq!(
        new_claims["exp"]
            .as_i64()
            .zip(new_claims["iat"].as_i64())
            .map(|(e, i)| e - i),
        Some(DEFAULT_TOKEN_SECONDS),
        "the refreshed token has the full lifetime: {new_claims}"
    );

    let offset_seconds = u64::try_from(stack.clock().offset()).expect("the clock moved forward");
    let config = pod_sdk_config_from_env_file(&stack, PodClock { offset_seconds }).await;
    aws_sdk_dynamodb::Client::new(&config)
        .get_item()
        .table_name("curity-accounts")
        .key("pk", AttributeValue::S("un#alice".to_owned()))
        .send()
        .await
        .expect("GetItem on curity-accounts with credentials from the refreshed token");
    assert_eq!(
        std::fs::read_to_string(&token_file).expect("token file"),
        refreshed,
        "the SDK read the refreshed token, not another one"
    );
    stack.shutdown().await;
}
