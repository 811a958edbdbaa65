//! OpenVEX and CSAF VEX documents.

use super::*;

const TRIVY_0695_AMD64: &str =
    "sha256:f69a8a4180c43fc427532ddde34a256acbd041a0a07844cf7e4d3e0434e5bcd1";
const SYNTHETIC_BASE: &str =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";

#[test]
fn openvex() {
    let i = run("openvex.json", Format::OpenVex).unwrap();
    let a = &i.advisory;
    assert_eq!(a.id, "openvex-2026-03-images");
    assert_eq!(
        a.aliases,
        [
            "CVE-2026-33634",
            "GHSA-69fq-xp46-6x23",
            "kics-dockerhub-2026-04-22"
        ]
    );
    assert_eq!(
        (a.published, a.updated),
        (date(2026, 3, 24), date(2026, 3, 25))
    );
    assert_eq!(malicious(a), [TRIVY_0694]);
    let d = &a.malicious_digests[0];
    assert_eq!(d.repositories, ["docker.io/aquasec/trivy"]);
    assert_eq!(d.tags, ["0.69.4"]);
    assert!(note(&d.provenance).contains("Delete the image"));
    let source = a.source(&d.provenance.sources[0]).unwrap();
    assert_eq!(
        source.url.as_deref(),
        Some("https://vex.example.net/trivy/2026-03-images")
    );
    // not_affected and fixed: known good, never vendor-confirmed (OpenVEX cannot say).
    assert_eq!(known_good(a), [TRIVY_0693, KICS_V2120_GOOD]);
    assert!(a.known_good_digests.iter().all(|g| !g.confirmed));
    assert!(note(&a.known_good_digests[0].provenance).contains("not vendor-confirmed"));
    // under_investigation: kept out of matching, printed.
    assert_eq!(kept_out(a), [("image_digest", TRIVY_0695_AMD64)]);
    assert!(a.not_indicators[0].reason.contains("under_investigation"));
    assert_eq!(kept_out_notices(&i).len(), 1);
    assert_eq!(
        verdicts(a, &format!("aquasec/trivy:0.69.3@{TRIVY_0693}")),
        ["known_good"]
    );
    assert_eq!(
        verdicts(a, &format!("mirror.example/trivy@{TRIVY_0694}")),
        ["malicious_digest"]
    );
    assert!(verdicts(a, &format!("aquasec/trivy@{TRIVY_0695_AMD64}")).is_empty());
}

#[test]
fn csaf_vex() {
    let i = run("csaf_vex.json", Format::Csaf).unwrap();
    let a = &i.advisory;
    assert_eq!(a.id, "csaf-excert-2026-0042");
    assert_eq!(
        a.title,
        "Container images affected by the March 2026 trivy compromise"
    );
    assert_eq!(a.aliases, ["CVE-2026-33634", "CVE-2026-45002"]);
    assert_eq!(
        (a.published, a.updated),
        (date(2026, 3, 23), date(2026, 3, 26))
    );
    assert_eq!(malicious(a), [TRIVY_0694]);
    let d = &a.malicious_digests[0];
    assert_eq!(d.tags, ["0.69.4"]);
    assert!(note(&d.provenance).contains("Purge the image"));
    assert_eq!(
        d.provenance.confidence,
        Confidence::Secondary,
        "a coordinator, not the vendor"
    );
    assert_eq!(known_good(a), [TRIVY_0693]);
    assert!(!a.known_good_digests[0].confirmed);
    // A cross-site scripting flaw makes an image vulnerable, not malicious.
    assert_eq!(kept_out(a), [("image_digest", SYNTHETIC_BASE)]);
    assert!(a.not_indicators[0].reason.contains("CWE-79"));
    assert!(verdicts(a, &format!("ghcr.io/example-org/base:3.1@{SYNTHETIC_BASE}")).is_empty());
    assert!(a.summary.contains("credential stealer"));
    let own = a.source(&d.provenance.sources[0]).unwrap();
    assert_eq!(
        own.url.as_deref(),
        Some("https://cert.example.net/csaf/2026/excert-2026-0042.json")
    );
    assert!(i.unmapped.iter().all(|u| u.kept_out), "{:?}", i.unmapped);
}

#[test]
fn csaf_from_the_vendor_is_primary_and_confirmed() {
    let text = example("csaf_vex.json")
        .replace("\"category\": \"coordinator\"", "\"category\": \"vendor\"");
    let i = import_text("c.json", &text, None).unwrap();
    assert_eq!(
        i.advisory.malicious_digests[0].provenance.confidence,
        Confidence::Primary
    );
    assert!(i.advisory.known_good_digests[0].confirmed);
}

#[test]
fn csaf_weaknesses_and_investigations_stay_out_of_matching() {
    let doc = |vulnerability: &str| {
        format!(
            r#"{{"document": {{"csaf_version": "2.1", "category": "csaf_vex", "title": "t",
  "publisher": {{"category": "vendor", "name": "v", "namespace": "https://v.example"}},
  "tracking": {{"id": "T-1", "initial_release_date": "2026-03-23T00:00:00Z", "current_release_date": "2026-03-23T00:00:00Z"}}}},
 "product_tree": {{"full_product_names": [{{"product_id": "p", "name": "p",
  "product_identification_helper": {{"purls": ["pkg:oci/trivy@{}?repository_url=ghcr.io/aquasecurity/trivy"]}}}}]}},
 "vulnerabilities": [{vulnerability}]}}"#,
            TRIVY_0694.replace(':', "%3A")
        )
    };
    // CSAF 2.1 lists weaknesses in `cwes`; one malicious-code CWE is enough.
    let i = import_text(
        "a.json",
        &doc(r#"{"cwes": [{"id": "CWE-20"}, {"id": "CWE-506"}], "product_status": {"known_affected": ["p"]}}"#),
        None,
    )
    .unwrap();
    assert_eq!(malicious(&i.advisory), [TRIVY_0694]);
    for vulnerability in [
        r#"{"cwes": [{"id": "CWE-20"}], "product_status": {"known_affected": ["p"]}}"#,
        r#"{"product_status": {"under_investigation": ["p"]}}"#,
    ] {
        let i = import_text("b.json", &doc(vulnerability), None).unwrap();
        assert!(i.advisory.malicious_digests.is_empty(), "{vulnerability}");
        assert_eq!(kept_out(&i.advisory), [("image_digest", TRIVY_0694)]);
    }
}

#[test]
fn csaf_minimal_has_nothing_to_import() {
    assert!(run("csaf_minimal.json", Format::Csaf).is_err());
}
