//! `irsa doctor` on this machine: one line per check, hints under what is missing, and an exit
//! code that agrees with the report.

use std::process::Command;

#[test]
fn doctor_reports_every_check_and_exits_by_the_backend_verdict() {
    let out = Command::new(env!("CARGO_BIN_EXE_irsa"))
        .arg("doctor")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for name in [
        "java",
        "dynamodb-local cache",
        "docker",
        "port",
        "python venv",
        "kubectl",
        "dynamodb backend",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.get(7..).is_some_and(|rest| rest.starts_with(name))),
            "no `{name}` line in:\n{stdout}"
        );
    }
    let failed = stdout.contains("[FAIL]");
    assert_eq!(
        out.status.code(),
        Some(if failed { 1 } else { 0 }),
        "{stdout}"
    );
    // Every warning or failure says what to try.
    let lines: Vec<&str> = stdout.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("[warn]") || line.starts_with("[FAIL]") {
            assert!(
                lines.get(i + 1).is_some_and(|next| next.contains("try: ")),
                "no hint after `{line}`"
            );
        }
    }
    // This machine has Java 17 and kubectl (the suites need them): the doctor must see them.
    if std::path::Path::new("/usr/bin/kubectl").exists() {
        assert!(stdout.contains("[ok  ] kubectl"), "{stdout}");
    }
}
