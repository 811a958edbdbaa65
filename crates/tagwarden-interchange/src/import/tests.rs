use jiff::civil::date;
use tagwarden_advisory::{AdvisorySet, Confidence, DigestKind, ImageVerdict, NetworkKind};
use tagwarden_reference::Reference;

use super::*;

const KICS_LATEST: &str = "sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0";
const TRIVY_0694: &str = "sha256:27f446230c60bbf0b70e008db798bd4f33b7826f9f76f756606f5417100beef3";
const TRIVY_0693: &str = "sha256:bcc376de8d77cfe086a917230e818dc9f8528e3c852f7b1aff648949b6258d1c";

/// A shared example document, read by relative path (never copied into the project).
fn example(name: &str) -> String {
    let path = format!(
        "{}/../../../shared/formats/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn options() -> Options {
    Options {
        id: None,
        today: date(2026, 12, 3),
    }
}

fn run(name: &str, format: Format) -> Result<Imported, ImportError> {
    let text = example(name);
    import_all(
        &[Input {
            path: name,
            text: &text,
            format: Some(format),
        }],
        &options(),
    )
}

fn values(a: &tagwarden_advisory::Advisory, kind: NetworkKind) -> Vec<&str> {
    a.network_indicators
        .iter()
        .filter(|n| n.kind == kind)
        .map(|n| n.value.as_str())
        .collect()
}

#[test]
fn detects_every_example() {
    for (name, format) in [
        ("stix_bundle.json", Some(Format::Stix)),
        ("stix_minimal.json", Some(Format::Stix)),
        ("misp_event.json", Some(Format::Misp)),
        ("osv_mal_example.json", Some(Format::Osv)),
        ("osv_minimal.json", Some(Format::Osv)),
        ("openvex.json", Some(Format::OpenVex)),
        ("csaf_vex.json", Some(Format::Csaf)),
        ("csaf_minimal.json", Some(Format::Csaf)),
        ("sarif_min.json", None),
        ("zeek_blocks.json", None),
    ] {
        assert_eq!(detect(&example(name)), format, "{name}");
    }
    assert_eq!(detect("not json"), None);
    assert_eq!(detect("[]"), None);
}

#[test]
fn stix_bundle() {
    let i = run("stix_bundle.json", Format::Stix).unwrap();
    let a = &i.advisory;
    assert_eq!(a.id, "stix-5d0b9a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
    let info = a.imported.as_ref().unwrap();
    assert_eq!(info.format, "stix");
    assert_eq!(info.author.as_deref(), Some("Example IR Tool"));
    assert_eq!(info.imported, date(2026, 12, 3));
    assert_eq!(a.published, date(2026, 4, 23));
    let digests: Vec<String> = a
        .malicious_digests
        .iter()
        .map(|d| d.digest.to_string())
        .collect();
    assert_eq!(digests.len(), 3);
    assert!(digests.contains(&KICS_LATEST.to_string()));
    assert!(
        a.malicious_digests
            .iter()
            .all(|d| d.kind == DigestKind::Index)
    );
    assert_eq!(values(a, NetworkKind::Domain), ["audit.checkmarx.cx"]);
    assert_eq!(
        values(a, NetworkKind::Url),
        ["https://audit.checkmarx.cx/v1/telemetry"]
    );
    assert_eq!(values(a, NetworkKind::Ip), ["94.154.172.43"]);
    assert_eq!(values(a, NetworkKind::UserAgent), ["KICS-Telemetry/2.0"]);
    // Provenance: the bundle, third-party confidence, the indicator named in the note.
    let d = &a.malicious_digests[0];
    assert_eq!(d.provenance.confidence, Confidence::Secondary);
    let source = a.source(&d.provenance.sources[0]).unwrap();
    assert!(
        source
            .title
            .as_deref()
            .unwrap()
            .contains("bundle--5d0b9a3e"),
        "{source:?}"
    );
    assert!(
        d.provenance
            .note
            .as_deref()
            .unwrap()
            .contains("OCI index digests")
    );
    // The malware object and the five relationships are listed, with their positions.
    assert_eq!(i.unmapped.len(), 6, "{:#?}", i.unmapped);
    assert!(i.unmapped[0].message.contains("malware"));
    assert_eq!((i.unmapped[0].line, i.unmapped[0].column), (99, 9));
    assert!(i.advisory_toml.contains("# Not imported:"));
    assert!(
        i.advisory_toml
            .contains("# stix_bundle.json:99:9: not imported: STIX malware object")
    );
    // The digests are judged as the built-in advisory judges them.
    let mut set = AdvisorySet::empty();
    set.add(i.advisory).unwrap();
    let r = Reference::parse(&format!("checkmarx/kics@{KICS_LATEST}")).unwrap();
    assert!(matches!(
        set.match_image(&r)[..],
        [tagwarden_advisory::ImageMatch {
            verdict: ImageVerdict::MaliciousDigest { .. },
            ..
        }]
    ));
}

#[test]
fn stix_custom_properties_give_exposures_and_kinds() {
    let text = r#"{"type": "bundle", "id": "bundle--1", "objects": [
  {"type": "indicator", "id": "indicator--1", "name": "x", "pattern_type": "stix",
   "pattern": "[file:hashes.'SHA-256' = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb']",
   "valid_from": "2026-04-22T12:31:00Z", "confidence": 10,
   "x_tagwarden_digest_kind": "manifest", "x_tagwarden_platform": "linux/arm64",
   "x_tagwarden": {"repositories": ["checkmarx/kics"], "tags": ["latest"],
                   "window": {"start": "2026-04-22T12:31:00Z", "end": "2026-04-22T12:59:59.000Z"}}},
  {"type": "indicator", "id": "indicator--2", "name": "low", "pattern_type": "stix", "confidence": 10,
   "pattern": "[domain-name:value = 'a.example' AND url:value MATCHES 'x'] OR [ipv4-addr:value = '300.1.1.1']",
   "valid_from": "2026-04-22T12:31:00Z"},
  {"type": "indicator", "id": "indicator--3", "name": "sigma", "pattern_type": "sigma", "pattern": "x",
   "valid_from": "2026-04-22T12:31:00Z"}
]}"#;
    let i = import_all(
        &[Input {
            path: "b.json",
            text,
            format: None,
        }],
        &options(),
    )
    .unwrap();
    let a = &i.advisory;
    let d = &a.malicious_digests[0];
    assert_eq!(d.kind, DigestKind::Manifest);
    assert_eq!(d.platform.as_deref(), Some("linux/arm64"));
    assert_eq!(d.repositories, ["docker.io/checkmarx/kics"]);
    let e = &a.image_exposures[0];
    assert_eq!(e.tags, ["latest"]);
    assert_eq!(e.window.value.end.to_string(), "2026-04-22T12:59:59Z");
    let n = &a.network_indicators[0];
    assert_eq!(n.value, "a.example");
    assert!(n.weak, "STIX confidence 10 is low");
    let messages: Vec<&str> = i.unmapped.iter().map(|u| u.message.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].contains("MATCHES"));
    assert!(messages[1].contains("300.1.1.1"));
    assert!(messages[2].contains("pattern type \"sigma\""));
    // The MATCHES comparison is pointed at inside the pattern string.
    let at = text.find("url:value MATCHES").unwrap();
    assert_eq!(i.unmapped[0].line, text[..at].matches('\n').count() + 1);
}

