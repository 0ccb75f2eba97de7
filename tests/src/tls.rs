//! SDK configuration for the harness's TLS paths: an HTTP client that trusts only a stack's
//! local CA, reaching the HTTPS edge directly or `*.amazonaws.com` through the edge's HTTPS
//! proxy, and a pod's variables with the endpoint variables pointed elsewhere or removed.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use irsa_harness::stack::Stack;

/// An HTTPS client trusting only `stack`'s local CA, through its proxy when `proxy`.
pub fn http_client(stack: &Stack, proxy: bool) -> SharedHttpClient {
    let trust =
        TrustStore::empty().with_pem_certificate(stack.local_ca().certificate_pem().as_bytes());
    client(trust, proxy.then(|| stack.proxy_url()))
}

/// An HTTPS client with `trust`, through the HTTPS proxy at `proxy` when given.
pub fn client(trust: TrustStore, proxy: Option<String>) -> SharedHttpClient {
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("tls context");
    aws_smithy_http_client::Builder::new().build_with_connector_fn(move |settings, _| {
        let mut builder = aws_smithy_http_client::Connector::builder();
        if let Some(settings) = settings {
            builder = builder.connector_settings(settings.clone());
        }
        if let Some(proxy) = &proxy {
            builder = builder.proxy_config(ProxyConfig::https(proxy.as_str()).expect("proxy url"));
        }
        builder
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .tls_context(context.clone())
            .build()
    })
}

/// A pod's variables (`namespace/name`) with the endpoint variables set to `endpoint`, or
/// removed (`None`: the SDK then chooses AWS's host names itself).
pub fn pod_vars(
    stack: &Stack,
    (namespace, name): (&str, &str),
    endpoint: Option<&str>,
) -> Vec<(String, String)> {
    stack
        .pod_env(namespace, name)
        .expect("pod env")
        .into_iter()
        .filter_map(
            |(k, v)| match (k.starts_with("AWS_ENDPOINT_URL"), endpoint) {
                (false, _) => Some((k, v)),
                (true, Some(e)) => Some((k, e.to_owned())),
                (true, None) => None,
            },
        )
        .collect()
}
