//! The SigV4 canonical request for non-S3 services (DynamoDB, STS, IAM).
//!
//! Owns the canonicalisation rules of wire-contracts §4.2: path normalisation plus double URI
//! encoding, query decode/re-encode/sort, header trimming and joining, payload hash. It must not
//! look at `Authorization`, the clock or any secret, and must not use S3's single-encoding rules.

use sha2::{Digest, Sha256};

use crate::{Request, SigError};

/// One signed header: lower-cased name and its canonical value bytes.
pub(crate) type CanonicalHeader = (String, Vec<u8>);

/// The canonical request for `req`, canonicalising only `signed_headers` (in the order given,
/// lower-cased).
///
/// The payload hash is the `x-amz-content-sha256` header if present (checked against the body
/// by [`crate::verify_signature`], not here), else hex SHA-256 of the body.
///
/// Header bytes that are not UTF-8 are hashed as sent by the verifier; this `String` form shows
/// them lossily.
///
/// # Errors
/// [`SigError::SignedHeaderMissing`] if a signed header is absent from the request.
pub fn canonical_request(req: &Request<'_>, signed_headers: &[String]) -> Result<String, SigError> {
    let bytes = canonical_request_bytes(req, signed_headers)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub(crate) fn canonical_request_bytes(
    req: &Request<'_>,
    signed_headers: &[String],
) -> Result<Vec<u8>, SigError> {
    let headers = collect_signed_headers(req, signed_headers)?;
    Ok(render(
        req.method,
        req.path,
        req.query,
        &headers,
        &payload_hash(req),
    ))
}

/// Looks up each signed header; a name absent from the request is an error.
pub(crate) fn collect_signed_headers(
    req: &Request<'_>,
    signed_headers: &[String],
) -> Result<Vec<CanonicalHeader>, SigError> {
    signed_headers
        .iter()
        .map(|name| {
            let name = name.to_ascii_lowercase();
            let values: Vec<&[u8]> = req.header_values(&name).collect();
            if values.is_empty() {
                return Err(SigError::SignedHeaderMissing { name });
            }
            let value = join_values(values.into_iter());
            Ok((name, value))
        })
        .collect()
}

/// Trims each value and joins repeats with `,` in arrival order.
pub(crate) fn join_values<'v>(values: impl Iterator<Item = &'v [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        trim_all(value, &mut out);
    }
    out
}

/// The payload line: `x-amz-content-sha256` (trimmed) if present, else hex SHA-256 of the body.
pub(crate) fn payload_hash(req: &Request<'_>) -> String {
    match req.header_values("x-amz-content-sha256").next() {
        Some(claimed) => String::from_utf8_lossy(trim_spaces(claimed)).into_owned(),
        None => sha256_hex(req.body),
    }
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Writes the canonical request from already-collected parts. Infallible.
pub(crate) fn render(
    method: &str,
    path: &str,
    query: &str,
    headers: &[CanonicalHeader],
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(query).as_bytes());
    out.push(b'\n');
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(value);
        out.push(b'\n');
    }
    out.push(b'\n');
    let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    out.extend_from_slice(names.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// Normalises the raw path (RFC 3986 §5.2.4 dot segments, repeated `/` collapsed), then
/// percent-encodes it once more: `%20` becomes `%2520` (non-S3 double encoding).
pub(crate) fn canonical_uri(path: &str) -> String {
    let normalized = normalize_path(path);
    let mut out = String::with_capacity(normalized.len());
    encode_into(&mut out, normalized.as_bytes(), true);
    out
}

fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    // A path ending in a slash or a dot segment keeps (or gains) its trailing slash.
    let trailing = ["/", "/.", "/.."].iter().any(|end| path.ends_with(end));
    if out.is_empty() || trailing {
        out.push('/');
    }
    out
}

