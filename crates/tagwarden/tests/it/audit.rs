//! `tagwarden audit` end to end: a year of ordinary Docker Hub release pushes (generated, as
//! the audit log's JSON lines) must be quiet; the KICS replay of 2026-04-22
//! (`testdata/audit/dockerhub-kics-2026-04-22.json`: five tags overwritten and two created
//! within a quarter of an hour) must be flagged, in every output format.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tagwarden_testbed::testdata;

use crate::common::{Run, tagwarden};

const GOOD: &str = "sha256:3e5a268eb8adda2e5a483c9359ddfc4cd520ab856a7076dc0b1d8784a37e2602";

/// Weekly releases from 2025-04-22 to 2026-03-03 (the last one `v2.1.20`, the March image the
/// tags were restored to), five tags each within three minutes, by `cxbuild`, between 09:00
/// and 16:59 UTC: the Docker Hub audit log as JSON lines.
pub(crate) fn ordinary_year(dir: &Path) -> PathBuf {
    let start = jiff::Timestamp::from_second(1_745_280_000).unwrap(); // 2025-04-22T00:00:00Z
    let mut lines = String::new();
    for week in 0..46i64 {
        let at = start
            + jiff::SignedDuration::from_hours(week * 7 * 24 + 9 + (week * 5) % 8)
            + jiff::SignedDuration::from_mins((week * 17) % 60);
        let version = if week == 45 {
            "v2.1.20".to_string()
        } else {
            format!("v2.0.{week}")
        };
        let tags = [
            version.clone(),
            format!("{version}-debian"),
            "latest".into(),
            "alpine".into(),
            "debian".into(),
        ];
        for (i, tag) in tags.iter().enumerate() {
            let digest = if week == 45 {
                GOOD.to_string()
            } else {
                format!(
                    "sha256:{:064x}",
                    week * 2 + i64::from(tag.contains("debian"))
                )
            };
            let time = at + jiff::SignedDuration::from_secs(40 * i as i64);
            lines.push_str(&format!(
                "{{\"account\":\"checkmarx\",\"action\":\"repo.tag.push\",\"name\":\"checkmarx/kics\",\"actor\":\"cxbuild\",\"data\":{{\"digest\":\"{digest}\",\"tag\":\"{tag}\"}},\"timestamp\":\"{time}\"}}\n"
            ));
        }
    }
    let path = dir.join("dockerhub-year.jsonl");
    std::fs::write(&path, lines).unwrap();
    path
}

/// Runs `tagwarden audit` in an empty folder (no configuration found there).
fn audit(args: &[&str]) -> Run {
    let cwd = tempfile::tempdir().unwrap();
    let mut all = vec!["audit", "--color", "never"];
    all.extend(args);
    tagwarden(&all, cwd.path())
}

fn rules(run: &Run) -> Vec<String> {
    let json: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    let mut out: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn a_year_of_releases_is_quiet_and_the_kics_replay_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let year = ordinary_year(dir.path());
    let year = year.to_str().unwrap();
    let kics = testdata("audit/dockerhub-kics-2026-04-22.json");
    let kics = kics.to_str().unwrap();

    // The year judged against itself: its last month after eleven months of baseline.
    let quiet = audit(&[year, "--baseline-to", "2026-02-01", "-f", "json"]);
    assert_eq!(quiet.status, 0, "{}\n{}", quiet.stdout, quiet.stderr);
    assert!(rules(&quiet).is_empty(), "{}", quiet.stdout);

    let flagged = audit(&[
        year,
        kics,
        "--baseline-from",
        "2025-04-22",
        "--baseline-to",
        "2026-04-01",
        "-f",
        "json",
    ]);
    assert_eq!(flagged.status, 1, "{}", flagged.stderr);
    assert_eq!(
        rules(&flagged),
        [
            "audit-push-burst",
            "audit-tag-overwritten",
            "audit-tag-overwritten"
        ],
        "{}",
        flagged.stdout
    );
    assert!(
        flagged.stdout.contains("v2.1.20-debian"),
        "{}",
        flagged.stdout
    );

    let human = audit(&[year, kics, "--baseline-to", "2026-04-01"]);
    assert_eq!(human.status, 1);
    assert!(
        human.stdout.contains("release tag checkmarx/kics:v2.1.20 pushed again with sha256:2588a4489026 by cxbuild at 2026-04-22 12:33 UTC: it pointed at sha256:3e5a268eb8ad since"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("7 tags of checkmarx/kics")
            || human.stdout.contains("6 tags of checkmarx/kics"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("= note: baseline: "),
        "{}",
        human.stdout
    );

    let sarif = audit(&[year, kics, "--baseline-to", "2026-04-01", "-f", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("dockerhub-kics-2026-04-22.json")),
        "{}",
        results[0]
    );

    let md = audit(&[year, kics, "--baseline-to", "2026-04-01", "-f", "markdown"]);
    assert!(
        md.stdout.starts_with("## Registry audit logs"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout.contains("| high | `audit-tag-overwritten` |"),
        "{}",
        md.stdout
    );
}

#[test]
fn unreadable_records_make_the_answer_incomplete() {
    let bad = testdata("audit/bad-records.jsonl");
    let run = audit(&[bad.to_str().unwrap()]);
    assert_eq!(run.status, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("bad-records.jsonl:3:36"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("not complete"), "{}", run.stderr);
    let run = audit(&["/nonexistent/audit.json"]);
    assert_eq!(run.status, 2, "{}", run.stderr);
}

#[test]
fn hunt_shows_audit_log_findings_beside_its_hits() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    ordinary_year(&logs);
    std::fs::copy(
        testdata("audit/dockerhub-kics-2026-04-22.json"),
        logs.join("kics.json"),
    )
    .unwrap();
    let run = tagwarden(
        &[
            "hunt",
            "--no-files",
            "--no-engine",
            "--audit-logs",
            logs.to_str().unwrap(),
            "-f",
            "markdown",
        ],
        dir.path(),
    );
    // The malicious digests pushed are hits; the pushes' pattern is the audit section.
    assert_eq!(run.status, 1, "{}", run.stderr);
    let section = run
        .stdout
        .split("## Registry audit logs")
        .nth(1)
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(section.contains("`audit-tag-overwritten`"), "{section}");
    assert!(section.contains("`audit-push-burst`"), "{section}");
}

#[test]
fn thresholds_come_from_the_config_and_its_mistakes_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let year = ordinary_year(dir.path());
    let kics = testdata("audit/dockerhub-kics-2026-04-22.json");
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "audit".to_string(),
            year.display().to_string(),
            kics.display().to_string(),
            "--baseline-to".into(),
            "2026-04-01".into(),
            "-f".into(),
            "json".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        tagwarden(&a, dir.path())
    };
    // Eight tags within 15 minutes before a burst: the replay's seven are not one.
    std::fs::write(
        dir.path().join("tagwarden.toml"),
        "[audit]\nburst-tags = 8\n",
    )
    .unwrap();
    let quieter = run(args(&[]));
    assert_eq!(
        rules(&quieter),
        ["audit-tag-overwritten", "audit-tag-overwritten"],
        "{}",
        quieter.stdout
    );
    std::fs::write(dir.path().join("bad.toml"), "\n[audit]\nhour-margin = 40\n").unwrap();
    let bad = run(args(&["--config", "bad.toml"]));
    assert_eq!(bad.status, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("bad.toml:3:15"), "{}", bad.stderr);
}
