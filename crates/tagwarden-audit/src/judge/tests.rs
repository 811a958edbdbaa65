//! The judge on records built in code: a year of ordinary releases must be quiet, and the
//! KICS pattern (2026-04-22: five tags overwritten and two created within a quarter of an
//! hour, with a credential and from an address never seen) must be flagged.

use jiff::{SignedDuration, Timestamp};
use tagwarden_evidence::SourceKind;

use super::*;

const GOOD: &str = "sha256:3e5a268eb8adda2e5a483c9359ddfc4cd520ab856a7076dc0b1d8784a37e2602";
const EVIL: &str = "sha256:2588a44890263a8185bd5d9fadb6bc9220b60245dbcbc4da35e1b62a6f8c230d";
const EVIL_DEBIAN: &str = "sha256:222e6bfed0f3bb1937bf5e719a2342871ccd683ff1c0cb967c8e31ea58beaf7b";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// A digest made from a number, for the ordinary releases.
fn digest(n: u64) -> Digest {
    Digest::parse(&format!("sha256:{n:064x}")).unwrap_or_else(|e| panic!("{e}"))
}

#[allow(clippy::too_many_arguments)]
fn push(
    time: Timestamp,
    tag: &str,
    digest: Digest,
    actor: &str,
    token: &str,
    address: &str,
    line: u64,
) -> AuditRecord {
    AuditRecord {
        log: SourceKind::CloudTrail,
        action: AuditAction::Push,
        registry: Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com".into()),
        repository: "checkmarx/kics".into(),
        tag: Some(tag.into()),
        digest: Some(digest),
        actor: Some(actor.into()),
        token: Some(token.into()),
        address: Some(address.into()),
        user_agent: None,
        time,
        location: "trail.json".into(),
        line,
        excerpt: String::new(),
    }
}

/// A year of weekly releases (2025-04-22 – 2026-04-21), each pushing five tags within three
/// minutes between 09:00 and 16:59 UTC, by the release role with its key, from CI runners in
/// one /16.
fn ordinary_year() -> Vec<AuditRecord> {
    let start = ts("2025-04-22T00:00:00Z");
    let mut out = Vec::new();
    for week in 0..52u64 {
        let at = start
            + SignedDuration::from_hours((week * 7 * 24 + 9 + (week * 5) % 8) as i64)
            + SignedDuration::from_mins(((week * 17) % 60) as i64);
        let version = format!("v2.0.{week}");
        let tags = [
            version.clone(),
            format!("{version}-debian"),
            "latest".into(),
            "alpine".into(),
            "debian".into(),
        ];
        for (i, tag) in tags.iter().enumerate() {
            let d = digest(week * 2 + u64::from(tag.contains("debian")));
            let ip = format!("3.120.{}.{}", week % 200, 10 + i);
            out.push(push(
                at + SignedDuration::from_secs(40 * i as i64),
                tag,
                d,
                "arn:aws:iam::123456789012:role/kics-release",
                "AKIAKICSRELEASE00001",
                &ip,
                out.len() as u64 + 1,
            ));
        }
    }
    // v2.1.20 and its variants, released on 2026-03-03 as the last ordinary release.
    let at = ts("2026-03-03T10:12:00Z");
    for (i, (tag, d)) in [
        ("v2.1.20", GOOD),
        ("v2.1.20-debian", GOOD),
        ("latest", GOOD),
        ("alpine", GOOD),
    ]
    .iter()
    .enumerate()
    {
        out.push(push(
            at + SignedDuration::from_secs(30 * i as i64),
            tag,
            Digest::parse(d).unwrap_or_else(|e| panic!("{e}")),
            "arn:aws:iam::123456789012:role/kics-release",
            "AKIAKICSRELEASE00001",
            "3.120.4.20",
            10_000 + i as u64,
        ));
    }
    out
}

fn period() -> Period {
    Period {
        from: Some(ts("2025-04-22T00:00:00Z")),
        to: Some(ts("2026-03-20T00:00:00Z")),
    }
}

#[test]
fn a_year_of_ordinary_releases_is_quiet() {
    let year = ordinary_year();
    let j = judge(&year, period(), &Thresholds::default());
    assert!(j.findings.is_empty(), "{:#?}", j.findings);
    assert!(j.judged_pushes > 0 && j.baseline_pushes > 200);
    // Without a period: the last seven days are judged against what came before.
    let j = judge(&year, Period::default(), &Thresholds::default());
    assert!(j.findings.is_empty(), "{:#?}", j.findings);
}

