//! Network logs searched for network indicators: each file's format is detected from its first
//! lines, each line is parsed into fields, and only the fields that can hold an indicator (a
//! query name, a host, a URL, an address, a user agent) are looked up in the [`IndicatorSet`].
//! Lines that do not parse in their file's format are counted, reported, and searched as plain
//! text, so nothing is skipped silently.
//!
//! Whole blocks are first searched for pieces of the indicators (`prefilter.rs`: domains and
//! addresses by a key of their first dot, looked up per dot of the block whatever the number of
//! indicators; user agents as literals) and only the lines holding one are parsed: the evidence
//! is the same, but a line that holds no piece of any indicator is not parsed, so its being
//! malformed is not counted. A set with an IPv6 address is not pre-filtered.
//!
//! Formats, detected from the first lines of each file (never its name): Zeek TSV (headers
//! re-read wherever they appear) and JSON, Squid native (with an optional trailing quoted
//! User-Agent) and combined, nginx/Apache combined, Route 53 Resolver query logs, CoreDNS `log`
//! lines and JSON, AWS VPC Flow Logs (default layout or the header's), any JSON lines, and
//! plain text.

mod access;
mod coredns;
mod json;
mod matcher;
mod prefilter;
mod time;
mod vpc;
mod zeek;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::NetworkKind;
use crate::indicators::IndicatorSet;
use crate::recognise::{self, Kind, Opened, Readers};
use crate::{Evidence, EvidenceSource, Observed, Problem, Sink, SourceKind, SourceStats, input};
use matcher::{Hits, Matcher};
use prefilter::{Prefilter, StateLines};

/// How many bytes a worker reads between two progress reports.
const PROGRESS_STEP: u64 = 8 << 20;

/// Network logs (files or directories, plain, gzip or zstd) searched for network indicators.
pub struct NetworkLogs {
    paths: Vec<PathBuf>,
    indicators: Arc<IndicatorSet>,
    threads: usize,
}

impl NetworkLogs {
    /// Searches `paths` with `threads` workers (at least one). Files of other kinds found
    /// among them (a CI log, a snapshot, a Docker Hub export) are read by their own readers.
    pub fn new(paths: Vec<PathBuf>, indicators: Arc<IndicatorSet>, threads: usize) -> Self {
        NetworkLogs {
            paths,
            indicators,
            threads: threads.max(1),
        }
    }
}

/// Whether a file's first line is one of a network log format (a generic JSON object is not:
/// snapshots and exports are JSON too).
pub(crate) fn recognise(first: &str) -> bool {
    !matches!(
        Parser::detect(first),
        Parser::Plain | Parser::Json(json::Flavor::Generic)
    )
}

/// Searches one network log (read from `reader`, already decompressed) for `indicators`: what
/// [`NetworkLogs`] does for each file, and what a source of another kind calls for a network log
/// it finds.
pub fn read_stream(
    indicators: &IndicatorSet,
    location: &str,
    mut reader: Box<dyn std::io::BufRead + Send>,
    sink: &dyn Sink,
    stats: &mut SourceStats,
) {
    let matcher = Matcher::new(indicators);
    let prefilter = Prefilter::new(indicators);
    let total = AtomicU64::new(0);
    let mut scan = FileScan {
        location: location.to_string(),
        matcher: &matcher,
        sink,
        total: &total,
        prefilter: prefilter.as_ref(),
    };
    let (lines, bytes) = scan.run(&mut *reader, &mut Hits::default());
    stats.records += lines;
    stats.bytes += bytes;
}

impl EvidenceSource for NetworkLogs {
    fn describe(&self) -> String {
        let paths: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        format!("network logs in {}", paths.join(", "))
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        let walked = input::walk(&self.paths);
        recognise::walked(&walked, SourceKind::PlainText, &self.describe(), sink)?;
        let files = &walked.files;
        let readers = Readers::new(self.indicators.clone());
        let matcher = Matcher::new(&self.indicators);
        let prefilter = Prefilter::new(&self.indicators);
        let next = AtomicUsize::new(0);
        let total = AtomicU64::new(0);
        let stats = Mutex::new(SourceStats::default());
        let workers = self.threads.min(files.len()).max(1);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    let mut hits = Hits::default();
                    let mut mine = SourceStats::default();
                    while let Some(found) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let location = found.path.display().to_string();
                        readers.read_found(
                            found,
                            Kind::NetworkLog,
                            SourceKind::PlainText,
                            sink,
                            &mut mine,
                            &mut |opened, stats| {
                                if let Opened::Text { mut reader, .. } = opened {
                                    let mut scan = FileScan {
                                        location: location.clone(),
                                        matcher: &matcher,
                                        sink,
                                        total: &total,
                                        prefilter: prefilter.as_ref(),
                                    };
                                    let (lines, bytes) = scan.run(&mut *reader, &mut hits);
                                    stats.records += lines;
                                    stats.bytes += bytes;
                                }
                            },
                        );
                    }
                    let mut all = stats.lock().unwrap_or_else(|e| e.into_inner());
                    all.files += mine.files;
                    all.bytes += mine.bytes;
                    all.records += mine.records;
                });
            }
        });
        let stats = stats.into_inner().unwrap_or_else(|e| e.into_inner());
        sink.progress(total.load(Ordering::Relaxed));
        Ok(stats)
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

    /// Lines that must be read even without a candidate, because they change the parser.
    fn state_lines(&self) -> StateLines {
        match self {
            Parser::Zeek(_) => StateLines::Hash,
            Parser::Vpc(_) => StateLines::VpcHeader,
            _ => StateLines::None,
        }
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
    /// Lines read so far.
    line_no: u64,
    /// Scratch buffers of the pre-filter.
    starts: Vec<usize>,
    lower: Vec<u8>,
    /// Lines longer than the read buffer, the first one, and whether one is being read.
    long_lines: u64,
    first_long: u64,
    in_long_line: bool,
}

