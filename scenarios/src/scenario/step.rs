//! One step of a scenario file, parsed: who acts (`as`), its token overrides, the changes made
//! before it, its call or command, and what it expects.

use serde_json::{Map, Value};

use super::{
    Action, Actor, Change, Decisive, EXPECT_FIELDS, Expect, Problems, STEP_FIELDS, Step,
    TOKEN_FIELDS, TokenOverrides, Transport, integer, string, unknown_fields,
};
use crate::call::Call;
use crate::duration::parse_duration;

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
                Value::String(t) => parse_duration(t).ok(),
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
    Call::parse(text)
        .map_err(|message| problems.push((path.to_owned(), message)))
        .ok()
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

pub(crate) fn parse_step(v: &Value, path: &str, problems: &mut Problems) -> Option<Step> {
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
    let transport = match string(m, "transport", path, false, problems).as_deref() {
        None | Some("http") => Transport::Http,
        Some("https") => Transport::Https,
        Some(other) => {
            problems.push((
                format!("{path}/transport"),
                format!("`{other}` is not `http` or `https`"),
            ));
            Transport::Http
        }
    };
    if transport == Transport::Https && matches!(action, Some(Action::Exec { .. })) {
        problems.push((
            format!("{path}/transport"),
            "`transport` belongs to `call`; an `exec` step reaches the harness as its pod's environment says".into(),
        ));
    }
    let expect = parse_expect(m.get("expect"), path, problems);
    let (actor, action, expect) = (actor?, action?, expect?);
    let name = name.unwrap_or_else(|| action.to_string());
    Some(Step {
        name,
        actor,
        token,
        before,
        action,
        transport,
        expect,
    })
}
