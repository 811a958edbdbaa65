//! The artifacts that refer to a manifest (signatures, SBOMs, attestations): the OCI 1.1
//! referrers API (`GET /v2/<name>/referrers/<digest>`), and the referrers tag schema
//! (`<alg>-<hex>` tags holding an index) for registries without that API, as the distribution
//! spec asks clients to fall back.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use tagwarden_reference::{Digest, Reference};

use super::Client;
use crate::RegistryError;
use crate::manifest::OCI_INDEX;
use crate::transport::{Request, content_type, status_error};

/// Largest referrers index accepted.
const REFERRERS_MAX: usize = 4 * 1024 * 1024;

/// One artifact that refers to the subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    /// The referring manifest's media type.
    pub media_type: String,
    /// The referring manifest's digest.
    pub digest: Digest,
    pub size: u64,
    /// What kind of artifact it is, e.g. `application/vnd.dev.sigstore.bundle.v0.3+json`.
    pub artifact_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

/// How the referrers were found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferrersSource {
    /// The registry's referrers API.
    Api,
    /// The referrers tag schema (the registry has no referrers API).
    TagSchema,
}

/// The referrers of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Referrers {
    pub descriptors: Vec<Descriptor>,
    pub source: ReferrersSource,
}

#[derive(Deserialize)]
struct RawIndex {
    #[serde(default)]
    manifests: Vec<RawDescriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    #[serde(default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

impl Client {
    /// The artifacts that refer to `subject` in the reference's repository, keeping those of
    /// `artifact_type` when one is given (the filter is applied here too: registries may ignore
    /// it). A subject nothing refers to has an empty list.
    pub async fn referrers(
        &self,
        repository: &Reference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, RegistryError> {
        let endpoint = self.endpoint(repository.domain())?;
        let permit = self.acquire(&endpoint).await?;
        let mut url = endpoint.url(&format!("v2/{}/referrers/{subject}", repository.path()))?;
        if let Some(t) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", t);
        }
        let response = self
            .send(
                &endpoint,
                &Request::new(Method::GET, url, OCI_INDEX),
                repository,
            )
            .await?;
        let what = format!("{}@{subject}", repository.repository());
        let status = response.status();
        let (bytes, source) = if status.is_success()
            && content_type(response.headers()).as_deref() == Some(OCI_INDEX)
        {
            let bytes = self.read_body(&endpoint, response, REFERRERS_MAX).await?;
            (bytes, ReferrersSource::Api)
        } else if status == StatusCode::NOT_FOUND || status.is_success() {
            // No referrers API (a 404, or a page that is not an index): the tag schema.
            drop(response);
            drop(permit);
            let tag = format!("{}-{}", subject.algorithm().as_str(), subject.hex());
            let tagged =
                Reference::from_parts(repository.domain(), repository.path(), Some(&tag), None)
                    .map_err(|e| RegistryError::InvalidInput(format!("{what}: {e}")))?;
            match self.fetch_manifest(&tagged).await {
                Ok(m) => (m.bytes, ReferrersSource::TagSchema),
                Err(RegistryError::NotFound { .. }) => {
                    return Ok(Referrers {
                        descriptors: Vec::new(),
                        source: ReferrersSource::TagSchema,
                    });
                }
                Err(e) => return Err(e),
            }
        } else {
            return Err(status_error(&endpoint, &what, status));
        };
        Ok(Referrers {
            descriptors: parse_index(&bytes, artifact_type)
                .map_err(|e| RegistryError::Protocol(format!("{what}: referrers: {e}")))?,
            source,
        })
    }
}

/// The descriptors of a referrers index, filtered by artifact type. Entries with an invalid
/// digest are refused: a referrers list is small and written by tools, so one is a sign of
/// tampering rather than noise.
fn parse_index(bytes: &[u8], artifact_type: Option<&str>) -> Result<Vec<Descriptor>, String> {
    let index: RawIndex =
        serde_json::from_slice(bytes).map_err(|e| format!("not a valid index: {e}"))?;
    let mut out = Vec::new();
    for d in index.manifests {
        if artifact_type.is_some_and(|t| d.artifact_type.as_deref() != Some(t)) {
            continue;
        }
        let digest =
            Digest::parse(&d.digest).map_err(|e| format!("invalid digest {:?}: {e}", d.digest))?;
        out.push(Descriptor {
            media_type: d.media_type,
            digest,
            size: d.size,
            artifact_type: d.artifact_type,
            annotations: d.annotations,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_entries_are_filtered_by_artifact_type() {
        let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
            {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":10,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","annotations":{{"a":"b"}}}},
            {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":11,"artifactType":"application/spdx+json"}}]}}"#,
            d('a'),
            d('b')
        );
        let all = parse_index(index.as_bytes(), None).unwrap();
        assert_eq!(all.len(), 2);
        let bundles = parse_index(
            index.as_bytes(),
            Some("application/vnd.dev.sigstore.bundle.v0.3+json"),
        )
        .unwrap();
        assert_eq!(bundles.len(), 1);
        assert_eq!(
            bundles[0].annotations.get("a").map(String::as_str),
            Some("b")
        );
        assert!(parse_index(br#"{"manifests":[{"digest":"nope"}]}"#, None).is_err());
        assert!(parse_index(br#"{"manifests":3}"#, None).is_err());
    }
}
