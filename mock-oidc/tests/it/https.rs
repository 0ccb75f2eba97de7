//! A private-CA issuer over real TLS: a client trusting the generated CA fetches the discovery
//! document, the chain it receives ends in the CA whose thumbprint STS compares, and a client
//! that does not trust the CA is refused in the handshake.

use std::sync::Arc;

use mock_oidc::tls::{serve_https, thumbprint};
use mock_oidc::{Issuer, Issuers, PrivateCa, SigningKey, router};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const ISSUER: &str = "https://oidc.private.example/id/C1";

fn client_config(trusted: Option<&PrivateCa>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = trusted {
        roots.add(ca.ca_der().clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

#[tokio::test]
async fn the_discovery_document_is_served_over_https_with_the_ca_at_the_top_of_the_chain() {
    let ca = PrivateCa::generate("c1", ISSUER).unwrap();
    let config = ca.server_config().unwrap();
    let expected = ca.thumbprint().to_owned();
    let trusting = client_config(Some(&ca));
    let issuer = Issuer::new("c1", ISSUER, SigningKey::generate().unwrap()).with_private_ca(ca);
    let issuers = Arc::new(Issuers::new([issuer]));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_https(listener, config, router(issuers), async {
        let _ = stop_rx.await;
    }));

    // A client trusting the CA, naming the issuer's host (SNI and certificate name).
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(trusting);
    let name = ServerName::try_from("oidc.private.example").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    let served: Vec<String> = tls
        .get_ref()
        .1
        .peer_certificates()
        .unwrap()
        .iter()
        .map(|c| thumbprint(c))
        .collect();
    assert_eq!(served.len(), 2, "leaf then CA");
    assert_eq!(
        served.last(),
        Some(&expected),
        "the CA is the last certificate"
    );
    assert_ne!(served[0], expected);
    tls.write_all(
        b"GET /id/C1/.well-known/openid-configuration HTTP/1.1\r\nHost: oidc.private.example\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut response = String::new();
    tls.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(
        response.contains(r#""issuer":"https://oidc.private.example/id/C1""#),
        "{response}"
    );

    // The certificate also names 127.0.0.1, where the harness listens.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    connector.connect(name, tcp).await.unwrap();

    // A client with no trust in the private CA: the handshake fails.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let stranger = tokio_rustls::TlsConnector::from(client_config(None));
    let name = ServerName::try_from("oidc.private.example").unwrap();
    let err = stranger.connect(name, tcp).await.unwrap_err();
    assert!(
        err.to_string().contains("UnknownIssuer"),
        "expected an unknown-issuer failure, got {err}"
    );

    let _ = stop_tx.send(());
    server.await.unwrap();
}
