//! Deciding, occurrence by occurrence, which bytes pin a reference.

use std::collections::{BTreeMap, HashMap};

use tagwarden_extract::{Extraction, Form, ImageOccurrence, Origin, Source, Span};
use tagwarden_reference::{Digest, Reference};

use crate::compose_edit::{self, YamlIndex};
use crate::{Edit, Planned, Skip};

/// Pin tag-only references, or also replace the digest of pinned ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Pin,
    Repin,
}

/// Origin name the GitHub Actions extractor gives a string literal of an expression.
const LITERAL_ORIGIN: &str = "literal";

/// Stands in for the real digest while checking that an occurrence can be edited at all, so that
/// a structural reason to skip wins over "not resolved".
const PLACEHOLDER: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// What pin must resolve for an occurrence: the normalised reference in tag form
/// (`docker.io/library/nginx:latest` for `nginx`), or why the occurrence is not pinned. A pinned
/// reference gives [`Skip::AlreadyPinned`].
pub fn target(occ: &ImageOccurrence) -> Result<Reference, Skip> {
    target_for(occ, Mode::Pin)
}

/// Like [`target`], for [`repin`]: a pinned `name:tag@digest` gives `name:tag`, to resolve again.
pub fn repin_target(occ: &ImageOccurrence) -> Result<Reference, Skip> {
    target_for(occ, Mode::Repin)
}

fn target_for(occ: &ImageOccurrence, mode: Mode) -> Result<Reference, Skip> {
    let current = current_reference(occ)?;
    if current.is_pinned() {
        if mode == Mode::Pin {
            return Err(Skip::AlreadyPinned);
        }
        if current.tag().is_none() {
            return Err(Skip::Unsupported(
                "pinned by digest alone: there is no tag to resolve again".to_string(),
            ));
        }
    }
    match &occ.form {
        Form::Literal if !occ.exact => return Err(Skip::NotExact),
        Form::Expanded { origins } if origins.is_empty() => return Err(Skip::Expression),
        _ => {}
    }
    let tag = current.effective_tag().unwrap_or("latest");
    Reference::from_parts(current.domain(), current.path(), Some(tag), None)
        .map_err(|e| Skip::Unresolvable(format!("{current}: {e}")))
}

/// The reference the occurrence names now, parsed.
fn current_reference(occ: &ImageOccurrence) -> Result<Reference, Skip> {
    let image = occ
        .image
        .as_ref()
        .map_err(|u| Skip::Unresolvable(u.reason.clone()))?;
    Reference::parse(image)
        .map_err(|e| Skip::Unresolvable(format!("{image:?} is not a valid image reference: {e}")))
}

/// Plans the edits for every occurrence of one file. `digest_for` returns the digest to pin for
/// a normalised reference in tag form (see [`target`]), or `None` when it could not be resolved
/// ([`Skip::NotResolved`]). References that already name a digest are left alone.
pub fn plan(
    text: &str,
    extraction: &Extraction,
    digest_for: &dyn Fn(&Reference) -> Option<Digest>,
) -> Vec<Planned> {
    plan_with(text, extraction, digest_for, Mode::Pin)
}

/// Like [`plan`], but a reference already pinned with a tag (`name:tag@old`) gets its digest
/// replaced by the one `digest_for` gives for `name:tag` (for `pin --update`); one pinned to that
/// digest already is [`Skip::AlreadyPinned`]. Tag-only references are pinned as [`plan`] does.
pub fn repin(
    text: &str,
    extraction: &Extraction,
    digest_for: &dyn Fn(&Reference) -> Option<Digest>,
) -> Vec<Planned> {
    plan_with(text, extraction, digest_for, Mode::Repin)
}

/// What every occurrence's plan may consult about the whole file.
pub(crate) struct Context<'t, 'i> {
    pub(crate) text: &'t str,
    /// How many occurrences read each origin (variable definition), and whether every one of
    /// them takes the origin's text as its whole reference; by the origin's span.
    consumers: HashMap<Span, (usize, bool)>,
    /// How many occurrences list each composed part (a tag shared by several image maps).
    pub(crate) part_uses: HashMap<Span, usize>,
    pub(crate) yaml: Option<&'i YamlIndex<'i, 'i>>,
}

