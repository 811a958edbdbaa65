//! Network logs searched for network indicators: each file's format is detected from its first
//! lines, each line is parsed into fields, and only the fields that can hold an indicator (a
//! query name, a host, a URL, an address, a user agent) are looked up in the [`IndicatorSet`].
//! Lines that do not parse in their file's format are counted, reported, and searched as plain
//! text, so nothing is skipped silently.

mod access;
mod coredns;
mod json;
mod matcher;
mod time;
mod vpc;
mod zeek;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use jiff::Timestamp;

use crate::indicators::{IndicatorKind, IndicatorSet};
use crate::{Evidence, EvidenceSource, Observed, Problem, Sink, SourceKind, SourceStats, input};
use matcher::{Hits, Matcher};

/// How many bytes a worker reads between two progress reports.
const PROGRESS_STEP: u64 = 8 << 20;

/// Network logs (files or directories, plain, gzip or zstd) searched for network indicators.
pub struct NetworkLogs {
    paths: Vec<PathBuf>,
    indicators: Arc<IndicatorSet>,
    threads: usize,
}

impl NetworkLogs {
    /// Searches `paths` with `threads` workers (at least one).
    pub fn new(paths: Vec<PathBuf>, indicators: Arc<IndicatorSet>, threads: usize) -> Self {
        NetworkLogs {
            paths,
            indicators,
            threads: threads.max(1),
        }
    }
}

