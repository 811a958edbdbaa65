//! Timestamps as logs write them, always returned in UTC. Parsed only for lines that matched.

use jiff::Timestamp;

/// Epoch seconds with an optional fraction (`1776861361.512345`, Zeek and Squid); values that
/// are too large to be seconds are read as milliseconds.
pub(crate) fn epoch(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || int.len() > 16 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int: i64 = int.parse().ok()?;
    let mut nanos: i64 = 0;
    for (i, b) in frac.bytes().take(9).enumerate() {
        nanos += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    if int > 100_000_000_000 {
        // Milliseconds since the epoch.
        return Timestamp::from_millisecond(int).ok();
    }
    Timestamp::new(int, nanos as i32).ok()
}

/// RFC 3339 / ISO 8601 with an offset or `Z` (`2026-04-22T12:36:01Z`).
pub(crate) fn rfc3339(s: &str) -> Option<Timestamp> {
    s.trim().parse::<Timestamp>().ok()
}

/// Common Log Format time, with or without brackets (`[22/Apr/2026:12:36:02 +0000]`).
pub(crate) fn clf(s: &str) -> Option<Timestamp> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", s)
        .ok()?
        .to_timestamp()
        .ok()
}

/// Whatever a JSON log put in its time field: epoch (number or string) or RFC 3339.
pub(crate) fn any(s: &str) -> Option<Timestamp> {
    epoch(s).or_else(|| rfc3339(s)).or_else(|| clf(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_utc() {
        let want = "2026-04-22T12:36:01.512345Z";
        assert_eq!(epoch("1776861361.512345").unwrap().to_string(), want);
        assert_eq!(rfc3339(want).unwrap().to_string(), want);
        assert_eq!(
            clf("[22/Apr/2026:14:36:02 +0200]").unwrap().to_string(),
            "2026-04-22T12:36:02Z"
        );
        assert_eq!(
            any("2026-04-22T14:36:01+02:00").unwrap().to_string(),
            "2026-04-22T12:36:01Z"
        );
        assert_eq!(
            epoch("1776861361512").unwrap().to_string(),
            "2026-04-22T12:36:01.512Z"
        );
        assert!(epoch("abc").is_none());
        assert!(epoch("-").is_none());
    }
}
