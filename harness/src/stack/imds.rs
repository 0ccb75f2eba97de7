//! EC2 instance metadata (IMDSv2) serving a worker node's instance-profile role: the credentials
//! a pod silently falls back to when its service account has no IRSA annotation.
//!
//! Wire (wire-contracts.md §2.5, observed with the Rust SDK, boto3 and JS v3):
//! `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` → the token as text;
//! `GET /latest/meta-data/iam/security-credentials/` → the role name;
//! `GET /latest/meta-data/iam/security-credentials/<role>` → the credentials JSON
//! (`Code`, `LastUpdated`, `Type`, `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`).
//! EC2 user guide (IMDSv2): the TTL must be 1..=21600 seconds; a PUT carrying
//! `X-Forwarded-For` is refused; with `HttpTokens: required` a GET without a valid token is
//! `401 Unauthorized`. UNSOURCED: the exact status for a missing/invalid TTL (400 here) and
//! bodies of error answers; how long EC2's instance-profile credentials live (6 h here,
//! re-issued when under 15 min remain).
//!
//! The hop limit (`HttpPutResponseHopLimit`) is the IP TTL of the token PUT's *response*: a
//! container on the pod network is one hop further than the node, so with a limit of 1 the
//! response dies on the way and the client times out. The harness models the network by
//! serving two views on two ports: the node's (1 hop) and a pod's (2 hops); a token PUT that
//! arrives over more hops than the limit is never answered (the connection stays silent), as
//! on EC2. GETs are not limited (IMDSv1 from a pod still works when tokens are optional).
//!
//! The node role is declared in the world file under `node_role:` and read here, beside the
//! world (the `World` type does not carry it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use irsa_core::clock::{Clock, render_utc};
use irsa_core::session::Session;
use irsa_core::{SessionStore, World};
use scenarios::world_file::NodeRole;

pub const MAX_TOKEN_TTL: i64 = 21_600;
/// Lifetime of the node role's credentials. UNSOURCED.
pub const CREDENTIAL_SECONDS: i64 = 21_600;
const REFRESH_BEFORE: i64 = 900;

/// What one request is, decided from method, path and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Token {
        token: String,
        ttl: i64,
    },
    Text(String),
    Json(String),
    /// The token response is lost on the way (hop limit): never answer.
    Silence,
    Status(StatusCode, &'static str),
}

#[derive(Debug)]
struct Imds {
    world: Arc<World>,
    node: NodeRole,
    sessions: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    tokens: Mutex<HashMap<String, i64>>,
    session: Mutex<Option<Arc<Session>>>,
}

impl Imds {
    fn answer(&self, method: &Method, path: &str, headers: &HeaderMap, hops: u8) -> Answer {
        let now = self.clock.now();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if path == "/latest/api/token" {
            if method != Method::PUT {
                return Answer::Status(StatusCode::METHOD_NOT_ALLOWED, "");
            }
            if headers.contains_key("x-forwarded-for") {
                return Answer::Status(StatusCode::FORBIDDEN, "Forbidden");
            }
            let Some(ttl) = header("x-aws-ec2-metadata-token-ttl-seconds")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|t| (1..=MAX_TOKEN_TTL).contains(t))
            else {
                return Answer::Status(StatusCode::BAD_REQUEST, "Bad Request");
            };
            if hops > self.node.hop_limit {
                return Answer::Silence;
            }
            let token = format!("AQAEA{}", uuid::Uuid::new_v4().simple());
            if let Ok(mut tokens) = self.tokens.lock() {
                tokens.retain(|_, exp| *exp > now);
                tokens.insert(token.clone(), now + ttl);
            }
            return Answer::Token { token, ttl };
        }
        if method != Method::GET {
            return Answer::Status(StatusCode::METHOD_NOT_ALLOWED, "");
        }
        match header("x-aws-ec2-metadata-token") {
            Some(token) => {
                let valid = self
                    .tokens
                    .lock()
                    .ok()
                    .and_then(|t| t.get(token).copied())
                    .is_some_and(|exp| exp > now);
                if !valid {
                    return Answer::Status(StatusCode::UNAUTHORIZED, "Unauthorized");
                }
            }
            None if self.node.tokens_required => {
                return Answer::Status(StatusCode::UNAUTHORIZED, "Unauthorized");
            }
            None => {}
        }
        const CREDS: &str = "/latest/meta-data/iam/security-credentials/";
        match path {
            "/latest/meta-data/iam/security-credentials" | CREDS => {
                Answer::Text(self.node.role.clone())
            }
            "/latest/meta-data/instance-id" => Answer::Text(self.node.instance_id.clone()),
            "/latest/meta-data/placement/region" => Answer::Text(self.world.region.clone()),
            p if p.strip_prefix(CREDS) == Some(self.node.role.as_str()) => {
                match self.credentials(now) {
                    Some(json) => Answer::Json(json),
                    None => Answer::Status(StatusCode::NOT_FOUND, "Not Found"),
                }
            }
            _ => Answer::Status(StatusCode::NOT_FOUND, "Not Found"),
        }
    }

    fn credentials(&self, now: i64) -> Option<String> {
        let mut current = self.session.lock().ok()?;
        let fresh = current
            .as_ref()
            .is_some_and(|s| s.expires_at - now > REFRESH_BEFORE);
        if !fresh {
            let role = self.world.roles.get(&self.node.role)?.clone();
            let mut fill = |buf: &mut [u8]| rand::fill(buf);
            let credentials = irsa_core::credential::mint_temporary(&mut fill);
            let session = Session {
                credentials,
                assumed_role_arn: role.arn.assumed_role_arn(&self.node.instance_id),
                assumed_role_id: format!("{}:{}", role.id, self.node.instance_id),
                role_session_name: self.node.instance_id.clone(),
                role,
                web_identity: None,
                session_policies: Vec::new(),
                issued_at: now,
                expires_at: now + CREDENTIAL_SECONDS,
            };
            *current = Some(self.sessions.insert(session));
        }
        let s = current.as_ref()?;
        let json = serde_json::json!({
            "Code": "Success",
            "LastUpdated": render_utc(s.issued_at),
            "Type": "AWS-HMAC",
            "AccessKeyId": s.credentials.access_key_id,
            "SecretAccessKey": s.credentials.secret_access_key.expose(),
            "Token": s.credentials.session_token.expose(),
            "Expiration": render_utc(s.expires_at),
        });
        Some(format!("{json:#}"))
    }
}

