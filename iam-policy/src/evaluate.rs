//! Evaluation: every applicable policy against one request, to a [`Decision`] with an
//! [`Explanation`].
//!
//! Owns: statement matching (principal, action, resource, conditions) and combining the policy
//! kinds, in one account or across two, with an organization's SCP and RCP levels. It never
//! fails: a deny is a value. It does not parse policies, build requests or walk an
//! organization's hierarchy (`organization` does).
//!
//! AWS, "Policy evaluation logic" (same account):
//! * "An explicit deny in any policy overrides any allows."
//! * Organizations SCPs: "If the enforcement code does not find any applicable Allow statements
//!   in the SCPs, then the request is implicitly denied." With a hierarchy, every level must
//!   allow (Organizations, "SCP evaluation"); a `Deny` at any level denies.
//! * RCPs: a `Deny` in an RCP at any level of the resource's account denies; every level allows
//!   through the `RCPFullAWSAccess` policy AWS attaches there and that cannot be detached
//!   (Organizations, "RCP evaluation").
//! * "If an action is allowed by an identity-based policy, a resource-based policy, or both,
//!   then AWS allows the action."
//! * "If a permissions boundary, Organizations SCP, or session policy is present, it might
//!   override the allow with an implicit deny."
//! * Resource-based policies: "If a resource-based policy grants permission directly to the IAM
//!   user or the session principal that is making the request, then an implicit deny in an
//!   identity-based policy, a permissions boundary, or a session policy does not impact the
//!   final decision." and "Resource-based policies that grant permissions to an IAM role ARN are
//!   limited by an implicit deny in a permissions boundary or session policy."
//!
//! * "Permissions granted directly to a session are not limited by an implicit deny in an
//!   identity-based policy, a permissions boundary, or session policy"; `*` in `Principal` counts
//!   as direct (see `principal`), a grant to the account grants nothing by itself.
//!
//! AWS, "Cross-account policy evaluation logic": "the requester in the trusted account must
//! have an identity-based policy ... Additionally, the resource-based policy in the trusting
//! account must allow the requester"; the account itself may be the principal the resource
//! policy names. Boundaries, session policies and the principal's SCPs limit the identity side
//! as in one account, the resource account's RCPs the resource side.
//!
//! Not sourced: a resource-based statement without `Principal` applies to no one (IAM rejects
//! such documents for resource policies); a grant to a provider or a service is treated like a
//! grant to a role ARN (limited by boundary and session policies); a request whose principal or
//! resource has no account in its ARN (service and federated principals, S3 ARNs without
//! [`Scope::resource_account`]) is evaluated as a same-account request.

mod explanation;
mod principal;
mod statement;

use serde::{Deserialize, Serialize};

pub use explanation::{
    CrossAccount, Explanation, LayerReport, Mismatch, PolicyReport, StatementReport,
};

use crate::arn::{Target, account_of};
use crate::organization::{OrgLevel, rcp_full_aws_access};
use crate::policy::{Effect, NamedPolicy};
use crate::request::{Principal, Request};
use statement::layer;

/// The kinds of policy AWS combines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// Attached to the user or role (inline or managed).
    Identity,
    /// Attached to the resource; a role's trust policy is one.
    Resource,
    /// The entity's permissions boundary.
    PermissionsBoundary,
    /// Passed when the session was created.
    Session,
    /// AWS Organizations service control policies (of the principal's account).
    ServiceControl,
    /// AWS Organizations resource control policies (of the resource's account).
    ResourceControl,
}

impl PolicyKind {
    /// The words AWS uses in `AccessDenied` messages ("... because no identity-based policy
    /// allows ...", "... with an explicit deny in a service control policy").
    pub fn aws_phrase(self) -> &'static str {
        match self {
            Self::Identity => "identity-based policy",
            Self::Resource => "resource-based policy",
            Self::PermissionsBoundary => "permissions boundary",
            Self::Session => "session policy",
            Self::ServiceControl => "service control policy",
            Self::ResourceControl => "resource control policy",
        }
    }
}

impl std::fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.aws_phrase())
    }
}

/// The policies that apply to one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicySet<'a> {
    /// The principal's identity-based policies.
    pub identity: &'a [NamedPolicy],
    /// The resource's policy (for `sts:AssumeRole*`, the role's trust policy).
    pub resource: Option<&'a NamedPolicy>,
    /// The principal's permissions boundary.
    pub permissions_boundary: Option<&'a NamedPolicy>,
    /// The session policies; empty when none were passed.
    pub session: &'a [NamedPolicy],
    /// SCPs; `None` when the account is not governed by any (`Some(&[])` denies everything).
    pub scp: Option<&'a [NamedPolicy]>,
}

