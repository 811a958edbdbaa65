//! A whole script read as the shell runs it: the images its container commands name, with the
//! variables in them expanded from what the script assigns (read by [`assignments`]) and what it
//! inherits (a CI step's `env:`, a job's `variables:`). One reader for shell files, Makefile
//! recipes' shell lines and every script a CI file holds.
//!
//! A variable in an operand (`docker run "$IMAGE"`, `checkmarx/kics:${KICS_TAG}`,
//! `${IMAGE:-default}`) is expanded when the script assigns it exactly once, at top level, to a
//! literal (`IMAGE=x`, `export IMAGE="x"`, `IMAGE=${IMAGE:-x}`, `: "${IMAGE:=x}"`), its origin
//! that literal; a variable the script does not assign takes the inherited value, its origin
//! where that value is written. One assigned more than once, inside a function or conditional,
//! or from an expansion makes the operand unresolved; one nobody sets leaves only its
//! `${X:-default}`. A reference to a variable whose value is a container engine (`$DOCKER run
//! x`) is read as that engine. Images the script builds itself (`docker build -t name`) are not
//! reported when it runs them.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{ShellImage, ShellImageKind, assignments, built_images, commands, is_built, is_engine};
use crate::read::vars::{self, Syntax, Value};
use crate::{Form, ImageOccurrence, Origin, Source, Span, Unresolved};

/// Whose variable syntax a script is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// The shell's: `$NAME`, `${NAME}`.
    Shell,
    /// A Makefile recipe's: make expands `$(NAME)` / `${NAME}` first, `$$` is a `$` for the shell.
    Make,
}

/// The value a script inherits for a variable, and where that value is written in the file.
pub type Inherited<'a> = &'a dyn Fn(&str) -> Option<Value>;

/// Maps a span of the script to the file, when the script's bytes are written there verbatim.
pub type ToFile<'a> = &'a dyn Fn(Span) -> Option<Span>;

/// What a file says of each variable it defines: its one literal definition (the value and
/// where it is written), or that it has none (several definitions, or one that is not literal).
#[derive(Debug, Default)]
pub struct Definitions {
    by_name: HashMap<String, Option<(String, Span)>>,
}

impl Definitions {
    /// Records a definition; a second one makes the value unknown.
    pub fn add(&mut self, name: &str, literal: Option<(String, Span)>) {
        match self.by_name.get_mut(name) {
            Some(known) => *known = None,
            None => {
                self.by_name.insert(name.to_string(), literal);
            }
        }
    }

    /// `None` when the variable is not defined; `Some(None)` when its value is not known.
    pub fn get(&self, name: &str) -> Option<Option<&(String, Span)>> {
        self.by_name.get(name).map(Option::as_ref)
    }

    /// True when the variable is defined but its value is not known.
    pub fn unknown(&self, name: &str) -> bool {
        self.get(name).is_some_and(|d| d.is_none())
    }
}

/// The variables a script's commands see.
pub struct Variables<'a> {
    /// The script's own assignments, spans in the script; only top-level ones can be literal.
    own: Definitions,
    inherited: Inherited<'a>,
    to_file: ToFile<'a>,
}

impl<'a> Variables<'a> {
    /// The variables of `script`, over those it inherits; `to_file` places the script's spans.
    pub fn new(script: &str, inherited: Inherited<'a>, to_file: ToFile<'a>) -> Self {
        let mut own = Definitions::default();
        for a in assignments(script, 0) {
            own.add(&a.name, a.literal.filter(|_| a.top_level));
        }
        Self {
            own,
            inherited,
            to_file,
        }
    }

    /// The value of a variable, with its origin in the file when it has one there.
    fn literal(&self, name: &str) -> Option<Value> {
        let origin = |span: Span| Origin {
            name: name.to_string(),
            span,
        };
        match self.own.get(name) {
            Some(Some((value, span))) => Some(Value {
                value: value.clone(),
                origin: (self.to_file)(*span).map(origin),
            }),
            Some(None) => None,
            None => (self.inherited)(name),
        }
    }

    /// True when the script assigns the variable but its value is not known.
    fn unknown(&self, name: &str) -> bool {
        self.own.unknown(name)
    }

