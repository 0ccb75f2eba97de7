//! Evaluation tests; each names the AWS "Policy evaluation logic" sentence it follows.

use super::*;
use crate::policy::{Policy, StatementRef};
use crate::request::{Context, Principal, Request};

const ACCOUNT: &str = "111122223333";
const ROLE: &str = "arn:aws:iam::111122223333:role/curity-dynamo";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/curity-dynamo/pod-1";
const TABLE: &str = "arn:aws:dynamodb:eu-west-1:111122223333:table/curity-accounts";
const PROVIDER: &str =
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";

fn named(name: &str, json: serde_json::Value) -> NamedPolicy {
    NamedPolicy::new(name, Policy::from_value(&json).unwrap())
}

fn seed() -> NamedPolicy {
    named(
        "curity-dynamo",
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/curity-*"}]}),
    )
}

fn allow_all(name: &str) -> NamedPolicy {
    named(
        name,
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}),
    )
}

fn trust() -> NamedPolicy {
    named(
        "trust",
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":PROVIDER},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:curity:dynamo-sa","oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud":"sts.amazonaws.com"}}}]}),
    )
}

fn web_identity(sub: &str) -> Request {
    Request::new("sts:AssumeRoleWithWebIdentity", ROLE)
        .with_principal(Principal::Federated(PROVIDER.into()))
        .with_context(
            Context::new()
                .with("oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub", sub)
                .with(
                    "oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud",
                    "sts.amazonaws.com",
                ),
        )
}

fn session_request(action: &str, resource: &str) -> Request {
    Request::new(action, resource).with_principal(Principal::Aws(SESSION.into()))
}

#[test]
fn irsa_trust_policy_allows_the_bound_service_account() {
    let trust = trust();
    let e = evaluate(
        &PolicySet::resource(&trust),
        &web_identity("system:serviceaccount:curity:dynamo-sa"),
    );
    assert_eq!(e.decision, Decision::Allow);
    let decisive: Vec<_> = e
        .explanation
        .decisive()
        .map(|(k, n, s)| (k, n.to_owned(), s.statement.clone()))
        .collect();
    assert_eq!(
        decisive,
        vec![(
            PolicyKind::Resource,
            "trust".to_owned(),
            StatementRef::Index(1)
        )]
    );
}

#[test]
fn irsa_trust_policy_denies_another_service_account() {
    let trust = trust();
    let e = evaluate(
        &PolicySet::resource(&trust),
        &web_identity("system:serviceaccount:default:other"),
    );
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.denied_by(), Some(PolicyKind::Identity));
    let text = e.explanation.to_string();
    assert!(text.contains("condition `StringEquals` on `oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub` failed: request value `system:serviceaccount:default:other`"), "{text}");
}

#[test]
fn irsa_trust_policy_denies_another_provider() {
    let trust = trust();
    let mut request = web_identity("system:serviceaccount:curity:dynamo-sa");
    request.principal = Some(Principal::Federated(
        "arn:aws:iam::111122223333:oidc-provider/other".into(),
    ));
    assert_eq!(
        evaluate(&PolicySet::resource(&trust), &request).decision,
        Decision::ImplicitDeny
    );
}

#[test]
fn seed_policy_allows_curity_tables_only() {
    let policies = [seed()];
    let set = PolicySet::identity(&policies);
    assert!(evaluate(&set, &session_request("dynamodb:GetItem", TABLE)).is_allowed());
    assert!(evaluate(&set, &session_request("DynamoDB:getitem", TABLE)).is_allowed());
    let other = "arn:aws:dynamodb:eu-west-1:111122223333:table/billing";
    let e = evaluate(&set, &session_request("dynamodb:GetItem", other));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.denied_by(), Some(PolicyKind::Identity));
    let e = evaluate(&set, &session_request("s3:GetObject", TABLE));
    assert_eq!(e.decision, Decision::ImplicitDeny);
}

