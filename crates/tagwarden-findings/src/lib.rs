//! Findings shared by every tagwarden command, and the output formats that render them.
//!
//! A command builds a [`ScanReport`] (what it saw: image references, action references, files
//! scanned and skipped) with [`Finding`]s (what is wrong, each tied to a [`Rule`] and a
//! [`Location`]), then hands it to one of the renderers in [`output`]. Nothing here reads files
//! or touches the network: renderers write to a `&mut dyn std::io::Write`.

use std::fmt;
use std::str::FromStr;

mod location;
pub mod output;
pub mod rules;

pub use location::{ByteSpan, Location, source_line};
pub use output::Format;

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, from the most to the least severe (the order summaries list them in).
    pub const ALL_DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The lowercase name used in every output format and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The error of parsing a [`Severity`] from a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseSeverityError {
    input: String,
}

impl fmt::Display for ParseSeverityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown severity `{}` (expected one of: info, low, medium, high, critical)",
            self.input
        )
    }
}

impl std::error::Error for ParseSeverityError {}

impl FromStr for Severity {
    type Err = ParseSeverityError;

    /// Parses `info`, `low`, `medium`, `high` or `critical`, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL_DESCENDING
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseSeverityError {
                input: s.to_owned(),
            })
    }
}

/// A kind of problem tagwarden reports. The built-in rules live in [`rules`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Stable kebab-case identifier, e.g. `compromised-digest`. Shown in every output.
    pub id: &'static str,
    /// PascalCase name, e.g. `CompromisedDigest` (SARIF `rule.name`).
    pub name: &'static str,
    /// Severity of a finding unless the command decides otherwise.
    pub default_severity: Severity,
    /// One sentence: what the rule reports.
    pub summary: &'static str,
    /// The rule's user documentation in Markdown: what it does, why it matters, an example and
    /// how to fix it.
    pub help: &'static str,
    /// A few words printed under the caret in human output, e.g. `malicious digest`.
    pub label: &'static str,
    /// One sentence on what to do, printed as `= help:` in human output.
    pub fix: &'static str,
}

impl Rule {
    /// The first paragraph of [`Rule::help`] (the "What it does" section) as one line.
    pub fn description(&self) -> String {
        let mut out = String::new();
        let mut started = false;
        for line in self.help.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                if started {
                    break;
                }
                continue;
            }
            if line.is_empty() {
                if started {
                    break;
                }
                continue;
            }
            started = true;
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(line);
        }
        if out.is_empty() {
            out.push_str(self.summary);
        }
        out
    }
}

/// One problem found at one place.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static Rule,
    /// Usually `rule.default_severity`; a command may raise or lower it.
    pub severity: Severity,
    pub location: Location,
    /// One line saying what is wrong with this occurrence.
    pub message: String,
    /// The normalised image reference involved, if any and if it could be determined.
    pub image: Option<String>,
    /// The advisory id that matched, e.g. `TW-2026-0001` or `GHSA-69fq-xp46-6x23`.
    pub advisory: Option<String>,
    /// The source line the location starts on (without its line ending), for human output.
    pub snippet: Option<String>,
    /// Extra context, one sentence each, printed as `= note:`.
    pub notes: Vec<String>,
}

impl Finding {
    /// A finding at `location` with the rule's default severity and nothing else filled in.
    pub fn new(rule: &'static Rule, location: Location, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: rule.default_severity,
            location,
            message: message.into(),
            image: None,
            advisory: None,
            snippet: None,
            notes: Vec::new(),
        }
    }

    /// A finding at `span` of a file whose text is `text`: computes the location and takes the
    /// snippet from the text.
    pub fn in_text(
        rule: &'static Rule,
        path: impl Into<String>,
        text: &str,
        span: ByteSpan,
        message: impl Into<String>,
    ) -> Self {
        let location = Location::from_span(path, text, span);
        let snippet = source_line(text, span.start).to_owned();
        Finding::new(rule, location, message).with_snippet(snippet)
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn with_image(mut self, image: impl Into<String>) -> Self {
        self.image = Some(image.into());
        self
    }

    pub fn with_advisory(mut self, advisory: impl Into<String>) -> Self {
        self.advisory = Some(advisory.into());
        self
    }

    pub fn with_snippet(mut self, snippet: impl Into<String>) -> Self {
        self.snippet = Some(snippet.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// The order findings are reported in: path, line, column, rule id.
    pub fn sort_key(&self) -> (&str, usize, usize, &'static str) {
        (
            &self.location.path,
            self.location.line,
            self.location.column,
            self.rule.id,
        )
    }
}

/// Sorts findings by (path, line, column, rule id), the order every output uses.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// One container-image reference seen in a file, judged or not.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReferenceRecord {
    /// Relative to the scan root, with `/` separators.
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// The bytes of the reference as written.
    pub span: ByteSpan,
    /// The text at `span`.
    pub text: String,
    /// The normalised reference, or `None` when it could not be determined offline.
    pub image: Option<String>,
    /// Which construct held it, e.g. `dockerfile-from`, `compose-image`.
    pub source: String,
    /// True when the reference carries a digest.
    pub pinned: bool,
    /// A name that helps a reader find it: stage, service, job or container name.
    pub context: Option<String>,
    /// Other places that use this very value through a YAML alias.
    pub alias_sites: Vec<Location>,
}

/// One GitHub Action `uses: owner/repo@ref` seen in a workflow or action.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ActionRecord {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub span: ByteSpan,
    /// `owner/repo[/path]@ref` as written.
    pub text: String,
    /// `owner/repo`.
    pub repository: String,
    /// The git ref after `@`: a tag, branch or commit SHA.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// True when `git_ref` is a full 40-hex commit SHA.
    pub pinned: bool,
}

