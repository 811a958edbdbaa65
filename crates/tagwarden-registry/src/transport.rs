//! One request to a registry: the endpoint it goes to, retries with backoff, the auth dance
//! (challenge, token, Basic) under the rules of [`crate::policy`], bounded bodies, and errors
//! worded for the user.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, LINK, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode, Url};
use serde::Deserialize;
use tagwarden_auth::{AuthError, Credential, Secret};
use tagwarden_reference::Reference;

use crate::auth::Challenge;
use crate::{Client, RegistryError, policy, retry};

/// Largest token response accepted.
const TOKEN_MAX: usize = 1024 * 1024;
/// Longest bearer-token lifetime we believe; a registry token is kept this long too.
const TOKEN_LIFETIME_MAX: Duration = Duration::from_secs(3600);
/// Docker Hub's API host; `docker.io` itself serves no registry API.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// Where a registry's API lives.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    /// The host as written in references; the key for credentials, tokens and errors.
    pub(crate) registry: String,
    /// `scheme://host/`.
    pub(crate) base: Url,
}

impl Endpoint {
    pub(crate) fn url(&self, path: &str) -> Result<Url, RegistryError> {
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
    /// The repository actions the request needs (`pull`, `pull,push`, `delete`): a token is
    /// asked and kept per scope, so a delete token never stands in for a pull token.
    pub(crate) actions: &'static str,
    /// A body and its content type (a manifest being put).
    pub(crate) body: Option<(&'a str, &'a [u8])>,
    /// Send Basic credentials at once, without waiting for a challenge: Harbor's REST API
    /// answers 401 without one. Only the registry's own host is ever asked this way.
    pub(crate) basic_first: bool,
}

impl<'a> Request<'a> {
    pub(crate) fn new(method: Method, url: Url, accept: &'a str) -> Self {
        Self {
            method,
            url,
            accept,
            form: None,
            return_rate_limited: false,
            actions: "pull",
            body: None,
            basic_first: false,
        }
    }
}

impl Client {
    pub(crate) fn endpoint(&self, domain: &str) -> Result<Endpoint, RegistryError> {
        let api_host = if domain == tagwarden_reference::DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            domain
        };
        let insecure = &self.inner.insecure;
        let scheme = if insecure.names(domain) || insecure.names(api_host) {
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

    /// The credential for a repository, and why there is none when the lookup failed.
    fn credential(
        &self,
        endpoint: &Endpoint,
        repository: &str,
    ) -> (Option<Credential>, Option<AuthError>) {
        match self
            .inner
            .credentials
            .credential(&endpoint.registry, repository)
        {
            Ok(credential) => (credential, None),
            Err(error) => (None, Some(error)),
        }
    }

    /// Sends with whatever auth we already hold for the reference's repository (its tag and
    /// digest do not matter: credentials and tokens are per repository); on 401 answers the
    /// challenge once and resends.
    pub(crate) async fn send(
        &self,
        endpoint: &Endpoint,
        request: &Request<'_>,
        repository: &Reference,
    ) -> Result<Response, RegistryError> {
        let repository = repository.path();
        let scope = repository_scope(repository, request.actions);
        let mut held = self.held_auth(endpoint, repository, &scope);
        if request.basic_first
            && matches!(held, Auth::None)
            && let (Some(Credential::Basic { username, password }), _) =
                self.credential(endpoint, repository)
        {
            held = Auth::Basic { username, password };
        }
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
        let (credential, lookup_error) = self.credential(endpoint, repository);
        let denied = |lookup_error: Option<AuthError>| match lookup_error {
            Some(error) => RegistryError::CredentialsUnavailable {
                registry: endpoint.registry.clone(),
                cause: error.to_string(),
            },
            None => RegistryError::Unauthorized {
                registry: endpoint.registry.clone(),
            },
        };
        let fresh = match (challenge, credential) {
            // docker sends a registry token to the registry itself, never to a token server.
            (Some(Challenge::Bearer { .. }), Some(Credential::RegistryToken(token))) => {
                if matches!(&held, Auth::Bearer(t) if *t == token) {
                    return Err(denied(None));
                }
                self.inner.tokens.put(
                    &endpoint.registry,
                    &scope,
                    token.clone(),
                    TOKEN_LIFETIME_MAX,
                );
                Auth::Bearer(token)
            }
            (
                Some(Challenge::Bearer {
                    realm,
                    service,
                    scope: asked,
                }),
                credential,
            ) => {
                let token_scope = asked.as_deref().unwrap_or(&scope);
                let fetched = self
                    .fetch_token(
                        endpoint,
                        &realm,
                        service.as_deref(),
                        token_scope,
                        credential.as_ref(),
                    )
                    .await;
                let (token, lifetime) = match fetched {
                    Ok(fetched) => fetched,
                    Err(RegistryError::Unauthorized { .. }) => return Err(denied(lookup_error)),
                    Err(other) => return Err(other),
                };
                self.inner
                    .tokens
                    .put(&endpoint.registry, &scope, token.clone(), lifetime);
                Auth::Bearer(token)
            }
            (Some(Challenge::Basic), Some(Credential::Basic { username, password }))
                if !matches!(held, Auth::Basic { .. }) =>
            {
                self.inner
                    .basic_registries
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .insert(endpoint.registry.clone());
                Auth::Basic { username, password }
            }
            _ => return Err(denied(lookup_error)),
        };
        let response = self.send_with_retries(endpoint, request, &fresh).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(denied(lookup_error));
        }
        Ok(response)
    }

