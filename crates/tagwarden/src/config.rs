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
//!
//! A config found inside the tree being judged is written by whoever wrote the tree. When the
//! tree is not trusted (`hunt`, or `--untrusted-config` / `TAGWARDEN_UNTRUSTED_CONFIG`), its
//! ignores cannot hide `compromised-*` findings ([`Config::guard`]) and the advisory files it
//! names must stay inside the tree. Every file a config names is read only if it is a regular
//! file under a size cap.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use tagwarden_findings::Severity;
use tagwarden_reference::{ImagePatterns, Reference};

pub(crate) const FILE_NAMES: &[&str] = &["tagwarden.toml", ".tagwarden.toml"];

/// A config file larger than this is refused (real ones are a few hundred bytes).
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The rules whose findings say a compromise happened: a config from an untrusted tree may not
/// hide them.
const COMPROMISE_RULES: &[&str] = &[
    tagwarden_findings::rules::COMPROMISED_DIGEST.id,
    tagwarden_findings::rules::COMPROMISED_ACTION.id,
];

/// True for the rules a guarded config cannot turn off.
pub(crate) fn is_compromise(rule: &str) -> bool {
    COMPROMISE_RULES.contains(&rule)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    fail_on: Option<toml::Spanned<String>>,
    #[serde(default)]
    advisories: Vec<String>,
    #[serde(default)]
    ignore: RawIgnore,
    /// Read by `crate::signatures::load_policy`, with its own spans.
    #[serde(default, rename = "signatures")]
    _signatures: Option<toml::Table>,
    /// Read by `tagwarden_audit::config::parse`, with its own spans.
    #[serde(default, rename = "audit")]
    _audit: Option<toml::Table>,
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
    ignore_images: ImagePatterns,
    pub(crate) ignore_rules: Vec<String>,
    /// The file it was read from (canonical when it could be made so).
    pub(crate) source: Option<PathBuf>,
    /// Its ignores cannot hide `compromised-*` findings ([`Config::guard`]).
    guarded: bool,
    /// The tree is not trusted: its inline ignore comments cannot hide them either.
    tree_untrusted: bool,
    /// The `[signatures]` policy, when the file has one.
    pub(crate) signatures: Option<tagwarden_signature::Policy>,
    /// The `[audit]` thresholds, when the file has the section.
    pub(crate) audit: Option<tagwarden_audit::AuditConfig>,
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
            // Whatever is there (a FIFO, a link to a device) is refused below, not skipped.
            if std::fs::symlink_metadata(&p).is_ok() {
                return Self::read(&p, true);
            }
        }
        Ok(Self::default())
    }

    /// Loads a config file the user named (`--config`): a stream is read too, up to the cap.
    pub(crate) fn load(path: &Path) -> Result<Self> {
        Self::read(path, false)
    }

    fn read(path: &Path, regular_only: bool) -> Result<Self> {
        let bytes = tagwarden_fs::read_bounded(path, MAX_CONFIG_BYTES, regular_only)
            .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            anyhow!(
                "{}: not UTF-8 at byte {}",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        let mut config = Self::parse(path, &text)?;
        config.source = Some(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
        Ok(config)
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

        let mut images = ImagePatterns::builder();
        for i in &raw.ignore.images {
            images
                .add(i.get_ref())
                .map_err(|e| at(Some(i.span()), &e))?;
        }
        let images = images
            .build()
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;

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
        let signatures = crate::signatures::load_policy(text, base)
            .map_err(|e| at(e.span.clone(), &e.message))?;
        let audit =
            tagwarden_audit::config::parse(text).map_err(|e| at(e.span.clone(), &e.message))?;
        Ok(Self {
            fail_on,
            advisories: raw.advisories.iter().map(|a| base.join(a)).collect(),
            ignore_paths,
            ignore_images: images,
            ignore_rules: rules,
            source: None,
            guarded: false,
            tree_untrusted: false,
            signatures,
            audit,
        })
    }

    /// True when the config was read from inside one of `roots` (a tree being judged).
    pub(crate) fn is_in(&self, roots: &[PathBuf]) -> bool {
        let Some(source) = &self.source else {
            return false;
        };
        roots.iter().any(|r| {
            std::fs::canonicalize(r).is_ok_and(|r| {
                let dir = if r.is_dir() {
                    r.as_path()
                } else {
                    r.parent().unwrap_or(&r)
                };
                source.starts_with(dir)
            })
        })
    }

    /// From now on, no ignore of this config hides a `compromised-*` finding.
    pub(crate) fn guard(&mut self) {
        self.guarded = true;
    }

    /// True when [`Config::guard`] was called.
    pub(crate) fn is_guarded(&self) -> bool {
        self.guarded
    }

    /// The tree is not trusted: `# tagwarden: ignore` comments in it cannot hide a
    /// `compromised-*` finding.
    pub(crate) fn distrust_tree(&mut self) {
        self.tree_untrusted = true;
    }

    /// True when an inline ignore comment may silence `rule`.
    pub(crate) fn inline_may_ignore(&self, rule: &str) -> bool {
        !(self.tree_untrusted && is_compromise(rule))
    }

    /// True when the relative path matches an `ignore.paths` glob.
    pub(crate) fn ignores_path(&self, rel: &str) -> bool {
        self.ignore_paths.as_ref().is_some_and(|g| g.is_match(rel))
    }

    /// True when a normalised reference matches an `ignore.images` entry.
    pub(crate) fn ignores_image(&self, r: &Reference) -> bool {
        self.ignore_images.matches(r)
    }

    /// True when the rule is turned off (never a compromise rule of a guarded config).
    pub(crate) fn ignores_rule(&self, id: &str) -> bool {
        !(self.guarded && is_compromise(id)) && self.ignore_rules.iter().any(|r| r == id)
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

    #[test]
    fn thousands_of_image_globs_are_compiled_once() {
        let mut text = String::from("[ignore]\nimages = [\n");
        for i in 0..3000 {
            text.push_str(&format!(
                "  \"ghcr.io/org{i}/*\",\n  \"registry{i}.example/app:{i}\",\n"
            ));
        }
        text.push_str("]\n");
        let c = parse(&text).unwrap();
        assert!(c.ignores_image(&Reference::parse("ghcr.io/org2999/x:1").unwrap()));
        assert!(c.ignores_image(&Reference::parse("registry7.example/app:7").unwrap()));
        assert!(!c.ignores_image(&Reference::parse("registry7.example/app:8").unwrap()));
        assert!(!c.ignores_image(&Reference::parse("ghcr.io/other/x:1").unwrap()));
    }

    #[test]
    fn a_guarded_config_cannot_turn_compromise_rules_off() {
        let mut c = parse(
            "[ignore]\nrules = [\"compromised-digest\", \"compromised-action\", \"unpinned-image\"]\n",
        )
        .unwrap();
        assert!(c.ignores_rule("compromised-digest"));
        c.guard();
        assert!(!c.ignores_rule("compromised-digest"));
        assert!(!c.ignores_rule("compromised-action"));
        assert!(c.ignores_rule("unpinned-image"));
    }

    #[cfg(unix)]
    #[test]
    fn config_files_are_read_only_when_regular_and_small() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("tagwarden.toml")).unwrap();
        let e = Config::discover(dir.path()).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        std::fs::remove_file(dir.path().join("tagwarden.toml")).unwrap();
        std::fs::write(dir.path().join(".tagwarden.toml"), vec![b'#'; 2 << 20]).unwrap();
        let e = Config::discover(dir.path()).unwrap_err().to_string();
        assert!(e.contains("larger than"), "{e}");
        std::fs::write(dir.path().join(".tagwarden.toml"), "fail-on = \"low\"\n").unwrap();
        let c = Config::discover(dir.path()).unwrap();
        assert_eq!(c.fail_on, Some(Severity::Low));
        assert!(c.is_in(&[dir.path().to_path_buf()]));
        assert!(!c.is_in(&[dir.path().join("sub")]));
    }
}
