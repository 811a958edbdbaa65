//! Shell variables: the assignments a script makes, and the variable a word consists of.

use super::is_name;
use super::lex::{Tok, Word, lex};
use crate::Span;

/// Every `NAME` written as `NAME=` in the text (a shell assignment, a `>> $GITHUB_ENV` line):
/// such a variable may hold another value at run time than its `env:` definition.
pub fn assigned_names(text: &str) -> std::collections::HashSet<&str> {
    let b = text.as_bytes();
    let mut names = std::collections::HashSet::new();
    for (i, _) in text.match_indices('=') {
        let mut j = i;
        while j > 0
            && b.get(j - 1)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            j -= 1;
        }
        if let Some(name) = text.get(j..i).filter(|n| is_name(n)) {
            names.insert(name);
        }
    }
    names
}

/// A shell variable set by a command of the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub name: String,
    /// The value and where its bytes are written (offset by `base`), when it is written literally:
    /// `X=v`, `X="v"`, `X='v'`, `X=${X:-v}`, `: "${X:=v}"`. `None` for a value built from
    /// expansions, and for `read X`, `for X in …`, `unset X`.
    pub literal: Option<(String, Span)>,
    /// True outside functions, loops, conditionals and `case`: the assignment always happens.
    pub top_level: bool,
}

/// Commands whose `NAME=value` arguments assign shell variables.
const DECLARATIONS: &[&str] = &["export", "readonly", "declare", "typeset", "local"];
/// Reserved words that open a compound command and those that close one.
const OPENERS: &[&str] = &["if", "while", "until", "for", "case", "select", "{"];
const CLOSERS: &[&str] = &["fi", "done", "esac", "}"];
/// Reserved words after which the next word is in command position again.
const CONTINUERS: &[&str] = &["then", "else", "elif", "do", "!", "time"];

