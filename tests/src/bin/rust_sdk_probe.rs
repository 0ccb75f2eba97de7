//! The interop suite's Rust SDK probe (`tests/interop/README.md`): one `GetCallerIdentity`
//! through `aws_config`'s default chain, read from this process's own environment, printed as
//! one JSON step line like the other SDKs' programs. The suite runs it as a separate process for
//! the environment measurements, because what it measures is read from the process environment
//! and kept process-wide: the default HTTP client's proxy (`ProxyConfig::from_env()`) and its
//! trust roots (`rustls-native-certs`, which reads `SSL_CERT_FILE` once).
//!
//! The HTTP client is the SDK's default HTTPS client as `aws-smithy-runtime` builds it
//! (`client/http.rs`, `default_https_client`: rustls with aws-lc, the connector settings and
//! sleep of the runtime components, and for `BehaviorVersion::latest()` the proxy read from the
//! environment) with one change: a DNS resolver that resolves only this machine's names, so no
//! connection can leave it. A request for an AWS host name still reaches the harness through a
//! proxy on this machine (only the proxy's address is resolved); one the client would send
//! directly fails to resolve, and the probe says which host it refused.
//!
//! Usage: `rust_sdk_probe probe` (the mode, as for the other programs).

use aws_config::BehaviorVersion;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Resolves `localhost` to loopback and refuses every other name.
#[derive(Debug, Clone)]
struct LoopbackOnly;

impl ResolveDns for LoopbackOnly {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        if name == "localhost" {
            return DnsFuture::ready(Ok(vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]));
        }
        let detail = format!("irsa-harness interop: refused to resolve `{name}`: not this machine");
        println!(
            "{}",
            serde_json::json!({"event": "guard", "host": name, "detail": detail})
        );
        DnsFuture::ready(Err(ResolveDnsError::new(std::io::Error::other(detail))))
    }
}

/// The default HTTPS client of `aws-smithy-runtime`, with [`LoopbackOnly`] as its resolver.
fn guarded_default_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
        let mut builder = aws_smithy_http_client::Connector::builder()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder.set_proxy_config(Some(ProxyConfig::from_env()));
        builder.build_with_resolver(LoopbackOnly)
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let mut out = serde_json::json!({
        "event": "step",
        "sdk": "rust",
        "version": aws_sdk_sts::meta::PKG_VERSION,
        "step": mode,
    });
    if mode != "probe" {
        out["ok"] = false.into();
        out["detail"] = format!("unknown mode `{mode}`: only `probe`").into();
        println!("{out}");
        std::process::exit(2);
    }
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(guarded_default_client())
        .load()
        .await;
    let result = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await;
    match result {
        Ok(identity) => {
            out["ok"] = true.into();
            out["code"] = serde_json::Value::Null;
            out["detail"] = identity.arn().unwrap_or_default().into();
        }
        Err(e) => {
            use aws_sdk_sts::error::ProvideErrorMetadata as _;
            out["ok"] = false.into();
            out["code"] = e.code().map(str::to_owned).into();
            out["detail"] = format!("{}", aws_sdk_sts::error::DisplayErrorContext(&e)).into();
        }
    }
    println!("{out}");
}
