//! `tagwarden audit LOG...`: registry audit logs read (Docker Hub, Harbor, CloudTrail, GitHub,
//! GitLab), every push after the baseline judged against its repository's history in it, the
//! findings rendered as `scan`'s are (human, JSON, SARIF) or as the report's Markdown section.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Result, anyhow};
use jiff::Timestamp;
use tagwarden_audit::{Judgement, Period, Thresholds};
use tagwarden_evidence::audit::AuditLogs;
use tagwarden_evidence::recognise::Readers;
use tagwarden_evidence::{Collect, EvidenceSource, Problem};
use tagwarden_findings::output::escape::{markdown, terminal};
use tagwarden_findings::{Note, ScanReport, Severity};

use crate::Status;
use crate::cli::{AuditArgs, AuditFormat, OutputFormat};
use crate::config::Config;

pub(crate) fn run(args: AuditArgs) -> Result<Status> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::discover(Path::new("."))?,
    };
    let thresholds = config
        .audit
        .as_ref()
        .map(|a| a.thresholds.clone())
        .unwrap_or_default();
    let period = Period {
        from: args.baseline_from.as_deref().map(time).transpose()?,
        to: args.baseline_to.as_deref().map(time).transpose()?,
    };
    if let (Some(f), Some(t)) = (period.from, period.to)
        && f >= t
    {
        return Err(anyhow!("--baseline-from must come before --baseline-to"));
    }
    let (judgement, problems, files) = read_and_judge(&args.logs, period, &thresholds)?;

    let mut report = ScanReport {
        root: args
            .logs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        findings: judgement.findings.iter().map(|f| f.finding()).collect(),
        files_scanned: files,
        ..ScanReport::default()
    };
    report
        .notes
        .push(Note::new(None, baseline_note(&judgement)));
    report
        .notes
        .extend(judgement.notes.iter().map(|n| Note::new(None, n.clone())));
    report.notes.extend(
        problems
            .iter()
            .map(|p| Note::new(Some(p.location.clone()), p.message.clone())),
    );
    let color = super::use_color(args.color, args.output.as_deref());
    match args.format {
        AuditFormat::Human => {
            super::render(&report, OutputFormat::Human, args.output.as_deref(), color)?
        }
        AuditFormat::Json => {
            super::render(&report, OutputFormat::Json, args.output.as_deref(), false)?
        }
        AuditFormat::Sarif => {
            super::render(&report, OutputFormat::Sarif, args.output.as_deref(), false)?
        }
        AuditFormat::Markdown => {
            let mut text = tagwarden_audit::report::markdown_section(&judgement);
            if !problems.is_empty() {
                text.push_str("\n### What could not be read\n\n");
                for p in &problems {
                    text.push_str(&format!(
                        "- {}: {}\n",
                        markdown(&p.location),
                        markdown(&p.message)
                    ));
                }
            }
            let mut sink = super::OutputSink::open(args.output.as_deref())?;
            sink.write_all(text.as_bytes())?;
            sink.finish()?;
        }
    }
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(Severity::High);
    if report.count_at_or_above(fail_on) > 0 {
        return Ok(Status::Findings);
    }
    // A log that could not be read in full is not a clean answer.
    if !problems.is_empty() {
        eprintln!(
            "tagwarden audit: {} record(s) or file(s) could not be read: the answer is not complete",
            problems.len()
        );
        return Ok(Status::Error);
    }
    Ok(Status::Clean)
}

/// Reads every log under `paths` and judges the pushes: the judgement, what could not be read,
/// and how many files were read.
pub(crate) fn read_and_judge(
    paths: &[std::path::PathBuf],
    period: Period,
    thresholds: &Thresholds,
) -> Result<(Judgement, Vec<Problem>, usize)> {
    let sink = Collect::default();
    let stats = AuditLogs::new(paths.to_vec(), Readers::default())
        .collect(&sink)
        .map_err(|p| anyhow!("{}: {}", terminal(&p.location), terminal(&p.message)))?;
    let records = sink.audit_records();
    let (_, problems) = sink.into_parts();
    let judgement = tagwarden_audit::judge(&records, period, thresholds);
    Ok((
        judgement,
        problems,
        usize::try_from(stats.files).unwrap_or(usize::MAX),
    ))
}

/// What the findings were compared with, in one sentence.
fn baseline_note(j: &Judgement) -> String {
    let when = tagwarden_audit::judge::when;
    let period = match (j.baseline_from, j.baseline_to) {
        (Some(f), Some(t)) => format!("{} – {}", when(f), when(t)),
        (None, Some(t)) => format!("before {}", when(t)),
        _ => "none".into(),
    };
    format!(
        "baseline {period}: {} push(es); judged after it: {} push(es) of {} repositor{}",
        j.baseline_pushes,
        j.judged_pushes,
        j.repositories,
        if j.repositories == 1 { "y" } else { "ies" }
    )
}

/// `2026-04-22T12:00:00Z` (any RFC 3339 offset) or a date, `2026-04-22`, taken as midnight UTC.
fn time(s: &str) -> Result<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let date: jiff::civil::Date = s
        .parse()
        .map_err(|_| anyhow!("{s:?} is not a time (2026-04-22 or 2026-04-22T12:00:00Z)"))?;
    Ok(date.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp())
}
