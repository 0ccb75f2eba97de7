//! The IAM Query API (version 2010-05-08), pure: a parsed form and the world in, a world change
//! and a result tree (or IAM's error) out. The shell (`iam_handler`) authenticates, authorises
//! with the caller's policies and renders.
//!
//! Sources for the error texts: codes and HTTP statuses from botocore's IAM model
//! (`botocore/data/iam/2010-05-08/service-2.json`: `NoSuchEntity` 404, `EntityAlreadyExists`
//! 409, `MalformedPolicyDocument` 400, `InvalidInput` 400, `LimitExceeded` 409, `DeleteConflict`
//! 409, `ValidationError` 400 as for every coral service). The message texts marked `[mem]` are
//! IAM's answers as they appear in public bug reports and CLI transcripts, written down from
//! memory and NOT verified against AWS here; `[rec]` marks texts we chose where we know none.

use std::collections::BTreeMap;

use iam_policy::{NamedPolicy, Policy, PolicyErrorKind};
use irsa_core::arn::{RoleArn, issuer_host_path, managed_policy_arn, normalise_path};
use irsa_core::token::{IssuerTls, JwksSource};
use irsa_core::world::{ManagedPolicy, OidcProvider, Role, RoleRecord, World, policy_id, role_id};
use sha2::{Digest, Sha256};

use crate::query::Query;

pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
pub const VERSION: &str = "2010-05-08";

/// IAM quotas (AWS IAM User Guide, "IAM and AWS STS quotas"): default values.
pub const MANAGED_POLICIES_PER_ROLE: usize = 10;
pub const MANAGED_POLICY_SIZE: usize = 6144;
pub const TRUST_POLICY_SIZE: usize = 2048;
pub const INLINE_POLICY_SIZE_PER_ROLE: usize = 10240;
pub const CLIENT_IDS_PER_PROVIDER: usize = 100;
pub const THUMBPRINTS_PER_PROVIDER: usize = 5;

/// An IAM error: code, HTTP status, message. Rendered once, in `iam_handler`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct IamError {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
}

impl IamError {
    fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
        }
    }
    pub fn no_such_entity(message: impl Into<String>) -> Self {
        Self::new("NoSuchEntity", 404, message)
    }
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new("EntityAlreadyExists", 409, message)
    }
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new("MalformedPolicyDocument", 400, message)
    }
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new("InvalidInput", 400, message)
    }
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new("LimitExceeded", 409, message)
    }
    pub fn delete_conflict(message: impl Into<String>) -> Self {
        Self::new("DeleteConflict", 409, message)
    }
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDenied", 403, message)
    }
    /// AWS's coral validation format: `N validation error(s) detected: …; …`.
    pub fn validation(errors: &[String]) -> Self {
        let n = errors.len();
        let noun = if n == 1 { "error" } else { "errors" };
        Self::new(
            "ValidationError",
            400,
            format!("{n} validation {noun} detected: {}", errors.join("; ")),
        )
    }
    /// [rec] Query-protocol wording for an unknown action, as `mock-sts` answers it for STS.
    pub fn invalid_action(action: &str) -> Self {
        Self::new(
            "InvalidAction",
            400,
            format!("Could not find operation {action} for version {VERSION}"),
        )
    }
}

/// A result element tree, rendered to XML by the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Xml {
    Leaf(&'static str, String),
    Node(&'static str, Vec<Xml>),
}

fn leaf(name: &'static str, text: impl Into<String>) -> Xml {
    Xml::Leaf(name, text.into())
}

/// What an IAM action needs from IAM's own authorisation: the action, the resource ARN, and the
/// service-specific condition keys (AWS Service Authorization Reference, IAM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub action: String,
    pub resource: String,
    pub context: Vec<(String, String)>,
}

/// The operations implemented.
pub const OPERATIONS: &[&str] = &[
    "CreateOpenIDConnectProvider",
    "GetOpenIDConnectProvider",
    "ListOpenIDConnectProviders",
    "DeleteOpenIDConnectProvider",
    "AddClientIDToOpenIDConnectProvider",
    "UpdateOpenIDConnectProviderThumbprint",
    "CreatePolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "CreateRole",
    "GetRole",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "UpdateRole",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "PutRolePolicy",
    "GetRolePolicy",
    "PutRolePermissionsBoundary",
];

/// Validate the request's parameters (model constraints) and say what it must be authorised
/// for. Runs before authorisation, as AWS validates input first.
pub fn authorization(world: &World, action: &str, q: &Query) -> Result<Authorization, IamError> {
    if !OPERATIONS.contains(&action) {
        return Err(IamError::invalid_action(action));
    }
    validate(action, q)?;
    let account = &world.account;
    let resource = match action {
        "CreateOpenIDConnectProvider" => format!(
            "arn:aws:iam::{account}:oidc-provider/{}",
            issuer_host_path(q.get("Url").unwrap_or_default())
        ),
        "GetOpenIDConnectProvider"
        | "DeleteOpenIDConnectProvider"
        | "AddClientIDToOpenIDConnectProvider"
        | "UpdateOpenIDConnectProviderThumbprint" => q
            .get("OpenIDConnectProviderArn")
            .unwrap_or_default()
            .to_owned(),
        "ListOpenIDConnectProviders" => "*".to_owned(),
        "CreatePolicy" => managed_policy_arn(
            account,
            q.get("Path").unwrap_or("/"),
            q.get("PolicyName").unwrap_or_default(),
        ),
        "GetPolicy" | "GetPolicyVersion" => q.get("PolicyArn").unwrap_or_default().to_owned(),
        "CreateRole" => RoleArn::new(
            account,
            q.get("Path").unwrap_or("/"),
            q.get("RoleName").unwrap_or_default(),
        )
        .as_str()
        .to_owned(),
        // Every other operation names an existing role; its ARN carries the role's path.
        _ => {
            let name = q.get("RoleName").unwrap_or_default();
            world.roles.get(name).map_or_else(
                || RoleArn::new(account, "/", name).as_str().to_owned(),
                |role| role.arn.as_str().to_owned(),
            )
        }
    };
    let mut context = Vec::new();
    if matches!(action, "AttachRolePolicy" | "DetachRolePolicy")
        && let Some(arn) = q.get("PolicyArn")
    {
        context.push(("iam:PolicyARN".to_owned(), arn.to_owned()));
    }
    if matches!(action, "CreateRole" | "PutRolePermissionsBoundary")
        && let Some(arn) = q.get("PermissionsBoundary")
    {
        context.push(("iam:PermissionsBoundary".to_owned(), arn.to_owned()));
    }
    Ok(Authorization {
        action: format!("iam:{action}"),
        resource,
        context,
    })
}

