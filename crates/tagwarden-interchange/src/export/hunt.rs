//! A hunt's result, described without the binary's types, and what the hunt exporters share:
//! grouping hits that tell the same story and bounded summaries of where and when.

use std::collections::BTreeMap;

use std::ops::Deref;

use jiff::Timestamp;
use tagwarden_hunt::{Hit, Outcome, Verdict};

use super::common::one_line;

/// How many places, jobs or hosts a description or list names before it says "and N more":
/// a hunt over big logs can hit the same indicator millions of times.
pub(crate) const MAX_LISTED: usize = 20;

/// A hit as the exports see it: weak matches travel with the hits, marked, so that one
/// grouping serves both.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sighted<'h> {
    pub(crate) hit: &'h Hit,
    /// A match of an indicator the advisory marks weak: listed, never counted as a hit.
    pub(crate) weak: bool,
}

impl Deref for Sighted<'_> {
    type Target = Hit;

    fn deref(&self) -> &Hit {
        self.hit
    }
}

/// What a hunt could not read (problems and failed sources), one line each, at most
/// [`MAX_LISTED`], and how many more: the exports say it so that nobody reads "no sighting" as
/// "clean".
pub(crate) fn unread(outcome: &Outcome) -> (Vec<String>, usize) {
    let lines: Vec<String> = outcome
        .failed_sources()
        .map(|s| {
            format!(
                "{}: {}",
                s.name,
                s.error.as_deref().unwrap_or("not searched")
            )
        })
        .chain(
            outcome
                .problems
                .iter()
                .map(|p| format!("{} ({}): {}", p.location, p.source, p.message)),
        )
        .collect();
    let more = lines.len().saturating_sub(MAX_LISTED);
    let listed = lines.iter().take(MAX_LISTED).map(|l| one_line(l)).collect();
    (listed, more)
}

/// The hits, then the weak matches, of a hunt.
pub(crate) fn sighted(outcome: &Outcome) -> Vec<Sighted<'_>> {
    let hits = outcome.hits.iter().map(|hit| Sighted { hit, weak: false });
    let weak = outcome.weak.iter().map(|hit| Sighted { hit, weak: true });
    hits.chain(weak).collect()
}

/// Hits that tell the same story: the same indicator, verdict and weakness, seen by one source
/// at one location on one host. Becomes one STIX sighting with a count.
pub(crate) struct Group<'h> {
    pub(crate) hits: Vec<Sighted<'h>>,
}

/// The grouping key; `BTreeMap` order makes the output independent of the input order.
type GroupKey<'h> = (
    &'h str,
    String,
    Verdict,
    bool,
    &'static str,
    &'h str,
    Option<&'h str>,
);

/// Groups the hits per advisory, indicator, verdict, weakness, source, location and host.
pub(crate) fn group<'h>(hits: &[Sighted<'h>]) -> Vec<Group<'h>> {
    let mut groups: BTreeMap<GroupKey<'h>, Vec<Sighted<'h>>> = BTreeMap::new();
    for s in hits {
        let h = s.hit;
        let key = (
            h.advisory.as_str(),
            h.matched.key(),
            h.verdict,
            s.weak,
            h.source.as_str(),
            h.location.as_str(),
            h.host.as_deref(),
        );
        groups.entry(key).or_default().push(*s);
    }
    groups
        .into_values()
        .map(|mut hits| {
            // Time order inside a group, unknown times last, for the listed places.
            hits.sort_by_key(|h| (h.timestamp.is_none(), h.timestamp, h.line));
            Group { hits }
        })
        .collect()
}

impl<'h> Group<'h> {
    /// The first hit; a group is never empty.
    pub(crate) fn first(&self) -> Option<Sighted<'h>> {
        self.hits.first().copied()
    }

    pub(crate) fn first_seen(&self) -> Option<Timestamp> {
        self.hits.iter().filter_map(|h| h.timestamp).min()
    }

    pub(crate) fn last_seen(&self) -> Option<Timestamp> {
        self.hits.iter().filter_map(|h| h.timestamp).max()
    }

    /// Hits whose source gave no time.
    pub(crate) fn unknown_times(&self) -> usize {
        self.hits.iter().filter(|h| h.timestamp.is_none()).count()
    }

    /// The distinct jobs, at most [`MAX_LISTED`], and how many more there were.
    pub(crate) fn jobs(&self) -> (Vec<String>, usize) {
        distinct(self.hits.iter().filter_map(|h| h.job.as_deref()))
    }

    /// The distinct `location:line` places, at most [`MAX_LISTED`], and how many more.
    pub(crate) fn places(&self) -> (Vec<String>, usize) {
        let places: Vec<String> = self.hits.iter().map(|h| h.place()).collect();
        distinct(places.iter().map(String::as_str))
    }
}

/// The distinct values in order, one line each, at most [`MAX_LISTED`], and how many more.
pub(crate) fn distinct<'s>(values: impl Iterator<Item = &'s str>) -> (Vec<String>, usize) {
    let mut seen = std::collections::BTreeSet::new();
    let mut listed = Vec::new();
    let mut more = 0;
    for v in values {
        if seen.insert(v) {
            if listed.len() < MAX_LISTED {
                listed.push(one_line(v));
            } else {
                more += 1;
            }
        }
    }
    (listed, more)
}

/// "a, b and 3 more".
pub(crate) fn listing(items: &[String], more: usize) -> String {
    let mut s = items.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagwarden_advisory::NetworkKind;
    use tagwarden_hunt::{Matched, SourceKind};

    fn hit(line: u64, ts: Option<&str>, job: &str) -> Hit {
        Hit {
            advisory: "a".into(),
            verdict: Verdict::Contacted,
            matched: Matched::Network {
                kind: NetworkKind::Domain,
                value: "evil.example".into(),
            },
            source: SourceKind::ZeekDns,
            location: "dns.log".into(),
            line: Some(line),
            timestamp: ts.map(|t| t.parse().unwrap()),
            host: Some("10.0.0.1".into()),
            job: Some(job.into()),
            detail: "traffic".into(),
            excerpt: None,
        }
    }

    #[test]
    fn groups_count_and_bound() {
        let mut hits: Vec<Hit> = (0..30)
            .map(|i| hit(i, Some("2026-04-22T12:00:00Z"), &format!("job{i}")))
            .collect();
        hits.push(hit(99, None, "job0"));
        hits.push(hit(100, Some("2026-04-22T11:00:00Z"), "job0"));
        let outcome = Outcome {
            hits,
            ..Outcome::default()
        };
        let all = sighted(&outcome);
        let groups = group(&all);
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!(g.hits.len(), 32);
        assert_eq!(g.unknown_times(), 1);
        assert_eq!(
            g.first_seen(),
            Some("2026-04-22T11:00:00Z".parse().unwrap())
        );
        assert_eq!(g.last_seen(), Some("2026-04-22T12:00:00Z".parse().unwrap()));
        let (jobs, more) = g.jobs();
        assert_eq!((jobs.len(), more), (MAX_LISTED, 10));
        assert_eq!(g.places().0[0], "dns.log:100");
        assert_eq!(listing(&jobs[..2], more), "job0, job1 and 10 more");
    }
}
