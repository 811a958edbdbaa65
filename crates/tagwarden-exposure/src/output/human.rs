//! The checklist on a terminal: each credential with its reasons and the first rotation step;
//! the Markdown output has every step.

use std::fmt::Write as _;

use tagwarden_findings::output::escape::terminal as t;

use super::{kind_words, when};
use crate::checklist::Checklist;

pub fn render(checklist: &Checklist) -> String {
    let mut out = String::new();
    let exposed_jobs = checklist.jobs.iter().filter(|j| j.status.exposed).count();
    let _ = writeln!(
        out,
        "{} credential(s) to rotate, readable by {} exposed job(s); {} listed apart as not exposed",
        checklist.exposed.len(),
        exposed_jobs,
        checklist.not_exposed.len()
    );
    for item in &checklist.exposed {
        let _ = writeln!(
            out,
            "\n{}  [{}] {} · {}",
            t(&item.name),
            kind_words(item.kind),
            t(&item.scope),
            t(&item.provider)
        );
        if let (Some(p), Some(f)) = (&item.preview, &item.fingerprint) {
            let _ = writeln!(out, "  value {} (fingerprint {})", t(p), t(f));
        }
        for p in &item.found_at {
            let _ = writeln!(out, "  found at {}", t(&p.to_string()));
        }
        let _ = writeln!(out, "  exposed: {}", t(&when(item)));
        for r in &item.reasons {
            let _ = writeln!(out, "  - {}: {}", t(&r.at.to_string()), t(&r.why));
        }
        if let Some(r) = &item.rotation {
            let _ = writeln!(
                out,
                "  rotate: {} (then reissue, update, confirm: {})",
                t(&r.revoke),
                t(&r.docs)
            );
        }
    }
    if !checklist.not_exposed.is_empty() {
        let _ = writeln!(out, "\nnot exposed:");
        for item in &checklist.not_exposed {
            let _ = writeln!(
                out,
                "  {} [{}]: {}",
                t(&item.name),
                kind_words(item.kind),
                t(&item.not_exposed.join("; "))
            );
        }
    }
    if !checklist.jobs.is_empty() {
        let _ = writeln!(out, "\njobs:");
        for j in &checklist.jobs {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                if j.status.exposed {
                    "EXPOSED"
                } else {
                    "not exposed"
                },
                t(&j.key),
                t(&j.status.why.join("; "))
            );
            for n in &j.notes {
                let _ = writeln!(out, "    note: {}", t(n));
            }
        }
    }
    for n in &checklist.notes {
        let _ = writeln!(out, "note: {}", t(&n.to_string()));
    }
    out
}
