//! A client for OCI distribution registries (Docker Hub, GHCR, ECR, Harbor, the CNCF registry…):
//! resolve a tag to the digest a pull would get, fetch a manifest and check it hashes to its
//! digest, pick a platform out of an index, list a repository's tags, read a blob checked against
//! its digest, list the artifacts that refer to a manifest (the OCI referrers API, or its tag
//! schema on registries without it).
//!
//! It knows nothing of files: it takes [`tagwarden_reference::Reference`] values. Credentials come
//! from a [`Credentials`] provider, asked by the registry host as references write it (`docker.io`
//! for Docker Hub, whose API is reached at `registry-1.docker.io`); they and the bearer tokens
//! obtained with them are [`Secret`]s and never appear in `Debug` output or errors.
//!
//! - One connection pool for all registries; a concurrency limit per registry.
//! - HTTPS with verified certificates (system roots plus any extra CA), except for hosts listed
//!   as insecure, which get plain HTTP.
//! - Retries with exponential backoff on connection errors, timeouts, 429 and 5xx, honouring
//!   `Retry-After` up to a cap.
//! - Bearer tokens (anonymous, Basic, or identity-token exchange) cached per registry and scope.
//! - Manifests are hashed and compared with the digest asked for and the digest announced.
//!
//! TLS uses rustls with the ring provider, installed as the process default on first use when no
//! other provider is.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use tagwarden_registry::{Client, ClientConfig};
//! let client = Client::new(ClientConfig::default())?;
//! let reference = tagwarden_reference::Reference::parse("checkmarx/kics:latest")?;
//! let resolved = client.resolve(&reference).await?;
//! println!("{} is {}", reference, resolved.digest);
//! # Ok(()) }
//! ```

mod auth;
mod children;
mod client;
mod error;
mod manifest;
mod poll;
mod retry;

pub use auth::{Anonymous, Credential, Credentials, Secret, StaticCredentials};
pub use children::IndexChild;
pub use client::{
    Client, ClientConfig, Descriptor, Manifest, Referrers, ReferrersSource, Resolved,
};
pub use error::RegistryError;
pub use manifest::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, Platform, digest_of,
    is_index_media_type,
};
pub use poll::{Poll, Polled, RateLimit};
