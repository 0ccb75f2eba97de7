//! Scenario parsing and resolution, as files are written.

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

/// The published JSON Schema names exactly the fields the parser accepts.
#[test]
fn json_schema_matches_the_parser() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../scenario.schema.json")).unwrap();
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

#[test]
fn transport_is_http_unless_a_call_step_says_https() {
    let s = parse(
        r#"
name: tls
world: w.yaml
steps:
  - as: curity/dynamo-sa
    call: dynamodb:GetItem
    request: {TableName: curity-accounts, Key: {pk: {S: "ai#1"}}}
    expect: allow
  - as: curity/dynamo-sa
    call: dynamodb:GetItem
    transport: https
    request: {TableName: curity-accounts, Key: {pk: {S: "ai#1"}}}
    expect: allow
"#,
        "s.yaml",
    )
    .unwrap();
    assert_eq!(s.steps[0].transport, Transport::Http);
    assert_eq!(s.steps[1].transport, Transport::Https);

    let err = parse(
        r#"
name: bad transport
world: w.yaml
steps:
  - as: curity/dynamo-sa
    call: dynamodb:GetItem
    transport: tls
    expect: allow
  - as: curity/dynamo-sa
    exec: [aws, sts, get-caller-identity]
    transport: https
    expect: allow
"#,
        "bad.yaml",
    )
    .unwrap_err();
    let problems: Vec<(&str, &str)> = err
        .problems
        .iter()
        .map(|p| (p.path.as_str(), p.message.as_str()))
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].0, "/steps/0/transport");
    assert!(problems[0].1.contains("`tls` is not `http` or `https`"));
    assert_eq!(problems[1].0, "/steps/1/transport");
    assert!(problems[1].1.contains("belongs to `call`"));
}
