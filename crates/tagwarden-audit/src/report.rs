//! The Markdown section for reports (`tagwarden audit --format markdown`, and the hunt report
//! when it is given audit logs): what the baseline was, then every finding with what it was
//! compared with. Text from the logs is escaped.

use std::fmt::Write as _;

use tagwarden_findings::output::escape::{markdown, markdown_code};

use crate::judge::{Judgement, when};

/// `## Registry audit logs`, as Markdown.
pub fn markdown_section(j: &Judgement) -> String {
    let mut out = String::from("## Registry audit logs\n\n");
    let period = match (j.baseline_from, j.baseline_to) {
        (Some(f), Some(t)) => format!("{} – {}", when(f), when(t)),
        (None, Some(t)) => format!("before {}", when(t)),
        _ => "none".to_string(),
    };
    let _ = writeln!(
        out,
        "Baseline {period}: {} push(es). Judged after it: {} push(es) of {} {}.\n",
        j.baseline_pushes,
        j.judged_pushes,
        j.repositories,
        if j.repositories == 1 {
            "repository"
        } else {
            "repositories"
        }
    );
    if j.findings.is_empty() {
        out.push_str("No push strays from its repository's history.\n");
    } else {
        out.push_str("| severity | rule | push | when | what | compared with | where |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for f in &j.findings {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} | {} | {}:{} |",
                f.severity,
                f.rule.id,
                markdown_code(&f.reference),
                when(f.time),
                markdown(&f.message),
                markdown(&f.baseline),
                markdown(&f.location),
                f.line
            );
        }
    }
    for n in &j.notes {
        let _ = writeln!(out, "\n- {}", markdown(n));
    }
    out
}
