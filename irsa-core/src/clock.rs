//! The harness's one clock. Pure code takes a time value; shells ask a `Clock` once per request.
//!
//! Two readings, one rule:
//! - [`Clock::now`] is the harness's time. Token `exp`/`nbf`/`iat`, session issue and expiry,
//!   `aws:CurrentTime`/`aws:EpochTime` and audit `eventTime` all follow it, so tests and
//!   `irsa clock advance` can move it forward to make tokens and credentials expire.
//! - [`Clock::wall_now`] is the real wall clock, which an unmodified client signs with.
//!
//! The SigV4 skew window (5 min for DynamoDB, 15 min for STS) is measured against whichever of
//! the two readings is nearer to the request's `X-Amz-Date` ([`signature_reference`]). So a moved
//! harness clock never makes an honest SDK's signature look skewed, a client that follows the
//! harness clock (an SDK given the harness time as its time source) is accepted too, and a client
//! whose own clock is off from both is refused with AWS's `Signature expired` / `Signature not yet
//! current` text, computed against the nearer reading. Without a moved clock both readings are
//! the same instant and this is exactly AWS's rule.

use std::fmt::Debug;

pub trait Clock: Send + Sync + Debug {
    /// The harness's time, Unix seconds: what every expiry and time condition is judged by.
    fn now(&self) -> i64;

    /// The real wall clock, Unix seconds: what clients sign with. Clocks that are not moved
    /// (tests' fixed clocks) have one reading for both.
    fn wall_now(&self) -> i64 {
        self.now()
    }
}

/// The instant a SigV4 skew window is measured from: the harness time or the wall time,
/// whichever is nearer to `signed_at` (the request's `X-Amz-Date`, Unix seconds). `None` (no
/// parseable date) gives the harness time; the verifier then refuses the date itself.
pub fn signature_reference(harness: i64, wall: i64, signed_at: Option<i64>) -> i64 {
    match signed_at {
        Some(t) if t.abs_diff(wall) < t.abs_diff(harness) => wall,
        _ => harness,
    }
}

/// `X-Amz-Date` (`20261128T203306Z`, ISO 8601 basic format) as Unix seconds.
pub fn parse_amz_date(value: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(value.trim(), &format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// The skew reference for a request: [`signature_reference`] with the clock's two readings and
/// the request's `X-Amz-Date` (or `Date`, which is not parsed: such requests are judged against
/// the harness time).
pub fn signature_reference_for(clock: &dyn Clock, amz_date: Option<&str>) -> i64 {
    signature_reference(
        clock.now(),
        clock.wall_now(),
        amz_date.and_then(parse_amz_date),
    )
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
    use super::*;

    #[test]
    fn skew_is_measured_from_the_reading_nearer_the_signature() {
        let wall = 1_795_897_921;
        let harness = wall + 7200;
        // An honest client signs with the wall clock: judged against it.
        assert_eq!(signature_reference(harness, wall, Some(wall + 3)), wall);
        // A client following the harness clock: judged against the harness.
        assert_eq!(
            signature_reference(harness, wall, Some(harness - 3)),
            harness
        );
        // A client 20 minutes behind the wall clock: still the wall clock, so it is refused.
        assert_eq!(signature_reference(harness, wall, Some(wall - 1200)), wall);
        // Unmoved clock: one reading.
        assert_eq!(signature_reference(wall, wall, Some(wall - 1200)), wall);
        assert_eq!(signature_reference(harness, wall, None), harness);
    }

    #[test]
    fn parses_amz_dates() {
        assert_eq!(parse_amz_date("20261128T203201Z"), Some(1_795_897_921));
        assert_eq!(parse_amz_date("2026-11-28T20:32:01Z"), None);
        assert_eq!(parse_amz_date("201"), None);
    }

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
