//! Engines: images whose `RepoDigests` name a malicious digest, and the containers created
//! from them.

use tagwarden_engine::Engine;
use tagwarden_reference::Digest;

use super::{Inputs, Plan};
use crate::targets::{Action, State, Step, Target};

pub(super) fn plan(engine: &Engine, inputs: &Inputs<'_>, plan: &mut Plan) {
    let socket = engine.socket().display().to_string();
    let listed = engine
        .api_prefix()
        .and_then(|prefix| Ok((engine.images(&prefix)?, engine.containers(&prefix)?)));
    let (images, containers) = match listed {
        Ok(lists) => lists,
        Err(e) => {
            plan.problems.push(e.message);
            return;
        }
    };
    for image in images {
        let malicious: Vec<Digest> = image
            .repo_digests
            .iter()
            .filter_map(|d| Digest::parse(d.rsplit_once('@')?.1).ok())
            .filter(|d| inputs.malicious.contains(d))
            .collect();
        let Some(first) = malicious.first() else {
            continue;
        };
        let why = inputs.malicious.why(first);
        let users: Vec<_> = containers
            .iter()
            .filter(|c| image.is(&c.image_id) || image.is(&c.image))
            .collect();
        for c in &users {
            let (action, state) = match (c.is_running(), inputs.force) {
                (_, true) if c.is_running() => (Action::StopAndRemoveContainer, State::Planned),
                (_, true) => (Action::RemoveContainer, State::Planned),
                (running, false) => (
                    if running {
                        Action::StopAndRemoveContainer
                    } else {
                        Action::RemoveContainer
                    },
                    State::Blocked {
                        reason:
                            "created from a malicious image: stopped and removed only with --force"
                                .to_string(),
                    },
                ),
            };
            plan.steps.push(Step {
                key: format!("engine:{socket}:container:{}", c.id),
                target: Target::EngineContainer {
                    engine: socket.clone(),
                    id: c.id.clone(),
                    name: c.display_name(),
                    // The image's own ID, as the image step names it (engines write it
                    // differently in container lists).
                    image_id: image.id.clone(),
                    running: c.is_running(),
                },
                action,
                why: why.clone(),
                state,
                instead: Vec::new(),
            });
        }
        let state = if users.is_empty() || inputs.force {
            State::Planned
        } else {
            State::Blocked {
                reason: format!(
                    "{} container(s) created from it: run with --force to stop and remove them first",
                    users.len()
                ),
            }
        };
        plan.steps.push(Step {
            key: format!("engine:{socket}:image:{}", image.id),
            target: Target::EngineImage {
                engine: socket.clone(),
                id: image.id.clone(),
                tags: image.repo_tags.clone(),
                digests: image.repo_digests.clone(),
            },
            action: Action::RemoveImage,
            why,
            state,
            instead: vec![
                "prune build caches on this host too: `docker builder prune` (BuildKit keeps layers)"
                    .to_string(),
            ],
        });
    }
}