/// Something the user should know that is not a finding: a skipped or unreadable file, etc.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Note {
    pub path: Option<String>,
    pub message: String,
}

impl Note {
    pub fn new(path: Option<String>, message: impl Into<String>) -> Self {
        Note {
            path,
            message: message.into(),
        }
    }
}

/// Everything one run of a command saw and found.
#[derive(Clone, Debug, Default)]
pub struct ScanReport {
    /// The scanned path as the user gave it.
    pub root: String,
    pub references: Vec<ReferenceRecord>,
    pub actions: Vec<ActionRecord>,
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
    pub files_scanned: usize,
    pub files_skipped: usize,
    /// Ids of the advisories the findings were judged against.
    pub advisories: Vec<String>,
}

/// Number of findings at each severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl SeverityCounts {
    pub fn get(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    fn slot(&mut self, severity: Severity) -> &mut usize {
        match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        }
    }

    pub fn total(&self) -> usize {
        self.critical + self.high + self.medium + self.low + self.info
    }
}

impl ScanReport {
    /// The highest severity among the findings, `None` without findings.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// How many findings are at `severity` or above (for `--fail-on`).
    pub fn count_at_or_above(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity >= severity)
            .count()
    }

    pub fn counts_by_severity(&self) -> SeverityCounts {
        let mut counts = SeverityCounts::default();
        for f in &self.findings {
            *counts.slot(f.severity) += 1;
        }
        counts
    }

    /// Image references that carry a digest.
    pub fn pinned_references(&self) -> usize {
        self.references.iter().filter(|r| r.pinned).count()
    }

    /// Action references pinned to a full commit SHA.
    pub fn pinned_actions(&self) -> usize {
        self.actions.iter().filter(|a| a.pinned).count()
    }

    /// Puts findings, references and actions in output order (by path, line, column). The
    /// renderers sort what they print anyway; this is for callers that inspect the report.
    pub fn sort(&mut self) {
        sort_findings(&mut self.findings);
        self.references
            .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        self.actions
            .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    }

    /// The findings in output order, without mutating the report.
    pub fn sorted_findings(&self) -> Vec<&Finding> {
        let mut out: Vec<&Finding> = self.findings.iter().collect();
        out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        out
    }

    pub(crate) fn sorted_references(&self) -> Vec<&ReferenceRecord> {
        let mut out: Vec<&ReferenceRecord> = self.references.iter().collect();
        out.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        out
    }

    pub(crate) fn sorted_actions(&self) -> Vec<&ActionRecord> {
        let mut out: Vec<&ActionRecord> = self.actions.iter().collect();
        out.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_order_parse_display() {
        assert!(Severity::Info < Severity::Low);
        assert!(Severity::High < Severity::Critical);
        for s in Severity::ALL_DESCENDING {
            assert_eq!(s.to_string().parse::<Severity>(), Ok(s));
        }
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        let err = "severe".parse::<Severity>().unwrap_err();
        assert!(err.to_string().contains("`severe`"));
        assert_eq!(format!("{:<8}|", Severity::Low), "low     |");
        assert_eq!(
            serde_json::to_string(&Severity::Critical).unwrap(),
            "\"critical\""
        );
        assert_eq!(
            serde_json::from_str::<Severity>("\"medium\"").unwrap(),
            Severity::Medium
        );
    }

    fn finding(rule: &'static Rule, path: &str, line: usize, column: usize) -> Finding {
        Finding::new(rule, Location::point(path, line, column), "m")
    }

    #[test]
    fn report_counts_and_order() {
        let mut report = ScanReport {
            findings: vec![
                finding(&rules::UNPINNED_IMAGE, "b.yml", 1, 1),
                finding(&rules::COMPROMISED_DIGEST, "a.yml", 3, 5),
                finding(&rules::AFFECTED_TAG, "a.yml", 3, 5),
                finding(&rules::FLOATING_LATEST, "a.yml", 2, 9),
            ],
            ..ScanReport::default()
        };
        assert_eq!(report.max_severity(), Some(Severity::Critical));
        assert_eq!(report.count_at_or_above(Severity::High), 2);
        assert_eq!(report.count_at_or_above(Severity::Info), 4);
        let counts = report.counts_by_severity();
        assert_eq!((counts.critical, counts.low, counts.total()), (1, 1, 4));
        report.sort();
        let order: Vec<_> = report
            .findings
            .iter()
            .map(|f| (f.location.path.as_str(), f.location.line, f.rule.id))
            .collect();
        assert_eq!(
            order,
            [
                ("a.yml", 2, "floating-latest"),
                ("a.yml", 3, "affected-tag"),
                ("a.yml", 3, "compromised-digest"),
                ("b.yml", 1, "unpinned-image"),
            ]
        );
        assert_eq!(ScanReport::default().max_severity(), None);
    }

    #[test]
    fn finding_in_text() {
        let text = "a: 1\n  image: ñginx:latest\n";
        let start = text.find("ñginx").unwrap();
        let span = ByteSpan::new(start, start + "ñginx:latest".len());
        let f = Finding::in_text(&rules::FLOATING_LATEST, "x.yml", text, span, "m")
            .with_image("docker.io/library/ñginx:latest")
            .with_note("n");
        assert_eq!(f.severity, Severity::Medium);
        assert_eq!(f.snippet.as_deref(), Some("  image: ñginx:latest"));
        assert_eq!((f.location.line, f.location.column), (2, 10));
        assert_eq!((f.location.end_line, f.location.end_column), (2, 22));
    }

    #[test]
    fn description_is_first_paragraph() {
        for rule in rules::ALL {
            let d = rule.description();
            assert!(!d.is_empty());
            assert!(!d.contains('\n'));
            assert!(!d.starts_with('#'));
        }
    }
}
