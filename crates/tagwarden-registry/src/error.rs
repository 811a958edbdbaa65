//! What can go wrong when talking to a registry, worded for the person running the command.

use tagwarden_reference::Digest;

/// A failure for one reference or repository. Messages never contain credentials or tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The repository, tag or digest does not exist (HTTP 404).
    #[error("{reference}: not found in the registry (no such repository, tag or digest)")]
    NotFound {
        /// The reference or repository that was asked for.
        reference: String,
    },
    /// The registry refused access, with or without the credentials we had (HTTP 401/403).
    #[error(
        "{registry}: access denied (the repository may not exist, or credentials for this registry are missing or were not accepted)"
    )]
    Unauthorized {
        /// The registry host as written in the reference, e.g. `docker.io`.
        registry: String,
    },
    /// The registry refused access, and the credentials for it could not be read (a failing
    /// credential helper, a broken config file), so none were sent.
    #[error("{registry}: access denied; credentials for it could not be read: {cause}")]
    CredentialsUnavailable {
        /// The registry host as written in the reference.
        registry: String,
        /// Why, naming the file or helper at fault (never a secret).
        cause: String,
    },
    /// The registry named a token realm that the credential rules forbid asking (see the
    /// crate documentation): plain HTTP to a host not named insecure, or credentials in clear
    /// text to another host.
    #[error("{registry}: refusing token realm {realm}: {reason}")]
    UnsafeRealm {
        /// The registry host as written in the reference.
        registry: String,
        /// The realm, without its query.
        realm: String,
        /// Which rule forbids it.
        reason: &'static str,
    },
    /// A redirect to plain HTTP on a host not named insecure was refused.
    #[error("{registry}: refusing a redirect to {target}: plain HTTP to a host not named insecure")]
    InsecureRedirect {
        /// The registry host as written in the reference.
        registry: String,
        /// Where the redirect pointed, without its query.
        target: String,
    },
    /// An answer was larger than this client accepts for its kind (manifest, token, tag page).
    #[error("{registry}: response larger than the {limit}-byte limit")]
    ResponseTooLarge {
        /// The registry host as written in the reference.
        registry: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// A tag listing went on past a limit (bytes, pages or tags): an endless or hostile
    /// pagination. The pages read before it are still good.
    #[error("{repository}: the tag list goes on past {limit}; stopped there")]
    ListingTooLong {
        /// The repository listed.
        repository: String,
        /// The limit reached, in words (`64 MiB`, `10000 pages`).
        limit: String,
    },
    /// The registry could not be reached, timed out or kept failing with server errors.
    #[error("{registry}: unreachable: {cause}")]
    Unreachable {
        /// The registry host as written in the reference.
        registry: String,
        /// What the network layer or the server said, without any secret.
        cause: String,
    },
    /// The registry kept answering HTTP 429, or asked us to wait longer than we are willing to.
    #[error("{registry}: rate limited (HTTP 429); try again later, or log in for a higher limit")]
    RateLimited {
        /// The registry host as written in the reference.
        registry: String,
    },
    /// The content served does not hash to the digest it was requested or announced by.
    #[error(
        "{reference}: the registry served content with digest {actual} instead of {expected}; refusing it"
    )]
    DigestMismatch {
        /// The reference that was fetched.
        reference: String,
        /// The digest that was asked for (or announced in `Docker-Content-Digest`).
        expected: Digest,
        /// The digest of the bytes actually received.
        actual: Digest,
    },
    /// The registry announced a digest for a tag (in a `HEAD` answer) but does not serve the
    /// manifest of that digest: a lying or broken registry or mirror.
    #[error(
        "{reference}: the registry announces {digest} for it but does not serve that manifest; refusing it"
    )]
    UnservedDigest {
        /// The reference that was resolved.
        reference: String,
        /// The digest announced.
        digest: Digest,
    },
    /// An index has no manifest for the requested platform.
    #[error("{reference}: no manifest for platform {platform} (the index has: {})", available.join(", "))]
    PlatformNotFound {
        /// The reference of the index.
        reference: String,
        /// The platform asked for, e.g. `linux/arm64`.
        platform: String,
        /// The platforms the index lists, as `os/arch[/variant]`.
        available: Vec<String>,
    },
    /// A per-platform lookup was asked of a single-platform image manifest.
    #[error("{reference}: is a single-platform image manifest ({media_type}), not an index")]
    NotAnIndex {
        /// The reference that was fetched.
        reference: String,
        /// The manifest's media type.
        media_type: String,
    },
    /// The TLS handshake failed: untrusted certificate, wrong host name, or a plain-HTTP server.
    #[error(
        "{registry}: TLS error: {cause} (if this registry speaks plain HTTP, list it as insecure; if it uses a private CA, add the CA certificate)"
    )]
    Tls {
        /// The registry host as written in the reference.
        registry: String,
        /// What the TLS layer said.
        cause: String,
    },
    /// The registry refused a write (a delete, a manifest put) as unsupported: HTTP 405 or 400
    /// with the distribution error code, as registries with deletes disabled and pull-through
    /// caches (read-only) answer.
    #[error("{reference}: the registry refuses to {operation} (HTTP {status}{})", code.as_deref().map(|c| format!(", {c}")).unwrap_or_default())]
    WriteRefused {
        /// The reference or repository written to.
        reference: String,
        /// `delete it`, `accept a manifest`…
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The first distribution error code of the body (`UNSUPPORTED`, `DENIED`).
        code: Option<String>,
    },
    /// The registry answered something this client cannot make sense of.
    #[error("registry protocol error: {0}")]
    Protocol(String),
    /// The caller gave something unusable: a bad platform string, a bad CA certificate.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl RegistryError {
    /// True when the registry would not let us in, whatever the reason: refused credentials,
    /// none readable, or a token realm we may not send them to. A registry that answers this to
    /// everything (credentials rotated mid-incident) has not been searched.
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self,
            RegistryError::Unauthorized { .. }
                | RegistryError::CredentialsUnavailable { .. }
                | RegistryError::UnsafeRealm { .. }
        )
    }
}
