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

/// `KEY: value` pairs of a compose `environment:` map, in file order.
fn environment(service: &Value) -> Vec<(String, String)> {
    service["environment"]
        .as_object()
        .expect("environment map")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_owned()))
        .collect()
}

/// The Dockerfile's `IRSA_STATE_DIR`: where `irsa up` keeps its state in the image.
fn image_state_dir() -> String {
    let dockerfile = include_str!("../../../Dockerfile");
    dockerfile
        .split_whitespace()
        .find_map(|word| word.strip_prefix("IRSA_STATE_DIR="))
        .expect("ENV IRSA_STATE_DIR")
        .to_owned()
}

/// The Curity recipe: the real image, in the harness's network namespace (the edge listens on
/// loopback), after the stack is healthy, with the state volume read-only at the same path, and
/// an environment equal to the one `irsa up` writes to `curity/dynamo-sa`'s env file in that
/// container (`Stack::write_state`: the webhook's variables and endpoints from
/// `pod::env::pod_env`, then `tls_env::tls_env` for the edge port and the state dir's CA), which
/// is what `irsa env --format docker` prints there.
#[test]
fn compose_runs_curity_with_the_pod_environment_the_harness_writes() {
    use irsa_harness::stack::local_ca::CaFiles;
    use irsa_harness::stack::tls_env;

    let compose = compose();
    let irsa = &compose["services"]["irsa"];
    let idsvr = &compose["services"]["idsvr"];
    let image = idsvr["image"].as_str().expect("image");
    assert!(
        image.starts_with("curity.azurecr.io/curity/idsvr:"),
        "{image}"
    );
    assert_eq!(idsvr["profiles"], serde_json::json!(["curity"]));
    assert_eq!(idsvr["network_mode"], "service:irsa");
    assert_eq!(
        idsvr["depends_on"]["irsa"]["condition"], "service_healthy",
        "Curity reads the token and trust store at start"
    );
    let check: Vec<&str> = irsa["healthcheck"]["test"]
        .as_array()
        .expect("healthcheck")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        check,
        [
            "CMD",
            "irsa",
            "env",
            "--service-account",
            "curity/dynamo-sa"
        ]
    );

    let state = image_state_dir();
    let irsa_volumes: Vec<&str> = irsa["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        irsa_volumes.contains(&format!("irsa-state:{state}").as_str()),
        "{irsa_volumes:?}"
    );
    assert_eq!(
        idsvr["volumes"],
        serde_json::json!([format!("irsa-state:{state}:ro")])
    );

    let port: u16 = irsa["environment"]["IRSA_PORT"]
        .as_str()
        .expect("IRSA_PORT")
        .parse()
        .expect("a port");
    let args: Vec<&str> = irsa["command"]
        .as_array()
        .expect("command list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!args.contains(&"--port"), "IRSA_PORT is the port");
    assert!(
        !args.contains(&"--state-dir"),
        "IRSA_STATE_DIR is the state"
    );
    let world = args
        .iter()
        .position(|a| *a == "--world")
        .and_then(|i| args.get(i + 1))
        .expect("--world")
        .replacen("/scenarios", "../scenarios", 1);
    let world_file = irsa_harness::world_file::load(std::path::Path::new(&world)).expect("world");
    assert!(
        world_file.node_role.is_none(),
        "with a node role the env file also names instance metadata"
    );
    let sa = world_file
        .world
        .service_account("curity", "dynamo-sa")
        .expect("curity/dynamo-sa in the world");
    let state = std::path::Path::new(&state);
    let mut expected = irsa_harness::pod::env::pod_env(
        &world_file.world,
        sa,
        &irsa_harness::pod::env::token_path(state, "curity", "dynamo-sa"),
        &format!("http://127.0.0.1:{port}"),
    );
    expected.extend(tls_env::tls_env(port, &CaFiles::new(state)));
    assert_eq!(environment(idsvr), expected);
    // The JVM's part, spelled out: the proxy on the edge, the trust store in the mounted state.
    let java = &expected
        .iter()
        .find(|(k, _)| k == "JAVA_TOOL_OPTIONS")
        .expect("JAVA_TOOL_OPTIONS")
        .1;
    assert!(java.contains("-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=4599"));
    assert!(java.contains("-Djavax.net.ssl.trustStore=/state/ca/truststore.p12"));
}
