//! The DynamoDB pipeline, top to bottom, once: read body → session by access key → verify SigV4 →
//! classify → evaluate → forward or deny. A denied call never reaches the backend.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use iam_policy::{Decision, Evaluation, PolicySet, Principal, Request as PolicyRequest};
use irsa_core::audit::AuditSink;
use irsa_core::caller::Caller;
use irsa_core::clock::Clock;
use irsa_core::session::Session;
use irsa_core::transport::Transport;
use irsa_core::{SessionStore, World, WorldStore};

use crate::classify::{Authorization, Target, classify};
use crate::error::{DdbError, DdbErrorResponse, new_request_id};
use crate::forward::Upstream;
use crate::key_schema::{KeySchemaCache, KeySchemaError};
use crate::leading_key;
use crate::resource_policy::ResourcePolicies;

pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// DynamoDB's SigV4 skew window (wire-contracts §3.2).
pub const MAX_SKEW_MINUTES: i64 = 5;

#[derive(Clone)]
pub struct GatewayState {
    /// The current world; each call reads one snapshot, so IAM changes apply to later calls.
    pub world: Arc<WorldStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub clock: Arc<dyn Clock>,
    pub upstream: Upstream,
    /// Partition keys of the backend's tables, for `dynamodb:LeadingKeys`.
    pub key_schemas: Arc<KeySchemaCache>,
    /// Where each call's CloudTrail-shaped record goes; `None` keeps no trail.
    pub audit: Option<Arc<dyn AuditSink>>,
    /// Resource-based policies of tables and streams (DynamoDB Local keeps none).
    pub resource_policies: Arc<ResourcePolicies>,
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

/// Handle one DynamoDB call whose body has been read, and hand its audit record to the sink.
pub async fn handle(
    state: &GatewayState,
    parts: &http::request::Parts,
    body: Bytes,
    peer: Option<SocketAddr>,
) -> Response {
    let request_id = new_request_id();
    let now = state.clock.now();
    let world = state.world.snapshot();
    let mut outcome = Outcome::default();
    let mut response = run(
        state,
        &world,
        parts,
        body.clone(),
        peer,
        &request_id,
        now,
        &mut outcome,
    )
    .await;
    // The harness clock's time, not the server's: the SDKs correct their clock skew from it.
    if let Ok(date) = http::HeaderValue::from_str(&irsa_core::clock::render_http_date(now)) {
        response.headers_mut().insert(http::header::DATE, date);
    }
    if let Some(sink) = &state.audit {
        sink.record(crate::audit::record(&crate::audit::Call {
            parts,
            body: &body,
            peer,
            request_id: &request_id,
            now,
            world: &world,
            outcome: &outcome,
            status: response.status().as_u16(),
        }));
    }
    response
}

/// What happened to one call, for its audit record.
#[derive(Debug, Default)]
pub struct Outcome {
    pub session: Option<Arc<Session>>,
    /// The IAM user who signed the call, when it was signed with a static key.
    pub user: Option<irsa_core::world::User>,
    /// The region the client signed for.
    pub region: Option<String>,
    /// The error the gateway answered, or the backend's `(code, message)`.
    pub error: Option<(String, String)>,
    /// Each evaluated authorization with its evaluation; for a denied call the last one denied.
    pub evaluations: Vec<(Authorization, Evaluation)>,
}

impl Outcome {
    fn fail(&mut self, error: &DdbError) {
        self.error = Some((error.code().to_owned(), error.to_string()));
    }
}

#[allow(
    clippy::too_many_lines,
    clippy::too_many_arguments,
    reason = "the pipeline reads top to bottom, once; each step returns early on its error"
)]
async fn run(
    state: &GatewayState,
    world: &World,
    parts: &http::request::Parts,
    body: Bytes,
    peer: Option<SocketAddr>,
    request_id: &str,
    now: i64,
    outcome: &mut Outcome,
) -> Response {
    let request_id = request_id.to_owned();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let operation = target
        .rsplit_once('.')
        .map_or(target.as_str(), |(_, op)| op);
    let session = match authenticate(state, world, parts, &body, now) {
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
            outcome.fail(&error);
            return DdbErrorResponse { error, request_id }.into_response();
        }
    };
    let (caller, region) = session;
    let session = match caller {
        Caller::Session(s) => Caller::Session(with_current_role(&s, world)),
        Caller::User(u) => Caller::User(u),
    };
    outcome.session = session.session().cloned();
    if let Caller::User(u) = &session {
        outcome.user = Some(u.clone());
    }
    outcome.region = Some(region.clone());
    let classified = match classify(
        &target,
        &body,
        Target {
            region: &region,
            account: session.account(),
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
            tracing::info!(service = "dynamodb", principal = session.arn(), operation, decision = "deny", error = error.code(), reason = %e, request_id, "unclassifiable call");
            outcome.fail(&error);
            return DdbErrorResponse { error, request_id }.into_response();
        }
    };
    let now_dt =
        time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let mut authorizations = classified.authorizations;
    let in_force = session.policies(world);
    let policies = in_force
        .identity
        .iter()
        .chain(in_force.permissions_boundary.iter())
        .chain(in_force.session.iter());
    if leading_key::referenced(policies) {
        let backend = leading_key::Backend {
            cache: &state.key_schemas,
            upstream: &state.upstream,
            region: &region,
            now: now_dt,
        };
        if let Err(e) = leading_key::fill(backend, operation, &body, &mut authorizations).await {
            // Fail closed: without the key, `ForAllValues:` conditions would pass.
            let error = match &e {
                leading_key::LeadingKeyError::Schema(KeySchemaError::Unreachable { .. }) => {
                    DdbError::BackendUnavailable(format!(
                        "irsa-harness: the DynamoDB backend at {} did not answer the DescribeTable needed to evaluate dynamodb:LeadingKeys, so the call was denied",
                        state.upstream.endpoint()
                    ))
                }
                _ => DdbError::Validation(format!(
                    "irsa-harness could not evaluate dynamodb:LeadingKeys for this request, so it was denied: {e}"
                )),
            };
            tracing::info!(service = "dynamodb", principal = session.arn(), operation, decision = "deny", error = error.code(), reason = %e, request_id, "leading keys underivable");
            outcome.fail(&error);
            return DdbErrorResponse { error, request_id }.into_response();
        }
    }
    let source_ip = peer.map(|p| p.ip().to_string());
    let decided = decide(
        &session,
        world,
        &state.resource_policies,
        &authorizations,
        &region,
        now,
        Origin {
            source_ip: source_ip.as_deref(),
            transport: Transport::of(&parts.extensions),
        },
    );
    let denial = match decided {
        Ok(allowed) => {
            outcome.evaluations = allowed;
            None
        }
        Err(denial) => Some(*denial),
    };
    if let Some(denial) = denial {
        let message = access_denied_message(&session, &denial);
        tracing::info!(
            service = "dynamodb",
            principal = session.arn(),
            action = denial.authorization.action,
            resource = denial.authorization.resource,
            decision = "deny",
            request_id,
            explanation = %denial.evaluation.explanation,
            "access denied"
        );
        let error = DdbError::AccessDenied(message);
        outcome.fail(&error);
        outcome.evaluations = vec![(denial.authorization, denial.evaluation)];
        return DdbErrorResponse { error, request_id }.into_response();
    }
    for a in &authorizations {
        tracing::info!(
            service = "dynamodb",
            principal = session.arn(),
            action = a.action,
            resource = a.resource,
            decision = "allow",
            request_id,
            "access allowed"
        );
    }
    let account = session.account().to_owned();
    if matches!(
        operation,
        "PutResourcePolicy" | "GetResourcePolicy" | "DeleteResourcePolicy"
    ) {
        let backend = Backend {
            upstream: &state.upstream,
            region: &region,
            account: &account,
            now: now_dt,
        };
        return match resource_policy_call(&state.resource_policies, backend, operation, &body, now)
            .await
        {
            Ok(answer) => {
                crate::error::json_response(http::StatusCode::OK, answer.to_string(), &request_id)
            }
            Err(error) => {
                outcome.fail(&error);
                DdbErrorResponse { error, request_id }.into_response()
            }
        };
    }
    // `CreateTable`'s `ResourcePolicy` is kept here (DynamoDB Local does not know it); a bad one
    // fails the call before the table exists, as AWS validates it with the request.
    let mut body = body;
    let mut new_table_policy = None;
    if operation == "CreateTable"
        && let Ok(serde_json::Value::Object(mut request)) =
            serde_json::from_slice::<serde_json::Value>(&body)
        && let Some(policy) = request.remove("ResourcePolicy")
    {
        let table = request
            .get("TableName")
            .and_then(|t| t.as_str())
            .map(|t| crate::key_schema::table_name(t).to_owned())
            .unwrap_or_default();
        let arn = format!(
            "{}table/{table}",
            crate::backend_arn::world_prefix(&region, &account)
        );
        let text = policy.as_str().unwrap_or_default().to_owned();
        if let Err(e) = crate::resource_policy::validate(&arn, &text) {
            let error = policy_error(e);
            outcome.fail(&error);
            return DdbErrorResponse { error, request_id }.into_response();
        }
        new_table_policy = Some((arn, text));
        body = Bytes::from(serde_json::Value::Object(request).to_string());
    }
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-amz-json-1.0");
    let to_backend = crate::backend_arn::to_backend(&body, &region, &account)
        .map_or_else(|| body.clone(), Bytes::from);
    let forwarded = state
        .upstream
        .send(&target, content_type, to_backend, &region, now_dt)
        .await;
    if matches!(operation, "CreateTable" | "DeleteTable" | "UpdateTable")
        && let Some(table) = table_name_in(&body)
    {
        state.key_schemas.invalidate(&region, &table);
        let succeeded = forwarded.as_ref().is_ok_and(|f| f.status.is_success());
        let table_arn = format!(
            "{}table/{table}",
            crate::backend_arn::world_prefix(&region, &account)
        );
        if succeeded && operation == "DeleteTable" {
            state.resource_policies.forget_table(&table_arn);
        }
        if succeeded && let Some((arn, text)) = &new_table_policy {
            let _ = state.resource_policies.put(arn, text, None, now * 1000);
        }
    }
    match forwarded {
        Ok(forwarded) => {
            if !forwarded.status.is_success() {
                outcome.error = Some(backend_error(&forwarded.body));
            }
            // AWS's ARNs instead of DynamoDB Local's; the checksum follows the new body.
            let rewritten = crate::backend_arn::to_client(&forwarded.body, &region, &account);
            let crc = rewritten
                .as_ref()
                .map(|b| HeaderValue::from(crc32fast::hash(b)));
            let body = rewritten.map_or(forwarded.body, Bytes::from);
            let mut response = Response::new(axum::body::Body::from(body));
            *response.status_mut() = forwarded.status;
            for name in ["content-type", "x-amz-crc32", "x-amzn-requestid"] {
                if let Some(v) = forwarded.headers.get(name) {
                    response.headers_mut().insert(name, v.clone());
                }
            }
            if let Some(crc) = crc {
                response.headers_mut().insert("x-amz-crc32", crc);
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
            let error = DdbError::BackendUnavailable(format!(
                "irsa-harness: the DynamoDB backend at {} did not answer",
                state.upstream.endpoint()
            ));
            outcome.fail(&error);
            DdbErrorResponse { error, request_id }.into_response()
        }
    }
}

