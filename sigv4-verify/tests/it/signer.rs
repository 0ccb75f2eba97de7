//! The harness's client-side signer round-trips through the verifier and agrees with
//! `aws-sigv4`.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use sigv4_verify::{Policy, Request, SecretKey, parse_and_check, sign_request, verify_signature};
use time::macros::datetime;

use crate::{EXAMPLE_SECRET, example_secret};

fn verify(
    base: &[(&str, &str)],
    added: &[(String, String)],
    body: &[u8],
    policy: &Policy,
    now: time::OffsetDateTime,
    secret: &SecretKey,
) -> Result<sigv4_verify::Parsed, sigv4_verify::SigError> {
    let headers: Vec<(&str, &[u8])> = base
        .iter()
        .map(|(n, v)| (*n, v.as_bytes()))
        .chain(added.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
        .collect();
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body,
    };
    let parsed = parse_and_check(&req, policy, now)?;
    verify_signature(&req, &parsed, secret)?;
    Ok(parsed)
}

#[test]
fn sign_request_output_verifies() {
    let now = datetime!(2026-11-28 20:33:06 UTC);
    let base = [
        ("Host", "127.0.0.1:4599"),
        ("Content-Type", "application/x-amz-json-1.0"),
        ("X-Amz-Target", "DynamoDB_20120810.GetItem"),
    ];
    let body = br#"{"TableName":"t1","Key":{"pk":{"S":"a"}}}"#;
    let added = sign_request(
        "POST",
        "/",
        "",
        &base,
        body,
        "ASIAEXAMPLE",
        &example_secret(),
        Some("session-token"),
        "us-west-2",
        "dynamodb",
        now,
    );
    let names: Vec<&str> = added.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["x-amz-date", "x-amz-security-token", "authorization"]
    );
    let parsed = verify(
        &base,
        &added,
        body,
        &Policy::dynamodb(),
        now,
        &example_secret(),
    )
    .expect("verifies");
    assert_eq!(
        parsed.signed_headers,
        [
            "content-type",
            "host",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-target"
        ]
    );
    assert_eq!(parsed.security_token.as_deref(), Some("session-token"));
    assert!(parsed.security_token_signed);
    assert_eq!(parsed.access_key_id, "ASIAEXAMPLE");
}

#[test]
fn sign_request_without_token_or_target_verifies_for_sts() {
    let now = datetime!(2026-11-28 20:33:06 UTC);
    let base = [
        ("host", "127.0.0.1:4600"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    let added = sign_request(
        "POST",
        "/",
        "",
        &base,
        body,
        "AKIDEXAMPLE",
        &example_secret(),
        None,
        "us-east-1",
        "sts",
        now,
    );
    let parsed =
        verify(&base, &added, body, &Policy::sts(), now, &example_secret()).expect("verifies");
    assert_eq!(
        parsed.signed_headers,
        ["content-type", "host", "x-amz-date"]
    );
    assert_eq!(parsed.security_token, None);
    // A different secret fails.
    let other = SecretKey::new("not-the-secret".to_owned());
    assert!(verify(&base, &added, body, &Policy::sts(), now, &other).is_err());
}

#[test]
fn sign_request_agrees_with_aws_sigv4() {
    let unix = 1_795_897_986_u64; // 2026-11-28T20:33:06Z
    let now = datetime!(2026-11-28 20:33:06 UTC);
    let base = [
        ("content-type", "application/x-amz-json-1.0"),
        ("host", "127.0.0.1:4599"),
        ("x-amz-target", "DynamoDB_20120810.ListTables"),
    ];
    let body = b"{}";
    let ours = sign_request(
        "POST",
        "/",
        "",
        &base,
        body,
        "ASIAEXAMPLE",
        &example_secret(),
        Some("tok"),
        "us-west-2",
        "dynamodb",
        now,
    );

    let identity = Credentials::new(
        "ASIAEXAMPLE",
        EXAMPLE_SECRET,
        Some("tok".to_owned()),
        None,
        "t",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-west-2")
        .name("dynamodb")
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(unix))
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        "http://127.0.0.1:4599/",
        base.iter().copied(),
        SignableBody::Bytes(body),
    )
    .expect("signable");
    let (_, theirs) = sign(signable, &params).expect("sign").into_parts();
    let authorization = ours
        .iter()
        .find(|(n, _)| n == "authorization")
        .map(|(_, v)| v.as_str())
        .expect("authorization");
    assert!(
        authorization.ends_with(&format!("Signature={theirs}")),
        "{authorization}"
    );
}
