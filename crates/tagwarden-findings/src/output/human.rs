//! Compiler-style output for people at a terminal, one block per finding:
//!
//! ```text
//! critical[compromised-digest]: checkmarx/kics pinned to a malicious digest (KICS 2026-04-22)
//!  --> ci/scan.yml:12:16
//!   |
//! 12 |       image: checkmarx/kics@sha256:a0d9…
//!    |              ^^^^^^^^^^^^^^^^^^^^^^^^^^^ malicious digest
//!    = note: …
//!    = help: …
//! ```
//!
//! then a summary. Text that comes from scanned files goes through [`escape`] so that a hostile
//! file cannot drive the terminal; in the source line, each unsafe character becomes one U+FFFD
//! so that the carets still line up.

use std::borrow::Cow;
use std::io::{self, Write};

use super::escape::{self, terminal as sanitize};
use super::plural;
use crate::{Finding, Note, ScanReport, Severity};

/// Longest stretch of a source line shown, in characters; longer lines are cut around the span.
const MAX_SNIPPET_CHARS: usize = 160;
/// Characters of context kept before the span when a long line is cut.
const CONTEXT_BEFORE: usize = 40;
/// Note lines printed in the summary before the rest is elided.
const MAX_NOTE_LINES: usize = 20;
/// Paths listed for a group of notes with the same message.
const MAX_PATHS_PER_NOTE: usize = 5;

/// Writes every finding as a compiler-style block, then a summary. `color` enables ANSI colours.
pub fn render(report: &ScanReport, w: &mut dyn Write, color: bool) -> io::Result<()> {
    let paint = Painter { color };
    for finding in report.sorted_findings() {
        render_finding(finding, w, paint)?;
        writeln!(w)?;
    }
    render_summary(report, w, paint)
}

#[derive(Clone, Copy)]
struct Painter {
    color: bool,
}

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const GUTTER: &str = "\x1b[1;34m";

impl Painter {
    fn paint<'a>(self, style: &str, text: &'a str) -> Cow<'a, str> {
        if self.color && !text.is_empty() {
            Cow::Owned(format!("{style}{text}{RESET}"))
        } else {
            Cow::Borrowed(text)
        }
    }
}

fn severity_style(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "\x1b[1;31m",
        Severity::High => "\x1b[1;91m",
        Severity::Medium => "\x1b[1;33m",
        Severity::Low => "\x1b[1;36m",
        Severity::Info => "\x1b[1;32m",
    }
}

fn render_finding(f: &Finding, w: &mut dyn Write, paint: Painter) -> io::Result<()> {
    let style = severity_style(f.severity);
    let loc = &f.location;
    let width = loc.line.to_string().len();
    let pad = " ".repeat(width);

    let head = format!("{}[{}]", f.severity, f.rule.id);
    let message = sanitize(&f.message);
    writeln!(
        w,
        "{}{} {}",
        paint.paint(style, &head),
        paint.paint(BOLD, ":"),
        paint.paint(BOLD, &message)
    )?;
    writeln!(
        w,
        "{pad}{} {}:{}:{}",
        paint.paint(GUTTER, "-->"),
        sanitize(&loc.path),
        loc.line,
        loc.column
    )?;

    let bar = paint.paint(GUTTER, "|");
    if let Some(snippet) = &f.snippet {
        let view = SnippetView::new(snippet, loc);
        writeln!(w, "{pad} {bar}")?;
        let number = paint.paint(GUTTER, &loc.line.to_string()).into_owned();
        writeln!(w, "{number} {bar} {}", view.text)?;
        let carets = "^".repeat(view.caret_width);
        writeln!(
            w,
            "{pad} {bar} {}{} {}",
            view.caret_prefix,
            paint.paint(style, &carets),
            paint.paint(style, f.rule.label)
        )?;
    }

    let eq = paint.paint(GUTTER, "=");
    if let Some(advisory) = &f.advisory {
        writeln!(
            w,
            "{pad} {eq} {} advisory {}",
            paint.paint(BOLD, "note:"),
            sanitize(advisory)
        )?;
    }
    for note in &f.notes {
        write_labelled(w, &pad, &eq, &paint.paint(BOLD, "note:"), note)?;
    }
    write_labelled(w, &pad, &eq, &paint.paint(BOLD, "help:"), f.rule.fix)
}

/// `= note: text`, with continuation lines aligned under the text.
fn write_labelled(
    w: &mut dyn Write,
    pad: &str,
    eq: &str,
    label: &str,
    text: &str,
) -> io::Result<()> {
    // "note:" and "help:" are five characters: continuation lines start under the text.
    let indent = format!("{pad}   {}", " ".repeat(6));
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            writeln!(w, "{pad} {eq} {label} {}", sanitize(line))?;
        } else {
            writeln!(w, "{indent}{}", sanitize(line))?;
        }
    }
    if text.is_empty() {
        writeln!(w, "{pad} {eq} {label}")?;
    }
    Ok(())
}

