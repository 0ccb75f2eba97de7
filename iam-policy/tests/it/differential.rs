//! Differential suite: our evaluator against iam-simulate (the `iam-oracle` test tool).
//!
//! Generates policy sets and requests deterministically (a fixed-seed SplitMix64), sends each
//! through `node target/iam-oracle/oracle.mjs` and through [`iam_policy::evaluate`], and fails
//! on any disagreement outside the oracle's documented known differences (its README, "Where
//! the oracle is not ground truth"). Three portions:
//!
//! * **general** (unvalidated mode): every condition operator family, `...IfExists`, set
//!   qualifiers, policy variables with defaults and escapes, `NotAction`/`NotResource`,
//!   `Principal`/`NotPrincipal` of every type, and the resource, boundary, session and SCP
//!   layers. A few percent of these deliberately fall into a known-difference category (old
//!   `Version`, a negated operator on a variable without a value, escapes in `StringEquals`, a
//!   session policy against a grant made directly to the session); each case is tagged with its
//!   category by looking at what was generated, and a disagreement counts as known only in a
//!   tagged case. Those categories are pinned to the AWS documentation by `known_differences.rs`.
//! * **validated** (the oracle's default mode): real DynamoDB actions on table and index ARNs
//!   with `dynamodb:LeadingKeys`, `dynamodb:Attributes`, `dynamodb:Select`, ... context, checked
//!   against the Service Authorization Reference; `ignoredContextKeys` must be empty (otherwise
//!   the oracle evaluated a different request from ours), except in the two known categories
//!   that are about exactly that (IRSA trust policy and `ConditionCheckItem` inside a
//!   transaction).
//! * **trust**: IRSA trust-policy checks (`sts:AssumeRoleWithWebIdentity`) in unvalidated mode.
//!
//! The generator still stays away from two gaps we found that the oracle README does not list
//! (see `known_differences.rs`, where our side is pinned): `ForAnyValue:...IfExists` with a
//! missing key, and epoch-seconds date values, which iam-simulate reads as milliseconds.
//!
//! The oracle is installed into `<workspace>/target/iam-oracle` (copy, `npm ci`, then an atomic
//! rename, so concurrent test processes never see a half-installed copy). Skips with a message
//! when Node, npm, the network or `../shared` is unavailable, unless `IAM_ORACLE_REQUIRED=1`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use iam_policy::{
    Context, Decision, NamedPolicy, OrgLevel, Policy, PolicySet, Principal, Request, Scope,
    evaluate, evaluate_in,
};
use serde_json::{Value, json};

const GENERAL: usize = 8_800;
const VALIDATED: usize = 1_400;
const ACCOUNTS: usize = 2_000;
const SEED: u64 = 0x1A4_5EED;
const ACCOUNT: &str = "111122223333";
const ROLE: &str = "arn:aws:iam::111122223333:role/app";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/app/s1";
const PROVIDER: &str =
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";
const ISSUER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/ABC";

/// SplitMix64: tiny, deterministic, good enough to pick from lists.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
    fn some<T: Clone>(&mut self, items: &[T], max: usize) -> Vec<T> {
        let n = 1 + self.below(max);
        (0..n).map(|_| self.pick(items)).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// General portion (unvalidated mode)
// ---------------------------------------------------------------------------------------------

const ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteTable",
    "dynamodb:Query",
    "s3:GetObject",
    "s3:PutObject",
];
const ACTION_PATTERNS: &[&str] = &[
    "*",
    "dynamodb:*",
    "dynamodb:Get*",
    "dynamodb:?etItem",
    "DynamoDB:getitem",
    "dynamodb:Delete*",
    "dynamodb:*Item",
    "s3:*",
    "s3:Get*",
    "sts:AssumeRole",
];
const RESOURCES: &[&str] = &[
    "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts",
    "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts/index/by-email",
    "arn:aws:dynamodb:us-east-1:111122223333:table/billing",
    "arn:aws:dynamodb:eu-west-1:111122223333:table/billing-curity",
    "arn:aws:s3:::bucket/curity/key.txt",
    "arn:aws:s3:::bucket/other/key.txt",
];
const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:dynamodb:*:*:table/curity-*",
    "arn:aws:dynamodb:eu-west-1:111122223333:table/*",
    "arn:aws:dynamodb:*:111122223333:table/billing",
    "arn:aws:dynamodb:us-*:*:table/*",
    "arn:aws:dynamodb:eu-west-?:*:table/curity-accounts",
    "arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}-*",
    "arn:aws:dynamodb:*:*:table/*-${aws:PrincipalTag/team}",
    "arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team, 'billing'}",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*",
    "arn:aws:s3:::bucket/${aws:username, 'curity'}/*",
    "arn:aws:s3:::bucket/cur${*}/*",
    "arn:aws:s3:::bucket/curity/*.txt",
    "arn:aws:s3:::*/other/*",
];

/// One generated condition: operator, key, values.
fn condition(rng: &mut Rng) -> (String, String, Value) {
    let if_exists = if rng.chance(20) { "IfExists" } else { "" };
    match rng.below(11) {
        0 => {
            let op = rng.pick(&[
                "StringEquals",
                "StringNotEquals",
                "StringEqualsIgnoreCase",
                "StringNotEqualsIgnoreCase",
                "StringLike",
                "StringNotLike",
            ]);
            let mut pool = vec![
                "curity",
                "billing",
                "CURITY",
                "cur*",
                "*ity",
                "c?rity",
                "${aws:username}",
                "${aws:username, 'curity'}",
            ];
            // `${*}` and `${$}` in the StringEquals family is a known difference (tagged).
            if rng.chance(10) {
                pool.push("cur${*}");
                pool.push("${$}curity");
            }
            let values = rng.some(&pool, 2);
            (
                format!("{op}{if_exists}"),
                "aws:PrincipalTag/team".into(),
                json!(values),
            )
        }
        1 => {
            let op = rng.pick(&[
                "NumericEquals",
                "NumericNotEquals",
                "NumericLessThan",
                "NumericLessThanEquals",
                "NumericGreaterThan",
                "NumericGreaterThanEquals",
            ]);
            let values = rng.some(&["5", "10", "10.5", "0", "-1"], 2);
            (
                format!("{op}{if_exists}"),
                "s3:max-keys".into(),
                json!(values),
            )
        }
        2 => {
            let op = rng.pick(&[
                "DateEquals",
                "DateNotEquals",
                "DateLessThan",
                "DateLessThanEquals",
                "DateGreaterThan",
                "DateGreaterThanEquals",
            ]);
            // No epoch numbers: iam-simulate reads them as milliseconds (see module docs).
            let values = rng.some(
                &[
                    "2024-01-01T00:00:00Z",
                    "2024-06-01T12:00:00Z",
                    "2024-01-01T01:00:00+01:00",
                    "2030-01-01T00:00:00Z",
                ],
                2,
            );
            (
                format!("{op}{if_exists}"),
                "aws:CurrentTime".into(),
                json!(values),
            )
        }
        3 => (
            format!("Bool{if_exists}"),
            "aws:SecureTransport".into(),
            json!(rng.pick(&["true", "false"])),
        ),
        4 => {
            let op = rng.pick(&["IpAddress", "NotIpAddress"]);
            let values = rng.some(
                &[
                    "10.0.0.0/8",
                    "203.0.113.0/24",
                    "2001:db8::/32",
                    "10.1.2.3/32",
                    "10.1.2.3",
                ],
                2,
            );
            (
                format!("{op}{if_exists}"),
                "aws:SourceIp".into(),
                json!(values),
            )
        }
        5 => {
            let op = rng.pick(&["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"]);
            let values = rng.some(
                &[
                    ROLE,
                    "arn:aws:iam::*:role/app",
                    "arn:aws:iam::111122223333:role/a*",
                    "arn:aws:iam::*:role/other",
                    "arn:aws:iam::${aws:PrincipalAccount}:role/app",
                ],
                2,
            );
            (
                format!("{op}{if_exists}"),
                "aws:PrincipalArn".into(),
                json!(values),
            )
        }
        6 => {
            let key = rng.pick(&[
                "aws:PrincipalTag/team",
                "aws:SourceIp",
                "aws:TagKeys",
                "aws:username",
            ]);
            (
                "Null".into(),
                key.into(),
                json!(rng.pick(&["true", "false"])),
            )
        }
        7 => {
            let set = rng.pick(&["ForAllValues", "ForAnyValue"]);
            let op = rng.pick(&[
                "StringEquals",
                "StringNotEquals",
                "StringLike",
                "StringNotLike",
                "StringEqualsIgnoreCase",
            ]);
            // ForAnyValue with IfExists is an undocumented oracle gap (module docs).
            let suffix = if set == "ForAllValues" { if_exists } else { "" };
            let values = rng.some(&["team", "env", "cost*", "owner", "ENV"], 3);
            (
                format!("{set}:{op}{suffix}"),
                "aws:TagKeys".into(),
                json!(values),
            )
        }
        8 => (
            format!("BinaryEquals{if_exists}"),
            "custom:blob".into(),
            json!(rng.some(&["QmluYXJ5", "b3RoZXI=", "AAEC"], 2)),
        ),
        9 => {
            // variables on the right of the comparison, in several operator families
            let (op, key, pool): (&str, &str, &[&str]) = match rng.below(3) {
                0 => (
                    "ArnLike",
                    "aws:PrincipalArn",
                    &["arn:aws:iam::${aws:PrincipalAccount}:role/*"],
                ),
                1 => (
                    "StringLike",
                    "s3:prefix",
                    &[
                        "${aws:username}/*",
                        "home/${aws:username}/*",
                        "${aws:PrincipalTag/team, 'x'}*",
                    ],
                ),
                _ => (
                    "StringNotEquals",
                    "aws:username",
                    &["${aws:PrincipalTag/team}", "bob"],
                ),
            };
            (
                format!("{op}{if_exists}"),
                key.into(),
                json!(rng.some(pool, 2)),
            )
        }
        _ => {
            let op = rng.pick(&["StringEquals", "StringLike"]);
            let values = rng.some(&["alice", "bob", "a*", "${aws:PrincipalTag/team}"], 2);
            (
                format!("{op}{if_exists}"),
                "aws:username".into(),
                json!(values),
            )
        }
    }
}

