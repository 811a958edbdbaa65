//! The one image-index parser: OCI image indexes and Docker manifest lists, the platform
//! manifests a multi-platform tag points at.

use serde::Deserialize;
use tagwarden_reference::Digest;

use crate::Platform;

/// An OCI image index or a Docker manifest list, as far as tagwarden reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageIndex {
    /// The children with a valid digest, in the index's order.
    pub manifests: Vec<IndexEntry>,
    /// Children whose digest is not a valid digest: no client can pull them, so they are left
    /// out, but counted so a caller can say so.
    pub invalid_entries: usize,
}

/// One child of an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// The child manifest's digest.
    pub digest: Digest,
    /// Its media type, when the index says.
    pub media_type: Option<String>,
    /// Its platform, when the index says (attestations say `unknown/unknown`).
    pub platform: Option<Platform>,
}

/// Why bytes are not an index.
#[derive(Debug, thiserror::Error)]
#[error("not an image index: {0}")]
pub struct IndexError(String);

impl ImageIndex {
    /// Parses an index from its JSON bytes. Children without a usable digest are counted in
    /// [`ImageIndex::invalid_entries`], not returned.
    pub fn parse(bytes: &[u8]) -> Result<Self, IndexError> {
        #[derive(Deserialize)]
        struct Raw {
            manifests: Option<Vec<RawEntry>>,
        }
        #[derive(Deserialize)]
        struct RawEntry {
            digest: Option<String>,
            #[serde(rename = "mediaType")]
            media_type: Option<String>,
            platform: Option<RawPlatform>,
        }
        #[derive(Deserialize)]
        struct RawPlatform {
            os: Option<String>,
            architecture: Option<String>,
            variant: Option<String>,
        }
        let raw: Raw = serde_json::from_slice(bytes).map_err(|e| IndexError(e.to_string()))?;
        let raw = raw
            .manifests
            .ok_or_else(|| IndexError("it has no \"manifests\" list".into()))?;
        let mut index = ImageIndex::default();
        for entry in raw {
            let Some(digest) = entry.digest.as_deref().and_then(|d| Digest::parse(d).ok()) else {
                index.invalid_entries += 1;
                continue;
            };
            let platform = entry.platform.and_then(|p| {
                Some(Platform::new(
                    p.os.as_deref().filter(|s| !s.is_empty())?,
                    p.architecture.as_deref().filter(|s| !s.is_empty())?,
                    p.variant.as_deref(),
                ))
            });
            index.manifests.push(IndexEntry {
                digest,
                media_type: entry.media_type,
                platform,
            });
        }
        Ok(index)
    }

    /// The child to pull for `wanted`: a child whose platform [matches](Platform::matches) it;
    /// without a variant asked for, a child without one (or with the default) is preferred.
    pub fn pick(&self, wanted: &Platform) -> Option<&IndexEntry> {
        let mut candidates = self
            .manifests
            .iter()
            .filter(|e| e.platform.as_ref().is_some_and(|p| p.matches(wanted)));
        let first = candidates.next()?;
        if first.platform.as_ref().is_some_and(Platform::is_plain) {
            return Some(first);
        }
        Some(
            candidates
                .find(|e| e.platform.as_ref().is_some_and(Platform::is_plain))
                .unwrap_or(first),
        )
    }

    /// The runnable platform manifests, as (platform, digest): not attestations.
    pub fn platforms(&self) -> impl Iterator<Item = (&Platform, &Digest)> {
        self.manifests.iter().filter_map(|e| {
            let p = e.platform.as_ref()?;
            p.is_runnable().then_some((p, &e.digest))
        })
    }

    /// Every child's digest (attestations too: a malicious digest may hide anywhere).
    pub fn digests(&self) -> impl Iterator<Item = &Digest> {
        self.manifests.iter().map(|e| &e.digest)
    }

    /// Every platform the index lists, as `os/arch[/variant]`, for messages.
    pub fn listed_platforms(&self) -> Vec<String> {
        self.manifests
            .iter()
            .filter_map(|e| e.platform.as_ref().map(Platform::to_string))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn index() -> ImageIndex {
        let json = format!(
            r#"{{"schemaVersion":2,"manifests":[
            {{"digest":"{}","platform":{{"os":"linux","architecture":"amd64"}}}},
            {{"digest":"{}","platform":{{"os":"linux","architecture":"arm","variant":"v6"}}}},
            {{"digest":"{}","platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}},
            {{"digest":"{}","platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}},
            {{"digest":"{}","platform":{{"os":"unknown","architecture":"unknown"}}}},
            {{"digest":"sha256:nothex","platform":{{"os":"linux","architecture":"s390x"}}}}]}}"#,
            d('1'),
            d('2'),
            d('3'),
            d('4'),
            d('5')
        );
        ImageIndex::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn pick(p: &str) -> Option<String> {
        let wanted = Platform::parse(p).ok()?;
        index().pick(&wanted).map(|e| e.digest.to_string())
    }

    #[test]
    fn picks_by_os_arch_and_variant() {
        assert_eq!(pick("linux/amd64"), Some(d('1')));
        assert_eq!(pick("linux/arm/v7"), Some(d('3')));
        assert_eq!(pick("linux/arm/v6"), Some(d('2')));
        assert_eq!(pick("linux/arm64"), Some(d('4')));
        assert_eq!(pick("linux/arm64/v8"), Some(d('4')));
        assert_eq!(pick("linux/arm"), Some(d('2')));
        assert_eq!(pick("linux/s390x"), None);
        assert_eq!(pick("windows/amd64"), None);
    }

    #[test]
    fn a_plain_child_is_preferred_when_no_variant_is_asked() {
        let json = format!(
            r#"{{"manifests":[
            {{"digest":"{}","platform":{{"os":"linux","architecture":"arm64","variant":"v9"}}}},
            {{"digest":"{}","platform":{{"os":"linux","architecture":"arm64"}}}}]}}"#,
            d('a'),
            d('b')
        );
        let index = ImageIndex::parse(json.as_bytes()).unwrap_or_default();
        let wanted = Platform::parse("linux/arm64").ok();
        let got = wanted.and_then(|w| index.pick(&w).map(|e| e.digest.to_string()));
        assert_eq!(got, Some(d('b')));
    }

    #[test]
    fn platforms_digests_and_invalid_entries() {
        let index = index();
        assert_eq!(index.invalid_entries, 1);
        assert_eq!(index.digests().count(), 5);
        let runnable: Vec<String> = index.platforms().map(|(p, _)| p.to_string()).collect();
        assert_eq!(
            runnable,
            [
                "linux/amd64",
                "linux/arm/v6",
                "linux/arm/v7",
                "linux/arm64/v8"
            ]
        );
        assert_eq!(index.listed_platforms().len(), 5);
    }

    #[test]
    fn refuses_what_is_not_an_index() {
        assert!(ImageIndex::parse(b"not json").is_err());
        assert!(ImageIndex::parse(br#"{"layers":[]}"#).is_err());
        assert!(ImageIndex::parse(br#"{"manifests":[{}]}"#).is_ok());
        assert!(ImageIndex::parse(br#"{"manifests":{"a":1}}"#).is_err());
    }
}
