//! Registry credentials, found the way the docker CLI and podman find them.
//!
//! No network: this crate reads config files and runs credential helpers, and hands a
//! [`Credential`] to whoever talks to the registry. It holds the one credentials model of the
//! project: [`Secret`] (never printed), [`Credential`], and the [`Credentials`] trait that the
//! registry client (`tagwarden-registry`) asks, implemented by [`CredentialStore`],
//! [`StaticCredentials`] and [`Anonymous`].
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
//! A helper runs in a process group of its own and the whole group is killed when it does not
//! answer in time. Its answer, and its failure, are kept for the life of the store: a broken or
//! hanging helper is run once per registry, not once per image.
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
mod credential;
mod error;
mod helper;
mod key;
mod secret;
mod store;

pub use config::{AuthEntry, DockerConfig};
pub use credential::{Anonymous, Credential, Credentials, StaticCredentials};
pub use error::{AuthError, AuthErrorKind};
pub use secret::Secret;
pub use store::{CredentialStore, DEFAULT_HELPER_TIMEOUT, EnvVars, Source};
