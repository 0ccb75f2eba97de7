//! A role's policies: attached managed policies, inline policies and the permissions boundary,
//! and the evaluation view (`Role::policies`) rebuilt from the role's record after each change.

use std::collections::BTreeMap;

use iam_policy::{NamedPolicy, Policy};
use irsa_core::world::{Role, World};

use crate::error::IamError;
use crate::query::Query;

use super::documents::{Kind, non_whitespace_len, parse_document, url_encode};
use super::roles::{no_such_boundary, role, role_mut};
use super::{INLINE_POLICY_SIZE_PER_ROLE, MANAGED_POLICIES_PER_ROLE, Xml, leaf, param};

/// `AttachRolePolicy`: attaching an attached policy again is no change.
pub(super) fn attach(world: &mut World, q: &Query) -> Result<Option<Xml>, IamError> {
    let arn = param(q, "PolicyArn");
    let p = world.managed_policies.get(&arn).cloned().ok_or_else(|| {
        // [mem]
        IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
    })?;
    let r = role_mut(world, &param(q, "RoleName"))?;
    if r.record.attached.iter().any(|(_, a)| *a == arn) {
        return Ok(None);
    }
    if r.record.attached.len() >= MANAGED_POLICIES_PER_ROLE {
        // [mem]
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PoliciesPerRole: {MANAGED_POLICIES_PER_ROLE}"
        )));
    }
    r.record.attached.push((p.name.clone(), arn.clone()));
    r.managed_policy_arns.insert(p.name.clone(), arn);
    r.policies.push(p.policy);
    Ok(None)
}

/// `DetachRolePolicy`.
pub(super) fn detach(world: &mut World, q: &Query) -> Result<Option<Xml>, IamError> {
    let arn = param(q, "PolicyArn");
    let r = role_mut(world, &param(q, "RoleName"))?;
    let Some(position) = r.record.attached.iter().position(|(_, a)| *a == arn) else {
        // [mem]
        return Err(IamError::NoSuchEntity(format!(
            "Policy {arn} was not found."
        )));
    };
    r.record.attached.remove(position);
    rebuild_role_policies(r);
    Ok(None)
}

/// `ListAttachedRolePolicies`, in attachment order, never truncated.
pub(super) fn list_attached(world: &World, q: &Query) -> Result<Option<Xml>, IamError> {
    let r = role(world, &param(q, "RoleName"))?;
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

/// `PutRolePolicy`: an inline policy, kept verbatim, within the role's inline size quota.
pub(super) fn put_inline(world: &mut World, q: &Query) -> Result<Option<Xml>, IamError> {
    let name = param(q, "PolicyName");
    let text = param(q, "PolicyDocument");
    parse_document(&text, INLINE_POLICY_SIZE_PER_ROLE, Kind::Identity)?;
    let role_name = param(q, "RoleName");
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
        return Err(IamError::LimitExceeded(format!(
            "Maximum policy size of {INLINE_POLICY_SIZE_PER_ROLE} bytes exceeded for role {role_name}"
        )));
    }
    r.record.inline_policy_documents.insert(name, text);
    rebuild_role_policies(r);
    Ok(None)
}

/// `GetRolePolicy`: the inline policy as it was put, URL-encoded.
pub(super) fn get_inline(world: &World, q: &Query) -> Result<Option<Xml>, IamError> {
    let role_name = param(q, "RoleName");
    let name = param(q, "PolicyName");
    let r = role(world, &role_name)?;
    let document = r.record.inline_policy_documents.get(&name).ok_or_else(|| {
        // [mem]
        IamError::NoSuchEntity(format!("The role policy with name {name} cannot be found."))
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

/// `PutRolePermissionsBoundary`.
pub(super) fn put_boundary(world: &mut World, q: &Query) -> Result<Option<Xml>, IamError> {
    let arn = param(q, "PermissionsBoundary");
    let p = world
        .managed_policies
        .get(&arn)
        .cloned()
        .ok_or_else(|| no_such_boundary(&arn))?;
    let r = role_mut(world, &param(q, "RoleName"))?;
    r.record.permissions_boundary_arn = Some(arn);
    r.permissions_boundary = Some(p.policy);
    rebuild_role_policies(r);
    Ok(None)
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