/// The session with its role as the world has it now: AWS evaluates a role's current policies
/// at request time, so policies attached or detached after `AssumeRoleWithWebIdentity` count.
/// Decision: once the role is deleted, its sessions keep no identity policy, so every call is
/// implicitly denied (AWS documents that deleting a role removes its permissions from the
/// sessions using it, not the exact error; UNSOURCED beyond that).
pub fn with_current_role(session: &Arc<Session>, world: &World) -> Arc<Session> {
    let mut current = Session::clone(session);
    match irsa_core::caller::current_role(world, session) {
        Some(role) => current.role = role.clone(),
        None => {
            current.role.policies.clear();
            current.role.managed_policy_arns.clear();
            current.role.permissions_boundary = None;
        }
    }
    Arc::new(current)
}

/// What answering a resource-policy call needs of the backend.
#[derive(Clone, Copy)]
struct Backend<'a> {
    upstream: &'a Upstream,
    region: &'a str,
    account: &'a str,
    now: time::OffsetDateTime,
}

fn policy_error(e: crate::resource_policy::PolicyError) -> DdbError {
    match e {
        crate::resource_policy::PolicyError::NotFound(m) => DdbError::PolicyNotFound(m),
        crate::resource_policy::PolicyError::Invalid(m) => DdbError::Validation(m),
    }
}

