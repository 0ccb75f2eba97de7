//! Scenario files: a world plus steps, each acting as someone, calling one operation and saying
//! what must happen. Parsed raw, then resolved, with every problem located at once. Pure: the
//! caller reads files.

use std::fmt;

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioFile {
    pub name: String,
    pub description: Option<String>,
    /// The world file, relative to the scenario file.
    pub world: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: String,
    pub actor: Actor,
    pub call: Call,
    /// The operation's request, in AWS's JSON shape (DynamoDB) or as STS parameters.
    pub request: Value,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A pod running as this service account, through the full IRSA flow.
    ServiceAccount { namespace: String, name: String },
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::ServiceAccount { namespace, name } => write!(f, "{namespace}/{name}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `sts` or `dynamodb`.
    pub service: String,
    pub operation: String,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service, self.operation)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Allow,
    Deny {
        /// The AWS error code (`AccessDeniedException`, `AccessDenied`, `InvalidIdentityToken`).
        code: String,
        /// A substring the error message must contain.
        message_contains: Option<String>,
    },
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Allow => f.write_str("allow"),
            Expect::Deny { code, .. } => write!(f, "deny {code}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioProblem {
    /// JSON pointer inside the file.
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    pub file: String,
    pub problems: Vec<ScenarioProblem>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "{} has {n} problem{}:",
            self.file,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            let path = if p.path.is_empty() { "/" } else { &p.path };
            writeln!(f, "  - {}: {path}: {}", self.file, p.message)?;
        }
        Ok(())
    }
}

const SERVICES: &[&str] = &["sts", "dynamodb"];
const STS_OPERATIONS: &[&str] = &["AssumeRoleWithWebIdentity", "GetCallerIdentity"];

/// Parse a scenario file's text. `file` only names it in errors.
pub fn parse(text: &str, file: &str) -> Result<ScenarioFile, ScenarioError> {
    let fail = |path: &str, message: String| ScenarioError {
        file: file.to_owned(),
        problems: vec![ScenarioProblem {
            path: path.to_owned(),
            message,
        }],
    };
    let value: Value =
        serde_saphyr::from_str(text).map_err(|e| fail("", format!("not valid YAML: {e}")))?;
    let mut problems = Vec::new();
    let mut problem =
        |path: String, message: String| problems.push(ScenarioProblem { path, message });
    let Value::Object(root) = &value else {
        return Err(fail(
            "",
            "expected a mapping with `name`, `world` and `steps`".into(),
        ));
    };
    unknown_fields(
        root,
        "",
        &["name", "description", "world", "steps"],
        &mut problem,
    );
    let name = string(root, "name", "", true, &mut problem).unwrap_or_default();
    let description = string(root, "description", "", false, &mut problem);
    let world = string(root, "world", "", true, &mut problem).unwrap_or_default();
    let mut steps = Vec::new();
    match root.get("steps") {
        Some(Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                if let Some(step) = parse_step(item, &format!("/steps/{i}"), &mut problem) {
                    steps.push(step);
                }
            }
        }
        Some(Value::Array(_)) => {
            problem("/steps".into(), "a scenario needs at least one step".into())
        }
        Some(_) => problem("/steps".into(), "expected a list of steps".into()),
        None => problem("/steps".into(), "`steps` is required".into()),
    }
    if problems.is_empty() {
        Ok(ScenarioFile {
            name,
            description,
            world,
            steps,
        })
    } else {
        Err(ScenarioError {
            file: file.to_owned(),
            problems,
        })
    }
}

fn unknown_fields(
    map: &Map<String, Value>,
    path: &str,
    allowed: &[&str],
    problem: &mut impl FnMut(String, String),
) {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            problem(
                format!("{path}/{key}"),
                format!(
                    "unknown field `{key}`; expected one of: {}",
                    allowed.join(", ")
                ),
            );
        }
    }
}

fn string(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
    required: bool,
    problem: &mut impl FnMut(String, String),
) -> Option<String> {
    match map.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        None | Some(Value::Null) => {
            if required {
                problem(format!("{path}/{key}"), format!("`{key}` is required"));
            }
            None
        }
        Some(_) => {
            problem(format!("{path}/{key}"), "expected a string".into());
            None
        }
    }
}