/// "An explicit deny in any policy overrides any allows."
#[test]
fn explicit_deny_wins_over_allow() {
    let policies = [
        seed(),
        named(
            "no-delete",
            serde_json::json!({"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Action":"dynamodb:Delete*","Resource":"*"}]}),
        ),
    ];
    let e = evaluate(
        &PolicySet::identity(&policies),
        &session_request("dynamodb:DeleteTable", TABLE),
    );
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.denied_by(), Some(PolicyKind::Identity));
    let decisive: Vec<_> = e
        .explanation
        .decisive()
        .map(|(_, n, s)| (n.to_owned(), s.statement.clone()))
        .collect();
    assert_eq!(
        decisive,
        vec![("no-delete".to_owned(), StatementRef::Sid("NoDelete".into()))]
    );
}

/// "If an action is allowed by an identity-based policy, a resource-based policy, or both,
/// then AWS allows the action."
#[test]
fn resource_policy_alone_allows_in_the_same_account() {
    let resource = named(
        "table-policy",
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":ROLE},"Action":"dynamodb:GetItem","Resource":TABLE}]}),
    );
    let e = evaluate(
        &PolicySet::new().with_resource(&resource),
        &session_request("dynamodb:GetItem", TABLE),
    );
    assert_eq!(e.decision, Decision::Allow);
}

/// Deny in a resource policy is reported as resource-based.
#[test]
fn explicit_deny_in_resource_policy_names_resource_kind() {
    let identity = [seed()];
    let resource = named(
        "table-policy",
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"dynamodb:*","Resource":"*"}]}),
    );
    let e = evaluate(
        &PolicySet::identity(&identity).with_resource(&resource),
        &session_request("dynamodb:GetItem", TABLE),
    );
    assert_eq!(e.denied_by(), Some(PolicyKind::Resource));
}

/// "When you set a permissions boundary for an entity, the entity can perform only the actions
/// that are allowed by both its identity-based policies and its permissions boundaries."
#[test]
fn permissions_boundary_limits_identity_allows() {
    let identity = [allow_all("admin")];
    let boundary = seed();
    let set = PolicySet::identity(&identity).with_permissions_boundary(&boundary);
    assert!(evaluate(&set, &session_request("dynamodb:GetItem", TABLE)).is_allowed());
    let e = evaluate(&set, &session_request("s3:GetObject", "arn:aws:s3:::b/k"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.denied_by(), Some(PolicyKind::PermissionsBoundary));
}

/// "Resource-based policies that grant permissions to an IAM role ARN are limited by an
/// implicit deny in a permissions boundary or session policy."
#[test]
fn resource_grant_to_role_arn_is_limited_by_boundary_and_session() {
    let resource = named(
        "p",
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":ROLE},"Action":"s3:GetObject","Resource":"*"}]}),
    );
    let boundary = seed();
    let e = evaluate(
        &PolicySet::new()
            .with_resource(&resource)
            .with_permissions_boundary(&boundary),
        &session_request("s3:GetObject", "arn:aws:s3:::b/k"),
    );
    assert_eq!(e.denied_by(), Some(PolicyKind::PermissionsBoundary));
    let session = [seed()];
    let e = evaluate(
        &PolicySet::new()
            .with_resource(&resource)
            .with_session(&session),
        &session_request("s3:GetObject", "arn:aws:s3:::b/k"),
    );
    assert_eq!(e.denied_by(), Some(PolicyKind::Session));
}

/// "Within the same account, resource-based policies that grant permissions to an IAM role
/// session ARN grant permissions directly to the assumed role session. Permissions granted
/// directly to a session are not limited by an implicit deny in an identity-based policy, a
/// permissions boundary, or session policy."
#[test]
fn resource_grant_to_session_arn_is_not_limited() {
    let resource = named(
        "p",
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Sid":"ToSession","Effect":"Allow","Principal":{"AWS":SESSION},"Action":"s3:GetObject","Resource":"*"}]}),
    );
    let boundary = seed();
    let session = [seed()];
    let set = PolicySet::new()
        .with_resource(&resource)
        .with_permissions_boundary(&boundary)
        .with_session(&session);
    let e = evaluate(&set, &session_request("s3:GetObject", "arn:aws:s3:::b/k"));
    assert_eq!(e.decision, Decision::Allow);
    let decisive: Vec<_> = e
        .explanation
        .decisive()
        .map(|(k, _, s)| (k, s.statement.clone()))
        .collect();
    assert_eq!(
        decisive,
        vec![(PolicyKind::Resource, StatementRef::Sid("ToSession".into()))]
    );
}

/// Session policies: "the resulting session's permissions are the intersection of the IAM
/// entity's identity-based policy and the session policies".
#[test]
fn session_policy_intersects_identity() {
    let identity = [allow_all("admin")];
    let session = [seed()];
    let set = PolicySet::identity(&identity).with_session(&session);
    assert!(evaluate(&set, &session_request("dynamodb:GetItem", TABLE)).is_allowed());
    let e = evaluate(
        &set,
        &session_request(
            "dynamodb:GetItem",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/x",
        ),
    );
    assert_eq!(e.denied_by(), Some(PolicyKind::Session));
}

/// "If the enforcement code does not find any applicable Allow statements in the SCPs, then
/// the request is implicitly denied."
#[test]
fn scp_must_allow() {
    let identity = [allow_all("admin")];
    let scp = [seed()];
    let set = PolicySet::identity(&identity).with_scp(&scp);
    assert!(evaluate(&set, &session_request("dynamodb:GetItem", TABLE)).is_allowed());
    let e = evaluate(&set, &session_request("s3:GetObject", "arn:aws:s3:::b/k"));
    assert_eq!(e.denied_by(), Some(PolicyKind::ServiceControl));
    let empty: [NamedPolicy; 0] = [];
    let e = evaluate(
        &PolicySet::identity(&identity).with_scp(&empty),
        &session_request("dynamodb:GetItem", TABLE),
    );
    assert_eq!(e.denied_by(), Some(PolicyKind::ServiceControl));
}

#[test]
fn explicit_deny_in_scp_names_scp() {
    let identity = [allow_all("admin")];
    let scp = [
        allow_all("full"),
        named(
            "deny-s3",
            serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}),
        ),
    ];
    let e = evaluate(
        &PolicySet::identity(&identity).with_scp(&scp),
        &session_request("s3:GetObject", "arn:aws:s3:::b/k"),
    );
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.denied_by(), Some(PolicyKind::ServiceControl));
}

