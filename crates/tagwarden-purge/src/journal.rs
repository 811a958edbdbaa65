//! The purge journal: one JSON object a line, appended and synced before and after each step
//! (through `tagwarden_fs::Journal`: opened without following links, `0600`), so that a run
//! killed half-way leaves a record of what it started and what it finished, and a second run
//! can say what earlier runs did.
//!
//! A record: `{"journal":"tagwarden-purge/v1","time":…,"key":…,"target":{…},"action":…,
//! "before":…,"result":"started|done|already_gone|refused|failed|blocked","message":…}`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::targets::{Action, Target};

/// The format name in every record.
pub const FORMAT: &str = "tagwarden-purge/v1";
/// Largest journal read back.
const READ_MAX: u64 = 64 * 1024 * 1024;

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub journal: String,
    /// RFC 3339, UTC.
    pub time: String,
    pub key: String,
    pub target: Target,
    pub action: Action,
    /// The target as it was before the step (its tags, whether it ran).
    pub before: String,
    /// `started`, then one of `done`, `already_gone`, `refused`, `failed`, `blocked`.
    pub result: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Record {
    /// The result in words: `done`, `already gone`, `refused`…; a step a stopped run started
    /// and whose target is gone since reads as such.
    pub fn result_words(&self) -> &str {
        match self.result.as_str() {
            "already_gone" => "already gone",
            "started" => "started by a run that was stopped, gone since",
            other => other,
        }
    }
}

/// A journal open for appending.
pub struct Writer {
    journal: tagwarden_fs::Journal,
}

impl Writer {
    pub fn open(path: &Path) -> std::io::Result<Writer> {
        Ok(Writer {
            journal: tagwarden_fs::Journal::open(path)?,
        })
    }

    /// Appends the record and waits until it is on disk.
    pub fn append(&mut self, record: &Record) -> std::io::Result<()> {
        let line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        self.journal.append(&line)
    }
}

/// What a journal says: the last record of each key, and the lines that could not be read.
#[derive(Debug, Default)]
pub struct Read {
    pub last: BTreeMap<String, Record>,
    /// `path:line: why`.
    pub problems: Vec<String>,
}

impl Read {
    /// Keys whose last record is `started`: steps a killed run began and never finished.
    pub fn interrupted(&self) -> impl Iterator<Item = &Record> {
        self.last.values().filter(|r| r.result == "started")
    }
}

/// Reads a journal back; a missing file is an empty journal. A line that is not a record is
/// reported at its line and skipped: the rest still counts.
pub fn read(path: &Path) -> Result<Read, String> {
    let bytes = match tagwarden_fs::read_bounded(path, READ_MAX, true) {
        Ok(b) => b,
        Err(tagwarden_fs::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Read::default());
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    Ok(parse(&path.display().to_string(), &bytes))
}

/// Reads journal text (no I/O); `name` goes into messages.
pub fn parse(name: &str, bytes: &[u8]) -> Read {
    let mut out = Read::default();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(r) if r.journal == FORMAT => {
                out.last.insert(r.key.clone(), r);
            }
            Ok(r) => out.problems.push(format!(
                "{name}:{}: a record of another format ({:?}); skipped",
                i + 1,
                r.journal
            )),
            Err(e) => out.problems.push(format!(
                "{name}:{}:{}: not a journal record ({e}); skipped",
                i + 1,
                e.column()
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, result: &str) -> String {
        let r = Record {
            journal: FORMAT.to_string(),
            time: "2026-12-07T00:00:00Z".to_string(),
            key: key.to_string(),
            target: Target::Tag {
                repository: "r".into(),
                tag: "t".into(),
                digest: "sha256:0".into(),
            },
            action: Action::RestoreTag,
            before: String::new(),
            result: result.to_string(),
            message: None,
        };
        serde_json::to_string(&r).unwrap_or_default()
    }

    #[test]
    fn the_last_record_of_a_key_wins_and_bad_lines_are_reported_by_line() {
        let text = format!(
            "{}\n{}\n{{\"journal\":3}}\n\n{}\n{}",
            record("a", "started"),
            record("a", "done"),
            record("b", "started"),
            &record("c", "done")[..20]
        );
        let read = parse("j.jsonl", text.as_bytes());
        assert_eq!(read.last["a"].result, "done");
        assert_eq!(
            read.interrupted()
                .map(|r| r.key.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
        assert_eq!(read.problems.len(), 2, "{:?}", read.problems);
        assert!(
            read.problems[0].starts_with("j.jsonl:3:"),
            "{:?}",
            read.problems
        );
        assert!(
            read.problems[1].starts_with("j.jsonl:6:"),
            "{:?}",
            read.problems
        );
    }

    #[test]
    fn a_missing_journal_is_empty() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let read = read(&dir.path().join("none.jsonl")).unwrap_or_default();
        assert!(read.last.is_empty());
    }
}
