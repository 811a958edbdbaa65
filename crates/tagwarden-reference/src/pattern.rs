//! Image patterns as the configuration writes them (`ignore.images`, `signatures.require`): a
//! plain name is normalised (`postgres` → `docker.io/library/postgres`) and matches any tag and
//! digest of that repository; a name with a tag or digest matches those; a pattern with `*`, `?`
//! or `[` is a glob over the normalised `repository:tag@digest` and over the repository alone.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::Reference;

/// A set of image patterns.
#[derive(Debug, Default, Clone)]
pub struct ImagePatterns {
    exact: Vec<Reference>,
    repositories: Vec<String>,
    globs: Option<GlobSet>,
    builder: Vec<Glob>,
}

impl ImagePatterns {
    /// Adds one pattern; the error says what is wrong with it.
    pub fn add(&mut self, pattern: &str) -> Result<(), String> {
        if pattern.contains(['*', '?', '[']) {
            let g = Glob::new(pattern).map_err(|e| format!("invalid image glob: {e}"))?;
            self.builder.push(g);
            let mut b = GlobSetBuilder::new();
            for g in &self.builder {
                b.add(g.clone());
            }
            self.globs = Some(b.build().map_err(|e| e.to_string())?);
            return Ok(());
        }
        let r = Reference::parse(pattern).map_err(|e| format!("invalid image {pattern:?}: {e}"))?;
        if r.tag().is_none() && r.digest().is_none() {
            self.repositories.push(r.repository());
        } else {
            self.exact.push(r);
        }
        Ok(())
    }

    /// True when no pattern was added.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.repositories.is_empty() && self.builder.is_empty()
    }

    /// True when a normalised reference matches one of the patterns.
    pub fn matches(&self, r: &Reference) -> bool {
        let repo = r.repository();
        self.repositories.contains(&repo)
            || self.exact.iter().any(|e| {
                e.repository() == repo
                    && e.tag().is_none_or(|t| Some(t) == r.tag())
                    && e.digest().is_none_or(|d| Some(d) == r.digest())
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
        let mut p = ImagePatterns::default();
        assert!(p.is_empty());
        p.add("postgres").unwrap();
        p.add("ghcr.io/acme/*").unwrap();
        p.add("redis:7").unwrap();
        let r = |s: &str| Reference::parse(s).unwrap();
        assert!(p.matches(&r("postgres:16")));
        assert!(p.matches(&r("docker.io/library/postgres")));
        assert!(p.matches(&r("ghcr.io/acme/app:1")));
        assert!(p.matches(&r("redis:7")));
        assert!(!p.matches(&r("redis:6")));
        assert!(!p.matches(&r("ghcr.io/other/app")));
        assert!(p.add("UPPER").unwrap_err().starts_with("invalid image"));
    }
}