/// Principal element, AWS account principals: "This delegates authority to the account. When
/// you allow access to a different account, an administrator in that account must then grant
/// access to an identity (IAM user or role) in that account."
#[test]
fn resource_grant_to_the_account_needs_an_identity_allow() {
    let resource = named(
        "p",
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":ACCOUNT},"Action":"dynamodb:*","Resource":"*"}]}),
    );
    let e = evaluate(
        &PolicySet::new().with_resource(&resource),
        &session_request("dynamodb:GetItem", TABLE),
    );
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert!(e.explanation.layers[0].policies[0].statements[0].delegated_to_account);
    let identity = [seed()];
    let e = evaluate(
        &PolicySet::identity(&identity).with_resource(&resource),
        &session_request("dynamodb:GetItem", TABLE),
    );
    assert_eq!(e.decision, Decision::Allow);
}

/// Principal element, All principals: "Identity-based policy types, such as permissions
/// boundaries or session policies, do not limit permissions granted using the aws:PrincipalArn
/// condition key with a wildcard(*) in the Principal element, unless the identity-based policies
/// contain an explicit deny."
#[test]
fn resource_grant_to_star_is_not_limited_by_boundary() {
    let resource = named(
        "p",
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":ROLE}}}]}),
    );
    let boundary = seed();
    let request = session_request("s3:GetObject", "arn:aws:s3:::b/k")
        .with_context(Context::new().with("aws:PrincipalArn", ROLE));
    let e = evaluate(
        &PolicySet::new()
            .with_resource(&resource)
            .with_permissions_boundary(&boundary),
        &request,
    );
    assert_eq!(e.decision, Decision::Allow);
}

#[test]
fn no_policies_is_an_implicit_deny_by_identity() {
    let e = evaluate(
        &PolicySet::default(),
        &session_request("dynamodb:GetItem", TABLE),
    );
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(e.denied_by(), Some(PolicyKind::Identity));
}

