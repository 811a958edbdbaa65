//! Exports the built-in advisories and a synthetic one that uses every field, checks what can be
//! checked in Rust, then runs the reference validators (stix2-validator, sigma-cli with the Splunk
//! and Elasticsearch backends, the Sigma JSON schema, PyMISP) through `tests/validate.py`.
//!
//! The validators run from the Python named by `TAGWARDEN_PYTHON` (`scripts/test.sh` builds the
//! venv). Without it the validator test skips, unless `TAGWARDEN_REQUIRE_INTERCHANGE_CHECK=1`.

mod validator;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tagwarden_advisory::{Advisory, AdvisorySet, BUILTIN_FILES, NetworkKind};
use tagwarden_interchange::export::{misp_event, sigma_rules, stix_bundle};
use tagwarden_interchange::import::Format;

const SYNTHETIC: &str = include_str!("fixtures/synthetic-every-field.toml");

fn advisories() -> Vec<Advisory> {
    sources().into_iter().map(|(a, _)| a).collect()
}

/// The advisories with the text of their files.
fn sources() -> Vec<(Advisory, &'static str)> {
    let mut all: Vec<(Advisory, &'static str)> = BUILTIN_FILES
        .iter()
        .map(|(path, text)| {
            (
                Advisory::from_toml(path, text).expect("built-in loads"),
                *text,
            )
        })
        .collect();
    let synthetic = Advisory::from_toml("tests/fixtures/synthetic-every-field.toml", SYNTHETIC)
        .expect("synthetic advisory loads");
    all.push((synthetic, SYNTHETIC));
    assert_eq!(all.len() - 1, AdvisorySet::builtin().advisories().len());
    all
}

fn objects(bundle: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(bundle).expect("bundle is JSON");
    v["objects"].as_array().expect("objects").clone()
}

/// Every run of 64 or 128 hex digits in the text (digests, file hashes, commits are 40).
fn hex_runs(text: &str, len: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        if i - start == len {
            out.insert(text[start..i].to_ascii_lowercase());
        }
        if i == start {
            i += 1;
        }
    }
    out
}

#[test]
fn stix_is_deterministic() {
    let all = advisories();
    let refs: Vec<&Advisory> = all.iter().collect();
    assert_eq!(stix_bundle(&refs), stix_bundle(&refs));
    for a in &all {
        assert_eq!(misp_event(a), misp_event(a));
        assert_eq!(sigma_rules(a), sigma_rules(a));
    }
}

#[test]
fn stix_digests_are_exactly_the_advisorys() {
    for (a, text) in sources() {
        let bundle = stix_bundle(&[&a]);
        let objs = objects(&bundle);
        let want: BTreeSet<String> = a
            .malicious_digests
            .iter()
            .map(|d| d.digest.to_string())
            .collect();
        let got: BTreeSet<String> = objs
            .iter()
            .filter(|o| o["x_tagwarden_kind"] == "malicious_digest")
            .map(|o| {
                o["x_tagwarden_digest"]
                    .as_str()
                    .expect("digest")
                    .to_string()
            })
            .collect();
        assert_eq!(got, want, "{}", a.id);
        // Patterns hold malicious digests and file hashes only (never a known-good digest).
        let mut in_patterns: BTreeSet<String> = a
            .malicious_digests
            .iter()
            .map(|d| d.digest.hex().to_string())
            .collect();
        in_patterns.extend(a.file_hashes.iter().map(|h| h.sha256.clone()));
        let patterns: String = objs
            .iter()
            .filter_map(|o| o["pattern"].as_str())
            .collect::<Vec<_>>()
            .join("\n");
        // And nothing anywhere that the advisory file does not contain (notes and source URLs
        // may cite other hashes).
        let file_runs: BTreeSet<String> =
            [64, 128].iter().flat_map(|&n| hex_runs(text, n)).collect();
        for len in [64, 128] {
            for run in hex_runs(&patterns, len) {
                assert!(
                    in_patterns.contains(&run),
                    "{}: unexpected hash in a pattern {run}",
                    a.id
                );
            }
            for run in hex_runs(&bundle, len) {
                assert!(
                    file_runs.contains(&run),
                    "{}: hash not in the advisory {run}",
                    a.id
                );
            }
        }
        for d in &a.malicious_digests {
            let ind = objs
                .iter()
                .find(|o| o["x_tagwarden_digest"] == d.digest.to_string())
                .expect("indicator");
            assert!(
                ind["pattern"]
                    .as_str()
                    .expect("pattern")
                    .contains(d.digest.hex())
            );
            assert_eq!(ind["x_tagwarden_digest_kind"], d.kind.as_str());
            assert_eq!(ind["x_tagwarden_platform"].as_str(), d.platform.as_deref());
        }
    }
}

