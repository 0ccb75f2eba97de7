//! The harness clock: real time plus an offset that tests and `irsa clock advance` can move.

use std::sync::atomic::{AtomicI64, Ordering};

use irsa_core::clock::Clock;

#[derive(Debug, Default)]
pub struct HarnessClock {
    offset_seconds: AtomicI64,
}

impl HarnessClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Move the clock forward (or back, with a negative value).
    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn offset(&self) -> i64 {
        self.offset_seconds.load(Ordering::SeqCst)
    }
}

impl Clock for HarnessClock {
    fn now(&self) -> i64 {
        self.wall_now().saturating_add(self.offset())
    }

    /// The real time: SigV4 skew is also accepted against it (see `irsa_core::clock`), so a
    /// moved harness clock never makes an honest SDK's signature look skewed.
    fn wall_now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}
