//! The one edge port: STS, DynamoDB and the cluster issuers all answer here, routed by the
//! request's shape. Handlers only translate wire to core and back; this only routes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct EdgeState {
    pub sts: mock_sts::StsState,
    pub gateway: gateway::handler::GatewayState,
    pub issuers: Arc<mock_oidc::Issuers>,
}

pub fn router(state: EdgeState) -> Router {
    Router::new().fallback(route).with_state(state)
}

/// Where a request goes, decided from its shape alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    DynamoDb,
    Sts,
    /// The IAM Query API: a form signed for service `iam`.
    Iam,
    /// EKS REST-JSON (`GET /clusters/{name}`) signed for service `eks`.
    Eks,
    Issuer,
    Unknown,
}

/// The service of the SigV4 credential scope (`Credential=AKID/date/region/<service>/aws4_request`).
pub fn signed_service(headers: &http::HeaderMap) -> Option<&str> {
    let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    let mut parts = scope.rsplit('/');
    let _terminator = parts.next()?;
    parts.next()
}

pub fn destination(method: &Method, headers: &http::HeaderMap, body: &[u8]) -> Destination {
    if method == Method::POST && headers.contains_key("x-amz-target") {
        return Destination::DynamoDb;
    }
    let service = signed_service(headers);
    if method == Method::GET {
        if service == Some("eks") {
            return Destination::Eks;
        }
        return Destination::Issuer;
    }
    let form = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if method == Method::POST && form {
        let scoped_to_sts = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|auth| auth.contains("/sts/aws4_request"));
        let has_action = body
            .split(|b| *b == b'&')
            .any(|kv| kv.starts_with(b"Action="));
        // IAM's Query version names the service when the call is unsigned (and is answered
        // `MissingAuthenticationToken` there, in IAM's shape).
        let iam_version = body
            .split(|b| *b == b'&')
            .any(|kv| kv == b"Version=2010-05-08");
        if has_action && (service == Some("iam") || (service.is_none() && iam_version)) {
            return Destination::Iam;
        }
        if has_action && scoped_to_sts {
            return Destination::Sts;
        }
    }
    Destination::Unknown
}

async fn route(State(state): State<EdgeState>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, gateway::handler::MAX_BODY_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response();
    };
    match destination(&parts.method, &parts.headers, &bytes) {
        Destination::DynamoDb => {
            gateway::handler::handle(&state.gateway, &parts, bytes, peer).await
        }
        Destination::Sts => mock_sts::handle(&state.sts, &parts, bytes).await,
        Destination::Iam => mock_sts::iam_handler::handle(&state.sts, &parts, bytes).await,
        Destination::Eks => mock_sts::eks::handle(&state.sts, &parts).await,
        Destination::Issuer => {
            let request = Request::from_parts(parts, Body::from(bytes));
            mock_oidc::routes::serve(State(state.issuers.clone()), request).await
        }
        Destination::Unknown => {
            tracing::warn!(method = %parts.method, path = parts.uri.path(), "request for a service the harness does not emulate");
            (
                StatusCode::BAD_REQUEST,
                "irsa-harness: this request is for a service the harness does not emulate (only STS, IAM, EKS DescribeCluster, DynamoDB and the cluster OIDC issuers answer here); nothing was sent to AWS\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn routes_by_request_shape() {
        assert_eq!(
            destination(
                &Method::POST,
                &headers(&[("x-amz-target", "DynamoDB_20120810.GetItem")]),
                b"{}"
            ),
            Destination::DynamoDb
        );
        assert_eq!(
            destination(
                &Method::POST,
                &headers(&[(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8"
                )]),
                b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
            ),
            Destination::Sts
        );
        assert_eq!(
            destination(&Method::GET, &headers(&[]), b""),
            Destination::Issuer
        );
        // An S3-style PUT, or a form for another service, is not ours.
        assert_eq!(
            destination(&Method::PUT, &headers(&[]), b""),
            Destination::Unknown
        );
        assert_eq!(
            destination(
                &Method::POST,
                &headers(&[
                    ("content-type", "application/x-www-form-urlencoded"),
                    (
                        "authorization",
                        "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00"
                    )
                ]),
                b"Action=ListQueues"
            ),
            Destination::Unknown
        );
    }

    #[test]
    fn routes_iam_and_eks_by_credential_scope() {
        assert_eq!(
            destination(
                &Method::POST,
                &headers(&[
                    (
                        "content-type",
                        "application/x-www-form-urlencoded; charset=utf-8"
                    ),
                    (
                        "authorization",
                        "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261128/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00"
                    )
                ]),
                b"Action=CreateRole&Version=2010-05-08"
            ),
            Destination::Iam
        );
        assert_eq!(
            destination(
                &Method::GET,
                &headers(&[(
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261128/eu-west-1/eks/aws4_request, SignedHeaders=host, Signature=00"
                )]),
                b""
            ),
            Destination::Eks
        );
    }
}
