//! SigV4 for signed Query calls (STS `GetCallerIdentity`, the IAM API, EKS), in the order of
//! wire-contracts §4.2, answering with the Query front end's codes (§1.5). A call is signed either
//! by an STS session (`ASIA…` + session token) or by an IAM user's static key (`AKIA…`, no token).

use irsa_core::SessionStore;
use irsa_core::World;
use irsa_core::caller::Caller;

use crate::error::StsError;

/// STS's and IAM's skew window (wire-contracts §1.5).
pub const MAX_SKEW_MINUTES: i64 = 15;

/// A verified signed call: who signed it, and the region and service of its credential scope.
#[derive(Debug, Clone)]
pub struct Signed {
    pub caller: Caller,
    pub region: String,
    pub access_key_id: String,
}

/// Verify a call signed for `service`. Keys are looked up among STS sessions first, then among
/// the world's IAM users.
pub fn authenticate(
    world: &World,
    sessions: &dyn SessionStore,
    parts: &http::request::Parts,
    body: &[u8],
    now: i64,
    clock: &dyn irsa_core::clock::Clock,
    service: &str,
) -> Result<Signed, StsError> {
    use sigv4_verify::SigErrorKind;
    let headers = sigv4_verify::header_pairs(&parts.headers);
    let request = sigv4_verify::Request::from_parts(parts, &headers, body);
    let policy = sigv4_verify::Policy {
        service: service.to_owned(),
        max_skew: time::Duration::minutes(MAX_SKEW_MINUTES),
    };
    // Skew is judged against the wall clock or the harness clock, whichever is nearer the
    // request's date (`irsa_core::clock`): a moved harness clock must not make an honest SDK's
    // signature look skewed. Expiry below still follows the harness clock (`now`).
    let skew_reference = irsa_core::clock::signature_reference_for(
        clock,
        parts
            .headers
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok()),
    );
    let now_dt = time::OffsetDateTime::from_unix_timestamp(skew_reference)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let map = |e: sigv4_verify::SigError| match e.kind() {
        SigErrorKind::MissingAuthenticationToken => StsError::MissingAuthenticationToken,
        SigErrorKind::IncompleteSignature => StsError::IncompleteSignature {
            message: e.to_string(),
        },
        SigErrorKind::InvalidSignature => StsError::SignatureDoesNotMatch {
            message: e.to_string(),
        },
    };
    let parsed = sigv4_verify::parse_and_check(&request, &policy, now_dt).map_err(map)?;
    if let Some(session) = sessions.get(&parsed.access_key_id) {
        let secret =
            sigv4_verify::SecretKey::new(session.credentials.secret_access_key.expose().to_owned());
        sigv4_verify::verify_signature(&request, &parsed, &secret).map_err(map)?;
        match parsed.security_token.as_deref() {
            Some(token) if session.credentials.session_token.matches(token) => {}
            _ => return Err(StsError::InvalidClientTokenId),
        }
        if session.is_expired(now) {
            return Err(StsError::ExpiredSessionToken);
        }
        return Ok(Signed {
            caller: Caller::Session(session),
            region: parsed.region,
            access_key_id: parsed.access_key_id,
        });
    }
    let (user, key) = world
        .user_by_access_key(&parsed.access_key_id)
        .ok_or(StsError::InvalidClientTokenId)?;
    let secret = sigv4_verify::SecretKey::new(key.secret.expose().to_owned());
    sigv4_verify::verify_signature(&request, &parsed, &secret).map_err(map)?;
    // A long-term key with a session token is not a valid credential. UNSOURCED: the exact
    // answer AWS gives was not captured; `InvalidClientTokenId` is its answer for any token that
    // names no session.
    if parsed.security_token.is_some() {
        return Err(StsError::InvalidClientTokenId);
    }
    Ok(Signed {
        caller: Caller::User(user.clone()),
        region: parsed.region,
        access_key_id: parsed.access_key_id,
    })
}

/// CloudTrail's `userIdentity` for an IAM user (type `IAMUser`).
pub use irsa_core::audit::iam_user_identity;
