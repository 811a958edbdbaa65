//! Shell scripts that a CI rewrites before the shell runs them: Tekton replaces `$(params.x)` in
//! a step's `script:`, Drone and Woodpecker replace `${NAME}` (and `$$` by `$`) in `commands:`.
//!
//! The caller lists the rewrites of a script's value ([`Rewrite`]); the rewritten text is lexed by
//! [`shell::commands`], and each image operand found is mapped back to the bytes of the file: a
//! word left as written keeps its exact span, a word made from substituted text is reported at
//! the expression with the definition it came from as its origin. A script with nothing to
//! rewrite goes straight to [`super::scalar_images`], so both paths report alike.

use super::{Env, Site};
use crate::read::shell::{self, ScriptImage, Variables};
use crate::read::value_map::ValueMap;
use crate::read::yaml::NodeRef;
use crate::{Extraction, Origin, Source, Span};

/// How long a rewritten script may grow; a larger one is read as written (with a note).
const MAX_REWRITTEN_LEN: usize = 4 << 20;

/// How many rewrites one script may have; the rest of the script is read as written.
pub(crate) const MAX_REWRITES: usize = 10_000;

/// One expression of a script's value that the CI replaces before the shell runs it.
#[derive(Clone, Debug)]
pub(crate) struct Rewrite {
    /// Where the expression is written, in the scalar's value.
    pub range: Span,
    pub piece: Piece,
}

/// What the shell sees in place of an expression.
#[derive(Clone, Debug)]
pub(crate) enum Piece {
    /// `$$`: a `$` for the shell, nothing substituted.
    Escape,
    /// A value known from the file, and where that value is written (when it is written verbatim).
    Known {
        value: String,
        origin: Option<Origin>,
    },
    /// A value set when the pipeline runs: `lexed` stands in for it (a `${NAME}` the lexer treats
    /// as a variable), `reason` says why an operand holding it is unresolved.
    Unknown { lexed: String, reason: String },
}

impl Piece {
    /// A value the CI sets when it runs, for the expression `expr`: the lexer reads a shell
    /// variable named after it (so `…_flags` still reads as options).
    pub(crate) fn unknown(expr: &str, reason: String) -> Self {
        Piece::Unknown {
            lexed: format!(
                "${{{}}}",
                expr.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            ),
            reason,
        }
    }

    /// A value known from the file, its definition the origin when it is written verbatim.
    pub(crate) fn known(name: String, value: &str, at: Option<Span>) -> Self {
        Piece::Known {
            value: value.to_string(),
            origin: at.map(|span| Origin { name, span }),
        }
    }

    fn output(&self) -> &str {
        match self {
            Piece::Escape => "$",
            Piece::Known { value, .. } => value,
            Piece::Unknown { lexed, .. } => lexed,
        }
    }
}

/// The rewrites of the expressions written `open … close` in `value` (`$(params.x)`,
/// `{{workflow.parameters.x}}`): `piece` says what the CI puts in place of the text between,
/// or `None` when that is not one of its expressions.
pub(crate) fn delimited(
    value: &str,
    open: &str,
    close: &str,
    piece: &dyn Fn(&str) -> Option<Piece>,
) -> Vec<Rewrite> {
    let mut rewrites = Vec::new();
    let mut from = 0;
    while rewrites.len() < MAX_REWRITES
        && let Some(start) = value
            .get(from..)
            .and_then(|r| r.find(open))
            .map(|n| from + n)
    {
        let after = start + open.len();
        let Some(end) = value
            .get(after..)
            .and_then(|r| r.find(close))
            .map(|n| after + n)
        else {
            break;
        };
        match piece(value.get(after..end).unwrap_or_default()) {
            Some(piece) => {
                rewrites.push(Rewrite {
                    range: Span::new(start, end + close.len()),
                    piece,
                });
                from = end + close.len();
            }
            None => from = after,
        }
    }
    rewrites
}

/// Where a script scalar is and how its operands are reported.
pub(crate) struct ScriptSite<'s> {
    /// The whole file.
    pub file: &'s str,
    pub source: Source,
    pub context: Option<&'s str>,
    /// Images the job builds itself (running them pulls nothing).
    pub built: &'s [String],
    /// A shell variable's literal value and where it is written (`env:`, `environment:`).
    pub env: Env<'s>,
}

