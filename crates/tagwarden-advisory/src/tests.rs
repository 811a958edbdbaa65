use tagwarden_reference::{Digest, Reference};

use super::*;

/// Obviously synthetic digests and SHAs.
const BAD_INDEX: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const BAD_AMD64: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const GOOD: &str = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
const OTHER: &str = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";
const BAD_SHA: &str = "1111111111111111111111111111111111111111";
const GOOD_SHA: &str = "2222222222222222222222222222222222222222";

/// A small valid advisory; tests replace one line to break it.
fn sample() -> String {
    format!(
        r#"schema_version = 1
id = "example-2026"
title = "Example"
summary = "An example advisory."
published = "2026-11-01"
updated = "2026-11-02"

[[sources]]
id = "vendor"
url = "https://vendor.example/advisory"

[[image_exposures]]
repositories = ["example/tool", "ghcr.io/example/tool"]
tags = ["latest", "1.2.3"]
sources = ["vendor"]
confidence = "P"

[image_exposures.window]
start = "2026-04-22T12:31:00Z"
end = "2026-04-22T12:59:59Z"

[image_exposures.disputed_window]
start = "2026-04-22T12:31:00Z"
end = "2026-04-22T15:41:31Z"
confidence = "C"

[[malicious_images]]
repositories = ["example/tool"]
tags = ["1.2.3"]
sources = ["vendor"]
confidence = "S"
digests = [
  {{ digest = "{BAD_INDEX}", kind = "index" }},
  {{ digest = "{BAD_AMD64}", kind = "manifest", platform = "linux/amd64", confidence = "C" }},
]

[[known_good_images]]
repositories = ["example/tool"]
tags = ["1.2.2"]
confirmed = false
sources = ["vendor"]
confidence = "S"
digests = [{{ digest = "{GOOD}" }}]

[[actions]]
repository = "Example/tool-action"
tags = ["stable"]
tag_rules = [{{ prefix = "", below = "0.35.0" }}]
sources = ["vendor"]
confidence = "P"

[actions.window]
start = "2026-03-19T17:43:00Z"
end = "2026-03-20T05:40:00Z"

[[actions.malicious_commits]]
shas = ["{BAD_SHA}"]
sources = ["vendor"]
confidence = "S"

[[actions.known_good_commits]]
shas = ["{GOOD_SHA}"]
sources = ["vendor"]
confidence = "P"

[[network_indicators]]
kind = "domain"
value = "audit.example[.]cx"
sources = ["vendor"]
confidence = "P2"

[[network_indicators]]
kind = "ip"
value = "192[.]0[.]2[.]1"
weak = true
sources = ["vendor"]
confidence = "P2"

[[network_indicators]]
kind = "url"
value = "hxxps://audit.example[.]cx/v1/telemetry"
sources = ["vendor"]
confidence = "P2"

[examples]
images_must_match = [
  {{ ref = "example/tool", verdict = "affected_tag" }},
  {{ ref = "example/tool@{BAD_INDEX}", verdict = "malicious_digest" }},
]
images_must_not_match = ["example/tool:1.2.2", "example/tool:latest@{GOOD}"]
actions_must_match = [{{ ref = "example/tool-action@0.24.0", verdict = "affected_tag" }}]
actions_must_not_match = ["example/tool-action@v0.24.0"]
"#
    )
}

fn load(text: &str) -> Result<Advisory, AdvisoryError> {
    Advisory::from_toml("test.toml", text)
}

fn set_of(text: &str) -> AdvisorySet {
    let mut set = AdvisorySet::empty();
    set.add(load(text).unwrap()).unwrap();
    set
}

/// 1-based (line, column) of the first occurrence of `needle` in `text`.
fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Loads `text`, expects an error at the first occurrence of `at` whose message contains `says`.
#[track_caller]
fn assert_error(text: &str, at: &str, says: &str) {
    let err = load(text).unwrap_err();
    assert_eq!(
        (err.line, err.column),
        position_of(text, at),
        "wrong position for {err}"
    );
    assert!(err.message.contains(says), "message {:?}", err.message);
    assert!(err.to_string().starts_with("test.toml:"));
}

fn image(set: &AdvisorySet, r: &str) -> Vec<ImageVerdict> {
    set.match_image(&Reference::parse(r).unwrap())
        .into_iter()
        .map(|m| m.verdict)
        .collect()
}

// --- loading ----------------------------------------------------------------------------------

