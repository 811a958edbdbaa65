//! `hunt`: were we hit? Every evidence source reports what it saw; the judge turns evidence into
//! hits with a verdict, and the hits become a timeline, a report and JSON.

pub(crate) mod export;
pub(crate) mod files;
pub(crate) mod json;
pub(crate) mod judge;
pub(crate) mod mirror;
pub(crate) mod report;

use jiff::Timestamp;
use serde::Serialize;
use tagwarden_evidence::{Evidence, EvidenceSource, Problem, Sink, SourceStats};
use tagwarden_interchange::export::HuntIndicator;

/// How bad a hit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Verdict {
    /// A malicious digest or commit was seen: whatever the time, it ran or could run.
    Compromised,
    /// An affected tag was pulled (or is used) inside the exposure window.
    Exposed,
    /// Inside only the disputed part of the window.
    Disputed,
    /// Traffic to an attacker's indicator.
    Contacted,
}

impl Verdict {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Compromised => "compromised",
            Self::Exposed => "exposed",
            Self::Disputed => "disputed",
            Self::Contacted => "contacted",
        }
    }
}

/// One piece of evidence judged against one advisory.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Hit {
    pub(crate) advisory: String,
    pub(crate) verdict: Verdict,
    pub(crate) source: &'static str,
    /// File (with `:line`), socket or registry where it was seen.
    pub(crate) location: String,
    pub(crate) timestamp: Option<Timestamp>,
    /// What matched: a digest, `repository:tag`, `owner/repo@ref`, a domain, an IP, a user agent.
    pub(crate) indicator: String,
    /// The same, structured, for the STIX and MISP exports (not in the JSON: `indicator` is).
    #[serde(skip)]
    pub(crate) matched: HuntIndicator,
    /// The evidence's location without the line, and the line (the exports group by file).
    #[serde(skip)]
    pub(crate) origin: String,
    #[serde(skip)]
    pub(crate) line: Option<u64>,
    pub(crate) host: Option<String>,
    pub(crate) job: Option<String>,
    /// One sentence for people.
    pub(crate) detail: String,
    pub(crate) excerpt: Option<String>,
}

/// What one source did.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SourceRun {
    pub(crate) name: String,
    /// `ok`, or `error` when nothing could be searched.
    pub(crate) status: &'static str,
    pub(crate) error: Option<String>,
    pub(crate) files: u64,
    pub(crate) bytes: u64,
    pub(crate) records: u64,
}

/// Everything a hunt found.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) hits: Vec<Hit>,
    /// Matches of indicators that are never hits on their own (shared hosting, parking).
    pub(crate) weak: Vec<Hit>,
    pub(crate) sources: Vec<SourceRun>,
    pub(crate) problems: Vec<Problem>,
    pub(crate) evidence_count: u64,
}

impl Outcome {
    /// Hits sorted by time (unknown times last), then verdict.
    pub(crate) fn timeline(&self) -> Vec<&Hit> {
        let mut t: Vec<&Hit> = self.hits.iter().collect();
        t.sort_by(|a, b| {
            (a.timestamp.is_none(), a.timestamp, a.verdict, &a.location).cmp(&(
                b.timestamp.is_none(),
                b.timestamp,
                b.verdict,
                &b.location,
            ))
        });
        t
    }
}

/// Collects evidence from every source and judges it as it arrives (evidence is not kept:
/// a hunt over gigabytes of logs holds only the hits).
struct Judging<'a> {
    advisories: &'a tagwarden_advisory::AdvisorySet,
    hits: std::sync::Mutex<(Vec<Hit>, Vec<Hit>, u64)>,
    problems: std::sync::Mutex<Vec<Problem>>,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl Sink for Judging<'_> {
    fn evidence(&self, evidence: Evidence) {
        let (hits, weak) = judge::judge(&evidence, self.advisories);
        let mut g = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        g.0.extend(hits);
        g.1.extend(weak);
        g.2 += 1;
    }
    fn problem(&self, problem: Problem) {
        self.problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(problem);
    }
    fn progress(&self, bytes: u64) {
        (self.progress)(bytes);
    }
}

/// Runs every source, one after the other (each source parallelises its own reading).
pub(crate) fn run(
    sources: &[Box<dyn EvidenceSource>],
    advisories: &tagwarden_advisory::AdvisorySet,
    progress: &(dyn Fn(u64) + Sync),
) -> Outcome {
    let sink = Judging {
        advisories,
        hits: std::sync::Mutex::new((Vec::new(), Vec::new(), 0)),
        problems: std::sync::Mutex::new(Vec::new()),
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
                status: "ok",
                error: None,
                files,
                bytes,
                records,
            },
            Err(p) => SourceRun {
                name,
                status: "error",
                error: Some(format!("{}: {}", p.location, p.message)),
                files: 0,
                bytes: 0,
                records: 0,
            },
        };
        runs.push(run);
    }
    let (mut hits, mut weak, count) = sink.hits.into_inner().unwrap_or_else(|e| e.into_inner());
    dedup(&mut hits);
    dedup(&mut weak);
    Outcome {
        hits,
        weak,
        sources: runs,
        problems: sink
            .problems
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
        evidence_count: count,
    }
}

/// The same advisory, verdict, place, time and indicator counts once.
fn dedup(hits: &mut Vec<Hit>) {
    hits.sort_by(|a, b| {
        (
            &a.location,
            a.timestamp,
            &a.advisory,
            a.verdict,
            &a.indicator,
        )
            .cmp(&(
                &b.location,
                b.timestamp,
                &b.advisory,
                b.verdict,
                &b.indicator,
            ))
    });
    hits.dedup_by(|a, b| {
        a.location == b.location
            && a.timestamp == b.timestamp
            && a.advisory == b.advisory
            && a.verdict == b.verdict
            && a.indicator == b.indicator
    });
}
