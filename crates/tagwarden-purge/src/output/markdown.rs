//! The Markdown section of the incident report (`hunt --report … --purge PURGE.json`):
//! "Purged" and "Left to do by hand".

use std::fmt::Write as _;

use tagwarden_findings::output::escape::{markdown, markdown_code};

use crate::execute::Executed;
use crate::targets::State;

/// `## Purge` and its subsections, for the incident report.
pub fn section(run: &Executed) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "## Purge\n");
    if run.dry_run {
        let _ = writeln!(
            md,
            "A dry run: nothing was changed. Planned steps are listed under \"left to do\".\n"
        );
    }
    let purged: Vec<_> = run
        .steps
        .iter()
        .filter(|s| matches!(s.state, State::Done | State::AlreadyGone))
        .collect();
    let _ = writeln!(md, "### Purged\n");
    if purged.is_empty() && run.earlier.is_empty() {
        let _ = writeln!(md, "Nothing.\n");
    }
    for s in &purged {
        let _ = writeln!(
            md,
            "- {} ({}): {}",
            markdown_code(&s.describe()),
            s.state.as_str(),
            markdown(&s.why)
        );
    }
    for r in &run.earlier {
        let _ = writeln!(
            md,
            "- {} (an earlier run: {} at {})",
            markdown_code(&r.before),
            r.result_words(),
            markdown(&r.time)
        );
    }
    let todo: Vec<_> = run
        .steps
        .iter()
        .filter(|s| !matches!(s.state, State::Done | State::AlreadyGone))
        .collect();
    let _ = writeln!(md, "\n### Left to do by hand\n");
    if todo.is_empty() && run.left.is_empty() && run.problems.is_empty() {
        let _ = writeln!(
            md,
            "Nothing: planned again after the purge, nothing malicious is left in the places searched."
        );
    }
    for s in &todo {
        let _ = write!(
            md,
            "- {} ({}): {}",
            markdown_code(&s.describe()),
            s.state.as_str(),
            markdown(&s.why)
        );
        if let Some(reason) = s.state.reason() {
            let _ = write!(md, "; {}", markdown(reason));
        }
        let _ = writeln!(md);
        for i in &s.instead {
            let _ = writeln!(md, "  - {}", markdown(i));
        }
    }
    for s in run
        .left
        .iter()
        .filter(|l| !todo.iter().any(|t| t.key == l.key))
    {
        let _ = writeln!(
            md,
            "- {} (still there after the purge)",
            markdown_code(&s.describe())
        );
    }
    for p in &run.problems {
        let _ = writeln!(md, "- not searched: {}", markdown(p));
    }
    md
}
