//! Each log source on a fixture in its documented shape (`testdata/audit/`), gzip, and bad
//! records reported at their line and column while the rest is read.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;
use crate::Collect;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/audit")
        .join(name)
}

fn read(paths: Vec<PathBuf>) -> (Vec<AuditRecord>, Vec<Evidence>, Vec<Problem>) {
    let sink = Collect::default();
    AuditLogs::new(paths, Readers::default())
        .collect(&sink)
        .unwrap_or_else(|p| panic!("{p:?}"));
    let records = sink.audit_records();
    let (evidence, problems) = sink.into_parts();
    (records, evidence, problems)
}

fn one(name: &str) -> (Vec<AuditRecord>, Vec<Problem>) {
    let (r, _, p) = read(vec![fixture(name)]);
    (r, p)
}

#[test]
fn docker_hub_audit_log_the_kics_pushes() {
    let (r, e, p) = read(vec![fixture("dockerhub-kics-2026-04-22.json")]);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(r.len(), 8);
    assert_eq!(e.len(), 7, "pushes are evidence for hunt, deletes are not");
    assert_eq!(r[1].reference(), "checkmarx/kics:v2.1.20");
    assert_eq!(r[1].actor.as_deref(), Some("cxbuild"));
    assert_eq!(r[1].line, 4);
    assert_eq!(r[7].action, AuditAction::Delete);
    assert_eq!(r[0].log, SourceKind::DockerHubAudit);
}

#[test]
fn docker_hub_tag_api_export() {
    let (r, p) = one("dockerhub-tags.json");
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].time.to_string(), "2026-04-22T12:33:41.112Z");
    assert_eq!(r[0].actor.as_deref(), Some("cxbuild"));
    // No tag digest: the first image's.
    assert!(
        r[1].digest
            .as_ref()
            .is_some_and(|d| d.to_string().starts_with("sha256:26e8e9c5"))
    );
}

#[test]
fn harbor_audit_log() {
    let (r, p) = one("harbor-audit-logs.json");
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(r.len(), 2, "{r:#?}");
    assert_eq!(r[0].repository, "acme/app");
    assert_eq!(r[0].tag.as_deref(), Some("v1.4.0"));
    assert_eq!(r[0].token.as_deref(), Some("robot$ci-release"));
    assert_eq!(r[1].action, AuditAction::Delete);
    assert!(r[1].digest.is_some() && r[1].tag.is_none());
}

#[test]
fn cloudtrail_ecr_records_and_gzip() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let gz = dir.path().join("trail.json.gz");
    let text = std::fs::read(fixture("cloudtrail-ecr.json")).unwrap_or_else(|e| panic!("{e}"));
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap_or_else(|e| panic!("{e}")),
        flate2::Compression::default(),
    );
    enc.write_all(&text).unwrap_or_else(|e| panic!("{e}"));
    enc.finish().unwrap_or_else(|e| panic!("{e}"));
    let (r, _, p) = read(vec![gz]);
    assert!(p.is_empty(), "{p:?}");
    // The push, and the batch delete's two images; the failed call and S3 are skipped.
    assert_eq!(r.len(), 3, "{r:#?}");
    let push = &r[0];
    assert_eq!(
        push.reference(),
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/app:v1.4.0"
    );
    assert_eq!(
        push.actor.as_deref(),
        Some("arn:aws:iam::123456789012:role/kics-release")
    );
    assert_eq!(
        push.token, None,
        "a temporary key is not a credential identity"
    );
    assert_eq!(push.address.as_deref(), Some("3.120.4.20"));
    assert!(
        push.user_agent
            .as_deref()
            .is_some_and(|u| u.starts_with("aws-sdk-go"))
    );
    assert!(push.digest.is_some());
    assert_eq!(r[1].action, AuditAction::Delete);
    assert_eq!(r[1].token.as_deref(), Some("AKIAEXAMPLEDEPLOY001"));
    assert_eq!(r[2].tag, None);
}

#[test]
fn github_and_gitlab() {
    let (r, p) = one("github-audit.jsonl");
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(r.len(), 2);
    assert_eq!(
        r[0].reference(),
        "ghcr.io/acme/app@sha256:c1ae9c435032a276f80220c7d9b40f76266bbe79243d34f9cda30b76fe114dfa"
    );
    assert_eq!(r[0].token.as_deref(), Some("881234"));
    assert_eq!(r[0].address.as_deref(), Some("20.42.1.7"));
    assert_eq!(r[1].action, AuditAction::Delete);
    assert_eq!(r[1].line, 3);

    let (r, p) = one("gitlab-audit-events.json");
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(r.len(), 2, "one record per deleted tag: {r:#?}");
    assert_eq!(r[0].action, AuditAction::Delete);
    assert_eq!(r[1].reference(), "acme/app:v1.3.0-alpine");
    assert_eq!(r[0].actor.as_deref(), Some("Mallory"));
    assert_eq!(r[0].address.as_deref(), Some("94.154.172.43"));
}

