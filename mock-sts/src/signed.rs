//! SigV4 for signed Query calls (STS `GetCallerIdentity`, the IAM API, EKS), in the order of
//! wire-contracts §4.2, answering with the Query front end's codes (§1.5). A call is signed either
//! by an STS session (`ASIA…` + session token) or by an IAM user's static key (`AKIA…`, no token).

use irsa_core::SessionStore;
use irsa_core::World;
use irsa_core::signed::SignedCallError;
use sigv4_verify::SigErrorKind;

use crate::error::StsError;

/// STS's and IAM's skew window (wire-contracts §1.5).
pub const MAX_SKEW_MINUTES: i64 = 15;

/// A verified signed call: who signed it, and the region of its credential scope.
pub use irsa_core::signed::SignedCall as Signed;

/// Verify a call signed for `service` (`irsa_core::signed::authenticate`), answering failures
/// with the Query front end's codes.
pub fn authenticate(
    world: &World,
    sessions: &dyn SessionStore,
    parts: &http::request::Parts,
    body: &[u8],
    now: i64,
    clock: &dyn irsa_core::clock::Clock,
    service: &str,
) -> Result<Signed, StsError> {
    irsa_core::signed::authenticate(
        world,
        sessions,
        clock,
        parts,
        body,
        now,
        service,
        time::Duration::minutes(MAX_SKEW_MINUTES),
    )
    .map_err(|e| match e {
        SignedCallError::Signature(e) => match e.kind() {
            SigErrorKind::MissingAuthenticationToken => StsError::MissingAuthenticationToken,
            SigErrorKind::IncompleteSignature => StsError::IncompleteSignature {
                message: e.to_string(),
            },
            SigErrorKind::InvalidSignature => StsError::SignatureDoesNotMatch {
                message: e.to_string(),
            },
        },
        SignedCallError::UnknownAccessKey
        | SignedCallError::WrongSessionToken
        | SignedCallError::TokenWithLongTermKey => StsError::InvalidClientTokenId,
        SignedCallError::SessionExpired => StsError::ExpiredSessionToken,
    })
}

/// CloudTrail's `userIdentity` for an IAM user (type `IAMUser`).
pub use irsa_core::audit::iam_user_identity;
