//! `irsa webhook`'s serving side: the AdmissionReview endpoint over plain HTTP, or over HTTPS
//! (`--tls`) with one leaf certificate from the state dir's local CA naming every address the
//! webhook is reached at; and `--print-config`, the `MutatingWebhookConfiguration` that makes a
//! cluster's API server call it ([`super::webhook_config`]). The answers are
//! [`crate::pod::inject::admission_review`]'s.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use hyper_util::rt::TokioIo;

use super::inject::InjectArgs;
use super::webhook_config::{self, Endpoint, MUTATE_PATH};
use crate::pod::inject::{ServiceAccounts, admission_router, parse_manifest};
use crate::stack::local_ca::{CaFiles, EDGE_HOST, LocalCa};

/// `irsa webhook`'s arguments beyond the mutation's ([`InjectArgs`]) and the port.
#[derive(Debug, Clone, clap::Args)]
pub struct WebhookArgs {
    /// Serve HTTPS with a certificate from the state dir's local CA (`DIR/ca/`, the one `irsa
    /// up` keeps), as an API server requires of a webhook.
    #[arg(long)]
    pub tls: bool,
    /// Another name or address the certificate is valid for (repeatable): the host address a
    /// kind or k3s API server reaches, `host.docker.internal`, ... (`localhost`, `127.0.0.1`,
    /// `::1` and a specific `--bind` address always are).
    #[arg(long = "tls-san", value_name = "NAME_OR_IP", requires = "tls")]
    pub tls_sans: Vec<String>,
    /// The address to listen on; an API server in a container needs one it can reach (the
    /// Docker bridge's host address, or `0.0.0.0`).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// The state dir whose local CA signs the certificate (created there if it has none yet).
    #[arg(long, default_value = ".irsa", env = "IRSA_STATE_DIR")]
    pub state_dir: PathBuf,
    /// Print the `MutatingWebhookConfiguration` registering this webhook (its `caBundle` the
    /// state dir's CA) and exit.
    #[arg(long)]
    pub print_config: bool,
    /// With `--print-config`: the `https://` URL the API server calls (default
    /// `https://<--bind>:<--port>/mutate`).
    #[arg(long, requires = "print_config", conflicts_with = "service")]
    pub url: Option<String>,
    /// Registered as `clientConfig.service` instead of a URL: `NAMESPACE/NAME[:PORT]`. When
    /// serving with `--tls`, the certificate also names `NAME.NAMESPACE.svc`, which the API
    /// server verifies.
    #[arg(long, value_name = "NAMESPACE/NAME[:PORT]")]
    pub service: Option<String>,
    /// With `--print-config`: only pods of this namespace (repeatable; default all).
    #[arg(long = "namespace", requires = "print_config")]
    pub namespaces: Vec<String>,
}

