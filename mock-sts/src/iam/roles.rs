//! IAM roles: create, read, update and delete a role and its trust policy.

use std::collections::BTreeMap;

use iam_policy::NamedPolicy;
use irsa_core::arn::RoleArn;
use irsa_core::world::{Role, RoleRecord, World, role_id};
use sha2::{Digest, Sha256};

use crate::error::IamError;
use crate::query::Query;

use super::documents::{Kind, parse_document, url_encode};
use super::{TRUST_POLICY_SIZE, Xml, leaf, param};

/// `CreateRole`, with its optional permissions boundary.
pub(super) fn create(world: &mut World, q: &Query, now: i64) -> Result<Option<Xml>, IamError> {
    let name = q.get("RoleName").unwrap_or_default();
    let text = q.get("AssumeRolePolicyDocument").unwrap_or_default();
    let trust = parse_document(text, TRUST_POLICY_SIZE, Kind::Trust)?;
    if world.roles.contains_key(name) {
        // [mem]
        return Err(IamError::EntityAlreadyExists(format!(
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
                .ok_or_else(|| no_such_boundary(arn))?,
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

/// `GetRole`.
pub(super) fn get(world: &World, q: &Query) -> Result<Option<Xml>, IamError> {
    let r = role(world, &param(q, "RoleName"))?;
    Ok(Some(Xml::Node("GetRoleResult", vec![render_role(r)])))
}

/// `DeleteRole`: only a role without policies.
pub(super) fn delete(world: &mut World, q: &Query) -> Result<Option<Xml>, IamError> {
    let name = param(q, "RoleName");
    let r = role(world, &name)?;
    if !r.record.attached.is_empty() {
        // [mem]
        return Err(IamError::DeleteConflict(
            "Cannot delete entity, must detach all policies first.".to_owned(),
        ));
    }
    if !r.record.inline_policy_documents.is_empty() {
        // [mem]
        return Err(IamError::DeleteConflict(
            "Cannot delete entity, must delete policies first.".to_owned(),
        ));
    }
    world.roles.remove(&name);
    Ok(None)
}

/// `UpdateAssumeRolePolicy`: a new trust policy.
pub(super) fn update_trust_policy(world: &mut World, q: &Query) -> Result<Option<Xml>, IamError> {
    let text = param(q, "PolicyDocument");
    let trust = parse_document(&text, TRUST_POLICY_SIZE, Kind::Trust)?;
    let r = role_mut(world, &param(q, "RoleName"))?;
    r.trust_policy = NamedPolicy::new(format!("{} trust policy", r.arn.name()), trust);
    r.record.trust_policy_document = text;
    Ok(None)
}

/// `UpdateRole`: the maximum session duration and the description.
pub(super) fn update(world: &mut World, q: &Query) -> Result<Option<Xml>, IamError> {
    let duration = q
        .get("MaxSessionDuration")
        .and_then(|v| v.parse::<u32>().ok());
    let description = q.get("Description").map(str::to_owned);
    let r = role_mut(world, &param(q, "RoleName"))?;
    if let Some(d) = duration {
        r.max_session_duration = d;
    }
    if let Some(d) = description {
        r.record.description = Some(d);
    }
    Ok(Some(Xml::Node("UpdateRoleResult", vec![])))
}

pub(super) fn role<'w>(world: &'w World, name: &str) -> Result<&'w Role, IamError> {
    world.roles.get(name).ok_or_else(|| no_such_role(name))
}

pub(super) fn role_mut<'w>(world: &'w mut World, name: &str) -> Result<&'w mut Role, IamError> {
    world.roles.get_mut(name).ok_or_else(|| no_such_role(name))
}

fn no_such_role(name: &str) -> IamError {
    // [mem] The text of `aws iam get-role` for a missing role.
    IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

/// A permissions boundary that names no managed policy.
pub(super) fn no_such_boundary(arn: &str) -> IamError {
    // [mem]
    IamError::NoSuchEntity(format!(
        "Scope ARN: {arn} does not exist or is not attachable."
    ))
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
