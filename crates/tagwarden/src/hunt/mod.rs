//! `hunt`: were we hit? Every evidence source reports what it saw; the judge turns evidence into
//! hits with a verdict, and the hits (the `tagwarden-hunt` model) become a timeline, a report,
//! JSON, SARIF, STIX or MISP.

pub(crate) mod export;
pub(crate) mod files;
pub(crate) mod judge;
pub(crate) mod mirror;
pub(crate) mod report;
pub(crate) mod sarif;

use std::sync::Mutex;

use tagwarden_evidence::{Evidence, EvidenceSource, Problem, Sink, SourceStats};
use tagwarden_hunt::{Hit, Outcome, SourceRun, SourceStatus};

/// Collects evidence from every source and judges it as it arrives (evidence is not kept:
/// a hunt over gigabytes of logs holds only the hits).
struct Judging<'a> {
    advisories: &'a tagwarden_advisory::AdvisorySet,
    found: Mutex<Found>,
    progress: &'a (dyn Fn(u64) + Sync),
}

#[derive(Default)]
struct Found {
    hits: Vec<Hit>,
    weak: Vec<Hit>,
    cleared: Vec<Hit>,
    evidence: u64,
    problems: Vec<Problem>,
    notes: Vec<Problem>,
    /// Registry audit-log records, judged apart (`tagwarden-audit`).
    audit: Vec<tagwarden_evidence::audit::AuditRecord>,
}

impl Judging<'_> {
    fn found(&self) -> std::sync::MutexGuard<'_, Found> {
        self.found.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Sink for Judging<'_> {
    fn evidence(&self, evidence: Evidence) {
        let judged = judge::judge(&evidence, self.advisories);
        let mut found = self.found();
        found.hits.extend(judged.hits);
        found.weak.extend(judged.weak);
        found.cleared.extend(judged.cleared);
        found.evidence += 1;
    }
    fn problem(&self, problem: Problem) {
        self.found().problems.push(problem);
    }
    fn note(&self, note: Problem) {
        self.found().notes.push(note);
    }
    fn progress(&self, bytes: u64) {
        (self.progress)(bytes);
    }
    fn audit(&self, record: tagwarden_evidence::audit::AuditRecord) {
        self.found().audit.push(record);
    }
}

/// Runs every source, one after the other (each source parallelises its own reading); returns
/// the outcome and the registry audit-log records read (for `tagwarden_audit::judge`).
pub(crate) fn run(
    sources: &[Box<dyn EvidenceSource>],
    advisories: &tagwarden_advisory::AdvisorySet,
    progress: &(dyn Fn(u64) + Sync),
) -> (Outcome, Vec<tagwarden_evidence::audit::AuditRecord>) {
    let sink = Judging {
        advisories,
        found: Mutex::new(Found::default()),
        progress,
    };
    let mut runs = Vec::new();
    for source in sources {
        let name = source.describe();
        let run = match source.collect(&sink) {
            Ok(SourceStats {
                files,
                bytes,
                records,
            }) => SourceRun {
                name,
                status: SourceStatus::Ok,
                error: None,
                files,
                bytes,
                records,
            },
            Err(p) => SourceRun {
                name,
                status: SourceStatus::Error,
                error: Some(format!("{}: {}", p.location, p.message)),
                files: 0,
                bytes: 0,
                records: 0,
            },
        };
        runs.push(run);
    }
    let found = sink.found.into_inner().unwrap_or_else(|e| e.into_inner());
    let outcome = Outcome::new(
        found.hits,
        found.weak,
        runs,
        found.problems,
        found.notes,
        found.evidence,
    )
    .with_cleared(found.cleared);
    (outcome, found.audit)
}
