//! Exports a hunt result built here from the built-in advisories (every kind of hit, a weak
//! match, a feed indicator, unknown times), checks the sightings point at the indicator ids the
//! advisory export gives, then runs stix2-validator and PyMISP over the exports
//! (`tests/validate.py`, as `tests/export.rs` does).

mod validator;

use jiff::Timestamp;
use serde_json::{Value, json};
use tagwarden_advisory::{Advisory, AdvisorySet, NetworkKind};
use tagwarden_hunt::{Hit, Matched, Outcome, Problem, SourceKind, Verdict};
use tagwarden_interchange::export::{misp_hunt, stix_bundle, stix_hunt};

const GENERATED: &str = "2026-12-03T09:00:00Z";

fn ts(s: &str) -> Option<Timestamp> {
    Some(s.parse().expect("timestamp"))
}

fn hit(advisory: &str, verdict: Verdict, indicator: Matched) -> Hit {
    Hit {
        advisory: advisory.into(),
        verdict,
        matched: indicator,
        source: SourceKind::GithubActionsLog,
        location: "logs/scan.txt".into(),
        line: Some(1),
        timestamp: None,
        host: None,
        job: Some("scan".into()),
        detail: "pulled it".into(),
        excerpt: None,
    }
}

/// Hits of every kind against the built-in advisories, and a weak match.
fn hunt(set: &AdvisorySet) -> Outcome {
    let kics = set.get("kics-2026-04-22").expect("kics");
    let trivy = set.get("trivy-2026-03").expect("trivy");
    let digest = kics.malicious_digests[0].digest.clone();
    let exposure = &kics.image_exposures[0];
    let start = exposure.window.value.start;
    let in_window = start.checked_add(jiff::SignedDuration::from_mins(1)).ok();
    let tag = |t: &str| Matched::ImageTag {
        repository: exposure.repositories[0].clone(),
        tag: t.into(),
    };
    let action = trivy
        .actions
        .iter()
        .find(|a| !a.malicious_commits.is_empty())
        .expect("trivy action with commits");
    let commit = &action.malicious_commits[0];
    let strong = kics
        .network_indicators
        .iter()
        .find(|n| !n.weak && n.kind == NetworkKind::Domain)
        .expect("strong domain");
    let weak = kics
        .network_indicators
        .iter()
        .find(|n| n.weak)
        .expect("weak indicator");
    let mut hits = vec![
        // A malicious digest a year later, twice in one log: one sighting, count 2.
        Hit {
            timestamp: ts("2027-04-22T10:00:00Z"),
            detail: "pulled checkmarx/kics:latest with the malicious digest".into(),
            ..hit(
                &kics.id,
                Verdict::Compromised,
                Matched::Digest(digest.clone()),
            )
        },
        Hit {
            line: Some(7),
            timestamp: ts("2027-04-22T10:05:00Z"),
            ..hit(&kics.id, Verdict::Compromised, Matched::Digest(digest))
        },
        Hit {
            timestamp: in_window,
            location: "logs/exposed.txt".into(),
            ..hit(&kics.id, Verdict::Exposed, tag("latest"))
        },
        // A file reference: no time at all.
        Hit {
            source: SourceKind::File,
            location: ".github/workflows/scan.yml".into(),
            line: Some(12),
            job: None,
            detail: "references checkmarx/kics:alpine: exposed if it ran in the window".into(),
            ..hit(&kics.id, Verdict::Exposed, tag("alpine"))
        },
        Hit {
            timestamp: ts("2026-03-19T18:01:20Z"),
            ..hit(
                &trivy.id,
                Verdict::Compromised,
                Matched::ActionCommit {
                    repository: action.repository.clone(),
                    git_ref: "0.24.0".into(),
                    commit: commit.sha.clone(),
                },
            )
        },
        Hit {
            timestamp: action
                .window
                .value
                .start
                .checked_add(jiff::SignedDuration::from_mins(5))
                .ok(),
            ..hit(
                &trivy.id,
                Verdict::Exposed,
                Matched::ActionTag {
                    repository: action.repository.clone(),
                    git_ref: "0.20.0".into(),
                },
            )
        },
    ];
    for (i, host) in ["10.0.5.23", "10.0.5.23", "10.0.5.24"].iter().enumerate() {
        hits.push(Hit {
            source: SourceKind::ZeekDns,
            location: "net/dns.log".into(),
            line: Some(3 + i as u64),
            timestamp: in_window,
            host: Some((*host).into()),
            job: None,
            detail: format!("traffic to domain {}", strong.value),
            ..hit(
                &kics.id,
                Verdict::Contacted,
                Matched::Network {
                    kind: strong.kind,
                    value: strong.value.clone(),
                },
            )
        });
    }
    let weak = vec![Hit {
        source: SourceKind::ZeekConn,
        location: "net/conn.log".into(),
        timestamp: in_window,
        host: Some("10.0.5.23".into()),
        job: None,
        ..hit(
            &kics.id,
            Verdict::Contacted,
            Matched::Network {
                kind: weak.kind,
                value: weak.value.clone(),
            },
        )
    }];
    hits.push(Hit {
        source: SourceKind::Squid,
        location: "net/access.log".into(),
        timestamp: ts("2026-05-01T00:00:00Z"),
        host: Some("10.0.5.30".into()),
        job: None,
        ..hit(
            "feed:iocs.txt",
            Verdict::Contacted,
            Matched::Network {
                kind: NetworkKind::Domain,
                value: "feed-only.example".into(),
            },
        )
    });
    Outcome {
        hits,
        weak,
        problems: vec![Problem {
            source: SourceKind::DockerPullLog,
            location: "logs/locked.txt".into(),
            message: "cannot read: Permission denied (os error 13)".into(),
        }],
        ..Outcome::default()
    }
}

