//! The DynamoDB pipeline, top to bottom, once: read body → session by access key → verify SigV4 →
//! classify → evaluate → forward or deny. A denied call never reaches the backend.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use iam_policy::{Decision, Evaluation, PolicySet, Principal, Request as PolicyRequest};
use irsa_core::clock::Clock;
use irsa_core::session::Session;
use irsa_core::{SessionStore, World};

use crate::classify::{Authorization, Target, classify};
use crate::error::{DdbError, DdbErrorResponse, new_request_id};
use crate::forward::Upstream;

pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// DynamoDB's SigV4 skew window (wire-contracts §3.2).
pub const MAX_SKEW_MINUTES: i64 = 5;

#[derive(Clone)]
pub struct GatewayState {
    pub world: Arc<World>,
    pub sessions: Arc<dyn SessionStore>,
    pub clock: Arc<dyn Clock>,
    pub upstream: Upstream,
}

impl std::fmt::Debug for GatewayState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayState")
            .field("upstream", self.upstream.endpoint())
            .finish_non_exhaustive()
    }
}

/// One authorisation that was refused, with the evaluation that refused it.
#[derive(Debug)]
pub struct Denial {
    pub authorization: Authorization,
    pub evaluation: Evaluation,
}

/// Handle one DynamoDB call whose body has been read.
pub async fn handle(
    state: &GatewayState,
    parts: &http::request::Parts,
    body: Bytes,
    peer: Option<SocketAddr>,
) -> Response {
    let request_id = new_request_id();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let operation = target
        .rsplit_once('.')
        .map_or(target.as_str(), |(_, op)| op);
    let now = state.clock.now();
    let session = match authenticate(state, parts, &body, now) {
        Ok(ok) => ok,
        Err(error) => {
            tracing::info!(
                service = "dynamodb",
                operation,
                decision = "deny",
                error = error.code(),
                request_id,
                "unauthenticated call"
            );
            return DdbErrorResponse { error, request_id }.into_response();
        }
    };
    let (session, region) = session;
    let classified = match classify(
        &target,
        &body,
        Target {
            region: &region,
            account: session.role.arn.account(),
        },
    ) {
        Ok(c) => c,
        Err(e) => {
            let error = if target.starts_with("DynamoDB_20120810.")
                || target.starts_with("DynamoDBStreams_20120810.")
            {
                DdbError::Validation(format!(
                    "irsa-harness could not classify this request, so it was denied: {e}"
                ))
            } else {
                DdbError::UnknownOperation(String::new())
            };
            tracing::info!(service = "dynamodb", principal = session.assumed_role_arn, operation, decision = "deny", error = error.code(), reason = %e, request_id, "unclassifiable call");
            return DdbErrorResponse { error, request_id }.into_response();
        }
    };
    let source_ip = peer.map(|p| p.ip().to_string());
    if let Some(denial) = first_denial(
        &session,
        &classified.authorizations,
        &region,
        now,
        source_ip.as_deref(),
    ) {
        let message = access_denied_message(&session, &denial);
        tracing::info!(
            service = "dynamodb",
            principal = session.assumed_role_arn,
            action = denial.authorization.action,
            resource = denial.authorization.resource,
            decision = "deny",
            request_id,
            explanation = %denial.evaluation.explanation,
            "access denied"
        );
        return DdbErrorResponse {
            error: DdbError::AccessDenied(message),
            request_id,
        }
        .into_response();
    }
    for a in &classified.authorizations {
        tracing::info!(
            service = "dynamodb",
            principal = session.assumed_role_arn,
            action = a.action,
            resource = a.resource,
            decision = "allow",
            request_id,
            "access allowed"
        );
    }
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-amz-json-1.0");
    let now_dt =
        time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    match state
        .upstream
        .send(&target, content_type, body, &region, now_dt)
        .await
    {
        Ok(forwarded) => {
            let mut response = Response::new(axum::body::Body::from(forwarded.body));
            *response.status_mut() = forwarded.status;
            for name in ["content-type", "x-amz-crc32", "x-amzn-requestid"] {
                if let Some(v) = forwarded.headers.get(name) {
                    response.headers_mut().insert(name, v.clone());
                }
            }
            if !response.headers().contains_key("x-amzn-requestid")
                && let Ok(v) = HeaderValue::from_str(&request_id)
            {
                response.headers_mut().insert("x-amzn-RequestId", v);
            }
            response
        }
        Err(e) => {
            tracing::warn!(error = %e, request_id, "dynamodb backend unavailable");
            DdbErrorResponse {
                error: DdbError::BackendUnavailable(format!(
                    "irsa-harness: the DynamoDB backend at {} did not answer",
                    state.upstream.endpoint()
                )),
                request_id,
            }
            .into_response()
        }
    }
}

