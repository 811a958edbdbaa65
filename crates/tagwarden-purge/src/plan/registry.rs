//! Registries and pull-through caches: manifests by digest (malicious ones, indexes listing a
//! malicious child, the signatures and referrers attached to them) and the tags pointing at
//! them; tags to point back at a known-good digest.
//!
//! A registry that refuses deletes is only asked `HEAD`: a `GET` would make a pull-through cache
//! fetch a malicious manifest from upstream and keep it.

use std::collections::BTreeMap;

use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::{DeleteSupport, HarborArtifact, RegistryError};
use tokio::task::JoinSet;

use super::{Inputs, Plan, Registry};
use crate::targets::{Action, HarborPlace, Role, State, Step, Target};

/// Tag lookups in flight at most (the client limits requests per registry below this).
const TAG_BATCH: usize = 256;

/// A manifest found to purge.
struct Found {
    role: Role,
    subject: Option<Digest>,
}

pub(super) async fn plan(registry: &Registry, inputs: &Inputs<'_>, plan: &mut Plan) {
    let harbor = match inputs.client.harbor(&registry.host).await {
        Ok(h) => h.is_some(),
        Err(e) => {
            plan.problems.push(e.to_string());
            return;
        }
    };
    for repo in inputs.malicious.repositories() {
        let path = registry.path(repo);
        match Reference::from_parts(&registry.host, &path, None, None) {
            Ok(base) => repository(&base, repo, harbor, inputs, plan).await,
            Err(e) => plan.problems.push(format!(
                "{}/{path}: not a repository name: {e}",
                registry.host
            )),
        }
    }
}

