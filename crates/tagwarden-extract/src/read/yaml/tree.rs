//! A span-keeping YAML tree built from saphyr-parser events.
//!
//! Aliases are kept as links to their anchor, never expanded, so an alias bomb costs one node per
//! alias. Lookups (`get`, `entries`) follow aliases and merge keys (`<<`) with a depth limit.
//! Every scalar knows the exact byte span of its text in the source when that text equals its
//! value (plain or quoted without escapes), which is what a byte-exact rewrite needs.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::Span;

/// Deeper nesting than this is refused: no real configuration file needs it.
pub const MAX_DEPTH: usize = 256;
/// How many alias or merge hops a lookup follows before giving up.
const MAX_HOPS: usize = 32;
/// Nodes per file; past this the file is refused (bounded memory for hostile input).
pub const MAX_NODES: usize = 2_000_000;

/// Index of a node in [`Yaml::nodes`].
pub type NodeId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Debug)]
pub enum NodeKind {
    Scalar {
        value: String,
        style: Style,
        /// The bytes holding the value, without quotes, when they spell the value exactly.
        exact: Option<Span>,
    },
    Mapping(Vec<(NodeId, NodeId)>),
    Sequence(Vec<NodeId>),
    /// An alias; the target is the anchored node (None when the anchor is unknown).
    Alias(Option<NodeId>),
}

#[derive(Debug)]
pub struct Node {
    pub kind: NodeKind,
    /// Byte offset where the node starts (its anchor or tag included).
    pub start: usize,
    /// The tag, such as `!reference`, as `handle` + `suffix`.
    pub tag: Option<String>,
}

/// A parse error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub offset: usize,
    pub message: String,
}

/// A parsed YAML stream: its documents and the nodes they are made of.
#[derive(Debug, Default)]
pub struct Yaml<'a> {
    src: &'a str,
    nodes: Vec<Node>,
    documents: Vec<NodeId>,
    /// Set when parsing stopped early; the documents before it are still usable.
    pub error: Option<YamlError>,
}

/// Converts saphyr's character indices into byte offsets.
struct Offsets {
    /// Byte offset of each char, only built for non-ASCII sources.
    table: Option<Vec<u32>>,
    len: usize,
}

impl Offsets {
    fn new(src: &str) -> Self {
        let table = (!src.is_ascii()).then(|| {
            src.char_indices()
                .map(|(i, _)| u32::try_from(i).unwrap_or(u32::MAX))
                .collect()
        });
        Self {
            table,
            len: src.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.table {
            None => char_index.min(self.len),
            Some(t) => t.get(char_index).map_or(self.len, |&b| b as usize),
        }
    }
}

enum Frame {
    Map {
        id: NodeId,
        pending_key: Option<NodeId>,
    },
    Seq {
        id: NodeId,
    },
}

impl<'a> Yaml<'a> {
    /// Parses `src`. Never fails: errors are recorded in [`Yaml::error`] with what was parsed before.
    pub fn parse(src: &'a str) -> Self {
        let mut yaml = Yaml {
            src,
            ..Default::default()
        };
        let offsets = Offsets::new(src);
        let mut parser = Parser::new_from_str(src);
        let mut stack: Vec<Frame> = Vec::new();
        let mut anchors: HashMap<usize, NodeId> = HashMap::new();
        let mut doc_root: Option<NodeId> = None;

        while let Some(event) = parser.next_event() {
            let (event, span) = match event {
                Ok(e) => e,
                Err(e) => {
                    let m = e.marker();
                    yaml.error = Some(YamlError {
                        offset: offsets.byte(m.index()),
                        message: e.info().to_string(),
                    });
                    break;
                }
            };
            if yaml.nodes.len() >= MAX_NODES {
                yaml.error = Some(YamlError {
                    offset: offsets.byte(span.start.index()),
                    message: format!("more than {MAX_NODES} YAML nodes; file not scanned further"),
                });
                break;
            }
            let start = offsets.byte(span.start.index());
            let is_map = matches!(event, Event::MappingStart(..));
            let new_node = match event {
                Event::StreamStart | Event::StreamEnd | Event::Nothing => continue,
                Event::DocumentStart(_) => {
                    doc_root = None;
                    continue;
                }
                Event::DocumentEnd => {
                    if let Some(root) = doc_root.take() {
                        yaml.documents.push(root);
                    }
                    anchors.clear();
                    continue;
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    continue;
                }
                Event::Alias(anchor) => Node {
                    kind: NodeKind::Alias(anchors.get(&anchor).copied()),
                    start,
                    tag: None,
                },
                Event::Scalar(value, style, anchor, tag) => {
                    let style = convert_style(style);
                    let exact = exact_span(src, start, &value, style);
                    let id = yaml.nodes.len();
                    if anchor > 0 {
                        anchors.insert(anchor, id);
                    }
                    Node {
                        kind: NodeKind::Scalar {
                            value: value.into_owned(),
                            style,
                            exact,
                        },
                        start,
                        tag: tag.map(|t| format!("{}{}", t.handle, t.suffix)),
                    }
                }
                Event::MappingStart(anchor, tag) | Event::SequenceStart(anchor, tag) => {
                    if stack.len() >= MAX_DEPTH {
                        yaml.error = Some(YamlError {
                            offset: start,
                            message: format!("nesting deeper than {MAX_DEPTH} levels"),
                        });
                        break;
                    }
                    let id = yaml.nodes.len();
                    if anchor > 0 {
                        anchors.insert(anchor, id);
                    }
                    let node = Node {
                        kind: if is_map {
                            NodeKind::Mapping(Vec::new())
                        } else {
                            NodeKind::Sequence(Vec::new())
                        },
                        start,
                        tag: tag.map(|t| format!("{}{}", t.handle, t.suffix)),
                    };
                    yaml.attach(&mut stack, &mut doc_root, node);
                    stack.push(if is_map {
                        Frame::Map {
                            id,
                            pending_key: None,
                        }
                    } else {
                        Frame::Seq { id }
                    });
                    continue;
                }
            };
            yaml.attach(&mut stack, &mut doc_root, new_node);
        }
        // A document cut short by an error still yields what was built of it.
        if let Some(root) = doc_root {
            yaml.documents.push(root);
        }
        yaml
    }