#[test]
fn bad_records_are_reported_where_they_are_and_the_rest_is_read() {
    let (r, p) = one("bad-records.jsonl");
    // The push with a malformed digest is still a push of its tag.
    assert_eq!(r.len(), 3, "{r:#?}");
    assert_eq!(r[1].tag.as_deref(), Some("alpine"));
    assert_eq!(r[1].digest, None);
    let at: Vec<&str> = p
        .iter()
        .map(|p| p.location.rsplit('/').next().unwrap_or(""))
        .collect();
    assert_eq!(
        at,
        [
            "bad-records.jsonl:2:1",
            "bad-records.jsonl:3:36",
            "bad-records.jsonl:4:1",
            "bad-records.jsonl:5:1"
        ],
        "{p:#?}"
    );
    assert!(p[0].message.contains("invalid digest"), "{}", p[0].message);
    assert!(
        p[2].message.contains("no readable time"),
        "{}",
        p[2].message
    );
    assert!(p[3].message.contains("known kind"), "{}", p[3].message);
}

#[test]
fn a_cut_document_keeps_what_was_read_and_says_where() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("cut.json");
    let text = std::fs::read_to_string(fixture("dockerhub-kics-2026-04-22.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&path, &text[..text.len() / 2]).unwrap_or_else(|e| panic!("{e}"));
    let (r, p) = {
        let (r, _, p) = read(vec![path]);
        (r, p)
    };
    assert!(!r.is_empty() && r.len() < 8, "{}", r.len());
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].message.contains("invalid JSON"), "{}", p[0].message);
    assert!(p[0].location.contains("cut.json:"), "{}", p[0].location);
}

/// The fuzz target's reader on mutations of every fixture, so that CI runs a little of what
/// `scripts/fuzz.sh` runs at length: nothing may panic, and every record has a repository.
#[test]
fn the_reader_survives_mutated_fixtures() {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for entry in std::fs::read_dir(fixture("")).unwrap_or_else(|e| panic!("{e}")) {
        let seed = std::fs::read(entry.unwrap_or_else(|e| panic!("{e}")).path())
            .unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..200 {
            let mut data = seed.clone();
            for _ in 0..1 + next() % 4 {
                if data.is_empty() {
                    break;
                }
                let i = (next() as usize) % data.len();
                match next() % 3 {
                    0 => data[i] = next() as u8,
                    1 => data.truncate(i),
                    _ => data.insert(i, next() as u8),
                }
            }
            for r in fuzzing::read(&data) {
                assert!(!r.repository.is_empty() || r.log == SourceKind::GitlabAudit);
            }
        }
    }
}

#[test]
fn audit_logs_are_recognised_by_content_and_other_json_is_not() {
    use crate::recognise::{Kind, recognise};
    for name in [
        "cloudtrail-ecr.json",
        "github-audit.jsonl",
        "gitlab-audit-events.json",
        "harbor-audit-logs.json",
    ] {
        let head = std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(recognise(&head), Some(Kind::AuditLog), "{name}");
    }
    assert_ne!(
        recognise(b"{\"name\":\"x\",\"files\":[\"package.json\"]}\n"),
        Some(Kind::AuditLog)
    );
}

#[test]
fn a_huge_record_is_refused_not_held() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("huge.json");
    let mut text = String::from(
        "[{\"action\":\"repo.tag.push\",\"name\":\"a/b\",\"data\":{\"tag\":\"x\"},\"timestamp\":\"2026-04-22T12:00:00Z\"},\n{\"pad\":\"",
    );
    text.push_str(&"x".repeat(17 << 20));
    text.push_str("\"}]");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    let (r, _, p) = read(vec![path]);
    assert_eq!(r.len(), 1);
    assert!(p.iter().any(|p| p.message.contains("over 16 MiB")), "{p:?}");
}

#[test]
fn a_tag_api_page_names_its_repository_in_its_links() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("tags.json");
    let page = r#"{"count": 120, "next": "https://hub.docker.com/v2/namespaces/checkmarx/repositories/kics/tags?page=2&page_size=100", "previous": null, "results": [{"name": "v2.1.20", "repository": 4242, "digest": "sha256:2588a44890263a8185bd5d9fadb6bc9220b60245dbcbc4da35e1b62a6f8c230d", "last_updater_username": "cxbuild", "tag_last_pushed": "2026-04-22T12:33:41Z"}]}
{"count": 120, "next": null, "previous": "https://hub.docker.com/v2/repositories/checkmarx/kics/tags?page=1", "results": [{"name": "latest", "last_updater_username": "cxbuild", "tag_last_pushed": "2026-04-22T12:31:08Z"}]}
"#;
    std::fs::write(&path, page).unwrap_or_else(|e| panic!("{e}"));
    let (r, _, p) = read(vec![path]);
    assert!(p.is_empty(), "{p:?}");
    let refs: Vec<String> = r.iter().map(AuditRecord::reference).collect();
    assert_eq!(refs, ["checkmarx/kics:v2.1.20", "checkmarx/kics:latest"]);
}
