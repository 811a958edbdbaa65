//! The documents of a YAML file, read as leniently as the tools that read them: a byte-order
//! mark, two indentation slips the parser refuses, and Helm template actions.

use super::{Found, NodeRef, Yaml, YamlError};
use crate::{Extraction, Span};

/// Parses YAML and records a parse error (with its position) in `out`.
pub(crate) fn parse<'a>(text: &'a str, out: &mut Extraction) -> Yaml<'a> {
    let y = Yaml::parse(text);
    if let Some(e) = &y.error {
        out.parse_error(
            Span::new(e.offset, e.offset),
            format!("YAML: {}", e.message),
        );
    }
    y
}

/// Parses `text` and calls `visit` for each document root with the original text.
///
/// A UTF-8 byte-order mark is accepted. When the YAML does not parse and the text holds Go
/// template actions (`{{ … }}`, a Helm chart template), the actions are masked with same-length
/// filler and the result parsed instead; a single note replaces the parse error, and values that
/// held an action are reported as unresolved.
pub(crate) fn for_each_document(
    text: &str,
    out: &mut Found,
    mut visit: impl FnMut(NodeRef<'_, '_>, &str, &mut Found),
) {
    // The BOM's three bytes become blank lines so that offsets stay those of `text`.
    let unbommed = text
        .strip_prefix('\u{feff}')
        .map(|rest| format!("\n\n\n{rest}"));
    let source = unbommed.as_deref().unwrap_or(text);
    let first = Yaml::parse(source);
    let repaired = first
        .error
        .as_ref()
        .and_then(|e| repair_indentation(source, e));
    let (source, yaml) = match &repaired {
        Some(fixed) => (fixed.as_str(), Yaml::parse(fixed)),
        None => (source, first),
    };
    let Some(error) = yaml.error.clone() else {
        for doc in yaml.documents() {
            visit(doc, text, out);
        }
        return;
    };
    if !text.contains("{{") {
        out.parse_error(
            Span::new(error.offset, error.offset),
            format!("YAML: {}", error.message),
        );
        for doc in yaml.documents() {
            visit(doc, text, out);
        }
        return;
    }
    let masked = mask_go_template(source);
    let masked_first = Yaml::parse(&masked);
    let masked_fixed = masked_first
        .error
        .as_ref()
        .and_then(|e| repair_indentation(&masked, e));
    let masked_yaml = match &masked_fixed {
        Some(fixed) => Yaml::parse(fixed),
        None => masked_first,
    };
    let use_masked = masked_yaml
        .error
        .as_ref()
        .is_none_or(|e| e.offset >= error.offset);
    let chosen = if use_masked { &masked_yaml } else { &yaml };
    let message = match &chosen.error {
        None => "looks like a template (`{{ … }}`, e.g. a Helm chart template): template \
                  actions were skipped and values holding them are unresolved"
            .to_string(),
        Some(e) => format!(
            "looks like a template (`{{{{ … }}}}`, e.g. a Helm chart template) and was not fully parsed \
             (YAML stops at byte {}: {}); references after that point are not reported",
            e.offset, e.message
        ),
    };
    out.note(Span::new(error.offset, error.offset), message);
    for doc in chosen.documents() {
        visit(doc, text, out);
    }
}

/// How many indentation slips are repaired per file.
const MAX_REPAIRS: usize = 64;

/// Works around indentation the parser refuses but Docker Compose, kubectl and PyYAML accept:
///
/// ```yaml
///     command: [
///       "start",
///       # a comment
///     ]                      # `]` at the indentation of its key
///     args: ["a long
///       line"]               # a quoted scalar continued less indented than required
/// ```
///
/// Each repair turns line breaks (and the comments between) into spaces, so every offset stays
/// that of the original; returns the repaired text when something was repaired.
fn repair_indentation(src: &str, error: &YamlError) -> Option<String> {
    let mut fixed: Option<String> = None;
    let mut error = error.clone();
    for _ in 0..MAX_REPAIRS {
        let current = fixed.as_deref().unwrap_or(src);
        let Some(patched) = repair_at(current, &error) else {
            break;
        };
        let next = Yaml::parse(&patched).error;
        fixed = Some(patched);
        match next {
            Some(e) if e.offset > error.offset => error = e,
            _ => break,
        }
    }
    fixed
}