fn plan_with(
    text: &str,
    extraction: &Extraction,
    digest_for: &dyn Fn(&Reference) -> Option<Digest>,
    mode: Mode,
) -> Vec<Planned> {
    let mut consumers: HashMap<Span, Vec<usize>> = HashMap::new();
    let mut part_uses: HashMap<Span, usize> = HashMap::new();
    let mut composed = false;
    for (i, occ) in extraction.images.iter().enumerate() {
        match &occ.form {
            Form::Expanded { origins } => {
                for o in origins {
                    let list = consumers.entry(o.span).or_default();
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                }
            }
            Form::Composed { parts } => {
                composed = true;
                for span in parts.iter().filter_map(|p| p.span) {
                    *part_uses.entry(span).or_default() += 1;
                }
            }
            Form::Literal => {}
        }
    }
    // Composed references (Helm, Kustomize) are edited next to their YAML keys.
    let source = if composed {
        compose_edit::yaml_source(text)
    } else {
        std::borrow::Cow::Borrowed("")
    };
    let yaml = composed.then(|| tagwarden_extract::yaml::Yaml::parse(&source));
    let index = yaml.as_ref().map(YamlIndex::new);
    let consumers = consumers
        .into_iter()
        .map(|(span, users)| {
            let origin = span.of(text);
            let all_whole = users.iter().all(|&u| {
                extraction
                    .images
                    .get(u)
                    .and_then(|c| c.image.as_ref().ok())
                    .is_some_and(|v| v == origin)
            });
            (span, (users.len(), all_whole))
        })
        .collect();
    let ctx = Context {
        text,
        consumers,
        part_uses,
        yaml: index.as_ref(),
    };
    let mut planned: Vec<Planned> = extraction
        .images
        .iter()
        .enumerate()
        .map(|(i, occ)| Planned {
            occurrence_index: i,
            outcome: plan_one(&ctx, occ, digest_for, mode),
        })
        .collect();
    settle_shared_edits(&mut planned);
    planned
}

fn plan_one(
    ctx: &Context<'_, '_>,
    occ: &ImageOccurrence,
    digest_for: &dyn Fn(&Reference) -> Option<Digest>,
    mode: Mode,
) -> Result<Vec<Edit>, Skip> {
    let origin_ignored = match &occ.form {
        Form::Expanded { origins } => origins.iter().any(|o| ignored(ctx.text, o.span)),
        _ => false,
    };
    if origin_ignored || ignored(ctx.text, occ.span) {
        return Err(Skip::Ignored);
    }
    let target = target_for(occ, mode)?;
    if built_locally(occ) {
        return Err(Skip::Unsupported(
            "the service builds this image (`build:`): the name tags the build's result, which a digest cannot name".to_string(),
        ));
    }
    if occ.span.end > ctx.text.len() || occ.span.of(ctx.text) != occ.text {
        return Err(Skip::Unsupported(
            "the occurrence does not match the file's bytes".to_string(),
        ));
    }
    let current = current_reference(occ)?;
    let build = |digest: &str| edits_for(ctx, occ, &current, digest, mode);
    build(PLACEHOLDER)?;
    let digest = digest_for(&target).ok_or(Skip::NotResolved)?;
    if current.digest() == Some(&digest) {
        return Err(Skip::AlreadyPinned);
    }
    build(&digest.to_string())
}

fn edits_for(
    ctx: &Context<'_, '_>,
    occ: &ImageOccurrence,
    current: &Reference,
    digest: &str,
    mode: Mode,
) -> Result<Vec<Edit>, Skip> {
    match &occ.form {
        Form::Literal => {
            let image = occ.image.as_deref().unwrap_or_default();
            let offset = locate(&occ.text, image).ok_or(Skip::NotExact)?;
            Ok(vec![reference_edit(
                occ.span.start + offset,
                current,
                digest,
            )])
        }
        Form::Expanded { origins } => expanded_edits(ctx, occ, origins, current, digest),
        Form::Composed { parts } => compose_edit::edits(ctx, occ, parts, digest, mode),
    }
}

/// Where `image` starts in `raw`: `raw` is the image itself, or the image in matching quotes
/// (a quoted Dockerfile word).
fn locate(raw: &str, image: &str) -> Option<usize> {
    if raw == image {
        return Some(0);
    }
    ['"', '\'']
        .into_iter()
        .find(|&q| raw.strip_prefix(q).and_then(|r| r.strip_suffix(q)) == Some(image))
        .map(|_| 1)
}

