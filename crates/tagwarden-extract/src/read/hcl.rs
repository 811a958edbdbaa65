//! A small, span-keeping reader of HCL's native syntax (Terraform, Docker Bake, Nomad jobspecs).
//!
//! It builds a tree of bodies (attributes `name = expr` and blocks `type "label" { … }`) whose
//! expressions keep their byte spans. Only the shapes the extractors look into are built in
//! detail: string templates (`"…"` with escapes, `${…}` interpolations and `%{…}` directives),
//! heredocs (`<<EOF`, `<<-EOF`), objects, tuples, function calls and simple traversals
//! (`var.x`, `local.y`). Every other expression (operators, conditionals, `for` expressions,
//! splats) is kept as an opaque span.
//!
//! Parsing never fails: errors are recorded with their byte offset and the parser skips to the
//! next line. Nesting is bounded by [`MAX_DEPTH`]; each node consumes at least one byte, so the
//! tree is at most linear in the input.

use crate::read::yaml::{NodeKind, NodeRef, Style};
use crate::{Origin, Span, Unresolved};

/// Deeper nesting than this is refused: no real configuration needs it.
pub const MAX_DEPTH: usize = 128;
/// Errors kept per parse; later ones add nothing a reader can act on.
const MAX_ERRORS: usize = 16;

/// A parse error at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Where the problem is, in bytes from the start of the text.
    pub offset: usize,
    /// What is wrong, for a reader.
    pub message: String,
}

/// A parsed file (or a parsed part of one, such as a heredoc holding a jobspec).
#[derive(Clone, Debug, Default)]
pub struct File {
    /// What was read (everything but the lines that did not parse).
    pub body: Body,
    /// The problems met, in order (at most a few).
    pub errors: Vec<Error>,
}

/// The attributes and blocks of a file or of a block, in order.
#[derive(Clone, Debug, Default)]
pub struct Body {
    /// Attributes and blocks as written.
    pub items: Vec<Item>,
}

/// One entry of a body.
#[derive(Clone, Debug)]
pub enum Item {
    /// `name = value`
    Attribute(Attribute),
    /// `kind "label" { … }`
    Block(Block),
}

/// `name = value`
#[derive(Clone, Debug)]
pub struct Attribute {
    /// The attribute's name.
    pub name: String,
    /// Where the name is written.
    pub name_span: Span,
    /// Its value.
    pub value: Expr,
}

/// `kind "label" label { body }`
#[derive(Clone, Debug)]
pub struct Block {
    /// The block type (`resource`, `target`, `container`).
    pub kind: String,
    /// Where the type is written.
    pub kind_span: Span,
    /// The labels' values and where they are written (inside the quotes).
    pub labels: Vec<(String, Span)>,
    /// What the braces hold.
    pub body: Body,
}

/// An expression and where it is written.
#[derive(Clone, Debug)]
pub struct Expr {
    /// The expression's bytes (quotes included for a string). For a value read from JSON, where
    /// only strings keep exact bytes, an object or list span is empty at its start.
    pub span: Span,
    /// What it is.
    pub kind: ExprKind,
}

/// What the reader knows of an expression.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// A quoted string or a heredoc.
    Template(Template),
    /// A number, kept as its bytes.
    Number,
    /// `true` or `false`.
    Bool(bool),
    /// `null`
    Null,
    /// `{ key = value, … }`
    Object(Vec<ObjectItem>),
    /// `[a, b, …]`
    Tuple(Vec<Expr>),
    /// `name(args…)`
    Call {
        /// The function's name (`jsonencode`, `provider::p::f`).
        name: String,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// `a.b.c` or `a["b"][0]`: the root name and each step as text.
    Traversal(Vec<String>),
    /// Anything else: operators, conditionals, `for` expressions, splats.
    Other,
    /// Text that did not parse as an expression (the error is recorded).
    Invalid,
}

/// `key = value` (or `key: value`) in an object.
#[derive(Clone, Debug)]
pub struct ObjectItem {
    /// The key.
    pub key: ObjectKey,
    /// The value.
    pub value: Expr,
}

/// An object key: a bare name or literal string, or an expression (`(local.name) = …`).
#[derive(Clone, Debug)]
pub enum ObjectKey {
    /// A bare name or a plain string, and where it is written.
    Name(String, Span),
    /// A computed key.
    Expr(Expr),
}

/// A string template: literal text, interpolations and directives.
#[derive(Clone, Debug, Default)]
pub struct Template {
    /// Literal text, interpolations and directives, in order.
    pub parts: Vec<TemplatePart>,
    /// The bytes between the quotes, or a heredoc's lines between its header and terminator.
    pub content: Span,
    /// Written as a heredoc (`<<EOF`), where a backslash is plain text.
    pub heredoc: bool,
    /// `<<-`: the value has the lines' common indentation removed.
    pub indented: bool,
}

/// One piece of a template.
#[derive(Clone, Debug)]
pub enum TemplatePart {
    /// Literal text, after escapes (`\"`, `$${`) are applied.
    Literal {
        /// The text.
        value: String,
        /// Where it is written.
        span: Span,
        /// True when the bytes at `span` are `value` (no escapes).
        exact: bool,
    },
    /// `${ expr }`; the span is that of the whole `${…}`.
    Interpolation {
        /// The expression inside.
        expr: Expr,
        /// The whole `${…}`.
        span: Span,
    },
    /// `%{ if … }`, `%{ for … }` and their ends.
    Directive(Span),
}

impl Template {
    /// The value when the template is plain text (no interpolation, no directive).
    pub fn literal(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                TemplatePart::Literal { value, .. } => s.push_str(value),
                _ => return None,
            }
        }
        if self.heredoc && self.indented {
            return Some(strip_indent(&s));
        }
        Some(s)
    }

    /// The bytes holding the value exactly, when the template is one escape-free literal.
    pub fn exact_span(&self) -> Option<Span> {
        if self.heredoc && self.indented {
            return None;
        }
        match self.parts.as_slice() {
            [] => Some(Span::new(self.content.start, self.content.start)),
            [TemplatePart::Literal { span, exact, .. }] => exact.then_some(*span),
            _ => None,
        }
    }

    /// True when the raw content has no escape sequences, so it can be read as written (by a
    /// shell lexer or a JSON parser) at its own offsets.
    pub fn raw_is_value(&self) -> bool {
        self.parts.iter().all(|p| match p {
            TemplatePart::Literal { exact, .. } => *exact,
            _ => true,
        })
    }
}

