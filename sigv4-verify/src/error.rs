//! Why a request failed SigV4 verification.
//!
//! Owns the typed causes and their exact AWS message texts (wire-contracts §3.2). It must not
//! decide HTTP status codes or `__type` strings: callers map [`SigErrorKind`] to those per
//! service (DynamoDB `InvalidSignatureException` 400, STS `SignatureDoesNotMatch` 403, ...).
//!
//! No variant ever carries the client's or the computed signature, so neither `Display` nor
//! `Debug` can leak one.

use std::fmt;

/// The AWS error family a [`SigError`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigErrorKind {
    /// `MissingAuthenticationToken(Exception)`: no usable `Authorization` header.
    MissingAuthenticationToken,
    /// `IncompleteSignature(Exception)`: the header is malformed.
    IncompleteSignature,
    /// `InvalidSignatureException` (DynamoDB) / `SignatureDoesNotMatch` (STS, IAM).
    InvalidSignature,
}

/// A SigV4 verification failure. `Display` is AWS's message text, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// No `Authorization` header, or one that does not start with `AWS4-`.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// `Credential`, `Signature`, `SignedHeaders` or a date header is missing.
    #[error(transparent)]
    IncompleteHeader(#[from] IncompleteHeader),
    /// The request date is not `YYYYMMDDTHHMMSSZ`.
    #[error(
        "Date must be in ISO-8601 'basic format'. Got '{got}'. See http://en.wikipedia.org/wiki/ISO_8601"
    )]
    BadDate {
        /// The date header value as sent.
        got: String,
    },
    /// The request date is older than `now - max_skew`.
    #[error(
        "Signature expired: {request} is now earlier than {earliest} ({now} - {window_minutes} min.)"
    )]
    Expired {
        /// The request date (`YYYYMMDDTHHMMSSZ`).
        request: String,
        /// `now - max_skew`.
        earliest: String,
        /// The server's `now`.
        now: String,
        /// The skew window in whole minutes.
        window_minutes: i64,
    },
    /// The request date is later than `now + max_skew`.
    #[error(
        "Signature not yet current: {request} is still later than {latest} ({now} + {window_minutes} min.)"
    )]
    NotYetCurrent {
        /// The request date (`YYYYMMDDTHHMMSSZ`).
        request: String,
        /// `now + max_skew`.
        latest: String,
        /// The server's `now`.
        now: String,
        /// The skew window in whole minutes.
        window_minutes: i64,
    },
    /// `host` is not in `SignedHeaders`.
    #[error("'Host' must be a 'SignedHeader' in the AWS Authorization.")]
    HostNotSigned,
    /// The algorithm is not `AWS4-HMAC-SHA256`. (The trailing space is AWS's.)
    #[error("Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). ")]
    UnsupportedAlgorithm {
        /// The algorithm as sent.
        algorithm: String,
    },
    /// `Credential` does not have five `/`-separated elements.
    #[error(
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
    )]
    CredentialShape {
        /// The `Credential` value as sent.
        credential: String,
    },
    /// The credential scope has a wrong region, service, terminator or date (boxed: it is the
    /// largest cause).
    #[error(transparent)]
    WrongScope(Box<WrongScope>),
    /// The recomputed signature differs from the client's.
    #[error(transparent)]
    Mismatch(#[from] Mismatch),
    /// A header named in `SignedHeaders` is absent from the request.
    ///
    /// \[rec\] AWS's text for this case is unsourced (mock servers invent
    /// `Authorization header requires existence of '<h>' header.`); we answer as AWS would if it
    /// canonicalised without the header: the plain signature-mismatch text.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    SignedHeaderMissing {
        /// The lower-cased header name from `SignedHeaders`.
        name: String,
    },
    /// `x-amz-content-sha256` differs from the SHA-256 of the body.
    ///
    /// \[rec\] The text is S3's `XAmzContentSHA256Mismatch` message (found in many S3
    /// re-implementations); what DynamoDB/STS answer here is unsourced.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch {
        /// The header value as sent (a hash of public data, not a secret).
        claimed: String,
        /// Hex SHA-256 of the body.
        computed: String,
    },
}

impl SigError {
    /// The AWS error family, for mapping to a service's error code.
    #[must_use]
    pub fn kind(&self) -> SigErrorKind {
        match self {
            Self::MissingAuthenticationToken => SigErrorKind::MissingAuthenticationToken,
            Self::IncompleteHeader(_)
            | Self::BadDate { .. }
            | Self::UnsupportedAlgorithm { .. }
            | Self::CredentialShape { .. } => SigErrorKind::IncompleteSignature,
            Self::Expired { .. }
            | Self::NotYetCurrent { .. }
            | Self::HostNotSigned
            | Self::WrongScope(_)
            | Self::Mismatch(_)
            | Self::SignedHeaderMissing { .. }
            | Self::ContentSha256Mismatch { .. } => SigErrorKind::InvalidSignature,
        }
    }
}

