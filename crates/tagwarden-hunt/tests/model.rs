//! The model as the commands that read a hunt see it: built, written, read back.
#![allow(clippy::unwrap_used)]

use tagwarden_advisory::NetworkKind;
use tagwarden_hunt::{
    Answer, Hit, Matched, Outcome, Problem, SourceKind, SourceRun, SourceStatus, Verdict, json,
};

fn hit(verdict: Verdict, matched: Matched, line: Option<u64>, ts: Option<&str>) -> Hit {
    Hit {
        advisory: "kics-2026-04-22".into(),
        verdict,
        source: SourceKind::Squid,
        location: "logs/127.0.0.1:5000/access.log".into(),
        line,
        timestamp: ts.map(|t| t.parse().unwrap()),
        matched,
        host: Some("10.0.5.23".into()),
        job: None,
        detail: "traffic to \"audit.checkmarx.cx\"\n".into(),
        excerpt: Some("CONNECT audit.checkmarx.cx:443".into()),
    }
}

fn domain(v: &str) -> Matched {
    Matched::Network {
        kind: NetworkKind::Domain,
        value: v.into(),
    }
}

fn ip(v: &str) -> Matched {
    Matched::Network {
        kind: NetworkKind::Ip,
        value: v.into(),
    }
}

fn sample() -> Outcome {
    let t = Some("2026-04-22T12:36:01Z");
    let digest = "sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0";
    let mut engine = hit(
        Verdict::Compromised,
        Matched::Digest(digest.parse().unwrap()),
        None,
        None,
    );
    engine.source = SourceKind::Engine;
    engine.location = "/run/podman/podman.sock".into();
    let hits = vec![
        engine,
        hit(Verdict::Contacted, domain("audit.checkmarx.cx"), Some(7), t),
        hit(Verdict::Contacted, ip("94.154.172.43"), Some(7), t),
        // The same again: counted once.
        hit(Verdict::Contacted, ip("94.154.172.43"), Some(7), t),
        hit(
            Verdict::Exposed,
            Matched::ImageTag {
                repository: "docker.io/checkmarx/kics".into(),
                tag: "latest".into(),
            },
            Some(2),
            Some("2026-04-22T12:31:00Z"),
        ),
        hit(
            Verdict::Compromised,
            Matched::ActionCommit {
                repository: "aquasecurity/trivy-action".into(),
                git_ref: "0.24.0".into(),
                commit: "e0198fd2b6e1679e36d32933941182d9afa82f6f".into(),
            },
            Some(1),
            None,
        ),
        hit(
            Verdict::Exposed,
            Matched::ActionTag {
                repository: "aquasecurity/trivy-action".into(),
                git_ref: "0.24.0".into(),
            },
            Some(3),
            None,
        ),
    ];
    let weak = vec![
        // On the line that already hits: not listed again.
        hit(Verdict::Contacted, domain("checkmarx.cx"), Some(7), t),
        // Alone on its line: listed.
        hit(Verdict::Contacted, domain("checkmarx.cx"), Some(9), t),
    ];
    Outcome::new(
        hits,
        weak,
        vec![SourceRun {
            name: "network logs in logs".into(),
            status: SourceStatus::Ok,
            error: None,
            files: 1,
            bytes: 10,
            records: 9,
        }],
        vec![Problem {
            source: SourceKind::DockerPullLog,
            location: "logs/secret.log".into(),
            message: "cannot read: Permission denied (os error 13)".into(),
        }],
        vec![Problem {
            source: SourceKind::Squid,
            location: "logs/access.log".into(),
            message: "1 line(s) did not parse as squid".into(),
        }],
        12,
    )
}

#[test]
fn hits_in_timeline_order_once_each_and_grouped_by_event() {
    let o = sample();
    assert_eq!(o.hits.len(), 6);
    assert_eq!(o.weak.len(), 1);
    assert_eq!(o.weak[0].line, Some(9));
    // Known times first, in order; unknown times last.
    let times: Vec<_> = o.hits.iter().map(|h| h.timestamp).collect();
    assert!(times[..2].iter().all(Option::is_some), "{times:?}");
    assert!(times[2].is_some() && times[3..].iter().all(Option::is_none));
    let events = o.events();
    assert_eq!(events.len(), 5);
    let line7 = events
        .iter()
        .find(|e| e.first().unwrap().line == Some(7))
        .unwrap();
    assert_eq!(line7.hits.len(), 2);
    assert_eq!(line7.verdict(), Some(Verdict::Contacted));
    assert_eq!(o.answer(), Answer::Hit);
}

#[test]
fn json_round_trip() {
    let o = sample();
    let mut out = Vec::new();
    json::write(&o, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with("}\n") && text.lines().count() == 1);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"]["answer"], "hit");
    assert_eq!(v["summary"]["problems"], 1);
    let line7 = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["line"] == 7)
        .unwrap();
    assert_eq!(line7["location"], "logs/127.0.0.1:5000/access.log:7");
    assert_eq!(line7["matched"]["kind"], "domain");
    assert_eq!(line7["indicator"], "audit.checkmarx.cx");
    assert_eq!(line7["timestamp"], "2026-04-22T12:36:01Z");
    let back = json::read(&text).unwrap();
    assert_eq!(back, o);
}

#[test]
fn readers_ignore_new_keys_and_refuse_other_versions() {
    let o = sample();
    let mut out = Vec::new();
    json::write(&o, &mut out).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    v["future"] = serde_json::json!({"x": 1});
    v["hits"][0]["future"] = serde_json::json!(true);
    assert_eq!(json::read(&v.to_string()).unwrap(), o);
    v["version"] = serde_json::json!(2);
    let e = json::read(&v.to_string()).unwrap_err().to_string();
    assert!(e.contains("version 2"), "{e}");
    let e = json::read("{\"version\":1,\"hits\":[{]}")
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 1 column"), "{e}");
    v["version"] = serde_json::json!(1);
    v["hits"][0]["verdict"] = serde_json::json!("pwned");
    let e = json::read(&v.to_string()).unwrap_err().to_string();
    assert!(e.contains("unknown verdict \"pwned\""), "{e}");
}

#[test]
fn answers() {
    let clean = Outcome::new(vec![], vec![], vec![], vec![], vec![], 0);
    assert_eq!(clean.answer(), Answer::Clean);
    let mut o = sample();
    o.hits.clear();
    assert_eq!(o.answer(), Answer::Incomplete);
    o.problems.clear();
    assert_eq!(o.answer(), Answer::Clean);
    o.sources[0].status = SourceStatus::Error;
    assert_eq!(o.answer(), Answer::Incomplete);
}

#[test]
fn the_documented_example_reads() {
    let doc = include_str!("../JSON.md");
    let example = doc
        .split("## Example")
        .nth(1)
        .and_then(|s| s.split("```json\n").nth(1))
        .and_then(|s| s.split("```").next())
        .unwrap();
    let outcome = json::read(example).unwrap();
    assert_eq!(outcome.hits.len(), 2);
    assert_eq!(outcome.events().len(), 1);
    assert_eq!(outcome.hits[0].location, "proxy/access.log");
    assert_eq!(outcome.hits[0].line, Some(2));
}
