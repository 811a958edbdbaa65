//! Where a finding is: a file, a 1-based line/column range and, when known, the byte span.

/// The line of a text holding a byte offset, without its line ending.
pub use tagwarden_text::line_at as source_line;
use tagwarden_text::line_column;

/// A byte range `start..end` in a file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ByteSpan {
    pub start: usize,
    pub end: usize,
}

impl ByteSpan {
    pub fn new(start: usize, end: usize) -> Self {
        ByteSpan { start, end }
    }
}

/// A range in a file. Lines are 1-based; columns are 1-based and count characters (Unicode
/// scalar values), not bytes. `end_column` is exclusive: the column just after the last
/// character, as in SARIF, so a one-character range has `end_column == column + 1`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// Relative to the scan root, with `/` separators.
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub span: Option<ByteSpan>,
}

impl Location {
    /// A location covering one character at `line:column`, without a byte span.
    pub fn point(path: impl Into<String>, line: usize, column: usize) -> Self {
        Location {
            path: path.into(),
            line,
            column,
            end_line: line,
            end_column: column.saturating_add(1),
            span: None,
        }
    }

    /// The location of `span` in `text`. Offsets past the end or inside a UTF-8 sequence are
    /// clamped, never a panic.
    pub fn from_span(path: impl Into<String>, text: &str, span: ByteSpan) -> Self {
        let (line, column) = line_column(text, span.start);
        let (end_line, end_column) = line_column(text, span.end.max(span.start));
        Location {
            path: path.into(),
            line,
            column,
            end_line,
            // An empty span still covers a caret's width.
            end_column: if (end_line, end_column) == (line, column) {
                column.saturating_add(1)
            } else {
                end_column
            },
            span: Some(span),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_span_counts_chars() {
        let text = "a\nxé image\n";
        let start = text.find("image").unwrap();
        let loc = Location::from_span("f", text, ByteSpan::new(start, start + 5));
        assert_eq!(
            (loc.line, loc.column, loc.end_line, loc.end_column),
            (2, 4, 2, 9)
        );
    }

    #[test]
    fn from_span_clamps_hostile_offsets() {
        let text = "é";
        let loc = Location::from_span("f", text, ByteSpan::new(1, 99));
        assert_eq!((loc.line, loc.column), (1, 1));
        assert_eq!((loc.end_line, loc.end_column), (1, 2));
        let loc = Location::from_span("f", "", ByteSpan::new(5, 2));
        assert_eq!((loc.line, loc.column, loc.end_column), (1, 1, 2));
    }

    #[test]
    fn multi_line_span() {
        let text = "ab\ncd\nef";
        let loc = Location::from_span("f", text, ByteSpan::new(1, 7));
        assert_eq!(
            (loc.line, loc.column, loc.end_line, loc.end_column),
            (1, 2, 3, 2)
        );
    }

    #[test]
    fn source_line_strips_endings() {
        let text = "one\r\ntwo\nthree";
        assert_eq!(source_line(text, 0), "one");
        assert_eq!(source_line(text, 3), "one");
        assert_eq!(source_line(text, 5), "two");
        assert_eq!(source_line(text, 12), "three");
        assert_eq!(source_line(text, 999), "three");
        assert_eq!(source_line("", 0), "");
    }
}
