//! STIX 2.1 bundles.

use super::*;

#[test]
fn stix_bundle() {
    let i = run("stix_bundle.json", Format::Stix).unwrap();
    let a = &i.advisory;
    assert_eq!(a.id, "stix-7f575596-4f84-4dfb-a986-d73b3ce9460f");
    let info = a.imported.as_ref().unwrap();
    assert_eq!(info.format, "stix");
    assert_eq!(info.author.as_deref(), Some("Northwind Threat Research"));
    assert_eq!(info.imported, date(2026, 12, 3));
    // The report's `published`, not the TLP marking definition's 2017 `created`.
    assert_eq!(a.published, date(2026, 4, 23));
    assert_eq!(a.updated, date(2026, 4, 23));
    assert_eq!(a.title, "checkmarx/kics tags overwritten on Docker Hub");
    assert!(a.summary.contains("stolen publisher credentials"));
    let digests = malicious(a);
    assert_eq!(digests.len(), 4, "{digests:?}");
    assert!(digests.contains(&KICS_LATEST.to_string()));
    let kinds: Vec<DigestKind> = a.malicious_digests.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        [
            DigestKind::Index,
            DigestKind::Index,
            DigestKind::Index,
            DigestKind::Manifest
        ]
    );
    // The platform the indicator's name spells out.
    assert_eq!(
        a.malicious_digests[3].platform.as_deref(),
        Some("linux/arm64")
    );
    assert_eq!(values(a, NetworkKind::Domain), ["audit.checkmarx.cx"]);
    assert_eq!(
        values(a, NetworkKind::Url),
        ["https://audit.checkmarx.cx/v1/telemetry"]
    );
    assert_eq!(values(a, NetworkKind::UserAgent), ["KICS-Telemetry/2.0"]);
    assert_eq!(
        values(a, NetworkKind::Ip),
        ["94.154.172.43", "91.195.240.123"]
    );
    // STIX confidence 15 is low: the parking address never alerts on its own.
    assert_eq!(weak(a), ["91.195.240.123"]);
    assert_eq!(
        a.file_hashes[0].sha256,
        "2a6a35f06118ff7d61bfd36a5788557b695095e7c9a609b4a01956883f146f50"
    );
    // Provenance: the bundle, third-party confidence, the indicator named in the note.
    let d = &a.malicious_digests[0];
    assert_eq!(d.provenance.confidence, Confidence::Secondary);
    let source = a.source(&d.provenance.sources[0]).unwrap();
    assert!(
        source
            .title
            .as_deref()
            .unwrap()
            .contains("bundle--7f575596"),
        "{source:?}"
    );
    assert!(note(&d.provenance).contains("Overwritten checkmarx/kics image indexes"));
    // The malware object and its relationships are listed with their positions; markings,
    // identities and the report are read.
    let messages: Vec<String> = i.unmapped.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(
        messages[0].starts_with("stix_bundle.json:153:5: not imported: STIX malware object"),
        "{}",
        messages[0]
    );
    assert!(messages[1].contains("STIX relationship object"));
    assert!(a.not_indicators.is_empty());
    assert!(
        i.advisory_toml
            .contains("# stix_bundle.json:153:5: not imported: STIX malware object")
    );
    assert_eq!(
        verdicts(a, &format!("checkmarx/kics@{KICS_LATEST}")),
        ["malicious_digest"]
    );
}

#[test]
fn stix_minimal() {
    let i = run("stix_minimal.json", Format::Stix).unwrap();
    assert_eq!(
        values(&i.advisory, NetworkKind::Domain),
        ["scan.aquasecurtiy.org"]
    );
    assert_eq!(i.advisory.published, date(2026, 3, 20));
    assert!(i.unmapped.is_empty());
}

