//! The `AssumeRoleWithWebIdentity` decision, in AWS's order: the token is a JWT; its issuer is a
//! registered IAM OIDC provider; its signature verifies against that issuer's keys; its `aud` is
//! one of the provider's client IDs; it has not expired; the role's trust policy allows the
//! federated principal; the requested duration fits the role. Pure: world, keys and time come in.

use iam_policy::{Decision, Evaluation, PolicySet, Principal, Request};

use crate::arn::issuer_host_path;
use crate::token::{Claims, IssuerTls, JwksSource, TokenError, peek, verify_signature};
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
    #[error("the issuer `{issuer}` could not be reached")]
    IssuerUnreachable { issuer: String },
    #[error(
        "the issuer's HTTPS certificate chain (private CA, thumbprint {served}) matches none of the provider's thumbprints {configured:?}"
    )]
    ThumbprintMismatch {
        served: String,
        configured: Vec<String>,
    },
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
    let provider =
        world
            .provider_for_issuer(&issuer)
            .ok_or_else(|| WebIdentityError::NoProvider {
                issuer: issuer.clone(),
            })?;
    if !keys.reachable(&issuer) {
        return Err(WebIdentityError::IssuerUnreachable { issuer });
    }
    check_thumbprint(keys.tls(&issuer), provider)?;
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
    let exp = claims
        .exp
        .ok_or(WebIdentityError::NotAJwt("no `exp` claim"))?;
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