fn statement(
    rng: &mut Rng,
    principal: Option<(&'static str, Value)>,
    actions: &[&str],
    resources: &[&str],
    condition: fn(&mut Rng) -> (String, String, Value),
) -> Value {
    let mut s = serde_json::Map::new();
    if rng.chance(40) {
        s.insert("Sid".into(), json!(format!("S{}", rng.below(1_000_000))));
    }
    let not_principal = principal
        .as_ref()
        .is_some_and(|(k, _)| *k == "NotPrincipal");
    // NotPrincipal only with Deny, as AWS recommends (Allow with NotPrincipal is not supported
    // in resource policies of most services).
    let allow = !not_principal && rng.chance(75);
    s.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
    if let Some((key, p)) = principal {
        s.insert(key.into(), p);
    }
    let action_key = if rng.chance(10) {
        "NotAction"
    } else {
        "Action"
    };
    let picked = rng.some(actions, 2);
    // string-or-array: a single action or resource is sometimes written as a bare string
    s.insert(
        action_key.into(),
        if picked.len() == 1 && rng.chance(50) {
            json!(picked[0])
        } else {
            json!(picked)
        },
    );
    let resource_key = if rng.chance(10) {
        "NotResource"
    } else {
        "Resource"
    };
    s.insert(resource_key.into(), json!(rng.some(resources, 2)));
    if rng.chance(50) {
        let mut block = serde_json::Map::new();
        for _ in 0..1 + rng.below(2) {
            let (op, key, values) = condition(rng);
            let entry = block.entry(op).or_insert_with(|| json!({}));
            if let Some(map) = entry.as_object_mut() {
                map.insert(key, values);
            }
        }
        s.insert("Condition".into(), Value::Object(block));
    }
    Value::Object(s)
}

fn general_policy(
    rng: &mut Rng,
    principal: impl Fn(&mut Rng) -> Option<(&'static str, Value)>,
) -> Value {
    let statements: Vec<Value> = (0..1 + rng.below(3))
        .map(|_| {
            let p = principal(rng);
            statement(rng, p, ACTION_PATTERNS, RESOURCE_PATTERNS, condition)
        })
        .collect();
    // Old or absent `Version` is a known difference (tagged), so it is rare.
    if rng.chance(2) {
        if rng.chance(50) {
            json!({"Version": "2008-10-17", "Statement": statements})
        } else {
            json!({"Statement": statements})
        }
    } else if statements.len() == 1 && rng.chance(30) {
        json!({"Version": "2012-10-17", "Statement": statements[0]})
    } else {
        json!({"Version": "2012-10-17", "Statement": statements})
    }
}

fn general_context(rng: &mut Rng) -> Value {
    let mut c = serde_json::Map::new();
    c.insert("aws:PrincipalArn".into(), json!(ROLE));
    if rng.chance(50) {
        c.insert("aws:PrincipalAccount".into(), json!(ACCOUNT));
    }
    if rng.chance(70) {
        c.insert(
            "aws:PrincipalTag/team".into(),
            json!(rng.pick(&["curity", "billing", "Curity", "cur*"])),
        );
    }
    if rng.chance(60) {
        c.insert(
            "aws:username".into(),
            json!(rng.pick(&["alice", "curity", "bob"])),
        );
    }
    if rng.chance(40) {
        c.insert(
            "s3:prefix".into(),
            json!(rng.pick(&["alice/docs", "home/bob/x", "curity-1", "other"])),
        );
    }
    if rng.chance(60) {
        c.insert(
            "s3:max-keys".into(),
            json!(rng.pick(&["5", "10", "11", "-1"])),
        );
    }
    if rng.chance(70) {
        c.insert(
            "aws:CurrentTime".into(),
            json!(rng.pick(&[
                "2024-01-01T00:00:00Z",
                "2025-03-01T08:30:00Z",
                "2023-05-05T05:05:05Z"
            ])),
        );
    }
    if rng.chance(70) {
        c.insert(
            "aws:SecureTransport".into(),
            json!(rng.pick(&["true", "false"])),
        );
    }
    if rng.chance(70) {
        c.insert(
            "aws:SourceIp".into(),
            json!(rng.pick(&["10.1.2.3", "203.0.113.9", "198.51.100.1", "2001:db8::1"])),
        );
    }
    if rng.chance(40) {
        c.insert(
            "custom:blob".into(),
            json!(rng.pick(&["QmluYXJ5", "b3RoZXI=", "AAE="])),
        );
    }
    if rng.chance(60) {
        let n = rng.below(3);
        let keys: Vec<&str> = (0..n)
            .map(|_| rng.pick(&["team", "env", "costcenter", "owner", "Env"]))
            .collect();
        c.insert("aws:TagKeys".into(), json!(keys));
    }
    Value::Object(c)
}

fn resource_principal(rng: &mut Rng) -> Option<(&'static str, Value)> {
    if rng.chance(8) {
        let excluded = rng.pick(&[
            json!({"AWS": [ROLE, SESSION]}),
            json!({"AWS": SESSION}),
            json!({"AWS": "arn:aws:iam::444455556666:role/x"}),
            json!({"AWS": [format!("arn:aws:iam::{ACCOUNT}:root"), SESSION, ROLE]}),
        ]);
        return Some(("NotPrincipal", excluded));
    }
    let choices = [
        json!("*"),
        json!({"AWS": "*"}),
        json!({"AWS": ROLE}),
        json!({"AWS": [ROLE, "arn:aws:iam::444455556666:role/x"]}),
        json!({"AWS": ACCOUNT}),
        json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}),
        json!({"AWS": "arn:aws:iam::444455556666:role/x"}),
        json!({"Service": "lambda.amazonaws.com"}),
        json!({"Federated": PROVIDER}),
        json!({"AWS": SESSION}),
    ];
    Some(("Principal", rng.pick(&choices)))
}

