//! YAML files (Helm values, CI files, manifests) through the span-keeping tree of
//! `tagwarden-extract`: every scalar under a name that matters, with its key path. A document
//! that is a Kubernetes `Secret` or a kubeconfig goes to [`super::kubernetes`]. Block scalars
//! (`key: |`) are handed back as regions for the line reader, which sees `.env` or properties
//! content inside them at its own bytes.

use tagwarden_extract::Span;
use tagwarden_extract::yaml::{NodeKind, NodeRef, Style, Yaml};

use super::{Assignment, Embedded, Reading, kubernetes};
use crate::rules::Source;

pub(crate) fn read(text: &str, wanted: &dyn Fn(&str) -> bool) -> Reading {
    let yaml = Yaml::parse(text);
    let mut out = Reading::default();
    if let Some(e) = &yaml.error {
        // Helm templates and other text with `{{ }}` are not YAML: their lines are still read.
        out.problems
            .push((e.offset, format!("YAML: {}", e.message)));
        out.fall_back_to_lines = true;
    }
    for doc in yaml.documents() {
        if !kubernetes::read_document(doc, wanted, &mut out) {
            walk(doc, Source::Yaml, wanted, &mut out);
        }
    }
    out
}

/// Every scalar of a document under a name `wanted` accepts, with its path.
pub(crate) fn walk(
    doc: NodeRef<'_, '_>,
    source: Source,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Reading,
) {
    let mut path = String::new();
    visit(doc, None, &mut path, source, wanted, out, 0);
}

fn visit(
    node: NodeRef<'_, '_>,
    key: Option<&str>,
    path: &mut String,
    source: Source,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Reading,
    depth: usize,
) {
    // Aliases are read where their anchor is.
    if node.is_alias() || depth > tagwarden_extract::yaml::MAX_DEPTH {
        return;
    }
    match node.kind() {
        NodeKind::Mapping(_) => {
            for (k, v) in node.own_entries() {
                let Some(name) = k.as_str() else { continue };
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                visit(v, Some(name), path, source, wanted, out, depth + 1);
                path.truncate(len);
            }
        }
        NodeKind::Sequence(_) => {
            for (i, item) in node.items().into_iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                visit(item, key, path, source, wanted, out, depth + 1);
                path.truncate(len);
            }
        }
        NodeKind::Scalar { value, style, .. } => {
            let span = scalar_span(node);
            if matches!(style, Style::Literal | Style::Folded) {
                out.line_regions.push(span);
            } else if node.exact_span().is_none()
                && (value.contains('\n') || value.trim_start().starts_with('{'))
            {
                // An escaped multi-line string (a PEM key in JSON) or a JSON document in a string.
                let name = key.unwrap_or("value");
                let name = if value.trim_start().starts_with('{') {
                    format!("{name}.json")
                } else {
                    name.to_string()
                };
                out.embedded.push(Embedded {
                    name,
                    text: value.clone(),
                    span,
                    via: "string escapes",
                });
            }
            if let Some(k) = key
                && wanted(k)
            {
                out.assignments.push(Assignment::new(
                    source,
                    k,
                    path.clone(),
                    value.clone(),
                    span,
                ));
            }
        }
        NodeKind::Alias(_) => {}
    }
}

/// The bytes a scalar is written as: its exact span, or for quoted text with escapes, up to the
/// closing quote, or for a block scalar, its indented lines.
pub(crate) fn scalar_span(node: NodeRef<'_, '_>) -> Span {
    if let Some(s) = node.exact_span() {
        return s;
    }
    let src = node.src();
    let b = src.as_bytes();
    let start = node.start().min(b.len());
    match node.style() {
        Some(Style::DoubleQuoted) if b.get(start) == Some(&b'"') => {
            let mut i = start + 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            Span::new(start + 1, i.min(b.len()))
        }
        Some(Style::SingleQuoted) if b.get(start) == Some(&b'\'') => {
            let mut i = start + 1;
            while i < b.len() && !(b[i] == b'\'' && b.get(i + 1) != Some(&b'\'')) {
                i += if b[i] == b'\'' { 2 } else { 1 };
            }
            Span::new(start + 1, i.min(b.len()))
        }
        Some(Style::Literal | Style::Folded) => block_span(src, start),
        _ => {
            let end = node
                .as_str()
                .map_or(start, |v| (start + v.len()).min(b.len()));
            Span::new(start, end)
        }
    }
}

/// A block scalar's content: the parser places the scalar at its first character, so the
/// content is that line and the following ones that are blank or indented as deep.
fn block_span(src: &str, first_char: usize) -> Span {
    let b = src.as_bytes();
    let first = memchr::memrchr(b'\n', &b[..first_char]).map_or(0, |i| i + 1);
    let indent = first_char - first;
    let mut end = first;
    let mut at = first;
    while at < b.len() {
        let line_end = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |i| at + i);
        let line = &b[at..line_end];
        let blank = line.iter().all(|c| c.is_ascii_whitespace());
        if !blank && line.iter().take_while(|&&c| c == b' ').count() < indent {
            break;
        }
        if !blank {
            end = line_end;
        }
        at = line_end + 1;
    }
    Span::new(first, end.max(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_spans_and_blocks() {
        let t = "db:\n  password: \"Zq\\u0038\"\n  user: app\nlist:\n  - token: t1\nconf: |\n  DB_PASSWORD=x\n  A=b\nnext: 1\n";
        let r = read(t, &|n| n.contains("pass") || n.contains("token"));
        let got: Vec<_> = r
            .assignments
            .iter()
            .map(|a| (a.path.as_str(), a.value.as_str(), a.span.of(t)))
            .collect();
        assert_eq!(
            got,
            [
                ("db.password", "Zq8", "Zq\\u0038"),
                ("list[0].token", "t1", "t1")
            ]
        );
        assert_eq!(r.line_regions.len(), 1);
        assert_eq!(r.line_regions[0].of(t), "  DB_PASSWORD=x\n  A=b");
        assert!(!r.fall_back_to_lines);
    }

    #[test]
    fn templates_fall_back_to_lines() {
        let r = read("a: {{ .Values.x }}\n  b: [\n", &|_| true);
        assert!(r.fall_back_to_lines);
    }
}
