//! Fuzzes the `Authorization` parser and the date/credential checks behind it, then the
//! canonicaliser: neither may panic on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigv4_verify::{Policy, Request, SecretKey, parse_and_check, verify_signature};

fuzz_target!(|data: &[u8]| {
    // Layout: authorization \0 x-amz-date \0 path \0 query \0 extra header value \0 body.
    let mut parts = data.splitn(6, |&b| b == 0);
    let authorization = parts.next().unwrap_or_default();
    let amz_date = parts.next().unwrap_or_default();
    let path = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let extra = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();

    let headers: [(&str, &[u8]); 5] = [
        ("Host", b"127.0.0.1:4599"),
        ("Authorization", authorization),
        ("X-Amz-Date", amz_date),
        ("x-amz-content-sha256", extra),
        ("X-Extra", extra),
    ];
    let req = Request {
        method: "POST",
        path: &path,
        query: &query,
        headers: &headers,
        body,
    };
    let now = time::macros::datetime!(2026-11-28 20:33:06 UTC);
    for policy in [Policy::dynamodb(), Policy::sts()] {
        if let Ok(parsed) = parse_and_check(&req, &policy, now) {
            let _ = verify_signature(&req, &parsed, &SecretKey::new("secret".to_owned()));
        }
    }
});
