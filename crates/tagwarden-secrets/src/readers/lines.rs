//! Assignments in lines of any text: `NAME=value`, `name: value`, `"name": "value"`,
//! `name := "value"`, `name => 'value'`, `--name=value`, `<name>value</name>`. Only the lines
//! holding a keyword are looked at, and only a window around the keyword on a long line, so a
//! minified file costs what its keywords cost.

use std::sync::LazyLock;

use regex::Regex;
use tagwarden_extract::Span;

use super::Assignment;
use crate::rules::Source;

/// How far around a keyword a long line is read.
const BEFORE: usize = 256;
const AFTER: usize = 1024;

static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?x)
        (?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)["'\]]?
        [\ \t]*(?P<op>:=|=>|==|!=|===|[:=])[\ \t]*
        (?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|`[^`\n]*`|[^\s,;'"`)\]}>]+)"#,
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

static XML_ELEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<(?P<name>[A-Za-z_][\w.:\-]*)>(?P<value>[^<\n]{1,512})</(?P<close>[\w.:\-]+)>")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Assignments on the lines holding `hits` (byte offsets of keywords, ascending). In `code`, an
/// unquoted value is an expression (`password = get_password()`), not a literal.
pub(crate) fn read(
    text: &str,
    hits: &[usize],
    code: bool,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<Assignment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut done_until = 0;
    for &hit in hits {
        if hit < done_until {
            continue;
        }
        let line_start = memchr::memrchr(b'\n', &bytes[..hit]).map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', &bytes[hit..]).map_or(bytes.len(), |i| hit + i);
        let (from, to) = if line_end - line_start > BEFORE + AFTER {
            (
                floor(text, hit.saturating_sub(BEFORE).max(line_start)),
                floor(text, (hit + AFTER).min(line_end)),
            )
        } else {
            (line_start, line_end)
        };
        done_until = to;
        let window = &text[from..to];
        for c in ASSIGNMENT.captures_iter(window) {
            let (Some(name), Some(op), Some(value)) =
                (c.name("name"), c.name("op"), c.name("value"))
            else {
                continue;
            };
            if matches!(op.as_str(), "==" | "!=" | "===") || !wanted(name.as_str()) {
                continue;
            }
            // `https://host`, `C:\path`: a colon without a space after it in a word.
            if op.as_str() == ":"
                && value.start() == op.end()
                && !value.as_str().starts_with(['"', '\''])
            {
                continue;
            }
            let Some((v, span)) = literal(value.as_str(), from + value.start(), code) else {
                continue;
            };
            let name = name.as_str().trim_start_matches(['-', '.']);
            out.push(Assignment::new(
                Source::Text,
                name,
                name.to_string(),
                v,
                span,
            ));
        }
        for c in XML_ELEMENT.captures_iter(window) {
            let (Some(name), Some(value), Some(close)) =
                (c.name("name"), c.name("value"), c.name("close"))
            else {
                continue;
            };
            if name.as_str() != close.as_str() || !wanted(name.as_str()) {
                continue;
            }
            let v = value.as_str().trim();
            let start =
                from + value.start() + (value.as_str().len() - value.as_str().trim_start().len());
            out.push(Assignment::new(
                Source::Text,
                name.as_str(),
                name.as_str().to_string(),
                v.to_string(),
                Span::new(start, start + v.len()),
            ));
        }
    }
    out
}

/// The literal a value spells and the span of its content, or None for an expression.
pub(crate) fn literal(raw: &str, at: usize, code: bool) -> Option<(String, Span)> {
    let b = raw.as_bytes();
    let quoted = b.len() >= 2 && matches!(b[0], b'"' | b'\'' | b'`') && b[b.len() - 1] == b[0];
    if quoted {
        let inner = &raw[1..raw.len() - 1];
        let span = Span::new(at + 1, at + raw.len() - 1);
        let value = if b[0] == b'"' {
            unescape(inner)
        } else {
            inner.to_string()
        };
        return Some((value, span));
    }
    if code || matches!(b.first(), Some(b'"' | b'\'' | b'`')) {
        return None;
    }
    let v = raw.trim_end_matches('\r');
    Some((v.to_string(), Span::new(at, at + v.len())))
}

/// C-style escapes of a double-quoted string: enough for the characters secrets are made of.
pub(crate) fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn floor(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str, code: bool) -> Vec<(String, String)> {
        let hits: Vec<usize> = text
            .to_ascii_lowercase()
            .match_indices("pass")
            .map(|(i, _)| i)
            .collect();
        read(text, &hits, code, &|n| {
            n.to_ascii_lowercase().contains("pass")
        })
        .into_iter()
        .map(|a| {
            assert_eq!(
                a.span.of(text).replace("\\\"", "\""),
                a.value.replace('\n', "\\n")
            );
            (a.name, a.value)
        })
        .collect()
    }

    #[test]
    fn syntaxes() {
        let t = "DB_PASSWORD=Zq81mX\nexport PGPASSWORD='a b'\n  password: \"q\\\"x\"\n{\"password\": \"j1\"}\n\
                 pass := \"g0\"\n'password' => 'p9',\n<password>x9y</password>\n--db-password=k2\n\
                 spring.datasource.password = w3\nif password == \"no\" {}\nurl: https://password.example\n";
        assert_eq!(
            names(t, false),
            [
                ("DB_PASSWORD", "Zq81mX"),
                ("PGPASSWORD", "a b"),
                ("password", "q\"x"),
                ("password", "j1"),
                ("pass", "g0"),
                ("password", "p9"),
                ("password", "x9y"),
                ("db-password", "k2"),
                ("spring.datasource.password", "w3"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }

    #[test]
    fn code_needs_quotes() {
        assert_eq!(
            names("password = get_password()\npassword = \"lit1\"\n", true),
            [("password".to_string(), "lit1".to_string())]
        );
    }

    #[test]
    fn long_lines_are_read_around_the_keyword() {
        let t = format!(
            "{}password=\"Zq81mX\"{}",
            "a".repeat(100_000),
            "b".repeat(100_000)
        );
        assert_eq!(names(&t, true).len(), 1);
    }
}
