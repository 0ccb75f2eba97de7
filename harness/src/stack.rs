//! A running harness: cluster issuers, STS, the DynamoDB gateway and its backend on one edge
//! port, the world's tables created, and pods' token files kept fresh as the kubelet does.
//!
//! The folder holds the parts a running stack is made of: the edge router, the control server,
//! each cluster's Kubernetes API slice, instance metadata (IMDS), the harness clock and the
//! audit trail on disk.

pub mod audit;
pub mod clock;
pub mod control;
pub mod edge;
pub mod imds;
pub mod issuers;
pub mod kube_api;
mod tables;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use irsa_core::clock::Clock;
use irsa_core::{MemorySessionStore, SessionStore, World, WorldStore};
use mock_oidc::{Issuers, Rotation};
use tokio::sync::watch;

use scenarios::world_file::NodeRole;

use crate::backend::dynamodb_local::{self, DynamoDbLocal, ProvisionOptions};
use crate::stack::clock::HarnessClock;
use crate::stack::edge::{EdgeState, router};

use crate::pod::env::{
    pod_env, pod_env_path, token_path, write_admin_env, write_env_file, write_token,
};
use crate::stack::imds::ImdsServer;
use crate::stack::issuers::{
    HttpsIssuer, generate_issuers, retrieve_thumbprints, serve_private_ca_issuers,
};
use crate::stack::tables::create_tables;
use crate::stack::tokens::{mint_for, mint_with, rotate, spawn_token_refresher};

pub mod aws_hosts;
pub mod https_front;
pub mod local_ca;
pub mod tls_env;

/// Token lifetime when neither pod nor service account says otherwise (the webhook's default).
pub const DEFAULT_TOKEN_SECONDS: i64 = 86_400;

#[derive(Debug, Clone)]
pub struct StackConfig {
    pub world: World,
    /// 0 picks a free port.
    pub port: u16,
    pub state_dir: PathBuf,
    pub dynamodb: ProvisionOptions,
    /// The worker node's instance-profile role, served on instance metadata (IMDSv2); pods then
    /// reach it one hop further than the node, and a pod without IRSA falls back to it.
    pub node_role: Option<NodeRole>,
}

/// A started stack. Dropping it stops the server and the backend it started.
#[derive(Debug)]
pub struct Stack {
    endpoint: String,
    state_dir: PathBuf,
    /// The world as it is now (the IAM API changes it); clusters and service accounts are fixed.
    world_store: Arc<WorldStore>,
    /// The world as loaded: clusters and service accounts never change at run time.
    world: Arc<World>,
    issuers: Arc<Issuers>,
    sessions: Arc<MemorySessionStore>,
    clock: Arc<HarnessClock>,
    backend: Option<DynamoDbLocal>,
    shutdown: watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
    refresher: Option<tokio::task::JoinHandle<()>>,
    control: Option<tokio::task::JoinHandle<()>>,
    kube_api: Vec<tokio::task::JoinHandle<()>>,
    /// Issuers with a private CA, each on its own HTTPS port.
    https_issuers: Vec<HttpsIssuer>,
    /// Instance metadata, when the world has a node role.
    imds: Option<ImdsServer>,
    /// The state dir's local CA: HTTPS on the edge and in the proxy's tunnels.
    ca: Arc<local_ca::LocalCa>,
    port: u16,
}