/// Every hit, then every weak match, with whether it is weak.
fn all(outcome: &Outcome) -> impl Iterator<Item = (&Hit, bool)> {
    let hits = outcome.hits.iter().map(|h| (h, false));
    hits.chain(outcome.weak.iter().map(|h| (h, true)))
}

fn objects(bundle: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(bundle).expect("bundle is JSON");
    v["objects"].as_array().expect("objects").clone()
}

/// The indicator of the advisory's own export that names what the hit matched, found by the
/// exported properties (independently of the exporter's lookup).
fn advisory_indicator(a: &Advisory, h: &Hit) -> Value {
    let objs = objects(&stix_bundle(&[a]));
    objs.into_iter()
        .filter(|o| o["type"] == "indicator")
        .find(|o| match &h.matched {
            Matched::Digest(d) => o["x_tagwarden_digest"] == d.to_string(),
            Matched::ImageTag { repository, tag } => {
                o["x_tagwarden_kind"] == "image_exposure"
                    && o["x_tagwarden"]["repositories"]
                        .as_array()
                        .is_some_and(|r| r.contains(&json!(repository)))
                    && o["x_tagwarden"]["tags"]
                        .as_array()
                        .is_some_and(|t| t.contains(&json!(tag)))
            }
            Matched::ActionCommit { commit, .. } => {
                o["x_tagwarden_kind"] == "action_commits"
                    && o["x_tagwarden"]["commits"]
                        .as_array()
                        .is_some_and(|c| c.contains(&json!(commit)))
            }
            Matched::ActionTag { repository, .. } => {
                o["x_tagwarden_kind"] == "action_tags"
                    && o["x_tagwarden"]["repositories"][0] == repository.as_str()
            }
            Matched::Network { value, .. } => {
                o["x_tagwarden_kind"] == "network_indicator"
                    && o["pattern"]
                        .as_str()
                        .is_some_and(|p| p.ends_with(&format!(" = '{value}']")))
            }
        })
        .expect("the advisory export has the indicator")
}