#[test]
fn the_kics_pattern_is_flagged_with_what_it_was_compared_with() {
    let mut records = ordinary_year();
    let at = ts("2026-04-22T12:31:00Z");
    let evil = |tag: &str| {
        if tag.contains("debian") {
            EVIL_DEBIAN
        } else {
            EVIL
        }
    };
    for (i, tag) in [
        "latest",
        "v2.1.20",
        "v2.1.20-debian",
        "alpine",
        "debian",
        "v2.1.21",
        "v2.1.21-debian",
    ]
    .iter()
    .enumerate()
    {
        records.push(push(
            at + SignedDuration::from_secs(120 * i as i64),
            tag,
            Digest::parse(evil(tag)).unwrap_or_else(|e| panic!("{e}")),
            "arn:aws:iam::123456789012:role/kics-release",
            "AKIASTOLENNEWKEY0001",
            "94.154.172.43",
            20_000 + i as u64,
        ));
    }
    let j = judge(&records, period(), &Thresholds::default());
    let rules: Vec<&str> = j.findings.iter().map(|f| f.rule.id).collect();
    let count = |id: &str| rules.iter().filter(|r| **r == id).count();
    assert_eq!(count("audit-tag-overwritten"), 2, "{rules:?}");
    assert_eq!(count("audit-push-burst"), 1, "{rules:?}");
    assert_eq!(count("audit-new-token"), 1, "{rules:?}");
    assert_eq!(count("audit-new-pusher"), 1, "{rules:?}");
    assert_eq!(count("audit-new-address"), 1, "{rules:?}");
    assert_eq!(count("audit-unusual-hour"), 0, "{rules:?}");
    let overwritten = j
        .findings
        .iter()
        .find(|f| f.rule.id == "audit-tag-overwritten")
        .unwrap_or_else(|| panic!("{rules:?}"));
    assert!(
        overwritten.reference.ends_with(":v2.1.20"),
        "{overwritten:?}"
    );
    assert!(
        overwritten.message.contains("since 2026-03-03 10:12 UTC"),
        "{}",
        overwritten.message
    );
    let burst = j
        .findings
        .iter()
        .find(|f| f.rule.id == "audit-push-burst")
        .unwrap_or_else(|| panic!("{rules:?}"));
    assert!(burst.message.starts_with("7 tags"), "{}", burst.message);
    assert!(
        burst.message.contains("v2.1.21-debian"),
        "{}",
        burst.message
    );
    assert!(
        burst
            .baseline
            .contains("at most 5 tag(s) within 15 minutes"),
        "{}",
        burst.baseline
    );
    let address = j
        .findings
        .iter()
        .find(|f| f.rule.id == "audit-new-address")
        .unwrap_or_else(|| panic!("{rules:?}"));
    assert!(
        address.baseline.contains("3.120.0.0/16"),
        "{}",
        address.baseline
    );
}

#[test]
fn a_new_pusher_at_night_and_a_repository_without_history() {
    let mut records = ordinary_year();
    let mut night = push(
        ts("2026-04-01T03:10:00Z"),
        "v2.2.0",
        digest(999),
        "arn:aws:iam::123456789012:user/mallory",
        "AKIAKICSRELEASE00001",
        "3.120.9.9",
        30_000,
    );
    records.push(night.clone());
    night.repository = "acme/new".into();
    night.line += 1;
    records.push(night);
    let j = judge(&records, period(), &Thresholds::default());
    let rules: Vec<(&str, &str)> = j
        .findings
        .iter()
        .map(|f| (f.rule.id, f.repository.as_str()))
        .collect();
    assert!(
        rules.contains(&(
            "audit-new-pusher",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkmarx/kics"
        )),
        "{rules:?}"
    );
    assert!(
        rules.iter().any(|r| r.0 == "audit-unusual-hour"),
        "{rules:?}"
    );
    // Nothing to compare the new repository with: said in a note, not guessed.
    assert!(
        rules.iter().all(|r| !r.1.ends_with("acme/new")),
        "{rules:?}"
    );
    assert!(
        j.notes.iter().any(|n| n.contains("acme/new")),
        "{:?}",
        j.notes
    );
    let f = j.findings[0].finding();
    assert_eq!(f.location.path, "trail.json");
    assert!(f.notes[0].starts_with("baseline: "));
}

#[test]
fn a_long_term_key_after_a_year_of_temporary_ones_is_news() {
    // Releases by a role with temporary keys: CloudTrail names no credential identity for them.
    let mut records: Vec<AuditRecord> = ordinary_year()
        .into_iter()
        .map(|mut r| {
            r.token = None;
            r
        })
        .collect();
    records.push(push(
        ts("2026-04-22T12:31:00Z"),
        "v2.1.21",
        digest(4242),
        "arn:aws:iam::123456789012:role/kics-release",
        "AKIASTOLENNEWKEY0001",
        "3.120.4.21",
        40_000,
    ));
    let j = judge(&records, period(), &Thresholds::default());
    let rules: Vec<&str> = j.findings.iter().map(|f| f.rule.id).collect();
    assert_eq!(rules, ["audit-new-token"], "{:#?}", j.findings);
    // The same push in a log the baseline never read (no GitLab records in it): not news.
    let mut gitlab = records.pop().unwrap_or_else(|| panic!("pushed"));
    gitlab.log = SourceKind::GitlabAudit;
    records.push(gitlab);
    let j = judge(&records, period(), &Thresholds::default());
    assert!(j.findings.iter().all(|f| f.rule.id != "audit-new-token"));
}