impl Stack {
    pub async fn start(config: StackConfig) -> anyhow::Result<Self> {
        let world = Arc::new(config.world);
        let issuers = generate_issuers(Arc::clone(&world)).await?;
        let issuers = Arc::new(issuers);
        let backend = dynamodb_local::provision(&config.dynamodb)
            .await
            .context("starting a DynamoDB backend")?;
        let upstream =
            gateway::forward::Upstream::new(backend.endpoint()).map_err(|e| anyhow!("{e}"))?;
        let sessions = Arc::new(MemorySessionStore::new());
        let clock = Arc::new(HarnessClock::new());
        let world_store = {
            let mut stamped = World::clone(&world);
            stamped.stamp_create_dates(clock.now());
            retrieve_thumbprints(&mut stamped, &issuers);
            Arc::new(WorldStore::new(stamped))
        };
        let resource_policies = Arc::new(gateway::resource_policy::ResourcePolicies::new());
        create_tables(&upstream, &world, &resource_policies, clock.now()).await?;
        let audit: Arc<dyn irsa_core::audit::AuditSink> =
            Arc::new(crate::stack::audit::FileAuditSink::open(&config.state_dir)?);

        let state = EdgeState {
            sts: mock_sts::StsState {
                world: Arc::clone(&world_store),
                keys: issuers.clone() as Arc<dyn irsa_core::token::JwksSource>,
                sessions: sessions.clone() as Arc<dyn SessionStore>,
                clock: clock.clone() as Arc<dyn Clock>,
                audit: Some(Arc::clone(&audit)),
            },
            gateway: gateway::handler::GatewayState {
                world: Arc::clone(&world_store),
                sessions: sessions.clone() as Arc<dyn SessionStore>,
                clock: clock.clone() as Arc<dyn Clock>,
                upstream,
                key_schemas: Arc::new(gateway::key_schema::KeySchemaCache::new()),
                resource_policies,
                audit: Some(audit),
            },
            issuers: Arc::clone(&issuers),
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", config.port))?;
        let addr = listener.local_addr()?;
        let endpoint = format!("http://{addr}");
        let (shutdown, mut stop) = watch::channel(false);
        let ca = Arc::new(local_ca::LocalCa::open(
            &local_ca::CaFiles::new(&config.state_dir),
            false,
            time::OffsetDateTime::now_utc(),
        )?);
        let front = https_front::front(&world, router(state), &ca)?;
        let server = tokio::spawn(https_front::serve(listener, front, async move {
            let _ = stop.changed().await;
        }));

        let https_issuers = serve_private_ca_issuers(&issuers, &shutdown).await?;
        let imds = match config.node_role {
            Some(node) => Some(
                ImdsServer::start(
                    Arc::clone(&world),
                    sessions.clone() as Arc<dyn SessionStore>,
                    clock.clone() as Arc<dyn Clock>,
                    node,
                )
                .await?,
            ),
            None => None,
        };

        let mut stack = Self {
            endpoint,
            https_issuers,
            ca,
            port: addr.port(),
            state_dir: config.state_dir,
            world_store,
            world,
            issuers,
            sessions,
            clock,
            backend: Some(backend),
            shutdown,
            server: Some(server),
            refresher: None,
            control: None,
            kube_api: Vec::new(),
            imds,
        };
        stack.write_state()?;
        stack.refresher = Some(spawn_token_refresher(
            Arc::clone(&stack.world),
            Arc::clone(&stack.issuers),
            Arc::clone(&stack.clock),
            stack.state_dir.clone(),
            stack.shutdown.subscribe(),
        ));
        stack.control = Some(
            crate::stack::control::serve(
                crate::stack::control::Handles {
                    world: Arc::clone(&stack.world),
                    issuers: Arc::clone(&stack.issuers),
                    clock: Arc::clone(&stack.clock),
                },
                &stack.state_dir,
                stack.shutdown.subscribe(),
            )
            .await?,
        );
        stack.kube_api = crate::stack::kube_api::serve(
            &stack.world,
            &stack.issuers,
            stack.clock.clone() as Arc<dyn Clock>,
            &stack.state_dir,
            &stack.shutdown,
        )
        .await?;
        Ok(stack)
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The world as loaded (clusters, service accounts, tables).
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The live IAM state: roles, providers, policies and users as the IAM API left them.
    pub fn world_store(&self) -> &Arc<WorldStore> {
        &self.world_store
    }

    pub fn clock(&self) -> &HarnessClock {
        &self.clock
    }

    /// `DIR/kubeconfig`: a context per cluster's Kubernetes API (TokenRequest), for `kubectl`
    /// and kube-rs.
    pub fn kubeconfig(&self) -> PathBuf {
        crate::stack::kube_api::kubeconfig_path(&self.state_dir)
    }

    /// The harness clock itself, e.g. to give an SDK a time source that follows it.
    pub fn shared_clock(&self) -> Arc<HarnessClock> {
        Arc::clone(&self.clock)
    }

    pub fn issuers(&self) -> &Issuers {
        &self.issuers
    }

    pub fn sessions(&self) -> &MemorySessionStore {
        &self.sessions
    }

    /// The session store STS writes and the gateway reads, shared (for the metadata service).
    pub fn session_store(&self) -> Arc<dyn SessionStore> {
        self.sessions.clone() as Arc<dyn SessionStore>
    }

    pub fn backend_endpoint(&self) -> Option<&str> {
        self.backend.as_ref().map(DynamoDbLocal::endpoint)
    }

    /// A fresh projected token for a service account of the world, as the kubelet would mint it.
    pub fn mint_token(&self, namespace: &str, name: &str) -> anyhow::Result<String> {
        let sa = self
            .world
            .service_account(namespace, name)
            .ok_or_else(|| anyhow!("no service account `{namespace}/{name}` in the world"))?;
        mint_for(&self.issuers, sa, self.clock.now())
    }

    /// A token for a service account of the world with deliberate departures from what the
    /// kubelet would mint (audience, expiry, `nbf`, `iss`, `kid`, `sub`, a foreign key), to
    /// reproduce STS failures. A foreign key is generated on first use (blocking, ~1 s).
    pub fn mint_token_with(
        &self,
        namespace: &str,
        name: &str,
        overrides: &scenarios::TokenOverrides,
    ) -> anyhow::Result<String> {
        mint_with(
            &self.world,
            &self.issuers,
            namespace,
            name,
            overrides,
            self.clock.now(),
        )
    }

    /// Give a cluster's issuer a new signing key. `keep_old`: the keys published so far stay in
    /// the JWKS; otherwise tokens signed before the rotation fail STS with "Couldn't retrieve
    /// verification key …". Pods' token files are not rewritten (the kubelet only refreshes
    /// them at 80% of their lifetime).
    pub async fn rotate_key(&self, cluster: &str, keep_old: bool) -> anyhow::Result<Rotation> {
        rotate(&self.issuers, cluster, keep_old).await
    }

    /// Take a cluster's issuer down for STS (`false`) or bring it back (`true`): while down, STS
    /// answers `IDPCommunicationError` for its tokens.
    pub fn set_issuer_reachable(&self, cluster: &str, reachable: bool) -> anyhow::Result<()> {
        let issuer = self
            .issuers
            .by_cluster(cluster)
            .ok_or_else(|| anyhow!("no cluster `{cluster}` in the world"))?;
        issuer.set_reachable(reachable);
        Ok(())
    }

    /// Move the harness clock (token and session expiry, `aws:CurrentTime`) by `seconds`.
    pub fn advance_clock(&self, seconds: i64) {
        self.clock.advance(seconds);
    }

    /// The environment the pod-identity webhook gives a pod of this service account, pointed at
    /// this stack, with its token file written. With a node role, the pod also reaches instance
    /// metadata as a pod does (one hop further than the node) instead of having it disabled: a
    /// pod without IRSA then falls back to the node role, as on EKS.
    pub fn pod_env(&self, namespace: &str, name: &str) -> anyhow::Result<Vec<(String, String)>> {
        let sa = self
            .world
            .service_account(namespace, name)
            .ok_or_else(|| anyhow!("no service account `{namespace}/{name}` in the world"))?;
        let token_file = token_path(&self.state_dir, namespace, name);
        write_token(&token_file, &mint_for(&self.issuers, sa, self.clock.now())?)?;
        Ok(self.reaching_imds(pod_env(&self.world, sa, &token_file, &self.endpoint)))
    }

    /// Instance metadata serving the world's node role, if it has one.
    pub fn imds(&self) -> Option<&ImdsServer> {
        self.imds.as_ref()
    }

    /// A pod's environment with instance metadata reachable, when the stack serves it.
    fn reaching_imds(&self, env: Vec<(String, String)>) -> Vec<(String, String)> {
        match &self.imds {
            Some(imds) => crate::stack::imds::with_pod_imds(env, imds),
            None => env,
        }
    }

    /// The edge over HTTPS (`https://127.0.0.1:<port>`, the local CA's `localhost` leaf, also
    /// valid for the address): for clients given an endpoint and the CA.
    pub fn https_endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The HTTPS proxy (`CONNECT`) on the edge: `http://127.0.0.1:<port>`.
    pub fn proxy_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The state dir's local CA.
    pub fn local_ca(&self) -> &local_ca::LocalCa {
        &self.ca
    }

    /// Where the local CA's certificate, key and trust store are.
    pub fn ca_files(&self) -> local_ca::CaFiles {
        local_ca::CaFiles::new(&self.state_dir)
    }

    /// [`Stack::pod_env`] plus the proxy and CA variables of [`tls_env::tls_env`]: what `irsa
    /// up` writes to a pod's env file, so SDKs that ignore `AWS_ENDPOINT_URL*` reach the harness
    /// through the proxy.
    pub fn pod_env_with_proxy(
        &self,
        namespace: &str,
        name: &str,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let mut env = self.pod_env(namespace, name)?;
        env.extend(tls_env::tls_env(self.port, &self.ca_files()));
        Ok(env)
    }

    /// The issuers served over HTTPS with a private CA (clusters with `issuer_ca: private`).
    pub fn https_issuers(&self) -> &[HttpsIssuer] {
        &self.https_issuers
    }

    /// `DIR/issuers/<cluster>/ca.pem`: the private CA a client trusts to reach that issuer.
    pub fn issuer_ca_file(&self, cluster: &str) -> PathBuf {
        self.state_dir.join("issuers").join(cluster).join("ca.pem")
    }

    fn write_state(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.state_dir)
            .with_context(|| format!("creating state dir `{}`", self.state_dir.display()))?;
        let now = self.clock.now();
        // Every annotated account gets its token and env file; with instance metadata, so do the
        // accounts without the annotation, whose pods then fall back to the node role.
        for sa in &self.world.service_accounts {
            let annotated = sa.role_arn().is_some();
            if !annotated && self.imds.is_none() {
                continue;
            }
            let token_file = token_path(&self.state_dir, &sa.namespace, &sa.name);
            if annotated {
                write_token(&token_file, &mint_for(&self.issuers, sa, now)?)?;
            }
            let mut env = self.reaching_imds(pod_env(&self.world, sa, &token_file, &self.endpoint));
            env.extend(tls_env::tls_env(self.port, &self.ca_files()));
            write_env_file(
                &pod_env_path(&self.state_dir, &sa.namespace, &sa.name),
                &env,
            )?;
        }
        write_admin_env(&self.state_dir, &self.world, &self.endpoint)?;
        let mut https = serde_json::Map::new();
        for served in &self.https_issuers {
            let ca_file = self.issuer_ca_file(&served.cluster);
            if let Some(parent) = ca_file.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&ca_file, &served.ca_pem)
                .with_context(|| format!("writing `{}`", ca_file.display()))?;
            https.insert(
                served.cluster.clone(),
                serde_json::json!({
                    "endpoint": served.endpoint,
                    "ca_file": ca_file,
                    "thumbprint": served.thumbprint,
                }),
            );
        }
        let info = serde_json::json!({
            "endpoint": self.endpoint,
            "pid": std::process::id(),
            "dynamodb_backend": self.backend_endpoint(),
            "https_issuers": https,
            "https_endpoint": self.https_endpoint(),
            "https_proxy": self.proxy_url(),
            "ca_file": self.ca_files().certificate(),
            "ca_sha256": self.ca.fingerprint(),
        });
        std::fs::write(self.state_dir.join("stack.json"), format!("{info:#}\n"))?;
        Ok(())
    }

