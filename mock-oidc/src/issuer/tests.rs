use super::*;

pub(crate) fn issuer() -> Issuer {
    Issuer::new(
        "c1",
        "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
        SigningKey::generate().unwrap(),
    )
}

#[test]
fn minted_tokens_carry_eks_claims_and_verify_with_the_jwks() {
    let issuer = issuer();
    let spec = TokenSpec {
        namespace: "curity".into(),
        service_account: "dynamo-sa".into(),
        audiences: vec!["sts.amazonaws.com".into()],
        expiration_seconds: 86400,
        pod_name: None,
    };
    let token = issuer.mint(&spec, 1_000_000).unwrap();
    let peeked = irsa_core::token::peek(&token).unwrap();
    assert_eq!(peeked.header.alg, "RS256");
    assert_eq!(
        peeked.header.kid.as_deref(),
        Some(issuer.active_kid().as_str())
    );
    let c = &peeked.claims;
    assert_eq!(c.iss, "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC");
    assert_eq!(
        c.sub.as_deref(),
        Some("system:serviceaccount:curity:dynamo-sa")
    );
    assert_eq!(c.exp, Some(1_086_400));
    assert_eq!(c.iat, Some(1_000_000));
    assert_eq!(c.nbf, Some(1_000_000));
    assert_eq!(
        serde_json::to_value(&c.aud).unwrap(),
        json!(["sts.amazonaws.com"])
    );
    assert_eq!(c.other["kubernetes.io"]["namespace"], "curity");
    assert_eq!(
        c.other["kubernetes.io"]["serviceaccount"]["name"],
        "dynamo-sa"
    );
    irsa_core::token::verify_signature(&token, &peeked, &issuer.jwks()).unwrap();
}

fn spec() -> TokenSpec {
    TokenSpec {
        namespace: "curity".into(),
        service_account: "dynamo-sa".into(),
        audiences: vec!["sts.amazonaws.com".into()],
        expiration_seconds: 86400,
        pod_name: None,
    }
}

const URL: &str = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC";

#[test]
fn no_overrides_give_the_faithful_claims() {
    let c = token_claims(URL, &spec(), &TokenOverrides::default(), 1000, "j");
    assert_eq!(c["aud"], json!(["sts.amazonaws.com"]));
    assert_eq!(
        (c["iat"].clone(), c["nbf"].clone(), c["exp"].clone()),
        (json!(1000), json!(1000), json!(87400))
    );
    assert_eq!(c["iss"], URL);
    assert_eq!(c["sub"], "system:serviceaccount:curity:dynamo-sa");
    assert_eq!(c["jti"], "j");
}

#[test]
fn overrides_replace_exactly_their_claim() {
    let o = TokenOverrides {
        audiences: Some(vec!["a".into(), "b".into()]),
        expires_in: Some(600),
        not_before: Some(120),
        issuer: Some("https://elsewhere/id/X".into()),
        sub: Some("system:serviceaccount:kube-system:admin".into()),
        ..TokenOverrides::default()
    };
    let c = token_claims(URL, &spec(), &o, 1000, "j");
    assert_eq!(c["aud"], json!(["a", "b"]));
    assert_eq!(c["exp"], 1600);
    assert_eq!(c["iat"], 1000);
    assert_eq!(c["nbf"], 1120);
    assert_eq!(c["iss"], "https://elsewhere/id/X");
    assert_eq!(c["sub"], "system:serviceaccount:kube-system:admin");
    assert_eq!(c["kubernetes.io"]["serviceaccount"]["name"], "dynamo-sa");
    assert!(c["kubernetes.io"].get("pod").is_some());
    let unbound = TokenOverrides {
        unbound: true,
        ..TokenOverrides::default()
    };
    let c = token_claims(URL, &spec(), &unbound, 1000, "j");
    assert!(c["kubernetes.io"].get("pod").is_none(), "{c}");
    assert_eq!(
        c["kubernetes.io"]["serviceaccount"]["uid"],
        service_account_uid("curity", "dynamo-sa")
    );
}

