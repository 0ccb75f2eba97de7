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

pub mod call;
pub mod duration;
pub mod locate;
pub mod scenario;
pub mod world_file;

pub use call::{Call, DynamoDbOperation, StsOperation};
pub use duration::parse_duration;
pub use scenario::{
    Action, Actor, Change, Decisive, Expect, ScenarioError, ScenarioFile, ScenarioProblem, Step,
    TokenOverrides, Transport, WorldNames, WorldRef, parse, resolve,
};

/// Read YAML as this project's files are read: YAML 1.2 booleans only (`true`/`false`), so that
/// DynamoDB's `N` (and `Y`, `yes`, `no`, `on`, `off`) stay strings. With YAML 1.1 spellings,
/// `AttributeType: N` would silently become `false`.
pub fn from_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, serde_saphyr::options! { strict_booleans: true })
}
