#![doc = include_str!("../README.md")]

pub mod issuer;
pub mod key;
pub mod routes;

pub use issuer::{Issuer, Issuers, KeyChoice, Rotation, TokenOverrides, TokenSpec, token_claims};
pub use key::SigningKey;
pub use routes::router;
