//! The verifier's inputs and phase-1 output: the request as received, the per-service policy and
//! the parsed `Authorization` header.
//!
//! Owns only data shapes; parsing and checking live in `verify`.

use std::fmt;

/// A request as received, before any decoding.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// The method, e.g. `POST`.
    pub method: &'a str,
    /// The path exactly as on the request line (no query, not decoded).
    pub path: &'a str,
    /// The raw query, without the `?` (empty when there is none).
    pub query: &'a str,
    /// Every header in arrival order; names in any case; repeated names allowed.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The body bytes.
    pub body: &'a [u8],
}

impl Request<'_> {
    /// Values of every header named `name` (ASCII case-insensitive), in arrival order.
    pub(crate) fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The first value of header `name`, lossily decoded as UTF-8.
    pub(crate) fn first_header(&self, name: &str) -> Option<String> {
        self.header_values(name)
            .next()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// Header values may hold credentials (`authorization`, `x-amz-security-token`): only names and
/// sizes are shown.
impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| *n).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What a service endpoint accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The service the credential scope must name: `dynamodb`, `sts` or `iam`.
    pub service: String,
    /// Allowed distance between the request date and `now`, either way.
    pub max_skew: time::Duration,
}

impl Policy {
    /// DynamoDB: service `dynamodb`, ±5 minutes (wire-contracts §3.2).
    #[must_use]
    pub fn dynamodb() -> Self {
        Self {
            service: "dynamodb".to_owned(),
            max_skew: time::Duration::minutes(5),
        }
    }

    /// STS: service `sts`, ±15 minutes (wire-contracts §1.5).
    #[must_use]
    pub fn sts() -> Self {
        Self {
            service: "sts".to_owned(),
            max_skew: time::Duration::minutes(15),
        }
    }

    /// IAM: service `iam`, ±15 minutes. \[rec\] IAM shares STS's query front end; its window
    /// is not separately sourced.
    #[must_use]
    pub fn iam() -> Self {
        Self {
            service: "iam".to_owned(),
            max_skew: time::Duration::minutes(15),
        }
    }
}

/// The `Authorization` header after phase 1 ([`crate::parse_and_check`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The access key id from the credential scope (may be empty; the caller's lookup fails then).
    pub access_key_id: String,
    /// The region the client signed for.
    pub region: String,
    /// The service from the scope (equals the policy's).
    pub service: String,
    /// The scope date, `YYYYMMDD`.
    pub date: String,
    /// The request date as sent (`X-Amz-Date`, else `Date`), `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// `SignedHeaders`, lower-cased, in the order sent.
    pub signed_headers: Vec<String>,
    /// The client's signature. Never logged: redacted in `Debug`.
    pub signature: String,
    /// The `x-amz-security-token` header value, if present. Redacted in `Debug`.
    pub security_token: Option<String>,
    /// Whether `x-amz-security-token` is in `SignedHeaders`.
    pub security_token_signed: bool,
}

impl Parsed {
    /// The credential scope `<date>/<region>/<service>/aws4_request`.
    #[must_use]
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

impl fmt::Debug for Parsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parsed")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("date", &self.date)
            .field("amz_date", &self.amz_date)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("security_token_signed", &self.security_token_signed)
            .finish()
    }
}

/// The headers of an `http` request as [`Request::headers`] takes them, in arrival order.
pub fn header_pairs(headers: &http::HeaderMap) -> Vec<(&str, &[u8])> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect()
}

impl<'a> Request<'a> {
    /// The request an `http` server received: its line from `parts`, its headers as
    /// [`header_pairs`] lists them, and its body.
    pub fn from_parts(
        parts: &'a http::request::Parts,
        headers: &'a [(&'a str, &'a [u8])],
        body: &'a [u8],
    ) -> Self {
        Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers,
            body,
        }
    }
}
