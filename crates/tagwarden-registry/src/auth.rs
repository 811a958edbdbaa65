//! `WWW-Authenticate` challenges and the bearer-token cache. Credentials themselves are
//! `tagwarden-auth`'s model ([`tagwarden_auth::Credential`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tagwarden_auth::Secret;

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