fn general_case(id: usize, rng: &mut Rng) -> Case {
    let identity_docs: Vec<Value> = (0..rng.below(3))
        .map(|_| general_policy(rng, |_| None))
        .collect();
    let resource_doc = rng
        .chance(35)
        .then(|| general_policy(rng, resource_principal));
    let boundary_doc = rng.chance(20).then(|| general_policy(rng, |_| None));
    let session_docs: Vec<Value> = if rng.chance(20) {
        (0..1 + rng.below(2))
            .map(|_| {
                // merged by the oracle into one document: they must share `Version`
                let mut d = general_policy(rng, |_| None);
                d["Version"] = json!("2012-10-17");
                d
            })
            .collect()
    } else {
        Vec::new()
    };
    let scp_docs: Option<Vec<Value>> = rng.chance(15).then(|| {
        (0..1 + rng.below(2))
            .map(|_| general_policy(rng, |_| None))
            .collect()
    });
    let action = rng.pick(ACTIONS);
    let resource = rng.pick(RESOURCES);
    let ctx = general_context(rng);
    let request =
        json!({"principal": SESSION, "action": action, "resource": resource, "context": ctx});
    build_case(
        id,
        Portion::General,
        Docs {
            identity: identity_docs,
            resource: resource_doc,
            boundary: boundary_doc,
            session: session_docs,
            scp: scp_docs,
            scp_levels: None,
            rcp_levels: None,
        },
        request,
        Principal::Aws(SESSION.into()),
        None,
    )
}

// ---------------------------------------------------------------------------------------------
// Accounts portion (unvalidated mode): cross-account requests, SCP hierarchies and RCPs
// ---------------------------------------------------------------------------------------------

const OTHER_ACCOUNT: &str = "444455556666";
const ORG_ID: &str = "o-a1b2c3d4e5";
const ACCOUNT_RESOURCES: &[&str] = &[
    "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts",
    "arn:aws:dynamodb:eu-west-1:444455556666:table/curity-accounts",
    "arn:aws:dynamodb:eu-west-1:444455556666:table/billing",
    "arn:aws:dynamodb:us-east-1:444455556666:table/curity-sessions/index/by-user",
];
const ACCOUNT_RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:dynamodb:*:*:table/curity-*",
    "arn:aws:dynamodb:*:444455556666:table/*",
    "arn:aws:dynamodb:*:111122223333:table/*",
    "arn:aws:dynamodb:eu-west-1:444455556666:table/billing",
    // Not `arn:aws:dynamodb:*:${aws:PrincipalAccount}:table/*`: iam-simulate does not resolve
    // a variable in the account field of a `Resource` ARN (we do); the IAM guide speaks of
    // variables "in the part of the ARN that identifies the specific resource", so which is
    // AWS's behaviour is not settled by the docs. Found by this portion; kept out of it.
];

/// A condition on the account and organization keys (or, sometimes, any general one).
fn account_condition(rng: &mut Rng) -> (String, String, Value) {
    match rng.below(6) {
        0 => (
            rng.pick(&["StringEquals", "StringNotEquals"]).into(),
            "aws:PrincipalAccount".into(),
            json!(rng.some(&[ACCOUNT, OTHER_ACCOUNT], 2)),
        ),
        1 => (
            rng.pick(&["StringEquals", "StringNotEqualsIfExists"])
                .into(),
            "aws:PrincipalOrgID".into(),
            json!(rng.pick(&[ORG_ID, "o-zzzzzzzzzz"])),
        ),
        2 => (
            rng.pick(&["ForAnyValue:StringLike", "ForAllValues:StringLike"])
                .into(),
            "aws:PrincipalOrgPaths".into(),
            json!(rng.some(
                &[
                    "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*",
                    "o-a1b2c3d4e5/*",
                    "o-zzzzzzzzzz/*"
                ],
                2
            )),
        ),
        3 => (
            rng.pick(&["StringEquals", "StringNotEquals"]).into(),
            "aws:ResourceAccount".into(),
            json!(rng.pick(&[ACCOUNT, OTHER_ACCOUNT, "${aws:PrincipalAccount}"])),
        ),
        _ => condition(rng),
    }
}

fn account_policy(
    rng: &mut Rng,
    principal: impl Fn(&mut Rng) -> Option<(&'static str, Value)>,
) -> Value {
    let statements: Vec<Value> = (0..1 + rng.below(2))
        .map(|_| {
            let p = principal(rng);
            statement(
                rng,
                p,
                &[
                    "dynamodb:*",
                    "dynamodb:GetItem",
                    "dynamodb:Get*",
                    "dynamodb:Query",
                    "*",
                ],
                ACCOUNT_RESOURCE_PATTERNS,
                account_condition,
            )
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn cross_account_principal(rng: &mut Rng) -> Option<(&'static str, Value)> {
    if rng.chance(8) {
        let excluded = rng.pick(&[
            json!({"AWS": [format!("arn:aws:iam::{ACCOUNT}:root"), ROLE, SESSION]}),
            json!({"AWS": format!("arn:aws:iam::{OTHER_ACCOUNT}:role/x")}),
        ]);
        return Some(("NotPrincipal", excluded));
    }
    let choices = [
        json!("*"),
        json!({"AWS": ACCOUNT}),
        json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}),
        json!({"AWS": ROLE}),
        json!({"AWS": SESSION}),
        json!({"AWS": OTHER_ACCOUNT}),
        json!({"AWS": format!("arn:aws:iam::{OTHER_ACCOUNT}:role/x")}),
    ];
    Some(("Principal", rng.pick(&choices)))
}

/// An SCP: an allow-list or a deny-list statement, sometimes with a condition.
fn scp_doc(rng: &mut Rng) -> Value {
    let statement = match rng.below(6) {
        0 => json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        1 => {
            json!({"Effect": "Allow", "Action": rng.pick(&["dynamodb:*", "dynamodb:Get*", "s3:*"]), "Resource": "*"})
        }
        2 => {
            json!({"Effect": "Deny", "Action": rng.pick(&["dynamodb:DeleteTable", "dynamodb:GetItem", "dynamodb:*"]), "Resource": "*"})
        }
        3 => {
            json!({"Effect": "Deny", "Action": "dynamodb:*", "Resource": rng.pick(&ACCOUNT_RESOURCE_PATTERNS[1..5])})
        }
        4 => json!({"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": rng.pick(&["curity", "billing"])}}}),
        _ => json!({"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:ResourceAccount": rng.pick(&[ACCOUNT, OTHER_ACCOUNT])}}}),
    };
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

