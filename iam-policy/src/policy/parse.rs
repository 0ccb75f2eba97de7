//! JSON value -> [`Policy`], with a JSON pointer on every error.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{
    ActionBlock, Effect, Policy, PolicyError, PolicyErrorKind, PolicyVersion, PrincipalBlock,
    PrincipalSet, ResourceBlock, Statement, push_pointer,
};
use crate::condition::{Condition, Operator};
use crate::request::scalar_text;

type Result<T> = std::result::Result<T, PolicyError>;

fn err(pointer: &str, kind: PolicyErrorKind) -> PolicyError {
    PolicyError {
        pointer: pointer.to_owned(),
        kind,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(pointer: &str, expected: &'static str, got: &Value) -> PolicyError {
    err(
        pointer,
        PolicyErrorKind::WrongType {
            expected,
            got: type_name(got),
        },
    )
}

fn object<'v>(value: &'v Value, pointer: &str) -> Result<&'v Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(pointer, "an object", value))
}

fn string<'v>(value: &'v Value, pointer: &str) -> Result<&'v str> {
    value
        .as_str()
        .ok_or_else(|| wrong_type(pointer, "a string", value))
}

/// A string, or a non-empty array of strings (AWS accepts either wherever a list is allowed).
fn string_list(value: &Value, pointer: &str) -> Result<Vec<String>> {
    const EXPECTED: &str = "a string or an array of strings";
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if items.is_empty() => Err(err(pointer, PolicyErrorKind::Empty)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(wrong_type(
                    &push_pointer(pointer, &i.to_string()),
                    EXPECTED,
                    other,
                )),
            })
            .collect(),
        other => Err(wrong_type(pointer, EXPECTED, other)),
    }
}

pub(super) fn policy(value: &Value) -> Result<Policy> {
    let root = object(value, "")?;
    let mut version = None;
    let mut id = None;
    let mut statements = None;
    for (key, value) in root {
        let pointer = push_pointer("", key);
        match key.as_str() {
            "Version" => {
                version = Some(match string(value, &pointer)? {
                    "2012-10-17" => PolicyVersion::V2012_10_17,
                    "2008-10-17" => PolicyVersion::V2008_10_17,
                    other => {
                        return Err(err(
                            &pointer,
                            PolicyErrorKind::InvalidVersion {
                                got: other.to_owned(),
                            },
                        ));
                    }
                });
            }
            "Id" => id = Some(string(value, &pointer)?.to_owned()),
            "Statement" => statements = Some(statement_list(value, &pointer)?),
            _ => {
                return Err(err(
                    &pointer,
                    PolicyErrorKind::UnknownElement { name: key.clone() },
                ));
            }
        }
    }
    let statements =
        statements.ok_or_else(|| err("", PolicyErrorKind::Missing { name: "Statement" }))?;
    let mut seen = HashSet::new();
    for (i, statement) in statements.iter().enumerate() {
        if let Some(sid) = statement.sid.as_deref().filter(|s| !s.is_empty())
            && !seen.insert(sid)
        {
            return Err(err(
                &format!("/Statement/{i}/Sid"),
                PolicyErrorKind::DuplicateSid {
                    sid: sid.to_owned(),
                },
            ));
        }
    }
    Ok(Policy {
        version,
        id,
        statements,
    })
}

fn statement_list(value: &Value, pointer: &str) -> Result<Vec<Statement>> {
    match value {
        Value::Object(_) => Ok(vec![statement(value, pointer)?]),
        Value::Array(items) if items.is_empty() => Err(err(pointer, PolicyErrorKind::Empty)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| statement(item, &push_pointer(pointer, &i.to_string())))
            .collect(),
        other => Err(wrong_type(
            pointer,
            "an object or an array of objects",
            other,
        )),
    }
}