#[test]
fn sample_loads_and_normalises() {
    let a = load(&sample()).unwrap();
    assert_eq!(a.id, "example-2026");
    assert_eq!(
        a.image_exposures[0].repositories,
        ["docker.io/example/tool", "ghcr.io/example/tool"]
    );
    assert_eq!(a.malicious_digests.len(), 2);
    let amd64 = &a.malicious_digests[1];
    assert_eq!(amd64.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(amd64.provenance.confidence, Confidence::Conflicting);
    assert!(amd64.provenance.disputed, "C implies disputed");
    assert!(!a.malicious_digests[0].provenance.disputed);
    assert_eq!(a.malicious_digests[0].provenance.sources, ["vendor"]);
    let values: Vec<&str> = a
        .network_indicators
        .iter()
        .map(|n| n.value.as_str())
        .collect();
    assert_eq!(
        values,
        [
            "audit.example.cx",
            "192.0.2.1",
            "https://audit.example.cx/v1/telemetry"
        ]
    );
    assert!(a.network_indicators[1].weak);
    let w = &a.image_exposures[0];
    assert_eq!(w.window.provenance.confidence, Confidence::Primary);
    let dw = w.disputed_window.as_ref().unwrap();
    assert!(dw.provenance.disputed);
    assert_eq!(dw.provenance.confidence, Confidence::Conflicting);
    assert!(!a.known_good_digests[0].confirmed);
    assert_eq!(a.known_good_digests[0].kind, None);
}

#[test]
fn error_bad_digest_points_at_the_value() {
    let text = sample().replace(
        &format!("{{ digest = \"{BAD_AMD64}\""),
        "{ digest = \"sha256:abc\"",
    );
    assert_error(&text, "\"sha256:abc\"", "64 hex characters");
    let text = sample().replace(GOOD, "sha256:CCCC");
    assert_error(&text, "\"sha256:CCCC\"", "invalid digest");
}

#[test]
fn error_unknown_key_points_at_the_key() {
    let text = sample().replace("confirmed = false", "confirmed = false\nconfirmd = true");
    assert_error(&text, "confirmd", "unknown field `confirmd`");
    let text = sample().replace("kind = \"index\" }", "kind = \"index\", weak = true }");
    assert_error(&text, "weak = true }", "unknown field `weak`");
    let text = sample().replace("title = \"Example\"", "title = \"Example\"\nseverity = 9");
    assert_error(&text, "severity", "unknown field");
}

#[test]
fn error_syntax() {
    let text = sample().replace("id = \"example-2026\"", "id = = \"example-2026\"");
    let err = load(&text).unwrap_err();
    assert_eq!(err.line, 2);
    assert_eq!(err.column, 6);
    let err = load("schema_version = 1\nid = \"x\n").unwrap_err();
    assert_eq!(err.line, 2);
}

#[test]
fn error_wrong_types_and_enums() {
    let text = sample().replace("confirmed = false", "confirmed = \"no\"");
    assert_error(&text, "\"no\"", "invalid type");
    let text = sample().replacen(
        "confidence = \"S\"\ndigests",
        "confidence = \"Q\"\ndigests",
        1,
    );
    assert_error(&text, "\"Q\"", "unknown variant `Q`");
    let text = sample().replace("kind = \"index\"", "kind = \"layer\"");
    assert_error(&text, "\"layer\"", "unknown variant");
    let text = sample().replace("weak = true", "weak = \"yes\"");
    assert_error(&text, "\"yes\"", "invalid type");
}

#[test]
fn error_timestamps_and_windows() {
    let text = sample().replace("2026-04-22T12:59:59Z", "2026-04-22T12:59:59+02:00");
    assert_error(&text, "\"2026-04-22T12:59:59+02:00\"", "trailing Z");
    let text = sample().replace("2026-04-22T12:59:59Z", "2026-04-32T12:59:59Z");
    assert_error(&text, "\"2026-04-32T12:59:59Z\"", "invalid timestamp");
    let text = sample().replace(
        "end = \"2026-04-22T12:59:59Z\"",
        "end = \"2026-04-22T12:00:00Z\"",
    );
    assert_error(&text, "\"2026-04-22T12:00:00Z\"", "not after its start");
    let text = sample().replace("updated = \"2026-11-02\"", "updated = \"2026-10-01\"");
    assert_error(&text, "\"2026-10-01\"", "before published");
    let text = sample().replace("published = \"2026-11-01\"", "published = \"1 Nov 2026\"");
    assert_error(&text, "\"1 Nov 2026\"", "YYYY-MM-DD");
}

#[test]
fn error_bad_repository() {
    let text = sample().replace("\"ghcr.io/example/tool\"", "\"ghcr.io/Example/Tool\"");
    assert_error(&text, "\"ghcr.io/Example/Tool\"", "invalid repository");
    let text = sample().replace("\"ghcr.io/example/tool\"", "\"ghcr.io/example/tool:1\"");
    assert_error(&text, "\"ghcr.io/example/tool:1\"", "without tag or digest");
    let text = sample().replace(
        "repository = \"Example/tool-action\"",
        "repository = \"tool\"",
    );
    assert_error(&text, "\"tool\"", "owner/repo");
}

#[test]
fn error_values() {
    let text = sample().replace("audit.example[.]cx\"", "audit..example\"");
    assert_error(&text, "\"audit..example\"", "not a domain name");
    let text = sample().replace("192[.]0[.]2[.]1", "192.0.2");
    assert_error(&text, "\"192.0.2\"", "not an IPv4");
    let text = sample().replace(&format!("[\"{BAD_SHA}\"]"), "[\"1111111\"]");
    assert_error(&text, "\"1111111\"", "full commit SHA");
    let text = sample().replace("platform = \"linux/amd64\", ", "");
    assert_error(&text, "\"manifest\"", "needs platform");
    let text = sample().replace(
        "kind = \"index\"",
        "kind = \"index\", platform = \"linux/amd64\"",
    );
    assert_error(&text, "\"linux/amd64\" }", "only kind = \"manifest\"");
    let text = sample().replace(
        "tags = [\"latest\", \"1.2.3\"]",
        "tags = [\"latest\", \"-x\"]",
    );
    assert_error(&text, "\"-x\"", "invalid tag");
    let text = sample().replace("below = \"0.35.0\"", "below = \"0.35.x\"");
    assert_error(&text, "\"0.35.x\"", "invalid version");
    let text = sample().replace("below = \"0.35.0\"", "below = \"1\", up_to = \"2\"");
    assert_error(&text, "{ prefix", "exactly one of");
}

#[test]
fn error_sources() {
    let text = sample().replace(
        "sources = [\"vendor\"]\nconfidence = \"P\"\n\n[image",
        "sources = [\"vender\"]\nconfidence = \"P\"\n\n[image",
    );
    assert_error(&text, "\"vender\"", "unknown source");
    let text = sample().replace(
        "url = \"https://vendor.example/advisory\"",
        "url = \"ftp://vendor.example\"",
    );
    assert_error(&text, "\"ftp://vendor.example\"", "http(s) URL");
    let text = sample().replace("url = \"https://vendor.example/advisory\"\n", "");
    assert_error(&text, "\"vendor\"", "needs a url");
    let text = sample().replace(
        "sources = [\"vendor\"]\nconfidence = \"S\"\ndigests",
        "sources = []\nconfidence = \"S\"\ndigests",
    );
    assert_error(
        &text,
        "[]\nconfidence = \"S\"\ndigests",
        "at least one source",
    );
}

#[test]
fn error_duplicates() {
    let text = sample().replace(GOOD, BAD_INDEX);
    let err = load(&text).unwrap_err();
    assert!(
        err.message.contains("already listed (as malicious)"),
        "{err}"
    );
    assert_eq!(err.line, position_of(&text, "[{ digest").0);
    let text = sample().replace(GOOD_SHA, BAD_SHA);
    assert!(load(&text).unwrap_err().message.contains("listed twice"));
}

#[test]
fn error_missing_field_and_examples() {
    let text = sample().replace("title = \"Example\"\n", "");
    let err = load(&text).unwrap_err();
    assert!(err.message.contains("missing field `title`"), "{err}");
    assert_eq!((err.line, err.column), (1, 1));
    let cut = sample().find("[examples]").unwrap();
    let text = &sample()[..cut];
    assert_error(text, "\"example-2026\"", "[examples]");
    let text = sample().replace(
        "images_must_not_match = [\"example/tool:1.2.2\", \"example/tool:latest@",
        "images_must_not_match = [\"Example/Tool\", \"example/tool:latest@",
    );
    assert_error(&text, "\"Example/Tool\"", "invalid image reference");
    let text = sample().replace(
        "[\"example/tool-action@v0.24.0\"]",
        "[\"tool-action@v0.24.0\"]",
    );
    assert_error(&text, "\"tool-action@v0.24.0\"", "owner/repo@ref");
}

#[test]
fn error_display() {
    let e = AdvisoryError {
        path: "advisories/x.toml".into(),
        line: 3,
        column: 7,
        message: "boom".into(),
    };
    assert_eq!(e.to_string(), "advisories/x.toml:3:7: boom");
}

#[test]
fn columns_count_characters() {
    let text = sample().replace("title = \"Example\"", "title = \"Exämple\"\nbogus = \"é\"");
    let err = load(&text).unwrap_err();
    assert_eq!((err.line, err.column), position_of(&text, "bogus"));
    let text = "title = \"é\" bogus";
    assert_eq!(
        crate::line_column(text, text.find("bogus").unwrap()),
        (1, 13)
    );
}

#[test]
fn hostile_input_does_not_panic() {
    for text in [
        "",
        "\u{0}",
        "[[[[",
        &"[".repeat(100_000),
        &"a = [".repeat(50_000),
        &format!("x = \"{}\"", "a".repeat(1_000_000)),
    ] {
        assert!(load(text).is_err());
    }
}

// --- matching ---------------------------------------------------------------------------------

#[test]
fn unpinned_affected_tag() {
    let set = set_of(&sample());
    for r in [
        "example/tool",
        "example/tool:latest",
        "docker.io/example/tool:1.2.3",
        "index.docker.io/example/tool",
        "ghcr.io/example/tool:latest",
    ] {
        let v = image(&set, r);
        assert_eq!(v.len(), 1, "{r}: {v:?}");
        let ImageVerdict::AffectedTag {
            repository,
            window,
            disputed_window,
            ..
        } = &v[0]
        else {
            panic!("{r}: {v:?}");
        };
        assert!(repository.ends_with("example/tool"));
        assert_eq!(window.start.to_string(), "2026-04-22T12:31:00Z");
        assert_eq!(
            disputed_window.unwrap().end.to_string(),
            "2026-04-22T15:41:31Z"
        );
    }
    for r in [
        "example/tool:1.2.2",
        "example/tool:LATEST",
        "quay.io/example/tool:latest",
        "example/tool2:latest",
    ] {
        assert!(image(&set, r).is_empty(), "{r}");
    }
}

#[test]
fn pinned_references_are_judged_by_digest() {
    let set = set_of(&sample());
    // Index and platform manifest both match, in any repository and whatever the tag.
    for r in [
        format!("example/tool@{BAD_INDEX}"),
        format!("example/tool:1.2.2@{BAD_INDEX}"),
        format!("mirror.example/cache/tool@{BAD_INDEX}"),
    ] {
        let v = image(&set, &r);
        assert!(
            matches!(&v[..], [ImageVerdict::MaliciousDigest { kind, disputed: false, confidence, tags, .. }]
                if kind == "index" && confidence == "S" && tags == &["1.2.3"]),
            "{r}: {v:?}"
        );
    }
    let v = image(&set, &format!("example/tool@{BAD_AMD64}"));
    assert!(
        matches!(&v[..], [ImageVerdict::MaliciousDigest { kind, platform: Some(p), disputed: true, confidence, .. }]
            if kind == "manifest" && p == "linux/amd64" && confidence == "C"),
        "{v:?}"
    );
    // An affected tag pinned to a good digest: no affected-tag verdict, a known-good one.
    assert_eq!(
        image(&set, &format!("example/tool:latest@{GOOD}")),
        [ImageVerdict::KnownGood {
            digest: GOOD.to_string(),
            confirmed: false
        }]
    );
    // Pinned to an unknown digest: nothing to say.
    assert!(image(&set, &format!("example/tool:latest@{OTHER}")).is_empty());
}

#[test]
fn match_digest_any_repository() {
    let set = set_of(&sample());
    let d = Digest::parse(BAD_AMD64).unwrap();
    let m = set.match_digest(&d);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].advisory_id, "example-2026");
    assert_eq!(m[0].advisory_title, "Example");
    assert!(set.match_digest(&Digest::parse(OTHER).unwrap()).is_empty());
}

