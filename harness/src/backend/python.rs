//! Pinned Python AWS clients (boto3 and the AWS CLI v1) in a cached virtualenv, for the
//! scenarios that drive the stack the way pods do.
//!
//! This module owns the venv under `cache_dir()/python-<hash>` (the hash covers the pins and the
//! base interpreter). It must not touch the network once the venv is complete: a second call
//! only runs the interpreter to read its version and checks a marker file.
//!
//! A venv embeds its own absolute path (in `pyvenv.cfg` and script shebangs), so it cannot be
//! staged elsewhere and renamed into place like the jar; instead it is built in place under the
//! install lock and committed by a marker file written last. A directory without the marker is
//! half-built and is rebuilt.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::backend::cache::{self, CacheError};

/// The exact packages installed: the versions probed in `wire-contracts.md` §0 and their
/// dependencies as pip resolved them (checked compatible), so every machine gets the same set.
pub const PINS: &[&str] = &[
    "awscli==1.46.3",
    "boto3==1.44.8",
    "botocore==1.44.8",
    "s3transfer==0.19.3",
    "jmespath==1.1.0",
    "python-dateutil==2.9.0.post0",
    "six==1.17.0",
    "urllib3==2.8.0",
    "colorama==0.4.6",
    "docutils==0.19",
    "PyYAML==6.0.4",
    "rsa==4.7.2",
    "pyasn1==0.6.5",
];

/// The marker file that commits a complete venv.
const MARKER: &str = "complete";

/// The pinned Python tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonTools {
    /// The venv's `python`, which imports the pinned `boto3`.
    pub python: PathBuf,
    /// The venv's `aws` (AWS CLI v1).
    pub aws: PathBuf,
}

/// Why the Python tools are unavailable.
#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    /// No `python3` on `PATH`.
    #[error("no `python3` on `PATH`")]
    NoPython,
    /// A command (`python3 -m venv`, `pip install`) failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    ToolFailed {
        /// The command, shortened.
        command: String,
        /// How it ended.
        status: String,
        /// The end of its stderr.
        stderr: String,
    },
    /// The install finished but a tool is missing.
    #[error("`{}` is missing after the install", .0.display())]
    Missing(PathBuf),
    /// The cache is unusable.
    #[error("cache unusable")]
    Cache(#[from] CacheError),
    /// Running a process or touching a file failed.
    #[error("cannot {action}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
}

fn io(action: &'static str) -> impl FnOnce(std::io::Error) -> PythonError {
    move |source| PythonError::Io { action, source }
}

/// Returns the pinned tools, creating the venv at first use (under the install lock, so
/// concurrent processes install once). Later calls do no network I/O.
pub async fn ensure_python_tools() -> Result<PythonTools, PythonError> {
    tokio::task::spawn_blocking(ensure_python_tools_blocking)
        .await
        .map_err(|e| io("run the install task")(std::io::Error::other(e.to_string())))?
}

/// The blocking body of [`ensure_python_tools`].
pub fn ensure_python_tools_blocking() -> Result<PythonTools, PythonError> {
    let python3 = crate::backend::dynamodb_local::jar::find_on_path("python3")
        .ok_or(PythonError::NoPython)?;
    let interpreter = interpreter_identity(&python3)?;
    let name = entry_name(PINS, &interpreter);
    let cache_dir = cache::cache_dir()?;
    let dir = cache_dir.join(&name);
    if dir.join(MARKER).is_file() {
        return tools_in(&dir);
    }
    cache::with_install_lock(&cache_dir, &name, || {
        if dir.join(MARKER).is_file() {
            return tools_in(&dir);
        }
        install(&python3, &dir)?;
        tools_in(&dir)
    })
}

/// The cached venv if it is complete, without installing anything (for `irsa doctor`).
pub fn cached_python_tools() -> Result<Option<PythonTools>, PythonError> {
    let python3 = crate::backend::dynamodb_local::jar::find_on_path("python3")
        .ok_or(PythonError::NoPython)?;
    let name = entry_name(PINS, &interpreter_identity(&python3)?);
    let dir = cache::cache_dir()?.join(name);
    if dir.join(MARKER).is_file() {
        return tools_in(&dir).map(Some);
    }
    Ok(None)
}

