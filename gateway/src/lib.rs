#![doc = include_str!("../README.md")]

pub mod audit;
pub mod backend_arn;
pub mod classify;
pub mod error;
pub mod forward;
pub mod handler;
pub mod key_schema;
pub mod leading_key;
pub mod resource_policy;
