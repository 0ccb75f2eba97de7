//! The edge port's connection layer: one listener for plain HTTP, HTTPS and the HTTPS proxy.
//!
//! Each accepted connection's first byte decides: `0x16` (a TLS handshake record, RFC 8446
//! §5.1) is HTTPS, terminated with the local CA's leaf for the client's SNI (the edge's own
//! `localhost`/`127.0.0.1` leaf without one); anything else is plain HTTP/1.1. On a plain
//! connection, `CONNECT host:443` for an emulated AWS host ([`super::aws_hosts`]) is answered
//! `200` and the tunnel's TLS is terminated here with that host's leaf: the inner requests go to
//! the same router, after AWS's check that the signature is scoped to the host's region and
//! service. Any other `CONNECT` is refused with `403` and a body naming what the harness
//! emulates. Nothing is ever forwarded: the harness opens no outbound connection.
//!
//! Every request carries, as extensions, the peer address (`ConnectInfo`) and the
//! [`Transport`] it came over, which becomes `aws:SecureTransport`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse as _, Response};
use http::{HeaderValue, Method, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use irsa_core::transport::Transport;
use tower::ServiceExt as _;

use super::aws_hosts::{self, AwsEndpoint, Service};

/// The first byte of a TLS handshake record (`ContentType.handshake`).
const TLS_HANDSHAKE: u8 = 0x16;

/// What the connection layer serves.
#[derive(Debug, Clone)]
pub struct Front {
    pub app: Router,
    pub tls: Arc<rustls::ServerConfig>,
    /// The world's cluster issuer hosts the proxy tunnels to (their discovery and JWKS).
    pub issuer_hosts: Arc<Vec<String>>,
}

/// The front of a stack: `app` behind the local CA's TLS, the proxy admitting the world's
/// AWS hosts and the hosts of its public-CA cluster issuers (a private-CA issuer keeps its own
/// HTTPS port and CA, whose thumbprint IAM checks).
pub fn front(
    world: &irsa_core::World,
    app: Router,
    ca: &Arc<super::local_ca::LocalCa>,
) -> anyhow::Result<Arc<Front>> {
    let issuer_hosts: Arc<Vec<String>> = Arc::new(
        world
            .clusters
            .iter()
            .filter(|c| c.issuer_ca != irsa_core::world::IssuerCa::Private)
            .filter_map(|c| {
                let rest = c.issuer.strip_prefix("https://")?;
                let authority = rest.split(['/', '?', '#']).next()?;
                let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
                Some(host.to_ascii_lowercase())
            })
            .collect(),
    );
    let accepted = Arc::clone(&issuer_hosts);
    let tls = ca.server_config(Arc::new(move |name: &str| {
        let name = name.to_ascii_lowercase();
        name == super::local_ca::EDGE_HOST || aws_hosts::classify_host(&name, &accepted).is_ok()
    }))?;
    Ok(Arc::new(Front {
        app,
        tls,
        issuer_hosts,
    }))
}

/// What a connection's requests share.
#[derive(Debug, Clone)]
struct Connection {
    peer: SocketAddr,
    transport: Transport,
    /// The `CONNECT` target this connection is the tunnel of.
    tunnel: Option<AwsEndpoint>,
}

/// Serve `listener` until `stop` resolves; open connections are then dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    front: Arc<Front>,
    stop: impl Future<Output = ()>,
) {
    serve_connections(listener, stop, move |tcp, peer| {
        let _ = tcp.set_nodelay(true);
        accept(Arc::clone(&front), tcp, peer)
    })
    .await;
}

/// Accept on `listener` until `stop` resolves, each connection served by its own task made by
/// `connection`; at `stop` the open connections are dropped. The accept loop of the edge and
/// of the webhook's HTTPS port.
pub(crate) async fn serve_connections<F, C>(
    listener: tokio::net::TcpListener,
    stop: impl Future<Output = ()>,
    connection: F,
) where
    F: Fn(tokio::net::TcpStream, SocketAddr) -> C,
    C: Future<Output = ()> + Send + 'static,
{
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            () = &mut stop => break,
        };
        let Ok((tcp, peer)) = accepted else {
            continue;
        };
        connections.spawn(connection(tcp, peer));
    }
    connections.abort_all();
}

async fn accept(front: Arc<Front>, tcp: tokio::net::TcpStream, peer: SocketAddr) {
    let mut first = [0u8; 1];
    if !matches!(tcp.peek(&mut first).await, Ok(1)) {
        return;
    }
    if first[0] == TLS_HANDSHAKE {
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&front.tls));
        let tls = match acceptor.accept(tcp).await {
            Ok(tls) => tls,
            Err(e) => {
                tracing::info!(%peer, error = %e, "TLS handshake on the edge failed");
                return;
            }
        };
        let connection = Connection {
            peer,
            transport: Transport::Tls,
            tunnel: None,
        };
        serve_http(front, TokioIo::new(tls), connection).await;
    } else {
        let connection = Connection {
            peer,
            transport: Transport::Plain,
            tunnel: None,
        };
        serve_http(front, TokioIo::new(tcp), connection).await;
    }
}

