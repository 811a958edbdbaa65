//! The HTTP side: one connection pool, per-registry concurrency limits, retries, the auth dance,
//! and the registry operations built on them.

use std::collections::{HashMap, HashSet};
use std::error::Error as StdError;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, LINK, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode, Url};
use serde::Deserialize;
use tagwarden_reference::{Algorithm, Digest, Reference};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::RegistryError;
use crate::auth::{Anonymous, Challenge, Credential, Credentials, Secret, TokenCache};
use crate::manifest::{
    self, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, Index, MANIFEST_ACCEPT, OCI_INDEX, OCI_MANIFEST,
    Platform,
};
use crate::retry;

mod blobs;
mod referrers;

pub use referrers::{Descriptor, Referrers, ReferrersSource};

/// Largest manifest accepted; the OCI spec asks registries to accept at least 4 MiB.
const MANIFEST_MAX: usize = 4 * 1024 * 1024;
/// Largest token response accepted.
const TOKEN_MAX: usize = 1024 * 1024;
/// Largest page of a tag list accepted.
const TAGS_PAGE_MAX: usize = 16 * 1024 * 1024;
/// Most tag-list pages followed, so a registry cannot keep us paginating forever.
const TAGS_PAGES_MAX: usize = 10_000;
/// Most tags collected from one repository.
const TAGS_MAX: usize = 1_000_000;
/// Longest bearer-token lifetime we believe.
const TOKEN_LIFETIME_MAX: Duration = Duration::from_secs(3600);
/// Docker Hub's API host; `docker.io` itself serves no registry API.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// How the client behaves. `Default` gives HTTPS everywhere, 8 concurrent requests per registry,
/// 3 retries and waits capped at 30 s.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Registry hosts (with port, as in references: `127.0.0.1:5000`) reached over plain HTTP.
    /// Every other registry is reached over HTTPS with the certificate verified.
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
            user_agent: concat!("tagwarden/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// What a tag or digest points at, from the registry's answer to `HEAD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The manifest digest a pull of the reference would get.
    pub digest: Digest,
    /// The manifest media type, e.g. [`OCI_INDEX`].
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
}

/// A registry client. Cheap to clone; clones share the connection pool, limits and token cache.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    credentials: Arc<dyn Credentials>,
    tokens: TokenCache,
    /// Registries that answered with a Basic challenge, so later requests send Basic at once.
    basic_registries: Mutex<HashSet<String>>,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Where a registry's API lives.
pub(crate) struct Endpoint {
    /// The host as written in references; the key for credentials, tokens and errors.
    registry: String,
    /// `scheme://host/`.
    base: Url,
}

impl Endpoint {
    fn url(&self, path: &str) -> Result<Url, RegistryError> {
        self.base.join(path).map_err(|e| {
            RegistryError::Protocol(format!("{}: bad URL {path:?}: {e}", self.registry))
        })
    }
}

#[derive(Clone)]
enum Auth {
    None,
    Bearer(Secret),
    Basic { username: String, password: Secret },
}

/// One request, rebuilt for each try.
pub(crate) struct Request<'a> {
    method: Method,
    url: Url,
    accept: &'a str,
    /// A form body; secret because it may carry a refresh token.
    form: Option<Secret>,
    /// Hand a 429 back to the caller instead of waiting and retrying (a poller that paces
    /// itself by the registry's rate-limit headers).
    pub(crate) return_rate_limited: bool,
}

impl<'a> Request<'a> {
    pub(crate) fn new(method: Method, url: Url, accept: &'a str) -> Self {
        Self {
            method,
            url,
            accept,
            form: None,
            return_rate_limited: false,
        }
    }
}

impl Client {
    /// A client that goes anonymous everywhere.
    pub fn new(config: ClientConfig) -> Result<Self, RegistryError> {
        Self::with_credentials(config, Arc::new(Anonymous))
    }

