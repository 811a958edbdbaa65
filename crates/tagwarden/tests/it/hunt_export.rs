//! `tagwarden hunt --format stix|misp` over a tree, CI logs and a Zeek DNS log (files only, no
//! engine): every hit is a sighting of the indicator id the advisory export gives it, weak
//! matches are marked, and the reference validators accept both exports (`validate.py` of the
//! interchange crate, from `TAGWARDEN_PYTHON`; `TAGWARDEN_REQUIRE_INTERCHANGE_CHECK=1` makes a
//! missing validator fail).

use std::path::Path;

use serde_json::{Value, json};
use tagwarden_advisory::AdvisorySet;
use tagwarden_interchange::export::stix_bundle;

use crate::common::*;

const WORKFLOW: &str = "on: push\njobs:\n  kics:\n    runs-on: ubuntu-latest\n    steps:\n      - run: docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n";

/// 2026-04-22T12:36:01Z, inside the KICS window.
const IN_WINDOW: u64 = 1_776_861_361;

fn tree() -> Tree {
    let zeek = format!(
        "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n\
         {IN_WINDOW}.5\tC1\t10.0.5.23\t40000\t10.0.0.2\t53\tudp\taudit.checkmarx.cx\t-\n\
         {}.5\tC2\t10.0.5.23\t40001\t10.0.0.2\t53\tudp\taudit.checkmarx.cx\t-\n\
         {}.5\tC3\t10.0.5.24\t40002\t10.0.0.2\t53\tudp\tparked.example\t91.195.240.123\n",
        IN_WINDOW + 60,
        IN_WINDOW + 120
    );
    Tree::new()
        .file("repo/.github/workflows/scan.yml", WORKFLOW)
        .file(
            "logs/exposed.txt",
            "2026-04-22T12:40:00.0000000Z ##[command]/usr/bin/docker pull checkmarx/kics:latest\n",
        )
        .file(
            "logs/compromised.txt",
            format!(
                "2027-04-22T10:00:00.0000000Z ##[command]/usr/bin/docker pull checkmarx/kics:latest\n\
                 2027-04-22T10:00:00.0000000Z Digest: {KICS_LATEST_DIGEST}\n"
            ),
        )
        .file(
            "logs/action.txt",
            "2026-03-19T18:01:20.9615234Z Download action repository 'aquasecurity/trivy-action@0.24.0' (SHA:e0198fd2b6e1679e36d32933941182d9afa82f6f)\n",
        )
        .file("net/dns.log", zeek)
}

fn hunt(tree: &Tree, format: &str) -> Run {
    tagwarden(
        &[
            "hunt",
            "repo",
            "--no-engine",
            "--ci-logs",
            "logs",
            "--network-logs",
            "net",
            "--format",
            format,
        ],
        tree.path(),
    )
}

/// The id `stix_bundle` gives the advisory's indicator for what a hunt JSON hit matched.
fn advisory_indicator_id(set: &AdvisorySet, hit: &Value) -> String {
    let advisory = set
        .get(hit["advisory"].as_str().unwrap())
        .expect("a built-in advisory");
    let bundle: Value = serde_json::from_str(&stix_bundle(&[advisory])).unwrap();
    let matched = hit["indicator"].as_str().unwrap();
    let found = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "indicator")
        .find(|o| match o["x_tagwarden_kind"].as_str().unwrap() {
            "malicious_digest" => o["x_tagwarden_digest"] == matched,
            "image_exposure" => {
                let Some((repo, tag)) = matched.rsplit_once(':') else {
                    return false;
                };
                o["x_tagwarden"]["repositories"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(repo))
                    && o["x_tagwarden"]["tags"]
                        .as_array()
                        .unwrap()
                        .contains(&json!(tag))
            }
            "action_commits" => o["x_tagwarden"]["commits"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| matched.contains(c.as_str().unwrap())),
            "network_indicator" => o["pattern"]
                .as_str()
                .unwrap()
                .ends_with(&format!(" = '{matched}']")),
            _ => false,
        })
        .unwrap_or_else(|| panic!("no indicator for {hit}"));
    found["id"].as_str().unwrap().to_string()
}

