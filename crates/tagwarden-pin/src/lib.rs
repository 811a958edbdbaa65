//! The pure part of `tagwarden pin`: given one file's text, what the extractor found in it and the
//! digests the caller resolved, compute byte-exact edits that pin every tag-only reference, apply
//! them, and render a unified diff. Nothing here touches the network or the file system: the
//! binary writes the result with `tagwarden-fs`, which re-checks the file first.
//!
//! Rewrite rules (every rewrite is a splice of the user's bytes, never a re-serialisation):
//! - A written reference `name:tag` becomes `name:tag@sha256:…`: the user's spelling of the name is
//!   kept (`nginx` is never rewritten to `docker.io/library/nginx`), and so are quotes, comments,
//!   indentation, line endings and a byte-order mark, because only the digest is inserted.
//! - A reference with no tag (`nginx`) becomes `nginx:latest@sha256:…`, as Renovate and
//!   docker-lock write it: `nginx@sha256:…` would drop which tag the digest was taken from.
//! - A reference built from a variable (a Dockerfile `ARG` default, a Compose `${X:-default}`, a
//!   GitHub matrix value, a GitLab variable) is pinned where the value is written, and only when
//!   that value is a whole reference used whole by every reference that reads it.
//! - Helm image maps: an existing empty `digest:` key is filled; when the values file uses
//!   `digest:` keys in its image maps (the chart reads them) one is added after the `tag:` line;
//!   otherwise the digest is appended to the tag (`tag: 7@sha256:…`, Renovate's helm-values form),
//!   which every template that renders `repository:tag` honours, whereas a `digest:` key the chart
//!   does not read would look pinned and pin nothing.
//! - Kustomize `images:` entries get a `digest:` field (kustomize uses it over `newTag`).
//! - YAML anchors are pinned at the anchor; aliases are never edited.

mod apply;
mod compose_edit;
mod diff;
mod plan;
mod verify;

use std::fmt;

pub use apply::{ApplyError, apply};
pub use diff::unified_diff;
pub use plan::{plan, repin, repin_target, target};
pub use verify::verify_rewrite;

pub use tagwarden_extract::Span;

/// Replace the bytes `[span.start, span.end)` with `replacement`; an insertion has an empty span.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

impl Edit {
    /// Inserts `text` at byte `at`.
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Self {
            span: Span { start: at, end: at },
            replacement: text.into(),
        }
    }

    /// Replaces `span` with `text`.
    pub fn replace(span: Span, text: impl Into<String>) -> Self {
        Self {
            span,
            replacement: text.into(),
        }
    }

    /// True when the two edits touch the same bytes (or insert at the same place), so their
    /// order would be ambiguous.
    pub fn overlaps(&self, other: &Edit) -> bool {
        let (a, b) = (self.span, other.span);
        if a.is_empty() && b.is_empty() {
            return a.start == b.start;
        }
        if a.is_empty() {
            return b.start < a.start && a.start < b.end;
        }
        if b.is_empty() {
            return a.start < b.start && b.start < a.end;
        }
        a.start < b.end && b.start < a.end
    }
}

/// Why an occurrence is not pinned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// The reference already names a digest (`verify` checks pinned references for drift). With
    /// [`repin`]: it already names the digest given.
    AlreadyPinned,
    /// The reference is not known offline (a variable without a default, a template, …).
    Unresolvable(String),
    /// The bytes cannot be spliced: escapes, a line continuation, a block scalar.
    NotExact,
    /// Built from an expression or variables that cannot be rewritten safely.
    Expression,
    /// The variable's value is also used by references that do not take it whole.
    SharedArg { name: String, uses: usize },
    /// The variable holds only part of the reference (`FROM node:${NODE_VERSION}-alpine`).
    ArgNotWholeReference { name: String },
    /// A `# tagwarden: ignore` comment covers the line.
    Ignored,
    /// The caller has no digest for the reference (`digest_for` returned `None`).
    NotResolved,
    /// Anything else, with the reason.
    Unsupported(String),
}

impl Skip {
    /// A short stable name, for counts and JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AlreadyPinned => "already-pinned",
            Self::Unresolvable(_) => "unresolvable",
            Self::NotExact => "not-exact",
            Self::Expression => "expression",
            Self::SharedArg { .. } => "shared-arg",
            Self::ArgNotWholeReference { .. } => "arg-not-whole-reference",
            Self::Ignored => "ignored",
            Self::NotResolved => "not-resolved",
            Self::Unsupported(_) => "unsupported",
        }
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyPinned => write!(f, "already pinned to a digest"),
            Self::Unresolvable(why) => write!(f, "not known offline: {why}"),
            Self::NotExact => write!(
                f,
                "written with escapes, a line continuation or a block scalar: pin it by hand"
            ),
            Self::Expression => write!(
                f,
                "built by an expression that cannot be rewritten safely: pin the value where it is defined"
            ),
            Self::SharedArg { name, uses } => write!(
                f,
                "{name} is used by {uses} references, not all of which take it whole: pinning it would break the others"
            ),
            Self::ArgNotWholeReference { name } => write!(
                f,
                "{name} holds only part of the reference: pin it by hand (for example, move the whole reference into the variable)"
            ),
            Self::Ignored => write!(f, "ignored by a `tagwarden: ignore` comment"),
            Self::NotResolved => write!(f, "no digest could be resolved"),
            Self::Unsupported(why) => write!(f, "{why}"),
        }
    }
}

/// The plan for one occurrence of [`tagwarden_extract::Extraction::images`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// Index into `extraction.images`.
    pub occurrence_index: usize,
    /// The edits that pin it. May be empty when another occurrence's edit already pins it (two
    /// references reading the same ARG default or the same YAML anchor).
    pub outcome: Result<Vec<Edit>, Skip>,
}

/// Every edit of a plan, in file order.
pub fn edits(planned: &[Planned]) -> Vec<Edit> {
    let mut all: Vec<Edit> = planned
        .iter()
        .filter_map(|p| p.outcome.as_ref().ok())
        .flatten()
        .cloned()
        .collect();
    all.sort();
    all
}

#[cfg(test)]
mod tests;

// Tests bound hostile inputs by the work they allocate, which a loaded machine cannot change.
#[cfg(test)]
#[global_allocator]
static ALLOC: tagwarden_testbed::CountingAllocator = tagwarden_testbed::CountingAllocator;
