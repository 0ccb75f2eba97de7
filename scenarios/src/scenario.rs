//! Scenario files: a world plus steps, each acting as someone, calling one operation and saying
//! what must happen. Parsed raw, then resolved, with every problem located at once. Pure: the
//! caller reads files.

use std::fmt;

use serde_json::{Map, Value};

use crate::call::Call;

mod step;
use step::parse_step;

#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioFile {
    pub name: String,
    pub description: Option<String>,
    /// The world: a file relative to the scenario file, or given inline.
    pub world: WorldRef,
    pub steps: Vec<Step>,
}

/// Where a scenario's world comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum WorldRef {
    /// A world file, relative to the scenario file.
    File(String),
    /// A world document written in the scenario file itself (its `*_file` paths are relative
    /// to the scenario file).
    Inline(Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: String,
    pub actor: Actor,
    /// How the actor's token is minted (service accounts only).
    pub token: Option<TokenOverrides>,
    /// Changes to the world made before the step runs, in order.
    pub before: Vec<Change>,
    pub action: Action,
    /// How a `call` step reaches the harness (`transport:`); `exec` steps use the pod's
    /// environment instead.
    pub transport: Transport,
    pub expect: Expect,
}

/// The connection a `call` step's request travels over: what `aws:SecureTransport` sees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Plain HTTP to the edge port (`http`, the default).
    #[default]
    Http,
    /// TLS to the edge port, trusting the state dir's local CA (`https`).
    Https,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// One STS or DynamoDB operation.
    Call {
        call: Call,
        /// The operation's request, in AWS's JSON shape (DynamoDB) or as STS parameters.
        request: Value,
    },
    /// A command run with the environment the pod-identity webhook gives the actor's pod;
    /// `allow` means exit status 0.
    Exec { argv: Vec<String> },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Call { call, .. } => write!(f, "{call}"),
            Action::Exec { argv } => write!(f, "exec {}", argv.join(" ")),
        }
    }
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A pod running as this service account, through the full IRSA flow (`curity/dynamo-sa`).
    ServiceAccount { namespace: String, name: String },
    /// An IAM user of the world, signing with its static access key (`user:NAME`).
    User { name: String },
    /// The node's instance role, as a pod without IRSA gets it from instance metadata
    /// (`node-role`).
    NodeRole,
    /// No credentials at all: an unsigned request (`anonymous`).
    Anonymous,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::ServiceAccount { namespace, name } => write!(f, "{namespace}/{name}"),
            Actor::User { name } => write!(f, "user:{name}"),
            Actor::NodeRole => f.write_str("node-role"),
            Actor::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// How a service account's token differs from the one the kubelet would project: the one shape
/// of token overrides for scenario steps (`token:`), `irsa token`'s flags and the control API's
/// wire (JSON, these field names). `raw` and `reuse` only make sense for a step, which presents
/// a token rather than minting one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenOverrides {
    /// `aud`; empty keeps the projected volume's audience.
    pub audience: Vec<String>,
    /// Seconds from now to `exp`; negative for a token that has already expired.
    pub expires_in: Option<i64>,
    /// Seconds from now to `nbf`.
    pub not_before: Option<i64>,
    /// `iss`.
    pub issuer: Option<String>,
    /// The header's `kid`.
    pub kid: Option<String>,
    /// `sub`.
    pub sub: Option<String>,
    /// Sign with a key the issuer never published.
    pub foreign_key: bool,
    /// Send this text as the token instead of minting one (`not-a-jwt`).
    pub raw: Option<String>,
    /// Present the token this service account presented in its previous step again, as a
    /// projected token file the kubelet has not rewritten yet (e.g. across a key rotation).
    pub reuse: bool,
}

/// A change to the running world before a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Move the harness clock forward.
    AdvanceClock { seconds: i64 },
    /// Give a cluster's issuer a new signing key, keeping the old one in its JWKS or not.
    RotateKey { cluster: String, keep_old: bool },
    /// Take a cluster's issuer down for STS (`issuer_down`) or bring it back (`issuer_up`).
    IssuerReachable { cluster: String, reachable: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Allow,
    Deny {
        /// The AWS error code (`AccessDeniedException`, `AccessDenied`, `InvalidIdentityToken`).
        code: String,
        /// A substring the error message must contain.
        message_contains: Option<String>,
        /// A regular expression the error message must match.
        message_matches: Option<String>,
        /// The statement the decision must rest on.
        decisive: Option<Decisive>,
    },
}

