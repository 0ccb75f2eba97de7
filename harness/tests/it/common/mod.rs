//! What the CLI tests share: the `irsa` binary, scratch folders, and `irsa up` in the
//! background. Each test binary uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

pub const IRSA: &str = env!("CARGO_BIN_EXE_irsa");

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh folder `irsa-<suite>-<name>-<pid>` in the temp dir.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("irsa-{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `irsa up` in the background; killed on drop.
pub struct Up {
    pub child: Child,
    pub state: PathBuf,
    /// The edge endpoint it printed.
    pub endpoint: String,
    /// Its stdout lines after the ready line.
    pub lines: Receiver<String>,
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `irsa up --port 0 --world WORLD --state-dir STATE`, with stderr inherited, once it is ready.
pub fn irsa_up(world: &Path, state: &Path) -> Up {
    irsa_up_with(world, state, |c| {
        c.stderr(Stdio::inherit());
    })
}

/// [`irsa_up`] with the command adjusted first (environment, stderr).
pub fn irsa_up_with(world: &Path, state: &Path, adjust: impl FnOnce(&mut Command)) -> Up {
    let mut command = Command::new(IRSA);
    command
        .args(["up", "--port", "0", "--world"])
        .arg(world)
        .arg("--state-dir")
        .arg(state)
        .stdout(Stdio::piped());
    adjust(&mut command);
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut up = Up {
        child,
        state: state.to_owned(),
        endpoint: String::new(),
        lines: rx,
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let line = up
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("`irsa up` printed its ready line in time");
        if let Some(e) = line.strip_prefix("irsa: endpoint ") {
            e.clone_into(&mut up.endpoint);
        }
        if line.starts_with("irsa: ready") {
            return up;
        }
    }
}

/// `irsa exec --state-dir STATE --service-account curity/dynamo-sa -- AWS ARGS…`, with `HOME`
/// set (the AWS CLI v1 caches web-identity credentials under `~/.aws/cli/cache`).
pub fn pod_aws(up: &Up, home: &Path, aws: &Path, args: &[&str]) -> std::process::Output {
    Command::new(IRSA)
        .arg("exec")
        .arg("--state-dir")
        .arg(&up.state)
        .args(["--service-account", "curity/dynamo-sa", "--"])
        .arg(aws)
        .args(args)
        .env("HOME", home)
        .output()
        .unwrap()
}
