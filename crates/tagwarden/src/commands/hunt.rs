//! `tagwarden hunt`: were we hit? Files, container engines, registries and mirrors, CI logs and
//! network logs, judged against the advisories, with a timeline and an incident report.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result};
use tagwarden_advisory::AdvisorySet;
use tagwarden_evidence::{EvidenceSource, Indicator, IndicatorSet, NetworkKind};
use tagwarden_hunt::Answer;

use crate::Status;
use crate::cli::{HuntArgs, HuntFormat};
use crate::hunt::export::{self, Exchange};
use crate::hunt::{self, files::FileReferences, mirror::Mirror};
use crate::scan;

pub(crate) fn run(args: HuntArgs) -> Result<Status> {
    let paths = super::roots(&args.paths);
    let prep = super::prepare(
        &paths,
        args.config.as_ref(),
        false,
        // An incident: nothing in the tree may hide a compromise.
        true,
        &args.walk,
        &args.advisory,
    )?;
    let indicators = Arc::new(indicator_set(&prep.advisories, &args.indicators)?);

    let mut sources: Vec<Box<dyn EvidenceSource>> = Vec::new();
    let mut scan_report = None;
    if !args.no_files {
        let ctx = scan::Context {
            config: &prep.config,
            advisories: &prep.advisories,
            max_file_size: args.walk.max_file_size,
            keep_files: false,
        };
        let mut report = scan::scan(&paths, &prep.walk, &ctx).report;
        report.notes.splice(0..0, prep.notes.iter().cloned());
        scan_report = Some(report.clone());
        let config = prep
            .notes
            .first()
            .map(|n| format!("{}: {}", n.path.as_deref().unwrap_or_default(), n.message));
        sources.push(Box::new(FileReferences { report, config }));
    }
    sources.extend(super::hunt_sources::evidence_sources(
        &args,
        &indicators,
        prep.walk.threads,
    ));
    if !args.registries.is_empty() {
        let (client, runtime) = crate::registry::client(&args.registry)?;
        let runtime = Arc::new(runtime);
        for r in &args.registries {
            sources.push(Box::new(Mirror::new(
                r,
                client.clone(),
                runtime.clone(),
                &prep.advisories,
            )));
        }
    }

    let tty = std::io::stderr().is_terminal();
    let read = AtomicU64::new(0);
    let progress = |bytes: u64| {
        let total = read.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if tty {
            eprint!("\rread {:.1} MB of evidence", total as f64 / 1e6);
        }
    };
    let (outcome, audit_records) = hunt::run(&sources, &prep.advisories, &progress);
    // Registry audit logs among the evidence: pushes judged against each repository's history
    // (the last `recent` period against what came before), shown in the report and summary.
    let audited = (!audit_records.is_empty()).then(|| {
        let thresholds = prep
            .config
            .audit
            .as_ref()
            .map(|a| a.thresholds.clone())
            .unwrap_or_default();
        tagwarden_audit::judge(
            &audit_records,
            tagwarden_audit::Period::default(),
            &thresholds,
        )
    });
    if tty && read.load(Ordering::Relaxed) > 0 {
        eprint!("\r\x1b[K");
    }

    // Trees given with a report: which credentials the exposed jobs could read.
    let exposure = (!args.paths.is_empty()
        && (args.report.is_some() || args.format == HuntFormat::Markdown))
        .then(|| super::exposure::for_hunt(&paths, &prep, &outcome, args.walk.max_file_size))
        .transpose()?;
    let purged = args.purge.as_deref().map(purge_section).transpose()?;
    let report = || {
        let mut md = hunt::report::markdown(&outcome, &prep.advisories);
        if let Some(j) = &audited {
            md.push('\n');
            md.push_str(&tagwarden_audit::report::markdown_section(j));
        }
        if let Some(checklist) = &exposure {
            md.push_str(&tagwarden_exposure::output::markdown::section(checklist, 2));
        }
        if let Some(section) = &purged {
            md.push('\n');
            md.push_str(section);
        }
        md
    };
    if let Some(path) = &args.report {
        tagwarden_fs::write_atomic(path, report().as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut sink = super::OutputSink::open(args.output.as_deref())?;
    match args.format {
        HuntFormat::Human => {
            write!(sink, "{}", hunt::report::summary(&outcome))?;
            if let Some(j) = &audited {
                write!(sink, "{}", audit_summary(j))?;
            }
        }
        HuntFormat::Json => tagwarden_hunt::json::write(&outcome, &mut sink)?,
        HuntFormat::Markdown => write!(sink, "{}", report())?,
        HuntFormat::Sarif => {
            hunt::sarif::render(scan_report, &outcome, &mut sink, env!("CARGO_PKG_VERSION"))?
        }
        HuntFormat::Stix | HuntFormat::Misp => {
            let format = if args.format == HuntFormat::Stix {
                Exchange::Stix
            } else {
                Exchange::Misp
            };
            export::render(
                &outcome,
                &prep.advisories,
                format,
                jiff::Timestamp::now(),
                &mut sink,
            )?;
        }
    }
    sink.finish()?;

    Ok(match outcome.answer() {
        Answer::Hit => Status::Findings,
        // A clean answer that did not search everything is not clean.
        Answer::Incomplete => Status::Error,
        Answer::Clean if !prep.advisory_errors.is_empty() => Status::Error,
        Answer::Clean => Status::Clean,
    })
}

/// The audit-log findings for the terminal: one line each, escaped, with what it was compared
/// with (`tagwarden audit` shows them in full).
fn audit_summary(j: &tagwarden_audit::Judgement) -> String {
    use tagwarden_findings::output::escape::terminal;
    let mut s = format!(
        "\nregistry audit logs: {} push(es) judged against {} in the baseline, {} finding(s)\n",
        j.judged_pushes,
        j.baseline_pushes,
        j.findings.len()
    );
    for f in &j.findings {
        s.push_str(&format!(
            "  {} [{}] {}\n      baseline: {}\n",
            f.severity,
            f.rule.id,
            terminal(&f.message),
            terminal(&f.baseline)
        ));
    }
    for n in &j.notes {
        s.push_str(&format!("  note: {}\n", terminal(n)));
    }
    s
}

/// The report section of a `purge --format json` result.
fn purge_section(path: &std::path::Path) -> Result<String> {
    let bytes = tagwarden_fs::read_bounded(path, 64 * 1024 * 1024, false)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let run = tagwarden_purge::output::json::read(&String::from_utf8_lossy(&bytes))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(tagwarden_purge::output::markdown::section(&run))
}

/// The advisories' network indicators, plus feed files (one indicator per line).
fn indicator_set(advisories: &AdvisorySet, feeds: &[PathBuf]) -> Result<IndicatorSet> {
    let mut all = Vec::new();
    for a in advisories.advisories() {
        for n in &a.network_indicators {
            all.push(Indicator {
                kind: n.kind,
                value: n.value.clone(),
                advisory_id: a.id.clone(),
                weak: n.weak,
            });
        }
    }
    for feed in feeds {
        let text = std::fs::read_to_string(feed)
            .with_context(|| format!("cannot read indicator feed {}", feed.display()))?;
        let id = format!(
            "feed:{}",
            feed.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );
        for line in text.lines() {
            let v = line.split('#').next().unwrap_or("").trim();
            if v.is_empty() {
                continue;
            }
            let v = tagwarden_advisory::refang(v);
            let kind = if v.parse::<std::net::IpAddr>().is_ok() {
                NetworkKind::Ip
            } else if v.contains("://") {
                NetworkKind::Url
            } else {
                NetworkKind::Domain
            };
            all.push(Indicator {
                kind,
                value: v,
                advisory_id: id.clone(),
                weak: false,
            });
        }
    }
    Ok(IndicatorSet::new(all))
}
