//! The control channel of a running stack (`DIR/control.json` + `DIR/control.secret`, as
//! `irsa token`, `irsa clock advance` and `irsa rotate-key` use it): tokens with overrides
//! reproduce STS's web-identity failures through the real Rust SDK, key rotation keeps or drops
//! the old `kid`, and one harness clock moves expiry without making honest signatures skewed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_sts::error::ProvideErrorMetadata as _;
use aws_types::sdk_config::TimeSource;
use irsa_core::clock::Clock as _;
use irsa_harness::pod::env::{token_path, write_token};
use irsa_harness::stack::Stack;
use irsa_harness::stack::clock::HarnessClock;
use irsa_harness::stack::control::{ControlClient, TokenBody};

const NO_KEY: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";

/// An STS client as any caller of the unsigned `AssumeRoleWithWebIdentity` has it.
fn sts(stack: &Stack) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(
            stack.world().region.clone(),
        ))
        .endpoint_url(stack.endpoint())
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

fn role_arn(stack: &Stack) -> String {
    stack
        .world()
        .service_account("curity", "dynamo-sa")
        .and_then(|sa| sa.role_arn())
        .expect("curity/dynamo-sa has a role")
        .to_owned()
}

/// `Ok(())` or the STS error's (code, message).
async fn assume(stack: &Stack, token: &str) -> Result<(), (String, String)> {
    sts(stack)
        .assume_role_with_web_identity()
        .role_arn(role_arn(stack))
        .role_session_name("repro")
        .web_identity_token(token)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            let e = e.into_service_error();
            (
                e.code().unwrap_or("?").to_owned(),
                e.message().unwrap_or("?").to_owned(),
            )
        })
}

fn body(change: impl FnOnce(&mut TokenBody)) -> TokenBody {
    let mut b = TokenBody {
        namespace: "curity".into(),
        name: "dynamo-sa".into(),
        ..TokenBody::default()
    };
    change(&mut b);
    b
}

fn exp_of(jwt: &str) -> i64 {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("JSON");
    claims["exp"].as_i64().expect("exp")
}