    /// A client that asks `credentials` when a registry wants to know who we are.
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
        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .pool_max_idle_per_host(config.max_concurrency_per_registry.max(1));
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
            RegistryError::InvalidInput(format!("cannot set up HTTP client: {}", describe(&e)))
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                config,
                credentials,
                tokens: TokenCache::default(),
                basic_registries: Mutex::new(HashSet::new()),
                limits: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Resolves a tag (or checks a digest) with `HEAD`, reading `Docker-Content-Digest` and
    /// `Content-Type`; when either is missing, falls back to `GET` and hashes the body.
    pub async fn resolve(&self, reference: &Reference) -> Result<Resolved, RegistryError> {
        let endpoint = self.endpoint(reference.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        self.resolve_in(&endpoint, reference).await
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
        let fetched = self.fetch_in(&endpoint, reference).await?;
        if !fetched.is_index() {
            return Err(RegistryError::NotAnIndex {
                reference: reference.to_string(),
                media_type: fetched.media_type,
            });
        }
        let index: Index = serde_json::from_slice(&fetched.bytes).map_err(|e| {
            RegistryError::Protocol(format!("{reference}: the index is not valid JSON: {e}"))
        })?;
        let Some(entry) = manifest::pick_platform(&index, &wanted) else {
            return Err(RegistryError::PlatformNotFound {
                reference: reference.to_string(),
                platform: wanted.to_string(),
                available: manifest::listed_platforms(&index),
            });
        };
        Digest::parse(&entry.digest).map_err(|e| {
            RegistryError::Protocol(format!(
                "{reference}: the index lists an invalid digest for {wanted}: {e}"
            ))
        })
    }

    /// All tags of the reference's repository (its tag and digest are ignored), following `Link`
    /// pagination within the same registry.
    pub async fn list_tags(&self, repository: &Reference) -> Result<Vec<String>, RegistryError> {
        #[derive(Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let endpoint = self.endpoint(repository.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        let scope = pull_scope(repository);
        let name = repository.repository();
        let mut url = endpoint.url(&format!("v2/{}/tags/list", repository.path()))?;
        let mut tags = Vec::new();
        for _ in 0..TAGS_PAGES_MAX {
            let response = self
                .send(
                    &endpoint,
                    &Request::new(Method::GET, url.clone(), "application/json"),
                    &scope,
                )
                .await?;
            if !response.status().is_success() {
                return Err(status_error(&endpoint, &name, response.status()));
            }
            let next = next_link(response.headers());
            let body = self.read_body(&endpoint, response, TAGS_PAGE_MAX).await?;
            let page: TagList = serde_json::from_slice(&body).map_err(|e| {
                RegistryError::Protocol(format!("{name}: the tag list is not valid JSON: {e}"))
            })?;
            tags.extend(page.tags.unwrap_or_default());
            if tags.len() > TAGS_MAX {
                return Err(RegistryError::Protocol(format!(
                    "{name}: more than {TAGS_MAX} tags; refusing to list them all"
                )));
            }
            let Some(next) = next else {
                return Ok(tags);
            };
            let next_url = url.join(&next).map_err(|e| {
                RegistryError::Protocol(format!("{name}: bad pagination link {next:?}: {e}"))
            })?;
            // Our token is for this registry only; a link elsewhere must not receive it.
            if next_url.origin() != endpoint.base.origin() {
                return Err(RegistryError::Protocol(format!(
                    "{name}: pagination link {next_url} leaves the registry"
                )));
            }
            url = next_url;
        }
        Err(RegistryError::Protocol(format!(
            "{name}: more than {TAGS_PAGES_MAX} pages of tags"
        )))
    }

    async fn resolve_in(
        &self,
        endpoint: &Endpoint,
        reference: &Reference,
    ) -> Result<Resolved, RegistryError> {
        let url = manifest_url(endpoint, reference)?;
        let response = self
            .send(
                endpoint,
                &Request::new(Method::HEAD, url, MANIFEST_ACCEPT),
                &pull_scope(reference),
            )
            .await?;
        // Some proxies and mirrors refuse HEAD; GET gets the same answer, at the cost of the body.
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            drop(response);
            return self.resolve_by_get(endpoint, reference).await;
        }
        if !response.status().is_success() {
            return Err(status_error(
                endpoint,
                &reference.to_string(),
                response.status(),
            ));
        }
        let digest =
            header(response.headers(), "docker-content-digest").and_then(|v| Digest::parse(v).ok());
        let media_type = content_type(response.headers()).filter(|m| is_known_manifest_type(m));
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
        let url = manifest_url(endpoint, reference)?;
        let response = self
            .send(
                endpoint,
                &Request::new(Method::GET, url, MANIFEST_ACCEPT),
                &pull_scope(reference),
            )
            .await?;
        if !response.status().is_success() {
            return Err(status_error(
                endpoint,
                &reference.to_string(),
                response.status(),
            ));
        }
        let announced =
            header(response.headers(), "docker-content-digest").and_then(|v| Digest::parse(v).ok());
        let header_type = content_type(response.headers());
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
        let media_type = header_type
            .clone()
            .filter(|m| is_known_manifest_type(m))
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

    /// The platform (`os/arch[/variant]`) of a single-platform image manifest, read from its
    /// config blob; `None` for an index. Both the manifest and the blob are verified against
    /// their digests. Used to keep an existing platform pin on its platform when it is updated.
    pub async fn platform_of(
        &self,
        reference: &Reference,
    ) -> Result<Option<String>, RegistryError> {
        let manifest = self.fetch_manifest(reference).await?;
        if manifest.is_index() {
            return Ok(None);
        }
        let value: serde_json::Value = serde_json::from_slice(&manifest.bytes).map_err(|e| {
            RegistryError::Protocol(format!("{reference}: manifest is not JSON: {e}"))
        })?;
        let Some(config) = value
            .get("config")
            .and_then(|c| c.get("digest"))
            .and_then(|d| d.as_str())
            .and_then(|d| Digest::parse(d).ok())
        else {
            return Err(RegistryError::Protocol(format!(
                "{reference}: the manifest names no config digest"
            )));
        };
        let bytes = self.fetch_blob(reference, &config, MANIFEST_MAX).await?;
        let cfg: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            RegistryError::Protocol(format!("{reference}: config is not JSON: {e}"))
        })?;
        let field = |k: &str| {
            cfg.get(k)
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
        };
        Ok(match (field("os"), field("architecture")) {
            (Some(os), Some(arch)) => Some(match field("variant") {
                Some(v) => format!("{os}/{arch}/{v}"),
                None => format!("{os}/{arch}"),
            }),
            _ => None,
        })
    }

    pub(crate) fn endpoint(&self, domain: &str) -> Result<Endpoint, RegistryError> {
        let api_host = if domain == tagwarden_reference::DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            domain
        };
        let scheme = if self.is_insecure(domain) || self.is_insecure(api_host) {
            "http"
        } else {
            "https"
        };
        let base = Url::parse(&format!("{scheme}://{api_host}/")).map_err(|e| {
            RegistryError::InvalidInput(format!("{domain}: not a usable registry host: {e}"))
        })?;
        Ok(Endpoint {
            registry: domain.to_string(),
            base,
        })
    }

    fn is_insecure(&self, host: &str) -> bool {
        self.inner
            .config
            .insecure_registries
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
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

    /// Sends with whatever auth we already hold; on 401 answers the challenge once and resends.
    pub(crate) async fn send(
        &self,
        endpoint: &Endpoint,
        request: &Request<'_>,
        scope: &str,
    ) -> Result<Response, RegistryError> {
        let held = self.held_auth(endpoint, scope);
        let response = self.send_with_retries(endpoint, request, &held).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(crate::auth::parse_challenge);
        drop(response);
        let unauthorized = || RegistryError::Unauthorized {
            registry: endpoint.registry.clone(),
        };
        let fresh = match challenge {
            Some(Challenge::Bearer {
                realm,
                service,
                scope: asked,
            }) => {
                let token_scope = asked.as_deref().unwrap_or(scope);
                let token = self
                    .fetch_token(endpoint, &realm, service.as_deref(), token_scope)
                    .await?;
                self.inner
                    .tokens
                    .put(&endpoint.registry, scope, token.0.clone(), token.1);
                Auth::Bearer(token.0)
            }
            Some(Challenge::Basic) => {
                let Some(Credential::Basic { username, password }) =
                    self.inner.credentials.get(&endpoint.registry)
                else {
                    return Err(unauthorized());
                };
                if matches!(held, Auth::Basic { .. }) {
                    return Err(unauthorized());
                }
                self.inner
                    .basic_registries
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .insert(endpoint.registry.clone());
                Auth::Basic { username, password }
            }
            None => return Err(unauthorized()),
        };
        let response = self.send_with_retries(endpoint, request, &fresh).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(unauthorized());
        }
        Ok(response)
    }

    /// The auth to send before being asked: a cached token, or Basic where Basic was asked before.
    fn held_auth(&self, endpoint: &Endpoint, scope: &str) -> Auth {
        if let Some(token) = self.inner.tokens.get(&endpoint.registry, scope) {
            return Auth::Bearer(token);
        }
        let basic = self
            .inner
            .basic_registries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(&endpoint.registry);
        match (basic, self.inner.credentials.get(&endpoint.registry)) {
            (true, Some(Credential::Basic { username, password })) => {
                Auth::Basic { username, password }
            }
            _ => Auth::None,
        }
    }

    /// Gets a bearer token from the challenge's realm: anonymously, with Basic credentials, or by
    /// exchanging an identity (refresh) token. Returns the token and how long to keep it.
    async fn fetch_token(
        &self,
        endpoint: &Endpoint,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<(Secret, Duration), RegistryError> {
        #[derive(Deserialize)]
        struct TokenResponse {
            token: Option<String>,
            access_token: Option<String>,
            expires_in: Option<u64>,
        }
        let registry = &endpoint.registry;
        let mut url = Url::parse(realm).map_err(|e| {
            RegistryError::Protocol(format!("{registry}: invalid token realm {realm:?}: {e}"))
        })?;
        let realm_host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        };
        let plain_http_allowed = endpoint.base.scheme() == "http" || self.is_insecure(&realm_host);
        match url.scheme() {
            "https" => {}
            "http" if plain_http_allowed => {}
            _ => {
                // Credentials would cross the network in clear text, or to something not HTTP.
                return Err(RegistryError::Protocol(format!(
                    "{registry}: refusing token realm {realm:?}: not HTTPS"
                )));
            }
        }
        let credential = self.inner.credentials.get(registry);
        let (request, auth) = match credential {
            Some(Credential::IdentityToken(refresh)) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("client_id", "tagwarden")
                    .append_pair("scope", scope)
                    .append_pair("refresh_token", refresh.expose());
                if let Some(service) = service {
                    form.append_pair("service", service);
                }
                let mut request = Request::new(Method::POST, url, "application/json");
                request.form = Some(Secret::new(form.finish()));
                (request, Auth::None)
            }
            other => {
                {
                    let mut query = url.query_pairs_mut();
                    if let Some(service) = service {
                        query.append_pair("service", service);
                    }
                    query.append_pair("scope", scope);
                }
                let auth = match other {
                    Some(Credential::Basic { username, password }) => {
                        Auth::Basic { username, password }
                    }
                    _ => Auth::None,
                };
                (Request::new(Method::GET, url, "application/json"), auth)
            }
        };
        let response = self.send_with_retries(endpoint, &request, &auth).await?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(RegistryError::Unauthorized {
                registry: registry.clone(),
            });
        }
        if !status.is_success() {
            return Err(RegistryError::Protocol(format!(
                "{registry}: the token service answered HTTP {status}"
            )));
        }
        let body = self.read_body(endpoint, response, TOKEN_MAX).await?;
        // The parse error is not shown: it could quote part of the token.
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|_| {
            RegistryError::Protocol(format!(
                "{registry}: the token service answered something that is not a token"
            ))
        })?;
        let token = parsed
            .token
            .filter(|t| !t.is_empty())
            .or(parsed.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| {
                RegistryError::Protocol(format!("{registry}: the token service gave no token"))
            })?;
        // The distribution token spec defaults to 60 seconds when no lifetime is given.
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(60)).min(TOKEN_LIFETIME_MAX);
        Ok((Secret::new(token), lifetime))
    }

    fn build(&self, request: &Request<'_>, auth: &Auth) -> reqwest::RequestBuilder {
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), request.url.clone());
        if !request.accept.is_empty() {
            builder = builder.header(ACCEPT, request.accept);
        }
        if let Some(form) = &request.form {
            builder = builder
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.expose().to_string());
        }
        match auth {
            Auth::None => builder,
            Auth::Bearer(token) => builder.bearer_auth(token.expose()),
            Auth::Basic { username, password } => {
                builder.basic_auth(username, Some(password.expose()))
            }
        }
    }

    /// Sends, retrying connection errors, timeouts, 429 and 5xx with backoff or `Retry-After`.
    async fn send_with_retries(
        &self,
        endpoint: &Endpoint,
        request: &Request<'_>,
        auth: &Auth,
    ) -> Result<Response, RegistryError> {
        let config = &self.inner.config;
        let registry = &endpoint.registry;
        let mut attempt: u32 = 0;
        loop {
            let last = attempt >= config.retries;
            let wait = match self.build(request, auth).send().await {
                Ok(response) => {
                    let status = response.status();
                    let retryable = status == StatusCode::TOO_MANY_REQUESTS
                        || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED);
                    if !retryable
                        || (status == StatusCode::TOO_MANY_REQUESTS && request.return_rate_limited)
                    {
                        return Ok(response);
                    }
                    let give_up = || {
                        if status == StatusCode::TOO_MANY_REQUESTS {
                            RegistryError::RateLimited {
                                registry: registry.clone(),
                            }
                        } else {
                            RegistryError::Unreachable {
                                registry: registry.clone(),
                                cause: format!("the registry keeps answering HTTP {status}"),
                            }
                        }
                    };
                    if last {
                        return Err(give_up());
                    }
                    let asked = header(response.headers(), RETRY_AFTER.as_str())
                        .and_then(|v| retry::parse_retry_after(v, SystemTime::now()));
                    match asked {
                        Some(wait) if wait > config.max_retry_wait => return Err(give_up()),
                        Some(wait) => wait,
                        None => {
                            retry::backoff(attempt, config.initial_backoff, config.max_retry_wait)
                        }
                    }
                }
                Err(error) => {
                    if is_tls_error(&error) {
                        return Err(RegistryError::Tls {
                            registry: registry.clone(),
                            cause: describe(&error),
                        });
                    }
                    if error.is_builder() {
                        return Err(RegistryError::Protocol(format!(
                            "{registry}: cannot build request: {}",
                            describe(&error)
                        )));
                    }
                    if last {
                        return Err(transport_error(registry, &error));
                    }
                    retry::backoff(attempt, config.initial_backoff, config.max_retry_wait)
                }
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Reads a body, refusing more than `limit` bytes.
    pub(crate) async fn read_body(
        &self,
        endpoint: &Endpoint,
        mut response: Response,
        limit: usize,
    ) -> Result<Vec<u8>, RegistryError> {
        let too_big = || {
            RegistryError::Protocol(format!(
                "{}: response larger than the {limit}-byte limit",
                endpoint.registry
            ))
        };
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(too_big());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(&endpoint.registry, &e))?
        {
            if body.len().saturating_add(chunk.len()) > limit {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

pub(crate) fn pull_scope(reference: &Reference) -> String {
    format!("repository:{}:pull", reference.path())
}

pub(crate) fn manifest_url(
    endpoint: &Endpoint,
    reference: &Reference,
) -> Result<Url, RegistryError> {
    let target = match (reference.digest(), reference.effective_tag()) {
        (Some(digest), _) => digest.to_string(),
        (None, Some(tag)) => tag.to_string(),
        (None, None) => "latest".to_string(),
    };
    endpoint.url(&format!("v2/{}/manifests/{target}", reference.path()))
}

pub(crate) fn is_known_manifest_type(media_type: &str) -> bool {
    [
        OCI_INDEX,
        OCI_MANIFEST,
        DOCKER_MANIFEST_LIST,
        DOCKER_MANIFEST,
    ]
    .contains(&media_type)
}

pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// The media type without parameters such as `charset`.
pub(crate) fn content_type(headers: &HeaderMap) -> Option<String> {
    header(headers, CONTENT_TYPE.as_str())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
}

/// The `rel="next"` target of a `Link` header, as the distribution spec paginates tag lists.
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|link| {
            let (target, params) = link.split_once('>')?;
            let target = target.trim().strip_prefix('<')?;
            params
                .split(';')
                .any(|p| {
                    let p = p.trim().replace(' ', "");
                    p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
                })
                .then(|| target.to_string())
        })
}

/// Maps an unexpected status to an error naming `what` (a reference or repository).
pub(crate) fn status_error(endpoint: &Endpoint, what: &str, status: StatusCode) -> RegistryError {
    let registry = endpoint.registry.clone();
    match status {
        StatusCode::NOT_FOUND => RegistryError::NotFound {
            reference: what.to_string(),
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            RegistryError::Unauthorized { registry }
        }
        StatusCode::TOO_MANY_REQUESTS => RegistryError::RateLimited { registry },
        s if s.is_server_error() => RegistryError::Unreachable {
            registry,
            cause: format!("HTTP {s}"),
        },
        s => RegistryError::Protocol(format!("{what}: the registry answered HTTP {s}")),
    }
}

fn transport_error(registry: &str, error: &reqwest::Error) -> RegistryError {
    if is_tls_error(error) {
        return RegistryError::Tls {
            registry: registry.to_string(),
            cause: describe(error),
        };
    }
    let cause = if error.is_timeout() {
        format!("timed out ({})", describe(error))
    } else {
        describe(error)
    };
    RegistryError::Unreachable {
        registry: registry.to_string(),
        cause,
    }
}

/// True when a rustls error sits anywhere in the chain; io errors hide theirs behind `get_ref`,
/// sometimes one io error inside another.
fn is_tls_error(error: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if e.is::<rustls::Error>() {
            return true;
        }
        let mut io = e.downcast_ref::<std::io::Error>();
        for _ in 0..8 {
            let Some(inner) = io.and_then(std::io::Error::get_ref) else {
                break;
            };
            if inner.is::<rustls::Error>() {
                return true;
            }
            io = inner.downcast_ref::<std::io::Error>();
        }
        current = e.source();
    }
    false
}

/// The error and its causes on one line, without repeating a cause already quoted.
fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn next_link_follows_rel_next_only() {
        let h = headers(&[("link", r#"</v2/a/tags/list?n=2&last=b>; rel="next""#)]);
        assert_eq!(next_link(&h).as_deref(), Some("/v2/a/tags/list?n=2&last=b"));
        let h = headers(&[("link", r#"</x>; rel="prev", </y>; rel=next"#)]);
        assert_eq!(next_link(&h).as_deref(), Some("/y"));
        assert_eq!(next_link(&headers(&[("link", "garbage")])), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn content_type_drops_parameters() {
        let h = headers(&[("content-type", "Application/JSON; charset=utf-8")]);
        assert_eq!(content_type(&h).as_deref(), Some("application/json"));
        assert_eq!(content_type(&headers(&[("content-type", " ; x")])), None);
    }

    #[test]
    fn docker_hub_goes_to_its_api_host_and_insecure_hosts_to_http() {
        let client = Client::new(ClientConfig {
            insecure_registries: vec!["127.0.0.1:5000".into()],
            ..ClientConfig::default()
        });
        let Ok(client) = client else {
            panic!("client: {client:?}");
        };
        let hub = client.endpoint("docker.io").map(|e| e.base.to_string());
        assert_eq!(hub.ok().as_deref(), Some("https://registry-1.docker.io/"));
        let local = client
            .endpoint("127.0.0.1:5000")
            .map(|e| e.base.to_string());
        assert_eq!(local.ok().as_deref(), Some("http://127.0.0.1:5000/"));
        let ghcr = client.endpoint("ghcr.io").map(|e| e.base.to_string());
        assert_eq!(ghcr.ok().as_deref(), Some("https://ghcr.io/"));
    }

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
