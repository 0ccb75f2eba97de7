//! Projected service-account tokens as STS sees them: peek the unverified header and claims only
//! to choose keys, then verify the signature against the issuer's JWKS. Pure: the JWKS and the
//! time are passed in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

/// One RSA public key of an issuer's JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RsaJwk {
    pub kid: String,
    /// Base64url modulus, no padding.
    pub n: String,
    /// Base64url exponent (`AQAB`).
    pub e: String,
}

/// Where STS finds an issuer's signing keys. In AWS it fetches `<iss>/.well-known/openid-configuration`
/// and then `jwks_uri` over HTTPS; in the harness the in-process issuers answer, and say what
/// that HTTPS connection would have shown.
pub trait JwksSource: Send + Sync {
    /// The issuer's public keys. `None`: nothing answered.
    fn jwks(&self, issuer: &str) -> Option<Vec<RsaJwk>>;
    /// How the issuer's HTTPS endpoint is certified. `None`: no issuer answers at that URL.
    fn tls(&self, issuer: &str) -> Option<IssuerTls>;
    /// `false` while the issuer is down (a reproduction of a network failure): STS cannot open
    /// the connection at all.
    fn reachable(&self, _issuer: &str) -> bool {
        true
    }
}

/// No issuer answers anywhere: for tests and tools that never fetch keys.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIssuers;

impl JwksSource for NoIssuers {
    fn jwks(&self, _issuer: &str) -> Option<Vec<RsaJwk>> {
        None
    }
    fn tls(&self, _issuer: &str) -> Option<IssuerTls> {
        None
    }
}

/// What STS's HTTPS connection to an issuer shows about its certificate chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerTls {
    /// The chain ends in a CA of AWS's trusted library (EKS's issuers): thumbprints are not used.
    TrustedCa,
    /// The chain ends in a CA AWS does not know. `thumbprint`: the SHA-1 fingerprint, lower-case
    /// hex, of the top (last) certificate the server sends, the one AWS's "Obtain the thumbprint"
    /// procedure has users fingerprint.
    PrivateCa { thumbprint: String },
}

/// `aud` is a string or an array of strings on the wire; always a list here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn values(&self) -> Vec<&str> {
        match self {
            Audience::One(one) => vec![one.as_str()],
            Audience::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

/// The claims STS reads. Unknown claims are kept for policy variables and audit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    pub aud: Option<Audience>,
    #[serde(default)]
    pub exp: Option<i64>,
    #[serde(default)]
    pub iat: Option<i64>,
    #[serde(default)]
    pub nbf: Option<i64>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
}

/// A token split and decoded, nothing verified.
#[derive(Debug, Clone)]
pub struct Peeked {
    pub header: Header,
    pub claims: Claims,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a JWT: {0}")]
    NotAJwt(&'static str),
    #[error(
        "no verification key for the token (issuer's JWKS unavailable or no key with its `kid`)"
    )]
    NoVerificationKey,
    #[error("the token's algorithm `{0}` is not accepted (only RS256)")]
    UnsupportedAlgorithm(String),
    #[error("the token's signature does not verify with the issuer's key")]
    BadSignature,
}

/// Split `header.claims.signature` and decode the first two parts. Surrounding ASCII whitespace
/// (a trailing newline from `echo` into a token file) is ignored, as the SDKs send it verbatim.
pub fn peek(token: &str) -> Result<Peeked, TokenError> {
    let token = token.trim_ascii();
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::NotAJwt("expected three dot-separated parts"));
    };
    if h.is_empty() || c.is_empty() {
        return Err(TokenError::NotAJwt("empty header or claims"));
    }
    let _ = s;
    let header_bytes = URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| TokenError::NotAJwt("header is not base64url"))?;
    let claim_bytes = URL_SAFE_NO_PAD
        .decode(c)
        .map_err(|_| TokenError::NotAJwt("claims are not base64url"))?;
    let header: Header = serde_json::from_slice(&header_bytes)
        .map_err(|_| TokenError::NotAJwt("header is not a JSON object with `alg`"))?;
    let claims: Claims = serde_json::from_slice(&claim_bytes)
        .map_err(|_| TokenError::NotAJwt("claims are not a JSON object with `iss`"))?;
    Ok(Peeked { header, claims })
}

