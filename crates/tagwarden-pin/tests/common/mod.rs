//! What every pin test checks: the real extractor, a plan with a synthetic digest, the rewrite
//! compared byte for byte, only the edited bytes changed, `verify_rewrite`, the pinned
//! references still naming the same repository and tag, and a second plan with nothing to do.

#![allow(dead_code, clippy::unwrap_used)] // Each test file uses some of these.

use tagwarden_extract::{FileKind, Source, extract};
use tagwarden_pin::{Edit, Skip, apply, edits, plan, verify_rewrite};
use tagwarden_reference::{Digest, Reference};

/// The synthetic digest every reference resolves to.
pub(crate) fn digest() -> Digest {
    Digest::parse(&format!("sha256:{}", "b".repeat(64))).unwrap()
}

/// A resolver that knows every reference.
pub(crate) fn fake(_: &Reference) -> Option<Digest> {
    Some(digest())
}

/// `%D` in expected texts stands for the synthetic digest.
pub(crate) fn expand(s: &str) -> String {
    s.replace("%D", &format!("sha256:{}", "b".repeat(64)))
}

/// Every byte outside the edit spans is the same, in the same order.
pub(crate) fn outside_edits_identical(before: &str, after: &str, edits: &[Edit]) {
    let mut sorted = edits.to_vec();
    sorted.sort();
    let (mut b, mut a) = (0, 0);
    for e in &sorted {
        let keep = e.span.start - b;
        assert_eq!(before[b..e.span.start], after[a..a + keep]);
        a += keep + e.replacement.len();
        b = e.span.end;
    }
    assert_eq!(before[b..], after[a..]);
}

/// Pins `before` (with `%D` expanded) and checks the output is `after`; returns each
/// occurrence's source and outcome (the number of edits, or why it was skipped) in file order.
pub(crate) fn expect_sources(
    kind: FileKind,
    before: &str,
    after: &str,
) -> Vec<(Source, Result<usize, Skip>)> {
    let before = expand(before);
    let ex = extract(kind, &before);
    let planned = plan(&before, &ex, &fake);
    let all = edits(&planned);
    let pinned = apply(&before, &all).unwrap();
    outside_edits_identical(&before, &pinned, &all);
    verify_rewrite(kind, &before, &pinned, &all).unwrap();
    assert_eq!(pinned, expand(after));
    let ex2 = extract(kind, &pinned);
    assert_eq!(ex.images.len(), ex2.images.len());
    for p in planned.iter().filter(|p| p.outcome.is_ok()) {
        let old = Reference::parse(ex.images[p.occurrence_index].image.as_ref().unwrap()).unwrap();
        let new = Reference::parse(ex2.images[p.occurrence_index].image.as_ref().unwrap()).unwrap();
        assert!(new.is_pinned(), "{new:?}");
        assert_eq!(old.repository(), new.repository());
        assert_eq!(old.effective_tag(), new.effective_tag());
    }
    let again = plan(&pinned, &ex2, &fake);
    assert_eq!(edits(&again), vec![], "second plan: {again:#?}");
    planned
        .into_iter()
        .map(|p| {
            (
                ex.images[p.occurrence_index].source,
                p.outcome.map(|e| e.len()),
            )
        })
        .collect()
}

/// [`expect_sources`] without the sources.
pub(crate) fn expect(kind: FileKind, before: &str, after: &str) -> Vec<Result<usize, Skip>> {
    expect_sources(kind, before, after)
        .into_iter()
        .map(|(_, o)| o)
        .collect()
}

/// How many occurrences were pinned with one edit.
pub(crate) fn pinned(outcomes: &[Result<usize, Skip>]) -> usize {
    outcomes.iter().filter(|o| **o == Ok(1)).count()
}
