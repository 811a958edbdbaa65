//! Carrying a plan out: each step journalled before and after it is taken, engines and
//! registries changed one target at a time, then the purge planned again to show what is left.

use std::collections::HashMap;
use std::path::Path;

use tagwarden_engine::{Change, Engine};
use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::{Deletion, RegistryError};

use crate::journal::{self, Record};
use crate::plan::{Inputs, Plan, plan};
use crate::targets::{Action, State, Step, Target};

/// A purge run: every step with where it ended, what earlier runs did, what is left.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Executed {
    /// True when nothing was changed (no `--yes`).
    pub dry_run: bool,
    pub steps: Vec<Step>,
    /// Targets an earlier run (the journal) dealt with, not found any more.
    pub earlier: Vec<Record>,
    /// What the second planning still finds (after `--yes`): empty when the purge is complete.
    pub left: Vec<Step>,
    /// Places that could not be read, journal lines that could not be read.
    pub problems: Vec<String>,
}

impl Executed {
    /// Steps in this state (by name: `done`, `blocked`…).
    pub fn count(&self, state: &str) -> usize {
        self.steps
            .iter()
            .filter(|s| s.state.as_str() == state)
            .count()
    }
}

/// Carries `planned` out when `journal` is given (`--yes`), or only reports it (a dry run).
/// Either way the journal, when there is one, is read first for what earlier runs did. An
/// error is a journal that cannot be written: nothing is done without one.
pub async fn execute(
    planned: Plan,
    inputs: &Inputs<'_>,
    journal: Option<&Path>,
    yes: bool,
) -> Result<Executed, String> {
    let earlier_runs = match journal {
        Some(path) => journal::read(path)?,
        None => journal::Read::default(),
    };
    let mut out = Executed {
        dry_run: !yes,
        problems: planned.problems.clone(),
        ..Executed::default()
    };
    out.problems.extend(earlier_runs.problems.iter().cloned());
    for (key, record) in &earlier_runs.last {
        let still_there = planned.steps.iter().any(|s| &s.key == key);
        if !still_there && matches!(record.result.as_str(), "done" | "already_gone" | "started") {
            out.earlier.push(record.clone());
        }
    }
    if !yes {
        out.steps = planned.steps;
        return Ok(out);
    }
    let Some(path) = journal else {
        return Err("a purge with --yes needs a journal".to_string());
    };
    let mut writer = journal::Writer::open(path)
        .map_err(|e| format!("cannot open the journal {}: {e}", path.display()))?;
    let mut engines = Engines::default();
    let mut steps = planned.steps;
    for i in 0..steps.len() {
        if steps[i].state != State::Planned {
            continue;
        }
        // An image waits for every container created from it.
        if let Target::EngineImage { engine, id, .. } = &steps[i].target {
            let waiting = steps[..i].iter().any(|s| {
                matches!(&s.target, Target::EngineContainer { engine: e, image_id, .. } if e == engine && image_id == id)
                    && !matches!(s.state, State::Done | State::AlreadyGone)
            });
            if waiting {
                steps[i].state = State::Blocked {
                    reason: "a container created from it is still there".to_string(),
                };
                continue;
            }
        }
        let step = &steps[i];
        let mut record = Record {
            journal: journal::FORMAT.to_string(),
            time: jiff::Timestamp::now().to_string(),
            key: step.key.clone(),
            target: step.target.clone(),
            action: step.action,
            before: step.describe(),
            result: "started".to_string(),
            message: None,
        };
        writer
            .append(&record)
            .map_err(|e| format!("cannot write the journal {}: {e}", path.display()))?;
        let state = take(step, inputs, &mut engines).await;
        record.time = jiff::Timestamp::now().to_string();
        record.result = match &state {
            State::Done => "done",
            State::AlreadyGone => "already_gone",
            State::Refused { .. } => "refused",
            State::Blocked { .. } => "blocked",
            _ => "failed",
        }
        .to_string();
        record.message = state.reason().map(str::to_string);
        writer
            .append(&record)
            .map_err(|e| format!("cannot write the journal {}: {e}", path.display()))?;
        steps[i].state = state;
    }
    out.steps = steps;
    // Proof: plan again, without probing uploads, and keep what is still there.
    let again = plan(&Inputs {
        probe_uploads: false,
        ..*inputs
    })
    .await;
    out.left = again
        .steps
        .into_iter()
        .filter(|s| {
            matches!(
                s.target,
                Target::EngineContainer { .. }
                    | Target::EngineImage { .. }
                    | Target::Manifest { .. }
            ) || (matches!(s.target, Target::Tag { .. }) && s.state == State::Planned)
        })
        .collect();
    Ok(out)
}

