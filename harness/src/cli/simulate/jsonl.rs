//! `irsa simulate --jsonl`: one request per line in the differential oracle's input shape
//! (`../shared/tools/iam-oracle`): policies, principal, context, accounts, SCP and RCP levels in,
//! one answer line out with the decision or an error naming the field at fault.

use iam_policy::{Context, Evaluation, NamedPolicy, OrgLevel, PolicySet, Request, Scope};
use serde_json::{Value, json};

use super::{decision_name, parse_principal};

/// A line that could not be answered: a code, as the oracle's, and a message.
#[derive(Debug)]
struct LineError {
    code: &'static str,
    message: String,
}

impl LineError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Answers one `--jsonl` input line: `None` for a blank or `#` line, otherwise
/// `{"id", "decision", "explanation"}` or `{"id", "decision": "Error", "error", "message"}`.
pub fn answer_line(line: &str) -> Option<Value> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return None;
    }
    let input: Value = match serde_json::from_str(trimmed) {
        Ok(v) => v,
        Err(e) => {
            return Some(error_line(
                &Value::Null,
                &LineError::new("invalid.json", format!("not JSON: {e}")),
            ));
        }
    };
    let id = input.get("id").cloned().unwrap_or(Value::Null);
    Some(match evaluate_input(&input) {
        Ok(evaluation) => match serde_json::to_value(&evaluation.explanation) {
            Ok(explanation) => json!({
                "id": id,
                "decision": decision_name(evaluation.decision),
                "explanation": explanation,
            }),
            Err(e) => error_line(&id, &LineError::new("internal", e.to_string())),
        },
        Err(e) => error_line(&id, &e),
    })
}

fn error_line(id: &Value, error: &LineError) -> Value {
    json!({"id": id, "decision": "Error", "error": error.code, "message": error.message})
}

/// One policy in any of the oracle's forms: a document, the document as a JSON string, or
/// `{"name": ..., "policy": ...}`.
fn input_policy(raw: &Value, default_name: &str, field: &str) -> Result<NamedPolicy, LineError> {
    let (name, doc) = match raw {
        Value::Object(map) if map.contains_key("policy") && !map.contains_key("Statement") => {
            let name = match map.get("name") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => default_name.to_owned(),
            };
            (name, map.get("policy").unwrap_or(&Value::Null))
        }
        other => (default_name.to_owned(), other),
    };
    let parsed = match doc {
        Value::String(text) => iam_policy::Policy::parse(text),
        other => iam_policy::Policy::from_value(other),
    };
    parsed
        .map(|policy| NamedPolicy::new(name, policy))
        .map_err(|e| LineError::new("invalid.policy", format!("`{field}`: {e}")))
}

/// A field holding one policy or a list of them.
fn input_policies(input: &Value, field: &str, name: &str) -> Result<Vec<NamedPolicy>, LineError> {
    let name_at = |i: usize, many: bool| {
        if many {
            format!("{name}{i}")
        } else {
            name.to_owned()
        }
    };
    match input.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, p)| input_policy(p, &name_at(i, true), &format!("{field}/{i}")))
            .collect(),
        Some(one) => Ok(vec![input_policy(one, &name_at(0, false), field)?]),
    }
}

