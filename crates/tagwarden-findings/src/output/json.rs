//! Versioned JSON output. The format is documented in `JSON.md` at the crate root; any change
//! that removes or renames a key, or changes a value's meaning, needs a new `version`.

use std::io::{self, Write};

use serde::Serialize;

use crate::{
    ActionRecord, ByteSpan, Finding, Note, ReferenceRecord, ScanReport, Severity, SeverityCounts,
};

/// The value of the top-level `version` key.
pub const VERSION: u32 = 1;

/// Writes the report as one compact JSON document followed by a newline.
pub fn render(report: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *w, &Document::new(report))?;
    writeln!(w)
}

/// Writes the report as indented JSON followed by a newline.
pub fn render_pretty(report: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &Document::new(report))?;
    writeln!(w)
}

// Field order here is the key order of the output: keep it stable.
#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    root: &'a str,
    summary: Summary,
    advisories: &'a [String],
    references: Vec<&'a ReferenceRecord>,
    actions: Vec<&'a ActionRecord>,
    findings: Vec<FindingView<'a>>,
    notes: &'a [Note],
}

#[derive(Serialize)]
struct Summary {
    files_scanned: usize,
    files_skipped: usize,
    references: usize,
    pinned_references: usize,
    actions: usize,
    pinned_actions: usize,
    findings: usize,
    max_severity: Option<Severity>,
    by_severity: SeverityCounts,
}

#[derive(Serialize)]
struct FindingView<'a> {
    rule: &'static str,
    severity: Severity,
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    span: Option<ByteSpan>,
    message: &'a str,
    image: Option<&'a str>,
    advisory: Option<&'a str>,
    notes: &'a [String],
}

impl<'a> Document<'a> {
    fn new(report: &'a ScanReport) -> Self {
        Document {
            version: VERSION,
            root: &report.root,
            summary: Summary {
                files_scanned: report.files_scanned,
                files_skipped: report.files_skipped,
                references: report.references.len(),
                pinned_references: report.pinned_references(),
                actions: report.actions.len(),
                pinned_actions: report.pinned_actions(),
                findings: report.findings.len(),
                max_severity: report.max_severity(),
                by_severity: report.counts_by_severity(),
            },
            advisories: &report.advisories,
            references: report.sorted_references(),
            actions: report.sorted_actions(),
            findings: report
                .sorted_findings()
                .into_iter()
                .map(FindingView::new)
                .collect(),
            notes: &report.notes,
        }
    }
}

impl<'a> FindingView<'a> {
    fn new(f: &'a Finding) -> Self {
        FindingView {
            rule: f.rule.id,
            severity: f.severity,
            path: &f.location.path,
            line: f.location.line,
            column: f.location.column,
            end_line: f.location.end_line,
            end_column: f.location.end_column,
            span: f.location.span,
            message: &f.message,
            image: f.image.as_deref(),
            advisory: f.advisory.as_deref(),
            notes: &f.notes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixture;

    fn to_value(report: &ScanReport) -> serde_json::Value {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        assert!(out.ends_with(b"}\n"));
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn compact_snapshot() {
        let report = ScanReport {
            root: ".".into(),
            references: vec![ReferenceRecord {
                path: "Dockerfile".into(),
                line: 1,
                column: 6,
                span: ByteSpan::new(5, 9),
                text: "${B}".into(),
                image: None,
                source: "dockerfile-from".into(),
                pinned: false,
                context: None,
                alias_sites: vec![],
            }],
            findings: vec![crate::Finding::in_text(
                &crate::rules::UNRESOLVABLE_REFERENCE,
                "Dockerfile",
                "FROM ${B}\n",
                ByteSpan::new(5, 9),
                "${B} has no default",
            )],
            files_scanned: 1,
            ..ScanReport::default()
        };
        let mut out = Vec::new();
        render(&report, &mut out).unwrap();
        let expected = concat!(
            r#"{"version":1,"root":".","summary":{"files_scanned":1,"files_skipped":0,"#,
            r#""references":1,"pinned_references":0,"actions":0,"pinned_actions":0,"findings":1,"#,
            r#""max_severity":"info","by_severity":{"critical":0,"high":0,"medium":0,"low":0,"info":1}},"#,
            r#""advisories":[],"references":[{"path":"Dockerfile","line":1,"column":6,"#,
            r#""span":{"start":5,"end":9},"text":"${B}","image":null,"source":"dockerfile-from","#,
            r#""pinned":false,"context":null,"alias_sites":[]}],"actions":[],"#,
            r#""findings":[{"rule":"unresolvable-reference","severity":"info","path":"Dockerfile","#,
            r#""line":1,"column":6,"end_line":1,"end_column":10,"span":{"start":5,"end":9},"#,
            r#""message":"${B} has no default","image":null,"advisory":null,"notes":[]}],"notes":[]}"#,
            "\n"
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn fixture_report_shape() {
        let v = to_value(&fixture::report());
        assert_eq!(v["version"], 1);
        assert_eq!(v["summary"]["references"], 3);
        assert_eq!(v["summary"]["pinned_references"], 1);
        assert_eq!(v["summary"]["max_severity"], "critical");
        assert_eq!(v["summary"]["by_severity"]["critical"], 1);
        // Sorted by path, line, column.
        let paths: Vec<&str> = v["references"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                ".github/workflows/scan.yml",
                "compose.yml",
                "docker/Dockerfile"
            ]
        );
        assert_eq!(v["references"][1]["alias_sites"][0]["line"], 9);
        assert_eq!(v["actions"][0]["ref"], "v4");
        assert_eq!(v["actions"][0]["repository"], "actions/checkout");
        let f = &v["findings"][0];
        assert_eq!(f["rule"], "compromised-digest");
        assert_eq!(f["advisory"], "TW-2026-0002");
        assert_eq!(f["line"], 4);
        assert_eq!(f["column"], 14);
        assert_eq!(f["end_column"], 14 + 86);
        assert_eq!(v["notes"][3]["path"], serde_json::Value::Null);
        assert_eq!(v["advisories"][1], "TW-2026-0002");
    }

    #[test]
    fn pretty_is_the_same_document() {
        let report = fixture::report();
        let mut pretty = Vec::new();
        render_pretty(&report, &mut pretty).unwrap();
        assert!(pretty.starts_with(b"{\n  \"version\": 1,"));
        let pretty: serde_json::Value = serde_json::from_slice(&pretty).unwrap();
        assert_eq!(pretty, to_value(&report));
    }

    #[test]
    fn every_key_is_documented() {
        fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        out.push(k.clone());
                        keys(v, out);
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
                _ => {}
            }
        }
        let doc = include_str!("../../JSON.md");
        let mut all = Vec::new();
        keys(&to_value(&fixture::report()), &mut all);
        for key in all {
            assert!(
                doc.contains(&format!("`{key}`")),
                "JSON.md does not document `{key}`"
            );
        }
    }
}
