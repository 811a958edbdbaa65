//! The `[audit]` section of `tagwarden.toml` (and of the watch configuration): thresholds, and
//! for `watch`, the folders of exports to tail.
//!
//! ```toml
//! [audit]
//! burst-tags = 4          # more distinct tags than this within burst-window is a burst…
//! burst-window = "15m"    # …when no window of the baseline had as many
//! hour-margin = 1         # hours around a baseline push hour that are usual
//! min-baseline = 5        # pushes a repository needs in the baseline to judge actors, hours
//! recent = "7d"           # without --baseline-to: the last 7 days of the logs are judged
//! address-prefix-v4 = 16  # addresses compared by network: CI runners move within one
//! address-prefix-v6 = 48
//! exports = ["/var/log/registry-audit"]   # watch: folders to tail
//! ```
//!
//! [`parse`] reads the text (no I/O); errors carry the byte span of the value at fault.

use std::ops::Range;

use jiff::SignedDuration;
use serde::Deserialize;
use toml::Spanned;

/// How far the judge lets pushes stray from the baseline before it reports them.
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    pub burst_tags: usize,
    pub burst_window: SignedDuration,
    pub hour_margin: u8,
    pub min_baseline: usize,
    pub recent: SignedDuration,
    pub address_prefix_v4: u8,
    pub address_prefix_v6: u8,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            burst_tags: 4,
            burst_window: SignedDuration::from_mins(15),
            hour_margin: 1,
            min_baseline: 5,
            recent: SignedDuration::from_hours(7 * 24),
            address_prefix_v4: 16,
            address_prefix_v6: 48,
        }
    }
}

/// The `[audit]` section.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditConfig {
    pub thresholds: Thresholds,
    /// Folders (or files) of exports `watch` tails, as written (relative to the file).
    pub exports: Vec<String>,
}

/// A mistake in the section: what, and where in the text (bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub span: Option<Range<usize>>,
    pub message: String,
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    audit: Option<RawAudit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAudit {
    burst_tags: Option<Spanned<i64>>,
    burst_window: Option<Spanned<String>>,
    hour_margin: Option<Spanned<i64>>,
    min_baseline: Option<Spanned<i64>>,
    recent: Option<Spanned<String>>,
    address_prefix_v4: Option<Spanned<i64>>,
    address_prefix_v6: Option<Spanned<i64>>,
    #[serde(default)]
    exports: Vec<String>,
}

fn at<T>(v: &Spanned<T>, message: String) -> ConfigError {
    ConfigError {
        span: Some(v.span()),
        message,
    }
}

fn number(
    v: &Option<Spanned<i64>>,
    lo: i64,
    hi: i64,
    name: &str,
) -> Result<Option<i64>, ConfigError> {
    match v {
        None => Ok(None),
        Some(n) if (lo..=hi).contains(n.get_ref()) => Ok(Some(*n.get_ref())),
        Some(n) => Err(at(n, format!("{name} must be {lo} to {hi}"))),
    }
}

/// `30s`, `15m`, `2h`, `7d`.
pub fn duration(text: &str) -> Result<SignedDuration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (like 30s, 15m, 2h, 7d)"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?} is not a duration (like 30s, 15m, 2h, 7d)"
            ));
        }
    };
    n.checked_mul(seconds)
        .filter(|s| *s > 0 && *s <= 100 * 365 * 86_400)
        .map(SignedDuration::from_secs)
        .ok_or_else(|| format!("{text:?} is out of range"))
}

/// Reads the `[audit]` section of a whole configuration text; `None` when there is none.
/// Other sections are not looked at.
pub fn parse(text: &str) -> Result<Option<AuditConfig>, ConfigError> {
    let doc: Doc = toml::from_str(text).map_err(|e| ConfigError {
        span: e.span(),
        message: e.message().to_string(),
    })?;
    let Some(raw) = doc.audit else {
        return Ok(None);
    };
    let mut t = Thresholds::default();
    if let Some(n) = number(&raw.burst_tags, 1, 10_000, "burst-tags")? {
        t.burst_tags = n as usize;
    }
    if let Some(n) = number(&raw.hour_margin, 0, 12, "hour-margin")? {
        t.hour_margin = n as u8;
    }
    if let Some(n) = number(&raw.min_baseline, 0, 1_000_000, "min-baseline")? {
        t.min_baseline = n as usize;
    }
    if let Some(n) = number(&raw.address_prefix_v4, 0, 32, "address-prefix-v4")? {
        t.address_prefix_v4 = n as u8;
    }
    if let Some(n) = number(&raw.address_prefix_v6, 0, 128, "address-prefix-v6")? {
        t.address_prefix_v6 = n as u8;
    }
    if let Some(v) = &raw.burst_window {
        t.burst_window = duration(v.get_ref()).map_err(|e| at(v, e))?;
    }
    if let Some(v) = &raw.recent {
        t.recent = duration(v.get_ref()).map_err(|e| at(v, e))?;
    }
    Ok(Some(AuditConfig {
        thresholds: t,
        exports: raw.exports,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_values_and_mistakes() {
        assert_eq!(parse("fail-on = \"high\"\n"), Ok(None));
        let c = parse("[audit]\nburst-tags = 6\nburst-window = \"30m\"\nexports = [\"logs\"]\n");
        let c = c.ok().flatten().unwrap_or_default();
        assert_eq!(c.thresholds.burst_tags, 6);
        assert_eq!(c.thresholds.burst_window, SignedDuration::from_mins(30));
        assert_eq!(c.exports, ["logs"]);
        let text = "[audit]\nhour-margin = 40\n";
        let e = parse(text).err().and_then(|e| e.span);
        assert_eq!(e.map(|s| &text[s]), Some("40"));
        assert!(parse("[audit]\nrecent = \"soon\"\n").is_err());
        assert!(parse("[audit]\nunknown = 1\n").is_err());
    }
}
