//! Writes, for `purge`: delete a manifest by digest (the tags pointing at it go with it), put a
//! manifest under a tag (point a tag back at a known-good digest), and ask whether a registry
//! takes deletes at all (deletes disabled, or a pull-through cache, which is read-only).
//!
//! A manifest is only ever deleted after its bytes were fetched from that repository and hashed
//! to the digest: a registry cannot make us delete a digest it merely named.

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use tagwarden_reference::{Digest, Reference};

use super::Client;
use crate::transport::{Request, header, status_error};
use crate::{RegistryError, manifest};

/// Largest error body read for its code.
const ERROR_BODY_MAX: usize = 64 * 1024;

/// What a delete found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// The registry accepted the delete (HTTP 202).
    Deleted,
    /// Nothing to delete: the manifest was not there (deleted before, or never pushed here).
    AlreadyGone,
}

/// Whether a repository's registry takes deletes, from harmless probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteSupport {
    /// A delete of a digest nobody has is answered "not found": real deletes will be tried.
    Accepted,
    /// Deletes are refused (HTTP 405 or 400 `UNSUPPORTED`).
    Refused {
        /// Uploads are refused too: a read-only registry such as a pull-through cache.
        /// `None` when that was not asked (a dry run starts no upload).
        read_only: Option<bool>,
    },
}

#[derive(Deserialize)]
struct Errors {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
}