    /// Adds a node as the child of the innermost open collection (or as the document root).
    fn attach(&mut self, stack: &mut [Frame], doc_root: &mut Option<NodeId>, node: Node) {
        let id = self.nodes.len();
        self.nodes.push(node);
        match stack.last_mut() {
            None => *doc_root = Some(id),
            Some(Frame::Seq { id: seq }) => {
                if let NodeKind::Sequence(items) = &mut self.nodes[*seq].kind {
                    items.push(id);
                }
            }
            Some(Frame::Map {
                id: map,
                pending_key,
            }) => match pending_key.take() {
                None => *pending_key = Some(id),
                Some(key) => {
                    if let NodeKind::Mapping(entries) = &mut self.nodes[*map].kind {
                        entries.push((key, id));
                    }
                }
            },
        }
    }

    /// The source text.
    pub fn src(&self) -> &'a str {
        self.src
    }

    /// The root node of each document, in order.
    pub fn documents(&self) -> impl Iterator<Item = NodeRef<'_, 'a>> + '_ {
        self.documents.iter().map(|&id| NodeRef { yaml: self, id })
    }

    pub fn node(&self, id: NodeId) -> NodeRef<'_, 'a> {
        NodeRef { yaml: self, id }
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

fn convert_style(s: ScalarStyle) -> Style {
    match s {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}

/// Finds the bytes of a scalar's text after its start marker, which may include `&anchor` and `!tag`.
fn exact_span(src: &str, start: usize, value: &str, style: Style) -> Option<Span> {
    let bytes = src.as_bytes();
    let mut i = start;
    // Skip node properties: anchors and tags, each followed by white space.
    while let Some(b'&' | b'!') = bytes.get(i) {
        while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
    }
    let quote = match style {
        Style::Plain => {
            return src
                .get(i..)
                .filter(|rest| rest.starts_with(value))
                .map(|_| Span::new(i, i + value.len()));
        }
        Style::SingleQuoted => b'\'',
        Style::DoubleQuoted => b'"',
        Style::Literal | Style::Folded => return None,
    };
    if bytes.get(i) != Some(&quote) {
        return None;
    }
    let inner = i + 1;
    let end = inner + value.len();
    // Exact only when the quoted text is the value itself (no escapes, no folding).
    (src.get(inner..end) == Some(value) && bytes.get(end) == Some(&quote))
        .then(|| Span::new(inner, end))
}

/// A node together with the tree it lives in.
#[derive(Clone, Copy)]
pub struct NodeRef<'y, 'a> {
    yaml: &'y Yaml<'a>,
    id: NodeId,
}

impl std::fmt::Debug for NodeRef<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeRef({} at {})", self.id, self.raw().start)
    }
}

