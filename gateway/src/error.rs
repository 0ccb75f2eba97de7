//! DynamoDB wire errors: a typed cause with its `__type`, HTTP status and message, rendered once,
//! with `x-amzn-RequestId` and a correct `x-amz-crc32` (boto3 checks it).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, thiserror::Error)]
pub enum DdbError {
    #[error("{0}")]
    AccessDenied(String),
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    #[error("{0}")]
    IncompleteSignature(String),
    #[error("{0}")]
    InvalidSignature(String),
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Serialization(String),
    /// A resource-based policy call on a resource without one (or with another revision).
    #[error("{0}")]
    PolicyNotFound(String),
    #[error("{0}")]
    ResourceNotFound(String),
    /// The backend could not be reached. Not an AWS text: AWS never tells you its storage is
    /// down; a 500 is what the SDKs retry, which is the behaviour we want.
    #[error("{0}")]
    BackendUnavailable(String),
}

impl DdbError {
    pub fn type_name(&self) -> &'static str {
        match self {
            DdbError::AccessDenied(_) => "com.amazon.coral.service#AccessDeniedException",
            DdbError::MissingAuthenticationToken => {
                "com.amazon.coral.service#MissingAuthenticationTokenException"
            }
            DdbError::IncompleteSignature(_) => {
                "com.amazon.coral.service#IncompleteSignatureException"
            }
            DdbError::InvalidSignature(_) => "com.amazon.coral.service#InvalidSignatureException",
            DdbError::UnrecognizedClient => "com.amazon.coral.service#UnrecognizedClientException",
            DdbError::ExpiredToken => "com.amazon.coral.service#ExpiredTokenException",
            DdbError::UnknownOperation(_) => "com.amazon.coral.service#UnknownOperationException",
            DdbError::Validation(_) => "com.amazon.coral.validate#ValidationException",
            DdbError::Serialization(_) => "com.amazon.coral.service#SerializationException",
            DdbError::PolicyNotFound(_) => {
                "com.amazonaws.dynamodb.v20120810#PolicyNotFoundException"
            }
            DdbError::ResourceNotFound(_) => {
                "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
            }
            DdbError::BackendUnavailable(_) => {
                "com.amazonaws.dynamodb.v20120810#InternalServerError"
            }
        }
    }

    /// The short code SDKs show (`AccessDeniedException`).
    pub fn code(&self) -> &'static str {
        let name = self.type_name();
        name.rsplit_once('#').map_or(name, |(_, code)| code)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            DdbError::BackendUnavailable(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// `AccessDeniedException` says `Message`; the signature/token family says `message`.
    pub fn render_body(&self) -> String {
        let key = match self {
            DdbError::AccessDenied(_) => "Message",
            _ => "message",
        };
        let mut body = serde_json::Map::new();
        body.insert("__type".into(), self.type_name().into());
        body.insert(key.into(), self.to_string().into());
        serde_json::Value::Object(body).to_string()
    }
}

/// A DynamoDB error answering the request with this id.
#[derive(Debug)]
pub struct DdbErrorResponse {
    pub error: DdbError,
    pub request_id: String,
}

impl IntoResponse for DdbErrorResponse {
    fn into_response(self) -> Response {
        let body = self.error.render_body();
        json_response(self.error.status(), body, &self.request_id)
    }
}

pub fn json_response(status: StatusCode, body: String, request_id: &str) -> Response {
    let crc = crc32fast::hash(body.as_bytes());
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", v);
    }
    headers.insert("x-amz-crc32", HeaderValue::from(crc));
    response
}

/// A request id shaped like DynamoDB's: 52 characters of `[0-9A-Z]`.
pub fn new_request_id() -> String {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut bytes = [0u8; 52];
    rand_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET.get(usize::from(*b) % 36).copied().unwrap_or(b'0')))
        .collect()
}

fn rand_bytes(buf: &mut [u8]) {
    // uuid's v4 generator is our CSPRNG here; 16 bytes per draw.
    for chunk in buf.chunks_mut(16) {
        let id = uuid::Uuid::new_v4();
        for (dst, src) in chunk.iter_mut().zip(id.as_bytes()) {
            *dst = *src;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_token_body_is_byte_exact_with_aws_crc() {
        // wire-contracts §3.1: 125 bytes, CRC 2088342776.
        let body = DdbError::MissingAuthenticationToken.render_body();
        assert_eq!(
            body,
            r#"{"__type":"com.amazon.coral.service#MissingAuthenticationTokenException","message":"Request is missing Authentication Token"}"#
        );
        assert_eq!(body.len(), 125);
        assert_eq!(crc32fast::hash(body.as_bytes()), 2_088_342_776);
    }

    #[test]
    fn access_denied_uses_capital_message() {
        let body = DdbError::AccessDenied("no".into()).render_body();
        assert_eq!(
            body,
            r#"{"__type":"com.amazon.coral.service#AccessDeniedException","Message":"no"}"#
        );
        assert_eq!(
            DdbError::AccessDenied("x".into()).code(),
            "AccessDeniedException"
        );
    }

    #[test]
    fn request_ids_have_dynamodb_shape() {
        let id = new_request_id();
        assert_eq!(id.len(), 52);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
    }
}