/// `PutResourcePolicy`, `GetResourcePolicy`, `DeleteResourcePolicy`, answered by the gateway
/// (DynamoDB Local does not implement them) once the call has been authorised. The resource
/// must be a table (or a stream of one) of this account and region that exists in the backend.
async fn resource_policy_call(
    store: &crate::resource_policy::ResourcePolicies,
    backend: Backend<'_>,
    operation: &str,
    body: &[u8],
    now: i64,
) -> Result<serde_json::Value, DdbError> {
    let request: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| DdbError::Serialization(format!("the request body is not JSON: {e}")))?;
    let arn = request
        .get("ResourceArn")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            DdbError::Validation(
                "1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null"
                    .to_owned(),
            )
        })?
        .to_owned();
    let prefix = crate::backend_arn::world_prefix(backend.region, backend.account);
    let table = arn
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_prefix("table/"))
        .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
        .filter(|_| crate::resource_policy::governing_arn(&arn) == Some(arn.as_str()))
        .ok_or_else(|| {
            // UNSOURCED text.
            DdbError::Validation(format!(
                "Invalid ResourceArn provided as input {arn}: irsa-harness serves tables and streams of account {} in {}",
                backend.account, backend.region
            ))
        })?;
    let described = backend
        .upstream
        .send(
            "DynamoDB_20120810.DescribeTable",
            "application/x-amz-json-1.0",
            Bytes::from(serde_json::json!({ "TableName": table }).to_string()),
            backend.region,
            backend.now,
        )
        .await
        .map_err(|_| {
            DdbError::BackendUnavailable(format!(
                "irsa-harness: the DynamoDB backend at {} did not answer",
                backend.upstream.endpoint()
            ))
        })?;
    if !described.status.is_success() {
        let (code, message) = backend_error(&described.body);
        if code.ends_with("ResourceNotFoundException") {
            return Err(DdbError::ResourceNotFound(format!(
                "Requested resource not found: {arn}"
            )));
        }
        return Err(DdbError::Validation(message));
    }
    let expected = request.get("ExpectedRevisionId").and_then(|v| v.as_str());
    match operation {
        "PutResourcePolicy" => {
            let policy = request.get("Policy").and_then(|v| v.as_str()).ok_or_else(|| {
                DdbError::Validation(
                    "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null"
                        .to_owned(),
                )
            })?;
            let revision = store
                .put(&arn, policy, expected, now.saturating_mul(1000))
                .map_err(policy_error)?;
            Ok(serde_json::json!({ "RevisionId": revision }))
        }
        "GetResourcePolicy" => {
            let attached = store
                .get(&arn)
                .ok_or_else(|| policy_error(crate::resource_policy::not_found(&arn)))?;
            Ok(serde_json::json!({ "Policy": attached.text, "RevisionId": attached.revision_id }))
        }
        _ => {
            let revision = store.delete(&arn, expected).map_err(policy_error)?;
            Ok(serde_json::json!({ "RevisionId": revision }))
        }
    }
}

