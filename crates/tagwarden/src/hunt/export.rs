//! `--format stix|misp`: the hunt's hits, weak matches included, handed to the interchange
//! exporters.

use std::io::{self, Write};

use jiff::Timestamp;
use tagwarden_advisory::{Advisory, AdvisorySet};
use tagwarden_interchange::export::{HuntHit, HuntVerdict, misp_hunt, stix_hunt};

use super::{Hit, Outcome, Verdict};

/// Which exchange format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exchange {
    Stix,
    Misp,
}

pub(crate) fn render(
    outcome: &Outcome,
    advisories: &AdvisorySet,
    format: Exchange,
    generated: Timestamp,
    w: &mut dyn Write,
) -> io::Result<()> {
    let hits: Vec<HuntHit> = outcome
        .hits
        .iter()
        .map(|h| neutral(h, false))
        .chain(outcome.weak.iter().map(|h| neutral(h, true)))
        .collect();
    let all: Vec<&Advisory> = advisories.advisories().iter().collect();
    let text = match format {
        Exchange::Stix => stix_hunt(&all, &hits, generated),
        Exchange::Misp => misp_hunt(&all, &hits, generated),
    };
    writeln!(w, "{text}")
}

fn neutral(h: &Hit, weak: bool) -> HuntHit {
    HuntHit {
        advisory_id: h.advisory.clone(),
        verdict: match h.verdict {
            Verdict::Compromised => HuntVerdict::Compromised,
            Verdict::Exposed => HuntVerdict::Exposed,
            Verdict::Disputed => HuntVerdict::Disputed,
            Verdict::Contacted => HuntVerdict::Contacted,
        },
        indicator: h.matched.clone(),
        weak,
        source: h.source.to_string(),
        location: h.origin.clone(),
        line: h.line,
        timestamp: h.timestamp,
        host: h.host.clone(),
        job: h.job.clone(),
        detail: h.detail.clone(),
    }
}