#[test]
fn actions() {
    let set = set_of(&sample());
    let kinds = |repo: &str, r: &str| -> Vec<ActionVerdict> {
        set.match_action(repo, r)
            .into_iter()
            .map(|m| m.verdict)
            .collect()
    };
    assert!(matches!(
        &kinds("example/tool-action", "0.24.0")[..],
        [ActionVerdict::AffectedTag { tag, window }] if tag == "0.24.0" && window.end.to_string() == "2026-03-20T05:40:00Z"
    ));
    assert_eq!(kinds("EXAMPLE/Tool-Action", "stable").len(), 1);
    assert_eq!(
        kinds("example/tool-action/sub/dir", "refs/tags/0.1.0").len(),
        1
    );
    assert!(kinds("example/tool-action", "v0.24.0").is_empty());
    assert!(kinds("example/tool-action", "0.35.0").is_empty());
    assert!(kinds("example/other", "0.24.0").is_empty());
    assert!(kinds("tool-action", "0.24.0").is_empty());
    assert_eq!(
        kinds("example/tool-action", &BAD_SHA.to_uppercase()),
        [ActionVerdict::MaliciousCommit {
            sha: BAD_SHA.to_string(),
            confidence: "S".to_string()
        }]
    );
    // Abbreviated SHAs are ambiguous and never match.
    assert!(kinds("example/tool-action", &BAD_SHA[..12]).is_empty());
    assert_eq!(
        kinds("example/tool-action", GOOD_SHA),
        [ActionVerdict::KnownGood {
            sha: GOOD_SHA.to_string()
        }]
    );
}

