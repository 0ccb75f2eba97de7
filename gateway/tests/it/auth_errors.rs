//! Every SigV4 and session error of wire-contracts §3–§4, reproduced with hand-built requests
//! against `gateway::handler::handle` in-process: status, `__type`, the exact message, the casing
//! of its key, `x-amz-crc32` and `x-amzn-RequestId`.
//!
//! The upstream is a listener that is never accepted on: after each refused call the test checks
//! that nothing connected to it, so an unauthenticated or denied call provably never reaches the
//! backend.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::Arc;

use axum::body::Bytes;
use gateway::forward::Upstream;
use gateway::handler::{GatewayState, handle};
use iam_policy::NamedPolicy;
use irsa_core::arn::RoleArn;
use irsa_core::clock::FixedClock;
use irsa_core::credential::TemporaryCredentials;
use irsa_core::session::Session;
use irsa_core::world::{Role, World};
use irsa_core::{MemorySessionStore, SecretAccessKey, SessionStore, SessionToken};
use sigv4_verify::SecretKey;
use time::OffsetDateTime;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";
/// 2026-11-28T20:33:48Z, the date of wire-contracts §3.1's captured response.
const NOW: i64 = 1_795_898_028;
const AKID: &str = "ASIAIRSAHARNESSTEST1";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "IQoJb3JpZ2luX2VjTESTSESSIONTOKENDONOTLEAK";
const HOST: &str = "127.0.0.1:4599";
const TARGET: &str = "DynamoDB_20120810.GetItem";
const BODY: &str = r#"{"TableName":"curity-accounts","Key":{"pk":{"S":"un#alice"}}}"#;

fn world() -> World {
    let role = session(NOW).role;
    World {
        roles: BTreeMap::from([(role.arn.name().to_owned(), role)]),
        ..World::empty(ACCOUNT.into(), REGION.into())
    }
}

fn session(expires_at: i64) -> Session {
    let trust = NamedPolicy::parse(
        "trust",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#,
    )
    .unwrap();
    let allow = NamedPolicy::parse(
        "curity-tables",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/curity-*"}]}"#,
    )
    .unwrap();
    let role = Role {
        arn: RoleArn::new(ACCOUNT, "/", "curity-dynamodb"),
        id: irsa_core::world::role_id(ACCOUNT, "curity-dynamodb"),
        trust_policy: trust,
        policies: vec![allow],
        managed_policy_arns: BTreeMap::new(),
        permissions_boundary: None,
        max_session_duration: 3600,
        record: Default::default(),
    };
    Session {
        credentials: TemporaryCredentials {
            access_key_id: AKID.into(),
            secret_access_key: SecretAccessKey::new(SECRET),
            session_token: SessionToken::new(TOKEN),
        },
        assumed_role_arn: role.arn.assumed_role_arn("test-session"),
        assumed_role_id: format!("{}:test-session", role.id),
        role,
        role_session_name: "test-session".into(),
        web_identity: None,
        session_policies: vec![],
        issued_at: NOW - 60,
        expires_at,
    }
}

/// A gateway whose backend is `upstream`, holding one session that expires at `expires_at`.
fn gateway(upstream: &str, expires_at: i64) -> GatewayState {
    let sessions = Arc::new(MemorySessionStore::new());
    sessions.insert(session(expires_at));
    GatewayState {
        world: Arc::new(irsa_core::WorldStore::new(world())),
        sessions,
        clock: Arc::new(FixedClock(NOW)),
        upstream: Upstream::new(upstream).unwrap(),
        key_schemas: Default::default(),
        audit: None,
        resource_policies: Default::default(),
    }
}

/// A backend that must never be contacted: bound, never accepted on.
struct Tripwire(TcpListener);

impl Tripwire {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Self(listener)
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.0.local_addr().unwrap())
    }

    fn assert_untouched(&self) {
        match self.0.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok(_) => panic!("the backend was contacted"),
            Err(e) => panic!("accept: {e}"),
        }
    }
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

/// Headers of a call signed as an SDK would (host, content-type, x-amz-target, x-amz-date,
/// x-amz-security-token, authorization).
fn signed(
    akid: &str,
    secret: &str,
    token: Option<&str>,
    service: &str,
    when: i64,
) -> Vec<(String, String)> {
    let base = [
        ("host", HOST),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", TARGET),
    ];
    let mut headers: Vec<(String, String)> = base
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    headers.extend(sigv4_verify::sign_request(
        "POST",
        "/",
        "",
        &base,
        BODY.as_bytes(),
        akid,
        &SecretKey::new(secret.to_owned()),
        token,
        REGION,
        service,
        at(when),
    ));
    headers
}

