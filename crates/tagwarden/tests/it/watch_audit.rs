//! `watch` tails a folder of registry audit-log exports: the KICS replay beside a year of
//! ordinary releases alerts once per finding, a second cycle alerts nothing again, and a new
//! export with a stranger's push alerts anew.

use std::path::Path;

use serde_json::Value;
use tagwarden_testbed::testdata;

use crate::audit::ordinary_year;
use crate::common::{Run, tagwarden};

fn once(dir: &Path) -> (Run, Vec<Value>) {
    let db = format!("sqlite:{}", dir.join("w.db").display());
    let run = tagwarden(
        &["watch", "--config", "watch.toml", "--db", &db, "--once"],
        dir,
    );
    let events = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (run, events)
}

#[test]
fn watch_tails_audit_log_exports_and_alerts_once() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    ordinary_year(&exports);
    std::fs::copy(
        testdata("audit/dockerhub-kics-2026-04-22.json"),
        exports.join("kics.json"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("watch.toml"),
        "images = []\n\n[audit]\nexports = [\"exports\"]\n",
    )
    .unwrap();

    let (run, events) = once(dir.path());
    assert_eq!(run.status, 1, "{}\n{}", run.stdout, run.stderr);
    let mut rules: Vec<&str> = events
        .iter()
        .map(|e| {
            assert_eq!(e["kind"], "audit-finding", "{e}");
            e["detail"]["rule"].as_str().unwrap_or("")
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            "audit-push-burst",
            "audit-tag-overwritten",
            "audit-tag-overwritten"
        ],
        "{events:?}"
    );
    assert!(events.iter().all(|e| e["severity"] == "high"), "{events:?}");

    let (run, events) = once(dir.path());
    assert_eq!(
        (run.status, events.len()),
        (0, 0),
        "{events:?}\n{}",
        run.stderr
    );

    // A push by someone who never pushed the repository, in a new export.
    std::fs::write(
        exports.join("later.jsonl"),
        "{\"action\":\"repo.tag.push\",\"name\":\"checkmarx/kics\",\"actor\":\"mallory\",\"data\":{\"digest\":\"sha256:2588a44890263a8185bd5d9fadb6bc9220b60245dbcbc4da35e1b62a6f8c230d\",\"tag\":\"v2.1.22\"},\"timestamp\":\"2026-04-23T03:10:00Z\"}\n",
    )
    .unwrap();
    let (_, events) = once(dir.path());
    let rules: Vec<&str> = events
        .iter()
        .map(|e| e["detail"]["rule"].as_str().unwrap_or(""))
        .collect();
    assert!(rules.contains(&"audit-new-pusher"), "{events:?}");
    assert!(rules.contains(&"audit-unusual-hour"), "{events:?}");
}
