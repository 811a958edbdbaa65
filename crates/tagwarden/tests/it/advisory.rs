//! `tagwarden advisory list|show|check|import`, and imported documents used by `scan`.

use crate::common::*;

/// An example document of `testdata/formats/`.
fn example(name: &str) -> String {
    tagwarden_testbed::testdata_text(&format!("formats/{name}"))
}

const KICS_V2120_GOOD: &str =
    "sha256:3e5a268eb8adda2e5a483c9359ddfc4cd520ab856a7076dc0b1d8784a37e2602";

#[test]
fn scan_with_an_imported_misp_event_flags_the_kics_digest() {
    let tree = Tree::new()
        .file(
            ".gitlab-ci.yml",
            format!("kics:\n  image: checkmarx/kics@{KICS_LATEST_DIGEST}\n  script: [kics scan]\n"),
        )
        .file("intel/event.json", example("misp_event.json"));
    let (run, json) = scan_json(
        &tree,
        &[
            "--no-builtin-advisories",
            "--advisories",
            "intel/event.json",
        ],
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(rules(&json), ["compromised-digest"]);
    assert_eq!(
        json["findings"][0]["advisory"],
        "misp-61af765e-943d-4957-b61e-f4c254c2cf26"
    );
    // A directory's *.json is imported too; its unmapped items are warnings, not errors.
    let tree = tree.file("intel/bundle.json", example("stix_bundle.json"));
    let (run, json) = scan_json(&tree, &["--no-builtin-advisories", "--advisories", "intel"]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(json["advisories"].as_array().unwrap().len(), 2);
    assert!(
        run.stderr
            .contains("warning: intel/bundle.json:153:5: not imported: STIX malware object"),
        "{}",
        run.stderr
    );
}

#[test]
fn list_shows_counts_and_origins() {
    let tree = Tree::new().file("event.json", example("misp_event.json"));
    let run = tagwarden(
        &[
            "advisory",
            "list",
            "--format",
            "json",
            "--advisories",
            "event.json",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    let json = run.json();
    let list = json["advisories"].as_array().unwrap();
    let kics = list.iter().find(|a| a["id"] == "kics-2026-04-22").unwrap();
    assert_eq!(kics["origin"]["kind"], "builtin");
    assert_eq!(kics["counts"]["malicious_digests"], 9);
    let misp = list.last().unwrap();
    assert_eq!(misp["origin"]["kind"], "imported");
    assert_eq!(misp["origin"]["import_format"], "misp");
    assert_eq!(misp["counts"]["network_indicators"], 5);
    let run = tagwarden(&["advisory", "list"], tree.path());
    assert!(
        run.stdout
            .contains("from built-in (advisories/trivy-2026-03.toml)"),
        "{}",
        run.stdout
    );
}

#[test]
fn show_in_every_format() {
    let tree = Tree::new();
    let run = tagwarden(&["advisory", "show", "kics-2026-04-22"], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0 index"
        )
    );
    assert!(
        run.stdout.contains("(P2: docker-blog, socket)"),
        "{}",
        run.stdout
    );
    let run = tagwarden(
        &["advisory", "show", "kics-2026-04-22", "-f", "toml"],
        tree.path(),
    );
    assert!(run.stdout.starts_with("# Malicious checkmarx/kics images"));
    let run = tagwarden(
        &["advisory", "show", "kics-2026-04-22", "-f", "json"],
        tree.path(),
    );
    let json = run.json();
    let ua = json["network_indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "user_agent")
        .unwrap();
    assert_eq!(ua["value"], "KICS-Telemetry/2.0");
    assert_eq!(ua["provenance"]["confidence"], "P2");
    assert_eq!(ua["provenance"]["sources"][0], "docker-blog");
    let run = tagwarden(&["advisory", "show", "nope"], tree.path());
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("no advisory with id \"nope\""));
}

#[test]
fn check_reports_every_file() {
    let good = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../advisories/kics-2026-04-22.toml"),
    )
    .unwrap();
    // The built-in file, with one must-not-match example that does match.
    let failing = good.replacen("\"checkmarx/kics:v2.1.19\"", "\"checkmarx/kics:alpine\"", 1);
    let broken = good.replacen("confidence = \"P2\"", "confidence = \"Z\"", 1);
    let tree = Tree::new()
        .file("good.toml", &good)
        .file("failing.toml", &failing)
        .file("broken.toml", &broken)
        .file("event.json", example("misp_event.json"))
        .file("empty.json", example("osv_minimal.json"));
    let run = tagwarden(
        &[
            "advisory",
            "check",
            "broken.toml",
            "failing.toml",
            "good.toml",
            "event.json",
            "empty.json",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("good.toml: ok (kics-2026-04-22)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("event.json: ok (misp-61af765e"),
        "{}",
        run.stdout
    );
    let line = failing
        .lines()
        .position(|l| l.trim_start().starts_with("\"checkmarx/kics:alpine\""))
        .unwrap()
        + 1;
    assert!(
        run.stderr.contains(&format!(
            "failing.toml:{line}:3: self-test: checkmarx/kics:alpine: must not match"
        )),
        "{}",
        run.stderr
    );
    let line = broken
        .lines()
        .position(|l| l.contains("confidence = \"Z\""))
        .unwrap()
        + 1;
    assert!(
        run.stderr.contains(&format!("broken.toml:{line}:14:")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("empty.json:1:1: nothing could be imported"),
        "{}",
        run.stderr
    );
    let run = tagwarden(&["advisory", "check", "good.toml"], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    let run = tagwarden(&["advisory", "check"], tree.path());
    assert_eq!(run.status, 2, "no file is a usage error");
}

#[test]
fn import_prints_or_writes_the_advisory() {
    let tree = Tree::new()
        .file("bundle.json", example("stix_bundle.json"))
        .file("vex.json", example("openvex.json"))
        .file("osv.json", example("osv_minimal.json"));
    let run = tagwarden(&["advisory", "import", "bundle.json"], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("[imported]\nformat = \"stix\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("# bundle.json:153:5: not imported: STIX malware object")
    );
    assert!(
        run.stderr
            .starts_with("bundle.json:153:5: not imported: STIX malware object"),
        "{}",
        run.stderr
    );

    let run = tagwarden(
        &[
            "advisory",
            "import",
            "--from",
            "openvex",
            "--id",
            "trivy-vex",
            "-o",
            "trivy-vex.toml",
            "vex.json",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let written = std::fs::read_to_string(tree.join("trivy-vex.toml")).unwrap();
    assert!(written.contains("id = \"trivy-vex\""));
    // The written file is an advisory like any other.
    let run = tagwarden(&["advisory", "check", "trivy-vex.toml"], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);

    let run = tagwarden(&["advisory", "import", "osv.json"], tree.path());
    assert_eq!(run.status, 1);
    assert!(
        run.stderr
            .contains("osv.json:1:1: nothing could be imported"),
        "{}",
        run.stderr
    );
    let run = tagwarden(
        &["advisory", "import", "--from", "misp", "bundle.json"],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let run = tagwarden(
        &["advisory", "import", "--from", "yaml", "bundle.json"],
        tree.path(),
    );
    assert_eq!(run.status, 2);
}

#[test]
fn an_imported_action_without_a_window_is_exposed_at_any_time() {
    // OSV gives no time: the window is open, and messages say so instead of printing 1970/9999.
    let osv = r#"{"schema_version": "1.6.0", "id": "MAL-2026-1", "modified": "2026-04-23T00:00:00Z",
      "summary": "Hijacked tag",
      "affected": [{"package": {"ecosystem": "GitHub Actions", "name": "example/tool-action"},
                    "versions": ["v1.2.3"]}]}"#;
    let tree = Tree::new()
        .file(
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: example/tool-action@v1.2.3\n",
        )
        .file("osv.json", osv);
    let (run, json) = scan_json(
        &tree,
        &["--no-builtin-advisories", "--advisories", "osv.json"],
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let text = json["findings"].to_string();
    assert!(text.contains("runs at any time executed"), "{text}");
    assert!(
        !text.contains("1970-01-01") && !text.contains("9999-12-30"),
        "{text}"
    );
}

#[test]
fn a_vendors_known_good_pin_is_never_compromised() {
    // A STIX `benign` indicator and a MISP digest with `to_ids: false`: the pin the vendor
    // recommends stays clean, and what was kept out of matching is said on stderr.
    for example_name in ["stix_known_good.json", "misp_known_good.json"] {
        let tree = Tree::new()
            .file(
                ".gitlab-ci.yml",
                format!(
                    "kics:\n  image: checkmarx/kics:v2.1.20@{KICS_V2120_GOOD}\n  script: [kics scan]\n"
                ),
            )
            .file("intel/vendor.json", example(example_name));
        let (run, json) = scan_json(
            &tree,
            &[
                "--no-builtin-advisories",
                "--advisories",
                "intel/vendor.json",
            ],
        );
        assert_eq!(run.status, 0, "{example_name}: {}", run.stderr);
        assert!(rules(&json).is_empty(), "{example_name}: {json}");
        assert!(
            run.stderr.contains("kept out of matching: image_digest")
                || run.stderr.contains("kept out of matching: domain"),
            "{example_name}: {}",
            run.stderr
        );
    }
    // `advisory show` lists the values kept out.
    let tree = Tree::new().file("vendor.json", example("misp_known_good.json"));
    let run = tagwarden(
        &[
            "advisory",
            "show",
            "misp-25efb370-a727-4679-ad00-ab8d3bc78fb7",
            "--advisories",
            "vendor.json",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Not indicators (kept out of matching):")
            && run
                .stdout
                .contains(&format!("image_digest {KICS_V2120_GOOD}")),
        "{}",
        run.stdout
    );
}

#[test]
fn two_misp_objects_for_one_tag_make_one_finding() {
    let tree = Tree::new()
        .file("Dockerfile", "FROM checkmarx/kics:alpine\n")
        .file("event.json", example("misp_event.json"));
    let (run, json) = scan_json(
        &tree,
        &["--no-builtin-advisories", "--advisories", "event.json"],
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(rules(&json), ["affected-tag"], "{json}");
}

#[test]
fn misp_export_of_a_stix_import_keeps_its_digests() {
    // STIX imports name no repository; the MISP event still carries every digest.
    let tree = Tree::new().file("bundle.json", example("stix_bundle.json"));
    let run = tagwarden(
        &["advisory", "export", "bundle.json", "--to", "misp"],
        tree.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    for digest in [
        "a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0",
        "415610a42c5b51347709e315f5efb6fffa588b6ebc1b95b24abf28088347791b",
    ] {
        assert!(run.stdout.contains(digest), "{digest}: {}", run.stdout);
    }
}
