//! An issuer served over HTTPS with a private CA, as a self-managed cluster's issuer is: the
//! case where AWS checks an IAM OIDC provider's thumbprints ("If your OIDC IdP relies on a
//! certificate that is not signed by one of these trusted CAs, only then we secure communication
//! using the thumbprints set in the IdP's configuration", IAM API reference).
//!
//! [`PrivateCa::generate`] makes a self-signed CA and a server certificate for the issuer's host
//! (plus `localhost` and `127.0.0.1`, where the harness listens). The server sends both, leaf
//! first, so the last certificate of `openssl s_client -showcerts` (what AWS's "Obtain the
//! thumbprint for an OpenID Connect identity provider" procedure fingerprints) is the CA, and
//! [`PrivateCa::thumbprint`] is its SHA-1 in lower-case hex, the value STS compares.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use axum::Router;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha1::{Digest as _, Sha1};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("generating the issuer's certificates: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the issuer URL `{0}` has no host")]
    NoHost(String),
    #[error("configuring TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// A cluster issuer's private CA and the server certificate it signed. The private key of the
/// server certificate stays in memory; only the CA certificate (public) is ever written out.
pub struct PrivateCa {
    ca: CertificateDer<'static>,
    ca_pem: String,
    leaf: CertificateDer<'static>,
    leaf_key: Vec<u8>,
    thumbprint: String,
}

impl std::fmt::Debug for PrivateCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateCa")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl PrivateCa {
    /// A new CA named after `cluster`, and a server certificate for `issuer_url`'s host.
    pub fn generate(cluster: &str, issuer_url: &str) -> Result<Self, TlsError> {
        let host = issuer_host(issuer_url).ok_or_else(|| TlsError::NoHost(issuer_url.into()))?;

        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.distinguished_name.push(
            DnType::CommonName,
            format!("irsa-harness private CA for cluster {cluster}"),
        );
        ca_params
            .distinguished_name
            .push(DnType::OrganizationName, "irsa-harness");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let ca_issuer = Issuer::new(ca_params, ca_key);

        let mut leaf_params = CertificateParams::new(vec![host.to_owned(), "localhost".into()])?;
        leaf_params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, host);
        leaf_params.is_ca = IsCa::ExplicitNoCa;
        leaf_params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate()?;
        let leaf = leaf_params.signed_by(&leaf_key, &ca_issuer)?;

        Ok(Self {
            thumbprint: thumbprint(ca_cert.der()),
            ca_pem: ca_cert.pem(),
            ca: ca_cert.der().clone(),
            leaf: leaf.der().clone(),
            leaf_key: leaf_key.serialize_der(),
        })
    }

    /// SHA-1 of the CA certificate (the top of the chain served), lower-case hex: the
    /// thumbprint an IAM OIDC provider must list.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The CA certificate, PEM: what a client (`curl --cacert`) trusts.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate, DER.
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca
    }

    /// The chain the server sends: its own certificate, then the CA.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        vec![self.leaf.clone(), self.ca.clone()]
    }

    /// A TLS server configuration presenting [`Self::chain`]. The crypto provider is named
    /// explicitly so the process-wide default (which several providers in one build make
    /// ambiguous) does not matter.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.leaf_key.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(self.chain(), key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// An IAM thumbprint: the SHA-1 of a certificate's DER, 40 lower-case hex characters.
pub fn thumbprint(der: &[u8]) -> String {
    hex::encode(Sha1::digest(der))
}

/// `https://host[:port]/path` → `host`.
fn issuer_host(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    (!host.is_empty()).then_some(host)
}

/// Serve `app` over HTTPS on `listener` until `stop` resolves. A failed handshake drops that
/// connection only.
pub async fn serve_https(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    stop: impl Future<Output = ()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => return,
        };
        let Ok((tcp, _peer)) = accepted else {
            continue;
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_taken_from_the_issuer_url() {
        assert_eq!(
            issuer_host("https://oidc.example.internal/id/1"),
            Some("oidc.example.internal")
        );
        assert_eq!(issuer_host("https://h:8443"), Some("h"));
        assert_eq!(issuer_host("http://h"), None);
        assert_eq!(issuer_host("https:///x"), None);
    }

    #[test]
    fn the_thumbprint_is_the_sha1_of_the_ca_certificate() {
        let ca = PrivateCa::generate("c1", "https://oidc.example.internal/id/1").unwrap();
        assert_eq!(ca.thumbprint().len(), 40);
        assert!(
            ca.thumbprint()
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(ca.thumbprint(), thumbprint(ca.ca_der()));
        let chain = ca.chain();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain.last(), Some(ca.ca_der()));
        assert!(ca.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        // Each generation is a new CA: a provider registered for one does not trust the next.
        let other = PrivateCa::generate("c1", "https://oidc.example.internal/id/1").unwrap();
        assert_ne!(ca.thumbprint(), other.thumbprint());
        // The known-answer: SHA-1 of the empty input.
        assert_eq!(thumbprint(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn debug_never_shows_key_material() {
        let ca = PrivateCa::generate("c1", "https://oidc.example.internal/id/1").unwrap();
        let shown = format!("{ca:?}");
        assert!(shown.contains(ca.thumbprint()));
        assert!(!shown.contains("leaf_key"));
    }
}
