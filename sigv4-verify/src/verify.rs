//! Server-side verification in two phases: [`parse_and_check`] (no secret) and
//! [`verify_signature`] (after the caller looked up the secret for the access key id).
//!
//! Owns the check order of wire-contracts §4.2, which mirrors real DynamoDB as captured by
//! dynalite. It must not look up keys, sessions or tokens (the caller does, between the phases)
//! and must not read a clock.

use std::collections::HashMap;

use subtle::ConstantTimeEq;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::canonical::{self, canonical_request_bytes};
use crate::error::{IncompleteHeader, Mismatch, WrongScope};
use crate::signing::{self, ALGORITHM, format_amz_date, string_to_sign_bytes};
use crate::{Parsed, Policy, Request, SecretKey, SigError};

const TERMINATOR: &str = "aws4_request";

/// Phase 1: every check that needs no secret, in AWS's order:
/// `Authorization` present and starting with `AWS4-` → `Credential`, `Signature`,
/// `SignedHeaders` and `X-Amz-Date`/`Date` present → date format and skew against `now` →
/// `host` signed → algorithm → credential shape and scope.
///
/// # Errors
/// The first failed check, as a [`SigError`] whose `Display` is AWS's text.
pub fn parse_and_check(
    req: &Request<'_>,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Parsed, SigError> {
    let authorization = req
        .first_header("authorization")
        .ok_or(SigError::MissingAuthenticationToken)?;
    let trimmed = authorization.trim();
    if !trimmed.starts_with("AWS4-") {
        return Err(SigError::MissingAuthenticationToken);
    }

    // Like AWS (per dynalite): tokens split on ',' and ' '; the first is the algorithm; a later
    // duplicate parameter wins; an empty value counts as missing.
    let mut tokens = trimmed.split([',', ' ']).filter(|t| !t.is_empty());
    let algorithm = tokens.next().unwrap_or_default();
    let params: HashMap<&str, &str> = tokens.filter_map(|token| token.split_once('=')).collect();
    let param = |name: &str| params.get(name).copied().filter(|v| !v.is_empty());
    let amz_date = req
        .first_header("x-amz-date")
        .filter(|v| !v.is_empty())
        .or_else(|| req.first_header("date").filter(|v| !v.is_empty()));

    let (credential, signature, signed_headers, amz_date) = match (
        param("Credential"),
        param("Signature"),
        param("SignedHeaders"),
        amz_date,
    ) {
        (Some(c), Some(s), Some(h), Some(d)) => (c, s, h, d),
        (c, s, h, d) => {
            return Err(IncompleteHeader {
                missing_credential: c.is_none(),
                missing_signature: s.is_none(),
                missing_signed_headers: h.is_none(),
                missing_date: d.is_none(),
                authorization: authorization.clone(),
            }
            .into());
        }
    };

    check_date(&amz_date, policy, now)?;

    let signed_headers: Vec<String> = signed_headers
        .split(';')
        .map(str::to_ascii_lowercase)
        .collect();
    if !signed_headers.iter().any(|h| h == "host") {
        return Err(SigError::HostNotSigned);
    }

    if algorithm != ALGORITHM {
        return Err(SigError::UnsupportedAlgorithm {
            algorithm: algorithm.to_owned(),
        });
    }

    // Trailing empty elements are ignored, as Java's `String.split` does (dynalite notes AWS
    // ignores trailing slashes).
    let mut parts: Vec<&str> = credential.split('/').collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    let [akid, scope_date, region, service, terminator] = parts.as_slice() else {
        return Err(SigError::CredentialShape {
            credential: credential.to_owned(),
        });
    };

    let day = amz_date.get(..8).unwrap_or_default();
    let wrong = WrongScope {
        region: region.is_empty().then(|| (*region).to_owned()),
        expected_service: (*service != policy.service).then(|| policy.service.clone()),
        terminator: (*terminator != TERMINATOR).then(|| (*terminator).to_owned()),
        date: (*scope_date != day)
            .then(|| ((*scope_date).to_owned(), day.to_owned(), amz_date.clone())),
    };
    if wrong.region.is_some()
        || wrong.expected_service.is_some()
        || wrong.terminator.is_some()
        || wrong.date.is_some()
    {
        return Err(wrong.into());
    }

    let security_token = req.first_header("x-amz-security-token");
    let security_token_signed = signed_headers.iter().any(|h| h == "x-amz-security-token");
    Ok(Parsed {
        access_key_id: (*akid).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        date: (*scope_date).to_owned(),
        amz_date,
        signed_headers,
        signature: signature.to_owned(),
        security_token,
        security_token_signed,
    })
}