fn good() -> Vec<(String, String)> {
    signed(AKID, SECRET, Some(TOKEN), "dynamodb", NOW)
}

/// Replaces (or with `None` removes) a header.
fn with(
    mut headers: Vec<(String, String)>,
    name: &str,
    value: Option<&str>,
) -> Vec<(String, String)> {
    headers.retain(|(n, _)| n != name);
    if let Some(v) = value {
        headers.push((name.to_owned(), v.to_owned()));
    }
    headers
}

fn authorization(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .map(|(_, v)| v.clone())
        .unwrap()
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Bytes,
    json: serde_json::Value,
}

async fn call(state: &GatewayState, headers: &[(String, String)], body: &str) -> Answer {
    let mut builder = http::Request::post("/");
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let (parts, ()) = builder.body(()).unwrap().into_parts();
    let response = handle(state, &parts, Bytes::from(body.to_owned()), None).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let json = serde_json::from_slice(&body).unwrap();
    Answer {
        status,
        headers,
        body,
        json,
    }
}

/// Asserts the common shape of a DynamoDB error and returns its message.
fn assert_error(answer: &Answer, status: u16, code: &str, message_key: &str) -> String {
    assert_eq!(answer.status, status, "{:?}", answer.json);
    assert_eq!(
        answer.json["__type"],
        format!("com.amazon.coral.service#{code}"),
        "{:?}",
        answer.json
    );
    let other_key = if message_key == "message" {
        "Message"
    } else {
        "message"
    };
    assert!(answer.json.get(other_key).is_none(), "{:?}", answer.json);
    assert_eq!(answer.headers["content-type"], "application/x-amz-json-1.0");
    let crc: u32 = answer.headers["x-amz-crc32"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(crc, crc32fast::hash(&answer.body));
    let id = answer.headers["x-amzn-requestid"].to_str().unwrap();
    assert_eq!(id.len(), 52, "{id}");
    assert!(
        id.chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    );
    answer.json[message_key].as_str().unwrap().to_owned()
}

/// The call is refused with `code` (status 400, lower-case `message`) and the backend untouched.
async fn refused(headers: &[(String, String)], code: &str) -> String {
    refused_with(headers, NOW + 3600, code).await
}

async fn refused_with(headers: &[(String, String)], expires_at: i64, code: &str) -> String {
    let tripwire = Tripwire::new();
    let state = gateway(&tripwire.endpoint(), expires_at);
    let answer = call(&state, headers, BODY).await;
    let message = assert_error(&answer, 400, code, "message");
    tripwire.assert_untouched();
    // Nothing secret is ever echoed back by the gateway's own checks.
    let text = String::from_utf8_lossy(&answer.body);
    assert!(!text.contains(TOKEN), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    message
}

#[tokio::test]
async fn no_authorization_header_is_missing_authentication_token() {
    let headers = with(good(), "authorization", None);
    let message = refused(&headers, "MissingAuthenticationTokenException").await;
    assert_eq!(message, "Request is missing Authentication Token");
}

#[tokio::test]
async fn an_authorization_header_not_starting_aws4_is_missing_authentication_token() {
    let headers = with(good(), "authorization", Some("Bearer abc"));
    let message = refused(&headers, "MissingAuthenticationTokenException").await;
    assert_eq!(message, "Request is missing Authentication Token");
}

#[tokio::test]
async fn missing_authentication_token_body_is_byte_exact() {
    let tripwire = Tripwire::new();
    let state = gateway(&tripwire.endpoint(), NOW + 3600);
    let answer = call(&state, &with(good(), "authorization", None), BODY).await;
    // wire-contracts §3.1: 125 bytes, CRC 2088342776.
    assert_eq!(
        answer.body,
        r#"{"__type":"com.amazon.coral.service#MissingAuthenticationTokenException","message":"Request is missing Authentication Token"}"#
    );
    assert_eq!(answer.headers["x-amz-crc32"], "2088342776");
}

#[tokio::test]
async fn an_incomplete_header_names_each_missing_part_and_echoes_the_header() {
    let sent = "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date";
    let headers = with(
        with(good(), "authorization", Some(sent)),
        "x-amz-date",
        None,
    );
    let message = refused(&headers, "IncompleteSignatureException").await;
    assert_eq!(
        message,
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date"
    );

    let sent =
        format!("AWS4-HMAC-SHA256 Credential={AKID}/20261128/{REGION}/dynamodb/aws4_request");
    let headers = with(good(), "authorization", Some(&sent));
    let message = refused(&headers, "IncompleteSignatureException").await;
    assert_eq!(
        message,
        format!(
            "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={sent}"
        )
    );
}

#[tokio::test]
async fn a_date_not_in_basic_format_is_incomplete_signature() {
    let headers = with(good(), "x-amz-date", Some("201"));
    let message = refused(&headers, "IncompleteSignatureException").await;
    assert_eq!(
        message,
        "Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601"
    );
}

#[tokio::test]
async fn an_unsupported_algorithm_is_incomplete_signature() {
    let headers = good();
    let sent = authorization(&headers).replacen("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA25", 1);
    let headers = with(headers, "authorization", Some(&sent));
    let message = refused(&headers, "IncompleteSignatureException").await;
    assert_eq!(
        message,
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). "
    );
}

#[tokio::test]
async fn a_credential_without_five_elements_is_incomplete_signature() {
    let sent = "AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host;x-amz-date, Signature=00";
    let headers = with(good(), "authorization", Some(sent));
    let message = refused(&headers, "IncompleteSignatureException").await;
    assert_eq!(
        message,
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'"
    );
}

#[tokio::test]
async fn a_credential_scoped_to_sts_is_invalid_signature() {
    let headers = signed(AKID, SECRET, Some(TOKEN), "sts", NOW);
    let message = refused(&headers, "InvalidSignatureException").await;
    assert_eq!(
        message,
        "Credential should be scoped to correct service: 'dynamodb'."
    );
}

#[tokio::test]
async fn every_wrong_part_of_the_scope_is_named_in_order() {
    let sent = format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/b/{REGION}/sts/e, SignedHeaders=host;x-amz-date, Signature=00"
    );
    let headers = with(good(), "authorization", Some(&sent));
    let message = refused(&headers, "InvalidSignatureException").await;
    assert_eq!(
        message,
        "Credential should be scoped to correct service: 'dynamodb'. Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'b' != '20261128', from '20261128T203348Z'."
    );

    let sent = format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/20261128//dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
    );
    let headers = with(good(), "authorization", Some(&sent));
    let message = refused(&headers, "InvalidSignatureException").await;
    assert_eq!(
        message,
        "Credential should be scoped to a valid region, not ''."
    );
}

