//! The STS Query API in process (router + `oneshot`): success shape, validation errors and the
//! web-identity refusals, each with AWS's code, status and text.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use iam_policy::{NamedPolicy, Policy};
use irsa_core::arn::RoleArn;
use irsa_core::clock::FixedClock;
use irsa_core::world::{OidcProvider, Role, STS_AUDIENCE, World, role_id};
use irsa_core::{MemorySessionStore, SessionStore};
use mock_oidc::{Issuer, Issuers, SigningKey, TokenSpec};
use mock_sts::{StsState, router};
use tower::ServiceExt;

const ISSUER: &str = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC";
const ROLE: &str = "arn:aws:iam::111122223333:role/team/curity-dynamodb";
const NOW: i64 = 1_800_000_000;

struct Fixture {
    state: StsState,
    issuers: Arc<Issuers>,
    sessions: Arc<MemorySessionStore>,
}

fn fixture() -> Fixture {
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:curity:dynamo-sa"}}}]});
    let role = Role {
        arn: RoleArn::parse(ROLE).unwrap(),
        id: role_id("111122223333", "curity-dynamodb"),
        trust_policy: NamedPolicy::new("trust", Policy::from_value(&trust).unwrap()),
        policies: vec![],
        permissions_boundary: None,
        max_session_duration: 3600,
        record: Default::default(),
        managed_policy_arns: Default::default(),
    };
    let world = World {
        oidc_providers: vec![OidcProvider::new(
            "111122223333",
            ISSUER,
            vec![STS_AUDIENCE.into()],
        )],
        roles: BTreeMap::from([("curity-dynamodb".to_owned(), role)]),
        ..World::empty("111122223333".into(), "eu-west-1".into())
    };
    let issuers = Arc::new(Issuers::new([Issuer::new(
        "c",
        ISSUER,
        SigningKey::generate().unwrap(),
    )]));
    let sessions = Arc::new(MemorySessionStore::new());
    Fixture {
        state: StsState {
            world: Arc::new(irsa_core::WorldStore::new(world)),
            keys: issuers.clone(),
            sessions: sessions.clone(),
            clock: Arc::new(FixedClock(NOW)),
            audit: None,
        },
        issuers,
        sessions,
    }
}

fn token(f: &Fixture, namespace: &str) -> String {
    f.issuers
        .by_url(ISSUER)
        .unwrap()
        .mint(
            &TokenSpec {
                namespace: namespace.into(),
                service_account: "dynamo-sa".into(),
                audiences: vec!["sts.amazonaws.com".into()],
                expiration_seconds: 3600,
                pod_name: None,
            },
            NOW - 60,
        )
        .unwrap()
}

async fn post(f: &Fixture, params: &[(&str, &str)]) -> (u16, http::HeaderMap, String) {
    let body = serde_urlencoded::to_string(params).unwrap();
    let response = router(f.state.clone())
        .oneshot(
            Request::post("/")
                .header(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    (status, headers, text)
}

fn arwwi<'a>(token: &'a str, session: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", ROLE),
        ("RoleSessionName", session),
        ("WebIdentityToken", token),
    ]
}

fn between<'t>(text: &'t str, tag: &str) -> &'t str {
    let open = format!("<{tag}>");
    let start = text.find(&open).unwrap() + open.len();
    let end = start + text[start..].find(&format!("</{tag}>")).unwrap();
    &text[start..end]
}

