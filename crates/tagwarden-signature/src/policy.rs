//! The `[signatures]` section of `tagwarden.toml`: for image patterns, who must have signed.
//!
//! ```toml
//! [signatures]
//! mode = "enforce"                          # or "warn"; rules may override it
//! trust-root = "sigstore/trusted_root.json" # default: the built-in public-good root
//!
//! [[signatures.require]]
//! images = ["checkmarx/kics", "ghcr.io/acme/*"]
//! keys = ["keys/kics.pub"]                  # cosign public keys (PEM): any one suffices
//! keyless = [{ identity = "https://github.com/Checkmarx/kics/.github/workflows/release.yml@refs/tags/*",
//!              issuer = "https://token.actions.githubusercontent.com" }]
//! ```
//!
//! [`parse`] reads the text (no I/O); [`Draft::load`] reads the key and trust-root files it
//! names. Errors carry the byte span of the offending value for the caller to show as
//! `file:line:column`.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;
use tagwarden_reference::{ImagePatterns, Reference};
use toml::Spanned;

use crate::keys::PublicKey;
use crate::trust_root::TrustRoot;

/// What happens to an image that fails its rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Refused: `pin` does not write it, `verify` reports a high finding, `watch` alerts.
    Enforce,
    /// Reported, not refused.
    Warn,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
        })
    }
}

/// A keyless signer: the certificate's SAN (exact, or a glob where `*` stays within a path
/// segment and `**` crosses them) and the OIDC issuer that vouched for it (exact).
#[derive(Clone, Debug)]
pub struct Identity {
    pub identity: String,
    pub issuer: String,
    matcher: GlobMatcher,
}

impl Identity {
    pub fn new(identity: &str, issuer: &str) -> Result<Self, String> {
        if identity.is_empty() || issuer.is_empty() {
            return Err("a keyless identity needs both `identity` and `issuer`".into());
        }
        let matcher = GlobBuilder::new(identity)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("invalid identity glob: {e}"))?
            .compile_matcher();
        Ok(Self {
            identity: identity.to_string(),
            issuer: issuer.to_string(),
            matcher,
        })
    }

    pub(crate) fn matches_san(&self, san: &str) -> bool {
        san == self.identity || self.matcher.is_match(san)
    }

    /// The issuer is exact; `*` (never accepted from a config file) is any, for display.
    pub(crate) fn matches_issuer(&self, issuer: &str) -> bool {
        self.issuer == issuer || self.issuer == "*"
    }
}

/// A policy key and the name it was given (its path as written).
#[derive(Clone, Debug)]
pub struct NamedKey {
    pub name: String,
    pub key: PublicKey,
}

/// One `[[signatures.require]]` entry.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The image patterns as written, for messages.
    pub patterns: Vec<String>,
    images: ImagePatterns,
    pub mode: Mode,
    pub keys: Vec<NamedKey>,
    pub keyless: Vec<Identity>,
    /// Keyed signatures must come with a verified transparency-log entry (keyless ones always
    /// must: the log's time is what the short-lived certificate is checked at).
    pub transparency_log: bool,
    /// The payload's repository (`docker-reference`), when it names one, must be the image's.
    pub repository_binding: bool,
}

/// A loaded signature policy.
#[derive(Clone, Debug)]
pub struct Policy {
    pub rules: Vec<Rule>,
    pub trust_root: Arc<TrustRoot>,
    /// Where the trust root came from: a path, or "built-in public-good".
    pub trust_root_source: String,
}

impl Policy {
    /// The first rule whose patterns match the image, if any.
    pub fn rule_for(&self, image: &Reference) -> Option<&Rule> {
        self.rules.iter().find(|r| r.images.matches(image))
    }

    /// A policy with one rule for every image, for tests and callers that build policies in
    /// code.
    pub fn single(
        patterns: &[&str],
        mode: Mode,
        keys: Vec<NamedKey>,
        keyless: Vec<Identity>,
        trust_root: TrustRoot,
    ) -> Result<Self, String> {
        let mut images = ImagePatterns::builder();
        for p in patterns {
            images.add(p)?;
        }
        let images = images.build()?;
        Ok(Self {
            rules: vec![Rule {
                patterns: patterns.iter().map(|p| p.to_string()).collect(),
                images,
                mode,
                keys,
                keyless,
                transparency_log: true,
                repository_binding: true,
            }],
            trust_root: Arc::new(trust_root),
            trust_root_source: "given".into(),
        })
    }
}

/// A configuration error: what, and where in the text (bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub span: Option<Range<usize>>,
    pub message: String,
}

