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

pub mod access_denied;
pub mod arn;
pub mod audit;
pub mod caller;
pub mod clock;
pub mod credential;
pub mod dynamodb_operations;
pub mod secret;
pub mod session;
pub mod signed;
pub mod token;
pub mod transport;
pub mod trust;
pub mod world;
pub mod world_store;

pub use secret::{SecretAccessKey, SessionToken, WebIdentityToken};
pub use session::{MemorySessionStore, Session, SessionStore};
pub use world::World;
pub use world_store::WorldStore;
