//! The slice of a cluster's Kubernetes API that token tooling uses: `GET /version`,
//! `GET /api/v1/namespaces/{ns}/serviceaccounts/{name}` and the TokenRequest subresource
//! `POST …/serviceaccounts/{name}/token` (`authentication.k8s.io/v1`), with the k8s-openapi types,
//! so `kubectl create token` and kube-rs's `create_token_request` work against it
//! (wire-contracts §5.4). Refusals are Kubernetes `Status` objects. One router serves one cluster;
//! the service accounts are the world's, the tokens its issuer's.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use irsa_core::World;
use irsa_core::clock::Clock;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec, TokenRequestStatus};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Status, StatusDetails, Time};

use crate::issuer::{Issuers, TokenOverrides, TokenSpec, service_account_uid};

/// kube-apiserver's default `expirationSeconds` for a TokenRequest.
pub const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;
/// The shortest TokenRequest lifetime kube-apiserver accepts.
pub const MIN_EXPIRATION_SECONDS: i64 = 600;

#[derive(Clone)]
pub struct KubeApiState {
    pub world: Arc<World>,
    pub issuers: Arc<Issuers>,
    pub clock: Arc<dyn Clock>,
    /// The cluster this API server belongs to.
    pub cluster: String,
    /// The bearer token a client must present, if any. `None` serves the API unauthenticated,
    /// as `kubectl proxy` does on loopback: kubectl (client-go) never sends a bearer token over
    /// plain HTTP (observed: no `Authorization` header at all), so a bearer check would lock it
    /// out of an HTTP API server.
    pub bearer: Option<Arc<String>>,
}

impl std::fmt::Debug for KubeApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeApiState")
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

/// A refusal as kube-apiserver sends it: a `Status` with `status: Failure`.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `(name, kind)` of the object concerned, for `details`.
    pub details: Option<(String, String)>,
}

impl KubeError {
    fn not_found(kind: &str, name: &str) -> Self {
        Self {
            code: 404,
            reason: "NotFound",
            message: format!("{kind} \"{name}\" not found"),
            details: Some((name.to_owned(), kind.to_owned())),
        }
    }

    pub fn status(&self) -> Status {
        Status {
            code: Some(i32::from(self.code)),
            details: self.details.as_ref().map(|(name, kind)| StatusDetails {
                name: Some(name.clone()),
                kind: Some(kind.clone()),
                ..StatusDetails::default()
            }),
            message: Some(self.message.clone()),
            metadata: Default::default(),
            reason: Some(self.reason.to_owned()),
            status: Some("Failure".to_owned()),
        }
    }
}

impl IntoResponse for KubeError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&self.status()).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

pub fn router(state: KubeApiState) -> Router {
    let authenticated = Router::new()
        .route(
            "/api/v1/namespaces/{namespace}/serviceaccounts/{name}",
            get(get_service_account),
        )
        .route(
            "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            post(create_token),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ));
    Router::new()
        .route("/version", get(version))
        .merge(authenticated)
        .with_state(state)
}

/// kube-apiserver answers a request without valid credentials with this `Status`.
async fn authenticate(State(state): State<KubeApiState>, request: Request, next: Next) -> Response {
    use subtle::ConstantTimeEq as _;
    let Some(bearer) = &state.bearer else {
        return next.run(request).await;
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(presented.as_bytes().ct_eq(bearer.as_bytes())) {
        next.run(request).await
    } else {
        KubeError {
            code: 401,
            reason: "Unauthorized",
            message: "Unauthorized".to_owned(),
            details: None,
        }
        .into_response()
    }
}

async fn not_found() -> KubeError {
    KubeError {
        code: 404,
        reason: "NotFound",
        message: "the server could not find the requested resource".to_owned(),
        details: None,
    }
}

/// `GET /version`: kubectl asks first and chooses the TokenRequest's encoding from the answer.
/// Observed with kubectl v1.32.4: a server reporting 1.30 or 1.31 gets JSON; 1.32 or 1.33 gets
/// protobuf (which this server cannot decode: 415); no answer (404) gets protobuf too
/// (wire-contracts §5.4). So this API server reports 1.31, the newest version that gets JSON.
async fn version() -> Response {
    let info = k8s_openapi::apimachinery::pkg::version::Info {
        major: "1".to_owned(),
        minor: "31".to_owned(),
        git_version: "v1.31.0-irsa-harness".to_owned(),
        git_commit: "0000000000000000000000000000000000000000".to_owned(),
        git_tree_state: "clean".to_owned(),
        build_date: "2026-01-01T00:00:00Z".to_owned(),
        go_version: "go1.24.0".to_owned(),
        compiler: "gc".to_owned(),
        platform: "linux/amd64".to_owned(),
        ..Default::default()
    };
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&info).unwrap_or_default(),
    )
        .into_response()
}

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => KubeError {
            code: 500,
            reason: "InternalError",
            message: format!("could not encode the answer: {e}"),
            details: None,
        }
        .into_response(),
    }
}

