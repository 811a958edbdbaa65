//! Evidence for `tagwarden hunt`: what was pulled, run, downloaded or contacted, where and when.
//!
//! Every source (CI logs, network logs, container engines, registries, snapshots) implements
//! [`EvidenceSource`] and reports [`Evidence`] to a [`Sink`]. A source never drops what it cannot
//! read: it reports a [`Problem`], and the hunt says so in its output.

/// Registry audit logs: Docker Hub, Harbor, CloudTrail (ECR), GitHub and GitLab.
pub mod audit;
pub mod indicators;
pub mod input;
pub mod recognise;

/// CI job logs: GitHub Actions (files and run zips), GitLab runner traces, Jenkins console logs,
/// `docker pull` output, BuildKit output.
pub mod ci;
/// Docker Hub's usage CSV export and audit-log JSON.
pub mod dockerhub;
/// Container engines through the Docker Engine API on a unix socket (docker, podman).
pub mod engine;
/// Network logs: Zeek, Squid, access logs, Route 53 resolver, CoreDNS, VPC flow logs, JSON
/// lines and plain text.
pub mod network;
/// Snapshots people produce with their tools: `kubectl get pods -o json`, `docker inspect`,
/// `docker images --digests`, `crictl images -o json`.
pub mod snapshot;

use std::net::IpAddr;

use jiff::Timestamp;
use tagwarden_reference::Digest;

pub use indicators::{Indicator, IndicatorSet};
/// The one kind of network indicator, as advisories define it.
pub use tagwarden_advisory::NetworkKind;
/// Where evidence comes from and what could not be read: the hunt's own terms.
pub use tagwarden_hunt::{Problem, SourceKind};

/// What happened to an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageAction {
    /// Pulled (a CI log, an engine event, a usage export).
    Pulled,
    /// Present in an engine's or node's image store.
    Present,
    /// A container was created from it.
    ContainerCreated,
    /// Named by a file (a pin, a tag) in the scanned tree.
    Referenced,
    /// Pushed (a registry audit log).
    Pushed,
    /// Served by a registry or mirror under a tag or digest.
    Served,
}

/// What a piece of evidence shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    Image {
        action: ImageAction,
        /// The reference as seen (`checkmarx/kics:latest`), if any.
        reference: Option<String>,
        /// The digest seen: index or platform manifest (never an image ID / config digest).
        digest: Option<Digest>,
    },
    /// A GitHub Action downloaded by a runner.
    Action {
        repository: String,
        git_ref: String,
        sha: Option<String>,
    },
    /// Traffic that matched a network indicator.
    Network {
        /// The indicator that matched, with the advisory that lists it.
        indicator: Indicator,
        /// The field value that matched (a query name, a host, an IP, a user agent).
        matched: String,
        /// The other end's address, when the log has it.
        remote_ip: Option<IpAddr>,
    },
}

/// One observation, with where and when it was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub source: SourceKind,
    /// A file path (as given), a socket path, or a registry URL.
    pub location: String,
    /// 1-based line in `location`, for line-oriented sources.
    pub line: Option<u64>,
    /// When it happened, in UTC; `None` when the source does not say.
    pub timestamp: Option<Timestamp>,
    /// When the source only knows a period (Docker Hub's usage export counts pulls per hour):
    /// the event happened in `[timestamp, timestamp + within)`.
    pub within: Option<jiff::SignedDuration>,
    /// The machine or client address involved (a runner, a pod IP, a client IP).
    pub host: Option<String>,
    /// The CI job, container or pod involved.
    pub job: Option<String>,
    pub observed: Observed,
    /// The raw line or record, cut to [`EXCERPT_MAX`] characters, for the evidence chain.
    pub excerpt: Option<String>,
}

/// Longest excerpt kept per piece of evidence.
pub const EXCERPT_MAX: usize = 400;

/// Cuts a raw line for [`Evidence::excerpt`], on a character boundary.
pub fn excerpt(line: &str) -> String {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.len() <= EXCERPT_MAX {
        return line.to_string();
    }
    let mut end = EXCERPT_MAX;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// Where sources report what they find. Implementations must be thread-safe: sources read
/// files in parallel.
pub trait Sink: Sync {
    fn evidence(&self, evidence: Evidence);
    /// Evidence that could not be read: the hunt cannot call itself clean.
    fn problem(&self, problem: Problem);
    /// Something read with a caveat (lines searched as plain text, a directory loop skipped):
    /// said, but the evidence was searched.
    fn note(&self, note: Problem);
    /// Bytes read so far by this source (for a progress bar); optional.
    fn progress(&self, _bytes: u64) {}
    /// A push or delete read from a registry audit log, for the commands that judge them
    /// (`audit`, `watch`); others ignore it (a push is also reported as evidence).
    fn audit(&self, _record: audit::AuditRecord) {}
}

/// Counts of what a source looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceStats {
    pub files: u64,
    /// Bytes read after decompression.
    pub bytes: u64,
    pub records: u64,
}

/// A place evidence comes from.
pub trait EvidenceSource: Send + Sync {
    /// What is searched, for the report ("CI logs in ./logs", "podman at /run/podman.sock").
    fn describe(&self) -> String;
    /// Searches and reports to `sink`. An `Err` means nothing could be searched at all
    /// (a refused socket); partial failures are reported as problems.
    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem>;
}

/// A sink that keeps everything, for tests and small hunts.
#[derive(Default)]
pub struct Collect {
    pub evidence: std::sync::Mutex<Vec<Evidence>>,
    pub problems: std::sync::Mutex<Vec<Problem>>,
    pub notes: std::sync::Mutex<Vec<Problem>>,
    pub audit: std::sync::Mutex<Vec<audit::AuditRecord>>,
}

impl Sink for Collect {
    fn evidence(&self, evidence: Evidence) {
        self.evidence
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(evidence);
    }
    fn problem(&self, problem: Problem) {
        self.problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(problem);
    }
    fn note(&self, note: Problem) {
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(note);
    }
    fn audit(&self, record: audit::AuditRecord) {
        self.audit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }
}

impl Collect {
    /// The notes so far (the evidence and problems come from [`Collect::into_parts`]).
    pub fn notes(&self) -> Vec<Problem> {
        self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The audit records so far.
    pub fn audit_records(&self) -> Vec<audit::AuditRecord> {
        self.audit.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn into_parts(self) -> (Vec<Evidence>, Vec<Problem>) {
        (
            self.evidence
                .into_inner()
                .unwrap_or_else(|e| e.into_inner()),
            self.problems
                .into_inner()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }
}

// Tests bound hostile inputs by the work they allocate, which a loaded machine cannot change.
#[cfg(test)]
#[global_allocator]
static ALLOC: tagwarden_testbed::CountingAllocator = tagwarden_testbed::CountingAllocator;
