//! Who signed a SigV4 call, checked in the order of wire-contracts §4.2: the signature's form
//! and date, then the key (an STS session's `ASIA…` key first, then an IAM user's `AKIA…` key),
//! the signature, the session token and the session's expiry. Shared by STS/IAM/EKS and the
//! DynamoDB gateway, which differ only in their skew window and in the error each failure is
//! answered with, so each maps [`SignedCallError`] to its own service's error.

use sigv4_verify::SigError;

use crate::World;
use crate::caller::Caller;
use crate::clock::Clock;
use crate::session::SessionStore;

/// A verified call: who signed it, and the region of its credential scope.
#[derive(Debug, Clone)]
pub struct SignedCall {
    pub caller: Caller,
    pub region: String,
    pub access_key_id: String,
}

/// Why a signed call was refused. Every service answers these with its own code and text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SignedCallError {
    /// Missing, malformed, skewed or mismatching signature.
    #[error(transparent)]
    Signature(#[from] SigError),
    /// The access key is neither a live session's nor an IAM user's.
    #[error("the access key names no session and no IAM user")]
    UnknownAccessKey,
    /// A session's key without that session's token.
    #[error("the session token is missing or is not this session's")]
    WrongSessionToken,
    /// A long-term key sent with a session token. UNSOURCED: what AWS answers this was not
    /// captured; each service answers it as it answers a token that names no session.
    #[error("a long-term access key was sent with a session token")]
    TokenWithLongTermKey,
    /// The session's credentials have expired (harness clock).
    #[error("the session has expired")]
    SessionExpired,
}

/// Verify a call signed for `service` within `max_skew`. Skew is judged against the wall clock
/// or the harness clock, whichever is nearer the request's date
/// ([`crate::clock::signature_reference_for`]): a moved harness clock must not make an honest
/// SDK's signature look skewed. Session expiry follows the harness clock (`now`).
#[allow(clippy::too_many_arguments)]
pub fn authenticate(
    world: &World,
    sessions: &dyn SessionStore,
    clock: &dyn Clock,
    parts: &http::request::Parts,
    body: &[u8],
    now: i64,
    service: &str,
    max_skew: time::Duration,
) -> Result<SignedCall, SignedCallError> {
    let headers = sigv4_verify::header_pairs(&parts.headers);
    let request = sigv4_verify::Request::from_parts(parts, &headers, body);
    let policy = sigv4_verify::Policy {
        service: service.to_owned(),
        max_skew,
    };
    let skew_reference = crate::clock::signature_reference_for(
        clock,
        parts
            .headers
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok()),
    );
    let now_dt = time::OffsetDateTime::from_unix_timestamp(skew_reference)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let parsed = sigv4_verify::parse_and_check(&request, &policy, now_dt)?;
    if let Some(session) = sessions.get(&parsed.access_key_id) {
        let secret =
            sigv4_verify::SecretKey::new(session.credentials.secret_access_key.expose().to_owned());
        sigv4_verify::verify_signature(&request, &parsed, &secret)?;
        match parsed.security_token.as_deref() {
            Some(token) if session.credentials.session_token.matches(token) => {}
            _ => return Err(SignedCallError::WrongSessionToken),
        }
        if session.is_expired(now) {
            return Err(SignedCallError::SessionExpired);
        }
        return Ok(SignedCall {
            caller: Caller::Session(session),
            region: parsed.region,
            access_key_id: parsed.access_key_id,
        });
    }
    let (user, key) = world
        .user_by_access_key(&parsed.access_key_id)
        .ok_or(SignedCallError::UnknownAccessKey)?;
    let secret = sigv4_verify::SecretKey::new(key.secret.expose().to_owned());
    sigv4_verify::verify_signature(&request, &parsed, &secret)?;
    if parsed.security_token.is_some() {
        return Err(SignedCallError::TokenWithLongTermKey);
    }
    Ok(SignedCall {
        caller: Caller::User(user.clone()),
        region: parsed.region,
        access_key_id: parsed.access_key_id,
    })
}
