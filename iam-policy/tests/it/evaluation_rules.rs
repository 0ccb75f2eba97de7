//! AWS's documented evaluation rules, one table row each, naming the page and sentence it
//! follows: same-account resource policies (to a user, a role, a role session, an account),
//! permissions boundaries and session policies, `NotPrincipal`, cross-account evaluation, SCP
//! hierarchies, RCPs and the account and organization condition keys.

use iam_policy::organization::{add_account_keys, full_aws_access};
use iam_policy::{
    Context, Decision, NamedPolicy, OrgLevel, Organization, OrganizationalUnit, PolicyKind,
    PolicySet, Principal, Request, Scope, evaluate_in,
};

const A: &str = "111122223333";
const B: &str = "444455556666";
const ROLE: &str = "arn:aws:iam::111122223333:role/app";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/app/s1";
const USER: &str = "arn:aws:iam::111122223333:user/alice";
const TABLE_A: &str = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders";
const TABLE_B: &str = "arn:aws:dynamodb:eu-west-1:444455556666:table/orders";
const GET: &str = "dynamodb:GetItem";

const EVAL: &str = "IAM User Guide, Policy evaluation logic";
const SINGLE: &str = "IAM User Guide, Policy evaluation for requests within a single account";
const CROSS: &str = "IAM User Guide, Cross-account policy evaluation logic";
const BOUNDARY: &str = "IAM User Guide, Permissions boundaries for IAM entities";
const SESSION_POLICIES: &str = "IAM User Guide, Policies and permissions: session policies";
const PRINCIPAL: &str = "IAM User Guide, AWS JSON policy elements: Principal";
const NOT_PRINCIPAL: &str = "IAM User Guide, AWS JSON policy elements: NotPrincipal";
const SCP: &str = "Organizations User Guide, SCP evaluation";
const SCPS: &str = "Organizations User Guide, Service control policies (SCPs)";
const RCP: &str = "Organizations User Guide, RCP evaluation";
const RCPS: &str = "Organizations User Guide, Resource control policies (RCPs)";
const KEYS: &str = "IAM User Guide, AWS global condition context keys";

fn allow_identity(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}}}"#
    )
}

fn resource_policy(effect: &str, principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Sid":"Shared","Effect":"{effect}","Principal":{principal},"Action":"dynamodb:*","Resource":"*"}}}}"#
    )
}

