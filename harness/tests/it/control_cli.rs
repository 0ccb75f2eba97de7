//! `irsa token`, `irsa clock advance`, `irsa rotate-key` and `irsa issuer down|up` against a
//! running `irsa up`, found by `--state-dir`, as users run them.

use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use common::{IRSA, Up, repo};

fn scratch(name: &str) -> std::path::PathBuf {
    common::scratch("cli", name)
}

/// `irsa up` at TRACE for our crates, its log written to `log`.
fn irsa_up(state: &Path, log: &Path) -> Up {
    let log = std::fs::File::create(log).unwrap();
    common::irsa_up_with(&repo().join("scenarios/worlds/curity.yaml"), state, |c| {
        c.env(
            "RUST_LOG",
            "irsa_harness=trace,mock_oidc=trace,mock_sts=trace,gateway=trace",
        )
        .stderr(Stdio::from(log));
    })
}

/// Run `irsa ARGS --state-dir STATE`; stdout on success, panics with stderr otherwise.
fn irsa(state: &Path, args: &[&str]) -> String {
    let out = Command::new(IRSA)
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "irsa {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[test]
fn token_clock_and_rotate_key_drive_a_running_stack() {
    let state = scratch("control");
    let log = state.with_extension("log");
    let up = irsa_up(&state, &log);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(state.join("control.secret"))
            .expect("`irsa up` wrote control.secret")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the control secret is owner-only");
    }

    let token = irsa(&state, &["token", "--service-account", "curity/dynamo-sa"]);
    let token = token.trim_end();
    let peeked = irsa_core::token::peek(token).expect("a JWT");
    assert_eq!(
        peeked.claims.sub.as_deref(),
        Some("system:serviceaccount:curity:dynamo-sa")
    );
    let original_kid = peeked.header.kid.clone().expect("a kid");

    let custom = irsa(
        &state,
        &[
            "token",
            "--service-account",
            "curity/dynamo-sa",
            "--audience",
            "a1",
            "--audience",
            "a2",
            "--expires-in",
            "-5m",
            "--kid",
            "k-override",
            "--sub",
            "someone",
        ],
    );
    let custom = irsa_core::token::peek(custom.trim_end()).expect("a JWT");
    assert_eq!(custom.header.kid.as_deref(), Some("k-override"));
    assert_eq!(custom.claims.sub.as_deref(), Some("someone"));
    assert_eq!(
        custom.claims.aud.map(|a| a.values().join(",")),
        Some("a1,a2".to_owned())
    );
    let exp = custom.claims.exp.expect("exp");
    assert!(
        (exp - (unix_now() - 300)).abs() <= 5,
        "expired five minutes ago: {exp}"
    );

    let advanced = irsa(&state, &["clock", "advance", "90m"]);
    assert!(advanced.contains("(offset 5400s "), "{advanced}");
    let after = irsa(&state, &["token", "--service-account", "curity/dynamo-sa"]);
    let iat = irsa_core::token::peek(after.trim_end())
        .expect("a JWT")
        .claims
        .iat
        .expect("iat");
    assert!(
        (iat - (unix_now() + 5400)).abs() <= 5,
        "tokens are issued at the harness time"
    );

    let rotated = irsa(
        &state,
        &[
            "rotate-key",
            "--cluster",
            "curity-dynamo-irsa",
            "--drop-old",
        ],
    );
    let new_kid = rotated
        .lines()
        .find_map(|l| l.strip_prefix("active kid "))
        .expect("the new kid")
        .to_owned();
    assert_ne!(new_kid, original_kid);
    assert!(
        rotated.contains(&format!("published kids {new_kid}\n")),
        "{rotated}"
    );
    let signed_after = irsa(&state, &["token", "--service-account", "curity/dynamo-sa"]);
    assert_eq!(
        irsa_core::token::peek(signed_after.trim_end())
            .expect("a JWT")
            .header
            .kid,
        Some(new_kid)
    );

    // The issuer down: STS answers IDPCommunicationError; up again: the pod is let in.
    let arwwi = |token: &str| {
        let client = irsa_harness::runner::client::WireClient::new(&up.endpoint, None).unwrap();
        let token = token.to_owned();
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                client
                    .assume_role_with_web_identity(
                        "arn:aws:iam::111122223333:role/curity-dynamodb",
                        "issuer-down",
                        &token,
                    )
                    .await
            })
            .unwrap()
    };
    let fresh = irsa(&state, &["token", "--service-account", "curity/dynamo-sa"]);
    let down = irsa(
        &state,
        &["issuer", "down", "--cluster", "curity-dynamo-irsa"],
    );
    assert!(down.contains("is unreachable for STS"), "{down}");
    let refused = arwwi(fresh.trim_end()).expect_err("the issuer is down");
    assert_eq!(
        (refused.status, refused.code.as_str()),
        (400, "IDPCommunicationError")
    );
    irsa(&state, &["issuer", "up", "--cluster", "curity-dynamo-irsa"]);
    arwwi(fresh.trim_end()).expect("the issuer is back");

    let out = Command::new(IRSA)
        .args(["rotate-key", "--cluster", "nope", "--state-dir"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no cluster `nope`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The control secret is in `control.secret` only: not in the stack's log (at TRACE), nor in
    // any other file of the state dir.
    let secret = std::fs::read_to_string(state.join("control.secret")).unwrap();
    assert_eq!(secret.len(), 64, "32 random bytes, hex");
    drop(up);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("harness clock advanced"),
        "the log was captured: {logged}"
    );
    assert!(
        !logged.contains(&secret),
        "the control secret is in the log"
    );
    let mut dirs = vec![state.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if !path.ends_with("control.secret") {
                let content = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                assert!(
                    !content.contains(&secret),
                    "the control secret is in `{}`",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn control_commands_without_a_running_stack_say_how_to_start_one() {
    let state = scratch("control-none");
    let out = Command::new(IRSA)
        .args(["clock", "advance", "1h", "--state-dir"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("irsa up --world FILE --state-dir"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