#[test]
fn stix_minimal() {
    let i = run("stix_minimal.json", Format::Stix).unwrap();
    assert_eq!(
        values(&i.advisory, NetworkKind::UserAgent),
        ["KICS-Telemetry/2.0"]
    );
    assert!(i.unmapped.is_empty());
}

#[test]
fn misp_event() {
    let i = run("misp_event.json", Format::Misp).unwrap();
    let a = &i.advisory;
    assert_eq!(a.id, "misp-0b6e5f7a-4c1d-4e2f-9a8b-7c6d5e4f3a21");
    assert_eq!(
        a.title,
        "checkmarx/kics Docker Hub compromise (2026-04-22) - IOCs"
    );
    assert_eq!(a.published, date(2026, 4, 22));
    assert!(a.summary.contains("tlp:clear"));
    assert_eq!(values(a, NetworkKind::Domain), ["audit.checkmarx.cx"]);
    assert_eq!(values(a, NetworkKind::Ip), ["94.154.172.43"]);
    assert_eq!(values(a, NetworkKind::UserAgent), ["KICS-Telemetry/2.0"]);
    assert!(a.network_indicators.iter().all(|n| !n.weak));
    assert_eq!(
        a.network_indicators[0].provenance.note.as_deref(),
        Some("Exfil endpoint (Docker blog 2026-04-23)")
    );
    assert_eq!(
        a.file_hashes[0].sha256,
        "2a6a35f06118ff7d61bfd36a5788557b695095e7c9a609b4a01956883f146f50"
    );
    assert_eq!(
        a.file_hashes[0].description,
        "trojanized kics ELF binary (Socket)"
    );
    let d = &a.malicious_digests[0];
    assert_eq!(d.digest.to_string(), KICS_LATEST);
    assert_eq!(d.repositories, ["docker.io/checkmarx/kics"]);
    assert_eq!(d.tags, ["latest"]);
    // No window in the event: the digest only, no tag exposure.
    assert!(a.image_exposures.is_empty());
    assert!(i.unmapped.is_empty(), "{:?}", i.unmapped);
}