#[test]
fn duplicate_ids_are_rejected() {
    let mut set = set_of(&sample());
    let second = format!("\n\n{}", sample());
    let err = set
        .add(Advisory::from_toml("other.toml", &second).unwrap())
        .unwrap_err();
    assert_eq!(err.path, "other.toml");
    assert_eq!((err.line, err.column), (4, 6));
    assert!(
        err.message.contains("already loaded from test.toml"),
        "{err}"
    );
    assert_eq!(set.advisories().len(), 1);
}

// --- self-test --------------------------------------------------------------------------------

#[test]
fn self_test_reports_wrong_examples() {
    let text = sample()
        .replace(
            "{ ref = \"example/tool\", verdict = \"affected_tag\" }",
            "{ ref = \"example/tool\", verdict = \"malicious_digest\" }",
        )
        .replace(
            "images_must_not_match = [\"example/tool:1.2.2\"",
            "images_must_not_match = [\"example/tool:1.2.3\"",
        )
        .replace(
            "actions_must_not_match = [\"example/tool-action@v0.24.0\"]",
            &format!("actions_must_not_match = [\"example/tool-action@{BAD_SHA}\"]"),
        );
    let failures = self_test(&set_of(&text));
    let messages: Vec<String> = failures
        .iter()
        .map(|f| format!("{}: {}", f.example, f.message))
        .collect();
    assert_eq!(
        messages,
        [
            "example/tool: expected malicious_digest, got affected_tag",
            "example/tool:1.2.3: must not match, got affected_tag",
            &format!("example/tool-action@{BAD_SHA}: must not match, got malicious_commit"),
        ]
    );
    assert!(self_test(&set_of(&sample())).is_empty());
}