async fn repository(
    base: &Reference,
    repo: &str,
    harbor: bool,
    inputs: &Inputs<'_>,
    plan: &mut Plan,
) {
    let client = inputs.client;
    let name = base.repository();
    // Harbor deletes through its own API, proxy-cache projects included. Credentials that may
    // pull but not delete still let the plan be made (by HEAD), each delete shown refused.
    let mut denied = None;
    let support = if harbor {
        DeleteSupport::Accepted
    } else {
        match client.delete_support(base, inputs.probe_uploads).await {
            Ok(s) => s,
            Err(e) if e.is_access_denied() => {
                denied = Some(e.to_string());
                DeleteSupport::Refused { read_only: None }
            }
            Err(e) => {
                plan.problems.push(e.to_string());
                return;
            }
        }
    };
    let place = harbor
        .then(|| HarborArtifact::of(base))
        .flatten()
        .map(|a| HarborPlace {
            project: a.project,
            repository: a.repository,
        });
    let writable = support == DeleteSupport::Accepted;

    // What each tag points at (the registry's word; every digest acted on is checked later).
    let mut tags: BTreeMap<String, Digest> = BTreeMap::new();
    if writable {
        match client.list_tags(base).await {
            Ok(list) => resolve_tags(base, list, inputs, &mut tags, plan).await,
            // No such repository here: nothing to purge in it.
            Err(RegistryError::NotFound { .. }) => return,
            Err(e) => {
                plan.problems.push(format!("{name}: {e}"));
                return;
            }
        }
    }

    let mut found: BTreeMap<Digest, Found> = BTreeMap::new();
    let at = |d: &Digest| Reference::from_parts(base.domain(), base.path(), None, Some(d.clone()));
    // The malicious digests themselves: a cache keeps manifests no tag points at any more.
    for d in inputs.malicious.digests.keys() {
        let Ok(r) = at(d) else { continue };
        let present = if writable {
            client.fetch_manifest(&r).await.map(|m| {
                let children: Vec<Digest> = m
                    .index(&r)
                    .map(|i| i.digests().cloned().collect())
                    .unwrap_or_default();
                (m.is_index(), children)
            })
        } else {
            client.resolve(&r).await.map(|m| (m.is_index, Vec::new()))
        };
        match present {
            Ok((is_index, children)) => {
                let role = if is_index { Role::Index } else { Role::Image };
                found.insert(
                    d.clone(),
                    Found {
                        role,
                        subject: None,
                    },
                );
                // The platform manifests of a malicious index came with it.
                for child in children {
                    found.entry(child).or_insert(Found {
                        role: Role::Child,
                        subject: Some(d.clone()),
                    });
                }
            }
            Err(RegistryError::NotFound { .. }) => {}
            Err(e) => plan.problems.push(format!("{r}: {e}")),
        }
    }
    // Indexes a tag points at that list a malicious child.
    if writable {
        let indexes: Vec<Digest> = tags.values().cloned().collect();
        for d in indexes {
            if found.contains_key(&d) {
                continue;
            }
            let Ok(r) = at(&d) else { continue };
            let Ok(m) = client.fetch_manifest(&r).await else {
                continue;
            };
            let Ok(index) = m.index(&r) else { continue };
            let bad: Vec<Digest> = index
                .digests()
                .filter(|c| inputs.malicious.contains(c))
                .cloned()
                .collect();
            if let Some(first) = bad.first() {
                found.insert(
                    d.clone(),
                    Found {
                        role: Role::Index,
                        subject: Some(first.clone()),
                    },
                );
            }
        }
    }
    // Signatures and referrers attached to what was found.
    if writable {
        let subjects: Vec<Digest> = found.keys().cloned().collect();
        for subject in &subjects {
            let prefix = format!("{}-{}", subject.algorithm().as_str(), subject.hex());
            for (tag, d) in &tags {
                let Some(rest) = tag.strip_prefix(&prefix) else {
                    continue;
                };
                let role = match rest {
                    "" => Role::ReferrersIndex,
                    ".sig" | ".att" | ".sbom" => Role::Signature,
                    _ => continue,
                };
                found.entry(d.clone()).or_insert(Found {
                    role,
                    subject: Some(subject.clone()),
                });
            }
            match client.referrers(base, subject, None).await {
                Ok(referrers) => {
                    for r in referrers.descriptors {
                        found.entry(r.digest).or_insert(Found {
                            role: Role::Referrer,
                            subject: Some(subject.clone()),
                        });
                    }
                }
                Err(e) => plan
                    .problems
                    .push(format!("{name}@{subject}: referrers: {e}")),
            }
        }
    }

    let (state, instead) = match support {
        _ if denied.is_some() => (
            State::Refused {
                reason: format!(
                    "deletes are not allowed with the credentials found ({})",
                    denied.as_deref().unwrap_or_default()
                ),
            },
            vec![format!(
                "log in to {} with an account that may delete in {} (`docker login` or `podman login`), then run again",
                base.domain(),
                base.path()
            )],
        ),
        DeleteSupport::Accepted if harbor => (
            State::Planned,
            vec![
                "afterwards run Harbor's garbage collection (`POST /api/v2.0/system/gc/schedule`, or Administration → Clean Up) so the layers go too".to_string(),
                "in a proxy-cache project, flush the Redis keys `cache:manifestlist:<repository>:*` (index lists are cached for 7 days)".to_string(),
            ],
        ),
        DeleteSupport::Accepted => (State::Planned, Vec::new()),
        DeleteSupport::Refused { read_only } => refused(base, read_only),
    };
    let mut ordered: Vec<(&Digest, &Found)> = found.iter().collect();
    ordered.sort_by_key(|(d, f)| (f.role, d.to_string()));
    for (digest, f) in ordered {
        let why_digest = if inputs.malicious.contains(digest) {
            digest
        } else {
            f.subject.as_ref().unwrap_or(digest)
        };
        let why = match (f.role, &f.subject) {
            (Role::Image | Role::Index, None) => inputs.malicious.why(digest),
            (Role::Index, Some(child)) => {
                format!("lists {}", inputs.malicious.why(child))
            }
            (Role::Child, Some(index)) if !inputs.malicious.contains(digest) => {
                format!("a platform manifest of {}", inputs.malicious.why(index))
            }
            (_, Some(subject)) if !inputs.malicious.contains(digest) => {
                format!("attached to {}", inputs.malicious.why(subject))
            }
            _ => inputs.malicious.why(why_digest),
        };
        plan.steps.push(Step {
            key: format!("registry:{name}@{digest}"),
            target: Target::Manifest {
                repository: name.clone(),
                digest: digest.to_string(),
                role: f.role,
                tags: tags
                    .iter()
                    .filter(|(_, d)| *d == digest)
                    .map(|(t, _)| t.clone())
                    .collect(),
                subject: f.subject.as_ref().map(Digest::to_string),
                harbor: place.clone(),
            },
            action: Action::DeleteManifest,
            why,
            state: state.clone(),
            instead: instead.clone(),
        });
    }

    if writable {
        restore(base, repo, inputs, &tags, &found, plan).await;
    }
}