impl Body {
    /// The attributes, in order.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute> {
        self.items.iter().filter_map(|i| match i {
            Item::Attribute(a) => Some(a),
            Item::Block(_) => None,
        })
    }

    /// The blocks, in order.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.items.iter().filter_map(|i| match i {
            Item::Block(b) => Some(b),
            Item::Attribute(_) => None,
        })
    }

    /// The value of the attribute `name` (the last one, as a duplicate is an error in HCL).
    pub fn attribute(&self, name: &str) -> Option<&Expr> {
        self.attributes()
            .filter(|a| a.name == name)
            .last()
            .map(|a| &a.value)
    }
}

impl Expr {
    /// The template, when the expression is a string or heredoc.
    pub fn as_template(&self) -> Option<&Template> {
        match &self.kind {
            ExprKind::Template(t) => Some(t),
            _ => None,
        }
    }

    /// The value of a plain-text string.
    pub fn as_literal(&self) -> Option<String> {
        self.as_template()?.literal()
    }

    /// The value under `key` when the expression is an object with that literal key.
    pub fn get(&self, key: &str) -> Option<&Expr> {
        match &self.kind {
            ExprKind::Object(items) => items
                .iter()
                .rev()
                .find(|i| matches!(&i.key, ObjectKey::Name(k, _) if k == key))
                .map(|i| &i.value),
            _ => None,
        }
    }
}

impl ObjectKey {
    /// The key's name, when it is a literal.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Name(n, _) => Some(n),
            Self::Expr(_) => None,
        }
    }
}

/// Parses a whole file.
pub fn parse(src: &str) -> File {
    parse_range(src, 0, src.len())
}

/// Parses the body written in `src[start..end]` (a heredoc's lines, say); spans are offsets in
/// `src`.
pub fn parse_range(src: &str, start: usize, end: usize) -> File {
    let end = end.min(src.len());
    let mut p = Parser {
        b: src.as_bytes(),
        src,
        pos: start.min(end),
        end,
        depth: 0,
        errors: Vec::new(),
    };
    let body = p.body(false);
    if p.pos < p.end {
        p.error(p.pos, "unexpected '}'");
    }
    File {
        body,
        errors: p.errors,
    }
}

/// Reads `src[span]` as the inside of a quoted template (the bytes between the quotes, as a JSON
/// string in a `.tf.json` file is one). Returns None when it does not parse.
pub fn template_in(src: &str, span: Span) -> Option<Template> {
    let end = span.end.min(src.len());
    let mut p = Parser {
        b: src.as_bytes(),
        src,
        pos: span.start.min(end),
        end,
        depth: 0,
        errors: Vec::new(),
    };
    let parts = p.template_parts(Close::End, false, span.start)?;
    p.errors.is_empty().then_some(Template {
        parts,
        content: Span::new(span.start, end),
        heredoc: false,
        indented: false,
    })
}

/// Removes the common leading white space of the lines (`<<-` heredocs).
fn strip_indent(s: &str) -> String {
    let indent = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    s.split_inclusive('\n')
        .map(|l| l.get(indent..).unwrap_or(l.trim_start_matches([' ', '\t'])))
        .collect()
}