fn parse_step(v: &Value, path: &str, problem: &mut impl FnMut(String, String)) -> Option<Step> {
    let Value::Object(m) = v else {
        problem(path.to_owned(), "expected a mapping".into());
        return None;
    };
    unknown_fields(
        m,
        path,
        &["name", "as", "call", "request", "expect"],
        problem,
    );
    let name = string(m, "name", path, false, problem);
    let actor = match string(m, "as", path, true, problem) {
        Some(text) => match text.split_once('/') {
            Some((ns, sa)) if !ns.is_empty() && !sa.is_empty() && !sa.contains('/') => {
                Some(Actor::ServiceAccount {
                    namespace: ns.to_owned(),
                    name: sa.to_owned(),
                })
            }
            _ => {
                problem(
                    format!("{path}/as"),
                    format!("`{text}` is not `<namespace>/<service-account>`"),
                );
                None
            }
        },
        None => None,
    };
    let call = match string(m, "call", path, true, problem) {
        Some(text) => match text.split_once(':') {
            Some((service, operation)) if SERVICES.contains(&service) && !operation.is_empty() => {
                if service == "sts" && !STS_OPERATIONS.contains(&operation) {
                    problem(
                        format!("{path}/call"),
                        format!(
                            "`{operation}` is not an STS operation the harness runs; expected one of: {}",
                            STS_OPERATIONS.join(", ")
                        ),
                    );
                    None
                } else {
                    Some(Call {
                        service: service.to_owned(),
                        operation: operation.to_owned(),
                    })
                }
            }
            _ => {
                problem(
                    format!("{path}/call"),
                    format!(
                        "`{text}` is not `<service>:<Operation>` with service one of: {}",
                        SERVICES.join(", ")
                    ),
                );
                None
            }
        },
        None => None,
    };
    let request = match m.get("request") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => {
            problem(
                format!("{path}/request"),
                "expected a mapping (the operation's request)".into(),
            );
            Value::Null
        }
    };
    let expect = match m.get("expect") {
        Some(Value::String(s)) if s == "allow" => Some(Expect::Allow),
        Some(Value::Object(e)) => {
            unknown_fields(
                e,
                &format!("{path}/expect"),
                &["deny", "message_contains"],
                problem,
            );
            match e.get("deny") {
                Some(Value::String(code)) => Some(Expect::Deny {
                    code: code.clone(),
                    message_contains: string(
                        e,
                        "message_contains",
                        &format!("{path}/expect"),
                        false,
                        problem,
                    ),
                }),
                _ => {
                    problem(
                        format!("{path}/expect/deny"),
                        "expected the AWS error code, e.g. `deny: AccessDeniedException`".into(),
                    );
                    None
                }
            }
        }
        Some(_) => {
            problem(
                format!("{path}/expect"),
                "expected `allow` or `{deny: <ErrorCode>}`".into(),
            );
            None
        }
        None => {
            problem(format!("{path}/expect"), "`expect` is required".into());
            None
        }
    };
    let (actor, call, expect) = (actor?, call?, expect?);
    let name = name.unwrap_or_else(|| format!("{call}"));
    Some(Step {
        name,
        actor,
        call,
        request,
        expect,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_scenario() {
        let s = parse(
            r#"
name: spine
world: ../worlds/curity.yaml
steps:
  - name: read
    as: curity/dynamo-sa
    call: dynamodb:GetItem
    request: {TableName: curity-accounts, Key: {pk: {S: "ai#1"}}}
    expect: allow
  - as: curity/dynamo-sa
    call: dynamodb:DeleteTable
    request: {TableName: other-table}
    expect: {deny: AccessDeniedException, message_contains: "no identity-based policy"}
"#,
            "s.yaml",
        )
        .unwrap();
        assert_eq!(s.steps.len(), 2);
        assert_eq!(s.steps[0].expect, Expect::Allow);
        assert_eq!(s.steps[1].name, "dynamodb:DeleteTable");
        assert_eq!(
            s.steps[1].actor,
            Actor::ServiceAccount {
                namespace: "curity".into(),
                name: "dynamo-sa".into()
            }
        );
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let err = parse(
            r#"
name: bad
wrld: x
steps:
  - as: nobody
    call: s3:GetObject
    expect: maybe
  - as: a/b
    call: sts:AssumeRole
    expect: {deny: 3}
"#,
            "bad.yaml",
        )
        .unwrap_err();
        let paths: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "/wrld",
                "/world",
                "/steps/0/as",
                "/steps/0/call",
                "/steps/0/expect",
                "/steps/1/call",
                "/steps/1/expect/deny"
            ]
        );
        assert!(
            err.to_string()
                .contains("bad.yaml: /steps/0/as: `nobody` is not")
        );
    }
}
