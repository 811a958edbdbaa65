//! Manifest media types, digests of bytes, and picking a platform out of an image index.

use serde::Deserialize;
use sha2::{Digest as _, Sha256, Sha512};
use tagwarden_reference::{Algorithm, Digest};

use crate::RegistryError;

/// OCI image index (multi-platform).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest (one platform).
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker manifest list (multi-platform).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image manifest, schema 2 (one platform).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// The `Accept` header for manifests: indexes first so a tag resolves to what `docker pull` sees.
pub(crate) const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// True for the multi-platform media types.
pub fn is_index_media_type(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// The digest of `bytes` with `algorithm`.
pub fn digest_of(bytes: &[u8], algorithm: Algorithm) -> Digest {
    match algorithm {
        Algorithm::Sha256 => Digest::sha256_from_bytes(&Sha256::digest(bytes).into()),
        Algorithm::Sha512 => {
            let hex: String = Sha512::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            // A 128-digit lowercase hex string always parses; the fallback is never taken.
            Digest::parse(&format!("sha512:{hex}"))
                .unwrap_or_else(|_| Digest::sha256_from_bytes(&Sha256::digest(bytes).into()))
        }
    }
}

/// The media type of a manifest from its `mediaType` field, or its shape when the field is absent.
pub(crate) fn media_type_from_body(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
        layers: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    match probe {
        Probe {
            media_type: Some(m),
            ..
        } => Some(m),
        Probe {
            manifests: Some(_), ..
        } => Some(OCI_INDEX.to_string()),
        Probe {
            layers: Some(_), ..
        } => Some(OCI_MANIFEST.to_string()),
        _ => None,
    }
}

/// A platform as `docker --platform` writes it: `os/arch[/variant]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    /// `linux`, `windows`.
    pub os: String,
    /// `amd64`, `arm64`, `arm`.
    pub architecture: String,
    /// `v7`, `v8`, if given.
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch` or `os/arch/variant`.
    pub fn parse(s: &str) -> Result<Self, RegistryError> {
        let parts: Vec<&str> = s.split('/').collect();
        let bad = || {
            RegistryError::InvalidInput(format!(
                "platform {s:?} is not of the form os/arch or os/arch/variant"
            ))
        };
        if parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        match parts.as_slice() {
            [os, arch] => Ok(Self {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, variant] => Ok(Self {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// The parts of an image index we read.
#[derive(Debug, Deserialize)]
pub(crate) struct Index {
    #[serde(default)]
    pub(crate) manifests: Vec<IndexEntry>,
}

/// One child of an index.
#[derive(Debug, Deserialize)]
pub(crate) struct IndexEntry {
    pub(crate) digest: String,
    pub(crate) platform: Option<IndexPlatform>,
}

/// A child's platform as the index spells it.
#[derive(Debug, Deserialize)]
pub(crate) struct IndexPlatform {
    pub(crate) os: String,
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
}

impl IndexPlatform {
    fn to_platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().filter(|v| !v.is_empty()),
        }
    }
}

/// The variant an architecture has when none is written (as containerd normalises it).
fn default_variant(architecture: &str) -> Option<&'static str> {
    match architecture {
        "arm64" => Some("v8"),
        _ => None,
    }
}

/// Picks the child for `wanted`: same os and architecture, and the same variant when one is asked
/// for; without a variant, a child without one (or with the default) is preferred.
pub(crate) fn pick_platform<'a>(index: &'a Index, wanted: &Platform) -> Option<&'a IndexEntry> {
    let candidates = index.manifests.iter().filter(|entry| {
        let Some(p) = &entry.platform else {
            return false;
        };
        if p.os != wanted.os || p.architecture != wanted.architecture {
            return false;
        }
        let child_variant = p
            .variant
            .as_deref()
            .filter(|v| !v.is_empty())
            .or(default_variant(&p.architecture));
        match wanted.variant.as_deref() {
            Some(v) => Some(v) == child_variant,
            None => true,
        }
    });
    let candidates: Vec<&IndexEntry> = candidates.collect();
    let plain = candidates.iter().copied().find(|entry| {
        entry.platform.as_ref().is_some_and(|p| {
            p.variant.as_deref().is_none_or(str::is_empty)
                || p.variant.as_deref() == default_variant(&p.architecture)
        })
    });
    plain.or(candidates.first().copied())
}

/// The platforms an index lists, for error messages.
pub(crate) fn listed_platforms(index: &Index) -> Vec<String> {
    index
        .manifests
        .iter()
        .filter_map(|e| e.platform.as_ref().map(|p| p.to_platform().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(json: &str) -> Index {
        serde_json::from_str(json).unwrap_or(Index { manifests: vec![] })
    }

    const INDEX: &str = r#"{"schemaVersion":2,"manifests":[
        {"digest":"sha256:1","platform":{"os":"linux","architecture":"amd64"}},
        {"digest":"sha256:2","platform":{"os":"linux","architecture":"arm","variant":"v6"}},
        {"digest":"sha256:3","platform":{"os":"linux","architecture":"arm","variant":"v7"}},
        {"digest":"sha256:4","platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
        {"digest":"sha256:5","platform":{"os":"unknown","architecture":"unknown"}}]}"#;

    fn pick(p: &str) -> Option<String> {
        let idx = index(INDEX);
        let wanted = Platform::parse(p).ok()?;
        pick_platform(&idx, &wanted).map(|e| e.digest.clone())
    }

    #[test]
    fn picks_by_os_arch_and_variant() {
        assert_eq!(pick("linux/amd64").as_deref(), Some("sha256:1"));
        assert_eq!(pick("linux/arm/v7").as_deref(), Some("sha256:3"));
        assert_eq!(pick("linux/arm/v6").as_deref(), Some("sha256:2"));
        assert_eq!(pick("linux/arm64").as_deref(), Some("sha256:4"));
        assert_eq!(pick("linux/arm64/v8").as_deref(), Some("sha256:4"));
        assert_eq!(pick("linux/arm").as_deref(), Some("sha256:2"));
        assert_eq!(pick("linux/s390x"), None);
        assert_eq!(pick("windows/amd64"), None);
    }

    #[test]
    fn arm64_without_variant_matches_v8() {
        let idx = index(
            r#"{"manifests":[{"digest":"sha256:9","platform":{"os":"linux","architecture":"arm64"}}]}"#,
        );
        let wanted = Platform::parse("linux/arm64/v8").ok();
        let got = wanted.and_then(|w| pick_platform(&idx, &w).map(|e| e.digest.clone()));
        assert_eq!(got.as_deref(), Some("sha256:9"));
    }

    #[test]
    fn platform_strings() {
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux/").is_err());
        assert!(Platform::parse("a/b/c/d").is_err());
        assert_eq!(
            Platform::parse("linux/arm/v7").map(|p| p.to_string()).ok(),
            Some("linux/arm/v7".into())
        );
        assert_eq!(listed_platforms(&index(INDEX)).len(), 5);
    }

    #[test]
    fn digests_and_media_types() {
        assert_eq!(
            digest_of(b"", Algorithm::Sha256).to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            digest_of(b"", Algorithm::Sha512).algorithm(),
            Algorithm::Sha512
        );
        assert_eq!(
            media_type_from_body(br#"{"manifests":[]}"#).as_deref(),
            Some(OCI_INDEX)
        );
        assert_eq!(
            media_type_from_body(br#"{"mediaType":"x","layers":[]}"#).as_deref(),
            Some("x")
        );
        assert_eq!(media_type_from_body(b"not json"), None);
        assert!(is_index_media_type(DOCKER_MANIFEST_LIST));
        assert!(!is_index_media_type(DOCKER_MANIFEST));
    }
}
