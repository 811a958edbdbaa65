//! Where requests and credentials may go. The rules, in one place:
//!
//! - A registry is reached over HTTPS with its certificate verified, unless the user named it
//!   insecure; then over plain HTTP.
//! - Nothing goes over plain HTTP to a host the user did not name insecure: not a token request,
//!   not a redirect. A token realm on the same host as a registry named insecure counts as named.
//! - Credentials go to a token realm over HTTPS, or over plain HTTP only when the realm is on the
//!   registry's own host (any port) and that host is named insecure: never in clear text to
//!   another host.
//! - A registry token (docker's `registrytoken`) goes to the registry itself, never to a realm.
//! - Authorization is dropped on a redirect to another host, scheme or port (reqwest does this for
//!   every redirect).

use std::fmt;

use reqwest::Url;

/// The hosts named insecure (`host` or `host:port`, as written in references), lowercased.
#[derive(Clone, Debug, Default)]
pub(crate) struct Insecure {
    hosts: Vec<String>,
}

impl Insecure {
    pub(crate) fn new(hosts: &[String]) -> Self {
        Self {
            hosts: hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
        }
    }

    /// Whether `host` (`host` or `host:port`) is named.
    pub(crate) fn names(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Whether the URL's host is named, with its port or without one.
    fn names_url(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let with_port = url.port().map(|p| format!("{host}:{p}"));
        self.names(host) || with_port.is_some_and(|h| self.names(&h))
    }
}

/// Whether a token may be asked of `realm` for the registry at `registry` (its API base URL),
/// sending credentials or not. `Err` says why not, in words for the user.
pub(crate) fn check_realm(
    registry: &Url,
    realm: &Url,
    insecure: &Insecure,
    with_credentials: bool,
) -> Result<(), &'static str> {
    match realm.scheme() {
        "https" => Ok(()),
        "http" => {
            let same_host = realm.host_str().is_some()
                && realm
                    .host_str()
                    .zip(registry.host_str())
                    .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b));
            let named = insecure.names_url(realm) || (same_host && registry.scheme() == "http");
            if !named {
                Err("plain HTTP to a host not named insecure")
            } else if with_credentials && !same_host {
                Err(
                    "credentials would cross the network in clear text to another host than the registry",
                )
            } else {
                Ok(())
            }
        }
        _ => Err("not an HTTP or HTTPS URL"),
    }
}

/// A redirect the policy refused; found again in reqwest's error chain to report it as such.
#[derive(Debug)]
pub(crate) struct RefusedRedirect {
    pub(crate) target: String,
}

impl fmt::Display for RefusedRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refusing a redirect to {}: plain HTTP to a host not named insecure",
            self.target
        )
    }
}

impl std::error::Error for RefusedRedirect {}

/// Most redirects followed for one request, as browsers and reqwest's default do.
const REDIRECTS_MAX: usize = 10;

/// reqwest's redirect policy: follow HTTPS anywhere, plain HTTP only to hosts named insecure.
pub(crate) fn redirect_policy(insecure: Insecure) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= REDIRECTS_MAX {
            return attempt.error("too many redirects");
        }
        let url = attempt.url();
        let allowed = match url.scheme() {
            "https" => true,
            "http" => insecure.names_url(url),
            _ => false,
        };
        if allowed {
            attempt.follow()
        } else {
            // Query strings of signed URLs can carry credentials: show where, not what.
            let mut target = url.clone();
            target.set_query(None);
            attempt.error(RefusedRedirect {
                target: target.to_string(),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn realm_rules() {
        let insecure = Insecure::new(&["127.0.0.1:5000".into(), "Plain.Example".into()]);
        let plain = "http://127.0.0.1:5000/";
        let tls = "https://ghcr.io/";
        // (registry, realm, with credentials, allowed)
        let cases = [
            // HTTPS realms anywhere, with credentials.
            (tls, "https://auth.example/t", true, true),
            (plain, "https://auth.example/t", true, true),
            // Plain HTTP on the insecure registry's own host, any port.
            (plain, "http://127.0.0.1:5001/t", true, true),
            // Plain HTTP elsewhere: refused unless named, and never with credentials.
            (plain, "http://127.0.0.2:5001/t", false, false),
            (plain, "http://127.0.0.2:5001/t", true, false),
            (plain, "http://plain.example:8080/t", false, true),
            (plain, "http://plain.example:8080/t", true, false),
            // A TLS registry's realm on plain HTTP, even on its own host, is not named insecure.
            (tls, "http://ghcr.io/token", false, false),
            (tls, "file:///etc/passwd", false, false),
        ];
        for (registry, realm, with_credentials, allowed) in cases {
            let got = check_realm(&url(registry), &url(realm), &insecure, with_credentials);
            assert_eq!(
                got.is_ok(),
                allowed,
                "{registry} {realm} {with_credentials}: {got:?}"
            );
        }
    }

    #[test]
    fn insecure_hosts_match_with_or_without_port() {
        let insecure = Insecure::new(&["a.example".into(), "b.example:81".into()]);
        assert!(insecure.names_url(&url("http://a.example:9/x")));
        assert!(insecure.names_url(&url("http://A.EXAMPLE/x")));
        assert!(insecure.names_url(&url("http://b.example:81/x")));
        assert!(!insecure.names_url(&url("http://b.example/x")));
        assert!(!insecure.names_url(&url("http://c.example/x")));
    }
}
