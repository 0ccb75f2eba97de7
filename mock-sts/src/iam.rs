//! The IAM Query API (version 2010-05-08), pure: a parsed form and the world in, a world change
//! and a result tree (or IAM's error) out. The shell (`iam_handler`) authenticates, authorises
//! with the caller's policies and renders. This module names what each operation needs
//! (validation, the resource and condition keys to authorise) and dispatches its execution;
//! the operations live in `providers`, `policies`, `roles` and `role_policies`.
//!
//! Sources for the error texts: codes and HTTP statuses from botocore's IAM model
//! (`botocore/data/iam/2010-05-08/service-2.json`: `NoSuchEntity` 404, `EntityAlreadyExists`
//! 409, `MalformedPolicyDocument` 400, `InvalidInput` 400, `LimitExceeded` 409, `DeleteConflict`
//! 409, `ValidationError` 400 as for every coral service; `crate::error::IamError`). The message
//! texts marked `[mem]` are IAM's answers as they appear in public bug reports and CLI
//! transcripts, written down from memory and NOT verified against AWS here; `[rec]` marks texts
//! we chose where we know none.

mod documents;
mod operation;
mod policies;
mod providers;
mod role_policies;
mod roles;
mod validate;

use irsa_core::arn::{RoleArn, issuer_host_path, managed_policy_arn};
use irsa_core::token::JwksSource;
use irsa_core::world::World;

pub use crate::error::IamError;
use crate::query::Query;
pub use documents::url_encode;
pub use operation::IamOperation;
pub use providers::retrieved_thumbprint;

pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
pub const VERSION: &str = "2010-05-08";

/// IAM quotas (AWS IAM User Guide, "IAM and AWS STS quotas"): default values.
pub const MANAGED_POLICIES_PER_ROLE: usize = 10;
pub const MANAGED_POLICY_SIZE: usize = 6144;
pub const TRUST_POLICY_SIZE: usize = 2048;
pub const INLINE_POLICY_SIZE_PER_ROLE: usize = 10240;
pub const CLIENT_IDS_PER_PROVIDER: usize = 100;
pub const THUMBPRINTS_PER_PROVIDER: usize = 5;

/// A result element tree, rendered to XML by the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Xml {
    Leaf(&'static str, String),
    Node(&'static str, Vec<Xml>),
}

fn leaf(name: &'static str, text: impl Into<String>) -> Xml {
    Xml::Leaf(name, text.into())
}

/// A request parameter's text, empty when absent (validation has required it already).
fn param(q: &Query, name: &str) -> String {
    q.get(name).unwrap_or_default().to_owned()
}

/// What an IAM action needs from IAM's own authorisation: the action, the resource ARN, and the
/// service-specific condition keys (AWS Service Authorization Reference, IAM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub action: String,
    pub resource: String,
    pub context: Vec<(String, String)>,
}

/// Validate the request's parameters (model constraints) and say what it must be authorised
/// for. Runs before authorisation, as AWS validates input first.
pub fn authorization(
    world: &World,
    operation: IamOperation,
    q: &Query,
) -> Result<Authorization, IamError> {
    use IamOperation as Op;
    validate::validate(operation, q)?;
    let mut context = Vec::new();
    if matches!(operation, Op::AttachRolePolicy | Op::DetachRolePolicy)
        && let Some(arn) = q.get("PolicyArn")
    {
        context.push(("iam:PolicyARN".to_owned(), arn.to_owned()));
    }
    if matches!(operation, Op::CreateRole | Op::PutRolePermissionsBoundary)
        && let Some(arn) = q.get("PermissionsBoundary")
    {
        context.push(("iam:PermissionsBoundary".to_owned(), arn.to_owned()));
    }
    Ok(Authorization {
        action: format!("iam:{}", operation.name()),
        resource: resource(world, operation, q),
        context,
    })
}

/// The resource ARN an operation is authorised on (AWS Service Authorization Reference, IAM).
fn resource(world: &World, operation: IamOperation, q: &Query) -> String {
    use IamOperation as Op;
    let account = &world.account;
    match operation {
        Op::CreateOpenIDConnectProvider => format!(
            "arn:aws:iam::{account}:oidc-provider/{}",
            issuer_host_path(q.get("Url").unwrap_or_default())
        ),
        Op::GetOpenIDConnectProvider
        | Op::DeleteOpenIDConnectProvider
        | Op::AddClientIDToOpenIDConnectProvider
        | Op::UpdateOpenIDConnectProviderThumbprint => param(q, "OpenIDConnectProviderArn"),
        Op::ListOpenIDConnectProviders => "*".to_owned(),
        Op::CreatePolicy => managed_policy_arn(
            account,
            q.get("Path").unwrap_or("/"),
            q.get("PolicyName").unwrap_or_default(),
        ),
        Op::GetPolicy | Op::GetPolicyVersion => param(q, "PolicyArn"),
        Op::CreateRole => RoleArn::new(
            account,
            q.get("Path").unwrap_or("/"),
            q.get("RoleName").unwrap_or_default(),
        )
        .as_str()
        .to_owned(),
        // These name an existing role; its ARN carries the role's path.
        Op::GetRole
        | Op::DeleteRole
        | Op::UpdateAssumeRolePolicy
        | Op::UpdateRole
        | Op::AttachRolePolicy
        | Op::DetachRolePolicy
        | Op::ListAttachedRolePolicies
        | Op::PutRolePolicy
        | Op::GetRolePolicy
        | Op::PutRolePermissionsBoundary => {
            let name = q.get("RoleName").unwrap_or_default();
            world.roles.get(name).map_or_else(
                || RoleArn::new(account, "/", name).as_str().to_owned(),
                |role| role.arn.as_str().to_owned(),
            )
        }
    }
}

/// Run an authorised operation against `world`. `now` stamps creation dates; `issuers` answers
/// what IAM would retrieve from an issuer's HTTPS endpoint (its thumbprint, when none is given).
pub fn execute(
    world: &mut World,
    operation: IamOperation,
    q: &Query,
    now: i64,
    issuers: &dyn JwksSource,
) -> Result<Option<Xml>, IamError> {
    use IamOperation as Op;
    match operation {
        Op::CreateOpenIDConnectProvider => providers::create(world, q, now, issuers),
        Op::GetOpenIDConnectProvider => providers::get(world, q),
        Op::ListOpenIDConnectProviders => providers::list(world),
        Op::DeleteOpenIDConnectProvider => providers::delete(world, q),
        Op::AddClientIDToOpenIDConnectProvider => providers::add_client_id(world, q),
        Op::UpdateOpenIDConnectProviderThumbprint => providers::update_thumbprint(world, q),
        Op::CreatePolicy => policies::create(world, q, now),
        Op::GetPolicy => policies::get(world, q),
        Op::GetPolicyVersion => policies::get_version(world, q),
        Op::CreateRole => roles::create(world, q, now),
        Op::GetRole => roles::get(world, q),
        Op::DeleteRole => roles::delete(world, q),
        Op::UpdateAssumeRolePolicy => roles::update_trust_policy(world, q),
        Op::UpdateRole => roles::update(world, q),
        Op::AttachRolePolicy => role_policies::attach(world, q),
        Op::DetachRolePolicy => role_policies::detach(world, q),
        Op::ListAttachedRolePolicies => role_policies::list_attached(world, q),
        Op::PutRolePolicy => role_policies::put_inline(world, q),
        Op::GetRolePolicy => role_policies::get_inline(world, q),
        Op::PutRolePermissionsBoundary => role_policies::put_boundary(world, q),
    }
}

#[cfg(test)]
mod tests;