#[test]
fn not_action_and_not_resource_invert_matching() {
    let p = [named(
        "p",
        serde_json::json!({"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:dynamodb:*:*:table/secret"}]}),
    )];
    let set = PolicySet::identity(&p);
    assert!(evaluate(&set, &session_request("dynamodb:GetItem", TABLE)).is_allowed());
    assert!(!evaluate(&set, &session_request("IAM:CreateUser", "*")).is_allowed());
    assert!(
        !evaluate(
            &set,
            &session_request(
                "dynamodb:GetItem",
                "arn:aws:dynamodb:eu-west-1:1:table/secret"
            )
        )
        .is_allowed()
    );
}

#[test]
fn not_principal_excludes_the_named_principal() {
    let resource = named(
        "p",
        serde_json::json!({"Version":"2012-10-17","Statement":[
        {"Effect":"Deny","NotPrincipal":{"AWS":ROLE},"Action":"s3:*","Resource":"*"},
        {"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}),
    );
    let set = PolicySet::new().with_resource(&resource);
    assert!(evaluate(&set, &session_request("s3:GetObject", "arn:aws:s3:::b/k")).is_allowed());
    let other = Request::new("s3:GetObject", "arn:aws:s3:::b/k")
        .with_principal(Principal::Aws("arn:aws:iam::111122223333:user/bob".into()));
    assert_eq!(evaluate(&set, &other).decision, Decision::ExplicitDeny);
}

#[test]
fn resource_policy_statement_without_principal_applies_to_no_one() {
    let resource = named(
        "p",
        serde_json::json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}),
    );
    let e = evaluate(
        &PolicySet::new().with_resource(&resource),
        &session_request("s3:GetObject", "arn:aws:s3:::b"),
    );
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert!(matches!(
        e.explanation.layers[0].policies[0].statements[0].reasons[0],
        Mismatch::PrincipalRequired
    ));
}

#[test]
fn resource_variables_resolve_only_under_2012_10_17() {
    let doc = |version: Option<&str>| {
        let mut v = serde_json::json!({"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]});
        if let Some(version) = version {
            v["Version"] = version.into();
        }
        [named("p", v)]
    };
    let request = session_request("s3:GetObject", "arn:aws:s3:::home/alice/x")
        .with_context(Context::new().with("aws:username", "alice"));
    assert!(evaluate(&PolicySet::identity(&doc(Some("2012-10-17"))), &request).is_allowed());
    assert!(!evaluate(&PolicySet::identity(&doc(Some("2008-10-17"))), &request).is_allowed());
    assert!(!evaluate(&PolicySet::identity(&doc(None)), &request).is_allowed());
    let mut literal = request.clone();
    literal.resource = "arn:aws:s3:::home/${aws:username}/x".into();
    assert!(evaluate(&PolicySet::identity(&doc(None)), &literal).is_allowed());
}

#[test]
fn aws_phrases_match_access_denied_wording() {
    let phrases: Vec<_> = [
        PolicyKind::Identity,
        PolicyKind::Resource,
        PolicyKind::PermissionsBoundary,
        PolicyKind::Session,
        PolicyKind::ServiceControl,
    ]
    .iter()
    .map(|k| k.aws_phrase())
    .collect();
    assert_eq!(
        phrases,
        [
            "identity-based policy",
            "resource-based policy",
            "permissions boundary",
            "session policy",
            "service control policy"
        ]
    );
}

#[test]
fn explanation_text_snapshot() {
    let policies = [
        seed(),
        named(
            "guard",
            serde_json::json!({"Version":"2012-10-17","Statement":[
            {"Sid":"OnlyFromVpc","Effect":"Deny","Action":"dynamodb:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpc":"vpc-1"}}}]}),
        ),
    ];
    let request = session_request(
        "dynamodb:DeleteTable",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/billing",
    )
    .with_context(Context::new().with("aws:SourceVpc", "vpc-1"));
    let e = evaluate(&PolicySet::identity(&policies), &request);
    insta::assert_snapshot!("implicit_deny_text", e.explanation.to_string());
    insta::assert_json_snapshot!("implicit_deny_json", e.explanation);
}