#[test]
fn misp_weak_windows_and_unmapped() {
    let text = r#"{"Event": {"uuid": "e1", "info": "x", "date": "2026-04-22", "Attribute": [
  {"type": "ip-dst|port", "to_ids": false, "value": "91.195.240.123|443"},
  {"type": "md5", "to_ids": true, "value": "e1023db24a29ab0229d99764e2c8deba"},
  {"type": "domain", "value": "audit.checkmarx.cx", "deleted": true}
 ], "Object": [
  {"name": "container-image", "first_seen": "2026-04-22T12:31:00+00:00", "last_seen": "2026-04-22T12:59:59Z",
   "Attribute": [
     {"object_relation": "image-name", "type": "text", "value": "checkmarx/kics"},
     {"object_relation": "tag", "type": "text", "value": "alpine"},
     {"object_relation": "digest", "type": "sha256", "value": "sha256:2588a44890263a8185bd5d9fadb6bc9220b60245dbcbc4da35e1b62a6f8c230d"}]},
  {"name": "file", "Attribute": [
     {"object_relation": "sha256", "type": "sha256", "value": "2A6A35F06118FF7D61BFD36A5788557B695095E7C9A609B4A01956883F146F50"},
     {"object_relation": "md5", "type": "md5", "value": "e1023db24a29ab0229d99764e2c8deba"},
     {"object_relation": "filename", "type": "filename", "value": "kics"}]}
 ]}}"#;
    let i = import_all(
        &[Input {
            path: "e.json",
            text,
            format: Some(Format::Misp),
        }],
        &options(),
    )
    .unwrap();
    let a = &i.advisory;
    assert_eq!(a.network_indicators.len(), 1);
    assert!(a.network_indicators[0].weak);
    assert_eq!(a.network_indicators[0].value, "91.195.240.123");
    let e = &a.image_exposures[0];
    assert_eq!(
        (e.repositories[0].as_str(), e.tags[0].as_str()),
        ("docker.io/checkmarx/kics", "alpine")
    );
    assert_eq!(e.window.value.start.to_string(), "2026-04-22T12:31:00Z");
    let f = &a.file_hashes[0];
    assert_eq!(f.md5.as_deref(), Some("e1023db24a29ab0229d99764e2c8deba"));
    assert_eq!(f.description, "kics");
    let messages: Vec<String> = i.unmapped.iter().map(|u| u.to_string()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("e.json:3:3: not imported: MISP md5 attribute"),
        "{}",
        messages[0]
    );
    assert!(messages[1].contains("deleted"));
}

