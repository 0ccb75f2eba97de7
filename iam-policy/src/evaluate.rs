//! Evaluation: every applicable policy against one request, to a [`Decision`] with an
//! [`Explanation`].
//!
//! Owns: statement matching (principal, action, resource, conditions) and combining the policy
//! kinds. It never fails: a deny is a value. It does not parse policies or build requests.
//!
//! AWS, "Policy evaluation logic" (same account):
//! * "An explicit deny in any policy overrides any allows."
//! * Organizations SCPs: "If the enforcement code does not find any applicable Allow statements
//!   in the SCPs, then the request is implicitly denied."
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
//! Not sourced: a resource-based statement without `Principal` applies to no one (IAM rejects
//! such documents for resource policies); a grant to a provider or a service is treated like a
//! grant to a role ARN (limited by boundary and session policies).

mod explanation;
mod principal;

use serde::{Deserialize, Serialize};

pub use explanation::{Explanation, LayerReport, Mismatch, PolicyReport, StatementReport};

use crate::arn::{Target, glob_target_matches, prefix_matches, resource_matches};
use crate::pattern::{Case, Glob};
use crate::policy::{
    ActionBlock, Effect, NamedPolicy, PrincipalBlock, ResourceBlock, Statement, StatementRef,
};
use crate::request::Request;
use crate::variable::{has_variable, substitute, substitute_widest};
use principal::{PrincipalMatch, principal_matches};

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
    /// AWS Organizations service control policies.
    ServiceControl,
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

/// Kinds in the order AWS's flow chart visits them; the explanation lists layers in this order.
const ORDER: [PolicyKind; 5] = [
    PolicyKind::ServiceControl,
    PolicyKind::Resource,
    PolicyKind::Identity,
    PolicyKind::PermissionsBoundary,
    PolicyKind::Session,
];

/// What one statement did.
struct Outcome {
    applies: bool,
    /// The principal matched by `*` or its exact session/user ARN.
    direct: bool,
    /// The principal matched only through its account: authority delegated, nothing granted.
    account_only: bool,
    reasons: Vec<Mismatch>,
}

/// Evaluates `request` against every policy in `set`.
pub fn evaluate(set: &PolicySet<'_>, request: &Request) -> Evaluation {
    let mut layers: Vec<LayerReport> = Vec::with_capacity(ORDER.len());
    let mut direct_grant = false;
    // The resource is read (ASCII? where are its ARN parts?) once, not once per pattern.
    let target = Target::new(&request.resource);
    for kind in ORDER {
        let policies: &[NamedPolicy] = match kind {
            PolicyKind::ServiceControl => match set.scp {
                Some(scp) => scp,
                None => continue,
            },
            PolicyKind::Resource => match set.resource {
                Some(p) => std::slice::from_ref(p),
                None => continue,
            },
            PolicyKind::Identity => set.identity,
            PolicyKind::PermissionsBoundary => match set.permissions_boundary {
                Some(p) => std::slice::from_ref(p),
                None => continue,
            },
            PolicyKind::Session => {
                if set.session.is_empty() {
                    continue;
                }
                set.session
            }
        };
        let mut layer = LayerReport {
            kind,
            allows: false,
            denies: false,
            policies: Vec::with_capacity(policies.len()),
        };
        for named in policies {
            let mut report = PolicyReport {
                name: named.name.clone(),
                statements: Vec::with_capacity(named.policy.statements.len()),
            };
            for (i, statement) in named.policy.statements.iter().enumerate() {
                let outcome = evaluate_statement(kind, named, statement, request, target);
                if outcome.applies {
                    match statement.effect {
                        Effect::Allow => layer.allows |= !outcome.account_only,
                        Effect::Deny => layer.denies = true,
                    }
                    direct_grant |= kind == PolicyKind::Resource
                        && outcome.direct
                        && statement.effect == Effect::Allow;
                }
                report.statements.push(StatementReport {
                    statement: StatementRef::of(statement, i),
                    effect: statement.effect,
                    applies: outcome.applies,
                    decisive: false,
                    direct_grant: outcome.applies && outcome.direct,
                    delegated_to_account: outcome.applies && outcome.account_only,
                    reasons: outcome.reasons,
                });
            }
            layer.policies.push(report);
        }
        layers.push(layer);
    }

    let layer = |kind: PolicyKind| layers.iter().find(|l| l.kind == kind);
    let allows = |kind: PolicyKind| layer(kind).is_some_and(|l| l.allows);
    let present = |kind: PolicyKind| layer(kind).is_some();

    let explicit = ORDER
        .into_iter()
        .find(|k| layer(*k).is_some_and(|l| l.denies));
    let (decision, denied_by) = if let Some(kind) = explicit {
        (Decision::ExplicitDeny, Some(kind))
    } else if present(PolicyKind::ServiceControl) && !allows(PolicyKind::ServiceControl) {
        (Decision::ImplicitDeny, Some(PolicyKind::ServiceControl))
    } else if direct_grant {
        (Decision::Allow, None)
    } else if !allows(PolicyKind::Identity) && !allows(PolicyKind::Resource) {
        (Decision::ImplicitDeny, Some(PolicyKind::Identity))
    } else if present(PolicyKind::PermissionsBoundary) && !allows(PolicyKind::PermissionsBoundary) {
        (
            Decision::ImplicitDeny,
            Some(PolicyKind::PermissionsBoundary),
        )
    } else if present(PolicyKind::Session) && !allows(PolicyKind::Session) {
        (Decision::ImplicitDeny, Some(PolicyKind::Session))
    } else {
        (Decision::Allow, None)
    };

    let is_decisive = |kind: PolicyKind, s: &StatementReport| {
        s.applies
            && match decision {
                Decision::ExplicitDeny => s.effect == Effect::Deny,
                Decision::ImplicitDeny => false,
                // A direct grant decides alone (with the SCPs that let it through).
                Decision::Allow => {
                    s.effect == Effect::Allow
                        && !s.delegated_to_account
                        && (!direct_grant || kind == PolicyKind::ServiceControl || s.direct_grant)
                }
            }
    };
    for layer in &mut layers {
        let kind = layer.kind;
        for statement in layer
            .policies
            .iter_mut()
            .flat_map(|p| p.statements.iter_mut())
        {
            statement.decisive = is_decisive(kind, statement);
        }
    }

    Evaluation {
        decision,
        explanation: Explanation {
            decision,
            denied_by,
            principal: request.principal.clone(),
            action: request.action.clone(),
            resource: request.resource.clone(),
            layers,
        },
    }
}