impl<'a> PolicySet<'a> {
    /// No policies at all (everything is implicitly denied).
    pub const fn new() -> Self {
        Self {
            identity: &[],
            resource: None,
            permissions_boundary: None,
            session: &[],
            scp: None,
        }
    }

    /// Only identity-based policies.
    pub const fn identity(identity: &'a [NamedPolicy]) -> Self {
        Self {
            identity,
            ..Self::new()
        }
    }

    /// Only a resource-based policy (a trust policy for `sts:AssumeRole*`).
    pub const fn resource(resource: &'a NamedPolicy) -> Self {
        Self {
            resource: Some(resource),
            ..Self::new()
        }
    }

    /// Sets the resource-based policy.
    #[must_use]
    pub const fn with_resource(mut self, policy: &'a NamedPolicy) -> Self {
        self.resource = Some(policy);
        self
    }

    /// Sets the permissions boundary.
    #[must_use]
    pub const fn with_permissions_boundary(mut self, policy: &'a NamedPolicy) -> Self {
        self.permissions_boundary = Some(policy);
        self
    }

    /// Sets the session policies.
    #[must_use]
    pub const fn with_session(mut self, policies: &'a [NamedPolicy]) -> Self {
        self.session = policies;
        self
    }

    /// Sets the SCPs.
    #[must_use]
    pub const fn with_scp(mut self, policies: &'a [NamedPolicy]) -> Self {
        self.scp = Some(policies);
        self
    }
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Decision {
    /// The request is allowed.
    Allow,
    /// Nothing allowed the request (or a layer that must allow did not).
    ImplicitDeny,
    /// A `Deny` statement applied.
    ExplicitDeny,
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Allow => "Allow",
            Self::ImplicitDeny => "ImplicitDeny",
            Self::ExplicitDeny => "ExplicitDeny",
        })
    }
}

/// A decision and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    /// The decision.
    pub decision: Decision,
    /// Why.
    pub explanation: Explanation,
}

impl Evaluation {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// Which policy kind decided a deny: for an explicit deny the kind holding the deny
    /// statement; for an implicit deny the layer that failed to allow (`Identity` when neither
    /// an identity-based nor the resource-based policy allows). `None` when allowed.
    pub fn denied_by(&self) -> Option<PolicyKind> {
        self.explanation.denied_by
    }
}

/// Where a request sits beyond its own policies: the resource's account when its ARN does not
/// say (S3 ARNs carry no account), and the organization policies that govern the principal's
/// account (SCPs) and the resource's account (RCPs), root first.
///
/// `None` for `scp` / `rcp` means not governed: no organization, the management account, a
/// service-linked role (see [`crate::organization`]). [`evaluate`] is [`evaluate_in`] with the
/// default (empty) scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    /// The resource owner's account; `None`: the account in the resource ARN.
    pub resource_account: Option<&'a str>,
    /// SCP levels of the principal's account (root → OUs → account); each must allow.
    pub scp: Option<&'a [OrgLevel<'a>]>,
    /// RCP levels of the resource's account; `RCPFullAWSAccess` is added at every level.
    pub rcp: Option<&'a [OrgLevel<'a>]>,
}

/// Kinds in the order AWS's flow chart visits them; the explanation lists layers in this order
/// (SCP levels root first, then RCP levels root first, then the rest).
const ORDER: [PolicyKind; 6] = [
    PolicyKind::ServiceControl,
    PolicyKind::ResourceControl,
    PolicyKind::Resource,
    PolicyKind::Identity,
    PolicyKind::PermissionsBoundary,
    PolicyKind::Session,
];

/// Evaluates `request` against every policy in `set`, in one account or across two.
///
/// The request is cross-account when the principal is an AWS principal whose ARN names an
/// account and the resource ARN names another one; otherwise the same-account rules apply.
pub fn evaluate(set: &PolicySet<'_>, request: &Request) -> Evaluation {
    evaluate_in(set, &Scope::default(), request)
}