/// Phase 2: recomputes the signature with `secret` and compares it in constant time.
///
/// If `x-amz-content-sha256` is present it must equal hex SHA-256 of the body (it is then the
/// payload hash).
///
/// # Errors
/// [`SigError::ContentSha256Mismatch`], [`SigError::SignedHeaderMissing`] or
/// [`SigError::Mismatch`] (carrying the canonical request and string to sign computed here).
pub fn verify_signature(
    req: &Request<'_>,
    parsed: &Parsed,
    secret: &SecretKey,
) -> Result<(), SigError> {
    if let Some(claimed) = req.first_header("x-amz-content-sha256") {
        let claimed = claimed.trim_matches(' ');
        let computed = canonical::sha256_hex(req.body);
        // [rec] AWS's case sensitivity here is unsourced; hex digits are compared ignoring case.
        if !claimed.eq_ignore_ascii_case(&computed) {
            return Err(SigError::ContentSha256Mismatch {
                claimed: claimed.to_owned(),
                computed,
            });
        }
    }

    let creq = canonical_request_bytes(req, &parsed.signed_headers)?;
    let sts = string_to_sign_bytes(&parsed.amz_date, &parsed.scope(), &creq);
    let expected = signing::sign(secret, &parsed.date, &parsed.region, &parsed.service, &sts);
    if bool::from(expected.as_bytes().ct_eq(parsed.signature.as_bytes())) {
        Ok(())
    } else {
        Err(Mismatch {
            canonical_request: String::from_utf8_lossy(&creq).into_owned(),
            string_to_sign: sts,
        }
        .into())
    }
}

fn check_date(amz_date: &str, policy: &Policy, now: OffsetDateTime) -> Result<(), SigError> {
    let at = parse_amz_date(amz_date).ok_or_else(|| SigError::BadDate {
        got: amz_date.to_owned(),
    })?;
    let window_minutes = policy.max_skew.whole_minutes();
    let earliest = now - policy.max_skew;
    let latest = now + policy.max_skew;
    if at < earliest {
        return Err(SigError::Expired {
            request: format_amz_date(at),
            earliest: format_amz_date(earliest),
            now: format_amz_date(now),
            window_minutes,
        });
    }
    if at > latest {
        return Err(SigError::NotYetCurrent {
            request: format_amz_date(at),
            latest: format_amz_date(latest),
            now: format_amz_date(now),
            window_minutes,
        });
    }
    Ok(())
}

/// Parses exactly `YYYYMMDDTHHMMSSZ` (ISO 8601 basic format, UTC).
fn parse_amz_date(value: &str) -> Option<OffsetDateTime> {
    let bytes = value.as_bytes();
    if bytes.len() != 16 || bytes.get(8) != Some(&b'T') || bytes.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = value.get(range)?;
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse().ok()
        } else {
            None
        }
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let day = u8::try_from(num(6..8)?).ok()?;
    let hour = u8::try_from(num(9..11)?).ok()?;
    let minute = u8::try_from(num(11..13)?).ok()?;
    let second = u8::try_from(num(13..15)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_basic_format_dates() {
        assert!(parse_amz_date("20150830T123600Z").is_some());
        for bad in [
            "201",
            "2015-08-30T12:36:00Z",
            "20150830T123600",
            "20151330T123600Z",
            "20150830T126000Z",
            "2015083OT123600Z",
            "+0150830T123600Z",
            "Sun, 30 Aug 2015 12:36:00 GMT",
        ] {
            assert!(parse_amz_date(bad).is_none(), "{bad}");
        }
    }
}