/// An RCP: RCPs hold `Deny` statements with `"Principal": "*"` (`RCPFullAWSAccess` allows).
fn rcp_doc(rng: &mut Rng) -> Value {
    let (action, condition) = match rng.below(4) {
        0 => (
            json!("dynamodb:*"),
            json!({"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID}}),
        ),
        1 => (
            json!(rng.pick(&["dynamodb:GetItem", "dynamodb:Query"])),
            json!({"StringNotEquals": {"aws:PrincipalAccount": rng.pick(&[ACCOUNT, OTHER_ACCOUNT])}}),
        ),
        2 => (
            json!("dynamodb:*"),
            json!({"Bool": {"aws:SecureTransport": "false"}}),
        ),
        _ => (
            json!(rng.pick(&["dynamodb:DeleteTable", "dynamodb:Get*"])),
            json!({}),
        ),
    };
    let mut statement =
        json!({"Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*"});
    if condition.as_object().is_some_and(|c| !c.is_empty()) {
        statement["Condition"] = condition;
    }
    json!({"Version": "2012-10-17", "Statement": [statement]})
}

fn org_levels(
    rng: &mut Rng,
    ids: &[&str],
    doc: fn(&mut Rng) -> Value,
    empty: u64,
) -> Levels<Value> {
    ids.iter()
        .map(|id| {
            let n = if rng.chance(empty) {
                0
            } else {
                1 + rng.below(2)
            };
            ((*id).to_owned(), (0..n).map(|_| doc(rng)).collect())
        })
        .collect()
}

fn accounts_case(id: usize, rng: &mut Rng) -> Case {
    let resource = rng.pick(ACCOUNT_RESOURCES);
    let mut identity: Vec<Value> = (0..rng.below(3))
        .map(|_| account_policy(rng, |_| None))
        .collect();
    // Without some plain grants on both sides nearly every cross-account case is denied.
    if rng.chance(60) {
        identity.push(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": rng.pick(&["dynamodb:*", "dynamodb:GetItem", "*"]), "Resource": rng.pick(&["*", ACCOUNT_RESOURCE_PATTERNS[2]])}]}));
    }
    let resource_doc = rng.chance(75).then(|| {
        let mut doc = account_policy(rng, cross_account_principal);
        if rng.chance(60) {
            let principal = rng.pick(&[
                json!({"AWS": ACCOUNT}),
                json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}),
                json!({"AWS": ROLE}),
                json!({"AWS": SESSION}),
                json!("*"),
            ]);
            if let Some(statements) = doc["Statement"].as_array_mut() {
                statements.push(json!({"Effect": "Allow", "Principal": principal, "Action": "dynamodb:*", "Resource": "*"}));
            }
        }
        doc
    });
    let boundary = rng.chance(15).then(|| account_policy(rng, |_| None));
    let session = if rng.chance(15) {
        vec![account_policy(rng, |_| None)]
    } else {
        Vec::new()
    };
    // SCPs of the principal's account: root → OU → account, usually allowing at every level
    // (FullAWSAccess), sometimes not; RCPs of the resource's account.
    let scp_levels = rng.chance(45).then(|| {
        let mut levels = org_levels(rng, &["r-ab12", "ou-ab12-11111111", ACCOUNT], scp_doc, 30);
        for (_, docs) in &mut levels {
            if rng.chance(90) {
                docs.insert(0, json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}));
            }
        }
        levels
    });
    let resource_account = arn_account(resource).unwrap_or(ACCOUNT).to_owned();
    let rcp_levels = rng.chance(45).then(|| {
        let root = if resource_account == ACCOUNT {
            "r-ab12"
        } else {
            "r-cd34"
        };
        org_levels(rng, &[root, &resource_account], rcp_doc, 40)
    });
    let mut ctx = general_context(rng)
        .as_object()
        .cloned()
        .unwrap_or_default();
    ctx.insert("aws:PrincipalAccount".into(), json!(ACCOUNT));
    if rng.chance(80) {
        ctx.insert("aws:ResourceAccount".into(), json!(resource_account));
    }
    if rng.chance(60) {
        ctx.insert(
            "aws:PrincipalOrgID".into(),
            json!(rng.pick(&[ORG_ID, "o-zzzzzzzzzz"])),
        );
        ctx.insert(
            "aws:PrincipalOrgPaths".into(),
            json!([rng.pick(&[
                "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/",
                "o-zzzzzzzzzz/r-zz99/"
            ])]),
        );
    }
    let request = json!({"principal": SESSION, "action": rng.pick(&["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteTable"]),
        "resource": resource, "context": ctx});
    build_case(
        id,
        Portion::Accounts,
        Docs {
            identity,
            resource: resource_doc,
            boundary,
            session,
            scp: None,
            scp_levels,
            rcp_levels,
        },
        request,
        Principal::Aws(SESSION.into()),
        None,
    )
}

// ---------------------------------------------------------------------------------------------
// Validated portion: real DynamoDB actions, resources and condition keys
// ---------------------------------------------------------------------------------------------

/// Actions with the condition keys the Service Authorization Reference (as shipped in the
/// pinned iam-data) lists for them, besides the global keys.
const DYNAMO_ACTIONS: &[(&str, &[&str])] = &[
    (
        "dynamodb:GetItem",
        &[
            "LeadingKeys",
            "Attributes",
            "Select",
            "ReturnConsumedCapacity",
        ],
    ),
    (
        "dynamodb:PutItem",
        &[
            "LeadingKeys",
            "Attributes",
            "ReturnValues",
            "ReturnConsumedCapacity",
        ],
    ),
    (
        "dynamodb:UpdateItem",
        &[
            "LeadingKeys",
            "Attributes",
            "ReturnValues",
            "ReturnConsumedCapacity",
        ],
    ),
    (
        "dynamodb:DeleteItem",
        &[
            "LeadingKeys",
            "Attributes",
            "ReturnValues",
            "EnclosingOperation",
        ],
    ),
    (
        "dynamodb:Query",
        &[
            "LeadingKeys",
            "Attributes",
            "Select",
            "ReturnConsumedCapacity",
        ],
    ),
    (
        "dynamodb:Scan",
        &["Attributes", "Select", "ReturnConsumedCapacity"],
    ),
    (
        "dynamodb:BatchGetItem",
        &["LeadingKeys", "Attributes", "Select"],
    ),
    ("dynamodb:BatchWriteItem", &["LeadingKeys", "Attributes"]),
    (
        "dynamodb:ConditionCheckItem",
        &["LeadingKeys", "Attributes"],
    ),
    ("dynamodb:DescribeTable", &[]),
    ("dynamodb:DeleteTable", &[]),
];
const DYNAMO_ACTION_PATTERNS: &[&str] = &[
    "dynamodb:*",
    "dynamodb:GetItem",
    "dynamodb:Get*",
    "dynamodb:Query",
    "dynamodb:*Item",
    "dynamodb:Batch*",
    "dynamodb:Describe*",
    "dynamodb:DeleteTable",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
];
const TABLES: &[&str] = &[
    "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts",
    "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-sessions",
    "arn:aws:dynamodb:us-east-1:111122223333:table/billing",
];
const INDEXES: &[&str] = &[
    "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts/index/by-email",
    "arn:aws:dynamodb:us-east-1:111122223333:table/billing/index/by-date",
];
const DYNAMO_RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:dynamodb:*:*:table/curity-*",
    "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts",
    "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts/index/*",
    "arn:aws:dynamodb:*:111122223333:table/*/index/*",
    "arn:aws:dynamodb:us-east-1:*:table/billing",
    "arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}-*",
];

