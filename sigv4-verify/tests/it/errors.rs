//! One test per `SigError` variant with AWS's exact text, plus the check order.

use sigv4_verify::{
    Parsed, Policy, Request, SecretKey, SigError, SigErrorKind, parse_and_check, sign_request,
    verify_signature,
};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::{dynamodb, example_secret};

const NOW: OffsetDateTime = datetime!(2026-11-28 20:33:06 UTC);
const AUTH_OK: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-west-2/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd";

fn check(headers: &[(&str, &[u8])], policy: &Policy, now: OffsetDateTime) -> SigError {
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body: b"{}",
    };
    match parse_and_check(&req, policy, now) {
        Err(e) => e,
        Ok(p) => panic!("expected an error, got {p:?}"),
    }
}

fn with_auth(auth: &str) -> SigError {
    check(
        &[
            ("host", b"127.0.0.1:4599"),
            ("x-amz-date", b"20261128T203306Z"),
            ("authorization", auth.as_bytes()),
        ],
        &dynamodb(),
        NOW,
    )
}

/// A correctly signed DynamoDB request: (headers, body).
fn signed(body: &[u8], secret: &SecretKey) -> Vec<(String, Vec<u8>)> {
    let base = [
        ("host", "127.0.0.1:4599"),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "DynamoDB_20120810.GetItem"),
    ];
    let added = sign_request(
        "POST",
        "/",
        "",
        &base,
        body,
        "AKIDEXAMPLE",
        secret,
        None,
        "us-west-2",
        "dynamodb",
        NOW,
    );
    base.iter()
        .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
        .chain(added.into_iter().map(|(n, v)| (n, v.into_bytes())))
        .collect()
}

fn verify_owned(
    headers: &[(String, Vec<u8>)],
    body: &[u8],
    secret: &SecretKey,
) -> Result<Parsed, SigError> {
    let headers: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body,
    };
    let parsed = parse_and_check(&req, &dynamodb(), NOW)?;
    verify_signature(&req, &parsed, secret)?;
    Ok(parsed)
}

#[test]
fn missing_authorization_is_missing_authentication_token() {
    let err = check(&[("host", b"h")], &dynamodb(), NOW);
    assert_eq!(err.to_string(), "Request is missing Authentication Token");
    assert_eq!(err.kind(), SigErrorKind::MissingAuthenticationToken);
}

#[test]
fn authorization_not_starting_with_aws4_is_missing_authentication_token() {
    for auth in ["Bearer abc", "AWS AKID:sig", "", "aws4-hmac-sha256 x"] {
        assert_eq!(
            with_auth(auth),
            SigError::MissingAuthenticationToken,
            "{auth:?}"
        );
    }
}

#[test]
fn incomplete_header_lists_every_missing_part_and_echoes_the_header() {
    let err = check(&[("Authorization", b"AWS4-")], &dynamodb(), NOW);
    assert_eq!(
        err.to_string(),
        "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-"
    );
    assert_eq!(err.kind(), SigErrorKind::IncompleteSignature);
}

#[test]
fn incomplete_header_debug_redacts_the_echoed_header() {
    let err = check(
        &[("Authorization", b"AWS4-HMAC-SHA256 Signature=feedface01")],
        &dynamodb(),
        NOW,
    );
    assert!(
        err.to_string()
            .ends_with("Authorization=AWS4-HMAC-SHA256 Signature=feedface01")
    );
    let shown = format!("{err:?}");
    assert!(!shown.contains("feedface01"), "{shown}");
}

#[test]
fn incomplete_header_lists_only_the_missing_parts() {
    let err = check(
        &[
            ("Authorization", b"AWS4- Signature=b Credential=a"),
            ("Date", b"a"),
        ],
        &dynamodb(),
        NOW,
    );
    assert_eq!(
        err.to_string(),
        "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4- Signature=b Credential=a"
    );
    // An empty value counts as missing; ',' separates like ' '.
    let err = check(
        &[
            (
                "Authorization",
                b"AWS4- Signature=,Credential=a,SignedHeaders=host",
            ),
            ("X-Amz-Date", b"20261128T203306Z"),
        ],
        &dynamodb(),
        NOW,
    );
    assert_eq!(
        err.to_string(),
        "Authorization header requires 'Signature' parameter. Authorization=AWS4- Signature=,Credential=a,SignedHeaders=host"
    );
}

#[test]
fn bad_date_format_is_incomplete_signature() {
    let err = check(
        &[
            ("Authorization", AUTH_OK.as_bytes()),
            ("X-Amz-Date", b"201"),
        ],
        &dynamodb(),
        NOW,
    );
    assert_eq!(
        err.to_string(),
        "Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601"
    );
    assert_eq!(err.kind(), SigErrorKind::IncompleteSignature);
}

