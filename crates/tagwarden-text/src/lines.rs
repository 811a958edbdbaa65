//! Byte offsets to 1-based lines and columns. Columns count characters (Unicode scalar values),
//! not bytes; an offset past the end or inside a UTF-8 sequence is moved back to the character
//! it falls in, never a panic.

/// Line starts of a text, for turning many byte offsets into (line, column).
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Self { starts }
    }

    /// 1-based line and 1-based column (in characters) of a byte offset of `text`.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset);
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        (line, column(text, start, offset))
    }

    /// The 1-based line holding a byte offset, without counting columns (cheap on long lines).
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self.starts.get(line).map_or(text.len(), |&e| e);
        text.get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// Byte offset where a 1-based line starts.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line.wrapping_sub(1)).copied()
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

/// 1-based line and column (in characters) of one byte offset, without building an index.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset);
    let before = text.get(..offset).unwrap_or("");
    let line = memchr::memchr_iter(b'\n', before.as_bytes()).count() + 1;
    let start = memchr::memrchr(b'\n', before.as_bytes()).map_or(0, |i| i + 1);
    (line, column(text, start, offset))
}

/// The line of `text` holding byte `offset`, without its line ending.
pub fn line_at(text: &str, offset: usize) -> &str {
    let offset = floor_char_boundary(text, offset);
    let (before, after) = text.split_at(offset);
    let start = memchr::memrchr(b'\n', before.as_bytes()).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', after.as_bytes()).map_or(text.len(), |i| offset + i);
    text.get(start..end).unwrap_or("").trim_end_matches('\r')
}

/// The 1-based column of `offset` on the line starting at `line_start`.
fn column(text: &str, line_start: usize, offset: usize) -> usize {
    text.get(line_start..offset)
        .map_or(0, |s| s.chars().count())
        + 1
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let t = "ab\r\nçd\nx";
        let idx = LineIndex::new(t);
        for (offset, want) in [
            (0, (1, 1)),
            (4, (2, 1)),
            (6, (2, 2)),
            (8, (3, 1)),
            (9, (3, 2)),
        ] {
            assert_eq!(idx.line_col(t, offset), want);
            assert_eq!(line_column(t, offset), want);
        }
        assert_eq!(idx.line(t, 1), "ab");
        assert_eq!(idx.line(t, 2), "çd");
        assert_eq!(idx.line(t, 3), "x");
        assert_eq!(idx.line(t, 4), "");
        assert_eq!(line_at(t, 1), "ab");
        assert_eq!(line_at(t, 6), "çd");
        assert_eq!(line_at(t, 8), "x");
    }

    #[test]
    fn hostile_offsets_are_clamped() {
        let t = "é\n";
        let idx = LineIndex::new(t);
        // Inside the two bytes of `é`: the character it falls in.
        assert_eq!(idx.line_col(t, 1), (1, 1));
        assert_eq!(line_column(t, 1), (1, 1));
        assert_eq!(idx.line_col(t, 99), (2, 1));
        assert_eq!(line_column(t, 99), (2, 1));
        assert_eq!(line_at(t, 99), "");
        assert_eq!(line_column("", 5), (1, 1));
    }
}