/// Resolves `list` (tags of `base`) concurrently, within the client's per-registry limit, a
/// batch at a time so that a repository of a million tags does not hold a million requests.
async fn resolve_tags(
    base: &Reference,
    list: Vec<String>,
    inputs: &Inputs<'_>,
    tags: &mut BTreeMap<String, Digest>,
    plan: &mut Plan,
) {
    for batch in list.chunks(TAG_BATCH) {
        let mut set = JoinSet::new();
        for tag in batch {
            let Ok(r) = Reference::from_parts(base.domain(), base.path(), Some(tag), None) else {
                continue;
            };
            let client = inputs.client.clone();
            let tag = tag.clone();
            set.spawn(async move {
                let resolved = client.resolve(&r).await;
                (tag, r, resolved)
            });
        }
        while let Some(joined) = set.join_next().await {
            let Ok((tag, r, resolved)) = joined else {
                plan.problems.push(format!("{base}: a tag lookup failed"));
                continue;
            };
            match resolved {
                Ok(resolved) => {
                    tags.insert(tag, resolved.digest);
                }
                // Deleted between the listing and the lookup.
                Err(RegistryError::NotFound { .. }) => {}
                Err(e) => plan.problems.push(format!("{r}: {e}")),
            }
        }
    }
}

/// Tags an advisory has a known-good digest for, pointing at what is purged (or at nothing).
async fn restore(
    base: &Reference,
    repo: &str,
    inputs: &Inputs<'_>,
    tags: &BTreeMap<String, Digest>,
    found: &BTreeMap<Digest, Found>,
    plan: &mut Plan,
) {
    let name = base.repository();
    for (path, tag, good) in &inputs.malicious.known_good {
        if path != repo {
            continue;
        }
        let current = tags.get(tag);
        if current == Some(good) || current.is_some_and(|c| !found.contains_key(c)) {
            continue;
        }
        if inputs.malicious.contains(good) {
            plan.problems.push(format!(
                "{name}:{tag}: the known-good digest {good} is also listed as malicious; not restoring it"
            ));
            continue;
        }
        let Ok(r) = Reference::from_parts(base.domain(), base.path(), None, Some(good.clone()))
        else {
            continue;
        };
        let present = match inputs.client.resolve(&r).await {
            Ok(_) => true,
            Err(RegistryError::NotFound { .. }) => false,
            Err(e) => {
                plan.problems.push(format!("{r}: {e}"));
                continue;
            }
        };
        let target = Target::Tag {
            repository: name.clone(),
            tag: tag.clone(),
            digest: good.to_string(),
        };
        let why = format!("an advisory names {good} as the known-good digest of {tag}");
        let (state, instead) = match (present, inputs.restore_known_good) {
            (true, true) => (State::Planned, Vec::new()),
            (true, false) => (
                State::ByHand,
                vec![format!(
                    "run again with --restore-known-good to point {tag} back at {good}"
                )],
            ),
            (false, _) => (
                State::ByHand,
                vec![format!(
                    "{good} is not in {name}: copy it in first (`skopeo copy --all --preserve-digests docker://SOURCE@{good} docker://{name}:{tag}`)"
                )],
            ),
        };
        plan.steps.push(Step {
            key: format!("tag:{name}:{tag}"),
            target,
            action: Action::RestoreTag,
            why,
            state,
            instead,
        });
    }
}

/// Why deletes are refused and what to do instead, for distribution's proxy mode, a registry
/// with deletes disabled, and Harbor's proxy-cache projects.
fn refused(base: &Reference, read_only: Option<bool>) -> (State, Vec<String>) {
    let path = base.path();
    let cache = [
        "block the digest at the edge first (admission policy, or the cache's own access rules): a cache keeps serving a digest it holds".to_string(),
        format!(
            "stop the cache, then remove `<rootdirectory>/docker/registry/v2/repositories/{path}/_manifests/revisions/sha256/<hex>` for each digest above, and `_manifests/tags/<tag>` for each tag pointing at it"
        ),
        "run `registry garbage-collect --delete-untagged <config.yml>` with the cache stopped, then start it again".to_string(),
        "or shorten `proxy.ttl` (default 168h) so cached tags expire; digests pulled by digest stay until removed".to_string(),
        "for a Harbor proxy-cache project: delete the artifact in the project, flush the Redis keys `cache:manifestlist:<repo>:*`, run GC".to_string(),
    ];
    let disabled = "set `storage.delete.enabled: true` in the registry's configuration, restart it and run the purge again; then run `registry garbage-collect` to free the blobs".to_string();
    match read_only {
        Some(true) => (
            State::Refused {
                reason: "the registry is read-only (a pull-through cache): it refuses deletes and uploads".to_string(),
            },
            cache.to_vec(),
        ),
        Some(false) => (
            State::Refused {
                reason: "the registry refuses deletes (they are disabled in its configuration)".to_string(),
            },
            vec![disabled],
        ),
        None => {
            let mut instead = vec![format!(
                "if it is a registry of your own: {disabled}"
            )];
            instead.extend(cache.into_iter().map(|c| format!("if it is a pull-through cache: {c}")));
            (
                State::Refused {
                    reason: "the registry refuses deletes: a pull-through cache, or deletes disabled (run with --yes to tell which)".to_string(),
                },
                instead,
            )
        }
    }
}
