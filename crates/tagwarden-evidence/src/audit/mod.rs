//! Registry audit logs: who pushed (or deleted) which tag or digest of which repository, when,
//! from where and with which credential. One reader per log source, each turning the vendor's
//! records into [`AuditRecord`]s with the field names its documentation gives (named in each
//! module); [`json`] reads the files whatever their shape (pages, arrays, JSON lines, gzip or
//! zstd). Records of every source may be mixed in one file: each record is recognised by its
//! own fields.
//!
//! Every record goes to [`Sink::audit`] (what `tagwarden audit` and `watch` judge); a push
//! also becomes [`Evidence`] of a pushed image, so `hunt` sees a malicious digest pushed. A
//! record that cannot be read is a problem at `file:line:column`, and the rest is read.

mod cloudtrail;
mod dockerhub;
mod github;
mod gitlab;
mod harbor;
pub(crate) mod json;

use std::io::BufRead;
use std::path::PathBuf;

use jiff::Timestamp;
use serde_json::{Map, Value};
use tagwarden_reference::Digest;

use crate::recognise::{self, Kind, Readers};
use crate::{
    Evidence, EvidenceSource, ImageAction, Observed, Problem, Sink, SourceKind, SourceStats,
    excerpt,
};

/// What a record says was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A manifest pushed under a tag (or by digest).
    Push,
    /// A tag or manifest deleted.
    Delete,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Push => "push",
            AuditAction::Delete => "delete",
        }
    }
}

/// One push or delete, as a registry's audit log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Which log it comes from.
    pub log: SourceKind,
    pub action: AuditAction,
    /// The registry host when the log names it (ECR's account and region; `ghcr.io`).
    pub registry: Option<String>,
    /// The repository as the log names it (`checkmarx/kics`, `library/app`).
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
    /// Who: a user name, a role's ARN, a robot account.
    pub actor: Option<String>,
    /// The credential, when the log tells one apart from the actor (a long-term access key id,
    /// a token id or hash, a robot account).
    pub token: Option<String>,
    /// The client address, when the log has it.
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub time: Timestamp,
    /// The file, and the line the record ends on.
    pub location: String,
    pub line: u64,
    /// The raw record, cut to [`crate::EXCERPT_MAX`] characters.
    pub excerpt: String,
}

impl AuditRecord {
    /// `registry/repository` when the registry is known, else the repository.
    pub fn full_repository(&self) -> String {
        match &self.registry {
            Some(r) => format!("{r}/{}", self.repository),
            None => self.repository.clone(),
        }
    }

    /// `repository:tag`, `repository@digest`, or the repository.
    pub fn reference(&self) -> String {
        let repo = self.full_repository();
        match (&self.tag, &self.digest) {
            (Some(t), _) => format!("{repo}:{t}"),
            (None, Some(d)) => format!("{repo}@{d}"),
            (None, None) => repo,
        }
    }
}

/// What a vendor module makes of one record: the fields it found (a record may name several
/// images, as an ECR batch delete does), nothing to judge (another action), or why it cannot
/// be read.
pub(crate) type Mapped = Result<Vec<Fields>, String>;

/// A record's fields before the location is added.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fields {
    pub(crate) action: Option<AuditAction>,
    pub(crate) registry: Option<String>,
    pub(crate) repository: String,
    pub(crate) tag: Option<String>,
    pub(crate) digest: Option<Digest>,
    pub(crate) actor: Option<String>,
    pub(crate) token: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) user_agent: Option<String>,
    pub(crate) time: Option<Timestamp>,
    /// A field that could not be read (the record is still used without it).
    pub(crate) problem: Option<String>,
}