impl PolicyError {
    fn at<T>(spanned: &Spanned<T>, message: impl Into<String>) -> Self {
        Self {
            span: Some(spanned.span()),
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    signatures: Option<Spanned<RawSignatures>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSignatures {
    mode: Option<Spanned<String>>,
    trust_root: Option<Spanned<String>>,
    #[serde(default)]
    require: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRule {
    images: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    keys: Vec<Spanned<String>>,
    #[serde(default)]
    keyless: Vec<Spanned<RawKeyless>>,
    mode: Option<Spanned<String>>,
    transparency_log: Option<bool>,
    repository_binding: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyless {
    identity: Spanned<String>,
    issuer: Spanned<String>,
}

/// A parsed, not yet loaded policy: key and trust-root paths with their spans.
#[derive(Debug)]
pub struct Draft {
    rules: Vec<DraftRule>,
    trust_root: Option<(PathBuf, Range<usize>)>,
}

#[derive(Debug)]
struct DraftRule {
    patterns: Vec<String>,
    images: ImagePatterns,
    mode: Mode,
    keys: Vec<(PathBuf, Range<usize>)>,
    keyless: Vec<Identity>,
    transparency_log: bool,
    repository_binding: bool,
}

fn mode(s: &Spanned<String>) -> Result<Mode, PolicyError> {
    match s.get_ref().as_str() {
        "enforce" => Ok(Mode::Enforce),
        "warn" => Ok(Mode::Warn),
        other => Err(PolicyError::at(
            s,
            format!("unknown signature mode {other:?} (enforce, warn)"),
        )),
    }
}

/// Reads the `[signatures]` section of a whole `tagwarden.toml` text; `None` when there is
/// none. Other sections are not looked at.
pub fn parse(text: &str) -> Result<Option<Draft>, PolicyError> {
    let doc: Doc = toml::from_str(text).map_err(|e| PolicyError {
        span: e.span(),
        message: e.message().to_string(),
    })?;
    let Some(raw) = doc.signatures else {
        return Ok(None);
    };
    let section_span = raw.span();
    let raw = raw.into_inner();
    let default_mode = raw
        .mode
        .as_ref()
        .map(mode)
        .transpose()?
        .unwrap_or(Mode::Enforce);
    let mut rules = Vec::new();
    for rule in &raw.require {
        let r = rule.get_ref();
        if r.images.get_ref().is_empty() {
            return Err(PolicyError::at(
                &r.images,
                "`images` lists no image pattern",
            ));
        }
        let mut images = ImagePatterns::builder();
        for p in r.images.get_ref() {
            images.add(p.get_ref()).map_err(|e| PolicyError::at(p, e))?;
        }
        let images = images.build().map_err(|e| PolicyError::at(&r.images, e))?;
        if r.keys.is_empty() && r.keyless.is_empty() {
            return Err(PolicyError::at(
                rule,
                "a signature rule needs `keys` or `keyless` signers",
            ));
        }
        let mut keyless = Vec::new();
        for k in &r.keyless {
            let raw = k.get_ref();
            if raw.issuer.get_ref().is_empty() || raw.issuer.get_ref().contains('*') {
                return Err(PolicyError::at(
                    &raw.issuer,
                    "`issuer` must be the exact OIDC issuer URL",
                ));
            }
            keyless.push(
                Identity::new(raw.identity.get_ref(), raw.issuer.get_ref())
                    .map_err(|e| PolicyError::at(&raw.identity, e))?,
            );
        }
        rules.push(DraftRule {
            patterns: r
                .images
                .get_ref()
                .iter()
                .map(|p| p.get_ref().clone())
                .collect(),
            images,
            mode: r
                .mode
                .as_ref()
                .map(mode)
                .transpose()?
                .unwrap_or(default_mode),
            keys: r
                .keys
                .iter()
                .map(|k| (PathBuf::from(k.get_ref()), k.span()))
                .collect(),
            keyless,
            transparency_log: r.transparency_log.unwrap_or(true),
            repository_binding: r.repository_binding.unwrap_or(true),
        });
    }
    if rules.is_empty() {
        return Err(PolicyError {
            span: Some(section_span),
            message: "[signatures] has no [[signatures.require]] rule".into(),
        });
    }
    Ok(Some(Draft {
        rules,
        trust_root: raw
            .trust_root
            .as_ref()
            .map(|t| (PathBuf::from(t.get_ref()), t.span())),
    }))
}

impl Draft {
    /// Reads the key files and the trust root, relative to `base` (the config file's folder).
    pub fn load(self, base: &Path) -> Result<Policy, PolicyError> {
        let read = |path: &Path, span: &Range<usize>, what: &str| {
            let full = base.join(path);
            std::fs::read(&full).map_err(|e| PolicyError {
                span: Some(span.clone()),
                message: format!("cannot read {what} {}: {e}", full.display()),
            })
        };
        let (trust_root, trust_root_source) = match &self.trust_root {
            Some((path, span)) => {
                let bytes = read(path, span, "trust root")?;
                let text = String::from_utf8(bytes).map_err(|_| PolicyError {
                    span: Some(span.clone()),
                    message: format!("{}: not UTF-8 text", path.display()),
                })?;
                let root = TrustRoot::from_json(&text).map_err(|e| PolicyError {
                    span: Some(span.clone()),
                    message: format!("{}:{e}", path.display()),
                })?;
                (root, path.display().to_string())
            }
            None => (TrustRoot::public_good(), "built-in public-good".to_string()),
        };
        let mut rules = Vec::new();
        for r in self.rules {
            let mut keys = Vec::new();
            for (path, span) in &r.keys {
                let bytes = read(path, span, "key file")?;
                let key = PublicKey::from_pem_or_der(&bytes).map_err(|e| PolicyError {
                    span: Some(span.clone()),
                    message: format!("{}: {e}", path.display()),
                })?;
                keys.push(NamedKey {
                    name: path.display().to_string(),
                    key,
                });
            }
            rules.push(Rule {
                patterns: r.patterns,
                images: r.images,
                mode: r.mode,
                keys,
                keyless: r.keyless,
                transparency_log: r.transparency_log,
                repository_binding: r.repository_binding,
            });
        }
        Ok(Policy {
            rules,
            trust_root: Arc::new(trust_root),
            trust_root_source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (String, String) {
        let e = parse(text).unwrap_err();
        let span = e.span.clone().unwrap_or(0..0);
        (text[span].to_string(), e.message)
    }

    #[test]
    fn a_full_section() {
        let d = parse(
            r#"fail-on = "high"
[signatures]
mode = "warn"
[[signatures.require]]
images = ["checkmarx/kics"]
keyless = [{ identity = "https://github.com/Checkmarx/kics/.github/workflows/release.yml@refs/tags/*", issuer = "https://token.actions.githubusercontent.com" }]
[[signatures.require]]
images = ["ghcr.io/acme/*"]
keys = ["k.pub"]
mode = "enforce"
transparency-log = false
"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(d.rules.len(), 2);
        assert_eq!(d.rules[0].mode, Mode::Warn);
        assert_eq!(d.rules[1].mode, Mode::Enforce);
        assert!(!d.rules[1].transparency_log);
        let id = &d.rules[0].keyless[0];
        assert!(id.matches_san(
            "https://github.com/Checkmarx/kics/.github/workflows/release.yml@refs/tags/v2.1.3"
        ));
        // `*` stays within a path segment.
        assert!(!id.matches_san(
            "https://github.com/Checkmarx/kics/.github/workflows/release.yml@refs/tags/x/../../evil"
        ));
        assert!(parse("fail-on = \"high\"\n").unwrap().is_none());
    }

    #[test]
    fn errors_point_at_the_value() {
        let (at, msg) = err(
            "[signatures]\nmode = \"loud\"\n[[signatures.require]]\nimages=[\"a\"]\nkeys=[\"k\"]\n",
        );
        assert_eq!(
            (at.as_str(), msg.contains("unknown signature mode")),
            ("\"loud\"", true)
        );
        let (at, msg) =
            err("[signatures]\n[[signatures.require]]\nimages = [\"UPPER\"]\nkeys = [\"k\"]\n");
        assert_eq!(at, "\"UPPER\"");
        assert!(msg.starts_with("invalid image"), "{msg}");
        let (_, msg) = err("[signatures]\n[[signatures.require]]\nimages = [\"a\"]\n");
        assert!(msg.contains("needs `keys` or `keyless`"), "{msg}");
        let (at, _) = err("[signatures]\ncolour = 1\n");
        assert_eq!(at, "colour");
        let (at, msg) = err(
            "[signatures]\n[[signatures.require]]\nimages = [\"a\"]\nkeyless = [{ identity = \"x\" }]\n",
        );
        assert!(msg.contains("issuer"), "{msg} at {at}");
    }

    #[test]
    fn load_reports_unreadable_keys_at_their_path() {
        let text =
            "[signatures]\n[[signatures.require]]\nimages = [\"a\"]\nkeys = [\"missing.pub\"]\n";
        let e = parse(text)
            .unwrap()
            .unwrap()
            .load(Path::new("/nonexistent"))
            .unwrap_err();
        assert_eq!(&text[e.span.unwrap()], "\"missing.pub\"");
        assert!(e.message.contains("cannot read key file"), "{}", e.message);
    }
}
