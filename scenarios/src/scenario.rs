//! Scenario files: a world plus steps, each acting as someone, calling one operation and saying
//! what must happen. Parsed raw, then resolved, with every problem located at once. Pure: the
//! caller reads files.

use std::fmt;

use serde_json::{Map, Value};

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
    pub expect: Expect,
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

/// How a service account's token differs from the one the kubelet would project; the same
/// overrides `irsa token` takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
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

const SERVICES: &[&str] = &["sts", "dynamodb"];
const STS_OPERATIONS: &[&str] = &["AssumeRoleWithWebIdentity", "GetCallerIdentity"];
const STEP_FIELDS: &[&str] = &[
    "name", "as", "token", "before", "call", "request", "exec", "expect",
];
const TOKEN_FIELDS: &[&str] = &[
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
const EXPECT_FIELDS: &[&str] = &["deny", "message_contains", "message_matches", "decisive"];

/// The fields a scenario file, a step, a step's `token` and a step's `expect` accept; the JSON
/// Schema in `scenario.schema.json` is tested against these.
pub const FIELDS: &[(&str, &[&str])] = &[
    ("scenario", &["name", "description", "world", "steps"]),
    ("step", STEP_FIELDS),
    ("token", TOKEN_FIELDS),
    ("expect", EXPECT_FIELDS),
];

type Problems = Vec<(String, String)>;

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

fn unknown_fields(map: &Map<String, Value>, path: &str, allowed: &[&str], problems: &mut Problems) {
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

fn string(
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

fn integer(
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

/// `90s`, `15m`, `2h`, `1d`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: i64 = number.parse().ok()?;
    let factor = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(factor)
}

fn parse_actor(v: Option<&Value>, path: &str, problems: &mut Problems) -> Option<Actor> {
    let path = format!("{path}/as");
    let text = match v {
        Some(Value::String(text)) => text,
        None | Some(Value::Null) => {
            problems.push((path, "`as` is required: `<namespace>/<service-account>`, `user:<name>`, `node-role` or `anonymous`".into()));
            return None;
        }
        Some(_) => {
            problems.push((path, "expected a string".into()));
            return None;
        }
    };
    match text.as_str() {
        "node-role" => return Some(Actor::NodeRole),
        "anonymous" => return Some(Actor::Anonymous),
        _ => {}
    }
    if let Some(name) = text.strip_prefix("user:") {
        if !name.is_empty() {
            return Some(Actor::User {
                name: name.to_owned(),
            });
        }
    } else if let Some((ns, sa)) = text.split_once('/')
        && !ns.is_empty()
        && !sa.is_empty()
        && !sa.contains('/')
    {
        return Some(Actor::ServiceAccount {
            namespace: ns.to_owned(),
            name: sa.to_owned(),
        });
    }
    problems.push((
        path,
        format!("`{text}` is not `<namespace>/<service-account>`, `user:<name>`, `node-role` or `anonymous`"),
    ));
    None
}

fn parse_token(v: &Value, path: &str, problems: &mut Problems) -> Option<TokenOverrides> {
    let Value::Object(m) = v else {
        problems.push((
            path.to_owned(),
            "expected a mapping of token overrides".into(),
        ));
        return None;
    };
    unknown_fields(m, path, TOKEN_FIELDS, problems);
    let audience = match m.get("audience") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|a| match a {
                Value::String(a) => Some(a.clone()),
                _ => {
                    problems.push((format!("{path}/audience"), "expected strings".into()));
                    None
                }
            })
            .collect(),
        Some(_) => {
            problems.push((
                format!("{path}/audience"),
                "expected a string or a list of strings".into(),
            ));
            Vec::new()
        }
    };
    let foreign_key = match string(m, "signing_key", path, false, problems).as_deref() {
        None | Some("issuer") => false,
        Some("foreign") => true,
        Some(other) => {
            problems.push((
                format!("{path}/signing_key"),
                format!("`{other}` is not `issuer` or `foreign`"),
            ));
            false
        }
    };
    Some(TokenOverrides {
        audience,
        expires_in: integer(m, "expires_in", path, problems),
        not_before: integer(m, "not_before", path, problems),
        issuer: string(m, "issuer", path, false, problems),
        kid: string(m, "kid", path, false, problems),
        sub: string(m, "sub", path, false, problems),
        foreign_key,
        raw: string(m, "raw", path, false, problems),
        reuse: match m.get("reuse") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                problems.push((format!("{path}/reuse"), "expected true or false".into()));
                false
            }
        },
    })
}

