//! Mappings and scalars as the extractors read them: merge keys applied and bounded against alias
//! bombs, scalars read from the file's bytes.

use std::collections::HashSet;

use super::{NodeRef, Style};
use crate::Span;
use crate::read::value_map::ValueMap;

/// One mapping entry with merge keys applied; `via` is the merge alias (`<<: *x`) it came through.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<'y, 'a> {
    pub key: &'y str,
    pub value: NodeRef<'y, 'a>,
    pub via: Option<Span>,
}

/// How many merge levels are followed.
const MAX_MERGE_DEPTH: usize = 32;

/// Mapping entries with string keys and merge keys applied (own keys win, then merges in order).
///
/// Unlike `NodeRef::entries`, each merged mapping is visited at most once per call, so nested
/// merges of aliases (a merge-key bomb) cost one visit per mapping, not one per path.
pub(crate) fn merged_entries<'y, 'a>(node: NodeRef<'y, 'a>) -> Vec<Entry<'y, 'a>> {
    let mut out = Vec::new();
    let mut keys = HashSet::new();
    let mut seen = HashSet::new();
    collect_entries(node, None, &mut out, &mut keys, &mut seen, 0);
    out
}

fn collect_entries<'y, 'a>(
    node: NodeRef<'y, 'a>,
    via: Option<Span>,
    out: &mut Vec<Entry<'y, 'a>>,
    keys: &mut HashSet<&'y str>,
    seen: &mut HashSet<usize>,
    depth: usize,
) {
    let Some(map) = node.resolve() else {
        return;
    };
    if depth > MAX_MERGE_DEPTH || !map.is_mapping() || !seen.insert(map.id()) {
        return;
    }
    let mut merges = Vec::new();
    for (k, v) in map.own_entries() {
        match k.as_str() {
            Some("<<") if k.style() == Some(Style::Plain) => merges.push(v),
            Some(key) if keys.insert(key) => out.push(Entry { key, value: v, via }),
            _ => {}
        }
    }
    for m in merges {
        let targets = if m.is_sequence() { m.items() } else { vec![m] };
        for t in targets {
            let via = via.or_else(|| t.alias_span());
            collect_entries(t, via, out, keys, seen, depth + 1);
        }
    }
}

pub(crate) fn lookup<'e, 'y, 'a>(
    entries: &'e [Entry<'y, 'a>],
    key: &str,
) -> Option<&'e Entry<'y, 'a>> {
    entries.iter().find(|e| e.key == key)
}

/// The non-null string value under `key`.
pub(crate) fn str_of<'y>(entries: &[Entry<'y, '_>], key: &str) -> Option<&'y str> {
    let node = lookup(entries, key)?.value;
    let value = node.as_str()?;
    (!is_null(node)).then_some(value)
}

/// True for a plain `~`, `null` or empty scalar.
pub(crate) fn is_null(node: NodeRef<'_, '_>) -> bool {
    let null_word = node.style() == Some(Style::Plain)
        && matches!(node.as_str(), Some("" | "~" | "null" | "Null" | "NULL"));
    null_word || matches!(node.tag(), Some("!!null" | "tag:yaml.org,2002:null"))
}

/// A scalar as the extractors need it.
#[derive(Clone, Debug)]
pub(crate) struct Scalar {
    /// Where to report it: the anchored scalar's text (or its first line when not exact).
    pub span: Span,
    /// The file's bytes at `span`.
    pub text: String,
    /// The value: the file's bytes when exact (so numbers keep their written form).
    pub value: String,
    pub exact: bool,
    pub alias_sites: Vec<Span>,
    /// The text holds a Go template action (`{{ … }}`).
    pub templated: bool,
}

/// A non-null scalar (following an alias), read from the original file text.
pub(crate) fn scalar_at(node: NodeRef<'_, '_>, file: &str) -> Option<Scalar> {
    let target = node.resolve()?;
    let parsed = target.as_str()?;
    if is_null(target) {
        return None;
    }
    let (mut span, mut exact, alias_sites) = scalar_site(node)?;
    let mut value = parsed.to_string();
    if !exact && let Some(s) = block_content_span(target, parsed) {
        span = s;
        exact = true;
    }
    let text = span.of(file).to_string();
    if exact {
        value = text.clone();
    }
    let templated = text.contains("{{") || value.contains("{{");
    Some(Scalar {
        span,
        text,
        value,
        exact,
        alias_sites,
        templated,
    })
}

/// A one-line block scalar (`image: >-` then the reference on the next line) is written verbatim
/// on its content line: return those bytes.
fn block_content_span(node: NodeRef<'_, '_>, value: &str) -> Option<Span> {
    if !matches!(node.style(), Some(Style::Literal | Style::Folded)) {
        return None;
    }
    let content = value.trim();
    if content.is_empty() || content.contains(['\n', '\r']) {
        return None;
    }
    let src = node.src();
    let start = node.start();
    // The parser marks a block scalar at its first content byte.
    if src
        .get(start..)
        .is_some_and(|rest| rest.starts_with(content))
    {
        return Some(Span::new(start, start + content.len()));
    }
    let body = start + src.get(start..)?.find('\n')? + 1;
    let offset = src.get(body..)?.find(content)?;
    let between = src.get(body..body + offset)?;
    between
        .bytes()
        .all(|b| b.is_ascii_whitespace())
        .then(|| Span::new(body + offset, body + offset + content.len()))
}

/// A key path as a reader writes it: `jobs.build.env.IMAGE`, `containers[0].image`.
pub(crate) fn key_path(path: &[String]) -> String {
    let mut s = String::new();
    for p in path {
        if !s.is_empty() && !p.starts_with('[') {
            s.push('.');
        }
        s.push_str(p);
    }
    s
}

/// For a node that may be an alias of a scalar: the span to report (the anchored scalar's
/// exact text, or where the node starts) and the alias site, if any.
pub(crate) fn scalar_site(node: NodeRef<'_, '_>) -> Option<(Span, bool, Vec<Span>)> {
    let target = node.resolve()?;
    target.as_str()?;
    let alias_sites = node.alias_span().into_iter().collect();
    match target.exact_span() {
        Some(s) => Some((s, true, alias_sites)),
        None => {
            // Escaped or block scalar: report its first line; it cannot be spliced.
            let src = target.src();
            let end = src[target.start()..]
                .find(['\n', '\r'])
                .map_or(src.len(), |n| target.start() + n);
            Some((Span::new(target.start(), end), false, alias_sites))
        }
    }
}

impl ValueMap {
    /// The map of a scalar node (aliases followed), or None when its value is not written in
    /// verbatim runs: a block with an indentation indicator, a quoted scalar with escapes that
    /// goes on over several lines.
    pub fn of(node: NodeRef<'_, '_>) -> Option<Self> {
        let target = node.resolve()?;
        let value = target.as_str()?;
        if let Some(s) = target.exact_span() {
            return Some(Self::verbatim(s.start, value.len()));
        }
        let (src, start) = (target.src(), target.start());
        match target.style()? {
            Style::Literal => Self::block(src, start, value),
            Style::Folded => {
                Self::block(src, start, value).or_else(|| Self::folded_block(src, start, value))
            }
            Style::DoubleQuoted => Self::quoted(src, start, value)
                .or_else(|| Self::flow_lines(src, start, value, Some(b'"'))),
            Style::SingleQuoted => Self::quoted(src, start, value)
                .or_else(|| Self::flow_lines(src, start, value, Some(b'\''))),
            Style::Plain => Self::flow_lines(src, start, value, None),
        }
    }
}
