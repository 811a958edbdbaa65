//! The YAML the CI readers share: a file's first document with its parse error as a note,
//! every scalar under a node with its key path, and where a part of a scalar's value is
//! written in the file.

use tagwarden_extract::Span;
use tagwarden_extract::read::value_map::ValueMap;
use tagwarden_extract::yaml::{NodeRef, Yaml};

use super::Ctx;
use crate::job::Note;

/// How deep the scalar walk goes: no CI definition nests further.
const MAX_DEPTH: usize = 64;

/// Parses the file; a parse error becomes a note at its place (what came before it is read).
pub(crate) fn parse<'a>(ctx: &Ctx<'a>, notes: &mut Vec<Note>) -> Yaml<'a> {
    let y = Yaml::parse(ctx.text());
    if let Some(e) = &y.error {
        notes.push(ctx.note(
            e.offset,
            format!(
                "YAML: {}; jobs after this point may be missing from the checklist",
                e.message
            ),
        ));
    }
    y
}

/// Every scalar under `node` (aliases and merge keys followed) with its key path:
/// `steps[2].with.password`.
pub(crate) fn scalars<'y, 'a>(node: NodeRef<'y, 'a>) -> Vec<(String, NodeRef<'y, 'a>)> {
    let mut out = Vec::new();
    walk(node, &mut String::new(), &mut out, 0);
    out
}

fn walk<'y, 'a>(
    node: NodeRef<'y, 'a>,
    path: &mut String,
    out: &mut Vec<(String, NodeRef<'y, 'a>)>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    if node.is_scalar() {
        out.push((path.clone(), node));
    } else if node.is_mapping() {
        for (k, v) in node.entries() {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(k);
            walk(v, path, out, depth + 1);
            path.truncate(len);
        }
    } else if node.is_sequence() {
        for (i, item) in node.items().into_iter().enumerate() {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            walk(item, path, out, depth + 1);
            path.truncate(len);
        }
    }
}

/// Where `span` of the scalar's value is written in the file, or the scalar's start when the
/// value is not written verbatim (an escape, a folded line).
pub(crate) fn offset_in_file(node: NodeRef<'_, '_>, span: Span) -> usize {
    let target = node.resolve().unwrap_or(node);
    ValueMap::of(node)
        .and_then(|m| m.to_source(span))
        .map_or(target.start(), |s| s.start)
}

/// The string under `key`, if it is a non-empty scalar.
pub(crate) fn str_at<'y>(node: NodeRef<'y, '_>, key: &str) -> Option<&'y str> {
    node.get(key)
        .filter(|v| v.is_scalar())
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

/// A scalar or each scalar of a sequence: `needs: a` and `needs: [a, b]` alike.
pub(crate) fn strings<'y>(node: Option<NodeRef<'y, '_>>) -> Vec<(&'y str, usize)> {
    let Some(node) = node else {
        return Vec::new();
    };
    if node.is_sequence() {
        node.items()
            .into_iter()
            .filter_map(|i| {
                i.as_str()
                    .map(|s| (s, i.resolve().map_or(i.start(), |r| r.start())))
            })
            .collect()
    } else {
        node.as_str()
            .map(|s| vec![(s, node.resolve().map_or(node.start(), |r| r.start()))])
            .unwrap_or_default()
    }
}

/// The byte range each entry of a mapping spans: from its key to the next key (the last to
/// `end`).
pub(crate) fn entry_ranges<'y, 'a>(
    map: NodeRef<'y, 'a>,
    end: usize,
) -> Vec<(&'y str, NodeRef<'y, 'a>, usize, usize)> {
    let own = map.own_entries();
    let mut out = Vec::new();
    for (i, (k, v)) in own.iter().enumerate() {
        let Some(key) = k.as_str() else { continue };
        let next = own.get(i + 1).map_or(end, |(nk, _)| nk.start());
        out.push((key, *v, k.start(), next.max(k.start())));
    }
    out
}

/// The bytes a node spans: from its start to the end of the last scalar under it (aliases are
/// not followed: an alias is written where it stands).
pub(crate) fn extent(node: NodeRef<'_, '_>) -> (usize, usize) {
    let start = node.start();
    (start, end_of(node, 0).max(start))
}

fn end_of(node: NodeRef<'_, '_>, depth: usize) -> usize {
    use tagwarden_extract::yaml::NodeKind;
    if depth > MAX_DEPTH {
        return node.start();
    }
    match node.kind() {
        NodeKind::Scalar { value, exact, .. } => exact.map_or_else(
            || {
                // A block or escaped scalar: to the end of its last line.
                let src = node.src();
                let lines = value.lines().count().max(1);
                let mut end = node.start();
                for _ in 0..lines {
                    end = src[end..].find('\n').map_or(src.len(), |n| end + n + 1);
                }
                end
            },
            |s| s.end,
        ),
        NodeKind::Alias(_) => node.alias_span().map_or(node.start(), |s| s.end),
        NodeKind::Mapping(_) => node
            .own_entries()
            .into_iter()
            .map(|(k, v)| end_of(k, depth + 1).max(end_of(v, depth + 1)))
            .max()
            .unwrap_or(node.start() + 2),
        NodeKind::Sequence(_) => node
            .items()
            .into_iter()
            .map(|i| end_of(i, depth + 1))
            .max()
            .unwrap_or(node.start() + 2),
    }
}
