//! Customer managed policies: create and read them (one version, `v1`, each).

use iam_policy::NamedPolicy;
use irsa_core::arn::{managed_policy_arn, normalise_path};
use irsa_core::world::{ManagedPolicy, World, policy_id};

use crate::error::IamError;
use crate::query::Query;

use super::documents::{Kind, parse_document, url_encode};
use super::{MANAGED_POLICY_SIZE, Xml, leaf, param};

/// `CreatePolicy`.
pub(super) fn create(world: &mut World, q: &Query, now: i64) -> Result<Option<Xml>, IamError> {
    let name = q.get("PolicyName").unwrap_or_default();
    let path = normalise_path(q.get("Path").unwrap_or("/"));
    let text = q.get("PolicyDocument").unwrap_or_default();
    let parsed = parse_document(text, MANAGED_POLICY_SIZE, Kind::Identity)?;
    if world.managed_policies.values().any(|p| p.name == name) {
        // [mem]
        return Err(IamError::EntityAlreadyExists(format!(
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

/// `GetPolicy`, with the counts of the policy's attachments (roles' and users') and of the
/// roles it bounds.
pub(super) fn get(world: &World, q: &Query) -> Result<Option<Xml>, IamError> {
    let p = policy(world, &param(q, "PolicyArn"))?;
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

/// `GetPolicyVersion`: the document of `v1`, the only version.
pub(super) fn get_version(world: &World, q: &Query) -> Result<Option<Xml>, IamError> {
    let p = policy(world, &param(q, "PolicyArn"))?;
    let version = param(q, "VersionId");
    if version != "v1" {
        // [mem]
        return Err(IamError::NoSuchEntity(format!(
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

fn policy<'w>(world: &'w World, arn: &str) -> Result<&'w ManagedPolicy, IamError> {
    world.managed_policies.get(arn).ok_or_else(|| {
        // [mem]
        IamError::NoSuchEntity(format!("Policy {arn} was not found."))
    })
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