#[derive(Debug, Clone)]
struct View {
    imds: Arc<Imds>,
    hops: u8,
}

async fn serve(State(view): State<View>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let answer = view
        .imds
        .answer(&parts.method, parts.uri.path(), &parts.headers, view.hops);
    tracing::info!(
        method = %parts.method,
        path = parts.uri.path(),
        hops = view.hops,
        answer = match &answer {
            Answer::Token { .. } => "token",
            Answer::Text(_) | Answer::Json(_) => "ok",
            Answer::Silence => "lost (hop limit)",
            Answer::Status(..) => "refused",
        },
        "instance metadata request"
    );
    match answer {
        Answer::Token { token, ttl } => (
            StatusCode::OK,
            [
                ("x-aws-ec2-metadata-token-ttl-seconds", ttl.to_string()),
                ("content-type", "text/plain".to_owned()),
            ],
            token,
        )
            .into_response(),
        Answer::Text(text) => {
            (StatusCode::OK, [("content-type", "text/plain")], text).into_response()
        }
        Answer::Json(json) => {
            (StatusCode::OK, [("content-type", "text/plain")], json).into_response()
        }
        Answer::Silence => std::future::pending::<Response>().await,
        Answer::Status(status, body) => (status, body.to_owned()).into_response(),
    }
}

/// The metadata service for one node, seen from the node (1 hop) and from a pod (2 hops).
/// Dropping it stops both listeners.
#[derive(Debug)]
pub struct ImdsServer {
    node_endpoint: String,
    pod_endpoint: String,
    node: NodeRole,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl ImdsServer {
    /// Serve `node` on two loopback ports: the node's view (one hop) and a pod's (two hops).
    pub async fn start(
        world: Arc<World>,
        sessions: Arc<dyn SessionStore>,
        clock: Arc<dyn Clock>,
        node: NodeRole,
    ) -> anyhow::Result<Self> {
        let imds = Arc::new(Imds {
            world,
            node: node.clone(),
            sessions,
            clock,
            tokens: Mutex::new(HashMap::new()),
            session: Mutex::new(None),
        });
        let mut endpoints = Vec::new();
        let mut tasks = Vec::new();
        for hops in [1u8, 2] {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
            let addr: SocketAddr = listener.local_addr()?;
            endpoints.push(format!("http://{addr}/"));
            let app = Router::new().fallback(serve).with_state(View {
                imds: Arc::clone(&imds),
                hops,
            });
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            }));
        }
        let pod_endpoint = endpoints.pop().unwrap_or_default();
        let node_endpoint = endpoints.pop().unwrap_or_default();
        Ok(ImdsServer {
            node_endpoint,
            pod_endpoint,
            node,
            tasks,
        })
    }

    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT` for a process on the node (host network).
    pub fn node_endpoint(&self) -> &str {
        &self.node_endpoint
    }

    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT` for a pod on the pod network (one hop further).
    pub fn pod_endpoint(&self) -> &str {
        &self.pod_endpoint
    }

    pub fn node_role(&self) -> &NodeRole {
        &self.node
    }
}

/// A pod's environment with instance metadata reachable as a pod reaches it (one hop further
/// than the node) instead of disabled.
pub(crate) fn with_pod_imds(
    mut env: Vec<(String, String)>,
    server: &ImdsServer,
) -> Vec<(String, String)> {
    env.retain(|(k, _)| k != "AWS_EC2_METADATA_DISABLED");
    env.push((
        "AWS_EC2_METADATA_SERVICE_ENDPOINT".to_owned(),
        server.pod_endpoint().to_owned(),
    ));
    env
}