/// The API prefix of each engine, asked once.
#[derive(Default)]
struct Engines {
    prefixes: HashMap<String, Result<String, String>>,
}

impl Engines {
    fn get(&mut self, inputs: &Inputs<'_>, socket: &str) -> Result<(Engine, String), String> {
        let engine = inputs
            .engines
            .iter()
            .find(|e| e.socket().display().to_string() == socket)
            .cloned()
            .ok_or_else(|| format!("no engine at {socket} was named"))?;
        let prefix = self
            .prefixes
            .entry(socket.to_string())
            .or_insert_with(|| engine.api_prefix().map_err(|e| e.message))
            .clone()?;
        Ok((engine, prefix))
    }
}

/// Takes one step; the state it ends in.
async fn take(step: &Step, inputs: &Inputs<'_>, engines: &mut Engines) -> State {
    let failed = |reason: String| State::Failed { reason };
    match (&step.target, step.action) {
        (Target::EngineContainer { engine, id, .. }, action) => {
            let (engine, prefix) = match engines.get(inputs, engine) {
                Ok(e) => e,
                Err(e) => return failed(e),
            };
            if action == Action::StopAndRemoveContainer
                && let Err(e) = engine.stop_container(&prefix, id)
            {
                return failed(e.message);
            }
            match engine.remove_container(&prefix, id, true) {
                Ok(Change::Done) => State::Done,
                Ok(Change::AlreadyDone) => State::AlreadyGone,
                Ok(Change::InUse) => failed("the engine says it is still in use".to_string()),
                Err(e) => failed(e.message),
            }
        }
        (Target::EngineImage { engine, id, .. }, _) => {
            let (engine, prefix) = match engines.get(inputs, engine) {
                Ok(e) => e,
                Err(e) => return failed(e),
            };
            // `force` removes every tag of the image at once; containers went first.
            match engine.remove_image(&prefix, id, true) {
                Ok(Change::Done) => State::Done,
                Ok(Change::AlreadyDone) => State::AlreadyGone,
                Ok(Change::InUse) => failed("a container still uses it".to_string()),
                Err(e) => failed(e.message),
            }
        }
        (
            Target::Manifest {
                repository,
                digest,
                harbor,
                ..
            },
            _,
        ) => {
            let reference = match Reference::parse(&format!("{repository}@{digest}")) {
                Ok(r) => r,
                Err(e) => return failed(format!("{repository}@{digest}: {e}")),
            };
            let deleted = if harbor.is_some() {
                inputs.client.harbor_delete_artifact(&reference).await
            } else {
                inputs.client.delete_manifest(&reference).await
            };
            match deleted {
                Ok(Deletion::Deleted) => State::Done,
                Ok(Deletion::AlreadyGone) => State::AlreadyGone,
                Err(e @ RegistryError::WriteRefused { .. }) => State::Refused {
                    reason: e.to_string(),
                },
                Err(e) => failed(e.to_string()),
            }
        }
        (
            Target::Tag {
                repository,
                tag,
                digest,
            },
            _,
        ) => restore(inputs, repository, tag, digest).await,
        _ => step.state.clone(),
    }
}

/// Points `repository:tag` at the known-good `digest`, with the manifest's bytes fetched from
/// that repository and checked; refused when an advisory calls the digest malicious.
async fn restore(inputs: &Inputs<'_>, repository: &str, tag: &str, digest: &str) -> State {
    let failed = |reason: String| State::Failed { reason };
    let Ok(good) = Digest::parse(digest) else {
        return failed(format!("{digest}: not a digest"));
    };
    if inputs.malicious.contains(&good) {
        return failed(format!("{good} is listed as malicious"));
    }
    let (Ok(source), Ok(dest)) = (
        Reference::parse(&format!("{repository}@{good}")),
        Reference::parse(&format!("{repository}:{tag}")),
    ) else {
        return failed(format!("{repository}:{tag}: not a reference"));
    };
    let manifest = match inputs.client.fetch_manifest(&source).await {
        Ok(m) => m,
        Err(e) => return failed(e.to_string()),
    };
    match inputs
        .client
        .put_manifest(&dest, &good, &manifest.media_type, &manifest.bytes)
        .await
    {
        Ok(_) => State::Done,
        Err(e @ RegistryError::WriteRefused { .. }) => State::Refused {
            reason: e.to_string(),
        },
        Err(e) => failed(e.to_string()),
    }
}
