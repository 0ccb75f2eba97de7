//! The control channel of a running stack: move its clock, mint tokens with overrides, rotate a
//! cluster's signing key, from another process (`irsa clock advance`, `irsa token`,
//! `irsa rotate-key`) that finds the stack by its state dir.
//!
//! It is a small JSON API on its own loopback port (never the edge port the pods reach), written
//! to `DIR/control.json`. Every request must carry `Authorization: Bearer <secret>`, where the
//! secret is 32 random bytes the stack writes to `DIR/control.secret` with mode 0600. The secret
//! is compared in constant time and never logged; tokens minted here are returned only to the
//! caller. This module owns the wire shape, the server and the client; the decisions (what a
//! token holds, what a rotation does) stay in `mock_oidc` and [`crate::stack`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use axum::Router;
use axum::extract::{Json, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use irsa_core::World;
use irsa_core::clock::Clock;
use mock_oidc::{Issuers, Rotation};
use scenarios::TokenOverrides;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::stack::clock::HarnessClock;

/// `DIR/control.json`: where the control API listens.
pub const CONTROL_FILE: &str = "control.json";
/// `DIR/control.secret`: the bearer secret (mode 0600).
pub const SECRET_FILE: &str = "control.secret";

/// What the control API acts on: the running stack's shared parts.
#[derive(Debug, Clone)]
pub struct Handles {
    pub world: Arc<World>,
    pub issuers: Arc<Issuers>,
    pub clock: Arc<HarnessClock>,
}

#[derive(Clone)]
struct ControlState {
    handles: Handles,
    secret: Arc<String>,
}

/// The harness clock as the control API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockReading {
    /// Harness time, Unix seconds.
    pub now: i64,
    /// Seconds the harness clock is ahead of the wall clock.
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AdvanceBody {
    seconds: i64,
}

/// A token request over the wire: a service account of the world plus its overrides.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub overrides: TokenOverrides,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenAnswer {
    token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RotateBody {
    cluster: String,
    keep_old: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReachabilityBody {
    cluster: String,
    reachable: bool,
}

/// The result of a rotation over the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationAnswer {
    pub kid: String,
    pub published: Vec<String>,
}

impl From<Rotation> for RotationAnswer {
    fn from(r: Rotation) -> Self {
        Self {
            kid: r.kid,
            published: r.published,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ErrorAnswer {
    error: String,
}

fn failure(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorAnswer {
            error: message.into(),
        }),
    )
        .into_response()
}

/// The control API as a router (tested with `oneshot`).
fn router(state: ControlState) -> Router {
    Router::new()
        .route("/v1/clock", get(read_clock))
        .route("/v1/clock/advance", post(advance_clock))
        .route("/v1/token", post(mint_token))
        .route("/v1/rotate-key", post(rotate_key))
        .route("/v1/issuer-reachability", post(set_issuer_reachability))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize,
        ))
        .with_state(state)
}

/// Refuse any request without the bearer secret. Constant-time comparison; nothing logged.
async fn authorize(State(state): State<ControlState>, request: Request, next: Next) -> Response {
    use subtle::ConstantTimeEq as _;
    let presented = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(presented.as_bytes().ct_eq(state.secret.as_bytes())) {
        next.run(request).await
    } else {
        failure(
            StatusCode::UNAUTHORIZED,
            "missing or wrong control secret (see `control.secret` in the state dir)",
        )
    }
}

fn reading(clock: &HarnessClock) -> ClockReading {
    ClockReading {
        now: clock.now(),
        offset: clock.offset(),
    }
}

async fn read_clock(State(state): State<ControlState>) -> Json<ClockReading> {
    Json(reading(&state.handles.clock))
}

async fn advance_clock(
    State(state): State<ControlState>,
    Json(body): Json<AdvanceBody>,
) -> Json<ClockReading> {
    state.handles.clock.advance(body.seconds);
    tracing::info!(
        seconds = body.seconds,
        offset = state.handles.clock.offset(),
        "harness clock advanced"
    );
    Json(reading(&state.handles.clock))
}

