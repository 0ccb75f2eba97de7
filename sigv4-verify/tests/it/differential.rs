//! Differential test: requests signed by AWS's own `aws-sigv4` must verify with ours, and a
//! tampered body must not.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use proptest::prelude::*;
use sigv4_verify::{Request, SigError, parse_and_check, verify_signature};

use crate::{EXAMPLE_SECRET, dynamodb, example_secret, utc};

const UNIX: u64 = 1_795_897_986; // 2026-11-28T20:33:06Z

#[derive(Debug, Clone)]
struct Case {
    host: &'static str,
    region: &'static str,
    target: &'static str,
    extra: Vec<(String, String)>,
    body: Vec<u8>,
    token: Option<String>,
    content_sha256: bool,
    flip: usize,
}

fn case() -> impl Strategy<Value = Case> {
    let header_name = "(X-H-|x-h-|amz-sdk-)[a-z]{1,6}";
    // Printable ASCII with runs of spaces, leading and trailing ones included.
    let header_value = "( {0,3}[!-~]{0,6}){0,4}";
    (
        prop::sample::select(vec!["127.0.0.1:4599", "dynamodb.us-west-2.amazonaws.com"]),
        prop::sample::select(vec!["us-west-2", "us-east-1", "eu-central-1"]),
        prop::sample::select(vec![
            "DynamoDB_20120810.GetItem",
            "DynamoDB_20120810.PutItem",
            "DynamoDB_20120810.Query",
        ]),
        prop::collection::vec((header_name, header_value), 0..6),
        prop::collection::vec(any::<u8>(), 0..200),
        prop::option::of("[A-Za-z0-9+/=]{16,64}"),
        any::<bool>(),
        any::<usize>(),
    )
        .prop_map(
            |(host, region, target, extra, body, token, content_sha256, flip)| Case {
                host,
                region,
                target,
                extra,
                body,
                token,
                content_sha256,
                flip,
            },
        )
}

/// Signs with `aws-sigv4` as an SDK would; returns every header as the server receives them.
fn sign_with_aws_sigv4(case: &Case) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = vec![
        ("host".to_owned(), case.host.to_owned()),
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.0".to_owned(),
        ),
        ("x-amz-target".to_owned(), case.target.to_owned()),
        ("content-length".to_owned(), case.body.len().to_string()),
    ];
    headers.extend(case.extra.iter().cloned());

    let identity =
        Credentials::new("ASIAEXAMPLE", EXAMPLE_SECRET, case.token.clone(), None, "t").into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    if case.content_sha256 {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(case.region)
        .name("dynamodb")
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(UNIX))
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        format!("http://{}/", case.host),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(&case.body),
    )
    .expect("signable request");
    let (instructions, _signature) = sign(signable, &params).expect("sign").into_parts();
    headers.extend(
        instructions
            .headers()
            .map(|(n, v)| (n.to_owned(), v.to_owned())),
    );
    headers
}

fn verify(headers: &[(String, String)], body: &[u8]) -> Result<(), SigError> {
    let headers: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body,
    };
    let now = utc(i64::try_from(UNIX).expect("fits"));
    let parsed = parse_and_check(&req, &dynamodb(), now)?;
    verify_signature(&req, &parsed, &example_secret())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn verifies_what_aws_sigv4_signs_and_rejects_a_flipped_body_byte(case in case()) {
        let headers = sign_with_aws_sigv4(&case);
        prop_assert_eq!(verify(&headers, &case.body), Ok(()));

        let mut tampered = case.body.clone();
        if tampered.is_empty() {
            tampered.push(0);
        } else {
            let i = case.flip % tampered.len();
            if let Some(byte) = tampered.get_mut(i) {
                *byte ^= 0x01;
            }
        }
        let err = verify(&headers, &tampered).expect_err("tampered body must fail");
        if case.content_sha256 {
            let is_sha_mismatch = matches!(err, SigError::ContentSha256Mismatch { .. });
            prop_assert!(is_sha_mismatch, "{:?}", err);
        } else {
            let is_mismatch = matches!(err, SigError::Mismatch(_));
            prop_assert!(is_mismatch, "{:?}", err);
        }
    }
}

/// A GET-style request with a random raw path and query, signed by `aws-sigv4`, verified by us.
fn verify_path_and_query(path: &str, query: &str) -> Result<(), String> {
    let host = "sts.us-east-1.amazonaws.com";
    let headers = vec![("host".to_owned(), host.to_owned())];
    let identity = Credentials::new("AKIDEXAMPLE", EXAMPLE_SECRET, None, None, "t").into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("sts")
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(UNIX))
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let uri = if query.is_empty() {
        format!("http://{host}{path}")
    } else {
        format!("http://{host}{path}?{query}")
    };
    let signable = SignableRequest::new(
        "GET",
        uri,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(b""),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    let mut all = headers.clone();
    all.extend(
        instructions
            .headers()
            .map(|(n, v)| (n.to_owned(), v.to_owned())),
    );
    let all: Vec<(&str, &[u8])> = all
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let req = Request {
        method: "GET",
        path,
        query,
        headers: &all,
        body: b"",
    };
    let now = utc(i64::try_from(UNIX).map_err(|e| e.to_string())?);
    let parsed =
        parse_and_check(&req, &sigv4_verify::Policy::sts(), now).map_err(|e| e.to_string())?;
    verify_signature(&req, &parsed, &example_secret()).map_err(|e| match e {
        SigError::Mismatch(m) => format!("mismatch; we computed:\n{}", m.canonical_request),
        other => other.to_string(),
    })
}

fn raw_path() -> impl Strategy<Value = String> {
    // Segments with sub-delims, percent escapes of ASCII, dot segments and empty segments.
    let segment = prop_oneof![
        Just(String::new()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        "([A-Za-z0-9._~!$&'()*+,;=:@-]|%[2-7][0-9A-F]){1,6}",
    ];
    (prop::collection::vec(segment, 0..6), any::<bool>()).prop_map(|(segments, trailing)| {
        let mut path = String::new();
        for segment in segments {
            path.push('/');
            path.push_str(&segment);
        }
        if trailing || path.is_empty() {
            path.push('/');
        }
        path
    })
}

fn raw_query() -> impl Strategy<Value = String> {
    // Keys and values with unreserved characters, `+`, and percent escapes of ASCII (`%FF`-style
    // invalid UTF-8 is left out: aws-sigv4 decodes it lossily, we keep the bytes).
    let part = "([A-Za-z0-9._~+-]|%[2-7][0-9A-Fa-f]){0,5}";
    prop::collection::vec((part, prop::option::of(part)), 0..5).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => k,
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn verifies_aws_sigv4_signatures_over_random_paths_and_queries(
        path in raw_path(),
        query in raw_query(),
    ) {
        prop_assert_eq!(verify_path_and_query(&path, &query), Ok(()));
    }
}

#[test]
fn verifies_aws_sigv4_signature_over_duplicate_and_multi_space_headers() {
    let case = Case {
        host: "127.0.0.1:4599",
        region: "us-west-2",
        target: "DynamoDB_20120810.GetItem",
        extra: vec![
            ("x-dup".to_owned(), "b".to_owned()),
            ("X-Dup".to_owned(), "  a  z ".to_owned()),
            ("x-q".to_owned(), "\"a   b   c\"".to_owned()),
        ],
        body: br#"{"TableName":"t1"}"#.to_vec(),
        token: Some("FwoGZXIvYXdzEXAMPLE".to_owned()),
        content_sha256: false,
        flip: 0,
    };
    let headers = sign_with_aws_sigv4(&case);
    assert_eq!(verify(&headers, &case.body), Ok(()));
}