fn evaluate_input(input: &Value) -> Result<Evaluation, LineError> {
    if !input.is_object() {
        return Err(LineError::new(
            "invalid.input",
            "a request line must be a JSON object",
        ));
    }
    let identity = input_policies(input, "identityPolicies", "identity")?;
    let mut boundaries = input_policies(input, "permissionBoundaries", "boundary")?;
    if let Some(only) = boundaries
        .first_mut()
        .filter(|_| !input["permissionBoundaries"].is_array())
    {
        "boundary0".clone_into(&mut only.name);
    }
    if boundaries.len() > 1 {
        return Err(LineError::new(
            "unsupported",
            "an entity has at most one permissions boundary",
        ));
    }
    let session = input_policies(input, "sessionPolicy", "SessionPolicy")?
        .into_iter()
        .map(|mut p| {
            if p.name.starts_with("SessionPolicy") {
                "SessionPolicy".clone_into(&mut p.name);
            }
            p
        })
        .collect::<Vec<_>>();
    let resource = match input.get("resourcePolicy") {
        None | Some(Value::Null) => None,
        Some(raw) => Some(input_policy(raw, "ResourcePolicy", "resourcePolicy")?),
    };
    let scp = org_policies(input, "scp")?;
    let rcp = org_policies(input, "rcp")?;

    let request = input
        .get("request")
        .filter(|r| r.is_object())
        .ok_or_else(|| LineError::new("invalid.request", "`request` must be an object"))?;
    let text = |field: &str| -> Result<String, LineError> {
        request
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                LineError::new(
                    "invalid.request",
                    format!("`request.{field}` must be a string"),
                )
            })
    };
    let action = text("action")?;
    let resource_arn = text("resource")?;
    let context: Context = match request.get("context") {
        None | Some(Value::Null) => Context::new(),
        Some(raw) => serde_json::from_value(raw.clone())
            .map_err(|e| LineError::new("invalid.context", format!("`request.context`: {e}")))?,
    };
    let principal = match request.get("principal") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(_) => {
            return Err(LineError::new(
                "invalid.request",
                "`request.principal` must be a string",
            ));
        }
    };
    // The oracle's `request.resourceAccount`: the resource owner's account where the ARN does
    // not say (the engine reads the ARN's account otherwise).
    let resource_account = match request.get("resourceAccount") {
        None | Some(Value::Null) => None,
        Some(Value::String(a)) if !a.is_empty() => Some(a.clone()),
        Some(_) => {
            return Err(LineError::new(
                "invalid.request",
                "`request.resourceAccount` must be a non-empty string",
            ));
        }
    };

    let mut request = Request::new(action, resource_arn).with_context(context);
    if let Some(principal) = principal {
        request = request.with_principal(parse_principal(&principal));
    }
    let set = PolicySet {
        identity: &identity,
        resource: resource.as_ref(),
        permissions_boundary: boundaries.first(),
        session: &session,
        // One level given without `orgIdentifier`: the flat SCP list the engine has always read.
        scp: scp.as_ref().and_then(OrgLevels::flat),
    };
    let scp_levels = scp
        .as_ref()
        .filter(|levels| levels.flat().is_none())
        .map(|levels| levels.borrowed());
    let rcp_levels = rcp.as_ref().map(|levels| levels.borrowed());
    let scope = Scope {
        resource_account: resource_account.as_deref(),
        scp: scp_levels.as_deref(),
        rcp: rcp_levels.as_deref(),
    };
    Ok(iam_policy::evaluate_in(&set, &scope, &request))
}

/// SCP or RCP levels read from a `--jsonl` line, root first.
struct OrgLevels {
    /// Given as one document or list, without `orgIdentifier`: one level, the account.
    flat: bool,
    levels: Vec<(String, Vec<NamedPolicy>)>,
}

impl OrgLevels {
    fn flat(&self) -> Option<&[NamedPolicy]> {
        match (self.flat, self.levels.as_slice()) {
            (true, [(_, policies)]) => Some(policies),
            _ => None,
        }
    }

    fn borrowed(&self) -> Vec<OrgLevel<'_>> {
        self.levels
            .iter()
            .map(|(id, policies)| OrgLevel { id, policies })
            .collect()
    }
}

/// `scp` / `rcp` in the oracle's shapes: absent (not governed), a document or a list of
/// documents (one level, the account), or `[{"orgIdentifier", "policies"}, ...]` (a hierarchy,
/// root first). Policy names follow the oracle's (`scp0`, `rcp0`, `scp0-0`, ...).
fn org_policies(input: &Value, field: &str) -> Result<Option<OrgLevels>, LineError> {
    let items = match input.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items.as_slice(),
        Some(one) => std::slice::from_ref(one),
    };
    let hierarchy = !items.is_empty()
        && items
            .iter()
            .all(|i| i.is_object() && i.get("orgIdentifier").is_some());
    if !hierarchy {
        let policies = items
            .iter()
            .enumerate()
            .map(|(i, p)| input_policy(p, &format!("{field}{i}"), &format!("{field}/{i}")))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Some(OrgLevels {
            flat: true,
            levels: vec![("account".to_owned(), policies)],
        }));
    }
    let mut levels = Vec::with_capacity(items.len());
    for (i, level) in items.iter().enumerate() {
        let id = match &level["orgIdentifier"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let policies = match level.get("policies") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.as_slice().to_vec(),
            Some(one) => vec![one.clone()],
        };
        let policies = policies
            .iter()
            .enumerate()
            .map(|(j, p)| {
                input_policy(
                    p,
                    &format!("{field}{i}-{j}"),
                    &format!("{field}/{i}/policies/{j}"),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        levels.push((id, policies));
    }
    Ok(Some(OrgLevels {
        flat: false,
        levels,
    }))
}