#[test]
fn an_expired_token_was_issued_one_lifetime_before_it_expired() {
    let o = TokenOverrides {
        expires_in: Some(-60),
        ..TokenOverrides::default()
    };
    let c = token_claims(URL, &spec(), &o, 100_000, "j");
    assert_eq!(c["exp"], 99_940);
    assert_eq!(c["iat"], 99_940 - 86_400);
    assert_eq!(c["nbf"], 99_940 - 86_400);
}

#[test]
fn kid_and_foreign_key_overrides_change_the_header_and_the_signer() {
    let issuer = issuer();
    let active = issuer.active_kid();
    let forged = issuer
        .mint_with(
            &spec(),
            &TokenOverrides {
                signing_key: KeyChoice::Foreign,
                ..TokenOverrides::default()
            },
            1000,
        )
        .unwrap();
    let peeked = irsa_core::token::peek(&forged).unwrap();
    let foreign_kid = peeked.header.kid.clone().unwrap();
    assert_ne!(foreign_kid, active, "the foreign key names itself");
    assert_eq!(
        irsa_core::token::verify_signature(&forged, &peeked, &issuer.jwks()),
        Err(irsa_core::token::TokenError::NoVerificationKey)
    );
    // Same foreign key, but claiming the active kid: the signature fails.
    let claiming = issuer
        .mint_with(
            &spec(),
            &TokenOverrides {
                signing_key: KeyChoice::Foreign,
                kid: Some(active.clone()),
                ..TokenOverrides::default()
            },
            1000,
        )
        .unwrap();
    let peeked = irsa_core::token::peek(&claiming).unwrap();
    assert_eq!(peeked.header.kid.as_deref(), Some(active.as_str()));
    assert_eq!(
        irsa_core::token::verify_signature(&claiming, &peeked, &issuer.jwks()),
        Err(irsa_core::token::TokenError::BadSignature)
    );
    // The foreign key is stable for the issuer's life.
    let again = issuer
        .mint_with(
            &spec(),
            &TokenOverrides {
                signing_key: KeyChoice::Foreign,
                ..TokenOverrides::default()
            },
            1000,
        )
        .unwrap();
    assert_eq!(
        irsa_core::token::peek(&again)
            .unwrap()
            .header
            .kid
            .as_deref(),
        Some(foreign_kid.as_str())
    );
}

#[test]
fn rotation_keeps_or_drops_the_old_kid() {
    let issuer = issuer();
    let old = issuer.active_kid();
    let old_token = issuer.mint(&spec(), 1000).unwrap();
    let r = issuer.rotate(SigningKey::generate().unwrap(), true);
    assert_ne!(r.kid, old);
    assert_eq!(r.published, vec![r.kid.clone(), old.clone()]);
    assert_eq!(issuer.active_kid(), r.kid);
    let peeked = irsa_core::token::peek(&old_token).unwrap();
    irsa_core::token::verify_signature(&old_token, &peeked, &issuer.jwks()).unwrap();
    let new_token = issuer.mint(&spec(), 1000).unwrap();
    assert_eq!(
        irsa_core::token::peek(&new_token)
            .unwrap()
            .header
            .kid
            .as_deref(),
        Some(r.kid.as_str())
    );
    let dropped = issuer.rotate(SigningKey::generate().unwrap(), false);
    assert_eq!(dropped.published, vec![dropped.kid.clone()]);
    assert_eq!(
        irsa_core::token::verify_signature(&old_token, &peeked, &issuer.jwks()),
        Err(irsa_core::token::TokenError::NoVerificationKey)
    );
    assert_eq!(
        issuer.jwks_document()["keys"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn path_and_lookup_by_path() {
    let issuers = Issuers::new([issuer()]);
    let (found, rest) = issuers
        .by_path("/id/ABC/.well-known/openid-configuration")
        .unwrap();
    assert_eq!(found.cluster(), "c1");
    assert_eq!(rest, "/.well-known/openid-configuration");
    assert!(issuers.by_path("/id/ABCD/keys").is_none());
    assert!(
        issuers
            .jwks("https://oidc.eks.eu-west-1.amazonaws.com/id/ABC")
            .is_some()
    );
    assert!(issuers.jwks("https://elsewhere/id/ABC").is_none());
}
