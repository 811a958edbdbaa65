//! Edits for references assembled from several YAML fields: Helm `image:` maps (and `image:` with
//! a sibling `tag:`) and Kustomize `images:` entries.

use std::borrow::Cow;
use std::collections::HashMap;

use tagwarden_extract::yaml::{NodeId, NodeKind, NodeRef, Style, Yaml};
use tagwarden_extract::{ImageOccurrence, Part, PartRole, Source, Span};

use crate::plan::{Context, Mode};
use crate::{Edit, Skip};

/// Parent links deeper than this are not followed (the parser refuses deeper nesting anyway).
const MAX_PARENT_HOPS: usize = 512;

/// The text the YAML parser reads: a byte-order mark becomes three newlines so that offsets stay
/// those of the file, as the extractors do.
pub(crate) fn yaml_source(text: &str) -> Cow<'_, str> {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => Cow::Owned(format!("\n\n\n{rest}")),
        None => Cow::Borrowed(text),
    }
}

/// Where each scalar value sits in its mapping, who contains whom, and which alias is where.
pub(crate) struct YamlIndex<'y, 'a> {
    yaml: &'y Yaml<'a>,
    /// Exact span of a mapping value → (mapping, key, value).
    by_value: HashMap<Span, (NodeId, NodeId, NodeId)>,
    parent: Vec<Option<NodeId>>,
    alias_at: HashMap<usize, NodeId>,
    /// Some image map of the file has a `digest:` key next to its `repository:`: the chart reads
    /// digests from there.
    digest_convention: bool,
}

impl<'y, 'a> YamlIndex<'y, 'a> {
    pub(crate) fn new(yaml: &'y Yaml<'a>) -> Self {
        let n = yaml.node_count();
        let mut index = Self {
            yaml,
            by_value: HashMap::new(),
            parent: vec![None; n],
            alias_at: HashMap::new(),
            digest_convention: false,
        };
        for id in 0..n {
            let node = yaml.node(id);
            match node.kind() {
                NodeKind::Mapping(entries) => {
                    let mut keys = Vec::new();
                    for &(k, v) in entries {
                        for child in [k, v] {
                            if let Some(p) = index.parent.get_mut(child) {
                                *p = Some(id);
                            }
                        }
                        let value = yaml.node(v);
                        if !value.is_alias()
                            && let Some(span) = value.exact_span()
                        {
                            index.by_value.insert(span, (id, k, v));
                        }
                        keys.extend(yaml.node(k).as_str());
                    }
                    if keys.contains(&"digest") && keys.contains(&"repository") {
                        index.digest_convention = true;
                    }
                }
                NodeKind::Sequence(items) => {
                    for &child in items {
                        if let Some(p) = index.parent.get_mut(child) {
                            *p = Some(id);
                        }
                    }
                }
                NodeKind::Alias(_) => {
                    index.alias_at.insert(node.start(), id);
                }
                NodeKind::Scalar { .. } => {}
            }
        }
        index
    }

    fn node(&self, id: NodeId) -> NodeRef<'y, 'a> {
        self.yaml.node(id)
    }

    /// True when `ancestor` is `node` or contains it.
    fn contains(&self, ancestor: NodeId, node: NodeId) -> bool {
        let mut at = Some(node);
        for _ in 0..MAX_PARENT_HOPS {
            match at {
                Some(n) if n == ancestor => return true,
                Some(n) => at = self.parent.get(n).copied().flatten(),
                None => return false,
            }
        }
        false
    }

    /// The own (not merged) entry `key` of a mapping.
    fn own_entry(&self, map: NodeId, key: &str) -> Option<(NodeRef<'y, 'a>, NodeRef<'y, 'a>)> {
        self.node(map)
            .own_entries()
            .into_iter()
            .find(|(k, _)| k.as_str() == Some(key))
    }
}

