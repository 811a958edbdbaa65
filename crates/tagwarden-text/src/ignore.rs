//! Inline ignore comments: `# tagwarden: ignore[rule, …]` on a reference's line or the line
//! above silences those rules there; a bare `# tagwarden: ignore` silences every rule. The mark
//! is found anywhere on the line, so any comment syntax carries it (`#`, `//`, `<!-- -->`).

use crate::LineIndex;

const MARK: &str = "tagwarden: ignore";

/// True when `line` holds an ignore comment that covers `rule`.
pub fn ignores(line: &str, rule: &str) -> bool {
    let Some(at) = line.find(MARK) else {
        return false;
    };
    let rest = line.get(at + MARK.len()..).unwrap_or("");
    match rest.strip_prefix('[') {
        Some(list) => list
            .split(']')
            .next()
            .unwrap_or("")
            .split(',')
            .any(|r| r.trim() == rule),
        None => rest.is_empty() || rest.starts_with(char::is_whitespace),
    }
}

/// True when 1-based `line` of `text`, or the line above it, ignores `rule`.
pub fn ignored_on_line(text: &str, lines: &LineIndex, line: usize, rule: &str) -> bool {
    [line, line.saturating_sub(1)]
        .into_iter()
        .filter(|&l| l > 0)
        .any(|l| ignores(lines.line(text, l), rule))
}

/// True when the line holding byte `offset` of `text`, or the line above it, ignores `rule`.
pub fn ignored_at(text: &str, offset: usize, rule: &str) -> bool {
    let offset = offset.min(text.len());
    let line_start = text
        .get(..offset)
        .and_then(|b| memchr::memrchr(b'\n', b.as_bytes()))
        .map_or(0, |n| n + 1);
    let above = match line_start {
        0 => "",
        _ => crate::line_at(text, line_start - 1),
    };
    ignores(crate::line_at(text, offset), rule) || ignores(above, rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_listed_or_all() {
        assert!(ignores(
            "image: x # tagwarden: ignore[unpinned-image]",
            "unpinned-image"
        ));
        assert!(ignores(
            "# tagwarden: ignore[a, unpinned-image]",
            "unpinned-image"
        ));
        assert!(!ignores(
            "# tagwarden: ignore[floating-latest]",
            "unpinned-image"
        ));
        assert!(ignores("# tagwarden: ignore", "anything"));
        assert!(ignores("// tagwarden: ignore because", "anything"));
        assert!(!ignores("# tagwarden: ignored", "anything"));
        assert!(!ignores("image: x", "unpinned-image"));
    }

    #[test]
    fn the_line_or_the_one_above() {
        let t = "a: 1\n# tagwarden: ignore[pin]\nimage: x\nimage: y\n";
        let idx = LineIndex::new(t);
        assert!(ignored_on_line(t, &idx, 3, "pin"));
        assert!(ignored_on_line(t, &idx, 2, "pin"));
        assert!(!ignored_on_line(t, &idx, 4, "pin"));
        assert!(!ignored_on_line(t, &idx, 1, "pin"));
        let x = t.find("x").unwrap();
        let y = t.find("y").unwrap();
        assert!(ignored_at(t, x, "pin"));
        assert!(!ignored_at(t, y, "pin"));
        assert!(!ignored_at(t, 0, "pin"));
        assert!(!ignored_at(t, 999, "pin"));
    }
}
