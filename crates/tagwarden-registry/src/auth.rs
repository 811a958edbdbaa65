//! Credentials, secrets that never print, `WWW-Authenticate` challenges and the bearer-token cache.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A string that must never be shown: `Debug` prints `***` and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password, token or other secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for putting on the wire and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

/// What we can present to a registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (or personal access token used as a password).
    Basic {
        /// Not secret, and useful in diagnostics.
        username: String,
        /// Never printed.
        password: Secret,
    },
    /// An OAuth2 refresh token (docker's `identitytoken`), exchanged at the token realm.
    IdentityToken(Secret),
}

/// Where credentials come from: docker's config.json, a credential helper, the environment, tests.
pub trait Credentials: Send + Sync {
    /// The credential for a registry host as written in references (`docker.io`, `ghcr.io`,
    /// `127.0.0.1:5000`), or `None` to go anonymous.
    fn get(&self, registry_host: &str) -> Option<Credential>;
}

/// No credentials: every request is anonymous.
#[derive(Clone, Copy, Debug, Default)]
pub struct Anonymous;

impl Credentials for Anonymous {
    fn get(&self, _registry_host: &str) -> Option<Credential> {
        None
    }
}

/// A fixed map from registry host to credential.
#[derive(Clone, Debug, Default)]
pub struct StaticCredentials {
    by_host: HashMap<String, Credential>,
}

impl StaticCredentials {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the credential for `registry_host`.
    pub fn with(mut self, registry_host: impl Into<String>, credential: Credential) -> Self {
        self.by_host.insert(registry_host.into(), credential);
        self
    }
}

impl Credentials for StaticCredentials {
    fn get(&self, registry_host: &str) -> Option<Credential> {
        self.by_host.get(registry_host).cloned()
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
}

/// Parses one `WWW-Authenticate` value: a scheme, then `key=value` or `key="quoted"` pairs.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = match header.find(char::is_whitespace) {
        Some(i) => (&header[..i], &header[i..]),
        None => (header, ""),
    };
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest);
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    };
    Some(Challenge::Bearer {
        realm: get("realm")?,
        service: get("service"),
        scope: get("scope"),
    })
}

/// Splits `a="x, y", b=z` into pairs, honouring quotes and backslash escapes.
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && *c != ',') {
            key.push(c);
        }
        if chars.next_if_eq(&'=').is_none() {
            if chars.peek().is_none() {
                return out;
            }
            continue;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => break,
                    other => value.push(other),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
            value = value.trim().to_string();
        }
        out.push((key.trim().to_string(), value));
    }
}

/// Bearer tokens by (registry host, scope), dropped a little before the registry says they expire.
#[derive(Default)]
pub(crate) struct TokenCache {
    tokens: Mutex<HashMap<(String, String), (Secret, Instant)>>,
}

impl TokenCache {
    pub(crate) fn get(&self, registry: &str, scope: &str) -> Option<Secret> {
        let tokens = self.tokens.lock().ok()?;
        let (token, expires) = tokens.get(&(registry.to_string(), scope.to_string()))?;
        (Instant::now() < *expires).then(|| token.clone())
    }

    pub(crate) fn put(&self, registry: &str, scope: &str, token: Secret, lifetime: Duration) {
        // Renew early so a token does not expire between the check and the request.
        let margin = (lifetime / 5).min(Duration::from_secs(30));
        let expires = Instant::now() + lifetime.saturating_sub(margin);
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert((registry.to_string(), scope.to_string()), (token, expires));
        }
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCache { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let c = Credential::Basic {
            username: "alice".into(),
            password: Secret::new("hunter2"),
        };
        let shown = format!("{c:?} {:?}", Credential::IdentityToken("tok3n".into()));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("tok3n"), "{shown}");
        assert!(shown.contains("***"), "{shown}");
        assert!(shown.contains("alice"), "{shown}");
        let creds = StaticCredentials::new().with("r.example", c);
        let shown = format!("{creds:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn parses_docker_hub_bearer_challenge() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/nginx:pull".into()),
            })
        );
    }

    #[test]
    fn parses_quoted_commas_escapes_and_unquoted_values() {
        let c = parse_challenge(
            r#"bearer  realm=https://r/t , scope="repository:a/b:pull,push", service="s\"x""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://r/t".into(),
                service: Some("s\"x".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
    }

    #[test]
    fn parses_basic_and_rejects_junk() {
        assert_eq!(
            parse_challenge(r#"Basic realm="r""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge(""), None);
        assert_eq!(parse_challenge("Bearer ==,,=\"\\"), None);
    }

    #[test]
    fn token_cache_expires() {
        let cache = TokenCache::default();
        cache.put("r", "s", Secret::new("t"), Duration::from_secs(300));
        assert_eq!(cache.get("r", "s").as_ref().map(Secret::expose), Some("t"));
        assert!(cache.get("r", "other").is_none());
        cache.put("r", "s", Secret::new("t"), Duration::ZERO);
        assert!(cache.get("r", "s").is_none());
    }
}
