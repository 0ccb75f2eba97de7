#![doc = include_str!("../README.md")]

pub mod issuer;
pub mod key;
pub mod kube_api;
pub mod routes;
pub mod tls;

pub use issuer::{
    Issuer, Issuers, KeyChoice, Rotation, TokenOverrides, TokenSpec, service_account_uid,
    token_claims,
};
pub use key::SigningKey;
pub use routes::router;
pub use tls::PrivateCa;
