//! The crate's one integration-test binary.

mod differential;
mod errors;
mod golden;
mod signer;

use sigv4_verify::{Policy, SecretKey};
use time::OffsetDateTime;

/// AWS's documented example secret (also the suite's).
pub(crate) const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

pub(crate) fn example_secret() -> SecretKey {
    SecretKey::new(EXAMPLE_SECRET.to_owned())
}

pub(crate) fn utc(unix: i64) -> OffsetDateTime {
    match OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => t,
        Err(e) => panic!("bad timestamp {unix}: {e}"),
    }
}

pub(crate) fn dynamodb() -> Policy {
    Policy::dynamodb()
}
