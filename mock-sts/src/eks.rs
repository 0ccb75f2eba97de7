//! EKS `DescribeCluster` (REST-JSON, `GET /clusters/{name}`, SigV4 service `eks`): enough of the
//! cluster for the tutorial's `aws eks describe-cluster --query cluster.identity.oidc.issuer`.
//! The issuer and name come from the world; the rest is fixed, EKS-shaped data.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use irsa_core::World;
use irsa_core::world::Cluster;

pub use crate::error::EksError;
use crate::handler::{ControlPlaneCall, StsState};

/// The Kubernetes version reported for every cluster. [rec] a current EKS version.
pub const KUBERNETES_VERSION: &str = "1.32";

/// The cluster name of a `DescribeCluster` path, percent-decoded.
pub fn cluster_name(path: &str) -> Option<String> {
    let raw = path.strip_prefix("/clusters/")?;
    if raw.is_empty() || raw.contains('/') {
        return None;
    }
    let decoded: Vec<(String, String)> =
        serde_urlencoded::from_str(&format!("n={}", raw.replace('+', "%2B"))).ok()?;
    decoded.into_iter().next().map(|(_, v)| v)
}

/// `{"cluster": {...}}` for a world cluster. `endpoint` is the harness itself (not an
/// `*.eks.amazonaws.com` name, so nothing derived from it reaches AWS).
pub fn render_cluster(
    world: &World,
    cluster: &Cluster,
    endpoint: &str,
    created_at: i64,
) -> serde_json::Value {
    serde_json::json!({
        "cluster": {
            "name": cluster.name,
            "arn": cluster_arn(world, &cluster.name),
            "createdAt": created_at,
            "version": KUBERNETES_VERSION,
            "endpoint": endpoint,
            "roleArn": format!("arn:aws:iam::{}:role/eksClusterRole", world.account),
            "identity": {"oidc": {"issuer": cluster.issuer}},
            "status": "ACTIVE",
            "platformVersion": "eks.1",
            "tags": {},
            "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
        }
    })
}

pub fn cluster_arn(world: &World, name: &str) -> String {
    format!(
        "arn:aws:eks:{}:{}:cluster/{name}",
        world.region, world.account
    )
}

/// Handle `GET /clusters/{name}`.
pub async fn handle(state: &StsState, parts: &http::request::Parts) -> Response {
    let now = state.clock.now();
    let world = state.world.snapshot();
    let mut caller = None;
    let result = describe(state, &world, parts, now, &mut caller);
    let request_id = uuid::Uuid::new_v4().to_string();
    state.audit_control_plane(
        &world,
        now,
        &request_id,
        caller.as_ref(),
        ControlPlaneCall {
            source: "eks.amazonaws.com",
            name: "DescribeCluster",
            region: &world.region,
            read_only: true,
            request_parameters: serde_json::json!({"name": cluster_name(parts.uri.path())}),
            error: result.as_ref().err().map(|e| (e.code(), e.to_string())),
        },
    );
    let (status, body, code) = match result {
        Ok(body) => (StatusCode::OK, body, None),
        Err(e) => (e.status(), e.body(), Some(e.code())),
    };
    tracing::info!(
        service = "eks",
        action = "eks:DescribeCluster",
        status = status.as_u16(),
        error = code.unwrap_or("-"),
        "eks call"
    );
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    if let Some(code) = code {
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(code));
    }
    response
}

fn describe(
    state: &StsState,
    world: &World,
    parts: &http::request::Parts,
    now: i64,
    out: &mut Option<irsa_core::caller::Caller>,
) -> Result<serde_json::Value, EksError> {
    let signed = crate::signed::authenticate(
        world,
        state.sessions.as_ref(),
        parts,
        b"",
        now,
        state.clock.as_ref(),
        "eks",
    )
    .map_err(EksError::Signed)?;
    *out = Some(signed.caller.clone());
    let name = cluster_name(parts.uri.path()).unwrap_or_default();
    let arn = cluster_arn(world, &name);
    let caller = &signed.caller;
    let facts = irsa_core::caller::RequestFacts {
        region: &signed.region,
        now,
        source_ip: None,
        transport: irsa_core::transport::Transport::of(&parts.extensions),
    };
    // The head of the access-denied text only: IAM's guide notes that some services do not
    // append the policy-type reason, and EKS's own text was not captured (UNSOURCED).
    caller
        .authorize(
            &caller.policies(world),
            None,
            "eks:DescribeCluster",
            &arn,
            caller.context(&facts),
        )
        .map_err(|denied| EksError::AccessDenied(denied.head()))?;
    let cluster = world
        .cluster(&name)
        .ok_or_else(|| EksError::ResourceNotFound { name: name.clone() })?;
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let created_at = world
        .oidc_providers
        .iter()
        .map(|p| p.create_date)
        .min()
        .unwrap_or(now);
    Ok(render_cluster(
        world,
        cluster,
        &format!("http://{host}"),
        created_at,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cluster_name_from_the_path() {
        assert_eq!(
            cluster_name("/clusters/curity-dynamo-irsa").as_deref(),
            Some("curity-dynamo-irsa")
        );
        assert_eq!(cluster_name("/clusters/a%20b").as_deref(), Some("a b"));
        assert_eq!(cluster_name("/clusters/"), None);
        assert_eq!(cluster_name("/clusters/a/nodegroups"), None);
    }

    #[test]
    fn an_unknown_cluster_is_not_found_with_its_name() {
        let e = EksError::ResourceNotFound {
            name: "nope".into(),
        };
        assert_eq!(
            (e.code(), e.status()),
            ("ResourceNotFoundException", StatusCode::NOT_FOUND)
        );
        assert_eq!(e.body()["message"], "No cluster found for name: nope.");
    }
}