/// Where a template ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Close {
    /// At the closing `"` (a quoted string).
    Quote,
    /// At the parser's end (heredoc content, a JSON string's inside).
    End,
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    end: usize,
    depth: usize,
    errors: Vec<Error>,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c >= 0x80
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        (self.pos < self.end).then(|| self.b[self.pos])
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        let i = self.pos + n;
        (i < self.end).then(|| self.b[i])
    }

    fn starts_with(&self, s: &str) -> bool {
        self.b
            .get(self.pos..self.end)
            .is_some_and(|r| r.starts_with(s.as_bytes()))
    }

    fn text(&self, from: usize, to: usize) -> &'a str {
        self.src.get(from..to).unwrap_or("")
    }

    fn error(&mut self, offset: usize, message: impl Into<String>) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(Error {
                offset,
                message: message.into(),
            });
        }
    }

    /// Skips spaces, tabs, comments and (when `newlines`) line breaks. A `#`/`//` comment ends
    /// at its line break, which is kept unless `newlines`.
    fn skip_space(&mut self, newlines: bool) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' if newlines => self.pos += 1,
                b'#' => self.skip_line_comment(),
                b'/' if self.peek_at(1) == Some(b'/') => self.skip_line_comment(),
                b'/' if self.peek_at(1) == Some(b'*') => {
                    let from = self.pos;
                    let rest = &self.b[self.pos + 2..self.end];
                    match memchr::memmem::find(rest, b"*/") {
                        Some(n) => self.pos += 2 + n + 2,
                        None => {
                            self.error(from, "unterminated comment /* … */");
                            self.pos = self.end;
                        }
                    }
                }
                _ => break,
            }
        }
    }

    fn skip_line_comment(&mut self) {
        let rest = &self.b[self.pos..self.end];
        self.pos = memchr::memchr(b'\n', rest).map_or(self.end, |n| self.pos + n);
    }

    /// Skips to the start of the next line (error recovery).
    fn skip_to_next_line(&mut self) {
        let rest = &self.b[self.pos..self.end];
        self.pos = memchr::memchr(b'\n', rest).map_or(self.end, |n| self.pos + n + 1);
    }

    fn ident(&mut self) -> Option<(String, Span)> {
        let start = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        while self.peek().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        // Stay on a character boundary: identifiers may hold non-ASCII letters.
        while !self.src.is_char_boundary(self.pos) && self.pos < self.end {
            self.pos += 1;
        }
        Some((
            self.text(start, self.pos).to_string(),
            Span::new(start, self.pos),
        ))
    }

    /// A body, up to a `}` (left unconsumed) when `nested`, else to the end.
    fn body(&mut self, nested: bool) -> Body {
        let mut items = Vec::new();
        loop {
            self.skip_space(true);
            let Some(c) = self.peek() else { break };
            if c == b'}' {
                if nested {
                    break;
                }
                // A stray closing brace at the top: report it and go on with the next line.
                self.error(self.pos, "unexpected '}'");
                self.skip_to_next_line();
                continue;
            }
            let at = self.pos;
            let Some((name, name_span)) = self.ident() else {
                self.error(at, "expected an attribute name or a block type");
                self.skip_to_next_line();
                continue;
            };
            self.skip_space(false);
            if self.peek() == Some(b'=') && self.peek_at(1) != Some(b'=') {
                self.pos += 1;
                let value = self.expr(false);
                items.push(Item::Attribute(Attribute {
                    name,
                    name_span,
                    value,
                }));
                self.end_of_item();
                continue;
            }
            if let Some(block) = self.block(name, name_span) {
                items.push(Item::Block(block));
            }
        }
        Body { items }
    }

    /// After an attribute: only a comment, a line break, `}` or the end may follow.
    fn end_of_item(&mut self) {
        self.skip_space(false);
        match self.peek() {
            None | Some(b'}') => {}
            Some(b'\n') => self.pos += 1,
            Some(_) => {
                self.error(
                    self.pos,
                    "expected a line break after the attribute's value",
                );
                self.skip_to_next_line();
            }
        }
    }

    fn block(&mut self, kind: String, kind_span: Span) -> Option<Block> {
        let mut labels = Vec::new();
        loop {
            self.skip_space(false);
            match self.peek() {
                Some(b'"') => {
                    let at = self.pos;
                    let t = self.quoted()?;
                    match t.literal() {
                        Some(v) => labels.push((v, t.content)),
                        None => self.error(at, "a block label cannot hold an interpolation"),
                    }
                }
                Some(b'{') => break,
                Some(c) if is_ident_start(c) => {
                    if let Some(l) = self.ident() {
                        labels.push(l);
                    }
                }
                _ => {
                    self.error(
                        kind_span.start,
                        format!("expected '=' or '{{' after {kind:?} (an attribute or a block)"),
                    );
                    self.skip_to_next_line();
                    return None;
                }
            }
        }
        let open = self.pos;
        self.pos += 1;
        if !self.enter(open) {
            return None;
        }
        let body = self.body(true);
        self.depth -= 1;
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            self.error(open, format!("block {kind:?} is not closed"));
        }
        Some(Block {
            kind,
            kind_span,
            labels,
            body,
        })
    }

    /// Enters one level of nesting; false (with an error, input skipped) past [`MAX_DEPTH`].
    fn enter(&mut self, at: usize) -> bool {
        if self.depth >= MAX_DEPTH {
            self.error(at, format!("nesting deeper than {MAX_DEPTH} levels"));
            self.pos = self.end;
            return false;
        }
        self.depth += 1;
        true
    }

    fn opaque(&self, start: usize) -> Expr {
        Expr {
            span: Span::new(start, self.pos.max(start)),
            kind: ExprKind::Other,
        }
    }

    fn invalid(&self, start: usize) -> Expr {
        Expr {
            span: Span::new(start, self.pos.max(start)),
            kind: ExprKind::Invalid,
        }
    }

    /// An expression; `newlines` when line breaks are white space here (inside `(…)`, `[…]`
    /// and `${…}`).
    fn expr(&mut self, newlines: bool) -> Expr {
        self.skip_space(newlines);
        let start = self.pos;
        let first = self.binary(newlines);
        let save = self.pos;
        self.skip_space(newlines);
        if self.peek() == Some(b'?') {
            let at = self.pos;
            self.pos += 1;
            if !self.enter(at) {
                return self.opaque(start);
            }
            self.expr(newlines);
            self.skip_space(newlines);
            if self.peek() == Some(b':') {
                self.pos += 1;
                self.expr(newlines);
            } else {
                self.error(self.pos, "expected ':' in a conditional expression");
            }
            self.depth -= 1;
            return self.opaque(start);
        }
        self.pos = save;
        first
    }

    fn binary(&mut self, newlines: bool) -> Expr {
        let start = self.pos;
        let mut e = self.unary(newlines);
        loop {
            let save = self.pos;
            self.skip_space(newlines);
            let op = match (self.peek(), self.peek_at(1)) {
                (Some(b'=' | b'!'), Some(b'=')) | (Some(b'<' | b'>'), Some(b'=')) => 2,
                (Some(b'&'), Some(b'&')) | (Some(b'|'), Some(b'|')) => 2,
                (Some(b'<'), Some(b'<')) => 0,
                (Some(b'<' | b'>' | b'+' | b'*' | b'/' | b'%'), _) => 1,
                (Some(b'-'), _) => 1,
                _ => 0,
            };
            if op == 0 {
                self.pos = save;
                return e;
            }
            self.pos += op;
            self.skip_space(true);
            let before = self.pos;
            self.unary(newlines);
            if self.pos == before {
                self.error(before, "expected an operand");
                return self.opaque(start);
            }
            e = self.opaque(start);
        }
    }

    fn unary(&mut self, newlines: bool) -> Expr {
        let start = self.pos;
        // A loop, not recursion: `!!!!…` must not grow the stack.
        let mut negated = false;
        while matches!(self.peek(), Some(b'!' | b'-')) {
            self.pos += 1;
            self.skip_space(newlines);
            negated = true;
        }
        let e = self.primary();
        let e = self.postfix(e);
        if negated { self.opaque(start) } else { e }
    }

    fn primary(&mut self) -> Expr {
        let start = self.pos;
        let Some(c) = self.peek() else {
            self.error(start, "expected an expression");
            return self.invalid(start);
        };
        match c {
            b'"' => match self.quoted() {
                Some(t) => Expr {
                    span: Span::new(start, self.pos),
                    kind: ExprKind::Template(t),
                },
                None => self.invalid(start),
            },
            b'<' if self.starts_with("<<") => match self.heredoc() {
                Some(t) => Expr {
                    span: Span::new(start, self.pos),
                    kind: ExprKind::Template(t),
                },
                None => self.invalid(start),
            },
            b'0'..=b'9' => {
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.')
                {
                    // `1e-3`: a sign right after the exponent belongs to the number.
                    let exp = matches!(self.peek(), Some(b'e' | b'E'));
                    self.pos += 1;
                    if exp && matches!(self.peek(), Some(b'+' | b'-')) {
                        self.pos += 1;
                    }
                }
                Expr {
                    span: Span::new(start, self.pos),
                    kind: ExprKind::Number,
                }
            }
            b'{' => self.object(),
            b'[' => self.tuple(),
            b'(' => {
                self.pos += 1;
                if !self.enter(start) {
                    return self.opaque(start);
                }
                let inner = self.expr(true);
                self.depth -= 1;
                self.skip_space(true);
                if self.peek() == Some(b')') {
                    self.pos += 1;
                } else {
                    self.error(self.pos, "expected ')'");
                }
                inner
            }
            c if is_ident_start(c) => {
                let Some((name, _)) = self.ident() else {
                    return self.opaque(start);
                };
                match name.as_str() {
                    "true" | "false" => {
                        return Expr {
                            span: Span::new(start, self.pos),
                            kind: ExprKind::Bool(name == "true"),
                        };
                    }
                    "null" => {
                        return Expr {
                            span: Span::new(start, self.pos),
                            kind: ExprKind::Null,
                        };
                    }
                    _ => {}
                }
                // Provider functions are called as `provider::name::fn(…)`.
                while self.starts_with("::") {
                    self.pos += 2;
                    let _ = self.ident();
                }
                if self.peek() == Some(b'(') {
                    let name = self.text(start, self.pos).to_string();
                    return self.call(start, name);
                }
                Expr {
                    span: Span::new(start, self.pos),
                    kind: ExprKind::Traversal(vec![name]),
                }
            }
            _ => {
                let ch = self.src.get(start..).and_then(|r| r.chars().next());
                self.error(
                    start,
                    format!(
                        "unexpected {:?} where an expression was expected",
                        ch.unwrap_or(c as char)
                    ),
                );
                self.invalid(start)
            }
        }
    }

    fn call(&mut self, start: usize, name: String) -> Expr {
        self.pos += 1;
        if !self.enter(start) {
            return self.opaque(start);
        }
        let mut args = Vec::new();
        loop {
            self.skip_space(true);
            match self.peek() {
                Some(b')') => {
                    self.pos += 1;
                    break;
                }
                None => {
                    self.error(start, format!("call of {name}() is not closed"));
                    break;
                }
                _ => {}
            }
            let before = self.pos;
            args.push(self.expr(true));
            self.skip_space(true);
            if self.starts_with("...") {
                self.pos += 3;
                self.skip_space(true);
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b')') => {}
                _ => {
                    self.error(
                        self.pos,
                        format!("expected ',' or ')' in the call of {name}()"),
                    );
                    self.skip_group_rest(b')');
                    break;
                }
            }
            if self.pos == before {
                break;
            }
        }
        self.depth -= 1;
        Expr {
            span: Span::new(start, self.pos),
            kind: ExprKind::Call { name, args },
        }
    }

    /// `.name`, `.0`, `[key]`, `.*`, `[*]` after an expression.
    fn postfix(&mut self, mut e: Expr) -> Expr {
        let start = e.span.start;
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(b'.'), Some(b'*')) => {
                    self.pos += 2;
                    e = self.opaque(start);
                }
                (Some(b'.'), Some(c)) if is_ident_start(c) || c.is_ascii_digit() => {
                    self.pos += 1;
                    let s = self.pos;
                    while self.peek().is_some_and(is_ident_char) {
                        self.pos += 1;
                    }
                    let step = self.text(s, self.pos).to_string();
                    e = match e.kind {
                        ExprKind::Traversal(mut path) => {
                            path.push(step);
                            Expr {
                                span: Span::new(start, self.pos),
                                kind: ExprKind::Traversal(path),
                            }
                        }
                        _ => self.opaque(start),
                    };
                }
                (Some(b'['), _) => {
                    let open = self.pos;
                    self.pos += 1;
                    if !self.enter(open) {
                        return self.opaque(start);
                    }
                    self.skip_space(true);
                    let key = if self.peek() == Some(b'*') {
                        self.pos += 1;
                        None
                    } else {
                        Some(self.expr(true))
                    };
                    self.depth -= 1;
                    self.skip_space(true);
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                    } else {
                        self.error(self.pos, "expected ']'");
                        return self.opaque(start);
                    }
                    let step = key.and_then(|k| match &k.kind {
                        ExprKind::Template(t) => t.literal(),
                        ExprKind::Number => Some(k.span.of(self.src).to_string()),
                        _ => None,
                    });
                    e = match (e.kind, step) {
                        (ExprKind::Traversal(mut path), Some(step)) => {
                            path.push(step);
                            Expr {
                                span: Span::new(start, self.pos),
                                kind: ExprKind::Traversal(path),
                            }
                        }
                        _ => self.opaque(start),
                    };
                }
                _ => return e,
            }
        }
    }

    /// True when the bytes after an opening bracket start a `for` expression.
    fn at_for(&mut self) -> bool {
        let save = self.pos;
        self.skip_space(true);
        let is_for = self.starts_with("for")
            && matches!(self.peek_at(3), Some(b' ' | b'\t' | b'\n' | b'\r'));
        self.pos = save;
        is_for
    }

    fn object(&mut self) -> Expr {
        let start = self.pos;
        self.pos += 1;
        if !self.enter(start) {
            return self.opaque(start);
        }
        if self.at_for() {
            self.skip_group_rest(b'}');
            self.depth -= 1;
            return self.opaque(start);
        }
        let mut items = Vec::new();
        loop {
            self.skip_space(true);
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                None => {
                    self.error(start, "object is not closed");
                    break;
                }
                _ => {}
            }
            let key_start = self.pos;
            let key = match self.peek() {
                Some(c) if is_ident_start(c) => {
                    let save = self.pos;
                    let ident = self.ident();
                    self.skip_space(false);
                    match (ident, self.peek(), self.peek_at(1)) {
                        (Some((name, span)), Some(b'='), n)
                            if n != Some(b'=') && n != Some(b'>') =>
                        {
                            ObjectKey::Name(name, span)
                        }
                        (Some((name, span)), Some(b':'), _) => ObjectKey::Name(name, span),
                        _ => {
                            self.pos = save;
                            ObjectKey::Expr(self.expr(false))
                        }
                    }
                }
                _ => {
                    let e = self.expr(false);
                    match e.as_literal() {
                        Some(v) => {
                            let span = e.as_template().map_or(e.span, |t| t.content);
                            ObjectKey::Name(v, span)
                        }
                        None => ObjectKey::Expr(e),
                    }
                }
            };
            self.skip_space(false);
            match (self.peek(), self.peek_at(1)) {
                (Some(b'='), n) if n != Some(b'=') => self.pos += 1,
                (Some(b':'), _) => self.pos += 1,
                _ => {
                    self.error(self.pos, "expected '=' or ':' after an object key");
                    if self.pos == key_start {
                        self.pos += 1;
                    }
                    self.skip_group_rest(b'}');
                    break;
                }
            }
            let value = self.expr(false);
            items.push(ObjectItem { key, value });
            self.skip_space(false);
            match self.peek() {
                Some(b',' | b'\n' | b'}') | None => {}
                Some(_) => {
                    self.error(
                        self.pos,
                        "expected ',', a line break or '}' after an object item",
                    );
                    self.skip_group_rest(b'}');
                    break;
                }
            }
        }
        self.depth -= 1;
        Expr {
            span: Span::new(start, self.pos),
            kind: ExprKind::Object(items),
        }
    }

    fn tuple(&mut self) -> Expr {
        let start = self.pos;
        self.pos += 1;
        if !self.enter(start) {
            return self.opaque(start);
        }
        if self.at_for() {
            self.skip_group_rest(b']');
            self.depth -= 1;
            return self.opaque(start);
        }
        let mut items = Vec::new();
        loop {
            self.skip_space(true);
            match self.peek() {
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                None => {
                    self.error(start, "list is not closed");
                    break;
                }
                _ => {}
            }
            items.push(self.expr(true));
            self.skip_space(true);
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {}
                _ => {
                    self.error(self.pos, "expected ',' or ']' in a list");
                    self.skip_group_rest(b']');
                    break;
                }
            }
        }
        self.depth -= 1;
        Expr {
            span: Span::new(start, self.pos),
            kind: ExprKind::Tuple(items),
        }
    }

    /// Skips to just after the `close` ending the current group, stepping over nested groups,
    /// strings, heredocs and comments (a `for` expression, or recovery after an error).
    fn skip_group_rest(&mut self, close: u8) {
        let mut stack = vec![close];
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    if self.quoted().is_none() {
                        return;
                    }
                }
                b'<' if self.starts_with("<<") && self.heredoc_header_ahead() => {
                    if self.heredoc().is_none() {
                        return;
                    }
                }
                b'#' => self.skip_line_comment(),
                b'/' if matches!(self.peek_at(1), Some(b'/' | b'*')) => self.skip_space(false),
                b'{' | b'[' | b'(' => {
                    if stack.len() >= MAX_DEPTH {
                        self.error(self.pos, format!("nesting deeper than {MAX_DEPTH} levels"));
                        self.pos = self.end;
                        return;
                    }
                    stack.push(match c {
                        b'{' => b'}',
                        b'[' => b']',
                        _ => b')',
                    });
                    self.pos += 1;
                }
                b'}' | b']' | b')' => {
                    self.pos += 1;
                    if stack.last() == Some(&c) {
                        stack.pop();
                        if stack.is_empty() {
                            return;
                        }
                    }
                }
                _ => self.pos += 1,
            }
        }
    }

    /// True when `<<` here starts a heredoc (`<<ID` or `<<-ID`) rather than a shift operator.
    fn heredoc_header_ahead(&self) -> bool {
        let mut i = self.pos + 2;
        if self.b.get(i) == Some(&b'-') {
            i += 1;
        }
        self.b.get(i).is_some_and(|&c| is_ident_start(c))
    }

    /// A quoted template starting at `"`.
    fn quoted(&mut self) -> Option<Template> {
        let open = self.pos;
        self.pos += 1;
        let content_start = self.pos;
        let parts = self.template_parts(Close::Quote, false, open)?;
        let content = Span::new(content_start, self.pos);
        if self.peek() == Some(b'"') {
            self.pos += 1;
        } else {
            self.error(open, "unterminated string");
            return None;
        }
        Some(Template {
            parts,
            content,
            heredoc: false,
            indented: false,
        })
    }

    /// A heredoc starting at `<<`.
    fn heredoc(&mut self) -> Option<Template> {
        let open = self.pos;
        self.pos += 2;
        let indented = self.peek() == Some(b'-');
        if indented {
            self.pos += 1;
        }
        let Some((marker, _)) = self.ident() else {
            self.error(open, "expected a heredoc marker after '<<'");
            return None;
        };
        self.skip_space(false);
        if self.peek() != Some(b'\n') {
            self.error(self.pos, "expected a line break after the heredoc marker");
            return None;
        }
        self.pos += 1;
        let content_start = self.pos;
        // The terminator is the first line holding only the marker (indentation allowed).
        let mut line = content_start;
        let terminator = loop {
            if line >= self.end {
                self.error(
                    open,
                    format!("heredoc <<{marker} has no closing {marker} line"),
                );
                // An unclosed heredoc holds the rest of the text; stopping here also keeps a
                // file of many unclosed heredocs linear.
                self.pos = self.end;
                return None;
            }
            let rest = &self.b[line..self.end];
            let next = memchr::memchr(b'\n', rest).map_or(self.end, |n| line + n);
            let text = self.text(line, next).trim_end_matches('\r');
            if text.trim_matches([' ', '\t']) == marker {
                break (line, next);
            }
            line = next + 1;
        };
        let (term_start, term_end) = terminator;
        let saved_end = self.end;
        self.end = term_start;
        self.pos = content_start;
        let parts = self.template_parts(Close::End, true, open);
        self.end = saved_end;
        let parts = parts?;
        // Resume after the marker itself; its line break ends the attribute.
        let marker_line = self.text(term_start, term_end).trim_end_matches('\r');
        self.pos = term_start + marker_line.len();
        Some(Template {
            parts,
            content: Span::new(content_start, term_start),
            heredoc: true,
            indented,
        })
    }

    /// Literal text, interpolations and directives up to the closing quote (left unconsumed)
    /// or the end. In a heredoc, a backslash is literal text.
    fn template_parts(
        &mut self,
        close: Close,
        heredoc: bool,
        opened_at: usize,
    ) -> Option<Vec<TemplatePart>> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut lit_start = self.pos;
        let mut exact = true;
        let flush = |parts: &mut Vec<TemplatePart>,
                     lit: &mut String,
                     start: usize,
                     end: usize,
                     exact: &mut bool| {
            if end > start {
                parts.push(TemplatePart::Literal {
                    value: std::mem::take(lit),
                    span: Span::new(start, end),
                    exact: *exact,
                });
            }
            *exact = true;
        };
        while let Some(c) = self.peek() {
            match c {
                b'"' if close == Close::Quote => break,
                b'\n' if close == Close::Quote => {
                    self.error(
                        opened_at,
                        "unterminated string (it reaches the end of its line)",
                    );
                    return None;
                }
                b'\\' if !heredoc => {
                    let at = self.pos;
                    let Some(n) = self.peek_at(1) else {
                        self.error(at, "unfinished escape sequence");
                        return None;
                    };
                    self.pos += 2;
                    exact = false;
                    match n {
                        b'n' => lit.push('\n'),
                        b'r' => lit.push('\r'),
                        b't' => lit.push('\t'),
                        b'"' => lit.push('"'),
                        b'\\' => lit.push('\\'),
                        b'u' | b'U' => {
                            let len = if n == b'u' { 4 } else { 8 };
                            let hex = self.text(self.pos, (self.pos + len).min(self.end));
                            match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                                Some(ch) if hex.len() == len => {
                                    lit.push(ch);
                                    self.pos += len;
                                }
                                _ => {
                                    self.error(at, "invalid unicode escape");
                                    return None;
                                }
                            }
                        }
                        _ => {
                            self.error(at, "invalid escape sequence");
                            return None;
                        }
                    }
                }
                b'$' | b'%' if self.peek_at(1) == Some(c) && self.peek_at(2) == Some(b'{') => {
                    // `$${` and `%%{` stand for a literal `${` / `%{`.
                    lit.push(c as char);
                    lit.push('{');
                    self.pos += 3;
                    exact = false;
                }
                b'$' | b'%' if self.peek_at(1) == Some(b'{') => {
                    flush(&mut parts, &mut lit, lit_start, self.pos, &mut exact);
                    let open = self.pos;
                    self.pos += 2;
                    if !self.enter(open) {
                        return None;
                    }
                    if c == b'$' {
                        self.skip_space(true);
                        if self.peek() == Some(b'~') {
                            self.pos += 1;
                        }
                        let expr = self.expr(true);
                        self.skip_space(true);
                        if self.peek() == Some(b'~') {
                            self.pos += 1;
                        }
                        if self.peek() == Some(b'}') {
                            self.pos += 1;
                        } else {
                            self.error(open, "interpolation ${…} is not closed");
                            self.depth -= 1;
                            return None;
                        }
                        parts.push(TemplatePart::Interpolation {
                            expr,
                            span: Span::new(open, self.pos),
                        });
                    } else {
                        self.skip_group_rest(b'}');
                        parts.push(TemplatePart::Directive(Span::new(open, self.pos)));
                    }
                    self.depth -= 1;
                    lit_start = self.pos;
                }
                _ => {
                    // Copy a run of ordinary bytes at once (whole UTF-8 characters).
                    let from = self.pos;
                    self.pos += 1;
                    while let Some(c) = self.peek() {
                        if matches!(c, b'"' | b'\n' | b'\\' | b'$' | b'%') {
                            break;
                        }
                        self.pos += 1;
                    }
                    while !self.src.is_char_boundary(self.pos) && self.pos < self.end {
                        self.pos += 1;
                    }
                    lit.push_str(self.text(from, self.pos));
                }
            }
        }
        flush(&mut parts, &mut lit, lit_start, self.pos, &mut exact);
        Some(parts)
    }
}