/// [`evaluate`] with the resource's account and the organization's SCP and RCP levels.
pub fn evaluate_in(set: &PolicySet<'_>, scope: &Scope<'_>, request: &Request) -> Evaluation {
    // The resource is read (ASCII? where are its ARN parts?) once, not once per pattern.
    let target = Target::new(&request.resource);
    let mut layers = evaluate_layers(set, scope, request, target);
    let accounts = accounts_of(request, scope, target);
    let cross_account = accounts.filter(|(principal, resource)| principal != resource);
    let verdict = decide(&layers, cross_account.is_some());
    mark_decisive(&mut layers, &verdict, cross_account.is_some());
    let Verdict {
        decision,
        denied_by,
        denied_at,
        ..
    } = verdict;
    Evaluation {
        decision,
        explanation: Explanation {
            decision,
            denied_by,
            denied_at,
            cross_account: cross_account.map(|(principal, resource)| CrossAccount {
                principal_account: principal.to_owned(),
                resource_account: resource.to_owned(),
            }),
            principal: request.principal.clone(),
            action: request.action.clone(),
            resource: request.resource.clone(),
            layers,
        },
    }
}

/// What the layers add up to: the decision, the layer (and organization level) that denied,
/// and whether a resource policy granted the principal directly.
struct Verdict {
    decision: Decision,
    denied_by: Option<PolicyKind>,
    denied_at: Option<String>,
    direct_grant: bool,
}

/// Every layer of `set` and `scope` evaluated, in [`ORDER`] (SCP and RCP levels root first).
fn evaluate_layers(
    set: &PolicySet<'_>,
    scope: &Scope<'_>,
    request: &Request,
    target: Target<'_>,
) -> Vec<LayerReport> {
    let scp_levels = scope.scp.unwrap_or(&[]);
    let rcp_levels = scope.rcp.unwrap_or(&[]);
    let mut layers: Vec<LayerReport> =
        Vec::with_capacity(ORDER.len() + scp_levels.len() + rcp_levels.len());
    for kind in ORDER {
        match kind {
            PolicyKind::ServiceControl => {
                if let Some(scp) = set.scp {
                    layers.push(layer(kind, None, scp, &[], request, target));
                }
                for level in scp_levels {
                    layers.push(layer(
                        kind,
                        Some(level.id),
                        level.policies,
                        &[],
                        request,
                        target,
                    ));
                }
            }
            PolicyKind::ResourceControl => {
                let full_rcp = std::slice::from_ref(rcp_full_aws_access());
                for level in rcp_levels {
                    layers.push(layer(
                        kind,
                        Some(level.id),
                        full_rcp,
                        level.policies,
                        request,
                        target,
                    ));
                }
            }
            PolicyKind::Resource | PolicyKind::PermissionsBoundary => {
                let one = if kind == PolicyKind::Resource {
                    set.resource
                } else {
                    set.permissions_boundary
                };
                if let Some(p) = one {
                    layers.push(layer(
                        kind,
                        None,
                        std::slice::from_ref(p),
                        &[],
                        request,
                        target,
                    ));
                }
            }
            PolicyKind::Identity => {
                layers.push(layer(kind, None, set.identity, &[], request, target));
            }
            PolicyKind::Session => {
                if !set.session.is_empty() {
                    layers.push(layer(kind, None, set.session, &[], request, target));
                }
            }
        }
    }
    layers
}