impl Client {
    /// Deletes the manifest `reference` names by digest (`repo@sha256:…`; a tag is ignored),
    /// after fetching it and checking its bytes hash to that digest. Tags pointing at it go with
    /// it (OCI distribution). A manifest already gone is [`Deletion::AlreadyGone`], not an error.
    pub async fn delete_manifest(&self, reference: &Reference) -> Result<Deletion, RegistryError> {
        let Some(digest) = reference.digest() else {
            return Err(RegistryError::InvalidInput(format!(
                "{reference}: only a manifest named by digest is deleted, never a tag"
            )));
        };
        let by_digest = pinned(reference, digest)?;
        match self.confirm(&by_digest).await {
            Ok(()) => {}
            Err(RegistryError::NotFound { .. }) => return Ok(Deletion::AlreadyGone),
            Err(e) => return Err(e),
        }
        let endpoint = self.endpoint(by_digest.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        let url = endpoint.url(&format!("v2/{}/manifests/{digest}", by_digest.path()))?;
        let mut request = Request::new(Method::DELETE, url, "");
        request.actions = "delete";
        let response = self.send(&endpoint, &request, &by_digest).await?;
        let status = response.status();
        let what = by_digest.to_string();
        match status {
            s if s.is_success() => Ok(Deletion::Deleted),
            StatusCode::NOT_FOUND => Ok(Deletion::AlreadyGone),
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::BAD_REQUEST => {
                let code = self.error_code(&endpoint, response).await;
                Err(RegistryError::WriteRefused {
                    reference: what,
                    operation: "delete it",
                    status: status.as_u16(),
                    code,
                })
            }
            s => Err(status_error(&endpoint, &what, s)),
        }
    }

    /// Puts `bytes` (a manifest of `media_type`) under the tag of `reference`, refusing bytes
    /// that do not hash to `digest`; returns the digest. Used to point a tag back at a
    /// known-good manifest whose bytes were fetched and checked.
    pub async fn put_manifest(
        &self,
        reference: &Reference,
        digest: &Digest,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest, RegistryError> {
        let Some(tag) = reference.tag() else {
            return Err(RegistryError::InvalidInput(format!(
                "{reference}: a manifest is put under a tag"
            )));
        };
        let actual = manifest::digest_of(bytes, digest.algorithm());
        if actual != *digest {
            return Err(RegistryError::DigestMismatch {
                reference: reference.to_string(),
                expected: digest.clone(),
                actual,
            });
        }
        let endpoint = self.endpoint(reference.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        let url = endpoint.url(&format!("v2/{}/manifests/{tag}", reference.path()))?;
        let mut request = Request::new(Method::PUT, url, "");
        request.actions = "pull,push";
        request.body = Some((media_type, bytes));
        let response = self.send(&endpoint, &request, reference).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(digest.clone());
        }
        if matches!(
            status,
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::BAD_REQUEST
        ) {
            let code = self.error_code(&endpoint, response).await;
            return Err(RegistryError::WriteRefused {
                reference: reference.to_string(),
                operation: "accept a manifest",
                status: status.as_u16(),
                code,
            });
        }
        Err(status_error(&endpoint, &reference.to_string(), status))
    }

    /// Whether the repository's registry takes deletes: a delete of the all-zero digest (which
    /// no manifest has) is answered 404 where deletes work and 405 where they are refused.
    /// With `ask_uploads`, a refusal is followed by starting an upload and cancelling it at
    /// once: a pull-through cache refuses uploads too (read-only), a registry with deletes
    /// disabled accepts them. Nothing is ever deleted or stored.
    pub async fn delete_support(
        &self,
        repository: &Reference,
        ask_uploads: bool,
    ) -> Result<DeleteSupport, RegistryError> {
        let endpoint = self.endpoint(repository.domain())?;
        let permit = self.acquire(&endpoint).await?;
        let zero = format!("sha256:{}", "0".repeat(64));
        let url = endpoint.url(&format!("v2/{}/manifests/{zero}", repository.path()))?;
        let mut request = Request::new(Method::DELETE, url, "");
        request.actions = "delete";
        let response = self.send(&endpoint, &request, repository).await?;
        let status = response.status();
        drop(response);
        match status {
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::BAD_REQUEST => {}
            s if s.is_success() || s == StatusCode::NOT_FOUND => {
                return Ok(DeleteSupport::Accepted);
            }
            s => return Err(status_error(&endpoint, &repository.repository(), s)),
        }
        if !ask_uploads {
            return Ok(DeleteSupport::Refused { read_only: None });
        }
        let url = endpoint.url(&format!("v2/{}/blobs/uploads/", repository.path()))?;
        let mut request = Request::new(Method::POST, url, "");
        request.actions = "pull,push";
        let response = self.send(&endpoint, &request, repository).await?;
        let status = response.status();
        let location = header(response.headers(), "location").map(str::to_string);
        drop(response);
        drop(permit);
        let read_only = match status {
            StatusCode::ACCEPTED => {
                if let Some(location) = location {
                    self.cancel_upload(repository, &location).await;
                }
                false
            }
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::BAD_REQUEST => true,
            s => return Err(status_error(&endpoint, &repository.repository(), s)),
        };
        Ok(DeleteSupport::Refused {
            read_only: Some(read_only),
        })
    }

    /// Cancels an upload session started by [`Client::delete_support`]; a failure only leaves
    /// an empty session the registry expires by itself.
    async fn cancel_upload(&self, repository: &Reference, location: &str) {
        let Ok(endpoint) = self.endpoint(repository.domain()) else {
            return;
        };
        // The location may be absolute or a path; only the registry's own host is asked.
        let Ok(url) = endpoint.base.join(location) else {
            return;
        };
        if url.host_str() != endpoint.base.host_str() || url.port() != endpoint.base.port() {
            return;
        }
        let Ok(_permit) = self.acquire(&endpoint).await else {
            return;
        };
        let mut request = Request::new(Method::DELETE, url, "");
        request.actions = "pull,push";
        let _ = self.send(&endpoint, &request, repository).await;
    }

    /// The first distribution error code of an error body.
    async fn error_code(
        &self,
        endpoint: &crate::transport::Endpoint,
        response: reqwest::Response,
    ) -> Option<String> {
        let body = self
            .read_body(endpoint, response, ERROR_BODY_MAX)
            .await
            .ok()?;
        let errors: Errors = serde_json::from_slice(&body).ok()?;
        errors.errors.into_iter().map(|e| e.code).find(|c| {
            !c.is_empty() && c.len() < 64 && c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        })
    }
}

/// `reference` named by `digest` alone (its tag dropped): what is confirmed and deleted.
fn pinned(reference: &Reference, digest: &Digest) -> Result<Reference, RegistryError> {
    Reference::from_parts(
        reference.domain(),
        reference.path(),
        None,
        Some(digest.clone()),
    )
    .map_err(|e| RegistryError::InvalidInput(format!("{reference}: {e}")))
}
