use crate::common::*;

#[test]
fn kics_latest_and_malicious_pin_are_flagged() {
    let tree = Tree::new()
        .file(
            "docker-compose.yml",
            "services:\n  iac:\n    image: checkmarx/kics:latest\n",
        )
        .file(
            ".gitlab-ci.yml",
            format!("kics:\n  image: checkmarx/kics@{KICS_LATEST_DIGEST}\n  script: [kics scan]\n"),
        );
    let (run, json) = scan_json(&tree, &[]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_eq!(json["version"], 1);
    let findings = json["findings"].as_array().unwrap();
    let digest = findings
        .iter()
        .find(|f| f["rule"] == "compromised-digest")
        .expect("compromised-digest");
    assert_eq!(digest["severity"], "critical");
    assert_eq!(digest["path"], ".gitlab-ci.yml");
    assert_eq!(digest["line"], 2);
    assert_eq!(digest["column"], 10);
    assert_eq!(digest["advisory"], "kics-2026-04-22");
    let tag = findings
        .iter()
        .find(|f| f["rule"] == "affected-tag")
        .expect("affected-tag");
    assert_eq!(tag["path"], "docker-compose.yml");
    assert_eq!(tag["image"], "docker.io/checkmarx/kics:latest");

    let refs = json["references"].as_array().unwrap();
    let compose = refs
        .iter()
        .find(|r| r["path"] == "docker-compose.yml")
        .unwrap();
    assert_eq!(compose["text"], "checkmarx/kics:latest");
    assert_eq!(compose["line"], 3);
    assert_eq!(compose["column"], 12);
    assert_eq!(compose["span"]["start"], 28);
    assert_eq!(compose["span"]["end"], 49);
    assert_eq!(compose["source"], "compose-image");
    assert_eq!(compose["pinned"], false);
    let gitlab = refs.iter().find(|r| r["path"] == ".gitlab-ci.yml").unwrap();
    assert_eq!(gitlab["pinned"], true);
}

#[test]
fn clean_tree_exits_zero_and_counts() {
    let tree = Tree::new().file(
        "Dockerfile",
        format!("FROM alpine:3.20@sha256:{}\nRUN true\n", "a".repeat(64)),
    );
    let (run, json) = scan_json(&tree, &[]);
    assert_eq!(run.status, 0, "{}", run.stdout);
    assert!(json["findings"].as_array().unwrap().is_empty());
    assert_eq!(
        json["references"][0]["image"],
        format!("docker.io/library/alpine:3.20@sha256:{}", "a".repeat(64))
    );
}

#[test]
fn fail_on_threshold() {
    let tree = Tree::new().file("Dockerfile", "FROM alpine\n");
    let (run, json) = scan_json(&tree, &[]);
    assert_eq!(rules(&json), ["floating-latest"]);
    assert_eq!(run.status, 0, "medium is below the default threshold");
    let (run, _) = scan_json(&tree, &["--fail-on", "medium"]);
    assert_eq!(run.status, 1);
    let run = tagwarden(&["scan", "--fail-on", "loud", "."], tree.path());
    assert_eq!(run.status, 2);
}

#[test]
fn human_output_points_at_the_reference() {
    let tree = Tree::new().file("Dockerfile", "FROM checkmarx/kics:v2.1.20 AS scan\n");
    let run = tagwarden(&["scan", "."], tree.path());
    assert_eq!(run.status, 1);
    assert!(run.stdout.contains("high[affected-tag]"), "{}", run.stdout);
    assert!(run.stdout.contains("--> Dockerfile:1:6"), "{}", run.stdout);
    assert!(
        run.stdout.contains("^^^^^^^^^^^^^^^^^^^^^^"),
        "{}",
        run.stdout
    );
}

#[test]
fn actions_are_judged_but_not_images() {
    let tree = Tree::new().file(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: aquasecurity/trivy-action@0.24.0\n      - uses: aquasecurity/trivy-action@e0198fd2b6e1679e36d32933941182d9afa82f6f\n      - uses: actions/checkout@v4\n",
    );
    let (run, json) = scan_json(&tree, &[]);
    assert_eq!(run.status, 1);
    assert!(json["references"].as_array().unwrap().is_empty());
    assert_eq!(json["actions"].as_array().unwrap().len(), 3);
    let r = rules(&json);
    assert!(r.contains(&"affected-action".to_string()), "{r:?}");
    assert!(r.contains(&"compromised-action".to_string()), "{r:?}");
    assert!(r.contains(&"unpinned-action".to_string()), "{r:?}");
}

#[test]
fn user_advisory_and_bad_advisory() {
    let good = r#"schema_version = 1
id = "acme-2026-01"
title = "acme/app tag overwritten"
summary = "test"
published = "2026-01-02"
updated = "2026-01-02"

[[sources]]
id = "s"
url = "https://example.invalid/advisory"

[[image_exposures]]
repositories = ["ghcr.io/acme/app"]
tags = ["1.0"]
window = { start = "2026-01-01T00:00:00Z", end = "2026-01-01T01:00:00Z" }
sources = ["s"]
confidence = "P"

[examples]
images_must_match = [{ ref = "ghcr.io/acme/app:1.0", verdict = "affected_tag" }]
images_must_not_match = ["ghcr.io/acme/app:2.0"]
"#;
    let tree = Tree::new()
        .file("adv/acme.toml", good)
        .file(
            "bad/bad.toml",
            "schema_version = 1\nid = \"x\"\nbogus = 1\n",
        )
        .file("src/Dockerfile", "FROM ghcr.io/acme/app:1.0\n");
    let run = tagwarden(
        &["scan", "--format", "json", "--advisories", "adv", "src"],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(rules(&run.json()).contains(&"affected-tag".to_string()));

    let run = tagwarden(
        &[
            "scan",
            "--format",
            "json",
            "--advisories",
            "bad/bad.toml",
            "src",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("bad/bad.toml:3:1"), "{}", run.stderr);
    // The scan still ran and printed its report.
    assert_eq!(run.json()["references"].as_array().unwrap().len(), 1);
}

#[test]
fn config_and_inline_ignores() {
    let tree = Tree::new()
        .file(
            "tagwarden.toml",
            "fail-on = \"low\"\n[ignore]\npaths = [\"vendor\"]\nimages = [\"redis\"]\n",
        )
        .file("vendor/Dockerfile", "FROM checkmarx/kics\n")
        .file(
            "a/Dockerfile",
            "FROM redis:7\nFROM nginx:1 # tagwarden: ignore[unpinned-image]\n",
        )
        .file("b/Dockerfile", "# tagwarden: ignore\nFROM busybox:1\n");
    let (run, json) = scan_json(&tree, &[]);
    assert_eq!(run.status, 0, "{}", run.stdout);
    assert!(
        json["findings"].as_array().unwrap().is_empty(),
        "{}",
        run.stdout
    );
    assert_eq!(json["references"].as_array().unwrap().len(), 3);

    let bad = Tree::new().file("tagwarden.toml", "[ignore]\nrules = [\"nope\"]\n");
    let run = tagwarden(&["scan", "."], bad.path());
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("tagwarden.toml:2:10"), "{}", run.stderr);
}

#[test]
fn gitignore_is_respected_unless_no_ignore() {
    let tree = Tree::new()
        .file(".gitignore", "build/\n")
        .file("build/Dockerfile", "FROM alpine:1\n")
        .file("Dockerfile", "FROM alpine:2\n");
    let (_, json) = scan_json(&tree, &[]);
    assert_eq!(json["references"].as_array().unwrap().len(), 1);
    let (_, json) = scan_json(&tree, &["--no-ignore"]);
    assert_eq!(json["references"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_files_are_notes_and_the_scan_goes_on() {
    let mut big = String::from("FROM alpine:1\n");
    big.push_str(&"# padding\n".repeat(2000));
    let tree = Tree::new()
        .file("bin/Dockerfile", b"FROM alpine\x00\x01\x02")
        .file("big/Dockerfile", big)
        .file("latin1/Dockerfile", b"# caf\xe9\nFROM alpine:3\n")
        .file(
            "broken/docker-compose.yml",
            "services:\n  a:\n    image: [unclosed\n",
        )
        .file("ok/Dockerfile", "FROM alpine:4\n");
    let (run, json) = scan_json(&tree, &["--max-file-size", "1000"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let notes = json["notes"].to_string();
    assert!(notes.contains("binary"), "{notes}");
    assert!(notes.contains("byte limit"), "{notes}");
    assert!(notes.contains("invalid UTF-8"), "{notes}");
    let images: Vec<_> = json["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["image"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        images.contains(&"docker.io/library/alpine:3".to_string()),
        "{images:?}"
    );
    assert!(
        images.contains(&"docker.io/library/alpine:4".to_string()),
        "{images:?}"
    );
    let parse = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "parse-error")
        .expect("parse-error finding");
    assert_eq!(parse["path"], "broken/docker-compose.yml");
    assert!(parse["line"].as_u64().unwrap() >= 3);
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_reported() {
    let tree = Tree::new().file("a/Dockerfile", "FROM alpine:1\n");
    std::os::unix::fs::symlink(tree.join("a"), tree.join("a/loop")).unwrap();
    let (run, json) = scan_json(&tree, &["--follow"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(json["references"].as_array().unwrap().len(), 1);
    assert!(
        json["notes"].to_string().contains("loop"),
        "{}",
        json["notes"]
    );
}

#[test]
fn invalid_reference_points_at_the_mistake() {
    let tree = Tree::new().file(
        "docker-compose.yml",
        "services:\n  a:\n    image: Nginx:1\n",
    );
    let (_, json) = scan_json(&tree, &[]);
    let f = &json["findings"][0];
    assert_eq!(f["rule"], "invalid-reference");
    assert_eq!(f["line"], 3);
    assert_eq!(f["column"], 12);
    assert!(f["message"].as_str().unwrap().contains("lowercase"));
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let tree = Tree::new()
        .file("Dockerfile", "FROM checkmarx/kics:latest\nFROM alpine\n")
        .file("k8s/pod.yaml", format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: x}}\nspec:\n  containers:\n  - name: a\n    image: checkmarx/kics@{KICS_LATEST_DIGEST}\n"));
    let run = tagwarden(&["scan", "--format", "sarif", "."], tree.path());
    assert_eq!(run.status, 1, "{}", run.stderr);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "compromised-digest"));
    let schema = tagwarden_testbed::testdata("schemas/sarif-schema-2.1.0.json");
    let out = tree.join("out.sarif");
    std::fs::write(&out, &run.stdout).unwrap();
    let check = std::process::Command::new("python3")
        .args(["-c", "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))"])
        .arg(&out)
        .arg(&schema)
        .output();
    match check {
        Ok(o) if o.status.success() => {}
        Ok(o)
            if std::env::var_os("TAGWARDEN_REQUIRE_SCHEMA_CHECK").is_none()
                && String::from_utf8_lossy(&o.stderr).contains("No module named") =>
        {
            eprintln!("SKIPPED: python3 jsonschema is not installed");
        }
        Ok(o) => panic!(
            "SARIF does not validate: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run python3: {e}"),
    }
}

#[test]
fn github_annotations() {
    let tree = Tree::new().file("Dockerfile", "FROM checkmarx/kics:alpine\n");
    let run = tagwarden(&["scan", "--format", "github", "."], tree.path());
    assert_eq!(run.status, 1);
    assert!(
        run.stdout.starts_with("::error file=Dockerfile,line=1,"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(",col=6,"), "{}", run.stdout);
    assert!(
        run.stdout.contains("title=tagwarden affected-tag::"),
        "{}",
        run.stdout
    );
}

#[test]
fn missing_path_is_a_usage_error() {
    let tree = Tree::new();
    let run = tagwarden(&["scan", "does-not-exist"], tree.path());
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("does-not-exist"));
}

#[test]
fn corpus_spans_spell_the_references() {
    let Some(corpus) = tagwarden_testbed::corpus() else {
        return;
    };
    let run = tagwarden(
        &["scan", "--format", "json", corpus.to_str().unwrap()],
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
    );
    // The corpus uses force-pushed trivy-action tags, so high findings exist.
    assert_eq!(run.status, 1, "{}", run.stderr);
    let json = run.json();
    let refs = json["references"].as_array().unwrap();
    assert!(refs.len() > 1000, "only {} references", refs.len());
    for r in refs.iter().chain(json["actions"].as_array().unwrap()) {
        let path = corpus.join(r["path"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        let (s, e) = (
            r["span"]["start"].as_u64().unwrap() as usize,
            r["span"]["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            String::from_utf8_lossy(&bytes[s..e]),
            r["text"].as_str().unwrap(),
            "{path:?}"
        );
        let line = bytes[..s].iter().filter(|&&b| b == b'\n').count() + 1;
        assert_eq!(r["line"].as_u64().unwrap() as usize, line, "{path:?}");
    }
    // Every file kind of this issue contributes.
    for source in [
        "dockerfile-from",
        "compose-image",
        "kubernetes-container",
        "helm-image",
        "kustomize-image",
        "github-container",
        "github-service",
        "github-step-uses",
        "github-action-image",
        "gitlab-image",
        "gitlab-service",
    ] {
        assert!(refs.iter().any(|r| r["source"] == source), "no {source}");
    }
    let findings = json["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| {
        f["rule"] == "affected-action"
            && f["path"]
                .as_str()
                .unwrap()
                .starts_with("github-actions/stacklok__frizbee/")
    }));
}

#[test]
fn a_file_named_on_the_command_line_keeps_its_folders_for_its_kind() {
    let wf = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    container: checkmarx/kics:latest\n    steps: [{run: 'true'}]\n";
    let tree = Tree::new().file(".github/workflows/iac.yml", wf);
    for (dir, arg) in [
        (tree.path().to_path_buf(), ".github/workflows/iac.yml"),
        (tree.join(".github/workflows"), "iac.yml"),
    ] {
        let run = tagwarden(&["scan", "--format", "json", arg], &dir);
        assert_eq!(run.status, 1, "{arg}: {}", run.stderr);
        let json = run.json();
        assert_eq!(json["summary"]["files_scanned"], 1, "{arg}");
        assert_eq!(json["references"][0]["source"], "github-container", "{arg}");
    }
}
