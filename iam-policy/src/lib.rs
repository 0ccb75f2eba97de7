#![doc = include_str!("../README.md")]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod arn;
pub mod condition;
mod evaluate;
pub mod limit;
pub mod organization;
mod pattern;
mod policy;
mod request;
mod variable;

pub use evaluate::{
    CrossAccount, Decision, Evaluation, Explanation, LayerReport, Mismatch, PolicyKind,
    PolicyReport, PolicySet, Scope, StatementReport, evaluate, evaluate_in,
};
pub use organization::{OrgLevel, Organization, OrganizationalUnit};
pub use policy::{
    ActionBlock, Effect, NamedPolicy, Policy, PolicyError, PolicyErrorKind, PolicyVersion,
    PrincipalBlock, PrincipalSet, ResourceBlock, Statement, StatementRef,
};
pub use request::{Context, ContextValue, Principal, Request};
