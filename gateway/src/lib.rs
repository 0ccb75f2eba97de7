#![doc = include_str!("../README.md")]

pub mod audit;
pub mod authorize;
pub mod backend_arn;
pub mod body;
pub mod classify;
pub mod error;
pub mod forward;
pub mod handler;
pub mod key_schema;
pub mod leading_key;
pub mod policy_api;
pub mod resource_policy;
pub mod table_policy;
