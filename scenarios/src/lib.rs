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

pub mod scenario;

pub use scenario::{
    Actor, Call, Expect, ScenarioError, ScenarioFile, ScenarioProblem, Step, parse,
};