#[test]
fn stix_sightings_name_the_advisory_indicators() {
    let tree = tree();
    let json_run = hunt(&tree, "json");
    assert_eq!(json_run.status, 1, "{}", json_run.stderr);
    let json = json_run.json();
    let stix_run = hunt(&tree, "stix");
    assert_eq!(stix_run.status, 1, "{}", stix_run.stderr);
    let bundle: Value = serde_json::from_str(&stix_run.stdout).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let sightings: Vec<&Value> = objects.iter().filter(|o| o["type"] == "sighting").collect();
    let set = AdvisorySet::builtin();
    let mut verdicts = std::collections::BTreeSet::new();
    for (list, weak) in [("hits", false), ("weak", true)] {
        for hit in json[list].as_array().unwrap() {
            let location = hit["location"].as_str().unwrap();
            let s = sightings
                .iter()
                .find(|s| {
                    s["x_tagwarden_matched"] == hit["indicator"]
                        && s["x_tagwarden_verdict"] == hit["verdict"]
                        && s["x_tagwarden_locations"]
                            .as_array()
                            .unwrap()
                            .contains(&json!(location))
                })
                .unwrap_or_else(|| panic!("no sighting for {hit}"));
            assert_eq!(
                s["sighting_of_ref"].as_str().unwrap(),
                advisory_indicator_id(&set, hit),
                "{hit}"
            );
            assert_eq!(s["x_tagwarden_weak"] == true, weak, "{hit}");
            assert_eq!(s["x_tagwarden_source"], hit["source"]);
            match hit["timestamp"].as_str() {
                Some(_) => assert!(s.get("first_seen").is_some(), "{s}"),
                None => assert!(s.get("first_seen").is_none(), "{s}"),
            }
            verdicts.insert(hit["verdict"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(
        verdicts.into_iter().collect::<Vec<_>>(),
        ["compromised", "contacted", "exposed"]
    );
    // The two queries from 10.0.5.23 are one sighting with a count and a time range.
    let dns = sightings
        .iter()
        .find(|s| {
            s["x_tagwarden_matched"] == "audit.checkmarx.cx"
                && s["x_tagwarden_source"] == "zeek-dns"
        })
        .unwrap();
    assert_eq!(dns["count"], 2);
    assert_eq!(dns["first_seen"], "2026-04-22T12:36:01.500Z");
    assert_eq!(dns["last_seen"], "2026-04-22T12:37:01.500Z");
    let host = objects
        .iter()
        .find(|o| o["id"] == dns["where_sighted_refs"][0])
        .unwrap();
    assert_eq!(host["name"], "10.0.5.23");
    // The workflow's `docker run` line, at no known time.
    let file = sightings
        .iter()
        .find(|s| s["x_tagwarden_source"] == "file")
        .unwrap();
    assert!(
        file["description"]
            .as_str()
            .unwrap()
            .contains("Time unknown"),
        "{file}"
    );
}

#[test]
fn misp_and_output_file_pass_the_validators() {
    let tree = tree();
    let run = tagwarden(
        &[
            "hunt",
            "repo",
            "--no-engine",
            "--ci-logs",
            "logs",
            "--network-logs",
            "net",
            "--format",
            "misp",
            "--output",
            "hunt-misp.json",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let misp: Value =
        serde_json::from_str(&std::fs::read_to_string(tree.join("hunt-misp.json")).unwrap())
            .unwrap();
    let event = &misp["Event"];
    assert!(
        event["info"]
            .as_str()
            .unwrap()
            .starts_with("tagwarden hunt 20")
    );
    let attrs = event["Attribute"].as_array().unwrap();
    let digest = attrs.iter().find(|a| a["type"] == "sha256").unwrap();
    assert_eq!(
        digest["value"],
        KICS_LATEST_DIGEST.trim_start_matches("sha256:")
    );
    assert_eq!(digest["Sighting"][0]["type"], "0");
    let weak = attrs
        .iter()
        .find(|a| a["value"] == "91.195.240.123")
        .unwrap();
    assert_eq!(weak["to_ids"], false);
    assert!(weak.get("Sighting").is_none());

    let stix = hunt(&tree, "stix");
    // A clean hunt exports an empty but valid bundle and exits 0.
    let clean = Tree::new().file("repo/Dockerfile", "FROM alpine:3.20\n");
    let clean_run = tagwarden(
        &["hunt", "repo", "--no-engine", "--format", "stix"],
        clean.path(),
    );
    assert_eq!(clean_run.status, 0, "{}", clean_run.stderr);
    let clean_bundle: Value = serde_json::from_str(&clean_run.stdout).unwrap();
    assert!(
        !clean_bundle["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["type"] == "sighting")
    );

    let python = match std::env::var("TAGWARDEN_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            assert!(
                std::env::var("TAGWARDEN_REQUIRE_INTERCHANGE_CHECK").as_deref() != Ok("1"),
                "TAGWARDEN_REQUIRE_INTERCHANGE_CHECK=1 but TAGWARDEN_PYTHON is not set"
            );
            eprintln!("SKIPPED: set TAGWARDEN_PYTHON to a Python with the validators");
            return;
        }
    };
    let work = tree.join("validate");
    for sub in ["stix", "misp"] {
        std::fs::create_dir_all(work.join(sub)).unwrap();
    }
    std::fs::write(work.join("stix/hunt.json"), &stix.stdout).unwrap();
    std::fs::write(work.join("stix/clean.json"), &clean_run.stdout).unwrap();
    std::fs::copy(tree.join("hunt-misp.json"), work.join("misp/hunt.json")).unwrap();
    std::fs::write(
        work.join("expectations.json"),
        json!({ "misp_weak": { "hunt.json": ["91.195.240.123", "checkmarx.cx"] } }).to_string(),
    )
    .unwrap();
    let validate =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tagwarden-interchange/tests/validate.py");
    let out = std::process::Command::new(python)
        .arg(validate)
        .arg(&work)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "validators failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all interchange checks passed"), "{stdout}");
}
