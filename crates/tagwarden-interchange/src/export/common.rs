//! Helpers every exporter shares: deterministic ids, timestamps, confidence and the advisory's
//! incident start.

use jiff::Timestamp;
use jiff::civil::Date;
use sha2::{Digest as _, Sha256};
use tagwarden_advisory::{Advisory, Confidence, MaliciousDigest, Provenance};

/// A UUID derived from `name`: the first 16 bytes of SHA-256("tagwarden:" + name) with the RFC 4122
/// version (4) and variant bits set. Version 4 because stix2-validator and Sigma expect v4 for
/// objects; the "random" bits are a hash, so the same name always gives the same id.
pub(crate) fn uuid(name: &str) -> String {
    let hash = Sha256::new()
        .chain_update(b"tagwarden:")
        .chain_update(name.as_bytes())
        .finalize();
    let mut b = [0u8; 16];
    for (dst, src) in b.iter_mut().zip(hash.iter()) {
        *dst = *src;
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    // The string is 32 ASCII hex digits, so the byte ranges below are in bounds.
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `YYYY-MM-DDT00:00:00.000Z`: STIX timestamps for a date (millisecond precision, as the
/// specification recommends for `created` and `modified`).
pub(crate) fn date_timestamp(date: Date) -> String {
    format!("{date}T00:00:00.000Z")
}

/// A UTC timestamp with millisecond precision.
pub(crate) fn timestamp_millis(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// STIX `confidence` (0-100) for a value: P=90, P2=85, S=60, C=30, I=15; a disputed value is capped
/// at 30 and a weak indicator gets half.
pub(crate) fn confidence_score(provenance: &Provenance, weak: bool) -> u8 {
    let base: u8 = match provenance.confidence {
        Confidence::Primary => 90,
        Confidence::PrimaryCopy => 85,
        Confidence::Secondary => 60,
        Confidence::Conflicting => 30,
        Confidence::Inferred => 15,
    };
    let base = if provenance.disputed {
        base.min(30)
    } else {
        base
    };
    if weak { base / 2 } else { base }
}

/// When the incident began, as far as the advisory says: the earliest window start (image
/// exposures, their disputed windows, actions), else the advisory's publication date.
pub(crate) fn incident_start(advisory: &Advisory) -> Timestamp {
    let exposures = advisory.image_exposures.iter().flat_map(|e| {
        std::iter::once(e.window.value.start)
            .chain(e.disputed_window.as_ref().map(|w| w.value.start))
    });
    let actions = advisory.actions.iter().map(|a| a.window.value.start);
    exposures
        .chain(actions)
        .min()
        .unwrap_or_else(|| date_start(advisory.published))
}

/// When a malicious digest was first served: the earliest window of an exposure sharing one of
/// its repositories and tags, else the incident start.
pub(crate) fn digest_first_seen(advisory: &Advisory, digest: &MaliciousDigest) -> Timestamp {
    advisory
        .image_exposures
        .iter()
        .filter(|e| {
            e.repositories
                .iter()
                .any(|r| digest.repositories.contains(r))
                && e.tags.iter().any(|t| digest.tags.contains(t))
        })
        .map(|e| e.window.value.start)
        .min()
        .unwrap_or_else(|| incident_start(advisory))
}

/// Midnight UTC of a date; the Unix epoch when the date cannot be represented (never for dates
/// the advisory loader accepts).
fn date_start(date: Date) -> Timestamp {
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// "Sources: Title <url>; …" for a comment, naming each cited source.
pub(crate) fn sources_sentence(advisory: &Advisory, provenance: &Provenance) -> String {
    let names: Vec<String> = provenance
        .sources
        .iter()
        .map(|id| match advisory.source(id) {
            Some(s) => match (&s.title, &s.url) {
                (Some(t), Some(u)) => format!("{t} <{u}>"),
                (Some(t), None) => t.clone(),
                (None, Some(u)) => u.clone(),
                (None, None) => id.clone(),
            },
            None => id.clone(),
        })
        .collect();
    let mut s = format!(
        "Confidence {}{}. Sources: {}.",
        provenance.confidence,
        if provenance.disputed {
            " (disputed)"
        } else {
            ""
        },
        names.join("; ")
    );
    if let Some(note) = &provenance.note {
        s = format!("{} {s}", one_line(note));
    }
    s
}

/// Collapses runs of whitespace (newlines included) into single spaces and drops control
/// characters, for formats whose fields are one line.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().filter(|c| !c.is_control()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_v4_layout() {
        let a = uuid("x");
        assert_eq!(a, uuid("x"));
        assert_ne!(a, uuid("y"));
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    }

    #[test]
    fn timestamps() {
        let t: Timestamp = "2026-04-22T12:31:00Z".parse().unwrap();
        assert_eq!(timestamp_millis(t), "2026-04-22T12:31:00.000Z");
        let d: Date = "2026-11-23".parse().unwrap();
        assert_eq!(date_timestamp(d), "2026-11-23T00:00:00.000Z");
        assert_eq!(timestamp_millis(date_start(d)), "2026-11-23T00:00:00.000Z");
    }

    #[test]
    fn one_line_collapses() {
        assert_eq!(one_line(" a\n b\t\u{7}c "), "a b c");
    }
}
