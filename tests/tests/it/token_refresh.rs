//! The projected token is refreshed as the kubelet does it: once it is older than 80% of its
//! lifetime, the file is rewritten with a newer token, and a pod that reads it afterwards still
//! gets credentials and reaches its tables.

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_types::sdk_config::TimeSource;
use base64::Engine as _;
use irsa_harness::pod::env::token_path;
use irsa_harness::stack::{DEFAULT_TOKEN_SECONDS, Stack};

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
    let vars: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    irsa_tests::pod_config_loader(stack.state_dir(), vars)
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
    let stack = irsa_tests::start_stack("curity.yaml", "token-refresh").await;
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