    /// The auth to send before being asked: a cached token, or Basic where Basic was asked before.
    fn held_auth(&self, endpoint: &Endpoint, repository: &str, scope: &str) -> Auth {
        if let Some(token) = self.inner.tokens.get(&endpoint.registry, scope) {
            return Auth::Bearer(token);
        }
        let basic = self
            .inner
            .basic_registries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(&endpoint.registry);
        if !basic {
            return Auth::None;
        }
        match self.credential(endpoint, repository) {
            (Some(Credential::Basic { username, password }), _) => {
                Auth::Basic { username, password }
            }
            _ => Auth::None,
        }
    }

    /// Gets a bearer token from the challenge's realm: anonymously, with Basic credentials, or by
    /// exchanging an identity (refresh) token, where [`policy::check_realm`] allows. Returns the
    /// token and how long to keep it.
    async fn fetch_token(
        &self,
        endpoint: &Endpoint,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        credential: Option<&Credential>,
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
        // A registry token is never sent to a realm: it does not count as a credential here.
        let credential = credential.filter(|c| !matches!(c, Credential::RegistryToken(_)));
        policy::check_realm(
            &endpoint.base,
            &url,
            &self.inner.insecure,
            credential.is_some(),
        )
        .map_err(|reason| {
            let mut shown = url.clone();
            shown.set_query(None);
            RegistryError::UnsafeRealm {
                registry: registry.clone(),
                realm: shown.to_string(),
                reason,
            }
        })?;
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
                    Some(Credential::Basic { username, password }) => Auth::Basic {
                        username: username.clone(),
                        password: password.clone(),
                    },
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
        if let Some((content_type, body)) = request.body {
            builder = builder
                .header(CONTENT_TYPE, content_type)
                .body(body.to_vec());
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
                    if let Some(refused) = find_in_chain::<policy::RefusedRedirect>(&error) {
                        return Err(RegistryError::InsecureRedirect {
                            registry: registry.clone(),
                            target: refused.target.clone(),
                        });
                    }
                    if is_tls_error(&error) {
                        return Err(RegistryError::Tls {
                            registry: registry.clone(),
                            cause: describe(&error),
                        });
                    }
                    if error.is_builder() || error.is_redirect() {
                        return Err(RegistryError::Protocol(format!(
                            "{registry}: {}",
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
        let too_big = || RegistryError::ResponseTooLarge {
            registry: endpoint.registry.clone(),
            limit,
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

/// The scope `actions` (`pull`, `pull,push`, `delete`) on `repository` (a path:
/// `library/nginx`) need.
fn repository_scope(repository: &str, actions: &str) -> String {
    format!("repository:{repository}:{actions}")
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
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
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

/// The first error of type `T` in the chain, looking inside io errors too (they hide their
/// cause behind `get_ref`, sometimes one io error inside another).
fn find_in_chain<'e, T: StdError + 'static>(error: &'e (dyn StdError + 'static)) -> Option<&'e T> {
    let mut current: Option<&'e (dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        let mut io = e.downcast_ref::<std::io::Error>();
        for _ in 0..8 {
            let Some(inner) = io.and_then(std::io::Error::get_ref) else {
                break;
            };
            if let Some(found) = inner.downcast_ref::<T>() {
                return Some(found);
            }
            io = inner.downcast_ref::<std::io::Error>();
        }
        current = e.source();
    }
    None
}

/// True when a rustls error sits anywhere in the chain.
fn is_tls_error(error: &(dyn StdError + 'static)) -> bool {
    find_in_chain::<rustls::Error>(error).is_some()
}

/// The error and its causes on one line, without repeating a cause already quoted.
pub(crate) fn describe(error: &(dyn StdError + 'static)) -> String {
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
        let client = Client::new(crate::ClientConfig {
            insecure_registries: vec!["127.0.0.1:5000".into()],
            ..crate::ClientConfig::default()
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
}
