//! Manifest media types and digests of bytes.

use serde::Deserialize;
use sha2::{Digest as _, Sha256, Sha512};
use tagwarden_reference::{Algorithm, Digest};

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

/// True for the four manifest media types a registry serves for a tag.
pub(crate) fn is_known_manifest_type(media_type: &str) -> bool {
    [
        OCI_INDEX,
        OCI_MANIFEST,
        DOCKER_MANIFEST_LIST,
        DOCKER_MANIFEST,
    ]
    .contains(&media_type)
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
        manifests: Option<serde::de::IgnoredAny>,
        layers: Option<serde::de::IgnoredAny>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
