//! The `AssumeRoleWithWebIdentity` decision, in AWS's order: the token is a JWT; its issuer is a
//! registered IAM OIDC provider; its signature verifies against that issuer's keys; its `aud` is
//! one of the provider's client IDs; it has not expired; the role's trust policy allows the
//! federated principal; the requested duration fits the role. Pure: world, keys and time come in.

use iam_policy::{Decision, Evaluation, PolicySet, Principal, Request};

use crate::arn::issuer_host_path;
use crate::token::{Claims, JwksSource, TokenError, peek, verify_signature};
use crate::world::{OidcProvider, Role, World};

pub const ASSUME_ROLE_WITH_WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
pub const DEFAULT_DURATION_SECONDS: u32 = 3600;

/// Leeway for `nbf`/`iat` in the future. AWS does not document one; 5 minutes is what most OIDC
/// verifiers allow for clock drift. `exp` gets no leeway: AWS's message compares the two times
/// exactly.
pub const NOT_BEFORE_LEEWAY_SECONDS: i64 = 300;

#[derive(Debug, Clone)]
pub struct WebIdentityRequest<'a> {
    pub role_arn: &'a str,
    pub role_session_name: &'a str,
    pub web_identity_token: &'a str,
    pub duration_seconds: Option<u32>,
}

/// Why STS refused. Each cause maps to exactly one AWS error in `mock-sts`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WebIdentityError {
    #[error("the web identity token is not a JWT ({0})")]
    NotAJwt(&'static str),
    #[error("no OpenID Connect provider is registered for issuer `{issuer}`")]
    NoProvider { issuer: String },
    #[error("the issuer's verification key could not be retrieved")]
    NoVerificationKey,
    #[error("the token signature is invalid: {0}")]
    InvalidSignature(TokenError),
    #[error("the token's audience is not a client ID of the provider")]
    IncorrectAudience { audiences: Vec<String> },
    #[error("the token expired at {exp} (now {now})")]
    Expired { now: i64, exp: i64 },
    #[error("the token is not valid before {not_before} (now {now})")]
    NotYetValid { now: i64, not_before: i64 },
    #[error("the token has no `sub` claim")]
    MissingSubject,
    #[error("role `{role_arn}` does not exist")]
    NoSuchRole { role_arn: String },
    #[error("the trust policy of `{role_arn}` does not allow this token")]
    TrustPolicyDenied {
        role_arn: String,
        evaluation: Box<Evaluation>,
    },
    #[error("the requested duration {requested} exceeds the role's maximum {max}")]
    DurationExceedsMax { requested: u32, max: u32 },
}

/// What a successful assume-role grants; `session` turns it into credentials.
#[derive(Debug, Clone)]
pub struct Grant {
    pub role: Role,
    pub provider_arn: String,
    /// Issuer without scheme: the prefix of the `:sub`/`:aud` condition keys.
    pub provider_url: String,
    pub subject: String,
    /// The token audience that matched a client ID.
    pub audience: String,
    pub claims: Claims,
    pub role_session_name: String,
    pub duration_seconds: u32,
    /// The trust decision that allowed it, for audit.
    pub trust_evaluation: Evaluation,
}

pub fn assume_role_with_web_identity(
    world: &World,
    keys: &dyn JwksSource,
    request: &WebIdentityRequest<'_>,
    now: i64,
) -> Result<Grant, WebIdentityError> {
    let token = request.web_identity_token;
    let peeked = peek(token).map_err(|e| match e {
        TokenError::NotAJwt(why) => WebIdentityError::NotAJwt(why),
        other => WebIdentityError::InvalidSignature(other),
    })?;
    let issuer = peeked.claims.iss.clone();
    let provider = world
        .provider_for_issuer(&issuer)
        .ok_or_else(|| WebIdentityError::NoProvider {
            issuer: issuer.clone(),
        })?;
    let jwks = keys
        .jwks(&issuer)
        .ok_or(WebIdentityError::NoVerificationKey)?;
    verify_signature(token, &peeked, &jwks).map_err(|e| match e {
        TokenError::NoVerificationKey => WebIdentityError::NoVerificationKey,
        TokenError::NotAJwt(why) => WebIdentityError::NotAJwt(why),
        other => WebIdentityError::InvalidSignature(other),
    })?;
    let claims = peeked.claims;
    let audience = matched_audience(provider, &claims)?;
    let exp = claims.exp.ok_or(WebIdentityError::NotAJwt("no `exp` claim"))?;
    if now >= exp {
        return Err(WebIdentityError::Expired { now, exp });
    }
    if let Some(not_before) = claims.nbf.or(claims.iat)
        && not_before > now + NOT_BEFORE_LEEWAY_SECONDS
    {
        return Err(WebIdentityError::NotYetValid { now, not_before });
    }
    let subject = claims.sub.clone().ok_or(WebIdentityError::MissingSubject)?;

    let role = world
        .role_by_arn(request.role_arn)
        .ok_or_else(|| WebIdentityError::NoSuchRole {
            role_arn: request.role_arn.to_owned(),
        })?;
    let evaluation = evaluate_trust(role, provider, &subject, &audience, &claims);
    if evaluation.decision != Decision::Allow {
        return Err(WebIdentityError::TrustPolicyDenied {
            role_arn: request.role_arn.to_owned(),
            evaluation: Box::new(evaluation),
        });
    }
    let duration_seconds = request.duration_seconds.unwrap_or(DEFAULT_DURATION_SECONDS);
    if duration_seconds > role.max_session_duration {
        return Err(WebIdentityError::DurationExceedsMax {
            requested: duration_seconds,
            max: role.max_session_duration,
        });
    }
    Ok(Grant {
        role: role.clone(),
        provider_arn: provider.arn.clone(),
        provider_url: provider.url.clone(),
        subject,
        audience,
        claims,
        role_session_name: request.role_session_name.to_owned(),
        duration_seconds,
        trust_evaluation: evaluation,
    })
}

fn matched_audience(provider: &OidcProvider, claims: &Claims) -> Result<String, WebIdentityError> {
    let audiences: Vec<String> = claims
        .aud
        .as_ref()
        .map(|a| a.values().into_iter().map(str::to_owned).collect())
        .unwrap_or_default();
    audiences
        .iter()
        .find(|aud| provider.client_ids.iter().any(|id| id == *aud))
        .cloned()
        .ok_or(WebIdentityError::IncorrectAudience { audiences })
}

/// The role's trust policy, evaluated as a resource-based policy on the role with the provider
/// as federated principal and the token's claims as `<issuer-host-path>:<claim>` keys.
pub fn evaluate_trust(
    role: &Role,
    provider: &OidcProvider,
    subject: &str,
    audience: &str,
    claims: &Claims,
) -> Evaluation {
    let prefix = issuer_host_path(&provider.url);
    let mut context = iam_policy::Context::new();
    context.insert(format!("{prefix}:sub"), subject);
    context.insert(format!("{prefix}:aud"), audience);
    if let Some(amr) = claims.other.get("amr").and_then(|v| v.as_str()) {
        context.insert(format!("{prefix}:amr"), amr);
    }
    context.insert("aws:FederatedProvider", provider.arn.as_str());
    let request = Request {
        principal: Some(Principal::Federated(provider.arn.clone())),
        action: ASSUME_ROLE_WITH_WEB_IDENTITY.to_owned(),
        resource: role.arn.as_str().to_owned(),
        context,
    };
    let set = PolicySet {
        resource: Some(&role.trust_policy),
        ..PolicySet::default()
    };
    iam_policy::evaluate(&set, &request)
}
