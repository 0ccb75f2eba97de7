//! The Docker path cannot run on every machine (no engine in CI here), so its files are checked
//! against the code they must agree with.

use irsa_harness::backend::dynamodb_local::docker::{DOCKER_IMAGE, DOCKER_TAG, container_cmd};
use serde_json::Value;

fn compose() -> Value {
    serde_saphyr::from_str(include_str!("../../../docker-compose.yml")).expect("compose is YAML")
}

#[test]
fn compose_runs_the_pinned_dynamodb_local_like_the_testcontainers_backend() {
    let compose = compose();
    let dynamodb = &compose["services"]["dynamodb"];
    assert_eq!(
        dynamodb["image"].as_str(),
        Some(format!("{DOCKER_IMAGE}:{DOCKER_TAG}").as_str())
    );
    let cmd: Vec<&str> = dynamodb["command"]
        .as_array()
        .expect("command list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(cmd, container_cmd());
}

#[test]
fn compose_points_the_harness_at_the_dynamodb_service() {
    let compose = compose();
    let irsa = &compose["services"]["irsa"];
    let args: Vec<&str> = irsa["command"]
        .as_array()
        .expect("command list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let endpoint = args
        .iter()
        .position(|a| *a == "--dynamodb-endpoint")
        .and_then(|i| args.get(i + 1))
        .expect("--dynamodb-endpoint");
    assert_eq!(*endpoint, "http://dynamodb:8000");
    assert_eq!(args.first(), Some(&"up"));
    // The world it names is one the image carries (scenarios/ is copied to /scenarios).
    let world = args
        .iter()
        .position(|a| *a == "--world")
        .and_then(|i| args.get(i + 1))
        .expect("--world");
    let local = world.replacen("/scenarios", "../scenarios", 1);
    assert!(
        std::path::Path::new(&local).exists(),
        "{world} is not in scenarios/"
    );
}

#[test]
fn dockerfile_builds_with_the_workspace_toolchain() {
    let dockerfile = include_str!("../../../Dockerfile");
    let workspace = include_str!("../../../Cargo.toml");
    let rust_version = workspace
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"'))
        .expect("rust-version");
    assert!(
        dockerfile.contains(&format!("FROM rust:{rust_version}-")),
        "the Dockerfile's builder must use Rust {rust_version}"
    );
    assert!(dockerfile.contains("--bin irsa"));
}
