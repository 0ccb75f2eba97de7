//! The DynamoDB pipeline, top to bottom, once: session by access key → verify SigV4 → classify
//! (the body's one parse) → `dynamodb:LeadingKeys` → evaluate → answer (the resource-policy
//! operations) or forward, or deny. A denied call never reaches the backend.
//!
//! Owns: the order of the stages, each a function of the call's [`CallContext`], and the
//! response to the client. The stages' features live in their own modules (`classify`,
//! `leading_key`, `authorize`, `policy_api`, `table_policy`, `key_schema`, `audit`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use irsa_core::audit::AuditSink;
use irsa_core::caller::{Caller, CallerPolicies, RequestFacts};
use irsa_core::clock::Clock;
use irsa_core::session::Session;
use irsa_core::transport::Transport;
use irsa_core::{SessionStore, World, WorldStore};

use crate::audit::Outcome;
use crate::authorize::decide;
use crate::body::RequestBody;
use crate::classify::{Classified, Target, classify};
use crate::error::{DdbError, DdbErrorResponse, new_request_id};
use crate::forward::{Forwarded, Upstream, backend_error};
use crate::key_schema::{KeySchemaCache, KeySchemaError};
use crate::resource_policy::ResourcePolicies;
use crate::{backend_arn, leading_key, policy_api, table_policy};

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

/// One call as every stage sees it: the gateway, the world snapshot it is judged by, the request
/// and when and from where it came. Built once per call; the stages take it instead of a long
/// argument list, so a new request fact (e.g. the transport, for `aws:SecureTransport`) is one
/// field here and one in [`RequestFacts`].
#[derive(Debug)]
pub struct CallContext<'a> {
    pub state: &'a GatewayState,
    pub world: &'a World,
    pub parts: &'a http::request::Parts,
    pub body: &'a RequestBody,
    pub request_id: &'a str,
    /// The harness clock, in Unix seconds.
    pub now: i64,
    /// `aws:SourceIp`: the peer's address, when known.
    pub source_ip: Option<String>,
    /// `aws:SecureTransport`: TLS (the HTTPS edge or a proxy tunnel) or plain HTTP.
    pub transport: Transport,
    /// The `X-Amz-Target` header, `""` when absent.
    pub target: &'a str,
}

impl CallContext<'_> {
    /// The operation the target names (`GetItem` of `DynamoDB_20120810.GetItem`).
    pub fn operation(&self) -> &str {
        self.target
            .rsplit_once('.')
            .map_or(self.target, |(_, op)| op)
    }

    fn now_datetime(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(self.now)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }

    /// The facts IAM's request context holds about this call, for the region it was signed for.
    fn facts<'r>(&'r self, signer: &'r Signer) -> RequestFacts<'r> {
        RequestFacts {
            region: &signer.region,
            now: self.now,
            source_ip: self.source_ip.as_deref(),
            transport: self.transport,
        }
    }
}

