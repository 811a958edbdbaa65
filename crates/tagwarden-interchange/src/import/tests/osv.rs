//! OSV records.

use super::*;

#[test]
fn osv_action() {
    let i = run("osv_action.json", Format::Osv).unwrap();
    let a = &i.advisory;
    assert_eq!(a.id, "osv-mal-example-setup-trivy");
    assert_eq!(
        a.aliases,
        [
            "MAL-EXAMPLE-setup-trivy",
            "GHSA-69fq-xp46-6x23",
            "CVE-2026-33634"
        ]
    );
    assert_eq!(a.published, date(2026, 3, 20));
    let action = &a.actions[0];
    assert_eq!(action.repository, "aquasecurity/setup-trivy");
    assert_eq!(action.tags, ["v0.2.5"]);
    assert!(action.tag_is_affected("v0.2.0"));
    assert!(!action.tag_is_affected("v0.2.6"));
    assert!(
        !action.tag_is_affected("0.2.0"),
        "the rule keeps the v prefix"
    );
    assert_eq!(
        action.malicious_commits[0].sha,
        "8afa9b9f9183b4e00c46e2b82d34047e3c177bd0"
    );
    assert_eq!(action.window.value.end.to_string(), "2026-03-19T21:44:00Z");
    // The record and its ADVISORY reference are cited; the WEB one is only declared.
    assert_eq!(action.provenance.sources.len(), 2);
    assert_eq!(a.sources.len(), 3);
    let cited = a.source(&action.provenance.sources[1]).unwrap();
    assert_eq!(
        cited.url.as_deref(),
        Some("https://github.com/aquasecurity/trivy/security/advisories/GHSA-69fq-xp46-6x23")
    );
    let mut set = AdvisorySet::empty();
    set.add(i.advisory.clone()).unwrap();
    assert!(
        !set.match_action("aquasecurity/setup-trivy", "v0.2.5")
            .is_empty()
    );
    assert!(
        !set.match_action(
            "aquasecurity/setup-trivy",
            "8afa9b9f9183b4e00c46e2b82d34047e3c177bd0"
        )
        .is_empty()
    );
    assert!(
        set.match_action("aquasecurity/setup-trivy", "v0.2.6")
            .is_empty()
    );
    assert!(i.unmapped.is_empty(), "{:?}", i.unmapped);
}

/// A vulnerability (its CWE is not malicious code) is not a hijacked action: nothing of it is
/// matched, what it lists is kept for humans and printed.
#[test]
fn osv_vulnerability_is_never_malicious() {
    let i = run("osv_vulnerability.json", Format::Osv).unwrap();
    let a = &i.advisory;
    assert!(a.actions.is_empty());
    assert_eq!(kept_out(a), [("action", "example-org/lint-action")]);
    let reason = &a.not_indicators[0].reason;
    assert!(reason.contains("CWE-78"), "{reason}");
    assert!(reason.contains("1.2.0, 1.3.0, 1.3.1"), "{reason}");
    let mut set = AdvisorySet::empty();
    set.add(a.clone()).unwrap();
    assert!(
        set.match_action("example-org/lint-action", "1.2.0")
            .is_empty()
    );
    assert!(
        set.match_action(
            "example-org/lint-action",
            "1111111111111111111111111111111111111111"
        )
        .is_empty()
    );
    let notices = kept_out_notices(&i);
    assert_eq!(notices.len(), 1);
    assert!(notices[0].starts_with("osv_vulnerability.json:"));
}

#[test]
fn osv_malicious_code_is_named_by_mal_ids_cwes_or_commits() {
    let record = |id: &str, extra: &str| {
        format!(
            r#"{{"id": "{id}", "modified": "2026-03-24T00:00:00Z", {extra}
  "affected": [{{"package": {{"ecosystem": "GitHub Actions", "name": "aquasecurity/trivy-action"}}, "versions": ["0.34.2"]}}]}}"#
        )
    };
    for (id, extra) in [
        (
            "GHSA-69fq-xp46-6x23",
            r#""database_specific": {"cwe_ids": ["CWE-506"]},"#,
        ),
        (
            "GHSA-x",
            r#""aliases": ["MAL-2026-1"], "database_specific": {"cwe_ids": ["CWE-79"]},"#,
        ),
        (
            "GHSA-y",
            r#""database_specific": {"cwe_ids": ["CWE-79"], "malicious_commits": []},"#,
        ),
        // No weakness named: read as the compromise report it is imported as.
        ("GHSA-z", ""),
    ] {
        let i = import_text("o.json", &record(id, extra), None).unwrap();
        assert_eq!(i.advisory.actions.len(), 1, "{id}");
        assert!(i.advisory.not_indicators.is_empty(), "{id}");
    }
    let i = import_text(
        "o.json",
        &record("GHSA-w", r#""database_specific": {"cwe_ids": ["CWE-94"]},"#),
        None,
    )
    .unwrap();
    assert!(i.advisory.actions.is_empty());
}

#[test]
fn osv_minimal_has_nothing_to_import() {
    let e = run("osv_minimal.json", Format::Osv).unwrap_err();
    assert!(e.message.contains("nothing could be imported"), "{e}");
    assert_eq!((e.line, e.column), (1, 1));
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
