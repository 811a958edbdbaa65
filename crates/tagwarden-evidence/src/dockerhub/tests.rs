use crate::recognise::Readers;
use std::io::Write;
use std::path::PathBuf;

use super::*;
use crate::{Collect, Evidence, ImageAction, Observed};

const KICS_LATEST: &str = "sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0";
const API_EXAMPLE_DIGEST: &str =
    "sha256:c1ae9c435032a276f80220c7d9b40f76266bbe79243d34f9cda30b76fe114dfa";

fn run_file(name: &str, content: &[u8]) -> (Vec<Evidence>, Vec<Problem>, SourceStats) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    let sink = Collect::default();
    let stats = DockerHubExports::new(vec![path], Readers::default())
        .collect(&sink)
        .unwrap();
    let (e, p) = sink.into_parts();
    (e, p, stats)
}

fn image(e: &Evidence) -> (ImageAction, Option<&str>, Option<String>) {
    match &e.observed {
        Observed::Image {
            action,
            reference,
            digest,
        } => (
            *action,
            reference.as_deref(),
            digest.as_ref().map(|d| d.to_string()),
        ),
        other => panic!("not an image: {other:?}"),
    }
}

#[test]
fn usage_csv() {
    let csv = format!(
        "datehour,user_name,repository,access_token_name,ips,repository_privacy,tag,digest,version_checks,pulls
2026/04/22/12,ci-bot,checkmarx/kics,gitlab-ci,\"203.0.113.7,203.0.113.8\",public,latest,{KICS_LATEST},1,3
2026-04-22 13:00:00,ci-bot,library/alpine,,198.51.100.1,public,3.19,,2,0
2026-04-22T14:00:00Z,,checkmarx/kics,,198.51.100.2,public,,{KICS_LATEST},0,1
not-a-date,ci-bot,,,,,,,,
"
    );
    let (e, p, stats) = run_file("usage.csv", csv.as_bytes());
    assert_eq!(stats.records, 4);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e.iter().all(|e| e.source == SourceKind::DockerHubUsage));
    assert_eq!(
        image(&e[0]),
        (
            ImageAction::Pulled,
            Some("checkmarx/kics:latest"),
            Some(KICS_LATEST.into())
        )
    );
    assert_eq!(e[0].timestamp.unwrap().to_string(), "2026-04-22T12:00:00Z");
    assert_eq!(e[0].host.as_deref(), Some("203.0.113.7, 203.0.113.8"));
    assert_eq!(e[0].job.as_deref(), Some("ci-bot (token gitlab-ci)"));
    assert_eq!(e[0].line, Some(2));
    // Version checks only: Hub answered what the tag was, nothing was fetched.
    assert_eq!(
        image(&e[1]),
        (ImageAction::Served, Some("library/alpine:3.19"), None)
    );
    assert_eq!(e[1].timestamp.unwrap().to_string(), "2026-04-22T13:00:00Z");
    assert_eq!(image(&e[2]).1, Some("checkmarx/kics"));
    assert_eq!(e[2].timestamp.unwrap().to_string(), "2026-04-22T14:00:00Z");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.contains("line 5"), "{}", p[0].message);
}

#[test]
fn usage_csv_reordered_gzipped_and_multiline() {
    let csv = format!(
        "\u{feff}Tag,Digest,Repository,IPs,DateHour\r\nv2.1.20,{KICS_LATEST},checkmarx/kics,\"203.0.113.9\n203.0.113.10\",2026/04/22/12\r\n"
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(csv.as_bytes()).unwrap();
    let (e, p, _) = run_file("usage.csv.gz", &gz.finish().unwrap());
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(e.len(), 1);
    assert_eq!(image(&e[0]).1, Some("checkmarx/kics:v2.1.20"));
    assert_eq!(e[0].host.as_deref(), Some("203.0.113.9, 203.0.113.10"));
}

#[test]
fn usage_csv_with_semicolons() {
    let csv = format!(
        "repository;tag;digest;pat_name;datehour\ncheckmarx/kics;latest;{KICS_LATEST};ci;2026/04/22/12\n"
    );
    let (e, p, _) = run_file("usage.csv", csv.as_bytes());
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(image(&e[0]).2.as_deref(), Some(KICS_LATEST));
    assert_eq!(e[0].job.as_deref(), Some("token ci"));
}

#[test]
fn not_a_usage_export() {
    let (e, p, _) = run_file("other.csv", b"a,b,c\n1,2,3\n");
    assert!(e.is_empty());
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("no repository column"));
}

#[test]
fn audit_api_page() {
    let page = format!(
        r#"{{"logs":[{{"account":"docker","action":"repo.tag.push","name":"docker/example","actor":"docker","data":{{"digest":"{API_EXAMPLE_DIGEST}","tag":"latest"}},"timestamp":"2021-02-19T01:34:35Z","action_description":"pushed the tag latest with the digest sha256:c1ae9c435032a to the repository docker/example"}},
{{"account":"docker","action":"repo.create","name":"docker/other","actor":"docker","data":{{}},"timestamp":"2021-02-19T01:30:00Z"}}]}}"#
    );
    let (e, p, stats) = run_file("audit.json", page.as_bytes());
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(stats.records, 2);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].source, SourceKind::DockerHubAudit);
    assert_eq!(
        image(&e[0]),
        (
            ImageAction::Pushed,
            Some("docker/example:latest"),
            Some(API_EXAMPLE_DIGEST.into())
        )
    );
    assert_eq!(e[0].timestamp.unwrap().to_string(), "2021-02-19T01:34:35Z");
    assert_eq!(e[0].job.as_deref(), Some("docker"));
    assert_eq!(e[0].line, Some(1));
}

