//! The STS Query endpoint: form → typed request → irsa-core → XML. `AssumeRoleWithWebIdentity`
//! is unsigned by design; `GetCallerIdentity` is SigV4-signed with a 15-minute skew window.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use irsa_core::SessionStore;
use irsa_core::audit::{AuditSink, assumed_role_identity, render_event_time};
use irsa_core::caller::Caller;
use irsa_core::clock::Clock;
use irsa_core::session::Session;
use irsa_core::token::JwksSource;
use irsa_core::trust::{WebIdentityRequest, assume_role_with_web_identity};
use irsa_core::world::User;
use irsa_core::{World, WorldStore};

use crate::error::{StsError, StsErrorResponse};
use crate::xml::{XmlWriter, query_response};

/// Largest body accepted: a 20000-character token, URL-encoded, plus the rest.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

#[derive(Clone)]
pub struct StsState {
    /// The current world; each request reads one snapshot.
    pub world: Arc<WorldStore>,
    pub keys: Arc<dyn JwksSource>,
    pub sessions: Arc<dyn SessionStore>,
    pub clock: Arc<dyn Clock>,
    /// Where each call's CloudTrail-shaped record goes; `None` keeps no trail.
    pub audit: Option<Arc<dyn AuditSink>>,
}

/// One IAM or EKS call as the audit trail records it (CloudTrail's shape).
pub(crate) struct ControlPlaneCall<'a> {
    /// `iam.amazonaws.com`, `eks.amazonaws.com`.
    pub source: &'static str,
    pub name: &'a str,
    pub region: &'a str,
    pub read_only: bool,
    pub request_parameters: serde_json::Value,
    /// `(errorCode, errorMessage)` of a refused call.
    pub error: Option<(&'static str, String)>,
}

impl StsState {
    /// Records `call` made by `caller` in the audit trail, when the stack keeps one.
    pub(crate) fn audit_control_plane(
        &self,
        world: &World,
        now: i64,
        request_id: &str,
        caller: Option<&Caller>,
        call: ControlPlaneCall<'_>,
    ) {
        let Some(sink) = &self.audit else {
            return;
        };
        let record = irsa_core::audit::ApiCall {
            source: call.source,
            name: call.name,
            region: call.region,
            account: &world.account,
            time: now,
            request_id,
            event_id: uuid::Uuid::new_v4().to_string(),
            read_only: call.read_only,
            user_identity: irsa_core::audit::caller_identity(caller, world),
            request_parameters: call.request_parameters,
            response_elements: serde_json::Value::Null,
            error: call
                .error
                .as_ref()
                .map(|(code, message)| (*code, message.as_str())),
        }
        .record();
        sink.record(record);
    }
}

impl std::fmt::Debug for StsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StsState").finish_non_exhaustive()
    }
}

pub fn router(state: StsState) -> Router {
    Router::new()
        .fallback(
            |State(state): State<StsState>, request: Request| async move {
                let (parts, body) = request.into_parts();
                match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
                    Ok(bytes) => handle(&state, &parts, bytes).await,
                    Err(_) => {
                        (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response()
                    }
                }
            },
        )
        .with_state(state)
}

/// Handle one STS Query request whose body has been read.
pub async fn handle(state: &StsState, parts: &http::request::Parts, body: Bytes) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    // A body that is not a form has no `Action`, and gets the missing-action answer.
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let now = state.clock.now();
    let world = state.world.snapshot();
    let mut session = None;
    let mut user = None;
    let result = match get("Action") {
        Some("AssumeRoleWithWebIdentity") => {
            let query = crate::query::Query::parse(&body);
            assume_role_with_web_identity_op(state, &world, &query, now, &request_id, &mut session)
        }
        Some("GetCallerIdentity") => {
            get_caller_identity_op(state, &world, parts, &body, now, &request_id).map(
                |(xml, caller)| {
                    match caller {
                        Caller::Session(s) => session = Some(s),
                        Caller::User(u) => user = Some(u),
                    }
                    xml
                },
            )
        }
        Some(other) => Err(StsError::InvalidAction {
            action: other.to_owned(),
        }),
        // [rec] AWS's text for a request without `Action` was not captured.
        None => Err(StsError::MissingAction {
            message: "Missing Action".to_owned(),
        }),
    };
    if let Some(sink) = &state.audit {
        sink.record(audit_record(
            &world,
            &get,
            session.as_deref(),
            user.as_ref(),
            result.as_ref().err(),
            now,
            &request_id,
        ));
    }
    let mut response = match result {
        Ok(xml) => query_response(StatusCode::OK, xml, &request_id),
        Err(error) => {
            tracing::info!(
                service = "sts",
                action = get("Action").unwrap_or("-"),
                decision = "deny",
                error = error.code(),
                request_id,
                "sts request refused"
            );
            StsErrorResponse { error, request_id }.into_response()
        }
    };
    // The harness clock's time, not the server's: the SDKs correct their clock skew from it.
    if let Ok(date) = HeaderValue::from_str(&irsa_core::clock::render_http_date(now)) {
        response.headers_mut().insert(header::DATE, date);
    }
    response
}