#[tokio::test(flavor = "multi_thread")]
async fn token_overrides_reproduce_each_web_identity_failure_with_aws_text() {
    let stack = irsa_tests::start_stack("curity.yaml", "control-tokens").await;
    let control = ControlClient::from_state_dir(stack.state_dir()).expect("control.json");

    let faithful = control.token(&body(|_| {})).await.expect("token");
    assert_eq!(assume(&stack, &faithful).await, Ok(()));

    let wrong_aud = control
        .token(&body(|b| {
            b.overrides.audience = vec!["api://elsewhere".into()]
        }))
        .await
        .expect("token");
    assert_eq!(
        assume(&stack, &wrong_aud).await,
        Err((
            "InvalidIdentityToken".into(),
            "Incorrect token audience".into()
        ))
    );

    let expired = control
        .token(&body(|b| b.overrides.expires_in = Some(-60)))
        .await
        .expect("token");
    let (code, message) = assume(&stack, &expired).await.expect_err("expired");
    assert_eq!(code, "ExpiredTokenException");
    let exp = exp_of(&expired);
    let now: i64 = message
        .strip_prefix("Token expired: current date/time ")
        .and_then(|rest| rest.split_once(' '))
        .and_then(|(now, rest)| {
            (rest == format!("must be before the expiration date/time {exp}")).then_some(now)
        })
        .and_then(|now| now.parse().ok())
        .unwrap_or_else(|| panic!("AWS's expiry text: {message}"));
    assert!((now - stack.clock().now()).abs() <= 5, "{message}");

    let foreign = control
        .token(&body(|b| b.overrides.foreign_key = true))
        .await
        .expect("token");
    assert_eq!(
        assume(&stack, &foreign).await,
        Err(("InvalidIdentityToken".into(), NO_KEY.into()))
    );

    let unknown_kid = control
        .token(&body(|b| b.overrides.kid = Some("not-published".into())))
        .await
        .expect("token");
    assert_eq!(
        assume(&stack, &unknown_kid).await,
        Err(("InvalidIdentityToken".into(), NO_KEY.into()))
    );

    let other_issuer =
        "https://oidc.eks.eu-west-1.amazonaws.com/id/0000000000000000000000000000000A";
    let unregistered = control
        .token(&body(|b| b.overrides.issuer = Some(other_issuer.into())))
        .await
        .expect("token");
    assert_eq!(
        assume(&stack, &unregistered).await,
        Err((
            "InvalidIdentityToken".into(),
            format!("No OpenIDConnect provider found in your account for {other_issuer}")
        ))
    );

    let other_sub = control
        .token(&body(|b| {
            b.overrides.sub = Some("system:serviceaccount:kube-system:default".into());
        }))
        .await
        .expect("token");
    assert_eq!(
        assume(&stack, &other_sub).await,
        Err((
            "AccessDenied".into(),
            "Not authorized to perform sts:AssumeRoleWithWebIdentity".into()
        ))
    );

    let unknown_sa = control
        .token(&body(|b| b.name = "nobody".into()))
        .await
        .expect_err("no such service account");
    assert!(
        format!("{unknown_sa:#}").contains("no service account `curity/nobody`"),
        "{unknown_sa:#}"
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn key_rotation_keeps_or_drops_the_old_kid_in_the_jwks() {
    let stack = irsa_tests::start_stack("curity.yaml", "control-rotation").await;
    let control = ControlClient::from_state_dir(stack.state_dir()).expect("control.json");
    let cluster = "curity-dynamo-irsa";
    let before = stack.mint_token("curity", "dynamo-sa").expect("token");

    let kept = control.rotate_key(cluster, true).await.expect("rotation");
    assert_eq!(kept.published.len(), 2, "{kept:?}");
    assert_eq!(
        assume(&stack, &before).await,
        Ok(()),
        "the old kid is still published"
    );
    let after = stack.mint_token("curity", "dynamo-sa").expect("token");
    assert_eq!(assume(&stack, &after).await, Ok(()));

    let dropped = stack.rotate_key(cluster, false).await.expect("rotation");
    assert_eq!(dropped.published, vec![dropped.kid.clone()]);
    for old in [&before, &after] {
        assert_eq!(
            assume(&stack, old).await,
            Err(("InvalidIdentityToken".into(), NO_KEY.into())),
            "a token signed with a dropped key"
        );
    }
    let fresh = stack.mint_token("curity", "dynamo-sa").expect("token");
    assert_eq!(assume(&stack, &fresh).await, Ok(()));

    let unknown = control
        .rotate_key("no-such-cluster", true)
        .await
        .expect_err("unknown cluster");
    assert!(
        format!("{unknown:#}").contains("no cluster `no-such-cluster`"),
        "{unknown:#}"
    );
    stack.shutdown().await;
}

/// A pod's clock: the real time plus a fixed offset (a client whose own clock is off).
#[derive(Debug)]
struct OffsetClock(i64);

impl TimeSource for OffsetClock {
    fn now(&self) -> SystemTime {
        let base = SystemTime::now();
        let shift = Duration::from_secs(self.0.unsigned_abs());
        if self.0 >= 0 {
            base + shift
        } else {
            base - shift
        }
    }
}

/// A pod that lives at the harness's "now" (its time source follows the harness clock).
#[derive(Debug)]
struct HarnessTime(Arc<HarnessClock>);

impl TimeSource for HarnessTime {
    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.0.now().unsigned_abs())
    }
}

async fn pod_config(stack: &Stack, time: impl TimeSource + 'static) -> aws_config::SdkConfig {
    let vars = stack.pod_env("curity", "dynamo-sa").expect("pod env");
    irsa_tests::pod_config_loader(stack.state_dir(), vars)
        .time_source(time)
        .load()
        .await
}