#[test]
fn audit_pages_one_per_line() {
    let page = |tag: &str| {
        format!(
            r#"{{"logs":[{{"action":"repo.tag.push","name":"checkmarx/kics","data":{{"digest":"{KICS_LATEST}","tag":"{tag}"}},"timestamp":"2026-04-22T12:35:00Z"}}],"next":null}}"#
        )
    };
    let (e, p, _) = run_file(
        "pages.json",
        format!("{}\n{}\n", page("latest"), page("alpine")).as_bytes(),
    );
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(e.len(), 2);
    assert_eq!(e[1].line, Some(2));
    assert_eq!(image(&e[1]).1, Some("checkmarx/kics:alpine"));
}

#[test]
fn audit_array_and_json_lines() {
    let array = format!(
        "[\n  {{\n    \"action\": \"repo.tag.push\",\n    \"repository\": \"kics\",\n    \"namespace\": \"checkmarx\",\n    \"tag\": \"latest\",\n    \"digest\": \"{KICS_LATEST}\",\n    \"created_at\": \"2026-04-22T12:35:10Z\",\n    \"actor\": {{\"username\": \"someone\"}}\n  }},\n  42\n]\n"
    );
    let (e, p, _) = run_file("audit-array.json", array.as_bytes());
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(image(&e[0]).1, Some("checkmarx/kics:latest"));
    assert_eq!(e[0].job.as_deref(), Some("someone"));
    assert_eq!(e[0].line, Some(10));
    assert_eq!(p.len(), 1, "{p:?}");

    let lines = format!(
        "{{\"action\":\"repo.tag.push\",\"name\":\"checkmarx/kics\",\"data\":{{\"tag\":\"alpine\",\"digest\":\"{KICS_LATEST}\"}},\"timestamp\":\"2026-04-22T12:36:00Z\"}}\n\
         {{broken\n\
         {{\"action\":\"repo.tag.push\",\"name\":\"checkmarx/kics\",\"data\":{{\"tag\":\"debian\",\"digest\":\"sha256:1234\"}},\"timestamp\":\"2026-04-22T12:37:00Z\"}}\n"
    );
    let (e, p, stats) = run_file("audit.jsonl", lines.as_bytes());
    assert_eq!(stats.records, 2);
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].line, Some(1));
    assert_eq!(
        image(&e[1]),
        (ImageAction::Pushed, Some("checkmarx/kics:debian"), None)
    );
    // Each bad record at its line and column: the broken line, and the malformed digest.
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].location.ends_with("audit.jsonl:2:2"),
        "{}",
        p[0].location
    );
    assert!(
        p[1].location.ends_with("audit.jsonl:3:1"),
        "{}",
        p[1].location
    );
    assert!(p[1].message.contains("invalid digest"), "{}", p[1].message);
}

#[test]
fn truncated_audit_document_keeps_what_was_read() {
    let page = format!(
        "{{\"logs\":[{{\"action\":\"repo.tag.push\",\"name\":\"checkmarx/kics\",\"data\":{{\"tag\":\"latest\",\"digest\":\"{KICS_LATEST}\"}},\"timestamp\":\"2026-04-22T12:35:00Z\"}},\n{{\"action\":\"repo.tag.push\",\"na"
    );
    let (e, p, _) = run_file("cut.json", page.as_bytes());
    assert_eq!(e.len(), 1);
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("invalid JSON"), "{}", p[0].message);
}

#[test]
fn times() {
    let t = |s: &str| parse_time(s).map(|t| t.to_string());
    assert_eq!(t("2026/04/22/12").as_deref(), Some("2026-04-22T12:00:00Z"));
    assert_eq!(
        t("2026-04-22 12:00:00").as_deref(),
        Some("2026-04-22T12:00:00Z")
    );
    assert_eq!(
        t("2026-04-22T12:00:00+02:00").as_deref(),
        Some("2026-04-22T10:00:00Z")
    );
    assert_eq!(t("1776859200").as_deref(), Some("2026-04-22T12:00:00Z"));
    assert_eq!(t("1776859200000").as_deref(), Some("2026-04-22T12:00:00Z"));
    assert_eq!(t("2026/13/40/99"), None);
    assert_eq!(t("garbage"), None);
}

#[test]
fn unreadable_path() {
    let sink = Collect::default();
    let e = DockerHubExports::new(
        vec![PathBuf::from("/nonexistent/hub.csv")],
        Readers::default(),
    )
    .collect(&sink)
    .unwrap_err();
    assert!(e.message.contains("No such file"), "{e:?}");
}
