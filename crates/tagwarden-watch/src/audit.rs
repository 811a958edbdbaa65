//! Tailing registry audit-log exports: the `[audit]` section's `exports` (files or folders)
//! are read again when a file is new or changed (by size and modification time), all records
//! kept are judged as `tagwarden audit` judges them (the last `recent` period against what came
//! before), and every finding becomes an event (`audit-finding`) whose key names the rule and
//! the push, so that each is recorded and alerted once, across restarts and replicas.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::SystemTime;

use tagwarden_audit::{AuditConfig, AuditRecord, Period};
use tagwarden_evidence::audit::AuditLogs;
use tagwarden_evidence::recognise::Readers;
use tagwarden_evidence::{Collect, EvidenceSource};

use crate::event::{EventKind, NewEvent};

/// One file's records, and what it was when read.
struct Read {
    len: u64,
    modified: Option<SystemTime>,
    records: Vec<AuditRecord>,
}

/// The exports read so far.
#[derive(Default)]
pub struct AuditTail {
    files: HashMap<PathBuf, Read>,
}

/// A finding as an event, and the registry it is about (for the event's `registry`).
pub struct AuditEvent {
    pub event: NewEvent,
    pub registry: String,
}

impl AuditTail {
    /// Reads what changed under `config.exports` (resolved by the caller) and judges all the
    /// records; problems (unreadable files or records) are returned as sentences.
    pub fn poll(
        &mut self,
        exports: &[PathBuf],
        config: &AuditConfig,
    ) -> (Vec<AuditEvent>, Vec<String>) {
        let mut problems = Vec::new();
        let walked = tagwarden_evidence::input::walk(exports);
        for (path, message) in &walked.problems {
            problems.push(format!("{}: {message}", path.display()));
        }
        let mut present = Vec::new();
        for found in &walked.files {
            let meta = std::fs::metadata(&found.path).ok();
            let len = meta.as_ref().map_or(0, std::fs::Metadata::len);
            let modified = meta.and_then(|m| m.modified().ok());
            present.push(found.path.clone());
            if self
                .files
                .get(&found.path)
                .is_some_and(|r| r.len == len && r.modified == modified)
            {
                continue;
            }
            let sink = Collect::default();
            let source = AuditLogs::new(vec![found.path.clone()], Readers::default());
            if let Err(p) = source.collect(&sink) {
                problems.push(format!("{}: {}", p.location, p.message));
                continue;
            }
            let records = sink.audit_records();
            let (_, unread) = sink.into_parts();
            problems.extend(
                unread
                    .iter()
                    .map(|p| format!("{}: {}", p.location, p.message)),
            );
            self.files.insert(
                found.path.clone(),
                Read {
                    len,
                    modified,
                    records,
                },
            );
        }
        // A file that is gone keeps nothing: its records no longer count.
        self.files.retain(|p, _| present.contains(p));
        let records: Vec<AuditRecord> = self
            .files
            .values()
            .flat_map(|r| r.records.iter().cloned())
            .collect();
        let judgement = tagwarden_audit::judge(&records, Period::default(), &config.thresholds);
        let events = judgement
            .findings
            .iter()
            .map(|f| AuditEvent {
                registry: f
                    .repository
                    .split_once('/')
                    .filter(|(host, _)| host.contains('.') || host.contains(':'))
                    .map_or("docker.io", |(host, _)| host)
                    .to_string(),
                event: NewEvent {
                    kind: EventKind::AuditFinding,
                    severity: f.severity,
                    key: format!("audit:{}", f.key()),
                    message: format!("{} ({}:{})", f.message, f.location, f.line),
                    digest_before: None,
                    digest_after: None,
                    detail: serde_json::json!({
                        "rule": f.rule.id,
                        "reference": f.reference,
                        "time": f.time.to_string(),
                        "location": f.location,
                        "line": f.line,
                        "baseline": f.baseline,
                    }),
                },
            })
            .collect();
        (events, problems)
    }
}