/// The CloudTrail-shaped record of one STS call. Never the web-identity token, the secret key or
/// the session token: only the parameters and response elements CloudTrail itself keeps.
fn audit_record<'a>(
    world: &World,
    get: &dyn Fn(&str) -> Option<&'a str>,
    session: Option<&Session>,
    user: Option<&User>,
    error: Option<&StsError>,
    now: i64,
    request_id: &str,
) -> serde_json::Value {
    let action = get("Action").unwrap_or_default();
    let (user_identity, request_parameters, response_elements) = match action {
        "AssumeRoleWithWebIdentity" => {
            let mut identity = serde_json::json!({"type": "WebIdentityUser"});
            if let (Some(wi), Some(map)) = (
                session.and_then(|s| s.web_identity.as_ref()),
                identity.as_object_mut(),
            ) {
                map.insert(
                    "principalId".into(),
                    format!("{}:{}:{}", wi.provider_url, wi.audience, wi.subject).into(),
                );
                map.insert("userName".into(), wi.subject.clone().into());
                map.insert("identityProvider".into(), wi.provider_url.clone().into());
            }
            let mut params = serde_json::Map::new();
            for (member, name) in [
                ("RoleArn", "roleArn"),
                ("RoleSessionName", "roleSessionName"),
                ("DurationSeconds", "durationSeconds"),
            ] {
                if let Some(v) = get(member) {
                    params.insert(name.into(), v.into());
                }
            }
            let response = session.map_or(serde_json::Value::Null, |s| {
                serde_json::json!({
                    "credentials": {
                        "accessKeyId": s.access_key_id(),
                        "expiration": render_event_time(s.expires_at),
                    },
                    "assumedRoleUser": {
                        "assumedRoleId": s.assumed_role_id,
                        "arn": s.assumed_role_arn,
                    },
                    "provider": s.web_identity.as_ref().map(|w| w.provider_arn.clone()),
                    "audience": s.web_identity.as_ref().map(|w| w.audience.clone()),
                    "subjectFromWebIdentityToken": s.web_identity.as_ref().map(|w| w.subject.clone()),
                })
            });
            (identity, serde_json::Value::Object(params), response)
        }
        _ => (
            match (session, user) {
                (Some(s), _) => assumed_role_identity(s),
                (None, Some(u)) => crate::signed::iam_user_identity(u, world),
                (None, None) => serde_json::json!({"type": "Unknown"}),
            },
            serde_json::Value::Null,
            serde_json::Value::Null,
        ),
    };
    let message = error.map(ToString::to_string);
    irsa_core::audit::ApiCall {
        source: "sts.amazonaws.com",
        name: action,
        region: &world.region,
        account: &world.account,
        time: now,
        request_id,
        event_id: uuid::Uuid::new_v4().to_string(),
        read_only: action == "GetCallerIdentity",
        user_identity,
        request_parameters,
        response_elements,
        error: error.map(|e| (e.code(), message.as_deref().unwrap_or_default())),
    }
    .record()
}

fn validation(errors: Vec<String>) -> StsError {
    let count = errors.len();
    let noun = if count == 1 { "error" } else { "errors" };
    StsError::Validation {
        message: format!("{count} validation {noun} detected: {}", errors.join("; ")),
    }
}