// ---------------------------------------------------------------------------------------------
// HCL's JSON syntax, a common view of bodies and objects, and evaluation of simple values.

/// Converts a JSON document (read through the YAML tree, see [`crate::read::json`]) into expressions:
/// objects, tuples and strings keep the file's spans. With `templates`, a string whose bytes are
/// its value is read as a template (`"${var.x}"` in `.tf.json` and Bake JSON files).
pub fn from_json(node: NodeRef<'_, '_>, src: &str, templates: bool) -> Expr {
    json_expr(node, src, templates, 0)
}

fn json_expr(node: NodeRef<'_, '_>, src: &str, templates: bool, depth: usize) -> Expr {
    let start = node.start();
    let opaque = Expr {
        span: Span::new(start, start),
        kind: ExprKind::Other,
    };
    if depth >= MAX_DEPTH || node.is_alias() {
        return opaque;
    }
    match node.kind() {
        NodeKind::Mapping(_) => {
            let items = node
                .own_entries()
                .into_iter()
                .filter_map(|(k, v)| {
                    let name = k.as_str()?.to_string();
                    let span = k.exact_span().unwrap_or(Span::new(k.start(), k.start()));
                    Some(ObjectItem {
                        key: ObjectKey::Name(name, span),
                        value: json_expr(v, src, templates, depth + 1),
                    })
                })
                .collect();
            Expr {
                span: Span::new(start, start),
                kind: ExprKind::Object(items),
            }
        }
        NodeKind::Sequence(_) => Expr {
            span: Span::new(start, start),
            kind: ExprKind::Tuple(
                node.items()
                    .into_iter()
                    .map(|i| json_expr(i, src, templates, depth + 1))
                    .collect(),
            ),
        },
        NodeKind::Scalar { value, style, .. } => {
            if *style == Style::Plain {
                return Expr {
                    span: Span::new(start, start + value.len()),
                    kind: match value.as_str() {
                        "true" => ExprKind::Bool(true),
                        "false" => ExprKind::Bool(false),
                        "null" => ExprKind::Null,
                        _ => ExprKind::Number,
                    },
                };
            }
            let Some((span, exact, _)) = crate::read::yaml::scalar_site(node) else {
                return opaque;
            };
            let template = (exact && templates)
                .then(|| template_in(src, span))
                .flatten()
                .unwrap_or_else(|| Template {
                    parts: vec![TemplatePart::Literal {
                        value: value.clone(),
                        span,
                        exact,
                    }],
                    content: span,
                    heredoc: false,
                    indented: false,
                });
            Expr {
                span,
                kind: ExprKind::Template(template),
            }
        }
        NodeKind::Alias(_) => opaque,
    }
}