#[test]
fn osv_action() {
    let i = run("osv_mal_example.json", Format::Osv).unwrap();
    let a = &i.advisory;
    assert_eq!(a.id, "osv-mal-0000-example-trivy-action");
    assert_eq!(
        a.aliases,
        [
            "MAL-0000-example-trivy-action",
            "GHSA-69fq-xp46-6x23",
            "CVE-2026-33634"
        ]
    );
    let action = &a.actions[0];
    assert_eq!(action.repository, "aquasecurity/trivy-action");
    assert_eq!(action.tags, ["0.34.2", "0.34.1", "0.34.0"]);
    assert_eq!(
        action.malicious_commits[0].sha,
        "ddb9da4475c1cef7d5389062bdfdfbdbd1394648"
    );
    assert_eq!(action.window.value, tagwarden_advisory::Window::OPEN);
    // The record and its ADVISORY reference are both cited.
    assert_eq!(action.provenance.sources.len(), 2);
    let cited = a.source(&action.provenance.sources[1]).unwrap();
    assert_eq!(
        cited.url.as_deref(),
        Some("https://github.com/aquasecurity/trivy/security/advisories/GHSA-69fq-xp46-6x23")
    );
    let mut set = AdvisorySet::empty();
    set.add(i.advisory).unwrap();
    assert!(
        !set.match_action("aquasecurity/trivy-action", "0.34.1")
            .is_empty()
    );
    assert!(
        !set.match_action(
            "aquasecurity/trivy-action",
            "ddb9da4475c1cef7d5389062bdfdfbdbd1394648"
        )
        .is_empty()
    );
    assert!(
        set.match_action("aquasecurity/trivy-action", "0.35.0")
            .is_empty()
    );
}

#[test]
fn osv_ranges_and_other_ecosystems() {
    let text = r#"{"id": "GHSA-x", "modified": "2026-03-24T00:00:00Z", "affected": [
  {"package": {"ecosystem": "npm", "name": "left-pad"}, "versions": ["1.0.0"]},
  {"package": {"ecosystem": "GitHub Actions", "name": "aquasecurity/setup-trivy"},
   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "v0.2.6"}]},
              {"type": "ECOSYSTEM", "events": [{"introduced": "0.1.0"}, {"fixed": "0.2.0"}]},
              {"type": "GIT", "events": [{"introduced": "8afa9b9f9183b4e00c46e2b82d34047e3c177bd0"}, {"fixed": "57a97c7e7821a5776cebc9bb87c984fa69cba8f1"}]}],
   "database_specific": {"window": {"start": "2026-03-19T17:43:00Z", "end": "2026-03-19T21:44:00Z"}}}
]}"#;
    let i = import_all(
        &[Input {
            path: "o.json",
            text,
            format: None,
        }],
        &options(),
    )
    .unwrap();
    let action = &i.advisory.actions[0];
    assert!(action.tag_is_affected("v0.2.5"));
    assert!(!action.tag_is_affected("v0.2.6"));
    assert_eq!(action.window.value.end.to_string(), "2026-03-19T21:44:00Z");
    assert_eq!(
        action.malicious_commits[0].sha,
        "8afa9b9f9183b4e00c46e2b82d34047e3c177bd0"
    );
    assert_eq!(
        action.known_good_commits[0].sha,
        "57a97c7e7821a5776cebc9bb87c984fa69cba8f1"
    );
    assert_eq!(i.unmapped.len(), 2, "{:?}", i.unmapped);
    assert!(i.unmapped[0].message.contains("ecosystem \"npm\""));
    assert_eq!(i.unmapped[0].line, 2);
    assert!(i.unmapped[1].message.contains("lower bound"));
}