async fn mint_token(State(state): State<ControlState>, Json(body): Json<TokenBody>) -> Response {
    let handles = state.handles.clone();
    // A foreign key is generated on first use: RSA key generation blocks.
    let minted = tokio::task::spawn_blocking(move || {
        crate::stack::tokens::mint_with(
            &handles.world,
            &handles.issuers,
            &body.namespace,
            &body.name,
            &body.overrides,
            handles.clock.now(),
        )
    })
    .await;
    match minted {
        Ok(Ok(token)) => Json(TokenAnswer { token }).into_response(),
        Ok(Err(e)) => failure(StatusCode::NOT_FOUND, format!("{e:#}")),
        Err(e) => failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn rotate_key(State(state): State<ControlState>, Json(body): Json<RotateBody>) -> Response {
    match crate::stack::tokens::rotate(&state.handles.issuers, &body.cluster, body.keep_old).await {
        Ok(rotation) => {
            tracing::info!(
                cluster = body.cluster,
                kid = rotation.kid,
                keep_old = body.keep_old,
                "signing key rotated"
            );
            Json(RotationAnswer::from(rotation)).into_response()
        }
        Err(e) => failure(StatusCode::NOT_FOUND, format!("{e:#}")),
    }
}

async fn set_issuer_reachability(
    State(state): State<ControlState>,
    Json(body): Json<ReachabilityBody>,
) -> Response {
    match state.handles.issuers.by_cluster(&body.cluster) {
        Some(issuer) => {
            issuer.set_reachable(body.reachable);
            tracing::info!(
                cluster = body.cluster,
                reachable = body.reachable,
                "issuer reachability set"
            );
            Json(body).into_response()
        }
        None => failure(
            StatusCode::NOT_FOUND,
            format!("no cluster `{}` in the world", body.cluster),
        ),
    }
}

/// 32 random bytes, hex.
pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Write `text` to `path` readable by the owner only (0600 on Unix).
pub(crate) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing `{}`", path.display()))?;
    #[cfg(unix)]
    {
        // An existing file keeps its mode on open: tighten it before writing the secret.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// Start the control API on a free loopback port, write `control.json` and `control.secret`
/// into `state_dir`, and serve until `stop` changes.
pub(crate) async fn serve(
    handles: Handles,
    state_dir: &Path,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let secret = new_secret();
    write_private(&state_dir.join(SECRET_FILE), &secret)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("binding the control port")?;
    let url = format!("http://{}", listener.local_addr()?);
    std::fs::write(
        state_dir.join(CONTROL_FILE),
        format!("{:#}\n", serde_json::json!({ "url": url })),
    )?;
    let app = router(ControlState {
        handles,
        secret: Arc::new(secret),
    });
    Ok(tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            })
            .await;
    }))
}

/// A client of a running stack's control API, found by its state dir.
#[derive(Debug, Clone)]
pub struct ControlClient {
    url: String,
    secret: String,
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
}

impl ControlClient {
    /// Read `control.json` and `control.secret` from the state dir of a running `irsa up`.
    pub fn from_state_dir(state_dir: &Path) -> anyhow::Result<Self> {
        let control = state_dir.join(CONTROL_FILE);
        let text = std::fs::read_to_string(&control).map_err(|_| {
            anyhow!(
                "no running stack in `{}` (no `{CONTROL_FILE}`): start one with `irsa up --world FILE --state-dir {}`",
                state_dir.display(),
                state_dir.display()
            )
        })?;
        let info: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("reading `{}`", control.display()))?;
        let url = info
            .get("url")
            .and_then(|u| u.as_str())
            .ok_or_else(|| anyhow!("`{}` has no `url`", control.display()))?
            .to_owned();
        let secret_path: PathBuf = state_dir.join(SECRET_FILE);
        let secret = std::fs::read_to_string(&secret_path)
            .with_context(|| format!("reading `{}`", secret_path.display()))?
            .trim()
            .to_owned();
        Ok(Self {
            url,
            secret,
            client: hyper_util::client::legacy::Client::builder(
                hyper_util::rt::TokioExecutor::new(),
            )
            .build_http(),
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: http::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<T> {
        use http_body_util::BodyExt as _;
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.secret),
            )
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))?;
        let response = self.client.request(request).await.with_context(|| {
            format!(
                "the stack's control API at {} did not answer (is `irsa up` still running?)",
                self.url
            )
        })?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorAnswer>(&bytes).map_or_else(
                |_| String::from_utf8_lossy(&bytes).into_owned(),
                |e| e.error,
            );
            bail!("the stack refused: {message}");
        }
        serde_json::from_slice(&bytes).context("reading the control API's answer")
    }

    pub async fn clock(&self) -> anyhow::Result<ClockReading> {
        self.call(http::Method::GET, "/v1/clock", None).await
    }

    /// Move the running stack's harness clock by `seconds` (negative: back).
    pub async fn advance_clock(&self, seconds: i64) -> anyhow::Result<ClockReading> {
        self.call(
            http::Method::POST,
            "/v1/clock/advance",
            Some(serde_json::json!({ "seconds": seconds })),
        )
        .await
    }

    /// A token for a service account of the running stack's world, with overrides.
    pub async fn token(&self, body: &TokenBody) -> anyhow::Result<String> {
        let answer: TokenAnswer = self
            .call(
                http::Method::POST,
                "/v1/token",
                Some(serde_json::to_value(body)?),
            )
            .await?;
        Ok(answer.token)
    }

    /// Rotate a cluster's signing key, keeping or dropping the published ones.
    pub async fn rotate_key(
        &self,
        cluster: &str,
        keep_old: bool,
    ) -> anyhow::Result<RotationAnswer> {
        self.call(
            http::Method::POST,
            "/v1/rotate-key",
            Some(serde_json::json!({ "cluster": cluster, "keep_old": keep_old })),
        )
        .await
    }
}