fn dynamo_condition(rng: &mut Rng) -> (String, String, Value) {
    let if_exists = if rng.chance(20) { "IfExists" } else { "" };
    match rng.below(8) {
        0 => (
            format!(
                "{}:StringEquals",
                rng.pick(&["ForAllValues", "ForAnyValue"])
            ),
            "dynamodb:LeadingKeys".into(),
            json!(rng.some(
                &["u1", "u2", "${aws:username}", "${aws:PrincipalTag/team}"],
                2
            )),
        ),
        1 => (
            format!(
                "{}:{}",
                rng.pick(&["ForAllValues", "ForAnyValue"]),
                rng.pick(&["StringEquals", "StringLike", "StringNotEquals"])
            ),
            "dynamodb:Attributes".into(),
            json!(rng.some(&["pk", "sk", "name", "email", "secret*"], 3)),
        ),
        2 => (
            format!(
                "{}{if_exists}",
                rng.pick(&["StringEquals", "StringNotEquals"])
            ),
            "dynamodb:Select".into(),
            json!(rng.some(&["SPECIFIC_ATTRIBUTES", "ALL_ATTRIBUTES", "COUNT"], 2)),
        ),
        3 => (
            format!(
                "{}{if_exists}",
                rng.pick(&["StringEquals", "StringNotEquals"])
            ),
            "dynamodb:ReturnValues".into(),
            json!(rng.some(&["NONE", "ALL_OLD", "UPDATED_NEW"], 2)),
        ),
        4 => (
            format!("{}{if_exists}", rng.pick(&["IpAddress", "NotIpAddress"])),
            "aws:SourceIp".into(),
            json!(rng.some(&["10.0.0.0/8", "192.0.2.0/24"], 2)),
        ),
        5 => (
            format!("{}{if_exists}", rng.pick(&["StringEquals", "StringLike"])),
            "aws:PrincipalTag/team".into(),
            json!(rng.some(&["curity", "bill*"], 2)),
        ),
        6 => (
            "Null".into(),
            rng.pick(&[
                "dynamodb:LeadingKeys",
                "dynamodb:Attributes",
                "aws:PrincipalTag/team",
            ])
            .into(),
            json!(rng.pick(&["true", "false"])),
        ),
        _ => (
            format!("{}{if_exists}", rng.pick(&["Bool", "DateLessThan"])),
            "aws:SecureTransport".into(),
            json!("true"),
        ),
    }
}

fn dynamo_policy(rng: &mut Rng) -> Value {
    let statements: Vec<Value> = (0..1 + rng.below(3))
        .map(|_| {
            statement(
                rng,
                None,
                DYNAMO_ACTION_PATTERNS,
                DYNAMO_RESOURCE_PATTERNS,
                dynamo_condition,
            )
        })
        .collect();
    // `Bool` on aws:SecureTransport with a date operator is nonsense; keep keys and operators
    // consistent by rewriting `DateLessThan` onto aws:CurrentTime.
    let mut doc = json!({"Version": "2012-10-17", "Statement": statements});
    if let Some(statements) = doc["Statement"].as_array_mut() {
        for s in statements {
            for op in ["DateLessThan", "DateLessThanIfExists"] {
                if let Some(block) = s.pointer_mut(&format!("/Condition/{op}")) {
                    *block = json!({"aws:CurrentTime": "2025-01-01T00:00:00Z"});
                }
            }
        }
    }
    doc
}

fn validated_case(id: usize, rng: &mut Rng) -> Case {
    let (action, keys) = rng.pick(DYNAMO_ACTIONS);
    let resource = if matches!(action, "dynamodb:Query" | "dynamodb:Scan") && rng.chance(40) {
        rng.pick(INDEXES)
    } else {
        rng.pick(TABLES)
    };
    let mut ctx = serde_json::Map::new();
    ctx.insert("aws:PrincipalArn".into(), json!(ROLE));
    if rng.chance(70) {
        ctx.insert(
            "aws:PrincipalTag/team".into(),
            json!(rng.pick(&["curity", "billing"])),
        );
    }
    if rng.chance(50) {
        ctx.insert("aws:username".into(), json!(rng.pick(&["u1", "u3"])));
    }
    if rng.chance(70) {
        ctx.insert(
            "aws:SourceIp".into(),
            json!(rng.pick(&["10.0.0.7", "192.0.2.1", "198.51.100.4"])),
        );
    }
    if rng.chance(50) {
        ctx.insert(
            "aws:SecureTransport".into(),
            json!(rng.pick(&["true", "false"])),
        );
    }
    if rng.chance(50) {
        ctx.insert(
            "aws:CurrentTime".into(),
            json!(rng.pick(&["2024-01-01T00:00:00Z", "2026-01-01T00:00:00Z"])),
        );
    }
    for key in keys.iter() {
        if !rng.chance(70) {
            continue;
        }
        let value = match *key {
            "LeadingKeys" => json!(rng.some(&["u1", "u2", "u3", "curity"], 2)),
            "Attributes" => json!(rng.some(&["pk", "sk", "name", "email", "secret-hash"], 3)),
            "Select" => json!(rng.pick(&["SPECIFIC_ATTRIBUTES", "ALL_ATTRIBUTES", "COUNT"])),
            "ReturnValues" => json!(rng.pick(&["NONE", "ALL_OLD", "UPDATED_NEW"])),
            "ReturnConsumedCapacity" => json!(rng.pick(&["NONE", "TOTAL"])),
            _ => json!(rng.pick(&["TransactWriteItems", "BatchWriteItem"])),
        };
        ctx.insert(format!("dynamodb:{key}"), value);
    }
    let identity: Vec<Value> = (0..1 + rng.below(2)).map(|_| dynamo_policy(rng)).collect();
    let boundary = rng.chance(15).then(|| dynamo_policy(rng));
    let scp = rng.chance(10).then(|| vec![dynamo_policy(rng)]);
    let request =
        json!({"principal": SESSION, "action": action, "resource": resource, "context": ctx});
    build_case(
        id,
        Portion::Validated,
        Docs {
            identity,
            resource: None,
            boundary,
            session: Vec::new(),
            scp,
            scp_levels: None,
            rcp_levels: None,
        },
        request,
        Principal::Aws(SESSION.into()),
        None,
    )
}

/// The DynamoDB developer guide's example: deny `ConditionCheckItem` when the enclosing
/// operation is `TransactWriteItems` (known category: the reference lists no
/// `dynamodb:EnclosingOperation` for it, so the oracle drops the key).
fn enclosing_operation_case(id: usize) -> Case {
    let doc = json!({"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"dynamodb:*","Resource":"*"},
        {"Sid":"NoConditionChecksInTransactions","Effect":"Deny","Action":"dynamodb:ConditionCheckItem","Resource":"*",
         "Condition":{"StringEquals":{"dynamodb:EnclosingOperation":"TransactWriteItems"}}}]});
    let request = json!({"principal": SESSION, "action": "dynamodb:ConditionCheckItem",
        "resource": TABLES[0],
        "context": {"aws:PrincipalArn": ROLE, "dynamodb:EnclosingOperation": "TransactWriteItems"}});
    build_case(
        id,
        Portion::Validated,
        Docs::identity(vec![doc]),
        request,
        Principal::Aws(SESSION.into()),
        Some(Known::EnclosingOperation),
    )
}

// ---------------------------------------------------------------------------------------------
// Trust portion: the IRSA trust-policy check (unvalidated; validated is a known category)
// ---------------------------------------------------------------------------------------------

/// Sent the way AWS evaluates it (the oracle README's recipe): principal = provider ARN, action
/// `sts:AssumeRoleWithWebIdentity`, resource = role ARN, the trust policy as the resource
/// policy, token claims in the context.
fn trust_case(id: usize, rng: &mut Rng, validated: bool) -> Case {
    let sub_key = format!("{ISSUER}:sub");
    let aud_key = format!("{ISSUER}:aud");
    let (op, sub_value) = rng.pick(&[
        ("StringEquals", "system:serviceaccount:curity:dynamo-sa"),
        ("StringLike", "system:serviceaccount:curity:*"),
        ("StringEquals", "system:serviceaccount:default:other"),
        ("StringNotEquals", "system:serviceaccount:kube-system:*"),
    ]);
    let mut condition = json!({op: {sub_key.clone(): sub_value}});
    if rng.chance(70) {
        condition["StringEquals"][&aud_key] = json!("sts.amazonaws.com");
    }
    let principal = rng.pick(&[
        json!({"Federated": PROVIDER}),
        json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHER"}),
    ]);
    let trust = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":principal,
        "Action": rng.pick(&[json!("sts:AssumeRoleWithWebIdentity"), json!(["sts:AssumeRole*"])]),
        "Condition": condition}]});
    let mut ctx = serde_json::Map::new();
    ctx.insert(
        sub_key,
        json!(rng.pick(&[
            "system:serviceaccount:curity:dynamo-sa",
            "system:serviceaccount:default:other",
            "system:serviceaccount:curity:web"
        ])),
    );
    if rng.chance(90) {
        ctx.insert(
            aud_key,
            json!(rng.pick(&["sts.amazonaws.com", "sts.amazonaws.com", "other-audience"])),
        );
    }
    let request = json!({"principal": PROVIDER, "action": "sts:AssumeRoleWithWebIdentity", "resource": ROLE, "context": ctx});
    build_case(
        id,
        if validated {
            Portion::Validated
        } else {
            Portion::Trust
        },
        Docs {
            resource: Some(trust),
            ..Docs::identity(Vec::new())
        },
        request,
        Principal::Federated(PROVIDER.into()),
        validated.then_some(Known::TrustValidated),
    )
}

