//! Where each byte of a YAML scalar's value is written in the file, so that a reference found
//! inside a value (a shell command in `run: |`, a Dockerfile in `dockerfile_inline:`) can be
//! reported, and pinned, at its exact bytes.
//!
//! The value is split into runs that the file holds verbatim: the whole scalar when it has no
//! escapes, one run per line of a block scalar, the stretches between escapes of a quoted
//! scalar on one line. A span is mapped only when it lies inside one run.
//!
//! The map of a YAML scalar node, `ValueMap::of`, is built in [`crate::read::yaml`], so that this
//! module knows no YAML and the shell reader can map heredoc bodies with it.

use crate::{Form, ImageOccurrence, Span};

/// Maps offsets in a scalar's value back to the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueMap {
    /// (offset in the value, offset in the file, length), in value order.
    runs: Vec<(usize, usize, usize)>,
}

impl ValueMap {
    /// A value written verbatim at `start`.
    pub fn verbatim(start: usize, len: usize) -> Self {
        Self {
            runs: vec![(0, start, len)],
        }
    }

    /// The literal block scalar (`|`) whose header or first content byte is at `start` in
    /// `src`, when its lines match the value's one to one (a folded block `>` whose lines were
    /// not folded too).
    pub fn block(src: &str, start: usize, value: &str) -> Option<Self> {
        let (body, indent) = block_body(src, start)?;
        let mut runs = Vec::new();
        let mut src_at = body;
        let mut val_at = 0;
        let value_lines: Vec<&str> = value.split('\n').collect();
        let count = value_lines
            .len()
            .saturating_sub(usize::from(value.ends_with('\n')));
        for v in value_lines.iter().take(count) {
            let rest = src.get(src_at..)?;
            let line_len = rest.find('\n').unwrap_or(rest.len());
            let line = rest.get(..line_len)?.trim_end_matches('\r');
            if v.is_empty() && line.trim().is_empty() {
                // An empty line may carry fewer spaces than the block.
            } else {
                let content = line.get(indent..)?;
                if line.get(..indent)?.bytes().any(|c| c != b' ') || content != *v {
                    return None;
                }
                runs.push((val_at, src_at + indent, v.len()));
            }
            val_at += v.len() + 1;
            src_at += line_len + 1;
        }
        Some(Self { runs })
    }

    /// The folded block scalar (`>`) whose header or first content byte is at `start` in `src`:
    /// folding joins lines with a space (or keeps their line breaks) but keeps each line's bytes,
    /// so every content line is a run.
    pub fn folded_block(src: &str, start: usize, value: &str) -> Option<Self> {
        let (body, indent) = block_body(src, start)?;
        let mut lines = Vec::new();
        let mut at = body;
        while let Some(rest) = src.get(at..).filter(|r| !r.is_empty()) {
            let len = rest.find('\n').unwrap_or(rest.len());
            let line = rest.get(..len)?.trim_end_matches('\r');
            if line.trim().is_empty() {
                lines.push((at, ""));
            } else if line.get(..indent)?.bytes().all(|c| c == b' ') {
                lines.push((at + indent, line.get(indent..)?));
            } else {
                // Less indented: the block ended.
                break;
            }
            at += len + 1;
        }
        Self::joined(lines, value)
    }

    /// A plain or quoted scalar continued on further lines, starting at `start` in `src`
    /// (`quote` is its quote character): each line break is folded, leading and trailing white
    /// space of each line dropped, so each line's text is a run. None when a quoted scalar holds
    /// an escape.
    pub fn flow_lines(src: &str, start: usize, value: &str, quote: Option<u8>) -> Option<Self> {
        let mut at = match quote {
            Some(q) => start + src.get(start..)?.find(q as char)? + 1,
            None => start,
        };
        let mut lines = Vec::new();
        loop {
            let rest = src.get(at..)?;
            let len = rest.find('\n').unwrap_or(rest.len());
            let mut line = rest.get(..len)?;
            let mut last = false;
            if let Some(q) = quote {
                if line.contains('\\') || (q == b'\'' && line.contains("''")) {
                    return None;
                }
                if let Some(close) = line.find(q as char) {
                    line = line.get(..close)?;
                    last = true;
                }
            }
            let trimmed = line.trim_end_matches([' ', '\t', '\r']);
            let lead = if lines.is_empty() {
                0
            } else {
                trimmed.len() - trimmed.trim_start_matches([' ', '\t']).len()
            };
            lines.push((at + lead, trimmed.get(lead..)?));
            if last || at + len >= src.len() || lines.len() > value.len() + 1 {
                break;
            }
            at += len + 1;
        }
        Self::joined(lines, value)
    }

