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
pub mod kube_api;
mod tables;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use irsa_core::clock::Clock;
use irsa_core::world::IssuerCa;
use irsa_core::world::ServiceAccount;
use irsa_core::{MemorySessionStore, SessionStore, World, WorldStore};
use mock_oidc::{Issuer, Issuers, PrivateCa, Rotation, SigningKey};
use tokio::sync::watch;

use scenarios::world_file::NodeRole;

use crate::backend::dynamodb_local::{self, DynamoDbLocal, ProvisionOptions};
use crate::stack::clock::HarnessClock;
use crate::stack::edge::{EdgeState, router};

use crate::stack::imds::ImdsServer;
use crate::stack::tables::create_tables;
use crate::stack::tokens::{mint_for, token_seconds};
use crate::stack::tokens::{mint_with, rotate};

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

/// A private-CA issuer's HTTPS listener.
#[derive(Debug)]
pub struct HttpsIssuer {
    pub cluster: String,
    /// `https://127.0.0.1:<port>`: the discovery document is at `<this><issuer path>/.well-known/openid-configuration`.
    pub endpoint: String,
    /// SHA-1 of the CA certificate, the thumbprint an IAM provider must list.
    pub thumbprint: String,
    /// The CA certificate (public), written to `DIR/issuers/<cluster>/ca.pem`.
    ca_pem: String,
    server: tokio::task::JoinHandle<()>,
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
        stack.refresher = Some(stack.spawn_token_refresher());
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

    /// Rewrite each pod's token when it is older than 80% of its lifetime, as the kubelet does.
    fn spawn_token_refresher(&self) -> tokio::task::JoinHandle<()> {
        let world = Arc::clone(&self.world);
        let issuers = Arc::clone(&self.issuers);
        let clock = Arc::clone(&self.clock);
        let dir = self.state_dir.clone();
        let mut stop = self.shutdown.subscribe();
        // Read before spawning: a clock advanced right after `start` returns must count.
        let start = clock.now();
        tokio::spawn(async move {
            let mut minted: std::collections::HashMap<(String, String), i64> =
                std::collections::HashMap::new();
            for sa in &world.service_accounts {
                minted.insert((sa.namespace.clone(), sa.name.clone()), start);
            }
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                }
                let now = clock.now();
                for sa in world
                    .service_accounts
                    .iter()
                    .filter(|sa| sa.role_arn().is_some())
                {
                    let key = (sa.namespace.clone(), sa.name.clone());
                    let ttl = token_seconds(sa);
                    let last = minted.get(&key).copied().unwrap_or(start);
                    if now - last >= ttl * 8 / 10 {
                        let path = token_path(&dir, &sa.namespace, &sa.name);
                        match mint_for(&issuers, sa, now).and_then(|t| write_token(&path, &t)) {
                            Ok(()) => {
                                minted.insert(key, now);
                                tracing::debug!(
                                    namespace = sa.namespace,
                                    name = sa.name,
                                    "refreshed projected token"
                                );
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "could not refresh a projected token")
                            }
                        }
                    }
                }
            }
        })
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

/// Each cluster's issuer with a fresh signing key (and a private CA where the cluster has one),
/// generated off the async threads: RSA key generation blocks.
async fn generate_issuers(world: Arc<World>) -> anyhow::Result<Issuers> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<Issuers> {
        let mut list = Vec::new();
        for cluster in &world.clusters {
            let key = SigningKey::generate().with_context(|| {
                format!("generating the signing key of cluster `{}`", cluster.name)
            })?;
            let mut issuer = Issuer::new(cluster.name.clone(), cluster.issuer.clone(), key);
            if cluster.issuer_ca == IssuerCa::Private {
                let ca = PrivateCa::generate(&cluster.name, &cluster.issuer)
                    .with_context(|| format!("cluster `{}`", cluster.name))?;
                issuer = issuer.with_private_ca(ca);
            }
            list.push(issuer);
        }
        Ok(Issuers::new(list))
    })
    .await?
}

/// A provider registered without thumbprints for a private-CA issuer gets the issuer's, as IAM
/// retrieves "the top intermediate certificate authority (CA) thumbprint" when
/// `CreateOpenIDConnectProvider` has no `ThumbprintList` (and as eksctl computes it when it
/// associates a cluster's provider). Thumbprints given in the world are kept, right or wrong.
fn retrieve_thumbprints(world: &mut World, issuers: &Issuers) {
    for provider in &mut world.oidc_providers {
        if provider.thumbprints.is_empty() {
            provider.thumbprints =
                mock_sts::iam::retrieved_thumbprint(issuers, &format!("https://{}", provider.url));
        }
    }
}