#[test]
fn builtins_load_and_pass_their_self_tests() {
    let mut ids = Vec::new();
    for (path, text) in BUILTIN_FILES {
        let a = Advisory::from_toml(path, text).unwrap_or_else(|e| panic!("{e}"));
        ids.push(a.id.clone());
    }
    let set = AdvisorySet::builtin();
    assert_eq!(set.advisories().len(), BUILTIN_FILES.len());
    assert_eq!(
        ids,
        [
            "kics-2026-04-22",
            "kics-github-action-2026-03-23",
            "trivy-2026-03"
        ]
    );
    let failures = self_test(&set);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn builtin_ids_match_file_names() {
    for (path, text) in BUILTIN_FILES {
        let a = Advisory::from_toml(path, text).unwrap();
        assert_eq!(
            path.trim_start_matches("advisories/")
                .trim_end_matches(".toml"),
            a.id
        );
    }
}

#[test]
fn builtin_facts() {
    let set = AdvisorySet::builtin();
    let by_id = |id: &str| set.get(id).unwrap();

    let kics = by_id("kics-2026-04-22");
    assert_eq!(kics.malicious_digests.len(), 9);
    assert_eq!(kics.known_good_digests.len(), 1);
    assert!(!kics.known_good_digests[0].confirmed);
    let source = kics.source(&kics.malicious_digests[0].provenance.sources[0]);
    assert_eq!(
        source.and_then(|s| s.url.as_deref()),
        Some(
            "https://www.docker.com/blog/trivy-kics-and-the-shape-of-supply-chain-attacks-so-far-in-2026/"
        )
    );
    let weak: Vec<&str> = kics
        .network_indicators
        .iter()
        .filter(|n| n.weak)
        .map(|n| n.value.as_str())
        .collect();
    assert!(weak.contains(&"91.195.240.123") && weak.contains(&"checkmarx.cx"));
    let strong: Vec<&str> = kics
        .network_indicators
        .iter()
        .filter(|n| !n.weak)
        .map(|n| n.value.as_str())
        .collect();
    assert_eq!(
        strong,
        [
            "audit.checkmarx.cx",
            "https://audit.checkmarx.cx/v1/telemetry",
            "94.154.172.43",
            "KICS-Telemetry/2.0"
        ]
    );

    let trivy = by_id("trivy-2026-03");
    assert_eq!(trivy.malicious_digests.len(), 16);
    let disputed: Vec<String> = trivy
        .malicious_digests
        .iter()
        .filter(|d| d.provenance.disputed)
        .map(|d| d.digest.to_string())
        .collect();
    assert_eq!(
        disputed,
        ["sha256:f69a8a4180c43fc427532ddde34a256acbd041a0a07844cf7e4d3e0434e5bcd1"]
    );
    let disputed_ips: Vec<&str> = trivy
        .network_indicators
        .iter()
        .filter(|n| n.provenance.disputed)
        .map(|n| n.value.as_str())
        .collect();
    assert_eq!(disputed_ips, ["45.148.10.122"]);
    let action = &trivy.actions[0];
    assert_eq!(action.malicious_commits.len(), 75);
    assert_eq!(action.known_good_commits.len(), 1);

    // 0.69.5 was on Docker Hub only; latest on Docker Hub falls in both windows.
    assert!(image(&set, "ghcr.io/aquasecurity/trivy:0.69.5").is_empty());
    assert_eq!(image(&set, "aquasec/trivy:latest").len(), 2);
    assert_eq!(image(&set, "ghcr.io/aquasecurity/trivy").len(), 1);
}

#[test]
fn format_md_example_loads_and_passes_its_self_test() {
    let doc = include_str!("../FORMAT.md");
    let start = doc.rfind("```toml\n").unwrap() + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let a = Advisory::from_toml("FORMAT.md", &doc[start..end]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.network_indicators[0].value, "audit.example.cx");
    let mut set = AdvisorySet::empty();
    set.add(a).unwrap();
    assert!(self_test(&set).is_empty());
}

/// An imported advisory: no examples, no windows, a manifest without platform, no repositories.
fn imported_sample() -> String {
    format!(
        r#"schema_version = 1
id = "misp-0b6e5f7a"
title = "Imported"
summary = "Imported from a MISP event."
published = "2026-04-22"
updated = "2026-04-22"

[imported]
format = "misp"
file = "event.json"
document_id = "0b6e5f7a-4c1d-4e2f-9a8b-7c6d5e4f3a21"
imported = "2026-12-03"

[[sources]]
id = "document"
title = "MISP event 0b6e5f7a"

[[image_exposures]]
repositories = ["example/tool"]
tags = ["latest"]
sources = ["document"]
confidence = "S"

[[malicious_images]]
repositories = []
sources = ["document"]
confidence = "S"
digests = [{{ digest = "{BAD_AMD64}", kind = "manifest" }}]

[[actions]]
repository = "example/tool-action"
tags = ["0.24.0"]
sources = ["document"]
confidence = "S"

[actions.window]
start = "2026-03-19T17:43:00Z"
"#
    )
}

#[test]
fn imported_files_may_leave_out_examples_windows_and_repositories() {
    let a = load(&imported_sample()).unwrap();
    let info = a.imported.as_ref().unwrap();
    assert_eq!(info.format, "misp");
    assert_eq!(info.file, "event.json");
    assert_eq!(info.imported.to_string(), "2026-12-03");
    assert_eq!(a.image_exposures[0].window.value, Window::OPEN);
    assert_eq!(a.image_exposures[0].window.value.to_string(), "… – …");
    assert!(a.malicious_digests[0].repositories.is_empty());
    assert_eq!(a.malicious_digests[0].platform, None);
    let w = a.actions[0].window.value;
    assert_eq!(w.start.to_string(), "2026-03-19T17:43:00Z");
    assert_eq!(w.end, Window::OPEN.end);
    // Messages never print the made-up ends of an open window.
    assert_eq!(w.describe(), "since 2026-03-19T17:43:00Z");
    assert_eq!(Window::OPEN.describe(), "at any time");
    assert!(Window::OPEN.is_unbounded() && !w.is_unbounded());
    let until = Window {
        start: Window::OPEN.start,
        end: w.start,
    };
    assert_eq!(until.describe(), "until 2026-03-19T17:43:00Z");
    let closed = Window {
        start: w.start,
        end: "2026-03-20T05:40:00Z".parse().unwrap(),
    };
    assert_eq!(
        closed.describe(),
        "between 2026-03-19T17:43:00Z and 2026-03-20T05:40:00Z"
    );
    let mut set = AdvisorySet::empty();
    set.add(a).unwrap();
    assert!(self_test(&set).is_empty());
    assert!(matches!(
        image(&set, "example/tool")[..],
        [ImageVerdict::AffectedTag { .. }]
    ));
}

#[test]
fn only_imported_files_get_the_relaxations() {
    let hand_written = imported_sample().replace(
        "[imported]\nformat = \"misp\"\nfile = \"event.json\"\ndocument_id = \"0b6e5f7a-4c1d-4e2f-9a8b-7c6d5e4f3a21\"\nimported = \"2026-12-03\"\n",
        "",
    );
    assert_error(
        &hand_written,
        "[\"example/tool\"]",
        "missing field `window`",
    );
    let text = sample().replace("end = \"2026-04-22T12:59:59Z\"\n", "");
    let err = load(&text).unwrap_err();
    assert!(err.message.contains("missing field `end`"), "{err}");
    let text = imported_sample().replace("imported = \"2026-12-03\"", "imported = \"soon\"");
    assert_error(&text, "\"soon\"", "YYYY-MM-DD");
}

#[test]
fn example_positions_are_kept() {
    let text = sample();
    let a = load(&text).unwrap();
    assert_eq!(
        a.example_position("example/tool:1.2.2", false),
        Some(position_of(&text, "\"example/tool:1.2.2\""))
    );
    assert_eq!(a.example_position("example/tool:1.2.2", true), None);
    assert_eq!(a.example_position("nope", false), None);
}

// --- values kept out of matching, and facts listed twice ----------------------------------------

fn with_not_indicators(extra: &str) -> String {
    sample().replace("[examples]", &format!("{extra}\n[examples]"))
}

#[test]
fn not_indicators_load_normalised_and_never_match() {
    let text = with_not_indicators(&format!(
        r#"[[not_indicators]]
kind = "image_digest"
value = "{}"
reason = "MISP to_ids is false"
sources = ["vendor"]
confidence = "S"

[[not_indicators]]
kind = "domain"
value = "Clean.Example[.]com"
reason = "STIX indicator_types benign"
sources = ["vendor"]
confidence = "S"
note = "The vendor's update host."

[[not_indicators]]
kind = "registry_note"
value = "mirror.example/tool"
reason = "Internal reference"
sources = ["vendor"]
confidence = "I"
"#,
        OTHER
    ));
    let a = load(&text).unwrap();
    let kept: Vec<(&str, &str)> = a
        .not_indicators
        .iter()
        .map(|n| (n.kind.as_str(), n.value.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            ("image_digest", OTHER),
            ("domain", "clean.example.com"),
            ("registry_note", "mirror.example/tool")
        ]
    );
    assert_eq!(
        a.not_indicators[1].provenance.note.as_deref(),
        Some("The vendor's update host.")
    );
    let set = set_of(&text);
    assert!(set.match_digest(&Digest::parse(OTHER).unwrap()).is_empty());
    assert!(image(&set, &format!("example/tool@{OTHER}")).is_empty());
}

#[test]
fn not_indicators_are_checked_like_the_values_they_name() {
    let entry = |kind: &str, value: &str| {
        with_not_indicators(&format!(
            "[[not_indicators]]\nkind = \"{kind}\"\nvalue = \"{value}\"\nreason = \"r\"\nsources = [\"vendor\"]\nconfidence = \"S\"\n"
        ))
    };
    // A digest is listed once: a malicious one cannot also be kept out.
    let text = entry("image_digest", BAD_INDEX);
    let err = load(&text).unwrap_err();
    assert!(
        err.message.contains("already listed (as malicious)"),
        "{err}"
    );
    assert_eq!(
        (err.line, err.column),
        position_of(&text, &format!("\"{BAD_INDEX}\"\nreason"))
    );
    assert_error(
        &entry("image_digest", "sha256:abc"),
        "\"sha256:abc\"",
        "invalid digest",
    );
    assert_error(
        &entry("domain", "audit.example.cx"),
        "\"audit.example.cx\"\nreason",
        "also listed under network_indicators",
    );
    assert_error(&entry("file_sha256", "xyz"), "\"xyz\"", "SHA-256");
    assert_error(&entry("commit", "123"), "\"123\"", "commit SHA");
    assert_error(&entry("Bad Kind", "x"), "\"Bad Kind\"", "invalid kind");
    let text = entry("domain", "x.example").replace("reason = \"r\"", "reason = \" \"");
    assert_error(&text, "\" \"", "reason must not be empty");
}

#[test]
fn an_exposed_tag_is_listed_once_per_window() {
    let twice = sample().replace(
        "[[malicious_images]]",
        r#"[[image_exposures]]
repositories = ["docker.io/example/tool"]
tags = ["0.9", "1.2.3"]
sources = ["vendor"]
confidence = "S"

[image_exposures.window]
start = "2026-04-22T12:31:00Z"
end = "2026-04-22T12:59:59Z"

[image_exposures.disputed_window]
start = "2026-04-22T12:31:00Z"
end = "2026-04-22T15:41:31Z"

[[malicious_images]]"#,
    );
    assert_error(
        &twice,
        "\"1.2.3\"]\nsources = [\"vendor\"]\nconfidence = \"S\"\n\n[image_exposures.window]",
        "docker.io/example/tool:1.2.3 is already listed in an exposure with the same window",
    );
    // Another disputed window does not make it another fact; another window does.
    let wider = twice.replace(
        "end = \"2026-04-22T15:41:31Z\"\n\n[[malicious_images]]",
        "end = \"2026-04-22T16:00:00Z\"\n\n[[malicious_images]]",
    );
    assert_ne!(wider, twice);
    assert!(load(&wider).is_err());
    let later = twice.replace(
        "end = \"2026-04-22T12:59:59Z\"\n\n[image_exposures.disputed_window]\nstart = \"2026-04-22T12:31:00Z\"\nend = \"2026-04-22T15:41:31Z\"\n\n[[malicious_images]]",
        "end = \"2026-04-22T13:30:00Z\"\n\n[image_exposures.disputed_window]\nstart = \"2026-04-22T12:31:00Z\"\nend = \"2026-04-22T15:41:31Z\"\n\n[[malicious_images]]",
    );
    assert_ne!(later, twice);
    assert_eq!(load(&later).unwrap().image_exposures.len(), 2);
}

#[test]
fn matching_says_each_fact_once_whatever_the_source() {
    // An advisory built by other code (or an older loader) may repeat a record: one verdict.
    let mut a = load(&sample()).unwrap();
    a.image_exposures.push(a.image_exposures[0].clone());
    let mut again = a.malicious_digests[0].clone();
    again.tags = vec!["1.2.4".to_string()];
    a.malicious_digests.push(again);
    let commit = a.actions[0].malicious_commits[0].clone();
    a.actions[0].malicious_commits.push(commit);
    // The same tag and window with another disputed window: one verdict holding both.
    let mut other = a.image_exposures[0].clone();
    let d = other.disputed_window.as_mut().unwrap();
    d.value.end = "2026-04-22T18:00:00Z".parse().unwrap();
    a.image_exposures.push(other);
    let mut set = AdvisorySet::empty();
    set.add(a).unwrap();
    let v = image(&set, "example/tool:latest");
    assert!(
        matches!(&v[..], [ImageVerdict::AffectedTag { disputed_window: Some(d), .. }]
            if d.end.to_string() == "2026-04-22T18:00:00Z"),
        "{v:?}"
    );
    assert!(
        matches!(&image(&set, &format!("example/tool@{BAD_INDEX}"))[..],
            [ImageVerdict::MaliciousDigest { tags, .. }] if tags == &["1.2.3", "1.2.4"]),
        "one verdict with both tags"
    );
    assert_eq!(set.match_action("example/tool-action", BAD_SHA).len(), 1);
    // Two advisories saying the same thing are two findings: each names its advisory.
    let mut set = set_of(&sample());
    set.add(load(&sample().replace("example-2026", "example-2026-b")).unwrap())
        .unwrap();
    assert_eq!(image(&set, "example/tool:latest").len(), 2);
}
