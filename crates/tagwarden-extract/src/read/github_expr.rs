//! GitHub Actions expressions: the syntax inside `${{ … }}` (literals, contexts, member access,
//! `!`, `&&`, `||`, comparisons, function calls), parsed to an [`Expr`] whose string literals keep
//! their spans in the file. Evaluation depends on what a workflow defines (its matrix) and lives
//! with the GitHub Actions extractor.

use crate::Span;

/// Nesting of expression syntax the parser accepts.
pub(crate) const MAX_EXPR_DEPTH: usize = 32;

/// Offset of the `}}` closing an expression, skipping string literals.
pub(crate) fn find_close(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => in_string = !in_string,
            b'}' if !in_string && bytes.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Str {
        value: String,
        /// Bytes of the value inside the quotes, relative to the expression, when verbatim.
        span: Option<(usize, usize)>,
    },
    Num(f64),
    Ident(String),
    Dot,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Not,
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Star,
}

pub(crate) fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let bytes = s.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let two = |c: u8| bytes.get(i + 1) == Some(&c);
        let (tok, len) = match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'\'' => {
                let mut value = String::new();
                let mut j = i + 1;
                let mut verbatim = true;
                loop {
                    let Some(&c) = bytes.get(j) else {
                        return Err("unterminated string literal".into());
                    };
                    if c == b'\'' {
                        if bytes.get(j + 1) == Some(&b'\'') {
                            value.push('\'');
                            verbatim = false;
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    let ch = s[j..].chars().next().unwrap_or('\u{fffd}');
                    value.push(ch);
                    j += ch.len_utf8();
                }
                let span = verbatim.then_some((i + 1, j));
                (Tok::Str { value, span }, j + 1 - i)
            }
            b'.' => (Tok::Dot, 1),
            b'[' => (Tok::LBracket, 1),
            b']' => (Tok::RBracket, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b',' => (Tok::Comma, 1),
            b'*' => (Tok::Star, 1),
            b'!' if two(b'=') => (Tok::Ne, 2),
            b'!' => (Tok::Not, 1),
            b'=' if two(b'=') => (Tok::Eq, 2),
            b'&' if two(b'&') => (Tok::And, 2),
            b'|' if two(b'|') => (Tok::Or, 2),
            b'<' if two(b'=') => (Tok::Le, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if two(b'=') => (Tok::Ge, 2),
            b'>' => (Tok::Gt, 1),
            b'0'..=b'9' | b'-' | b'+' => {
                let mut j = i + 1;
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric()
                        || bytes[j] == b'.'
                        || (matches!(bytes[j], b'-' | b'+') && matches!(bytes[j - 1], b'e' | b'E')))
                {
                    j += 1;
                }
                (Tok::Num(parse_number(&s[i..j]).unwrap_or(f64::NAN)), j - i)
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i + 1;
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric() || matches!(bytes[j], b'_' | b'-'))
                {
                    j += 1;
                }
                (Tok::Ident(s[i..j].to_string()), j - i)
            }
            _ => return Err(format!("unexpected character {:?}", char::from(b))),
        };
        toks.push(tok);
        i += len;
    }
    Ok(toks)
}

pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(hex, 16).ok()? as f64
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()? as f64
    } else {
        if !digits.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return None;
        }
        digits.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug)]
pub(crate) enum Seg {
    Name(String),
    Index(Box<Expr>),
    Star,
}

#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Null,
    Bool(bool),
    Num(f64),
    Str {
        value: String,
        span: Option<Span>,
    },
    /// A context name: `matrix`, `inputs`, `github`…
    Context(String),
    Member(Box<Expr>, Seg),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

impl Expr {
    /// Adds the matrix keys the expression reads; false when a key is computed (`matrix[x]`) or
    /// the whole matrix is used.
    pub(crate) fn matrix_keys(&self, keys: &mut Vec<String>) -> bool {
        let is_matrix =
            |e: &Self| matches!(e, Self::Context(c) if c.eq_ignore_ascii_case("matrix"));
        match self {
            Self::Member(base, seg) if is_matrix(base) => match seg {
                Seg::Name(k) => {
                    keys.push(k.clone());
                    true
                }
                Seg::Index(i) => match &**i {
                    Self::Str { value, .. } => {
                        keys.push(value.clone());
                        true
                    }
                    _ => false,
                },
                Seg::Star => false,
            },
            Self::Context(_) => !is_matrix(self),
            Self::Member(base, seg) => {
                base.matrix_keys(keys)
                    && match seg {
                        Seg::Index(i) => i.matrix_keys(keys),
                        _ => true,
                    }
            }
            Self::Not(e) => e.matrix_keys(keys),
            Self::And(a, b) | Self::Or(a, b) | Self::Cmp(_, a, b) => {
                a.matrix_keys(keys) && b.matrix_keys(keys)
            }
            Self::Call(_, args) => args.iter().all(|a| a.matrix_keys(keys)),
            _ => true,
        }
    }

