//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding, which
//! the runner turns into annotations on the pull request, then the notes and a summary line as
//! plain lines for the log.
//!
//! Paths must be relative to the repository root for annotations to attach to files; they are
//! printed as given.

use std::io::{self, Write};

use super::escape::terminal;
use super::plural;
use crate::{Finding, ScanReport, Severity};

/// Writes one workflow command per finding, then a one-line summary.
pub fn render(report: &ScanReport, w: &mut dyn Write) -> io::Result<()> {
    for f in report.sorted_findings() {
        writeln!(w, "{}", annotation(f))?;
    }
    // Notes are plain log lines: the `note: ` prefix keeps a hostile path from starting a
    // workflow command.
    for text in super::human::summary_notes(&report.notes) {
        writeln!(w, "note: {text}")?;
    }
    let counts = report.counts_by_severity();
    let by_severity: Vec<String> = Severity::ALL_DESCENDING
        .into_iter()
        .filter(|&s| counts.get(s) > 0)
        .map(|s| format!("{} {s}", counts.get(s)))
        .collect();
    let findings = if by_severity.is_empty() {
        "no findings".to_owned()
    } else {
        format!(
            "{} ({})",
            plural(counts.total(), "finding", "findings"),
            by_severity.join(", ")
        )
    };
    writeln!(
        w,
        "tagwarden: {findings}; {} ({} pinned); {} scanned",
        plural(
            report.references.len(),
            "image reference",
            "image references"
        ),
        report.pinned_references(),
        plural(report.files_scanned, "file", "files"),
    )
}

/// The workflow command for a finding's severity.
pub fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// One `::error file=…,line=…::message` line, without the trailing newline.
pub fn annotation(f: &Finding) -> String {
    let loc = &f.location;
    let line = loc.line.max(1);
    let end_line = loc.end_line.max(line);
    let mut props = format!(
        "file={},line={line},endLine={end_line}",
        escape_property(&terminal(&loc.path))
    );
    // GitHub accepts columns only on a single-line annotation; endColumn is inclusive there.
    if end_line == line {
        let col = loc.column.max(1);
        let end_col = loc.end_column.saturating_sub(1).max(col);
        props.push_str(&format!(",col={col},endColumn={end_col}"));
    }
    props.push_str(&format!(
        ",title={}",
        escape_property(&format!("tagwarden {}", f.rule.id))
    ));

    // The log shows the raw line: no escape sequence may reach it (newlines are %0A-escaped
    // below, and an annotation may have several lines).
    let mut message = format!("{}: {}", f.severity, lines(&f.message));
    if let Some(advisory) = &f.advisory {
        message.push_str(&format!("\nadvisory: {}", lines(advisory)));
    }
    for note in &f.notes {
        message.push_str(&format!("\nnote: {}", lines(note)));
    }
    message.push_str(&format!("\nhelp: {}", f.rule.fix));
    format!(
        "::{} {props}::{}",
        command(f.severity),
        escape_data(&message)
    )
}

/// Each line of `s` made terminal-safe, the newlines kept.
fn lines(s: &str) -> String {
    s.split('\n').map(terminal).collect::<Vec<_>>().join("\n")
}

/// Escapes the message part of a workflow command: `%`, CR and LF.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value of a workflow command: as [`escape_data`], plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixture;
    use crate::{Location, rules};

    #[test]
    fn fixture_report() {
        let mut out = Vec::new();
        render(&fixture::report(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let expected = "\
::error file=.github/workflows/scan.yml,line=4,endLine=4,col=14,endColumn=99,title=tagwarden compromised-digest::critical: checkmarx/kics pinned to a malicious digest (KICS 2026-04-22)%0Aadvisory: TW-2026-0002%0Anote: this digest is the image index pushed as `latest` on 2026-04-22%0Ahelp: replace the digest with a known-good one and treat every run of this image as compromised: rotate the secrets it could read
::warning file=compose.yml,line=3,endLine=3,col=13,endColumn=17,title=tagwarden floating-latest::medium: nginx has no tag: it means `latest`%0Ahelp: choose a version tag and pin its digest: `name:1.2.3@sha256:…`
::notice file=docker/Dockerfile,line=1,endLine=1,col=6,endColumn=16,title=tagwarden unpinned-image::low: alpine:3.20 is not pinned to a digest%0Ahelp: add the digest of the image you mean to run: `name:tag@sha256:…`
note: big.yaml: skipped: larger than 4 MiB
note: skipped: not UTF-8 (2 files: charts/x.yaml, charts/y.yaml)
note: 2 advisories loaded
tagwarden: 3 findings (1 critical, 1 medium, 1 low); 3 image references (1 pinned); 4 files scanned
";
        assert_eq!(out, expected);
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_data("100% a\r\nb: c,d"), "100%25 a%0D%0Ab: c,d");
        assert_eq!(escape_property("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae");
        let mut loc = Location::point("dir,1/a:b.yml", 2, 3);
        loc.end_line = 4;
        let f = crate::Finding::new(&rules::PARSE_ERROR, loc, "50% broken\nreally");
        let line = annotation(&f);
        assert!(
            line.starts_with(
                "::warning file=dir%2C1/a%3Ab.yml,line=2,endLine=4,title=tagwarden parse-error::medium: 50%25 broken%0Areally%0Ahelp: "
            ),
            "{line}"
        );
        assert!(!line.contains('\n'));
        // No escape sequence reaches the log, from the path, the message or a note.
        let f = crate::Finding::new(
            &rules::PARSE_ERROR,
            Location::point("a\x1b[2Kb.yml", 1, 1),
            "x\x1b[1A\rclean",
        )
        .with_note("n\u{202e}\x07");
        let line = annotation(&f);
        assert!(!line.contains(['\x1b', '\r', '\x07', '\u{202e}']), "{line}");
        assert!(line.contains("file=a\\x1b[2Kb.yml"), "{line}");
        assert!(line.contains("x\\x1b[1A\\rclean"), "{line}");
    }

    #[test]
    fn no_findings() {
        let mut out = Vec::new();
        render(&ScanReport::default(), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "tagwarden: no findings; 0 image references (0 pinned); 0 files scanned\n"
        );
    }
}