impl<'y, 'a> NodeRef<'y, 'a> {
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The whole source text of the file.
    pub fn src(&self) -> &'a str {
        self.yaml.src
    }

    fn raw(&self) -> &'y Node {
        &self.yaml.nodes[self.id]
    }

    pub fn kind(&self) -> &'y NodeKind {
        &self.raw().kind
    }

    /// Byte offset where the node starts.
    pub fn start(&self) -> usize {
        self.raw().start
    }

    /// The node's tag (`!reference`, `!!str`), if any.
    pub fn tag(&self) -> Option<&'y str> {
        self.raw().tag.as_deref()
    }

    pub fn is_alias(&self) -> bool {
        matches!(self.kind(), NodeKind::Alias(_))
    }

    /// For an alias node, the bytes of `*name`.
    pub fn alias_span(&self) -> Option<Span> {
        if !self.is_alias() {
            return None;
        }
        let start = self.start();
        let rest = self.yaml.src.get(start..)?;
        let len = rest
            .find([' ', '\t', '\n', '\r', ',', ']', '}'])
            .unwrap_or(rest.len());
        Some(Span::new(start, start + len))
    }

    /// Follows aliases to the anchored node. Returns the node itself when it is not an alias.
    pub fn resolve(self) -> Option<NodeRef<'y, 'a>> {
        let mut n = self;
        for _ in 0..MAX_HOPS {
            match n.kind() {
                NodeKind::Alias(Some(t)) => n = self.yaml.node(*t),
                NodeKind::Alias(None) => return None,
                _ => return Some(n),
            }
        }
        None
    }

    /// The scalar's value (following aliases).
    pub fn as_str(&self) -> Option<&'y str> {
        match self.resolve()?.kind() {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The exact span of the scalar's text (following aliases), when it spells the value.
    pub fn exact_span(&self) -> Option<Span> {
        match self.resolve()?.kind() {
            NodeKind::Scalar { exact, .. } => *exact,
            _ => None,
        }
    }

    /// The scalar's style (following aliases).
    pub fn style(&self) -> Option<Style> {
        match self.resolve()?.kind() {
            NodeKind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    pub fn is_mapping(&self) -> bool {
        self.resolve()
            .is_some_and(|n| matches!(n.kind(), NodeKind::Mapping(_)))
    }

    pub fn is_sequence(&self) -> bool {
        self.resolve()
            .is_some_and(|n| matches!(n.kind(), NodeKind::Sequence(_)))
    }

    pub fn is_scalar(&self) -> bool {
        self.resolve()
            .is_some_and(|n| matches!(n.kind(), NodeKind::Scalar { .. }))
    }

    /// Sequence items (following an alias to the sequence; items themselves may be aliases).
    pub fn items(&self) -> Vec<NodeRef<'y, 'a>> {
        match self.resolve().map(|n| n.kind()) {
            Some(NodeKind::Sequence(items)) => items.iter().map(|&i| self.yaml.node(i)).collect(),
            _ => Vec::new(),
        }
    }

    /// Mapping entries as written, without merge keys resolved.
    pub fn own_entries(&self) -> Vec<(NodeRef<'y, 'a>, NodeRef<'y, 'a>)> {
        match self.resolve().map(|n| n.kind()) {
            Some(NodeKind::Mapping(entries)) => entries
                .iter()
                .map(|&(k, v)| (self.yaml.node(k), self.yaml.node(v)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Mapping entries with string keys, merge keys (`<<`) applied: own keys win over merged ones.
    pub fn entries(&self) -> Vec<(&'y str, NodeRef<'y, 'a>)> {
        let mut out = Vec::new();
        let mut seen_keys = std::collections::HashSet::new();
        let mut visited = std::collections::HashSet::new();
        self.collect_entries(&mut out, &mut seen_keys, &mut visited, 0);
        out
    }

    fn collect_entries(
        &self,
        out: &mut Vec<(&'y str, NodeRef<'y, 'a>)>,
        seen_keys: &mut std::collections::HashSet<&'y str>,
        visited: &mut std::collections::HashSet<NodeId>,
        hops: usize,
    ) {
        // Each mapping is merged once: `<<: [*a, *a, …]` chains would otherwise grow exponentially.
        let Some(target) = self.resolve() else { return };
        if hops > MAX_HOPS || !visited.insert(target.id) {
            return;
        }
        let mut merges = Vec::new();
        for (k, v) in target.own_entries() {
            match k.as_str() {
                Some("<<") if k.style() == Some(Style::Plain) => merges.push(v),
                Some(key) if seen_keys.insert(key) => out.push((key, v)),
                _ => {}
            }
        }
        for m in merges {
            let targets = if m.is_sequence() { m.items() } else { vec![m] };
            for t in targets {
                t.collect_entries(out, seen_keys, visited, hops + 1);
            }
        }
    }

    /// The value under `key` in a mapping, with merge keys applied.
    pub fn get(&self, key: &str) -> Option<NodeRef<'y, 'a>> {
        let target = self.resolve()?;
        let NodeKind::Mapping(entries) = target.kind() else {
            return None;
        };
        let mut has_merge = false;
        for &(k, v) in entries {
            match self.yaml.node(k).as_str() {
                Some(s) if s == key => return Some(self.yaml.node(v)),
                Some("<<") => has_merge = true,
                _ => {}
            }
        }
        if !has_merge {
            return None;
        }
        self.entries()
            .into_iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    /// The string under `key`.
    pub fn get_str(&self, key: &str) -> Option<&'y str> {
        self.get(key)?.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_aliases() {
        let src = "a: &x \"nginx:1.2\"   # c\nb: *x\nc: 'redis'\nd: [ \"alpine\", b ]\n";
        let y = Yaml::parse(src);
        assert!(y.error.is_none());
        let root = y.documents().next().unwrap();
        let a = root.get("a").unwrap();
        let s = a.exact_span().unwrap();
        assert_eq!(&src[s.start..s.end], "nginx:1.2");
        let b = root.get("b").unwrap();
        assert!(b.is_alias());
        assert_eq!(b.as_str(), Some("nginx:1.2"));
        assert_eq!(b.resolve().unwrap().id(), a.id());
        let c = root.get("c").unwrap().exact_span().unwrap();
        assert_eq!(&src[c.start..c.end], "redis");
        let d = root.get("d").unwrap().items();
        let s = d[0].exact_span().unwrap();
        assert_eq!(&src[s.start..s.end], "alpine");
    }

    #[test]
    fn merge_keys() {
        let src = "base: &b\n  image: x\n  n: 1\nsvc:\n  <<: *b\n  n: 2\n";
        let y = Yaml::parse(src);
        let root = y.documents().next().unwrap();
        let svc = root.get("svc").unwrap();
        assert_eq!(svc.get_str("image"), Some("x"));
        assert_eq!(svc.get_str("n"), Some("2"));
    }

    #[test]
    fn merge_chains_are_linear() {
        let mut src = String::from("a0: &a0 {k: v}\n");
        for i in 1..30 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} {{<<: [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]}}\n"
            ));
        }
        let y = Yaml::parse(&src);
        let root = y.documents().next().unwrap();
        let last = root.get("a29").unwrap();
        assert_eq!(last.get_str("k"), Some("v"));
    }

    #[test]
    fn non_ascii_offsets() {
        let src = "# é ü\nimage: \"nginx\"\n";
        let y = Yaml::parse(src);
        let s = y
            .documents()
            .next()
            .unwrap()
            .get("image")
            .unwrap()
            .exact_span()
            .unwrap();
        assert_eq!(&src[s.start..s.end], "nginx");
    }

    #[test]
    fn error_keeps_earlier_documents() {
        let src = "a: 1\n---\nb: [\n";
        let y = Yaml::parse(src);
        assert!(y.error.is_some());
        assert_eq!(y.documents().next().unwrap().get_str("a"), Some("1"));
    }

    #[test]
    fn escapes_are_not_exact() {
        let src = "a: \"ngi\\u006ex\"\n";
        let y = Yaml::parse(src);
        let a = y.documents().next().unwrap().get("a").unwrap();
        assert_eq!(a.as_str(), Some("nginx"));
        assert_eq!(a.exact_span(), None);
    }

    #[test]
    fn alias_bomb_is_cheap() {
        let mut src = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..30 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            src.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let y = Yaml::parse(&src);
        assert!(y.error.is_none());
        assert!(y.node_count() < 1000);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let src = "[".repeat(10_000);
        let y = Yaml::parse(&src);
        assert!(y.error.is_some());
    }
}