/// What to print for a source line and the caret line under it.
#[derive(Debug, PartialEq, Eq)]
struct SnippetView {
    /// The (possibly cut) line, sanitised.
    text: String,
    /// Whitespace up to the span, keeping tabs so that the carets line up with the source.
    caret_prefix: String,
    caret_width: usize,
}

impl SnippetView {
    fn new(snippet: &str, loc: &crate::Location) -> Self {
        let chars: Vec<char> = snippet
            .trim_end_matches(['\n', '\r'])
            .chars()
            .map(sanitize_char)
            .collect();
        let len = chars.len();
        let start = loc.column.saturating_sub(1).min(len);
        let end = if loc.end_line == loc.line {
            loc.end_column.saturating_sub(1)
        } else {
            // A multi-line span: underline to the end of its first line.
            len
        };
        let end = end.min(len).max(start);

        let (mut win_start, mut win_end) = (0, len);
        if len > MAX_SNIPPET_CHARS {
            win_start = start.saturating_sub(CONTEXT_BEFORE);
            win_end = (win_start + MAX_SNIPPET_CHARS).min(len);
            win_start = win_end.saturating_sub(MAX_SNIPPET_CHARS).min(win_start);
        }
        let shown = chars.get(win_start..win_end).unwrap_or(&[]);

        let mut text = String::new();
        let mut caret_prefix = String::new();
        if win_start > 0 {
            text.push('…');
            caret_prefix.push(' ');
        }
        text.extend(shown);
        if win_end < len {
            text.push('…');
        }
        for &c in chars.get(win_start..start).unwrap_or(&[]) {
            if c == '\t' {
                caret_prefix.push('\t');
            } else {
                caret_prefix.extend(std::iter::repeat_n(' ', char_width(c)));
            }
        }
        let caret_width = chars
            .get(start..end.min(win_end))
            .unwrap_or(&[])
            .iter()
            .map(|&c| if c == '\t' { 1 } else { char_width(c) })
            .sum::<usize>()
            .max(1);
        SnippetView {
            text,
            caret_prefix,
            caret_width,
        }
    }
}

/// Terminal columns a character takes: 0 for combining marks, 2 for wide East Asian characters
/// and emoji, else 1. A small table is enough to keep carets aligned on common text.
fn char_width(c: char) -> usize {
    let cp = c as u32;
    let zero = matches!(cp,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x0610..=0x061A | 0x064B..=0x065F
        | 0x200B..=0x200F | 0x20D0..=0x20FF | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F);
    if zero {
        return 0;
    }
    let wide = matches!(cp,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD);
    if wide { 2 } else { 1 }
}

/// Unsafe characters of a source line become U+FFFD, one for one, so columns still line up.
fn sanitize_char(c: char) -> char {
    if escape::is_unsafe(c) { '\u{FFFD}' } else { c }
}

fn render_summary(report: &ScanReport, w: &mut dyn Write, paint: Painter) -> io::Result<()> {
    let counts = report.counts_by_severity();
    if counts.total() == 0 {
        writeln!(w, "{}", paint.paint(BOLD, "no findings"))?;
    } else {
        let parts: Vec<String> = Severity::ALL_DESCENDING
            .into_iter()
            .filter(|&s| counts.get(s) > 0)
            .map(|s| {
                let text = format!("{} {s}", counts.get(s));
                paint.paint(severity_style(s), &text).into_owned()
            })
            .collect();
        let total = plural(counts.total(), "finding", "findings");
        writeln!(
            w,
            "{} {}",
            paint.paint(BOLD, &format!("found {total}:")),
            parts.join(", ")
        )?;
    }

    let mut line = format!(
        "{} ({} pinned to a digest)",
        plural(
            report.references.len(),
            "image reference",
            "image references"
        ),
        report.pinned_references()
    );
    if !report.actions.is_empty() {
        line.push_str(&format!(
            ", {} ({} pinned to a commit)",
            plural(
                report.actions.len(),
                "action reference",
                "action references"
            ),
            report.pinned_actions()
        ));
    }
    line.push_str(&format!(
        "; {} scanned",
        plural(report.files_scanned, "file", "files")
    ));
    if report.files_skipped > 0 {
        line.push_str(&format!(", {} skipped", report.files_skipped));
    }
    writeln!(w, "{line}")?;

    let label = paint.paint(BOLD, "note:");
    for text in summary_notes(&report.notes) {
        writeln!(w, "{label} {text}")?;
    }
    Ok(())
}

