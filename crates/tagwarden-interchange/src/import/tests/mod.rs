//! The importers against the example documents of `testdata/formats/` (one module per
//! format) and against hostile input.

mod misp;
mod osv;
mod stix;
mod vex;

use jiff::civil::date;
use tagwarden_advisory::{
    Advisory, AdvisorySet, Confidence, DigestKind, ImageVerdict, NetworkKind,
};
use tagwarden_reference::Reference;

use super::*;

const KICS_LATEST: &str = "sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0";
const KICS_V2120_GOOD: &str =
    "sha256:3e5a268eb8adda2e5a483c9359ddfc4cd520ab856a7076dc0b1d8784a37e2602";
const TRIVY_0694: &str = "sha256:27f446230c60bbf0b70e008db798bd4f33b7826f9f76f756606f5417100beef3";
const TRIVY_0693: &str = "sha256:bcc376de8d77cfe086a917230e818dc9f8528e3c852f7b1aff648949b6258d1c";

/// An example document of `testdata/formats/`.
fn example(name: &str) -> String {
    tagwarden_testbed::testdata_text(&format!("formats/{name}"))
}

fn options() -> Options {
    Options {
        id: None,
        today: date(2026, 12, 3),
    }
}

fn run(name: &str, format: Format) -> Result<Imported, ImportError> {
    let text = example(name);
    import_text(name, &text, Some(format))
}

fn import_text(path: &str, text: &str, format: Option<Format>) -> Result<Imported, ImportError> {
    import_all(&[Input { path, text, format }], &options())
}

fn values(a: &Advisory, kind: NetworkKind) -> Vec<&str> {
    a.network_indicators
        .iter()
        .filter(|n| n.kind == kind)
        .map(|n| n.value.as_str())
        .collect()
}

fn weak(a: &Advisory) -> Vec<&str> {
    a.network_indicators
        .iter()
        .filter(|n| n.weak)
        .map(|n| n.value.as_str())
        .collect()
}

/// `(kind, value)` of every value kept out of matching.
fn kept_out(a: &Advisory) -> Vec<(&str, &str)> {
    a.not_indicators
        .iter()
        .map(|n| (n.kind.as_str(), n.value.as_str()))
        .collect()
}

fn malicious(a: &Advisory) -> Vec<String> {
    a.malicious_digests
        .iter()
        .map(|d| d.digest.to_string())
        .collect()
}

fn known_good(a: &Advisory) -> Vec<String> {
    a.known_good_digests
        .iter()
        .map(|d| d.digest.to_string())
        .collect()
}

/// What the advisory says about a pinned reference, as verdict names.
fn verdicts(a: &Advisory, reference: &str) -> Vec<&'static str> {
    let mut set = AdvisorySet::empty();
    set.add(a.clone()).unwrap();
    set.match_image(&Reference::parse(reference).unwrap())
        .into_iter()
        .map(|m| match m.verdict {
            ImageVerdict::MaliciousDigest { .. } => "malicious_digest",
            ImageVerdict::AffectedTag { .. } => "affected_tag",
            ImageVerdict::KnownGood { .. } => "known_good",
        })
        .collect()
}

/// A value's note; panics when it has none.
fn note(p: &tagwarden_advisory::Provenance) -> &str {
    p.note.as_deref().expect("a note")
}

/// The messages printed for values kept out of matching.
fn kept_out_notices(i: &Imported) -> Vec<String> {
    i.unmapped
        .iter()
        .filter(|u| u.kept_out)
        .map(|u| u.to_string())
        .collect()
}

#[test]
fn detects_every_example() {
    for (name, format) in [
        ("stix_bundle.json", Some(Format::Stix)),
        ("stix_minimal.json", Some(Format::Stix)),
        ("stix_known_good.json", Some(Format::Stix)),
        ("misp_event.json", Some(Format::Misp)),
        ("misp_known_good.json", Some(Format::Misp)),
        ("osv_action.json", Some(Format::Osv)),
        ("osv_minimal.json", Some(Format::Osv)),
        ("osv_vulnerability.json", Some(Format::Osv)),
        ("openvex.json", Some(Format::OpenVex)),
        ("csaf_vex.json", Some(Format::Csaf)),
        ("csaf_minimal.json", Some(Format::Csaf)),
        ("sarif_min.json", None),
    ] {
        assert_eq!(detect(&example(name)), format, "{name}");
    }
    assert_eq!(detect("not json"), None);
    assert_eq!(detect("[]"), None);
    assert_eq!(detect("{\"ZEEK_DNS\": \"#separator\"}"), None);
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
    // The latest index and the arm64 manifest are in both documents: listed once each.
    assert_eq!(a.malicious_digests.len(), 5, "{:?}", malicious(a));
    // Domain, URL, two addresses, User-Agent; the parking address is weak in both.
    assert_eq!(a.network_indicators.len(), 5);
    assert_eq!(weak(a), ["91.195.240.123"]);
    assert_eq!(a.file_hashes.len(), 1);
    // Each document, and the MISP event's link.
    assert_eq!(a.sources.len(), 3);
    // The event's alpine exposure, once.
    assert_eq!(a.image_exposures.len(), 1);
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
