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

mod canonical;
mod error;
mod request;
mod secret;
mod signing;
mod verify;

pub use canonical::canonical_request;
pub use error::{IncompleteHeader, Mismatch, SigError, SigErrorKind, WrongScope};
pub use request::{Parsed, Policy, Request, header_pairs};
pub use secret::SecretKey;
pub use signing::{sign, sign_request, string_to_sign};
pub use verify::{parse_and_check, verify_signature};