/// The benign path: a vendor's clean digest is known good, never malicious; benign values
/// without a known-good list, and unclear ones, are kept out of matching and printed.
#[test]
fn stix_benign_indicators_are_never_malicious() {
    let i = run("stix_known_good.json", Format::Stix).unwrap();
    let a = &i.advisory;
    assert_eq!(a.published, date(2026, 4, 24));
    assert_eq!(known_good(a), [KICS_V2120_GOOD]);
    let good = &a.known_good_digests[0];
    assert!(
        !good.confirmed,
        "STIX does not say the producer is the vendor"
    );
    assert!(
        note(&good.provenance).contains("indicator_types benign"),
        "{:?}",
        good.provenance.note
    );
    assert_eq!(malicious(a), [KICS_LATEST]);
    assert_eq!(
        kept_out(a),
        [
            ("domain", "kics.io"),
            ("image_digest", TRIVY_0693),
            ("domain", "checkmarx.cx"),
            (
                "file_sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ),
        ]
    );
    assert!(
        a.not_indicators[1]
            .reason
            .contains("both benign and malicious-activity")
    );
    assert!(a.not_indicators[2].reason.contains("opinion"));
    // `anomalous-activity` is "not necessarily malicious": weak, never a hit on its own.
    assert_eq!(weak(a), ["91.195.240.123"]);
    assert!(values(a, NetworkKind::Domain).is_empty());
    // What scan and hunt conclude about each digest.
    assert_eq!(
        verdicts(a, &format!("checkmarx/kics:v2.1.20@{KICS_V2120_GOOD}")),
        ["known_good"]
    );
    assert!(verdicts(a, &format!("aquasec/trivy:0.69.3@{TRIVY_0693}")).is_empty());
    assert_eq!(
        verdicts(a, &format!("checkmarx/kics@{KICS_LATEST}")),
        ["malicious_digest"]
    );
    // Each value kept out is printed at its place, and listed in the advisory file.
    let notices = kept_out_notices(&i);
    assert_eq!(notices.len(), 4, "{notices:#?}");
    assert!(
        notices[0].starts_with("stix_known_good.json:")
            && notices[0]
                .contains(": kept out of matching: domain kics.io: STIX indicator_types benign"),
        "{}",
        notices[0]
    );
    assert!(
        i.advisory_toml
            .contains("[[not_indicators]]\nkind = \"image_digest\"")
    );
    assert!(
        !i.advisory_toml.contains("# Not imported:"),
        "{}",
        i.advisory_toml
    );
}

#[test]
fn stix_benign_wins_over_tagwarden_properties() {
    // A benign indicator carrying tagwarden's custom properties: no exposure, no malicious digest.
    let text = format!(
        r#"{{"type": "bundle", "id": "bundle--2", "objects": [
  {{"type": "indicator", "id": "indicator--1", "name": "clean", "pattern_type": "stix",
   "indicator_types": ["benign"], "created": "2026-04-24T00:00:00Z",
   "pattern": "[file:hashes.'SHA-256' = '{}']", "valid_from": "2026-04-22T12:31:00Z",
   "x_tagwarden_kind": "malicious_digest", "x_tagwarden_digest": "{KICS_V2120_GOOD}",
   "x_tagwarden_digest_kind": "index",
   "x_tagwarden": {{"repositories": ["checkmarx/kics"], "tags": ["v2.1.20"],
                    "window": {{"start": "2026-04-22T12:31:00Z", "end": "2026-04-22T12:59:59Z"}}}}}}
]}}"#,
        &KICS_V2120_GOOD[7..]
    );
    let i = import_text("b.json", &text, None).unwrap();
    let a = &i.advisory;
    assert!(a.malicious_digests.is_empty());
    assert!(a.image_exposures.is_empty());
    assert_eq!(known_good(a), [KICS_V2120_GOOD]);
    assert_eq!(
        a.known_good_digests[0].repositories,
        ["docker.io/checkmarx/kics"]
    );
    assert_eq!(
        kept_out(a),
        [("image_tag", "docker.io/checkmarx/kics:v2.1.20")]
    );
}

#[test]
fn stix_dates_come_from_the_intelligence() {
    // No report: the indicators' `created`, never a marking's or an identity's.
    let text = r#"{"type": "bundle", "id": "bundle--3", "objects": [
  {"type": "marking-definition", "id": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
   "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "white"}},
  {"type": "identity", "id": "identity--1", "name": "x", "created": "2015-01-01T00:00:00Z", "modified": "2015-01-01T00:00:00Z"},
  {"type": "indicator", "id": "indicator--1", "name": "d", "pattern_type": "stix",
   "created": "2026-04-23T10:00:00Z", "modified": "2026-04-25T10:00:00Z",
   "pattern": "[domain-name:value = 'audit.checkmarx.cx']", "valid_from": "2026-04-22T12:31:00Z"}
]}"#;
    let i = import_text("d.json", text, None).unwrap();
    assert_eq!(i.advisory.published, date(2026, 4, 23));
    assert_eq!(i.advisory.updated, date(2026, 4, 25));
    assert!(i.unmapped.is_empty(), "{:?}", i.unmapped);
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