/// `irsa webhook`: print the configuration, or serve until Ctrl-C.
pub async fn run(inject: &InjectArgs, port: u16, args: &WebhookArgs) -> anyhow::Result<()> {
    let service = args.service.as_deref().map(Endpoint::service).transpose()?;
    if args.print_config {
        let endpoint = match (&args.url, service) {
            (Some(url), _) => Endpoint::url(url)?,
            (None, Some(service)) => service,
            (None, None) => Endpoint::url(&default_url(args.bind, port)?)?,
        };
        let ca = LocalCa::open(
            &CaFiles::new(&args.state_dir),
            false,
            time::OffsetDateTime::now_utc(),
        )?;
        print!("{}", print_config(&endpoint, &ca, &args.namespaces, port)?);
        return Ok(());
    }
    let (world, config) = inject.load()?;
    let mut accounts = world
        .as_ref()
        .map(ServiceAccounts::from_world)
        .unwrap_or_default();
    if inject.manifest.as_os_str() != "-" && inject.manifest.exists() {
        let text = std::fs::read_to_string(&inject.manifest)?;
        accounts.add_manifest_objects(&parse_manifest(&text)?);
    }
    let app = admission_router(accounts, config);
    let listener = tokio::net::TcpListener::bind((args.bind, port))
        .await
        .with_context(|| format!("binding {}", std::net::SocketAddr::new(args.bind, port)))?;
    let addr = listener.local_addr()?;
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if !args.tls {
        println!(
            "irsa: pod-identity webhook on http://{addr}{MUTATE_PATH} (POST an AdmissionReview)"
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await?;
        return Ok(());
    }
    let files = CaFiles::new(&args.state_dir);
    let ca = LocalCa::open(&files, false, time::OffsetDateTime::now_utc())?;
    let names = certificate_names(args.bind, service.as_ref(), &args.tls_sans);
    let tls = ca.single_leaf_server_config(ca.leaf_for_names(&names)?)?;
    println!(
        "irsa: pod-identity webhook on https://{addr}{MUTATE_PATH} (POST an AdmissionReview; certificate for {} from the CA {}, sha256 {})",
        names.join(", "),
        files.certificate().display(),
        ca.fingerprint()
    );
    serve_tls(listener, app, tls, stop).await;
    Ok(())
}

/// `https://<bind>:<port>/mutate`; an unspecified bind address (`0.0.0.0`, `::`) names no host
/// the API server could call.
pub fn default_url(bind: IpAddr, port: u16) -> anyhow::Result<String> {
    if bind.is_unspecified() {
        return Err(anyhow!(
            "--bind {bind} names no address to call: pass `--url https://HOST:{port}{MUTATE_PATH}` with the address the API server reaches"
        ));
    }
    Ok(match bind {
        IpAddr::V4(v4) => format!("https://{v4}:{port}{MUTATE_PATH}"),
        IpAddr::V6(v6) => format!("https://[{v6}]:{port}{MUTATE_PATH}"),
    })
}

/// The YAML `--print-config` prints: a comment saying how to serve it (on the URL's port, or
/// `port` for a Service), then the configuration.
pub fn print_config(
    endpoint: &Endpoint,
    ca: &LocalCa,
    namespaces: &[String],
    port: u16,
) -> anyhow::Result<String> {
    let configuration =
        webhook_config::webhook_configuration(endpoint, ca.certificate_pem(), namespaces);
    let yaml = webhook_config::render(&configuration).map_err(|e| anyhow!("{e}"))?;
    let host = endpoint.verified_host();
    let port = endpoint.url_port().unwrap_or(port);
    let serve = match endpoint {
        Endpoint::Service { .. } => format!(
            "irsa webhook --tls --service {} --port {port} ... (and a Service of that name whose Endpoints reach this host)",
            service_argument(endpoint)
        ),
        Endpoint::Url(_) if is_loopback_name(&host) => {
            format!("irsa webhook --tls --port {port} ...")
        }
        Endpoint::Url(_) => {
            format!(
                "irsa webhook --tls --bind <an address of this host> --tls-san {host} --port {port} ..."
            )
        }
    };
    Ok(format!(
        "# The pod-identity webhook of irsa-harness, its caBundle the local CA (sha256 {}).\n# Serve it with: {serve}\n{yaml}",
        ca.fingerprint()
    ))
}

fn service_argument(endpoint: &Endpoint) -> String {
    match endpoint {
        Endpoint::Service {
            namespace,
            name,
            port: Some(port),
        } => format!("{namespace}/{name}:{port}"),
        Endpoint::Service {
            namespace, name, ..
        } => format!("{namespace}/{name}"),
        Endpoint::Url(url) => url.clone(),
    }
}

fn is_loopback_name(host: &str) -> bool {
    host.eq_ignore_ascii_case(EDGE_HOST) || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The names and addresses the webhook's certificate carries: `localhost`, `127.0.0.1`, `::1`,
/// the bind address when it is a specific one, a `--service`'s names, then each `--tls-san`;
/// without repeats, in that order.
pub fn certificate_names(bind: IpAddr, service: Option<&Endpoint>, sans: &[String]) -> Vec<String> {
    let mut names: Vec<String> = vec![
        EDGE_HOST.to_owned(),
        Ipv4Addr::LOCALHOST.to_string(),
        Ipv6Addr::LOCALHOST.to_string(),
    ];
    if !bind.is_unspecified() {
        names.push(bind.to_string());
    }
    if let Some(Endpoint::Service {
        namespace, name, ..
    }) = service
    {
        names.push(format!("{name}.{namespace}.svc"));
        names.push(format!("{name}.{namespace}"));
        names.push(name.clone());
    }
    names.extend(sans.iter().map(|san| {
        // `--tls-san [fd00::1]` as an address, like the URL form.
        san.trim_start_matches('[').trim_end_matches(']').to_owned()
    }));
    let mut seen = std::collections::HashSet::new();
    names.retain(|name| seen.insert(name.to_ascii_lowercase()));
    names
}

/// Serve `app` over TLS on `listener` (HTTP/1.1 in each connection) until `stop` resolves; a
/// failed handshake closes that connection only.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Arc<rustls::ServerConfig>,
    stop: impl Future<Output = ()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    crate::stack::https_front::serve_connections(listener, stop, move |tcp, peer| {
        let (acceptor, app) = (acceptor.clone(), app.clone());
        async move {
            let stream = match acceptor.accept(tcp).await {
                Ok(stream) => stream,
                Err(e) => {
                    tracing::info!(%peer, error = %e, "TLS handshake on the webhook failed");
                    return;
                }
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_names_loopback_the_bind_address_the_service_and_each_san() {
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        assert_eq!(
            certificate_names(any, None, &[]),
            ["localhost", "127.0.0.1", "::1"]
        );
        let bridge: IpAddr = "172.17.0.1".parse().unwrap();
        let service = Endpoint::service("irsa/webhook:443").unwrap();
        assert_eq!(
            certificate_names(
                bridge,
                Some(&service),
                &[
                    "host.docker.internal".to_owned(),
                    "[fd00::1]".to_owned(),
                    "LOCALHOST".to_owned(),
                    "172.17.0.1".to_owned(),
                ]
            ),
            [
                "localhost",
                "127.0.0.1",
                "::1",
                "172.17.0.1",
                "webhook.irsa.svc",
                "webhook.irsa",
                "webhook",
                "host.docker.internal",
                "fd00::1",
            ]
        );
    }

    #[test]
    fn the_default_url_is_the_bind_address_and_port() {
        assert_eq!(
            default_url(IpAddr::V4(Ipv4Addr::LOCALHOST), 8443).unwrap(),
            "https://127.0.0.1:8443/mutate"
        );
        assert_eq!(
            default_url("fd00::1".parse().unwrap(), 9443).unwrap(),
            "https://[fd00::1]:9443/mutate"
        );
        let err = default_url(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 8443).unwrap_err();
        assert!(err.to_string().contains("--url"), "{err}");
    }

    #[test]
    fn the_printed_config_says_which_name_the_certificate_needs() {
        let (ca, _key) = LocalCa::generate(time::OffsetDateTime::now_utc()).unwrap();
        let remote = Endpoint::url("https://172.17.0.1:8443/mutate").unwrap();
        let text = print_config(&remote, &ca, &[], 9999).unwrap();
        assert!(text.contains("--tls-san 172.17.0.1 --port 8443 "), "{text}");
        assert!(text.contains(ca.fingerprint()), "{text}");
        let local = Endpoint::url("https://127.0.0.1:8443/mutate").unwrap();
        assert!(
            !print_config(&local, &ca, &[], 8443)
                .unwrap()
                .contains("--tls-san")
        );
        let service = Endpoint::service("irsa/webhook").unwrap();
        assert!(
            print_config(&service, &ca, &[], 8443)
                .unwrap()
                .contains("--service irsa/webhook ")
        );
    }
}
