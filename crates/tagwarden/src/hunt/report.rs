//! The incident report (Markdown) and the short human summary: what was found, where, when,
//! and what to do next.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use tagwarden_advisory::AdvisorySet;
use tagwarden_findings::output::escape::{self, terminal};

use super::{Hit, Outcome, Verdict};

fn when(h: &Hit) -> String {
    h.timestamp
        .map_or_else(|| "time unknown".to_string(), |t| t.to_string())
}

/// Text from evidence (paths, zip entry names, job names, messages) in a Markdown table cell or
/// line: it can neither break the table nor inject HTML, links or escape sequences.
fn cell(s: &str) -> String {
    escape::markdown(s)
}

/// The same, as a code span.
fn code(s: &str) -> String {
    escape::markdown_code(s)
}

pub(crate) fn markdown(outcome: &Outcome, advisories: &AdvisorySet) -> String {
    let mut md = String::new();
    let count = |v| outcome.hits.iter().filter(|h| h.verdict == v).count();
    let _ = writeln!(md, "# tagwarden hunt report\n");
    if outcome.hits.is_empty() {
        let _ = writeln!(
            md,
            "**No hits.** No evidence of the advisories below was found in the sources searched.\n"
        );
    } else {
        let _ = writeln!(
            md,
            "**Hit.** {} compromised, {} exposed, {} disputed, {} contacted.\n",
            count(Verdict::Compromised),
            count(Verdict::Exposed),
            count(Verdict::Disputed),
            count(Verdict::Contacted)
        );
    }
    let failed: Vec<_> = outcome
        .sources
        .iter()
        .filter(|s| s.status != "ok")
        .collect();
    if !failed.is_empty() || !outcome.problems.is_empty() {
        let _ = writeln!(
            md,
            "> **Not everything could be searched** ({} source(s) failed, {} problem(s)): see \"Sources\" below. A clean result covers only what was read.\n",
            failed.len(),
            outcome.problems.len()
        );
    }

    let ids: BTreeSet<&str> = outcome.hits.iter().map(|h| h.advisory.as_str()).collect();
    if !ids.is_empty() {
        let _ = writeln!(md, "## Advisories hit\n");
        for id in &ids {
            if let Some(a) = advisories.get(id) {
                let _ = writeln!(md, "- **{}**: {}", cell(&a.id), cell(&a.title));
            }
        }
        let _ = writeln!(md);
    }

    if !outcome.hits.is_empty() {
        let _ = writeln!(md, "## Timeline\n");
        let _ = writeln!(
            md,
            "| time (UTC) | verdict | advisory | source | where | host / job | what |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|");
        for h in outcome.timeline() {
            let who = [h.host.as_deref(), h.job.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / ");
            let _ = writeln!(
                md,
                "| {} | **{}** | {} | {} | {} | {} | {} |",
                when(h),
                h.verdict.as_str(),
                cell(&h.advisory),
                h.source,
                code(&h.location),
                cell(&who),
                cell(&h.detail)
            );
        }
        let _ = writeln!(md);
        next_steps(&mut md, outcome);
    }

    if !outcome.weak.is_empty() {
        let _ = writeln!(md, "## Weak signals (not hits on their own)\n");
        for h in &outcome.weak {
            let _ = writeln!(
                md,
                "- {} {}: {} ({})",
                when(h),
                code(&h.location),
                cell(&h.detail),
                cell(&h.advisory)
            );
        }
        let _ = writeln!(md);
    }

    let _ = writeln!(md, "## Sources\n");
    let _ = writeln!(md, "| source | status | files | bytes | records |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    for s in &outcome.sources {
        let status = match &s.error {
            Some(e) => format!("**not searched**: {}", cell(e)),
            None => "searched".into(),
        };
        let _ = writeln!(
            md,
            "| {} | {status} | {} | {} | {} |",
            cell(&s.name),
            s.files,
            s.bytes,
            s.records
        );
    }
    if !outcome.problems.is_empty() {
        let _ = writeln!(md, "\nProblems (evidence that could not be read):\n");
        for p in &outcome.problems {
            let _ = writeln!(
                md,
                "- {} ({}): {}",
                code(&p.location),
                p.source.as_str(),
                cell(&p.message)
            );
        }
    }
    let _ = writeln!(
        md,
        "\nAdvisories searched: {}.",
        advisories
            .advisories()
            .iter()
            .map(|a| cell(&a.id))
            .collect::<Vec<_>>()
            .join(", ")
    );
    md
}

fn next_steps(md: &mut String, outcome: &Outcome) {
    let _ = writeln!(md, "## What to do next\n");
    let runs: BTreeSet<String> = outcome
        .hits
        .iter()
        .filter(|h| {
            matches!(
                h.verdict,
                Verdict::Compromised | Verdict::Exposed | Verdict::Disputed
            )
        })
        .filter(|h| h.source != "file" && h.source != "registry")
        .map(|h| {
            [
                h.host.as_deref(),
                h.job.as_deref(),
                Some(h.location.as_str()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" / ")
        })
        .collect();
    let _ = writeln!(
        md,
        "1. **Rotate credentials.** Treat every secret that these runs, machines and jobs could read as exposed: CI tokens and secrets, registry and cloud credentials, kubeconfigs, and anything in the files the scanner read (the KICS backdoor sent scan output — secrets, cloud resource names, topology — to the attacker)."
    );
    for r in &runs {
        let _ = writeln!(md, "   - {}", cell(r));
    }
    let digests: BTreeSet<&str> = outcome
        .hits
        .iter()
        .filter(|h| h.verdict == Verdict::Compromised && h.indicator.starts_with("sha256:"))
        .map(|h| h.indicator.as_str())
        .collect();
    let _ = writeln!(
        md,
        "2. **Purge** the malicious images from engines, CI runners, pull-through caches and registries:"
    );
    for d in &digests {
        let _ = writeln!(md, "   - {}", code(d));
    }
    let files: BTreeSet<&str> = outcome
        .hits
        .iter()
        .filter(|h| h.source == "file")
        .map(|h| h.location.as_str())
        .collect();
    let _ = writeln!(
        md,
        "3. **Pin** to known-good digests (`tagwarden pin --to-known-good`), starting with:"
    );
    for f in &files {
        let _ = writeln!(md, "   - {}", code(f));
    }
    let contacted = outcome.hits.iter().any(|h| h.verdict == Verdict::Contacted);
    if contacted {
        let _ = writeln!(
            md,
            "4. **Block** the contacted indicators at the egress proxy and DNS, and keep the logs: they are the evidence of what left."
        );
    }
    let _ = writeln!(md);
}

/// A few lines for a terminal; the full story is in the Markdown report.
pub(crate) fn summary(outcome: &Outcome) -> String {
    let mut s = String::new();
    for h in outcome.timeline() {
        let _ = writeln!(
            s,
            "{:<11} {} {} [{}] {}: {}",
            h.verdict.as_str(),
            when(h),
            terminal(&h.advisory),
            h.source,
            terminal(&h.location),
            terminal(&h.detail)
        );
    }
    for h in &outcome.weak {
        let _ = writeln!(
            s,
            "weak        {} {} [{}] {}: {}",
            when(h),
            terminal(&h.advisory),
            h.source,
            terminal(&h.location),
            terminal(&h.detail)
        );
    }
    for src in &outcome.sources {
        if let Some(e) = &src.error {
            let _ = writeln!(
                s,
                "error: not searched: {}: {}",
                terminal(&src.name),
                terminal(e)
            );
        }
    }
    for p in &outcome.problems {
        let _ = writeln!(
            s,
            "problem: {} ({}): {}",
            terminal(&p.location),
            p.source.as_str(),
            terminal(&p.message)
        );
    }
    let count = |v| outcome.hits.iter().filter(|h| h.verdict == v).count();
    let _ = writeln!(
        s,
        "{}: {} compromised, {} exposed, {} disputed, {} contacted; {} sources searched, {} pieces of evidence",
        if outcome.hits.is_empty() {
            "clean"
        } else {
            "HIT"
        },
        count(Verdict::Compromised),
        count(Verdict::Exposed),
        count(Verdict::Disputed),
        count(Verdict::Contacted),
        outcome.sources.iter().filter(|s| s.status == "ok").count(),
        outcome.evidence_count
    );
    s
}