impl EvidenceSource for NetworkLogs {
    fn describe(&self) -> String {
        let paths: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        format!("network logs in {}", paths.join(", "))
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        let (files, errors) = input::files(&self.paths);
        let nothing = files.is_empty() && !errors.is_empty();
        for (path, e) in errors {
            sink.problem(Problem {
                source: SourceKind::PlainText,
                location: path.display().to_string(),
                message: format!("cannot read: {e}"),
            });
        }
        if nothing {
            return Err(Problem {
                source: SourceKind::PlainText,
                location: self.describe(),
                message: "no readable file".into(),
            });
        }
        let matcher = Matcher::new(&self.indicators);
        let next = AtomicUsize::new(0);
        let total = AtomicU64::new(0);
        let lines = AtomicU64::new(0);
        let opened = AtomicU64::new(0);
        let workers = self.threads.min(files.len()).max(1);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    let mut hits = Hits::default();
                    while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let mut scan = FileScan {
                            path,
                            location: path.display().to_string(),
                            matcher: &matcher,
                            sink,
                            total: &total,
                        };
                        if let Some(n) = scan.run(&mut hits) {
                            opened.fetch_add(1, Ordering::Relaxed);
                            lines.fetch_add(n, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        let bytes = total.load(Ordering::Relaxed);
        sink.progress(bytes);
        Ok(SourceStats {
            files: opened.load(Ordering::Relaxed),
            bytes,
            records: lines.load(Ordering::Relaxed),
        })
    }
}

/// When a line happened, as written; parsed only if the line matched.
#[derive(Debug, Default)]
pub(crate) enum Time<'l> {
    #[default]
    None,
    Epoch(&'l str),
    Rfc3339(&'l str),
    Clf(&'l str),
    Any(Cow<'l, str>),
}

impl Time<'_> {
    fn parse(&self) -> Option<Timestamp> {
        match self {
            Time::None => None,
            Time::Epoch(s) => time::epoch(s),
            Time::Rfc3339(s) => time::rfc3339(s),
            Time::Clf(s) => time::clf(s),
            Time::Any(s) => time::any(s),
        }
    }
}

/// What a parser found on a line besides the hits.
#[derive(Debug, Default)]
pub(crate) struct Rec<'l> {
    pub(crate) time: Time<'l>,
    /// The client address.
    pub(crate) host: Option<Cow<'l, str>>,
    /// The other end (server, peer, resolver).
    pub(crate) remote: Option<Cow<'l, str>>,
}

/// The result of parsing one line.
#[derive(Debug)]
pub(crate) enum Outcome<'l> {
    /// A record of the file's format (hits, if any, are in the hit list).
    Record(Rec<'l>),
    /// A header, comment or blank line.
    Skip,
    /// A line the format allows that is not a record (a CoreDNS startup message): searched as
    /// plain text, not counted as an error.
    Text,
    /// Not a line of the file's format: counted and searched as plain text.
    Unparsed,
}

/// A file's format, with its parsing state.
#[derive(Debug)]
enum Parser {
    Zeek(Box<zeek::Zeek>),
    Json(json::Flavor),
    SquidNative,
    Combined(SourceKind),
    CoreDns,
    Vpc(vpc::Vpc),
    Plain,
}

impl Parser {
    /// Picks a format from the first non-blank line.
    fn detect(line: &str) -> Parser {
        let t = line.trim_start();
        if zeek::is_header(t) {
            return Parser::Zeek(Box::default());
        }
        if t.starts_with('{') {
            return json::detect(t).map_or(Parser::Plain, Parser::Json);
        }
        if let Some(v) = vpc::detect(t) {
            return Parser::Vpc(v);
        }
        if coredns::detect(t) {
            return Parser::CoreDns;
        }
        if access::detect_squid_native(t) {
            return Parser::SquidNative;
        }
        if let Some(kind) = access::detect_combined(t) {
            return Parser::Combined(kind);
        }
        Parser::Plain
    }

    fn kind(&self) -> SourceKind {
        match self {
            Parser::Zeek(z) => z.kind(),
            Parser::Json(f) => f.kind(),
            Parser::SquidNative => SourceKind::Squid,
            Parser::Combined(kind) => *kind,
            Parser::CoreDns => SourceKind::CoreDns,
            Parser::Vpc(_) => SourceKind::VpcFlow,
            Parser::Plain => SourceKind::PlainText,
        }
    }

    fn line<'l, 's>(&mut self, line: &'l str, m: &Matcher<'s>, hits: &mut Hits<'s>) -> Outcome<'l> {
        match self {
            Parser::Zeek(z) => z.line(line, m, hits),
            Parser::Json(f) => json::line(*f, line, m, hits),
            Parser::SquidNative => access::squid_native(line, m, hits),
            Parser::Combined(_) => access::combined(line, m, hits),
            Parser::CoreDns => coredns::line(line, m, hits),
            Parser::Vpc(v) => v.line(line, m, hits),
            Parser::Plain => {
                if line.trim().is_empty() {
                    Outcome::Skip
                } else {
                    Outcome::Text
                }
            }
        }
    }
}

/// How many non-blank lines are looked at to detect a file's format.
const DETECT_LINES: usize = 8;

/// Per-file parsing state.
#[derive(Default)]
struct FileState {
    parser: Option<Parser>,
    /// The first lines, kept until the format is known.
    lookahead: Vec<(u64, Vec<u8>)>,
    unparsed: u64,
    first_unparsed: u64,
}

/// One file being searched by one worker.
struct FileScan<'a, 's> {
    path: &'a Path,
    location: String,
    matcher: &'a Matcher<'s>,
    sink: &'a dyn Sink,
    total: &'a AtomicU64,
}

impl<'s> FileScan<'_, 's> {
    /// Searches the file; returns the number of lines read, or `None` if it could not be
    /// opened.
    fn run(&mut self, hits: &mut Hits<'s>) -> Option<u64> {
        let mut reader = match input::open(self.path) {
            Ok(r) => r,
            Err(e) => {
                self.problem(SourceKind::PlainText, format!("cannot read: {e}"));
                return None;
            }
        };
        let mut state = FileState::default();
        let mut lines = 0u64;
        let mut pending = 0u64;
        let result = input::for_each_line(&mut *reader, |n, raw| {
            lines = n;
            pending += raw.len() as u64 + 1;
            if pending >= PROGRESS_STEP {
                self.progress(&mut pending);
            }
            if state.parser.is_some() {
                self.line(&mut state, n, raw, hits);
                return true;
            }
            // Undecided: keep the first lines until one of them says what the file is.
            if raw.iter().all(u8::is_ascii_whitespace) {
                return true;
            }
            let detected = Parser::detect(&String::from_utf8_lossy(raw));
            state.lookahead.push((n, raw.to_vec()));
            if !matches!(detected, Parser::Plain) || state.lookahead.len() >= DETECT_LINES {
                state.parser = Some(detected);
                self.flush(&mut state, hits);
            }
            true
        });
        if state.parser.is_none() {
            state.parser = Some(Parser::Plain);
            self.flush(&mut state, hits);
        }
        let FileState {
            parser,
            unparsed,
            first_unparsed,
            ..
        } = state;
        self.progress(&mut pending);
        let kind = parser.as_ref().map_or(SourceKind::PlainText, Parser::kind);
        if let Err(e) = result {
            self.problem(
                kind,
                format!(
                    "read error after line {lines} (corrupt or truncated file?): {e}; \
                     evidence before it is kept"
                ),
            );
        }
        if unparsed > 0 {
            self.problem(
                kind,
                format!(
                    "{unparsed} line(s) did not parse as {} (first: line {first_unparsed}); \
                     searched as plain text",
                    kind.as_str()
                ),
            );
        }
        Some(lines)
    }

    fn flush(&self, state: &mut FileState, hits: &mut Hits<'s>) {
        for (n, raw) in std::mem::take(&mut state.lookahead) {
            self.line(state, n, &raw, hits);
        }
    }

    /// Parses one line with the file's parser, falling back to plain text, and reports hits.
    fn line(&self, state: &mut FileState, n: u64, raw: &[u8], hits: &mut Hits<'s>) {
        let Some(parser) = state.parser.as_mut() else {
            return;
        };
        let m = self.matcher;
        let text = String::from_utf8_lossy(raw);
        hits.clear();
        let outcome = parser.line(&text, m, hits);
        let rec = match outcome {
            Outcome::Record(rec) => rec,
            Outcome::Skip => return,
            Outcome::Text | Outcome::Unparsed => {
                if matches!(outcome, Outcome::Unparsed) {
                    state.unparsed += 1;
                    if state.first_unparsed == 0 {
                        state.first_unparsed = n;
                    }
                }
                hits.clear();
                m.text(&text, hits);
                Rec::default()
            }
        };
        if !hits.is_empty() {
            self.emit(parser.kind(), n, &rec, hits, &text);
        }
    }

    fn progress(&self, pending: &mut u64) {
        if *pending > 0 {
            let total = self.total.fetch_add(*pending, Ordering::Relaxed) + *pending;
            *pending = 0;
            self.sink.progress(total);
        }
    }

    fn problem(&self, source: SourceKind, message: String) {
        self.sink.problem(Problem {
            source,
            location: self.location.clone(),
            message,
        });
    }

    fn emit(&self, source: SourceKind, line: u64, rec: &Rec<'_>, hits: &Hits<'s>, text: &str) {
        let timestamp = rec.time.parse();
        let host = rec
            .host
            .as_deref()
            .map(|h| matcher::strip_port(h).to_string())
            .filter(|h| !h.is_empty() && h != "-");
        let remote = rec.remote.as_deref().and_then(matcher::parse_ip);
        let excerpt = crate::excerpt(text);
        for (indicator, matched) in &hits.list {
            let remote_ip = if indicator.kind == IndicatorKind::Ip {
                matcher::parse_ip(matched)
                    .or_else(|| indicator.value.trim().parse().ok())
                    .or(remote)
            } else {
                remote
            };
            self.sink.evidence(Evidence {
                source,
                location: self.location.clone(),
                line: Some(line),
                timestamp,
                host: host.clone(),
                job: None,
                observed: Observed::Network {
                    indicator: (*indicator).clone(),
                    matched: matched.clone(),
                    remote_ip,
                },
                excerpt: Some(excerpt.clone()),
            });
        }
    }
}