// ---------------------------------------------------------------------------------------------
// Cases, known-difference tagging, comparison
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Portion {
    General,
    Validated,
    Trust,
    Accounts,
}

/// The oracle README's known differences ("Where the oracle is not ground truth").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Known {
    EnclosingOperation,
    NegatedUnresolvedVariable,
    EscapeInStringEquals,
    OldVersion,
    SessionPolicyVersusDirectGrant,
    TrustValidated,
    /// Found by this suite, not in the oracle README: iam-simulate does not substitute
    /// variables in `Arn*` operator values (AWS: "You can use a policy variable for Condition
    /// values that involve the String operators ... or the ARN operators").
    VariableInArnOperator,
    /// Found by this suite, not in the oracle README: with a permissions boundary present,
    /// iam-simulate applies a resource policy's `Deny` + `NotPrincipal` to the very session the
    /// `NotPrincipal` names (it re-evaluates the policy for the role).
    NotPrincipalWithBoundary,
}

impl Known {
    fn describe(self) -> &'static str {
        match self {
            Self::EnclosingOperation => "ConditionCheckItem with EnclosingOperation",
            Self::NegatedUnresolvedVariable => "negated operator on a variable with no value",
            Self::EscapeInStringEquals => "${$}/${*} inside StringEquals",
            Self::OldVersion => "Version 2008-10-17 or absent",
            Self::SessionPolicyVersusDirectGrant => {
                "session policy vs a grant directly to the session"
            }
            Self::TrustValidated => "IRSA trust policy in validated mode",
            Self::VariableInArnOperator => "variable in an Arn operator [not in the oracle README]",
            Self::NotPrincipalWithBoundary => {
                "Deny with NotPrincipal and a permissions boundary [not in the oracle README]"
            }
        }
    }
}

struct Docs {
    identity: Vec<Value>,
    resource: Option<Value>,
    boundary: Option<Value>,
    session: Vec<Value>,
    scp: Option<Vec<Value>>,
    /// SCPs as a hierarchy (`orgIdentifier` form), root first.
    scp_levels: Option<Levels<Value>>,
    /// RCPs as a hierarchy, root first (the oracle and we add `RCPFullAWSAccess` at each).
    rcp_levels: Option<Levels<Value>>,
}

/// Organization levels: `(orgIdentifier, policies)`, root first.
type Levels<T> = Vec<(String, Vec<T>)>;

impl Docs {
    fn identity(identity: Vec<Value>) -> Self {
        Self {
            identity,
            resource: None,
            boundary: None,
            session: Vec::new(),
            scp: None,
            scp_levels: None,
            rcp_levels: None,
        }
    }
}

struct Case {
    portion: Portion,
    input: Value,
    identity: Vec<NamedPolicy>,
    resource: Option<NamedPolicy>,
    boundary: Option<NamedPolicy>,
    session: Vec<NamedPolicy>,
    scp: Option<Vec<NamedPolicy>>,
    scp_levels: Option<Levels<NamedPolicy>>,
    rcp_levels: Option<Levels<NamedPolicy>>,
    request: Request,
    known: Vec<Known>,
}

fn named(name: &str, doc: &Value) -> NamedPolicy {
    NamedPolicy::new(
        name,
        Policy::from_value(doc).expect("generated policy parses"),
    )
}

fn build_case(
    id: usize,
    portion: Portion,
    docs: Docs,
    request: Value,
    principal: Principal,
    known: Option<Known>,
) -> Case {
    let mut input = json!({
        "id": id,
        "identityPolicies": docs.identity.iter().enumerate().map(|(i, d)| json!({"name": format!("identity{i}"), "policy": d})).collect::<Vec<_>>(),
        "request": request,
        "options": {"validate": portion == Portion::Validated},
    });
    if let Some(d) = &docs.resource {
        input["resourcePolicy"] = d.clone();
    }
    if let Some(d) = &docs.boundary {
        input["permissionBoundaries"] = json!([d]);
    }
    if !docs.session.is_empty() {
        input["sessionPolicy"] = json!(docs.session);
    }
    if let Some(scp) = &docs.scp {
        input["scp"] = json!(scp);
    }
    let hierarchy = |levels: &Levels<Value>, field: &str| {
        json!(
            levels
                .iter()
                .enumerate()
                .map(
                    |(i, (id, docs))| json!({"orgIdentifier": id, "policies": docs
                .iter()
                .enumerate()
                .map(|(j, d)| json!({"name": format!("{field}{i}-{j}"), "policy": d}))
                .collect::<Vec<_>>()})
                )
                .collect::<Vec<_>>()
        )
    };
    if let Some(levels) = &docs.scp_levels {
        input["scp"] = hierarchy(levels, "scp");
    }
    if let Some(levels) = &docs.rcp_levels {
        input["rcp"] = hierarchy(levels, "rcp");
    }
    let context: Context =
        serde_json::from_value(request["context"].clone()).expect("context deserializes");
    let mut tags = tag_known(&docs, &context);
    // The session-policy category is about a same-account grant made directly to the session;
    // across accounts the session policy limits every grant, on both sides.
    let principal_account = request["principal"].as_str().and_then(arn_account);
    let resource_account = request["resource"].as_str().and_then(arn_account);
    if principal_account.is_some()
        && resource_account.is_some()
        && principal_account != resource_account
    {
        tags.retain(|k| *k != Known::SessionPolicyVersusDirectGrant);
    }
    tags.extend(known);
    let named_levels = |levels: &Levels<Value>, field: &str| -> Levels<NamedPolicy> {
        levels
            .iter()
            .enumerate()
            .map(|(i, (id, docs))| {
                let policies = docs
                    .iter()
                    .enumerate()
                    .map(|(j, d)| named(&format!("{field}{i}-{j}"), d))
                    .collect();
                (id.clone(), policies)
            })
            .collect()
    };
    Case {
        portion,
        identity: docs
            .identity
            .iter()
            .enumerate()
            .map(|(i, d)| named(&format!("identity{i}"), d))
            .collect(),
        resource: docs.resource.as_ref().map(|d| named("ResourcePolicy", d)),
        boundary: docs.boundary.as_ref().map(|d| named("boundary0", d)),
        // the oracle merges session documents into one policy, which gives their union; we
        // evaluate them as a set whose layer allows when any allows: the same thing
        session: docs
            .session
            .iter()
            .map(|d| named("SessionPolicy", d))
            .collect(),
        scp: docs.scp.as_ref().map(|docs| {
            docs.iter()
                .enumerate()
                .map(|(i, d)| named(&format!("scp{i}"), d))
                .collect()
        }),
        scp_levels: docs.scp_levels.as_ref().map(|l| named_levels(l, "scp")),
        rcp_levels: docs.rcp_levels.as_ref().map(|l| named_levels(l, "rcp")),
        request: Request::new(
            request["action"].as_str().unwrap_or_default(),
            request["resource"].as_str().unwrap_or_default(),
        )
        .with_principal(principal)
        .with_context(context),
        input,
        known: tags,
    }
}

