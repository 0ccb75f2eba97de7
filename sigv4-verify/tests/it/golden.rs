//! AWS's SigV4 test suite (aws-c-auth `v4/`), header-signed cases, under non-S3 rules.

use std::fs;
use std::path::{Path, PathBuf};

use sigv4_verify::{
    Policy, Request, SigError, canonical_request, parse_and_check, sign, string_to_sign,
    verify_signature,
};
use time::macros::datetime;

use crate::example_secret;

const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/sigv4-test-suite/v4"
);

/// A request parsed from `header-signed-request.txt`.
struct Raw {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

fn read(dir: &Path, file: &str) -> String {
    let path = dir.join(file);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse_raw(text: &str) -> Raw {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let request_line = lines.next().expect("request line");
    // The target may hold raw spaces: split on the first and the last space.
    let (method, rest) = request_line.split_once(' ').expect("method");
    let (target, _version) = rest.rsplit_once(' ').expect("version");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // obs-fold: a continuation line joins the previous value with one space.
            let (_, value) = headers.last_mut().expect("continuation after a header");
            value.push(b' ');
            value.extend_from_slice(line.trim_start().as_bytes());
        } else {
            let (name, value) = line.split_once(':').expect("header line");
            headers.push((name.to_owned(), value.as_bytes().to_vec()));
        }
    }
    Raw {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(SUITE)
        .unwrap_or_else(|e| panic!("{SUITE}: {e} (shared/ must sit beside the repository)"))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn suite_policy() -> Policy {
    Policy {
        service: "service".to_owned(),
        max_skew: time::Duration::minutes(5),
    }
}

/// The six cases whose expected files follow S3 rules (no path normalisation). The suite's
/// seventh `normalize: false` case, `get-space-unnormalized`, has nothing to normalise and is
/// relevant (see the suite README).
const S3_ONLY: [&str; 6] = [
    "get-relative-relative-unnormalized",
    "get-relative-unnormalized",
    "get-slash-dot-slash-unnormalized",
    "get-slash-pointless-dot-unnormalized",
    "get-slash-unnormalized",
    "get-slashes-unnormalized",
];

/// Whether the case applies to DynamoDB/STS (non-S3 rules).
fn normalize(dir: &Path) -> bool {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let s3_only = name.is_some_and(|n| S3_ONLY.contains(&n.as_str()));
    if s3_only {
        assert!(read(dir, "context.json").contains("\"normalize\": false"));
    }
    !s3_only
}

#[test]
fn golden_suite_has_32_relevant_and_6_s3_only_cases() {
    let all = cases();
    let relevant = all.iter().filter(|d| normalize(d)).count();
    assert_eq!((relevant, all.len() - relevant), (32, 6));
}

#[test]
fn golden_suite_header_cases_match_canonical_request_string_to_sign_and_signature() {
    let now = datetime!(2015-08-30 12:36:00 UTC);
    let secret = example_secret();
    let mut checked = 0;
    for dir in cases().into_iter().filter(|d| normalize(d)) {
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let raw = parse_raw(&read(&dir, "header-signed-request.txt"));
        let headers: Vec<(&str, &[u8])> = raw
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let req = Request {
            method: &raw.method,
            path: &raw.path,
            query: &raw.query,
            headers: &headers,
            body: &raw.body,
        };
        let parsed = parse_and_check(&req, &suite_policy(), now)
            .unwrap_or_else(|e| panic!("{name}: phase 1: {e}"));
        let creq = canonical_request(&req, &parsed.signed_headers)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(creq, read(&dir, "header-canonical-request.txt"), "{name}");
        let sts = string_to_sign(&parsed.amz_date, &parsed.scope(), &creq);
        assert_eq!(sts, read(&dir, "header-string-to-sign.txt"), "{name}");
        let signature = sign(&secret, &parsed.date, &parsed.region, &parsed.service, &sts);
        assert_eq!(signature, read(&dir, "header-signature.txt"), "{name}");
        assert_eq!(
            verify_signature(&req, &parsed, &secret),
            Ok(()),
            "{name}: verify"
        );
        checked += 1;
    }
    assert_eq!(checked, 32);
}

#[test]
fn golden_suite_s3_only_unnormalized_cases_fail_as_mismatch() {
    let now = datetime!(2015-08-30 12:36:00 UTC);
    let secret = example_secret();
    let mut checked = 0;
    for dir in cases().into_iter().filter(|d| !normalize(d)) {
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(name.ends_with("-unnormalized"), "{name}");
        let raw = parse_raw(&read(&dir, "header-signed-request.txt"));
        let headers: Vec<(&str, &[u8])> = raw
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        let req = Request {
            method: &raw.method,
            path: &raw.path,
            query: &raw.query,
            headers: &headers,
            body: &raw.body,
        };
        let parsed = parse_and_check(&req, &suite_policy(), now)
            .unwrap_or_else(|e| panic!("{name}: phase 1: {e}"));
        match verify_signature(&req, &parsed, &secret) {
            Err(SigError::Mismatch(m)) => {
                assert_ne!(
                    m.canonical_request,
                    read(&dir, "header-canonical-request.txt"),
                    "{name}"
                );
            }
            other => panic!("{name}: expected a mismatch, got {other:?}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn golden_unsigned_session_token_is_reported_but_not_canonicalised() {
    let now = datetime!(2015-08-30 12:36:00 UTC);
    let dir = Path::new(SUITE).join("post-sts-header-after");
    let raw = parse_raw(&read(&dir, "header-signed-request.txt"));
    let headers: Vec<(&str, &[u8])> = raw
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    let req = Request {
        method: &raw.method,
        path: &raw.path,
        query: &raw.query,
        headers: &headers,
        body: &raw.body,
    };
    let parsed = parse_and_check(&req, &suite_policy(), now).expect("phase 1");
    assert!(parsed.security_token.is_some());
    assert!(!parsed.security_token_signed);
    assert_eq!(verify_signature(&req, &parsed, &example_secret()), Ok(()));

    let signed_dir = Path::new(SUITE).join("post-sts-header-before");
    let raw = parse_raw(&read(&signed_dir, "header-signed-request.txt"));
    let headers: Vec<(&str, &[u8])> = raw
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    let req = Request {
        method: &raw.method,
        path: &raw.path,
        query: &raw.query,
        headers: &headers,
        body: &raw.body,
    };
    let parsed = parse_and_check(&req, &suite_policy(), now).expect("phase 1");
    assert!(parsed.security_token_signed);
}

#[test]
fn double_encodes_percent_escapes_in_the_path() {
    let headers: [(&str, &[u8]); 2] = [
        ("Host", b"example.amazonaws.com"),
        ("X-Amz-Date", b"20150830T123600Z"),
    ];
    for (path, want) in [
        ("/example%20space/", "/example%2520space/"),
        (
            "/some%20path/a+b/%E2%82%AC",
            "/some%2520path/a%2Bb/%25E2%2582%25AC",
        ),
        ("/a%2Fb//./c/../d", "/a%252Fb/d"),
    ] {
        let req = Request {
            method: "GET",
            path,
            query: "",
            headers: &headers,
            body: b"",
        };
        let creq = canonical_request(&req, &["host".to_owned(), "x-amz-date".to_owned()])
            .expect("canonical request");
        assert_eq!(creq.lines().nth(1), Some(want), "{path}");
    }
}
