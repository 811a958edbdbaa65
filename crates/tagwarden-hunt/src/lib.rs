//! What a hunt found: the answer to "were we hit?", shared by every command that makes or reads
//! one.
//!
//! `tagwarden hunt` judges evidence (files, engines, registries, logs) against advisories and
//! builds an [`Outcome`]: [`Hit`]s with a [`Verdict`] and what [`Matched`], weak matches, the
//! [`SourceRun`] of every source, and the [`Problem`]s that kept evidence unread. The outputs
//! (timeline, report, SARIF, STIX, MISP) render an `Outcome`; [`json`] writes it as versioned
//! JSON and reads it back, for the commands that act on a hunt (`exposure`, `purge`). The JSON
//! is documented in `JSON.md` beside this crate. Nothing here reads files or the network.

pub mod json;

mod hit;
mod outcome;
mod source;

pub use hit::{EventKey, Hit, Matched, Verdict};
pub use outcome::{Answer, Event, Outcome};
pub use source::{Problem, SourceKind, SourceRun, SourceStatus};
