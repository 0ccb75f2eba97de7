#![doc = include_str!("../README.md")]

pub mod backend;
pub mod cli;
pub mod harness;
pub mod pod;
pub mod runner;
pub mod stack;
pub mod world_file;

pub use harness::{Harness, HarnessBuilder, WorldSource};

// The SDK crates the library hands out, so a user's tests name the same versions.
pub use aws_config;
pub use aws_sdk_dynamodb;
pub use aws_sdk_sts;
pub use aws_types;