/// Fetching the keys goes over HTTPS first: an issuer certified by a private CA is trusted only
/// through the provider's thumbprints. Which certificate of the chain AWS fingerprints is
/// documented as "the top intermediate certificate authority"; whether AWS also accepts the
/// fingerprint of another certificate in the chain is not documented, so only the top one
/// (the last the server sends) counts here. Thumbprints compare case-insensitively (IAM accepts
/// either case and stores lower case).
fn check_thumbprint(
    tls: Option<IssuerTls>,
    provider: &OidcProvider,
) -> Result<(), WebIdentityError> {
    match tls {
        // No issuer answers: the keys cannot be fetched either, reported as such next.
        None | Some(IssuerTls::TrustedCa) => Ok(()),
        Some(IssuerTls::PrivateCa { thumbprint }) => {
            if provider
                .thumbprints
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&thumbprint))
            {
                Ok(())
            } else {
                Err(WebIdentityError::ThumbprintMismatch {
                    served: thumbprint,
                    configured: provider.thumbprints.clone(),
                })
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use iam_policy::NamedPolicy;
    use serde_json::json;

    use super::*;
    use crate::arn::RoleArn;
    use crate::token::RsaJwk;
    use crate::token::tests::{sign, test_key};
    use crate::world::{OidcProvider, Role, STS_AUDIENCE};

    const ISSUER: &str = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC";
    const ROLE: &str = "arn:aws:iam::111122223333:role/curity-dynamodb";
    const NOW: i64 = 1_800_000_000;

    struct Keys(Vec<RsaJwk>, IssuerTls);
    impl JwksSource for Keys {
        fn jwks(&self, issuer: &str) -> Option<Vec<RsaJwk>> {
            (issuer == ISSUER).then(|| self.0.clone())
        }
        fn tls(&self, issuer: &str) -> Option<IssuerTls> {
            (issuer == ISSUER).then(|| self.1.clone())
        }
    }

    /// An issuer that is down.
    struct Down;
    impl JwksSource for Down {
        fn jwks(&self, _: &str) -> Option<Vec<RsaJwk>> {
            None
        }
        fn tls(&self, _: &str) -> Option<IssuerTls> {
            None
        }
        fn reachable(&self, _: &str) -> bool {
            false
        }
    }

    #[test]
    fn an_unreachable_issuer_is_reported_after_the_provider_lookup() {
        let request = |token: &str| {
            assume_role_with_web_identity(
                &world(),
                &Down,
                &WebIdentityRequest {
                    role_arn: ROLE,
                    role_session_name: "s",
                    web_identity_token: token,
                    duration_seconds: None,
                },
                NOW,
            )
        };
        let t = token(&claims("system:serviceaccount:curity:dynamo-sa"));
        assert!(matches!(
            request(&t),
            Err(WebIdentityError::IssuerUnreachable { issuer }) if issuer == ISSUER
        ));
        let mut c = claims("system:serviceaccount:curity:dynamo-sa");
        c["iss"] = json!("https://unregistered.example.com");
        assert!(matches!(
            request(&token(&c)),
            Err(WebIdentityError::NoProvider { .. })
        ));
    }

    fn world() -> World {
        let trust = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:curity:dynamo-sa",
                "oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com"}}}]});
        let role = Role {
            arn: RoleArn::parse(ROLE).unwrap(),
            id: crate::world::role_id("111122223333", "curity-dynamodb"),
            trust_policy: NamedPolicy::new(
                "trust",
                iam_policy::Policy::from_value(&trust).unwrap(),
            ),
            policies: vec![],
            managed_policy_arns: std::collections::BTreeMap::new(),
            permissions_boundary: None,
            max_session_duration: 3600,
            record: Default::default(),
        };
        World {
            oidc_providers: vec![OidcProvider::new(
                "111122223333",
                ISSUER,
                vec![STS_AUDIENCE.into()],
            )],
            roles: BTreeMap::from([("curity-dynamodb".to_owned(), role)]),
            ..World::empty("111122223333".into(), "eu-west-1".into())
        }
    }

    fn claims(sub: &str) -> serde_json::Value {
        json!({"iss": ISSUER, "sub": sub, "aud": ["sts.amazonaws.com"], "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 3600})
    }

    fn assume(token: &str, role: &str, duration: Option<u32>) -> Result<Grant, WebIdentityError> {
        assume_over(&world(), IssuerTls::TrustedCa, token, role, duration)
    }

    fn assume_over(
        world: &World,
        tls: IssuerTls,
        token: &str,
        role: &str,
        duration: Option<u32>,
    ) -> Result<Grant, WebIdentityError> {
        let key = test_key("k1");
        assume_role_with_web_identity(
            world,
            &Keys(vec![key.jwk.clone()], tls),
            &WebIdentityRequest {
                role_arn: role,
                role_session_name: "s",
                web_identity_token: token,
                duration_seconds: duration,
            },
            NOW,
        )
    }

    fn token(claims: &serde_json::Value) -> String {
        sign(&test_key("k1"), claims)
    }

    #[test]
    fn the_reference_pod_is_granted_with_its_subject_and_audience() {
        let grant = assume(
            &token(&claims("system:serviceaccount:curity:dynamo-sa")),
            ROLE,
            None,
        )
        .unwrap();
        assert_eq!(grant.subject, "system:serviceaccount:curity:dynamo-sa");
        assert_eq!(grant.audience, "sts.amazonaws.com");
        assert_eq!(
            grant.provider_arn,
            "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
        );
        assert_eq!(grant.duration_seconds, 3600);
    }

    #[test]
    fn garbage_is_not_a_jwt() {
        assert!(matches!(
            assume("not-a-jwt", ROLE, None),
            Err(WebIdentityError::NotAJwt(_))
        ));
    }

    #[test]
    fn an_unregistered_issuer_is_named_exactly_as_in_the_token() {
        let mut c = claims("system:serviceaccount:curity:dynamo-sa");
        c["iss"] = json!("https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER");
        match assume(&token(&c), ROLE, None) {
            Err(WebIdentityError::NoProvider { issuer }) => {
                assert_eq!(issuer, "https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unknown_kid_has_no_verification_key() {
        let mut key = test_key("rotated-out");
        key.jwk.kid = "rotated-out".into();
        let t = sign(&key, &claims("system:serviceaccount:curity:dynamo-sa"));
        assert!(matches!(
            assume(&t, ROLE, None),
            Err(WebIdentityError::NoVerificationKey)
        ));
    }

    #[test]
    fn a_forged_signature_is_invalid_and_checked_before_the_audience() {
        let good = token(&claims("system:serviceaccount:curity:dynamo-sa"));
        let mut forged_claims = claims("system:serviceaccount:curity:dynamo-sa");
        forged_claims["aud"] = json!("evil");
        let forged = token(&forged_claims);
        // Take the header and claims of the forged token with the good token's signature.
        let sig = good.rsplit('.').next().unwrap();
        let body: Vec<&str> = forged.split('.').take(2).collect();
        let spliced = format!("{}.{}.{sig}", body[0], body[1]);
        assert!(matches!(
            assume(&spliced, ROLE, None),
            Err(WebIdentityError::InvalidSignature(_))
        ));
    }

    #[test]
    fn a_wrong_audience_is_incorrect() {
        let mut c = claims("system:serviceaccount:curity:dynamo-sa");
        c["aud"] = json!(["vault"]);
        assert!(matches!(
            assume(&token(&c), ROLE, None),
            Err(WebIdentityError::IncorrectAudience { .. })
        ));
    }

    #[test]
    fn an_expired_token_reports_both_times_and_is_checked_before_the_trust_policy() {
        let mut c = claims("system:serviceaccount:default:dynamo-sa");
        c["exp"] = json!(NOW - 1);
        match assume(&token(&c), ROLE, None) {
            Err(WebIdentityError::Expired { now, exp }) => assert_eq!((now, exp), (NOW, NOW - 1)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_wrong_namespace_is_denied_by_the_trust_policy() {
        match assume(
            &token(&claims("system:serviceaccount:default:dynamo-sa")),
            ROLE,
            None,
        ) {
            Err(WebIdentityError::TrustPolicyDenied { evaluation, .. }) => {
                assert_eq!(evaluation.decision, Decision::ImplicitDeny);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_role_is_refused_like_a_trust_failure() {
        let t = token(&claims("system:serviceaccount:curity:dynamo-sa"));
        assert!(matches!(
            assume(
                &t,
                "arn:aws:iam::111122223333:role/curity-dynamodb-typo",
                None
            ),
            Err(WebIdentityError::NoSuchRole { .. })
        ));
    }

    #[test]
    fn a_duration_over_the_role_maximum_is_refused() {
        let t = token(&claims("system:serviceaccount:curity:dynamo-sa"));
        assert!(matches!(
            assume(&t, ROLE, Some(7200)),
            Err(WebIdentityError::DurationExceedsMax {
                requested: 7200,
                max: 3600
            })
        ));
        assert!(assume(&t, ROLE, Some(3600)).is_ok());
    }

    #[test]
    fn a_token_from_the_future_is_not_yet_valid() {
        let mut c = claims("system:serviceaccount:curity:dynamo-sa");
        c["nbf"] = json!(NOW + NOT_BEFORE_LEEWAY_SECONDS + 1);
        c["iat"] = json!(NOW + NOT_BEFORE_LEEWAY_SECONDS + 1);
        assert!(matches!(
            assume(&token(&c), ROLE, None),
            Err(WebIdentityError::NotYetValid { .. })
        ));
        c["nbf"] = json!(NOW + NOT_BEFORE_LEEWAY_SECONDS);
        c["iat"] = json!(NOW + NOT_BEFORE_LEEWAY_SECONDS);
        assert!(assume(&token(&c), ROLE, None).is_ok());
    }

    const SERVED: &str = "0123456789abcdef0123456789abcdef01234567";

    fn with_thumbprints(thumbprints: &[&str]) -> World {
        let mut w = world();
        w.oidc_providers[0].thumbprints = thumbprints.iter().map(|t| (*t).to_owned()).collect();
        w
    }

    fn private_ca() -> IssuerTls {
        IssuerTls::PrivateCa {
            thumbprint: SERVED.to_owned(),
        }
    }

    #[test]
    fn a_private_ca_issuer_needs_the_served_thumbprint_among_the_providers() {
        // UpdateOpenIDConnectProviderThumbprint: "If your OIDC IdP relies on a certificate that
        // is not signed by one of these trusted CAs, only then we secure communication using
        // the thumbprints set in the IdP's configuration."
        let t = token(&claims("system:serviceaccount:curity:dynamo-sa"));
        let wrong = "ffffffffffffffffffffffffffffffffffffffff";
        let err =
            assume_over(&with_thumbprints(&[wrong]), private_ca(), &t, ROLE, None).unwrap_err();
        match err {
            WebIdentityError::ThumbprintMismatch { served, configured } => {
                assert_eq!(served, SERVED);
                assert_eq!(configured, vec![wrong.to_owned()]);
            }
            other => panic!("expected a thumbprint mismatch, got {other:?}"),
        }
        // No thumbprint at all is no match either.
        assert!(matches!(
            assume_over(&with_thumbprints(&[]), private_ca(), &t, ROLE, None),
            Err(WebIdentityError::ThumbprintMismatch { .. })
        ));
        // Any one of up to five matches, in either case.
        let upper = SERVED.to_ascii_uppercase();
        let w = with_thumbprints(&[wrong, &upper]);
        assert!(assume_over(&w, private_ca(), &t, ROLE, None).is_ok());
    }

    #[test]
    fn a_trusted_ca_issuer_ignores_the_thumbprints() {
        // "In these cases, your legacy thumbprint remains in your configuration, but is no
        // longer used for validation."
        let t = token(&claims("system:serviceaccount:curity:dynamo-sa"));
        let w = with_thumbprints(&["ffffffffffffffffffffffffffffffffffffffff"]);
        assert!(assume_over(&w, IssuerTls::TrustedCa, &t, ROLE, None).is_ok());
    }

    #[test]
    fn the_thumbprint_is_checked_after_the_provider_and_before_the_keys() {
        // Fetching the keys is what opens the HTTPS connection: an unregistered issuer is
        // refused first; a bad signature is only found after the connection was trusted.
        let mut c = claims("system:serviceaccount:curity:dynamo-sa");
        c["iss"] = json!("https://unregistered.example.com");
        assert!(matches!(
            assume_over(&with_thumbprints(&[]), private_ca(), &token(&c), ROLE, None),
            Err(WebIdentityError::NoProvider { .. })
        ));
        let forged = sign(
            &test_key("k-other"),
            &claims("system:serviceaccount:curity:dynamo-sa"),
        );
        assert!(matches!(
            assume_over(&with_thumbprints(&[]), private_ca(), &forged, ROLE, None),
            Err(WebIdentityError::ThumbprintMismatch { .. })
        ));
    }
}