#[test]
fn sightings_point_at_the_advisory_indicators() {
    let set = AdvisorySet::builtin();
    let advisories: Vec<&Advisory> = set.advisories().iter().collect();
    let hits = hunt(&set);
    let generated: Timestamp = GENERATED.parse().expect("time");
    let bundle = stix_hunt(&advisories, &hits, generated);
    assert_eq!(bundle, stix_hunt(&advisories, &hits, generated));
    let objs = objects(&bundle);
    let by_id = |id: &str| objs.iter().find(|o| o["id"] == id).cloned();
    let sightings: Vec<&Value> = objs.iter().filter(|o| o["type"] == "sighting").collect();
    // Two digest lines, two hosts for the domain: 11 hits, 9 sightings.
    assert_eq!(sightings.len(), 9, "{bundle}");
    for (h, weak) in all(&hits) {
        let s = sightings
            .iter()
            .find(|s| {
                s["x_tagwarden_matched"] == h.matched.display().as_str()
                    && s["x_tagwarden_location"] == h.location.as_str()
                    && s["x_tagwarden_verdict"] == h.verdict.as_str()
                    && s["where_sighted_refs"][0]
                        .as_str()
                        .and_then(by_id)
                        .map(|p| p["name"].clone())
                        == h.host.as_ref().map(|x| json!(x))
            })
            .unwrap_or_else(|| panic!("no sighting for {h:?}"));
        let target =
            by_id(s["sighting_of_ref"].as_str().expect("ref")).expect("indicator in bundle");
        match set.get(&h.advisory) {
            Some(a) => {
                // The same object as the advisory export's, so a TIP links them.
                assert_eq!(target, advisory_indicator(a, h), "{h:?}");
            }
            None => assert_eq!(target["x_tagwarden_advisory_id"], "feed:iocs.txt"),
        }
        assert_eq!(s["x_tagwarden_source"], h.source.as_str());
        if let Some(host) = &h.host {
            let place =
                by_id(s["where_sighted_refs"][0].as_str().expect("host ref")).expect("host");
            assert_eq!(place["name"], host.as_str());
        }
        assert_eq!(s["x_tagwarden_weak"] == true, weak);
        if weak {
            assert!(
                s["description"]
                    .as_str()
                    .expect("text")
                    .starts_with("Weak signal")
            );
            assert_eq!(target["indicator_types"], json!(["anomalous-activity"]));
        } else {
            assert_eq!(target["indicator_types"], json!(["malicious-activity"]));
        }
    }
    let digest = sightings
        .iter()
        .find(|s| {
            s["x_tagwarden_verdict"] == "compromised"
                && s["x_tagwarden_location"] == "logs/scan.txt"
                && s["x_tagwarden_matched"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("sha256:"))
        })
        .expect("digest sighting");
    assert_eq!(digest["count"], 2);
    assert_eq!(digest["first_seen"], "2027-04-22T10:00:00.000Z");
    assert_eq!(digest["last_seen"], "2027-04-22T10:05:00.000Z");
    assert_eq!(
        digest["x_tagwarden_locations"],
        json!(["logs/scan.txt:1", "logs/scan.txt:7"])
    );
    assert_eq!(digest["x_tagwarden_jobs"], json!(["scan"]));
    assert_eq!(digest["created"], "2026-12-03T09:00:00.000Z");
    // What could not be read is said, about the sightings.
    let note = objs
        .iter()
        .find(|o| o["type"] == "note")
        .expect("a note on what was not searched");
    assert!(
        note["content"]
            .as_str()
            .is_some_and(|c| c.contains("logs/locked.txt") && c.contains("Permission denied")),
        "{note}"
    );
    assert_eq!(
        note["object_refs"].as_array().map(Vec::len),
        Some(sightings.len())
    );
    let file = sightings
        .iter()
        .find(|s| s["x_tagwarden_source"] == "file")
        .expect("file sighting");
    assert!(file.get("first_seen").is_none());
    assert!(
        file["description"]
            .as_str()
            .expect("text")
            .contains("Time unknown")
    );
    let dns: Vec<&&Value> = sightings
        .iter()
        .filter(|s| s["x_tagwarden_source"] == "zeek-dns")
        .collect();
    let counts: Vec<u64> = dns.iter().filter_map(|s| s["count"].as_u64()).collect();
    assert_eq!(counts.iter().sum::<u64>(), 3);
    // Only the indicators that were hit travel with the sightings.
    let indicators = objs.iter().filter(|o| o["type"] == "indicator").count();
    assert_eq!(indicators, 7);
}

