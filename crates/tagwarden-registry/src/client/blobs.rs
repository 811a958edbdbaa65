//! Blobs by digest (`GET /v2/<name>/blobs/<digest>`), checked against their digest: signature
//! payloads, Sigstore bundles and other small artifacts a caller reads whole.

use reqwest::Method;
use tagwarden_reference::{Digest, Reference};

use super::Client;
use crate::transport::{Request, status_error};
use crate::{RegistryError, manifest};

impl Client {
    /// The blob `digest` of the reference's repository (its tag and digest are ignored), at most
    /// `limit` bytes, refused unless it hashes to `digest`. Redirects to blob storage are
    /// followed; the HTTP stack drops our credentials when the redirect leaves the registry.
    pub async fn fetch_blob(
        &self,
        repository: &Reference,
        digest: &Digest,
        limit: usize,
    ) -> Result<Vec<u8>, RegistryError> {
        let endpoint = self.endpoint(repository.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        let url = endpoint.url(&format!("v2/{}/blobs/{digest}", repository.path()))?;
        let response = self
            .send(
                &endpoint,
                &Request::new(Method::GET, url, "*/*"),
                repository,
            )
            .await?;
        let what = format!("{}@{digest}", repository.repository());
        if !response.status().is_success() {
            return Err(status_error(&endpoint, &what, response.status()));
        }
        let bytes = self.read_body(&endpoint, response, limit).await?;
        let actual = manifest::digest_of(&bytes, digest.algorithm());
        if actual != *digest {
            return Err(RegistryError::DigestMismatch {
                reference: what,
                expected: digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }
}
