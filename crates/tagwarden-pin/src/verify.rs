//! Checking a rewrite after the fact: only the targeted references changed, and only by gaining
//! (or changing) a digest.

use tagwarden_extract::{DiagnosticKind, Extraction, FileKind, Form, ImageOccurrence, PartRole};
use tagwarden_reference::Reference;

use crate::{Edit, apply};

/// Re-extracts `after` and compares it with `before`: every byte outside the edit spans must be
/// the same, the same references must be found in the same order, and a reference may only have
/// changed by gaining or changing a digest while keeping its name as written and its tag.
/// Returns the first violation.
pub fn verify_rewrite(
    kind: FileKind,
    before: &str,
    after: &str,
    edits: &[Edit],
) -> Result<(), String> {
    let expected = apply(before, edits).map_err(|e| format!("the edits do not apply: {e}"))?;
    if expected != after {
        let at = expected
            .bytes()
            .zip(after.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(after.len()));
        return Err(format!(
            "the rewritten text differs from the edits' result at byte {at}"
        ));
    }
    let old = tagwarden_extract::extract(kind, before);
    let new = tagwarden_extract::extract(kind, after);
    if parse_errors(&new) > parse_errors(&old) {
        return Err("the rewritten file has a parse error the original did not have".to_string());
    }
    if old.images.len() != new.images.len() {
        return Err(format!(
            "{} references before the rewrite, {} after",
            old.images.len(),
            new.images.len()
        ));
    }
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    for (a, b) in old.images.iter().zip(&new.images) {
        let moved_to = shift(&sorted, a.span.start);
        if b.span.start != moved_to {
            return Err(format!(
                "the reference at byte {} ({:?}) is not where it should be after the rewrite",
                a.span.start, a.text
            ));
        }
        same_occurrence(a, b)?;
    }
    Ok(())
}

fn parse_errors(e: &Extraction) -> usize {
    e.diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::ParseError)
        .count()
}

/// Where byte `pos` of the original is after the edits (text inserted at `pos` goes after it).
fn shift(edits: &[&Edit], pos: usize) -> usize {
    let mut out = pos;
    for e in edits {
        if e.span.end <= pos && e.span.start < pos {
            out = out + e.replacement.len() - e.span.len();
        }
    }
    out
}

fn same_occurrence(a: &ImageOccurrence, b: &ImageOccurrence) -> Result<(), String> {
    let at = || format!("the reference at byte {} ({:?})", a.span.start, a.text);
    if a.source != b.source || a.context != b.context {
        return Err(format!("{} changed its source or context", at()));
    }
    if a.alias_sites.len() != b.alias_sites.len() {
        return Err(format!("{} changed its alias sites", at()));
    }
    let same_form = match (&a.form, &b.form) {
        (Form::Literal, Form::Literal) | (Form::Expanded { .. }, Form::Expanded { .. }) => true,
        (Form::Composed { parts: p }, Form::Composed { parts: q }) => {
            let roles = |parts: &[tagwarden_extract::Part]| -> Vec<PartRole> {
                parts
                    .iter()
                    .map(|p| p.role)
                    .filter(|r| *r != PartRole::Digest)
                    .collect()
            };
            roles(p) == roles(q)
        }
        _ => false,
    };
    if !same_form {
        return Err(format!("{} changed form", at()));
    }
    match (&a.image, &b.image) {
        (Ok(x), Ok(y)) if x == y => Ok(()),
        (Ok(x), Ok(y)) => pinned_version_of(x, y).map_err(|why| format!("{}: {why}", at())),
        (Err(_), Err(_)) => Ok(()),
        (Ok(_), Err(e)) => Err(format!("{} became unresolved: {}", at(), e.reason)),
        (Err(_), Ok(y)) => Err(format!("{} became resolvable as {y:?}", at())),
    }
}

/// `after` must be `before` with a digest added or changed: the same name as written, the same tag.
fn pinned_version_of(before: &str, after: &str) -> Result<(), String> {
    let b = Reference::parse(before.trim()).map_err(|e| format!("{before:?} was invalid: {e}"))?;
    let a = Reference::parse(after.trim())
        .map_err(|e| format!("{before:?} became {after:?}, which is invalid: {e}"))?;
    if !a.is_pinned() {
        return Err(format!("{before:?} became {after:?}, which is not pinned"));
    }
    let name = |s: &str, r: &Reference| s.trim().get(r.written().name.clone()).map(str::to_string);
    if name(before, &b) != name(after, &a) {
        return Err(format!("{before:?} became {after:?}: the name changed"));
    }
    if b.effective_tag().is_some() && b.effective_tag() != a.effective_tag() {
        return Err(format!("{before:?} became {after:?}: the tag changed"));
    }
    Ok(())
}