/// The notes for a summary, escaped, grouped and capped (the JSON output lists them all).
pub(super) fn summary_notes(notes: &[Note]) -> Vec<String> {
    let mut lines = note_lines(notes);
    if lines.len() > MAX_NOTE_LINES {
        let rest = lines.len() - MAX_NOTE_LINES;
        lines.truncate(MAX_NOTE_LINES);
        lines.push(format!(
            "… and {} (the JSON output lists them all)",
            plural(rest, "more note", "more notes")
        ));
    }
    lines
}

/// One line per note, notes about files that share a message grouped into one line.
fn note_lines(notes: &[Note]) -> Vec<String> {
    // (message, paths) for file notes, in order of first appearance; None for general notes.
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut order: Vec<Result<usize, &str>> = Vec::new();
    for note in notes {
        match &note.path {
            Some(path) => match groups.iter().position(|(m, _)| *m == note.message) {
                Some(i) => {
                    if let Some(group) = groups.get_mut(i) {
                        group.1.push(path);
                    }
                }
                None => {
                    order.push(Ok(groups.len()));
                    groups.push((&note.message, vec![path]));
                }
            },
            None => order.push(Err(&note.message)),
        }
    }
    order
        .into_iter()
        .filter_map(|entry| match entry {
            Err(message) => Some(sanitize(message).into_owned()),
            Ok(i) => {
                let (message, paths) = groups.get(i)?;
                let message = sanitize(message);
                Some(match paths.as_slice() {
                    [one] => format!("{}: {message}", sanitize(one)),
                    many => {
                        let mut listed: Vec<Cow<'_, str>> = many
                            .iter()
                            .take(MAX_PATHS_PER_NOTE)
                            .map(|p| sanitize(p))
                            .collect();
                        if many.len() > MAX_PATHS_PER_NOTE {
                            listed.push(Cow::Owned(format!(
                                "and {} more",
                                many.len() - MAX_PATHS_PER_NOTE
                            )));
                        }
                        format!("{message} ({} files: {})", many.len(), listed.join(", "))
                    }
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixture;
    use crate::{ByteSpan, Location, rules};

    fn render_plain(report: &ScanReport) -> String {
        let mut out = Vec::new();
        render(report, &mut out, false).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn full_report() {
        let expected = format!("\
critical[compromised-digest]: checkmarx/kics pinned to a malicious digest (KICS 2026-04-22)
 --> .github/workflows/scan.yml:4:14
  |
4 |       image: checkmarx/kics@sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0
  |              {carets} malicious digest
  = note: advisory TW-2026-0002
  = note: this digest is the image index pushed as `latest` on 2026-04-22
  = help: replace the digest with a known-good one and treat every run of this image as compromised: rotate the secrets it could read

medium[floating-latest]: nginx has no tag: it means `latest`
 --> compose.yml:3:13
  |
3 |     image: \"nginx\"
  |             ^^^^^ floating `latest` tag
  = help: choose a version tag and pin its digest: `name:1.2.3@sha256:…`

low[unpinned-image]: alpine:3.20 is not pinned to a digest
 --> docker/Dockerfile:1:6
  |
1 | FROM\talpine:3.20 AS base
  |     \t^^^^^^^^^^^ not pinned to a digest
  = help: add the digest of the image you mean to run: `name:tag@sha256:…`

found 3 findings: 1 critical, 1 medium, 1 low
3 image references (1 pinned to a digest), 1 action reference (0 pinned to a commit); 4 files scanned, 3 skipped
note: big.yaml: skipped: larger than 4 MiB
note: skipped: not UTF-8 (2 files: charts/x.yaml, charts/y.yaml)
note: 2 advisories loaded
",
            carets = "^".repeat(86)
        );
        assert_eq!(render_plain(&fixture::report()), expected);
    }

    #[test]
    fn empty_report() {
        let report = ScanReport {
            files_scanned: 1,
            ..ScanReport::default()
        };
        assert_eq!(
            render_plain(&report),
            "no findings\n0 image references (0 pinned to a digest); 1 file scanned\n"
        );
    }

    #[test]
    fn color_only_when_asked() {
        let report = fixture::report();
        assert!(!render_plain(&report).contains('\x1b'));
        let mut out = Vec::new();
        render(&report, &mut out, true).unwrap();
        let colored = String::from_utf8(out).unwrap();
        assert!(colored.contains("\x1b[1;31mcritical[compromised-digest]\x1b[0m"));
        assert!(colored.contains("\x1b[1;33m1 medium\x1b[0m"));
    }

    fn view(snippet: &str, column: usize, end_column: usize) -> SnippetView {
        let mut loc = Location::point("f", 7, column);
        loc.end_column = end_column;
        SnippetView::new(snippet, &loc)
    }

    #[test]
    fn carets_with_tabs_and_non_ascii() {
        let v = view("\t\timage: nginx", 10, 15);
        assert_eq!(v.caret_prefix, "\t\t       ");
        assert_eq!(v.caret_width, 5);

        // Columns count characters, not bytes.
        let v = view("  name: \"é-ü\" image: alpine", 22, 28);
        assert_eq!(v.caret_prefix, " ".repeat(21));
        assert_eq!(v.caret_width, 6);

        // Wide characters take two terminal columns.
        let v = view("名前: alpine", 5, 11);
        assert_eq!(v.caret_prefix, " ".repeat(6));
        assert_eq!(v.caret_width, 6);
        let v = view("x: 名前", 4, 6);
        assert_eq!(v.caret_width, 4);
    }

    #[test]
    fn caret_edge_cases() {
        // Empty span and a column past the end still get one caret.
        let v = view("FROM", 5, 5);
        assert_eq!((v.caret_prefix.as_str(), v.caret_width), ("    ", 1));
        let v = view("ab", 99, 120);
        assert_eq!((v.caret_prefix.len(), v.caret_width), (2, 1));
        // Column 0 (invalid) is treated as 1.
        let v = view("ab", 0, 0);
        assert_eq!((v.caret_prefix.as_str(), v.caret_width), ("", 1));
        // A multi-line span is underlined to the end of the line.
        let mut loc = Location::point("f", 1, 3);
        loc.end_line = 2;
        loc.end_column = 1;
        let v = SnippetView::new("a: |\r\n", &loc);
        assert_eq!((v.text.as_str(), v.caret_width), ("a: |", 2));
    }

    #[test]
    fn long_lines_are_cut_around_the_span() {
        let line = format!("{}image: alpine{}", "x".repeat(300), "y".repeat(300));
        let v = view(&line, 308, 314);
        assert!(v.text.starts_with('…') && v.text.ends_with('…'));
        assert_eq!(v.text.chars().count(), MAX_SNIPPET_CHARS + 2);
        let caret_at = v.caret_prefix.chars().count();
        let shown: String = v.text.chars().skip(caret_at).take(v.caret_width).collect();
        assert_eq!(shown, "alpine");
    }

    #[test]
    fn control_characters_are_neutralised() {
        let text = "image: \x1b[31mevil\n";
        let f = crate::Finding::in_text(
            &rules::INVALID_REFERENCE,
            "a\x1b]0;t\x07.yml",
            text,
            ByteSpan::new(7, 16),
            "bad \x1b[2J reference\nsecond line",
        )
        .with_note("multi\nline");
        let report = ScanReport {
            findings: vec![f],
            ..ScanReport::default()
        };
        let out = render_plain(&report);
        assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out}");
        assert!(
            out.contains("bad \\x1b[2J reference\\nsecond line"),
            "{out}"
        );
        assert!(out.contains("--> a\\x1b]0;t\\x07.yml:1:8"), "{out}");
        assert!(out.contains("  = note: multi\n          line\n"), "{out}");
        assert!(out.contains("1 | image: \u{FFFD}[31mevil\n"), "{out}");
        assert!(out.contains("  |        ^^^^^^^^^ not a valid"), "{out}");
    }

    #[test]
    fn without_snippet_and_wide_gutter() {
        let f = crate::Finding::new(
            &rules::PARSE_ERROR,
            Location::point("values.yaml", 1234, 2),
            "YAML: did not find expected key",
        );
        let report = ScanReport {
            findings: vec![f],
            ..ScanReport::default()
        };
        let out = render_plain(&report);
        assert!(out.starts_with(
            "medium[parse-error]: YAML: did not find expected key\n    --> values.yaml:1234:2\n     = help: "
        ), "{out}");
    }

    #[test]
    fn many_notes_are_grouped_and_capped() {
        let mut notes: Vec<Note> = (0..8)
            .map(|i| Note::new(Some(format!("f{i}")), "skipped: binary"))
            .collect();
        notes.extend((0..30).map(|i| Note::new(None, format!("general {i}"))));
        let lines = note_lines(&notes);
        assert_eq!(
            lines.first().map(String::as_str),
            Some("skipped: binary (8 files: f0, f1, f2, f3, f4, and 3 more)")
        );
        let report = ScanReport {
            notes,
            ..ScanReport::default()
        };
        let out = render_plain(&report);
        assert_eq!(out.matches("note: ").count(), MAX_NOTE_LINES + 1);
        assert!(out.ends_with("note: … and 11 more notes (the JSON output lists them all)\n"));
    }
}
