//! What is watched: image patterns from the configuration, references found by `scan`, and the
//! tags they expand to. A tag is release-like (it should never move) or floating.

use std::collections::BTreeMap;

use globset::{Glob, GlobMatcher};
use tagwarden_reference::{Digest, Reference};

/// An `images = […]` entry: one tag, or every tag of a repository matching a glob.
#[derive(Clone, Debug)]
pub enum Pattern {
    /// `alpine:3.20`, `ghcr.io/acme/app:v1.2.3@sha256:…` (the digest is a pin to check).
    Exact(Reference),
    /// `checkmarx/kics:*`, `ghcr.io/acme/app:v1.*`: the repository's tag list, filtered.
    Tags {
        repository: Reference,
        glob: GlobMatcher,
        text: String,
    },
}

impl Pattern {
    /// Parses `name[:tag-or-glob][@digest]`. A tag with `*`, `?` or `[` is a glob over the
    /// repository's tags.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let trimmed = text.trim();
        let name_end = trimmed.rfind('/').map_or(0, |i| i + 1);
        let tag_glob = trimmed[name_end..]
            .split_once(':')
            .map(|(_, tag)| tag)
            .filter(|tag| tag.contains(['*', '?', '[']));
        match tag_glob {
            Some(glob) => {
                if glob.contains('@') {
                    return Err(format!("{text:?}: a tag pattern cannot carry a digest"));
                }
                let repo_text = &trimmed[..trimmed.len() - glob.len() - 1];
                let repository = Reference::parse(repo_text)
                    .map_err(|e| format!("{text:?}: not an image repository: {e}"))?;
                let glob = Glob::new(glob)
                    .map_err(|e| format!("{text:?}: bad tag pattern: {e}"))?
                    .compile_matcher();
                Ok(Pattern::Tags {
                    repository,
                    glob,
                    text: trimmed.to_string(),
                })
            }
            None => {
                let reference = Reference::parse(trimmed)
                    .map_err(|e| format!("{text:?}: not an image reference: {e}"))?;
                if reference.tag().is_none() && reference.digest().is_some() {
                    return Err(format!(
                        "{text:?}: a digest alone never moves; watch a tag (name:tag@digest)"
                    ));
                }
                Ok(Pattern::Exact(reference))
            }
        }
    }
}

pub use tagwarden_reference::TagKind;

/// One watched tag and why it is watched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `registry/repository:tag`, without a digest.
    pub reference: Reference,
    pub kind: TagKind,
    /// Digests files pin this tag to; each is checked as `verify` checks it.
    pub pins: Vec<Digest>,
    /// Where it comes from: the pattern, or `path:line:column` of each reference.
    pub origins: Vec<String>,
}

impl Target {
    pub fn registry(&self) -> &str {
        self.reference.domain()
    }

    pub fn repository(&self) -> &str {
        self.reference.path()
    }

    pub fn tag(&self) -> &str {
        self.reference.tag().unwrap_or("latest")
    }
}

/// Collects targets by tag, merging the pins and origins of the same tag named twice.
#[derive(Default)]
pub struct TargetSet {
    by_key: BTreeMap<(String, String, String), Target>,
}

impl TargetSet {
    /// Adds one reference with its origin; its digest, if any, is a pin.
    pub fn add(&mut self, reference: &Reference, origin: &str) {
        let Some(tag) = reference.effective_tag() else {
            return;
        };
        let Ok(tagged) =
            Reference::from_parts(reference.domain(), reference.path(), Some(tag), None)
        else {
            return;
        };
        let target = self
            .by_key
            .entry((
                reference.domain().to_string(),
                reference.path().to_string(),
                tag.to_string(),
            ))
            .or_insert_with(|| Target {
                reference: tagged,
                kind: TagKind::of(tag),
                pins: Vec::new(),
                origins: Vec::new(),
            });
        if let Some(d) = reference.digest()
            && !target.pins.contains(d)
        {
            target.pins.push(d.clone());
        }
        if !target.origins.iter().any(|o| o == origin) {
            target.origins.push(origin.to_string());
        }
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    pub fn into_vec(self) -> Vec<Target> {
        self.by_key.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_and_floating_tags() {
        for t in [
            "v2.1.20",
            "2.1.20",
            "1.2.3-alpine",
            "v0.69.2_amd64",
            "1.2.3.4",
            "20260422",
            "2026-04-22",
            "2026.04.22-rc1",
        ] {
            assert_eq!(TagKind::of(t), TagKind::Release, "{t}");
        }
        for t in [
            "latest", "alpine", "stable", "3.20", "3", "v2", "edge", "main", "20261399", "1..2", "",
        ] {
            assert_eq!(TagKind::of(t), TagKind::Floating, "{t}");
        }
    }

    #[test]
    fn patterns() {
        let Ok(Pattern::Tags {
            repository, glob, ..
        }) = Pattern::parse("checkmarx/kics:v2.*")
        else {
            panic!("a tag glob");
        };
        assert_eq!(repository.repository(), "docker.io/checkmarx/kics");
        assert!(glob.is_match("v2.1.20") && !glob.is_match("v1.0.0"));
        let Ok(Pattern::Tags { repository, .. }) = Pattern::parse("127.0.0.1:5000/a/b:*") else {
            panic!("a registry with a port");
        };
        assert_eq!(repository.domain(), "127.0.0.1:5000");
        assert!(matches!(
            Pattern::parse("alpine:3.20"),
            Ok(Pattern::Exact(_))
        ));
        assert!(matches!(
            Pattern::parse("127.0.0.1:5000/a"),
            Ok(Pattern::Exact(_))
        ));
        assert!(Pattern::parse("Bad Name:*").is_err());
        assert!(Pattern::parse("a:[").is_err());
        let digest = format!("alpine@sha256:{}", "a".repeat(64));
        assert!(Pattern::parse(&digest).is_err());
    }

    #[test]
    fn the_same_tag_twice_is_one_target_with_both_pins() {
        let d1 = format!("sha256:{}", "1".repeat(64));
        let d2 = format!("sha256:{}", "2".repeat(64));
        let mut set = TargetSet::default();
        for (r, o) in [
            (format!("alpine:3.20@{d1}"), "a:1:1"),
            (format!("docker.io/library/alpine:3.20@{d2}"), "b:2:2"),
            ("alpine:3.20".to_string(), "a:1:1"),
        ] {
            if let Ok(r) = Reference::parse(&r) {
                set.add(&r, o);
            }
        }
        let targets = set.into_vec();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].pins.len(), 2);
        assert_eq!(targets[0].origins, ["a:1:1", "b:2:2"]);
        assert_eq!(targets[0].kind, TagKind::Floating);
    }
}