    /// The runs of a value whose lines are `lines` (where each line's text starts in the file,
    /// and the text; an empty one is a blank line), joined as YAML folds them: a line break
    /// becomes one space, or stays a line break where blank or more indented lines keep it.
    fn joined(lines: Vec<(usize, &str)>, value: &str) -> Option<Self> {
        let v = value.as_bytes();
        let mut runs = Vec::new();
        let mut val_at = 0;
        for (src_at, text) in lines {
            if val_at >= value.len() {
                break;
            }
            if text.is_empty() {
                continue;
            }
            if !runs.is_empty() {
                if v.get(val_at) == Some(&b' ') {
                    val_at += 1;
                } else {
                    while v.get(val_at) == Some(&b'\n') {
                        val_at += 1;
                    }
                }
            }
            if !value.get(val_at..)?.starts_with(text) {
                return None;
            }
            runs.push((val_at, src_at, text.len()));
            val_at += text.len();
        }
        // What is left is the final line breaks the chomping keeps.
        value
            .get(val_at..)?
            .bytes()
            .all(|c| c == b'\n')
            .then_some(Self { runs })
    }

    /// A quoted scalar on one line whose node starts at `start`: the stretches between its
    /// escapes (`\"`, `\\`, `\n`, `''`, …) are verbatim.
    pub fn quoted(src: &str, start: usize, value: &str) -> Option<Self> {
        let b = src.as_bytes();
        // The node may start at an anchor or a tag: the scalar starts at its first quote.
        let open = start + src.get(start..)?.find(['"', '\''])?;
        let quote = b[open];
        let mut runs: Vec<(usize, usize, usize)> = Vec::new();
        let mut val_at = 0;
        let mut i = open + 1;
        let push =
            |runs: &mut Vec<(usize, usize, usize)>, val_at: usize, src_at: usize, len| match runs
                .last_mut()
            {
                Some((v, s, l)) if *v + *l == val_at && *s + *l == src_at => *l += len,
                _ => runs.push((val_at, src_at, len)),
            };
        loop {
            let c = *b.get(i)?;
            match c {
                // Folded lines: the value no longer follows the bytes.
                b'\n' | b'\r' => return None,
                b'\'' if quote == b'\'' && b.get(i + 1) == Some(&b'\'') => {
                    val_at += 1;
                    i += 2;
                }
                _ if c == quote => break,
                b'\\' if quote == b'"' => {
                    let (consumed, produced) = escape(src, i)?;
                    val_at += produced;
                    i += consumed;
                }
                _ => {
                    let len = src.get(i..)?.chars().next()?.len_utf8();
                    push(&mut runs, val_at, i, len);
                    val_at += len;
                    i += len;
                }
            }
        }
        (val_at == value.len()).then_some(Self { runs })
    }

    /// The file span of `span` (offsets in the value), when it lies within one verbatim run.
    pub fn to_source(&self, span: Span) -> Option<Span> {
        let &(val, src, _) = self
            .runs
            .iter()
            .find(|(val, _, len)| *val <= span.start && span.end <= val + len)?;
        Some(Span::new(src + span.start - val, src + span.end - val))
    }