/// Model constraints of the parameters each operation reads (botocore IAM model), as coral
/// validation errors, all counted at once.
fn validate(action: &str, q: &Query) -> Result<(), IamError> {
    let mut errors = Vec::new();
    let mut required = |name: &str, member: &str| {
        if q.get(name).is_none() && q.list(name).is_none() {
            errors.push(format!(
                "Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ));
        }
    };
    match action {
        "CreateOpenIDConnectProvider" => required("Url", "url"),
        "GetOpenIDConnectProvider" | "DeleteOpenIDConnectProvider" => {
            required("OpenIDConnectProviderArn", "openIDConnectProviderArn")
        }
        "AddClientIDToOpenIDConnectProvider" => {
            required("OpenIDConnectProviderArn", "openIDConnectProviderArn");
            required("ClientID", "clientID");
        }
        "UpdateOpenIDConnectProviderThumbprint" => {
            required("OpenIDConnectProviderArn", "openIDConnectProviderArn");
            required("ThumbprintList", "thumbprintList");
        }
        "CreatePolicy" => {
            required("PolicyName", "policyName");
            required("PolicyDocument", "policyDocument");
        }
        "GetPolicy" => required("PolicyArn", "policyArn"),
        "GetPolicyVersion" => {
            required("PolicyArn", "policyArn");
            required("VersionId", "versionId");
        }
        "CreateRole" => {
            required("RoleName", "roleName");
            required("AssumeRolePolicyDocument", "assumeRolePolicyDocument");
        }
        "UpdateAssumeRolePolicy" => {
            required("RoleName", "roleName");
            required("PolicyDocument", "policyDocument");
        }
        "AttachRolePolicy" | "DetachRolePolicy" => {
            required("RoleName", "roleName");
            required("PolicyArn", "policyArn");
        }
        "PutRolePolicy" => {
            required("RoleName", "roleName");
            required("PolicyName", "policyName");
            required("PolicyDocument", "policyDocument");
        }
        "GetRolePolicy" => {
            required("RoleName", "roleName");
            required("PolicyName", "policyName");
        }
        "PutRolePermissionsBoundary" => {
            required("RoleName", "roleName");
            required("PermissionsBoundary", "permissionsBoundary");
        }
        "ListOpenIDConnectProviders" => {}
        _ => required("RoleName", "roleName"),
    }
    let name_pattern = |v: &str| {
        v.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
    };
    for (param, member, max) in [
        ("RoleName", "roleName", 64),
        ("PolicyName", "policyName", 128),
    ] {
        if let Some(v) = q.get(param) {
            let len = v.chars().count();
            if len < 1 {
                errors.push(format!("Value '{v}' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 1"));
            }
            if len > max {
                errors.push(format!("Value '{v}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"));
            }
            if !name_pattern(v) {
                errors.push(format!("Value '{v}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"));
            }
        }
    }
    if let Some(v) = q.get("Path")
        && !(v == "/" || (v.starts_with('/') && v.ends_with('/') && v.len() <= 512))
    {
        errors.push(format!("Value '{v}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"));
    }
    if let Some(v) = q.get("Url") {
        let len = v.chars().count();
        if !(1..=255).contains(&len) {
            errors.push(format!("Value '{v}' at 'url' failed to satisfy constraint: Member must have length less than or equal to 255"));
        }
    }
    if let Some(v) = q.get("MaxSessionDuration") {
        match v.parse::<i64>() {
            Ok(d) if d < 3600 => errors.push(format!("Value '{d}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600")),
            Ok(d) if d > 43200 => errors.push(format!("Value '{d}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200")),
            Ok(_) => {}
            Err(_) => errors.push(format!("Value '{v}' at 'maxSessionDuration' failed to satisfy constraint: Member must be an integer")),
        }
    }
    for (param, member) in [
        ("PolicyDocument", "policyDocument"),
        ("AssumeRolePolicyDocument", "assumeRolePolicyDocument"),
    ] {
        if let Some(v) = q.get(param)
            && v.is_empty()
        {
            errors.push(format!("Value '' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 1"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(IamError::validation(&errors))
    }
}

/// Run an authorised operation against `world`. `now` stamps creation dates; `issuers` answers
/// what IAM would retrieve from an issuer's HTTPS endpoint (its thumbprint, when none is given).
pub fn execute(
    world: &mut World,
    action: &str,
    q: &Query,
    now: i64,
    issuers: &dyn JwksSource,
) -> Result<Option<Xml>, IamError> {
    let s = |name: &str| q.get(name).unwrap_or_default().to_owned();
    match action {
        "CreateOpenIDConnectProvider" => create_provider(world, q, now, issuers),
        "GetOpenIDConnectProvider" => {
            let p = provider(world, &s("OpenIDConnectProviderArn"))?;
            Ok(Some(Xml::Node(
                "GetOpenIDConnectProviderResult",
                vec![
                    Xml::Node(
                        "ThumbprintList",
                        p.thumbprints.iter().map(|t| leaf("member", t)).collect(),
                    ),
                    leaf("CreateDate", irsa_core::clock::render_utc(p.create_date)),
                    Xml::Node(
                        "ClientIDList",
                        p.client_ids.iter().map(|c| leaf("member", c)).collect(),
                    ),
                    leaf("Url", &p.url),
                ],
            )))
        }
        "ListOpenIDConnectProviders" => Ok(Some(Xml::Node(
            "ListOpenIDConnectProvidersResult",
            vec![Xml::Node(
                "OpenIDConnectProviderList",
                world
                    .oidc_providers
                    .iter()
                    .map(|p| Xml::Node("member", vec![leaf("Arn", &p.arn)]))
                    .collect(),
            )],
        ))),
        "DeleteOpenIDConnectProvider" => {
            let arn = s("OpenIDConnectProviderArn");
            provider(world, &arn)?;
            world.oidc_providers.retain(|p| p.arn != arn);
            Ok(None)
        }
        "AddClientIDToOpenIDConnectProvider" => {
            let client_id = s("ClientID");
            check_client_id(&client_id)?;
            let p = provider_mut(world, &s("OpenIDConnectProviderArn"))?;
            if !p.client_ids.contains(&client_id) {
                if p.client_ids.len() >= CLIENT_IDS_PER_PROVIDER {
                    // [mem] IAM's quota wording.
                    return Err(IamError::limit_exceeded(format!(
                        "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_IDS_PER_PROVIDER}"
                    )));
                }
                p.client_ids.push(client_id);
            }
            Ok(None)
        }
        "UpdateOpenIDConnectProviderThumbprint" => {
            let thumbprints = thumbprints(q)?;
            let p = provider_mut(world, &s("OpenIDConnectProviderArn"))?;
            p.thumbprints = thumbprints;
            Ok(None)
        }
        "CreatePolicy" => create_policy(world, q, now),
        "GetPolicy" => {
            let p = policy(world, &s("PolicyArn"))?;
            let attachments = world
                .roles
                .values()
                .filter(|r| r.record.attached.iter().any(|(_, a)| *a == p.arn))
                .count()
                + world
                    .users
                    .values()
                    .filter(|u| u.managed_policy_arns.values().any(|a| *a == p.arn))
                    .count();
            let boundaries = world
                .roles
                .values()
                .filter(|r| r.record.permissions_boundary_arn.as_deref() == Some(&p.arn))
                .count();
            Ok(Some(Xml::Node(
                "GetPolicyResult",
                vec![render_policy(p, attachments, boundaries)],
            )))
        }
        "GetPolicyVersion" => {
            let p = policy(world, &s("PolicyArn"))?;
            let version = s("VersionId");
            if version != "v1" {
                // [mem]
                return Err(IamError::no_such_entity(format!(
                    "Policy {} version {version} does not exist or is not attachable.",
                    p.arn
                )));
            }
            Ok(Some(Xml::Node(
                "GetPolicyVersionResult",
                vec![Xml::Node(
                    "PolicyVersion",
                    vec![
                        leaf("Document", url_encode(&p.document)),
                        leaf("VersionId", "v1"),
                        leaf("IsDefaultVersion", "true"),
                        leaf("CreateDate", irsa_core::clock::render_utc(p.create_date)),
                    ],
                )],
            )))
        }
        "CreateRole" => create_role(world, q, now),
        "GetRole" => {
            let r = role(world, &s("RoleName"))?;
            Ok(Some(Xml::Node("GetRoleResult", vec![render_role(r)])))
        }
        "DeleteRole" => {
            let name = s("RoleName");
            let r = role(world, &name)?;
            if !r.record.attached.is_empty() {
                // [mem]
                return Err(IamError::delete_conflict(
                    "Cannot delete entity, must detach all policies first.",
                ));
            }
            if !r.record.inline_policy_documents.is_empty() {
                // [mem]
                return Err(IamError::delete_conflict(
                    "Cannot delete entity, must delete policies first.",
                ));
            }
            world.roles.remove(&name);
            Ok(None)
        }
        "UpdateAssumeRolePolicy" => {
            let text = s("PolicyDocument");
            let trust = parse_document(&text, TRUST_POLICY_SIZE, Kind::Trust)?;
            let r = role_mut(world, &s("RoleName"))?;
            r.trust_policy = NamedPolicy::new(format!("{} trust policy", r.arn.name()), trust);
            r.record.trust_policy_document = text;
            Ok(None)
        }
        "UpdateRole" => {
            let duration = q
                .get("MaxSessionDuration")
                .and_then(|v| v.parse::<u32>().ok());
            let description = q.get("Description").map(str::to_owned);
            let r = role_mut(world, &s("RoleName"))?;
            if let Some(d) = duration {
                r.max_session_duration = d;
            }
            if let Some(d) = description {
                r.record.description = Some(d);
            }
            Ok(Some(Xml::Node("UpdateRoleResult", vec![])))
        }
        "AttachRolePolicy" => {
            let arn = s("PolicyArn");
            let p = world.managed_policies.get(&arn).cloned().ok_or_else(|| {
                // [mem]
                IamError::no_such_entity(format!(
                    "Policy {arn} does not exist or is not attachable."
                ))
            })?;
            let r = role_mut(world, &s("RoleName"))?;
            if r.record.attached.iter().any(|(_, a)| *a == arn) {
                return Ok(None);
            }
            if r.record.attached.len() >= MANAGED_POLICIES_PER_ROLE {
                // [mem]
                return Err(IamError::limit_exceeded(format!(
                    "Cannot exceed quota for PoliciesPerRole: {MANAGED_POLICIES_PER_ROLE}"
                )));
            }
            r.record.attached.push((p.name.clone(), arn.clone()));
            r.managed_policy_arns.insert(p.name.clone(), arn);
            r.policies.push(p.policy);
            Ok(None)
        }
        "DetachRolePolicy" => {
            let arn = s("PolicyArn");
            let r = role_mut(world, &s("RoleName"))?;
            let Some(position) = r.record.attached.iter().position(|(_, a)| *a == arn) else {
                // [mem]
                return Err(IamError::no_such_entity(format!(
                    "Policy {arn} was not found."
                )));
            };
            r.record.attached.remove(position);
            rebuild_role_policies(r);
            Ok(None)
        }
        "ListAttachedRolePolicies" => {
            let r = role(world, &s("RoleName"))?;
            Ok(Some(Xml::Node(
                "ListAttachedRolePoliciesResult",
                vec![
                    leaf("IsTruncated", "false"),
                    Xml::Node(
                        "AttachedPolicies",
                        r.record
                            .attached
                            .iter()
                            .map(|(name, arn)| {
                                Xml::Node(
                                    "member",
                                    vec![leaf("PolicyArn", arn), leaf("PolicyName", name)],
                                )
                            })
                            .collect(),
                    ),
                ],
            )))
        }
        "PutRolePolicy" => {
            let name = s("PolicyName");
            let text = s("PolicyDocument");
            parse_document(&text, INLINE_POLICY_SIZE_PER_ROLE, Kind::Identity)?;
            let role_name = s("RoleName");
            let r = role_mut(world, &role_name)?;
            let total: usize = r
                .record
                .inline_policy_documents
                .iter()
                .filter(|(n, _)| **n != name)
                .map(|(_, d)| non_whitespace_len(d))
                .sum::<usize>()
                + non_whitespace_len(&text);
            if total > INLINE_POLICY_SIZE_PER_ROLE {
                // [mem]
                return Err(IamError::limit_exceeded(format!(
                    "Maximum policy size of {INLINE_POLICY_SIZE_PER_ROLE} bytes exceeded for role {role_name}"
                )));
            }
            r.record.inline_policy_documents.insert(name, text);
            rebuild_role_policies(r);
            Ok(None)
        }
        "GetRolePolicy" => {
            let role_name = s("RoleName");
            let name = s("PolicyName");
            let r = role(world, &role_name)?;
            let document = r.record.inline_policy_documents.get(&name).ok_or_else(|| {
                // [mem]
                IamError::no_such_entity(format!(
                    "The role policy with name {name} cannot be found."
                ))
            })?;
            Ok(Some(Xml::Node(
                "GetRolePolicyResult",
                vec![
                    leaf("PolicyDocument", url_encode(document)),
                    leaf("PolicyName", &name),
                    leaf("RoleName", &role_name),
                ],
            )))
        }
        "PutRolePermissionsBoundary" => {
            let arn = s("PermissionsBoundary");
            let p = world.managed_policies.get(&arn).cloned().ok_or_else(|| {
                // [mem]
                IamError::no_such_entity(format!(
                    "Scope ARN: {arn} does not exist or is not attachable."
                ))
            })?;
            let r = role_mut(world, &s("RoleName"))?;
            r.record.permissions_boundary_arn = Some(arn);
            r.permissions_boundary = Some(p.policy);
            rebuild_role_policies(r);
            Ok(None)
        }
        other => Err(IamError::invalid_action(other)),
    }
}

/// Recompute the evaluation view of a role (`policies`, `managed_policy_arns`) from its record:
/// attached managed policies (their documents kept in `policies` already) and inline texts.
fn rebuild_role_policies(role: &mut Role) {
    let attached = role.record.attached.clone();
    let managed: BTreeMap<String, NamedPolicy> = role
        .policies
        .iter()
        .filter(|p| role.managed_policy_arns.contains_key(&p.name))
        .map(|p| (p.name.clone(), p.clone()))
        .collect();
    let mut policies = Vec::new();
    let mut arns = BTreeMap::new();
    for (name, arn) in &attached {
        if let Some(p) = managed.get(name) {
            policies.push(p.clone());
            arns.insert(name.clone(), arn.clone());
        }
    }
    for (name, text) in &role.record.inline_policy_documents {
        if let Ok(policy) = Policy::parse(text) {
            arns.remove(name);
            policies.push(NamedPolicy::new(name.clone(), policy));
        }
    }
    if let (Some(arn), Some(boundary)) = (
        &role.record.permissions_boundary_arn,
        &role.permissions_boundary,
    ) {
        arns.insert(boundary.name.clone(), arn.clone());
    }
    role.policies = policies;
    role.managed_policy_arns = arns;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Trust,
    Identity,
}

/// Parse a policy document as IAM does: size quota (non-whitespace characters), JSON, grammar.
fn parse_document(text: &str, max: usize, kind: Kind) -> Result<Policy, IamError> {
    if non_whitespace_len(text) > max {
        // [mem] IAM's quota wording: `ACLSizePerRole` for trust policies, `PolicySize` for
        // managed policies.
        let quota = match kind {
            Kind::Trust => "ACLSizePerRole",
            Kind::Identity => "PolicySize",
        };
        return Err(IamError::limit_exceeded(format!(
            "Cannot exceed quota for {quota}: {max}"
        )));
    }
    let policy = Policy::parse(text).map_err(|e| match e.kind {
        // [mem]
        PolicyErrorKind::InvalidJson { .. } => {
            IamError::malformed("This policy contains invalid Json")
        }
        // [mem] IAM's generic grammar answer; the precise cause is in the harness's log.
        _ => IamError::malformed("Syntax errors in policy."),
    })?;
    // [mem] IAM's answers for the element rules of each policy kind.
    for statement in &policy.statements {
        match kind {
            Kind::Trust if statement.resource.is_some() => {
                return Err(IamError::malformed("Has prohibited field Resource"));
            }
            Kind::Trust if statement.principal.is_none() => {
                return Err(IamError::malformed("Missing required field Principal"));
            }
            Kind::Identity if statement.principal.is_some() => {
                return Err(IamError::malformed(
                    "Policy document should not specify a principal.",
                ));
            }
            Kind::Identity if statement.resource.is_none() => {
                return Err(IamError::malformed(
                    "Policy statement must contain resources.",
                ));
            }
            _ => {}
        }
    }
    Ok(policy)
}

fn non_whitespace_len(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

fn provider<'w>(world: &'w World, arn: &str) -> Result<&'w OidcProvider, IamError> {
    world
        .oidc_providers
        .iter()
        .find(|p| p.arn == arn)
        .ok_or_else(|| no_such_provider(arn))
}

fn provider_mut<'w>(world: &'w mut World, arn: &str) -> Result<&'w mut OidcProvider, IamError> {
    world
        .oidc_providers
        .iter_mut()
        .find(|p| p.arn == arn)
        .ok_or_else(|| no_such_provider(arn))
}

fn no_such_provider(arn: &str) -> IamError {
    // [mem]
    IamError::no_such_entity(format!("OpenIDConnect provider not found for arn {arn}"))
}

fn role<'w>(world: &'w World, name: &str) -> Result<&'w Role, IamError> {
    world.roles.get(name).ok_or_else(|| no_such_role(name))
}

