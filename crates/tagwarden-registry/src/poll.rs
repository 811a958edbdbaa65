//! One watcher's poll of a tag: where it points now, read with `HEAD` (which Docker Hub does not
//! count against pull limits), together with the registry's rate-limit headers. A 429 is handed
//! back with its `Retry-After` instead of being waited out, so that the caller paces the whole
//! registry rather than one request.

use std::time::{Duration, SystemTime};

use reqwest::header::RETRY_AFTER;
use reqwest::{Method, StatusCode};
use tagwarden_reference::{Digest, Reference};

use crate::manifest::{self, MANIFEST_ACCEPT, is_known_manifest_type};
use crate::transport::{Request, content_type, header, manifest_url, status_error};
use crate::{Client, RegistryError, Resolved, retry};

/// What the registry said about its budget, from `RateLimit-Limit`, `RateLimit-Remaining`
/// (`76;w=21600` as Docker Hub writes them) and `Retry-After`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: Option<u64>,
    /// Requests left in the current window.
    pub remaining: Option<u64>,
    /// The window's length, when the header gives it (`w=`).
    pub window: Option<Duration>,
    /// How long the registry asked us to wait.
    pub retry_after: Option<Duration>,
}

/// The answer to one poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Poll {
    /// The tag exists and points at this manifest.
    Found(Resolved),
    /// The registry has no such tag (or repository).
    NotFound,
    /// HTTP 429: nothing was learned; wait as [`Polled::rate_limit`] says.
    RateLimited,
}

/// A poll's answer and the rate-limit headers that came with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Polled {
    pub poll: Poll,
    pub rate_limit: RateLimit,
}

impl Client {
    /// Asks where a tag points now with `HEAD`, falling back to `GET` (and hashing the body) when
    /// the registry refuses `HEAD` or sends no digest. Connection errors and 5xx are retried as
    /// everywhere else; a 429 is returned as [`Poll::RateLimited`] at once.
    pub async fn poll(&self, reference: &Reference) -> Result<Polled, RegistryError> {
        let endpoint = self.endpoint(reference.domain())?;
        let _permit = self.acquire(&endpoint).await?;
        let mut request = Request::new(
            Method::HEAD,
            manifest_url(&endpoint, reference)?,
            MANIFEST_ACCEPT,
        );
        request.return_rate_limited = true;
        let response = self.send(&endpoint, &request, reference).await?;
        let rate_limit = read_rate_limit(response.headers(), SystemTime::now());
        let status = response.status();
        let poll = if status == StatusCode::TOO_MANY_REQUESTS {
            Poll::RateLimited
        } else if status == StatusCode::NOT_FOUND {
            Poll::NotFound
        } else if status == StatusCode::METHOD_NOT_ALLOWED {
            drop(response);
            Poll::Found(self.resolve_by_get(&endpoint, reference).await?)
        } else if !status.is_success() {
            return Err(status_error(&endpoint, &reference.to_string(), status));
        } else {
            let digest = header(response.headers(), "docker-content-digest")
                .and_then(|v| Digest::parse(v).ok());
            let media_type = content_type(response.headers()).filter(|m| is_known_manifest_type(m));
            drop(response);
            match (digest, media_type) {
                (Some(digest), Some(media_type)) => Poll::Found(Resolved {
                    is_index: manifest::is_index_media_type(&media_type),
                    digest,
                    media_type,
                }),
                _ => Poll::Found(self.resolve_by_get(&endpoint, reference).await?),
            }
        };
        Ok(Polled { poll, rate_limit })
    }
}

/// Reads the rate-limit headers; values that do not parse are left out.
fn read_rate_limit(headers: &reqwest::header::HeaderMap, now: SystemTime) -> RateLimit {
    let count_and_window = |name: &str| {
        let value = header(headers, name)?;
        let mut parts = value.split(';');
        let count = parts.next()?.trim().parse::<u64>().ok()?;
        let window = parts.find_map(|p| {
            let seconds = p.trim().strip_prefix("w=")?;
            seconds.parse::<u64>().ok().map(Duration::from_secs)
        });
        Some((count, window))
    };
    let limit = count_and_window("ratelimit-limit");
    let remaining = count_and_window("ratelimit-remaining");
    RateLimit {
        limit: limit.map(|(n, _)| n),
        remaining: remaining.map(|(n, _)| n),
        window: remaining
            .and_then(|(_, w)| w)
            .or(limit.and_then(|(_, w)| w)),
        retry_after: header(headers, RETRY_AFTER.as_str())
            .and_then(|v| retry::parse_retry_after(v, now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn docker_hub_rate_limit_headers() {
        let mut h = HeaderMap::new();
        h.insert("ratelimit-limit", HeaderValue::from_static("100;w=21600"));
        h.insert(
            "ratelimit-remaining",
            HeaderValue::from_static("76;w=21600"),
        );
        h.insert("retry-after", HeaderValue::from_static("30"));
        let r = read_rate_limit(&h, SystemTime::now());
        assert_eq!(r.limit, Some(100));
        assert_eq!(r.remaining, Some(76));
        assert_eq!(r.window, Some(Duration::from_secs(21600)));
        assert_eq!(r.retry_after, Some(Duration::from_secs(30)));
    }

    #[test]
    fn missing_or_garbled_headers_are_left_out() {
        let mut h = HeaderMap::new();
        h.insert("ratelimit-remaining", HeaderValue::from_static("lots"));
        assert_eq!(read_rate_limit(&h, SystemTime::now()), RateLimit::default());
        h.insert("ratelimit-remaining", HeaderValue::from_static("0"));
        let r = read_rate_limit(&h, SystemTime::now());
        assert_eq!((r.remaining, r.window), (Some(0), None));
    }
}