fn evaluate_statement(
    kind: PolicyKind,
    named: &NamedPolicy,
    statement: &Statement,
    request: &Request,
    target: Target<'_>,
) -> Outcome {
    let mut reasons = Vec::new();
    let mut direct = false;
    let mut account_only = false;
    let resolve = named.policy.resolves_variables();

    match &statement.principal {
        Some(PrincipalBlock::Principal(set)) => {
            match principal_matches(set, request.principal.as_ref(), &request.context) {
                PrincipalMatch::No => {
                    reasons.push(Mismatch::Principal {
                        negated: false,
                        principal: request.principal.clone(),
                    });
                }
                PrincipalMatch::Yes => {}
                PrincipalMatch::Account => account_only = true,
                PrincipalMatch::Direct => direct = true,
            }
        }
        Some(PrincipalBlock::NotPrincipal(set))
            if principal_matches(set, request.principal.as_ref(), &request.context)
                != PrincipalMatch::No =>
        {
            reasons.push(Mismatch::Principal {
                negated: true,
                principal: request.principal.clone(),
            });
        }
        Some(PrincipalBlock::NotPrincipal(_)) => {}
        None if kind == PolicyKind::Resource => reasons.push(Mismatch::PrincipalRequired),
        None => {}
    }

    let (negated, patterns) = match &statement.action {
        ActionBlock::Action(p) => (false, p),
        ActionBlock::NotAction(p) => (true, p),
    };
    // AWS, Action element: action names are case-insensitive ("iam:listaccesskeys" is the same
    // as "IAM:ListAccessKeys"); `*` and `?` are wildcards.
    let listed = patterns
        .iter()
        .any(|p| Glob::Text(p).matches(&request.action, Case::Insensitive));
    if listed == negated {
        reasons.push(Mismatch::Action {
            negated,
            action: request.action.clone(),
            patterns: patterns.clone(),
        });
    }

    if let Some(block) = &statement.resource {
        let (negated, patterns) = match block {
            ResourceBlock::Resource(p) => (false, p),
            ResourceBlock::NotResource(p) => (true, p),
        };
        let mut unresolved = Vec::new();
        // Without `${...}` to substitute, a pattern is matched as written (nothing compiled).
        let substitutes = |p: &str| resolve && has_variable(p);
        let listed = patterns.iter().any(|p| {
            if !substitutes(p) {
                return glob_target_matches(Glob::Text(p), target);
            }
            match substitute(p, &request.context, resolve) {
                Ok(pattern) => resource_matches(&pattern, &request.resource),
                Err(u) => {
                    unresolved.push(u.variable);
                    false
                }
            }
        });
        // A `NotResource` pattern whose variable has no value cannot show that the resource is
        // outside the set ("If AWS cannot resolve a variable this might cause the entire
        // statement to be invalid", Variables and tags), unless the parts of the ARN before the
        // resource part already differ. Then the statement does not apply. Where exactly AWS
        // draws this line is not documented; iam-simulate draws it at the same place.
        let undecidable = negated
            && patterns.iter().any(|p| {
                substitutes(p)
                    && substitute(p, &request.context, resolve).is_err()
                    && prefix_matches(&substitute_widest(p, &request.context), &request.resource)
            });
        if listed == negated || undecidable {
            reasons.push(Mismatch::Resource {
                negated,
                resource: request.resource.clone(),
                patterns: patterns.clone(),
                unresolved: if listed && negated {
                    Vec::new()
                } else {
                    unresolved
                },
            });
        }
    }

    for condition in &statement.conditions {
        if let Err(mismatch) = condition.evaluate(&request.context, resolve) {
            reasons.push(Mismatch::Condition(mismatch));
        }
    }

    Outcome {
        applies: reasons.is_empty(),
        direct,
        account_only,
        reasons,
    }
}

#[cfg(test)]
mod tests;
