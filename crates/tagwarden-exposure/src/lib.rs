//! Which credentials a compromised CI job could read, as a rotation checklist.
//!
//! Step 3 of the incident playbook is "rotate every credential that was exposed". This crate
//! answers which ones: [`ci`] reads every job of the CI definitions in a tree (GitHub Actions,
//! GitLab CI, Jenkins, CircleCI, Azure Pipelines, Bitbucket, Drone, Woodpecker) and lists what
//! each can read, with the definition that grants it; [`selection`] decides which jobs were
//! exposed (a hunt's CI hits and cleared runs, jobs named by hand, or the jobs that use an
//! affected image); [`checklist`] groups what the exposed jobs could read, and the secrets
//! written in the files of their workspaces (found by `tagwarden-secrets`), into one item per
//! credential with its reasons, exposure time and rotation steps; [`output`] renders it for a
//! terminal, an incident ticket (Markdown) or automation (versioned JSON, `JSON.md`).
//!
//! Nothing here reads files or touches the network: the caller walks the trees and hands the
//! files over. No secret value is ever held: CI definitions name secrets, and values found in
//! files are kept as `tagwarden-secrets` keeps them (a redacted preview and a fingerprint).

pub mod checklist;
pub mod ci;
mod job;
pub mod output;
pub mod selection;

pub use checklist::{Checklist, Item, JobEntry, Reason, TreeSecrets, build};
pub use ci::{Tree, TreeFile, jobs};
pub use job::{CredentialKind, Grant, Job, Note, Place, Platform, Region};
pub use selection::{AffectedUse, Evidence, Status, select};