/// How [`Node::entries`] names an object key written as an expression (`(local.name) = …`).
pub const EXPR_KEY: &str = "(…)";

/// A block body or an object value: native blocks and JSON objects are read alike.
#[derive(Clone, Copy, Debug)]
pub enum Node<'h> {
    /// A block's body.
    Body(&'h Body),
    /// A value (an object, when it has entries).
    Expr(&'h Expr),
}

impl<'h> Node<'h> {
    /// The values under `key`: the bodies of blocks of that type (and of `dynamic "key"`
    /// blocks' `content`), an attribute's or object item's value, with a list's items spread.
    pub fn children(self, key: &str) -> Vec<Node<'h>> {
        let mut out = Vec::new();
        let spread = |e: &'h Expr, out: &mut Vec<Node<'h>>| match &e.kind {
            ExprKind::Tuple(items) => out.extend(items.iter().map(Node::Expr)),
            _ => out.push(Node::Expr(e)),
        };
        match self {
            Node::Body(b) => {
                for item in &b.items {
                    match item {
                        Item::Attribute(a) if a.name == key => spread(&a.value, &mut out),
                        Item::Block(bl) if bl.kind == key => out.push(Node::Body(&bl.body)),
                        Item::Block(bl)
                            if bl.kind == "dynamic"
                                && bl.labels.first().is_some_and(|l| l.0 == key) =>
                        {
                            out.extend(Node::Body(&bl.body).children("content"));
                        }
                        _ => {}
                    }
                }
            }
            Node::Expr(e) => {
                if let ExprKind::Object(items) = &e.kind {
                    for i in items {
                        if i.key.name() == Some(key) {
                            spread(&i.value, &mut out);
                        }
                    }
                }
            }
        }
        out
    }

    /// The nodes at the end of `path`.
    pub fn find(self, path: &[&str]) -> Vec<Node<'h>> {
        let mut nodes = vec![self];
        for key in path {
            nodes = nodes.into_iter().flat_map(|n| n.children(key)).collect();
        }
        nodes
    }

    /// Every entry as (key, value): attributes, blocks (by type) and object items (an
    /// expression key reads as [`EXPR_KEY`]); list values are not spread.
    pub fn entries(self) -> Vec<(&'h str, Node<'h>)> {
        match self {
            Node::Body(b) => b
                .items
                .iter()
                .map(|i| match i {
                    Item::Attribute(a) => (a.name.as_str(), Node::Expr(&a.value)),
                    Item::Block(bl) => (bl.kind.as_str(), Node::Body(&bl.body)),
                })
                .collect(),
            Node::Expr(e) => match &e.kind {
                ExprKind::Object(items) => items
                    .iter()
                    .map(|i| (i.key.name().unwrap_or(EXPR_KEY), Node::Expr(&i.value)))
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    /// The expression, when the node is one.
    pub fn expr(self) -> Option<&'h Expr> {
        match self {
            Node::Expr(e) => Some(e),
            Node::Body(_) => None,
        }
    }

    /// The single expression under `key`, when there is exactly one.
    pub fn attr(self, key: &str) -> Option<&'h Expr> {
        match self.children(key).as_slice() {
            [Node::Expr(e)] => Some(e),
            _ => None,
        }
    }

    /// The plain-text string under `key`.
    pub fn literal(self, key: &str) -> Option<String> {
        self.attr(key)?.as_literal()
    }

    /// True when the node has anything under `key`.
    pub fn has(self, key: &str) -> bool {
        !self.children(key).is_empty()
    }
}