/// The edit that pins a reference written at `base`: replace its digest, or insert one after the
/// tag, or insert `:latest@…` after a name written without a tag.
pub(crate) fn reference_edit(base: usize, reference: &Reference, digest: &str) -> Edit {
    let written = reference.written();
    match (&written.digest, &written.tag) {
        (Some(d), _) => Edit::replace(Span::new(base + d.start, base + d.end), digest),
        (None, Some(t)) => Edit::insert(base + t.end, format!("@{digest}")),
        (None, None) => Edit::insert(base + written.name.end, format!(":latest@{digest}")),
    }
}

/// A reference built from variables is pinned where the variable's value is written, when that
/// value is the whole reference and every reference reading it takes it whole.
fn expanded_edits(
    ctx: &Context<'_, '_>,
    occ: &ImageOccurrence,
    origins: &[Origin],
    current: &Reference,
    digest: &str,
) -> Result<Vec<Edit>, Skip> {
    let image = occ.image.as_deref().unwrap_or_default();
    let mut whole: Vec<&Origin> = Vec::new();
    for o in origins {
        if o.span.of(ctx.text) == image && !whole.iter().any(|w| w.span == o.span) {
            whole.push(o);
        }
    }
    if whole.is_empty() {
        return Err(match origins.iter().find(|o| o.name != LITERAL_ORIGIN) {
            Some(o) => Skip::ArgNotWholeReference {
                name: o.name.clone(),
            },
            None => Skip::Expression,
        });
    }
    let mut edits = Vec::new();
    for o in whole {
        let (uses, all_whole) = ctx.consumers.get(&o.span).copied().unwrap_or((0, true));
        if !all_whole {
            return Err(Skip::SharedArg {
                name: o.name.clone(),
                uses,
            });
        }
        edits.push(reference_edit(o.span.start, current, digest));
    }
    Ok(edits)
}

/// A Compose service with both `build:` and `image:` tags what it builds with that name.
fn built_locally(occ: &ImageOccurrence) -> bool {
    occ.source == Source::ComposeImage && occ.built_locally()
}

/// `# tagwarden: ignore` (bare, or listing `unpinned-image` or `pin`) on the occurrence's line or
/// the line above, as `scan` reads it.
fn ignored(text: &str, span: Span) -> bool {
    ["unpinned-image", "pin"]
        .iter()
        .any(|rule| tagwarden_text::ignored_at(text, span.start, rule))
}

/// Two occurrences that read the same ARG default or YAML anchor plan the same edit: the first
/// keeps it, the others are pinned by it. An edit that overlaps another one differently is not
/// applied, and its occurrence says so.
fn settle_shared_edits(planned: &mut [Planned]) {
    let mut accepted: BTreeMap<(usize, usize), (String, usize)> = BTreeMap::new();
    for p in planned.iter_mut() {
        let Ok(edits) = &mut p.outcome else { continue };
        edits.retain(|e| {
            accepted
                .get(&(e.span.start, e.span.end))
                .is_none_or(|(r, _)| *r != e.replacement)
        });
        let conflict = edits.iter().find_map(|e| conflicting(&accepted, e));
        if let Some(other) = conflict {
            p.outcome = Err(Skip::Unsupported(format!(
                "its edit overlaps the edit for occurrence {other}"
            )));
            continue;
        }
        for e in edits.iter() {
            accepted.insert(
                (e.span.start, e.span.end),
                (e.replacement.clone(), p.occurrence_index),
            );
        }
    }
}

/// The occurrence whose accepted edit overlaps `e`, if any.
fn conflicting(accepted: &BTreeMap<(usize, usize), (String, usize)>, e: &Edit) -> Option<usize> {
    for (&(start, end), (replacement, owner)) in accepted.range(..=(e.span.end, usize::MAX)).rev() {
        let other = Edit::replace(Span::new(start, end), replacement.clone());
        if other.overlaps(e) || (other.span == e.span && other.replacement != e.replacement) {
            return Some(*owner);
        }
        // Accepted edits do not overlap each other, so the ones further left end before `e`.
        if end < e.span.start {
            break;
        }
    }
    None
}