/// An `AssumeRoleWithWebIdentity` request's parameters, checked against the botocore model's
/// constraints: the request, and its session policies (inline and by ARN).
struct WebIdentityParams<'q> {
    request: WebIdentityRequest<'q>,
    inline_policy: Option<&'q str>,
    policy_arns: Vec<String>,
}

/// Every constraint violation of the query, in one `ValidationError` as AWS reports them.
fn web_identity_params(query: &crate::query::Query) -> Result<WebIdentityParams<'_>, StsError> {
    let get = |name: &str| query.get(name);
    let mut errors = Vec::new();
    let role_arn = get("RoleArn");
    let session_name = get("RoleSessionName");
    let token = get("WebIdentityToken");
    let duration = get("DurationSeconds");
    // Constraints from the botocore model; texts in AWS's coral validation format.
    match role_arn {
        None => errors.push(
            "Value null at 'roleArn' failed to satisfy constraint: Member must not be null".into(),
        ),
        Some(v) if v.chars().count() < 20 => errors.push(format!(
            "Value '{v}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
        )),
        Some(v) if v.chars().count() > 2048 => errors.push(format!(
            "Value '{v}' at 'roleArn' failed to satisfy constraint: Member must have length less than or equal to 2048"
        )),
        Some(_) => {}
    }
    match session_name {
        None => errors.push(
            "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"
                .into(),
        ),
        Some(v) => {
            if !v
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
            {
                errors.push(format!(
                    "Value '{v}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
                ));
            }
            let len = v.chars().count();
            if len > 64 {
                errors.push(format!(
                    "Value '{v}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"
                ));
            } else if len < 2 {
                errors.push(format!(
                    "Value '{v}' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"
                ));
            }
        }
    }
    match token {
        None => errors.push(
            "Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null"
                .into(),
        ),
        // The value is sensitive: AWS elides it from the message.
        Some(v) if v.chars().count() < 4 => errors.push(
            "Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4".into(),
        ),
        Some(v) if v.chars().count() > 20000 => errors.push(
            "Value at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000".into(),
        ),
        Some(_) => {}
    }
    let duration_seconds = match duration {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(d) if d < 900 => {
                errors.push(format!("Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"));
                None
            }
            Ok(d) if d > 43200 => {
                errors.push(format!("Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"));
                None
            }
            Ok(d) => u32::try_from(d).ok(),
            Err(_) => {
                errors.push(format!(
                    "Value '{v}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer"
                ));
                None
            }
        },
    };
    let inline_policy = get("Policy");
    let policy_arns = query.struct_list("PolicyArns", "arn");
    errors.extend(crate::session_policy::validate(
        inline_policy,
        policy_arns.as_deref(),
    ));
    if !errors.is_empty() {
        return Err(validation(errors));
    }
    let policy_arns = policy_arns.unwrap_or_default();
    let (Some(role_arn), Some(session_name), Some(token)) = (role_arn, session_name, token) else {
        return Err(validation(vec!["missing required parameter".into()]));
    };
    Ok(WebIdentityParams {
        request: WebIdentityRequest {
            role_arn,
            role_session_name: session_name,
            web_identity_token: token,
            duration_seconds,
        },
        inline_policy,
        policy_arns,
    })
}

