//! The wire errors of the services mock-sts answers, each a typed cause with its AWS code, HTTP
//! status and message, rendered in one place: STS's and IAM's Query-protocol `ErrorResponse`
//! (`StsError`, `IamError`) and EKS's REST-JSON error (`EksError`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use irsa_core::trust::WebIdentityError;

use crate::xml::{self, XmlWriter};

/// Every STS error the harness sends. The message texts are AWS's, with sources in
/// `../shared/docs/wire-contracts.md` §1.4/§1.5; `[rec]` marks texts we could not capture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StsError {
    #[error("{message}")]
    InvalidIdentityToken { message: String },
    #[error("{message}")]
    ExpiredToken { message: String },
    #[error("Not authorized to perform sts:AssumeRoleWithWebIdentity")]
    AccessDenied,
    #[error("{message}")]
    Validation { message: String },
    #[error("{message}")]
    MalformedPolicyDocument { message: String },
    /// The session policies do not fit the session token. Text as users report it
    /// (aws/containers-roadmap#2413, configure-aws-credentials#1803).
    #[error("Packed policy consumes {percent}% of allotted space")]
    PackedPolicyTooLarge { percent: u32 },
    /// The issuer could not be reached. [rec] The text is the model's documentation of
    /// `IDPCommunicationErrorException`; no capture of AWS's own was found.
    #[error(
        "The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached. This is often a transient error caused by network conditions. Retry the request a limited number of times so that you don't exceed the request rate. If the error persists, the identity provider might be down or not responding."
    )]
    IdpCommunicationError,
    /// [rec] The text is AWS's Query-protocol wording as remembered, not captured for STS.
    #[error("Could not find operation {action} for version 2011-06-15")]
    InvalidAction { action: String },
    #[error("{message}")]
    MissingAction { message: String },
    // Signed-call errors (GetCallerIdentity).
    #[error("The security token included in the request is invalid")]
    InvalidClientTokenId,
    #[error("The security token included in the request is expired")]
    ExpiredSessionToken,
    #[error("{message}")]
    SignatureDoesNotMatch { message: String },
    #[error("{message}")]
    IncompleteSignature { message: String },
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
}

/// `InvalidIdentityToken` texts.
pub const NOT_A_JWT: &str = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)";
pub const NO_VERIFICATION_KEY: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";
/// [rec] AWS's text for a bad signature with a known key was never captured; this is the
/// model's documentation text for `InvalidIdentityToken`.
pub const TOKEN_NOT_VALIDATED: &str = "The web identity token that was passed could not be validated by Amazon Web Services. Get a new identity token from the identity provider and then retry the request.";
pub const INCORRECT_AUDIENCE: &str = "Incorrect token audience";
/// A private-CA issuer whose top certificate matches none of the provider's thumbprints. Text as
/// users report it from STS (aws-actions/configure-aws-credentials#357; alphagov/gsp#889 with an
/// EKS IRSA pod; hashicorp-education/learn-terraform-dynamic-credentials#2 with StatusCode 400).
pub const THUMBPRINT_MISMATCH: &str =
    "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint";