/// What a name in an expression stands for: its definition, or why it has no usable one.
pub type Lookup<'l, 'h> = dyn Fn(&[String]) -> Option<Result<(&'h Expr, String), Unresolved>> + 'l;

/// How many definitions deep evaluation follows (`local.a` = `"${local.b}"` …).
const MAX_EVAL_DEPTH: usize = 8;

/// The string value of a template, a literal or a name `lookup` defines, with the spans of the
/// literal definitions it was built from. A definition that is a plain, escape-free string is
/// an origin that a rewrite may target.
pub fn evaluate(
    expr: &Expr,
    src: &str,
    lookup: &Lookup<'_, '_>,
) -> Result<(String, Vec<Origin>), Unresolved> {
    let mut e = Eval {
        src,
        lookup,
        value: String::new(),
        origins: Vec::new(),
        steps: 0,
    };
    e.eval(expr, 0)?;
    Ok((e.value, e.origins))
}

/// How many expressions one evaluation visits: definitions that each repeat another many
/// times would otherwise grow exponentially.
const MAX_EVAL_STEPS: usize = 1_000;
/// Longer values are no image reference.
const MAX_VALUE_LEN: usize = 4_096;

struct Eval<'s, 'l, 'x, 'h> {
    src: &'s str,
    lookup: &'l Lookup<'x, 'h>,
    value: String,
    origins: Vec<Origin>,
    steps: usize,
}

impl Eval<'_, '_, '_, '_> {
    fn eval(&mut self, expr: &Expr, depth: usize) -> Result<(), Unresolved> {
        self.steps += 1;
        if self.steps > MAX_EVAL_STEPS || self.value.len() > MAX_VALUE_LEN {
            return Err(Unresolved::new("the value is built from too many parts"));
        }
        let (src, lookup) = (self.src, self.lookup);
        let ev = self;
        if depth > MAX_EVAL_DEPTH {
            return Err(Unresolved::new("definitions nested too deeply"));
        }
        match &expr.kind {
            ExprKind::Template(t) => {
                for p in &t.parts {
                    match p {
                        TemplatePart::Literal { value: v, .. } => ev.value.push_str(v),
                        TemplatePart::Interpolation { expr, .. } => {
                            ev.eval(expr, depth + 1)?;
                        }
                        TemplatePart::Directive(span) => {
                            return Err(Unresolved::new(format!(
                                "template directive {:?} is evaluated when the configuration is applied",
                                span.of(src)
                            )));
                        }
                    }
                }
                Ok(())
            }
            ExprKind::Number | ExprKind::Bool(_) => {
                ev.value.push_str(expr.span.of(src));
                Ok(())
            }
            ExprKind::Traversal(path) => {
                let (def, name) = match lookup(path) {
                    Some(found) => found?,
                    None => {
                        return Err(Unresolved::new(format!(
                            "{} is known only when the configuration is applied",
                            path.join(".")
                        )));
                    }
                };
                if let Some(t) = def.as_template()
                    && let (Some(v), Some(span)) = (t.literal(), t.exact_span())
                {
                    ev.value.push_str(&v);
                    ev.origins.push(Origin { name, span });
                    return Ok(());
                }
                ev.eval(def, depth + 1)
            }
            _ => Err(Unresolved::new(format!(
                "expression {:?} is evaluated when the configuration is applied",
                first_line(expr.span.of(src))
            ))),
        }
    }
}

/// The first line of a text, shortened, for messages.
pub(crate) fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    match line.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

/// `src` with every byte outside `span` blanked (line breaks kept) and everything after it cut,
/// so that a parser run on it reports offsets of `src`.
pub fn isolate(src: &str, span: Span) -> String {
    let end = span.end.min(src.len());
    let start = span.start.min(end);
    let mut out = String::with_capacity(end);
    for b in src.as_bytes().iter().take(start) {
        out.push(match b {
            b'\n' => '\n',
            b'\r' => '\r',
            _ => ' ',
        });
    }
    out.push_str(src.get(start..end).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr<'b>(body: &'b Body, name: &str) -> &'b Expr {
        body.attribute(name).unwrap()
    }

    #[test]
    fn blocks_attributes_and_strings() {
        let t = "# c\nresource \"docker_image\" \"nginx\" {\n  name = \"nginx:1.27\" // c\n  keep = true\n}\n";
        let f = parse(t);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        let b = f.body.blocks().next().unwrap();
        assert_eq!(b.kind, "resource");
        assert_eq!(b.labels[0].0, "docker_image");
        assert_eq!(b.labels[1].1.of(t), "nginx");
        let name = attr(&b.body, "name").as_template().unwrap();
        assert_eq!(name.literal().unwrap(), "nginx:1.27");
        assert_eq!(name.exact_span().unwrap().of(t), "nginx:1.27");
        assert!(matches!(attr(&b.body, "keep").kind, ExprKind::Bool(true)));
    }

    #[test]
    fn escapes_and_templates() {
        let t = r#"a = "x\"y"
b = "${var.repo}:${var.tag}"
c = "$${NOT}"
d = "%{ if true }x%{ endif }"
e = "é${local.x}"
"#;
        let f = parse(t);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        let a = attr(&f.body, "a").as_template().unwrap();
        assert_eq!(a.literal().unwrap(), "x\"y");
        assert_eq!(a.exact_span(), None);
        let b = attr(&f.body, "b").as_template().unwrap();
        assert_eq!(b.parts.len(), 3);
        let TemplatePart::Interpolation { expr, span } = &b.parts[0] else {
            panic!()
        };
        assert_eq!(span.of(t), "${var.repo}");
        assert!(matches!(&expr.kind, ExprKind::Traversal(p) if p == &["var", "repo"]));
        let c = attr(&f.body, "c").as_template().unwrap();
        assert_eq!(c.literal().unwrap(), "${NOT}");
        assert_eq!(c.exact_span(), None);
        let d = attr(&f.body, "d").as_template().unwrap();
        assert!(d.literal().is_none());
        let e = attr(&f.body, "e").as_template().unwrap();
        assert_eq!(e.parts.len(), 2);
    }

    #[test]
    fn heredocs() {
        let t = "a = <<EOF\nline ${x}\n  EOF\nb = <<-EOT\n    one\n      two\n    EOT\nc = 1\n";
        let f = parse(t);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        let a = attr(&f.body, "a").as_template().unwrap();
        assert!(a.heredoc);
        assert_eq!(a.content.of(t), "line ${x}\n");
        let b = attr(&f.body, "b").as_template().unwrap();
        assert_eq!(b.literal().unwrap(), "one\n  two\n");
        assert!(matches!(attr(&f.body, "c").kind, ExprKind::Number));
    }

    #[test]
    fn objects_tuples_calls() {
        let t = r#"x = jsonencode([
  merge({ name = "a", image = "nginx" }, { cpu = 1 }),
  {
    "image" : "redis:7"
    (local.k) = { a = [1, 2,] }
    for_x = [for s in var.l : upper(s) if s != ""]
    cond = var.a ? "x" : "y"
    idx = jsondecode(data.x.value)["image_id"]
    neg = -1 + 2 * 3
  },
])
"#;
        let f = parse(t);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        let ExprKind::Call { name, args } = &attr(&f.body, "x").kind else {
            panic!()
        };
        assert_eq!(name, "jsonencode");
        let ExprKind::Tuple(items) = &args[0].kind else {
            panic!()
        };
        let ExprKind::Call { name, args } = &items[0].kind else {
            panic!()
        };
        assert_eq!(name, "merge");
        assert_eq!(args[0].get("image").unwrap().as_literal().unwrap(), "nginx");
        let obj = &items[1];
        let img = obj.get("image").unwrap().as_template().unwrap();
        assert_eq!(img.exact_span().unwrap().of(t), "redis:7");
        assert!(matches!(obj.get("for_x").unwrap().kind, ExprKind::Other));
        assert!(matches!(obj.get("cond").unwrap().kind, ExprKind::Other));
        assert!(matches!(obj.get("idx").unwrap().kind, ExprKind::Other));
        let ExprKind::Object(entries) = &obj.kind else {
            panic!()
        };
        assert!(matches!(entries[1].key, ObjectKey::Expr(_)));
    }

    #[test]
    fn one_line_blocks_and_crlf() {
        let t = "a {\r\n  b { c = \"d\" }\r\n  e = var.f[\"g\"].h\r\n}\r\n";
        let f = parse(t);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        let a = f.body.blocks().next().unwrap();
        let b = a.body.blocks().next().unwrap();
        assert_eq!(attr(&b.body, "c").as_literal().unwrap(), "d");
        assert!(
            matches!(&attr(&a.body, "e").kind, ExprKind::Traversal(p) if p == &["var", "f", "g", "h"])
        );
    }

    #[test]
    fn errors_have_offsets_and_parsing_goes_on() {
        let t = "a = \"unterminated\nb = 1\n!!!\nc = \"ok\"\nd {\n";
        let f = parse(t);
        assert!(f.errors.len() >= 3, "{:?}", f.errors);
        assert_eq!(f.errors[0].offset, 4);
        assert_eq!(attr(&f.body, "c").as_literal().unwrap(), "ok");
    }

    #[test]
    fn hostile_input_is_bounded() {
        for t in [
            "a = ".to_string() + &"[".repeat(100_000),
            "a = ".to_string() + &"{".repeat(100_000),
            "a = \"".to_string() + &"${".repeat(50_000),
            "b ".repeat(50_000) + "{",
            "x = ".to_string() + &"(".repeat(100_000),
            "x = a".to_string() + &"[0]".repeat(100_000),
            "\u{feff}é = <<".to_string(),
            "a = <<-\n".to_string(),
            "a = 1 +".to_string(),
            "é".repeat(1000),
        ] {
            let f = parse(&t);
            assert!(f.errors.len() <= MAX_ERRORS);
        }
    }

    #[test]
    fn range_and_template_in() {
        let t = "xx job \"j\" { image = \"a\" } yy";
        let f = parse_range(t, 3, 27);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        let j = f.body.blocks().next().unwrap();
        assert_eq!(
            attr(&j.body, "image")
                .as_template()
                .unwrap()
                .exact_span()
                .unwrap()
                .of(t),
            "a"
        );
        let s = "\"docker-image://${BASE}\"";
        let tpl = template_in(s, Span::new(1, s.len() - 1)).unwrap();
        assert_eq!(tpl.parts.len(), 2);
    }
}
