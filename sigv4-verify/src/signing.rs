//! The SigV4 string to sign, key derivation and HMAC, plus a small client-side signer for the
//! harness's own requests.
//!
//! Owns the crypto steps after the canonical request. It must not read a clock: times are passed
//! in.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::SecretKey;
use crate::canonical::{self, CanonicalHeader};

pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// `AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical_request)>`.
#[must_use]
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    string_to_sign_bytes(amz_date, scope, canonical_request.as_bytes())
}

pub(crate) fn string_to_sign_bytes(
    amz_date: &str,
    scope: &str,
    canonical_request: &[u8],
) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        canonical::sha256_hex(canonical_request)
    )
}

/// The hex signature of `string_to_sign` with the key derived from `secret` via the HMAC chain
/// `"AWS4"+secret → date → region → service → "aws4_request"`.
#[must_use]
pub fn sign(
    secret: &SecretKey,
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    let mut seed = Zeroizing::new(Vec::with_capacity(4 + secret.expose().len()));
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.expose().as_bytes());
    let k_date = Zeroizing::new(hmac_sha256(&seed, date.as_bytes()));
    let k_region = Zeroizing::new(hmac_sha256(k_date.as_slice(), region.as_bytes()));
    let k_service = Zeroizing::new(hmac_sha256(k_region.as_slice(), service.as_bytes()));
    let k_signing = Zeroizing::new(hmac_sha256(k_service.as_slice(), b"aws4_request"));
    hex::encode(hmac_sha256(k_signing.as_slice(), string_to_sign.as_bytes()))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        // HMAC takes keys of any length (RFC 2104 §2); `new_from_slice` never fails for it. An
        // all-zero MAC can never match a client's signature, so this fails closed.
        Err(_) => [0; 32],
    }
}

/// `YYYYMMDDTHHMMSSZ` in UTC.
#[must_use]
pub(crate) fn format_amz_date(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Signs a request for the harness's own clients (scenario runner) and returns the headers to
/// add: `x-amz-date`, `x-amz-security-token` (when `session_token` is given) and `authorization`.
///
/// Signs whichever of `content-type`, `host`, `x-amz-date`, `x-amz-security-token` and
/// `x-amz-target` are present (names matched case-insensitively; `headers` must include `host`
/// for the result to verify; it must not already hold `x-amz-date`, `x-amz-security-token` or
/// `authorization`). The payload hash is SHA-256 of `body`; no `x-amz-content-sha256` is added.
#[allow(
    clippy::too_many_arguments,
    reason = "mirrors the inputs of SigV4 one to one; the harness calls it in one place"
)]
#[must_use]
pub fn sign_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    access_key_id: &str,
    secret: &SecretKey,
    session_token: Option<&str>,
    region: &str,
    service: &str,
    now: OffsetDateTime,
) -> Vec<(String, String)> {
    let amz_date = format_amz_date(now);
    let date = amz_date.get(..8).unwrap_or_default().to_owned();

    let mut added: Vec<(String, String)> = vec![("x-amz-date".to_owned(), amz_date.clone())];
    if let Some(token) = session_token {
        added.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }

    let mut signed: Vec<CanonicalHeader> = Vec::new();
    for name in [
        "content-type",
        "host",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-target",
    ] {
        let from_caller = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_bytes());
        let from_us = added
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_bytes());
        let mut values = from_caller.chain(from_us).peekable();
        if values.peek().is_some() {
            signed.push((name.to_owned(), canonical::join_values(values)));
        }
    }

    let creq = canonical::render(method, path, query, &signed, &canonical::sha256_hex(body));
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let sts = string_to_sign_bytes(&amz_date, &scope, &creq);
    let signature = sign(secret, &date, region, service, &sts);
    let names: Vec<&str> = signed.iter().map(|(n, _)| n.as_str()).collect();
    added.push((
        "authorization".to_owned(),
        format!(
            "{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={signature}",
            names.join(";")
        ),
    ));
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_amz_date_in_utc() {
        let at = time::macros::datetime!(2015-08-30 14:36:00 +02:00);
        assert_eq!(format_amz_date(at), "20150830T123600Z");
    }

    #[test]
    fn signs_the_aws_example() {
        // AWS's documented example key and string to sign (suite case get-vanilla).
        let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned());
        let sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63";
        assert_eq!(
            sign(&secret, "20150830", "us-east-1", "service", sts),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }
}