#[test]
fn stix_report_lists_every_indicator() {
    let all = advisories();
    let refs: Vec<&Advisory> = all.iter().collect();
    let objs = objects(&stix_bundle(&refs));
    for a in &all {
        let report = objs
            .iter()
            .find(|o| o["type"] == "report" && o["x_tagwarden_advisory_id"] == a.id.as_str())
            .expect("report");
        let listed: BTreeSet<&str> = report["object_refs"]
            .as_array()
            .expect("refs")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let indicators: BTreeSet<&str> = objs
            .iter()
            .filter(|o| o["type"] == "indicator" && o["x_tagwarden_advisory_id"] == a.id.as_str())
            .filter_map(|o| o["id"].as_str())
            .collect();
        assert_eq!(listed, indicators, "{}", a.id);
        assert_eq!(report["created"], format!("{}T00:00:00.000Z", a.updated));
    }
    // Exporting the same advisory twice does not repeat its objects.
    let twice = objects(&stix_bundle(&[&all[0], &all[0]]));
    assert_eq!(twice.len(), objects(&stix_bundle(&[&all[0]])).len());
}

#[test]
fn stix_synthetic_fields() {
    let a = advisories().pop().expect("synthetic");
    let objs = objects(&stix_bundle(&[&a]));
    let by_kind = |k: &str| objs.iter().filter(|o| o["x_tagwarden_kind"] == k).count();
    assert_eq!(by_kind("malicious_digest"), 5);
    assert_eq!(by_kind("image_exposure"), 2);
    assert_eq!(by_kind("action_tags"), 1);
    assert_eq!(by_kind("action_commits"), 2);
    assert_eq!(by_kind("network_indicator"), a.network_indicators.len());
    assert_eq!(by_kind("file_hash"), 2);
    assert_eq!(by_kind("host_artifact"), 2);
    let exposure = objs
        .iter()
        .find(|o| {
            o["x_tagwarden_kind"] == "image_exposure" && o["x_tagwarden"]["tags"][0] == "latest"
        })
        .expect("exposure");
    assert_eq!(exposure["valid_from"], "2026-06-01T10:00:00.000Z");
    assert_eq!(exposure["valid_until"], "2026-06-01T11:30:00.000Z");
    assert_eq!(
        exposure["x_tagwarden"]["window"]["start"],
        "2026-06-01T10:00:00Z"
    );
    assert_eq!(
        exposure["x_tagwarden"]["disputed_window"]["end"],
        "2026-06-01T15:00:00Z"
    );
    assert_eq!(exposure["confidence"], 90);
    let weak = objs
        .iter()
        .find(|o| o["x_tagwarden_weak"] == true && o["x_tagwarden_network_kind"] == "domain")
        .expect("weak domain");
    assert_eq!(weak["confidence"], 30);
    let disputed = objs
        .iter()
        .find(|o| o["pattern"] == "[ipv6-addr:value = '2001:db8::10']");
    assert_eq!(disputed.expect("ipv6")["confidence"], 30);
    let ua = objs
        .iter()
        .find(|o| o["x_tagwarden_network_kind"] == "user_agent")
        .expect("user agent");
    assert_eq!(
        ua["pattern"],
        "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Evil\\'Agent/1.0 (*)']"
    );
    let tags = objs
        .iter()
        .find(|o| o["x_tagwarden_kind"] == "action_tags")
        .expect("tags");
    assert_eq!(
        tags["x_tagwarden"]["tag_rules"],
        json!([{ "prefix": "v", "below": "1.2.0" }, { "prefix": "", "up_to": "0.9.9" }])
    );
    let report = objs.iter().find(|o| o["type"] == "report").expect("report");
    assert_eq!(
        report["x_tagwarden_other_indicators"][0]["value"],
        "exfil-docs"
    );
}

#[test]
fn misp_weak_values_are_not_for_ids() {
    let a = advisories().pop().expect("synthetic");
    let event: Value = serde_json::from_str(&misp_event(&a)).expect("MISP JSON");
    let attrs = event["Event"]["Attribute"].as_array().expect("attributes");
    for n in &a.network_indicators {
        let attr = attrs
            .iter()
            .find(|x| x["value"] == n.value.as_str())
            .expect("attribute");
        assert_eq!(attr["to_ids"], !n.weak, "{}", n.value);
    }
    let objects = event["Event"]["Object"].as_array().expect("objects");
    // 4 digests in 2 repositories, 1 in 1; exposures: 2 repositories x 2 tags + 1; a file
    // object per file hash.
    assert_eq!(objects.len(), 4 * 2 + 1 + 2 * 2 + 1 + a.file_hashes.len());
}