/// Every assignment of a shell variable in `script` (offsets plus `base`), in order. Heredoc
/// bodies and comments assign nothing; `X=v cmd` sets `X` for `cmd` only and is not listed.
pub fn assignments(script: &str, base: usize) -> Vec<Assignment> {
    let tokens = lex(script);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let mut words = Vec::new();
        while let Some(Tok::Word(w)) = tokens.get(i) {
            words.push(w);
            i += 1;
        }
        i += 1;
        let mut j = 0;
        // Reserved words first: they change the depth and leave the next word in command position.
        while let Some(v) = words.get(j).and_then(|w| w.plain.as_deref()) {
            if OPENERS.contains(&v) {
                depth += 1;
                if v == "for" || v == "select" {
                    if let Some(w) = words.get(j + 1) {
                        out.push(non_literal(w, script, depth == 0));
                    }
                    break;
                }
                if v == "case" {
                    break;
                }
            } else if CLOSERS.contains(&v) {
                depth = depth.saturating_sub(1);
            } else if !CONTINUERS.contains(&v) {
                break;
            }
            j += 1;
        }
        let Some(rest) = words.get(j..) else {
            continue;
        };
        let top_level = depth == 0;
        let assigning = rest
            .iter()
            .take_while(|w| assignment_name(w, script).is_some());
        let count = assigning.clone().count();
        match rest.get(count).and_then(|w| w.plain.as_deref()) {
            // Only assignments: they set shell variables.
            None if count > 0 => {
                out.extend(
                    rest.iter()
                        .filter_map(|w| literal_assignment(w, script, base, top_level)),
                );
            }
            Some(cmd) if count == 0 && DECLARATIONS.contains(&cmd) => {
                let top_level = top_level && cmd != "local";
                out.extend(
                    rest.iter()
                        .skip(1)
                        .filter_map(|w| literal_assignment(w, script, base, top_level)),
                );
            }
            // `function f {`: the body's brace is in this command.
            Some("function")
                if count == 0 && rest.iter().any(|w| w.plain.as_deref() == Some("{")) =>
            {
                depth += 1;
            }
            Some(":") if count == 0 => {
                out.extend(
                    rest.iter()
                        .skip(1)
                        .filter_map(|w| default_assignment(w, script, base, top_level)),
                );
            }
            Some("read" | "unset" | "getopts") if count == 0 => {
                for w in rest.iter().skip(1) {
                    if w.plain.as_deref().is_some_and(is_name) {
                        out.push(non_literal(w, script, top_level));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The name of an `NAME=…` word.
fn assignment_name<'s>(w: &Word, script: &'s str) -> Option<&'s str> {
    let raw = script.get(w.start..w.end)?;
    let (name, _) = raw.split_once('=')?;
    is_name(name).then_some(name)
}

/// An assignment whose value is not known.
fn non_literal(w: &Word, script: &str, top_level: bool) -> Assignment {
    Assignment {
        name: script.get(w.start..w.end).unwrap_or("").to_string(),
        literal: None,
        top_level,
    }
}

/// `NAME=value` with the value's literal text, when it has one.
fn literal_assignment(w: &Word, script: &str, base: usize, top_level: bool) -> Option<Assignment> {
    let name = assignment_name(w, script)?;
    let at = w.start + name.len() + 1;
    let rhs = script.get(at..w.end)?;
    let literal = literal_value(rhs, at, base).or_else(|| self_default(rhs, at, base, name));
    Some(Assignment {
        name: name.to_string(),
        literal,
        top_level,
    })
}

/// `${NAME:=value}` (or `${NAME=value}`) as an argument of `:`: assigns the default when unset.
fn default_assignment(w: &Word, script: &str, base: usize, top_level: bool) -> Option<Assignment> {
    let raw = script.get(w.start..w.end)?;
    let (inner, at) = match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(r) => (r, w.start + 1),
        None => (raw, w.start),
    };
    let body = inner.strip_prefix("${")?.strip_suffix('}')?;
    let name_len = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    let name = body.get(..name_len)?;
    let rest = body.get(name_len..)?;
    let op = [":=", "="].into_iter().find(|op| rest.starts_with(op))?;
    let value = rest.get(op.len()..)?;
    let start = at + 2 + name_len + op.len();
    let literal = plain_literal(value).then(|| {
        (
            value.to_string(),
            Span::new(base + start, base + start + value.len()),
        )
    });
    is_name(name).then(|| Assignment {
        name: name.to_string(),
        literal,
        top_level,
    })
}

/// A value written without expansions: bare, or wholly in quotes.
fn literal_value(rhs: &str, at: usize, base: usize) -> Option<(String, Span)> {
    let (value, start) = if let Some(v) = rhs.strip_prefix('\'').and_then(|r| r.strip_suffix('\''))
    {
        (v, at + 1)
    } else if let Some(v) = rhs.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        (v, at + 1)
    } else {
        (rhs, at)
    };
    let quoted_single = rhs.starts_with('\'');
    let ok = if quoted_single {
        !value.contains('\'')
    } else {
        plain_literal(value)
    };
    ok.then(|| {
        (
            value.to_string(),
            Span::new(base + start, base + start + value.len()),
        )
    })
}

/// `${NAME:-value}` assigned to NAME itself (`IMAGE=${IMAGE:-x}`): the value is the default's.
fn self_default(rhs: &str, at: usize, base: usize, name: &str) -> Option<(String, Span)> {
    let (inner, at) = match rhs.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(r) => (r, at + 1),
        None => (rhs, at),
    };
    let body = inner
        .strip_prefix("${")?
        .strip_suffix('}')?
        .strip_prefix(name)?;
    let op = [":-", "-", ":=", "="]
        .into_iter()
        .find(|op| body.starts_with(op))?;
    let value = body.get(op.len()..)?;
    let start = at + 2 + name.len() + op.len();
    plain_literal(value).then(|| {
        (
            value.to_string(),
            Span::new(base + start, base + start + value.len()),
        )
    })
}

/// Text the shell takes as it is: no quotes, escapes, expansions or braces.
fn plain_literal(v: &str) -> bool {
    !v.contains(['\'', '"', '\\', '$', '`', '{', '}'])
}

/// The variable a word consists of: `$NAME`, `${NAME}` or `${{ env.NAME }}`.
pub fn variable_name(raw: &str) -> Option<&str> {
    let name = if let Some(expr) = raw.strip_prefix("${{").and_then(|r| r.strip_suffix("}}")) {
        expr.trim().strip_prefix("env.")?
    } else if let Some(braced) = raw.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
        braced
    } else {
        raw.strip_prefix('$')?
    };
    is_name(name).then_some(name)
}