fn parse_changes(v: &Value, path: &str, problems: &mut Problems) -> Vec<Change> {
    let Value::Array(items) = v else {
        problems.push((path.to_owned(), "expected a list of changes".into()));
        return Vec::new();
    };
    let mut changes = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{path}/{i}");
        let Value::Object(m) = item else {
            problems.push((
                path,
                "expected `advance_clock: <duration>`, `rotate_key: {cluster: <name>}`, `issuer_down: <cluster>` or `issuer_up: <cluster>`".into(),
            ));
            continue;
        };
        unknown_fields(
            m,
            &path,
            &["advance_clock", "rotate_key", "issuer_down", "issuer_up"],
            problems,
        );
        for (key, reachable) in [("issuer_down", false), ("issuer_up", true)] {
            match m.get(key) {
                None => {}
                Some(Value::String(cluster)) => changes.push(Change::IssuerReachable {
                    cluster: cluster.clone(),
                    reachable,
                }),
                Some(_) => {
                    problems.push((format!("{path}/{key}"), "expected a cluster name".into()))
                }
            }
        }
        if let Some(v) = m.get("advance_clock") {
            let seconds = match v {
                Value::String(t) => parse_duration(t),
                Value::Number(n) => n.as_i64(),
                _ => None,
            };
            match seconds {
                Some(seconds) if seconds > 0 => changes.push(Change::AdvanceClock { seconds }),
                _ => problems.push((
                    format!("{path}/advance_clock"),
                    "expected a positive duration: `90s`, `15m`, `2h`, `1d` or seconds".into(),
                )),
            }
        }
        if let Some(v) = m.get("rotate_key") {
            let rpath = format!("{path}/rotate_key");
            match v {
                Value::Object(r) => {
                    unknown_fields(r, &rpath, &["cluster", "keep_old"], problems);
                    let keep_old = match r.get("keep_old") {
                        None => false,
                        Some(Value::Bool(b)) => *b,
                        Some(_) => {
                            problems.push((
                                format!("{rpath}/keep_old"),
                                "expected true or false".into(),
                            ));
                            false
                        }
                    };
                    if let Some(cluster) = string(r, "cluster", &rpath, true, problems) {
                        changes.push(Change::RotateKey { cluster, keep_old });
                    }
                }
                _ => problems.push((
                    rpath,
                    "expected `{cluster: <name>, keep_old: false}`".into(),
                )),
            }
        }
    }
    changes
}

fn parse_call(text: &str, path: &str, problems: &mut Problems) -> Option<Call> {
    match text.split_once(':') {
        Some((service, operation)) if SERVICES.contains(&service) && !operation.is_empty() => {
            if service == "sts" && !STS_OPERATIONS.contains(&operation) {
                problems.push((
                    path.to_owned(),
                    format!(
                        "`{operation}` is not an STS operation the harness runs; expected one of: {}",
                        STS_OPERATIONS.join(", ")
                    ),
                ));
                None
            } else {
                Some(Call {
                    service: service.to_owned(),
                    operation: operation.to_owned(),
                })
            }
        }
        _ => {
            problems.push((
                path.to_owned(),
                format!(
                    "`{text}` is not `<service>:<Operation>` with service one of: {}",
                    SERVICES.join(", ")
                ),
            ));
            None
        }
    }
}

fn parse_expect(v: Option<&Value>, path: &str, problems: &mut Problems) -> Option<Expect> {
    let path = format!("{path}/expect");
    match v {
        Some(Value::String(s)) if s == "allow" => Some(Expect::Allow),
        Some(Value::Object(e)) => {
            unknown_fields(e, &path, EXPECT_FIELDS, problems);
            let message_matches = string(e, "message_matches", &path, false, problems);
            if let Some(pattern) = &message_matches
                && let Err(err) = regex_lite::Regex::new(pattern)
            {
                problems.push((
                    format!("{path}/message_matches"),
                    format!("not a valid regular expression: {err}"),
                ));
            }
            let decisive = match e.get("decisive") {
                None | Some(Value::Null) => None,
                Some(Value::Object(d)) => {
                    let dpath = format!("{path}/decisive");
                    unknown_fields(d, &dpath, &["policy", "statement"], problems);
                    let policy = string(d, "policy", &dpath, true, problems);
                    let statement = string(d, "statement", &dpath, true, problems);
                    policy
                        .zip(statement)
                        .map(|(policy, statement)| Decisive { policy, statement })
                }
                Some(_) => {
                    problems.push((
                        format!("{path}/decisive"),
                        "expected `{policy: <name>, statement: <Sid or position>}`".into(),
                    ));
                    None
                }
            };
            let message_contains = string(e, "message_contains", &path, false, problems);
            match e.get("deny") {
                Some(Value::String(code)) => Some(Expect::Deny {
                    code: code.clone(),
                    message_contains,
                    message_matches,
                    decisive,
                }),
                _ => {
                    problems.push((
                        format!("{path}/deny"),
                        "expected the AWS error code, e.g. `deny: AccessDeniedException`".into(),
                    ));
                    None
                }
            }
        }
        Some(_) => {
            problems.push((path, "expected `allow` or `{deny: <ErrorCode>}`".into()));
            None
        }
        None => {
            problems.push((path, "`expect` is required".into()));
            None
        }
    }
}