/// Decodes each `k=v` (percent escapes and `+` as space), re-encodes it with only RFC 3986
/// unreserved characters kept, sorts by key then value, and joins with `&`.
///
/// \[rec\] `+` decoding as a space follows `aws-sigv4` (form-urlencoded parsing); no SDK used
/// here sends a raw `+` in a query.
pub(crate) fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (reencode(key), reencode(value))
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

fn reencode(component: &str) -> String {
    let decoded = percent_decode(component.as_bytes());
    let mut out = String::with_capacity(decoded.len());
    encode_into(&mut out, &decoded, false);
    out
}

/// Percent-decodes, with `+` as a space; malformed escapes stay literal.
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some((&byte, tail)) = rest.split_first() {
        match byte {
            b'%' => {
                let decoded = match tail {
                    [hi, lo, ..] => hex_value(*hi).zip(hex_value(*lo)).map(|(h, l)| h << 4 | l),
                    _ => None,
                };
                if let Some(value) = decoded {
                    out.push(value);
                    rest = tail.get(2..).unwrap_or_default();
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        rest = tail;
    }
    out
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

/// Appends `bytes` percent-encoded: unreserved `A-Za-z0-9-_.~` (and `/` if `keep_slash`) kept,
/// everything else `%XX` upper-case.
fn encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in bytes {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && byte == b'/')
        {
            out.push(char::from(byte));
        } else {
            out.push('%');
            for nibble in [byte >> 4, byte & 0x0f] {
                let digit = HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
                out.push(char::from(digit));
            }
        }
    }
}

fn trim_spaces(value: &[u8]) -> &[u8] {
    let start = value.iter().position(|&b| b != b' ').unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |i| i + 1);
    value.get(start..end).unwrap_or_default()
}

/// Appends `value` with leading/trailing spaces removed and inner runs of spaces collapsed to
/// one. Only U+0020 counts, as in `aws-sigv4`.
fn trim_all(value: &[u8], out: &mut Vec<u8>) {
    let mut previous_space = false;
    for &byte in trim_spaces(value) {
        if byte == b' ' {
            if !previous_space {
                out.push(b' ');
            }
            previous_space = true;
        } else {
            out.push(byte);
            previous_space = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_double_encoded() {
        assert_eq!(canonical_uri("/example%20space/"), "/example%2520space/");
        assert_eq!(
            canonical_uri("/some%20path/a+b/%E2%82%AC"),
            "/some%2520path/a%2Bb/%25E2%2582%25AC"
        );
    }

    #[test]
    fn path_is_normalised_before_encoding() {
        for (raw, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("//example//", "/example/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("/a/b/.", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/../a", "/a"),
            ("/a/./b", "/a/b"),
        ] {
            assert_eq!(canonical_uri(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert_eq!(canonical_query("Param1"), "Param1=");
        assert_eq!(
            canonical_query("k=a%20b&p=%2B&t=~&s=a+b"),
            "k=a%20b&p=%2B&s=a%20b&t=~"
        );
        assert_eq!(canonical_query("x=%zz&y=%4"), "x=%25zz&y=%254");
        assert_eq!(canonical_query("a=1&&b=2"), "a=1&b=2");
        assert_eq!(
            canonical_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
    }

    #[test]
    fn header_values_are_trimmed_collapsed_and_joined() {
        let values: [&[u8]; 2] = [b"b", b"  a  z "];
        assert_eq!(join_values(values.into_iter()), b"b,a z");
        let quoted: [&[u8]; 1] = [b"\"a   b   c\""];
        assert_eq!(join_values(quoted.into_iter()), b"\"a b c\"");
    }

    #[test]
    fn missing_signed_header_is_an_error() {
        let headers: [(&str, &[u8]); 1] = [("Host", b"h")];
        let req = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        let err = canonical_request(&req, &["host".to_owned(), "x-missing".to_owned()]);
        assert_eq!(
            err,
            Err(SigError::SignedHeaderMissing {
                name: "x-missing".to_owned()
            })
        );
    }
}
