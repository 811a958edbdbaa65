//! Shell scripts that a CI rewrites before the shell runs them: Tekton replaces `$(params.x)` in
//! a step's `script:`, Drone and Woodpecker replace `${NAME}` (and `$$` by `$`) in `commands:`.
//!
//! The caller lists the rewrites of a script's value ([`Rewrite`]); the rewritten text is lexed by
//! [`shell::commands`], and each image operand found is mapped back to the bytes of the file: a
//! word left as written keeps its exact span, a word made from substituted text is reported at
//! the expression with the definition it came from as its origin. A script with nothing to
//! rewrite goes straight to [`super::scalar_images`], so both paths report alike.

use crate::read::shell;
use crate::read::value_map::ValueMap;
use crate::read::yaml::NodeRef;
use crate::{Extraction, Form, ImageOccurrence, Origin, Source, Span, Unresolved};

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
    fn output(&self) -> &str {
        match self {
            Piece::Escape => "$",
            Piece::Known { value, .. } => value,
            Piece::Unknown { lexed, .. } => lexed,
        }
    }
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
    pub env: &'s dyn Fn(&str) -> Option<(String, Span)>,
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
    let mut built = site.built.to_vec();
    built.extend(shell::built_images(&text));
    let map = ValueMap::of(target);
    let alias_sites: Vec<Span> = node.alias_span().into_iter().collect();
    for found in shell::commands(&text, 0) {
        let word = found.span.of(&text);
        if found
            .image
            .as_ref()
            .is_ok_and(|i| shell::is_built(i, &built))
            || built.iter().any(|b| b == word)
        {
            continue;
        }
        let (a, b) = (found.span.start, found.span.end);
        let in_value = Span::new(start_in_value(&segments, a), end_in_value(&segments, b));
        // By value range, so that a rewrite to nothing inside the word counts too.
        let touched: Vec<&Rewrite> = segments
            .iter()
            .filter(|s| s.value.0 < in_value.end && in_value.start < s.value.1)
            .filter_map(|s| rewrites.get(s.rewrite?))
            .collect();
        let mapped = map.as_ref().and_then(|m| m.to_source(in_value));
        let Some(span) = mapped
            .filter(|s| site.file.get(s.start..s.end) == value.get(in_value.start..in_value.end))
        else {
            out.note(
                Span::new(target.start(), target.start()),
                format!(
                    "image operand {:?} of a shell command is not reported: its place in the \
                     file cannot be determined exactly (escapes or folding)",
                    in_value.of(value)
                ),
            );
            continue;
        };
        let (image, form, exact) = resolve(&found, word, &touched, site);
        out.push_image(ImageOccurrence {
            span,
            text: span.of(site.file).to_string(),
            image: image.map_err(Unresolved::new),
            source: site.source,
            form,
            alias_sites: alias_sites.clone(),
            context: site.context.map(str::to_string),
            exact,
        });
    }
}

/// The image of one operand, its form, and whether its span may be spliced.
fn resolve(
    found: &shell::ShellImage,
    word: &str,
    touched: &[&Rewrite],
    site: &ScriptSite<'_>,
) -> (Result<String, String>, Form, bool) {
    let unresolved = |reason: String| (Err(reason), Form::Expanded { origins: vec![] }, false);
    if let Some(reason) = touched.iter().find_map(|r| match &r.piece {
        Piece::Unknown { reason, .. } => Some(reason.clone()),
        _ => None,
    }) {
        return unresolved(reason);
    }
    let substituted = touched
        .iter()
        .any(|r| matches!(r.piece, Piece::Known { .. }));
    if substituted {
        let origins = touched
            .iter()
            .filter_map(|r| match &r.piece {
                Piece::Known { origin, .. } => origin.clone(),
                _ => None,
            })
            .collect();
        return (found.image.clone(), Form::Expanded { origins }, false);
    }
    match &found.image {
        // Written as is, apart from `$$` escapes (which no reference holds).
        Ok(image) => (
            Ok(image.clone()),
            Form::Literal,
            found.exact && touched.is_empty(),
        ),
        Err(reason) => match shell::variable_name(word).and_then(|n| Some((n, (site.env)(n)?))) {
            Some((name, (value, at))) => (
                Ok(value),
                Form::Expanded {
                    origins: vec![Origin {
                        name: name.to_string(),
                        span: at,
                    }],
                },
                false,
            ),
            None => unresolved(reason.clone()),
        },
    }
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
