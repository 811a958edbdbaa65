//! Jenkinsfiles (Groovy: `Jenkinsfile`, `*.jenkinsfile`, `*.groovy`), read with a small Groovy
//! lexer (strings of every quoting, `${}` interpolation, comments, nesting), not a parser.
//!
//! What is read:
//! - declarative `agent { docker { image 'x' … } }`, `agent { docker 'x' }` and the map style
//!   `image: 'x'`; a `registryUrl` in the same block prefixes the registry, as the plugin does;
//! - kubernetes plugin `containerTemplate(name: …, image: 'x')` (call, command or block style),
//!   and inline pod YAML (`kubernetes { yaml '''…''' }`, `podTemplate(yaml: '''…''')`): when the
//!   string is a plain literal, its containers are read by the Kubernetes extractor and their
//!   spans mapped back to the file; otherwise (interpolated, escaped, `yamlFile`) a note;
//! - scripted `docker.image('x')` (whatever follows: `.inside`, `.pull()`, `.run()`, `.withRun`),
//!   `withDockerContainer(image: 'x')`, `dockerNode(image: 'x')`, with `docker.withRegistry(url)`
//!   prefixing the registry;
//! - container commands in `sh` steps (`sh 'cmd'`, `sh "cmd"`, `sh '''…'''`, `sh(script: …)`),
//!   via [`crate::read::shell::commands`]. `bat` and `powershell` are Windows shells: not read.
//!
//! `dockerfile` agents and `docker.build('name')` build their image: not references, and a name
//! the file builds is not reported when run. A Groovy interpolation (`"${IMAGE}"`, `"$IMAGE"`,
//! `"${env.IMAGE}"`) resolves when the file assigns the name exactly once, to a plain literal
//! (`def IMAGE = 'x'`, `environment { IMAGE = 'x' }`, `env.IMAGE = 'x'`), with the origin at that
//! literal; a shell `$IMAGE` in a single-quoted `sh` sees only `environment` values. Anything else
//! is unresolved. A plain single-quoted string's span is exact.

use std::collections::HashMap;

use crate::read::shell::{self, ShellImageKind, Variables};
use crate::read::vars::{self, Syntax, Value};
use crate::{Extraction, Form, ImageOccurrence, Origin, Source, Span, Unresolved};

/// Tokens read per file, and nesting followed (bounded work on hostile input).
const MAX_TOKENS: usize = 1_000_000;
const MAX_DEPTH: usize = 256;
/// Tokens one step call's arguments are searched through (an unclosed `(` must not make every
/// later call scan to the end of the file).
const MAX_CALL_TOKENS: usize = 1_000;

/// Finds the image references of one Jenkinsfile.
pub fn extract(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let lexed = lex(text, &mut out);
    let defs = Definitions::collect(&lexed, text);
    let built = built_names(&lexed, text);
    Walker {
        text,
        lx: &lexed,
        defs: &defs,
        built: &built,
        out: &mut out,
        frames: Vec::new(),
        overflow: 0,
    }
    .walk();
    out.images.sort_by_key(|o| (o.span.start, o.span.end));
    out
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    /// A string literal: index into `Lexed::strings`.
    Str(usize),
    Open(u8),
    Close(u8),
    Dot,
    Comma,
    Semi,
    /// An operator (`=`, `==`, `:`, `?:`, `->`, …).
    Op,
    Other,
}

#[derive(Clone, Copy, Debug)]
struct Tok {
    kind: Kind,
    span: Span,
    /// A line break comes before this token (statements end at line breaks).
    nl_before: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    Single,
    Double,
    TripleSingle,
    TripleDouble,
    Slashy,
    DollarSlashy,
}

/// A string literal and its value, with the source offset of every byte of the value.
#[derive(Debug)]
struct GroovyString {
    quote: Quote,
    /// The bytes between the quotes.
    content: Span,
    /// The value with escapes decoded; interpolations (`${…}`, `$x`) are kept as written.
    value: String,
    /// `map[i]` is the source offset of value byte `i`; one more entry for the end.
    map: Vec<usize>,
    /// True when the value has interpolations.
    interpolated: bool,
}

impl GroovyString {
    /// True when the bytes between the quotes are the value.
    fn plain(&self, text: &str) -> bool {
        self.content.of(text) == self.value
    }

    /// The file span of `span` (offsets in the value), and whether its bytes spell it exactly.
    fn to_source(&self, span: Span, text: &str) -> Option<(Span, bool)> {
        if span.is_empty() || span.end > self.value.len() {
            return None;
        }
        let start = *self.map.get(span.start)?;
        let end = self.map.get(span.end - 1)? + 1;
        let s = Span::new(start, end.max(start));
        if !(text.is_char_boundary(s.start) && text.is_char_boundary(s.end)) {
            return None;
        }
        let exact = s.of(text) == self.value.get(span.start..span.end)?;
        Some((s, exact))
    }
}

struct Lexed {
    toks: Vec<Tok>,
    strings: Vec<GroovyString>,
}

impl Lexed {
    fn kind(&self, i: usize) -> Option<Kind> {
        self.toks.get(i).map(|t| t.kind)
    }

    fn ident<'t>(&self, i: usize, text: &'t str) -> Option<&'t str> {
        let t = self.toks.get(i)?;
        (t.kind == Kind::Ident).then(|| t.span.of(text))
    }

    fn is_op(&self, i: usize, op: &str, text: &str) -> bool {
        self.toks
            .get(i)
            .is_some_and(|t| t.kind == Kind::Op && t.span.of(text) == op)
    }

    fn string(&self, i: usize) -> Option<&GroovyString> {
        match self.kind(i)? {
            Kind::Str(s) => self.strings.get(s),
            _ => None,
        }
    }

    fn nl_before(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.nl_before)
    }
}

