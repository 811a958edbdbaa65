//! `Client::poll`, the watcher's request: `HEAD` only, rate-limit headers read, a 429 handed back
//! at once with its `Retry-After`, a missing tag as an answer rather than an error. Against fakes,
//! since a real registry sends no rate-limit headers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tagwarden_reference::Reference;
use tagwarden_registry::{Client, ClientConfig, OCI_MANIFEST, Poll};
use tagwarden_testbed::{HttpResponse, Server, handler};

const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn client(host: &str) -> Client {
    Client::new(ClientConfig {
        insecure_registries: vec![host.to_string()],
        retries: 2,
        initial_backoff: Duration::from_millis(20),
        ..ClientConfig::default()
    })
    .unwrap()
}

fn reference(host: &str, tag: &str) -> Reference {
    Reference::parse(&format!("{host}/acme/app:{tag}")).unwrap()
}

#[tokio::test]
async fn a_429_is_answered_at_once_with_its_wait() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let server = Server::start(handler(move |request| {
        counter.fetch_add(1, Ordering::SeqCst);
        if request.method != "HEAD" {
            return HttpResponse::new(405);
        }
        HttpResponse::new(429)
            .with_header("Retry-After", "30")
            .with_header("RateLimit-Limit", "100;w=21600")
            .with_header("RateLimit-Remaining", "0;w=21600")
    }));
    let host = server.host();
    let polled = client(&host).poll(&reference(&host, "v1")).await.unwrap();
    assert_eq!(polled.poll, Poll::RateLimited);
    assert_eq!(polled.rate_limit.retry_after, Some(Duration::from_secs(30)));
    assert_eq!(polled.rate_limit.remaining, Some(0));
    assert_eq!(polled.rate_limit.limit, Some(100));
    // Not retried: the caller paces the whole registry.
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn found_and_not_found_by_head_alone() {
    let server = Server::start(handler(|request| {
        if request.method != "HEAD" {
            HttpResponse::new(405)
        } else if request.target.ends_with("/v1") {
            HttpResponse::new(200)
                .with_header("Docker-Content-Digest", DIGEST)
                .with_header("Content-Type", OCI_MANIFEST)
                .with_header("RateLimit-Remaining", "76;w=21600")
        } else {
            HttpResponse::new(404)
        }
    }));
    let host = server.host();
    let client = client(&host);
    let found = client.poll(&reference(&host, "v1")).await.unwrap();
    let Poll::Found(resolved) = found.poll else {
        panic!("{found:?}");
    };
    assert_eq!(resolved.digest.to_string(), DIGEST);
    assert!(!resolved.is_index);
    assert_eq!(found.rate_limit.remaining, Some(76));
    assert_eq!(found.rate_limit.window, Some(Duration::from_secs(21600)));
    let gone = client.poll(&reference(&host, "v2")).await.unwrap();
    assert_eq!(gone.poll, Poll::NotFound);
}