#[tokio::test]
async fn an_unsigned_host_is_invalid_signature() {
    let headers = good();
    let sent = authorization(&headers).replace(
        "SignedHeaders=content-type;host;",
        "SignedHeaders=content-type;",
    );
    assert!(!sent.contains(";host;"));
    let headers = with(headers, "authorization", Some(&sent));
    let message = refused(&headers, "InvalidSignatureException").await;
    assert_eq!(
        message,
        "'Host' must be a 'SignedHeader' in the AWS Authorization."
    );
}

#[tokio::test]
async fn a_request_older_than_five_minutes_is_signature_expired() {
    let headers = signed(AKID, SECRET, Some(TOKEN), "dynamodb", NOW - 600);
    let message = refused(&headers, "InvalidSignatureException").await;
    assert_eq!(
        message,
        "Signature expired: 20261128T202348Z is now earlier than 20261128T202848Z (20261128T203348Z - 5 min.)"
    );
}

#[tokio::test]
async fn a_request_more_than_five_minutes_ahead_is_not_yet_current() {
    let headers = signed(AKID, SECRET, Some(TOKEN), "dynamodb", NOW + 600);
    let message = refused(&headers, "InvalidSignatureException").await;
    assert_eq!(
        message,
        "Signature not yet current: 20261128T204348Z is still later than 20261128T203848Z (20261128T203348Z + 5 min.)"
    );
}

#[tokio::test]
async fn an_unknown_access_key_is_unrecognized_client() {
    let headers = signed("ASIAUNKNOWNKEY000000", SECRET, Some(TOKEN), "dynamodb", NOW);
    let message = refused(&headers, "UnrecognizedClientException").await;
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
}

