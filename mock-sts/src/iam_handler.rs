//! The IAM Query endpoint's shell: SigV4 (IAM users' static keys or STS sessions) → the pure
//! `iam` module's validation and authorisation needs → the caller's policies, evaluated against
//! the current world → one atomic world update → XML in IAM's namespace.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use irsa_core::caller::Caller;

use crate::error::{IamError, IamErrorResponse};
use crate::handler::{ControlPlaneCall, StsState};
use crate::iam::{self, IamOperation, NAMESPACE, Xml};
use crate::query::Query;
use crate::xml::{XmlWriter, query_response};

/// Handle one IAM Query request whose body has been read.
pub async fn handle(state: &StsState, parts: &http::request::Parts, body: Bytes) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let q = Query::parse(&body);
    let action = q.get("Action").unwrap_or_default().to_owned();
    let now = state.clock.now();
    let world = state.world.snapshot();
    let mut caller = None;
    let result = run(state, parts, &body, &q, &action, now, &mut caller);
    state.audit_control_plane(
        &world,
        now,
        &request_id,
        caller.as_ref(),
        ControlPlaneCall {
            source: "iam.amazonaws.com",
            name: &action,
            region: "us-east-1",
            read_only: action.starts_with("Get") || action.starts_with("List"),
            request_parameters: serde_json::Value::Null,
            error: result.as_ref().err().map(|e| (e.code(), e.to_string())),
        },
    );
    match result {
        Ok(xml) => {
            tracing::info!(
                service = "iam",
                action,
                principal = caller.as_ref().map_or("-", Caller::arn),
                decision = "allow",
                request_id,
                "iam call"
            );
            query_response(
                StatusCode::OK,
                render_success(&action, xml.as_ref(), &request_id),
                &request_id,
            )
        }
        Err(e) => {
            tracing::info!(
                service = "iam",
                action,
                principal = caller.as_ref().map_or("-", Caller::arn),
                decision = "deny",
                error = e.code(),
                request_id,
                "iam call refused"
            );
            IamErrorResponse {
                error: e,
                request_id,
            }
            .into_response()
        }
    }
}

fn run(
    state: &StsState,
    parts: &http::request::Parts,
    body: &[u8],
    q: &Query,
    action: &str,
    now: i64,
    out: &mut Option<Caller>,
) -> Result<Option<Xml>, IamError> {
    let world = state.world.snapshot();
    let signed = crate::signed::authenticate(
        &world,
        state.sessions.as_ref(),
        parts,
        body,
        now,
        state.clock.as_ref(),
        "iam",
    )
    .map_err(IamError::Signed)?;
    let caller = signed.caller;
    *out = Some(caller.clone());
    if action.is_empty() {
        return Err(IamError::MissingAction);
    }
    let operation: IamOperation = action.parse()?;
    let needed = iam::authorization(&world, operation, q)?;
    let facts = irsa_core::caller::RequestFacts {
        region: &signed.region,
        now,
        source_ip: None,
        transport: irsa_core::transport::Transport::of(&parts.extensions),
    };
    let mut context = caller.context(&facts);
    for (k, v) in &needed.context {
        context.insert(k.clone(), v.clone());
    }
    if let Err(denied) = caller.authorize(
        &caller.policies(&world),
        None,
        &needed.action,
        &needed.resource,
        context,
    ) {
        tracing::debug!(explanation = %denied.evaluation.explanation, "iam call denied");
        return Err(IamError::access_denied(denied.message()));
    }
    state
        .world
        .update(|w| iam::execute(w, operation, q, now, state.keys.as_ref()))
}

/// `<XResponse xmlns=IAM><XResult>…</XResult><ResponseMetadata>…`; operations without output
/// have no `Result` element.
pub fn render_success(action: &str, result: Option<&Xml>, request_id: &str) -> String {
    let root = format!("{action}Response");
    let mut w = XmlWriter::new();
    w.open_root_ns(&root, NAMESPACE);
    if let Some(tree) = result {
        write_tree(&mut w, tree);
    }
    w.open("ResponseMetadata")
        .leaf("RequestId", request_id)
        .close("ResponseMetadata")
        .close(&root);
    w.finish()
}

fn write_tree(w: &mut XmlWriter, tree: &Xml) {
    match tree {
        Xml::Leaf(name, text) => {
            w.leaf(name, text);
        }
        Xml::Node(name, children) => {
            w.open(name);
            for child in children {
                write_tree(w, child);
            }
            w.close(name);
        }
    }
}
