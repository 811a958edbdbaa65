//! Registry credentials, found the way the docker CLI and podman find them.
//!
//! No network: this crate reads config files and runs credential helpers, and hands a
//! [`Credential`] to whoever talks to the registry.
//!
//! # Where credentials come from
//!
//! [`CredentialStore::from_env`] reads these files, in this order, and the first file that yields a
//! credential for a registry wins (podman reads its files in sequence the same way, and reads the
//! docker config last as a fallback):
//!
//! 1. `$REGISTRY_AUTH_FILE` if set, else `$XDG_RUNTIME_DIR/containers/auth.json`, else (Linux)
//!    `/run/containers/<uid>/auth.json`: podman's primary, read/write file;
//! 2. `$XDG_CONFIG_HOME/containers/auth.json`, by default `~/.config/containers/auth.json`;
//! 3. the `auths` of `$DOCKER_AUTH_CONFIG` (JSON in an environment variable, as GitLab CI sets it),
//!    which docker reads before its config file;
//! 4. `$DOCKER_CONFIG/config.json` if `DOCKER_CONFIG` is set, else `~/.docker/config.json`.
//!
//! A missing file is skipped; an unreadable or malformed one is an error naming the file (and the
//! line and column of a JSON error). The legacy `~/.dockercfg` format is not read.
//!
//! # Inside one file
//!
//! 1. `credHelpers[registry]` runs that helper (`docker-credential-<name> get`);
//! 2. else `credsStore` runs the global helper (docker config files only: podman ignores it);
//! 3. else `auths[registry]`: `registrytoken`, then `identitytoken`, then `auth`
//!    (base64 `user:password`), then `username`/`password`.
//!
//! The first mechanism that applies decides the file's answer, as in docker: a helper that has no
//! credential for the registry does not fall back to `auths` in the same file, but the next file
//! is still consulted, as in podman.
//!
//! # Keys
//!
//! Keys are matched after normalisation: a scheme and anything after the host are dropped
//! (`https://ghcr.io`, `http://127.0.0.1:5000/v2/`), hosts are lowercased, and Docker Hub's names
//! (`https://index.docker.io/v1/`, `index.docker.io`, `registry-1.docker.io`, `docker.io`) are one
//! registry. In podman auth files a key written without a scheme may carry a namespace
//! (`quay.io/team`, `quay.io/team/app`), which [`CredentialStore::get_for_repository`] prefers,
//! most specific first; docker itself ignores anything after the host.
//!
//! # Example
//!
//! ```no_run
//! use tagwarden_auth::{Credential, CredentialStore};
//!
//! let store = CredentialStore::from_env()?;
//! match store.get_for_repository("ghcr.io", "aquasecurity/trivy")? {
//!     Some(Credential::Basic { username, password }) => { /* basic auth, or a token request */ }
//!     Some(Credential::IdentityToken(refresh)) => { /* OAuth2 refresh_token grant */ }
//!     Some(Credential::RegistryToken(bearer)) => { /* Authorization: Bearer */ }
//!     None => eprintln!("anonymous; looked in:\n  {}", store.describe().join("\n  ")),
//! }
//! # Ok::<(), tagwarden_auth::AuthError>(())
//! ```

mod config;
mod error;
mod helper;
mod key;
mod store;

pub use config::{AuthEntry, DockerConfig};
pub use error::{AuthError, AuthErrorKind};
pub use store::{CredentialStore, DEFAULT_HELPER_TIMEOUT, EnvVars, Source};

use std::fmt;

/// A secret string whose `Debug` and `Display` never show the value (they print `***`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret value itself; call this only where it is sent to the registry.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string (an empty secret is treated as absent).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// A credential for one registry, as docker would send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// HTTP basic credentials (also used to obtain a bearer token from the registry's token server).
    Basic {
        /// The user name; not a secret.
        username: String,
        /// The password or access token.
        password: Secret,
    },
    /// Docker's `identitytoken`: an OAuth2 refresh token for the registry's token server.
    IdentityToken(Secret),
    /// Docker's `registrytoken`: a bearer token to send to the registry directly.
    RegistryToken(Secret),
}

impl Credential {
    /// A short description for messages, never the secret: `basic (user "alice")`, `identity token`.
    pub fn kind_description(&self) -> String {
        match self {
            Credential::Basic { username, .. } => format!("basic (user {username:?})"),
            Credential::IdentityToken(_) => "identity token".to_owned(),
            Credential::RegistryToken(_) => "registry token".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(secret.expose(), "hunter2");
        let cred = Credential::Basic {
            username: "alice".into(),
            password: Secret::new("hunter2"),
        };
        let debug = format!("{cred:?} {cred:#?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("alice"));
        for cred in [
            Credential::IdentityToken(Secret::new("hunter2")),
            Credential::RegistryToken(Secret::new("hunter2")),
        ] {
            assert!(!format!("{cred:?}").contains("hunter2"));
            assert!(!cred.kind_description().contains("hunter2"));
        }
    }
}
