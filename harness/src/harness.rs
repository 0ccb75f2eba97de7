//! The library door: a running stack for a test, and SDK configs for its pods.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let harness = irsa_harness::Harness::builder()
//!     .world("tests/world.yaml")
//!     .start()
//!     .await?;
//! let dynamodb = harness.dynamodb("curity", "dynamo-sa").await?;
//! # let _ = dynamodb; Ok(()) }
//! ```
//!
//! A pod's [`SdkConfig`] comes from aws-config's real default credential chain given only the
//! variables the pod-identity webhook injects (and the harness endpoints), through
//! `ConfigLoader::env`. That setter sits behind aws-config's `test-util` feature, and it is the
//! one way to get that chain without the test process's own environment: every non-test route
//! (`WebIdentityTokenCredentialsProvider::builder().static_configuration(..)`, a
//! `ProfileFileCredentialsProvider` over a written profile) builds its inner STS client from the
//! *process* environment and `~/.aws/config`, so a developer's `AWS_ACCESS_KEY_ID`, `AWS_PROFILE`
//! or `AWS_ENDPOINT_URL_STS` would take part, and without one the `AssumeRoleWithWebIdentity`
//! call would go to the real `sts.<region>.amazonaws.com`. Owns no policy or wire logic; it only
//! assembles [`Stack`] and the SDKs.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use aws_config::BehaviorVersion;
use aws_types::SdkConfig;
use aws_types::os_shim_internal::Env;
use irsa_core::World;

use crate::backend::dynamodb_local::ProvisionOptions;
use crate::stack::clock::HarnessClock;
use scenarios::world_file::NodeRole;

use crate::stack::imds::ImdsServer;
use crate::stack::{Stack, StackConfig};

/// Where the world comes from: a world file (YAML) or a [`World`] built in code.
#[derive(Debug, Clone)]
pub enum WorldSource {
    File(PathBuf),
    World(Box<World>),
}

impl From<&str> for WorldSource {
    fn from(path: &str) -> Self {
        WorldSource::File(PathBuf::from(path))
    }
}

impl From<&Path> for WorldSource {
    fn from(path: &Path) -> Self {
        WorldSource::File(path.to_owned())
    }
}

impl From<PathBuf> for WorldSource {
    fn from(path: PathBuf) -> Self {
        WorldSource::File(path)
    }
}

impl From<World> for WorldSource {
    fn from(world: World) -> Self {
        WorldSource::World(Box::new(world))
    }
}

/// Builds a [`Harness`]. Only the world is required.
#[derive(Debug, Clone, Default)]
pub struct HarnessBuilder {
    world: Option<WorldSource>,
    state_dir: Option<PathBuf>,
    dynamodb: ProvisionOptions,
    node_role: Option<NodeRole>,
}

impl HarnessBuilder {
    /// The world: a path to a world file, or a [`World`].
    pub fn world(mut self, world: impl Into<WorldSource>) -> Self {
        self.world = Some(world.into());
        self
    }

    /// Keep state (tokens, env files, `audit.jsonl`) here instead of a fresh temporary directory
    /// that is removed on drop.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Use this running DynamoDB-compatible endpoint instead of starting DynamoDB Local.
    /// Harnesses sharing one endpoint share its tables.
    pub fn dynamodb_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.dynamodb.endpoint = Some(endpoint.into());
        self
    }

    /// How DynamoDB Local is provided (jar, Docker, download), as the CLI's backend flags.
    pub fn dynamodb(mut self, options: ProvisionOptions) -> Self {
        self.dynamodb = options;
        self
    }

    /// Serve this node role on instance metadata (instead of, or without, the world file's
    /// `node_role:`).
    pub fn node_role(mut self, node: NodeRole) -> Self {
        self.node_role = Some(node);
        self
    }

    /// Load the world, start issuers, STS, the gateway and a backend on a free port.
    pub async fn start(mut self) -> anyhow::Result<Harness> {
        let world = match self.world {
            None => {
                return Err(anyhow!(
                    "no world given: call `.world(\"path/to/world.yaml\")` on the builder"
                ));
            }
            Some(WorldSource::File(path)) => {
                let loaded = crate::world_file::load(&path).map_err(|e| anyhow!("{e}"))?;
                if self.node_role.is_none() {
                    self.node_role = loaded.node_role;
                }
                loaded.world
            }
            Some(WorldSource::World(world)) => *world,
        };
        let (state_dir, owned) = match self.state_dir {
            Some(dir) => (dir, false),
            None => (
                std::env::temp_dir().join(format!(
                    "irsa-harness-{}-{}",
                    std::process::id(),
                    uuid::Uuid::new_v4().simple()
                )),
                true,
            ),
        };
        let stack = Stack::start(StackConfig {
            world,
            port: 0,
            state_dir: state_dir.clone(),
            dynamodb: self.dynamodb,
            node_role: self.node_role,
        })
        .await
        .context("starting the harness")?;
        Ok(Harness {
            stack: Some(stack),
            state_dir,
            owned_state_dir: owned,
        })
    }
}

/// A running stack for one test. Dropping it stops the server, the token refresher and the
/// backend it started, and removes its temporary state directory.
#[derive(Debug)]
pub struct Harness {
    stack: Option<Stack>,
    state_dir: PathBuf,
    owned_state_dir: bool,
}