#[test]
fn misp_event_lists_matched_indicators_with_sightings() {
    let set = AdvisorySet::builtin();
    let advisories: Vec<&Advisory> = set.advisories().iter().collect();
    let hits = hunt(&set);
    let generated: Timestamp = GENERATED.parse().expect("time");
    let text = misp_hunt(&advisories, &hits, generated);
    assert_eq!(text, misp_hunt(&advisories, &hits, generated));
    let event: Value = serde_json::from_str(&text).expect("MISP JSON");
    let event = &event["Event"];
    assert_eq!(event["info"], "tagwarden hunt 2026-12-03");
    assert_eq!(event["date"], "2026-12-03");
    assert_eq!(event["threat_level_id"], "1");
    let tags = event["Tag"].to_string();
    assert!(
        tags.contains("tagwarden:advisory=\\\"kics-2026-04-22\\\""),
        "{tags}"
    );
    let attrs = event["Attribute"].as_array().expect("attributes");
    assert_eq!(attrs.len(), 9);
    let unread = attrs
        .iter()
        .find(|a| a["type"] == "comment")
        .expect("what was not searched");
    assert_eq!(unread["to_ids"], false);
    assert!(
        unread["value"]
            .as_str()
            .is_some_and(|v| v.contains("logs/locked.txt")),
        "{unread}"
    );
    let kics = set.get("kics-2026-04-22").expect("kics");
    let digest = attrs
        .iter()
        .find(|a| a["type"] == "sha256")
        .expect("digest attribute");
    assert_eq!(digest["value"], kics.malicious_digests[0].digest.hex());
    assert_eq!(digest["to_ids"], true);
    let sightings = digest["Sighting"].as_array().expect("sightings");
    assert_eq!(sightings.len(), 2);
    assert_eq!(sightings[0]["type"], "0");
    assert_eq!(
        sightings[0]["date_sighting"],
        "2027-04-22T10:00:00Z"
            .parse::<Timestamp>()
            .expect("t")
            .as_second()
            .to_string()
    );
    assert!(
        sightings[0]["source"]
            .as_str()
            .expect("source")
            .contains("logs/scan.txt:1")
    );
    assert!(
        digest["comment"]
            .as_str()
            .expect("comment")
            .starts_with("compromised: advisory kics-2026-04-22")
    );
    let domain = attrs
        .iter()
        .find(|a| {
            a["type"] == "domain" && a["comment"].as_str().is_some_and(|c| c.contains("kics"))
        })
        .expect("domain");
    assert_eq!(domain["Sighting"].as_array().expect("sightings").len(), 3);
    let weak = attrs
        .iter()
        .find(|a| {
            a["comment"]
                .as_str()
                .is_some_and(|c| c.starts_with("Weak signal"))
        })
        .expect("weak");
    assert_eq!(weak["to_ids"], false);
    assert!(weak.get("Sighting").is_none());
    // Unknown time: dated when the hunt ran, and said so.
    let file = attrs
        .iter()
        .find(|a| a["value"].as_str().is_some_and(|v| v.ends_with(":alpine")))
        .expect("file hit");
    let s = &file["Sighting"][0];
    assert_eq!(s["date_sighting"], generated.as_second().to_string());
    assert!(
        s["source"]
            .as_str()
            .expect("source")
            .contains("unknown time")
    );
}

#[test]
fn reference_validators_accept_the_hunt_exports() {
    let Some(python) = validator::python() else {
        return;
    };
    let set = AdvisorySet::builtin();
    let advisories: Vec<&Advisory> = set.advisories().iter().collect();
    let hits = hunt(&set);
    let generated: Timestamp = GENERATED.parse().expect("time");
    let work = validator::work_dir("interchange-hunt-export");
    for sub in ["stix", "misp"] {
        std::fs::create_dir_all(work.join(sub)).expect("work dir");
    }
    std::fs::write(
        work.join("stix/hunt.json"),
        stix_hunt(&advisories, &hits, generated),
    )
    .expect("write");
    std::fs::write(
        work.join("misp/hunt.json"),
        misp_hunt(&advisories, &hits, generated),
    )
    .expect("write");
    let weak: Vec<String> = hits.weak.iter().map(|h| h.matched.display()).collect();
    std::fs::write(
        work.join("expectations.json"),
        json!({ "misp_weak": { "hunt.json": weak } }).to_string(),
    )
    .expect("write");
    validator::validate(&python, &work, None);
}
