//! The IAM Query endpoint's shell: SigV4 (IAM users' static keys or STS sessions) → the pure
//! `iam` module's validation and authorisation needs → the caller's policies, evaluated against
//! the current world → one atomic world update → XML in IAM's namespace.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use iam_policy::Decision;
use irsa_core::caller::Caller;

use crate::error::StsError;
use crate::handler::StsState;
use crate::iam::{self, IamError, NAMESPACE, Xml};
use crate::query::Query;
use crate::xml::XmlWriter;

/// Handle one IAM Query request whose body has been read.
pub async fn handle(state: &StsState, parts: &http::request::Parts, body: Bytes) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let q = Query::parse(&body);
    let action = q.get("Action").unwrap_or_default().to_owned();
    let now = state.clock.now();
    let world = state.world.snapshot();
    let mut caller = None;
    let result = run(state, parts, &body, &q, &action, now, &mut caller);
    if let Some(sink) = &state.audit {
        let record = irsa_core::audit::ApiCall {
            source: "iam.amazonaws.com",
            name: &action,
            region: "us-east-1",
            account: &world.account,
            time: now,
            request_id: &request_id,
            event_id: uuid::Uuid::new_v4().to_string(),
            read_only: action.starts_with("Get") || action.starts_with("List"),
            user_identity: irsa_core::audit::caller_identity(caller.as_ref(), &world),
            request_parameters: serde_json::Value::Null,
            response_elements: serde_json::Value::Null,
            error: result.as_ref().err().map(|e| (e.code, e.message.as_str())),
        }
        .record();
        sink.record(record);
    }
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
            respond(
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
                error = e.code,
                request_id,
                "iam call refused"
            );
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            respond(status, render_error(&e, &request_id), &request_id)
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
    .map_err(|e| from_signed(&e))?;
    let caller = signed.caller;
    *out = Some(caller.clone());
    if action.is_empty() {
        // [rec] as for STS.
        return Err(IamError {
            code: "MissingAction",
            status: 400,
            message: "Missing Action".to_owned(),
        });
    }
    let needed = iam::authorization(&world, action, q)?;
    let policies = caller.policies(&world);
    let mut context = caller.context(
        &signed.region,
        now,
        irsa_core::transport::Transport::of(&parts.extensions),
    );
    for (k, v) in &needed.context {
        context.insert(k.clone(), v.clone());
    }
    let request = iam_policy::Request {
        principal: Some(iam_policy::Principal::Aws(caller.arn().to_owned())),
        action: needed.action.clone(),
        resource: needed.resource.clone(),
        context,
    };
    let evaluation = iam_policy::evaluate(&policies.set(), &request);
    if evaluation.decision != Decision::Allow {
        let kind = evaluation
            .denied_by()
            .unwrap_or(iam_policy::PolicyKind::Identity);
        let head = format!(
            "User: {} is not authorized to perform: {} on resource: {}",
            caller.arn(),
            needed.action,
            needed.resource
        );
        let message = if evaluation.decision == Decision::ExplicitDeny {
            format!(
                "{head} with an explicit deny in a{} {}",
                if kind.aws_phrase().starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "n"
                } else {
                    ""
                },
                kind.aws_phrase()
            )
        } else {
            format!(
                "{head} because no {} allows the {} action",
                kind.aws_phrase(),
                needed.action
            )
        };
        tracing::debug!(explanation = %evaluation.explanation, "iam call denied");
        return Err(IamError::access_denied(message));
    }
    state
        .world
        .update(|w| iam::execute(w, action, q, now, state.keys.as_ref()))
}

/// The signed-call errors keep their Query-front-end codes and statuses (wire-contracts §1.5).
fn from_signed(e: &StsError) -> IamError {
    IamError {
        code: e.code(),
        status: e.status().as_u16(),
        message: e.to_string(),
    }
}

fn respond(status: StatusCode, body: String, request_id: &str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
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

pub fn render_error(e: &IamError, request_id: &str) -> String {
    let mut w = XmlWriter::new();
    w.open_root_ns("ErrorResponse", NAMESPACE)
        .open("Error")
        .leaf(
            "Type",
            if e.status >= 500 {
                "Receiver"
            } else {
                "Sender"
            },
        )
        .leaf("Code", e.code)
        .leaf("Message", &e.message)
        .close("Error")
        .leaf("RequestId", request_id)
        .close("ErrorResponse");
    w.finish()
}