#[test]
fn date_header_is_used_when_x_amz_date_is_absent() {
    let err = check(
        &[
            ("Authorization", AUTH_OK.as_bytes()),
            ("Date", b"Sat, 28 Nov 2026 20:33:06 GMT"),
        ],
        &dynamodb(),
        NOW,
    );
    assert_eq!(
        err,
        SigError::BadDate {
            got: "Sat, 28 Nov 2026 20:33:06 GMT".to_owned()
        }
    );
}

#[test]
fn old_request_is_signature_expired_with_the_dynamodb_window() {
    let err = check(
        &[
            ("Authorization", AUTH_OK.as_bytes()),
            ("X-Amz-Date", b"20261128T100000Z"),
        ],
        &dynamodb(),
        datetime!(2026-11-28 10:10:00 UTC),
    );
    assert_eq!(
        err.to_string(),
        "Signature expired: 20261128T100000Z is now earlier than 20261128T100500Z (20261128T101000Z - 5 min.)"
    );
    assert_eq!(err.kind(), SigErrorKind::InvalidSignature);
}

#[test]
fn old_request_is_signature_expired_with_the_sts_window() {
    let err = check(
        &[
            ("Authorization", AUTH_OK.as_bytes()),
            ("X-Amz-Date", b"20220127T001427Z"),
        ],
        &Policy::sts(),
        datetime!(2022-01-27 01:59:28 UTC),
    );
    assert_eq!(
        err.to_string(),
        "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z (20220127T015928Z - 15 min.)"
    );
}

#[test]
fn future_request_is_signature_not_yet_current() {
    let err = check(
        &[
            ("Authorization", AUTH_OK.as_bytes()),
            ("X-Amz-Date", b"20261128T102000Z"),
        ],
        &dynamodb(),
        datetime!(2026-11-28 10:10:00 UTC),
    );
    assert_eq!(
        err.to_string(),
        "Signature not yet current: 20261128T102000Z is still later than 20261128T101500Z (20261128T101000Z + 5 min.)"
    );
    assert_eq!(err.kind(), SigErrorKind::InvalidSignature);
}

#[test]
fn skew_window_edges_are_accepted() {
    for date in [b"20261128T100500Z", b"20261128T101500Z"] {
        let req_headers: [(&str, &[u8]); 3] = [
            ("host", b"h"),
            ("X-Amz-Date", date),
            ("Authorization", b"AWS4-HMAC-SHA256 Credential=A/20261128/us-west-2/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab"),
        ];
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &req_headers,
            body: b"",
        };
        let parsed = parse_and_check(&req, &dynamodb(), datetime!(2026-11-28 10:10:00 UTC));
        assert!(parsed.is_ok(), "{parsed:?}");
    }
}

#[test]
fn unsigned_host_is_invalid_signature() {
    let err = with_auth(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-west-2/dynamodb/aws4_request, SignedHeaders=x-amz-date, Signature=abcd",
    );
    assert_eq!(
        err.to_string(),
        "'Host' must be a 'SignedHeader' in the AWS Authorization."
    );
    assert_eq!(err.kind(), SigErrorKind::InvalidSignature);
}

#[test]
fn host_in_signed_headers_is_matched_case_insensitively() {
    let headers: [(&str, &[u8]); 3] = [
        ("Host", b"127.0.0.1:4599"),
        ("X-Amz-Date", b"20261128T203306Z"),
        ("Authorization", b"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-west-2/dynamodb/aws4_request, SignedHeaders=Host;X-Amz-Date, Signature=abcd"),
    ];
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: b"",
    };
    let parsed = parse_and_check(&req, &dynamodb(), NOW).expect("phase 1");
    assert_eq!(parsed.signed_headers, ["host", "x-amz-date"]);
}

#[test]
fn unknown_algorithm_is_incomplete_signature_with_trailing_space() {
    let err = with_auth(
        "AWS4-HMAC-SHA25 Credential=AKIDEXAMPLE/20261128/us-west-2/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd",
    );
    assert_eq!(
        err.to_string(),
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). "
    );
    assert_eq!(err.kind(), SigErrorKind::IncompleteSignature);
}

#[test]
fn credential_without_five_elements_is_incomplete_signature() {
    let err = with_auth(
        "AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host;x-amz-date, Signature=abcd",
    );
    assert_eq!(
        err.to_string(),
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'"
    );
    assert_eq!(err.kind(), SigErrorKind::IncompleteSignature);
}

#[test]
fn credential_trailing_slashes_are_ignored() {
    let err = with_auth(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-west-2/sts/aws4_request//, SignedHeaders=host;x-amz-date, Signature=abcd",
    );
    assert_eq!(
        err.to_string(),
        "Credential should be scoped to correct service: 'dynamodb'."
    );
}