/// Every `${...}` key in `text` without a default; escapes excluded.
fn variables_without_default(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = after[..end].trim();
        if !matches!(inner, "*" | "?" | "$") && !inner.contains(',') {
            out.push(inner.to_owned());
        }
        rest = &after[end + 1..];
    }
    out
}

/// The known-difference categories a generated case falls into, read off what was generated.
fn tag_known(docs: &Docs, context: &Context) -> Vec<Known> {
    let mut tags = Vec::new();
    let all: Vec<&Value> = docs
        .identity
        .iter()
        .chain(&docs.resource)
        .chain(&docs.boundary)
        .chain(&docs.session)
        .chain(docs.scp.iter().flatten())
        .chain(docs.scp_levels.iter().flatten().flat_map(|(_, d)| d))
        .chain(docs.rcp_levels.iter().flatten().flat_map(|(_, d)| d))
        .collect();
    if all.iter().any(|d| d["Version"] != json!("2012-10-17")) {
        tags.push(Known::OldVersion);
    }
    let statements = all.iter().flat_map(|d| match &d["Statement"] {
        Value::Array(items) => items.iter().collect::<Vec<_>>(),
        other => vec![other],
    });
    for statement in statements {
        let Some(block) = statement["Condition"].as_object() else {
            continue;
        };
        for (op, keys) in block {
            let base = op.rsplit(':').next().unwrap_or(op);
            let texts: Vec<String> = keys
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
                .flat_map(|v| match v {
                    Value::Array(items) => items.clone(),
                    other => vec![other.clone()],
                })
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            if base.starts_with("Arn") && texts.iter().any(|t| t.contains("${")) {
                tags.push(Known::VariableInArnOperator);
            }
            let negated = base.contains("Not");
            if negated
                && texts.iter().any(|t| {
                    variables_without_default(t)
                        .iter()
                        .any(|k| context.get(k).and_then(|v| v.single()).is_none())
                })
            {
                tags.push(Known::NegatedUnresolvedVariable);
            }
            if (base.starts_with("StringEquals") || base.starts_with("StringNotEquals"))
                && texts
                    .iter()
                    .any(|t| t.contains("${$}") || t.contains("${*}") || t.contains("${?}"))
            {
                tags.push(Known::EscapeInStringEquals);
            }
        }
    }
    // iam-simulate lets an implicit deny in session policies limit every resource-policy grant;
    // the IAM guide exempts grants made directly to the session (its ARN, or `*`, which the
    // Principal element page says session policies do not limit).
    if !docs.session.is_empty()
        && docs.resource.as_ref().is_some_and(|r| {
            let text = r.to_string();
            text.contains(SESSION)
                || text.contains(r#""Principal":"*""#)
                || text.contains(r#""AWS":"*""#)
        })
    {
        tags.push(Known::SessionPolicyVersusDirectGrant);
    }
    if docs.boundary.is_some()
        && docs
            .resource
            .as_ref()
            .is_some_and(|r| r.to_string().contains("NotPrincipal"))
    {
        tags.push(Known::NotPrincipalWithBoundary);
    }
    tags.sort();
    tags.dedup();
    tags
}

fn ours(case: &Case) -> iam_policy::Evaluation {
    let set = PolicySet {
        identity: &case.identity,
        resource: case.resource.as_ref(),
        permissions_boundary: case.boundary.as_ref(),
        session: &case.session,
        scp: case.scp.as_deref(),
    };
    let scp = case.scp_levels.as_ref().map(borrow);
    let rcp = case.rcp_levels.as_ref().map(borrow);
    if scp.is_none() && rcp.is_none() {
        return evaluate(&set, &case.request);
    }
    let scope = Scope {
        resource_account: None,
        scp: scp.as_deref(),
        rcp: rcp.as_deref(),
    };
    evaluate_in(&set, &scope, &case.request)
}

fn borrow(levels: &Levels<NamedPolicy>) -> Vec<OrgLevel<'_>> {
    levels
        .iter()
        .map(|(id, policies)| OrgLevel { id, policies })
        .collect()
}

/// The 12-digit account of an ARN, as the oracle reads it (`arnAccount`).
fn arn_account(arn: &str) -> Option<&str> {
    let account = arn.strip_prefix("arn:")?.split(':').nth(3)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// What the accounts portion exercised, counted from our evaluations, so the suite fails if the
/// generator stops producing what it is there for.
#[derive(Default)]
struct AccountsCoverage {
    cross_account: usize,
    cross_account_allowed: usize,
    scp_hierarchy: usize,
    denied_at_scp_level: usize,
    rcp: usize,
    denied_by_rcp: usize,
    decisions: [usize; 3],
}

impl AccountsCoverage {
    fn count(&mut self, case: &Case, evaluation: &iam_policy::Evaluation) {
        let explanation = &evaluation.explanation;
        if explanation.cross_account.is_some() {
            self.cross_account += 1;
            self.cross_account_allowed += usize::from(evaluation.is_allowed());
        }
        if case.scp_levels.is_some() {
            self.scp_hierarchy += 1;
            self.denied_at_scp_level += usize::from(
                evaluation.denied_by() == Some(iam_policy::PolicyKind::ServiceControl)
                    && explanation.denied_at.is_some(),
            );
        }
        if case.rcp_levels.is_some() {
            self.rcp += 1;
            self.denied_by_rcp += usize::from(
                evaluation.denied_by() == Some(iam_policy::PolicyKind::ResourceControl),
            );
        }
        self.decisions[match evaluation.decision {
            Decision::Allow => 0,
            Decision::ImplicitDeny => 1,
            Decision::ExplicitDeny => 2,
        }] += 1;
    }

    fn assert_varied(&self) {
        let enough = ACCOUNTS / 50;
        for (what, n) in [
            ("cross-account", self.cross_account),
            ("cross-account allowed", self.cross_account_allowed),
            ("SCP hierarchy", self.scp_hierarchy),
            ("denied at an SCP level", self.denied_at_scp_level),
            ("with RCPs", self.rcp),
            ("denied by an RCP", self.denied_by_rcp),
            ("allowed", self.decisions[0]),
            ("implicitly denied", self.decisions[1]),
            ("explicitly denied", self.decisions[2]),
        ] {
            assert!(n >= enough, "accounts portion: only {n} cases {what}");
        }
    }
}

impl std::fmt::Display for AccountsCoverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cross-account ({} allowed), {} SCP hierarchies ({} denied at a level), {} with RCPs \
             ({} denied by one); {} allowed, {} implicitly and {} explicitly denied",
            self.cross_account,
            self.cross_account_allowed,
            self.scp_hierarchy,
            self.denied_at_scp_level,
            self.rcp,
            self.denied_by_rcp,
            self.decisions[0],
            self.decisions[1],
            self.decisions[2],
        )
    }
}

fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "Allowed",
        Decision::ImplicitDeny => "ImplicitlyDenied",
        Decision::ExplicitDeny => "ExplicitlyDenied",
    }
}

// ---------------------------------------------------------------------------------------------
// Installing and running the oracle
// ---------------------------------------------------------------------------------------------

fn skip(reason: &str) {
    if std::env::var("IAM_ORACLE_REQUIRED").is_ok_and(|v| v == "1") {
        panic!("differential suite required but unavailable: {reason}");
    }
    report(&format!(
        "SKIPPED differential suite against iam-oracle: {reason}"
    ));
}

/// Writes to the process's stderr directly: unlike `println!`, not captured by the test
/// harness, so the agreement count shows in every `cargo test` run.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

const ORACLE_FILES: [&str; 4] = [
    "oracle.mjs",
    "package.json",
    "package-lock.json",
    "README.md",
];