    /// An occurrence found in the value, with its spans moved to the file; None when its own
    /// span is not written verbatim. Origins and parts that are not verbatim are dropped or lose
    /// their span; alias sites belong to the inner text and are dropped.
    pub fn occurrence(&self, mut occ: ImageOccurrence, file: &str) -> Option<ImageOccurrence> {
        let span = self.to_source(occ.span)?;
        let text = span.of(file);
        // A value that differs from the file's bytes cannot be spliced there.
        occ.exact &= text == occ.text;
        occ.span = span;
        occ.text = text.to_string();
        match &mut occ.form {
            Form::Expanded { origins } => origins.retain_mut(|o| match self.to_source(o.span) {
                Some(s) => {
                    o.span = s;
                    true
                }
                None => false,
            }),
            Form::Composed { parts } => {
                for p in parts {
                    p.span = p.span.and_then(|s| self.to_source(s));
                }
            }
            Form::Literal => {}
        }
        occ.alias_sites.clear();
        Some(occ)
    }
}

/// Where the content of the block scalar whose header or first content byte is at `start`
/// begins, and its indentation. None for an explicit indentation indicator (`|2`), which counts
/// from the parent's indentation.
fn block_body(src: &str, start: usize) -> Option<(usize, usize)> {
    let b = src.as_bytes();
    let mut i = match b.get(start) {
        Some(b'|' | b'>') => start,
        _ => header_before(src, start)?,
    };
    i += 1;
    while let Some(c) = b.get(i) {
        match c {
            b'+' | b'-' => i += 1,
            // An explicit indentation indicator needs the parent's indentation: not handled.
            b'1'..=b'9' => return None,
            _ => break,
        }
    }
    let line_end = src.get(i..)?.find('\n').map(|n| i + n)?;
    let header_rest = src.get(i..line_end)?.trim();
    if !(header_rest.is_empty() || header_rest.starts_with('#')) {
        return None;
    }
    let body = line_end + 1;
    // Indentation: that of the first non-empty line.
    let indent = src
        .get(body..)?
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .find(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())?;
    Some((body, indent))
}

/// A double-quoted escape at `i`: the bytes it takes in the file and in the value.
fn escape(src: &str, i: usize) -> Option<(usize, usize)> {
    let b = src.as_bytes();
    let hex = |n: usize| -> Option<(usize, usize)> {
        let digits = src.get(i + 2..i + 2 + n)?;
        let code = u32::from_str_radix(digits, 16).ok()?;
        Some((2 + n, char::from_u32(code)?.len_utf8()))
    };
    match b.get(i + 1)? {
        b'x' => hex(2),
        b'u' => hex(4),
        b'U' => hex(8),
        b'N' | b'_' => Some((2, 2)),
        b'L' | b'P' => Some((2, 3)),
        b'0' | b'a' | b'b' | b't' | b'\t' | b'n' | b'v' | b'f' | b'r' | b'e' | b' ' | b'"'
        | b'/' | b'\\' => Some((2, 1)),
        // An escaped line break folds: not verbatim.
        _ => None,
    }
}

