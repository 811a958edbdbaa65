//! One piece of evidence judged against one advisory: a hit (or a weak match).

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use tagwarden_advisory::NetworkKind;
use tagwarden_reference::Digest;

use crate::SourceKind;

/// How bad a hit is. Ordered from the worst: `Compromised < Exposed < Disputed < Contacted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// A malicious digest or commit was seen: whatever the time, it ran or could run.
    Compromised,
    /// An affected tag was pulled (or is used) inside the exposure window, or at an unknown time.
    Exposed,
    /// Inside only the disputed part of the window.
    Disputed,
    /// Traffic to an attacker's indicator.
    Contacted,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [
        Self::Compromised,
        Self::Exposed,
        Self::Disputed,
        Self::Contacted,
    ];

    /// `compromised`, `exposed`, `disputed`, `contacted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compromised => "compromised",
            Self::Exposed => "exposed",
            Self::Disputed => "disputed",
            Self::Contacted => "contacted",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown verdict {s:?}"))
    }
}

/// What matched, in the advisory's terms.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Matched {
    /// A malicious image digest (index or platform manifest).
    Digest(Digest),
    /// An affected tag.
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
        /// The ref the workflow or runner named (a tag, a branch or the commit itself).
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
    /// Traffic matching a network indicator.
    Network {
        kind: NetworkKind,
        /// The indicator's value exactly as the advisory (or feed) has it, normalised.
        value: String,
    },
}

impl Matched {
    /// A stable key naming the indicator, for ids and grouping: `digest/sha256:…`,
    /// `image/<repo>:<tag>`, `action/<repo>/commit/<sha>`, `action/<repo>/tag/<ref>`,
    /// `network/<kind>/<value>`.
    pub fn key(&self) -> String {
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

/// One piece of evidence judged against one advisory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The advisory that names the indicator, or `feed:<file>` for an indicator feed.
    pub advisory: String,
    pub verdict: Verdict,
    pub source: SourceKind,
    /// File (a zip entry as `run.zip!job/1_step.txt`), socket or registry repository where it
    /// was seen, without the line.
    pub location: String,
    /// 1-based line in `location`, for line-oriented sources.
    pub line: Option<u64>,
    /// When it happened, in UTC; `None` when the source does not say.
    pub timestamp: Option<Timestamp>,
    pub matched: Matched,
    /// The machine or client address involved (a runner, a node, a client IP).
    pub host: Option<String>,
    /// The CI job, pod or container involved.
    pub job: Option<String>,
    /// One sentence for people.
    pub detail: String,
    /// The raw line or record (cut to 400 characters).
    pub excerpt: Option<String>,
}

impl Hit {
    /// `location:line`, or the location.
    pub fn place(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{l}", self.location),
            None => self.location.clone(),
        }
    }

    /// What matched, as people write it.
    pub fn indicator(&self) -> String {
        self.matched.display()
    }

    /// The record the hit came from: hits with the same event are one line, image, container or
    /// row seen by one source (a log line naming both an IP and a domain of the attacker).
    pub fn event(&self) -> EventKey<'_> {
        EventKey {
            source: self.source,
            location: &self.location,
            line: self.line,
            timestamp: self.timestamp,
            host: self.host.as_deref(),
            job: self.job.as_deref(),
            excerpt: self.excerpt.as_deref(),
        }
    }
}

/// What makes two hits one event (see [`Hit::event`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKey<'h> {
    source: SourceKind,
    location: &'h str,
    line: Option<u64>,
    timestamp: Option<Timestamp>,
    host: Option<&'h str>,
    job: Option<&'h str>,
    excerpt: Option<&'h str>,
}