/// Which mandatory parts the `Authorization` header (or the request) lacks.
///
/// `Display` echoes the header as sent, as AWS does (so it may contain a `Signature=` value from
/// the malformed header); `Debug` redacts it, so log the `Debug` form.
#[derive(Clone, PartialEq, Eq)]
pub struct IncompleteHeader {
    /// `Credential=` absent or empty.
    pub missing_credential: bool,
    /// `Signature=` absent or empty.
    pub missing_signature: bool,
    /// `SignedHeaders=` absent or empty.
    pub missing_signed_headers: bool,
    /// Neither `X-Amz-Date` nor `Date` header.
    pub missing_date: bool,
    /// The `Authorization` header as sent (AWS echoes it).
    pub authorization: String,
}

impl std::error::Error for IncompleteHeader {}

impl fmt::Debug for IncompleteHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncompleteHeader")
            .field("missing_credential", &self.missing_credential)
            .field("missing_signature", &self.missing_signature)
            .field("missing_signed_headers", &self.missing_signed_headers)
            .field("missing_date", &self.missing_date)
            .field("authorization", &"<redacted>")
            .finish()
    }
}

impl fmt::Display for IncompleteHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (missing, param) in [
            (self.missing_credential, "Credential"),
            (self.missing_signature, "Signature"),
            (self.missing_signed_headers, "SignedHeaders"),
        ] {
            if missing {
                write!(f, "Authorization header requires '{param}' parameter. ")?;
            }
        }
        if self.missing_date {
            f.write_str(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
            )?;
        }
        write!(f, "Authorization={}", self.authorization)
    }
}

/// The parts of the credential scope that are wrong (`None` = that part is fine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongScope {
    /// The region as sent, when it is not a valid region (empty).
    pub region: Option<String>,
    /// The service the endpoint expects, when the scope names another.
    pub expected_service: Option<String>,
    /// The terminator as sent, when it is not `aws4_request`.
    pub terminator: Option<String>,
    /// `(scope date, first 8 chars of the request date, request date)` when they differ.
    pub date: Option<(String, String, String)>,
}

impl std::error::Error for WrongScope {}

impl From<WrongScope> for SigError {
    fn from(wrong: WrongScope) -> Self {
        Self::WrongScope(Box::new(wrong))
    }
}

impl fmt::Display for WrongScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(region) = &self.region {
            write!(
                f,
                "Credential should be scoped to a valid region, not '{region}'."
            )?;
            sep = " ";
        }
        if let Some(service) = &self.expected_service {
            write!(
                f,
                "{sep}Credential should be scoped to correct service: '{service}'."
            )?;
            sep = " ";
        }
        if let Some(term) = &self.terminator {
            write!(
                f,
                "{sep}Credential should be scoped with a valid terminator: 'aws4_request', not '{term}'."
            )?;
            sep = " ";
        }
        if let Some((scope, day, amz_date)) = &self.date {
            write!(
                f,
                "{sep}Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope}' != '{day}', from '{amz_date}'."
            )?;
        }
        Ok(())
    }
}

/// The recomputed signature differs from the client's.
///
/// Carries what the server computed, so DynamoDB-style callers can append it (see
/// [`Mismatch::dynamodb_message`]); never the signatures themselves. `Debug` leaves out the
/// canonical request, which holds signed header values such as a session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The canonical request the server computed.
    pub canonical_request: String,
    /// The string to sign the server computed.
    pub string_to_sign: String,
}

const MISMATCH_TEXT: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

impl Mismatch {
    /// The message real DynamoDB sends: the mismatch text followed by the canonical request and
    /// string to sign it computed (wire-contracts §3.2).
    #[must_use]
    pub fn dynamodb_message(&self) -> String {
        format!(
            "{MISMATCH_TEXT}\n\nThe Canonical String for this request should have been\n'{}'\n\nThe String-to-Sign should have been\n'{}'\n",
            self.canonical_request, self.string_to_sign
        )
    }
}

impl std::error::Error for Mismatch {}

impl fmt::Debug for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mismatch")
            .field(
                "canonical_request",
                &format_args!("<{} bytes, not shown>", self.canonical_request.len()),
            )
            .field("string_to_sign", &self.string_to_sign)
            .finish()
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MISMATCH_TEXT)
    }
}