fn role_mut<'w>(world: &'w mut World, name: &str) -> Result<&'w mut Role, IamError> {
    world.roles.get_mut(name).ok_or_else(|| no_such_role(name))
}

fn no_such_role(name: &str) -> IamError {
    // [mem] The text of `aws iam get-role` for a missing role.
    IamError::no_such_entity(format!("The role with name {name} cannot be found."))
}

fn policy<'w>(world: &'w World, arn: &str) -> Result<&'w ManagedPolicy, IamError> {
    world.managed_policies.get(arn).ok_or_else(|| {
        // [mem]
        IamError::no_such_entity(format!("Policy {arn} was not found."))
    })
}

fn check_client_id(client_id: &str) -> Result<(), IamError> {
    let len = client_id.chars().count();
    if !(1..=255).contains(&len) {
        return Err(IamError::validation(&[format!(
            "Value '{client_id}' at 'clientID' failed to satisfy constraint: Member must have length less than or equal to 255"
        )]));
    }
    Ok(())
}

/// `ThumbprintList`: each 40 hex characters (model: length 40), at most 5. IAM stores them in
/// lower case. [rec] the texts.
fn thumbprints(q: &Query) -> Result<Vec<String>, IamError> {
    let list = q.list("ThumbprintList").unwrap_or_default();
    let mut errors = Vec::new();
    for t in &list {
        if t.len() != 40 {
            errors.push(format!("Value '{t}' at 'thumbprintList' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]"));
        }
    }
    if !errors.is_empty() {
        return Err(IamError::validation(&errors));
    }
    if let Some(bad) = list
        .iter()
        .find(|t| !t.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(IamError::invalid_input(format!(
            "Thumbprint {bad} is not a valid hex string"
        )));
    }
    if list.len() > THUMBPRINTS_PER_PROVIDER {
        return Err(IamError::limit_exceeded(format!(
            "Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {THUMBPRINTS_PER_PROVIDER}"
        )));
    }
    Ok(list.iter().map(|t| t.to_ascii_lowercase()).collect())
}