/// A stretch of the rewritten text: literal bytes of the value, or the output of one rewrite.
#[derive(Clone, Copy, Debug)]
struct Segment {
    /// Offsets in the rewritten text.
    out: (usize, usize),
    /// Offsets in the value.
    value: (usize, usize),
    /// Index of the rewrite, or `None` for bytes copied as written.
    rewrite: Option<usize>,
}

/// Records the image operands of the shell commands in a YAML scalar after the CI's rewrites.
/// `rewrites` receives the scalar's value and returns its expressions, in order, not overlapping.
pub(crate) fn script_images(
    site: &ScriptSite<'_>,
    node: NodeRef<'_, '_>,
    rewrites: &dyn Fn(&str) -> Vec<Rewrite>,
    out: &mut Extraction,
) {
    let Some(target) = node.resolve() else {
        return;
    };
    let Some(value) = target.as_str() else {
        return;
    };
    let rewrites = rewrites(value);
    let plain = |out: &mut Extraction| {
        super::scalar_images(
            site.file,
            node,
            site.source,
            site.context,
            site.built,
            site.env,
            out,
        );
    };
    if rewrites.is_empty() {
        plain(out);
        return;
    }
    let Some((text, segments)) = rewrite(value, &rewrites) else {
        out.note(
            Span::new(target.start(), target.start()),
            "script too large once its variables are substituted: read as written",
        );
        plain(out);
        return;
    };
    let map = ValueMap::of(target);
    super::heredoc_images(site.file, value, map.as_ref(), site.context, out);
    // A span of the rewritten text to the file: only bytes copied as written have a place there.
    let to_file = |span: Span| {
        let untouched = segments
            .iter()
            .filter(|s| s.out.0 < span.end.max(span.start + 1) && span.start < s.out.1)
            .all(|s| s.rewrite.is_none());
        let in_value = Span::new(
            start_in_value(&segments, span.start),
            end_in_value(&segments, span.end),
        );
        untouched
            .then(|| map.as_ref()?.to_source(in_value))
            .flatten()
    };
    let inherited = super::inherited(site.env);
    let vars = Variables::new(&text, &inherited, &to_file);
    let report = Site {
        file: site.file,
        source: site.source,
        context: site.context,
        alias_sites: node.alias_span().into_iter().collect(),
        note_at: target.start(),
    };
    for mut found in shell::script_images(&text, &vars, site.built) {
        let (a, b) = (found.span.start, found.span.end);
        let in_value = Span::new(start_in_value(&segments, a), end_in_value(&segments, b));
        // By value range, so that a rewrite to nothing inside the word counts too.
        let touched: Vec<&Rewrite> = segments
            .iter()
            .filter(|s| s.value.0 < in_value.end && in_value.start < s.value.1)
            .filter_map(|s| rewrites.get(s.rewrite?))
            .collect();
        (found.image, found.origins, found.exact) = resolve(&found, &touched);
        // Reported at the bytes of the value the word was made from.
        let Some(at) = map.as_ref().and_then(|m| m.to_source(in_value)) else {
            out.note(
                Span::new(target.start(), target.start()),
                super::not_mapped(in_value.of(value)),
            );
            continue;
        };
        found.span = in_value;
        report.push(value, found, &|_| Some(at), out);
    }
}

/// The image of one operand of the rewritten script, its origins, and whether its span may be
/// spliced, given the rewrites inside it.
fn resolve(
    found: &ScriptImage,
    touched: &[&Rewrite],
) -> (Result<String, String>, Option<Vec<Origin>>, bool) {
    if let Some(reason) = touched.iter().find_map(|r| match &r.piece {
        Piece::Unknown { reason, .. } => Some(reason.clone()),
        _ => None,
    }) {
        return (Err(reason), Some(Vec::new()), false);
    }
    let mut origins: Vec<Origin> = touched
        .iter()
        .filter_map(|r| match &r.piece {
            Piece::Known { origin, .. } => origin.clone(),
            _ => None,
        })
        .collect();
    let substituted = touched
        .iter()
        .any(|r| matches!(r.piece, Piece::Known { .. }));
    if !substituted {
        // Written as is, apart from `$$` escapes (which no reference holds).
        let exact = found.exact && touched.is_empty();
        return (found.image.clone(), found.origins.clone(), exact);
    }
    origins.extend(found.origins.iter().flatten().cloned());
    (found.image.clone(), Some(origins), false)
}

