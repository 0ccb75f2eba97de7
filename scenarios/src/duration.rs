//! The one duration format of world files, scenario files and the CLI (`irsa clock advance`,
//! `irsa token --expires-in`): an optional sign, then a bare number of seconds or one or more
//! `<number><unit>` parts with unit `s`, `m`, `h` or `d` (`90`, `90s`, `15m`, `1h30m`, `1d`,
//! `-5m`). Spaces around the whole and between a number and its unit are allowed (`90 s`).
//! Where a duration must be positive (`advance_clock`), the caller says so.

/// Seconds, or why the text is not a duration.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let trimmed = text.trim();
    let (sign, rest) = match trimmed.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let bad = || format!("`{text}` is not a duration (e.g. `90m`, `2h`, `3600s`, `1h30m`, `-5m`)");
    if rest.is_empty() {
        return Err(bad());
    }
    if let Ok(seconds) = rest.parse::<i64>() {
        return Ok(sign * seconds);
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in rest.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if c == ' ' && !digits.is_empty() {
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    Ok(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_users_write_them() {
        for (text, seconds) in [
            ("90", 90),
            ("3600", 3600),
            ("90s", 90),
            ("15m", 900),
            ("90m", 5400),
            ("2h", 7200),
            ("1d", 86_400),
            ("1h30m", 5400),
            ("-5m", -300),
            ("+5m", 300),
            (" 90 s ", 90),
        ] {
            assert_eq!(parse_duration(text), Ok(seconds), "{text}");
        }
        for bad in [
            "",
            "-",
            "soon",
            "5y",
            "5x",
            "m",
            "1h30",
            "h1",
            "1 h 30",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