fn install(python3: &Path, dir: &Path) -> Result<(), PythonError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io("remove a half-built venv"))?;
    }
    std::fs::create_dir_all(dir).map_err(io("create the venv directory"))?;
    let venv = dir.join("venv");
    tracing::info!(venv = %venv.display(), pins = ?PINS, "installing the python aws tools");
    run(
        std::process::Command::new(python3)
            .args(["-m", "venv"])
            .arg(&venv),
        "python3 -m venv",
    )?;
    run(
        std::process::Command::new(venv.join("bin").join("python"))
            .args(pip_install_args())
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"),
        "pip install",
    )?;
    let marker_tmp = dir.join(format!("{MARKER}.tmp"));
    std::fs::write(&marker_tmp, PINS.join("\n") + "\n").map_err(io("write the marker"))?;
    std::fs::rename(&marker_tmp, dir.join(MARKER)).map_err(io("commit the marker"))?;
    Ok(())
}

/// The arguments after the venv's `python`.
pub fn pip_install_args() -> Vec<&'static str> {
    let mut args = vec![
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-input",
        "--disable-pip-version-check",
    ];
    args.extend_from_slice(PINS);
    args
}

fn tools_in(dir: &Path) -> Result<PythonTools, PythonError> {
    let bin = dir.join("venv").join("bin");
    let tools = PythonTools {
        python: bin.join("python"),
        aws: bin.join("aws"),
    };
    for tool in [&tools.python, &tools.aws] {
        if !tool.exists() {
            return Err(PythonError::Missing(tool.clone()));
        }
    }
    Ok(tools)
}

/// What identifies the base interpreter: its version and installation prefix.
fn interpreter_identity(python3: &Path) -> Result<String, PythonError> {
    let output = std::process::Command::new(python3)
        .args([
            "-c",
            "import sys; print(sys.version); print(sys.base_prefix)",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(io("run `python3`"))?;
    if !output.status.success() {
        return Err(tool_failed("python3 -c 'import sys'", &output));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The cache entry name: `python-` and a hash of the pins and the interpreter's identity.
pub fn entry_name(pins: &[&str], interpreter: &str) -> String {
    let mut text = pins.join("\n");
    text.push('\0');
    text.push_str(interpreter);
    format!("python-{:016x}", fnv1a64(text.as_bytes()))
}

/// FNV-1a, 64 bit: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn run(command: &mut std::process::Command, name: &str) -> Result<(), PythonError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(io("run a command"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(tool_failed(name, &output))
    }
}

fn tool_failed(name: &str, output: &std::process::Output) -> PythonError {
    PythonError::ToolFailed {
        command: name.to_owned(),
        status: output.status.to_string(),
        stderr: crate::backend::dynamodb_local::jar::tail(
            &String::from_utf8_lossy(&output.stderr),
            5,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn entry_name_changes_with_pins_and_interpreter() {
        let a = entry_name(&["boto3==1"], "3.11.7\n/usr");
        assert!(a.starts_with("python-") && a.len() == "python-".len() + 16);
        assert_ne!(a, entry_name(&["boto3==2"], "3.11.7\n/usr"));
        assert_ne!(a, entry_name(&["boto3==1"], "3.12.0\n/usr"));
        assert_eq!(a, entry_name(&["boto3==1"], "3.11.7\n/usr"));
    }

    #[test]
    fn pins_are_exact_and_name_the_probed_client_versions() {
        assert!(PINS.iter().all(|p| p.contains("==")));
        for probed in ["awscli==1.46.3", "boto3==1.44.8", "botocore==1.44.8"] {
            assert!(PINS.contains(&probed), "{probed}");
        }
        let args = pip_install_args();
        assert_eq!(&args[..3], ["-m", "pip", "install"]);
        assert!(args.ends_with(PINS));
    }

    /// Uses the real user cache so the install happens once per machine.
    #[tokio::test]
    async fn installs_pinned_boto3_and_aws_cli_once_then_reuses_them() {
        let first = ensure_python_tools().await.unwrap();
        let started = Instant::now();
        let second = ensure_python_tools().await.unwrap();
        let second_took = started.elapsed();
        assert_eq!(first, second);
        assert!(
            second_took.as_secs() < 5,
            "second call took {second_took:?}"
        );

        let versions = tokio::process::Command::new(&first.python)
            .args([
                "-c",
                "import boto3, botocore; print(boto3.__version__, botocore.__version__)",
            ])
            .output()
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&versions.stdout).trim(),
            "1.44.8 1.44.8"
        );

        let aws = tokio::process::Command::new(&first.aws)
            .arg("--version")
            .output()
            .await
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&aws.stdout),
            String::from_utf8_lossy(&aws.stderr)
        );
        assert!(aws.status.success(), "{text}");
        assert!(text.starts_with("aws-cli/1.46.3 "), "{text}");
    }
}
