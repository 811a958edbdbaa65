//! Advisories as data: a TOML file per incident (format in `FORMAT.md`), the built-in advisories,
//! and matching image references, digests and GitHub Action refs against them.
//!
//! Loading takes text, never a path to open: the caller does the I/O. Every load error points at
//! the line and column of the offending value.

mod action_ref;
mod builtin;
mod indicator;
mod load;
mod matching;
mod model;
mod selftest;
pub mod syntax;

pub use builtin::FILES as BUILTIN_FILES;
pub use indicator::{normalize as normalize_network_indicator, refang};
pub use matching::{ActionMatch, ActionVerdict, AdvisorySet, ImageMatch, ImageVerdict};
pub use model::{
    ActionAdvisory, Advisory, Commit, Confidence, DigestKind, Example, Examples, ExpectedVerdict,
    FileHash, HostArtifact, ImageExposure, ImportInfo, KnownGoodDigest, MaliciousDigest,
    NetworkIndicator, NetworkKind, NotIndicator, OtherIndicator, Provenance, Source, Sourced,
    TagRule, VersionBound, Window,
};
pub use selftest::{SelfTestFailure, self_test};

/// Why an advisory file was rejected, and where: `path:line:column: message` (1-based; the
/// column counts characters).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct AdvisoryError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Advisory {
    /// Parses and validates an advisory. `path` is used in error messages only.
    pub fn from_toml(path: &str, text: &str) -> Result<Advisory, AdvisoryError> {
        load::from_toml(path, text)
    }

    /// Line and column (1-based) where an example reference is written in the file, among the
    /// must-match (`true`) or must-not-match examples.
    pub fn example_position(&self, reference: &str, must_match: bool) -> Option<(usize, usize)> {
        self.example_positions
            .iter()
            .find(|(r, m, _)| r == reference && *m == must_match)
            .map(|(_, _, at)| *at)
    }

    /// The source declared with this id, to show where a value comes from.
    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }
}

/// 1-based line and column (in characters) of a byte offset, as in every error.
pub use tagwarden_text::line_column;

#[cfg(test)]
mod tests;