/// Who signed a call, the region they signed it for, and their policies in force (read from
/// the world snapshot once per call).
#[derive(Debug)]
struct Signer {
    caller: Caller,
    region: String,
    policies: CallerPolicies,
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
    let body = RequestBody::new(body);
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ctx = CallContext {
        state,
        world: &world,
        parts,
        body: &body,
        request_id: &request_id,
        now,
        source_ip: peer.map(|p| p.ip().to_string()),
        transport: Transport::of(&parts.extensions),
        target,
    };
    let mut outcome = Outcome::default();
    let mut response = match run(&ctx, &mut outcome).await {
        Ok(response) => response,
        Err(error) => {
            outcome.fail(&error);
            DdbErrorResponse {
                error,
                request_id: request_id.clone(),
            }
            .into_response()
        }
    };
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

/// The stages in order; the first that fails answers the call.
async fn run(ctx: &CallContext<'_>, outcome: &mut Outcome) -> Result<Response, DdbError> {
    let signer = authenticated(ctx)?;
    outcome.session = signer.caller.session().cloned();
    if let Caller::User(u) = &signer.caller {
        outcome.user = Some(u.clone());
    }
    outcome.region = Some(signer.region.clone());
    let mut classified = classified(ctx, &signer)?;
    with_leading_keys(ctx, &signer, &mut classified).await?;
    outcome.evaluations = authorized(ctx, &signer, &classified, outcome)?;
    let operation = classified.operation.as_str();
    if policy_api::answers(operation) {
        let backend = policy_api::Backend {
            upstream: &ctx.state.upstream,
            region: &signer.region,
            account: signer.caller.account(),
            now: ctx.now,
        };
        let answer = policy_api::answer(
            &ctx.state.resource_policies,
            backend,
            operation,
            &classified.request,
        )
        .await?;
        return Ok(crate::error::json_response(
            http::StatusCode::OK,
            answer.to_string(),
            ctx.request_id,
        ));
    }
    forwarded(ctx, &signer, &classified, outcome).await
}

/// Stage 1: who signed, the session's role as the world has it now.
fn authenticated(ctx: &CallContext<'_>) -> Result<Signer, DdbError> {
    let (caller, region) = authenticate(ctx).inspect_err(|error| {
        tracing::info!(
            service = "dynamodb",
            operation = ctx.operation(),
            decision = "deny",
            error = error.code(),
            request_id = ctx.request_id,
            "unauthenticated call"
        );
    })?;
    let caller = match caller {
        Caller::Session(s) => Caller::Session(with_current_role(&s, ctx.world)),
        Caller::User(u) => Caller::User(u),
    };
    let policies = caller.policies(ctx.world);
    Ok(Signer {
        caller,
        region,
        policies,
    })
}

/// Stage 2: the IAM authorizations the call needs, from its body's one parse.
fn classified(ctx: &CallContext<'_>, signer: &Signer) -> Result<Classified, DdbError> {
    let target = Target {
        region: &signer.region,
        account: signer.caller.account(),
    };
    classify(ctx.target, ctx.body, target).map_err(|e| {
        let error = if ctx.target.starts_with("DynamoDB_20120810.")
            || ctx.target.starts_with("DynamoDBStreams_20120810.")
        {
            DdbError::Validation(format!(
                "irsa-harness could not classify this request, so it was denied: {e}"
            ))
        } else {
            DdbError::UnknownOperation(String::new())
        };
        tracing::info!(service = "dynamodb", principal = signer.caller.arn(), operation = ctx.operation(), decision = "deny", error = error.code(), reason = %e, request_id = ctx.request_id, "unclassifiable call");
        error
    })
}

/// Stage 3: `dynamodb:LeadingKeys` on each authorization, when a policy in force names it.
async fn with_leading_keys(
    ctx: &CallContext<'_>,
    signer: &Signer,
    classified: &mut Classified,
) -> Result<(), DdbError> {
    let in_force = &signer.policies;
    let policies = in_force
        .identity
        .iter()
        .chain(in_force.permissions_boundary.iter())
        .chain(in_force.session.iter());
    if !leading_key::referenced(policies) {
        return Ok(());
    }
    let backend = leading_key::Backend {
        cache: &ctx.state.key_schemas,
        upstream: &ctx.state.upstream,
        region: &signer.region,
        now: ctx.now_datetime(),
    };
    leading_key::fill(
        backend,
        &classified.operation,
        &classified.request,
        &mut classified.authorizations,
    )
    .await
        .map_err(|e| {
            // Fail closed: without the key, `ForAllValues:` conditions would pass.
            let error = match &e {
                leading_key::LeadingKeyError::Schema(KeySchemaError::Unreachable { .. }) => {
                    DdbError::BackendUnavailable(format!(
                        "irsa-harness: the DynamoDB backend at {} did not answer the DescribeTable needed to evaluate dynamodb:LeadingKeys, so the call was denied",
                        ctx.state.upstream.endpoint()
                    ))
                }
                _ => DdbError::Validation(format!(
                    "irsa-harness could not evaluate dynamodb:LeadingKeys for this request, so it was denied: {e}"
                )),
            };
            tracing::info!(service = "dynamodb", principal = signer.caller.arn(), operation = ctx.operation(), decision = "deny", error = error.code(), reason = %e, request_id = ctx.request_id, "leading keys underivable");
            error
        })
}

/// Stage 4: every authorization allowed, each with its evaluation; else AWS's access denied
/// (the refused one is the outcome's evaluation).
fn authorized(
    ctx: &CallContext<'_>,
    signer: &Signer,
    classified: &Classified,
    outcome: &mut Outcome,
) -> Result<Vec<(crate::classify::Authorization, iam_policy::Evaluation)>, DdbError> {
    let caller = &signer.caller;
    let decided = decide(
        caller,
        &signer.policies,
        &ctx.state.resource_policies,
        &classified.authorizations,
        &ctx.facts(signer),
    );
    let denial = match decided {
        Ok(allowed) => {
            for a in allowed.iter().map(|(a, _)| a) {
                tracing::info!(
                    service = "dynamodb",
                    principal = caller.arn(),
                    action = a.action,
                    resource = a.resource,
                    decision = "allow",
                    request_id = ctx.request_id,
                    "access allowed"
                );
            }
            return Ok(allowed);
        }
        Err(denial) => *denial,
    };
    tracing::info!(
        service = "dynamodb",
        principal = caller.arn(),
        action = denial.authorization.action,
        resource = denial.authorization.resource,
        decision = "deny",
        request_id = ctx.request_id,
        explanation = %denial.denied.evaluation.explanation,
        "access denied"
    );
    let error = DdbError::AccessDenied(denial.denied.message());
    outcome.evaluations = vec![(denial.authorization, denial.denied.evaluation)];
    Err(error)
}

/// Stage 5: the call at the backend, in its ARNs; the answer in the world's.
async fn forwarded(
    ctx: &CallContext<'_>,
    signer: &Signer,
    classified: &Classified,
    outcome: &mut Outcome,
) -> Result<Response, DdbError> {
    let state = ctx.state;
    let (region, account) = (signer.region.as_str(), signer.caller.account());
    let operation = classified.operation.as_str();
    let world_prefix = backend_arn::world_prefix(region, account);
    let new_table_policy = table_policy::take(operation, &classified.request, &world_prefix)?;
    let body = new_table_policy
        .as_ref()
        .map_or_else(|| ctx.body.bytes().clone(), |p| p.forwarded_body.clone());
    let content_type = ctx
        .parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-amz-json-1.0");
    let to_backend = backend_arn::to_backend(&body, region, account).map_or(body, Bytes::from);
    let answered = state
        .upstream
        .send(
            ctx.target,
            content_type,
            to_backend,
            region,
            ctx.now_datetime(),
        )
        .await;
    state
        .key_schemas
        .after_forward(operation, &classified.request, region);
    if answered.as_ref().is_ok_and(|f| f.status.is_success()) {
        table_policy::after_success(
            &state.resource_policies,
            operation,
            &classified.request,
            &world_prefix,
            new_table_policy.as_ref(),
            ctx.now,
        );
    }
    match answered {
        Ok(answered) => {
            if !answered.status.is_success() {
                outcome.error = Some(backend_error(&answered.body));
            }
            Ok(client_response(answered, region, account, ctx.request_id))
        }
        Err(e) => {
            tracing::warn!(error = %e, request_id = ctx.request_id, "dynamodb backend unavailable");
            Err(DdbError::BackendUnavailable(format!(
                "irsa-harness: the DynamoDB backend at {} did not answer",
                state.upstream.endpoint()
            )))
        }
    }
}

/// The backend's answer as the client must see it: AWS's ARNs instead of DynamoDB Local's, the
/// checksum following the new body, the backend's request id (or ours).
fn client_response(answered: Forwarded, region: &str, account: &str, request_id: &str) -> Response {
    let rewritten = backend_arn::to_client(&answered.body, region, account);
    let crc = rewritten
        .as_ref()
        .map(|b| HeaderValue::from(crc32fast::hash(b)));
    let body = rewritten.map_or(answered.body, Bytes::from);
    let mut response = Response::new(axum::body::Body::from(body));
    *response.status_mut() = answered.status;
    for name in ["content-type", "x-amz-crc32", "x-amzn-requestid"] {
        if let Some(v) = answered.headers.get(name) {
            response.headers_mut().insert(name, v.clone());
        }
    }
    if let Some(crc) = crc {
        response.headers_mut().insert("x-amz-crc32", crc);
    }
    if !response.headers().contains_key("x-amzn-requestid")
        && let Ok(v) = HeaderValue::from_str(request_id)
    {
        response.headers_mut().insert("x-amzn-RequestId", v);
    }
    response
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

/// SigV4 and session checks in the order of wire-contracts §4.2. Returns who signed (an STS
/// session, or an IAM user of `world` signing with a static `AKIA…` key) and the region the
/// client signed for.
fn authenticate(ctx: &CallContext<'_>) -> Result<(Caller, String), DdbError> {
    use irsa_core::signed::SignedCallError;
    use sigv4_verify::SigErrorKind;
    // Decision: a signature mismatch answers the plain text, without the "The Canonical String
    // for this request should have been …" tail real DynamoDB appends
    // (`sigv4_verify::Mismatch::dynamodb_message`). The canonical request holds every signed
    // header's value, `x-amz-security-token` included, and the message reaches logs, the audit
    // trail and any proxy on the way: no session token may travel in an error text. All four
    // SDKs read only the code (wire-contracts §3.3).
    let signed = irsa_core::signed::authenticate(
        ctx.world,
        ctx.state.sessions.as_ref(),
        ctx.state.clock.as_ref(),
        ctx.parts,
        ctx.body.bytes(),
        ctx.now,
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