fn lex(text: &str, out: &mut Extraction) -> Lexed {
    let b = text.as_bytes();
    let mut lx = Lexed {
        toks: Vec::new(),
        strings: Vec::new(),
    };
    let mut i = usize::from(text.starts_with('\u{feff}')) * 3;
    // A `#!` first line is not Groovy.
    if text.get(i..).is_some_and(|r| r.starts_with("#!")) {
        i = memchr::memchr(b'\n', b).map_or(b.len(), |n| n);
    }
    let mut nl = true;
    while i < b.len() {
        if lx.toks.len() >= MAX_TOKENS {
            out.note(
                Span::new(i, i),
                "Jenkinsfile too long: the rest is not read",
            );
            break;
        }
        let c = b[i];
        let start = i;
        let push = |lx: &mut Lexed, kind: Kind, end: usize, nl: &mut bool| {
            lx.toks.push(Tok {
                kind,
                span: Span::new(start, end),
                nl_before: *nl,
            });
            *nl = false;
        };
        match c {
            b'\n' => {
                nl = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => i += 1,
            // A backslash before a line break joins the lines.
            b'\\' if matches!(b.get(i + 1), Some(b'\n' | b'\r')) => i += 2,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = memchr::memmem::find(&b[i + 2..], b"*/").map(|n| i + 2 + n + 2);
                if end.is_none() {
                    out.parse_error(Span::new(i, i), "unterminated /* comment");
                }
                let end = end.unwrap_or(b.len());
                nl |= b[i..end].contains(&b'\n');
                i = end;
            }
            b'\'' | b'"' => {
                let triple = b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c);
                let quote = match (c, triple) {
                    (b'\'', false) => Quote::Single,
                    (b'\'', true) => Quote::TripleSingle,
                    (_, false) => Quote::Double,
                    (_, true) => Quote::TripleDouble,
                };
                let (s, end) = string(text, i, quote, out);
                let k = lx.strings.len();
                lx.strings.push(s);
                push(&mut lx, Kind::Str(k), end, &mut nl);
                i = end;
            }
            b'$' if b.get(i + 1) == Some(&b'/') => {
                let (s, end) = string(text, i, Quote::DollarSlashy, out);
                let k = lx.strings.len();
                lx.strings.push(s);
                push(&mut lx, Kind::Str(k), end, &mut nl);
                i = end;
            }
            b'/' if slashy_allowed(&lx, text) && closes_on_line(b, i) => {
                let (s, end) = string(text, i, Quote::Slashy, out);
                let k = lx.strings.len();
                lx.strings.push(s);
                push(&mut lx, Kind::Str(k), end, &mut nl);
                i = end;
            }
            b'(' | b'[' | b'{' => {
                push(&mut lx, Kind::Open(c), i + 1, &mut nl);
                i += 1;
            }
            b')' | b']' | b'}' => {
                push(&mut lx, Kind::Close(c), i + 1, &mut nl);
                i += 1;
            }
            b'.' if !b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                push(&mut lx, Kind::Dot, i + 1, &mut nl);
                i += 1;
            }
            b',' => {
                push(&mut lx, Kind::Comma, i + 1, &mut nl);
                i += 1;
            }
            b';' => {
                push(&mut lx, Kind::Semi, i + 1, &mut nl);
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'$')
                {
                    j += 1;
                }
                push(&mut lx, Kind::Ident, j, &mut nl);
                i = j;
            }
            b'=' | b'!' | b'<' | b'>' | b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^'
            | b'?' | b':' | b'~' => {
                let mut j = i + 1;
                while j < b.len()
                    && matches!(
                        b[j],
                        b'=' | b'!' | b'<' | b'>' | b'&' | b'|' | b'?' | b':' | b'~'
                    )
                    && !(b[i] == b':' && b[j] != b':')
                {
                    j += 1;
                }
                push(&mut lx, Kind::Op, j, &mut nl);
                i = j;
            }
            _ => {
                let len = text
                    .get(i..)
                    .and_then(|r| r.chars().next())
                    .map_or(1, char::len_utf8);
                push(&mut lx, Kind::Other, i + len, &mut nl);
                i += len;
            }
        }
    }
    lx
}

/// A `/` starts a slashy string where a value is expected, not after one (division).
fn slashy_allowed(lx: &Lexed, text: &str) -> bool {
    match lx.toks.last() {
        None => true,
        Some(t) => match t.kind {
            Kind::Ident => {
                // After a keyword a value follows; after a name, `/` divides.
                matches!(t.span.of(text), "return" | "case" | "in")
            }
            Kind::Str(_) | Kind::Close(_) => false,
            Kind::Other => !t.span.of(text).bytes().all(|c| c.is_ascii_digit()),
            _ => true,
        },
    }
}

/// True when the `/` at `i` is closed by an unescaped `/` on the same line: a slashy string,
/// not a division that was misread.
fn closes_on_line(b: &[u8], i: usize) -> bool {
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        match c {
            b'\n' => return false,
            b'\\' => j += 2,
            b'/' => return j > i + 1,
            _ => j += 1,
        }
    }
    false
}

