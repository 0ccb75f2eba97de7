//! One `Statement` of a policy and its elements.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::condition::Condition;

/// `Effect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Allow => "Allow",
            Self::Deny => "Deny",
        })
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalBlock {
    /// `Principal`: the statement applies to these principals.
    Principal(PrincipalSet),
    /// `NotPrincipal`: the statement applies to every principal except these.
    NotPrincipal(PrincipalSet),
}

/// The principals named by a `Principal` / `NotPrincipal` element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalSet {
    /// `"Principal": "*"`: everyone, including anonymous callers.
    pub any: bool,
    /// `AWS`: account ids, account root, user, role and session ARNs, or `*`.
    pub aws: Vec<String>,
    /// `Federated`: identity-provider ARNs or names.
    pub federated: Vec<String>,
    /// `Service`: service principal names.
    pub service: Vec<String>,
    /// `CanonicalUser`: S3 canonical user ids (never match a [`crate::Principal`]).
    pub canonical_user: Vec<String>,
}

/// `Action` or `NotAction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionBlock {
    /// `Action`: the statement applies to these actions.
    Action(Vec<String>),
    /// `NotAction`: the statement applies to every action except these.
    NotAction(Vec<String>),
}

impl ActionBlock {
    /// The patterns, whichever the form.
    pub fn patterns(&self) -> &[String] {
        match self {
            Self::Action(p) | Self::NotAction(p) => p,
        }
    }
}

/// `Resource` or `NotResource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceBlock {
    /// `Resource`: the statement applies to these resources.
    Resource(Vec<String>),
    /// `NotResource`: the statement applies to every resource except these.
    NotResource(Vec<String>),
}

impl ResourceBlock {
    /// The patterns, whichever the form.
    pub fn patterns(&self) -> &[String] {
        match self {
            Self::Resource(p) | Self::NotResource(p) => p,
        }
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `Sid` (shared with every [`StatementRef`] that names the statement).
    pub sid: Option<Arc<str>>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` / `NotPrincipal`; `None` in identity-based policies.
    pub principal: Option<PrincipalBlock>,
    /// `Action` / `NotAction`.
    pub action: ActionBlock,
    /// `Resource` / `NotResource`; `None` in trust policies, where the role is the resource.
    pub resource: Option<ResourceBlock>,
    /// `Condition`, flattened to one entry per operator and key; all must hold.
    pub conditions: Vec<Condition>,
}

/// How the explanation names a statement: its `Sid`, or its 1-based position when it has none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatementRef {
    /// The statement's `Sid` (shared with the parsed statement: naming it copies no text).
    Sid(Arc<str>),
    /// 1-based position in the policy.
    Index(usize),
}

impl StatementRef {
    /// The reference for the statement at 0-based `position`.
    pub fn of(statement: &Statement, position: usize) -> Self {
        match &statement.sid {
            Some(sid) if !sid.is_empty() => Self::Sid(sid.clone()),
            _ => Self::Index(position + 1),
        }
    }
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sid(sid) => write!(f, "`{sid}`"),
            Self::Index(n) => write!(f, "#{n}"),
        }
    }
}
