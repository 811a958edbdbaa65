//! Dockerfile / Containerfile extractor: a line lexer that follows BuildKit's parser closely
//! enough to find every image a build pulls (`FROM`, `COPY --from`, `RUN --mount=…,from=` and the
//! `# syntax=` directive) with the exact byte span of the reference as written.
//!
//! What it mirrors from BuildKit: parser directives only in the block at the very top, the
//! `escape` directive, line continuations (comment and blank lines inside them skipped), heredoc
//! bodies (not instructions), case-insensitive keywords and stage names, and global `ARG`
//! defaults (the ARGs before the first `FROM`) as the only variables `FROM`, `COPY --from` and
//! mount `from=` can use. Variables with no default, or set by the builder (`TARGETARCH`, …), make
//! the reference unresolved; nothing is guessed.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use crate::read::vars::{self, Syntax, Value};
use crate::{Extraction, Form, ImageOccurrence, Origin, Source, Span, Unresolved};

/// Finds the image references of a Dockerfile.
pub fn extract(text: &str) -> Extraction {
    Extractor::new(text).run()
}

/// Offset given to `vars::expand` so that origins of `${X:-default}` words (relative to the
/// expanded piece) can be told apart from ARG origins (file offsets) and mapped back.
const PIECE_BASE: usize = usize::MAX / 2;

/// Builder-set platform ARGs with the values they can take, used only to recognise stage names
/// such as `binaries-$TARGETOS`.
const OS_VALUES: &[&str] = &[
    "linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix",
    "android", "ios", "plan9", "wasip1", "js",
];
const ARCH_VALUES: &[&str] = &[
    "amd64", "arm64", "arm", "386", "ppc64le", "ppc64", "s390x", "riscv64", "mips64le", "mips64",
    "mipsle", "mips", "loong64", "wasm",
];
const VARIANT_VALUES: &[&str] = &["", "v5", "v6", "v7", "v8", "v2", "v3", "v4"];
const PLATFORM_VALUES: &[&str] = &["linux/amd64"];

fn builder_values(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "TARGETOS" | "BUILDOS" => Some(OS_VALUES),
        "TARGETARCH" | "BUILDARCH" => Some(ARCH_VALUES),
        "TARGETVARIANT" | "BUILDVARIANT" => Some(VARIANT_VALUES),
        "TARGETPLATFORM" | "BUILDPLATFORM" => Some(PLATFORM_VALUES),
        _ => None,
    }
}

/// Most candidate names tried when a stage name is built from platform variables.
const MAX_STAGE_CANDIDATES: usize = 512;
/// Total work allowed for stage-name matching with variables in one file.
const GLOB_BUDGET: usize = 10_000_000;

/// One physical line: its content without the line ending.
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    end: usize,
}

/// A contiguous piece of the file inside a logical (continuation-joined) instruction.
#[derive(Clone, Copy, Debug)]
struct Seg {
    logical: usize,
    orig: usize,
}

/// An instruction with its continuations joined, and the way back to file offsets.
#[derive(Default, Debug)]
struct Logical {
    text: String,
    segs: Vec<Seg>,
}

impl Logical {
    fn push(&mut self, src: &str, start: usize, end: usize) {
        let Some(piece) = src.get(start..end) else {
            return;
        };
        if piece.is_empty() {
            return;
        }
        self.segs.push(Seg {
            logical: self.text.len(),
            orig: start,
        });
        self.text.push_str(piece);
    }

    fn seg_at(&self, pos: usize) -> Option<&Seg> {
        let i = self.segs.partition_point(|s| s.logical <= pos);
        self.segs.get(i.checked_sub(1)?)
    }

    /// File span of the logical range, and whether it is one contiguous piece of the file.
    fn map(&self, start: usize, end: usize) -> (Span, bool) {
        let Some(first) = self.seg_at(start) else {
            return (Span::default(), true);
        };
        let s = first.orig + (start - first.logical);
        if end <= start {
            return (Span::new(s, s), true);
        }
        let Some(last) = self.seg_at(end - 1) else {
            return (Span::new(s, s), true);
        };
        let e = last.orig + (end - last.logical);
        (Span::new(s, e), first.logical == last.logical)
    }

    fn get(&self, start: usize, end: usize) -> &str {
        self.text.get(start..end).unwrap_or("")
    }
}

/// A global ARG: its default (if any) and where it is written.
#[derive(Debug)]
struct ArgDef {
    /// `None`: declared without a default. `Err`: the default uses something unknown.
    value: Option<Result<String, Unresolved>>,
    origin: Option<Origin>,
    /// Definitions substituted into the default itself (`ARG IMG=alpine:${TAG}`).
    inner: Vec<Origin>,
}

/// A word expanded with global ARGs.
struct Resolved {
    value: Result<String, Unresolved>,
    origins: Vec<Origin>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Unknown variables make the result unresolved.
    Strict,
    /// Unknown variables become wildcards, to test whether the word may name a stage.
    Pattern,
}

/// A `COPY --from` / mount `from=` value, decided once every stage name of the file is known
/// (BuildKit lets these name stages defined later).
struct Pending {
    occ: ImageOccurrence,
    pattern: Option<String>,
}

/// A `<<NAME` in a RUN/COPY/ADD instruction.
struct Heredoc {
    name: String,
    chomp: bool,
    span: Span,
}

/// Lines by content, built on first use, so that looking for a heredoc terminator never
/// rescans the file.
#[derive(Default)]
struct Terminators<'t> {
    exact: Option<HashMap<&'t str, Vec<usize>>>,
    tabs: Option<HashMap<&'t str, Vec<usize>>>,
}

struct Extractor<'t> {
    text: &'t str,
    lines: Vec<Line>,
    escape: u8,
    out: Extraction,
    args: HashMap<String, ArgDef>,
    stage_args: HashSet<String>,
    seen_from: bool,
    stages: Vec<String>,
    stage_set: HashSet<String>,
    current_stage: Option<String>,
    pending: Vec<Pending>,
    terminators: Terminators<'t>,
    glob_budget: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0b' | b'\x0c' | b'\r')
}

fn split_lines(text: &str) -> Vec<Line> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    loop {
        let nl = bytes
            .get(start..)
            .and_then(|rest| memchr::memchr(b'\n', rest))
            .map(|n| start + n);
        let raw_end = nl.unwrap_or(bytes.len());
        let mut end = raw_end;
        while end > start && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        lines.push(Line { start, end });
        match nl {
            Some(n) => start = n + 1,
            None => break,
        }
    }
    lines
}

/// The next word of `s` from `i`: runs of non-blanks, quotes and the escape character kept inside.
fn next_word(s: &[u8], mut i: usize, escape: u8) -> Option<(usize, usize)> {
    while i < s.len() && s.get(i).copied().is_some_and(is_space) {
        i += 1;
    }
    if i >= s.len() {
        return None;
    }
    let start = i;
    let mut quote: Option<u8> = None;
    while let Some(&b) = s.get(i) {
        match quote {
            Some(q) => {
                if b == q {
                    quote = None;
                } else if b == escape && q == b'"' {
                    i += 1;
                }
            }
            None => {
                if is_space(b) {
                    break;
                }
                if b == b'"' || b == b'\'' {
                    quote = Some(b);
                } else if b == escape {
                    i += 1;
                }
            }
        }
        i += 1;
    }
    Some((start, i.min(s.len())))
}

/// Splits leading `--flag` words off an instruction's arguments: the flags, and where the rest
/// starts.
fn take_flags(s: &[u8], from: usize, escape: u8) -> (Vec<(usize, usize)>, usize) {
    let mut flags = Vec::new();
    let mut pos = from;
    while let Some((ws, we)) = next_word(s, pos, escape) {
        let word = s.get(ws..we).unwrap_or_default();
        if !word.starts_with(b"--") {
            return (flags, ws);
        }
        pos = we;
        if word == b"--" {
            break;
        }
        flags.push((ws, we));
    }
    (flags, pos)
}

/// The range inside matching quotes that wrap the whole range, or the range itself.
fn strip_quotes(s: &[u8], start: usize, end: usize) -> (usize, usize) {
    if end >= start + 2 {
        let (first, last) = (s.get(start), s.get(end - 1));
        if first == last && matches!(first, Some(b'"' | b'\'')) {
            return (start + 1, end - 1);
        }
    }
    (start, end)
}

/// Part of a shell word: text that variables expand in, or literal text (single-quoted,
/// escaped).
enum Piece {
    Expand(usize, usize),
    Literal(String),
}

