//! Projected service-account tokens as the kubelet mints them (the audience and lifetime of the
//! webhook's projected volume), with a user's overrides, signing-key rotation, and the
//! refresher that rewrites pods' token files as the kubelet does.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use irsa_core::World;
use irsa_core::clock::Clock as _;
use irsa_core::world::ServiceAccount;
use mock_oidc::{Issuers, Rotation, SigningKey, TokenOverrides, TokenSpec};
use tokio::sync::watch;

use crate::pod::env::{token_path, write_token};
use crate::stack::clock::HarnessClock;

use crate::stack::DEFAULT_TOKEN_SECONDS;

pub(crate) fn token_seconds(sa: &ServiceAccount) -> i64 {
    // The webhook raises values under 600 to 600 and falls back to the default on a bad integer.
    sa.annotations
        .get("eks.amazonaws.com/token-expiration")
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(DEFAULT_TOKEN_SECONDS, |s| s.max(600))
}

pub(crate) fn mint_for(issuers: &Issuers, sa: &ServiceAccount, now: i64) -> anyhow::Result<String> {
    mint_sa(issuers, sa, &TokenOverrides::default(), now)
}

/// A token for `namespace/name` of `world` with `overrides`, at `now`.
pub(crate) fn mint_with(
    world: &World,
    issuers: &Issuers,
    namespace: &str,
    name: &str,
    overrides: &scenarios::TokenOverrides,
    now: i64,
) -> anyhow::Result<String> {
    let sa = world
        .service_account(namespace, name)
        .ok_or_else(|| anyhow!("no service account `{namespace}/{name}` in the world"))?;
    mint_sa(issuers, sa, &minting(overrides)?, now)
}

/// What the issuer is asked to mint for a user's overrides. A raw or reused token is presented,
/// not minted: asking to mint one is an error rather than a token without them.
fn minting(overrides: &scenarios::TokenOverrides) -> anyhow::Result<TokenOverrides> {
    if overrides.raw.is_some() || overrides.reuse {
        bail!("`raw` and `reuse` name a token a step presents; there is nothing to mint");
    }
    Ok(TokenOverrides {
        audiences: (!overrides.audience.is_empty()).then(|| overrides.audience.clone()),
        expires_in: overrides.expires_in,
        not_before: overrides.not_before,
        issuer: overrides.issuer.clone(),
        kid: overrides.kid.clone(),
        sub: overrides.sub.clone(),
        signing_key: if overrides.foreign_key {
            mock_oidc::KeyChoice::Foreign
        } else {
            mock_oidc::KeyChoice::Active
        },
        unbound: false,
    })
}

/// The kubelet's token request for `sa` (its audience and lifetime), with `overrides`.
fn mint_sa(
    issuers: &Issuers,
    sa: &ServiceAccount,
    overrides: &TokenOverrides,
    now: i64,
) -> anyhow::Result<String> {
    let issuer = issuers
        .by_cluster(&sa.cluster)
        .ok_or_else(|| anyhow!("no issuer for cluster `{}`", sa.cluster))?;
    let spec = TokenSpec {
        namespace: sa.namespace.clone(),
        service_account: sa.name.clone(),
        audiences: vec![sa.audience().to_owned()],
        expiration_seconds: token_seconds(sa),
        pod_name: None,
    };
    Ok(issuer.mint_with(&spec, overrides, now)?)
}

/// Rotate `cluster`'s signing key (the RSA key is generated off the async threads).
pub(crate) async fn rotate(
    issuers: &Issuers,
    cluster: &str,
    keep_old: bool,
) -> anyhow::Result<Rotation> {
    let issuer = Arc::clone(
        issuers
            .by_cluster(cluster)
            .ok_or_else(|| anyhow!("no cluster `{cluster}` in the world"))?,
    );
    let key = tokio::task::spawn_blocking(SigningKey::generate)
        .await?
        .with_context(|| format!("generating a new signing key for cluster `{cluster}`"))?;
    Ok(issuer.rotate(key, keep_old))
}

/// Rewrite each pod's token when it is older than 80% of its lifetime, as the kubelet does,
/// until `stop` changes.
pub(crate) fn spawn_token_refresher(
    world: Arc<World>,
    issuers: Arc<Issuers>,
    clock: Arc<HarnessClock>,
    dir: PathBuf,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    // Read before spawning: a clock advanced right after `start` returns must count.
    let start = clock.now();
    tokio::spawn(async move {
        let mut minted: std::collections::HashMap<(String, String), i64> =
            std::collections::HashMap::new();
        for sa in &world.service_accounts {
            minted.insert((sa.namespace.clone(), sa.name.clone()), start);
        }
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            }
            let now = clock.now();
            for sa in world
                .service_accounts
                .iter()
                .filter(|sa| sa.role_arn().is_some())
            {
                let key = (sa.namespace.clone(), sa.name.clone());
                let ttl = token_seconds(sa);
                let last = minted.get(&key).copied().unwrap_or(start);
                if now - last >= ttl * 8 / 10 {
                    let path = token_path(&dir, &sa.namespace, &sa.name);
                    match mint_for(&issuers, sa, now).and_then(|t| write_token(&path, &t)) {
                        Ok(()) => {
                            minted.insert(key, now);
                            tracing::debug!(
                                namespace = sa.namespace,
                                name = sa.name,
                                "refreshed projected token"
                            );
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "could not refresh a projected token")
                        }
                    }
                }
            }
        }
    })
}