fn service_account<'w>(
    world: &'w World,
    cluster: &str,
    namespace: &str,
    name: &str,
) -> Result<&'w irsa_core::world::ServiceAccount, KubeError> {
    world
        .service_account(namespace, name)
        .filter(|sa| sa.cluster == cluster)
        .ok_or_else(|| KubeError::not_found("serviceaccounts", name))
}

async fn get_service_account(
    State(state): State<KubeApiState>,
    Path((namespace, name)): Path<(String, String)>,
) -> Response {
    match service_account(&state.world, &state.cluster, &namespace, &name) {
        Ok(sa) => json(
            StatusCode::OK,
            &ServiceAccount {
                metadata: ObjectMeta {
                    name: Some(sa.name.clone()),
                    namespace: Some(sa.namespace.clone()),
                    uid: Some(service_account_uid(&sa.namespace, &sa.name)),
                    annotations: (!sa.annotations.is_empty())
                        .then(|| sa.annotations.clone().into_iter().collect()),
                    ..ObjectMeta::default()
                },
                ..ServiceAccount::default()
            },
        ),
        Err(e) => e.into_response(),
    }
}

/// What to mint for a TokenRequest: the decision, pure. Empty `audiences` → the API server's
/// own audience (its issuer URL); no `expirationSeconds` → 3600; under 600 → `Invalid`; a bound
/// object → `NotFound` (the harness has no pods, secrets or nodes to bind to).
pub fn decide_token_request(
    request: &TokenRequest,
    namespace: &str,
    name: &str,
    issuer_url: &str,
) -> Result<(TokenSpec, TokenOverrides), KubeError> {
    let spec = &request.spec;
    let expiration = spec
        .expiration_seconds
        .unwrap_or(DEFAULT_EXPIRATION_SECONDS);
    if expiration < MIN_EXPIRATION_SECONDS {
        // [unsourced] The field path and "may not specify a duration less than 10 minutes" are
        // from memory of kube-apiserver's TokenRequest validation, not captured.
        return Err(KubeError {
            code: 422,
            reason: "Invalid",
            message: format!(
                "TokenRequest.authentication.k8s.io \"{name}\" is invalid: spec.expirationSeconds: Invalid value: {expiration}: may not specify a duration less than 10 minutes"
            ),
            details: Some((name.to_owned(), "TokenRequest".to_owned())),
        });
    }
    if let Some(bound) = &spec.bound_object_ref {
        let kind = bound.kind.as_deref().unwrap_or("");
        let plural = match kind {
            "Pod" => "pods",
            "Secret" => "secrets",
            "Node" => "nodes",
            other => {
                return Err(KubeError {
                    code: 400,
                    reason: "BadRequest",
                    message: format!("cannot bind token to object of type {other}"),
                    details: None,
                });
            }
        };
        return Err(KubeError::not_found(
            plural,
            bound.name.as_deref().unwrap_or(""),
        ));
    }
    let audiences = if spec.audiences.is_empty() {
        vec![issuer_url.to_owned()]
    } else {
        spec.audiences.clone()
    };
    Ok((
        TokenSpec {
            namespace: namespace.to_owned(),
            service_account: name.to_owned(),
            audiences,
            expiration_seconds: expiration,
            pod_name: None,
        },
        TokenOverrides {
            unbound: true,
            ..TokenOverrides::default()
        },
    ))
}

fn timestamp(unix: i64) -> Option<Time> {
    k8s_openapi::jiff::Timestamp::from_second(unix)
        .ok()
        .map(Time)
}

