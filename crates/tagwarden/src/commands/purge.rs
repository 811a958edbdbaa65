//! `tagwarden purge`: plan the purge of malicious images from engines, registries and caches,
//! show it, carry it out with `--yes` (journalled), and plan again to prove what is left.

use std::io::Write;

use anyhow::{Context as _, Result};
use tagwarden_engine::Engine;
use tagwarden_purge::output::{human, json, markdown};
use tagwarden_purge::{Inputs, Malicious, Registry, State, Target};

use crate::Status;
use crate::cli::{PurgeArgs, PurgeFormat};

/// Largest snapshot or hunt file read.
const FILE_MAX: u64 = 256 * 1024 * 1024;

pub(crate) fn run(args: PurgeArgs) -> Result<Status> {
    // Nothing is searched that was not named: an empty plan must not read as a clean purge.
    if args.engines.is_empty() && args.registries.is_empty() && args.snapshots.is_empty() {
        anyhow::bail!(
            "name the places to purge: --engine SOCKET, --registry HOST[/PREFIX] or --snapshot FILE"
        );
    }
    let mut errors = Vec::new();
    let advisories = super::load_advisories(&args.advisory, &[], &mut errors);
    for e in &errors {
        eprintln!("error: {}", tagwarden_findings::output::escape::terminal(e));
    }
    let mut malicious = Malicious::from_advisories(&advisories);
    let mut unnamed = Vec::new();
    if let Some(path) = &args.hunt {
        let text = read_text(path)?;
        let outcome = tagwarden_hunt::json::read(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        malicious.add_hunt(&outcome);
        unnamed = places_not_named(&outcome, &args);
    }
    for r in &args.repositories {
        malicious.add_repository(r.trim_matches('/'));
    }
    if malicious.is_empty() {
        anyhow::bail!("no malicious digest to purge: the advisories (and the hunt) name none");
    }
    let registries = args
        .registries
        .iter()
        .map(|r| Registry::parse(r).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let engines: Vec<Engine> = args.engines.iter().map(Engine::new).collect();
    let mut snapshots = Vec::new();
    for path in &args.snapshots {
        snapshots.push((path.display().to_string(), read_text(path)?));
    }
    let (client, runtime) = crate::registry::client(&args.registry)?;
    let inputs = Inputs {
        malicious: &malicious,
        engines: &engines,
        registries: &registries,
        snapshots: &snapshots,
        client: &client,
        force: args.force,
        restore_known_good: args.restore_known_good,
        probe_uploads: args.yes,
    };
    let run = runtime.block_on(async {
        let plan = tagwarden_purge::plan(&inputs).await;
        tagwarden_purge::execute(plan, &inputs, Some(&args.journal), args.yes).await
    });
    let mut run = run.map_err(anyhow::Error::msg)?;
    run.problems.extend(unnamed);

    let mut sink = super::OutputSink::open(args.output.as_deref())?;
    match args.format {
        PurgeFormat::Human => write!(sink, "{}", human::render(&run))?,
        PurgeFormat::Json => json::write(&run, &mut sink)?,
        PurgeFormat::Markdown => write!(sink, "{}", markdown::section(&run))?,
    }
    sink.finish()?;

    let incomplete = !run.problems.is_empty() || !errors.is_empty();
    // Something malicious is still somewhere: a step not taken, or a pod or host to see to. An
    // offer to restore a tag is advice, not something left.
    let unfinished = run.steps.iter().any(|s| match s.state {
        State::Done | State::AlreadyGone => false,
        State::ByHand => !matches!(s.target, Target::Tag { .. }),
        _ => true,
    }) || !run.left.is_empty();
    Ok(if incomplete {
        Status::Error
    } else if unfinished {
        Status::Findings
    } else {
        Status::Clean
    })
}

/// Engines, registries and snapshots where the hunt saw a malicious digest that this purge was
/// not told to look at: the purge is incomplete there, and says so.
fn places_not_named(outcome: &tagwarden_hunt::Outcome, args: &PurgeArgs) -> Vec<String> {
    use tagwarden_hunt::{Matched, SourceKind, Verdict};
    let mut out: Vec<String> = Vec::new();
    for h in &outcome.hits {
        let (Matched::Digest(digest), Verdict::Compromised) = (&h.matched, h.verdict) else {
            continue;
        };
        let (named, flag) = match h.source {
            SourceKind::Engine => (
                args.engines
                    .iter()
                    .any(|e| e.display().to_string() == h.location),
                "--engine",
            ),
            SourceKind::Registry => (
                args.registries.iter().any(|r| {
                    let r = r.trim_end_matches('/');
                    h.location.starts_with(r) || h.location.contains(&format!("://{r}"))
                }),
                "--registry",
            ),
            SourceKind::KubectlSnapshot
            | SourceKind::DockerSnapshot
            | SourceKind::CrictlSnapshot => (
                args.snapshots
                    .iter()
                    .any(|p| p.display().to_string() == h.location),
                "--snapshot",
            ),
            // Logs and files record that something happened; there is nothing in them to purge.
            _ => continue,
        };
        let message = format!(
            "{}: the hunt found {digest} there, which this purge was not told to look at (name it with {flag})",
            h.location
        );
        if !named && !out.contains(&message) {
            out.push(message);
        }
    }
    out
}

fn read_text(path: &std::path::Path) -> Result<String> {
    let bytes = tagwarden_fs::read_bounded(path, FILE_MAX, false)
        .with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).with_context(|| format!("{}: not UTF-8 text", path.display()))
}
