//! Hunt JSON, version 1 (documented in the README):
//! `{"version":1,"hits":[{"advisory","verdict","source","location","timestamp","indicator",
//! "host","job","detail","excerpt"}],"weak":[…],"sources":[…],"problems":[…],"summary":{…}}`.

use std::io::{self, Write};

use serde::Serialize;

use super::{Hit, Outcome, SourceRun};

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    summary: Summary,
    /// In timeline order: by time, unknown times last.
    hits: Vec<&'a Hit>,
    weak: &'a [Hit],
    sources: &'a [SourceRun],
    problems: Vec<ProblemOut<'a>>,
}

#[derive(Serialize)]
struct Summary {
    hit: bool,
    compromised: usize,
    exposed: usize,
    disputed: usize,
    contacted: usize,
    weak: usize,
    evidence: u64,
    problems: usize,
}

#[derive(Serialize)]
struct ProblemOut<'a> {
    source: &'static str,
    location: &'a str,
    message: &'a str,
}

pub(crate) fn render(outcome: &Outcome, w: &mut dyn Write) -> io::Result<()> {
    let count = |v| outcome.hits.iter().filter(|h| h.verdict == v).count();
    let doc = Document {
        version: 1,
        summary: Summary {
            hit: !outcome.hits.is_empty(),
            compromised: count(super::Verdict::Compromised),
            exposed: count(super::Verdict::Exposed),
            disputed: count(super::Verdict::Disputed),
            contacted: count(super::Verdict::Contacted),
            weak: outcome.weak.len(),
            evidence: outcome.evidence_count,
            problems: outcome.problems.len()
                + outcome.sources.iter().filter(|s| s.status != "ok").count(),
        },
        hits: outcome.timeline(),
        weak: &outcome.weak,
        sources: &outcome.sources,
        problems: outcome
            .problems
            .iter()
            .map(|p| ProblemOut {
                source: p.source.as_str(),
                location: &p.location,
                message: &p.message,
            })
            .collect(),
    };
    serde_json::to_writer(&mut *w, &doc)?;
    writeln!(w)
}