    /// The value of an operand written with variables at `at` in the script, and the definitions
    /// it came from; or why it is not known (empty: the lexer's own reason stands). Double
    /// quotes inside the word only group (`"${REPO}:${TAG}"`); single quotes, escapes and command
    /// substitutions are not evaluated.
    pub fn expand(&self, raw: &str, at: usize) -> Result<(String, Vec<Origin>), String> {
        if raw.contains(['\'', '\\', '`']) || raw.contains("$(") {
            return Err(String::new());
        }
        if let Some(name) = referenced_names(raw).find(|n| self.unknown(n)) {
            return Err(format!(
                "variable {name} is assigned more than once, conditionally or from an expansion"
            ));
        }
        // The word without its double quotes; `positions` gives each byte's offset in `raw`.
        let mut unquoted = String::with_capacity(raw.len());
        let mut positions = Vec::with_capacity(raw.len());
        for (i, c) in raw.char_indices().filter(|(_, c)| *c != '"') {
            unquoted.push(c);
            positions.extend(i..i + c.len_utf8());
        }
        // A span of `unquoted` to the file, when it is one run of the script's bytes.
        let place = |s: Span| {
            let start = *positions.get(s.start)?;
            let end = if s.end == s.start {
                start
            } else {
                positions.get(s.end - 1)? + 1
            };
            (end - start == s.len())
                .then(|| (self.to_file)(Span::new(at + start, at + end)))
                .flatten()
        };
        let expanded =
            vars::expand_placed(&unquoted, &place, Syntax::default(), &|n| self.literal(n))
                .map_err(|u| u.reason)?;
        if !super::looks_like_image(&expanded.value) {
            return Err(format!(
                "{raw} expands to {:?}, which is not an image reference",
                expanded.value
            ));
        }
        Ok((expanded.value, expanded.origins))
    }

    /// The literal value of a variable the script or its inheritance sets, without its origin.
    fn value(&self, name: &str) -> Option<String> {
        self.literal(name).map(|v| v.value)
    }
}

/// The names of `$NAME` and `${NAME…}` references in shell text (a name may start with a
/// digit: `$1`).
pub fn referenced_names(raw: &str) -> impl Iterator<Item = &str> {
    raw.match_indices('$').filter_map(move |(i, _)| {
        let rest = raw.get(i + 1..)?;
        let rest = rest.strip_prefix('{').unwrap_or(rest);
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        rest.get(..end).filter(|n| !n.is_empty())
    })
}

/// An image a script names, resolved as far as its variables allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptImage {
    /// Where the operand is written in the script.
    pub span: Span,
    pub image: Result<String, String>,
    /// The definitions substituted into it: `None` for a literal operand.
    pub origins: Option<Vec<Origin>>,
    /// True when `span` holds exactly the image, so a rewrite may splice it.
    pub exact: bool,
    pub kind: ShellImageKind,
}

impl ScriptImage {
    /// The occurrence of this image, its span already one of `file` (`source` names the
    /// construct for an image operand; a build context is a build context wherever it is).
    pub fn occurrence(self, file: &str, source: Source, context: Option<&str>) -> ImageOccurrence {
        ImageOccurrence {
            span: self.span,
            text: self.span.of(file).to_string(),
            image: self.image.map_err(Unresolved::new),
            source: match self.kind {
                ShellImageKind::Operand => source,
                ShellImageKind::BuildContext => Source::BuildContext,
            },
            form: match self.origins {
                None => Form::Literal,
                Some(origins) => Form::Expanded { origins },
            },
            alias_sites: Vec::new(),
            context: context.map(str::to_string),
            exact: self.exact,
        }
    }
}

/// How deep scripts handed to `sh -c` are followed.
const MAX_NESTED_SCRIPTS: usize = 2;

/// The images `script` names (offsets in the script), except those it or its job builds
/// (`built`, as written or resolved); scripts its commands hand to `sh -c '…'` too, read with
/// what the script inherits.
pub fn script_images(script: &str, vars: &Variables<'_>, built: &[String]) -> Vec<ScriptImage> {
    nested_images(script, vars, built, 0)
}

fn nested_images(
    script: &str,
    vars: &Variables<'_>,
    built: &[String],
    depth: usize,
) -> Vec<ScriptImage> {
    let mut found = own_images(script, vars, built);
    if depth >= MAX_NESTED_SCRIPTS {
        return found;
    }
    for inner in super::shell_c_scripts(script) {
        let to_file =
            |s: Span| (vars.to_file)(Span::new(s.start + inner.start, s.end + inner.start));
        let inner_vars = Variables::new(inner.of(script), vars.inherited, &to_file);
        for mut f in nested_images(inner.of(script), &inner_vars, built, depth + 1) {
            f.span = Span::new(f.span.start + inner.start, f.span.end + inner.start);
            found.push(f);
        }
    }
    found
}