/// Edits for a composed occurrence.
pub(crate) fn edits(
    ctx: &Context<'_, '_>,
    occ: &ImageOccurrence,
    parts: &[Part],
    digest: &str,
    mode: Mode,
) -> Result<Vec<Edit>, Skip> {
    let yaml = ctx
        .yaml
        .ok_or_else(|| unsupported("the YAML was not parsed"))?;
    let primary_role = match occ.source {
        // A Helmfile release's inline values are Helm values.
        Source::HelmImage | Source::HelmfileImage => PartRole::Repository,
        Source::KustomizeImage => {
            if parts.iter().any(|p| p.role == PartRole::NewName) {
                PartRole::NewName
            } else {
                PartRole::Name
            }
        }
        other => {
            return Err(unsupported(&format!(
                "composed {} references are not rewritten",
                other.as_str()
            )));
        }
    };
    let primary = parts
        .iter()
        .find(|p| p.role == primary_role)
        .and_then(|p| p.span)
        .ok_or(Skip::NotExact)?;
    let &(map, primary_key, primary_value) = yaml
        .by_value
        .get(&primary)
        .ok_or_else(|| unsupported("could not find the image's mapping in the YAML"))?;
    for site in &occ.alias_sites {
        let target = yaml
            .alias_at
            .get(&site.start)
            .and_then(|&a| yaml.node(a).resolve())
            .map(|t| t.id());
        if !target.is_some_and(|t| yaml.contains(t, map)) {
            return Err(unsupported(
                "a YAML alias reuses part of this image setting: pin it by hand so the other settings stay right",
            ));
        }
    }
    if mode == Mode::Repin
        && let Some(edit) = replace_digest(ctx.text, parts, digest)
    {
        return Ok(vec![edit]);
    }
    // The tag part, when it is written in this very mapping and read by no other image.
    let tag_role = match occ.source {
        Source::KustomizeImage => PartRole::NewTag,
        _ => PartRole::Tag,
    };
    let own_tag = parts
        .iter()
        .filter(|p| p.role == tag_role)
        .filter_map(|p| p.span)
        .find_map(|span| {
            let &(m, key, value) = yaml.by_value.get(&span)?;
            let key_name = yaml.node(key).as_str()?;
            let is_tag_key = match occ.source {
                Source::KustomizeImage => key_name == "newTag",
                _ => true,
            };
            (m == map && is_tag_key).then_some((span, key, value))
        });
    let shared_tag = own_tag.is_some_and(|(span, _, _)| ctx.part_uses.get(&span) > Some(&1));
    let is_map_form = occ.source == Source::KustomizeImage
        || matches!(yaml.node(primary_key).as_str(), Some("repository" | "name"));

    if is_map_form {
        if let Some((key, value)) = yaml.own_entry(map, "digest") {
            return fill_value(ctx.text, key, value, digest).map(|e| vec![e]);
        }
        let wants_digest_key = occ.source == Source::KustomizeImage || yaml.digest_convention;
        if wants_digest_key {
            let (key, value) = match own_tag {
                Some((_, k, v)) => (yaml.node(k), yaml.node(v)),
                None => (yaml.node(primary_key), yaml.node(primary_value)),
            };
            return add_key(ctx.text, yaml, map, key, value, "digest", digest).map(|e| vec![e]);
        }
    }
    match own_tag {
        Some(_) if shared_tag => Err(unsupported(
            "the tag is shared by several image settings: pin it by hand",
        )),
        Some((span, _, _)) => Ok(vec![Edit::insert(span.end, format!("@{digest}"))]),
        None => Err(unsupported(
            "the tag is not written in this image setting (inherited or a global default): pin it by hand",
        )),
    }
}

fn unsupported(why: &str) -> Skip {
    Skip::Unsupported(why.to_string())
}

/// `pin --update`: the digest written in a `digest:` field, or after the `@` of a tag.
fn replace_digest(text: &str, parts: &[Part], digest: &str) -> Option<Edit> {
    if let Some(span) = parts
        .iter()
        .find(|p| p.role == PartRole::Digest)
        .and_then(|p| p.span)
    {
        let old = span.of(text);
        // Keep the field's own form: some charts write the bare hex of a sha256 digest.
        let new = if old.contains(':') {
            digest.to_string()
        } else {
            digest
                .split_once(':')
                .map_or(digest, |(_, hex)| hex)
                .to_string()
        };
        return Some(Edit::replace(span, new));
    }
    parts
        .iter()
        .filter(|p| matches!(p.role, PartRole::Tag | PartRole::NewTag))
        .filter_map(|p| p.span)
        .find_map(|span| {
            let at = span.of(text).find('@')?;
            Some(Edit::replace(
                Span::new(span.start + at + 1, span.end),
                digest,
            ))
        })
}

/// The end of a scalar's bytes, closing quote included.
fn scalar_end(value: NodeRef<'_, '_>) -> Option<usize> {
    let span = value.exact_span()?;
    let quote = matches!(
        value.style(),
        Some(Style::SingleQuoted | Style::DoubleQuoted)
    );
    Some(span.end + usize::from(quote))
}

/// True when only blanks or a comment follow `from` on its line.
fn rest_of_line_is_blank(text: &str, from: usize) -> bool {
    let rest = text.get(from..).unwrap_or("");
    let line = rest.split('\n').next().unwrap_or("").trim_end_matches('\r');
    let trimmed = line.trim_start_matches([' ', '\t']);
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < line.len())
}

