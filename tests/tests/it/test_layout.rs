//! The workspace's layout rules, checked:
//! * every crate's integration tests are compiled: with `autotests = false`, a test file dropped
//!   directly into a crate's `tests/` would silently never run, so each such file must be a
//!   `[[test]]` target's `path` (modules of `tests/it/` are compiled through `tests/it/main.rs`);
//! * no source file under a crate's `src/` grows past [`MAX_SOURCE_LINES`] (one room per job:
//!   a file that large holds more than one; unit tests go to a `<module>/tests.rs` of their own).

use std::path::{Path, PathBuf};

/// The house limit is about 600 lines; this leaves room for a small addition before a split.
const MAX_SOURCE_LINES: usize = 650;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The workspace's member folders, as the root manifest lists them.
fn members() -> Vec<String> {
    let manifest = std::fs::read_to_string(workspace().join("Cargo.toml")).expect("workspace");
    let members = manifest
        .split("members = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("workspace members");
    members
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

#[test]
fn no_source_file_is_over_the_size_limit() {
    fn walk(dir: &Path, over: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, over);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let lines = std::fs::read_to_string(&path).map_or(0, |t| t.lines().count());
                if lines > MAX_SOURCE_LINES {
                    over.push(format!("{} ({lines} lines)", path.display()));
                }
            }
        }
    }
    let mut over = Vec::new();
    for member in members() {
        walk(&workspace().join(member).join("src"), &mut over);
    }
    assert!(
        over.is_empty(),
        "source files over {MAX_SOURCE_LINES} lines (split them along their jobs): {over:?}"
    );
}

#[test]
fn no_test_file_is_left_outside_a_test_target() {
    let workspace = workspace();
    let mut orphans = Vec::new();
    for member in members() {
        let Ok(entries) = std::fs::read_dir(workspace.join(&member).join("tests")) else {
            continue;
        };
        let cargo = std::fs::read_to_string(workspace.join(&member).join("Cargo.toml"))
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
