//! A cluster's service-account token issuer: its identity (the EKS-shaped issuer URL), its keys,
//! and minting of projected tokens with the claims EKS puts in them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use irsa_core::token::{IssuerTls, JwksSource, RsaJwk};
use jsonwebtoken::{Algorithm, Header};
use serde_json::json;

use crate::key::SigningKey;
use crate::tls::PrivateCa;

#[derive(Debug)]
pub struct Issuer {
    cluster: String,
    url: String,
    keys: RwLock<KeySet>,
    /// A key this issuer never publishes, generated on first use, for forged-token reproductions.
    foreign: OnceLock<Result<SigningKey, String>>,
    /// The private CA its HTTPS endpoint is certified by; `None`: a CA AWS trusts (EKS's).
    private_ca: Option<PrivateCa>,
    /// `false` while STS is to find the issuer down.
    reachable: AtomicBool,
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

/// Deliberate departures from what the kubelet would ask for, to reproduce STS failures. Every
/// field left `None` keeps the faithful value. Times are relative to the harness's "now".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenOverrides {
    /// `aud` (always an array, as kube-apiserver writes it).
    pub audiences: Option<Vec<String>>,
    /// `exp = now + expires_in`; zero or negative gives an already-expired token. When the token
    /// is expired, `iat`/`nbf` move back too (to `exp - lifetime`), so it looks like a token that
    /// was once valid, as a stale token file does.
    pub expires_in: Option<i64>,
    /// `nbf = now + not_before` (positive: not yet valid). `iat` is left alone.
    pub not_before: Option<i64>,
    /// `iss` (the key and everything else stay this issuer's).
    pub issuer: Option<String>,
    /// The header's `kid`.
    pub kid: Option<String>,
    /// `sub`.
    pub sub: Option<String>,
    /// Which key signs.
    pub signing_key: KeyChoice,
    /// No `kubernetes.io.pod` claim: a token from the TokenRequest API without a bound object
    /// (`kubectl create token`), not a pod's projected token.
    pub unbound: bool,
}

/// The key that signs a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyChoice {
    /// The issuer's active key (the one the kubelet's tokens use).
    #[default]
    Active,
    /// A key the issuer never published. Its own `kid` goes in the header unless `kid` is
    /// overridden: STS then finds no verification key; with the active key's `kid` the signature
    /// fails instead.
    Foreign,
}

/// The header `kid` and the claims of a projected token: pure, so every override is testable
/// without keys. `jti` is passed in (random in production).
pub fn token_claims(
    issuer_url: &str,
    spec: &TokenSpec,
    overrides: &TokenOverrides,
    now: i64,
    jti: &str,
) -> serde_json::Value {
    let pod_name = spec
        .pod_name
        .clone()
        .unwrap_or_else(|| format!("{}-pod", spec.service_account));
    let exp = overrides
        .expires_in
        .map_or(now + spec.expiration_seconds, |d| now + d);
    let iat = if exp <= now {
        exp - spec.expiration_seconds
    } else {
        now
    };
    let nbf = overrides.not_before.map_or(iat, |d| now + d);
    let audiences = overrides.audiences.as_ref().unwrap_or(&spec.audiences);
    let sub = overrides.sub.clone().unwrap_or_else(|| {
        format!(
            "system:serviceaccount:{}:{}",
            spec.namespace, spec.service_account
        )
    });
    let mut kubernetes = json!({
        "namespace": spec.namespace,
        "pod": {"name": pod_name, "uid": stable_uid(&format!("pod/{}/{}", spec.namespace, pod_name))},
        "serviceaccount": {"name": spec.service_account, "uid": service_account_uid(&spec.namespace, &spec.service_account)},
    });
    if overrides.unbound
        && let Some(map) = kubernetes.as_object_mut()
    {
        map.remove("pod");
    }
    json!({
        "aud": audiences,
        "exp": exp,
        "iat": iat,
        "iss": overrides.issuer.as_deref().unwrap_or(issuer_url),
        "jti": jti,
        "kubernetes.io": kubernetes,
        "nbf": nbf,
        "sub": sub,
    })
}