fn parse_step(v: &Value, path: &str, problems: &mut Problems) -> Option<Step> {
    let Value::Object(m) = v else {
        problems.push((path.to_owned(), "expected a mapping".into()));
        return None;
    };
    unknown_fields(m, path, STEP_FIELDS, problems);
    let name = string(m, "name", path, false, problems);
    let actor = parse_actor(m.get("as"), path, problems);
    let token = match m.get("token") {
        None | Some(Value::Null) => None,
        Some(v) => parse_token(v, &format!("{path}/token"), problems),
    };
    let before = match m.get("before") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => parse_changes(v, &format!("{path}/before"), problems),
    };
    let action = match (m.get("call"), m.get("exec")) {
        (Some(_), Some(_)) => {
            problems.push((
                format!("{path}/exec"),
                "a step has `call` or `exec`, not both".into(),
            ));
            None
        }
        (Some(Value::String(text)), None) => {
            let call = parse_call(text, &format!("{path}/call"), problems);
            let request = match m.get("request") {
                None | Some(Value::Null) => Some(Value::Object(Map::new())),
                Some(v @ Value::Object(_)) => Some(v.clone()),
                Some(_) => {
                    problems.push((
                        format!("{path}/request"),
                        "expected a mapping (the operation's request)".into(),
                    ));
                    None
                }
            };
            call.zip(request)
                .map(|(call, request)| Action::Call { call, request })
        }
        (Some(_), None) => {
            problems.push((format!("{path}/call"), "expected a string".into()));
            None
        }
        (None, Some(Value::Array(items))) if !items.is_empty() => {
            let argv: Vec<String> = items
                .iter()
                .filter_map(|a| match a {
                    Value::String(a) => Some(a.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect();
            if argv.len() != items.len() {
                problems.push((format!("{path}/exec"), "expected a list of strings".into()));
            }
            if m.contains_key("request") {
                problems.push((
                    format!("{path}/request"),
                    "`request` belongs to `call`; an `exec` step passes its arguments in `exec`"
                        .into(),
                ));
            }
            Some(Action::Exec { argv })
        }
        (None, Some(_)) => {
            problems.push((
                format!("{path}/exec"),
                "expected the command as a non-empty list: [aws, dynamodb, list-tables]".into(),
            ));
            None
        }
        (None, None) => {
            problems.push((
                format!("{path}/call"),
                "a step needs `call` (an operation) or `exec` (a command)".into(),
            ));
            None
        }
    };
    let expect = parse_expect(m.get("expect"), path, problems);
    let (actor, action, expect) = (actor?, action?, expect?);
    let name = name.unwrap_or_else(|| action.to_string());
    Some(Step {
        name,
        actor,
        token,
        before,
        action,
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
                .contains("bad.yaml:5: /steps/0/as: `nobody` is not")
        );
        assert_eq!(
            err.problems[0].line,
            Some(3),
            "the unknown field's own line"
        );
    }

    #[test]
    fn parses_actors_overrides_changes_exec_and_detailed_expectations() {
        let s = parse(
            r#"
name: everything
world: {account: "111122223333"}
steps:
  - as: curity/dynamo-sa
    token: {audience: [not-sts], expires_in: -60, signing_key: foreign, kid: k1, sub: "system:serviceaccount:x:y"}
    before:
      - advance_clock: 2h
      - rotate_key: {cluster: c1, keep_old: true}
    call: sts:AssumeRoleWithWebIdentity
    request: {DurationSeconds: 7200}
    expect: {deny: InvalidIdentityToken, message_matches: "^Incorrect token audience$"}
  - as: user:admin
    call: dynamodb:ListTables
    expect: allow
  - as: node-role
    exec: [aws, dynamodb, list-tables]
    expect: allow
  - as: anonymous
    call: dynamodb:ListTables
    expect:
      deny: AccessDeniedException
      decisive: {policy: deny-all, statement: NoDelete}
"#,
            "e.yaml",
        )
        .unwrap();
        assert!(matches!(s.world, WorldRef::Inline(_)));
        let first = &s.steps[0];
        let token = first.token.as_ref().unwrap();
        assert_eq!(token.audience, ["not-sts"]);
        assert_eq!(token.expires_in, Some(-60));
        assert!(token.foreign_key);
        assert_eq!(
            first.before,
            [
                Change::AdvanceClock { seconds: 7200 },
                Change::RotateKey {
                    cluster: "c1".into(),
                    keep_old: true
                }
            ]
        );
        assert_eq!(
            s.steps[1].actor,
            Actor::User {
                name: "admin".into()
            }
        );
        assert_eq!(s.steps[2].actor, Actor::NodeRole);
        assert_eq!(
            s.steps[2].action,
            Action::Exec {
                argv: vec!["aws".into(), "dynamodb".into(), "list-tables".into()]
            }
        );
        assert_eq!(s.steps[2].name, "exec aws dynamodb list-tables");
        let Expect::Deny { decisive, .. } = &s.steps[3].expect else {
            panic!("a deny")
        };
        assert_eq!(
            decisive.as_ref().unwrap(),
            &Decisive {
                policy: "deny-all".into(),
                statement: "NoDelete".into()
            }
        );
    }

    #[test]
    fn rejects_bad_overrides_and_changes_each_at_its_path() {
        let err = parse(
            r#"
name: bad
world: w.yaml
steps:
  - as: c/d
    token: {audience: 3, signing_key: stolen, lifetime: 1}
    before: [{advance_clock: soon}, {rotate_key: {keep_old: maybe}}]
    call: dynamodb:GetItem
    exec: [ls]
    expect: {deny: X, message_matches: "("}
"#,
            "bad.yaml",
        )
        .unwrap_err();
        let paths: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "/steps/0/token/lifetime",
                "/steps/0/token/audience",
                "/steps/0/token/signing_key",
                "/steps/0/before/0/advance_clock",
                "/steps/0/before/1/rotate_key/keep_old",
                "/steps/0/before/1/rotate_key/cluster",
                "/steps/0/exec",
                "/steps/0/expect/message_matches",
            ]
        );
    }

    #[test]
    fn stage_two_names_what_the_world_lacks() {
        let s = parse(
            "name: s\nworld: w.yaml\nsteps:\n  - as: curity/nobody\n    call: dynamodb:ListTables\n    expect: allow\n  - as: user:ghost\n    token: {kid: x}\n    before: [{rotate_key: {cluster: nope}}, {issuer_down: gone}, {issuer_up: c1}]\n    call: dynamodb:ListTables\n    expect: allow\n",
            "s.yaml",
        )
        .unwrap();
        let names = WorldNames {
            service_accounts: vec!["curity/dynamo-sa".into()],
            users: vec!["admin".into()],
            clusters: vec!["c1".into()],
            has_node_role: false,
        };
        let problems = resolve(&s, &names);
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/steps/0/as",
                "/steps/1/as",
                "/steps/1/token",
                "/steps/1/before/0/rotate_key/cluster",
                "/steps/1/before/1/issuer_down",
            ]
        );
        assert!(problems[0].1.contains("it has: curity/dynamo-sa"));
        assert_eq!(
            s.steps[1].before[2],
            Change::IssuerReachable {
                cluster: "c1".into(),
                reachable: true
            }
        );
    }

    #[test]
    fn dynamodb_type_letters_stay_strings() {
        let s = parse(
            "name: s\nworld: w.yaml\nsteps:\n  - as: a/b\n    call: dynamodb:PutItem\n    request: {TableName: t, Item: {n: {N: \"1\"}, flag: {BOOL: yes}}, Type: N}\n    expect: allow\n",
            "s.yaml",
        )
        .unwrap();
        let Action::Call { request, .. } = &s.steps[0].action else {
            panic!("a call")
        };
        assert_eq!(request["Type"], "N");
        assert_eq!(request["Item"]["flag"]["BOOL"], "yes");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("1d"), Some(86_400));
        assert_eq!(parse_duration("3600"), Some(3600));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("5y"), None);
    }
}

#[cfg(test)]
mod schema_tests {
    use super::FIELDS;

    /// The published JSON Schema names exactly the fields the parser accepts.
    #[test]
    fn json_schema_matches_the_parser() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../scenario.schema.json")).unwrap();
        let keys = |pointer: &str| -> Vec<String> {
            let mut k: Vec<String> = schema
                .pointer(pointer)
                .and_then(|p| p.as_object())
                .unwrap_or_else(|| panic!("{pointer} in the schema"))
                .keys()
                .cloned()
                .collect();
            k.sort();
            k
        };
        for (what, fields) in FIELDS {
            let pointer = match *what {
                "scenario" => "/properties",
                "step" => "/$defs/step/properties",
                "token" => "/$defs/token/properties",
                "expect" => "/$defs/expect/oneOf/1/properties",
                other => panic!("{other}"),
            };
            let mut want: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
            want.sort();
            assert_eq!(keys(pointer), want, "{what}");
        }
    }
}