fn repair_at(src: &str, error: &YamlError) -> Option<String> {
    let at = src.as_bytes().get(error.offset).copied()?;
    // Before a `]` everything goes (comments, indentation); in a quoted scalar only line breaks.
    let (range, only_breaks) = match (error.message.as_str(), at) {
        ("invalid indentation", b']') => (closer_join_range(src, error.offset)?, false),
        ("invalid indentation in quoted scalar", b'"' | b'\'') => {
            (quoted_scalar_range(src, error.offset, at)?, true)
        }
        _ => return None,
    };
    let mut bytes = src.as_bytes().to_vec();
    for b in bytes.get_mut(range)? {
        if !only_breaks || matches!(*b, b'\n' | b'\r') {
            *b = b' ';
        }
    }
    String::from_utf8(bytes).ok()
}

/// The bytes between the end of the last content line and a `]` alone on its line: blank lines,
/// comment lines and the content line's trailing comment.
fn closer_join_range(src: &str, closer: usize) -> Option<std::ops::Range<usize>> {
    let line_start = src.get(..closer)?.rfind('\n')? + 1;
    if !src
        .get(line_start..closer)?
        .bytes()
        .all(|b| b == b' ' || b == b'\t')
    {
        return None;
    }
    let mut end_of_content = line_start - 1;
    loop {
        let before = src.get(..end_of_content)?;
        let start = before.rfind('\n').map_or(0, |n| n + 1);
        let line = before.get(start..)?;
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            let comment = trailing_comment(line).map_or(end_of_content, |c| start + c);
            return Some(comment..closer);
        }
        if start == 0 {
            return None;
        }
        end_of_content = start - 1;
    }
}

/// Where a `#` comment starts in a line, outside quotes.
fn trailing_comment(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut quote = None;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (quote, b) {
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), _) if b == q => quote = None,
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'#') if i == 0 || bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace) => {
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The bytes of a quoted scalar starting at `open`, up to its closing quote.
fn quoted_scalar_range(src: &str, open: usize, quote: u8) -> Option<std::ops::Range<usize>> {
    let bytes = src.as_bytes();
    let mut i = open + 1;
    while let Some(&b) = bytes.get(i) {
        if quote == b'"' && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(open..i);
        }
        i += 1;
    }
    None
}

/// Replaces Go template actions with filler of the same byte length: lines made only of actions
/// become blank, actions inside a line become `_` runs, so the rest keeps its YAML shape.
fn mask_go_template(src: &str) -> String {
    let bytes = src.as_bytes();
    let mut covered = vec![false; bytes.len()];
    let mut i = 0;
    while let Some(open) = memchr::memmem::find(bytes.get(i..).unwrap_or_default(), b"{{") {
        let start = i + open;
        let end = memchr::memmem::find(bytes.get(start + 2..).unwrap_or_default(), b"}}")
            .map_or(bytes.len(), |n| start + 2 + n + 2);
        for c in covered.iter_mut().take(end).skip(start) {
            *c = true;
        }
        i = end;
    }
    let mut masked = bytes.to_vec();
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end = memchr::memchr(b'\n', bytes.get(line_start..).unwrap_or_default())
            .map_or(bytes.len(), |n| line_start + n);
        let range = line_start..line_end;
        let only_actions = range.clone().all(|j| {
            covered.get(j).copied().unwrap_or(false)
                || bytes.get(j).is_some_and(u8::is_ascii_whitespace)
        });
        for j in range {
            if covered.get(j).copied().unwrap_or(false)
                && let Some(b) = masked.get_mut(j)
            {
                *b = if only_actions { b' ' } else { b'_' };
            }
        }
        line_start = line_end + 1;
    }
    // Newlines inside multi-line actions stay newlines; every other masked byte is ASCII.
    for (j, b) in bytes.iter().enumerate() {
        if *b == b'\n'
            && let Some(m) = masked.get_mut(j)
        {
            *m = b'\n';
        }
    }
    String::from_utf8(masked).unwrap_or_else(|_| src.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_length() {
        let src = "a: {{ x }}\n  {{- if y }}\nb: \"{{ \"q\" }}é\"\n{{/* multi\nline */}}\n";
        let m = mask_go_template(src);
        assert_eq!(m.len(), src.len());
        assert!(!m.contains("{{"));
        assert_eq!(m.lines().count(), src.lines().count());
    }
}