/// The rewritten text and how its stretches map to the value, or `None` when it would be too
/// large.
fn rewrite(value: &str, rewrites: &[Rewrite]) -> Option<(String, Vec<Segment>)> {
    let mut text = String::with_capacity(value.len());
    let mut segments = Vec::with_capacity(rewrites.len() * 2 + 1);
    let mut at = 0;
    let copy = |text: &mut String, segments: &mut Vec<Segment>, from: usize, to: usize| {
        if to > from
            && let Some(bytes) = value.get(from..to)
        {
            let start = text.len();
            text.push_str(bytes);
            segments.push(Segment {
                out: (start, text.len()),
                value: (from, to),
                rewrite: None,
            });
        }
    };
    for (i, r) in rewrites.iter().enumerate() {
        if r.range.start < at || value.get(r.range.start..r.range.end).is_none() {
            continue;
        }
        copy(&mut text, &mut segments, at, r.range.start);
        let start = text.len();
        text.push_str(r.piece.output());
        if text.len() > MAX_REWRITTEN_LEN {
            return None;
        }
        segments.push(Segment {
            out: (start, text.len()),
            value: (r.range.start, r.range.end),
            rewrite: Some(i),
        });
        at = r.range.end;
    }
    copy(&mut text, &mut segments, at, value.len());
    Some((text, segments))
}

/// Where the byte at `at` of the rewritten text comes from in the value (a rewrite's output maps
/// to the start of its expression).
fn start_in_value(segments: &[Segment], at: usize) -> usize {
    let i = segments.partition_point(|s| s.out.1 <= at);
    match segments.get(i) {
        Some(s) if s.rewrite.is_none() => s.value.0 + at.saturating_sub(s.out.0),
        Some(s) => s.value.0,
        None => segments.last().map_or(at, |s| s.value.1),
    }
}

/// Where the rewritten text's stretch ending at `at` ends in the value (a rewrite's output maps
/// to the end of its expression).
fn end_in_value(segments: &[Segment], at: usize) -> usize {
    let i = segments.partition_point(|s| s.out.1 < at);
    match segments.get(i) {
        Some(s) if s.rewrite.is_none() => s.value.0 + at.saturating_sub(s.out.0),
        Some(s) => s.value.1,
        None => segments.last().map_or(at, |s| s.value.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(range: (usize, usize), value: &str) -> Rewrite {
        Rewrite {
            range: Span::new(range.0, range.1),
            piece: Piece::Known {
                value: value.to_string(),
                origin: None,
            },
        }
    }

    #[test]
    fn segments_map_both_ends() {
        // "a $(p) b" with $(p) -> "xyz"
        let value = "a $(p) b";
        let (text, segs) = rewrite(value, &[known((2, 6), "xyz")]).unwrap();
        assert_eq!(text, "a xyz b");
        assert_eq!(start_in_value(&segs, 0), 0);
        assert_eq!(start_in_value(&segs, 3), 2);
        assert_eq!(end_in_value(&segs, 5), 6);
        assert_eq!(end_in_value(&segs, 4), 6);
        assert_eq!(start_in_value(&segs, 6), 7);
        assert_eq!(end_in_value(&segs, 7), 8);
        // Empty output (a variable set to nothing) still maps.
        let (text, segs) = rewrite(value, &[known((2, 6), "")]).unwrap();
        assert_eq!(text, "a  b");
        assert_eq!(start_in_value(&segs, 3), 7);
        assert_eq!(end_in_value(&segs, 4), 8);
    }

    #[test]
    fn overlapping_or_out_of_range_rewrites_are_ignored() {
        let value = "abc";
        let (text, _) = rewrite(value, &[known((0, 2), "X"), known((1, 3), "Y")]).unwrap();
        assert_eq!(text, "Xc");
        let (text, _) = rewrite(value, &[known((2, 9), "X")]).unwrap();
        assert_eq!(text, "abc");
    }

    #[test]
    fn huge_expansion_is_refused() {
        let big = "x".repeat(MAX_REWRITTEN_LEN);
        let value = "$(a) $(a)";
        assert!(rewrite(value, &[known((0, 4), &big), known((5, 9), &big)]).is_none());
    }
}
