//! The checklist for an incident ticket: a task list per credential, the credentials listed
//! apart, the jobs and why. `hunt --report` appends [`section`] to its report.

use std::fmt::Write as _;

use tagwarden_findings::output::escape::{markdown as cell, markdown_code as code};

use super::{kind_words, when};
use crate::checklist::{Checklist, Item};

/// The standalone report.
pub fn render(checklist: &Checklist) -> String {
    let mut md = String::from("# tagwarden exposure checklist\n\n");
    md.push_str(&section(checklist, 2));
    md
}

/// The checklist as a section whose headings start at `level` (2: `##`).
pub fn section(checklist: &Checklist, level: usize) -> String {
    let h = "#".repeat(level.clamp(1, 5));
    let mut md = String::new();
    let exposed_jobs = checklist.jobs.iter().filter(|j| j.status.exposed).count();
    let _ = writeln!(md, "{h} Credentials to rotate\n");
    if checklist.exposed.is_empty() {
        let _ = writeln!(
            md,
            "**Nothing to rotate found.** {} of the jobs the evidence names was exposed.\n",
            if exposed_jobs == 0 { "None" } else { "Some" }
        );
    } else {
        let _ = writeln!(
            md,
            "**{} credential(s)** could be read by {} exposed job(s). The runner of a job holds every secret the job uses, so a compromised step could read them all, whichever step names them. Rotate each, then tick it off.\n",
            checklist.exposed.len(),
            exposed_jobs
        );
    }
    for (n, item) in checklist.exposed.iter().enumerate() {
        item_md(&mut md, &h, n + 1, item);
    }
    if !checklist.not_exposed.is_empty() {
        let _ = writeln!(md, "{h} Not exposed\n");
        let _ = writeln!(
            md,
            "Only jobs that did not run the affected image while it was malicious could read these.\n"
        );
        let _ = writeln!(md, "| credential | kind | where kept | why not exposed |");
        let _ = writeln!(md, "|---|---|---|---|");
        for item in &checklist.not_exposed {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                code(&item.name),
                kind_words(item.kind),
                cell(&item.scope),
                cell(&item.not_exposed.join("; "))
            );
        }
        let _ = writeln!(md);
    }
    if !checklist.jobs.is_empty() {
        let _ = writeln!(md, "{h} Jobs\n");
        let _ = writeln!(md, "| job | platform | exposed | when | why |");
        let _ = writeln!(md, "|---|---|---|---|---|");
        for j in &checklist.jobs {
            let time = match (j.status.first, j.status.last) {
                (Some(f), Some(l)) if f != l => format!("{f} – {l}"),
                (Some(f), _) => f.to_string(),
                _ => "unknown".to_string(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                code(&j.key),
                j.platform.name(),
                if j.status.exposed { "**yes**" } else { "no" },
                time,
                cell(&j.status.why.join("; "))
            );
        }
        let _ = writeln!(md);
        let job_notes: Vec<String> = checklist
            .jobs
            .iter()
            .flat_map(|j| j.notes.iter().map(move |n| format!("{}: {n}", j.key)))
            .collect();
        if !job_notes.is_empty() {
            let _ = writeln!(md, "Also worth knowing:\n");
            for n in job_notes {
                let _ = writeln!(md, "- {}", cell(&n));
            }
            let _ = writeln!(md);
        }
    }
    if !checklist.notes.is_empty() {
        let _ = writeln!(md, "{h} Not read or not matched\n");
        for n in &checklist.notes {
            let _ = writeln!(md, "- {}", cell(&n.to_string()));
        }
        let _ = writeln!(md);
    }
    md
}

fn item_md(md: &mut String, h: &str, n: usize, item: &Item) {
    let _ = writeln!(
        md,
        "{h}# {n}. {} ({})\n",
        code(&item.name),
        kind_words(item.kind)
    );
    let _ = writeln!(md, "- **Kept in:** {}", cell(&item.scope));
    let _ = writeln!(md, "- **Whose:** {}", cell(&item.provider));
    if let (Some(p), Some(f)) = (&item.preview, &item.fingerprint) {
        let _ = writeln!(md, "- **Value:** {} (fingerprint {})", code(p), code(f));
    }
    if !item.accounts.is_empty() {
        let _ = writeln!(md, "- **Account:** {}", cell(&item.accounts.join(", ")));
    }
    if !item.found_at.is_empty() {
        let places: Vec<String> = item.found_at.iter().map(|p| code(&p.to_string())).collect();
        let _ = writeln!(md, "- **Found at:** {}", places.join(", "));
    }
    let _ = writeln!(md, "- **Exposed:** {}", cell(&when(item)));
    let _ = writeln!(md, "- **Why:**");
    for r in &item.reasons {
        let _ = writeln!(
            md,
            "  - {}: {} ({})",
            code(&r.job),
            cell(&r.why),
            code(&r.at.to_string())
        );
    }
    if let Some(r) = &item.rotation {
        let _ = writeln!(
            md,
            "- **Rotate** ([steps]({})):",
            r.docs.replace(['(', ')', ' '], "")
        );
        let _ = writeln!(md, "  - [ ] Revoke: {}", cell(&r.revoke));
        let _ = writeln!(md, "  - [ ] Reissue: {}", cell(&r.reissue));
        let _ = writeln!(md, "  - [ ] Update: {}", cell(&r.update));
        let _ = writeln!(md, "  - [ ] Confirm: {}", cell(&r.confirm));
    }
    let _ = writeln!(md);
}