/// The offset of the `|`/`>` indicator of the block scalar whose content starts at `start`:
/// the last non-blank line before it, with an optional comment, must end in the header.
fn header_before(src: &str, start: usize) -> Option<usize> {
    let mut line_start = src.get(..start)?.rfind('\n').map_or(0, |n| n + 1);
    // Only indentation may precede the content on its line.
    if src.get(line_start..start)?.bytes().any(|c| c != b' ') {
        return None;
    }
    loop {
        let prev_end = line_start.checked_sub(1)?;
        let prev_start = src.get(..prev_end)?.rfind('\n').map_or(0, |n| n + 1);
        let line = src.get(prev_start..prev_end)?.trim_end_matches('\r');
        line_start = prev_start;
        if line.trim().is_empty() {
            continue;
        }
        // Strip a comment (`# …` after white space), then the indicators.
        let code = match line.find(" #") {
            Some(n) => line.get(..n)?,
            None => line,
        }
        .trim_end();
        let head = code.trim_end_matches(['+', '-', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
        if !head.ends_with(['|', '>']) {
            return None;
        }
        return Some(prev_start + head.len() - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::yaml::Yaml;

    fn map(src: &str) -> (ValueMap, String) {
        let y = Yaml::parse(src);
        let doc = y.documents().next().unwrap();
        let node = doc.get("r").unwrap();
        (
            ValueMap::of(node).unwrap(),
            node.as_str().unwrap().to_string(),
        )
    }

    #[test]
    fn blocks() {
        let src = "r: |\n  docker pull a\n\n  docker run b\n";
        let (m, value) = map(src);
        let at = value.find("run b").unwrap();
        let s = m.to_source(Span::new(at, at + 5)).unwrap();
        assert_eq!(s.of(src), "run b");
        let crlf = "r: |-\r\n    docker pull a\r\n    docker run b\r\n";
        let m = ValueMap::block(crlf, 3, "docker pull a\ndocker run b").unwrap();
        assert_eq!(m.to_source(Span::new(21, 26)).unwrap().of(crlf), "run b");
        // A folded value that was folded does not match.
        assert!(ValueMap::block("r: >\n  a\n  b\n", 3, "a b\n").is_none());
        assert!(ValueMap::block("r: |2\n  a\n", 3, "a\n").is_none());
        assert!(ValueMap::block("r: x", 3, "x").is_none());
    }

    #[test]
    fn folded_and_multi_line_flow_scalars() {
        let spans = |src: &str, words: &[&str]| {
            let (m, value) = map(src);
            for w in words {
                let at = value.find(w).unwrap();
                let s = m.to_source(Span::new(at, at + w.len())).unwrap();
                assert_eq!(s.of(src), *w, "{src:?}");
            }
            value
        };
        let value = spans(
            "r: >-\n  docker pull a:1\n  docker run b:2\n\n  more\n    kept\n",
            &["a:1", "b:2", "more", "kept"],
        );
        assert_eq!(value, "docker pull a:1 docker run b:2\nmore\n  kept");
        let value = spans("r: docker run\n  nginx:1\n", &["nginx:1", "docker run"]);
        assert_eq!(value, "docker run nginx:1");
        let value = spans("r: \"docker run \n   nginx:1\"\n", &["nginx:1"]);
        assert_eq!(value, "docker run nginx:1");
        let value = spans("r: 'docker run\n\n   nginx:1'\n", &["nginx:1"]);
        assert_eq!(value, "docker run\nnginx:1");
        // A span across a folded break is not one run.
        let (m, value) = map("r: >\n  docker run\n  nginx:1\n");
        let at = value.find("run nginx").unwrap();
        assert!(m.to_source(Span::new(at, at + 9)).is_none());
        // Not mapped: an indentation indicator, an escape in a scalar over several lines.
        assert!(ValueMap::folded_block("r: >2\n  a\n", 3, "a\n").is_none());
        let y = Yaml::parse("r: \"a\\tb\n  c\"\n");
        assert!(ValueMap::of(y.documents().next().unwrap().get("r").unwrap()).is_none());
    }

    #[test]
    fn quoted_with_escapes() {
        let src = r#"r: "docker run -v \"$PWD:/p\" checkmarx/kics:latest \u00e9 scan""#;
        let (m, value) = map(src);
        let at = value.find("checkmarx").unwrap();
        let s = m.to_source(Span::new(at, at + 21)).unwrap();
        assert_eq!(s.of(src), "checkmarx/kics:latest");
        // A span across an escape is not verbatim.
        let q = value.find('"').unwrap();
        assert!(m.to_source(Span::new(q - 1, q + 1)).is_none());

        let src = "r: &a !!str 'it''s docker run b:1'";
        let (m, value) = map(src);
        let at = value.find("b:1").unwrap();
        assert_eq!(m.to_source(Span::new(at, at + 3)).unwrap().of(src), "b:1");
        // Folded across lines: not mapped.
        let y = Yaml::parse("r: \"a \\\"x\\\"\n  b\"\n");
        let node = y.documents().next().unwrap().get("r").unwrap();
        assert!(ValueMap::of(node).is_none());
    }
}
