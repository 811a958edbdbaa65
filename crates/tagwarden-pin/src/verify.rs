//! Checking a rewrite after the fact: only the targeted references changed, and only by gaining
//! (or changing) a digest.

use std::collections::BTreeMap;

use tagwarden_extract::{
    DiagnosticKind, Extraction, FileKind, Form, ImageOccurrence, PartRole, Source,
};
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
    let shift = Shift::new(edits);
    // Occurrences by where they are (in the new text's offsets) and what found them. Two
    // expansions of one site that differed only by an implicit `latest` may become one.
    let mut before_at: BTreeMap<(usize, Source), Vec<&ImageOccurrence>> = BTreeMap::new();
    for o in &old.images {
        before_at
            .entry((shift.at(o.span.start), o.source))
            .or_default()
            .push(o);
    }
    let mut after_at: BTreeMap<(usize, Source), Vec<&ImageOccurrence>> = BTreeMap::new();
    for o in &new.images {
        after_at
            .entry((o.span.start, o.source))
            .or_default()
            .push(o);
    }
    if let Some(((at, _), list)) = before_at.iter().find(|(k, _)| !after_at.contains_key(k)) {
        let text = list.first().map_or("", |o| o.text.as_str());
        return Err(format!(
            "the reference {text:?} is not where it should be after the rewrite (byte {at})"
        ));
    }
    if let Some(((at, _), list)) = after_at.iter().find(|(k, _)| !before_at.contains_key(k)) {
        let text = list.first().map_or("", |o| o.text.as_str());
        return Err(format!(
            "the rewrite shows a new reference {text:?} at byte {at}"
        ));
    }
    for (key, olds) in &before_at {
        let news = after_at.get(key).map_or(&[][..], Vec::as_slice);
        let mut matched = vec![false; news.len()];
        for a in olds {
            let mut first_error = None;
            let mut found = false;
            for (i, b) in news.iter().enumerate() {
                match same_occurrence(a, b) {
                    Ok(()) => {
                        found = true;
                        if let Some(m) = matched.get_mut(i) {
                            *m = true;
                        }
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            if !found {
                return Err(first_error.unwrap_or_else(|| {
                    format!("the reference {:?} is gone after the rewrite", a.text)
                }));
            }
        }
        if let Some(i) = matched.iter().position(|m| !m) {
            let text = news.get(i).map_or("", |o| o.text.as_str());
            return Err(format!(
                "the rewrite shows a reference {text:?} that matches none before"
            ));
        }
    }
    Ok(())
}

fn parse_errors(e: &Extraction) -> usize {
    e.diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::ParseError)
        .count()
}

/// Maps offsets of the original text to the rewritten one.
struct Shift {
    /// Edits sorted by start, with the total growth of the text after each.
    starts: Vec<usize>,
    ends: Vec<usize>,
    growth: Vec<isize>,
}

impl Shift {
    fn new(edits: &[Edit]) -> Self {
        let mut sorted: Vec<&Edit> = edits.iter().collect();
        sorted.sort_by_key(|e| (e.span.start, e.span.end));
        let mut total = 0isize;
        let mut growth = Vec::with_capacity(sorted.len());
        for e in &sorted {
            let delta = isize::try_from(e.replacement.len()).unwrap_or(isize::MAX)
                - isize::try_from(e.span.len()).unwrap_or(isize::MAX);
            total = total.saturating_add(delta);
            growth.push(total);
        }
        Self {
            starts: sorted.iter().map(|e| e.span.start).collect(),
            ends: sorted.iter().map(|e| e.span.end).collect(),
            growth,
        }
    }

    /// Where byte `pos` of the original is after the edits (text inserted at `pos` goes after
    /// it). The edits do not overlap, so at most one of those starting before `pos` reaches past it.
    fn at(&self, pos: usize) -> usize {
        let mut n = self.starts.partition_point(|&s| s < pos);
        if n > 0 && self.ends.get(n - 1).is_some_and(|&e| e > pos) {
            n -= 1;
        }
        let delta = n
            .checked_sub(1)
            .and_then(|i| self.growth.get(i))
            .copied()
            .unwrap_or(0);
        pos.saturating_add_signed(delta)
    }
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
    let b = Reference::parse(before).map_err(|e| format!("{before:?} was invalid: {e}"))?;
    let a = Reference::parse(after)
        .map_err(|e| format!("{before:?} became {after:?}, which is invalid: {e}"))?;
    if !a.is_pinned() {
        return Err(format!("{before:?} became {after:?}, which is not pinned"));
    }
    let name = |s: &str, r: &Reference| s.get(r.written().name.clone()).map(str::to_string);
    if name(before, &b) != name(after, &a) {
        return Err(format!("{before:?} became {after:?}: the name changed"));
    }
    if b.effective_tag().is_some() && b.effective_tag() != a.effective_tag() {
        return Err(format!("{before:?} became {after:?}: the tag changed"));
    }
    Ok(())
}
