//! Unified diffs of a rewrite, for `pin --diff` and review.

use std::time::Duration;

use similar::TextDiff;

/// How long the diff may search for a minimal result before settling for a coarser one.
const DIFF_TIMEOUT: Duration = Duration::from_secs(5);

/// A `--- a/path` / `+++ b/path` unified diff with 3 lines of context; empty when nothing
/// changed. Line endings are kept as they are in the file.
pub fn unified_diff(path: &str, before: &str, after: &str) -> String {
    TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_with_context_and_headers() {
        let before = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let after = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            unified_diff("x/Dockerfile", before, after),
            "--- a/x/Dockerfile\n+++ b/x/Dockerfile\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
        assert_eq!(unified_diff("x", before, before), "");
    }

    #[test]
    fn missing_final_newline_is_marked() {
        let d = unified_diff("f", "FROM a", "FROM a:latest@x");
        assert!(d.contains("\\ No newline at end of file"), "{d}");
    }
}
