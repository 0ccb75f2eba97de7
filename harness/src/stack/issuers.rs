//! The clusters' issuers a stack serves: a fresh signing key per cluster, the private-CA
//! issuers' own HTTPS listeners, and the thumbprints IAM retrieves for providers registered
//! without any.

use std::sync::Arc;

use anyhow::Context as _;
use irsa_core::World;
use irsa_core::world::IssuerCa;
use mock_oidc::{Issuer, Issuers, PrivateCa, SigningKey};
use tokio::sync::watch;

/// A private-CA issuer's HTTPS listener.
#[derive(Debug)]
pub struct HttpsIssuer {
    pub cluster: String,
    /// `https://127.0.0.1:<port>`: the discovery document is at `<this><issuer path>/.well-known/openid-configuration`.
    pub endpoint: String,
    /// SHA-1 of the CA certificate, the thumbprint an IAM provider must list.
    pub thumbprint: String,
    /// The CA certificate (public), written to `DIR/issuers/<cluster>/ca.pem`.
    pub(crate) ca_pem: String,
    pub(crate) server: tokio::task::JoinHandle<()>,
}

/// Each cluster's issuer with a fresh signing key (and a private CA where the cluster has one),
/// generated off the async threads: RSA key generation blocks.
pub(crate) async fn generate_issuers(world: Arc<World>) -> anyhow::Result<Issuers> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<Issuers> {
        let mut list = Vec::new();
        for cluster in &world.clusters {
            let key = SigningKey::generate().with_context(|| {
                format!("generating the signing key of cluster `{}`", cluster.name)
            })?;
            let mut issuer = Issuer::new(cluster.name.clone(), cluster.issuer.clone(), key);
            if cluster.issuer_ca == IssuerCa::Private {
                let ca = PrivateCa::generate(&cluster.name, &cluster.issuer)
                    .with_context(|| format!("cluster `{}`", cluster.name))?;
                issuer = issuer.with_private_ca(ca);
            }
            list.push(issuer);
        }
        Ok(Issuers::new(list))
    })
    .await?
}

/// A provider registered without thumbprints for a private-CA issuer gets the issuer's, as IAM
/// retrieves "the top intermediate certificate authority (CA) thumbprint" when
/// `CreateOpenIDConnectProvider` has no `ThumbprintList` (and as eksctl computes it when it
/// associates a cluster's provider). Thumbprints given in the world are kept, right or wrong.
pub(crate) fn retrieve_thumbprints(world: &mut World, issuers: &Issuers) {
    for provider in &mut world.oidc_providers {
        if provider.thumbprints.is_empty() {
            provider.thumbprints =
                mock_sts::iam::retrieved_thumbprint(issuers, &format!("https://{}", provider.url));
        }
    }
}

/// One HTTPS listener on 127.0.0.1 per private-CA issuer, serving its discovery document and
/// JWKS with the CA's certificates until the stack shuts down.
pub(crate) async fn serve_private_ca_issuers(
    issuers: &Arc<Issuers>,
    shutdown: &watch::Sender<bool>,
) -> anyhow::Result<Vec<HttpsIssuer>> {
    let mut served = Vec::new();
    for issuer in issuers.iter() {
        let Some(ca) = issuer.private_ca() else {
            continue;
        };
        let config = ca
            .server_config()
            .with_context(|| format!("the HTTPS issuer of cluster `{}`", issuer.cluster()))?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding an HTTPS issuer port")?;
        let endpoint = format!("https://{}", listener.local_addr()?);
        let mut stop = shutdown.subscribe();
        let app = mock_oidc::router(Arc::clone(issuers));
        let server = tokio::spawn(mock_oidc::tls::serve_https(
            listener,
            config,
            app,
            async move {
                let _ = stop.changed().await;
            },
        ));
        served.push(HttpsIssuer {
            cluster: issuer.cluster().to_owned(),
            endpoint,
            thumbprint: ca.thumbprint().to_owned(),
            ca_pem: ca.ca_pem().to_owned(),
            server,
        });
    }
    Ok(served)
}