#[test]
fn sigma_rules_cover_strong_indicators() {
    let a = advisories().pop().expect("synthetic");
    let rules = sigma_rules(&a);
    let names: Vec<&str> = rules.iter().map(|r| r.file_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "synthetic-2026-06-01-dns.yml",
            "synthetic-2026-06-01-proxy.yml",
            "synthetic-2026-06-01-firewall.yml"
        ]
    );
    let text: String = rules.iter().map(|r| r.yaml.as_str()).collect();
    assert!(text.contains("- 'c2.evil.example'"));
    assert!(text.contains("- '.drop.evil.example'"));
    assert!(text.contains("- 'drop.evil.example/upload?x=1'") || text.contains("upload\\?x=1"));
    assert!(text.contains("- 'Evil''Agent/1.0 (\\*)'"));
    assert!(text.contains("- '192.0.2.10'"));
    // Weak values only appear in descriptions.
    assert!(!text.contains("- 'parked.example'"));
    assert!(!text.contains("- '198.51.100.7'"));
}

/// Values the converted Sigma queries must mention.
fn sigma_expectations(a: &Advisory) -> Vec<String> {
    a.network_indicators
        .iter()
        .filter(|n| {
            !n.weak
                && matches!(
                    n.kind,
                    NetworkKind::Domain | NetworkKind::UserAgent | NetworkKind::Ip
                )
        })
        .map(|n| n.value.clone())
        .collect()
}

#[test]
fn reference_validators_accept_the_exports() {
    let Some(python) = validator::python() else {
        return;
    };
    let work = validator::work_dir("interchange-export");
    for sub in ["stix", "misp", "sigma"] {
        std::fs::create_dir_all(work.join(sub)).expect("work dir");
    }
    let all = advisories();
    let mut sigma_expect = serde_json::Map::new();
    let mut misp_weak = serde_json::Map::new();
    let mut sigma_issues = serde_json::Map::new();
    for a in &all {
        std::fs::write(
            work.join("stix").join(format!("{}.json", a.id)),
            stix_bundle(&[a]),
        )
        .expect("write");
        let misp_name = format!("{}.json", a.id);
        std::fs::write(work.join("misp").join(&misp_name), misp_event(a)).expect("write");
        let weak: Vec<&str> = a
            .network_indicators
            .iter()
            .filter(|n| n.weak)
            .map(|n| n.value.as_str())
            .collect();
        misp_weak.insert(misp_name, json!(weak));
        let dir = work.join("sigma").join(&a.id);
        std::fs::create_dir_all(&dir).expect("sigma dir");
        let mut wildcards = false;
        for rule in sigma_rules(a) {
            std::fs::write(dir.join(&rule.file_name), &rule.yaml).expect("write");
            wildcards |= rule.yaml.contains("\\*") || rule.yaml.contains("\\?");
        }
        // sigma check flags escaped wildcards for review; they are intended where a value
        // contains `*` or `?` (the built-in advisories have none).
        let allowed: &[&str] = if wildcards {
            &["EscapedWildcardIssue"]
        } else {
            &[]
        };
        sigma_issues.insert(a.id.clone(), json!(allowed));
        sigma_expect.insert(a.id.clone(), json!(sigma_expectations(a)));
    }
    let refs: Vec<&Advisory> = all.iter().collect();
    std::fs::write(work.join("stix").join("all.json"), stix_bundle(&refs)).expect("write");
    let expectations = json!({ "sigma": sigma_expect, "sigma_allowed_issues": sigma_issues, "misp_weak": misp_weak });
    std::fs::write(work.join("expectations.json"), expectations.to_string()).expect("write");

    // An imported advisory names no repository: its MISP event must still be valid.
    let stix = tagwarden_testbed::testdata_text("formats/stix_bundle.json");
    let imported = tagwarden_interchange::import::import("stix_bundle.json", &stix, Format::Stix)
        .expect("example imports")
        .advisory;
    std::fs::write(
        work.join("misp").join("imported-without-repositories.json"),
        misp_event(&imported),
    )
    .expect("write");

    let schema = tagwarden_testbed::testdata("schemas/sigma-detection-rule-schema.json");
    validator::validate(&python, &work, Some(&schema));
}

#[test]
fn misp_keeps_digests_of_advisories_without_repositories() {
    // STIX imports give `repositories = []` (FORMAT.md allows it): every digest is still written.
    let stix = tagwarden_testbed::testdata_text("formats/stix_bundle.json");
    let a = tagwarden_interchange::import::import("stix_bundle.json", &stix, Format::Stix)
        .expect("example imports")
        .advisory;
    assert!(
        a.malicious_digests
            .iter()
            .all(|d| d.repositories.is_empty())
    );
    let event: Value = serde_json::from_str(&misp_event(&a)).expect("JSON");
    let written: BTreeSet<String> = event["Event"]["Object"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| o["name"] == "container-image")
        .flat_map(|o| o["Attribute"].as_array().expect("attributes").clone())
        .filter(|attr| attr["object_relation"] == "digest")
        .map(|attr| format!("sha256:{}", attr["value"].as_str().expect("value")))
        .collect();
    let digests: BTreeSet<String> = a
        .malicious_digests
        .iter()
        .map(|d| d.digest.to_string())
        .collect();
    assert_eq!(written, digests);
}
