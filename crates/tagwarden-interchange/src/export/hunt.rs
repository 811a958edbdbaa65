//! A hunt's result, described without the binary's types, and what the hunt exporters share:
//! grouping hits that tell the same story and bounded summaries of where and when.

use std::collections::BTreeMap;

use jiff::Timestamp;
use tagwarden_advisory::NetworkKind;
use tagwarden_reference::Digest;

use super::common::one_line;

/// How many places, jobs or hosts a description or list names before it says "and N more":
/// a hunt over big logs can hit the same indicator millions of times.
pub(crate) const MAX_LISTED: usize = 20;

/// How bad a hit is (the hunt's verdicts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HuntVerdict {
    /// A malicious digest or commit was seen: whatever the time, it ran or could run.
    Compromised,
    /// An affected tag was pulled (or is used) inside the exposure window, or at an unknown time.
    Exposed,
    /// Inside only the disputed part of the window.
    Disputed,
    /// Traffic to an attacker's indicator.
    Contacted,
}

impl HuntVerdict {
    /// The verdict as the hunt's JSON spells it: `compromised`, `exposed`, `disputed`,
    /// `contacted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compromised => "compromised",
            Self::Exposed => "exposed",
            Self::Disputed => "disputed",
            Self::Contacted => "contacted",
        }
    }
}

/// What matched, in the advisory's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HuntIndicator {
    /// A malicious image digest (index or platform manifest).
    Digest(Digest),
    /// An affected tag: the repository as advisories name it (`docker.io/checkmarx/kics`) and
    /// the tag.
    ImageTag {
        /// Normalised repository, e.g. `docker.io/checkmarx/kics`.
        repository: String,
        /// The tag, e.g. `latest`.
        tag: String,
    },
    /// A GitHub Action used at a malicious commit.
    ActionCommit {
        /// `owner/repo`.
        repository: String,
        /// The ref the workflow named (a tag, a branch or the commit itself).
        git_ref: String,
        /// The malicious commit, 40 lower-case hex digits.
        commit: String,
    },
    /// A GitHub Action used at an affected tag.
    ActionTag {
        /// `owner/repo`.
        repository: String,
        /// The affected tag.
        git_ref: String,
    },
    /// Traffic matching a network indicator; `value` exactly as the advisory (or feed) has it.
    Network {
        /// Domain, IP, URL, User-Agent or header.
        kind: NetworkKind,
        /// The indicator's value.
        value: String,
    },
}

impl HuntIndicator {
    /// A stable key naming the indicator, for ids: `digest/sha256:…`, `image/<repo>:<tag>`,
    /// `action/<repo>/commit/<sha>`, `action/<repo>/tag/<ref>`, `network/<kind>/<value>`.
    pub(crate) fn key(&self) -> String {
        match self {
            Self::Digest(d) => format!("digest/{d}"),
            Self::ImageTag { repository, tag } => format!("image/{repository}:{tag}"),
            Self::ActionCommit {
                repository, commit, ..
            } => format!("action/{}/commit/{commit}", repository.to_ascii_lowercase()),
            Self::ActionTag {
                repository,
                git_ref,
            } => format!("action/{}/tag/{git_ref}", repository.to_ascii_lowercase()),
            Self::Network { kind, value } => format!("network/{}/{value}", kind.as_str()),
        }
    }

    /// The indicator as people write it: `sha256:…`, `docker.io/checkmarx/kics:latest`,
    /// `owner/repo@ref (sha)`, `owner/repo@ref`, or the network value.
    pub fn display(&self) -> String {
        match self {
            Self::Digest(d) => d.to_string(),
            Self::ImageTag { repository, tag } => format!("{repository}:{tag}"),
            Self::ActionCommit {
                repository,
                git_ref,
                commit,
            } => format!("{repository}@{git_ref} ({commit})"),
            Self::ActionTag {
                repository,
                git_ref,
            } => format!("{repository}@{git_ref}"),
            Self::Network { value, .. } => value.clone(),
        }
    }
}

/// One hit of a hunt (or one match of a weak indicator, which is never a hit on its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuntHit {
    /// The advisory that names the indicator, or `feed:<file>` for an indicator feed.
    pub advisory_id: String,
    /// How bad it is.
    pub verdict: HuntVerdict,
    /// What matched.
    pub indicator: HuntIndicator,
    /// A match of an indicator the advisory marks weak: listed, never counted as a hit.
    pub weak: bool,
    /// The evidence source, e.g. `github-actions-log`, `zeek-dns`, `file`, `engine`.
    pub source: String,
    /// File, socket or registry where it was seen (without the line).
    pub location: String,
    /// The line in `location`, when it is a text file.
    pub line: Option<u64>,
    /// When it happened, if the source says.
    pub timestamp: Option<Timestamp>,
    /// The machine (or client address) it happened on.
    pub host: Option<String>,
    /// The CI job, pod or container.
    pub job: Option<String>,
    /// One sentence for people.
    pub detail: String,
}

impl HuntHit {
    /// `location:line`, or the location.
    pub(crate) fn place(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{l}", self.location),
            None => self.location.clone(),
        }
    }
}

/// Hits that tell the same story: the same indicator, verdict and weakness, seen by one source
/// at one location on one host. Becomes one STIX sighting with a count.
pub(crate) struct Group<'h> {
    pub(crate) hits: Vec<&'h HuntHit>,
}

/// The grouping key; `BTreeMap` order makes the output independent of the input order.
type GroupKey<'h> = (
    &'h str,
    String,
    HuntVerdict,
    bool,
    &'h str,
    &'h str,
    Option<&'h str>,
);

/// Groups the hits per advisory, indicator, verdict, weakness, source, location and host.
pub(crate) fn group(hits: &[HuntHit]) -> Vec<Group<'_>> {
    let mut groups: BTreeMap<GroupKey<'_>, Vec<&HuntHit>> = BTreeMap::new();
    for h in hits {
        let key = (
            h.advisory_id.as_str(),
            h.indicator.key(),
            h.verdict,
            h.weak,
            h.source.as_str(),
            h.location.as_str(),
            h.host.as_deref(),
        );
        groups.entry(key).or_default().push(h);
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
    pub(crate) fn first(&self) -> Option<&'h HuntHit> {
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

    fn hit(line: u64, ts: Option<&str>, job: &str) -> HuntHit {
        HuntHit {
            advisory_id: "a".into(),
            verdict: HuntVerdict::Contacted,
            indicator: HuntIndicator::Network {
                kind: NetworkKind::Domain,
                value: "evil.example".into(),
            },
            weak: false,
            source: "zeek-dns".into(),
            location: "dns.log".into(),
            line: Some(line),
            timestamp: ts.map(|t| t.parse().unwrap()),
            host: Some("10.0.0.1".into()),
            job: Some(job.into()),
            detail: "traffic".into(),
        }
    }

    #[test]
    fn groups_count_and_bound() {
        let mut hits: Vec<HuntHit> = (0..30)
            .map(|i| hit(i, Some("2026-04-22T12:00:00Z"), &format!("job{i}")))
            .collect();
        hits.push(hit(99, None, "job0"));
        hits.push(hit(100, Some("2026-04-22T11:00:00Z"), "job0"));
        let groups = group(&hits);
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