/// The images the commands of `script` itself name.
fn own_images(script: &str, vars: &Variables<'_>, built: &[String]) -> Vec<ScriptImage> {
    let lexed = lexing_text(script, Dialect::Shell, &|n| vars.value(n));
    let built_raw = built_images(&lexed);
    let mut built_values: Vec<String> = built.to_vec();
    built_values.extend(
        built_raw
            .iter()
            .filter_map(|r| vars.expand(r, 0).ok().map(|(v, _)| v)),
    );
    let mut found = Vec::new();
    for f in commands(&lexed, 0) {
        let raw = f.span.of(script);
        if built_raw
            .iter()
            .chain(built)
            .any(|b| b == f.span.of(&lexed))
        {
            continue;
        }
        let image = resolve(f, raw, vars);
        let built_here = image.kind == ShellImageKind::Operand
            && image
                .image
                .as_ref()
                .is_ok_and(|i| is_built(i, &built_values));
        if !built_here {
            found.push(image);
        }
    }
    found
}

/// One operand found by [`commands`], its variables expanded.
fn resolve(f: ShellImage, raw: &str, vars: &Variables<'_>) -> ScriptImage {
    let (image, origins) = match f.image {
        Ok(image) => (Ok(image), None),
        Err(reason) => match vars.expand(raw, f.span.start) {
            Ok((value, origins)) => (Ok(value), Some(origins)),
            Err(why) => (
                Err(if why.is_empty() { reason } else { why }),
                Some(Vec::new()),
            ),
        },
    };
    ScriptImage {
        span: f.span,
        image,
        exact: f.exact && origins.is_none(),
        origins,
        kind: f.kind,
    }
}

/// The text the shell lexer reads, byte for byte at the script's offsets. In a Makefile every
/// `$(…)` is written `${…}`, so that the lexer keeps it in one word as make does. A reference to
/// a variable whose literal value is a container engine is replaced by that value padded with
/// spaces, so that `$DOCKER run x` and `$(DOCKER) run x` are read as `docker run x`.
pub fn lexing_text<'t>(
    text: &'t str,
    dialect: Dialect,
    value: &dyn Fn(&str) -> Option<String>,
) -> Cow<'t, str> {
    let b = text.as_bytes();
    let mut lexed: Option<Vec<u8>> = None;
    let mut i = 0;
    while let Some(n) = b.get(i..).and_then(|r| memchr::memchr(b'$', r)) {
        i += n;
        let next = b.get(i + 1).copied();
        if dialect == Dialect::Make && next == Some(b'$') {
            i += 2;
            continue;
        }
        if dialect == Dialect::Make
            && next == Some(b'(')
            && let Some(close) = matching_paren(b, i + 1)
        {
            let bytes = lexed.get_or_insert_with(|| b.to_vec());
            bytes[i + 1] = b'{';
            bytes[close] = b'}';
        }
        if let Some((len, name)) = plain_reference(text, i, dialect)
            && let Some(v) = value(name)
            && is_engine(&v)
            && v.len() <= len
            && v.is_ascii()
        {
            let bytes = lexed.get_or_insert_with(|| b.to_vec());
            let padded = v.bytes().chain(std::iter::repeat(b' '));
            for (slot, c) in bytes.iter_mut().skip(i).take(len).zip(padded) {
                *slot = c;
            }
        }
        i += 1;
    }
    match lexed {
        // Only ASCII bytes were replaced by ASCII bytes: still UTF-8.
        Some(bytes) => Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())),
        None => Cow::Borrowed(text),
    }
}

/// The `)` matching the `(` at `open`, counting nesting, within one line.
fn matching_paren(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(k);
                }
            }
            b'\n' => return None,
            _ => {}
        }
    }
    None
}

/// A reference to one variable by name at `i` (`$NAME`, `${NAME}`, and in make `$(NAME)`): its
/// length and the name.
fn plain_reference(text: &str, i: usize, dialect: Dialect) -> Option<(usize, &str)> {
    let rest = text.get(i + 1..)?;
    let close = match rest.as_bytes().first()? {
        b'{' => Some('}'),
        b'(' if dialect == Dialect::Make => Some(')'),
        _ if dialect == Dialect::Shell => None,
        _ => return None,
    };
    let body = if close.is_some() {
        rest.get(1..)?
    } else {
        rest
    };
    let len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .unwrap_or(body.len());
    let name = body.get(..len).filter(|n| !n.is_empty())?;
    match close {
        Some(c) => body.get(len..)?.starts_with(c).then_some((len + 3, name)),
        None => {
            let shell_len = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(name.len());
            name.get(..shell_len)
                .filter(|n| !n.is_empty())
                .map(|n| (n.len() + 1, n))
        }
    }
}