#[tokio::test]
async fn an_unknown_access_key_is_reported_before_a_bad_signature() {
    let headers = signed(
        "ASIAUNKNOWNKEY000000",
        "not-the-secret",
        None,
        "dynamodb",
        NOW,
    );
    refused(&headers, "UnrecognizedClientException").await;
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_signature_without_the_canonical_request() {
    let headers = signed(AKID, "not-the-secret", Some(TOKEN), "dynamodb", NOW);
    let message = refused(&headers, "InvalidSignatureException").await;
    // Real DynamoDB appends the canonical request and string to sign; the canonical request
    // holds the `x-amz-security-token` value, so the gateway never does (see handler.rs).
    assert_eq!(
        message,
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
    let signature = authorization(&headers);
    let signature = signature.rsplit_once("Signature=").unwrap().1;
    assert!(!message.contains(signature));
}

#[tokio::test]
async fn a_body_changed_after_signing_is_invalid_signature() {
    let tripwire = Tripwire::new();
    let state = gateway(&tripwire.endpoint(), NOW + 3600);
    let answer = call(
        &state,
        &good(),
        r#"{"TableName":"curity-accounts","Key":{"pk":{"S":"un#bob"}}}"#,
    )
    .await;
    let message = assert_error(&answer, 400, "InvalidSignatureException", "message");
    assert!(message.starts_with("The request signature we calculated does not match"));
    tripwire.assert_untouched();
}

#[tokio::test]
async fn a_content_sha256_that_is_not_the_body_hash_is_invalid_signature() {
    let headers = with(good(), "x-amz-content-sha256", Some(&"0".repeat(64)));
    let message = refused(&headers, "InvalidSignatureException").await;
    assert_eq!(
        message,
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    );
}

#[tokio::test]
async fn a_wrong_session_token_for_a_known_key_is_unrecognized_client() {
    let headers = signed(
        AKID,
        SECRET,
        Some("IQoJb3JpZ2luX2VjANOTHERTOKEN"),
        "dynamodb",
        NOW,
    );
    let message = refused(&headers, "UnrecognizedClientException").await;
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
}

#[tokio::test]
async fn a_missing_session_token_for_a_known_key_is_unrecognized_client() {
    let headers = signed(AKID, SECRET, None, "dynamodb", NOW);
    let message = refused(&headers, "UnrecognizedClientException").await;
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
}

#[tokio::test]
async fn an_expired_session_is_expired_token() {
    let message = refused_with(&good(), NOW, "ExpiredTokenException").await;
    assert_eq!(
        message,
        "The security token included in the request is expired"
    );
}

#[tokio::test]
async fn an_expired_session_with_a_bad_signature_is_invalid_signature_first() {
    // Check order (wire-contracts §4.2): signature, then token, then expiry.
    let headers = signed(AKID, "not-the-secret", Some(TOKEN), "dynamodb", NOW);
    refused_with(&headers, NOW, "InvalidSignatureException").await;
}

#[tokio::test]
async fn a_denied_call_is_access_denied_with_capital_message_and_never_forwarded() {
    let tripwire = Tripwire::new();
    let state = gateway(&tripwire.endpoint(), NOW + 3600);
    let body = r#"{"TableName":"other-table","Key":{"id":{"S":"x"}}}"#;
    let headers = {
        let base = [
            ("host", HOST),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", TARGET),
        ];
        let mut h: Vec<(String, String)> = base
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        h.extend(sigv4_verify::sign_request(
            "POST",
            "/",
            "",
            &base,
            body.as_bytes(),
            AKID,
            &SecretKey::new(SECRET.to_owned()),
            Some(TOKEN),
            REGION,
            "dynamodb",
            at(NOW),
        ));
        h
    };
    let answer = call(&state, &headers, body).await;
    let message = assert_error(&answer, 400, "AccessDeniedException", "Message");
    assert_eq!(
        message,
        "User: arn:aws:sts::111122223333:assumed-role/curity-dynamodb/test-session is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/other-table because no identity-based policy allows the dynamodb:GetItem action"
    );
    tripwire.assert_untouched();
}

#[tokio::test]
async fn an_allowed_call_with_the_backend_down_is_a_retryable_500() {
    // Port 9 (discard) is closed on test machines: the connection is refused.
    let state = gateway("http://127.0.0.1:9", NOW + 3600);
    let answer = call(&state, &good(), BODY).await;
    let message = assert_error_500(&answer);
    assert!(
        message.contains("the DynamoDB backend at http://127.0.0.1:9/ did not answer"),
        "{message}"
    );
}

fn assert_error_500(answer: &Answer) -> String {
    assert_eq!(answer.status, 500, "{:?}", answer.json);
    assert_eq!(
        answer.json["__type"],
        "com.amazonaws.dynamodb.v20120810#InternalServerError"
    );
    let crc: u32 = answer.headers["x-amz-crc32"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(crc, crc32fast::hash(&answer.body));
    assert_eq!(answer.headers["x-amzn-requestid"].len(), 52);
    answer.json["message"].as_str().unwrap().to_owned()
}

/// The `Date` header is the harness clock's time, not the server's: the SDKs correct their clock
/// skew from it, so a moved harness clock must move it too (found by the interop suite).
#[tokio::test]
async fn responses_carry_the_harness_clock_in_date() {
    let backend = Tripwire::new();
    let state = gateway(&backend.endpoint(), NOW + 3600);
    let answer = call(&state, &with(good(), "authorization", None), BODY).await;
    assert_eq!(
        answer.headers.get("date").and_then(|v| v.to_str().ok()),
        Some(irsa_core::clock::render_http_date(NOW).as_str())
    );
    backend.assert_untouched();
}