fn assume_role_with_web_identity_op(
    state: &StsState,
    world: &World,
    query: &crate::query::Query,
    now: i64,
    request_id: &str,
    out: &mut Option<Arc<Session>>,
) -> Result<String, StsError> {
    let WebIdentityParams {
        request,
        inline_policy,
        policy_arns,
    } = web_identity_params(query)?;
    let role_arn = request.role_arn;
    let grant = match assume_role_with_web_identity(world, state.keys.as_ref(), &request, now) {
        Ok(grant) => grant,
        Err(cause) => {
            // The one info line for this request is written by `handle`; this adds why.
            tracing::debug!(resource = role_arn, reason = %cause, "assume role refused");
            return Err(StsError::from(&cause));
        }
    };
    let session_policies = crate::session_policy::resolve(world, inline_policy, &policy_arns)?;
    let packed = (inline_policy.is_some() || !policy_arns.is_empty())
        .then(|| crate::session_policy::packed_policy_size(inline_policy, &policy_arns));
    if let Some(percent) = packed.filter(|p| *p > 100) {
        return Err(StsError::PackedPolicyTooLarge { percent });
    }
    let mut fill = |buf: &mut [u8]| rand::fill(buf);
    let mut session = Session::from_grant(grant, now, &mut fill);
    session.session_policies = session_policies;
    let session = state.sessions.insert(session);
    *out = Some(Arc::clone(&session));
    tracing::info!(
        service = "sts",
        action = "sts:AssumeRoleWithWebIdentity",
        principal = session
            .web_identity
            .as_ref()
            .map_or("-", |w| w.subject.as_str()),
        resource = session.role.arn.as_str(),
        decision = "allow",
        access_key_id = session.access_key_id(),
        "assumed role"
    );
    Ok(render_assume_role_with_web_identity_with(
        &session, packed, request_id,
    ))
}

/// The success body; `request_id` is the one also sent in `x-amzn-RequestId`.
pub fn render_assume_role_with_web_identity(session: &Session, request_id: &str) -> String {
    render_assume_role_with_web_identity_with(session, None, request_id)
}

/// The success body with `PackedPolicySize` when session policies were passed.
pub fn render_assume_role_with_web_identity_with(
    session: &Session,
    packed_policy_size: Option<u32>,
    request_id: &str,
) -> String {
    let mut w = XmlWriter::new();
    w.open_root("AssumeRoleWithWebIdentityResponse")
        .open("AssumeRoleWithWebIdentityResult");
    if let Some(wi) = &session.web_identity {
        w.leaf("Audience", &wi.audience);
    }
    w.open("AssumedRoleUser")
        .leaf("AssumedRoleId", &session.assumed_role_id)
        .leaf("Arn", &session.assumed_role_arn)
        .close("AssumedRoleUser");
    if let Some(size) = packed_policy_size {
        w.leaf("PackedPolicySize", &size.to_string());
    }
    if let Some(wi) = &session.web_identity {
        // EKS shows the provider ARN here (wire-contracts §1.3), not the `iss` the API docs name.
        w.leaf("Provider", &wi.provider_arn);
    }
    w.open("Credentials")
        .leaf("AccessKeyId", &session.credentials.access_key_id)
        .leaf(
            "SecretAccessKey",
            session.credentials.secret_access_key.expose(),
        )
        .leaf("SessionToken", session.credentials.session_token.expose())
        .leaf(
            "Expiration",
            &irsa_core::clock::render_utc(session.expires_at),
        )
        .close("Credentials");
    if let Some(wi) = &session.web_identity {
        w.leaf("SubjectFromWebIdentityToken", &wi.subject);
    }
    w.close("AssumeRoleWithWebIdentityResult")
        .open("ResponseMetadata")
        .leaf("RequestId", request_id)
        .close("ResponseMetadata")
        .close("AssumeRoleWithWebIdentityResponse");
    w.finish()
}

fn get_caller_identity_op(
    state: &StsState,
    world: &World,
    parts: &http::request::Parts,
    body: &[u8],
    now: i64,
    request_id: &str,
) -> Result<(String, Caller), StsError> {
    let signed = crate::signed::authenticate(
        world,
        state.sessions.as_ref(),
        parts,
        body,
        now,
        state.clock.as_ref(),
        "sts",
    )?;
    let caller = signed.caller;
    tracing::info!(
        service = "sts",
        action = "sts:GetCallerIdentity",
        principal = caller.arn(),
        decision = "allow",
        request_id,
        "caller identity"
    );
    let mut w = XmlWriter::new();
    w.open_root("GetCallerIdentityResponse")
        .open("GetCallerIdentityResult")
        .leaf("Arn", caller.arn())
        .leaf("UserId", caller.user_id())
        .leaf("Account", caller.account())
        .close("GetCallerIdentityResult")
        .open("ResponseMetadata")
        .leaf("RequestId", request_id)
        .close("ResponseMetadata")
        .close("GetCallerIdentityResponse");
    Ok((w.finish(), caller))
}
