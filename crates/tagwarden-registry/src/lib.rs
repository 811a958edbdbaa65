//! A client for OCI distribution registries (Docker Hub, GHCR, ECR, Harbor, the CNCF registry…):
//! resolve a tag to the digest a pull would get, confirm that a registry serves the bytes of a
//! digest, fetch a manifest and check it hashes to its digest, pick a platform out of an index,
//! list a repository's tags page by page, read a blob checked against its digest, list the
//! artifacts that refer to a manifest (the OCI referrers API, or its tag schema on registries
//! without it), and poll a tag cheaply (HEAD, with the registry's rate-limit headers).
//!
//! It knows nothing of files: it takes [`tagwarden_reference::Reference`] values. Credentials are
//! `tagwarden-auth`'s model: the client asks a [`Credentials`] provider (a
//! [`tagwarden_auth::CredentialStore`] as docker and podman find credentials, or a
//! [`StaticCredentials`] map) by registry host as references write it (`docker.io` for Docker
//! Hub, whose API is reached at `registry-1.docker.io`) and repository; they and the bearer
//! tokens obtained with them are [`Secret`]s and never appear in `Debug` output or errors.
//!
//! - One connection pool for all registries; a concurrency limit per registry.
//! - HTTPS with verified certificates (system roots plus any extra CA), except for hosts listed
//!   as insecure, which get plain HTTP.
//! - Retries with exponential backoff on connection errors, timeouts, 429 and 5xx, honouring
//!   `Retry-After` up to a cap.
//! - Bearer tokens (anonymous, Basic, or identity-token exchange) cached per registry and scope;
//!   a registry token sent as `Bearer` to the registry itself, as docker does.
//! - Manifests are hashed and compared with the digest asked for and the digest announced.
//! - Bounded everywhere: manifests, tokens, tag pages and whole tag listings have byte caps.
//!
//! # Where credentials and requests may go
//!
//! - Nothing goes over plain HTTP to a host not named insecure ([`ClientConfig`]): not a request,
//!   not a token request, not a redirect (a redirect from HTTPS to plain HTTP is refused).
//! - Credentials go to a token realm over HTTPS, or over plain HTTP only when the realm is on the
//!   registry's own host (any port) and that host is named insecure; never in clear text to
//!   another host.
//! - Authorization is dropped when a redirect leaves the host, scheme or port.
//!
//! TLS uses rustls with the ring provider, installed as the process default on first use when no
//! other provider is.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use tagwarden_registry::{Client, ClientConfig};
//! let client = Client::new(ClientConfig::default())?;
//! let reference = tagwarden_reference::Reference::parse("checkmarx/kics:latest")?;
//! let resolved = client.resolve_confirmed(&reference).await?;
//! println!("{} is {}", reference, resolved.digest);
//! # Ok(()) }
//! ```

mod auth;
mod client;
mod error;
mod index;
mod manifest;
mod platform;
mod policy;
mod poll;
mod retry;
mod tags;
mod transport;

pub use client::{
    Client, ClientConfig, DeleteSupport, Deletion, Descriptor, Harbor, HarborArtifact, Manifest,
    Referrers, ReferrersSource, Resolved,
};
pub use error::RegistryError;
pub use index::{ImageIndex, IndexEntry, IndexError};
pub use manifest::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, digest_of, is_index_media_type,
};
pub use platform::Platform;
pub use poll::{Poll, Polled, RateLimit};
pub use tags::TagPages;

/// The header parsers, for the fuzz targets (`fuzz/`); not an API.
#[doc(hidden)]
pub mod fuzzing {
    /// Parses a `WWW-Authenticate` value; true when it is a challenge we answer.
    pub fn challenge(header: &str) -> bool {
        crate::auth::parse_challenge(header).is_some()
    }

    /// The `rel="next"` target of a `Link` header value.
    pub fn next_link(header: &str) -> Option<String> {
        let value = reqwest::header::HeaderValue::from_str(header).ok()?;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::LINK, value);
        crate::transport::next_link(&headers)
    }
}
// The credentials model lives in tagwarden-auth; re-exported so callers of the client need no
// second import for the common case.
pub use tagwarden_auth::{Anonymous, Credential, Credentials, Secret, StaticCredentials};
