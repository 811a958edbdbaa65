//! Docker Hub exports as evidence: the consumer usage CSV (which repository, tag and digest an
//! organisation's accounts pulled, hour by hour, from which IPs) and the publisher audit log
//! (`repo.tag.push` events: who pushed which digest under which tag, and when).
//!
//! Each file is recognised from its content: JSON (an `{"logs": [...]}` API page, an array of
//! events, or JSON lines) is an audit log, read by [`crate::audit`] (each bad record a problem
//! at its line and column); anything else must be a CSV whose header names the columns, whose
//! unreadable rows are counted and reported as one problem per file, with the first line at
//! fault.

mod usage;

use std::io::BufRead;
use std::path::PathBuf;

use jiff::Timestamp;

use crate::recognise::{self, Kind, Readers};
use crate::{EvidenceSource, Problem, Sink, SourceKind, SourceStats};

/// Docker Hub usage CSV exports and audit-log JSON under some paths.
#[derive(Clone, Debug)]
pub struct DockerHubExports {
    paths: Vec<PathBuf>,
    readers: Readers,
}

impl DockerHubExports {
    /// Exports under these paths: files or directories (walked recursively); files of other
    /// kinds found among them go to `readers`.
    pub fn new(paths: Vec<PathBuf>, readers: Readers) -> Self {
        Self { paths, readers }
    }
}

impl EvidenceSource for DockerHubExports {
    fn describe(&self) -> String {
        let paths: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        format!("Docker Hub exports in {}", paths.join(", "))
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        recognise::collect(
            &self.paths,
            &self.readers,
            Kind::DockerHubExport,
            SourceKind::DockerHubUsage,
            &self.describe(),
            sink,
            read_stream,
        )
    }
}

/// Whether a file's first line and head are a Docker Hub export: a usage CSV header, or audit
/// events (`repo.tag.push`, and the API's `action_description`).
pub(crate) fn recognise(first: &str, head: &str) -> bool {
    let json = first.trim_start().starts_with(['{', '[']);
    if json {
        return head.contains("\"repo.tag.") || head.contains("\"action_description\"");
    }
    usage::is_header(first)
}

/// Reads one export (usage CSV or audit JSON, told apart by its first byte).
pub(crate) fn read_stream(
    reader: &mut dyn BufRead,
    location: &str,
    sink: &dyn Sink,
    stats: &mut SourceStats,
) {
    if starts_with_json(&mut *reader) {
        return crate::audit::read_stream(reader, location, sink, stats);
    }
    let outcome = usage::read(&mut *reader, location, sink);
    stats.bytes += outcome.bytes;
    stats.records += outcome.records;
    sink.progress(stats.bytes);
    if outcome.bad > 0 {
        sink.problem(Problem {
            source: outcome.source,
            location: location.to_string(),
            message: format!(
                "{} unreadable record(s), the first at line {}",
                outcome.bad,
                outcome.first_bad_line.unwrap_or(0)
            ),
        });
    }
    if let Some(message) = outcome.fatal {
        sink.problem(Problem {
            source: outcome.source,
            location: location.to_string(),
            message,
        });
    }
}

/// What reading one export gave.
#[derive(Debug)]
struct Outcome {
    source: SourceKind,
    bytes: u64,
    /// Records read (rows or events), whether or not they were evidence.
    records: u64,
    /// Records that could not be read.
    bad: u64,
    first_bad_line: Option<u64>,
    /// Why reading stopped early (corrupt file, not an export at all).
    fatal: Option<String>,
}

impl Outcome {
    fn new(source: SourceKind) -> Self {
        Self {
            source,
            bytes: 0,
            records: 0,
            bad: 0,
            first_bad_line: None,
            fatal: None,
        }
    }

    fn bad(&mut self, line: u64) {
        self.bad += 1;
        self.first_bad_line.get_or_insert(line);
    }
}

/// Whether the first non-blank byte opens JSON (a BOM and whitespace skipped, nothing consumed
/// beyond them).
fn starts_with_json(reader: &mut dyn BufRead) -> bool {
    loop {
        let Ok(buf) = reader.fill_buf() else {
            return false;
        };
        if buf.is_empty() {
            return false;
        }
        let skip = buf
            .iter()
            .position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xef | 0xbb | 0xbf))
            .unwrap_or(buf.len());
        if skip < buf.len() {
            return matches!(buf.get(skip), Some(b'{' | b'['));
        }
        let n = buf.len();
        reader.consume(n);
    }
}

/// A time as exports write it: RFC 3339 (`2026-04-22T12:00:00Z`), a civil date-time taken as
/// UTC (`2026-04-22 12:00:00`), the usage export's hour bucket (`2026/04/22/12`), or Unix
/// seconds / milliseconds.
pub(crate) fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim().trim_matches('"');
    if s.is_empty() {
        return None;
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(ts);
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = s.parse().ok()?;
        return if n > 100_000_000_000 {
            Timestamp::from_millisecond(n).ok()
        } else {
            Timestamp::from_second(n).ok()
        };
    }
    // `yyyy/mm/dd/hh` (and `yyyy-mm-dd hh` variants): an hour bucket.
    let parts: Vec<&str> = s.split(['/', '-', ' ', 'T', ':']).collect();
    if (parts.len() == 4 || parts.len() == 3)
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        let n = |i: usize| parts.get(i).and_then(|p| p.parse::<i16>().ok());
        let month = i8::try_from(n(1)?).ok()?;
        let day = i8::try_from(n(2)?).ok()?;
        let hour = if parts.len() == 4 {
            i8::try_from(n(3)?).ok()?
        } else {
            0
        };
        let dt = jiff::civil::DateTime::new(n(0)?, month, day, hour, 0, 0, 0).ok()?;
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    let dt: jiff::civil::DateTime = s.trim_end_matches(" UTC").parse().ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests;