/// Splits a shell word into pieces, removing quotes and escapes as the BuildKit lexer does.
fn pieces(s: &str, start: usize, end: usize, escape: u8) -> Vec<Piece> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = start;
    let mut run = start;
    let mut quote: Option<u8> = None;
    let flush = |out: &mut Vec<Piece>, a: usize, b: usize| {
        if b > a {
            out.push(Piece::Expand(a, b));
        }
    };
    while i < end {
        let Some(&b) = bytes.get(i) else { break };
        match quote {
            None if b == b'"' || b == b'\'' => {
                flush(&mut out, run, i);
                quote = Some(b);
                run = i + 1;
            }
            Some(b'\'') if b == b'\'' => {
                out.push(Piece::Literal(s.get(run..i).unwrap_or("").to_string()));
                quote = None;
                run = i + 1;
            }
            Some(b'"') if b == b'"' => {
                flush(&mut out, run, i);
                quote = None;
                run = i + 1;
            }
            None | Some(b'"') if b == escape && i + 1 < end => {
                let next = bytes.get(i + 1).copied().unwrap_or(0);
                // Inside double quotes only a few characters are escapable.
                if quote.is_none() || matches!(next, b'"' | b'$') || next == escape {
                    flush(&mut out, run, i);
                    let ch_end = (i + 2..=end)
                        .find(|&e| s.is_char_boundary(e))
                        .unwrap_or(end);
                    out.push(Piece::Literal(
                        s.get(i + 1..ch_end).unwrap_or("").to_string(),
                    ));
                    i = ch_end;
                    run = ch_end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    match quote {
        Some(b'\'') => out.push(Piece::Literal(s.get(run..end).unwrap_or("").to_string())),
        _ => flush(&mut out, run, end),
    }
    out
}

/// Checks for the exec form `["a", "b"]`, where heredocs are not recognised.
fn is_json_array(s: &[u8]) -> bool {
    let mut i = 0;
    let skip = |i: &mut usize| {
        while s
            .get(*i)
            .copied()
            .is_some_and(|b| is_space(b) || b == b'\n')
        {
            *i += 1;
        }
    };
    skip(&mut i);
    if s.get(i) != Some(&b'[') {
        return false;
    }
    i += 1;
    skip(&mut i);
    if s.get(i) == Some(&b']') {
        i += 1;
    } else {
        loop {
            if s.get(i) != Some(&b'"') {
                return false;
            }
            i += 1;
            loop {
                match s.get(i) {
                    None => return false,
                    Some(b'\\') => i += 2,
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
            skip(&mut i);
            match s.get(i) {
                Some(b',') => {
                    i += 1;
                    skip(&mut i);
                }
                Some(b']') => {
                    i += 1;
                    break;
                }
                _ => return false,
            }
        }
    }
    skip(&mut i);
    i >= s.len()
}

/// A heredoc marker word (`<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF`): its name and chomp flag.
fn heredoc_marker(word: &str) -> Option<(String, bool)> {
    let rest = word
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let mut name = String::with_capacity(rest.len());
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {}
            '\\' => name.extend(chars.next()),
            c => name.push(c),
        }
    }
    (!name.is_empty()).then_some((name, chomp))
}

/// Pattern token for stage-name matching.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    Byte(u8),
    Star,
}

fn glob_match(p: &[Tok], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = s.get(si) {
        match p.get(pi) {
            Some(Tok::Star) => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(Tok::Byte(b)) if *b == c => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&Tok::Star) {
        pi += 1;
    }
    pi == p.len()
}

/// `\0NAME\0` stands for a builder-set variable and `\0*\0` for an unknown one in patterns.
fn marker(name: &str) -> String {
    format!("\0{name}\0")
}

fn is_stage_index(v: &str) -> bool {
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

impl<'t> Extractor<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            lines: split_lines(text),
            escape: b'\\',
            out: Extraction::default(),
            args: HashMap::new(),
            stage_args: HashSet::new(),
            seen_from: false,
            stages: Vec::new(),
            stage_set: HashSet::new(),
            current_stage: None,
            pending: Vec::new(),
            terminators: Terminators::default(),
            glob_budget: GLOB_BUDGET,
        }
    }

    /// Records an occurrence. Spans here never repeat, so the alias merging of
    /// `Extraction::push_image` (a linear search per push) is not needed.
    fn push(&mut self, occ: ImageOccurrence) {
        self.out.images.push(occ);
    }

    fn line(&self, i: usize) -> Line {
        self.lines
            .get(i)
            .copied()
            .unwrap_or(Line { start: 0, end: 0 })
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.text.as_bytes().get(i).copied()
    }

    fn skip_space(&self, mut i: usize, end: usize) -> usize {
        while i < end && self.byte(i).is_some_and(is_space) {
            i += 1;
        }
        i
    }

    fn run(mut self) -> Extraction {
        let mut i = self.directives();
        while i < self.lines.len() {
            let line = self.line(i);
            let first = self.skip_space(line.start, line.end);
            if first >= line.end || self.byte(first) == Some(b'#') {
                i += 1;
                continue;
            }
            let (logical, last) = self.assemble(i);
            i = last + 1;
            let heredocs = self.instruction(&logical);
            for h in heredocs {
                match self.find_terminator(&h, i) {
                    Some(t) => i = t + 1,
                    None => {
                        // The rest of the file is read as instructions again, as if `<<` were text.
                        self.out.parse_error(
                            h.span,
                            format!(
                                "unterminated heredoc: no line `{}` closes it; the lines after it are read as instructions",
                                h.name
                            ),
                        );
                        break;
                    }
                }
            }
        }
        self.finish_pending();
        self.out.images.sort_by_key(|o| (o.span.start, o.span.end));
        self.out.diagnostics.sort_by_key(|d| d.span.start);
        self.out
    }

    /// Reads the parser directives at the top of the file; returns the first line after them.
    fn directives(&mut self) -> usize {
        let mut seen = HashSet::new();
        for i in 0..self.lines.len() {
            let Some((key, vs, ve)) = self.directive(self.line(i)) else {
                return i;
            };
            if !seen.insert(key.clone()) {
                self.out.note(
                    Span::new(vs, ve),
                    format!("only one `{key}` parser directive may be used; this one is ignored"),
                );
                continue;
            }
            let value = self.text.get(vs..ve).unwrap_or("");
            match key.as_str() {
                "syntax" => {
                    let rel = value
                        .find(|c: char| c.is_whitespace())
                        .unwrap_or(value.len());
                    let image = value.get(..rel).unwrap_or("").to_string();
                    self.push(ImageOccurrence {
                        span: Span::new(vs, vs + rel),
                        text: image.clone(),
                        image: Ok(image),
                        source: Source::DockerfileSyntax,
                        form: Form::Literal,
                        alias_sites: Vec::new(),
                        context: None,
                        exact: true,
                    });
                }
                "escape" => match value {
                    "\\" => self.escape = b'\\',
                    "`" => self.escape = b'`',
                    _ => self.out.note(
                        Span::new(vs, ve),
                        format!("invalid escape directive {value:?}: only \\ and ` are allowed"),
                    ),
                },
                "check" => {}
                // An unknown directive is a comment, and it ends the directive block.
                _ => return i,
            }
        }
        self.lines.len()
    }

    /// Parses `# key = value` on a line: the lowercased key and the value's bytes.
    fn directive(&self, line: Line) -> Option<(String, usize, usize)> {
        let b = self.text.as_bytes();
        let mut i = self.skip_space(line.start, line.end);
        if b.get(i) != Some(&b'#') {
            return None;
        }
        i = self.skip_space(i + 1, line.end);
        let key_start = i;
        if !b.get(i).is_some_and(u8::is_ascii_alphabetic) {
            return None;
        }
        while i < line.end && b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
        }
        let key = self.text.get(key_start..i)?.to_ascii_lowercase();
        i = self.skip_space(i, line.end);
        if b.get(i) != Some(&b'=') || i >= line.end {
            return None;
        }
        let vs = self.skip_space(i + 1, line.end);
        let mut ve = line.end;
        while ve > vs && b.get(ve - 1).copied().is_some_and(is_space) {
            ve -= 1;
        }
        (ve > vs).then_some((key, vs, ve))
    }

    /// Where a line's content ends without its continuation character, and whether it has one.
    fn strip_continuation(&self, start: usize, end: usize) -> (usize, bool) {
        let mut e = end;
        while e > start && matches!(self.byte(e - 1), Some(b' ' | b'\t')) {
            e -= 1;
        }
        if e > start && self.byte(e - 1) == Some(self.escape) {
            (e - 1, true)
        } else {
            (end, false)
        }
    }

    /// Joins the instruction starting at line `first` with its continuation lines.
    fn assemble(&self, first: usize) -> (Logical, usize) {
        let mut lg = Logical::default();
        let mut i = first;
        let mut last = first;
        let mut is_first = true;
        while i < self.lines.len() {
            let line = self.line(i);
            let start = if is_first {
                self.skip_space(line.start, line.end)
            } else {
                let t = self.skip_space(line.start, line.end);
                // Comment and blank lines inside a continued instruction are skipped.
                if t >= line.end || self.byte(t) == Some(b'#') {
                    last = i;
                    i += 1;
                    continue;
                }
                line.start
            };
            last = i;
            let (end, continues) = self.strip_continuation(start, line.end);
            lg.push(self.text, start, end);
            if !continues {
                break;
            }
            is_first = false;
            i += 1;
        }
        (lg, last)
    }

    /// Handles one instruction; returns the heredocs whose bodies follow it.
    fn instruction(&mut self, lg: &Logical) -> Vec<Heredoc> {
        let s = lg.text.as_bytes();
        let Some((ks, ke)) = next_word(s, 0, 0) else {
            return Vec::new();
        };
        let keyword = lg.get(ks, ke).to_ascii_uppercase();
        match keyword.as_str() {
            "FROM" => {
                self.from(lg, ks, ke);
                Vec::new()
            }
            "ARG" => {
                self.arg(lg, ke);
                Vec::new()
            }
            "ONBUILD" => {
                let Some((is, ie)) = next_word(s, ke, 0) else {
                    return Vec::new();
                };
                let inner = lg.get(is, ie).to_ascii_uppercase();
                self.build_step(lg, &inner, ie)
            }
            _ => self.build_step(lg, &keyword, ke),
        }
    }

    /// COPY, ADD and RUN (also under ONBUILD).
    fn build_step(&mut self, lg: &Logical, keyword: &str, args: usize) -> Vec<Heredoc> {
        if !matches!(keyword, "COPY" | "RUN" | "ADD") {
            return Vec::new();
        }
        let s = lg.text.as_bytes();
        let (flags, rest) = take_flags(s, args, self.escape);
        match keyword {
            "COPY" => {
                for (i, &(fs, fe)) in flags.iter().enumerate() {
                    let flag = lg.get(fs, fe);
                    if flag.len() >= 7
                        && flag
                            .get(..7)
                            .is_some_and(|f| f.eq_ignore_ascii_case("--from="))
                    {
                        self.stage_or_image(lg, fs + 7, fe, Source::DockerfileCopyFrom);
                    } else if flag.eq_ignore_ascii_case("--from") && i + 1 == flags.len() {
                        // `--from name` is an error for BuildKit, but the intent is plain.
                        if let Some((vs, ve)) = next_word(s, rest, self.escape) {
                            let (span, _) = lg.map(fs, ve);
                            self.out
                                .note(span, "`--from` needs `=`: write `--from=<stage or image>`");
                            self.stage_or_image(lg, vs, ve, Source::DockerfileCopyFrom);
                        }
                    }
                }
            }
            "RUN" => {
                for &(fs, fe) in &flags {
                    let flag = lg.get(fs, fe);
                    if flag
                        .get(..8)
                        .is_some_and(|f| f.eq_ignore_ascii_case("--mount="))
                    {
                        self.mount(lg, fs + 8, fe);
                    }
                }
            }
            "ADD" => {}
            _ => return Vec::new(),
        }
        if !lg.text.contains("<<") || is_json_array(s.get(rest..).unwrap_or_default()) {
            return Vec::new();
        }
        let mut docs = Vec::new();
        let mut pos = rest;
        while let Some((ws, we)) = next_word(s, pos, b'\\') {
            pos = we;
            if let Some((name, chomp)) = heredoc_marker(lg.get(ws, we)) {
                docs.push(Heredoc {
                    name,
                    chomp,
                    span: lg.map(ws, we).0,
                });
            }
        }
        docs
    }

    /// The `from=` of each `--mount=` option.
    fn mount(&mut self, lg: &Logical, start: usize, end: usize) {
        let s = lg.text.as_bytes();
        let (start, end) = strip_quotes(s, start, end);
        let mut field_start = start;
        let mut quote: Option<u8> = None;
        let mut i = start;
        while i <= end {
            let b = if i < end { s.get(i).copied() } else { None };
            match (quote, b) {
                (Some(q), Some(c)) if c == q => quote = None,
                (None, Some(c @ (b'"' | b'\''))) => quote = Some(c),
                (None, Some(b',')) | (_, None) => {
                    let (fs, fe) = strip_quotes(s, field_start, i);
                    let field = lg.get(fs, fe);
                    if let Some(eq) = field.find('=')
                        && field
                            .get(..eq)
                            .is_some_and(|k| k.eq_ignore_ascii_case("from"))
                    {
                        self.stage_or_image(lg, fs + eq + 1, fe, Source::DockerfileRunMount);
                    }
                    field_start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// A `COPY --from` or mount `from=` value: an image unless it names a stage.
    fn stage_or_image(&mut self, lg: &Logical, start: usize, end: usize, source: Source) {
        if end <= start {
            return;
        }
        let resolved = self.resolve(lg, start, end, Mode::Strict);
        if let Ok(v) = &resolved.value
            && (is_stage_index(v) || v.eq_ignore_ascii_case("scratch"))
        {
            return;
        }
        let pattern = match &resolved.value {
            Ok(_) => None,
            Err(_) => self.resolve(lg, start, end, Mode::Pattern).value.ok(),
        };
        let occ = self.occurrence(lg, start, end, source, resolved, self.current_stage.clone());
        self.pending.push(Pending { occ, pattern });
    }

    /// Drops the `--from` values that name a stage (of the whole file) and records the rest.
    fn finish_pending(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            let stage = match (&p.occ.image, &p.pattern) {
                (Ok(v), _) => self.stage_set.contains(&v.to_ascii_lowercase()),
                (Err(_), Some(pat)) => self.may_name_stage(pat),
                (Err(_), None) => false,
            };
            if !stage {
                self.push(p.occ);
            }
        }
    }

    fn from(&mut self, lg: &Logical, ks: usize, ke: usize) {
        self.seen_from = true;
        let s = lg.text.as_bytes();
        let (flags, rest) = take_flags(s, ke, self.escape);
        let mut pos = rest;
        // `--platform value` (no `=`) is an error for BuildKit; don't take its value for the image.
        if let Some(&(fs, fe)) = flags.last()
            && lg.get(fs, fe).eq_ignore_ascii_case("--platform")
            && let Some((_, ve)) = next_word(s, pos, self.escape)
        {
            self.out.note(
                lg.map(fs, ve).0,
                "`--platform` needs `=`: write `--platform=<value>`",
            );
            pos = ve;
        }
        let Some((is, mut ie)) = next_word(s, pos, self.escape) else {
            self.out
                .parse_error(lg.map(ks, ke).0, "FROM without an image");
            self.current_stage = None;
            return;
        };
        pos = ie;
        // A template placeholder with blanks (`{{ .Tag }}`) belongs to the image word.
        let word = lg.get(is, ie);
        if let Some(open) = word.rfind("{{")
            && !word.get(open..).unwrap_or("").contains("}}")
        {
            let mut p = ie;
            while let Some((_, we)) = next_word(s, p, self.escape) {
                p = we;
                if lg.get(is, we).get(open..).is_some_and(|t| t.contains("}}")) {
                    ie = we;
                    pos = we;
                    break;
                }
            }
        }
        let mut name: Option<String> = None;
        let mut tail = Vec::new();
        let mut p = pos;
        while let Some(w) = next_word(s, p, self.escape) {
            p = w.1;
            tail.push(w);
            if tail.len() > 2 {
                break;
            }
        }
        match tail.as_slice() {
            [] => {}
            [(a, b), (ns, ne)] if lg.get(*a, *b).eq_ignore_ascii_case("as") => {
                name = Some(lg.get(*ns, *ne).to_string());
            }
            [(a, _), ..] => {
                let end = tail.last().map_or(*a, |w| w.1);
                self.out.note(
                    lg.map(*a, end).0,
                    "FROM takes an image and optionally `AS <name>`; the rest is ignored",
                );
            }
        }

        let raw = lg.get(is, ie);
        if raw.contains("{{") {
            let occ = self.occurrence(
                lg,
                is,
                ie,
                Source::DockerfileFrom,
                Resolved {
                    value: Err(Unresolved::new("contains a template placeholder `{{ … }}`")),
                    origins: Vec::new(),
                },
                name.clone(),
            );
            self.push(occ);
        } else {
            let resolved = self.resolve(lg, is, ie, Mode::Strict);
            let stage = match &resolved.value {
                Ok(v) => {
                    v.eq_ignore_ascii_case("scratch")
                        || self.stage_set.contains(&v.to_ascii_lowercase())
                }
                Err(_) => match self.resolve(lg, is, ie, Mode::Pattern).value {
                    Ok(pat) => self.may_name_stage(&pat),
                    Err(_) => false,
                },
            };
            if !stage {
                let occ =
                    self.occurrence(lg, is, ie, Source::DockerfileFrom, resolved, name.clone());
                self.push(occ);
            }
        }
        if let Some(n) = &name {
            let lower = n.to_ascii_lowercase();
            if self.stage_set.insert(lower.clone()) {
                self.stages.push(lower);
            }
        }
        self.current_stage = name;
    }

    fn arg(&mut self, lg: &Logical, args: usize) {
        let s = lg.text.as_bytes();
        let mut pos = args;
        while let Some((ws, we)) = next_word(s, pos, self.escape) {
            pos = we;
            let word = lg.get(ws, we);
            let (name, value) = match word.find('=') {
                Some(eq) => (word.get(..eq).unwrap_or(""), Some(ws + eq + 1)),
                None => (word, None),
            };
            if name.is_empty() {
                continue;
            }
            let name = name.to_string();
            if self.seen_from {
                self.stage_args.insert(name);
                continue;
            }
            let def = match value {
                None => ArgDef {
                    value: None,
                    origin: None,
                    inner: Vec::new(),
                },
                Some(vs) => {
                    let resolved = self.resolve(lg, vs, we, Mode::Strict);
                    let (is, ie) = strip_quotes(s, vs, we);
                    ArgDef {
                        value: Some(resolved.value),
                        origin: Some(Origin {
                            name: name.clone(),
                            span: lg.map(is, ie).0,
                        }),
                        inner: resolved.origins,
                    }
                }
            };
            self.args.insert(name, def);
        }
    }

    /// Expands a word with the global ARGs.
    fn resolve(&self, lg: &Logical, start: usize, end: usize, mode: Mode) -> Resolved {
        let missing: RefCell<Option<String>> = RefCell::new(None);
        let lookup = |name: &str| -> Option<Value> {
            let def = self.args.get(name);
            if let Some(ArgDef {
                value: Some(Ok(v)),
                origin,
                ..
            }) = def
            {
                return Some(Value {
                    value: v.clone(),
                    origin: origin.clone(),
                });
            }
            if builder_values(name).is_some() {
                return Some(Value {
                    value: marker(name),
                    origin: None,
                });
            }
            match mode {
                Mode::Strict => {
                    *missing.borrow_mut() = Some(name.to_string());
                    None
                }
                Mode::Pattern => Some(Value {
                    value: marker("*"),
                    origin: None,
                }),
            }
        };
        let mut value = String::new();
        let mut origins: Vec<Origin> = Vec::new();
        for piece in pieces(&lg.text, start, end, self.escape) {
            match piece {
                Piece::Literal(t) => value.push_str(&t),
                Piece::Expand(ps, pe) => {
                    match vars::expand(lg.get(ps, pe), PIECE_BASE, Syntax::default(), &lookup) {
                        Ok(e) => {
                            value.push_str(&e.value);
                            for o in e.origins {
                                origins.push(self.place_origin(lg, ps, o));
                            }
                        }
                        Err(e) => {
                            let reason = match missing.borrow().as_deref() {
                                Some(name) if e.reason.contains(name) => self.why_unknown(name),
                                _ => e.reason,
                            };
                            return Resolved {
                                value: Err(Unresolved::new(reason)),
                                origins,
                            };
                        }
                    }
                }
            }
        }
        // Definitions that went into the ARG defaults used here.
        let mut all = Vec::with_capacity(origins.len());
        for o in origins {
            let inner = self
                .args
                .get(&o.name)
                .filter(|d| d.origin.as_ref() == Some(&o))
                .map(|d| d.inner.clone())
                .unwrap_or_default();
            if !all.contains(&o) {
                all.push(o);
            }
            for i in inner {
                if !all.contains(&i) {
                    all.push(i);
                }
            }
        }
        if mode == Mode::Strict && value.contains('\0') {
            let name = value.split('\0').nth(1).unwrap_or("").to_string();
            return Resolved {
                value: Err(Unresolved::new(format!(
                    "{name} is set by the builder for the build or target platform"
                ))),
                origins: all,
            };
        }
        Resolved {
            value: Ok(value),
            origins: all,
        }
    }

    /// Origins of `${X:-default}` words are relative to the expanded piece: map them to the file.
    fn place_origin(&self, lg: &Logical, piece_start: usize, o: Origin) -> Origin {
        if o.span.start < PIECE_BASE {
            return o;
        }
        let start = piece_start + (o.span.start - PIECE_BASE);
        let end = piece_start + (o.span.end.saturating_sub(PIECE_BASE));
        Origin {
            name: o.name,
            span: lg.map(start, end).0,
        }
    }

    fn why_unknown(&self, name: &str) -> String {
        match self.args.get(name) {
            Some(ArgDef { value: None, .. }) => format!("ARG {name} has no default"),
            Some(ArgDef {
                value: Some(Err(e)),
                ..
            }) => format!("the default of ARG {name} is unresolved: {}", e.reason),
            _ if self.stage_args.contains(name) => format!(
                "ARG {name} is declared inside a stage; only ARGs before the first FROM apply here"
            ),
            _ => format!("{name} is not a global ARG"),
        }
    }

    /// Whether a pattern (with builder and wildcard markers) can name a stage of the file.
    fn may_name_stage(&mut self, pattern: &str) -> bool {
        if self.stages.is_empty() {
            return false;
        }
        let parts: Vec<&str> = pattern.split('\0').collect();
        if parts.len().is_multiple_of(2) {
            // Unbalanced markers: the text itself held a NUL.
            return false;
        }
        let choices: Vec<Option<&'static [&'static str]>> = parts
            .iter()
            .skip(1)
            .step_by(2)
            .map(|t| builder_values(t))
            .collect();
        let combos = choices
            .iter()
            .map(|c| c.map_or(1, <[&str]>::len))
            .try_fold(1usize, |acc, n| {
                acc.checked_mul(n).filter(|&p| p <= MAX_STAGE_CANDIDATES)
            });
        // Too many combinations: platform variables match anything, like unknown ones.
        let use_values = combos.is_some();
        let has_star = !use_values || choices.iter().any(Option::is_none);
        let mut toks = Vec::new();
        let mut name = String::new();
        for mut k in 0..combos.unwrap_or(1) {
            if self.glob_budget < pattern.len() {
                return false;
            }
            self.glob_budget -= pattern.len();
            toks.clear();
            name.clear();
            for (i, part) in parts.iter().enumerate() {
                let text = if i % 2 == 0 {
                    *part
                } else {
                    match choices.get(i / 2).copied().flatten() {
                        Some(values) if use_values => {
                            let v = values.get(k % values.len()).copied().unwrap_or("");
                            k /= values.len();
                            v
                        }
                        _ => {
                            if toks.last() != Some(&Tok::Star) {
                                toks.push(Tok::Star);
                            }
                            continue;
                        }
                    }
                };
                if has_star {
                    toks.extend(text.bytes().map(|b| Tok::Byte(b.to_ascii_lowercase())));
                } else {
                    name.push_str(text);
                }
            }
            if !has_star {
                name.make_ascii_lowercase();
                if self.stage_set.contains(&name) {
                    return true;
                }
                continue;
            }
            // A bare unknown variable could be anything; only a partly written name is telling.
            if !toks.iter().any(|t| matches!(t, Tok::Byte(_))) || toks.len() > 512 {
                continue;
            }
            for stage in &self.stages {
                let cost = toks.len() + stage.len();
                if self.glob_budget < cost {
                    return false;
                }
                self.glob_budget -= cost;
                if glob_match(&toks, stage.as_bytes()) {
                    return true;
                }
            }
        }
        false
    }

    fn occurrence(
        &self,
        lg: &Logical,
        start: usize,
        end: usize,
        source: Source,
        resolved: Resolved,
        context: Option<String>,
    ) -> ImageOccurrence {
        // A wholly quoted word (`--from="nginx:1.27"`): the reference is what the quotes hold.
        let (start, end) = {
            let w = lg.get(start, end);
            let quoted = w.len() >= 2
                && ((w.starts_with('"') && w.ends_with('"'))
                    || (w.starts_with('\'') && w.ends_with('\'')));
            if quoted && !w[1..w.len() - 1].contains(['"', '\'', '\\']) {
                (start + 1, end - 1)
            } else {
                (start, end)
            }
        };
        let (span, contiguous) = lg.map(start, end);
        let raw = lg.get(start, end);
        let form = if raw.contains('$') {
            Form::Expanded {
                origins: resolved.origins,
            }
        } else {
            Form::Literal
        };
        ImageOccurrence {
            span,
            text: span.of(self.text).to_string(),
            image: resolved.value,
            source,
            form,
            alias_sites: Vec::new(),
            context,
            exact: contiguous,
        }
    }

    /// The line after `from` that closes the heredoc.
    fn find_terminator(&mut self, h: &Heredoc, from: usize) -> Option<usize> {
        let text = self.text;
        let lines = &self.lines;
        let index = if h.chomp {
            self.terminators.tabs.get_or_insert_with(|| {
                let mut m: HashMap<&str, Vec<usize>> = HashMap::new();
                for (i, l) in lines.iter().enumerate() {
                    let c = text.get(l.start..l.end).unwrap_or("");
                    m.entry(c.trim_start_matches('\t')).or_default().push(i);
                }
                m
            })
        } else {
            self.terminators.exact.get_or_insert_with(|| {
                let mut m: HashMap<&str, Vec<usize>> = HashMap::new();
                for (i, l) in lines.iter().enumerate() {
                    m.entry(text.get(l.start..l.end).unwrap_or(""))
                        .or_default()
                        .push(i);
                }
                m
            })
        };
        let at = index.get(h.name.as_str())?;
        at.get(at.partition_point(|&l| l < from)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DiagnosticKind;

    /// Extracts and checks the span/text invariant of every occurrence.
    fn ex(text: &str) -> Extraction {
        let out = extract(text);
        for o in &out.images {
            assert_eq!(&text[o.span.start..o.span.end], o.text, "{o:?}");
            if let Form::Expanded { origins } = &o.form {
                for or in origins {
                    assert!(text.get(or.span.start..or.span.end).is_some(), "{or:?}");
                }
            }
        }
        for d in &out.diagnostics {
            assert!(text.get(d.span.start..d.span.end).is_some(), "{d:?}");
        }
        out
    }

    /// The images found, as (text, image or reason).
    fn found(text: &str) -> Vec<(String, Result<String, String>)> {
        ex(text)
            .images
            .into_iter()
            .map(|o| (o.text, o.image.map_err(|e| e.reason)))
            .collect()
    }

    fn ok(text: &str, image: &str) -> (String, Result<String, String>) {
        (text.to_string(), Ok(image.to_string()))
    }

    fn images(text: &str) -> Vec<String> {
        found(text)
            .into_iter()
            .map(|(_, i)| i.unwrap_or_else(|e| format!("ERR {e}")))
            .collect()
    }

    fn origin_texts<'a>(text: &'a str, o: &ImageOccurrence) -> Vec<(String, &'a str)> {
        match &o.form {
            Form::Expanded { origins } => origins
                .iter()
                .map(|or| (or.name.clone(), &text[or.span.start..or.span.end]))
                .collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn from_with_flags_and_stage_name() {
        let t = "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM --platform=linux/amd64 --foo=bar alpine:3.20\n";
        let out = ex(t);
        assert_eq!(out.images.len(), 2);
        let a = &out.images[0];
        assert_eq!(a.text, "golang:1.22");
        assert_eq!(a.image, Ok("golang:1.22".into()));
        assert_eq!(a.source, Source::DockerfileFrom);
        assert_eq!(a.form, Form::Literal);
        assert_eq!(a.context.as_deref(), Some("build"));
        assert!(a.exact);
        assert_eq!(out.images[1].text, "alpine:3.20");
        assert_eq!(out.images[1].context, None);
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn stages_and_scratch_are_not_images() {
        let t = "FROM golang:1.22 AS Builder\nFROM builder AS test\nFROM BUILDER\nFROM scratch\nFROM Scratch AS out\nFROM later\nFROM alpine AS later\n";
        assert_eq!(
            found(t),
            vec![
                ok("golang:1.22", "golang:1.22"),
                // `later` is defined after this FROM: an image for BuildKit.
                ok("later", "later"),
                ok("alpine", "alpine"),
            ]
        );
    }

    #[test]
    fn keywords_are_case_insensitive_and_may_be_indented() {
        let t = "  from alpine as a\n\tFrOm\tnode:20  As  b\nfRom  ubuntu:17.04\n";
        assert_eq!(
            images(t),
            vec![
                "alpine".to_string(),
                "node:20".into(),
                "ubuntu:17.04".into()
            ]
        );
        let out = ex(t);
        assert_eq!(out.images[1].context.as_deref(), Some("b"));
    }

    #[test]
    fn global_arg_defaults_expand() {
        let t = "ARG NODE_VERSION=20.11\nARG REG=\"ghcr.io\" DEBIAN='bookworm'\nFROM node:${NODE_VERSION}-alpine\nFROM $REG/org/img:$DEBIAN\nFROM ${MISSING:-redis:7}\n";
        let out = ex(t);
        assert_eq!(out.images.len(), 3);
        let a = &out.images[0];
        assert_eq!(a.text, "node:${NODE_VERSION}-alpine");
        assert_eq!(a.image, Ok("node:20.11-alpine".into()));
        assert!(a.exact);
        assert_eq!(origin_texts(t, a), vec![("NODE_VERSION".into(), "20.11")]);
        let b = &out.images[1];
        assert_eq!(b.image, Ok("ghcr.io/org/img:bookworm".into()));
        assert_eq!(
            origin_texts(t, b),
            vec![("REG".into(), "ghcr.io"), ("DEBIAN".into(), "bookworm")]
        );
        // Quoted defaults: the origin is the value inside the quotes.
        let Form::Expanded { origins } = &b.form else {
            panic!()
        };
        assert_eq!(&t[origins[0].span.start - 1..origins[0].span.start], "\"");
        let c = &out.images[2];
        assert_eq!(c.image, Ok("redis:7".into()));
        assert_eq!(origin_texts(t, c), vec![("MISSING".into(), "redis:7")]);
    }

    #[test]
    fn arg_without_default_is_unresolved() {
        let t =
            "ARG BASE_IMAGE\nFROM $BASE_IMAGE\nFROM ${BASE_IMAGE:-alpine}\nFROM ${UNDECLARED}\n";
        let f = found(t);
        assert_eq!(f[0].0, "$BASE_IMAGE");
        assert_eq!(f[0].1, Err("ARG BASE_IMAGE has no default".into()));
        // Without --build-arg the variable is empty, so the default applies.
        assert_eq!(f[1].1, Ok("alpine".into()));
        assert_eq!(f[2].1, Err("UNDECLARED is not a global ARG".into()));
    }

    #[test]
    fn stage_args_do_not_apply_to_from() {
        let t = "ARG V=1\nFROM alpine:$V\nARG V=2\nARG LOCAL=x\nFROM busybox:$V\nFROM img:$LOCAL\n";
        let f = found(t);
        assert_eq!(f[0].1, Ok("alpine:1".into()));
        assert_eq!(f[1].1, Ok("busybox:1".into()));
        assert!(f[2].1.as_ref().unwrap_err().contains("inside a stage"));
    }

    #[test]
    fn arg_defaults_may_use_earlier_args() {
        let t = "ARG GO_VERSION=1.26\nARG GO_IMAGE=golang:${GO_VERSION}\nFROM $GO_IMAGE AS go\n";
        let out = ex(t);
        let o = &out.images[0];
        assert_eq!(o.image, Ok("golang:1.26".into()));
        assert_eq!(
            origin_texts(t, o),
            vec![
                ("GO_IMAGE".into(), "golang:${GO_VERSION}"),
                ("GO_VERSION".into(), "1.26")
            ]
        );
        let t = "ARG TAG\nARG IMG=alpine:$TAG\nFROM $IMG\n";
        assert_eq!(
            found(t)[0].1,
            Err("the default of ARG IMG is unresolved: ARG TAG has no default".into())
        );
    }

    #[test]
    fn builder_platform_args() {
        let t = "FROM alpine-$TARGETARCH\nFROM ${TARGETARCH:-amd64}/alpine\nARG TARGETARCH\nFROM x-$TARGETARCH\n";
        let f = found(t);
        assert_eq!(f.len(), 3);
        for (_, r) in &f {
            assert!(
                r.as_ref().unwrap_err().contains("set by the builder"),
                "{r:?}"
            );
        }
        // A global default replaces the builder's value.
        let t = "ARG TARGETARCH=arm64\nFROM arm64v8/alpine-$TARGETARCH\n";
        assert_eq!(images(t), vec!["arm64v8/alpine-arm64".to_string()]);
    }

    #[test]
    fn stage_names_built_from_platform_args() {
        let t = "FROM golang AS binaries-linux\nFROM golang AS binaries-windows\nFROM binaries-$TARGETOS AS binaries\nFROM buildkit-$TARGETOS${DEBUG:+-debug}\nFROM alpine AS buildkit-linux\nFROM base AS linux\nFROM ${TARGETOS} AS target\nARG BASE\nFROM $BASE\nFROM stage-${BASE}\n";
        // `buildkit-…` comes before its stage; `$BASE` alone could be anything (and this ARG BASE
        // is a stage's, not a global one).
        assert_eq!(
            images(t),
            vec![
                "golang".to_string(),
                "golang".into(),
                "ERR TARGETOS is set by the builder for the build or target platform".into(),
                "alpine".into(),
                "base".into(),
                "ERR ARG BASE is declared inside a stage; only ARGs before the first FROM apply here".into(),
                "ERR ARG BASE is declared inside a stage; only ARGs before the first FROM apply here".into(),
            ]
        );
        let t = "FROM golang AS stage-a\nARG X\nFROM stage-${X}\n";
        assert!(found(t).len() == 1, "stage-* matches stage-a");
    }

    #[test]
    fn copy_from() {
        let t = "FROM golang AS build\nCOPY --from=build /a /b\nCOPY --chown=1:1 --from=ghcr.io/astral-sh/uv:latest /uv /bin/\nCOPY --from=0 /a /b\nCOPY --from=BUILD /a /b\nCOPY --from=later /a /b\nCOPY --link --from=\"nginx:1.27\" /x /y\nADD --from=ignored:1 /a /b\nFROM alpine AS later\n";
        let out = ex(t);
        let list: Vec<_> = out
            .images
            .iter()
            .map(|o| (o.source, o.text.as_str(), o.image.clone().unwrap()))
            .collect();
        assert_eq!(
            list,
            vec![
                (Source::DockerfileFrom, "golang", "golang".to_string()),
                (
                    Source::DockerfileCopyFrom,
                    "ghcr.io/astral-sh/uv:latest",
                    "ghcr.io/astral-sh/uv:latest".to_string()
                ),
                (
                    Source::DockerfileCopyFrom,
                    "nginx:1.27",
                    "nginx:1.27".to_string()
                ),
                (Source::DockerfileFrom, "alpine", "alpine".to_string()),
            ]
        );
        let uv = &out.images[1];
        assert_eq!(uv.context.as_deref(), Some("build"));
    }

    #[test]
    fn copy_from_expands_global_args() {
        let t = "ARG UV=ghcr.io/astral-sh/uv:0.5\nARG STAGE=builder\nFROM golang AS builder\nFROM alpine\nCOPY --from=${UV} /uv /bin/\nCOPY --from=$STAGE /a /b\nCOPY --from=$NOPE /a /b\n";
        let f = found(t);
        assert_eq!(
            f,
            vec![
                ok("golang", "golang"),
                ok("alpine", "alpine"),
                ok("${UV}", "ghcr.io/astral-sh/uv:0.5"),
                ("$NOPE".into(), Err("NOPE is not a global ARG".into())),
            ]
        );
    }

    #[test]
    fn run_mount_from() {
        let t = "FROM golang AS go\nRUN --mount=type=bind,from=go,source=/usr/local/go,target=/go \\\n    --mount=type=cache,target=/root/.cache,from=alpine:3.20 \\\n    --mount=\"type=bind,from=busybox:1,target=/b\" \\\n    --mount=type=bind,\"from=nginx\",target=/n --mount=type=bind,from='redis:7',target=/r \\\n    --mount=type=bind,from=1,target=/1 --mount=type=secret,id=x make\nRUN echo --mount=type=bind,from=notaflag\n";
        let out = ex(t);
        let list: Vec<_> = out
            .images
            .iter()
            .map(|o| (o.source, o.text.as_str(), o.image.clone().unwrap()))
            .collect();
        assert_eq!(
            list,
            vec![
                (Source::DockerfileFrom, "golang", "golang".to_string()),
                (
                    Source::DockerfileRunMount,
                    "alpine:3.20",
                    "alpine:3.20".into()
                ),
                (Source::DockerfileRunMount, "busybox:1", "busybox:1".into()),
                (Source::DockerfileRunMount, "nginx", "nginx".into()),
                (Source::DockerfileRunMount, "redis:7", "redis:7".into()),
            ]
        );
        assert!(out.images.iter().all(|o| o.exact));
        assert_eq!(out.images[1].context.as_deref(), Some("go"));
    }

    #[test]
    fn syntax_directive() {
        let t = "# syntax=docker/dockerfile:1.7\nFROM alpine\n";
        let out = ex(t);
        assert_eq!(out.images[0].source, Source::DockerfileSyntax);
        assert_eq!(out.images[0].text, "docker/dockerfile:1.7");
        assert_eq!(out.images[0].span, Span::new(9, 30));
        for t in [
            "#syntax=docker/dockerfile:1\nFROM a\n",
            "  # SYNTAX = docker/dockerfile:1   \r\nFROM a\n",
            "# escape=\\\n# syntax=docker/dockerfile:1 --opt\nFROM a\n",
            "# check=skip=all\n#syntax=docker/dockerfile:1\nFROM a\n",
        ] {
            let out = ex(t);
            assert_eq!(out.images[0].text, "docker/dockerfile:1", "{t:?}");
            assert_eq!(out.images[0].source, Source::DockerfileSyntax);
        }
        // Not directives: after a comment, a blank line, an unknown directive or an instruction.
        for t in [
            "# hello\n# syntax=docker/dockerfile:1\nFROM a\n",
            "\n# syntax=docker/dockerfile:1\nFROM a\n",
            "# foo=bar\n# syntax=docker/dockerfile:1\nFROM a\n",
            "FROM a\n# syntax=docker/dockerfile:1\n",
        ] {
            let out = ex(t);
            assert_eq!(out.images.len(), 1, "{t:?}");
            assert_eq!(out.images[0].source, Source::DockerfileFrom);
        }
    }

    #[test]
    fn escape_directive_backtick() {
        let t = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 `\n  AS base\nRUN dir C:\\\nFROM mcr.microsoft.com/powershell:lts\n";
        let out = ex(t);
        let texts: Vec<_> = out.images.iter().map(|o| o.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "mcr.microsoft.com/windows/servercore:ltsc2022",
                "mcr.microsoft.com/powershell:lts"
            ]
        );
        assert_eq!(out.images[0].context.as_deref(), Some("base"));
        // With the default escape, the backslash continues the RUN line onto the FROM line.
        let t = "FROM a\nRUN dir C:\\\nFROM b\n";
        assert_eq!(images(t), vec!["a".to_string()]);
        // An escape directive after a comment is only a comment.
        let t = "# comment\n# escape=`\nFROM a `\nFROM b\n";
        assert_eq!(images(t), vec!["a".to_string(), "b".into()]);
    }

    #[test]
    fn odd_directives() {
        let t = "# escape=x\n# syntax=a/b:1\n# syntax=c/d:2\nFROM e \\\n AS f\n";
        let out = ex(t);
        let texts: Vec<_> = out.images.iter().map(|o| o.text.as_str()).collect();
        assert_eq!(texts, vec!["a/b:1", "e"]);
        assert_eq!(out.images[1].context.as_deref(), Some("f"));
        let notes: Vec<_> = out
            .diagnostics
            .iter()
            .map(|d| (d.kind, &t[d.span.start..d.span.end]))
            .collect();
        assert_eq!(
            notes,
            vec![(DiagnosticKind::Note, "x"), (DiagnosticKind::Note, "c/d:2")]
        );
    }

    #[test]
    fn continuations_keep_exact_spans() {
        let t = "FROM \\\n  # a comment\n\n    node:20 \\\n  AS build\nFROM golang:\\\n1.22 AS g\nFROM --platform=$BUILDPLATFORM \\   \n  alpine\n";
        let out = ex(t);
        assert_eq!(out.images.len(), 3);
        assert_eq!(out.images[0].text, "node:20");
        assert!(out.images[0].exact);
        assert_eq!(out.images[0].context.as_deref(), Some("build"));
        let split = &out.images[1];
        assert_eq!(split.text, "golang:\\\n1.22");
        assert_eq!(split.image, Ok("golang:1.22".into()));
        assert!(!split.exact);
        assert_eq!(out.images[2].text, "alpine");
        assert!(out.images[2].exact);
    }

    #[test]
    fn default_origin_inside_split_token() {
        let t = "FROM ${IMG:-red\\\nis:7}\n";
        let out = ex(t);
        let o = &out.images[0];
        assert_eq!(o.image, Ok("redis:7".into()));
        assert!(!o.exact);
        let Form::Expanded { origins } = &o.form else {
            panic!()
        };
        assert_eq!(
            &t[origins[0].span.start..origins[0].span.end],
            "red\\\nis:7"
        );
    }

    #[test]
    fn heredocs_are_not_instructions() {
        let t = "FROM a\nRUN <<EOF\nFROM not-an-image\nEOF\nRUN <<-\"END\" cat <<'B2'\n\tFROM nope1\n\tEND\nFROM nope2\nB2\nCOPY <<EOF /dst\nFROM nope3\nEOF\nRUN 3<<X cat\nFROM nope4\nX\nFROM b\n";
        let out = ex(t);
        assert_eq!(images(t), vec!["a".to_string(), "b".into()]);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn heredoc_edge_cases() {
        // Exec form, quoted `<<`, and `<<` inside a word are not heredocs.
        let t = "FROM a\nRUN [\"sh\", \"-c\", \"cat <<EOF\"]\nRUN echo \"<<EOF\" a<<EOF\nFROM b\n";
        assert_eq!(images(t), vec!["a".to_string(), "b".into()]);
        // A heredoc after a continued instruction starts after its last line.
        let t = "FROM a\nRUN --mount=type=cache,target=/c \\\n  <<EOF\nFROM x\nEOF\nFROM b\n";
        assert_eq!(images(t), vec!["a".to_string(), "b".into()]);
        // Without `-`, an indented terminator doesn't close the heredoc.
        let t = "FROM a\nRUN <<EOF\n  EOF\nFROM x\nEOF\nFROM b\n";
        assert_eq!(images(t), vec!["a".to_string(), "b".into()]);
        // `[` that is not JSON is the shell form.
        let t = "FROM a\nRUN [ -f x ] && cat <<EOF\nFROM x\nEOF\n";
        assert_eq!(images(t), vec!["a".to_string()]);
        // ONBUILD heredoc.
        let t = "FROM a\nONBUILD RUN <<EOF\nFROM x\nEOF\n";
        assert_eq!(images(t), vec!["a".to_string()]);
    }

    #[test]
    fn unterminated_heredoc_is_reported_and_parsing_resumes() {
        let t = "FROM a\nRUN cat <<EOF\nFROM b\n";
        let out = ex(t);
        assert_eq!(images(t), vec!["a".to_string(), "b".into()]);
        assert_eq!(out.diagnostics.len(), 1);
        let d = &out.diagnostics[0];
        assert_eq!(d.kind, DiagnosticKind::ParseError);
        assert_eq!(&t[d.span.start..d.span.end], "<<EOF");
    }

    #[test]
    fn crlf_and_bom() {
        let t = "\u{feff}# syntax=docker/dockerfile:1\r\nARG V=3.20\r\nFROM alpine:$V AS a\r\nRUN echo \\\r\n  hi\r\nCOPY --from=nginx:1 /a /b\r\n";
        let out = ex(t);
        let texts: Vec<_> = out.images.iter().map(|o| o.text.as_str()).collect();
        assert_eq!(texts, vec!["docker/dockerfile:1", "alpine:$V", "nginx:1"]);
        assert_eq!(out.images[0].span.start, 3 + 9);
        assert_eq!(out.images[1].image, Ok("alpine:3.20".into()));
        assert_eq!(origin_texts(t, &out.images[1]), vec![("V".into(), "3.20")]);
        assert!(out.images.iter().all(|o| o.exact));
        // A BOM before a plain FROM.
        let t = "\u{feff}FROM alpine\n";
        assert_eq!(ex(t).images[0].span, Span::new(8, 14));
    }

    #[test]
    fn from_without_image() {
        let t = "FROM\nFROM --platform=linux/amd64\nFROM alpine\n";
        let out = ex(t);
        assert_eq!(images(t), vec!["alpine".to_string()]);
        let errs: Vec<_> = out
            .diagnostics
            .iter()
            .map(|d| (d.kind, &t[d.span.start..d.span.end]))
            .collect();
        assert_eq!(
            errs,
            vec![
                (DiagnosticKind::ParseError, "FROM"),
                (DiagnosticKind::ParseError, "FROM")
            ]
        );
        assert_eq!(out.diagnostics[1].span.start, 5);
    }

    #[test]
    fn malformed_from_still_reports_the_image() {
        let t = "FROM alpine # comment\nFROM --platform linux/amd64 busybox\n";
        let out = ex(t);
        assert_eq!(images(t), vec!["alpine".to_string(), "busybox".into()]);
        assert_eq!(out.diagnostics.len(), 2);
        assert!(
            out.diagnostics
                .iter()
                .all(|d| d.kind == DiagnosticKind::Note)
        );
    }

    #[test]
    fn quoted_words() {
        let t = "ARG V=\"3.20\"\nFROM alpine:\"${V}\" AS a\nFROM 'busybox:$V'\n";
        let out = ex(t);
        assert_eq!(out.images[0].text, "alpine:\"${V}\"");
        assert_eq!(out.images[0].image, Ok("alpine:3.20".into()));
        // No expansion inside single quotes.
        assert_eq!(out.images[1].image, Ok("busybox:$V".into()));
    }

    #[test]
    fn template_placeholders() {
        let t = "FROM debian:{{ env.variant }}-slim\nFROM {{.Image}} AS x\n";
        let out = ex(t);
        assert_eq!(out.images[0].text, "debian:{{ env.variant }}-slim");
        assert!(out.images[0].image.is_err());
        assert_eq!(out.images[1].text, "{{.Image}}");
        assert_eq!(out.images[1].context.as_deref(), Some("x"));
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn onbuild_copy_from() {
        let t = "FROM a\nONBUILD COPY --from=nginx:1 /a /b\nONBUILD FROM nope\n";
        assert_eq!(images(t), vec!["a".to_string(), "nginx:1".into()]);
    }

    #[test]
    fn copy_from_without_equals() {
        let t = "FROM golang AS b\nCOPY --from b /a /c\nCOPY --from alpine:3 /a /c\n";
        let out = ex(t);
        assert_eq!(images(t), vec!["golang".to_string(), "alpine:3".into()]);
        assert_eq!(out.diagnostics.len(), 2);
    }

    #[test]
    fn non_ascii_and_odd_bytes() {
        let t = "# é\nFROM ünïcödé:1 AS ß\nCOPY --from=ü\\\né /a /b\nFROM \0x\nRUN <<\u{1F600}\n\u{1F600}\nFROM z\n";
        let out = ex(t);
        assert_eq!(out.images.len(), 4);
        assert_eq!(out.images[0].text, "ünïcödé:1");
    }

    #[test]
    fn empty_and_comment_only() {
        for t in [
            "",
            "\n",
            "# just a comment\n",
            "\u{feff}",
            "\\",
            "RUN \\",
            "FROM a \\",
        ] {
            let _ = ex(t);
        }
        assert_eq!(images("FROM a \\"), vec!["a".to_string()]);
    }

    #[test]
    fn junk_is_linear() {
        let mut junk = String::new();
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let pieces = [
            "FROM ",
            "RUN ",
            "<<",
            "EOF",
            "\\",
            "\n",
            "${",
            "}",
            "$X",
            " ",
            "--mount=",
            "from=",
            ",",
            "\"",
            "'",
            "ARG X=",
            "COPY --from=",
            "# syntax=",
            "\r\n",
            "AS ",
            "{{",
            "a",
            "<<-",
            "\t",
            "`",
        ];
        while junk.len() < 10 << 20 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            junk.push_str(pieces[(x % pieces.len() as u64) as usize]);
        }
        let _ = crate::test_support::linear(junk.len(), || ex(&junk));
        // One giant line.
        let line = "FROM a<<b${c}-".repeat(700_000);
        let _ = crate::test_support::linear(line.len(), || ex(&line));
        // Many unterminated heredocs, each with its own name.
        let mut many = String::new();
        for i in 0..50_000 {
            many.push_str(&format!("RUN <<E{i}\n"));
        }
        let out = crate::test_support::linear(many.len(), || ex(&many));
        assert_eq!(out.diagnostics.len(), 50_000);
        // Deeply nested defaults.
        let nested = format!("FROM {}x{}\n", "${A:-".repeat(100_000), "}".repeat(100_000));
        let _ = crate::test_support::linear(nested.len(), || ex(&nested));
    }

    #[test]
    fn large_file_is_linear() {
        let mut t = String::from("ARG TAG=1\n");
        for i in 0..100_000 {
            t.push_str(&format!(
                "FROM img{i}:$TAG AS s{i}\nCOPY --from=s{i} /a /b\n"
            ));
        }
        let out = crate::test_support::linear(t.len(), || ex(&t));
        assert_eq!(out.images.len(), 100_000);
        // Many names built from platform variables.
        let t = "FROM a AS linux-amd64\nFROM x-$TARGETOS-$TARGETARCH\n".repeat(50_000);
        let _ = crate::test_support::linear(t.len(), || ex(&t));
        // Many stages and many patterns that may name one.
        let mut t = String::new();
        for i in 0..20_000 {
            t.push_str(&format!("FROM a AS s{i}\nFROM q-$TARGETOS-${{X}}\n"));
        }
        let _ = crate::test_support::linear(t.len(), || ex(&t));
    }

    fn corpus_dir() -> std::path::PathBuf {
        crate::test_corpus::dir("dockerfile")
    }

    fn corpus_files() -> Vec<std::path::PathBuf> {
        crate::test_corpus::files("dockerfile")
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    fn corpus(path: &str) -> String {
        std::fs::read_to_string(corpus_dir().join(path)).unwrap()
    }

    /// Runs over every corpus Dockerfile; prints what it finds (`cargo test corpus -- --nocapture`).
    #[test]
    fn corpus_runs_clean() {
        let files = corpus_files();
        if files.is_empty() {
            eprintln!("no corpus (TAGWARDEN_CORPUS): skipped");
            return;
        }
        let mut total = 0;
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let out = ex(&text);
            let idx = tagwarden_text::LineIndex::new(&text);
            let name = path.strip_prefix(corpus_dir()).unwrap_or(path).display();
            println!("== {name}");
            for o in &out.images {
                let (line, _) = idx.line_col(&text, o.span.start);
                let image = match &o.image {
                    Ok(i) => i.clone(),
                    Err(e) => format!("UNRESOLVED ({})", e.reason),
                };
                println!(
                    "  {line:>4} {:<22} {:<45} -> {image}{}{}",
                    o.source.as_str(),
                    o.text,
                    o.context
                        .as_ref()
                        .map(|c| format!("  [{c}]"))
                        .unwrap_or_default(),
                    if o.exact { "" } else { "  (not exact)" }
                );
                total += 1;
            }
            for d in &out.diagnostics {
                let (line, _) = idx.line_col(&text, d.span.start);
                println!("  {line:>4} {:?}: {}", d.kind, d.message);
            }
        }
        println!("{} files, {total} references", files.len());
        assert!(total > 300);
    }

    fn summary(path: &str) -> Vec<(Source, String)> {
        ex(&corpus(path))
            .images
            .into_iter()
            .map(|o| {
                (
                    o.source,
                    o.image.unwrap_or_else(|e| format!("ERR {}", e.reason)),
                )
            })
            .collect()
    }

    fn from(image: &str) -> (Source, String) {
        (Source::DockerfileFrom, image.to_string())
    }

    /// Expectations checked by reading the corpus files.
    #[test]
    fn corpus_expectations() {
        if corpus_files().is_empty() {
            return;
        }
        // `FROM golang AS build` / `FROM build AS debug` name earlier stages.
        assert_eq!(
            summary("regclient__regclient/build/Dockerfile.regctl.buildkit"),
            vec![
                (Source::DockerfileSyntax, "docker/dockerfile:1".to_string()),
                from(
                    "docker.io/library/golang:1.26.4-alpine@sha256:3ad57304ad93bbec8548a0437ad9e06a455660655d9af011d58b993f6f615648"
                ),
                from(
                    "docker.io/library/alpine:3.24.1@sha256:28bd5fe8b56d1bd048e5babf5b10710ebe0bae67db86916198a6eec434943f8b"
                ),
                from(
                    "docker.io/library/alpine:3.24.1@sha256:28bd5fe8b56d1bd048e5babf5b10710ebe0bae67db86916198a6eec434943f8b"
                ),
            ]
        );
        // ARG defaults built from ARGs; `FROM ${TARGETOS}` picks the `linux`/`windows` stage;
        // the mount `from=go` is a stage.
        let path = "containerd__containerd/.github/workflows/release/Dockerfile";
        assert_eq!(
            summary(path),
            vec![
                from("golang:1.26.6"),
                from(
                    "tonistiigi/xx:1.6.1@sha256:923441d7c25f1e2eb5789f82d987693c47b8ed987c4ab3b075d6ed2b5d6779a3"
                ),
                from("ubuntu:22.04"),
            ]
        );
        let text = corpus(path);
        let out = ex(&text);
        assert_eq!(
            origin_texts(&text, &out.images[2]),
            vec![
                ("BASE_IMAGE".to_string(), "ubuntu:${UBUNTU_VERSION}"),
                ("UBUNTU_VERSION".to_string(), "22.04")
            ]
        );
        // Images in COPY --from and a mount; a syntax directive before comments.
        assert_eq!(
            summary("crazy-max__diun/test/dockerfile1/mount/Dockerfile"),
            vec![
                (
                    Source::DockerfileSyntax,
                    "docker/dockerfile:1.2".to_string()
                ),
                from("alpine:latest"),
                (Source::DockerfileCopyFrom, "crazymax/yasu".to_string()),
                (
                    Source::DockerfileRunMount,
                    "docker/buildx-bin:0.6.0".to_string()
                ),
            ]
        );
        // Of 49 FROMs, 13 are images; stages named through TARGETOS and `${X:+-debug}` are
        // not; one COPY --from names an image; plus the syntax directive.
        let out = summary("moby__buildkit/Dockerfile");
        assert_eq!(out.len(), 15);
        assert!(out.iter().all(|(_, i)| !i.starts_with("ERR")));
        assert_eq!(
            out.iter()
                .filter(|(s, _)| *s == Source::DockerfileCopyFrom)
                .count(),
            1
        );
        // A Windows Dockerfile (escape=`) with quotes in the image word.
        let path = "jenkinsci__docker/windows/windowsservercore/hotspot/Dockerfile";
        let out = ex(&corpus(path));
        assert_eq!(out.images.len(), 2);
        assert_eq!(
            out.images[0].text,
            "mcr.microsoft.com/windows/servercore:\"${WINDOWS_VERSION}\""
        );
        assert_eq!(
            out.images[0].image,
            Ok("mcr.microsoft.com/windows/servercore:ltsc2022".into())
        );
        // A byte-order mark: offsets count it.
        let path = "LoremFooBar__sarif-bitbucket-pipe/Dockerfile";
        let out = ex(&corpus(path));
        assert_eq!(out.images.len(), 2);
        assert_eq!(out.images[0].span.start, 8);
        // ARG without a default.
        assert_eq!(
            summary("gitlabhq__gitlab-runner/dockerfiles/runner/Dockerfile"),
            vec![
                from("ERR ARG BASE_IMAGE has no default"),
                (Source::DockerfileCopyFrom, "binary_dir".to_string()),
                (Source::DockerfileCopyFrom, "packaging_dir".to_string()),
            ]
        );
        // `COPY --from=rust` is the official image; the other --from values are stages.
        let out = summary("dependabot__dependabot-core/python/Dockerfile");
        let copies: Vec<_> = out
            .iter()
            .filter(|(s, _)| *s == Source::DockerfileCopyFrom)
            .map(|(_, i)| i.as_str())
            .collect();
        assert_eq!(copies, vec!["rust", "rust"]);
        assert_eq!(out.len(), 9);
    }
}