/// SigV4 and session checks in the order of wire-contracts §4.2. Returns the session and the
/// region the client signed for.
fn authenticate(
    state: &GatewayState,
    parts: &http::request::Parts,
    body: &[u8],
    now: i64,
) -> Result<(Arc<Session>, String), DdbError> {
    use sigv4_verify::SigErrorKind;
    let headers: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let request = sigv4_verify::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body,
    };
    let policy = sigv4_verify::Policy {
        service: "dynamodb".to_owned(),
        max_skew: time::Duration::minutes(MAX_SKEW_MINUTES),
    };
    let now_dt =
        time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let map = |e: sigv4_verify::SigError| match e.kind() {
        SigErrorKind::MissingAuthenticationToken => DdbError::MissingAuthenticationToken,
        SigErrorKind::IncompleteSignature => DdbError::IncompleteSignature(e.to_string()),
        SigErrorKind::InvalidSignature => DdbError::InvalidSignature(e.to_string()),
    };
    let parsed = sigv4_verify::parse_and_check(&request, &policy, now_dt).map_err(map)?;
    let session = state
        .sessions
        .get(&parsed.access_key_id)
        .ok_or(DdbError::UnrecognizedClient)?;
    let secret =
        sigv4_verify::SecretKey::new(session.credentials.secret_access_key.expose().to_owned());
    sigv4_verify::verify_signature(&request, &parsed, &secret).map_err(map)?;
    match parsed.security_token.as_deref() {
        Some(token) if session.credentials.session_token.matches(token) => {}
        _ => return Err(DdbError::UnrecognizedClient),
    }
    if session.is_expired(now) {
        return Err(DdbError::ExpiredToken);
    }
    Ok((session, parsed.region))
}

/// Evaluate every authorisation the call needs; the first refused one denies the whole call.
pub fn first_denial(
    session: &Session,
    authorizations: &[Authorization],
    region: &str,
    now: i64,
    source_ip: Option<&str>,
) -> Option<Denial> {
    let set = PolicySet {
        identity: &session.role.policies,
        resource: None,
        permissions_boundary: session.role.permissions_boundary.as_ref(),
        session: &session.session_policies,
        scp: None,
    };
    if authorizations.is_empty() {
        // Nothing to authorise means we did not understand the call: fail closed.
        return Some(Denial {
            authorization: Authorization {
                action: "dynamodb:Unknown".to_owned(),
                resource: "*".to_owned(),
                context: Vec::new(),
            },
            evaluation: iam_policy::evaluate(
                &PolicySet::default(),
                &request_for(
                    session,
                    "dynamodb:Unknown",
                    "*",
                    &[],
                    region,
                    now,
                    source_ip,
                ),
            ),
        });
    }
    authorizations.iter().find_map(|a| {
        let request = request_for(
            session,
            &a.action,
            &a.resource,
            &a.context,
            region,
            now,
            source_ip,
        );
        let evaluation = iam_policy::evaluate(&set, &request);
        (evaluation.decision != Decision::Allow).then(|| Denial {
            authorization: a.clone(),
            evaluation,
        })
    })
}

/// The request context IAM builds for a call by an assumed-role session.
pub fn request_for(
    session: &Session,
    action: &str,
    resource: &str,
    extra: &[(String, Vec<String>)],
    region: &str,
    now: i64,
    source_ip: Option<&str>,
) -> PolicyRequest {
    let mut context = iam_policy::Context::new();
    context.insert("aws:PrincipalArn", session.role.arn.as_str());
    context.insert("aws:PrincipalAccount", session.role.arn.account());
    context.insert("aws:PrincipalType", "AssumedRole");
    context.insert("aws:userid", session.assumed_role_id.as_str());
    context.insert("aws:RequestedRegion", region);
    context.insert("aws:SecureTransport", "false");
    context.insert("aws:EpochTime", now.to_string());
    context.insert("aws:CurrentTime", render_iso(now));
    context.insert("aws:TokenIssueTime", render_iso(session.issued_at));
    if let Some(ip) = source_ip {
        context.insert("aws:SourceIp", ip);
    }
    if let Some(wi) = &session.web_identity {
        context.insert("aws:FederatedProvider", wi.provider_arn.as_str());
        context.insert(format!("{}:sub", wi.provider_url), wi.subject.as_str());
        context.insert(format!("{}:aud", wi.provider_url), wi.audience.as_str());
    }
    for (key, values) in extra {
        context.insert_multi(key.clone(), values.clone());
    }
    PolicyRequest {
        principal: Some(Principal::Aws(session.assumed_role_arn.clone())),
        action: action.to_owned(),
        resource: resource.to_owned(),
        context,
    }
}

fn render_iso(unix: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix) else {
        return "1970-01-01T00:00:00Z".to_owned();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// AWS's current AccessDeniedException text (wire-contracts §3.2).
pub fn access_denied_message(session: &Session, denial: &Denial) -> String {
    let a = &denial.authorization;
    let kind = denial
        .evaluation
        .denied_by()
        .unwrap_or(iam_policy::PolicyKind::Identity);
    let head = format!(
        "User: {} is not authorized to perform: {} on resource: {}",
        session.assumed_role_arn, a.action, a.resource
    );
    match denial.evaluation.decision {
        Decision::ExplicitDeny => format!(
            "{head} with an explicit deny in a{} {}",
            article(kind.aws_phrase()),
            kind.aws_phrase()
        ),
        _ => format!(
            "{head} because no {} allows the {} action",
            kind.aws_phrase(),
            a.action
        ),
    }
}

fn article(phrase: &str) -> &'static str {
    if phrase.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "n"
    } else {
        ""
    }
}