/// The table a table-level request names (`TableName`, a name or an ARN).
fn table_name_in(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let name = value.get("TableName")?.as_str()?;
    Some(crate::key_schema::table_name(name).to_owned())
}

/// `(code, message)` of an error the backend answered.
fn backend_error(body: &[u8]) -> (String, String) {
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

/// SigV4 and session checks in the order of wire-contracts §4.2. Returns who signed (an STS
/// session, or an IAM user of `world` signing with a static `AKIA…` key) and the region the
/// client signed for.
fn authenticate(
    state: &GatewayState,
    world: &World,
    parts: &http::request::Parts,
    body: &[u8],
    now: i64,
) -> Result<(Caller, String), DdbError> {
    use irsa_core::signed::SignedCallError;
    use sigv4_verify::SigErrorKind;
    // Decision: a signature mismatch answers the plain text, without the "The Canonical String
    // for this request should have been …" tail real DynamoDB appends
    // (`sigv4_verify::Mismatch::dynamodb_message`). The canonical request holds every signed
    // header's value, `x-amz-security-token` included, and the message reaches logs, the audit
    // trail and any proxy on the way: no session token may travel in an error text. All four
    // SDKs read only the code (wire-contracts §3.3).
    let signed = irsa_core::signed::authenticate(
        world,
        state.sessions.as_ref(),
        state.clock.as_ref(),
        parts,
        body,
        now,
        "dynamodb",
        time::Duration::minutes(MAX_SKEW_MINUTES),
    )
    .map_err(|e| match e {
        SignedCallError::Signature(e) => match e.kind() {
            SigErrorKind::MissingAuthenticationToken => DdbError::MissingAuthenticationToken,
            SigErrorKind::IncompleteSignature => DdbError::IncompleteSignature(e.to_string()),
            SigErrorKind::InvalidSignature => DdbError::InvalidSignature(e.to_string()),
        },
        // A token that names no session, a session key without its token, and a long-term key
        // sent with a token all answer `UnrecognizedClient` (see `SignedCallError`).
        SignedCallError::UnknownAccessKey
        | SignedCallError::WrongSessionToken
        | SignedCallError::TokenWithLongTermKey => DdbError::UnrecognizedClient,
        SignedCallError::SessionExpired => DdbError::ExpiredToken,
    })?;
    Ok((signed.caller, signed.region))
}

/// Evaluate every authorisation in order with the caller's policies as `world` has them now:
/// all allowed → each with its evaluation; else the first refused one.
pub fn decide(
    caller: &Caller,
    world: &World,
    resource_policies: &ResourcePolicies,
    authorizations: &[Authorization],
    region: &str,
    now: i64,
    origin: Origin<'_>,
) -> Result<Vec<(Authorization, Evaluation)>, Box<Denial>> {
    let in_force = caller.policies(world);
    let identity_set = in_force.set();
    if authorizations.is_empty() {
        // Nothing to authorise means we did not understand the call: fail closed.
        return Err(Box::new(Denial {
            authorization: Authorization {
                action: "dynamodb:Unknown".to_owned(),
                resource: "*".to_owned(),
                context: Vec::new(),
            },
            evaluation: iam_policy::evaluate(
                &PolicySet::default(),
                &request_for(caller, "dynamodb:Unknown", "*", &[], region, now, origin),
            ),
        }));
    }
    let mut allowed = Vec::with_capacity(authorizations.len());
    for a in authorizations {
        let request = request_for(
            caller,
            &a.action,
            &a.resource,
            &a.context,
            region,
            now,
            origin,
        );
        // A table's resource-based policy (or a stream's) joins the caller's policies by the
        // same-account rule.
        let resource_policy = resource_policies.for_resource(&a.resource);
        let set = PolicySet {
            resource: resource_policy.as_deref(),
            ..identity_set
        };
        let evaluation = iam_policy::evaluate(&set, &request);
        if evaluation.decision != Decision::Allow {
            return Err(Box::new(Denial {
                authorization: a.clone(),
                evaluation,
            }));
        }
        allowed.push((a.clone(), evaluation));
    }
    Ok(allowed)
}

/// Where a call came from, as the connection layer saw it: `aws:SourceIp` and
/// `aws:SecureTransport`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
    pub source_ip: Option<&'a str>,
    pub transport: Transport,
}

