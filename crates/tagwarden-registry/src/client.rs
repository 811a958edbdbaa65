//! The client: one connection pool, per-registry concurrency limits, and the registry
//! operations (resolve, confirm, fetch, platforms, tags) built on [`crate::transport`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use tagwarden_auth::{Anonymous, Credentials};
use tagwarden_reference::{Algorithm, Digest, Reference};
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use crate::auth::TokenCache;
use crate::manifest::{self, MANIFEST_ACCEPT};
use crate::policy::{self, Insecure};
use crate::transport::{self, Endpoint, Request};
use crate::{ImageIndex, Platform, RegistryError};

mod blobs;
mod harbor;
mod referrers;
mod write;

pub use harbor::{Harbor, HarborArtifact};
pub use referrers::{Descriptor, Referrers, ReferrersSource};
pub use write::{DeleteSupport, Deletion};

/// Largest manifest accepted; the OCI spec asks registries to accept at least 4 MiB.
const MANIFEST_MAX: usize = 4 * 1024 * 1024;
/// Confirmed digests remembered at most.
const CONFIRMED_MAX: usize = 100_000;

/// How the client behaves. `Default` gives HTTPS everywhere, 8 concurrent requests per registry,
/// 3 retries and waits capped at 30 s.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Registry hosts (with port, as in references: `127.0.0.1:5000`) reached over plain HTTP.
    /// Every other registry is reached over HTTPS with the certificate verified, and nothing
    /// goes over plain HTTP to a host not listed here (see [`crate`] for the rules).
    pub insecure_registries: Vec<String>,
    /// Extra CA certificates (PEM, one or more per entry) trusted besides the system's.
    pub extra_ca_certs_pem: Vec<Vec<u8>>,
    /// Limit for one HTTP request, from connecting to the end of the body.
    pub timeout: Duration,
    /// Requests in flight at once to one registry.
    pub max_concurrency_per_registry: usize,
    /// Retries after a connection error, a timeout, HTTP 429 or a 5xx answer.
    pub retries: u32,
    /// First backoff; doubled each retry.
    pub initial_backoff: Duration,
    /// Longest wait between tries; a `Retry-After` longer than this gives up at once.
    pub max_retry_wait: Duration,
    /// Most bytes of tag-list pages read for one repository: an endless listing stops here.
    pub max_tag_list_bytes: usize,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            insecure_registries: Vec::new(),
            extra_ca_certs_pem: Vec::new(),
            timeout: Duration::from_secs(30),
            max_concurrency_per_registry: 8,
            retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(30),
            max_tag_list_bytes: 64 * 1024 * 1024,
            user_agent: concat!("tagwarden/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// What a tag or digest points at, from the registry's answer to `HEAD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The manifest digest a pull of the reference would get.
    pub digest: Digest,
    /// The manifest media type, e.g. [`crate::OCI_INDEX`].
    pub media_type: String,
    /// True for an OCI index or Docker manifest list (multi-platform).
    pub is_index: bool,
}

/// A manifest whose bytes were checked against its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The digest the bytes hash to (the requested one, when the reference was pinned).
    pub digest: Digest,
    /// The media type, from `Content-Type` or the manifest's own `mediaType`.
    pub media_type: String,
    /// The manifest exactly as served.
    pub bytes: Vec<u8>,
}

impl Manifest {
    /// True for an OCI index or Docker manifest list.
    pub fn is_index(&self) -> bool {
        manifest::is_index_media_type(&self.media_type)
    }

    /// The manifest read as an image index; an error names `reference` when it is not one.
    pub fn index(&self, reference: &Reference) -> Result<ImageIndex, RegistryError> {
        if !self.is_index() {
            return Err(RegistryError::NotAnIndex {
                reference: reference.to_string(),
                media_type: self.media_type.clone(),
            });
        }
        ImageIndex::parse(&self.bytes)
            .map_err(|e| RegistryError::Protocol(format!("{reference}: {e}")))
    }
}