fn create_provider(
    world: &mut World,
    q: &Query,
    now: i64,
    issuers: &dyn JwksSource,
) -> Result<Option<Xml>, IamError> {
    let url = q.get("Url").unwrap_or_default();
    if !url.starts_with("https://") {
        // [rec] IAM requires https; its exact text was not captured.
        return Err(IamError::invalid_input(format!(
            "The URL {url} is not a valid https URL"
        )));
    }
    let client_ids = q.list("ClientIDList").unwrap_or_default();
    for c in &client_ids {
        check_client_id(c)?;
    }
    if client_ids.len() > CLIENT_IDS_PER_PROVIDER {
        return Err(IamError::limit_exceeded(format!(
            "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_IDS_PER_PROVIDER}"
        )));
    }
    let thumbprints = thumbprints(q)?;
    let mut provider = OidcProvider::new(&world.account, url, dedup(client_ids));
    if world.oidc_providers.iter().any(|p| p.url == provider.url) {
        // [mem]
        return Err(IamError::already_exists(format!(
            "Provider with url {url} already exists."
        )));
    }
    provider.thumbprints = if thumbprints.is_empty() {
        retrieved_thumbprint(issuers, url)
    } else {
        thumbprints
    };
    provider.create_date = now;
    let arn = provider.arn.clone();
    world.oidc_providers.push(provider);
    Ok(Some(Xml::Node(
        "CreateOpenIDConnectProviderResult",
        vec![leaf("OpenIDConnectProviderArn", arn)],
    )))
}

