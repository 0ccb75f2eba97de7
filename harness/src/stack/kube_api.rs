//! Each cluster's Kubernetes API (the TokenRequest slice `mock_oidc::kube_api` serves) on its own
//! loopback port, and `DIR/kubeconfig` pointing `kubectl` and kube-rs at them: one context per
//! cluster (named after it, the first one current), one user without credentials.
//!
//! Decision: the API is served over plain HTTP on loopback without authentication, as
//! `kubectl proxy` serves a real cluster's API. kubectl (client-go) never sends a bearer token
//! over plain HTTP (observed with kubectl v1.32: no `Authorization` header), and a TLS API server
//! would need a generated CA. It mints only faithful tokens of the world's service accounts (any
//! audience, at least 10 minutes), as any caller with the cluster's `serviceaccounts/token`
//! permission could; moving the clock, token overrides and key rotation stay behind the control
//! API's secret. The kubeconfig is still written 0600.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use irsa_core::World;
use irsa_core::clock::Clock;
use mock_oidc::Issuers;
use mock_oidc::kube_api::{KubeApiState, router};
use tokio::sync::watch;

/// `DIR/kubeconfig`.
pub const KUBECONFIG_FILE: &str = "kubeconfig";
/// The kubeconfig's user.
pub const USER: &str = "irsa-harness";

pub fn kubeconfig_path(state_dir: &Path) -> PathBuf {
    state_dir.join(KUBECONFIG_FILE)
}

/// A kubeconfig for `(cluster, server URL)` pairs, the first one current. Pure.
pub fn render_kubeconfig(clusters: &[(String, String)]) -> String {
    let mut text = String::from("apiVersion: v1\nkind: Config\nclusters:\n");
    for (name, server) in clusters {
        text.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: {server}\n"
        ));
    }
    text.push_str("contexts:\n");
    for (name, _) in clusters {
        text.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: {USER}\n"
        ));
    }
    if let Some((first, _)) = clusters.first() {
        text.push_str(&format!("current-context: {first}\n"));
    }
    text.push_str(&format!(
        "users:\n- name: {USER}\n  user: {{}}\npreferences: {{}}\n"
    ));
    text
}

/// Start one API server per cluster of `world` and write the kubeconfig.
pub(crate) async fn serve(
    world: &Arc<World>,
    issuers: &Arc<Issuers>,
    clock: Arc<dyn Clock>,
    state_dir: &Path,
    stop: &watch::Sender<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut servers = Vec::new();
    let mut clusters = Vec::new();
    for cluster in &world.clusters {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .with_context(|| format!("binding the Kubernetes API port of `{}`", cluster.name))?;
        clusters.push((
            cluster.name.clone(),
            format!("http://{}", listener.local_addr()?),
        ));
        let app = router(KubeApiState {
            world: Arc::clone(world),
            issuers: Arc::clone(issuers),
            clock: Arc::clone(&clock),
            cluster: cluster.name.clone(),
            bearer: None,
        });
        let mut stop = stop.subscribe();
        servers.push(tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.changed().await;
                })
                .await;
        }));
    }
    crate::stack::control::write_private(
        &kubeconfig_path(state_dir),
        &render_kubeconfig(&clusters),
    )?;
    Ok(servers)
}

#[cfg(test)]
mod tests {
    #[test]
    fn kubeconfig_has_a_context_per_cluster_and_the_first_current() {
        let text = super::render_kubeconfig(&[
            ("a".into(), "http://127.0.0.1:1".into()),
            ("b".into(), "http://127.0.0.1:2".into()),
        ]);
        assert_eq!(
            text,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster:\n    server: http://127.0.0.1:1\n- name: b\n  cluster:\n    server: http://127.0.0.1:2\ncontexts:\n- name: a\n  context:\n    cluster: a\n    user: irsa-harness\n- name: b\n  context:\n    cluster: b\n    user: irsa-harness\ncurrent-context: a\nusers:\n- name: irsa-harness\n  user: {}\npreferences: {}\n"
        );
    }
}
