//! Support shared by the end-to-end suites in `tests/`: one DynamoDB Local per test binary, a
//! stack per test in front of it, and SDK configs built by `aws_config`'s default chain from a
//! pod's environment only.
//!
//! Each SDK config gets its environment through `aws_config`'s own `Env` (the variables
//! `irsa exec` would export), so tests running in parallel threads never share process
//! variables. `AWS_ENDPOINT_URL` points every other service at the harness too: an SDK call that
//! would otherwise go to `*.amazonaws.com` fails loudly against the harness instead.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_types::os_shim_internal::Env;
use irsa_harness::backend::dynamodb_local::{ProvisionOptions, provision};
use irsa_harness::stack::{Stack, StackConfig};

pub mod interop;
pub mod tls;

/// One DynamoDB Local for the whole test binary, kept alive on its own runtime thread.
pub fn backend_endpoint() -> &'static str {
    static BACKEND: OnceLock<Result<String, String>> = OnceLock::new();
    let result = BACKEND.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                match provision(&ProvisionOptions::default()).await {
                    Ok(backend) => {
                        let _ = tx.send(Ok(backend.endpoint().to_owned()));
                        // Keep the backend alive for the life of the test process.
                        std::future::pending::<()>().await;
                        drop(backend);
                    }
                    Err(e) => {
                        let _ = tx.send(Err(format!("{e:#}")));
                    }
                }
            });
        });
        rx.recv().unwrap_or_else(|e| Err(e.to_string()))
    });
    match result {
        Ok(endpoint) => endpoint,
        Err(e) => panic!("DynamoDB Local could not be started: {e}"),
    }
}

/// A world file of the bundled catalog, by file name (`curity.yaml`, `tenants.yaml`).
pub fn world_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/worlds")
        .join(file)
}

/// A fresh, empty-to-start scratch directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("irsa-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A stack on a bundled world, in front of the shared backend.
pub async fn start_stack(world_file: &str, name: &str) -> Stack {
    let world = irsa_harness::world_file::load(&world_path(world_file))
        .unwrap_or_else(|e| panic!("{world_file} loads: {e}"))
        .world;
    start_world_stack(world, name).await
}

/// A stack on `world`, in front of the shared backend.
pub async fn start_world_stack(world: irsa_core::World, name: &str) -> Stack {
    Stack::start(StackConfig {
        world,
        port: 0,
        state_dir: scratch_dir(name),
        dynamodb: ProvisionOptions {
            endpoint: Some(backend_endpoint().to_owned()),
            ..ProvisionOptions::default()
        },
        node_role: None,
    })
    .await
    .expect("stack starts")
}

/// `aws_config`'s default chain over exactly these variables, with no shared config or
/// credentials file (a pod has none).
pub fn pod_config_loader(
    state_dir: &Path,
    mut vars: Vec<(String, String)>,
) -> aws_config::ConfigLoader {
    let none = state_dir.join("no-such-aws-file");
    vars.push(("AWS_CONFIG_FILE".into(), none.display().to_string()));
    vars.push((
        "AWS_SHARED_CREDENTIALS_FILE".into(),
        none.display().to_string(),
    ));
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    aws_config::defaults(BehaviorVersion::latest()).env(Env::from_slice(&pairs))
}

/// The SDK config a pod of this service account gets from `aws_config`'s default chain.
pub async fn pod_sdk_config(stack: &Stack, namespace: &str, name: &str) -> aws_config::SdkConfig {
    let vars = stack.pod_env(namespace, name).expect("pod env");
    pod_config_loader(stack.state_dir(), vars).load().await
}

/// An STS client configuration for a stack's `endpoint` (region `eu-west-1`), without
/// credentials: callers add what their case needs (time source, credentials, retries).
pub fn sts_config(endpoint: impl Into<String>) -> aws_sdk_sts::config::Builder {
    aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("eu-west-1"))
        .endpoint_url(endpoint)
}

/// A client straight to the backend, bypassing the gateway, to check what it holds.
pub fn backend_client(region: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new(region.to_owned()))
        .endpoint_url(backend_endpoint())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "IRSAHARNESSLOCAL",
            "x",
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

pub fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}