#[test]
fn osv_minimal_has_nothing_to_import() {
    let e = run("osv_minimal.json", Format::Osv).unwrap_err();
    assert!(e.message.contains("nothing could be imported"), "{e}");
    assert_eq!((e.line, e.column), (1, 1));
}

#[test]
fn openvex() {
    let i = run("openvex.json", Format::OpenVex).unwrap();
    let a = &i.advisory;
    assert_eq!(a.id, "openvex-trivy-2026-03-0001");
    assert_eq!(a.aliases, ["CVE-2026-33634", "GHSA-69fq-xp46-6x23"]);
    let d = &a.malicious_digests[0];
    assert_eq!(d.digest.to_string(), TRIVY_0694);
    assert_eq!(d.repositories, ["docker.io/aquasec/trivy"]);
    assert_eq!(d.tags, ["0.69.4"]);
    assert!(
        d.provenance
            .note
            .as_deref()
            .unwrap()
            .contains("Purge from caches")
    );
    let g = &a.known_good_digests[0];
    assert_eq!(g.digest.to_string(), TRIVY_0693);
    assert!(!g.confirmed);
    assert!(
        g.provenance
            .note
            .as_deref()
            .unwrap()
            .contains("not vendor-confirmed")
    );
    let source = a.source(&d.provenance.sources[0]).unwrap();
    assert_eq!(
        source.url.as_deref(),
        Some("https://example.org/vex/trivy-2026-03-0001")
    );
    assert!(i.unmapped.is_empty(), "{:?}", i.unmapped);
}

#[test]
fn csaf_vex() {
    let i = run("csaf_vex.json", Format::Csaf).unwrap();
    let a = &i.advisory;
    assert_eq!(a.id, "csaf-example-vex-2026-0001");
    assert_eq!(
        a.title,
        "aquasec/trivy Docker Hub images 0.69.4-0.69.6 (CVE-2026-33634)"
    );
    assert_eq!(a.aliases, ["CVE-2026-33634"]);
    let d = &a.malicious_digests[0];
    assert_eq!(d.digest.to_string(), TRIVY_0694);
    assert_eq!(d.tags, ["0.69.4"]);
    assert!(
        d.provenance
            .note
            .as_deref()
            .unwrap()
            .contains("Remove the image")
    );
    assert_eq!(
        d.provenance.confidence,
        Confidence::Secondary,
        "publisher category user"
    );
    let g = &a.known_good_digests[0];
    assert_eq!(g.digest.to_string(), TRIVY_0693);
    assert!(!g.confirmed);
    assert!(a.summary.contains("Malicious Trivy artifacts"));
}

#[test]
fn csaf_from_the_vendor_is_primary_and_confirmed() {
    let text =
        example("csaf_vex.json").replace("\"category\": \"user\"", "\"category\": \"vendor\"");
    let i = import_all(
        &[Input {
            path: "c.json",
            text: &text,
            format: None,
        }],
        &options(),
    )
    .unwrap();
    assert_eq!(
        i.advisory.malicious_digests[0].provenance.confidence,
        Confidence::Primary
    );
    assert!(i.advisory.known_good_digests[0].confirmed);
}

#[test]
fn csaf_minimal_has_nothing_to_import() {
    assert!(run("csaf_minimal.json", Format::Csaf).is_err());
}

#[test]
fn several_documents_make_one_advisory() {
    let (misp, stix) = (example("misp_event.json"), example("stix_bundle.json"));
    let i = import_all(
        &[
            Input {
                path: "misp_event.json",
                text: &misp,
                format: None,
            },
            Input {
                path: "stix_bundle.json",
                text: &stix,
                format: None,
            },
        ],
        &Options {
            id: Some("kics-feeds".to_string()),
            ..options()
        },
    )
    .unwrap();
    let a = &i.advisory;
    assert_eq!(a.id, "kics-feeds");
    // The latest digest is in both documents: listed once.
    assert_eq!(a.malicious_digests.len(), 3);
    assert_eq!(a.network_indicators.len(), 4);
    assert_eq!(a.sources.len(), 2);
}