/// Which log a record comes from, told by its own fields.
fn classify(obj: &Map<String, Value>) -> Option<SourceKind> {
    let has = |k: &str| obj.contains_key(k);
    if has("eventSource") || has("eventName") {
        return Some(SourceKind::CloudTrail);
    }
    if has("op_time") || (has("operation") && has("resource_type")) {
        return Some(SourceKind::HarborAudit);
    }
    if has("author_id") || has("entity_path") || (has("entity_type") && has("details")) {
        return Some(SourceKind::GitlabAudit);
    }
    let action = obj.get("action").and_then(Value::as_str).unwrap_or("");
    if has("@timestamp") || has("_document_id") || action.starts_with("package") {
        return Some(SourceKind::GithubAudit);
    }
    if has("tag_last_pushed") || has("action_description") || action.starts_with("repo.") {
        return Some(SourceKind::DockerHubAudit);
    }
    None
}

/// Whether a file's head holds audit records of a log other than Docker Hub's (which the
/// Docker Hub export reader recognises).
pub(crate) fn recognise(head: &str) -> bool {
    (head.contains("\"eventSource\"") && head.contains("ecr"))
        || head.contains("\"op_time\"")
        || head.contains("\"action\":\"package")
        || head.contains("\"action\": \"package")
        || (head.contains("\"entity_path\"") && head.contains("\"author_id\""))
}

/// Registry audit-log exports under some paths.
#[derive(Clone, Debug)]
pub struct AuditLogs {
    paths: Vec<PathBuf>,
    readers: Readers,
}

impl AuditLogs {
    /// Exports under these paths: files or directories (walked recursively); files of other
    /// kinds found among them go to `readers`.
    pub fn new(paths: Vec<PathBuf>, readers: Readers) -> Self {
        Self { paths, readers }
    }
}

impl EvidenceSource for AuditLogs {
    fn describe(&self) -> String {
        let paths: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        format!("registry audit logs in {}", paths.join(", "))
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        recognise::collect(
            &self.paths,
            &self.readers,
            Kind::AuditLog,
            SourceKind::DockerHubAudit,
            &self.describe(),
            sink,
            read_stream,
        )
    }
}

/// Unreadable records reported one by one per file; past this, counted in one more problem.
const PROBLEMS_PER_FILE: usize = 20;

