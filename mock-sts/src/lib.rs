#![doc = include_str!("../README.md")]

pub mod error;
pub mod handler;
pub mod xml;

pub use error::StsError;
pub use handler::{StsState, handle, router};
