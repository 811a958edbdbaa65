//! `--format sarif`: the file findings that are hits, with their exact regions, plus every hit
//! from logs, engines, registries, snapshots and exports as a result at its place (a log file
//! and line, a socket, a registry repository), under one rule per verdict. Problems and notes
//! become tool notifications.

use std::io::{self, Write};

use tagwarden_findings::{Finding, Location, Note, Rule, ScanReport, Severity};
use tagwarden_hunt::{Hit, Matched, Outcome, Verdict};

/// A malicious digest or commit seen in a log, engine, registry or export.
pub(crate) const HUNT_COMPROMISED: Rule = Rule {
    id: "hunt-compromised",
    name: "HuntCompromised",
    default_severity: Severity::Critical,
    summary: "A malicious image digest or action commit was pulled, run, stored or served",
    label: "compromised",
    fix: "purge the image, rotate every secret the run could read, and pin to a known-good digest",
    help: "\
## What it does

Reports evidence outside the repository's files (a CI job log, a container engine, a registry \
or mirror, a cluster snapshot, a Docker Hub export) that a malicious image digest or GitHub \
Action commit named by an advisory was pulled, run, stored or served.

## Why is this bad?

A digest or commit names exactly one artifact: the attacker's code ran, or can run, there, with \
everything the job or machine could read.

## Example

`Digest: sha256:a0d9366f…` in a GitHub Actions log right after `docker pull checkmarx/kics:latest`.

## How to fix

Purge the image from the engine, runner caches, pull-through caches and registries; rotate every \
secret the run could read; pin the reference to a known-good digest.
",
};

/// An affected tag pulled inside the exposure window (or at an unknown time).
pub(crate) const HUNT_EXPOSED: Rule = Rule {
    id: "hunt-exposed",
    name: "HuntExposed",
    default_severity: Severity::High,
    summary: "An image or action tag that pointed at the attacker's build was pulled inside the exposure window",
    label: "exposed",
    fix: "find what the pull ran, rotate the secrets it could read, and pin to a known-good digest",
    help: "\
## What it does

Reports evidence that an affected tag was pulled or run inside the advisory's exposure window, \
or at a time the source does not give.

## Why is this bad?

During the window the tag pointed at the attacker's image: a pull by tag then got it.

## Example

`docker pull checkmarx/kics:latest` at 2026-04-22T12:40:00Z in a CI log.

## How to fix

Treat the run as compromised unless its digest shows otherwise: rotate the secrets it could \
read, purge the pulled image, and pin the reference to a known-good digest.
",
};

/// An affected tag pulled inside only the disputed part of the window.
pub(crate) const HUNT_DISPUTED: Rule = Rule {
    id: "hunt-disputed",
    name: "HuntDisputed",
    default_severity: Severity::Medium,
    summary: "An affected tag was pulled inside the disputed part of the exposure window",
    label: "disputed",
    fix: "check the digest the run pulled; if unknown, treat it as exposed",
    help: "\
## What it does

Reports a pull of an affected tag at a time that only some sources place inside the exposure \
window.

## Why is this bad?

The tag may still have pointed at the attacker's image.

## Example

A pull of `checkmarx/kics:latest` one hour after the vendor's end of the window.

## How to fix

Find the digest the run pulled (the job log, the engine, the registry's pull log). If it cannot \
be found, handle the run as exposed.
",
};

/// Traffic to an attacker's network indicator.
pub(crate) const HUNT_CONTACTED: Rule = Rule {
    id: "hunt-contacted",
    name: "HuntContacted",
    default_severity: Severity::High,
    summary: "Traffic to a network indicator of an advisory (exfiltration or command and control)",
    label: "contacted",
    fix: "find the machine behind the client address, rotate what it could read, block the indicator",
    help: "\
## What it does

Reports a DNS query, proxy request, TLS handshake or connection to a domain, address, URL or \
user agent an advisory names.

## Why is this bad?

The attacker's image sent what it read (scan results, secrets) to these endpoints.

## Example

A Zeek `dns.log` line querying `audit.checkmarx.cx`.

## How to fix

Find the machine behind the client address and the job it ran, rotate every secret it could \
read, and block the indicator at the egress proxy and DNS.
",
};

fn rule(verdict: Verdict) -> &'static Rule {
    match verdict {
        Verdict::Compromised => &HUNT_COMPROMISED,
        Verdict::Exposed => &HUNT_EXPOSED,
        Verdict::Disputed => &HUNT_DISPUTED,
        Verdict::Contacted => &HUNT_CONTACTED,
    }
}

/// The SARIF log: `files` is the scan of the tree (its findings with an advisory are the file
/// hits, at their exact regions), the other hits come from `outcome`.
pub(crate) fn render(
    files: Option<ScanReport>,
    outcome: &Outcome,
    w: &mut dyn Write,
    tool_version: &str,
) -> io::Result<()> {
    let mut report = files.unwrap_or_default();
    report.findings.retain(|f| f.advisory.is_some());
    // Those notes are in the outcome's problems and notes.
    report.notes.clear();
    report.findings.extend(
        outcome
            .hits
            .iter()
            .filter(|h| !h.source.is_file())
            .map(finding),
    );
    for p in &outcome.problems {
        report.notes.push(Note::new(
            Some(p.location.clone()),
            format!("not searched ({}): {}", p.source, p.message),
        ));
    }
    for s in outcome.failed_sources() {
        report.notes.push(Note::new(
            None,
            format!(
                "not searched: {}: {}",
                s.name,
                s.error.as_deref().unwrap_or("")
            ),
        ));
    }
    for n in &outcome.notes {
        report.notes.push(Note::new(
            Some(n.location.clone()),
            format!("{}: {}", n.source, n.message),
        ));
    }
    tagwarden_findings::output::sarif::render(&report, w, tool_version)
}

fn finding(h: &Hit) -> Finding {
    let mut f = Finding::new(
        rule(h.verdict),
        Location::point(&h.location, h.line.map_or(1, |l| l as usize), 1),
        format!("{} [{}]: {}", h.verdict, h.source, h.detail),
    );
    f.advisory = Some(h.advisory.clone());
    f.image = match &h.matched {
        Matched::ImageTag { repository, tag } => Some(format!("{repository}:{tag}")),
        Matched::Digest(d) => Some(d.to_string()),
        _ => None,
    };
    f.snippet = h.excerpt.clone();
    if let Some(t) = h.timestamp {
        f.notes.push(format!("at {t}"));
    }
    for (what, value) in [("host", &h.host), ("job", &h.job)] {
        if let Some(v) = value {
            f.notes.push(format!("{what} {v}"));
        }
    }
    f
}