/// The request context IAM builds for a call by an assumed-role session or an IAM user
/// (`aws:PrincipalType` `AssumedRole` or `User`).
pub fn request_for(
    caller: &Caller,
    action: &str,
    resource: &str,
    extra: &[(String, Vec<String>)],
    region: &str,
    now: i64,
    origin: Origin<'_>,
) -> PolicyRequest {
    let mut context = caller.context(region, now, origin.transport);
    if let Some(ip) = origin.source_ip {
        context.insert("aws:SourceIp", ip);
    }
    for (key, values) in extra {
        context.insert_multi(key.clone(), values.clone());
    }
    PolicyRequest {
        principal: Some(Principal::Aws(caller.arn().to_owned())),
        action: action.to_owned(),
        resource: resource.to_owned(),
        context,
    }
}

/// AWS's current AccessDeniedException text (wire-contracts §3.2).
///
/// An explicit deny ends `: <policy ARN>` when the denying policy is one of the role's (or
/// user's) customer managed policies or its permissions boundary (AWS Security Blog, "Enhanced
/// access denied error messages with policy ARNs": same-account denies name the policy's ARN).
/// Decision: inline policies (and inline session policies) have no ARN, so their denies get no
/// suffix; AWS's post speaks of policy ARNs only and shows no inline example (UNSOURCED for
/// inline).
pub fn access_denied_message(caller: &Caller, denial: &Denial) -> String {
    let a = &denial.authorization;
    let kind = denial
        .evaluation
        .denied_by()
        .unwrap_or(iam_policy::PolicyKind::Identity);
    let head = format!(
        "User: {} is not authorized to perform: {} on resource: {}",
        caller.arn(),
        a.action,
        a.resource
    );
    match denial.evaluation.decision {
        Decision::ExplicitDeny => {
            let mut message = format!(
                "{head} with an explicit deny in a{} {}",
                article(kind.aws_phrase()),
                kind.aws_phrase()
            );
            if let Some(arn) = denying_policy_arn(caller, &denial.evaluation.explanation, kind) {
                message.push_str(": ");
                message.push_str(arn);
            }
            message
        }
        _ => format!(
            "{head} because no {} allows the {} action",
            kind.aws_phrase(),
            a.action
        ),
    }
}

/// The ARN of the managed policy whose `Deny` statement decided, if it has one.
fn denying_policy_arn<'c>(
    caller: &'c Caller,
    explanation: &iam_policy::Explanation,
    kind: iam_policy::PolicyKind,
) -> Option<&'c str> {
    use iam_policy::PolicyKind;
    if !matches!(kind, PolicyKind::Identity | PolicyKind::PermissionsBoundary) {
        return None;
    }
    let arns = match caller {
        Caller::Session(s) => &s.role.managed_policy_arns,
        Caller::User(u) => &u.managed_policy_arns,
    };
    explanation
        .decisive()
        .find(|(k, _, statement)| *k == kind && statement.effect == iam_policy::Effect::Deny)
        .and_then(|(_, name, _)| arns.get(name))
        .map(String::as_str)
}

fn article(phrase: &str) -> &'static str {
    if phrase.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "n"
    } else {
        ""
    }
}
