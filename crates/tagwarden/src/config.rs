//! `tagwarden.toml`: paths and images to ignore, rules to turn off, the failure threshold.
//!
//! ```toml
//! fail-on = "high"
//! advisories = ["security/advisories"]
//!
//! [ignore]
//! paths = ["vendor/**", "testdata/**"]
//! images = ["docker.io/library/postgres", "ghcr.io/acme/*"]
//! rules = ["unpinned-image"]
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use tagwarden_findings::Severity;
use tagwarden_reference::Reference;

pub(crate) const FILE_NAMES: &[&str] = &["tagwarden.toml", ".tagwarden.toml"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    fail_on: Option<toml::Spanned<String>>,
    #[serde(default)]
    advisories: Vec<String>,
    #[serde(default)]
    ignore: RawIgnore,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    #[serde(default)]
    paths: Vec<toml::Spanned<String>>,
    #[serde(default)]
    images: Vec<toml::Spanned<String>>,
    #[serde(default)]
    rules: Vec<toml::Spanned<String>>,
}

/// A validated configuration.
#[derive(Debug, Default)]
pub(crate) struct Config {
    pub(crate) fail_on: Option<Severity>,
    /// Extra advisory files or directories, resolved against the config file's directory.
    pub(crate) advisories: Vec<PathBuf>,
    ignore_paths: Option<GlobSet>,
    ignore_images: ImageMatcher,
    pub(crate) ignore_rules: Vec<String>,
}

impl Config {
    /// Finds and loads the configuration for a scan rooted at `root`.
    pub(crate) fn discover(root: &Path) -> Result<Self> {
        let dir = if root.is_dir() {
            root
        } else {
            root.parent().unwrap_or(Path::new("."))
        };
        for name in FILE_NAMES {
            let p = dir.join(name);
            if p.is_file() {
                return Self::load(&p);
            }
        }
        Ok(Self::default())
    }

    pub(crate) fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(path, &text)
    }

    /// Parses and validates; every error names the file, line and column.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Self> {
        let at = |span: Option<std::ops::Range<usize>>, msg: &str| {
            let (line, col) = span.map_or((1, 1), |s| line_col(text, s.start));
            anyhow!("{}:{line}:{col}: {msg}", path.display())
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| at(e.span(), e.message()))?;

        let fail_on = match raw.fail_on {
            Some(s) => Some(s.get_ref().parse::<Severity>().map_err(|_| {
                at(
                    Some(s.span()),
                    &format!(
                        "unknown severity {:?} (info, low, medium, high, critical)",
                        s.get_ref()
                    ),
                )
            })?),
            None => None,
        };

        let mut paths = GlobSetBuilder::new();
        for p in &raw.ignore.paths {
            let glob = Glob::new(p.get_ref())
                .map_err(|e| at(Some(p.span()), &format!("invalid glob: {e}")))?;
            paths.add(glob);
            // `vendor` and `vendor/` also mean everything below it.
            let below = format!("{}/**", p.get_ref().trim_end_matches('/'));
            if let Ok(g) = Glob::new(&below) {
                paths.add(g);
            }
        }
        let ignore_paths = if raw.ignore.paths.is_empty() {
            None
        } else {
            Some(
                paths
                    .build()
                    .map_err(|e| anyhow!("{}: {e}", path.display()))?,
            )
        };

        let mut images = ImageMatcher::default();
        for i in &raw.ignore.images {
            images
                .add(i.get_ref())
                .map_err(|e| at(Some(i.span()), &e))?;
        }

        let mut rules = Vec::new();
        for r in &raw.ignore.rules {
            if tagwarden_findings::rules::by_id(r.get_ref()).is_none() {
                return Err(at(
                    Some(r.span()),
                    &format!("unknown rule {:?}", r.get_ref()),
                ));
            }
            rules.push(r.get_ref().clone());
        }

        let base = path.parent().unwrap_or(Path::new("."));
        Ok(Self {
            fail_on,
            advisories: raw.advisories.iter().map(|a| base.join(a)).collect(),
            ignore_paths,
            ignore_images: images,
            ignore_rules: rules,
        })
    }

    /// True when the relative path matches an `ignore.paths` glob.
    pub(crate) fn ignores_path(&self, rel: &str) -> bool {
        self.ignore_paths.as_ref().is_some_and(|g| g.is_match(rel))
    }

    /// True when a normalised reference matches an `ignore.images` entry.
    pub(crate) fn ignores_image(&self, r: &Reference) -> bool {
        self.ignore_images.matches(r)
    }

    pub(crate) fn ignores_rule(&self, id: &str) -> bool {
        self.ignore_rules.iter().any(|r| r == id)
    }
}

/// Image patterns: a plain name is normalised (`postgres` → `docker.io/library/postgres`) and
/// matches any tag and digest of that repository; a pattern with `*` is a glob over the
/// normalised `repository:tag@digest` and over the repository alone.
#[derive(Debug, Default)]
struct ImageMatcher {
    exact: Vec<Reference>,
    repositories: Vec<String>,
    globs: Option<GlobSet>,
    builder: Vec<Glob>,
}

impl ImageMatcher {
    fn add(&mut self, pattern: &str) -> Result<(), String> {
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

    fn matches(&self, r: &Reference) -> bool {
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

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    tagwarden_text::line_column(text, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Result<Config> {
        Config::parse(Path::new("tagwarden.toml"), t)
    }

    #[test]
    fn full_config() {
        let c = parse(
            "fail-on = \"medium\"\n[ignore]\npaths = [\"vendor\"]\nimages = [\"postgres\", \"ghcr.io/acme/*\"]\nrules = [\"unpinned-image\"]\n",
        )
        .unwrap();
        assert_eq!(c.fail_on, Some(Severity::Medium));
        assert!(c.ignores_path("vendor/x/Dockerfile"));
        assert!(c.ignores_path("vendor"));
        assert!(!c.ignores_path("src/Dockerfile"));
        assert!(c.ignores_image(&Reference::parse("postgres:16").unwrap()));
        assert!(c.ignores_image(&Reference::parse("ghcr.io/acme/app:1").unwrap()));
        assert!(!c.ignores_image(&Reference::parse("redis").unwrap()));
        assert!(c.ignores_rule("unpinned-image"));
    }

    #[test]
    fn errors_point_at_the_value() {
        let e = parse("fail-on = \"loud\"\n").unwrap_err().to_string();
        assert!(
            e.starts_with("tagwarden.toml:1:11: unknown severity"),
            "{e}"
        );
        let e = parse("[ignore]\nrules = [\"nope\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("tagwarden.toml:2:10: unknown rule"), "{e}");
        let e = parse("colour = 1\n").unwrap_err().to_string();
        assert!(e.starts_with("tagwarden.toml:1:1:"), "{e}");
        let e = parse("[ignore]\nimages = [\"UPPER\"]\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("tagwarden.toml:2:11: invalid image"), "{e}");
    }
}