fn statement(value: &Value, pointer: &str) -> Result<Statement> {
    let map = object(value, pointer)?;
    let mut sid = None;
    let mut effect = None;
    let mut principal: Option<(&'static str, PrincipalBlock)> = None;
    let mut action: Option<(&'static str, ActionBlock)> = None;
    let mut resource: Option<(&'static str, ResourceBlock)> = None;
    let mut conditions = Vec::new();
    for (key, value) in map {
        let p = push_pointer(pointer, key);
        match key.as_str() {
            "Sid" => sid = Some(Arc::from(string(value, &p)?)),
            "Effect" => {
                effect = Some(match string(value, &p)? {
                    "Allow" => Effect::Allow,
                    "Deny" => Effect::Deny,
                    other => {
                        return Err(err(
                            &p,
                            PolicyErrorKind::InvalidEffect {
                                got: other.to_owned(),
                            },
                        ));
                    }
                });
            }
            "Principal" | "NotPrincipal" => {
                let set = principal_set(value, &p)?;
                let (name, block) = if key == "Principal" {
                    ("Principal", PrincipalBlock::Principal(set))
                } else {
                    ("NotPrincipal", PrincipalBlock::NotPrincipal(set))
                };
                exclusive(&mut principal, name, block, pointer)?;
            }
            "Action" | "NotAction" => {
                let list = string_list(value, &p)?;
                for (i, a) in list.iter().enumerate() {
                    check_action(a, &p, value.is_array().then_some(i))?;
                }
                let (name, block) = if key == "Action" {
                    ("Action", ActionBlock::Action(list))
                } else {
                    ("NotAction", ActionBlock::NotAction(list))
                };
                exclusive(&mut action, name, block, pointer)?;
            }
            "Resource" | "NotResource" => {
                let list = string_list(value, &p)?;
                for (i, r) in list.iter().enumerate() {
                    check_resource(r, &p, value.is_array().then_some(i))?;
                }
                let (name, block) = if key == "Resource" {
                    ("Resource", ResourceBlock::Resource(list))
                } else {
                    ("NotResource", ResourceBlock::NotResource(list))
                };
                exclusive(&mut resource, name, block, pointer)?;
            }
            "Condition" => conditions = condition_block(value, &p)?,
            _ => {
                return Err(err(
                    &p,
                    PolicyErrorKind::UnknownElement { name: key.clone() },
                ));
            }
        }
    }
    let effect = effect.ok_or_else(|| err(pointer, PolicyErrorKind::Missing { name: "Effect" }))?;
    let (_, action) = action.ok_or_else(|| {
        err(
            pointer,
            PolicyErrorKind::Missing {
                name: "Action` or `NotAction",
            },
        )
    })?;
    Ok(Statement {
        sid,
        effect,
        principal: principal.map(|(_, b)| b),
        action,
        resource: resource.map(|(_, b)| b),
        conditions,
    })
}

/// Stores `block` in `slot` unless its counterpart (`Action` vs `NotAction`, ...) is there.
fn exclusive<T>(
    slot: &mut Option<(&'static str, T)>,
    name: &'static str,
    block: T,
    pointer: &str,
) -> Result<()> {
    if let Some((first, _)) = slot {
        let (first, second) = if *first < name {
            (*first, name)
        } else {
            (name, *first)
        };
        return Err(err(pointer, PolicyErrorKind::Conflict { first, second }));
    }
    *slot = Some((name, block));
    Ok(())
}

fn item_pointer(pointer: &str, index: Option<usize>) -> String {
    match index {
        Some(i) => push_pointer(pointer, &i.to_string()),
        None => pointer.to_owned(),
    }
}

/// IAM requires a service prefix: `service:action`, with wildcards allowed on either side.
fn check_action(action: &str, pointer: &str, index: Option<usize>) -> Result<()> {
    let ok = action == "*"
        || action
            .split_once(':')
            .is_some_and(|(service, name)| !service.is_empty() && !name.is_empty());
    if ok {
        Ok(())
    } else {
        Err(err(
            &item_pointer(pointer, index),
            PolicyErrorKind::InvalidAction {
                got: action.to_owned(),
            },
        ))
    }
}

/// IAM requires `*` or an ARN (`arn:` with six parts; wildcards and variables allowed within).
fn check_resource(resource: &str, pointer: &str, index: Option<usize>) -> Result<()> {
    let ok = resource == "*" || (resource.starts_with("arn:") && resource.split(':').count() >= 6)
        // a variable may stand for a whole ARN (`${aws:SourceArn}`-style resources)
        || resource.starts_with("${");
    if ok {
        Ok(())
    } else {
        Err(err(
            &item_pointer(pointer, index),
            PolicyErrorKind::InvalidResource {
                got: resource.to_owned(),
            },
        ))
    }
}

fn principal_set(value: &Value, pointer: &str) -> Result<PrincipalSet> {
    match value {
        Value::String(s) if s == "*" => Ok(PrincipalSet {
            any: true,
            ..PrincipalSet::default()
        }),
        Value::Object(map) => {
            if map.is_empty() {
                return Err(err(pointer, PolicyErrorKind::Empty));
            }
            let mut set = PrincipalSet::default();
            for (key, value) in map {
                let p = push_pointer(pointer, key);
                let list = string_list(value, &p)?;
                match key.as_str() {
                    "AWS" => set.aws.extend(list),
                    "Federated" => set.federated.extend(list),
                    "Service" => set.service.extend(list),
                    "CanonicalUser" => set.canonical_user.extend(list),
                    _ => {
                        return Err(err(
                            &p,
                            PolicyErrorKind::InvalidPrincipalType { got: key.clone() },
                        ));
                    }
                }
            }
            Ok(set)
        }
        other => Err(wrong_type(
            pointer,
            "`*` or an object of principal types",
            other,
        )),
    }
}

fn condition_block(value: &Value, pointer: &str) -> Result<Vec<Condition>> {
    let operators = object(value, pointer)?;
    let mut conditions = Vec::new();
    for (operator_name, keys) in operators {
        let op_pointer = push_pointer(pointer, operator_name);
        let operator = Operator::parse(operator_name).ok_or_else(|| {
            err(
                &op_pointer,
                PolicyErrorKind::UnknownOperator {
                    got: operator_name.clone(),
                },
            )
        })?;
        let keys = object(keys, &op_pointer)?;
        if keys.is_empty() {
            return Err(err(&op_pointer, PolicyErrorKind::Empty));
        }
        for (key, values) in keys {
            let key_pointer = push_pointer(&op_pointer, key);
            conditions.push(Condition::new(
                operator.clone(),
                key.as_str().into(),
                condition_values(values, &key_pointer)?.into(),
            ));
        }
    }
    Ok(conditions)
}

/// Condition values: a string, number or boolean, or an array of them. Numbers and booleans
/// become their JSON text (`"Bool": {"aws:SecureTransport": false}` compares with `false`).
fn condition_values(value: &Value, pointer: &str) -> Result<Vec<String>> {
    const EXPECTED: &str = "a string, number or boolean, or an array of them";
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                scalar_text(item).ok_or_else(|| {
                    wrong_type(&push_pointer(pointer, &i.to_string()), EXPECTED, item)
                })
            })
            .collect(),
        other => scalar_text(other)
            .map(|v| vec![v])
            .ok_or_else(|| wrong_type(pointer, EXPECTED, other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_err(v: Value) -> PolicyError {
        policy(&v).unwrap_err()
    }

    #[test]
    fn statement_may_be_an_object() {
        let p = policy(
            &json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}),
        )
        .unwrap();
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.version, None);
    }

    #[test]
    fn action_and_not_action_conflict() {
        let e = parse_err(
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*"}]}),
        );
        assert_eq!(
            e.to_string(),
            "`/Statement/0`: `Action` and `NotAction` cannot both be present"
        );
    }

    #[test]
    fn missing_action_is_reported() {
        let e = parse_err(json!({"Statement": [{"Effect": "Allow", "Resource": "*"}]}));
        assert_eq!(
            e.to_string(),
            "`/Statement/0`: missing `Action` or `NotAction`"
        );
    }

    #[test]
    fn wrong_item_type_points_into_the_array() {
        let e = parse_err(json!({"Statement": [{"Effect": "Allow", "Action": ["s3:*", 5]}]}));
        assert_eq!(e.pointer, "/Statement/0/Action/1");
        assert_eq!(
            e.to_string(),
            "`/Statement/0/Action/1`: expected a string or an array of strings, got a number"
        );
    }

    #[test]
    fn unknown_operator_is_rejected_with_its_pointer() {
        let e = parse_err(
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringEqualz": {"k": "v"}}}]}),
        );
        assert_eq!(
            e.to_string(),
            "`/Statement/0/Condition/StringEqualz`: unknown condition operator `StringEqualz`"
        );
    }

    #[test]
    fn condition_value_pointer_escapes_key_slashes() {
        let e = parse_err(
            json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"oidc.example/id/X:sub": {"no": 1}}}}]}),
        );
        assert_eq!(
            e.pointer,
            "/Statement/0/Condition/StringEquals/oidc.example~1id~1X:sub"
        );
    }

    #[test]
    fn principal_forms_parse() {
        let p = policy(&json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:*"},
            {"Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:root"],
               "Federated": "cognito-identity.amazonaws.com", "Service": "lambda.amazonaws.com"}, "Action": "s3:*"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:user/a"}, "Action": "s3:*"}
        ]}))
        .unwrap();
        let Some(PrincipalBlock::Principal(set)) = &p.statements[1].principal else {
            panic!()
        };
        assert_eq!(set.aws.len(), 2);
        assert!(matches!(
            p.statements[2].principal,
            Some(PrincipalBlock::NotPrincipal(_))
        ));
    }

    #[test]
    fn invalid_principal_type_is_rejected() {
        let e = parse_err(
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Aws": "*"}, "Action": "s3:*"}]}),
        );
        assert_eq!(e.pointer, "/Statement/0/Principal/Aws");
    }

    #[test]
    fn duplicate_sids_are_rejected() {
        let e = parse_err(json!({"Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}));
        assert_eq!(e.to_string(), "`/Statement/1/Sid`: duplicate `Sid` `A`");
    }

    #[test]
    fn unknown_version_and_elements_are_rejected() {
        assert_eq!(
            parse_err(json!({"Version": "2012-10-18", "Statement": []})).pointer,
            "/Version"
        );
        assert_eq!(
            parse_err(json!({"Foo": 1, "Statement": []})).pointer,
            "/Foo"
        );
    }

    #[test]
    fn action_without_service_prefix_is_rejected() {
        let e = parse_err(
            json!({"Statement": [{"Effect": "Allow", "Action": "GetItem", "Resource": "*"}]}),
        );
        assert_eq!(
            e.to_string(),
            "`/Statement/0/Action`: expected `*` or `service:action`, got `GetItem`"
        );
    }

    #[test]
    fn numbers_and_booleans_in_conditions_become_text() {
        let p = policy(&json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"s3:max-keys": [10, "20"]}}}]}))
        .unwrap();
        assert_eq!(p.statements[0].conditions[0].values()[..], ["false"]);
        assert_eq!(p.statements[0].conditions[1].values()[..], ["10", "20"]);
    }
}