type Boxed = Pin<Box<dyn Future<Output = ()> + Send>>;

fn serve_http<I>(front: Arc<Front>, io: I, connection: Connection) -> Boxed
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    Box::pin(async move {
        let service = hyper::service::service_fn(move |request| {
            handle(Arc::clone(&front), connection.clone(), request)
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(io, service)
            .with_upgrades()
            .await;
    })
}

async fn handle(
    front: Arc<Front>,
    connection: Connection,
    mut request: http::Request<Incoming>,
) -> Result<Response, Infallible> {
    if request.method() == Method::CONNECT {
        return Ok(connect(front, &connection, request));
    }
    if let Some(endpoint) = &connection.tunnel
        && let Some(refused) = scope_refusal(endpoint, request.headers())
    {
        return Ok(refused);
    }
    request
        .extensions_mut()
        .insert(ConnectInfo(connection.peer));
    request.extensions_mut().insert(connection.transport);
    let app = front.app.clone();
    Ok(app
        .oneshot(request.map(Body::new))
        .await
        .unwrap_or_else(|never| match never {}))
}

/// Answer a `CONNECT`: refuse it, or accept it and terminate the tunnel's TLS.
fn connect(
    front: Arc<Front>,
    connection: &Connection,
    request: http::Request<Incoming>,
) -> Response {
    let authority = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    if connection.tunnel.is_some() {
        return text(
            StatusCode::BAD_REQUEST,
            format!("irsa-harness proxy: refused CONNECT `{authority}` inside a tunnel\n"),
        );
    }
    let endpoint = match aws_hosts::classify_connect(&authority, &front.issuer_hosts) {
        Ok(endpoint) => endpoint,
        Err(refusal) => {
            tracing::warn!(authority, peer = %connection.peer, "refused a CONNECT: {refusal}");
            return text(StatusCode::FORBIDDEN, refusal.to_string());
        }
    };
    tracing::debug!(host = endpoint.host, "CONNECT accepted");
    let peer = connection.peer;
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(request).await {
            Ok(upgraded) => upgraded,
            Err(e) => {
                tracing::info!(host = endpoint.host, error = %e, "CONNECT tunnel not opened");
                return;
            }
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&front.tls));
        let tls = match acceptor.accept(TokioIo::new(upgraded)).await {
            Ok(tls) => tls,
            Err(e) => {
                tracing::info!(host = endpoint.host, error = %e, "TLS handshake in a CONNECT tunnel failed (does the client trust the harness CA?)");
                return;
            }
        };
        if let Some(sni) = tls.get_ref().1.server_name()
            && !sni.eq_ignore_ascii_case(&endpoint.host)
        {
            tracing::warn!(
                host = endpoint.host,
                sni,
                "TLS server name differs from the CONNECT host; tunnel closed"
            );
            return;
        }
        let connection = Connection {
            peer,
            transport: Transport::Tls,
            tunnel: Some(endpoint),
        };
        serve_http(front, TokioIo::new(tls), connection).await;
    });
    Response::new(Body::empty())
}

fn text(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// AWS's answer when a signed request's credential scope names another region or service than
/// the host it was sent to (see [`aws_hosts::scope_disagreement`]), in the service's own error
/// shape: DynamoDB `InvalidSignatureException` (400), STS and IAM `SignatureDoesNotMatch`
/// (403), EKS `InvalidSignatureException` (403, the code `mock_sts::eks` uses for a bad
/// signature).
fn scope_refusal(endpoint: &AwsEndpoint, headers: &http::HeaderMap) -> Option<Response> {
    let (region, service) = aws_hosts::credential_scope(headers)?;
    let message = aws_hosts::scope_disagreement(endpoint, region, service)?.to_string();
    tracing::info!(host = endpoint.host, region, service, "{message}");
    let request_id = uuid::Uuid::new_v4().to_string();
    Some(match endpoint.service {
        Service::DynamoDb | Service::DynamoDbStreams => gateway::error::DdbErrorResponse {
            error: gateway::error::DdbError::InvalidSignature(message),
            request_id: gateway::error::new_request_id(),
        }
        .into_response(),
        Service::Sts => mock_sts::error::StsErrorResponse {
            error: mock_sts::StsError::SignatureDoesNotMatch { message },
            request_id,
        }
        .into_response(),
        Service::Iam => mock_sts::error::IamErrorResponse {
            error: mock_sts::error::IamError::Signed(mock_sts::StsError::SignatureDoesNotMatch {
                message,
            }),
            request_id,
        }
        .into_response(),
        Service::Eks | Service::Issuer => {
            let body = serde_json::json!({ "message": message }).to_string();
            let mut response = (StatusCode::FORBIDDEN, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(
                "x-amzn-ErrorType",
                HeaderValue::from_static("InvalidSignatureException"),
            );
            with_request_id(response, &request_id)
        }
    })
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-RequestId", id);
    }
    response
}
