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

/// `Sun, 29 Nov 2026 01:03:20 GMT`: the HTTP `Date` header (RFC 9110 IMF-fixdate) for this
/// harness time. AWS's responses carry AWS's clock there, and the SDKs correct their own clock
/// skew from it (Rust, JavaScript and Go do): when the harness clock is moved, the `Date` the
/// harness answers must move with it, or those SDKs pull their signatures back to real time.
pub fn render_http_date(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let day = DAYS
        .get(usize::from(t.weekday().number_days_from_monday()))
        .unwrap_or(&"Mon");
    let month = MONTHS
        .get(usize::from(u8::from(t.month())).saturating_sub(1))
        .unwrap_or(&"Jan");
    format!(
        "{day}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
        t.day(),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn render_http_date_is_imf_fixdate() {
        assert_eq!(
            super::render_http_date(1_795_897_921),
            "Sat, 28 Nov 2026 20:32:01 GMT"
        );
        assert_eq!(super::render_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn render_utc_is_whole_seconds_with_z() {
        assert_eq!(super::render_utc(1_795_897_921), "2026-11-28T20:32:01Z");
        assert_eq!(super::render_utc(0), "1970-01-01T00:00:00Z");
    }
}
