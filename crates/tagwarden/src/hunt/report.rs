//! The incident report (Markdown) and the short human summary: what was found, where, when,
//! and what to do next. Both show one row per event (a log line, an image, a container), with
//! every indicator it matched.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use tagwarden_advisory::AdvisorySet;
use tagwarden_findings::output::escape::{self, terminal};
use tagwarden_hunt::{Answer, Event, Hit, Matched, Outcome, Problem, SourceKind, Verdict};

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

/// The event's details, one sentence per indicator.
fn what(e: &Event<'_>) -> String {
    let mut details: Vec<&str> = Vec::new();
    for h in &e.hits {
        if !details.contains(&h.detail.as_str()) {
            details.push(&h.detail);
        }
    }
    details.join("; ")
}

/// `host / job`, either or both.
fn who(h: &Hit) -> String {
    [h.host.as_deref(), h.job.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / ")
}

pub(crate) fn markdown(outcome: &Outcome, advisories: &AdvisorySet) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# tagwarden hunt report\n");
    match outcome.answer() {
        Answer::Hit => {
            let _ = writeln!(
                md,
                "**Hit.** {} compromised, {} exposed, {} disputed, {} contacted.\n",
                outcome.count(Verdict::Compromised),
                outcome.count(Verdict::Exposed),
                outcome.count(Verdict::Disputed),
                outcome.count(Verdict::Contacted)
            );
        }
        Answer::Clean => {
            let _ = writeln!(
                md,
                "**No hits.** No evidence of the advisories below was found in the sources searched.\n"
            );
        }
        Answer::Incomplete => {
            let _ = writeln!(
                md,
                "**Not clean: no hits in what could be read, but not everything could be read.** \
                 Read what is listed under \"Not searched\" below before calling this clean.\n"
            );
        }
    }
    let failed = outcome.failed_sources().count();
    if (failed > 0 || !outcome.problems.is_empty()) && outcome.answer() == Answer::Hit {
        let _ = writeln!(
            md,
            "> **Not everything could be searched** ({failed} source(s) failed, {} problem(s)): see \"Not searched\" below. There may be more.\n",
            outcome.problems.len()
        );
    }

    let ids: BTreeSet<&str> = outcome.hits.iter().map(|h| h.advisory.as_str()).collect();
    if !ids.is_empty() {
        let _ = writeln!(md, "## Advisories hit\n");
        for id in &ids {
            match advisories.get(id) {
                Some(a) => {
                    let _ = writeln!(md, "- **{}**: {}", cell(&a.id), cell(&a.title));
                }
                None => {
                    let _ = writeln!(md, "- **{}**", cell(id));
                }
            }
        }
        let _ = writeln!(md);
    }

    let events = outcome.events();
    if !events.is_empty() {
        let _ = writeln!(md, "## Timeline\n");
        let _ = writeln!(
            md,
            "| time (UTC) | verdict | advisory | source | where | host / job | what |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|");
        for e in &events {
            let (Some(h), Some(verdict)) = (e.first(), e.verdict()) else {
                continue;
            };
            let _ = writeln!(
                md,
                "| {} | **{verdict}** | {} | {} | {} | {} | {} |",
                when(h),
                cell(&e.advisories().join(", ")),
                h.source,
                code(&h.place()),
                cell(&who(h)),
                cell(&what(e))
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
                code(&h.place()),
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
    problems(
        &mut md,
        "Not searched",
        "Evidence that could not be read (a clean answer covers only what was read):",
        &outcome.problems,
    );
    problems(&mut md, "Notes", "Read, with a caveat:", &outcome.notes);
    let _ = writeln!(
        md,
        "\nAdvisories searched: {}.",
        advisories
            .advisories()
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    md
}

/// A titled list of problems (or notes), when there are any.
fn problems(md: &mut String, title: &str, intro: &str, list: &[Problem]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(md, "\n### {title}\n\n{intro}\n");
    for p in list {
        let _ = writeln!(
            md,
            "- {} ({}): {}",
            code(&p.location),
            p.source,
            cell(&p.message)
        );
    }
}

/// Numbered steps, each only when the hunt gave it something to act on.
fn next_steps(md: &mut String, outcome: &Outcome) {
    let _ = writeln!(md, "## What to do next\n");
    let mut step = 0;
    let mut next = || {
        step += 1;
        step
    };
    // Runs that pulled or ran the image, and machines whose traffic reached the attacker.
    let ran = |h: &&Hit| match h.verdict {
        Verdict::Contacted => h.host.is_some(),
        _ => !h.source.is_file() && h.source != SourceKind::Registry,
    };
    let runs: BTreeSet<String> = outcome
        .hits
        .iter()
        .filter(ran)
        .map(|h| {
            [
                h.host.as_deref(),
                h.job.as_deref(),
                Some(h.place().as_str()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" / ")
        })
        .collect();
    let contacted: BTreeSet<String> = outcome
        .hits
        .iter()
        .filter(|h| h.verdict == Verdict::Contacted)
        .map(Hit::indicator)
        .collect();
    if !runs.is_empty() || !contacted.is_empty() {
        let _ = writeln!(
            md,
            "{}. **Rotate credentials.** Treat every secret that these runs, machines and jobs could read as exposed: CI tokens and secrets, registry and cloud credentials, kubeconfigs, and anything in the files the scanner read (the KICS backdoor sent scan output — secrets, cloud resource names, topology — to the attacker).",
            next()
        );
        for r in &runs {
            let _ = writeln!(md, "   - {}", cell(r));
        }
        if runs.is_empty() {
            let _ = writeln!(
                md,
                "   - the machines behind the traffic listed in the timeline (their client addresses)"
            );
        }
    }
    let digests: BTreeSet<String> = outcome
        .hits
        .iter()
        .filter_map(|h| match &h.matched {
            Matched::Digest(d) => Some(d.to_string()),
            _ => None,
        })
        .collect();
    // A tag pulled inside the window brought the malicious image into whatever pulled it.
    let pulled_tags: BTreeSet<String> = outcome
        .hits
        .iter()
        .filter(|h| !h.source.is_file())
        .filter_map(|h| match &h.matched {
            Matched::ImageTag { repository, tag } => Some(format!("{repository}:{tag}")),
            _ => None,
        })
        .collect();
    if !digests.is_empty() || !pulled_tags.is_empty() {
        let _ = writeln!(
            md,
            "{}. **Purge** the malicious images from engines, CI runners, pull-through caches and registries (`tagwarden purge --engine SOCKET --registry HOST --snapshot PODS.json`, a dry run unless `--yes`):",
            next()
        );
        for d in &digests {
            let _ = writeln!(md, "   - {}", code(d));
        }
        for t in &pulled_tags {
            let _ = writeln!(
                md,
                "   - what {} pulled during the window (the tag pointed at the attacker's image)",
                code(t)
            );
        }
    }
    let files: BTreeSet<String> = outcome
        .hits
        .iter()
        .filter(|h| h.source.is_file())
        .map(Hit::place)
        .collect();
    let images: BTreeSet<String> = outcome
        .hits
        .iter()
        .filter_map(|h| match &h.matched {
            Matched::ImageTag { repository, .. } => Some(repository.clone()),
            _ => None,
        })
        .collect();
    if !files.is_empty() {
        let _ = writeln!(
            md,
            "{}. **Pin** to known-good digests (`tagwarden pin --to-known-good`), starting with:",
            next()
        );
        for f in &files {
            let _ = writeln!(md, "   - {}", code(f));
        }
    } else if !images.is_empty() || !digests.is_empty() {
        let _ = writeln!(
            md,
            "{}. **Pin** to known-good digests: run `tagwarden pin --to-known-good` in the repositories whose pipelines use {} (this hunt found no file that references them).",
            next(),
            if images.is_empty() {
                "the images above".to_string()
            } else {
                images
                    .iter()
                    .map(|i| code(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
    if !contacted.is_empty() {
        let _ = writeln!(
            md,
            "{}. **Block** the contacted indicators at the egress proxy and DNS, and keep the logs: they are the evidence of what left.",
            next()
        );
        for c in &contacted {
            let _ = writeln!(md, "   - {}", code(c));
        }
    }
    let _ = writeln!(md);
}

/// A few lines for a terminal; the full story is in the Markdown report.
pub(crate) fn summary(outcome: &Outcome) -> String {
    let mut s = String::new();
    for e in outcome.events() {
        let (Some(h), Some(verdict)) = (e.first(), e.verdict()) else {
            continue;
        };
        let _ = writeln!(
            s,
            "{:<11} {} {} [{}] {}: {}",
            verdict.as_str(),
            when(h),
            terminal(&e.advisories().join(", ")),
            h.source,
            terminal(&h.place()),
            terminal(&what(&e))
        );
    }
    for h in &outcome.weak {
        let _ = writeln!(
            s,
            "weak        {} {} [{}] {}: {}",
            when(h),
            terminal(&h.advisory),
            h.source,
            terminal(&h.place()),
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
            "problem: not searched: {} ({}): {}",
            terminal(&p.location),
            p.source,
            terminal(&p.message)
        );
    }
    for p in &outcome.notes {
        let _ = writeln!(
            s,
            "note: {} ({}): {}",
            terminal(&p.location),
            p.source,
            terminal(&p.message)
        );
    }
    let counts = format!(
        "{} compromised, {} exposed, {} disputed, {} contacted; {} sources searched, {} pieces of evidence",
        outcome.count(Verdict::Compromised),
        outcome.count(Verdict::Exposed),
        outcome.count(Verdict::Disputed),
        outcome.count(Verdict::Contacted),
        outcome.sources.iter().filter(|s| s.error.is_none()).count(),
        outcome.evidence
    );
    let _ = match outcome.answer() {
        Answer::Hit => writeln!(s, "HIT: {counts}"),
        Answer::Clean => writeln!(s, "clean: {counts}"),
        Answer::Incomplete => writeln!(
            s,
            "NOT CLEAN: nothing hit, but {} problem(s) and {} failed source(s) left evidence unread; {counts}",
            outcome.problems.len(),
            outcome.failed_sources().count()
        ),
    };
    s
}
