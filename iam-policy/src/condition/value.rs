//! Typed readings of condition values: numbers, dates, IP ranges, base64.
//!
//! Owns: parsing the text of a policy or request value into what an operator compares. A value
//! that does not parse simply does not match (no error: a deny is a value).

use std::net::IpAddr;

/// A number as `Numeric*` compares it.
pub(crate) fn number(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A date as `Date*` compares it: milliseconds since the Unix epoch.
///
/// AWS, Condition operators, Date: the value is "a date in one of the W3C implementations of
/// the ISO 8601 date formats" or "epoch (UNIX) time". Accepted here: epoch seconds (an optional
/// sign and digits, optionally with a fraction), `YYYY-MM-DD`, `YYYY-MM-DDThh:mm`,
/// `YYYY-MM-DDThh:mm:ss` and `YYYY-MM-DDThh:mm:ss.s+`, each with `Z`, `±hh:mm`, `±hhmm` or no
/// zone (read as UTC).
pub(crate) fn date_millis(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(ms) = epoch_millis(text) {
        return Some(ms);
    }
    iso8601_millis(text)
}

fn epoch_millis(text: &str) -> Option<i64> {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let seconds: i64 = whole.parse().ok()?;
    let millis = fraction_millis(fraction);
    seconds
        .checked_mul(1000)?
        .checked_add(millis)
        .map(|ms| ms * sign)
}

/// The first three digits of a fraction of a second (`5` is 500 ms, `2509` is 250 ms); `digits`
/// holds ASCII digits only.
fn fraction_millis(digits: &str) -> i64 {
    digits
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |millis, digit| {
            millis * 10 + i64::from(digit.wrapping_sub(b'0'))
        })
}

fn digits(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = text.get(range)?;
    part.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| part.parse().ok())
        .flatten()
}

fn iso8601_millis(text: &str) -> Option<i64> {
    let year = digits(text, 0..4)?;
    if text.get(4..5)? != "-" || text.get(7..8)? != "-" {
        return None;
    }
    let month = digits(text, 5..7)?;
    let day = digits(text, 8..10)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut millis = days_from_civil(year, month, day).checked_mul(86_400_000)?;
    let rest = text.get(10..)?;
    if rest.is_empty() {
        return Some(millis);
    }
    let time = rest.strip_prefix('T').or_else(|| rest.strip_prefix('t'))?;
    let hour = digits(time, 0..2)?;
    if time.get(2..3)? != ":" {
        return None;
    }
    let minute = digits(time, 3..5)?;
    let mut rest = time.get(5..)?;
    let mut second = 0;
    let mut fraction_ms = 0;
    if let Some(after) = rest.strip_prefix(':') {
        second = digits(after, 0..2)?;
        rest = after.get(2..)?;
        if let Some(after) = rest.strip_prefix('.') {
            let len = after.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return None;
            }
            fraction_ms = fraction_millis(after.get(..len)?);
            rest = after.get(len..)?;
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_minutes = match rest {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let zone = zone.get(1..)?;
            let (h, m) = match zone.len() {
                5 if zone.get(2..3)? == ":" => (digits(zone, 0..2)?, digits(zone, 3..5)?),
                4 => (digits(zone, 0..2)?, digits(zone, 2..4)?),
                2 => (digits(zone, 0..2)?, 0),
                _ => return None,
            };
            sign * (h * 60 + m)
        }
    };
    millis += ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + fraction_ms;
    Some(millis)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An IPv4 or IPv6 network: `10.0.0.0/8`, `2001:db8::/32`, or one address (`/32` or `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { address, prefix })
    }

    /// Whether `address` lies in this network (v4 and v6 never contain each other).
    pub(crate) fn contains(&self, address: IpAddr) -> bool {
        match (self.address, address) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_equal(
                u128::from(u32::from(net)) << 96,
                u128::from(u32::from(ip)) << 96,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_equal(u128::from(net), u128::from(ip), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_equal(a: u128, b: u128, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(prefix.min(128)));
    a & mask == b & mask
}

/// Standard base64 (padding optional), as `BinaryEquals` values are written.
pub(crate) fn base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    let trimmed = text.trim_end_matches('=');
    if text.len() - trimmed.len() > 2 {
        return None;
    }
    for byte in trimmed.bytes() {
        let sextet = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_iso_8601_and_epoch_agree() {
        assert_eq!(date_millis("2024-01-01T00:00:00Z"), Some(1_704_067_200_000));
        assert_eq!(date_millis("1704067200"), Some(1_704_067_200_000));
        assert_eq!(date_millis("2024-01-01"), Some(1_704_067_200_000));
        assert_eq!(
            date_millis("2024-01-01T01:00:00+01:00"),
            Some(1_704_067_200_000)
        );
        assert_eq!(
            date_millis("2024-01-01T00:00:00.250Z"),
            Some(1_704_067_200_250)
        );
        assert_eq!(date_millis("2024-01-01T00:00Z"), Some(1_704_067_200_000));
        assert_eq!(date_millis("1970-01-01T00:00:00Z"), Some(0));
    }

    #[test]
    fn fractions_keep_milliseconds() {
        assert_eq!(date_millis("1.5"), Some(1_500));
        assert_eq!(date_millis("1.2509"), Some(1_250));
        assert_eq!(date_millis("1."), Some(1_000));
        assert_eq!(date_millis("-1.05"), Some(-1_050));
        assert_eq!(
            date_millis("2024-01-01T00:00:00.5Z"),
            Some(1_704_067_200_500)
        );
    }

    #[test]
    fn invalid_dates_do_not_parse() {
        for bad in [
            "2024-02-30",
            "2024-13-01",
            "yesterday",
            "2024-01-01T25:00:00Z",
            "",
            "2024-01-01X",
        ] {
            assert_eq!(date_millis(bad), None, "{bad}");
        }
    }

    #[test]
    fn networks_contain_their_addresses() {
        let v4 = Network::parse("203.0.113.0/24").unwrap();
        assert!(v4.contains("203.0.113.7".parse().unwrap()));
        assert!(!v4.contains("203.0.114.7".parse().unwrap()));
        let v6 = Network::parse("2001:DB8:1234:5678::/64").unwrap();
        assert!(v6.contains("2001:db8:1234:5678::1".parse().unwrap()));
        assert!(!v6.contains("203.0.113.7".parse().unwrap()));
        assert!(
            Network::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            Network::parse("10.0.0.1")
                .unwrap()
                .contains("10.0.0.1".parse().unwrap())
        );
        assert_eq!(Network::parse("10.0.0.0/33"), None);
    }

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(base64("QmluYXJ5VmFsdWU="), Some(b"BinaryValue".to_vec()));
        assert_eq!(base64("QmluYXJ5VmFsdWU"), Some(b"BinaryValue".to_vec()));
        assert_eq!(base64("!!"), None);
    }

    #[test]
    fn numbers_parse_integers_and_floats() {
        assert_eq!(number("10"), Some(10.0));
        assert_eq!(number("1.5"), Some(1.5));
        assert_eq!(number("ten"), None);
    }
}