    /// Stop serving, stop the backend, remove `stack.json`.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        drop(self.imds.take());
        let _ = self.shutdown.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(refresher) = self.refresher.take() {
            let _ = refresher.await;
        }
        if let Some(control) = self.control.take() {
            let _ = control.await;
        }
        for server in self.kube_api.drain(..) {
            let _ = server.await;
        }
        for issuer in self.https_issuers.drain(..) {
            let _ = issuer.server.await;
        }
        if let Some(backend) = self.backend.take() {
            backend.shutdown().await;
        }
        let _ = std::fs::remove_file(self.state_dir.join("stack.json"));
        let _ = std::fs::remove_file(self.state_dir.join(crate::stack::control::CONTROL_FILE));
        let _ = std::fs::remove_file(self.state_dir.join(crate::stack::control::SECRET_FILE));
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        drop(self.imds.take());
        let _ = self.shutdown.send(true);
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some(refresher) = self.refresher.take() {
            refresher.abort();
        }
        if let Some(control) = self.control.take() {
            control.abort();
        }
        for server in self.kube_api.drain(..) {
            server.abort();
        }
        for issuer in self.https_issuers.drain(..) {
            issuer.server.abort();
        }
        // The backend's own Drop kills its process.
        let _ = std::fs::remove_file(self.state_dir.join("stack.json"));
        let _ = std::fs::remove_file(self.state_dir.join(crate::stack::control::CONTROL_FILE));
        let _ = std::fs::remove_file(self.state_dir.join(crate::stack::control::SECRET_FILE));
    }
}
