//! Everything a hunt found, in the order people read it.

use std::collections::{BTreeMap, HashSet};

use crate::{Hit, Problem, SourceRun, SourceStatus, Verdict};

/// Everything a hunt found. Build it with [`Outcome::new`], which puts the hits in timeline
/// order and removes repeats; a document read back from JSON is already in that order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// In timeline order: by time (unknown times last), then verdict, then place.
    pub hits: Vec<Hit>,
    /// Matches of indicators that are never hits on their own (shared hosting, parking), for
    /// events that have no hit: a weak match on a line that already hits is not listed again.
    pub weak: Vec<Hit>,
    pub sources: Vec<SourceRun>,
    /// Evidence that could not be read (a file, a record, a stream, a registry answer): while
    /// there is one, a hunt without hits is not clean.
    pub problems: Vec<Problem>,
    /// Things read with a caveat (lines searched as plain text, a directory loop skipped).
    pub notes: Vec<Problem>,
    /// Pieces of evidence judged.
    pub evidence: u64,
    /// Runs of an affected tag judged not exposed, in timeline order: pulled at a known time
    /// outside every window, or at a digest no advisory lists as malicious. Never hits: they
    /// tell `exposure` which jobs ran the image when it was clean. `verdict` is the one the run
    /// would have had inside the window; `detail` says why it is not a hit.
    pub cleared: Vec<Hit>,
}

/// The answer to "were we hit?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// At least one hit.
    Hit,
    /// No hit, and every source was searched whole.
    Clean,
    /// No hit, but something could not be searched: not a clean answer.
    Incomplete,
}

impl Outcome {
    /// Sorts the hits into timeline order, counts each (advisory, verdict, place, time,
    /// indicator) once, and drops weak matches of events that already hit.
    pub fn new(
        mut hits: Vec<Hit>,
        mut weak: Vec<Hit>,
        sources: Vec<SourceRun>,
        problems: Vec<Problem>,
        notes: Vec<Problem>,
        evidence: u64,
    ) -> Self {
        dedup(&mut hits);
        dedup(&mut weak);
        let hit_events: HashSet<_> = hits.iter().map(Hit::event).collect();
        weak.retain(|w| !hit_events.contains(&w.event()));
        Outcome {
            hits,
            weak,
            sources,
            problems,
            notes,
            evidence,
            cleared: Vec::new(),
        }
    }

    /// The same outcome with these cleared runs (see [`Outcome::cleared`]), in timeline order,
    /// each once; a run that also hits (another advisory's window) is not cleared.
    pub fn with_cleared(mut self, mut cleared: Vec<Hit>) -> Self {
        dedup(&mut cleared);
        let hit_events: HashSet<_> = self.hits.iter().map(Hit::event).collect();
        cleared.retain(|c| !hit_events.contains(&c.event()));
        self.cleared = cleared;
        self
    }

    /// Hits with this verdict.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.hits.iter().filter(|h| h.verdict == verdict).count()
    }

    /// Sources that could not be searched at all.
    pub fn failed_sources(&self) -> impl Iterator<Item = &SourceRun> {
        self.sources.iter().filter(|s| s.status != SourceStatus::Ok)
    }

    /// Hit, clean, or incomplete (no hit, and something could not be searched).
    pub fn answer(&self) -> Answer {
        if !self.hits.is_empty() {
            Answer::Hit
        } else if self.problems.is_empty() && self.failed_sources().next().is_none() {
            Answer::Clean
        } else {
            Answer::Incomplete
        }
    }

    /// The hits grouped by event (one log line, image, container or row), in timeline order.
    pub fn events(&self) -> Vec<Event<'_>> {
        let mut index: BTreeMap<_, usize> = BTreeMap::new();
        let mut events: Vec<Event<'_>> = Vec::new();
        for h in &self.hits {
            match index.get(&h.event()) {
                Some(&i) => {
                    if let Some(e) = events.get_mut(i) {
                        e.hits.push(h);
                    }
                }
                None => {
                    index.insert(h.event(), events.len());
                    events.push(Event { hits: vec![h] });
                }
            }
        }
        events
    }
}

/// Hits of one event: one record seen by one source, with every indicator it matched.
#[derive(Clone, Debug)]
pub struct Event<'o> {
    /// In timeline order; never empty.
    pub hits: Vec<&'o Hit>,
}

impl<'o> Event<'o> {
    /// The first hit (time, place, host and job are the same for all).
    pub fn first(&self) -> Option<&'o Hit> {
        self.hits.first().copied()
    }

    /// The worst verdict.
    pub fn verdict(&self) -> Option<Verdict> {
        self.hits.iter().map(|h| h.verdict).min()
    }

    /// The distinct advisories, in order of appearance.
    pub fn advisories(&self) -> Vec<&'o str> {
        let mut out: Vec<&str> = Vec::new();
        for h in &self.hits {
            if !out.contains(&h.advisory.as_str()) {
                out.push(&h.advisory);
            }
        }
        out
    }
}

/// Timeline order, then one of each (advisory, verdict, place, time, indicator).
fn dedup(hits: &mut Vec<Hit>) {
    hits.sort_by(|a, b| {
        timeline_key(a)
            .cmp(&timeline_key(b))
            .then_with(|| a.advisory.cmp(&b.advisory))
            .then_with(|| a.matched.key().cmp(&b.matched.key()))
    });
    let mut seen = HashSet::new();
    hits.retain(|h| {
        seen.insert((
            h.location.clone(),
            h.line,
            h.timestamp,
            h.advisory.clone(),
            h.verdict,
            h.matched.clone(),
        ))
    });
}

fn timeline_key(h: &Hit) -> impl Ord + '_ {
    (
        h.timestamp.is_none(),
        h.timestamp,
        h.verdict,
        &h.location,
        h.line,
        h.source,
    )
}
