//! Forwarding an authorised call to the DynamoDB backend (DynamoDB Local or a compatible
//! engine): re-signed with one fixed local key so every session sees the same tables, region
//! kept, the response passed back unchanged.

use axum::body::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sigv4_verify::SecretKey;

/// The key the gateway signs forwarded requests with. DynamoDB Local checks no signature but
/// keys its databases by access key id unless `-sharedDb`; it wants `[A-Za-z0-9]` ids.
pub const LOCAL_ACCESS_KEY_ID: &str = "IRSAHARNESSLOCAL";
const LOCAL_SECRET: &str = "irsa-harness-local-secret-not-used-by-aws";

#[derive(Debug, Clone)]
pub struct Upstream {
    endpoint: Uri,
    host: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("`{0}` is not an http:// endpoint with a host")]
    BadEndpoint(String),
    #[error("could not reach the DynamoDB backend")]
    Unreachable(#[source] hyper_util::client::legacy::Error),
    #[error("could not read the DynamoDB backend's response")]
    Body(#[source] hyper::Error),
    #[error("could not build the forwarded request")]
    Build(#[source] http::Error),
}

/// What came back from the backend.
#[derive(Debug)]
pub struct Forwarded {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Upstream {
    pub fn new(endpoint: &str) -> Result<Self, ForwardError> {
        let uri: Uri = endpoint
            .parse()
            .map_err(|_| ForwardError::BadEndpoint(endpoint.to_owned()))?;
        if uri.scheme_str() != Some("http") {
            return Err(ForwardError::BadEndpoint(endpoint.to_owned()));
        }
        let host = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .ok_or_else(|| ForwardError::BadEndpoint(endpoint.to_owned()))?;
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(Self {
            endpoint: uri,
            host,
            client,
        })
    }

    pub fn endpoint(&self) -> &Uri {
        &self.endpoint
    }

    /// Send a DynamoDB JSON call (`x-amz-target`, body) signed for `region` with the local key.
    pub async fn send(
        &self,
        target: &str,
        content_type: &str,
        body: Bytes,
        region: &str,
        now: time::OffsetDateTime,
    ) -> Result<Forwarded, ForwardError> {
        let base_headers = [
            ("host", self.host.as_str()),
            ("content-type", content_type),
            ("x-amz-target", target),
        ];
        let signed = sigv4_verify::sign_request(
            "POST",
            "/",
            "",
            &base_headers,
            &body,
            LOCAL_ACCESS_KEY_ID,
            &SecretKey::new(LOCAL_SECRET.to_owned()),
            None,
            region,
            "dynamodb",
            now,
        );
        let mut builder = Request::post(self.endpoint.clone());
        for (name, value) in base_headers.iter().filter(|(n, _)| *n != "host") {
            builder = builder.header(*name, *value);
        }
        for (name, value) in &signed {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .header(
                "host",
                HeaderValue::from_str(&self.host).map_err(|e| ForwardError::Build(e.into()))?,
            )
            .body(Full::new(body))
            .map_err(ForwardError::Build)?;
        let response: Response<hyper::body::Incoming> = self
            .client
            .request(request)
            .await
            .map_err(ForwardError::Unreachable)?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(ForwardError::Body)?.to_bytes();
        Ok(Forwarded {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// `(code, message)` of an error the backend answered (`__type` without its namespace, and
/// `message` or `Message`); `UnknownError` and an empty message when the body has none.
pub fn backend_error(body: &[u8]) -> (String, String) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let code = value
        .get("__type")
        .and_then(|t| t.as_str())
        .map(|t| t.rsplit_once('#').map_or(t, |(_, c)| c))
        .unwrap_or("UnknownError")
        .to_owned();
    let message = value
        .get("message")
        .or_else(|| value.get("Message"))
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_owned();
    (code, message)
}
