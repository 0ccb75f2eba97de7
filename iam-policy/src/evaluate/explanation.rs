//! Why a decision came out as it did: JSON for tools (`Serialize`), text for terminals
//! (`Display`).

use std::fmt;

use serde::Serialize;

use super::{Decision, PolicyKind};
use crate::condition::{ConditionMismatch, List};
use crate::policy::{Effect, StatementRef};
use crate::request::Principal;

/// The full account of one evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The decision.
    pub decision: Decision,
    /// The policy kind that decided a deny (see [`super::Evaluation::denied_by`]).
    pub denied_by: Option<PolicyKind>,
    /// For a deny decided by an SCP or RCP level: that level's root, OU or account id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied_at: Option<String>,
    /// Set when the principal's and the resource's accounts differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_account: Option<CrossAccount>,
    /// The request's principal.
    pub principal: Option<Principal>,
    /// The request's action.
    pub action: String,
    /// The request's resource.
    pub resource: String,
    /// One entry per policy kind present (per level for SCPs and RCPs), in evaluation order
    /// (SCP, RCP, resource, identity, boundary, session).
    pub layers: Vec<LayerReport>,
}

/// The two accounts of a cross-account request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrossAccount {
    /// The trusted account: the principal's.
    pub principal_account: String,
    /// The trusting account: the resource's.
    pub resource_account: String,
}

/// The statements of one policy kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerReport {
    /// The kind.
    pub kind: PolicyKind,
    /// For an SCP or RCP level of an organization: the root, OU or account id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Whether an `Allow` statement of this kind applied and grants (an `Allow` that only
    /// delegates to the account does not).
    pub allows: bool,
    /// Whether a `Deny` statement of this kind applied.
    pub denies: bool,
    /// The policies of this kind.
    pub policies: Vec<PolicyReport>,
}

/// The statements of one policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyReport {
    /// The policy's name.
    pub name: String,
    /// Every statement, in document order.
    pub statements: Vec<StatementReport>,
}

/// What one statement did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementReport {
    /// `Sid`, or 1-based position.
    pub statement: StatementRef,
    /// `Effect`.
    pub effect: Effect,
    /// Whether principal, action, resource and every condition matched.
    pub applies: bool,
    /// Whether the decision rests on this statement.
    pub decisive: bool,
    /// A resource-based `Allow` naming the requesting session or user itself.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub direct_grant: bool,
    /// A resource-based `Allow` that matched the principal only through its account: it
    /// delegates to the account and grants nothing by itself.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub delegated_to_account: bool,
    /// Why it did not apply (empty when it applied).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Mismatch>,
}