impl Drop for ImdsServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use scenarios::world_file::DEFAULT_INSTANCE_ID;
    use serde_json::Value;

    use super::*;

    fn imds(node: NodeRole) -> Imds {
        let world = crate::world_file::parse(
            include_str!("../../tests/fixtures/node-world.yaml"),
            Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/node-world.yaml"
            )),
        )
        .expect("world")
        .world;
        Imds {
            world: Arc::new(world),
            node,
            sessions: Arc::new(irsa_core::MemorySessionStore::new()),
            clock: Arc::new(crate::stack::clock::HarnessClock::new()),
            tokens: Mutex::new(HashMap::new()),
            session: Mutex::new(None),
        }
    }

    fn node(hop_limit: u8, tokens_required: bool) -> NodeRole {
        NodeRole {
            role: "eks-node".into(),
            instance_id: DEFAULT_INSTANCE_ID.into(),
            hop_limit,
            tokens_required,
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header"));
        }
        h
    }

    fn token(i: &Imds, hops: u8) -> Answer {
        i.answer(
            &Method::PUT,
            "/latest/api/token",
            &headers(&[("x-aws-ec2-metadata-token-ttl-seconds", "21600")]),
            hops,
        )
    }

    #[test]
    fn v2_flow_serves_the_node_roles_credentials_in_the_ec2_shape() {
        let i = imds(node(1, true));
        let Answer::Token { token, ttl } = token(&i, 1) else {
            panic!("no token")
        };
        assert_eq!(ttl, 21600);
        let with = headers(&[("x-aws-ec2-metadata-token", &token)]);
        assert_eq!(
            i.answer(
                &Method::GET,
                "/latest/meta-data/iam/security-credentials/",
                &with,
                1
            ),
            Answer::Text("eks-node".into())
        );
        let Answer::Json(json) = i.answer(
            &Method::GET,
            "/latest/meta-data/iam/security-credentials/eks-node",
            &with,
            1,
        ) else {
            panic!("no credentials")
        };
        let v: Value = serde_json::from_str(&json).expect("json");
        let keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "Code",
                "LastUpdated",
                "Type",
                "AccessKeyId",
                "SecretAccessKey",
                "Token",
                "Expiration"
            ]
        );
        assert_eq!(v["Code"], "Success");
        assert_eq!(v["Type"], "AWS-HMAC");
        assert!(
            v["AccessKeyId"]
                .as_str()
                .is_some_and(|k| k.starts_with("ASIA"))
        );
        // The session is in the store the gateway reads, as the instance's assumed role.
        let session = i
            .sessions
            .get(v["AccessKeyId"].as_str().unwrap_or_default())
            .expect("session stored");
        assert_eq!(
            session.assumed_role_arn,
            "arn:aws:sts::111122223333:assumed-role/eks-node/i-0123456789abcdef0"
        );
    }

    #[test]
    fn hop_limit_one_loses_the_token_response_for_pods_only() {
        let i = imds(node(1, true));
        assert_eq!(token(&i, 2), Answer::Silence);
        assert!(matches!(token(&i, 1), Answer::Token { .. }));
        let two = imds(node(2, true));
        assert!(matches!(token(&two, 2), Answer::Token { .. }));
    }

    #[test]
    fn tokens_are_required_checked_and_ttl_bounded() {
        let i = imds(node(2, true));
        let path = "/latest/meta-data/iam/security-credentials/";
        assert_eq!(
            i.answer(&Method::GET, path, &HeaderMap::new(), 1),
            Answer::Status(StatusCode::UNAUTHORIZED, "Unauthorized")
        );
        assert_eq!(
            i.answer(
                &Method::GET,
                path,
                &headers(&[("x-aws-ec2-metadata-token", "forged")]),
                1
            ),
            Answer::Status(StatusCode::UNAUTHORIZED, "Unauthorized")
        );
        for bad in ["0", "21601", "soon"] {
            assert!(matches!(
                i.answer(
                    &Method::PUT,
                    "/latest/api/token",
                    &headers(&[("x-aws-ec2-metadata-token-ttl-seconds", bad)]),
                    1
                ),
                Answer::Status(StatusCode::BAD_REQUEST, _)
            ));
        }
        assert!(matches!(
            i.answer(
                &Method::PUT,
                "/latest/api/token",
                &headers(&[
                    ("x-aws-ec2-metadata-token-ttl-seconds", "60"),
                    ("x-forwarded-for", "10.0.0.1")
                ]),
                1
            ),
            Answer::Status(StatusCode::FORBIDDEN, _)
        ));
        // IMDSv1 (no token) works only when tokens are optional, and hops do not matter there.
        let v1 = imds(node(1, false));
        assert_eq!(
            v1.answer(&Method::GET, path, &HeaderMap::new(), 2),
            Answer::Text("eks-node".into())
        );
    }
}
