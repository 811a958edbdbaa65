//! `.env` files: `[export] NAME=value`, values unquoted (up to ` #`), single-quoted (literal) or
//! double-quoted (escapes, may span lines), as dotenv libraries and docker compose read them.

use tagwarden_extract::Span;

use super::lines::unescape;
use super::{Assignment, Reading};
use crate::rules::Source;

pub(crate) fn read(text: &str, wanted: &dyn Fn(&str) -> bool) -> Reading {
    let mut out = Reading::default();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let line_end = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
        let line = &text[i..line_end];
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        let body = body.strip_prefix("export ").map_or(body, str::trim_start);
        let name_at = i + (line.len() - body.len()).max(indent);
        let Some(eq) = body.find('=') else {
            i = line_end + 1;
            continue;
        };
        let name = body[..eq].trim();
        if name.is_empty()
            || name.starts_with('#')
            || !name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(&c))
        {
            i = line_end + 1;
            continue;
        }
        let mut v_at = name_at + eq + 1;
        while v_at < line_end && matches!(b[v_at], b' ' | b'\t') {
            v_at += 1;
        }
        let (value, span, next) = match b.get(v_at) {
            Some(&q @ (b'"' | b'\'')) => {
                // A quoted value ends at the next unescaped quote, possibly lines later.
                let mut j = v_at + 1;
                while j < b.len() && b[j] != q {
                    j += if q == b'"' && b[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(b.len());
                let inner = &text[v_at + 1..end];
                let value = if q == b'"' {
                    unescape(inner)
                } else {
                    inner.to_string()
                };
                let next =
                    memchr::memchr(b'\n', &b[end.min(b.len())..]).map_or(b.len(), |n| end + n) + 1;
                (value, Span::new(v_at + 1, end), next)
            }
            _ => {
                let raw = &text[v_at..line_end];
                let raw = raw.find(" #").map_or(raw, |c| &raw[..c]).trim_end();
                (
                    raw.to_string(),
                    Span::new(v_at, v_at + raw.len()),
                    line_end + 1,
                )
            }
        };
        if wanted(name) {
            out.assignments.push(Assignment::new(
                Source::Dotenv,
                name,
                name.to_string(),
                value,
                span,
            ));
        }
        i = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        let t = "# c\nexport API_TOKEN=abc123 # note\nDB_PASSWORD='x y'\nKEY=\"-----BEGIN\nZZ\n-----END\"\nSECRET_KEY=\nNAME=app\n";
        let r = read(t, &|n| n != "NAME");
        let got: Vec<_> = r
            .assignments
            .iter()
            .map(|a| (a.name.as_str(), a.value.as_str(), a.span.of(t)))
            .collect();
        assert_eq!(
            got,
            [
                ("API_TOKEN", "abc123", "abc123"),
                ("DB_PASSWORD", "x y", "x y"),
                (
                    "KEY",
                    "-----BEGIN\nZZ\n-----END",
                    "-----BEGIN\nZZ\n-----END"
                ),
                ("SECRET_KEY", "", ""),
            ]
        );
    }
}