/// One reason a statement did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "element", rename_all = "snake_case")]
pub enum Mismatch {
    /// The action is not in `Action` (or is in `NotAction`).
    Action {
        /// `NotAction`.
        negated: bool,
        /// The requested action.
        action: String,
        /// The statement's patterns.
        patterns: Vec<String>,
    },
    /// The resource is not in `Resource` (or is in `NotResource`).
    Resource {
        /// `NotResource`.
        negated: bool,
        /// The requested resource.
        resource: String,
        /// The statement's patterns, as written.
        patterns: Vec<String>,
        /// Patterns whose `${...}` had no value and no default.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        unresolved: Vec<String>,
    },
    /// The principal is not in `Principal` (or is in `NotPrincipal`).
    Principal {
        /// `NotPrincipal`.
        negated: bool,
        /// The requesting principal.
        principal: Option<Principal>,
    },
    /// A resource-based policy statement without `Principal` applies to no one.
    PrincipalRequired,
    /// A condition did not hold.
    Condition(ConditionMismatch),
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Action {
                negated: false,
                action,
                patterns,
            } => {
                write!(
                    f,
                    "action `{action}` matches none of `Action` {}",
                    List(patterns)
                )
            }
            Self::Action {
                negated: true,
                action,
                patterns,
            } => {
                write!(
                    f,
                    "action `{action}` is excluded by `NotAction` {}",
                    List(patterns)
                )
            }
            Self::Resource {
                negated,
                resource,
                patterns,
                unresolved,
            } => {
                if *negated && !unresolved.is_empty() {
                    write!(
                        f,
                        "`NotResource` {} cannot exclude resource `{resource}`",
                        List(patterns)
                    )?;
                } else if *negated {
                    write!(
                        f,
                        "resource `{resource}` is excluded by `NotResource` {}",
                        List(patterns)
                    )?;
                } else {
                    write!(
                        f,
                        "resource `{resource}` matches none of `Resource` {}",
                        List(patterns)
                    )?;
                }
                if !unresolved.is_empty() {
                    write!(f, "; unresolved {}", List(unresolved))?;
                }
                Ok(())
            }
            Self::Principal { negated, principal } => {
                match principal {
                    Some(p) => write!(f, "principal {p}")?,
                    None => f.write_str("no principal")?,
                }
                if *negated {
                    f.write_str(" is excluded by `NotPrincipal`")
                } else {
                    f.write_str(" is not named by `Principal`")
                }
            }
            Self::PrincipalRequired => f.write_str(
                "a resource-based policy statement without `Principal` applies to no one",
            ),
            Self::Condition(c) => c.fmt(f),
        }
    }
}

impl Explanation {
    /// The statements the decision rests on, with their policy kind and policy name.
    pub fn decisive(&self) -> impl Iterator<Item = (PolicyKind, &str, &StatementReport)> {
        self.layers.iter().flat_map(|layer| {
            layer.policies.iter().flat_map(move |policy| {
                policy
                    .statements
                    .iter()
                    .filter(|s| s.decisive)
                    .map(move |s| (layer.kind, policy.name.as_str(), s))
            })
        })
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: `{}` on `{}`",
            self.decision, self.action, self.resource
        )?;
        if let Some(p) = &self.principal {
            write!(f, " by {p}")?;
        }
        match (self.decision, self.denied_by) {
            (Decision::ExplicitDeny, Some(kind)) => {
                let kind = kind.to_string();
                let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                write!(f, ", explicit deny in {article} {kind}")?
            }
            (Decision::ImplicitDeny, Some(kind)) => write!(f, ", no {kind} allows it")?,
            _ => {}
        }
        if let Some(level) = &self.denied_at {
            write!(f, " at `{level}`")?;
        }
        writeln!(f)?;
        if let Some(accounts) = &self.cross_account {
            writeln!(
                f,
                "  cross-account: principal in `{}`, resource in `{}`: an identity-based policy and the resource-based policy must both allow",
                accounts.principal_account, accounts.resource_account
            )?;
        }
        if self.layers.is_empty() {
            return writeln!(f, "  no policies");
        }
        for layer in &self.layers {
            let at = layer
                .level
                .as_deref()
                .map(|l| format!(" at `{l}`"))
                .unwrap_or_default();
            if layer.policies.is_empty() {
                writeln!(f, "  {}{at}: none", layer.kind)?;
            }
            for policy in &layer.policies {
                writeln!(f, "  {} `{}`{at}", layer.kind, policy.name)?;
                for s in &policy.statements {
                    let marker = match (s.decisive, s.applies) {
                        (true, _) => "decisive",
                        (false, true) => "applies",
                        (false, false) => "does not apply",
                    };
                    write!(f, "    {} {} {marker}", s.statement, s.effect)?;
                    if s.direct_grant {
                        f.write_str(" (grants the requesting principal directly)")?;
                    }
                    if s.delegated_to_account {
                        f.write_str(" (names the account: an identity-based policy must allow)")?;
                    }
                    writeln!(f)?;
                    for reason in &s.reasons {
                        writeln!(f, "      - {reason}")?;
                    }
                }
            }
        }
        Ok(())
    }
}