async fn get_item(config: &aws_config::SdkConfig) -> Result<(), (String, String)> {
    aws_sdk_dynamodb::Client::new(config)
        .get_item()
        .table_name("curity-accounts")
        .key("pk", irsa_tests::s("un#alice"))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            let e = e.into_service_error();
            (
                aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&e)
                    .unwrap_or("?")
                    .to_owned(),
                aws_sdk_dynamodb::error::ProvideErrorMetadata::message(&e)
                    .unwrap_or("?")
                    .to_owned(),
            )
        })
}

/// `Signature expired: <signed> is now earlier than <ref - window> (<ref> - <n> min.)`, checked
/// for shape, with `<ref>` within a few seconds of `expected_reference`.
fn assert_signature_expired(message: &str, window_minutes: i64, expected_reference: i64) {
    let parse =
        |t: &str| irsa_core::clock::parse_amz_date(t).unwrap_or_else(|| panic!("{t} in {message}"));
    let rest = message
        .strip_prefix("Signature expired: ")
        .unwrap_or_else(|| panic!("AWS's skew text: {message}"));
    let parts: Vec<&str> = rest.split(' ').collect();
    assert_eq!(parts.len(), 10, "{message}");
    assert_eq!(&parts[1..5], ["is", "now", "earlier", "than"], "{message}");
    let earliest = parse(parts[5]);
    let reference = parse(parts[6].trim_start_matches('('));
    assert_eq!(parts[7], "-", "{message}");
    assert_eq!(
        format!("{} {}", parts[8], parts[9]),
        format!("{window_minutes} min.)"),
        "{message}"
    );
    assert_eq!(reference - earliest, window_minutes * 60, "{message}");
    assert!(
        (reference - expected_reference).abs() <= 5,
        "skew judged against {reference}, expected about {expected_reference}: {message}"
    );
    assert!(parse(parts[0]) < earliest, "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_advanced_clock_keeps_honest_and_harness_time_signatures_valid() {
    let stack = irsa_tests::start_stack("curity.yaml", "clock-moved").await;
    let control = ControlClient::from_state_dir(stack.state_dir()).expect("control.json");
    let reading = control.advance_clock(2 * 3600).await.expect("advance");
    assert_eq!(reading.offset, 7200);
    assert_eq!(
        stack.clock().offset(),
        7200,
        "the running stack's clock moved"
    );

    // An unmodified SDK signs with the real time, two hours behind the harness.
    let honest = pod_config(&stack, OffsetClock(0)).await;
    assert_eq!(get_item(&honest).await, Ok(()));
    let identity = aws_sdk_sts::Client::new(&honest)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity signed with the real time");
    assert!(identity.arn().is_some_and(|a| a.contains(":assumed-role/")));

    // A pod living at the harness's time is accepted too.
    let at_harness_time = pod_config(&stack, HarnessTime(stack.shared_clock())).await;
    assert_eq!(get_item(&at_harness_time).await, Ok(()));
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_whose_own_clock_is_off_is_refused_with_aws_skew_text() {
    let stack = irsa_tests::start_stack("curity.yaml", "clock-skewed").await;
    // The harness clock is moved too: skew is still judged against the real time, the reading
    // nearer to what this client signed.
    stack.advance_clock(3600);
    let vars = stack.pod_env("curity", "dynamo-sa").expect("pod env");
    let behind = irsa_tests::pod_config_loader(stack.state_dir(), vars)
        .time_source(OffsetClock(-20 * 60))
        .disable_clock_skew_correction(true)
        .load()
        .await;
    let (code, message) = get_item(&behind).await.expect_err("20 minutes behind");
    assert_eq!(code, "InvalidSignatureException");
    assert_signature_expired(&message, 5, stack.clock().wall_now());

    let sts_error = aws_sdk_sts::Client::new(&behind)
        .get_caller_identity()
        .send()
        .await
        .expect_err("20 minutes behind, STS's 15-minute window")
        .into_service_error();
    assert_eq!(sts_error.code(), Some("SignatureDoesNotMatch"));
    assert_signature_expired(
        sts_error.message().unwrap_or(""),
        15,
        stack.clock().wall_now(),
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_corrects_its_skew_from_the_real_time_date_header_and_retries() {
    let stack = irsa_tests::start_stack("curity.yaml", "clock-corrected").await;
    stack.advance_clock(3600);
    // Default SDK behaviour: a skew error makes it measure the skew from the response's `Date`
    // (the real time, as AWS's) and retry once corrected, as it does against AWS.
    let behind = pod_config(&stack, OffsetClock(-20 * 60)).await;
    assert_eq!(get_item(&behind).await, Ok(()));
    let refused: Vec<serde_json::Value> = irsa_harness::stack::audit::read(stack.state_dir())
        .expect("audit trail")
        .into_iter()
        .filter(|r| r["errorCode"] == "InvalidSignatureException")
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "the first attempt was refused: {refused:?}"
    );
    assert_signature_expired(
        refused[0]["errorMessage"].as_str().unwrap_or(""),
        5,
        stack.clock().wall_now(),
    );
    stack.shutdown().await;
}

/// How many `AssumeRoleWithWebIdentity` calls the audit trail holds.
fn assume_calls(stack: &Stack) -> usize {
    irsa_harness::stack::audit::read(stack.state_dir())
        .expect("audit trail")
        .iter()
        .filter(|r| r["eventName"] == "AssumeRoleWithWebIdentity")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_near_expiry_make_the_sdk_reread_the_token_file_and_assume_again() {
    let stack = irsa_tests::start_stack("curity.yaml", "refresh-path").await;
    let config = pod_config(&stack, HarnessTime(stack.shared_clock())).await;
    let before = assume_calls(&stack);
    assert_eq!(get_item(&config).await, Ok(()));
    assert_eq!(get_item(&config).await, Ok(()));
    assert_eq!(
        assume_calls(&stack),
        before + 1,
        "one assume while the credentials are fresh"
    );

    // The session lasts 3600 s (the role's default); five seconds before its end the SDK's
    // credential cache (refresh buffer ~10 s) must fetch new credentials.
    stack.advance_clock(3600 - 5);
    assert_eq!(get_item(&config).await, Ok(()));
    assert_eq!(
        assume_calls(&stack),
        before + 2,
        "credentials near expiry are refreshed with a new AssumeRoleWithWebIdentity"
    );

    // The SDK reads the token file again on each refresh: leave an expired token there (as a
    // kubelet that stopped refreshing would) and the next refresh fails with STS's text.
    let stale = stack
        .mint_token_with(
            "curity",
            "dynamo-sa",
            &body(|b| b.overrides.expires_in = Some(-60)).overrides,
        )
        .expect("token");
    write_token(
        &token_path(stack.state_dir(), "curity", "dynamo-sa"),
        &stale,
    )
    .expect("write");
    stack.advance_clock(3600 - 5);
    let err = aws_sdk_dynamodb::Client::new(&config)
        .get_item()
        .table_name("curity-accounts")
        .key("pk", irsa_tests::s("un#alice"))
        .send()
        .await
        .expect_err("the refresh reads the expired token");
    let text = error_chain(&err);
    assert!(
        text.contains("ExpiredTokenException")
            && text.contains(&format!(
                "must be before the expiration date/time {}",
                exp_of(&stale)
            )),
        "{text}"
    );
    assert_eq!(assume_calls(&stack), before + 3);
    stack.shutdown().await;
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_session_gets_expired_token_exception_from_dynamodb() {
    let stack = irsa_tests::start_stack("curity.yaml", "expired-session").await;
    // An unmodified SDK: its credentials look valid by its own (real) clock.
    let config = pod_config(&stack, OffsetClock(0)).await;
    assert_eq!(get_item(&config).await, Ok(()));
    stack.advance_clock(3600 + 60);
    assert_eq!(
        get_item(&config).await,
        Err((
            "ExpiredTokenException".into(),
            "The security token included in the request is expired".into()
        ))
    );
    stack.shutdown().await;
}
