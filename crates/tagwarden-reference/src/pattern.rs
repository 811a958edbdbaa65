//! Image patterns as the configuration writes them (`ignore.images`, `signatures.require`): a
//! plain name is normalised (`postgres` → `docker.io/library/postgres`) and matches any tag and
//! digest of that repository; a name with a tag or digest matches those; a pattern with `*`, `?`
//! or `[` is a glob over the normalised `repository:tag@digest` and over the repository alone.

use std::collections::{HashMap, HashSet};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::Reference;

/// A set of image patterns, built once by [`ImagePatternsBuilder`].
#[derive(Debug, Default, Clone)]
pub struct ImagePatterns {
    /// Patterns with a tag or digest, by repository.
    exact: HashMap<String, Vec<Reference>>,
    repositories: HashSet<String>,
    globs: Option<GlobSet>,
}

/// Collects patterns; the glob set is compiled once, in [`ImagePatternsBuilder::build`]
/// (compiling it per pattern made 3,000 globs take seconds).
#[derive(Debug)]
pub struct ImagePatternsBuilder {
    patterns: ImagePatterns,
    globs: GlobSetBuilder,
    any_glob: bool,
}

impl Default for ImagePatternsBuilder {
    fn default() -> Self {
        Self {
            patterns: ImagePatterns::default(),
            globs: GlobSetBuilder::new(),
            any_glob: false,
        }
    }
}

impl ImagePatternsBuilder {
    /// Adds one pattern; the error says what is wrong with it.
    pub fn add(&mut self, pattern: &str) -> Result<(), String> {
        if pattern.contains(['*', '?', '[']) {
            let g = Glob::new(pattern).map_err(|e| format!("invalid image glob: {e}"))?;
            self.globs.add(g);
            self.any_glob = true;
            return Ok(());
        }
        let r = Reference::parse(pattern).map_err(|e| format!("invalid image {pattern:?}: {e}"))?;
        if r.tag().is_none() && r.digest().is_none() {
            self.patterns.repositories.insert(r.repository());
        } else {
            self.patterns
                .exact
                .entry(r.repository())
                .or_default()
                .push(r);
        }
        Ok(())
    }

    /// The patterns, with their globs compiled.
    pub fn build(mut self) -> Result<ImagePatterns, String> {
        if self.any_glob {
            self.patterns.globs = Some(self.globs.build().map_err(|e| e.to_string())?);
        }
        Ok(self.patterns)
    }
}

impl ImagePatterns {
    pub fn builder() -> ImagePatternsBuilder {
        ImagePatternsBuilder::default()
    }

    /// True when no pattern was added.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.repositories.is_empty() && self.globs.is_none()
    }

    /// True when a normalised reference matches one of the patterns.
    pub fn matches(&self, r: &Reference) -> bool {
        let repo = r.repository();
        self.repositories.contains(&repo)
            || self.exact.get(&repo).is_some_and(|all| {
                all.iter().any(|e| {
                    e.tag().is_none_or(|t| Some(t) == r.tag())
                        && e.digest().is_none_or(|d| Some(d) == r.digest())
                })
            })
            || self
                .globs
                .as_ref()
                .is_some_and(|g| g.is_match(r.to_string()) || g.is_match(&repo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tags_and_globs() {
        assert!(ImagePatterns::default().is_empty());
        let mut b = ImagePatterns::builder();
        b.add("postgres").unwrap();
        b.add("ghcr.io/acme/*").unwrap();
        b.add("redis:7").unwrap();
        assert!(b.add("UPPER").unwrap_err().starts_with("invalid image"));
        let p = b.build().unwrap();
        assert!(!p.is_empty());
        let r = |s: &str| Reference::parse(s).unwrap();
        assert!(p.matches(&r("postgres:16")));
        assert!(p.matches(&r("docker.io/library/postgres")));
        assert!(p.matches(&r("ghcr.io/acme/app:1")));
        assert!(p.matches(&r("redis:7")));
        assert!(!p.matches(&r("redis:6")));
        assert!(!p.matches(&r("ghcr.io/other/app")));
    }
}