/// Reads the string literal starting at `start`; returns it and the offset after it.
fn string(text: &str, start: usize, quote: Quote, out: &mut Extraction) -> (GroovyString, usize) {
    let b = text.as_bytes();
    let (open, close): (usize, &[u8]) = match quote {
        Quote::Single => (1, b"'"),
        Quote::Double => (1, b"\""),
        Quote::TripleSingle => (3, b"'''"),
        Quote::TripleDouble => (3, b"\"\"\""),
        Quote::Slashy => (1, b"/"),
        Quote::DollarSlashy => (2, b"/$"),
    };
    let gstring = matches!(
        quote,
        Quote::Double | Quote::TripleDouble | Quote::Slashy | Quote::DollarSlashy
    );
    let single_line = matches!(quote, Quote::Single | Quote::Double);
    let mut s = GroovyString {
        quote,
        content: Span::default(),
        value: String::new(),
        map: Vec::new(),
        interpolated: false,
    };
    let mut i = start + open;
    let content_start = i;
    let push_char = |s: &mut GroovyString, ch: char, at: usize| {
        for _ in 0..ch.len_utf8() {
            s.map.push(at);
        }
        s.value.push(ch);
    };
    let copy = |s: &mut GroovyString, from: usize, to: usize| {
        if let Some(piece) = text.get(from..to) {
            s.value.push_str(piece);
            s.map.extend(from..to);
        }
    };
    let end = loop {
        if i >= b.len() || (single_line && b[i] == b'\n') {
            out.parse_error(Span::new(start, start), "unterminated string");
            break i;
        }
        if b[i..].starts_with(close) {
            // `$/…/$`: `$/` is an escaped slash, `$$` an escaped dollar.
            if quote == Quote::DollarSlashy && i > content_start && b[i - 1] == b'$' {
                i += 1;
                continue;
            }
            break i;
        }
        let ch_len = text
            .get(i..)
            .and_then(|r| r.chars().next())
            .map_or(1, char::len_utf8);
        match b[i] {
            b'\\' if quote != Quote::DollarSlashy => {
                let next = text.get(i + 1..).and_then(|r| r.chars().next());
                match next {
                    // Slashy strings only escape the slash.
                    Some('/') if quote == Quote::Slashy => push_char(&mut s, '/', i),
                    Some(_) if quote == Quote::Slashy => {
                        copy(&mut s, i, i + 1);
                        i += 1;
                        continue;
                    }
                    Some('\n') => {}
                    Some('\r') if b.get(i + 2) == Some(&b'\n') => i += 1,
                    Some('u') => {
                        let hex = text.get(i + 2..i + 6).unwrap_or("");
                        let ch = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                        match ch {
                            Some(ch) if hex.len() == 4 => {
                                push_char(&mut s, ch, i);
                                i += 4;
                            }
                            _ => push_char(&mut s, 'u', i),
                        }
                    }
                    Some(n) => {
                        let ch = match n {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            'b' => '\u{8}',
                            'f' => '\u{c}',
                            '0' => '\0',
                            other => other,
                        };
                        push_char(&mut s, ch, i);
                    }
                    None => {}
                }
                i += 1 + next.map_or(0, char::len_utf8);
            }
            b'$' if gstring => {
                let rest = b.get(i + 1).copied();
                if rest == Some(b'{') {
                    s.interpolated = true;
                    let close_at = matching_brace(b, i + 1).unwrap_or(b.len());
                    copy(&mut s, i, (close_at + 1).min(b.len()));
                    i = close_at + 1;
                } else if rest.is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') {
                    s.interpolated = true;
                    let mut j = i + 1;
                    // `$name.prop.prop`: a dotted path of names.
                    while j < b.len()
                        && (b[j].is_ascii_alphanumeric()
                            || b[j] == b'_'
                            || (b[j] == b'.'
                                && b.get(j + 1)
                                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')))
                    {
                        j += 1;
                    }
                    copy(&mut s, i, j);
                    i = j;
                } else {
                    copy(&mut s, i, i + 1);
                    i += 1;
                }
            }
            _ => {
                copy(&mut s, i, i + ch_len);
                i += ch_len;
            }
        }
    };
    s.content = Span::new(content_start, end.min(b.len()));
    s.map.push(end.min(b.len()));
    let after = if end < b.len() {
        end + close.len()
    } else {
        end
    };
    (s, after.min(b.len()))
}

/// The `}` that closes the `{` at `open`, counting nesting.
fn matching_brace(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Variables

/// One assignment of a name.
#[derive(Debug)]
struct Definition {
    /// `environment { X = … }`, `env.X = …` or `withEnv(['X=…'])`: the shell sees it too.
    env: bool,
    /// The plain literal assigned, and the span of its bytes.
    literal: Option<(String, Span)>,
}

/// Every assignment of every name in the file.
#[derive(Default)]
struct Definitions {
    by_name: HashMap<String, Vec<Definition>>,
}

impl Definitions {
    fn collect(lx: &Lexed, text: &str) -> Self {
        let mut defs = Self::default();
        // Whether each open `{` is (inside) an `environment` block.
        let mut stack: Vec<bool> = Vec::new();
        for (i, t) in lx.toks.iter().enumerate() {
            match t.kind {
                Kind::Open(b'{') => {
                    let env = i
                        .checked_sub(1)
                        .and_then(|p| lx.ident(p, text))
                        .is_some_and(|n| n == "environment");
                    if stack.len() < MAX_DEPTH {
                        stack.push(env || stack.last().copied().unwrap_or(false));
                    }
                }
                Kind::Close(b'}') => {
                    stack.pop();
                }
                Kind::Ident if lx.is_op(i + 1, "=", text) => {
                    let name = t.span.of(text);
                    let after_dot = i.checked_sub(1).and_then(|p| lx.kind(p)) == Some(Kind::Dot);
                    let env_dot = after_dot
                        && i.checked_sub(2).and_then(|p| lx.ident(p, text)) == Some("env");
                    if after_dot && !env_dot {
                        // `obj.field = …` is not a variable.
                        continue;
                    }
                    let ends = |k: usize| {
                        lx.kind(k).is_none_or(|k| {
                            matches!(k, Kind::Semi | Kind::Close(b'}') | Kind::Comma)
                        }) || lx.nl_before(k)
                    };
                    let literal = lx
                        .string(i + 2)
                        .filter(|s| !s.interpolated && s.plain(text) && ends(i + 3))
                        .map(|s| (s.value.clone(), s.content));
                    defs.add(
                        name,
                        Definition {
                            env: env_dot || stack.last().copied().unwrap_or(false),
                            literal,
                        },
                    );
                }
                Kind::Str(k) => {
                    // `withEnv(['NAME=value'])` sets NAME for a block: its value is not known here.
                    if let Some(s) = lx.strings.get(k)
                        && let Some((name, _)) = s.value.split_once('=')
                        && is_name(name)
                    {
                        defs.add(
                            name,
                            Definition {
                                env: true,
                                literal: None,
                            },
                        );
                    }
                }
                _ => {}
            }
        }
        defs
    }

    fn add(&mut self, name: &str, d: Definition) {
        let list = self.by_name.entry(name.to_string()).or_default();
        // Two are as unknown as two thousand.
        if list.len() < 2 {
            list.push(d);
        }
    }

    /// The literal a name holds when it is assigned exactly once; for the shell, only an
    /// environment variable.
    fn lookup(&self, name: &str, shell_only: bool) -> Option<Value> {
        match self.by_name.get(name)?.as_slice() {
            [d] if d.env || !shell_only => {
                let (value, span) = d.literal.clone()?;
                Some(Value {
                    value,
                    origin: Some(Origin {
                        name: name.to_string(),
                        span,
                    }),
                })
            }
            _ => None,
        }
    }
}

fn is_name(n: &str) -> bool {
    n.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Images the file builds: `docker.build('name')` and `docker build -t name` in `sh` steps.
fn built_names(lx: &Lexed, text: &str) -> Vec<String> {
    let mut built = Vec::new();
    for i in 0..lx.toks.len() {
        let Some(name) = lx.ident(i, text) else {
            continue;
        };
        if name == "build"
            && lx.kind(i.wrapping_sub(1)) == Some(Kind::Dot)
            && lx.ident(i.wrapping_sub(2), text) == Some("docker")
            && lx.kind(i + 1) == Some(Kind::Open(b'('))
            && let Some(s) = lx.string(i + 2)
        {
            built.push(s.value.clone());
        }
        if name == "sh"
            && let Some(s) = sh_script(lx, i, text)
        {
            built.extend(shell::built_images(&s.value));
        }
    }
    built
}

/// The value of a Groovy expression written in a string: `${NAME}`, `$NAME`, `${env.NAME}`,
/// literal text around them. `shell` reads a shell word instead (`$NAME`, `${NAME:-x}`).
fn resolve(
    raw: &str,
    at: usize,
    shell: bool,
    defs: &Definitions,
) -> Result<(String, Vec<Origin>), String> {
    if raw.contains(['\\', '"', '\'', '`']) || raw.contains("$(") {
        return Err(format!("{raw} is built at run time"));
    }
    if shell {
        return vars::expand(raw, at, Syntax::default(), &|n| defs.lookup(n, true))
            .map(|e| (e.value, e.origins))
            .map_err(|u| u.reason);
    }
    let mut value = String::new();
    let mut origins = Vec::new();
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            let next = raw
                .get(i..)
                .and_then(|r| r.find('$'))
                .map_or(b.len(), |n| i + n);
            value.push_str(raw.get(i..next).unwrap_or(""));
            i = next;
            continue;
        }
        let (expr, end) = if b.get(i + 1) == Some(&b'{') {
            let close =
                matching_brace(b, i + 1).ok_or_else(|| format!("unterminated ${{ in {raw}"))?;
            (raw.get(i + 2..close).unwrap_or("").trim(), close + 1)
        } else {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.') {
                j += 1;
            }
            (raw.get(i + 1..j).unwrap_or(""), j)
        };
        let name = expr.strip_prefix("env.").unwrap_or(expr);
        if !is_name(name) {
            return Err(format!(
                "Groovy expression ${{{expr}}} is evaluated when the pipeline runs"
            ));
        }
        let v = defs
            .lookup(name, expr.starts_with("env."))
            .ok_or_else(|| format!("{name} has no single literal value in this file"))?;
        value.push_str(&v.value);
        origins.extend(v.origin);
        i = end;
    }
    Ok((value, origins))
}

