//! Starting DynamoDB Local's jar under a JVM: a free loopback port, a scratch directory per
//! start (swept once its owning harness process is gone), readiness, and a retry on another
//! port when the chosen one was taken in the meantime.

use std::path::Path;
use std::time::Duration;

use super::jar::{self, JarError, JarLayout};
use super::ready::{self, ReadyError};
use super::{Backend, DynamoDbLocal, JarProcess, PORT_RACE_RETRIES, READY_TIMEOUT, RouteFailure};

pub(super) async fn start_jar(layout: JarLayout) -> Result<DynamoDbLocal, RouteFailure> {
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
pub(super) fn scratch_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(SCRATCH_PREFIX)?;
    let (pid, uuid) = rest.split_once('-')?;
    (uuid.len() == 32).then_some(())?;
    pid.parse().ok()
}

pub(super) fn is_port_taken(output: &str) -> bool {
    output.contains("BindException") || output.contains("Address already in use")
}

/// A loopback port that was free a moment ago.
fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}