#[test]
fn wrong_scope_concatenates_every_wrong_part() {
    let err = check(
        &[
            ("host", b"h"),
            ("x-amz-date", b"20130609T095204Z"),
            (
                "authorization",
                b"AWS4-HMAC-SHA256 Credential=a/b/us-east-1/d/e, SignedHeaders=host;x-amz-date, Signature=abcd",
            ),
        ],
        &dynamodb(),
        datetime!(2013-06-09 09:52:04 UTC),
    );
    assert_eq!(
        err.to_string(),
        "Credential should be scoped to correct service: 'dynamodb'. Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'b' != '20130609', from '20130609T095204Z'."
    );
    assert_eq!(err.kind(), SigErrorKind::InvalidSignature);
}

#[test]
fn wrong_scope_rejects_an_empty_region() {
    let err = with_auth(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128//dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd",
    );
    assert_eq!(
        err.to_string(),
        "Credential should be scoped to a valid region, not ''."
    );
}

#[test]
fn checks_run_in_aws_order() {
    // Date before host, host before algorithm, algorithm before credential.
    let bad_everything = "AWS4-X Credential=a/b, SignedHeaders=x-amz-date, Signature=abcd";
    let err = check(
        &[
            ("authorization", bad_everything.as_bytes()),
            ("x-amz-date", b"2026"),
        ],
        &dynamodb(),
        NOW,
    );
    assert!(matches!(err, SigError::BadDate { .. }), "{err:?}");
    assert_eq!(with_auth(bad_everything), SigError::HostNotSigned);
    let err = with_auth("AWS4-X Credential=a/b, SignedHeaders=host, Signature=abcd");
    assert!(
        matches!(err, SigError::UnsupportedAlgorithm { .. }),
        "{err:?}"
    );
}

#[test]
fn wrong_secret_is_a_mismatch_without_signatures_in_the_message() {
    let headers = signed(b"{}", &example_secret());
    let err =
        verify_owned(&headers, b"{}", &SecretKey::new("other".to_owned())).expect_err("must fail");
    assert_eq!(
        err.to_string(),
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
    assert_eq!(err.kind(), SigErrorKind::InvalidSignature);
    let SigError::Mismatch(mismatch) = &err else {
        panic!("expected a mismatch, got {err:?}");
    };
    assert!(mismatch.canonical_request.starts_with("POST\n/\n\n"));
    assert!(
        mismatch
            .string_to_sign
            .starts_with("AWS4-HMAC-SHA256\n20261128T203306Z\n")
    );
    assert!(
        mismatch
            .dynamodb_message()
            .contains("\n\nThe Canonical String for this request should have been\n'POST\n/\n")
    );

    let client_signature = headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .and_then(|v| v.rsplit_once("Signature="))
        .map(|(_, s)| s.to_owned())
        .expect("client signature");
    for shown in [
        err.to_string(),
        format!("{err:?}"),
        mismatch.dynamodb_message(),
    ] {
        assert!(!shown.contains(&client_signature), "{shown}");
    }
    // Debug leaves out the canonical request (it may hold a signed session token).
    assert!(!format!("{err:?}").contains("x-amz-target:"));
}

#[test]
fn absent_signed_header_is_an_invalid_signature() {
    let mut headers = signed(b"{}", &example_secret());
    headers.retain(|(n, _)| n != "x-amz-target");
    let err = verify_owned(&headers, b"{}", &example_secret()).expect_err("must fail");
    assert_eq!(
        err,
        SigError::SignedHeaderMissing {
            name: "x-amz-target".to_owned()
        }
    );
    assert_eq!(
        err.to_string(),
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
    assert_eq!(err.kind(), SigErrorKind::InvalidSignature);
}

#[test]
fn wrong_content_sha256_is_rejected_before_the_signature() {
    let mut headers = signed(b"{}", &example_secret());
    headers.push((
        "x-amz-content-sha256".to_owned(),
        b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_vec(),
    ));
    let err = verify_owned(&headers, b"{}", &example_secret()).expect_err("must fail");
    assert_eq!(
        err.to_string(),
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    );
    assert_eq!(err.kind(), SigErrorKind::InvalidSignature);
}

#[test]
fn parsed_debug_redacts_signature_and_token() {
    let headers: [(&str, &[u8]); 4] = [
        ("host", b"h"),
        ("x-amz-date", b"20261128T203306Z"),
        ("x-amz-security-token", b"SECRET-TOKEN"),
        ("authorization", b"AWS4-HMAC-SHA256 Credential=ASIAX/20261128/us-west-2/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=deadbeef0123"),
    ];
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: b"",
    };
    let parsed = parse_and_check(&req, &dynamodb(), NOW).expect("phase 1");
    assert_eq!(parsed.security_token.as_deref(), Some("SECRET-TOKEN"));
    assert!(parsed.security_token_signed);
    assert_eq!(parsed.access_key_id, "ASIAX");
    assert_eq!(parsed.scope(), "20261128/us-west-2/dynamodb/aws4_request");
    let shown = format!("{parsed:?} {req:?}");
    assert!(!shown.contains("deadbeef0123"), "{shown}");
    assert!(!shown.contains("SECRET-TOKEN"), "{shown}");
}
