//! What a purge acts on, what it does to each target, and in which state a step is.
//!
//! These types are the versioned JSON output too (see `JSON.md`): fields are only ever added.

use serde::{Deserialize, Serialize};

/// Something malicious found somewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A container created from a malicious image.
    EngineContainer {
        /// The engine's socket.
        engine: String,
        id: String,
        name: String,
        image_id: String,
        running: bool,
    },
    /// An image in an engine's store whose `RepoDigests` name a malicious digest; removed by
    /// ID with all its tags.
    EngineImage {
        engine: String,
        id: String,
        tags: Vec<String>,
        /// `repo@sha256:…` as the engine lists them.
        digests: Vec<String>,
    },
    /// A manifest in a registry, by digest, with the tags that pointed at it when planned.
    Manifest {
        /// `host/path`.
        repository: String,
        digest: String,
        role: Role,
        tags: Vec<String>,
        /// For signatures and referrers: the malicious manifest they are attached to.
        subject: Option<String>,
        /// Where the registry is Harbor: the artifact's project and repository, deleted
        /// through Harbor's API.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        harbor: Option<HarborPlace>,
    },
    /// A tag to point back at a known-good digest.
    Tag {
        repository: String,
        tag: String,
        /// The known-good digest.
        digest: String,
    },
    /// A pod container running a malicious digest, from a `kubectl get pods -o json` snapshot.
    Pod {
        /// The snapshot file.
        snapshot: String,
        /// `namespace/pod/container`.
        container: String,
        node: Option<String>,
        digest: String,
        owner: Option<Owner>,
    },
    /// A node or host image store in a snapshot (`crictl images`, `docker inspect`).
    Snapshot {
        snapshot: String,
        host: Option<String>,
        /// The image as the snapshot names it.
        reference: Option<String>,
        digest: String,
    },
}

/// An artifact's place in Harbor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HarborPlace {
    pub project: String,
    pub repository: String,
}

/// The workload that owns a pod, to roll once the images are gone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// `ReplicaSet`, `DaemonSet`, `Job`, `StatefulSet`…
    pub kind: String,
    pub name: String,
}

/// Why a manifest is a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A `sha256-<hex>.sig`/`.att`/`.sbom` tag attached to a malicious manifest.
    Signature,
    /// The referrers-tag index (`sha256-<hex>`) of a malicious manifest.
    ReferrersIndex,
    /// An artifact whose `subject` is a malicious manifest (referrers API or tag schema).
    Referrer,
    /// An index that lists a malicious child (or is itself malicious).
    Index,
    /// A malicious image manifest.
    Image,
    /// A platform manifest of a malicious index, or the malicious child of an index.
    Child,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signature => "signature",
            Self::ReferrersIndex => "referrers index",
            Self::Referrer => "referrer",
            Self::Index => "index",
            Self::Image => "image",
            Self::Child => "platform manifest",
        }
    }
}

/// What is done to a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Stop the container, then remove it.
    StopAndRemoveContainer,
    RemoveContainer,
    /// Remove the image by ID, all its tags with it.
    RemoveImage,
    /// `DELETE /v2/<name>/manifests/<digest>`, after checking the bytes.
    DeleteManifest,
    /// Put the known-good manifest under the tag.
    RestoreTag,
    /// Nothing tagwarden can do: see the step's instructions.
    ByHand,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StopAndRemoveContainer => "stop and remove",
            Self::RemoveContainer => "remove",
            Self::RemoveImage => "remove image",
            Self::DeleteManifest => "delete manifest",
            Self::RestoreTag => "point tag back",
            Self::ByHand => "by hand",
        }
    }
}

/// Where a step stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Will be done with `--yes` (dry run), or is about to be.
    Planned,
    /// Done in this run.
    Done,
    /// Nothing to do: the target was gone when the step was taken.
    AlreadyGone,
    /// Not done until something else is (`--force`, a container first).
    Blocked { reason: String },
    /// The registry or engine refuses it; `instead` says what to do.
    Refused { reason: String },
    /// Tried and failed.
    Failed { reason: String },
    /// Left to the user: `instead` says what to do.
    ByHand,
}

impl State {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Done => "done",
            Self::AlreadyGone => "already gone",
            Self::Blocked { .. } => "blocked",
            Self::Refused { .. } => "refused",
            Self::Failed { .. } => "failed",
            Self::ByHand => "by hand",
        }
    }

    /// The reason, for the states that have one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Blocked { reason } | Self::Refused { reason } | Self::Failed { reason } => {
                Some(reason)
            }
            _ => None,
        }
    }
}

/// One thing to do to one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Stable across runs, so that a journal names the same step the next time:
    /// `engine:<socket>:image:<id>`, `registry:<repo>@<digest>`, `tag:<repo>:<tag>`…
    pub key: String,
    pub target: Target,
    pub action: Action,
    /// Why it is a target: the malicious digest and the advisories naming it.
    pub why: String,
    pub state: State,
    /// What to do instead, or besides (a registry that refuses deletes, a pod to roll).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instead: Vec<String>,
}

impl Step {
    /// The target in a few words, for people: `podman at /run/podman.sock: image sha256:12ab…
    /// (checkmarx/kics:latest)`.
    pub fn describe(&self) -> String {
        match &self.target {
            Target::EngineContainer {
                engine,
                id,
                name,
                running,
                ..
            } => format!(
                "{engine}: container {name} ({}, {})",
                short(id),
                if *running { "running" } else { "not running" }
            ),
            Target::EngineImage {
                engine, id, tags, ..
            } => {
                let tags: Vec<&str> = tags
                    .iter()
                    .map(String::as_str)
                    .filter(|t| *t != "<none>:<none>")
                    .collect();
                if tags.is_empty() {
                    format!("{engine}: image {}", short(id))
                } else {
                    format!("{engine}: image {} ({})", short(id), tags.join(", "))
                }
            }
            Target::Manifest {
                repository,
                digest,
                role,
                tags,
                harbor,
                ..
            } => {
                let tags = if tags.is_empty() {
                    String::new()
                } else {
                    format!(" (tags: {})", tags.join(", "))
                };
                let harbor = harbor
                    .as_ref()
                    .map(|h| {
                        format!(
                            " [Harbor project {}, repository {}]",
                            h.project, h.repository
                        )
                    })
                    .unwrap_or_default();
                format!("{repository}@{digest}: {}{tags}{harbor}", role.as_str())
            }
            Target::Tag {
                repository,
                tag,
                digest,
            } => format!("{repository}:{tag} → {digest}"),
            Target::Pod {
                container,
                node,
                owner,
                ..
            } => {
                let mut s = format!("pod container {container}");
                if let Some(node) = node {
                    s.push_str(&format!(" on node {node}"));
                }
                if let Some(o) = owner {
                    s.push_str(&format!(", owned by {} {}", o.kind, o.name));
                }
                s
            }
            Target::Snapshot {
                snapshot,
                host,
                reference,
                digest,
            } => format!(
                "{} in {snapshot}{}",
                reference.as_deref().unwrap_or(digest),
                host.as_deref()
                    .map(|h| format!(" (host {h})"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// `sha256:0123456789ab` (the first 12 hex digits), as engines print IDs.
pub fn short(id: &str) -> String {
    match id.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", hex.get(..12).unwrap_or(hex)),
        None => id.get(..12).unwrap_or(id).to_string(),
    }
}