impl Harness {
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder::default()
    }

    fn running(&self) -> &Stack {
        // Only `Drop`/`shutdown` take the stack, and both consume or end `self`.
        match &self.stack {
            Some(stack) => stack,
            None => unreachable!("the stack lives as long as the harness"),
        }
    }

    /// The stack underneath (issuers, sessions, world).
    pub fn stack(&self) -> &Stack {
        self.running()
    }

    /// The edge endpoint: STS, DynamoDB and the cluster issuers.
    pub fn endpoint(&self) -> &str {
        self.running().endpoint()
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    pub fn world(&self) -> &World {
        self.running().world()
    }

    /// The harness clock: advance it to expire tokens and sessions.
    pub fn clock(&self) -> &HarnessClock {
        self.running().clock()
    }

    /// The exact environment a pod of this service account runs with (its token file written).
    /// With a node role, the pod also reaches instance metadata as a pod does (one hop further
    /// than the node) instead of having it disabled: a pod without IRSA then falls back to the
    /// node role, as on EKS.
    pub fn pod_env(&self, namespace: &str, name: &str) -> anyhow::Result<Vec<(String, String)>> {
        self.running().pod_env(namespace, name)
    }

    /// The environment of a pod of this service account that reaches its role through an AWS
    /// config profile (as `irsa exec --profile`): the files are written in the state dir.
    pub fn profile_env(
        &self,
        namespace: &str,
        name: &str,
        profile: &str,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let env = self.pod_env(namespace, name)?;
        let dir = self.state_dir.join("profiles").join(namespace).join(name);
        crate::pod::profile::write_profile(&dir, profile, &env)
    }

    /// The instance metadata service, when the world declares `node_role:`.
    pub fn imds(&self) -> Option<&ImdsServer> {
        self.running().imds()
    }

    /// The environment of a process on the node itself (host network): no web identity, the
    /// region, the harness endpoints, and instance metadata at one hop.
    pub fn node_env(&self) -> anyhow::Result<Vec<(String, String)>> {
        let imds = self.imds().ok_or_else(|| {
            anyhow!("the world has no `node_role:`; add one to serve instance metadata")
        })?;
        let region = self.world().region.clone();
        let mut env = vec![
            ("AWS_DEFAULT_REGION".to_owned(), region.clone()),
            ("AWS_REGION".to_owned(), region),
        ];
        env.extend(
            crate::pod::env::harness_env(self.endpoint())
                .into_iter()
                .filter(|(k, _)| k != "AWS_EC2_METADATA_DISABLED"),
        );
        env.push((
            "AWS_EC2_METADATA_SERVICE_ENDPOINT".to_owned(),
            imds.node_endpoint().to_owned(),
        ));
        Ok(env)
    }

    /// The SDK config of a process on the node: the default chain ends at instance metadata.
    pub async fn node(&self) -> anyhow::Result<SdkConfig> {
        Ok(config_from_env(&self.state_dir, self.node_env()?)
            .load()
            .await)
    }

    /// The SDK config a pod of this service account gets from aws-config's default chain, given
    /// only its environment: credentials come from `AssumeRoleWithWebIdentity` on its projected
    /// token, refreshed by the SDK as in a real pod.
    pub async fn pod(&self, namespace: &str, name: &str) -> anyhow::Result<SdkConfig> {
        let vars = self.pod_env(namespace, name)?;
        Ok(config_from_env(&self.state_dir, vars).load().await)
    }

    /// A DynamoDB client of that pod.
    pub async fn dynamodb(
        &self,
        namespace: &str,
        name: &str,
    ) -> anyhow::Result<aws_sdk_dynamodb::Client> {
        Ok(aws_sdk_dynamodb::Client::new(
            &self.pod(namespace, name).await?,
        ))
    }

    /// An STS client of that pod.
    pub async fn sts(&self, namespace: &str, name: &str) -> anyhow::Result<aws_sdk_sts::Client> {
        Ok(aws_sdk_sts::Client::new(&self.pod(namespace, name).await?))
    }

    /// The audit records so far (CloudTrail-shaped, one per STS or DynamoDB call), oldest first.
    pub fn audit(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        crate::stack::audit::read(&self.state_dir)
    }

    /// Stop everything and wait until the backend is gone.
    pub async fn shutdown(mut self) {
        if let Some(stack) = self.stack.take() {
            stack.shutdown().await;
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        drop(self.stack.take());
        if self.owned_state_dir {
            let _ = std::fs::remove_dir_all(&self.state_dir);
        }
    }
}

/// aws-config's default chain over exactly these variables, with no shared config or
/// credentials file (a pod has none): nothing of the calling process takes part.
pub fn config_from_env(
    state_dir: &Path,
    mut vars: Vec<(String, String)>,
) -> aws_config::ConfigLoader {
    let none = state_dir.join("no-such-aws-file");
    for name in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        if !vars.iter().any(|(k, _)| k == name) {
            vars.push((name.to_owned(), none.display().to_string()));
        }
    }
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    aws_config::defaults(BehaviorVersion::latest()).env(Env::from_slice(&pairs))
}