/// `ThumbprintList` omitted: "IAM will retrieve and use the top intermediate certificate
/// authority (CA) thumbprint of the OpenID Connect identity provider server certificate"
/// (IAM API model). The harness knows that certificate only for the issuers it serves with a
/// private CA; for an issuer certified by a public CA (EKS's) AWS would store that CA's
/// thumbprint, which the harness does not have, so the list stays empty there (it is not used
/// for such issuers either way).
pub fn retrieved_thumbprint(issuers: &dyn JwksSource, url: &str) -> Vec<String> {
    match issuers.tls(url) {
        Some(IssuerTls::PrivateCa { thumbprint }) => vec![thumbprint],
        Some(IssuerTls::TrustedCa) | None => Vec::new(),
    }
}

fn dedup(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn create_policy(world: &mut World, q: &Query, now: i64) -> Result<Option<Xml>, IamError> {
    let name = q.get("PolicyName").unwrap_or_default();
    let path = normalise_path(q.get("Path").unwrap_or("/"));
    let text = q.get("PolicyDocument").unwrap_or_default();
    let parsed = parse_document(text, MANAGED_POLICY_SIZE, Kind::Identity)?;
    if world.managed_policies.values().any(|p| p.name == name) {
        // [mem]
        return Err(IamError::already_exists(format!(
            "A policy called {name} already exists. Duplicate names are not allowed."
        )));
    }
    let arn = managed_policy_arn(&world.account, &path, name);
    let policy = ManagedPolicy {
        name: name.to_owned(),
        path,
        id: policy_id(&arn),
        arn: arn.clone(),
        description: q.get("Description").map(str::to_owned),
        document: text.to_owned(),
        policy: NamedPolicy::new(name, parsed),
        create_date: now,
    };
    let rendered = render_policy(&policy, 0, 0);
    world.managed_policies.insert(arn, policy);
    Ok(Some(Xml::Node("CreatePolicyResult", vec![rendered])))
}

fn create_role(world: &mut World, q: &Query, now: i64) -> Result<Option<Xml>, IamError> {
    let name = q.get("RoleName").unwrap_or_default();
    let text = q.get("AssumeRolePolicyDocument").unwrap_or_default();
    let trust = parse_document(text, TRUST_POLICY_SIZE, Kind::Trust)?;
    if world.roles.contains_key(name) {
        // [mem]
        return Err(IamError::already_exists(format!(
            "Role with name {name} already exists."
        )));
    }
    let boundary = match q.get("PermissionsBoundary") {
        None => None,
        Some(arn) => Some(
            world
                .managed_policies
                .get(arn)
                .map(|p| (arn.to_owned(), p.policy.clone()))
                .ok_or_else(|| {
                    // [mem]
                    IamError::no_such_entity(format!(
                        "Scope ARN: {arn} does not exist or is not attachable."
                    ))
                })?,
        ),
    };
    let arn = RoleArn::new(&world.account, q.get("Path").unwrap_or("/"), name);
    // A new id for each creation: sessions of a deleted role do not come back with a new role
    // of the same name (IAM gives every role a unique id).
    let id = role_id(
        &world.account,
        &format!("{name}/{now}/{}", hex_digest(text)),
    );
    let mut managed_policy_arns = BTreeMap::new();
    if let Some((arn, p)) = &boundary {
        managed_policy_arns.insert(p.name.clone(), arn.clone());
    }
    let role = Role {
        trust_policy: NamedPolicy::new(format!("{name} trust policy"), trust),
        arn,
        id,
        policies: Vec::new(),
        managed_policy_arns,
        max_session_duration: q
            .get("MaxSessionDuration")
            .and_then(|v| v.parse().ok())
            .unwrap_or(3600),
        record: RoleRecord {
            description: q.get("Description").map(str::to_owned),
            create_date: now,
            trust_policy_document: text.to_owned(),
            inline_policy_documents: BTreeMap::new(),
            attached: Vec::new(),
            permissions_boundary_arn: boundary.as_ref().map(|(arn, _)| arn.clone()),
        },
        permissions_boundary: boundary.map(|(_, p)| p),
    };
    let rendered = render_role(&role);
    world.roles.insert(name.to_owned(), role);
    Ok(Some(Xml::Node("CreateRoleResult", vec![rendered])))
}

fn hex_digest(text: &str) -> String {
    Sha256::digest(text)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn render_role(role: &Role) -> Xml {
    let mut children = vec![
        leaf("Path", role.arn.path()),
        leaf("RoleName", role.arn.name()),
        leaf("RoleId", &role.id),
        leaf("Arn", role.arn.as_str()),
        leaf(
            "CreateDate",
            irsa_core::clock::render_utc(role.record.create_date),
        ),
        leaf(
            "AssumeRolePolicyDocument",
            url_encode(&role.record.trust_policy_document),
        ),
    ];
    if let Some(d) = &role.record.description {
        children.push(leaf("Description", d));
    }
    children.push(leaf(
        "MaxSessionDuration",
        role.max_session_duration.to_string(),
    ));
    if let Some(arn) = &role.record.permissions_boundary_arn {
        children.push(Xml::Node(
            "PermissionsBoundary",
            vec![
                leaf("PermissionsBoundaryType", "Policy"),
                leaf("PermissionsBoundaryArn", arn),
            ],
        ));
    }
    Xml::Node("Role", children)
}

fn render_policy(p: &ManagedPolicy, attachments: usize, boundaries: usize) -> Xml {
    let mut children = vec![
        leaf("PolicyName", &p.name),
        leaf("PolicyId", &p.id),
        leaf("Arn", &p.arn),
        leaf("Path", &p.path),
        leaf("DefaultVersionId", "v1"),
        leaf("AttachmentCount", attachments.to_string()),
        leaf("PermissionsBoundaryUsageCount", boundaries.to_string()),
        leaf("IsAttachable", "true"),
    ];
    if let Some(d) = &p.description {
        children.push(leaf("Description", d));
    }
    let date = irsa_core::clock::render_utc(p.create_date);
    children.push(leaf("CreateDate", date.clone()));
    children.push(leaf("UpdateDate", date));
    Xml::Node("Policy", children)
}

/// IAM returns policy documents URL-encoded (RFC 3986: everything but unreserved characters
/// percent-encoded, upper-case hex); botocore decodes them, the Rust SDK hands them over as is.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World::empty("111122223333".into(), "eu-west-1".into())
    }

    fn form(pairs: &[(&str, &str)]) -> Query {
        Query::parse(serde_urlencoded::to_string(pairs).unwrap().as_bytes())
    }

    fn run(w: &mut World, pairs: &[(&str, &str)]) -> Result<Option<Xml>, IamError> {
        let q = form(pairs);
        let action = q.get("Action").unwrap().to_owned();
        authorization(w, &action, &q)?;
        execute(w, &action, &q, 1_800_000_000, &irsa_core::token::NoIssuers)
    }

    const ISSUER: &str = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC";
    const PROVIDER_ARN: &str =
        "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC";
    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#;
    const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/curity-*"}]}"#;

    #[test]
    fn a_provider_is_created_once_with_its_thumbprints_and_client_ids() {
        let mut w = world();
        let out = run(
            &mut w,
            &[
                ("Action", "CreateOpenIDConnectProvider"),
                ("Url", ISSUER),
                ("ClientIDList.member.1", "sts.amazonaws.com"),
                (
                    "ThumbprintList.member.1",
                    "9E99A48A9960B14926BB7F3B02E22DA2B0AB7280",
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            Some(Xml::Node(
                "CreateOpenIDConnectProviderResult",
                vec![leaf("OpenIDConnectProviderArn", PROVIDER_ARN)]
            ))
        );
        assert_eq!(
            w.oidc_providers[0].thumbprints,
            vec!["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
        );
        assert!(w.provider_for_issuer(ISSUER).is_some());
        let again = run(
            &mut w,
            &[("Action", "CreateOpenIDConnectProvider"), ("Url", ISSUER)],
        )
        .unwrap_err();
        assert_eq!((again.code, again.status), ("EntityAlreadyExists", 409));
        assert_eq!(
            again.message,
            format!("Provider with url {ISSUER} already exists.")
        );
    }

    #[test]
    fn an_omitted_thumbprint_is_retrieved_from_a_private_ca_issuer_only() {
        struct PrivateIssuer;
        impl JwksSource for PrivateIssuer {
            fn jwks(&self, _: &str) -> Option<Vec<irsa_core::token::RsaJwk>> {
                None
            }
            fn tls(&self, issuer: &str) -> Option<IssuerTls> {
                (issuer == "https://oidc.private.example/c1").then(|| IssuerTls::PrivateCa {
                    thumbprint: "00112233445566778899aabbccddeeff00112233".into(),
                })
            }
        }
        let create = |w: &mut World, url: &str, extra: &[(&str, &str)]| {
            let mut pairs = vec![("Action", "CreateOpenIDConnectProvider"), ("Url", url)];
            pairs.extend_from_slice(extra);
            let q = form(&pairs);
            execute(w, "CreateOpenIDConnectProvider", &q, 1, &PrivateIssuer).unwrap();
        };
        let mut w = world();
        create(&mut w, "https://oidc.private.example/c1", &[]);
        assert_eq!(
            w.oidc_providers[0].thumbprints,
            vec!["00112233445566778899aabbccddeeff00112233"]
        );
        // Given thumbprints are kept as given, even when they do not match.
        let mut w = world();
        create(
            &mut w,
            "https://oidc.private.example/c1",
            &[(
                "ThumbprintList.member.1",
                "ffffffffffffffffffffffffffffffffffffffff",
            )],
        );
        assert_eq!(
            w.oidc_providers[0].thumbprints,
            vec!["ffffffffffffffffffffffffffffffffffffffff"]
        );
        // A public-CA issuer: AWS would store its CA's thumbprint, which the harness lacks.
        let mut w = world();
        create(&mut w, ISSUER, &[]);
        assert!(w.oidc_providers[0].thumbprints.is_empty());
    }

    #[test]
    fn a_missing_provider_is_no_such_entity() {
        let e = run(
            &mut world(),
            &[
                ("Action", "GetOpenIDConnectProvider"),
                ("OpenIDConnectProviderArn", PROVIDER_ARN),
            ],
        )
        .unwrap_err();
        assert_eq!((e.code, e.status), ("NoSuchEntity", 404));
    }

    #[test]
    fn a_role_is_created_attached_and_cannot_be_deleted_while_attached() {
        let mut w = world();
        run(
            &mut w,
            &[
                ("Action", "CreatePolicy"),
                ("PolicyName", "dynamo-iam-policy"),
                ("PolicyDocument", POLICY),
            ],
        )
        .unwrap();
        run(
            &mut w,
            &[
                ("Action", "CreateRole"),
                ("RoleName", "curity-dynamodb"),
                ("AssumeRolePolicyDocument", TRUST),
            ],
        )
        .unwrap();
        run(
            &mut w,
            &[
                ("Action", "AttachRolePolicy"),
                ("RoleName", "curity-dynamodb"),
                (
                    "PolicyArn",
                    "arn:aws:iam::111122223333:policy/dynamo-iam-policy",
                ),
            ],
        )
        .unwrap();
        let role = &w.roles["curity-dynamodb"];
        assert_eq!(role.policies.len(), 1);
        assert_eq!(
            role.managed_policy_arns["dynamo-iam-policy"],
            "arn:aws:iam::111122223333:policy/dynamo-iam-policy"
        );
        let e = run(
            &mut w,
            &[("Action", "DeleteRole"), ("RoleName", "curity-dynamodb")],
        )
        .unwrap_err();
        assert_eq!((e.code, e.status), ("DeleteConflict", 409));
        run(
            &mut w,
            &[
                ("Action", "DetachRolePolicy"),
                ("RoleName", "curity-dynamodb"),
                (
                    "PolicyArn",
                    "arn:aws:iam::111122223333:policy/dynamo-iam-policy",
                ),
            ],
        )
        .unwrap();
        assert!(w.roles["curity-dynamodb"].policies.is_empty());
        run(
            &mut w,
            &[("Action", "DeleteRole"), ("RoleName", "curity-dynamodb")],
        )
        .unwrap();
        let e = run(
            &mut w,
            &[("Action", "GetRole"), ("RoleName", "curity-dynamodb")],
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.status, e.message.as_str()),
            (
                "NoSuchEntity",
                404,
                "The role with name curity-dynamodb cannot be found."
            )
        );
    }

    #[test]
    fn inline_policies_are_kept_verbatim_and_returned_url_encoded() {
        let mut w = world();
        run(
            &mut w,
            &[
                ("Action", "CreateRole"),
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", TRUST),
            ],
        )
        .unwrap();
        run(
            &mut w,
            &[
                ("Action", "PutRolePolicy"),
                ("RoleName", "r"),
                ("PolicyName", "inline"),
                ("PolicyDocument", POLICY),
            ],
        )
        .unwrap();
        assert_eq!(w.roles["r"].policies.len(), 1);
        let out = run(
            &mut w,
            &[
                ("Action", "GetRolePolicy"),
                ("RoleName", "r"),
                ("PolicyName", "inline"),
            ],
        )
        .unwrap()
        .unwrap();
        let Xml::Node(_, children) = out else {
            panic!()
        };
        assert_eq!(children[0], leaf("PolicyDocument", url_encode(POLICY)));
        assert!(url_encode(POLICY).starts_with("%7B%22Version%22%3A%222012-10-17%22"));
    }

    #[test]
    fn malformed_and_invalid_inputs_get_iams_codes() {
        let mut w = world();
        let e = run(
            &mut w,
            &[
                ("Action", "CreateRole"),
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", "{not json"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.status, e.message.as_str()),
            (
                "MalformedPolicyDocument",
                400,
                "This policy contains invalid Json"
            )
        );
        let e = run(
            &mut w,
            &[
                ("Action", "CreatePolicy"),
                ("PolicyName", "p"),
                ("PolicyDocument", TRUST),
            ],
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                "MalformedPolicyDocument",
                "Policy document should not specify a principal."
            )
        );
        let e = run(
            &mut w,
            &[
                ("Action", "CreateRole"),
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", POLICY),
            ],
        )
        .unwrap_err();
        assert_eq!(e.message, "Has prohibited field Resource");
        let e = run(
            &mut w,
            &[("Action", "CreateRole"), ("RoleName", "bad:name")],
        )
        .unwrap_err();
        assert_eq!(e.code, "ValidationError");
        assert_eq!(
            e.message,
            "2 validation errors detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null; Value 'bad:name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        );
        let e = run(
            &mut w,
            &[
                ("Action", "CreateOpenIDConnectProvider"),
                ("Url", ISSUER),
                ("ThumbprintList.member.1", "zz"),
            ],
        )
        .unwrap_err();
        assert_eq!(e.code, "ValidationError");
        let e = run(&mut w, &[("Action", "CreateUser")]).unwrap_err();
        assert_eq!(e.code, "InvalidAction");
    }

    #[test]
    fn update_role_changes_the_maximum_session_duration_within_bounds() {
        let mut w = world();
        run(
            &mut w,
            &[
                ("Action", "CreateRole"),
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", TRUST),
            ],
        )
        .unwrap();
        run(
            &mut w,
            &[
                ("Action", "UpdateRole"),
                ("RoleName", "r"),
                ("MaxSessionDuration", "7200"),
            ],
        )
        .unwrap();
        assert_eq!(w.roles["r"].max_session_duration, 7200);
        let e = run(
            &mut w,
            &[
                ("Action", "UpdateRole"),
                ("RoleName", "r"),
                ("MaxSessionDuration", "60"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"
        );
    }

    #[test]
    fn authorization_names_the_resource_iam_documents() {
        let w = world();
        let q = form(&[
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("Path", "/team/"),
            ("AssumeRolePolicyDocument", TRUST),
        ]);
        let a = authorization(&w, "CreateRole", &q).unwrap();
        assert_eq!(a.action, "iam:CreateRole");
        assert_eq!(a.resource, "arn:aws:iam::111122223333:role/team/r");
        let q = form(&[("Action", "ListOpenIDConnectProviders")]);
        assert_eq!(
            authorization(&w, "ListOpenIDConnectProviders", &q)
                .unwrap()
                .resource,
            "*"
        );
    }
}