/// One HTTPS listener on 127.0.0.1 per private-CA issuer, serving its discovery document and
/// JWKS with the CA's certificates until the stack shuts down.
async fn serve_private_ca_issuers(
    issuers: &Arc<Issuers>,
    shutdown: &watch::Sender<bool>,
) -> anyhow::Result<Vec<HttpsIssuer>> {
    let mut served = Vec::new();
    for issuer in issuers.iter() {
        let Some(ca) = issuer.private_ca() else {
            continue;
        };
        let config = ca
            .server_config()
            .with_context(|| format!("the HTTPS issuer of cluster `{}`", issuer.cluster()))?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding an HTTPS issuer port")?;
        let endpoint = format!("https://{}", listener.local_addr()?);
        let mut stop = shutdown.subscribe();
        let app = mock_oidc::router(Arc::clone(issuers));
        let server = tokio::spawn(mock_oidc::tls::serve_https(
            listener,
            config,
            app,
            async move {
                let _ = stop.changed().await;
            },
        ));
        served.push(HttpsIssuer {
            cluster: issuer.cluster().to_owned(),
            endpoint,
            thumbprint: ca.thumbprint().to_owned(),
            ca_pem: ca.ca_pem().to_owned(),
            server,
        });
    }
    Ok(served)
}

pub fn token_path(state_dir: &Path, namespace: &str, name: &str) -> PathBuf {
    state_dir
        .join("tokens")
        .join(namespace)
        .join(name)
        .join("token")
}

/// Write a token file atomically, with no trailing newline, as the kubelet does.
pub fn write_token(path: &Path, token: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("token path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".token.{}", uuid::Uuid::new_v4()));
    std::fs::write(&tmp, token.as_bytes())?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing `{}`", path.display()))?;
    Ok(())
}

/// The variables the pod-identity webhook injects (computed by [`crate::pod::webhook_mutation`], as EKS
/// would for this world's region, with the token path mapped to the local token file), then the
/// harness's own endpoint variables on top. `AWS_ENDPOINT_URL` (all services) also points here,
/// so an SDK call to any other service reaches the harness and fails loudly instead of going to
/// real AWS.
pub fn pod_env(
    world: &World,
    sa: &ServiceAccount,
    token_file: &Path,
    endpoint: &str,
) -> Vec<(String, String)> {
    let config = crate::pod::webhook_mutation::WebhookConfig::eks(&world.region);
    let mut env =
        match crate::pod::webhook_mutation::identity(&sa.annotations, &Default::default(), &config)
        {
            Some(identity) => crate::pod::webhook_mutation::injected_env(
                &identity,
                &config,
                &token_file.display().to_string(),
            ),
            // The webhook leaves such a pod alone. Harness addition (not what EKS injects): the
            // region, which a real pod's SDK would find through instance metadata.
            None => vec![
                (
                    "AWS_STS_REGIONAL_ENDPOINTS".to_owned(),
                    "regional".to_owned(),
                ),
                ("AWS_DEFAULT_REGION".to_owned(), world.region.clone()),
                ("AWS_REGION".to_owned(), world.region.clone()),
            ],
        };
    env.extend(harness_env(endpoint));
    env
}

/// The harness's endpoint variables, set on top of what the webhook injects.
pub fn harness_env(endpoint: &str) -> Vec<(String, String)> {
    vec![
        ("AWS_ENDPOINT_URL".to_owned(), endpoint.to_owned()),
        ("AWS_ENDPOINT_URL_STS".to_owned(), endpoint.to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB".to_owned(), endpoint.to_owned()),
        ("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()),
    ]
}

/// `DIR/env/admin.env`: the administrator's static keys and every endpoint pointed at this stack,
/// for driving the IAM, STS, EKS and DynamoDB APIs with the AWS CLI or an SDK as the tutorial
/// does. Owner-only permissions: it holds a secret key (a local, derived one).
pub fn write_admin_env(state_dir: &Path, world: &World, endpoint: &str) -> anyhow::Result<()> {
    let Some(env) = admin_env(world, endpoint) else {
        return Ok(());
    };
    let file = admin_env_path(state_dir);
    write_env_file(&file, &env)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// `DIR/env/<namespace>/<name>.env`: a pod's environment, as `irsa up` writes it.
pub fn pod_env_path(state_dir: &Path, namespace: &str, name: &str) -> PathBuf {
    state_dir
        .join("env")
        .join(namespace)
        .join(format!("{name}.env"))
}

/// `DIR/env/admin.env`.
pub fn admin_env_path(state_dir: &Path) -> PathBuf {
    state_dir.join("env").join("admin.env")
}

/// Write `KEY=value` lines, creating the folder.
pub(crate) fn write_env_file(path: &Path, env: &[(String, String)]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(path, text).with_context(|| format!("writing `{}`", path.display()))
}

/// The administrator's environment (`None` when the world has no `admin` user with a key).
pub fn admin_env(world: &World, endpoint: &str) -> Option<Vec<(String, String)>> {
    let user = world.users.get(scenarios::world_file::ADMIN_USER)?;
    let key = user.access_keys.first()?;
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID".to_owned(), key.id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY".to_owned(),
            key.secret.expose().to_owned(),
        ),
        ("AWS_REGION".to_owned(), world.region.clone()),
        ("AWS_DEFAULT_REGION".to_owned(), world.region.clone()),
    ];
    for var in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_EKS",
        "AWS_ENDPOINT_URL_DYNAMODB",
    ] {
        env.push((var.to_owned(), endpoint.to_owned()));
    }
    env.push(("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()));
    Some(env)
}
