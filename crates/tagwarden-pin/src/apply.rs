//! Splicing edits into a text.

use std::fmt;

use crate::{Edit, Span};

/// Why a set of edits cannot be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyError {
    /// The span ends past the text, or starts after it ends.
    OutOfBounds { span: Span, len: usize },
    /// The span would cut a UTF-8 character.
    NotCharBoundary { offset: usize },
    /// Two edits touch the same bytes, or insert at the same place.
    Overlap { first: Span, second: Span },
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfBounds { span, len } => write!(
                f,
                "edit {}..{} is outside the text ({len} bytes)",
                span.start, span.end
            ),
            Self::NotCharBoundary { offset } => {
                write!(f, "edit at byte {offset} would split a character")
            }
            Self::Overlap { first, second } => write!(
                f,
                "edits {}..{} and {}..{} overlap",
                first.start, first.end, second.start, second.end
            ),
        }
    }
}

impl std::error::Error for ApplyError {}

/// Applies non-overlapping edits (in any order) and returns the new text. Overlapping,
/// out-of-bounds or character-splitting edits are an error; nothing panics.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, ApplyError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut previous: Option<&Edit> = None;
    let mut max_end = 0;
    let mut growth = 0usize;
    for e in &sorted {
        let Span { start, end } = e.span;
        if start > end || end > text.len() {
            return Err(ApplyError::OutOfBounds {
                span: e.span,
                len: text.len(),
            });
        }
        for offset in [start, end] {
            if !text.is_char_boundary(offset) {
                return Err(ApplyError::NotCharBoundary { offset });
            }
        }
        if let Some(p) = previous
            && (start < max_end || p.overlaps(e))
        {
            return Err(ApplyError::Overlap {
                first: p.span,
                second: e.span,
            });
        }
        max_end = max_end.max(end);
        growth = growth.saturating_add(e.replacement.len());
        previous = Some(e);
    }
    let mut out = String::with_capacity(text.len().saturating_add(growth));
    let mut at = 0;
    for e in sorted {
        out.push_str(text.get(at..e.span.start).unwrap_or(""));
        out.push_str(&e.replacement);
        at = e.span.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(at: usize, s: &str) -> Edit {
        Edit::insert(at, s)
    }

    #[test]
    fn applies_in_any_order() {
        let edits = [
            ins(5, "!"),
            Edit::replace(Span::new(0, 1), "H"),
            ins(0, ">"),
        ];
        assert_eq!(apply("hello", &edits).unwrap(), ">Hello!");
    }

    #[test]
    fn rejects_bad_edits_without_panicking() {
        assert!(matches!(
            apply("abc", &[ins(4, "x")]),
            Err(ApplyError::OutOfBounds { .. })
        ));
        assert!(matches!(
            apply("abc", &[Edit::replace(Span { start: 2, end: 1 }, "x")]),
            Err(ApplyError::OutOfBounds { .. })
        ));
        assert!(matches!(
            apply("é", &[ins(1, "x")]),
            Err(ApplyError::NotCharBoundary { offset: 1 })
        ));
        assert!(matches!(
            apply(
                "abcdef",
                &[
                    Edit::replace(Span::new(0, 3), "x"),
                    Edit::replace(Span::new(2, 4), "y")
                ]
            ),
            Err(ApplyError::Overlap { .. })
        ));
        assert!(matches!(
            apply("abcdef", &[ins(2, "x"), ins(2, "y")]),
            Err(ApplyError::Overlap { .. })
        ));
        assert!(matches!(
            apply(
                "abcdef",
                &[Edit::replace(Span::new(0, 6), "x"), ins(3, "y")]
            ),
            Err(ApplyError::Overlap { .. })
        ));
        // Touching edits are fine: an insertion at the end of a replaced range comes after it.
        assert_eq!(
            apply(
                "abcdef",
                &[Edit::replace(Span::new(0, 3), "X"), ins(3, "y")]
            )
            .unwrap(),
            "Xydef"
        );
        assert_eq!(apply("", &[]).unwrap(), "");
    }
}