impl StsError {
    pub fn code(&self) -> &'static str {
        match self {
            StsError::InvalidIdentityToken { .. } => "InvalidIdentityToken",
            StsError::ExpiredToken { .. } => "ExpiredTokenException",
            StsError::AccessDenied => "AccessDenied",
            StsError::Validation { .. } => "ValidationError",
            StsError::MalformedPolicyDocument { .. } => "MalformedPolicyDocument",
            StsError::PackedPolicyTooLarge { .. } => "PackedPolicyTooLarge",
            StsError::IdpCommunicationError => "IDPCommunicationError",
            StsError::InvalidAction { .. } => "InvalidAction",
            StsError::MissingAction { .. } => "MissingAction",
            StsError::InvalidClientTokenId => "InvalidClientTokenId",
            StsError::ExpiredSessionToken => "ExpiredToken",
            StsError::SignatureDoesNotMatch { .. } => "SignatureDoesNotMatch",
            StsError::IncompleteSignature { .. } => "IncompleteSignature",
            StsError::MissingAuthenticationToken => "MissingAuthenticationToken",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            StsError::AccessDenied
            | StsError::InvalidClientTokenId
            | StsError::ExpiredSessionToken
            | StsError::SignatureDoesNotMatch { .. }
            | StsError::MissingAuthenticationToken => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn render_body(&self, request_id: &str) -> String {
        query_error_body(
            xml::NAMESPACE,
            self.status(),
            self.code(),
            &self.to_string(),
            request_id,
        )
    }
}

/// A Query service's error document: `<ErrorResponse xmlns=…><Error>` with `Type` (`Receiver`
/// for a 5xx status, else `Sender`), `Code` and `Message`, then the `RequestId` beside `Error`.
fn query_error_body(
    namespace: &str,
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> String {
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let mut w = XmlWriter::new();
    w.open_root_ns("ErrorResponse", namespace)
        .open("Error")
        .leaf("Type", kind)
        .leaf("Code", code)
        .leaf("Message", message)
        .close("Error")
        .leaf("RequestId", request_id)
        .close("ErrorResponse");
    w.finish()
}

impl From<&WebIdentityError> for StsError {
    fn from(cause: &WebIdentityError) -> Self {
        let invalid = |message: &str| StsError::InvalidIdentityToken {
            message: message.to_owned(),
        };
        match cause {
            WebIdentityError::NotAJwt(_) => invalid(NOT_A_JWT),
            WebIdentityError::NoProvider { issuer } => StsError::InvalidIdentityToken {
                message: format!("No OpenIDConnect provider found in your account for {issuer}"),
            },
            WebIdentityError::NoVerificationKey => invalid(NO_VERIFICATION_KEY),
            WebIdentityError::ThumbprintMismatch { .. } => invalid(THUMBPRINT_MISMATCH),
            WebIdentityError::IssuerUnreachable { .. } => StsError::IdpCommunicationError,
            WebIdentityError::InvalidSignature(_)
            | WebIdentityError::NotYetValid { .. }
            | WebIdentityError::MissingSubject => invalid(TOKEN_NOT_VALIDATED),
            WebIdentityError::IncorrectAudience { .. } => invalid(INCORRECT_AUDIENCE),
            WebIdentityError::Expired { now, exp } => StsError::ExpiredToken {
                message: format!(
                    "Token expired: current date/time {now} must be before the expiration date/time {exp}"
                ),
            },
            WebIdentityError::NoSuchRole { .. } | WebIdentityError::TrustPolicyDenied { .. } => {
                StsError::AccessDenied
            }
            WebIdentityError::DurationExceedsMax { .. } => StsError::Validation {
                message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                    .to_owned(),
            },
        }
    }
}

/// An error with the request id it answers, so the id in the body and the header agree.
#[derive(Debug)]
pub struct StsErrorResponse {
    pub error: StsError,
    pub request_id: String,
}

impl IntoResponse for StsErrorResponse {
    fn into_response(self) -> Response {
        let body = self.error.render_body(&self.request_id);
        xml::query_response(self.error.status(), body, &self.request_id)
    }
}

/// Every IAM error the harness sends. The codes and statuses are botocore's IAM model's
/// (`botocore/data/iam/2010-05-08/service-2.json`; `ValidationError` 400 as for every coral
/// service); each message is written where the error arises, with its source marker there
/// (`[mem]`, `[rec]`: see `crate::iam`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    DeleteConflict(String),
    /// The caller's policies do not allow the action.
    #[error("{0}")]
    AccessDenied(String),
    /// Model constraints the request's parameters break, all at once, in AWS's coral format
    /// `N validation error(s) detected: …; …`.
    #[error("{}", validation_message(.0))]
    Validation(Vec<String>),
    /// [rec] Query-protocol wording for an unknown action, as `mock-sts` answers it for STS.
    #[error(
        "Could not find operation {action} for version {}",
        crate::iam::VERSION
    )]
    InvalidAction { action: String },
    /// [rec] As for STS.
    #[error("Missing Action")]
    MissingAction,
    /// A signed-call failure keeps its Query front end's code, status and text
    /// (wire-contracts §1.5).
    #[error("{0}")]
    Signed(StsError),
}

fn validation_message(errors: &[String]) -> String {
    let n = errors.len();
    let noun = if n == 1 { "error" } else { "errors" };
    format!("{n} validation {noun} detected: {}", errors.join("; "))
}

