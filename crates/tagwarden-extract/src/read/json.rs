//! JSON and JSON with comments (devcontainer.json, Bake and Terraform JSON, ECS task
//! definitions), read through the span-keeping YAML tree: JSON is YAML's flow syntax, so one tree
//! serves both. Comments are blanked out first, byte for byte, so offsets stay those of the file.

use std::borrow::Cow;

use crate::read::yaml::Yaml;
use crate::{Extraction, Span};

/// `text` with `//` and `/* */` comments outside strings replaced by spaces (newlines kept), and
/// tabs by spaces (YAML refuses tabs where JSON allows them). Same length, same offsets.
pub fn mask(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    if !b.iter().any(|&c| c == b'/' || c == b'\t') {
        return Cow::Borrowed(text);
    }
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' && *c != b'\r' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'\t' => {
                out[i] = b' ';
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end =
                    memchr::memmem::find(&b[i + 2..], b"*/").map_or(b.len(), |n| i + 2 + n + 2);
                blank(&mut out, i, end);
                i = end;
            }
            _ => i += 1,
        }
    }
    // Only ASCII bytes outside strings were replaced by ASCII spaces, and a comment's bytes are
    // replaced whole, so the result is still UTF-8.
    Cow::Owned(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// Parses masked JSON text (see [`mask`]) and records a parse error in `out`.
pub fn parse<'a>(masked: &'a str, out: &mut Extraction) -> Yaml<'a> {
    let y = Yaml::parse(masked);
    if let Some(e) = &y.error {
        out.parse_error(
            Span::new(e.offset, e.offset),
            format!("JSON: {}", e.message),
        );
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_become_spaces() {
        let t = "{\n  // c \"x\"\n  \"image\": \"a//b\", /* é */\n\t\"x\": 1,\n}\n";
        let m = mask(t);
        assert_eq!(m.len(), t.len());
        assert!(m.contains("\"a//b\""));
        assert!(!m.contains("// c"));
        let mut out = Extraction::default();
        let y = parse(&m, &mut out);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let doc = y.documents().next().unwrap();
        let img = doc.get("image").unwrap();
        assert_eq!(img.as_str(), Some("a//b"));
        assert_eq!(img.exact_span().unwrap().of(t), "a//b");
    }

    #[test]
    fn compact_json() {
        let t = r#"{"a":{"image":"nginx:1"},"b":["x","y"]}"#;
        let mut out = Extraction::default();
        let y = parse(t, &mut out);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let doc = y.documents().next().unwrap();
        let img = doc.get("a").unwrap().get("image").unwrap();
        assert_eq!(img.exact_span().unwrap().of(t), "nginx:1");
    }
}