/// Whether `dir` holds an installed oracle whose files are those of `source`.
fn installed(dir: &Path, source: &Path) -> bool {
    dir.join("node_modules/@cloud-copilot/iam-simulate/package.json")
        .is_file()
        && dir.join(".installed").is_file()
        && ["oracle.mjs", "package.json", "package-lock.json"]
            .iter()
            .all(|f| {
                matches!((std::fs::read(dir.join(f)), std::fs::read(source.join(f))),
                    (Ok(a), Ok(b)) if a == b)
            })
}

/// Installs the oracle into `<workspace>/target/iam-oracle`: copies it from `../shared` (read
/// only: files are written afresh, not copied with their permissions) into a private temporary
/// directory, runs `npm ci` there, marks it complete and renames it into place. A concurrent
/// installer that loses the rename uses the winner's copy; a stale or partial copy is renamed
/// aside first, so no process ever sees a half-installed oracle at the final path.
fn install_oracle() -> Result<PathBuf, String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().ok_or("no workspace directory")?;
    let source = std::env::var_os("IAM_ORACLE_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("../shared/tools/iam-oracle"));
    let target = workspace.join("target");
    let dest = target.join("iam-oracle");
    if Command::new("node")
        .arg("--version")
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        return Err("`node` is not installed".into());
    }
    if !source.join("oracle.mjs").is_file() {
        return Err(format!("no oracle at {}", source.display()));
    }
    if installed(&dest, &source) {
        return Ok(dest);
    }
    std::fs::create_dir_all(&target).map_err(|e| format!("create {}: {e}", target.display()))?;
    let unique = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let temp = target.join(format!("iam-oracle.tmp-{unique}"));
    let result = (|| {
        std::fs::create_dir_all(&temp).map_err(|e| format!("create {}: {e}", temp.display()))?;
        for file in ORACLE_FILES {
            let bytes = std::fs::read(source.join(file))
                .map_err(|e| format!("read {file} from {}: {e}", source.display()))?;
            std::fs::write(temp.join(file), bytes).map_err(|e| format!("write {file}: {e}"))?;
        }
        let output = Command::new("npm")
            // `--prefer-offline`: once npm's cache holds the pinned packages, no network is needed.
            .args([
                "ci",
                "--prefer-offline",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])
            .current_dir(&temp)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("`npm` is not available: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`npm ci` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        std::fs::write(temp.join(".installed"), b"").map_err(|e| format!("mark: {e}"))?;
        if dest.exists() && !installed(&dest, &source) {
            // stale or partial: move it aside atomically (losing this race is fine)
            let aside = target.join(format!("iam-oracle.stale-{unique}"));
            if std::fs::rename(&dest, &aside).is_ok() {
                let _ = std::fs::remove_dir_all(&aside);
            }
        }
        match std::fs::rename(&temp, &dest) {
            Ok(()) => Ok(()),
            Err(_) if installed(&dest, &source) => Ok(()), // another process won the race
            Err(e) => Err(format!("rename into {}: {e}", dest.display())),
        }
    })();
    let _ = std::fs::remove_dir_all(&temp);
    result.map(|()| dest)
}

fn run_oracle(oracle: &Path, cases: &[Case]) -> Vec<Value> {
    let mut child = Command::new("node")
        .arg(oracle.join("oracle.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn node");
    let mut stdin = child.stdin.take().expect("stdin");
    let lines: Vec<String> = cases.iter().map(|c| c.input.to_string()).collect();
    let writer = std::thread::spawn(move || {
        let mut out = std::io::BufWriter::new(&mut stdin);
        for line in lines {
            writeln!(out, "{line}").expect("write to oracle");
        }
    });
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let answers: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(&l.expect("read oracle")).expect("oracle answers JSON"))
        .collect();
    writer.join().expect("writer");
    assert!(child.wait().expect("oracle exits").success());
    answers
}

#[test]
fn agrees_with_iam_simulate() {
    let oracle = match install_oracle() {
        Ok(dir) => dir,
        Err(reason) => return skip(&reason),
    };
    let mut rng = Rng(SEED);
    let mut cases: Vec<Case> = Vec::new();
    for _ in 0..GENERAL {
        let id = cases.len();
        cases.push(general_case(id, &mut rng));
    }
    for _ in 0..VALIDATED {
        let id = cases.len();
        cases.push(validated_case(id, &mut rng));
    }
    // a separate generator, so the portions above keep generating exactly the cases they did
    let mut accounts_rng = Rng(SEED ^ 0xACC0_u64);
    for _ in 0..ACCOUNTS {
        let id = cases.len();
        cases.push(accounts_case(id, &mut accounts_rng));
    }
    for _ in 0..60 {
        let id = cases.len();
        cases.push(trust_case(id, &mut rng, false));
    }
    for _ in 0..4 {
        let id = cases.len();
        cases.push(trust_case(id, &mut rng, true));
    }
    let id = cases.len();
    cases.push(enclosing_operation_case(id));

    let answers = run_oracle(&oracle, &cases);
    assert_eq!(answers.len(), cases.len(), "one answer per request");

    let mut agree = 0usize;
    let mut known: std::collections::BTreeMap<Known, usize> = Default::default();
    let mut unverified = Vec::new();
    let mut disagreements = Vec::new();
    let mut validated_compared = 0usize;
    let mut accounts_coverage = AccountsCoverage::default();
    for (case, answer) in cases.iter().zip(&answers) {
        assert_eq!(answer["id"], case.input["id"]);
        let theirs = answer["decision"].as_str().unwrap_or("missing");
        if theirs == "Error" {
            if answer["error"] == "unvalidated.mode.unavailable" {
                return skip(
                    "the oracle's unvalidated mode is unavailable in this iam-simulate version",
                );
            }
            unverified.push(format!("{}: {answer}", case.input));
            continue;
        }
        let ignored = answer["detail"]["ignoredContextKeys"]
            .as_array()
            .is_some_and(|k| !k.is_empty());
        if case.portion == Portion::Validated && case.known.is_empty() {
            assert!(
                !ignored,
                "the oracle ignored context keys, so it evaluated another request: {answer}\n{}",
                case.input
            );
            assert!(
                answer["detail"]["warnings"]
                    .as_array()
                    .is_none_or(Vec::is_empty),
                "oracle warnings: {answer}"
            );
            validated_compared += 1;
        }
        let evaluation = ours(case);
        if case.portion == Portion::Accounts {
            accounts_coverage.count(case, &evaluation);
        }
        let ours = decision_name(evaluation.decision);
        if ours == theirs {
            agree += 1;
        } else if let Some(first) = case.known.first() {
            *known.entry(*first).or_default() += 1;
        } else {
            disagreements.push(format!(
                "ours {ours}, oracle {theirs}: {}\n  oracle: {answer}",
                case.input
            ));
        }
    }
    let known_total: usize = known.values().sum();
    if !disagreements.is_empty() {
        let path = oracle.with_file_name("iam-oracle-disagreements.txt");
        let _ = std::fs::write(&path, disagreements.join("\n"));
        report(&format!("disagreements written to {}", path.display()));
    }
    let breakdown = known
        .iter()
        .map(|(k, n)| format!("{n} {}", k.describe()))
        .collect::<Vec<_>>()
        .join(", ");
    report(&format!(
        "differential: {agree}/{} agree, {known_total} in known-difference categories ({breakdown}), \
         {} unverified (oracle error), {} disagreements; {validated_compared} validated-mode \
         DynamoDB cases with no ignored context keys; accounts portion: {accounts_coverage}",
        cases.len(),
        unverified.len(),
        disagreements.len(),
    ));
    accounts_coverage.assert_varied();

    assert!(
        unverified.len() <= cases.len() / 100,
        "{} oracle errors; first ones:\n{}",
        unverified.len(),
        unverified
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        validated_compared >= VALIDATED * 9 / 10,
        "too few validated cases compared: {validated_compared}"
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements; first ones:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
