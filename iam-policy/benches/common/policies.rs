//! The benchmark's request and policies, shared with `examples/alloc_count.rs`.

use iam_policy::{Context, NamedPolicy, Principal, Request};
use serde_json::json;

const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/curity-dynamodb/pod-1";

pub fn request() -> Request {
    Request::new(
        "dynamodb:GetItem",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts",
    )
    .with_principal(Principal::Aws(SESSION.into()))
    .with_context(
        Context::new()
            .with(
                "aws:PrincipalArn",
                "arn:aws:iam::111122223333:role/curity-dynamodb",
            )
            .with("aws:SourceIp", "10.0.0.7")
            .with("aws:CurrentTime", "2026-01-01T00:00:00Z")
            .with("aws:SecureTransport", "true")
            .with("aws:PrincipalTag/team", "curity")
            .with_multi("dynamodb:LeadingKeys", vec!["un#alice".into()])
            .with_multi(
                "dynamodb:Attributes",
                vec!["pk".into(), "email".into(), "name".into()],
            ),
    )
}

/// 50 statements, each with an action list, a resource list and two or three conditions; the
/// one that allows is last, and a deny with a failing condition is evaluated on the way.
pub fn fifty_statements() -> NamedPolicy {
    let mut statements = Vec::new();
    for i in 0..49 {
        let condition = match i % 5 {
            0 => {
                json!({"StringEquals": {"aws:PrincipalTag/team": ["billing", format!("team-{i}")]},
                        "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}})
            }
            1 => {
                json!({"ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "sk", format!("attr{i}")]},
                        "Bool": {"aws:SecureTransport": "true"}})
            }
            2 => json!({"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
                        "StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/other-*"}}),
            3 => json!({"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]},
                        "NumericLessThan": {"s3:max-keys": "10"}}),
            _ => {
                json!({"ArnLike": {"aws:PrincipalArn": format!("arn:aws:iam::111122223333:role/app-{i}")},
                        "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
                        "Null": {"aws:TokenIssueTime": "false"}})
            }
        };
        statements.push(json!({
            "Sid": format!("S{i}"),
            "Effect": if i % 7 == 3 { "Deny" } else { "Allow" },
            "Action": ["dynamodb:GetItem", "dynamodb:Query", format!("dynamodb:Batch*{i}")],
            "Resource": [format!("arn:aws:dynamodb:*:*:table/curity-*"), format!("arn:aws:dynamodb:eu-west-1:111122223333:table/t{i}/index/*")],
            "Condition": condition,
        }));
    }
    statements.push(json!({
        "Sid": "Last",
        "Effect": "Allow",
        "Action": "dynamodb:*",
        "Resource": "arn:aws:dynamodb:*:*:table/curity-*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "curity"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    }));
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    NamedPolicy::parse("fifty", &doc.to_string()).expect("benchmark policy parses")
}

/// The seed's policy: `dynamodb:*` on `table/curity-*`.
pub fn seed() -> NamedPolicy {
    NamedPolicy::parse(
        "curity-dynamo",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/curity-*"}]}"#,
    )
    .expect("seed policy parses")
}