impl IamError {
    /// The refusal of IAM's own authorisation, with AWS's access-denied text.
    pub fn access_denied(message: impl Into<String>) -> Self {
        IamError::AccessDenied(message.into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            IamError::NoSuchEntity(_) => "NoSuchEntity",
            IamError::EntityAlreadyExists(_) => "EntityAlreadyExists",
            IamError::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            IamError::InvalidInput(_) => "InvalidInput",
            IamError::LimitExceeded(_) => "LimitExceeded",
            IamError::DeleteConflict(_) => "DeleteConflict",
            IamError::AccessDenied(_) => "AccessDenied",
            IamError::Validation(_) => "ValidationError",
            IamError::InvalidAction { .. } => "InvalidAction",
            IamError::MissingAction => "MissingAction",
            IamError::Signed(e) => e.code(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            IamError::NoSuchEntity(_) => StatusCode::NOT_FOUND,
            IamError::EntityAlreadyExists(_)
            | IamError::LimitExceeded(_)
            | IamError::DeleteConflict(_) => StatusCode::CONFLICT,
            IamError::AccessDenied(_) => StatusCode::FORBIDDEN,
            IamError::MalformedPolicyDocument(_)
            | IamError::InvalidInput(_)
            | IamError::Validation(_)
            | IamError::InvalidAction { .. }
            | IamError::MissingAction => StatusCode::BAD_REQUEST,
            IamError::Signed(e) => e.status(),
        }
    }

    /// `<ErrorResponse>` in IAM's namespace.
    pub fn render_body(&self, request_id: &str) -> String {
        query_error_body(
            crate::iam::NAMESPACE,
            self.status(),
            self.code(),
            &self.to_string(),
            request_id,
        )
    }
}

/// An IAM error with the request id it answers.
#[derive(Debug)]
pub struct IamErrorResponse {
    pub error: IamError,
    pub request_id: String,
}

impl IntoResponse for IamErrorResponse {
    fn into_response(self) -> Response {
        let body = self.error.render_body(&self.request_id);
        xml::query_response(self.error.status(), body, &self.request_id)
    }
}

/// Every EKS error the harness sends, REST-JSON: the code in `x-amzn-ErrorType`, a JSON body
/// with the `message`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EksError {
    /// [mem] EKS's text for an unknown cluster, as `aws eks describe-cluster` prints it.
    #[error("No cluster found for name: {name}.")]
    ResourceNotFound { name: String },
    /// The caller's policies do not allow the action.
    #[error("{0}")]
    AccessDenied(String),
    /// Signed-call failures in REST-JSON services' coral codes. [rec] EKS's own captures were
    /// not found; these are the codes DynamoDB (also coral) answers, with the Query texts.
    #[error("{0}")]
    Signed(StsError),
}

impl EksError {
    pub fn code(&self) -> &'static str {
        match self {
            EksError::ResourceNotFound { .. } => "ResourceNotFoundException",
            EksError::AccessDenied(_) => "AccessDeniedException",
            EksError::Signed(StsError::InvalidClientTokenId) => "UnrecognizedClientException",
            EksError::Signed(StsError::ExpiredSessionToken) => "ExpiredTokenException",
            EksError::Signed(StsError::SignatureDoesNotMatch { .. }) => "InvalidSignatureException",
            EksError::Signed(StsError::IncompleteSignature { .. }) => {
                "IncompleteSignatureException"
            }
            EksError::Signed(_) => "MissingAuthenticationTokenException",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            EksError::ResourceNotFound { .. } => StatusCode::NOT_FOUND,
            EksError::Signed(StsError::IncompleteSignature { .. }) => StatusCode::BAD_REQUEST,
            EksError::AccessDenied(_) | EksError::Signed(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The JSON body: the `message`, and for an unknown cluster its `clusterName` first.
    pub fn body(&self) -> serde_json::Value {
        match self {
            EksError::ResourceNotFound { name } => serde_json::json!({
                "clusterName": name,
                "message": self.to_string(),
            }),
            _ => serde_json::json!({"message": self.to_string()}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_aws_shape() {
        let body = StsError::AccessDenied.render_body("req-1");
        assert_eq!(
            body,
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>AccessDenied</Code>\n    <Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message>\n  </Error>\n  <RequestId>req-1</RequestId>\n</ErrorResponse>\n"
        );
        assert_eq!(StsError::AccessDenied.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn a_thumbprint_mismatch_is_an_invalid_identity_token() {
        let e = StsError::from(&WebIdentityError::ThumbprintMismatch {
            served: "00".repeat(20),
            configured: vec!["ff".repeat(20)],
        });
        assert_eq!(e.code(), "InvalidIdentityToken");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            e.to_string(),
            "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"
        );
    }

    #[test]
    fn an_unreachable_issuer_and_an_oversized_session_policy_have_the_models_codes() {
        let e = StsError::from(&WebIdentityError::IssuerUnreachable {
            issuer: "https://oidc.example".into(),
        });
        assert_eq!(
            (e.code(), e.status()),
            ("IDPCommunicationError", StatusCode::BAD_REQUEST)
        );
        assert!(e.to_string().contains("could not be reached"));
        let e = StsError::PackedPolicyTooLarge { percent: 118 };
        assert_eq!(
            (e.code(), e.status()),
            ("PackedPolicyTooLarge", StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            e.to_string(),
            "Packed policy consumes 118% of allotted space"
        );
    }

    #[test]
    fn expired_token_text_matches_aws() {
        let e = StsError::from(&WebIdentityError::Expired {
            now: 1731098245,
            exp: 1731095240,
        });
        assert_eq!(e.code(), "ExpiredTokenException");
        assert_eq!(
            e.to_string(),
            "Token expired: current date/time 1731098245 must be before the expiration date/time 1731095240"
        );
    }
}
