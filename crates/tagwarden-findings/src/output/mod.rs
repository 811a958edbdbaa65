//! Output formats: one module per format, each a function over a [`ScanReport`].

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use crate::ScanReport;

pub mod escape;
pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

/// An output format, named on the command line as `human`, `json`, `sarif` or `github`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// Compiler-style diagnostics with source snippets.
    #[default]
    Human,
    /// Versioned JSON (see `JSON.md`).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::…`), for annotations in CI.
    Github,
}

impl Format {
    /// Every format, in the order the command line lists them.
    pub const ALL: [Format; 4] = [Format::Human, Format::Json, Format::Sarif, Format::Github];

    /// The command-line names, for a clap `PossibleValuesParser`.
    pub const NAMES: [&'static str; 4] = ["human", "json", "sarif", "github"];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The error of parsing a [`Format`] from a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseFormatError {
    input: String,
}

impl fmt::Display for ParseFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown output format `{}` (expected one of: human, json, sarif, github)",
            self.input
        )
    }
}

impl std::error::Error for ParseFormatError {}

impl FromStr for Format {
    type Err = ParseFormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseFormatError {
                input: s.to_owned(),
            })
    }
}

/// What the renderers need besides the report.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// ANSI colours in human output.
    pub color: bool,
    /// The tagwarden version, for SARIF `tool.driver`.
    pub tool_version: String,
}

/// Renders `report` in `format`.
pub fn render(
    format: Format,
    report: &ScanReport,
    w: &mut dyn Write,
    options: &RenderOptions,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, w, options.color),
        Format::Json => json::render(report, w),
        Format::Sarif => sarif::render(report, w, &options.tool_version),
        Format::Github => github::render(report, w),
    }
}

/// `1 finding`, `2 findings`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A small hand-built report shared by the format tests.

    use crate::{
        ActionRecord, ByteSpan, Finding, Location, Note, ReferenceRecord, ScanReport, rules,
    };

    pub(crate) const KICS_LATEST: &str =
        "sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0";

    pub(crate) fn report() -> ScanReport {
        let ci =
            format!("jobs:\n  scan:\n    container:\n      image: checkmarx/kics@{KICS_LATEST}\n");
        let ci_start = ci.find("checkmarx").unwrap();
        let ci_span = ByteSpan::new(ci_start, ci.len() - 1);
        let docker = "FROM\talpine:3.20 AS base\n";
        let docker_span = ByteSpan::new(5, 16);
        let compose = "services:\n  web:\n    image: \"nginx\"\n";
        let compose_start = compose.find("nginx").unwrap();
        let compose_span = ByteSpan::new(compose_start, compose_start + 5);
        let wf = "steps:\n  - uses: actions/checkout@v4\n";
        let wf_start = wf.find("actions/").unwrap();
        let wf_span = ByteSpan::new(wf_start, wf.len() - 1);
        ScanReport {
            root: "repo".into(),
            references: vec![
                ReferenceRecord {
                    path: "docker/Dockerfile".into(),
                    line: 1,
                    column: 6,
                    span: docker_span,
                    text: "alpine:3.20".into(),
                    image: Some("docker.io/library/alpine:3.20".into()),
                    source: "dockerfile-from".into(),
                    pinned: false,
                    context: Some("base".into()),
                    alias_sites: vec![],
                },
                ReferenceRecord {
                    path: ".github/workflows/scan.yml".into(),
                    line: 4,
                    column: 14,
                    span: ci_span,
                    text: format!("checkmarx/kics@{KICS_LATEST}"),
                    image: Some(format!("docker.io/checkmarx/kics@{KICS_LATEST}")),
                    source: "github-container".into(),
                    pinned: true,
                    context: Some("scan".into()),
                    alias_sites: vec![],
                },
                ReferenceRecord {
                    path: "compose.yml".into(),
                    line: 3,
                    column: 13,
                    span: compose_span,
                    text: "nginx".into(),
                    image: Some("docker.io/library/nginx:latest".into()),
                    source: "compose-image".into(),
                    pinned: false,
                    context: Some("web".into()),
                    alias_sites: vec![Location::point("compose.yml", 9, 12)],
                },
            ],
            actions: vec![ActionRecord {
                path: ".github/workflows/scan.yml".into(),
                line: 2,
                column: 11,
                span: wf_span,
                text: "actions/checkout@v4".into(),
                repository: "actions/checkout".into(),
                git_ref: "v4".into(),
                pinned: false,
            }],
            findings: vec![
                Finding::in_text(
                    &rules::UNPINNED_IMAGE,
                    "docker/Dockerfile",
                    docker,
                    docker_span,
                    "alpine:3.20 is not pinned to a digest",
                )
                .with_image("docker.io/library/alpine:3.20"),
                Finding::in_text(
                    &rules::COMPROMISED_DIGEST,
                    ".github/workflows/scan.yml",
                    &ci,
                    ci_span,
                    "checkmarx/kics pinned to a malicious digest (KICS 2026-04-22)",
                )
                .with_image(format!("docker.io/checkmarx/kics@{KICS_LATEST}"))
                .with_advisory("TW-2026-0002")
                .with_note("this digest is the image index pushed as `latest` on 2026-04-22"),
                Finding::in_text(
                    &rules::FLOATING_LATEST,
                    "compose.yml",
                    compose,
                    compose_span,
                    "nginx has no tag: it means `latest`",
                )
                .with_image("docker.io/library/nginx:latest"),
            ],
            notes: vec![
                Note::new(Some("big.yaml".into()), "skipped: larger than 4 MiB"),
                Note::new(Some("charts/x.yaml".into()), "skipped: not UTF-8"),
                Note::new(Some("charts/y.yaml".into()), "skipped: not UTF-8"),
                Note::new(None, "2 advisories loaded"),
            ],
            files_scanned: 4,
            files_skipped: 3,
            advisories: vec!["TW-2026-0001".into(), "TW-2026-0002".into()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for (format, name) in Format::ALL.into_iter().zip(Format::NAMES) {
            assert_eq!(format.to_string(), name);
            assert_eq!(name.parse::<Format>(), Ok(format));
        }
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        assert!("xml".parse::<Format>().is_err());
    }

    #[test]
    fn dispatch_writes_something_for_every_format() {
        let report = fixture::report();
        let options = RenderOptions {
            color: false,
            tool_version: "0.1.0".into(),
        };
        for format in Format::ALL {
            let mut out = Vec::new();
            render(format, &report, &mut out, &options).unwrap();
            assert!(!out.is_empty(), "{format}");
            assert!(out.ends_with(b"\n"), "{format}");
        }
    }
}

#[cfg(test)]
mod print_samples {
    /// `cargo test -p tagwarden-findings print_samples -- --ignored --nocapture` shows each format.
    #[test]
    #[ignore]
    fn print_samples() {
        let report = super::fixture::report();
        let mut out = std::io::stdout();
        super::human::render(&report, &mut out, true).unwrap();
        super::sarif::render(&report, &mut out, "0.1.0").unwrap();
        super::json::render_pretty(&report, &mut out).unwrap();
    }
}
