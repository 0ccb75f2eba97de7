#![doc = include_str!("../README.md")]

pub mod eks;
pub mod error;
pub mod handler;
pub mod iam;
pub mod iam_handler;
pub mod query;
pub mod session_policy;
pub mod signed;
pub mod xml;

pub use error::StsError;
pub use handler::{StsState, handle, router};