/// Size of the read buffer: large blocks for the pre-filter, small enough that a block read is
/// still in the core's L2 cache when it is searched. A longer line is searched in pieces.
const CHUNK: usize = 256 * 1024;

fn count_newlines(data: &[u8]) -> u64 {
    // memchr's iterator counts with vector instructions.
    memchr::memchr_iter(b'\n', data).count() as u64
}

/// One file being searched by one worker.
struct FileScan<'a, 's> {
    location: String,
    matcher: &'a Matcher<'s>,
    sink: &'a dyn Sink,
    total: &'a AtomicU64,
    prefilter: Option<&'a Prefilter>,
}

impl<'s> FileScan<'_, 's> {
    /// Searches the file; returns the number of lines and bytes read.
    fn run(&mut self, reader: &mut dyn Read, hits: &mut Hits<'s>) -> (u64, u64) {
        let mut state = FileState::default();
        let mut pending = 0u64;
        let mut bytes = 0u64;
        let state_cell = std::cell::RefCell::new(&mut state);
        let hits_cell = std::cell::RefCell::new(hits);
        let result = self.read_chunks(
            reader,
            &mut pending,
            &mut bytes,
            |data| {
                let mut state = state_cell.borrow_mut();
                self.chunk(&mut state, data, &mut hits_cell.borrow_mut());
            },
            |piece| {
                let mut state = state_cell.borrow_mut();
                self.long_piece(&mut state, piece, &mut hits_cell.borrow_mut());
            },
        );
        let hits = hits_cell.into_inner();
        if state.parser.is_none() {
            state.parser = Some(Parser::Plain);
            self.flush(&mut state, hits);
        }
        let FileState {
            parser,
            unparsed,
            first_unparsed,
            line_no: lines,
            long_lines,
            first_long,
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
            // Searched all the same: a caveat, not evidence left unread.
            self.note(
                kind,
                format!(
                    "{unparsed} line(s) did not parse as {} (first: line {first_unparsed}); \
                     searched as plain text",
                    kind.as_str()
                ),
            );
        }
        if long_lines > 0 {
            self.note(
                kind,
                format!(
                    "{long_lines} line(s) longer than {} KiB (the first: line {first_long}): \
                     searched whole as plain text, in overlapping pieces",
                    CHUNK >> 10
                ),
            );
        }
        (lines, bytes)
    }

    /// Reads the file in large blocks and hands over runs of whole lines (the last one may lack
    /// its `\n` at the end of the file) to `f`. A line longer than the buffer goes to `long` in
    /// pieces of the buffer's size, each starting [`input::OVERLAP`] bytes before the previous
    /// one ended; its last piece comes to `f` as a line. Memory stays bounded, nothing is
    /// skipped.
    fn read_chunks(
        &self,
        reader: &mut dyn Read,
        pending: &mut u64,
        bytes: &mut u64,
        mut f: impl FnMut(&[u8]),
        mut long: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        let mut buf = vec![0u8; CHUNK];
        let mut filled = 0;
        loop {
            if filled == buf.len() {
                // No newline in a full buffer: a piece of a long line.
                long(&buf);
                buf.copy_within(CHUNK - input::OVERLAP.., 0);
                filled = input::OVERLAP;
            }
            let n = match reader.read(buf.get_mut(filled..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            *bytes += n as u64;
            *pending += n as u64;
            if *pending >= PROGRESS_STEP {
                self.progress(pending);
            }
            let end = filled + n;
            let data = buf.get(..end).unwrap_or_default();
            match memchr::memrchr(b'\n', data) {
                Some(last) => {
                    f(data.get(..=last).unwrap_or_default());
                    buf.copy_within(last + 1..end, 0);
                    filled = end - (last + 1);
                }
                None => filled = end,
            }
        }
        if filled > 0 {
            f(buf.get(..filled).unwrap_or_default());
        }
        Ok(())
    }

    /// A piece of a line longer than the buffer: searched as plain text, at the line it is on
    /// (the line's number is taken when its last piece arrives).
    fn long_piece(&self, state: &mut FileState, piece: &[u8], hits: &mut Hits<'s>) {
        if !state.in_long_line {
            state.in_long_line = true;
            state.long_lines += 1;
            if state.first_long == 0 {
                state.first_long = state.line_no + 1;
            }
        }
        let text = String::from_utf8_lossy(piece);
        hits.clear();
        self.matcher.text(&text, hits);
        if !hits.is_empty() {
            let kind = state
                .parser
                .as_ref()
                .map_or(SourceKind::PlainText, Parser::kind);
            self.emit(kind, state.line_no + 1, &Rec::default(), hits, &text);
        }
    }

    /// Searches a run of whole lines: line by line until the format is known and when there
    /// is no pre-filter, else only the lines the pre-filter points at.
    fn chunk(&self, state: &mut FileState, data: &[u8], hits: &mut Hits<'s>) {
        // The first line here ends a long line, if one was being read.
        state.in_long_line = false;
        let mut pos = 0;
        // Validated once per chunk: its lines are then valid without another pass each.
        let text = if state.parser.is_some() && self.prefilter.is_some() {
            None
        } else {
            std::str::from_utf8(data).ok()
        };
        while pos < data.len() {
            if state.parser.is_some() && self.prefilter.is_some() {
                break;
            }
            let rest = data.get(pos..).unwrap_or_default();
            let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            state.line_no += 1;
            let raw = rest.get(..len).unwrap_or_default();
            let line_text = text.and_then(|t| t.get(pos..pos + len));
            self.undecided_or_line(state, raw, line_text, hits);
            pos += len + 1;
        }
        let (Some(prefilter), Some(parser)) = (self.prefilter, state.parser.as_ref()) else {
            return;
        };
        let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) else {
            return;
        };
        let state_lines = parser.state_lines();
        let mut starts = std::mem::take(&mut state.starts);
        let mut lower = std::mem::take(&mut state.lower);
        prefilter.candidates(rest, state_lines, &mut lower, &mut starts);
        let base = state.line_no;
        let mut counted = 0;
        let mut newlines = 0u64;
        for &start in &starts {
            newlines += count_newlines(rest.get(counted..start).unwrap_or_default());
            counted = start;
            let line = rest.get(start..).unwrap_or_default();
            let len = memchr::memchr(b'\n', line).unwrap_or(line.len());
            state.line_no = base + newlines + 1;
            self.line(
                state,
                state.line_no,
                line.get(..len).unwrap_or_default(),
                None,
                hits,
            );
        }
        newlines += count_newlines(rest.get(counted..).unwrap_or_default());
        state.line_no = base + newlines + u64::from(!rest.ends_with(b"\n"));
        state.starts = starts;
        state.lower = lower;
    }

    /// One line, in order: kept for format detection while the format is unknown.
    fn undecided_or_line(
        &self,
        state: &mut FileState,
        raw: &[u8],
        text: Option<&str>,
        hits: &mut Hits<'s>,
    ) {
        let n = state.line_no;
        if state.parser.is_some() {
            self.line(state, n, raw, text, hits);
            return;
        }
        if raw.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let detected = Parser::detect(&String::from_utf8_lossy(raw));
        state.lookahead.push((n, raw.to_vec()));
        if !matches!(detected, Parser::Plain) || state.lookahead.len() >= DETECT_LINES {
            state.parser = Some(detected);
            self.flush(state, hits);
        }
    }

    fn flush(&self, state: &mut FileState, hits: &mut Hits<'s>) {
        for (n, raw) in std::mem::take(&mut state.lookahead) {
            self.line(state, n, &raw, None, hits);
        }
    }

    /// Parses one line with the file's parser, falling back to plain text, and reports hits.
    /// One line; `text` is the line already known to be UTF-8, if it is.
    fn line(
        &self,
        state: &mut FileState,
        n: u64,
        raw: &[u8],
        text: Option<&str>,
        hits: &mut Hits<'s>,
    ) {
        let Some(parser) = state.parser.as_mut() else {
            return;
        };
        let m = self.matcher;
        let text: Cow<'_, str> = match text {
            Some(t) => Cow::Borrowed(t.strip_suffix('\r').unwrap_or(t)),
            None => String::from_utf8_lossy(raw.strip_suffix(b"\r").unwrap_or(raw)),
        };
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

    fn note(&self, source: SourceKind, message: String) {
        self.sink.note(Problem {
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
            let remote_ip = if indicator.kind == NetworkKind::Ip {
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
                within: None,
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
