//! A cluster's service-account token issuer: its identity (the EKS-shaped issuer URL), its keys,
//! and minting of projected tokens with the claims EKS puts in them.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use irsa_core::token::{JwksSource, RsaJwk};
use jsonwebtoken::{Algorithm, Header};
use serde_json::json;

use crate::key::SigningKey;

#[derive(Debug)]
pub struct Issuer {
    cluster: String,
    url: String,
    keys: RwLock<KeySet>,
}

#[derive(Debug)]
struct KeySet {
    active: SigningKey,
    /// Public keys served in the JWKS (the active one first).
    published: Vec<RsaJwk>,
}

/// What to put in a projected service-account token.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub namespace: String,
    pub service_account: String,
    pub audiences: Vec<String>,
    pub expiration_seconds: i64,
    pub pod_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("could not sign the token")]
pub struct MintError(#[source] jsonwebtoken::errors::Error);

impl Issuer {
    pub fn new(cluster: impl Into<String>, url: impl Into<String>, key: SigningKey) -> Self {
        let published = vec![key.jwk().clone()];
        Self {
            cluster: cluster.into(),
            url: url.into(),
            keys: RwLock::new(KeySet {
                active: key,
                published,
            }),
        }
    }

    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The path under which the issuer's documents are served locally: the issuer URL's path
    /// (`/id/<ID>` for EKS), so discovery looks the same as on EKS, only on our host.
    pub fn path(&self) -> &str {
        let without_scheme = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, rest)| rest);
        without_scheme
            .find('/')
            .and_then(|i| without_scheme.get(i..))
            .unwrap_or("")
            .trim_end_matches('/')
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, KeySet> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn jwks(&self) -> Vec<RsaJwk> {
        self.read().published.clone()
    }

    pub fn active_kid(&self) -> String {
        self.read().active.kid().to_owned()
    }

    /// `/.well-known/openid-configuration` as EKS serves it.
    pub fn discovery(&self) -> serde_json::Value {
        json!({
            "issuer": self.url,
            "jwks_uri": format!("{}/keys", self.url.trim_end_matches('/')),
            "authorization_endpoint": "urn:kubernetes:programmatic_authorization",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "claims_supported": ["sub", "iss"],
            "id_token_signing_alg_values_supported": ["RS256"],
        })
    }

    pub fn jwks_document(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .jwks()
            .into_iter()
            .map(|k| json!({"kty": "RSA", "kid": k.kid, "use": "sig", "alg": "RS256", "n": k.n, "e": k.e}))
            .collect();
        json!({ "keys": keys })
    }

    /// Mint a projected service-account token (RS256, `kid` of the active key) with EKS's claims.
    pub fn mint(&self, spec: &TokenSpec, now: i64) -> Result<String, MintError> {
        let keys = self.read();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(keys.active.kid().to_owned());
        header.typ = None;
        let pod_name = spec
            .pod_name
            .clone()
            .unwrap_or_else(|| format!("{}-pod", spec.service_account));
        let claims = json!({
            "aud": spec.audiences,
            "exp": now + spec.expiration_seconds,
            "iat": now,
            "iss": self.url,
            "jti": uuid::Uuid::new_v4().to_string(),
            "kubernetes.io": {
                "namespace": spec.namespace,
                "pod": {"name": pod_name, "uid": stable_uid(&format!("pod/{}/{}", spec.namespace, pod_name))},
                "serviceaccount": {"name": spec.service_account, "uid": stable_uid(&format!("sa/{}/{}", spec.namespace, spec.service_account))},
            },
            "nbf": now,
            "sub": format!("system:serviceaccount:{}:{}", spec.namespace, spec.service_account),
        });
        jsonwebtoken::encode(&header, &claims, &keys.active.encoding).map_err(MintError)
    }
}

/// A UUID-shaped id that stays the same for the same object across restarts.
fn stable_uid(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(seed.as_bytes());
    let h: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or(""),
        h.get(8..12).unwrap_or(""),
        h.get(12..16).unwrap_or(""),
        h.get(16..20).unwrap_or(""),
        h.get(20..32).unwrap_or("")
    )
}

/// Every cluster issuer of the world, by issuer URL. It is also what STS asks for keys.
#[derive(Debug, Default)]
pub struct Issuers {
    by_url: BTreeMap<String, Arc<Issuer>>,
}

impl Issuers {
    pub fn new(issuers: impl IntoIterator<Item = Issuer>) -> Self {
        Self {
            by_url: issuers
                .into_iter()
                .map(|i| (i.url().trim_end_matches('/').to_owned(), Arc::new(i)))
                .collect(),
        }
    }

    pub fn by_url(&self, url: &str) -> Option<&Arc<Issuer>> {
        self.by_url.get(url.trim_end_matches('/'))
    }

    pub fn by_cluster(&self, cluster: &str) -> Option<&Arc<Issuer>> {
        self.by_url.values().find(|i| i.cluster() == cluster)
    }

    /// The issuer whose local path is a prefix of `path`, with the rest of the path.
    pub fn by_path<'p>(&self, path: &'p str) -> Option<(&Arc<Issuer>, &'p str)> {
        self.by_url.values().find_map(|i| {
            path.strip_prefix(i.path())
                .filter(|rest| rest.starts_with('/'))
                .map(|rest| (i, rest))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Issuer>> {
        self.by_url.values()
    }
}

impl JwksSource for Issuers {
    fn jwks(&self, issuer: &str) -> Option<Vec<RsaJwk>> {
        self.by_url(issuer).map(|i| i.jwks())
    }
}

#[cfg(test)]
mod tests {
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
}
