#![doc = include_str!("../README.md")]

pub mod audit;
pub mod cache;
pub mod client;
pub mod clock;
pub mod control;
pub mod curity_sim;
pub mod doctor;
pub mod dynamodb_local;
pub mod edge;
pub mod harness;
pub mod imds;
pub mod inject;
pub mod kube_api;
pub mod pod_identity;
pub mod profile;
pub mod python;
pub mod run;
pub mod simulate;
pub mod stack;
pub mod world_file;

pub use harness::{Harness, HarnessBuilder, WorldSource};

// The SDK crates the library hands out, so a user's tests name the same versions.
pub use aws_config;
pub use aws_sdk_dynamodb;
pub use aws_sdk_sts;
pub use aws_types;
