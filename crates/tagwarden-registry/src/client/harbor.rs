//! Harbor: recognised by its `GET /api/v2.0/systeminfo` (it names its `harbor_version`), and
//! artifacts deleted through its REST API (`DELETE /api/v2.0/projects/{project}/repositories/
//! {repository}/artifacts/{digest}`), which also works in proxy-cache projects, where the
//! distribution API refuses. A repository name with `/` is URL-encoded twice, as Harbor asks.
//!
//! As with every delete here, the artifact's manifest is fetched by digest through the
//! distribution API and its bytes hashed before the delete is sent.

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use tagwarden_reference::Reference;

use super::Client;
use super::write::Deletion;
use crate::RegistryError;
use crate::transport::{Request, status_error};

/// Largest `systeminfo` answer read.
const SYSTEMINFO_MAX: usize = 256 * 1024;

/// A Harbor instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Harbor {
    /// `v2.11.0-…`, as it says.
    pub version: String,
}

/// Where an image lives in Harbor's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarborArtifact {
    /// The first path component: `library`, a proxy-cache project `dockerhub-proxy`.
    pub project: String,
    /// The rest of the path: `checkmarx/kics`.
    pub repository: String,
}

impl HarborArtifact {
    /// The project and repository of `reference`; `None` for a one-component path (Harbor
    /// keeps every repository in a project).
    pub fn of(reference: &Reference) -> Option<HarborArtifact> {
        let (project, repository) = reference.path().split_once('/')?;
        Some(HarborArtifact {
            project: project.to_string(),
            repository: repository.to_string(),
        })
    }

    /// `/api/v2.0/projects/{project}/repositories/{repository}/artifacts/{reference}`, the
    /// repository encoded twice (`a/b` → `a%252Fb`).
    pub fn api_path(&self, reference: &str) -> String {
        let once = encode(&self.repository);
        format!(
            "api/v2.0/projects/{}/repositories/{}/artifacts/{}",
            encode(&self.project),
            encode(&once),
            encode(reference)
        )
    }
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Deserialize)]
struct SystemInfo {
    #[serde(default)]
    harbor_version: Option<String>,
}

impl Client {
    /// Harbor, when `registry` (a host as references write it) is one; `None` when it answers
    /// anything else (the CNCF registry says 404).
    pub async fn harbor(&self, registry: &str) -> Result<Option<Harbor>, RegistryError> {
        let endpoint = self.endpoint(registry)?;
        let _permit = self.acquire(&endpoint).await?;
        let url = endpoint.url("api/v2.0/systeminfo")?;
        // The unauthenticated part of systeminfo holds the version; no credentials are sent.
        let anyone = Reference::from_parts(registry, "harbor/systeminfo", None, None)
            .map_err(|e| RegistryError::InvalidInput(format!("{registry}: {e}")))?;
        let response = self
            .send(
                &endpoint,
                &Request::new(Method::GET, url, "application/json"),
                &anyone,
            )
            .await;
        let response = match response {
            Ok(r) if r.status().is_success() => r,
            Ok(_) | Err(RegistryError::Unauthorized { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Ok(body) = self.read_body(&endpoint, response, SYSTEMINFO_MAX).await else {
            return Ok(None);
        };
        Ok(serde_json::from_slice::<SystemInfo>(&body)
            .ok()
            .and_then(|i| i.harbor_version)
            .filter(|v| !v.is_empty() && v.len() < 128)
            .map(|version| Harbor { version }))
    }

    /// Deletes the artifact `reference` names by digest through Harbor's API, after fetching
    /// its manifest and checking it hashes to the digest. An artifact already gone is
    /// [`Deletion::AlreadyGone`].
    pub async fn harbor_delete_artifact(
        &self,
        reference: &Reference,
    ) -> Result<Deletion, RegistryError> {
        let Some(digest) = reference.digest() else {
            return Err(RegistryError::InvalidInput(format!(
                "{reference}: only an artifact named by digest is deleted, never a tag"
            )));
        };
        let Some(artifact) = HarborArtifact::of(reference) else {
            return Err(RegistryError::InvalidInput(format!(
                "{reference}: a Harbor repository lives in a project (`project/repository`)"
            )));
        };
        let by_digest = Reference::from_parts(
            reference.domain(),
            reference.path(),
            None,
            Some(digest.clone()),
        )
        .map_err(|e| RegistryError::InvalidInput(format!("{reference}: {e}")))?;
        match self.confirm(&by_digest).await {
            Ok(()) => {}
            Err(RegistryError::NotFound { .. }) => return Ok(Deletion::AlreadyGone),
            Err(e) => return Err(e),
        }
        let endpoint = self.endpoint(reference.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        let url = endpoint.url(&artifact.api_path(&digest.to_string()))?;
        let mut request = Request::new(Method::DELETE, url, "application/json");
        request.basic_first = true;
        let response = self.send(&endpoint, &request, &by_digest).await?;
        match response.status() {
            s if s.is_success() => Ok(Deletion::Deleted),
            StatusCode::NOT_FOUND => Ok(Deletion::AlreadyGone),
            s => Err(status_error(&endpoint, &by_digest.to_string(), s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_with_slashes_are_encoded_twice() {
        let r = Reference::parse("harbor.example.com/dockerhub-proxy/checkmarx/kics:latest");
        let Some(a) = r.ok().as_ref().and_then(HarborArtifact::of) else {
            panic!("no artifact");
        };
        assert_eq!(a.project, "dockerhub-proxy");
        assert_eq!(
            a.api_path("sha256:ab"),
            "api/v2.0/projects/dockerhub-proxy/repositories/checkmarx%252Fkics/artifacts/sha256%3Aab"
        );
        let top = Reference::parse("harbor.example.com/library/nginx");
        assert!(top.ok().as_ref().and_then(HarborArtifact::of).is_some());
    }
}