/// Reads one audit-log file: every record to `sink.audit`, pushes also as evidence, bad
/// records as problems at `location:line:column`.
pub(crate) fn read_stream(
    reader: &mut dyn BufRead,
    location: &str,
    sink: &dyn Sink,
    stats: &mut SourceStats,
) {
    let mut bad: Vec<(u64, u64, String, SourceKind)> = Vec::new();
    let mut records = 0u64;
    let reading = json::records(reader, &mut |value, line| {
        records += 1;
        let Some(obj) = value.as_object() else {
            bad.push((
                line,
                1,
                "not a record (a JSON object)".into(),
                SourceKind::DockerHubAudit,
            ));
            return;
        };
        let Some(log) = classify(obj) else {
            bad.push((
                line,
                1,
                "not an audit record of a known kind (Docker Hub, Harbor, CloudTrail, GitHub, GitLab)"
                    .into(),
                SourceKind::DockerHubAudit,
            ));
            return;
        };
        let mapped = match log {
            SourceKind::CloudTrail => cloudtrail::map(obj),
            SourceKind::HarborAudit => harbor::map(obj),
            SourceKind::GitlabAudit => gitlab::map(obj),
            SourceKind::GithubAudit => github::map(obj),
            _ => dockerhub::map(obj),
        };
        let fields = match mapped {
            Ok(f) => f,
            Err(message) => {
                bad.push((line, 1, message, log));
                return;
            }
        };
        let raw = excerpt(&value.to_string());
        for f in fields {
            if let Some(p) = &f.problem {
                bad.push((line, 1, p.clone(), log));
            }
            let Some(action) = f.action else { continue };
            let Some(time) = f.time else {
                bad.push((line, 1, "the record has no readable time".into(), log));
                continue;
            };
            let record = AuditRecord {
                log,
                action,
                registry: f.registry,
                repository: f.repository,
                tag: f.tag,
                digest: f.digest,
                actor: f.actor,
                token: f.token,
                address: f.address,
                user_agent: f.user_agent,
                time,
                location: location.to_string(),
                line,
                excerpt: raw.clone(),
            };
            if action == AuditAction::Push {
                sink.evidence(Evidence {
                    source: log,
                    location: location.to_string(),
                    line: Some(line),
                    timestamp: Some(time),
                    within: None,
                    host: record.address.clone(),
                    job: record.actor.clone(),
                    observed: Observed::Image {
                        action: ImageAction::Pushed,
                        reference: Some(match &record.tag {
                            Some(t) => format!("{}:{t}", record.full_repository()),
                            None => record.full_repository(),
                        }),
                        digest: record.digest.clone(),
                    },
                    excerpt: Some(raw.clone()),
                });
            }
            sink.audit(record);
        }
    });
    stats.bytes += reading.bytes;
    stats.records += records;
    sink.progress(stats.bytes);
    for (at, message) in &reading.errors {
        bad.push((
            at.line,
            at.column,
            message.clone(),
            SourceKind::DockerHubAudit,
        ));
    }
    bad.sort_by_key(|b| (b.0, b.1));
    for (line, column, message, source) in bad.iter().take(PROBLEMS_PER_FILE) {
        sink.problem(Problem {
            source: *source,
            location: format!("{location}:{line}:{column}"),
            message: format!("unreadable record: {message}"),
        });
    }
    if bad.len() > PROBLEMS_PER_FILE {
        sink.problem(Problem {
            source: SourceKind::DockerHubAudit,
            location: location.to_string(),
            message: format!(
                "{} more unreadable record(s) not listed",
                bad.len() - PROBLEMS_PER_FILE
            ),
        });
    }
    if let Some((at, message)) = reading.fatal {
        let location = if at.line > 0 {
            format!("{location}:{}:{}", at.line, at.column)
        } else {
            location.to_string()
        };
        sink.problem(Problem {
            source: SourceKind::DockerHubAudit,
            location,
            message,
        });
    }
}

/// The first non-empty string among `keys` in `obj`.
pub(crate) fn text<'v>(obj: &'v Map<String, Value>, keys: &[&str]) -> Option<&'v str> {
    keys.iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The object under `key`, if any.
pub(crate) fn object<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Map<String, Value>> {
    obj.get(key).and_then(Value::as_object)
}

/// A digest field: absent is `None`; malformed is `None` too, with the reason in `problem`
/// (the push is still a push of that tag).
pub(crate) fn digest(value: Option<&str>, problem: &mut Option<String>) -> Option<Digest> {
    let d = value?;
    match Digest::parse(d) {
        Ok(d) => Some(d),
        Err(e) => {
            problem.get_or_insert(format!("invalid digest {d:?}: {e}"));
            None
        }
    }
}

/// A time as logs write it: RFC 3339, a civil date-time taken as UTC, or Unix seconds or
/// milliseconds (a number or a string of digits).
pub(crate) fn time(value: Option<&Value>) -> Option<Timestamp> {
    match value? {
        Value::String(s) => crate::dockerhub::parse_time(s),
        Value::Number(n) => crate::dockerhub::parse_time(&n.as_i64()?.to_string()),
        _ => None,
    }
}

/// The reader for the fuzz targets: any bytes give records or problems, never a panic.
#[doc(hidden)]
pub mod fuzzing {
    /// Reads `bytes` as an audit-log file; returns the records read.
    pub fn read(bytes: &[u8]) -> Vec<super::AuditRecord> {
        let sink = crate::Collect::default();
        let mut reader = std::io::Cursor::new(bytes);
        super::read_stream(
            &mut reader,
            "fuzz.json",
            &sink,
            &mut crate::SourceStats::default(),
        );
        sink.audit_records()
    }
}

#[cfg(test)]
mod tests;