async fn create_token(
    State(state): State<KubeApiState>,
    Path((namespace, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        // [unsourced] kube-apiserver's exact 415 text was not captured; kubectl shows the message.
        return KubeError {
            code: 415,
            reason: "UnsupportedMediaType",
            message: format!(
                "the body of the request was in an unknown format - accepted media types include: application/json (got `{content_type}`)"
            ),
            details: None,
        }
        .into_response();
    }
    let sa = match service_account(&state.world, &state.cluster, &namespace, &name) {
        Ok(sa) => sa,
        Err(e) => return e.into_response(),
    };
    // kubectl sends `"status":{"token":"","expirationTimestamp":null}`; the status is the
    // server's to fill, and a null timestamp does not fit the typed field: drop it first.
    let request: Result<TokenRequest, _> = serde_json::from_slice::<serde_json::Value>(&body)
        .and_then(|mut value| {
            if let Some(map) = value.as_object_mut() {
                map.remove("status");
            }
            serde_json::from_value(value)
        });
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            return KubeError {
                code: 400,
                reason: "BadRequest",
                message: format!("the TokenRequest could not be decoded: {e}"),
                details: None,
            }
            .into_response();
        }
    };
    let Some(issuer) = state.issuers.by_cluster(&state.cluster) else {
        return KubeError {
            code: 500,
            reason: "InternalError",
            message: format!("no issuer for cluster `{}`", state.cluster),
            details: None,
        }
        .into_response();
    };
    let (spec, overrides) =
        match decide_token_request(&request, &sa.namespace, &sa.name, issuer.url()) {
            Ok(decided) => decided,
            Err(e) => return e.into_response(),
        };
    let now = state.clock.now();
    let token = match issuer.mint_with(&spec, &overrides, now) {
        Ok(t) => t,
        Err(e) => {
            return KubeError {
                code: 500,
                reason: "InternalError",
                message: e.to_string(),
                details: None,
            }
            .into_response();
        }
    };
    tracing::info!(
        namespace = sa.namespace,
        name = sa.name,
        cluster = state.cluster,
        "token request"
    );
    json(
        StatusCode::CREATED,
        &TokenRequest {
            metadata: ObjectMeta {
                name: Some(sa.name.clone()),
                namespace: Some(sa.namespace.clone()),
                creation_timestamp: timestamp(now),
                ..ObjectMeta::default()
            },
            spec: TokenRequestSpec {
                audiences: spec.audiences,
                expiration_seconds: Some(spec.expiration_seconds),
                bound_object_ref: None,
            },
            status: Some(TokenRequestStatus {
                token,
                expiration_timestamp: timestamp(now + spec.expiration_seconds)
                    .unwrap_or(Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)),
            }),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    const URL: &str = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC";

    fn request(audiences: &[&str], expiration: Option<i64>) -> TokenRequest {
        TokenRequest {
            spec: TokenRequestSpec {
                audiences: audiences.iter().map(|a| (*a).to_owned()).collect(),
                expiration_seconds: expiration,
                bound_object_ref: None,
            },
            ..TokenRequest::default()
        }
    }

    #[test]
    fn defaults_are_the_issuer_audience_and_one_hour() {
        let (spec, overrides) =
            decide_token_request(&request(&[], None), "curity", "dynamo-sa", URL).unwrap();
        assert_eq!(spec.audiences, vec![URL.to_owned()]);
        assert_eq!(spec.expiration_seconds, 3600);
        assert!(overrides.unbound);
        let (spec, _) = decide_token_request(
            &request(&["sts.amazonaws.com"], Some(7200)),
            "curity",
            "dynamo-sa",
            URL,
        )
        .unwrap();
        assert_eq!(spec.audiences, vec!["sts.amazonaws.com".to_owned()]);
        assert_eq!(spec.expiration_seconds, 7200);
    }

    #[test]
    fn short_lifetimes_and_bound_objects_are_refused() {
        let e =
            decide_token_request(&request(&[], Some(599)), "curity", "dynamo-sa", URL).unwrap_err();
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        let mut bound = request(&[], None);
        bound.spec.bound_object_ref =
            Some(k8s_openapi::api::authentication::v1::BoundObjectReference {
                kind: Some("Pod".into()),
                name: Some("app-1".into()),
                ..Default::default()
            });
        let e = decide_token_request(&bound, "curity", "dynamo-sa", URL).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (404, "pods \"app-1\" not found")
        );
    }

    #[test]
    fn refusals_are_kubernetes_status_objects() {
        let status =
            serde_json::to_value(KubeError::not_found("serviceaccounts", "nobody").status())
                .unwrap();
        assert_eq!(
            status,
            serde_json::json!({
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "serviceaccounts \"nobody\" not found",
                "reason": "NotFound",
                "details": {"name": "nobody", "kind": "serviceaccounts"},
                "code": 404
            })
        );
    }

    fn state() -> KubeApiState {
        KubeApiState {
            world: Arc::new(World::empty("123456789012".into(), "eu-west-1".into())),
            issuers: Arc::new(Issuers::new([])),
            clock: Arc::new(irsa_core::clock::FixedClock(1000)),
            cluster: "c1".into(),
            bearer: Some(Arc::new("t0ken".into())),
        }
    }

    async fn call(
        app: Router,
        request: http::Request<axum::body::Body>,
    ) -> (StatusCode, serde_json::Value) {
        let res = app.oneshot(request).await.unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn unauthenticated_and_unknown_requests_get_status_bodies() {
        let app = router(state());
        let (status, body) = call(
            app.clone(),
            http::Request::get("/api/v1/namespaces/curity/serviceaccounts/dynamo-sa")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["reason"], "Unauthorized");
        assert_eq!(body["kind"], "Status");
        let (status, body) = call(
            app.clone(),
            http::Request::get("/api/v1/namespaces/curity/serviceaccounts/dynamo-sa")
                .header("authorization", "Bearer t0ken")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["message"], "serviceaccounts \"dynamo-sa\" not found");
        let (status, body) = call(
            app.clone(),
            http::Request::post("/api/v1/namespaces/curity/serviceaccounts/dynamo-sa/token")
                .header("authorization", "Bearer t0ken")
                .header("content-type", "application/vnd.kubernetes.protobuf")
                .body(axum::body::Body::from("\u{0}k8s"))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(body["reason"], "UnsupportedMediaType");
        let (status, body) = call(
            app.clone(),
            http::Request::get("/apis/apps/v1")
                .header("authorization", "Bearer t0ken")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["status"], "Failure");
        let (status, body) = call(
            app,
            http::Request::get("/version")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["major"], "1");
    }
}