/// A statement named by its policy and `Sid` (or 1-based position, as the explanation shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decisive {
    pub policy: String,
    pub statement: String,
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
    /// 1-based line in the file, when known.
    pub line: Option<u64>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    pub file: String,
    pub problems: Vec<ScenarioProblem>,
}

impl ScenarioError {
    /// Problems found in `text` (the file's content), each given its line.
    pub fn located(file: &str, text: &str, problems: Vec<(String, String)>) -> Self {
        ScenarioError {
            file: file.to_owned(),
            problems: problems
                .into_iter()
                .map(|(path, message)| ScenarioProblem {
                    line: crate::locate::line_of(text, &path),
                    path,
                    message,
                })
                .collect(),
        }
    }
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
            match p.line {
                Some(line) => writeln!(f, "  - {}:{line}: {path}: {}", self.file, p.message)?,
                None => writeln!(f, "  - {}: {path}: {}", self.file, p.message)?,
            }
        }
        Ok(())
    }
}

pub(crate) const STEP_FIELDS: &[&str] = &[
    "name",
    "as",
    "token",
    "before",
    "call",
    "request",
    "exec",
    "transport",
    "expect",
];
pub(crate) const TOKEN_FIELDS: &[&str] = &[
    "audience",
    "expires_in",
    "not_before",
    "issuer",
    "kid",
    "sub",
    "signing_key",
    "raw",
    "reuse",
];
pub(crate) const EXPECT_FIELDS: &[&str] =
    &["deny", "message_contains", "message_matches", "decisive"];

/// The fields a scenario file, a step, a step's `token` and a step's `expect` accept; the JSON
/// Schema in `scenario.schema.json` is tested against these.
pub const FIELDS: &[(&str, &[&str])] = &[
    ("scenario", &["name", "description", "world", "steps"]),
    ("step", STEP_FIELDS),
    ("token", TOKEN_FIELDS),
    ("expect", EXPECT_FIELDS),
];

pub(crate) type Problems = Vec<(String, String)>;

/// Parse a scenario file's text (stage one: its own shape). `file` only names it in errors.
pub fn parse(text: &str, file: &str) -> Result<ScenarioFile, ScenarioError> {
    let value: Value = crate::from_yaml(text).map_err(|e| ScenarioError {
        file: file.to_owned(),
        problems: vec![ScenarioProblem {
            path: String::new(),
            line: None,
            message: format!("not valid YAML: {e}"),
        }],
    })?;
    let mut problems: Problems = Vec::new();
    let Value::Object(root) = &value else {
        return Err(ScenarioError::located(
            file,
            text,
            vec![(
                String::new(),
                "expected a mapping with `name`, `world` and `steps`".into(),
            )],
        ));
    };
    unknown_fields(
        root,
        "",
        &["name", "description", "world", "steps"],
        &mut problems,
    );
    let name = string(root, "name", "", true, &mut problems).unwrap_or_default();
    let description = string(root, "description", "", false, &mut problems);
    let world = match root.get("world") {
        Some(Value::String(path)) => WorldRef::File(path.clone()),
        Some(inline @ Value::Object(_)) => WorldRef::Inline(inline.clone()),
        None | Some(Value::Null) => {
            problems.push((
                "/world".into(),
                "`world` is required: a world file's path, or a world written inline".into(),
            ));
            WorldRef::File(String::new())
        }
        Some(_) => {
            problems.push((
                "/world".into(),
                "expected a world file's path or a world mapping".into(),
            ));
            WorldRef::File(String::new())
        }
    };
    let mut steps = Vec::new();
    match root.get("steps") {
        Some(Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                if let Some(step) = parse_step(item, &format!("/steps/{i}"), &mut problems) {
                    steps.push(step);
                }
            }
        }
        Some(Value::Array(_)) => {
            problems.push(("/steps".into(), "a scenario needs at least one step".into()))
        }
        Some(_) => problems.push(("/steps".into(), "expected a list of steps".into())),
        None => problems.push(("/steps".into(), "`steps` is required".into())),
    }
    if problems.is_empty() {
        Ok(ScenarioFile {
            name,
            description,
            world,
            steps,
        })
    } else {
        Err(ScenarioError::located(file, text, problems))
    }
}