/// A registry client. Cheap to clone; clones share the connection pool, limits, token cache and
/// the digests already confirmed.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) config: ClientConfig,
    pub(crate) insecure: Insecure,
    pub(crate) credentials: Arc<dyn Credentials>,
    pub(crate) tokens: TokenCache,
    /// Registries that answered with a Basic challenge, so later requests send Basic at once.
    pub(crate) basic_registries: Mutex<HashSet<String>>,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// `registry/repository@digest` whose bytes were fetched and hashed; one cell per key, so that
    /// concurrent askers wait for one fetch.
    confirmed: Mutex<HashMap<String, Arc<OnceCell<()>>>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client that goes anonymous everywhere.
    pub fn new(config: ClientConfig) -> Result<Self, RegistryError> {
        Self::with_credentials(config, Arc::new(Anonymous))
    }

    /// A client that asks `credentials` (a [`tagwarden_auth::CredentialStore`], a
    /// [`tagwarden_auth::StaticCredentials`]…) when a registry wants to know who we are.
    ///
    /// Installs rustls' ring crypto provider as the process default if none is installed yet.
    pub fn with_credentials(
        config: ClientConfig,
        credentials: Arc<dyn Credentials>,
    ) -> Result<Self, RegistryError> {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // Losing a race with another thread installing one is fine: any provider will do.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let insecure = Insecure::new(&config.insecure_registries);
        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .pool_max_idle_per_host(config.max_concurrency_per_registry.max(1))
            .redirect(policy::redirect_policy(insecure.clone()));
        let mut certs = Vec::new();
        for (i, pem) in config.extra_ca_certs_pem.iter().enumerate() {
            let bundle = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                RegistryError::InvalidInput(format!("extra CA certificate #{}: {e}", i + 1))
            })?;
            if bundle.is_empty() {
                return Err(RegistryError::InvalidInput(format!(
                    "extra CA certificate #{}: no PEM certificate found",
                    i + 1
                )));
            }
            certs.extend(bundle);
        }
        if !certs.is_empty() {
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| {
            RegistryError::InvalidInput(format!(
                "cannot set up HTTP client: {}",
                transport::describe(&e)
            ))
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                config,
                insecure,
                credentials,
                tokens: TokenCache::default(),
                basic_registries: Mutex::new(HashSet::new()),
                limits: Mutex::new(HashMap::new()),
                confirmed: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Resolves a tag (or checks a digest) with `HEAD`, reading `Docker-Content-Digest` and
    /// `Content-Type`; when either is missing, falls back to `GET` and hashes the body. The
    /// digest of a `HEAD` is the registry's word: use [`Client::resolve_confirmed`] where the
    /// digest will be written or trusted.
    pub async fn resolve(&self, reference: &Reference) -> Result<Resolved, RegistryError> {
        let endpoint = self.endpoint(reference.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        self.resolve_in(&endpoint, reference).await
    }

    /// Like [`Client::resolve`], but a digest the registry only announced in a header is
    /// confirmed: the manifest is fetched by that digest and its bytes hashed, once per
    /// repository and digest for the life of the client. A registry that names a digest it does
    /// not serve gets [`RegistryError::UnservedDigest`] (or [`RegistryError::DigestMismatch`]).
    /// Use it where the digest will be written or trusted.
    pub async fn resolve_confirmed(
        &self,
        reference: &Reference,
    ) -> Result<Resolved, RegistryError> {
        self.resolve_confirmed_in(reference, false)
            .await
            .map(|(resolved, _)| resolved)
    }

    /// [`Client::resolve_confirmed`], and for an index its children: the index is fetched by
    /// digest and hashed, which confirms it too. What `pin`, `verify` and a watcher need of a tag.
    pub async fn resolve_with_index(
        &self,
        reference: &Reference,
    ) -> Result<(Resolved, Option<ImageIndex>), RegistryError> {
        self.resolve_confirmed_in(reference, true).await
    }

    async fn resolve_confirmed_in(
        &self,
        reference: &Reference,
        want_index: bool,
    ) -> Result<(Resolved, Option<ImageIndex>), RegistryError> {
        let endpoint = self.endpoint(reference.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        let resolved = self.resolve_in(&endpoint, reference).await?;
        let pinned = reference.with_digest(resolved.digest.clone());
        // The tag exists (it was just resolved): a digest not found is one the registry made up.
        let unserved = |error| match error {
            RegistryError::NotFound { .. } => RegistryError::UnservedDigest {
                reference: reference.to_string(),
                digest: resolved.digest.clone(),
            },
            other => other,
        };
        if want_index && resolved.is_index {
            let manifest = self.fetch_in(&endpoint, &pinned).await.map_err(unserved)?;
            let index = manifest.index(&pinned)?;
            return Ok((resolved, Some(index)));
        }
        // When HEAD gave no digest the bytes were hashed already, and this finds it confirmed.
        self.confirm_in(&endpoint, &pinned)
            .await
            .map_err(unserved)?;
        Ok((resolved, None))
    }

    /// Confirms that the registry serves the manifest of a pinned reference (`name@digest`):
    /// fetches it and checks that its bytes hash to the digest, once per repository and digest
    /// for the life of the client.
    pub async fn confirm(&self, reference: &Reference) -> Result<(), RegistryError> {
        if reference.digest().is_none() {
            return Err(RegistryError::InvalidInput(format!(
                "{reference}: only a reference with a digest can be confirmed"
            )));
        }
        let endpoint = self.endpoint(reference.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        self.confirm_in(&endpoint, reference).await
    }

    /// Fetches a manifest and checks that its bytes hash to the reference's digest (when pinned)
    /// and to the digest the registry announces; a registry that lies gets
    /// [`RegistryError::DigestMismatch`].
    pub async fn fetch_manifest(&self, reference: &Reference) -> Result<Manifest, RegistryError> {
        let endpoint = self.endpoint(reference.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        self.fetch_in(&endpoint, reference).await
    }

    /// The digest of the child manifest for `platform` (`os/arch[/variant]`, e.g. `linux/arm64`)
    /// in the index the reference points at. The index itself is fetched and verified first.
    pub async fn platform_digest(
        &self,
        reference: &Reference,
        platform: &str,
    ) -> Result<Digest, RegistryError> {
        let wanted = Platform::parse(platform)?;
        let endpoint = self.endpoint(reference.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        let index = self
            .fetch_in(&endpoint, reference)
            .await?
            .index(reference)?;
        match index.pick(&wanted) {
            Some(entry) => Ok(entry.digest.clone()),
            None => Err(RegistryError::PlatformNotFound {
                reference: reference.to_string(),
                platform: wanted.to_string(),
                available: index.listed_platforms(),
            }),
        }
    }

    /// The platform (`os/arch[/variant]`) of a single-platform image manifest, read from its
    /// config blob; `None` for an index. Both the manifest and the blob are verified against
    /// their digests. Used to keep an existing platform pin on its platform when it is updated.
    pub async fn platform_of(
        &self,
        reference: &Reference,
    ) -> Result<Option<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct ConfigDescriptor {
            config: Option<Descriptor>,
        }
        #[derive(serde::Deserialize)]
        struct Descriptor {
            digest: Option<String>,
        }
        let manifest = self.fetch_manifest(reference).await?;
        if manifest.is_index() {
            return Ok(None);
        }
        let described: ConfigDescriptor = serde_json::from_slice(&manifest.bytes).map_err(|e| {
            RegistryError::Protocol(format!("{reference}: manifest is not JSON: {e}"))
        })?;
        let Some(config) = described
            .config
            .and_then(|c| c.digest)
            .and_then(|d| Digest::parse(&d).ok())
        else {
            return Err(RegistryError::Protocol(format!(
                "{reference}: the manifest names no config digest"
            )));
        };
        // Two requests, each with its own slot in the registry's limit (not one held across both).
        let bytes = self.fetch_blob(reference, &config, MANIFEST_MAX).await?;
        Ok(Platform::from_image_config(&bytes).map(|p| p.to_string()))
    }

    /// `HEAD`, or `GET` when the answer lacks a digest or media type.
    async fn resolve_in(
        &self,
        endpoint: &Endpoint,
        reference: &Reference,
    ) -> Result<Resolved, RegistryError> {
        let url = transport::manifest_url(endpoint, reference)?;
        let response = self
            .send(
                endpoint,
                &Request::new(Method::HEAD, url, MANIFEST_ACCEPT),
                reference,
            )
            .await?;
        // Some proxies and mirrors refuse HEAD; GET gets the same answer, at the cost of the body.
        if response.status() == reqwest::StatusCode::METHOD_NOT_ALLOWED {
            drop(response);
            return self.resolve_by_get(endpoint, reference).await;
        }
        if !response.status().is_success() {
            return Err(transport::status_error(
                endpoint,
                &reference.to_string(),
                response.status(),
            ));
        }
        let digest = transport::header(response.headers(), "docker-content-digest")
            .and_then(|v| Digest::parse(v).ok());
        let media_type = transport::content_type(response.headers())
            .filter(|m| manifest::is_known_manifest_type(m));
        drop(response);
        match (digest, media_type) {
            (Some(digest), Some(media_type)) => {
                if let Some(expected) = reference.digest()
                    && *expected != digest
                {
                    return Err(RegistryError::DigestMismatch {
                        reference: reference.to_string(),
                        expected: expected.clone(),
                        actual: digest,
                    });
                }
                Ok(Resolved {
                    is_index: manifest::is_index_media_type(&media_type),
                    digest,
                    media_type,
                })
            }
            _ => self.resolve_by_get(endpoint, reference).await,
        }
    }

    pub(crate) async fn resolve_by_get(
        &self,
        endpoint: &Endpoint,
        reference: &Reference,
    ) -> Result<Resolved, RegistryError> {
        let fetched = self.fetch_in(endpoint, reference).await?;
        Ok(Resolved {
            is_index: fetched.is_index(),
            digest: fetched.digest,
            media_type: fetched.media_type,
        })
    }

    async fn fetch_in(
        &self,
        endpoint: &Endpoint,
        reference: &Reference,
    ) -> Result<Manifest, RegistryError> {
        let url = transport::manifest_url(endpoint, reference)?;
        let response = self
            .send(
                endpoint,
                &Request::new(Method::GET, url, MANIFEST_ACCEPT),
                reference,
            )
            .await?;
        if !response.status().is_success() {
            return Err(transport::status_error(
                endpoint,
                &reference.to_string(),
                response.status(),
            ));
        }
        let announced = transport::header(response.headers(), "docker-content-digest")
            .and_then(|v| Digest::parse(v).ok());
        let header_type = transport::content_type(response.headers());
        let bytes = self.read_body(endpoint, response, MANIFEST_MAX).await?;
        let mismatch = |expected: &Digest| {
            let actual = manifest::digest_of(&bytes, expected.algorithm());
            (actual != *expected).then(|| RegistryError::DigestMismatch {
                reference: reference.to_string(),
                expected: expected.clone(),
                actual,
            })
        };
        if let Some(error) = reference.digest().and_then(mismatch) {
            return Err(error);
        }
        if let Some(error) = announced.as_ref().and_then(mismatch) {
            return Err(error);
        }
        let digest = match reference.digest() {
            Some(d) => d.clone(),
            None => manifest::digest_of(&bytes, Algorithm::Sha256),
        };
        // Fetched and hashed: the registry serves these bytes under this digest.
        self.confirmation(endpoint, reference, &digest).set(()).ok();
        let media_type = header_type
            .clone()
            .filter(|m| manifest::is_known_manifest_type(m))
            .or_else(|| manifest::media_type_from_body(&bytes))
            .or(header_type)
            .ok_or_else(|| {
                RegistryError::Protocol(format!(
                    "{reference}: the manifest has no media type, in its headers or its body"
                ))
            })?;
        Ok(Manifest {
            digest,
            media_type,
            bytes,
        })
    }

    /// Fetches `reference` (which has a digest) and hashes it, unless that was done before.
    async fn confirm_in(
        &self,
        endpoint: &Endpoint,
        reference: &Reference,
    ) -> Result<(), RegistryError> {
        let Some(digest) = reference.digest() else {
            return Ok(());
        };
        let cell = self.confirmation(endpoint, reference, digest);
        cell.get_or_try_init(|| async { self.fetch_in(endpoint, reference).await.map(|_| ()) })
            .await
            .map(|_| ())
    }

    /// The cell that says whether `repository@digest` was confirmed on this registry.
    fn confirmation(
        &self,
        endpoint: &Endpoint,
        reference: &Reference,
        digest: &Digest,
    ) -> Arc<OnceCell<()>> {
        let key = format!("{}/{}@{digest}", endpoint.registry, reference.path());
        let mut confirmed = self
            .inner
            .confirmed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A cache, not a record: forgetting only costs a fetch, and a huge hunt stays bounded.
        if confirmed.len() >= CONFIRMED_MAX {
            confirmed.clear();
        }
        confirmed.entry(key).or_default().clone()
    }

    /// A slot in the registry's concurrency limit, held for a whole operation.
    pub(crate) async fn acquire(
        &self,
        endpoint: &Endpoint,
    ) -> Result<OwnedSemaphorePermit, RegistryError> {
        let semaphore = {
            let mut limits = self
                .inner
                .limits
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            limits
                .entry(endpoint.registry.clone())
                .or_insert_with(|| {
                    Arc::new(Semaphore::new(
                        self.inner.config.max_concurrency_per_registry.max(1),
                    ))
                })
                .clone()
        };
        semaphore
            .acquire_owned()
            .await
            .map_err(|_| RegistryError::Protocol("registry concurrency limit closed".to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ca_certificate_is_reported() {
        let result = Client::new(ClientConfig {
            extra_ca_certs_pem: vec![b"not a certificate".to_vec()],
            ..ClientConfig::default()
        });
        assert!(
            matches!(result, Err(RegistryError::InvalidInput(_))),
            "{result:?}"
        );
    }
}