// ---------------------------------------------------------------------------------------------
// Walker

/// What a block or argument list is.
#[derive(Debug)]
enum FrameKind {
    /// `docker { … }` of an agent: its `image` and `registryUrl`.
    DockerAgent,
    /// `containerTemplate(…)` / `containerTemplate { … }`.
    ContainerTemplate,
    /// `withDockerContainer(…)` / `dockerNode(…)`.
    DockerStep,
    /// `stage('name') { … }`.
    Stage(String),
    /// `docker.withRegistry('url') { … }`.
    Registry,
    Other,
}

#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    /// Registry host the frame's images are pulled from (`registryUrl`, `withRegistry`), with
    /// the span of the URL.
    registry: Option<(String, Span)>,
    /// Occurrences waiting for the end of a docker agent block (its `registryUrl` may follow).
    pending: Vec<ImageOccurrence>,
}

struct Walker<'t, 'l> {
    text: &'t str,
    lx: &'l Lexed,
    defs: &'l Definitions,
    built: &'l [String],
    out: &'l mut Extraction,
    frames: Vec<Frame>,
    /// Brackets opened beyond [`MAX_DEPTH`], not given frames.
    overflow: usize,
}

/// Steps whose `image:` pulls an image to run steps in.
const DOCKER_STEPS: &[&str] = &["withDockerContainer", "dockerNode"];
/// Steps that open a block pulling from another registry.
const REGISTRY_STEPS: &[&str] = &["withRegistry", "withDockerRegistry"];
/// Registry hosts that mean Docker Hub: no prefix.
const DOCKER_HUB: &[&str] = &[
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

impl Walker<'_, '_> {
    fn walk(&mut self) {
        // The frame kind the next opening bracket starts, set by the tokens before it.
        let mut next_kind: Option<(FrameKind, Option<(String, Span)>)> = None;
        let mut i = 0;
        while i < self.lx.toks.len() {
            let Some(t) = self.lx.toks.get(i).copied() else {
                break;
            };
            match t.kind {
                Kind::Open(c) => {
                    let (kind, registry) = next_kind.take().unwrap_or((FrameKind::Other, None));
                    // A stage's or registry's frame is its `{ … }`, after the `( … )` call.
                    let deferred =
                        c == b'(' && matches!(kind, FrameKind::Stage(_) | FrameKind::Registry);
                    if deferred {
                        next_kind = Some((kind, registry));
                        self.push_frame(FrameKind::Other, None);
                    } else {
                        self.push_frame(kind, registry);
                    }
                }
                Kind::Close(c) => {
                    self.pop_frame();
                    if c == b')' && next_kind.is_some() {
                        // The call's `{` block follows: keep the kind for it.
                        if self.lx.kind(i + 1) != Some(Kind::Open(b'{')) {
                            next_kind = None;
                        }
                    } else {
                        next_kind = None;
                    }
                }
                Kind::Ident => {
                    next_kind = self.ident(i).or(next_kind.take());
                }
                _ => {}
            }
            i += 1;
        }
        while !self.frames.is_empty() {
            self.pop_frame();
        }
    }

    fn push_frame(&mut self, kind: FrameKind, registry: Option<(String, Span)>) {
        if self.frames.len() >= MAX_DEPTH {
            // Too deep: the inner brackets are read as part of the last frame.
            self.overflow += 1;
            return;
        }
        self.frames.push(Frame {
            kind,
            registry,
            pending: Vec::new(),
        });
    }

    fn pop_frame(&mut self) {
        if self.overflow > 0 {
            self.overflow -= 1;
            return;
        }
        let Some(frame) = self.frames.pop() else {
            return;
        };
        let registry = frame.registry.clone().or_else(|| self.registry());
        for occ in frame.pending {
            let occ = match &registry {
                Some(r) => with_registry(occ, r),
                None => occ,
            };
            self.out.push_image(occ);
        }
    }

    /// The registry of the innermost frame that names one.
    fn registry(&self) -> Option<(String, Span)> {
        self.frames.iter().rev().find_map(|f| f.registry.clone())
    }

    fn context(&self) -> Option<String> {
        self.frames.iter().rev().find_map(|f| match &f.kind {
            FrameKind::Stage(name) => Some(format!("stage {name}")),
            _ => None,
        })
    }

    /// Handles the identifier at `i`; returns the kind of frame the next bracket opens.
    fn ident(&mut self, i: usize) -> Option<(FrameKind, Option<(String, Span)>)> {
        let lx = self.lx;
        let text = self.text;
        let name = lx.ident(i, text)?;
        let after_dot = lx.kind(i.wrapping_sub(1)) == Some(Kind::Dot) && i > 0;
        let opens = matches!(lx.kind(i + 1), Some(Kind::Open(b'(' | b'{')));
        let receiver = if after_dot {
            lx.ident(i.wrapping_sub(2), text)
        } else {
            None
        };
        match name {
            "docker" if !after_dot && lx.kind(i + 1) == Some(Kind::Open(b'{')) => {
                return Some((FrameKind::DockerAgent, None));
            }
            "docker" if !after_dot && !lx.nl_before(i + 1) => {
                // `agent { docker 'image' }`.
                if let Some(s) = lx.string(i + 1) {
                    self.report_string(s, Source::JenkinsAgent);
                }
            }
            "image" if receiver == Some("docker") && lx.kind(i + 1) == Some(Kind::Open(b'(')) => {
                // `docker.image('x').push()` / `.tag()` name a local image: nothing is pulled.
                let method = self.method_after_call(i + 1);
                if !matches!(method, Some("push" | "tag")) {
                    self.report_arg(i + 2, Source::JenkinsDockerImage, true);
                }
            }
            "image" if !after_dot => {
                let inner = self.innermost_kind();
                let source = match inner {
                    Some(FrameKind::DockerStep) => Source::JenkinsDockerImage,
                    _ => Source::JenkinsAgent,
                };
                // A variable argument counts only where an image is expected: elsewhere
                // `image x` may be an expression about a variable named `image`.
                let in_image_block = matches!(
                    inner,
                    Some(
                        FrameKind::DockerAgent
                            | FrameKind::ContainerTemplate
                            | FrameKind::DockerStep
                    )
                );
                if let Some(arg) = self.argument(i)
                    && (lx.string(arg).is_some() || in_image_block)
                {
                    self.report_arg(arg, source, false);
                }
            }
            "registryUrl" if !after_dot => {
                if let Some(s) = self.argument(i).and_then(|a| lx.string(a))
                    && !s.interpolated
                    && let Some(frame) = self
                        .frames
                        .iter_mut()
                        .rev()
                        .find(|f| matches!(f.kind, FrameKind::DockerAgent))
                {
                    frame.registry = Some((s.value.clone(), s.content));
                }
            }
            "containerTemplate" if !after_dot && opens => {
                return Some((FrameKind::ContainerTemplate, None));
            }
            n if DOCKER_STEPS.contains(&n) && !after_dot && opens => {
                return Some((FrameKind::DockerStep, None));
            }
            n if REGISTRY_STEPS.contains(&n) && opens => {
                let url = self.registry_argument(i);
                return Some((FrameKind::Registry, url));
            }
            "stage" if !after_dot && lx.kind(i + 1) == Some(Kind::Open(b'(')) => {
                let stage = lx
                    .string(i + 2)
                    .map(|s| s.value.clone())
                    .unwrap_or_default();
                return Some((FrameKind::Stage(stage), None));
            }
            "yaml" if !after_dot => self.pod_yaml(i),
            "yamlFile" if !after_dot => {
                let t = lx.toks.get(i).map_or(Span::default(), |t| t.span);
                let file = self
                    .argument(i)
                    .and_then(|a| lx.string(a))
                    .map_or_else(|| "another file".to_string(), |s| format!("{:?}", s.value));
                self.out.note(
                    t,
                    format!("the agent's pod is defined in {file}: scan that file as a Kubernetes manifest"),
                );
            }
            "sh" if !after_dot => self.sh_step(i),
            _ => {}
        }
        None
    }

    fn innermost_kind(&self) -> Option<&FrameKind> {
        self.frames
            .iter()
            .rev()
            .map(|f| &f.kind)
            .find(|k| !matches!(k, FrameKind::Other))
    }

    /// The argument token of a property or step at `i`: `name 'x'`, `name('x')`, `name: 'x'`.
    fn argument(&self, i: usize) -> Option<usize> {
        let lx = self.lx;
        if lx.nl_before(i + 1) {
            return None;
        }
        match lx.kind(i + 1)? {
            Kind::Str(_) | Kind::Ident => Some(i + 1),
            Kind::Open(b'(') => Some(i + 2),
            Kind::Op if lx.is_op(i + 1, ":", self.text) => Some(i + 2),
            _ => None,
        }
    }

    /// The method called on the result of the call whose `(` is at `open`: `docker.image(x).inside`.
    fn method_after_call(&self, open: usize) -> Option<&str> {
        let close = self.matching(open)?;
        (self.lx.kind(close + 1) == Some(Kind::Dot))
            .then(|| self.lx.ident(close + 2, self.text))
            .flatten()
    }

    /// The token index of the bracket closing the one at `open`.
    fn matching(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for (k, t) in self
            .lx
            .toks
            .iter()
            .enumerate()
            .skip(open)
            .take(MAX_CALL_TOKENS)
        {
            match t.kind {
                Kind::Open(_) => depth += 1,
                Kind::Close(_) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(k);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The registry URL of `withRegistry('url', …)` / `withDockerRegistry(url: 'url')`.
    fn registry_argument(&self, i: usize) -> Option<(String, Span)> {
        let lx = self.lx;
        if lx.kind(i + 1) != Some(Kind::Open(b'(')) {
            return None;
        }
        let close = self.matching(i + 1)?;
        let mut k = i + 2;
        if lx.kind(k) == Some(Kind::Open(b'[')) {
            k += 1;
        }
        // Positional first, else `url: '…'`.
        let s = lx.string(k).or_else(|| {
            (k..close).find_map(|j| {
                (lx.ident(j, self.text) == Some("url") && lx.is_op(j + 1, ":", self.text))
                    .then(|| lx.string(j + 2))
                    .flatten()
            })
        })?;
        (!s.interpolated).then(|| (s.value.clone(), s.content))
    }

    /// Reports the image named by the argument token at `arg`: a string or a variable.
    fn report_arg(&mut self, arg: usize, source: Source, skip_built: bool) {
        let lx = self.lx;
        if let Some(s) = lx.string(arg) {
            if skip_built && !s.interpolated && shell::is_built(&s.value, self.built) {
                return;
            }
            self.report_string(s, source);
            return;
        }
        // A variable: `docker.image(IMAGE)`, `image env.IMAGE`.
        let Some(mut name) = lx.ident(arg, self.text) else {
            return;
        };
        let mut end = arg;
        let mut env = false;
        if name == "env"
            && lx.kind(arg + 1) == Some(Kind::Dot)
            && let Some(n) = lx.ident(arg + 2, self.text)
        {
            name = n;
            end = arg + 2;
            env = true;
        }
        if lx.kind(end + 1) == Some(Kind::Dot) || lx.kind(end + 1) == Some(Kind::Open(b'(')) {
            // A method call or property: evaluated when the pipeline runs.
            return;
        }
        let (Some(first), Some(last)) = (lx.toks.get(arg), lx.toks.get(end)) else {
            return;
        };
        let span = Span::new(first.span.start, last.span.end);
        let (image, form) = match self.defs.lookup(name, env) {
            Some(v) if !(skip_built && shell::is_built(&v.value, self.built)) => (
                Ok(v.value),
                Form::Expanded {
                    origins: v.origin.into_iter().collect(),
                },
            ),
            Some(_) => return,
            None => (
                Err(Unresolved::new(format!(
                    "{} has no single literal value in this file",
                    span.of(self.text)
                ))),
                Form::Expanded { origins: vec![] },
            ),
        };
        self.record(span, image, form, false, source);
    }

    /// Reports a string literal that names an image.
    fn report_string(&mut self, s: &GroovyString, source: Source) {
        let text = self.text;
        if s.value.trim().is_empty() {
            return;
        }
        let (image, form, exact) = if s.interpolated {
            match resolve(s.content.of(text), s.content.start, false, self.defs) {
                Ok((value, origins)) => (Ok(value), Form::Expanded { origins }, false),
                Err(why) => (
                    Err(Unresolved::new(why)),
                    Form::Expanded { origins: vec![] },
                    false,
                ),
            }
        } else {
            (Ok(s.value.clone()), Form::Literal, s.plain(text))
        };
        self.record(s.content, image, form, exact, source);
    }

    fn record(
        &mut self,
        span: Span,
        image: Result<String, Unresolved>,
        form: Form,
        exact: bool,
        source: Source,
    ) {
        let occ = ImageOccurrence {
            span,
            text: span.of(self.text).to_string(),
            image,
            source,
            form,
            alias_sites: Vec::new(),
            context: self.context(),
            exact,
        };
        // A docker agent's `registryUrl` may come after its `image`: wait for the block's end.
        if let Some(frame) = self
            .frames
            .iter_mut()
            .rev()
            .find(|f| matches!(f.kind, FrameKind::DockerAgent))
            && source == Source::JenkinsAgent
        {
            frame.pending.push(occ);
            return;
        }
        let occ = match self.registry() {
            Some(r) if source == Source::JenkinsDockerImage => with_registry(occ, &r),
            _ => occ,
        };
        self.out.push_image(occ);
    }

    /// `yaml '''…'''` / `yaml: '''…'''`: inline pod YAML, read as a Kubernetes manifest.
    fn pod_yaml(&mut self, i: usize) {
        let lx = self.lx;
        let Some(arg) = self.argument(i) else {
            return;
        };
        let Some(s) = lx.string(arg) else {
            let at = lx.toks.get(arg).map_or(Span::default(), |t| t.span);
            self.out.note(
                Span::new(at.start, at.start),
                "the agent's pod YAML is computed (not a string literal): its images are not read",
            );
            return;
        };
        if s.interpolated || !s.plain(self.text) {
            self.out.note(
                Span::new(s.content.start, s.content.start),
                "the agent's pod YAML has interpolations or escapes: its images are not read",
            );
            return;
        }
        let inner = crate::extract_embedded(crate::FileKind::Kubernetes, &s.value);
        let shift =
            |span: Span| Span::new(span.start + s.content.start, span.end + s.content.start);
        let context = self.context();
        for mut occ in inner.images {
            occ.span = shift(occ.span);
            occ.alias_sites = occ.alias_sites.into_iter().map(shift).collect();
            match &mut occ.form {
                Form::Expanded { origins } => {
                    for o in origins {
                        o.span = shift(o.span);
                    }
                }
                Form::Composed { parts } => {
                    for p in parts {
                        p.span = p.span.map(shift);
                    }
                }
                Form::Literal => {}
            }
            occ.context = match (&context, occ.context.take()) {
                (Some(stage), Some(c)) => Some(format!("{stage} / {c}")),
                (a, b) => b.or_else(|| a.clone()),
            };
            self.out.push_image(occ);
        }
        for mut d in inner.diagnostics {
            d.span = shift(d.span);
            self.out.diagnostics.push(d);
        }
    }

    /// The container commands of an `sh` step.
    fn sh_step(&mut self, i: usize) {
        let Some(s) = sh_script(self.lx, i, self.text) else {
            return;
        };
        let shell_vars = !matches!(s.quote, Quote::Double | Quote::TripleDouble);
        // The shell sees the pipeline's environment and the script's own assignments.
        let inherited = |n: &str| self.defs.lookup(n, true);
        let to_file = |span: Span| {
            s.to_source(span, self.text)
                .and_then(|(at, exact)| exact.then_some(at))
        };
        let vars = Variables::new(&s.value, &inherited, &to_file);
        // In a GString Groovy fills `${X}` in first; otherwise the shell reads it.
        let groovy = !shell_vars && s.interpolated;
        for f in shell::script_images(&s.value, &vars, self.built) {
            let value_raw = f.span.of(&s.value);
            let Some((span, mapped_exact)) = s.to_source(f.span, self.text) else {
                continue;
            };
            let source = match f.kind {
                ShellImageKind::Operand => Source::JenkinsShCommand,
                ShellImageKind::BuildContext => Source::BuildContext,
            };
            let unresolved = |why: String| {
                (
                    Err(Unresolved::new(why)),
                    Form::Expanded { origins: vec![] },
                    false,
                )
            };
            let (image, form, exact) = match (f.image, f.origins) {
                (Ok(image), None) => (Ok(image), Form::Literal, f.exact && mapped_exact),
                (Ok(image), Some(origins)) if mapped_exact && !groovy => {
                    (Ok(image), Form::Expanded { origins }, false)
                }
                // Expanded as shell text, or not expandable: in a GString Groovy's turn first.
                (_, Some(_)) | (Err(_), None) if groovy => {
                    match resolve(value_raw, span.start, false, self.defs) {
                        Ok((value, origins)) if mapped_exact && shell::looks_like_image(&value) => {
                            if f.kind == ShellImageKind::Operand
                                && shell::is_built(&value, self.built)
                            {
                                continue;
                            }
                            (Ok(value), Form::Expanded { origins }, false)
                        }
                        Ok(_) => unresolved(format!("{value_raw} is built at run time")),
                        Err(why) => unresolved(why),
                    }
                }
                (Ok(_), Some(_)) => unresolved(format!("{value_raw} is built at run time")),
                (Err(why), _) if why.is_empty() => {
                    unresolved(format!("{value_raw} is built at run time"))
                }
                (Err(why), _) => unresolved(why),
            };
            self.record(span, image, form, exact, source);
        }
    }
}

/// The script string of an `sh` step at `i`: `sh 'x'`, `sh('x')`, `sh(script: 'x', …)`,
/// `sh script: 'x', returnStdout: true`.
fn sh_script<'l>(lx: &'l Lexed, i: usize, text: &str) -> Option<&'l GroovyString> {
    if lx.nl_before(i + 1) {
        return None;
    }
    if let Some(s) = lx.string(i + 1) {
        return Some(s);
    }
    let open = lx.kind(i + 1) == Some(Kind::Open(b'('));
    let first = if open { i + 2 } else { i + 1 };
    if let Some(s) = lx.string(first) {
        return Some(s);
    }
    // Named arguments, within the parentheses or up to the end of the line.
    let mut depth = 0usize;
    let mut k = first;
    while let Some(t) = lx.toks.get(k).filter(|_| k < first + MAX_CALL_TOKENS) {
        if k > first && !open && depth == 0 && t.nl_before {
            return None;
        }
        match t.kind {
            Kind::Open(_) => depth += 1,
            Kind::Close(_) if depth == 0 => return None,
            Kind::Close(_) => depth -= 1,
            Kind::Ident
                if depth == 0 && t.span.of(text) == "script" && lx.is_op(k + 1, ":", text) =>
            {
                return lx.string(k + 2);
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// The occurrence as pulled through a registry other than Docker Hub: the plugin prefixes the
/// registry's host, so the bytes no longer spell the whole reference.
fn with_registry(mut occ: ImageOccurrence, (url, url_span): &(String, Span)) -> ImageOccurrence {
    let host = url
        .split_once("://")
        .map_or(url.as_str(), |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or("");
    if host.is_empty() || DOCKER_HUB.contains(&host) {
        return occ;
    }
    let Ok(image) = &occ.image else {
        return occ;
    };
    if image.starts_with(&format!("{host}/")) {
        return occ;
    }
    let full = format!("{host}/{image}");
    let mut origins = vec![Origin {
        name: "registryUrl".to_string(),
        span: *url_span,
    }];
    if let Form::Expanded { origins: o } = &occ.form {
        origins.extend(o.iter().cloned());
    }
    occ.image = Ok(full);
    occ.form = Form::Expanded { origins };
    occ.exact = false;
    occ
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus;

    type Row<'t> = (&'t str, Result<String, String>, Source, bool);

    fn rows(t: &str) -> Vec<Row<'_>> {
        extract(t)
            .images
            .iter()
            .map(|o| {
                assert_eq!(o.text, o.span.of(t));
                (
                    o.span.of(t),
                    o.image.clone().map_err(|e| e.reason),
                    o.source,
                    o.exact,
                )
            })
            .collect()
    }

    fn images(t: &str) -> Vec<&str> {
        rows(t).into_iter().map(|r| r.0).collect()
    }

    fn ok(s: &str) -> Result<String, String> {
        Ok(s.to_string())
    }

    const KICS: &str = r#"docker run --rm -v "$PWD:/path" checkmarx/kics:latest scan -p /path"#;

    #[test]
    fn declarative_agents_and_sh_steps() {
        let t = format!(
            "// agent {{ docker 'commented/out:1' }}\n\
pipeline {{\n\
  agent {{\n\
    docker {{\n\
      image 'maven:3.9-eclipse-temurin-21'\n\
      args '-v $HOME/.m2:/root/.m2'\n\
    }}\n\
  }}\n\
  stages {{\n\
    stage('scan') {{\n\
      agent {{ docker 'aquasec/trivy:0.69.4' }}\n\
      steps {{\n\
        sh '{KICS}'\n\
        bat 'docker pull windows/only:1'\n\
        powershell 'docker pull windows/only:2'\n\
        /* sh 'docker pull commented/out:2' */\n\
        echo 'docker pull not/a:command'\n\
      }}\n\
    }}\n\
    stage(\"map\") {{\n\
      agent {{ docker {{ image: 'node:22-alpine'; args: '-u root' }} }}\n\
      steps {{ sh(script: 'docker pull redis:7', returnStdout: true) }}\n\
    }}\n\
    stage('built') {{\n\
      agent {{ dockerfile {{ filename 'Dockerfile.ci'; additionalBuildArgs '--build-arg B=x:1' }} }}\n\
      steps {{ sh label: 'pull', script: \"docker pull busybox:1\" }}\n\
    }}\n\
  }}\n\
}}\n"
        );
        let got = rows(&t);
        assert_eq!(
            got,
            [
                (
                    "maven:3.9-eclipse-temurin-21",
                    ok("maven:3.9-eclipse-temurin-21"),
                    Source::JenkinsAgent,
                    true
                ),
                (
                    "aquasec/trivy:0.69.4",
                    ok("aquasec/trivy:0.69.4"),
                    Source::JenkinsAgent,
                    true
                ),
                (
                    "checkmarx/kics:latest",
                    ok("checkmarx/kics:latest"),
                    Source::JenkinsShCommand,
                    true
                ),
                (
                    "node:22-alpine",
                    ok("node:22-alpine"),
                    Source::JenkinsAgent,
                    true
                ),
                ("redis:7", ok("redis:7"), Source::JenkinsShCommand, true),
                ("busybox:1", ok("busybox:1"), Source::JenkinsShCommand, true),
            ]
        );
        let out = extract(&t);
        assert_eq!(out.images[0].context, None);
        assert_eq!(out.images[1].context.as_deref(), Some("stage scan"));
        assert_eq!(out.images[2].context.as_deref(), Some("stage scan"));
        assert_eq!(out.images[3].context.as_deref(), Some("stage map"));
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn groovy_variables() {
        let t = "def TRIVY = 'aquasec/trivy:0.69.4'\n\
def TAG = params.TAG\n\
pipeline {\n\
  environment {\n\
    KICS = 'checkmarx/kics:latest'\n\
    DYN = \"${BUILD_ID}\"\n\
  }\n\
  agent { docker { image \"${TRIVY}\" } }\n\
  stages {\n\
    stage('s') {\n\
      steps {\n\
        sh 'docker run --rm -v \"$PWD:/path\" $KICS scan -p /path'\n\
        sh \"docker run --rm ${env.KICS} x\"\n\
        sh 'docker run --rm $TRIVY x'\n\
        sh \"docker pull app:${TAG}\"\n\
        sh \"docker pull \\${KICS}\"\n\
        script { docker.image(TRIVY).inside { sh 'trivy --version' } }\n\
      }\n\
    }\n\
  }\n\
}\n";
        let out = extract(t);
        let got = rows(t);
        let brief: Vec<_> = got.iter().map(|r| (r.0, r.1.clone().ok())).collect();
        assert_eq!(
            brief,
            [
                ("${TRIVY}", Some("aquasec/trivy:0.69.4".to_string())),
                ("$KICS", Some("checkmarx/kics:latest".to_string())),
                ("${env.KICS}", Some("checkmarx/kics:latest".to_string())),
                // A `def` is a Groovy variable: the shell does not see it.
                ("$TRIVY", None),
                ("app:${TAG}", None),
                ("\\${KICS}", None),
                ("TRIVY", Some("aquasec/trivy:0.69.4".to_string())),
            ]
        );
        for i in [0, 1, 2, 6] {
            let Form::Expanded { origins } = &out.images[i].form else {
                panic!("{:?}", out.images[i]);
            };
            let want = if i == 0 || i == 6 {
                "aquasec/trivy:0.69.4"
            } else {
                "checkmarx/kics:latest"
            };
            assert_eq!(origins[0].span.of(t), want);
        }
    }

    #[test]
    fn reassigned_variables_are_unresolved() {
        let t = "def IMG = 'a:1'\nif (x) { IMG = 'b:2' }\ndocker.image(IMG).pull()\n\
withEnv(['E=x:1']) { sh 'docker pull $E' }\n";
        let got = rows(t);
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|r| r.1.is_err()));
    }

    #[test]
    fn scripted_docker_and_registries() {
        let t = "node {\n\
  def app = docker.build('acme/app:ci')\n\
  docker.image('acme/app:ci').inside { sh 'make test' }\n\
  docker.image(\"postgres:16\").withRun('-e X=1') { c -> sh 'true' }\n\
  docker.image('redis:7').pull()\n\
  docker.image('acme/app:ci').push()\n\
  docker.withRegistry('https://registry.example.com', 'creds') {\n\
    docker.image('team/tool:2').inside { }\n\
  }\n\
  docker.withRegistry('https://index.docker.io/v1/', 'hub') {\n\
    docker.image('library/alpine:3').pull()\n\
  }\n\
  withDockerContainer(image: 'gradle:8', args: '-u 0') { sh 'gradle build' }\n\
  sh 'docker build -t local/x . && docker run --rm local/x'\n\
}\n";
        let out = extract(t);
        let got = rows(t);
        let brief: Vec<_> = got.iter().map(|r| (r.0, r.1.clone().ok(), r.2)).collect();
        assert_eq!(
            brief,
            [
                (
                    "postgres:16",
                    Some("postgres:16".to_string()),
                    Source::JenkinsDockerImage
                ),
                (
                    "redis:7",
                    Some("redis:7".to_string()),
                    Source::JenkinsDockerImage
                ),
                (
                    "team/tool:2",
                    Some("registry.example.com/team/tool:2".to_string()),
                    Source::JenkinsDockerImage
                ),
                (
                    "library/alpine:3",
                    Some("library/alpine:3".to_string()),
                    Source::JenkinsDockerImage
                ),
                (
                    "gradle:8",
                    Some("gradle:8".to_string()),
                    Source::JenkinsDockerImage
                ),
            ]
        );
        assert!(!out.images[2].exact);
        assert!(out.images[3].exact);
    }

    #[test]
    fn agent_registry_url() {
        let t = "pipeline { agent { docker {\n  image 'maven:3'\n  registryUrl 'https://myregistry.example.com/'\n  registryCredentialsId 'c'\n} } }\n";
        let got = rows(t);
        assert_eq!(got[0].1, ok("myregistry.example.com/maven:3"));
        assert!(!got[0].3);
    }

    #[test]
    fn kubernetes_agents() {
        let t = "podTemplate(yaml: '''\n    apiVersion: v1\n    kind: Pod\n    spec:\n      containers:\n      - name: kics\n        image: checkmarx/kics:latest\n      - name: jnlp\n        image: \"jenkins/inbound-agent:3283.v92c105e0f819-1\"\n''', containers: [containerTemplate(name: 'go', image: 'golang:1.23', command: 'sleep')]) {\n\
  node(POD_LABEL) { container('kics') { sh 'kics scan -p .' } }\n\
}\n\
pipeline {\n\
  agent {\n\
    kubernetes {\n\
      yamlFile 'ci/pod.yaml'\n\
      containerTemplate {\n\
        name 'shell'\n\
        image 'ubuntu:24.04'\n\
      }\n\
      containerTemplate name: 'py', image: 'python:3.13', ttyEnabled: true\n\
    }\n\
  }\n\
}\n\
podTemplate(yaml: \"\"\"\nspec:\n  containers:\n  - image: x/${V}\n\"\"\") {}\n";
        let out = extract(t);
        let got = rows(t);
        assert_eq!(
            got.iter().map(|r| (r.0, r.2)).collect::<Vec<_>>(),
            [
                ("checkmarx/kics:latest", Source::KubernetesContainer),
                (
                    "jenkins/inbound-agent:3283.v92c105e0f819-1",
                    Source::KubernetesContainer
                ),
                ("golang:1.23", Source::JenkinsAgent),
                ("ubuntu:24.04", Source::JenkinsAgent),
                ("python:3.13", Source::JenkinsAgent),
            ]
        );
        assert!(got.iter().all(|r| r.3 && r.1.as_deref() == Ok(r.0)));
        assert_eq!(out.images[0].context.as_deref(), Some("kics"));
        let notes: Vec<_> = out.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("ci/pod.yaml"));
        assert!(notes[1].contains("interpolation"));
    }

    #[test]
    fn strings_escapes_and_crlf() {
        let t = "pipeline {\r\n  agent { docker { image 'alpine:3' } }\r\n  stages { stage('a') { steps {\r\n    sh '''\r\n      docker run --rm \\\\\r\n        -v \"$PWD:/path\" \\\\\r\n        checkmarx/kics:latest scan -p /path\r\n    '''\r\n    sh 'docker pull it\\'s/not:1'\r\n    sh \"docker pull al\\u0070ine:3.20\"\r\n  } } }\r\n}\r\n";
        let got = rows(t);
        assert_eq!(got[0].0, "alpine:3");
        assert_eq!(got[1].0, "checkmarx/kics:latest");
        assert!(got[1].3);
        // An escape inside the word: the value is known, the bytes are not the reference.
        let last = got.last().unwrap();
        assert_eq!(last.1, ok("alpine:3.20"));
        assert!(!last.3);
    }

    #[test]
    fn slashy_strings_and_division() {
        let t = "def re = /docker pull x:1/\ndef n = a / b / c\nsh 'docker pull y:2'\ndef d = $/ $$ 'q' /$\nsh 'docker pull z:3'\n";
        assert_eq!(images(t), ["y:2", "z:3"]);
    }

    #[test]
    fn hostile_input() {
        for t in [
            "",
            "'",
            "\"",
            "'''",
            "\"\"\"${",
            "/*",
            "$/",
            "sh",
            "sh(",
            "sh script:",
            "docker.image(",
            "image",
            "image:",
            "yaml '''",
            "agent { docker { image",
            "sh \"docker pull ${\"",
            "é sh 'docker pull é'",
            "\"\\u12\"",
            "}}}}))))",
        ] {
            for o in extract(t).images {
                assert_eq!(o.text, o.span.of(t));
            }
        }
        let deep = "{".repeat(100_000) + "docker { image 'a:1' }" + &"}".repeat(100_000);
        assert_eq!(extract(&deep).images.len(), 1);
        // Unclosed calls: each search for the arguments is bounded.
        let unclosed = "docker.image(x\nsh(script\n".repeat(30_000);
        let _ = extract(&unclosed);
        let many = "sh 'docker pull a:1'\n".repeat(20_000);
        assert_eq!(extract(&many).images.len(), 20_000);
        let out = extract("pipeline { agent { docker { image 'a:1\n} } }");
        assert!(
            out.diagnostics
                .iter()
                .any(|d| d.kind == crate::DiagnosticKind::ParseError)
        );
    }

    #[test]
    fn corpus() {
        let n = test_corpus::check_all("jenkins", extract);
        let files = test_corpus::files("jenkins");
        if files.is_empty() {
            return;
        }
        let get = |p: &str| test_corpus::file(&format!("jenkins/{p}")).unwrap();
        let t = get("cypress-io__cypress-example-kitchensink/Jenkinsfile");
        // The `docker run … jenkinsci/blueocean:latest` in its comments is not a command.
        assert_eq!(images(&t), ["cypress/base:24.18.0"]);
        let t = get("jenkinsci__kubernetes-plugin/examples/selenium.groovy");
        assert_eq!(
            images(&t),
            [
                "maven:3.8.1-jdk-8",
                "maven:3.8.1-jdk-8",
                "selenium/hub:3.141.59",
                "selenium/node-chrome:3.141.59",
                "selenium/node-firefox:3.141.59"
            ]
        );
        let t = get("jenkinsci__kubernetes-plugin/examples/dind.groovy");
        assert_eq!(images(&t), ["docker:19.03.1", "docker:19.03.1-dind"]);
        let t = get(
            "jenkinsci__kubernetes-plugin/src/main/resources/org/csanchez/jenkins/plugins/kubernetes/pipeline/samples/windows.groovy",
        );
        assert_eq!(
            images(&t),
            [
                "jenkins/inbound-agent:windowsservercore-1809",
                "mcr.microsoft.com/powershell:preview-windowsservercore-1809"
            ]
        );
        let t = get(
            "jenkinsci__pipeline-examples/declarative-examples/jenkinsfile-examples/mavenDocker.groovy",
        );
        assert_eq!(images(&t), ["maven:3.5.0-jdk-8", "maven:3.5.0-jdk-8"]);
        let t = get(
            "jenkinsci__docker-workflow-plugin/src/test/resources/org/jenkinsci/plugins/docker/workflow/declarative/agentDockerWithRegistryNoCreds.groovy",
        );
        assert_eq!(rows(&t)[0].1, ok("httpd:2.4.59"));
        assert!(rows(&t)[0].3);
        for p in [
            "jenkinsci__docker-workflow-plugin/src/test/resources/org/jenkinsci/plugins/docker/workflow/declarative/fromDockerfile.groovy",
            "jenkinsci__pipeline-examples/declarative-examples/simple-examples/dockerfileDefault.groovy",
            "jenkinsci__docker/Jenkinsfile",
            "jenkinsci__kubernetes-plugin/Jenkinsfile",
        ] {
            assert!(images(&get(p)).is_empty(), "{p}");
        }
        for (path, text) in &files {
            let out = extract(text);
            assert!(
                out.images.iter().all(|o| o.exact && o.image.is_ok()),
                "{path:?}"
            );
            assert!(
                out.diagnostics
                    .iter()
                    .all(|d| d.kind == crate::DiagnosticKind::Note),
                "{path:?}: {:?}",
                out.diagnostics
            );
        }
        // 10 agent images and 14 containers of inline pod YAML; no sh step runs a container.
        assert_eq!(n, 24);
    }
}