#[test]
fn wrong_format_and_garbage_give_positions() {
    let misp = example("misp_event.json");
    let e = import_all(
        &[Input {
            path: "m.json",
            text: &misp,
            format: Some(Format::Stix),
        }],
        &options(),
    )
    .unwrap_err();
    assert!(e.message.contains("not a STIX bundle"), "{e}");
    for (text, line, column) in [
        ("{\"a\": [1,}", 1, 10),
        (
            "{\n  \"objects\": [\n    {\"type\": \"indicator\",, }",
            3,
            26,
        ),
        ("\u{0}", 1, 1),
    ] {
        let e = import_all(
            &[Input {
                path: "g.json",
                text,
                format: None,
            }],
            &options(),
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (line, column), "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("g.json:{line}:{column}: not valid JSON")),
            "{e}"
        );
    }
    let e = import_all(
        &[Input {
            path: "s.json",
            text: "{\"x\": 1}",
            format: None,
        }],
        &options(),
    )
    .unwrap_err();
    assert!(e.message.contains("not a format tagwarden imports"));
    let bad_id = Options {
        id: Some("no spaces".to_string()),
        ..options()
    };
    let input = Input {
        path: "m.json",
        text: &misp,
        format: None,
    };
    let e = import_all(&[input], &bad_id).unwrap_err();
    assert!(e.message.contains("invalid advisory id"), "{e}");
}

#[test]
fn hostile_input_is_bounded() {
    let deep = format!(
        "{{\"type\": \"bundle\", \"objects\": {}",
        "[".repeat(200_000)
    );
    let e = import_all(
        &[Input {
            path: "d.json",
            text: &deep,
            format: None,
        }],
        &options(),
    )
    .unwrap_err();
    assert!(e.message.contains("nested deeper"), "{e}");
    let huge = format!("{{\"id\": \"{}\"}}", "a".repeat(MAX_INPUT));
    let e = import("h.json", &huge, Format::Osv).unwrap_err();
    assert!(e.message.contains("larger than 16 MiB"), "{e}");
    assert_eq!(detect(&huge), None);
    // A long string inside the cap is cut where it is kept.
    let long = format!(
        r#"{{"Event": {{"info": "{}", "Attribute": [{{"type": "domain", "value": "a.example", "comment": "{}"}}]}}}}"#,
        "t".repeat(100_000),
        "c".repeat(1_000_000)
    );
    let i = import_all(
        &[Input {
            path: "l.json",
            text: &long,
            format: None,
        }],
        &options(),
    )
    .unwrap();
    assert!(i.advisory.title.chars().count() <= 1001);
    assert!(
        i.advisory.network_indicators[0]
            .provenance
            .note
            .as_ref()
            .unwrap()
            .chars()
            .count()
            <= 1001
    );
    // Garbage of every shape: an error or an import, never a panic.
    for text in [
        "{}",
        "{\"Event\": 1}",
        "{\"objects\": {}}",
        "{\"type\": \"bundle\", \"objects\": [1, \"x\", {\"type\": \"indicator\", \"pattern\": 5}]}",
        "{\"document\": {\"csaf_version\": \"2.0\"}, \"vulnerabilities\": [{\"product_status\": {\"known_affected\": [\"x\", 1]}}]}",
        "{\"@context\": \"openvex\", \"statements\": [{\"status\": \"affected\", \"products\": [{\"@id\": \"pkg:oci/x@sha256%3Azz\"}]}]}",
        "{\"id\": \"x\", \"modified\": \"y\", \"affected\": [{\"package\": {\"ecosystem\": \"GitHub Actions\", \"name\": \"a/b\"}, \"versions\": [\"bad tag!\"]}]}",
    ] {
        let _ = import_all(
            &[Input {
                path: "x.json",
                text,
                format: None,
            }],
            &options(),
        );
    }
}
