//! The children of an image index: every manifest it lists, with its platform when it names one.
//! A watcher records them all, so that an attacker who swaps one platform's image (or an
//! attestation) inside an index is seen, not only a change of the platform it would pull.

use serde::Deserialize;
use tagwarden_reference::Digest;

use crate::{Manifest, RegistryError};

/// One manifest listed by an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexChild {
    /// `os/arch[/variant]`; `None` when the index gives no platform.
    pub platform: Option<String>,
    /// The child manifest's digest.
    pub digest: Digest,
}

impl Manifest {
    /// The manifests this index lists, in its order; empty for a single-platform manifest. An
    /// index that is not valid JSON, or lists an invalid digest, is a protocol error.
    pub fn children(&self) -> Result<Vec<IndexChild>, RegistryError> {
        if !self.is_index() {
            return Ok(Vec::new());
        }
        index_children(&self.bytes).map_err(|e| {
            RegistryError::Protocol(format!("the index {} is not readable: {e}", self.digest))
        })
    }
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    digest: String,
    platform: Option<EntryPlatform>,
}

#[derive(Deserialize)]
struct EntryPlatform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

fn index_children(bytes: &[u8]) -> Result<Vec<IndexChild>, String> {
    let index: Index = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    index
        .manifests
        .into_iter()
        .map(|entry| {
            let digest = Digest::parse(&entry.digest)
                .map_err(|e| format!("child digest {:?}: {e}", entry.digest))?;
            let platform = entry
                .platform
                .map(|p| match p.variant.filter(|v| !v.is_empty()) {
                    Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                    None => format!("{}/{}", p.os, p.architecture),
                });
            Ok(IndexChild { platform, digest })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn every_child_with_its_platform() {
        let json = format!(
            r#"{{"manifests":[
            {{"digest":"{}","platform":{{"os":"linux","architecture":"amd64"}}}},
            {{"digest":"{}","platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}},
            {{"digest":"{}","platform":{{"os":"unknown","architecture":"unknown"}}}},
            {{"digest":"{}"}}]}}"#,
            d('a'),
            d('b'),
            d('c'),
            d('e')
        );
        let children = index_children(json.as_bytes()).unwrap_or_default();
        let platforms: Vec<Option<&str>> = children.iter().map(|c| c.platform.as_deref()).collect();
        assert_eq!(
            platforms,
            [
                Some("linux/amd64"),
                Some("linux/arm/v7"),
                Some("unknown/unknown"),
                None
            ]
        );
        assert_eq!(children[3].digest.to_string(), d('e'));
    }

    #[test]
    fn bad_indexes_are_errors() {
        assert!(index_children(b"not json").is_err());
        assert!(index_children(br#"{"manifests":[{"digest":"sha256:short"}]}"#).is_err());
        assert_eq!(index_children(b"{}"), Ok(Vec::new()));
    }
}
