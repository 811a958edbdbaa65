//! How long to wait before trying again: `Retry-After` when the server says, exponential otherwise.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Reads `Retry-After` as delta-seconds or as an HTTP date; a date in the past means now.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let at = SystemTime::from(at);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `initial * 2^attempt`, capped, plus up to a quarter of jitter so clients do not retry in step.
pub(crate) fn backoff(attempt: u32, initial: Duration, cap: Duration) -> Duration {
    let exponential = initial.saturating_mul(2u32.saturating_pow(attempt.min(16)));
    let base = exponential.min(cap);
    // Jitter from the clock is enough here: it only has to differ between processes and attempts.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = base.mul_f64(f64::from(nanos % 1000) / 4000.0);
    base.saturating_add(jitter).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let initial = Duration::from_millis(100);
        let cap = Duration::from_secs(2);
        let first = backoff(0, initial, cap);
        assert!(first >= initial && first <= initial * 2, "{first:?}");
        let third = backoff(2, initial, cap);
        assert!(third >= initial * 4, "{third:?}");
        assert_eq!(backoff(30, initial, cap), cap);
        assert_eq!(backoff(u32::MAX, Duration::MAX, cap), cap);
    }
}
