//! What `resolve`, `pin` and `verify` ask of registries, behind one trait so that the commands'
//! logic does not depend on how the network is reached.

use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::Platform;

/// What a registry says about a tag now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// The digest the tag points at (an index for multi-platform images).
    pub(crate) digest: Digest,
    /// For an index: its platform manifests as (`os/arch[/variant]`, digest).
    pub(crate) children: Vec<(String, Digest)>,
}

/// Why a registry could not answer for one reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResolveError {
    pub(crate) message: String,
    /// The registry answered that the tag or digest does not exist.
    pub(crate) not_found: bool,
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub(crate) trait Resolver: Sync {
    /// Resolves every reference (by its tag), concurrently; results in the same order.
    /// `children` is filled when `with_children` is set (platform pins, verify).
    fn resolve_all(
        &self,
        refs: &[Reference],
        with_children: bool,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Vec<Result<Resolved, ResolveError>>;

    /// Whether the registry still serves each digest reference; same order.
    fn exists_all(&self, refs: &[Reference]) -> Vec<Result<bool, ResolveError>>;

    /// For each digest reference: the platform when it is a single-platform image manifest,
    /// `None` for an index; same order.
    fn platforms_of(&self, refs: &[Reference]) -> Vec<Result<Option<String>, ResolveError>>;
}

impl Resolved {
    /// The digest to pin for an optional platform (`os/arch[/variant]`): the index by default.
    pub(crate) fn digest_for(&self, platform: Option<&str>) -> Option<&Digest> {
        match platform {
            None => Some(&self.digest),
            Some(p) => {
                if self.children.is_empty() {
                    // A single-platform image: its manifest is the only choice.
                    Some(&self.digest)
                } else {
                    self.children
                        .iter()
                        .find(|(cp, _)| platform_matches(cp, p))
                        .map(|(_, d)| d)
                }
            }
        }
    }

    /// The platform of a child digest, when the digest is one of the index's children.
    pub(crate) fn platform_of(&self, digest: &Digest) -> Option<&str> {
        self.children
            .iter()
            .find(|(_, d)| d == digest)
            .map(|(p, _)| p.as_str())
    }
}

/// Whether a platform an index lists (`have`) satisfies the one asked for (`want`), both as
/// `os/arch[/variant]`: the registry crate's [`Platform::matches`] rule.
pub(crate) fn platform_matches(have: &str, want: &str) -> bool {
    match (Platform::parse(have), Platform::parse(want)) {
        (Ok(have), Ok(want)) => have.matches(&want),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        assert!(platform_matches("linux/arm64/v8", "linux/arm64"));
        assert!(platform_matches("linux/arm64", "linux/arm64/v8"));
        assert!(platform_matches("linux/amd64", "linux/amd64"));
        assert!(!platform_matches("linux/arm/v6", "linux/arm/v7"));
        assert!(!platform_matches("linux/amd64", "linux/arm64"));
    }
}
