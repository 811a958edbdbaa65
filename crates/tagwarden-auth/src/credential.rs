//! What a registry client presents, and where it asks for it: one model for the credential
//! store and the registry client, as uv's client uses `uv-auth`.

use std::collections::HashMap;

use crate::{AuthError, Secret, key};

/// A credential for one registry, as docker would send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// HTTP basic credentials: sent to the registry when it asks for Basic, or to its token
    /// server to obtain a bearer token.
    Basic {
        /// The user name; not a secret.
        username: String,
        /// The password or access token.
        password: Secret,
    },
    /// Docker's `identitytoken`: an OAuth2 refresh token, exchanged at the registry's token
    /// server for a bearer token.
    IdentityToken(Secret),
    /// Docker's `registrytoken`: a bearer token sent to the registry itself, never to a token
    /// server.
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

/// Where credentials come from: [`CredentialStore`](crate::CredentialStore) (docker and podman
/// files and helpers), [`StaticCredentials`] (a fixed map), [`Anonymous`].
pub trait Credentials: Send + Sync {
    /// The credential for `repository` (its path as a normalised reference writes it:
    /// `library/nginx`; empty for the whole registry) on `registry` (the host as references
    /// write it: `docker.io`, `ghcr.io`, `127.0.0.1:5000`). `Ok(None)` means go anonymous; an
    /// error names the file or helper at fault, never a secret.
    fn credential(&self, registry: &str, repository: &str)
    -> Result<Option<Credential>, AuthError>;
}

/// No credentials: every request is anonymous.
#[derive(Clone, Copy, Debug, Default)]
pub struct Anonymous;

impl Credentials for Anonymous {
    fn credential(
        &self,
        _registry: &str,
        _repository: &str,
    ) -> Result<Option<Credential>, AuthError> {
        Ok(None)
    }
}

/// A fixed map from registry to credential (tests, or credentials given by a caller).
#[derive(Clone, Debug, Default)]
pub struct StaticCredentials {
    by_registry: HashMap<String, Credential>,
}

impl StaticCredentials {
    /// An empty map.
    pub fn new() -> StaticCredentials {
        StaticCredentials::default()
    }

    /// Adds (or replaces) the credential for `registry`; Docker Hub's names are one registry.
    pub fn with(mut self, registry: impl AsRef<str>, credential: Credential) -> StaticCredentials {
        self.by_registry
            .insert(key::normalize_registry(registry.as_ref()), credential);
        self
    }
}

impl Credentials for StaticCredentials {
    fn credential(
        &self,
        registry: &str,
        _repository: &str,
    ) -> Result<Option<Credential>, AuthError> {
        Ok(self
            .by_registry
            .get(&key::normalize_registry(registry))
            .cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_print() {
        let basic = Credential::Basic {
            username: "alice".into(),
            password: Secret::new("hunter2"),
        };
        let debug = format!("{basic:?} {basic:#?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("alice"));
        for cred in [
            Credential::IdentityToken(Secret::new("hunter2")),
            Credential::RegistryToken(Secret::new("hunter2")),
        ] {
            assert!(!format!("{cred:?}").contains("hunter2"));
            assert!(!cred.kind_description().contains("hunter2"));
        }
        let map = StaticCredentials::new().with("r.example", basic);
        assert!(!format!("{map:?}").contains("hunter2"));
    }

    #[test]
    fn static_map_folds_docker_hub_names() {
        let token = Credential::RegistryToken(Secret::new("t"));
        let map = StaticCredentials::new().with("https://index.docker.io/v1/", token.clone());
        assert_eq!(
            map.credential("docker.io", "library/nginx").ok(),
            Some(Some(token))
        );
        assert_eq!(map.credential("ghcr.io", "").ok(), Some(None));
        assert_eq!(Anonymous.credential("docker.io", "").ok(), Some(None));
    }
}
