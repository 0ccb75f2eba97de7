//! HTTP: each issuer's discovery document and JWKS, under the issuer URL's own path
//! (`/id/<ID>/.well-known/openid-configuration`, `/id/<ID>/keys`).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::issuer::Issuers;

pub fn router(issuers: Arc<Issuers>) -> Router {
    Router::new().fallback(serve).with_state(issuers)
}

/// Answer a GET for an issuer document; 404 for anything else.
pub async fn serve(State(issuers): State<Arc<Issuers>>, request: Request) -> Response {
    let path = request.uri().path();
    let document = issuers.by_path(path).and_then(|(issuer, rest)| match rest {
        "/.well-known/openid-configuration" => Some(issuer.discovery()),
        "/keys" => Some(issuer.jwks_document()),
        _ => None,
    });
    match document {
        Some(doc) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "max-age=3600"),
            ],
            doc.to_string(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "404 page not found\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Issuer, SigningKey};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn serves_discovery_and_jwks_under_the_issuer_path() {
        let issuer = Issuer::new(
            "c1",
            "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
            SigningKey::generate().unwrap(),
        );
        let kid = issuer.active_kid();
        let app = router(Arc::new(Issuers::new([issuer])));
        let res = app
            .clone()
            .oneshot(
                Request::get("/id/ABC/.well-known/openid-configuration")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: serde_json::Value =
            serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(
            body["issuer"],
            "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"
        );
        assert_eq!(
            body["jwks_uri"],
            "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC/keys"
        );
        let res = app
            .clone()
            .oneshot(
                Request::get("/id/ABC/keys")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let body: serde_json::Value =
            serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(body["keys"][0]["kid"], kid);
        assert_eq!(body["keys"][0]["alg"], "RS256");
        let res = app
            .oneshot(
                Request::get("/id/NOPE/keys")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
}