/// What stage two checks a scenario against: the names its world defines.
#[derive(Debug, Clone, Default)]
pub struct WorldNames {
    /// `namespace/name` of every service account.
    pub service_accounts: Vec<String>,
    pub users: Vec<String>,
    pub clusters: Vec<String>,
    pub has_node_role: bool,
}

/// Stage two: check a parsed scenario against its world. Every problem is returned, with the
/// path of the step field that names something the world lacks.
pub fn resolve(scenario: &ScenarioFile, world: &WorldNames) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (i, step) in scenario.steps.iter().enumerate() {
        let path = format!("/steps/{i}");
        match &step.actor {
            Actor::ServiceAccount { namespace, name } => {
                let id = format!("{namespace}/{name}");
                if !world.service_accounts.contains(&id) {
                    problems.push((
                        format!("{path}/as"),
                        format!(
                            "`{id}` is not a service account of the world; it has: {}",
                            listed(&world.service_accounts)
                        ),
                    ));
                }
            }
            Actor::User { name } if !world.users.contains(name) => problems.push((
                format!("{path}/as"),
                format!(
                    "`{name}` is not an IAM user of the world; it has: {}",
                    listed(&world.users)
                ),
            )),
            Actor::NodeRole if !world.has_node_role => {
                problems.push((format!("{path}/as"), "the world has no `node_role`".into()))
            }
            _ => {}
        }
        if step.token.is_some() && !matches!(step.actor, Actor::ServiceAccount { .. }) {
            problems.push((
                format!("{path}/token"),
                "only a service account has a token to override".into(),
            ));
        }
        if matches!(step.action, Action::Exec { .. })
            && !matches!(step.actor, Actor::ServiceAccount { .. })
        {
            problems.push((
                format!("{path}/exec"),
                "`exec` runs as a service account's pod; `as` must name one".into(),
            ));
        }
        for (j, change) in step.before.iter().enumerate() {
            let (cluster, pointer) = match change {
                Change::RotateKey { cluster, .. } => (cluster, "rotate_key/cluster"),
                Change::IssuerReachable {
                    cluster,
                    reachable: false,
                } => (cluster, "issuer_down"),
                Change::IssuerReachable {
                    cluster,
                    reachable: true,
                } => (cluster, "issuer_up"),
                Change::AdvanceClock { .. } => continue,
            };
            if !world.clusters.contains(cluster) {
                problems.push((
                    format!("{path}/before/{j}/{pointer}"),
                    format!(
                        "`{cluster}` is not a cluster of the world; it has: {}",
                        listed(&world.clusters)
                    ),
                ));
            }
        }
    }
    problems
}

fn listed(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(", ")
    }
}

pub(crate) fn unknown_fields(
    map: &Map<String, Value>,
    path: &str,
    allowed: &[&str],
    problems: &mut Problems,
) {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            problems.push((
                format!("{path}/{key}"),
                format!(
                    "unknown field `{key}`; expected one of: {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
}

pub(crate) fn string(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
    required: bool,
    problems: &mut Problems,
) -> Option<String> {
    match map.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        None | Some(Value::Null) => {
            if required {
                problems.push((format!("{path}/{key}"), format!("`{key}` is required")));
            }
            None
        }
        Some(_) => {
            problems.push((format!("{path}/{key}"), "expected a string".into()));
            None
        }
    }
}

pub(crate) fn integer(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
    problems: &mut Problems,
) -> Option<i64> {
    match map.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) => Some(n),
            None => {
                problems.push((
                    format!("{path}/{key}"),
                    "expected a whole number of seconds".into(),
                ));
                None
            }
        },
    }
}

#[cfg(test)]
mod tests;