/// The decision the evaluated layers give, per AWS's flow chart (explicit deny; an SCP or RCP
/// level that does not allow; then the same-account or cross-account allow rules).
fn decide(layers: &[LayerReport], cross_account: bool) -> Verdict {
    let find = |kind: PolicyKind| layers.iter().find(|l| l.kind == kind);
    let allows = |kind: PolicyKind| find(kind).is_some_and(|l| l.allows);
    let present = |kind: PolicyKind| find(kind).is_some();
    let resource_statements = || {
        find(PolicyKind::Resource)
            .into_iter()
            .flat_map(|l| l.policies.iter().flat_map(|p| p.statements.iter()))
    };
    // AWS, same account: "If a resource-based policy grants permission directly to the IAM user
    // or the session principal that is making the request, then an implicit deny in an
    // identity-based policy, a permissions boundary, or a session policy does not impact the
    // final decision." Across accounts both sides must allow, so no grant is direct there.
    let direct_grant = !cross_account
        && resource_statements().any(|s| s.direct_grant && s.effect == Effect::Allow);
    // AWS, cross-account: "the resource-based policy in the trusting account must specify the
    // principal of the trusted account ... You can specify the entire account or its IAM
    // users, ... IAM roles, or assumed-role sessions." A grant to the account counts here.
    let resource_allows_account =
        resource_statements().any(|s| s.applies && s.effect == Effect::Allow);

    let guard_denies = |l: &&LayerReport| {
        matches!(
            l.kind,
            PolicyKind::ServiceControl | PolicyKind::ResourceControl
        ) && !l.allows
    };
    let (decision, denied_by, denied_at) = if let Some(l) = layers.iter().find(|l| l.denies) {
        (Decision::ExplicitDeny, Some(l.kind), l.level.clone())
    } else if let Some(l) = layers.iter().find(guard_denies) {
        (Decision::ImplicitDeny, Some(l.kind), l.level.clone())
    } else if let Some(kind) = if cross_account {
        // AWS, "Cross-account policy evaluation logic": the principal's identity-based policy
        // must allow the request and the resource-based policy in the trusting account must
        // allow it too; a permissions boundary or session policy limits the identity side as
        // in one account. Which of the two is named when both are missing is not sourced; we
        // name the identity-based policy.
        if !allows(PolicyKind::Identity) {
            Some(PolicyKind::Identity)
        } else if !resource_allows_account {
            Some(PolicyKind::Resource)
        } else {
            limiting_layer(present, allows)
        }
    } else if direct_grant {
        None
    } else if !allows(PolicyKind::Identity) && !allows(PolicyKind::Resource) {
        Some(PolicyKind::Identity)
    } else {
        limiting_layer(present, allows)
    } {
        (Decision::ImplicitDeny, Some(kind), None)
    } else {
        (Decision::Allow, None, None)
    };
    Verdict {
        decision,
        denied_by,
        denied_at,
        direct_grant,
    }
}

/// Marks the statements that decided: the applying denies of an explicit deny, the applying
/// allows of an allow (only the direct grant, and the SCPs and RCPs it passed, when a resource
/// policy granted directly); none for an implicit deny.
fn mark_decisive(layers: &mut [LayerReport], verdict: &Verdict, cross_account: bool) {
    let (decision, direct_grant) = (verdict.decision, verdict.direct_grant);
    let is_decisive = |kind: PolicyKind, s: &StatementReport| {
        s.applies
            && match decision {
                Decision::ExplicitDeny => s.effect == Effect::Deny,
                Decision::ImplicitDeny => false,
                // A direct grant decides alone (with the SCPs and RCPs that let it through).
                Decision::Allow => {
                    s.effect == Effect::Allow
                        && (cross_account || !s.delegated_to_account)
                        && (!direct_grant
                            || matches!(
                                kind,
                                PolicyKind::ServiceControl | PolicyKind::ResourceControl
                            )
                            || s.direct_grant)
                }
            }
    };
    for layer in layers.iter_mut() {
        let kind = layer.kind;
        for statement in layer
            .policies
            .iter_mut()
            .flat_map(|p| p.statements.iter_mut())
        {
            statement.decisive = is_decisive(kind, statement);
        }
    }
}

/// After identity and resource policies allowed: the permissions boundary, then the session
/// policies, whichever is present and does not allow ("If a permissions boundary, Organizations
/// SCP, or session policy is present, it might override the allow with an implicit deny").
fn limiting_layer(
    present: impl Fn(PolicyKind) -> bool,
    allows: impl Fn(PolicyKind) -> bool,
) -> Option<PolicyKind> {
    [PolicyKind::PermissionsBoundary, PolicyKind::Session]
        .into_iter()
        .find(|kind| present(*kind) && !allows(*kind))
}

/// The principal's and the resource's accounts, when both are known: the principal's from its
/// ARN (an AWS principal: user, role, session, account root), the resource's from
/// [`Scope::resource_account`] or the resource ARN. `None` when either is unknown (a service or
/// federated principal, anonymous, no principal, a resource ARN without an account): the
/// same-account rules apply then.
fn accounts_of<'r>(
    request: &'r Request,
    scope: &Scope<'r>,
    target: Target<'r>,
) -> Option<(&'r str, &'r str)> {
    let Some(Principal::Aws(arn)) = &request.principal else {
        return None;
    };
    let principal = account_of(arn)?;
    let resource = scope
        .resource_account
        .filter(|a| !a.is_empty())
        .or_else(|| target.account())?;
    Some((principal, resource))
}

#[cfg(test)]
mod tests;
