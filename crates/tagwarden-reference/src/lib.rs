//! The Docker distribution image-reference grammar, with the normalisation the docker CLI applies.
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [domain "/"] path
//! domain           := host [":" port]
//! host             := domain-name | IPv4 | "[" IPv6 "]"
//! path             := path-component ("/" path-component)*
//! path-component   := [a-z0-9]+ (separator [a-z0-9]+)*
//! separator        := "_" | "." | "__" | "-"+
//! tag              := [\w][\w.-]{0,127}
//! digest           := algorithm ":" hex
//! ```
//!
//! This crate does no I/O: it parses strings and says, with a byte offset, what is wrong.

mod digest;
mod error;
mod parse;
mod pattern;
mod tag_kind;

pub use digest::{Algorithm, Digest};
pub use error::{ErrorKind, ParseError};
pub use pattern::{ImagePatterns, ImagePatternsBuilder};
pub use tag_kind::TagKind;

use std::fmt;

/// The registry that a reference without a domain names.
pub const DOCKER_HUB: &str = "docker.io";

/// Hostnames that mean Docker Hub and are normalised to [`DOCKER_HUB`].
const DOCKER_HUB_ALIASES: &[&str] = &["index.docker.io", "registry-1.docker.io"];

/// Longest repository path (the name without its domain; for Docker Hub with `library/`)
/// distribution/reference accepts.
pub const NAME_MAX: usize = 255;
/// Longest tag the distribution spec accepts.
pub const TAG_MAX: usize = 128;

/// A parsed, normalised image reference. Equality ignores how it was written (an implicit
/// `latest` equals a written one).
#[derive(Clone, Debug)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
    /// Byte ranges of the parts as written in the input, for rewrites that keep the user's spelling.
    written: Written,
}

/// Where each part of a reference sits in the string it was parsed from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// The name (domain and path) as written, e.g. `nginx` for `nginx:1.27`.
    pub name: std::ops::Range<usize>,
    /// The tag without its `:`.
    pub tag: Option<std::ops::Range<usize>>,
    /// The digest without its `@`.
    pub digest: Option<std::ops::Range<usize>>,
}

impl Reference {
    /// Parses and normalises a reference: no domain means `docker.io`, a single Docker Hub path
    /// component gets `library/`, and Docker Hub's other hostnames become `docker.io`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        parse::parse(input)
    }

    /// Builds a reference from parts already known to be valid (used by tests and registries).
    pub fn from_parts(
        domain: &str,
        path: &str,
        tag: Option<&str>,
        digest: Option<Digest>,
    ) -> Result<Self, ParseError> {
        let mut s = format!("{domain}/{path}");
        if let Some(t) = tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &digest {
            s.push('@');
            s.push_str(&d.to_string());
        }
        Self::parse(&s)
    }

    /// The registry host, with its port: `docker.io`, `ghcr.io`, `127.0.0.1:5000`, `[::1]:5000`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path inside the registry: `library/nginx`, `checkmarx/kics`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `domain/path`: the repository, the unit advisories name.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The tag as written, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The tag a pull resolves: the written one, or `latest` when neither tag nor digest is given.
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }

    /// The digest, if the reference is pinned.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// True when the reference names a digest, so a pull cannot be redirected by moving a tag.
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some()
    }

    /// True when the reference floats on `latest`, written or implied.
    pub fn is_latest(&self) -> bool {
        self.digest.is_none() && self.effective_tag() == Some("latest")
    }

    /// True for Docker Hub references.
    pub fn is_docker_hub(&self) -> bool {
        self.domain == DOCKER_HUB
    }

    /// Where the parts were in the input string.
    pub fn written(&self) -> &Written {
        &self.written
    }

    /// The same reference with another digest (and the same tag).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The fully-qualified form with the tag only (no digest), e.g. `docker.io/library/nginx:latest`.
    pub fn tagged(&self) -> String {
        format!(
            "{}:{}",
            self.repository(),
            self.effective_tag().unwrap_or("latest")
        )
    }
}

impl Reference {
    /// Identity: `nginx` and `docker.io/library/nginx:latest` pull the same thing.
    fn key(&self) -> (&str, &str, Option<&str>, Option<&Digest>) {
        (
            &self.domain,
            &self.path,
            self.effective_tag(),
            self.digest.as_ref(),
        )
    }
}

impl PartialEq for Reference {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Reference {}
impl std::hash::Hash for Reference {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}
impl PartialOrd for Reference {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Reference {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl fmt::Display for Reference {
    /// The fully-qualified normalised form; implicit `latest` only when there is neither tag nor digest.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        if let Some(t) = self.effective_tag() {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Normalises a registry host the way the docker CLI does (`index.docker.io` → `docker.io`).
pub fn normalize_domain(domain: &str) -> &str {
    if DOCKER_HUB_ALIASES.contains(&domain) {
        DOCKER_HUB
    } else {
        domain
    }
}

/// Normalises a repository name given without tag or digest, e.g. `kics` → `docker.io/library/kics`.
pub fn normalize_repository(name: &str) -> Result<String, ParseError> {
    let r = Reference::parse(name)?;
    if r.tag.is_some() || r.digest.is_some() {
        return Err(ParseError::new(
            ErrorKind::UnexpectedTagOrDigest,
            r.written.name.end,
        ));
    }
    Ok(r.repository())
}

#[cfg(test)]
mod tests;