/// What a key rotation left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The new active key's `kid`.
    pub kid: String,
    /// Every `kid` the JWKS now publishes, the active one first.
    pub published: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("could not sign the token")]
    Sign(#[source] jsonwebtoken::errors::Error),
    #[error("could not generate the foreign signing key: {0}")]
    ForeignKey(String),
}

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
            foreign: OnceLock::new(),
            private_ca: None,
            reachable: AtomicBool::new(true),
        }
    }

    /// Take the issuer down for STS (`false`) or bring it back: while down, every
    /// `AssumeRoleWithWebIdentity` for its tokens answers `IDPCommunicationError`, which the SDKs
    /// retry. The documents served over HTTP(S) are not affected.
    pub fn set_reachable(&self, reachable: bool) {
        self.reachable.store(reachable, Ordering::SeqCst);
    }

    pub fn is_reachable(&self) -> bool {
        self.reachable.load(Ordering::SeqCst)
    }

    /// Serve this issuer's HTTPS endpoint with `ca`'s certificates: STS then checks the IAM
    /// provider's thumbprints against it.
    #[must_use]
    pub fn with_private_ca(mut self, ca: PrivateCa) -> Self {
        self.private_ca = Some(ca);
        self
    }

    pub fn private_ca(&self) -> Option<&PrivateCa> {
        self.private_ca.as_ref()
    }

    /// What STS's HTTPS connection to this issuer shows.
    pub fn tls(&self) -> IssuerTls {
        match &self.private_ca {
            Some(ca) => IssuerTls::PrivateCa {
                thumbprint: ca.thumbprint().to_owned(),
            },
            None => IssuerTls::TrustedCa,
        }
    }

    /// Make `key` the active signing key. With `keep_old`, the keys published so far stay in the
    /// JWKS (after the new one), so tokens signed before still verify; without it only the new
    /// key is published and older tokens fail STS with "Couldn't retrieve verification key".
    pub fn rotate(&self, key: SigningKey, keep_old: bool) -> Rotation {
        let mut keys = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut published = vec![key.jwk().clone()];
        if keep_old {
            published.extend(
                keys.published
                    .iter()
                    .filter(|k| k.kid != key.kid())
                    .cloned(),
            );
        }
        keys.active = key;
        keys.published = published;
        Rotation {
            kid: keys.active.kid().to_owned(),
            published: keys.published.iter().map(|k| k.kid.clone()).collect(),
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
        self.mint_with(spec, &TokenOverrides::default(), now)
    }

    /// Mint a token with deliberate departures ([`TokenOverrides`]) from the faithful one.
    pub fn mint_with(
        &self,
        spec: &TokenSpec,
        overrides: &TokenOverrides,
        now: i64,
    ) -> Result<String, MintError> {
        let claims = token_claims(
            &self.url,
            spec,
            overrides,
            now,
            &uuid::Uuid::new_v4().to_string(),
        );
        let keys = self.read();
        let key = match overrides.signing_key {
            KeyChoice::Active => &keys.active,
            KeyChoice::Foreign => self.foreign_key()?,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(
            overrides
                .kid
                .clone()
                .unwrap_or_else(|| key.kid().to_owned()),
        );
        header.typ = None;
        jsonwebtoken::encode(&header, &claims, &key.encoding).map_err(MintError::Sign)
    }

    fn foreign_key(&self) -> Result<&SigningKey, MintError> {
        self.foreign
            .get_or_init(|| SigningKey::generate().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| MintError::ForeignKey(e.clone()))
    }
}

/// The `metadata.uid` of a service account, the same in its tokens and in the API's answers.
pub fn service_account_uid(namespace: &str, name: &str) -> String {
    stable_uid(&format!("sa/{namespace}/{name}"))
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

    fn tls(&self, issuer: &str) -> Option<IssuerTls> {
        self.by_url(issuer).map(|i| i.tls())
    }

    fn reachable(&self, issuer: &str) -> bool {
        self.by_url(issuer).is_none_or(|i| i.is_reachable())
    }
}

#[cfg(test)]
mod tests;