/// Verify the signature of `token` with the key named by its `kid` in `jwks`. Only RS256 is
/// accepted: EKS signs with RS256, and `none` or HMAC (key confusion) must never pass.
pub fn verify_signature(token: &str, peeked: &Peeked, jwks: &[RsaJwk]) -> Result<(), TokenError> {
    if peeked.header.alg != "RS256" {
        return Err(TokenError::UnsupportedAlgorithm(peeked.header.alg.clone()));
    }
    // STS matches `kid` literally; a token without one matches only a key whose kid is "" (see
    // wire-contracts §5.1, pod-identity-webhook#12).
    let kid = peeked.header.kid.as_deref().unwrap_or("");
    let key = jwks
        .iter()
        .find(|k| k.kid == kid)
        .ok_or(TokenError::NoVerificationKey)?;
    let decoding_key = DecodingKey::from_rsa_components(&key.n, &key.e)
        .map_err(|_| TokenError::NoVerificationKey)?;
    let mut validation = Validation::new(Algorithm::RS256);
    // Time and audience are checked by the caller against the harness clock and the provider.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(token.trim_ascii(), &decoding_key, &validation)
        .map(|_| ())
        .map_err(|_| TokenError::BadSignature)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header as JwtHeader, encode};
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    use std::sync::OnceLock;

    pub(crate) struct TestKey {
        pub jwk: RsaJwk,
        pub encoding: EncodingKey,
    }

    pub(crate) fn test_key(kid: &str) -> TestKey {
        static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
        let private = KEY.get_or_init(|| {
            let mut rng = rand::rng();
            rsa::PrivateKey::new(&mut rng, 2048).unwrap()
        });
        let public = private.to_public_key();
        let der = private.to_pkcs1_der().unwrap();
        TestKey {
            jwk: RsaJwk {
                kid: kid.into(),
                n: URL_SAFE_NO_PAD.encode(public.n().to_be_bytes()),
                e: URL_SAFE_NO_PAD.encode(public.e().to_be_bytes()),
            },
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        }
    }

    pub(crate) fn sign(key: &TestKey, claims: &serde_json::Value) -> String {
        let mut header = JwtHeader::new(Algorithm::RS256);
        header.kid = Some(key.jwk.kid.clone());
        encode(&header, claims, &key.encoding).unwrap()
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"iss": "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC", "sub": "system:serviceaccount:curity:dynamo-sa", "aud": ["sts.amazonaws.com"], "exp": 2000, "iat": 1000, "nbf": 1000})
    }

    #[test]
    fn verifies_a_token_signed_by_the_named_key() {
        let key = test_key("k1");
        let token = sign(&key, &claims());
        let peeked = peek(&token).unwrap();
        assert_eq!(
            peeked.claims.sub.as_deref(),
            Some("system:serviceaccount:curity:dynamo-sa")
        );
        verify_signature(&token, &peeked, std::slice::from_ref(&key.jwk)).unwrap();
        // a trailing newline from a token file is tolerated
        let with_newline = format!("{token}\n");
        verify_signature(
            &with_newline,
            &peek(&with_newline).unwrap(),
            std::slice::from_ref(&key.jwk),
        )
        .unwrap();
    }

    #[test]
    fn unknown_kid_has_no_verification_key() {
        let key = test_key("k1");
        let token = sign(&key, &claims());
        let mut other = key.jwk.clone();
        other.kid = "k2".into();
        assert_eq!(
            verify_signature(&token, &peek(&token).unwrap(), &[other]),
            Err(TokenError::NoVerificationKey)
        );
    }

    #[test]
    fn tampered_claims_fail_the_signature() {
        let key = test_key("k1");
        let token = sign(&key, &claims());
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&serde_json::json!({"iss": "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC", "sub": "system:serviceaccount:kube-system:admin"})).unwrap(),
        );
        parts[1] = &forged;
        let forged_token = parts.join(".");
        assert_eq!(
            verify_signature(
                &forged_token,
                &peek(&forged_token).unwrap(),
                std::slice::from_ref(&key.jwk)
            ),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn alg_none_and_hmac_are_refused() {
        let key = test_key("k1");
        for alg in ["none", "HS256"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","kid":"k1"}}"#));
            let body = URL_SAFE_NO_PAD.encode(claims().to_string());
            let token = format!("{header}.{body}.");
            assert_eq!(
                verify_signature(
                    &token,
                    &peek(&token).unwrap(),
                    std::slice::from_ref(&key.jwk)
                ),
                Err(TokenError::UnsupportedAlgorithm(alg.into()))
            );
        }
    }

    #[test]
    fn garbage_is_not_a_jwt() {
        for bad in ["not-a-jwt", "a.b", "a.b.c.d", "!!.??.x", ""] {
            assert!(matches!(peek(bad), Err(TokenError::NotAJwt(_))), "{bad}");
        }
    }

    #[test]
    fn audience_accepts_string_or_array() {
        let one: Audience = serde_json::from_str(r#""sts.amazonaws.com""#).unwrap();
        let many: Audience = serde_json::from_str(r#"["a","sts.amazonaws.com"]"#).unwrap();
        assert_eq!(one.values(), vec!["sts.amazonaws.com"]);
        assert_eq!(many.values(), vec!["a", "sts.amazonaws.com"]);
    }
}
