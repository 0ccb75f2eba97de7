//! Every crate's integration tests are compiled: with `autotests = false`, a test file dropped
//! directly into a crate's `tests/` would silently never run, so each such file must be a
//! `[[test]]` target's `path` (modules of `tests/it/` are compiled through `tests/it/main.rs`).

use std::path::PathBuf;

#[test]
fn no_test_file_is_left_outside_a_test_target() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifest = std::fs::read_to_string(workspace.join("Cargo.toml")).expect("workspace");
    let members = manifest
        .split("members = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("workspace members");
    let mut orphans = Vec::new();
    for member in members.split(',').map(|m| m.trim().trim_matches('"')) {
        if member.is_empty() {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(workspace.join(member).join("tests")) else {
            continue;
        };
        let cargo = std::fs::read_to_string(workspace.join(member).join("Cargo.toml"))
            .expect("member manifest");
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".rs") && !cargo.contains(&format!("path = \"tests/{name}\"")) {
                orphans.push(format!("{member}/tests/{name}"));
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "test files no [[test]] target compiles (move them under tests/it/ and add a `mod`): \
         {orphans:?}"
    );
}
