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

/// `2026-11-28T20:33:48Z`: RFC 3339, UTC, whole seconds. The one timestamp shape the harness
/// sends: STS `Expiration`, `aws:CurrentTime`/`aws:TokenIssueTime`, CloudTrail `eventTime`.
pub fn render_utc(unix: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix) else {
        return "1970-01-01T00:00:00Z".to_owned();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn render_utc_is_whole_seconds_with_z() {
        assert_eq!(super::render_utc(1_795_897_921), "2026-11-28T20:32:01Z");
        assert_eq!(super::render_utc(0), "1970-01-01T00:00:00Z");
    }
}