/// Gives an empty `digest:` (`digest:`, `digest: ""`, `digest: ~`) its value.
fn fill_value(
    text: &str,
    key: NodeRef<'_, '_>,
    value: NodeRef<'_, '_>,
    digest: &str,
) -> Result<Edit, Skip> {
    if value.is_alias() {
        return Err(unsupported("the digest field is a YAML alias"));
    }
    let Some(current) = value.as_str() else {
        return Err(unsupported("the digest field is not a string"));
    };
    let style = value.style();
    match (current, style, value.exact_span()) {
        ("", Some(Style::SingleQuoted | Style::DoubleQuoted), Some(span)) => {
            Ok(Edit::insert(span.start, digest))
        }
        ("~" | "null" | "Null" | "NULL", Some(Style::Plain), Some(span)) => {
            Ok(Edit::replace(span, digest))
        }
        ("", Some(Style::Plain), _) => {
            // `digest:` with nothing after it: write after the colon.
            let key_end = key
                .exact_span()
                .map(|s| s.end)
                .ok_or_else(|| unsupported("the digest key is not written plainly"))?;
            let rest = text.get(key_end..).unwrap_or("");
            let colon = key_end + rest.len() - rest.trim_start_matches([' ', '\t']).len();
            if text.as_bytes().get(colon) != Some(&b':') || !rest_of_line_is_blank(text, colon + 1)
            {
                return Err(unsupported(
                    "could not find where the empty digest field ends",
                ));
            }
            Ok(Edit::insert(colon + 1, format!(" {digest}")))
        }
        _ => Err(unsupported(&format!(
            "the digest field holds {current:?}, which is not a digest"
        ))),
    }
}

/// Adds `name: digest` to `map` beside the entry `key: value`: on a new line with the key's
/// indentation and the line's own line ending in a block mapping, or as `, name: digest` after
/// the value in a flow mapping.
fn add_key(
    text: &str,
    yaml: &YamlIndex<'_, '_>,
    map: NodeId,
    key: NodeRef<'_, '_>,
    value: NodeRef<'_, '_>,
    name: &str,
    digest: &str,
) -> Result<Edit, Skip> {
    let value_end =
        scalar_end(value).ok_or_else(|| unsupported("the value is not written plainly"))?;
    let key_start = key
        .exact_span()
        .map(|s| s.start)
        .ok_or_else(|| unsupported("the key is not written plainly"))?;
    if text
        .get(key_start..value_end)
        .is_none_or(|s| s.contains('\n'))
    {
        return Err(unsupported("the key and its value are not on one line"));
    }
    if is_flow_mapping(text, yaml.node(map).start()) {
        let rest = text.get(value_end..).unwrap_or("");
        let next = rest.trim_start_matches([' ', '\t']).chars().next();
        if !matches!(next, Some(',' | '}')) {
            return Err(unsupported(
                "could not find where the flow mapping entry ends",
            ));
        }
        return Ok(Edit::insert(value_end, format!(", {name}: {digest}")));
    }
    if !rest_of_line_is_blank(text, value_end) {
        return Err(unsupported(
            "the line holds more than the key and its value",
        ));
    }
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let line_start = text
        .get(..key_start)
        .and_then(|b| b.rfind('\n'))
        .map_or(bom, |n| n + 1);
    let prefix = text.get(line_start..key_start).unwrap_or("");
    if !prefix.bytes().all(|b| b == b' ' || b == b'-') {
        return Err(unsupported("could not determine the indentation"));
    }
    let indent = " ".repeat(prefix.len());
    let newline = text
        .get(value_end..)
        .and_then(|r| r.find('\n'))
        .map(|n| value_end + n);
    match newline {
        Some(nl) => {
            let eol = if nl > 0 && text.as_bytes().get(nl - 1) == Some(&b'\r') {
                "\r\n"
            } else {
                "\n"
            };
            Ok(Edit::insert(
                nl + 1,
                format!("{indent}{name}: {digest}{eol}"),
            ))
        }
        None => {
            // The last line has no line ending: add one like the file's others.
            let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
            Ok(Edit::insert(
                text.len(),
                format!("{eol}{indent}{name}: {digest}"),
            ))
        }
    }
}

/// A mapping node starting with `{` (after its anchor or tag) is a flow mapping.
fn is_flow_mapping(text: &str, start: usize) -> bool {
    let bytes = text.as_bytes();
    let mut i = start;
    while let Some(b'&' | b'!') = bytes.get(i) {
        while bytes.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
            i += 1;
        }
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
    }
    bytes.get(i) == Some(&b'{')
}