fn aws(arn: &str) -> String {
    format!(r#"{{"AWS":"{arn}"}}"#)
}

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
const ALLOW_S3_ONLY: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
const DENY_DYNAMO: &str = r#"{"Version":"2012-10-17","Statement":{"Sid":"NoDynamo","Effect":"Deny","Action":"dynamodb:*","Resource":"*"}}"#;
const RCP_PERIMETER: &str = r#"{"Version":"2012-10-17","Statement":{"Sid":"OrgOnly","Effect":"Deny","Principal":"*","Action":"dynamodb:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}}"#;

/// One documented rule and a request that exercises it.
struct Row {
    source: &'static str,
    rule: &'static str,
    principal: &'static str,
    resource: &'static str,
    resource_account: Option<&'static str>,
    identity: Vec<String>,
    resource_policy: Option<String>,
    boundary: Option<String>,
    session: Vec<String>,
    scp: Option<Vec<(&'static str, Vec<&'static str>)>>,
    rcp: Option<Vec<(&'static str, Vec<&'static str>)>>,
    context: Vec<(&'static str, &'static str)>,
    decision: Decision,
    denied_by: Option<PolicyKind>,
    denied_at: Option<&'static str>,
}

fn row(source: &'static str, rule: &'static str) -> Row {
    Row {
        source,
        rule,
        principal: SESSION,
        resource: TABLE_A,
        resource_account: None,
        identity: Vec::new(),
        resource_policy: None,
        boundary: None,
        session: Vec::new(),
        scp: None,
        rcp: None,
        context: Vec::new(),
        decision: Decision::Allow,
        denied_by: None,
        denied_at: None,
    }
}

impl Row {
    fn by(mut self, principal: &'static str) -> Self {
        self.principal = principal;
        self
    }
    fn on(mut self, resource: &'static str) -> Self {
        self.resource = resource;
        self
    }
    fn identity(mut self, doc: impl Into<String>) -> Self {
        self.identity.push(doc.into());
        self
    }
    fn resource_policy(mut self, doc: impl Into<String>) -> Self {
        self.resource_policy = Some(doc.into());
        self
    }
    fn boundary(mut self, doc: &str) -> Self {
        self.boundary = Some(doc.to_owned());
        self
    }
    fn session(mut self, doc: &str) -> Self {
        self.session.push(doc.to_owned());
        self
    }
    fn scp(mut self, levels: Vec<(&'static str, Vec<&'static str>)>) -> Self {
        self.scp = Some(levels);
        self
    }
    fn rcp(mut self, levels: Vec<(&'static str, Vec<&'static str>)>) -> Self {
        self.rcp = Some(levels);
        self
    }
    fn context(mut self, key: &'static str, value: &'static str) -> Self {
        self.context.push((key, value));
        self
    }
    fn allowed(mut self) -> Self {
        self.decision = Decision::Allow;
        self
    }
    fn implicit(mut self, by: PolicyKind, at: Option<&'static str>) -> Self {
        self.decision = Decision::ImplicitDeny;
        self.denied_by = Some(by);
        self.denied_at = at;
        self
    }
    fn explicit(mut self, by: PolicyKind, at: Option<&'static str>) -> Self {
        self.decision = Decision::ExplicitDeny;
        self.denied_by = Some(by);
        self.denied_at = at;
        self
    }
}

fn parse(name: &str, doc: &str) -> NamedPolicy {
    NamedPolicy::parse(name, doc).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn levels(
    kind: &str,
    given: &[(&'static str, Vec<&'static str>)],
) -> Vec<(&'static str, Vec<NamedPolicy>)> {
    given
        .iter()
        .map(|(id, docs)| {
            let policies = docs
                .iter()
                .enumerate()
                .map(|(i, d)| parse(&format!("{kind}-{id}-{i}"), d))
                .collect();
            (*id, policies)
        })
        .collect()
}

fn borrow<'a>(levels: &'a [(&'static str, Vec<NamedPolicy>)]) -> Vec<OrgLevel<'a>> {
    levels
        .iter()
        .map(|(id, policies)| OrgLevel { id, policies })
        .collect()
}

fn check(row: &Row) {
    let identity: Vec<NamedPolicy> = row
        .identity
        .iter()
        .enumerate()
        .map(|(i, d)| parse(&format!("identity{i}"), d))
        .collect();
    let resource = row.resource_policy.as_deref().map(|d| parse("resource", d));
    let boundary = row.boundary.as_deref().map(|d| parse("boundary", d));
    let session: Vec<NamedPolicy> = row.session.iter().map(|d| parse("session", d)).collect();
    let scp = row.scp.as_deref().map(|l| levels("scp", l));
    let rcp = row.rcp.as_deref().map(|l| levels("rcp", l));
    let scp_levels = scp.as_deref().map(borrow);
    let rcp_levels = rcp.as_deref().map(borrow);
    let set = PolicySet {
        identity: &identity,
        resource: resource.as_ref(),
        permissions_boundary: boundary.as_ref(),
        session: &session,
        scp: None,
    };
    let scope = Scope {
        resource_account: row.resource_account,
        scp: scp_levels.as_deref(),
        rcp: rcp_levels.as_deref(),
    };
    let mut context = Context::new();
    for (k, v) in &row.context {
        context.insert(*k, *v);
    }
    let request = Request::new(GET, row.resource)
        .with_principal(Principal::Aws(row.principal.into()))
        .with_context(context);
    let evaluation = evaluate_in(&set, &scope, &request);
    let what = format!("{} — {}\n{}", row.source, row.rule, evaluation.explanation);
    assert_eq!(evaluation.decision, row.decision, "{what}");
    assert_eq!(evaluation.denied_by(), row.denied_by, "{what}");
    assert_eq!(
        evaluation.explanation.denied_at.as_deref(),
        row.denied_at,
        "{what}"
    );
    // an allow names what allowed it; a deny names what denied it (or, implicit, nothing)
    match evaluation.decision {
        Decision::Allow | Decision::ExplicitDeny => {
            assert!(evaluation.explanation.decisive().next().is_some(), "{what}")
        }
        Decision::ImplicitDeny => {
            assert!(evaluation.explanation.decisive().next().is_none(), "{what}")
        }
    }
}

#[test]
fn same_account_resource_policies_boundaries_and_session_policies() {
    let rows = [
        row(EVAL, "If an action is allowed by an identity-based policy, a resource-based policy, or both, then AWS allows the action.")
            .identity(allow_identity(GET, TABLE_A))
            .allowed(),
        row(SINGLE, "If either the identity-based policy or the resource-based policy within the same account allows the request and the other doesn't, the request is still allowed.")
            .resource_policy(resource_policy("Allow", &aws(ROLE)))
            .allowed(),
        row(EVAL, "An explicit deny in any policy overrides any allows.")
            .identity(allow_identity(GET, TABLE_A))
            .resource_policy(resource_policy("Deny", &aws(ROLE)))
            .explicit(PolicyKind::Resource, None),
        row(EVAL, "If a resource-based policy grants permission directly to the IAM user or the session principal that is making the request, then an implicit deny in an identity-based policy, a permissions boundary, or a session policy does not impact the final decision. (the session ARN, with a boundary)")
            .resource_policy(resource_policy("Allow", &aws(SESSION)))
            .boundary(ALLOW_S3_ONLY)
            .allowed(),
        row(EVAL, "... directly to the session principal ... (the session ARN, with a session policy)")
            .resource_policy(resource_policy("Allow", &aws(SESSION)))
            .session(ALLOW_S3_ONLY)
            .allowed(),
        row(EVAL, "... directly to the IAM user ... (the user ARN, with a boundary)")
            .by(USER)
            .resource_policy(resource_policy("Allow", &aws(USER)))
            .boundary(ALLOW_S3_ONLY)
            .allowed(),
        row(EVAL, "Resource-based policies that grant permissions to an IAM role ARN are limited by an implicit deny in a permissions boundary or session policy. (boundary)")
            .resource_policy(resource_policy("Allow", &aws(ROLE)))
            .boundary(ALLOW_S3_ONLY)
            .implicit(PolicyKind::PermissionsBoundary, None),
        row(EVAL, "Resource-based policies that grant permissions to an IAM role ARN are limited by an implicit deny in a permissions boundary or session policy. (session policy)")
            .resource_policy(resource_policy("Allow", &aws(ROLE)))
            .session(ALLOW_S3_ONLY)
            .implicit(PolicyKind::Session, None),
        row(BOUNDARY, "Identity-based policy with boundary: effective permissions are the intersection (the boundary does not allow).")
            .identity(allow_identity(GET, TABLE_A))
            .boundary(ALLOW_S3_ONLY)
            .implicit(PolicyKind::PermissionsBoundary, None),
        row(BOUNDARY, "An explicit deny in a permissions boundary overrides a resource-based grant to the session.")
            .resource_policy(resource_policy("Allow", &aws(SESSION)))
            .boundary(DENY_DYNAMO)
            .explicit(PolicyKind::PermissionsBoundary, None),
        row(SESSION_POLICIES, "The resulting session's permissions are the intersection of the entity's identity-based policies and the session policies.")
            .identity(allow_identity(GET, TABLE_A))
            .session(ALLOW_S3_ONLY)
            .implicit(PolicyKind::Session, None),
        row(PRINCIPAL, "When you specify an AWS account ... This delegates authority to the account ... an administrator in that account must then grant access (no identity-based policy).")
            .resource_policy(resource_policy("Allow", &aws(&format!("arn:aws:iam::{A}:root"))))
            .implicit(PolicyKind::Identity, None),
        row(PRINCIPAL, "... an administrator in that account must then grant access to an identity (the identity-based policy does).")
            .identity(allow_identity(GET, TABLE_A))
            .resource_policy(resource_policy("Allow", &aws(A)))
            .allowed(),
        row(NOT_PRINCIPAL, "A Deny with NotPrincipal applies to every principal except the ones it names: the named session is not denied.")
            .identity(allow_identity(GET, TABLE_A))
            .resource_policy(format!(r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","NotPrincipal":{{"AWS":["arn:aws:iam::{A}:root","{ROLE}","{SESSION}"]}},"Action":"dynamodb:*","Resource":"*"}}}}"#))
            .allowed(),
        row(NOT_PRINCIPAL, "A Deny with NotPrincipal denies every principal it does not name.")
            .identity(allow_identity(GET, TABLE_A))
            .resource_policy(format!(r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","NotPrincipal":{{"AWS":"arn:aws:iam::{B}:role/other"}},"Action":"dynamodb:*","Resource":"*"}}}}"#))
            .explicit(PolicyKind::Resource, None),
    ];
    for r in &rows {
        check(r);
    }
}

#[test]
fn cross_account_needs_both_sides() {
    let rows = [
        row(CROSS, "The principal's identity-based policy must allow the requested access ... Additionally, the resource-based policy in the trusting account must allow it (no resource policy).")
            .on(TABLE_B)
            .identity(allow_identity(GET, TABLE_B))
            .implicit(PolicyKind::Resource, None),
        row(CROSS, "... the resource-based policy ... must specify the principal of the trusted account ... You can specify the entire account (the identity-based policy allows too).")
            .on(TABLE_B)
            .identity(allow_identity(GET, TABLE_B))
            .resource_policy(resource_policy("Allow", &aws(A)))
            .allowed(),
        row(CROSS, "... You must also attach an identity-based policy to the identity that acts as the principal (the resource policy alone).")
            .on(TABLE_B)
            .resource_policy(resource_policy("Allow", &aws(&format!("arn:aws:iam::{A}:root"))))
            .implicit(PolicyKind::Identity, None),
        row(CROSS, "A grant to the assumed-role session itself still needs the identity-based policy across accounts.")
            .on(TABLE_B)
            .resource_policy(resource_policy("Allow", &aws(SESSION)))
            .boundary(ALLOW_ALL)
            .implicit(PolicyKind::Identity, None),
        row(CROSS, "A permissions boundary limits the identity side of a cross-account request (as in the flow chart: boundary evaluated for the principal).")
            .on(TABLE_B)
            .identity(allow_identity(GET, TABLE_B))
            .resource_policy(resource_policy("Allow", &aws(SESSION)))
            .boundary(ALLOW_S3_ONLY)
            .implicit(PolicyKind::PermissionsBoundary, None),
        row(CROSS, "A session policy limits the identity side of a cross-account request, even for a grant naming the session.")
            .on(TABLE_B)
            .identity(allow_identity(GET, TABLE_B))
            .resource_policy(resource_policy("Allow", &aws(SESSION)))
            .session(ALLOW_S3_ONLY)
            .implicit(PolicyKind::Session, None),
        row(CROSS, "An explicit deny in the trusting account's resource policy wins.")
            .on(TABLE_B)
            .identity(allow_identity(GET, TABLE_B))
            .resource_policy(format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{A}"}},"Action":"*","Resource":"*"}},{{"Effect":"Deny","Principal":"*","Action":"dynamodb:GetItem","Resource":"*"}}]}}"#))
            .explicit(PolicyKind::Resource, None),
        row(CROSS, "An ARN without an account and no resource account given: evaluated in the principal's account (not sourced).")
            .on("arn:aws:s3:::shared-bucket/key")
            .identity(allow_identity("*", "*"))
            .allowed(),
    ];
    for r in &rows {
        check(r);
    }
    let mut s3 = row(
        CROSS,
        "The trusting account is the resource owner's, given beside an ARN without one.",
    )
    .on("arn:aws:s3:::shared-bucket/key")
    .identity(allow_identity("*", "*"))
    .implicit(PolicyKind::Resource, None);
    s3.resource_account = Some(B);
    check(&s3);
}

#[test]
fn scp_hierarchy_every_level_must_allow() {
    let path = |ou: Vec<&'static str>| {
        vec![
            ("r-ab12", vec![ALLOW_ALL]),
            ("ou-prod", ou),
            (A, vec![ALLOW_ALL]),
        ]
    };
    let rows = [
        row(SCP, "For a permission to be allowed for a specific account, there must be an explicit Allow statement at every level from the root through each OU in the direct path to the account.")
            .identity(allow_identity(GET, TABLE_A))
            .scp(path(vec![ALLOW_ALL]))
            .allowed(),
        row(SCP, "... If any level has no Allow, access is denied (an OU with only an s3 Allow).")
            .identity(allow_identity(GET, TABLE_A))
            .scp(path(vec![ALLOW_S3_ONLY]))
            .implicit(PolicyKind::ServiceControl, Some("ou-prod")),
        row(SCP, "... a level with no SCP attached allows nothing.")
            .identity(allow_identity(GET, TABLE_A))
            .scp(path(vec![]))
            .implicit(PolicyKind::ServiceControl, Some("ou-prod")),
        row(SCP, "SCPs and Deny: a Deny attached at any level of the path denies the account beneath it.")
            .identity(allow_identity(GET, TABLE_A))
            .scp(path(vec![ALLOW_ALL, DENY_DYNAMO]))
            .explicit(PolicyKind::ServiceControl, Some("ou-prod")),
        row(EVAL, "If a permissions boundary, Organizations SCP, or session policy is present, it might override the allow with an implicit deny (a resource-policy grant to the session).")
            .resource_policy(resource_policy("Allow", &aws(SESSION)))
            .scp(path(vec![ALLOW_S3_ONLY]))
            .implicit(PolicyKind::ServiceControl, Some("ou-prod")),
        row(CROSS, "The principal's SCPs limit it in the other account too.")
            .on(TABLE_B)
            .identity(allow_identity(GET, TABLE_B))
            .resource_policy(resource_policy("Allow", &aws(A)))
            .scp(path(vec![ALLOW_ALL, DENY_DYNAMO]))
            .explicit(PolicyKind::ServiceControl, Some("ou-prod")),
    ];
    for r in &rows {
        check(r);
    }
}

#[test]
fn rcps_guard_the_resource_account() {
    let rows = [
        row(RCP, "The RCPFullAWSAccess policy ... is automatically attached to the organization root, every OU, and every account ... This default RCP allows all principals and actions access to pass through RCP evaluation.")
            .identity(allow_identity(GET, TABLE_A))
            .rcp(vec![("r-ab12", vec![]), ("ou-prod", vec![]), (A, vec![])])
            .allowed(),
        row(RCP, "For a permission to be denied for a resource in a specific account, any RCP from the root through each OU in the direct path to the account ... can deny that permission (an outsider).")
            .on(TABLE_B)
            .identity(allow_identity(GET, TABLE_B))
            .resource_policy(resource_policy("Allow", &aws(A)))
            .rcp(vec![("r-cd34", vec![RCP_PERIMETER]), (B, vec![])])
            .explicit(PolicyKind::ResourceControl, Some("r-cd34")),
        row(RCP, "... (a principal of the organization, aws:PrincipalOrgID in the request context).")
            .on(TABLE_B)
            .identity(allow_identity(GET, TABLE_B))
            .resource_policy(resource_policy("Allow", &aws(A)))
            .rcp(vec![("r-cd34", vec![RCP_PERIMETER]), (B, vec![])])
            .context("aws:PrincipalOrgID", "o-a1b2c3d4e5")
            .allowed(),
        row(RCPS, "No permissions are granted by an RCP (an RCP level alone).")
            .rcp(vec![("r-ab12", vec![])])
            .implicit(PolicyKind::Identity, None),
        row(RCP, "An RCP deny applies to a resource-policy grant made directly to the session.")
            .resource_policy(resource_policy("Allow", &aws(SESSION)))
            .rcp(vec![("r-ab12", vec![]), (A, vec![DENY_DYNAMO_RCP])])
            .explicit(PolicyKind::ResourceControl, Some(A)),
    ];
    for r in &rows {
        check(r);
    }
}

const DENY_DYNAMO_RCP: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"dynamodb:GetItem","Resource":"*"}}"#;

fn organization() -> Organization {
    Organization {
        id: "o-a1b2c3d4e5".into(),
        root: "r-ab12".into(),
        management_account: "999999999999".into(),
        units: vec![OrganizationalUnit {
            id: "ou-ab12-11111111".into(),
            parent: "r-ab12".into(),
        }],
        accounts: [
            (A.to_owned(), "ou-ab12-11111111".to_owned()),
            ("999999999999".to_owned(), "r-ab12".to_owned()),
        ]
        .into(),
        scps: [
            ("r-ab12".to_owned(), vec![full_aws_access().clone()]),
            (
                "ou-ab12-11111111".to_owned(),
                vec![parse("no-dynamo", DENY_DYNAMO)],
            ),
        ]
        .into(),
        rcps: [("r-ab12".to_owned(), vec![parse("no-get", DENY_DYNAMO_RCP)])].into(),
    }
}

#[test]
fn the_management_account_is_exempt() {
    // SCPS: "SCPs don't affect users or roles in the management account."
    // RCPS: "RCPs don't affect resources in the management account."
    let org = organization();
    let identity = [parse("all", ALLOW_ALL)];
    let set = PolicySet::identity(&identity);
    let member = org.scp_levels(A).expect("a member account");
    let member_rcp = org.rcp_levels(A).expect("a member account");
    let request = |account: &str| {
        Request::new(
            GET,
            format!("arn:aws:dynamodb:eu-west-1:{account}:table/orders"),
        )
        .with_principal(Principal::Aws(format!(
            "arn:aws:sts::{account}:assumed-role/app/s1"
        )))
    };
    let governed = evaluate_in(
        &set,
        &Scope {
            scp: Some(&member),
            ..Scope::default()
        },
        &request(A),
    );
    assert_eq!(governed.decision, Decision::ExplicitDeny, "{SCPS}");
    assert_eq!(
        governed.explanation.denied_at.as_deref(),
        Some("ou-ab12-11111111")
    );
    let by_rcp = evaluate_in(
        &set,
        &Scope {
            rcp: Some(&member_rcp),
            ..Scope::default()
        },
        &request(A),
    );
    assert_eq!(by_rcp.decision, Decision::ExplicitDeny, "{RCPS}");
    assert_eq!(by_rcp.denied_by(), Some(PolicyKind::ResourceControl));
    assert!(org.scp_levels("999999999999").is_err(), "{SCPS}");
    assert!(org.rcp_levels("999999999999").is_err(), "{RCPS}");
    let management = evaluate_in(&set, &Scope::default(), &request("999999999999"));
    assert_eq!(management.decision, Decision::Allow);
}

#[test]
fn account_and_organization_keys_in_conditions() {
    // KEYS: aws:PrincipalAccount "the account to which the requesting principal belongs";
    // aws:ResourceAccount "the resource owner's AWS account ID"; aws:PrincipalOrgPaths, a
    // multivalued key compared with `ForAnyValue:StringLike` on `o-…/r-…/ou-…/*`.
    let org = organization();
    let identity = [parse(
        "same-account-only",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*",
            "Condition":{"StringEquals":{"aws:ResourceAccount":"${aws:PrincipalAccount}"},
                         "ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}}}}"#,
    )];
    let set = PolicySet::identity(&identity);
    for (resource_account, decision) in [(A, Decision::Allow), (B, Decision::ImplicitDeny)] {
        let mut context = Context::new();
        add_account_keys(&mut context, Some(A), Some(resource_account));
        org.add_context_keys(&mut context, Some(A), Some(resource_account));
        let request = Request::new(GET, "*")
            .with_principal(Principal::Aws(SESSION.into()))
            .with_context(context);
        let evaluation = evaluate_in(&set, &Scope::default(), &request);
        assert_eq!(evaluation.decision, decision, "{KEYS}: {resource_account}");
    }
}