    pub(crate) fn uses_matrix(&self) -> bool {
        match self {
            Self::Context(c) => c.eq_ignore_ascii_case("matrix"),
            Self::Member(e, seg) => {
                e.uses_matrix() || matches!(seg, Seg::Index(i) if i.uses_matrix())
            }
            Self::Not(e) => e.uses_matrix(),
            Self::And(a, b) | Self::Or(a, b) | Self::Cmp(_, a, b) => {
                a.uses_matrix() || b.uses_matrix()
            }
            Self::Call(_, args) => args.iter().any(Self::uses_matrix),
            _ => false,
        }
    }
}

/// Parses the text between `${{` and `}}`; `base` is its offset in the file, for literal spans.
pub(crate) fn parse_expr(s: &str, base: Option<usize>) -> Result<Expr, String> {
    let toks = lex(s)?;
    let mut p = ExprParser {
        toks,
        pos: 0,
        base,
        depth: 0,
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err("unexpected text after the expression".into());
    }
    Ok(e)
}

struct ExprParser {
    toks: Vec<Tok>,
    pos: usize,
    base: Option<usize>,
    depth: usize,
}

impl ExprParser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return Err("expression nested too deeply".into());
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, String> {
        self.enter()?;
        let mut e = self.and()?;
        while self.eat(&Tok::Or) {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.equality()?;
        while self.eat(&Tok::And) {
            e = Expr::And(Box::new(e), Box::new(self.equality()?));
        }
        Ok(e)
    }

    fn equality(&mut self) -> Result<Expr, String> {
        let mut e = self.relation()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Eq) => CmpOp::Eq,
                Some(Tok::Ne) => CmpOp::Ne,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Cmp(op, Box::new(e), Box::new(self.relation()?));
        }
    }

    fn relation(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Lt) => CmpOp::Lt,
                Some(Tok::Le) => CmpOp::Le,
                Some(Tok::Gt) => CmpOp::Gt,
                Some(Tok::Ge) => CmpOp::Ge,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Cmp(op, Box::new(e), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat(&Tok::Not) {
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, String> {
        let mut e = self.primary()?;
        loop {
            if self.eat(&Tok::Dot) {
                match self.toks.get(self.pos).cloned() {
                    Some(Tok::Ident(name)) => {
                        self.pos += 1;
                        e = Expr::Member(Box::new(e), Seg::Name(name));
                    }
                    Some(Tok::Star) => {
                        self.pos += 1;
                        e = Expr::Member(Box::new(e), Seg::Star);
                    }
                    _ => return Err("expected a property name after '.'".into()),
                }
            } else if self.eat(&Tok::LBracket) {
                let seg = if self.eat(&Tok::Star) {
                    Seg::Star
                } else {
                    Seg::Index(Box::new(self.or()?))
                };
                if !self.eat(&Tok::RBracket) {
                    return Err("expected ']'".into());
                }
                e = Expr::Member(Box::new(e), seg);
            } else {
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let Some(tok) = self.toks.get(self.pos).cloned() else {
            return Err("unexpected end of expression".into());
        };
        self.pos += 1;
        match tok {
            Tok::Str { value, span } => Ok(Expr::Str {
                value,
                span: span.and_then(|(s, e)| self.base.map(|b| Span::new(b + s, b + e))),
            }),
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::LParen => {
                let e = self.or()?;
                if !self.eat(&Tok::RParen) {
                    return Err("expected ')'".into());
                }
                Ok(e)
            }
            Tok::Ident(name) => {
                if self.eat(&Tok::LParen) {
                    let mut args = Vec::new();
                    if !self.eat(&Tok::RParen) {
                        loop {
                            args.push(self.or()?);
                            if self.eat(&Tok::RParen) {
                                break;
                            }
                            if !self.eat(&Tok::Comma) {
                                return Err("expected ',' or ')'".into());
                            }
                        }
                    }
                    return Ok(Expr::Call(name, args));
                }
                Ok(match name.as_str() {
                    "null" => Expr::Null,
                    "true" => Expr::Bool(true),
                    "false" => Expr::Bool(false),
                    "NaN" => Expr::Num(f64::NAN),
                    "Infinity" => Expr::Num(f64::INFINITY),
                    _ => Expr::Context(name),
                })
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

/// A read of a context inside `${{ … }}`: `secrets.NPM_TOKEN`, `secrets['NPM_TOKEN']`, or the
/// whole context (`toJSON(secrets)`, a computed member such as `secrets[matrix.key]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextRead {
    /// The member read; `None` when the whole context (or a computed member) is.
    pub name: Option<String>,
    /// The `${{ … }}` it is read in, in the file (`base` added).
    pub span: Span,
}

/// Every read of `context` (compared case-insensitively, as GitHub does) in the expressions of
/// `text`, written at offset `base` of the file. An expression that does not parse is searched
/// for `context.NAME` as text, so that a typo cannot hide a read.
pub fn context_reads(text: &str, base: usize, context: &str) -> Vec<ContextRead> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text.get(from..).and_then(|t| t.find("${{")) {
        let inner_start = from + open + 3;
        let Some(close) = text.get(inner_start..).and_then(find_close) else {
            break;
        };
        let inner = &text[inner_start..inner_start + close];
        let span = Span::new(base + from + open, base + inner_start + close + 2);
        let before = out.len();
        match parse_expr(inner, None) {
            Ok(e) => reads_in(&e, context, span, &mut out, 0),
            Err(_) => textual_reads(inner, context, span, &mut out),
        }
        // The same member twice in one expression is one read.
        let mut seen = Vec::new();
        let mut i = before;
        while i < out.len() {
            if seen.contains(&out[i].name) {
                out.remove(i);
            } else {
                seen.push(out[i].name.clone());
                i += 1;
            }
        }
        from = inner_start + close + 2;
    }
    out
}

fn reads_in(e: &Expr, context: &str, span: Span, out: &mut Vec<ContextRead>, depth: usize) {
    if depth > MAX_EXPR_DEPTH {
        return;
    }
    let is_context = |e: &Expr| matches!(e, Expr::Context(c) if c.eq_ignore_ascii_case(context));
    let next = |e: &Expr, out: &mut Vec<ContextRead>| reads_in(e, context, span, out, depth + 1);
    match e {
        Expr::Member(base, seg) if is_context(base) => {
            let name = match seg {
                Seg::Name(n) => Some(n.clone()),
                Seg::Index(i) => match &**i {
                    Expr::Str { value, .. } => Some(value.clone()),
                    other => {
                        next(other, out);
                        None
                    }
                },
                Seg::Star => None,
            };
            out.push(ContextRead { name, span });
        }
        Expr::Context(_) if is_context(e) => out.push(ContextRead { name: None, span }),
        Expr::Member(base, seg) => {
            next(base, out);
            if let Seg::Index(i) = seg {
                next(i, out);
            }
        }
        Expr::Not(a) => next(a, out),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) => {
            next(a, out);
            next(b, out);
        }
        Expr::Call(_, args) => args.iter().for_each(|a| next(a, out)),
        _ => {}
    }
}

fn textual_reads(inner: &str, context: &str, span: Span, out: &mut Vec<ContextRead>) {
    let lower = inner.to_ascii_lowercase();
    let needle = format!("{}.", context.to_ascii_lowercase());
    let mut from = 0;
    while let Some(at) = lower.get(from..).and_then(|t| t.find(&needle)) {
        let start = from + at;
        let name_start = start + needle.len();
        let boundary = start == 0
            || !inner.as_bytes()[start - 1].is_ascii_alphanumeric()
                && inner.as_bytes()[start - 1] != b'_'
                && inner.as_bytes()[start - 1] != b'.';
        let name: String = inner[name_start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if boundary {
            out.push(ContextRead {
                name: (!name.is_empty()).then_some(name),
                span,
            });
        }
        from = name_start;
    }
}

#[cfg(test)]
mod context_tests {
    use super::*;

    fn names(text: &str) -> Vec<Option<String>> {
        context_reads(text, 0, "secrets")
            .into_iter()
            .map(|r| r.name)
            .collect()
    }

    #[test]
    fn members_indexes_and_the_whole_context() {
        assert_eq!(
            names("${{ secrets.NPM_TOKEN }} ${{ SECRETS['PyPI'] || secrets.B }}"),
            [
                Some("NPM_TOKEN".into()),
                Some("PyPI".into()),
                Some("B".into())
            ]
        );
        assert_eq!(names("${{ toJSON(secrets) }}"), [None]);
        assert_eq!(names("${{ secrets[matrix.k] }}"), [None]);
        assert_eq!(
            names("${{ github.token }} ${{ env.secrets }}"),
            Vec::<Option<String>>::new()
        );
        // Unparsable: still read as text.
        assert_eq!(names("${{ secrets.X && ( }}"), [Some("X".into())]);
        let r = &context_reads("a: ${{ secrets.X }}", 10, "secrets")[0];
        assert_eq!((r.span.start, r.span.end), (13, 29));
    }
}
