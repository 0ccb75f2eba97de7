//! The harness's one clock. Pure code takes a time value; shells ask a `Clock` once per request.

use std::fmt::Debug;

pub trait Clock: Send + Sync + Debug {
    /// Unix time in seconds.
    fn now(&self) -> i64;
}

/// A clock fixed at a value, for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0
    }
}