#[tokio::test]
async fn success_has_the_result_first_and_the_fields_the_sdks_read() {
    let f = fixture();
    let t = token(&f, "curity");
    let (status, headers, body) = post(&f, &arwwi(&t, "web-identity-token-1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/xml");
    let result = body.find("<AssumeRoleWithWebIdentityResult>").unwrap();
    let metadata = body.find("<ResponseMetadata>").unwrap();
    assert!(
        result < metadata,
        "the Rust SDK requires the Result element first"
    );
    assert_eq!(
        between(&body, "RequestId"),
        headers["x-amzn-requestid"].to_str().unwrap()
    );
    assert_eq!(between(&body, "Audience"), "sts.amazonaws.com");
    assert_eq!(
        between(&body, "Arn"),
        "arn:aws:sts::111122223333:assumed-role/curity-dynamodb/web-identity-token-1",
        "the role path is dropped"
    );
    assert!(between(&body, "AssumedRoleId").starts_with("AROA"));
    assert!(between(&body, "AssumedRoleId").ends_with(":web-identity-token-1"));
    assert_eq!(
        between(&body, "Provider"),
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
    );
    assert_eq!(
        between(&body, "SubjectFromWebIdentityToken"),
        "system:serviceaccount:curity:dynamo-sa"
    );
    assert_eq!(between(&body, "Expiration"), "2027-01-15T09:00:00Z");
    let akid = between(&body, "AccessKeyId");
    assert!(
        akid.starts_with("ASIA")
            && akid.len() == 20
            && akid.chars().all(|c| c.is_ascii_alphanumeric())
    );
    let session = f
        .sessions
        .get(akid)
        .expect("the session is stored under its key id");
    assert!(
        session
            .credentials
            .session_token
            .matches(between(&body, "SessionToken"))
    );
    assert!(
        !body.contains("PackedPolicySize"),
        "only when session policies were passed"
    );
}

#[tokio::test]
async fn a_trailing_newline_from_a_token_file_is_accepted() {
    let f = fixture();
    let t = format!("{}\n", token(&f, "curity"));
    let (status, _, body) = post(&f, &arwwi(&t, "s1")).await;
    assert_eq!(status, 200, "{body}");
}

async fn assert_error(
    f: &Fixture,
    params: &[(&str, &str)],
    status: u16,
    code: &str,
    message: &str,
) {
    let (got_status, headers, body) = post(f, params).await;
    assert_eq!(got_status, status, "{body}");
    assert!(body.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n"), "{body}");
    assert_eq!(between(&body, "Code"), code, "{body}");
    assert_eq!(between(&body, "Message"), message, "{body}");
    assert_eq!(
        between(&body, "RequestId"),
        headers["x-amzn-requestid"].to_str().unwrap()
    );
}

#[tokio::test]
async fn web_identity_refusals_have_aws_codes_statuses_and_texts() {
    let f = fixture();
    assert_error(
        &f,
        &arwwi("not-a-jwt", "s1"),
        400,
        "InvalidIdentityToken",
        "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
    )
    .await;
    let wrong_ns = token(&f, "default");
    assert_error(
        &f,
        &arwwi(&wrong_ns, "s1"),
        403,
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    )
    .await;
    let good = token(&f, "curity");
    let mut typo = arwwi(&good, "s1");
    typo[2] = (
        "RoleArn",
        "arn:aws:iam::111122223333:role/team/curity-dynamodb-typo",
    );
    assert_error(
        &f,
        &typo,
        403,
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    )
    .await;
}

#[tokio::test]
async fn validation_errors_are_counted_and_joined_as_aws_does() {
    let f = fixture();
    let good = token(&f, "curity");
    assert_error(
        &f,
        &arwwi(&good, "a:b"),
        400,
        "ValidationError",
        "1 validation error detected: Value 'a:b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    )
    .await;
    let mut params = arwwi(&good, "a:b");
    params.push(("DurationSeconds", "100"));
    assert_error(
        &f,
        &params,
        400,
        "ValidationError",
        "2 validation errors detected: Value 'a:b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; Value '100' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    )
    .await;
    let mut params = arwwi(&good, "s1");
    params.push(("DurationSeconds", "7200"));
    assert_error(
        &f,
        &params,
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )
    .await;
}

#[tokio::test]
async fn get_caller_identity_without_a_signature_is_refused() {
    let f = fixture();
    assert_error(
        &f,
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        403,
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_action_is_named() {
    let f = fixture();
    assert_error(
        &f,
        &[("Action", "AssumeRoleWithSAML"), ("Version", "2011-06-15")],
        400,
        "InvalidAction",
        "Could not find operation AssumeRoleWithSAML for version 2011-06-15",
    )
    .await;
}

const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}]}"#;

#[tokio::test]
async fn an_inline_session_policy_is_carried_by_the_session_with_its_packed_size() {
    let f = fixture();
    let t = token(&f, "curity");
    let mut params = arwwi(&t, "with-policy");
    params.push(("Policy", READ_ONLY));
    let (status, _, body) = post(&f, &params).await;
    assert_eq!(status, 200, "{body}");
    let size: u32 = between(&body, "PackedPolicySize").parse().unwrap();
    assert!((1..=100).contains(&size), "{size}");
    let session = f.sessions.get(between(&body, "AccessKeyId")).unwrap();
    assert_eq!(session.session_policies.len(), 1);
    assert_eq!(session.session_policies[0].name, "session policy");
}

#[tokio::test]
async fn session_policy_errors_have_awss_codes_statuses_and_texts() {
    let f = fixture();
    let t = token(&f, "curity");
    let mut params = arwwi(&t, "bad-policy");
    params.push(("Policy", "{not json"));
    let (status, _, body) = post(&f, &params).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(between(&body, "Code"), "MalformedPolicyDocument");
    assert_eq!(
        between(&body, "Message"),
        "The policy is not in the valid JSON format."
    );

    let long = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[],\"Id\":\"{}\"}}",
        "x".repeat(2100)
    );
    let arns: Vec<String> = (0..11)
        .map(|i| format!("arn:aws:iam::111122223333:policy/p{i}"))
        .collect();
    let keys: Vec<String> = (1..=11)
        .map(|i| format!("PolicyArns.member.{i}.arn"))
        .collect();
    let mut params = arwwi(&t, "too-much");
    params.push(("Policy", &long));
    for (k, v) in keys.iter().zip(&arns) {
        params.push((k, v));
    }
    let (status, _, body) = post(&f, &params).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(between(&body, "Code"), "ValidationError");
    let message = between(&body, "Message");
    assert!(
        message.starts_with("2 validation errors detected: "),
        "{message}"
    );
    assert!(message.contains("at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048"));
    assert!(message.contains("at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10"));

    let mut params = arwwi(&t, "missing-managed");
    params.push((
        "PolicyArns.member.1.arn",
        "arn:aws:iam::111122223333:policy/nope",
    ));
    let (status, _, body) = post(&f, &params).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(between(&body, "Code"), "MalformedPolicyDocument");
}

/// The `Date` header is the harness clock's time, on answers and refusals alike: the SDKs correct
/// their clock skew from it (found by the interop suite).
#[tokio::test]
async fn responses_carry_the_harness_clock_in_date() {
    let f = fixture();
    let t = token(&f, "curity");
    let expected = irsa_core::clock::render_http_date(NOW);
    let (status, headers, _) = post(&f, &arwwi(&t, "s1")).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("date").unwrap().to_str().unwrap(), expected);
    let refused = token(&f, "default");
    let (status, headers, _) = post(&f, &arwwi(&refused, "s2")).await;
    assert_eq!(status, 403);
    assert_eq!(headers.get("date").unwrap().to_str().unwrap(), expected);
}