impl ControlClient {
    /// Take a cluster's issuer down for STS (`false`) or bring it back.
    pub async fn set_issuer_reachable(&self, cluster: &str, reachable: bool) -> anyhow::Result<()> {
        let _echo: ReachabilityBody = self
            .call(
                http::Method::POST,
                "/v1/issuer-reachability",
                Some(serde_json::json!({ "cluster": cluster, "reachable": reachable })),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt as _;

    fn state() -> ControlState {
        let issuer = mock_oidc::Issuer::new(
            "c1",
            "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            mock_oidc::SigningKey::generate().unwrap(),
        );
        ControlState {
            handles: Handles {
                // Built by the world loader, so new `World` fields never break this test.
                world: Arc::new(
                    crate::world_file::load(
                        &Path::new(env!("CARGO_MANIFEST_DIR"))
                            .join("../scenarios/worlds/curity.yaml"),
                    )
                    .unwrap()
                    .world,
                ),
                issuers: Arc::new(Issuers::new([issuer])),
                clock: Arc::new(HarnessClock::new()),
            },
            secret: Arc::new("s3cret".to_owned()),
        }
    }

    fn advance(secret: Option<&str>) -> http::Request<axum::body::Body> {
        let mut b =
            http::Request::post("/v1/clock/advance").header("content-type", "application/json");
        if let Some(s) = secret {
            b = b.header("authorization", format!("Bearer {s}"));
        }
        b.body(axum::body::Body::from(r#"{"seconds":5400}"#))
            .unwrap()
    }

    #[tokio::test]
    async fn requests_without_the_secret_change_nothing() {
        let state = state();
        let app = router(state.clone());
        for secret in [None, Some("wrong"), Some("s3cre"), Some("s3cret2")] {
            let res = app.clone().oneshot(advance(secret)).await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{secret:?}");
        }
        assert_eq!(state.handles.clock.offset(), 0);
        let res = app.oneshot(advance(Some("s3cret"))).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(state.handles.clock.offset(), 5400);
    }

    #[tokio::test]
    async fn rotation_over_the_api_and_unknown_cluster() {
        let state = state();
        let old = state.handles.issuers.by_cluster("c1").unwrap().active_kid();
        let app = router(state.clone());
        let rotate = |cluster: &str| {
            http::Request::post("/v1/rotate-key")
                .header("content-type", "application/json")
                .header("authorization", "Bearer s3cret")
                .body(axum::body::Body::from(
                    serde_json::json!({"cluster": cluster, "keep_old": true}).to_string(),
                ))
                .unwrap()
        };
        let res = app.clone().oneshot(rotate("c1")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        use http_body_util::BodyExt as _;
        let body: RotationAnswer =
            serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(body.published, vec![body.kid.clone(), old]);
        let res = app.oneshot(rotate("nope")).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn an_issuer_is_taken_down_and_brought_back_over_the_api() {
        use irsa_core::token::JwksSource as _;
        let state = state();
        let app = router(state.clone());
        let set = |cluster: &str, reachable: bool| {
            http::Request::post("/v1/issuer-reachability")
                .header("content-type", "application/json")
                .header("authorization", "Bearer s3cret")
                .body(axum::body::Body::from(
                    serde_json::json!({"cluster": cluster, "reachable": reachable}).to_string(),
                ))
                .unwrap()
        };
        let url = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC";
        let res = app.clone().oneshot(set("c1", false)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(!state.handles.issuers.reachable(url));
        let res = app.clone().oneshot(set("c1", true)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(state.handles.issuers.reachable(url));
        let res = app.oneshot(set("nope", false)).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    #[cfg(unix)]
    #[test]
    fn the_secret_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("irsa-control-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(SECRET_FILE);
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, "new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
