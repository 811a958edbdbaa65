//! The client against a real CNCF Distribution registry on loopback, and against fakes for what a
//! real registry will not do on demand (rate limits, lies, bearer tokens).

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{
    FakeServer, HttpResponse, Layout, Registry, RegistryOptions, TestPki, TokenService, digest_of,
    handler,
};
use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::{
    Client, ClientConfig, Credential, OCI_INDEX, OCI_MANIFEST, RegistryError, Secret,
    StaticCredentials,
};

/// A client for loopback tests: plain HTTP to `hosts`, quick retries.
fn client_for(hosts: &[&str]) -> Client {
    Client::new(test_config(hosts)).unwrap()
}

fn test_config(hosts: &[&str]) -> ClientConfig {
    ClientConfig {
        insecure_registries: hosts.iter().map(|h| h.to_string()).collect(),
        timeout: Duration::from_secs(10),
        retries: 2,
        initial_backoff: Duration::from_millis(20),
        max_retry_wait: Duration::from_secs(2),
        ..ClientConfig::default()
    }
}

fn reference(s: &str) -> Reference {
    Reference::parse(s).unwrap()
}

fn digest(s: &str) -> Digest {
    Digest::parse(s).unwrap()
}

/// A registry holding `test/single:v1` (one image) and `test/multi:v1` (an amd64+arm64 index).
struct Pushed {
    registry: Registry,
    single: String,
    index: String,
    amd64: String,
    arm64: String,
}

async fn registry_with_images(htpasswd: Option<(&str, &str)>) -> Pushed {
    let creds = htpasswd.map(|(u, p)| format!("{u}:{p}"));
    let options = RegistryOptions {
        htpasswd,
        ..RegistryOptions::default()
    };
    push_images(Registry::start_with(options).await, creds.as_deref()).await
}

async fn push_images(registry: Registry, creds: Option<&str>) -> Pushed {
    let mut layout = Layout::new();
    let single = layout.image("amd64", "single");
    layout.tag("single", &single);
    let amd64 = layout.image("amd64", "multi-amd64");
    let arm64 = layout.image("arm64", "multi-arm64");
    let index = layout.index(&[(&amd64, "amd64"), (&arm64, "arm64")]);
    layout.tag("multi", &index);
    let host = registry.host();
    layout
        .push("single", &format!("{host}/test/single:v1"), creds)
        .await;
    layout
        .push("multi", &format!("{host}/test/multi:v1"), creds)
        .await;
    Pushed {
        registry,
        single: single.digest,
        index: index.digest,
        amd64: amd64.digest,
        arm64: arm64.digest,
    }
}

#[tokio::test]
async fn resolves_tags_fetches_verified_manifests_and_picks_platforms() {
    if !common::real_registry_available() {
        return;
    }
    let p = registry_with_images(None).await;
    let host = p.registry.host();
    let client = client_for(&[host.as_str()]);

    let single = client
        .resolve(&reference(&format!("{host}/test/single:v1")))
        .await
        .unwrap();
    assert_eq!(single.digest, digest(&p.single));
    assert_eq!(single.media_type, OCI_MANIFEST);
    assert!(!single.is_index);

    let multi = client
        .resolve(&reference(&format!("{host}/test/multi:v1")))
        .await
        .unwrap();
    assert_eq!(multi.digest, digest(&p.index));
    assert_eq!(multi.media_type, OCI_INDEX);
    assert!(multi.is_index);

    // A pinned reference resolves to itself.
    let pinned = reference(&format!("{host}/test/multi@{}", p.amd64));
    assert_eq!(
        client.resolve(&pinned).await.unwrap().digest,
        digest(&p.amd64)
    );

    let fetched = client
        .fetch_manifest(&reference(&format!("{host}/test/multi@{}", p.index)))
        .await
        .unwrap();
    assert_eq!(digest_of(&fetched.bytes), p.index);
    assert!(fetched.is_index());
    let by_tag = client
        .fetch_manifest(&reference(&format!("{host}/test/single:v1")))
        .await
        .unwrap();
    assert_eq!(by_tag.digest, digest(&p.single));

    let multi_ref = reference(&format!("{host}/test/multi:v1"));
    assert_eq!(
        client
            .platform_digest(&multi_ref, "linux/amd64")
            .await
            .unwrap(),
        digest(&p.amd64)
    );
    assert_eq!(
        client
            .platform_digest(&multi_ref, "linux/arm64")
            .await
            .unwrap(),
        digest(&p.arm64)
    );
    let missing = client.platform_digest(&multi_ref, "linux/s390x").await;
    match missing {
        Err(RegistryError::PlatformNotFound { available, .. }) => {
            assert_eq!(available, vec!["linux/amd64", "linux/arm64"]);
        }
        other => panic!("expected PlatformNotFound, got {other:?}"),
    }
    let not_index = client
        .platform_digest(&reference(&format!("{host}/test/single:v1")), "linux/amd64")
        .await;
    assert!(
        matches!(not_index, Err(RegistryError::NotAnIndex { .. })),
        "{not_index:?}"
    );
}

#[tokio::test]
async fn docker_manifest_lists_resolve_and_pick_variants() {
    if !common::real_registry_available() {
        return;
    }
    let registry = Registry::start(None).await;
    let host = registry.host();
    let repo = "test/docker-list";
    let mut children = Vec::new();
    for (arch, variant) in [("amd64", None), ("arm", Some("v6")), ("arm", Some("v7"))] {
        let (digest, size) = common::push_docker_image(&host, repo, arch, variant).await;
        let mut platform = serde_json::json!({"os": "linux", "architecture": arch});
        if let Some(v) = variant {
            platform["variant"] = v.into();
        }
        children.push(serde_json::json!({
            "mediaType": common::DOCKER_MANIFEST, "size": size, "digest": digest, "platform": platform,
        }));
    }
    let list = serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2, "mediaType": common::DOCKER_MANIFEST_LIST, "manifests": children,
    }))
    .unwrap();
    let list_digest =
        common::put_manifest(&host, repo, "1.0", common::DOCKER_MANIFEST_LIST, &list).await;

    let client = client_for(&[host.as_str()]);
    let target = reference(&format!("{host}/{repo}:1.0"));
    let resolved = client.resolve(&target).await.unwrap();
    assert_eq!(resolved.digest, digest(&list_digest));
    assert_eq!(
        resolved.media_type,
        tagwarden_registry::DOCKER_MANIFEST_LIST
    );
    assert!(resolved.is_index);
    let child = |i: usize| digest(children[i]["digest"].as_str().unwrap());
    assert_eq!(
        client
            .platform_digest(&target, "linux/arm/v7")
            .await
            .unwrap(),
        child(2)
    );
    assert_eq!(
        client
            .platform_digest(&target, "linux/arm/v6")
            .await
            .unwrap(),
        child(1)
    );
    assert_eq!(
        client
            .platform_digest(&target, "linux/amd64")
            .await
            .unwrap(),
        child(0)
    );
    let amd64 = client
        .resolve(&reference(&format!("{host}/{repo}@{}", child(0))))
        .await
        .unwrap();
    assert_eq!(amd64.media_type, tagwarden_registry::DOCKER_MANIFEST);
    assert!(!amd64.is_index);
}

#[tokio::test]
async fn missing_tags_repositories_and_digests_are_not_found() {
    if !common::real_registry_available() {
        return;
    }
    let p = registry_with_images(None).await;
    let host = p.registry.host();
    let client = client_for(&[host.as_str()]);
    for missing in [
        format!("{host}/test/single:nope"),
        format!("{host}/no/such-repo:v1"),
        format!("{host}/test/single@sha256:{}", "a".repeat(64)),
    ] {
        let result = client.resolve(&reference(&missing)).await;
        match &result {
            Err(e @ RegistryError::NotFound { reference }) => {
                assert!(missing.ends_with(reference.rsplit('/').next().unwrap()));
                assert!(e.to_string().contains("not found"), "{e}");
            }
            other => panic!("{missing}: expected NotFound, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn lists_tags() {
    if !common::real_registry_available() {
        return;
    }
    let p = registry_with_images(None).await;
    let host = p.registry.host();
    let mut layout = Layout::new();
    let image = layout.image("amd64", "tags");
    layout.tag("t", &image);
    for tag in ["1.0", "1.1", "latest"] {
        layout
            .push("t", &format!("{host}/test/tags:{tag}"), None)
            .await;
    }
    let client = client_for(&[host.as_str()]);
    let mut tags = client
        .list_tags(&reference(&format!("{host}/test/tags")))
        .await
        .unwrap();
    tags.sort();
    assert_eq!(tags, vec!["1.0", "1.1", "latest"]);
    let missing = client
        .list_tags(&reference(&format!("{host}/no/such-repo")))
        .await;
    assert!(
        matches!(missing, Err(RegistryError::NotFound { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
async fn basic_auth_registry_needs_the_right_credentials() {
    if !common::real_registry_available() {
        return;
    }
    let p = registry_with_images(Some(("alice", "s3cret-pw"))).await;
    let host = p.registry.host();
    let target = reference(&format!("{host}/test/multi:v1"));

    let anonymous = client_for(&[host.as_str()]);
    let denied = anonymous.resolve(&target).await;
    assert!(
        matches!(denied, Err(RegistryError::Unauthorized { .. })),
        "{denied:?}"
    );

    let wrong = Client::with_credentials(
        test_config(&[host.as_str()]),
        Arc::new(StaticCredentials::new().with(
            host.clone(),
            Credential::Basic {
                username: "alice".into(),
                password: Secret::new("wrong-pw"),
            },
        )),
    )
    .unwrap();
    let denied = wrong.resolve(&target).await;
    assert!(
        matches!(denied, Err(RegistryError::Unauthorized { .. })),
        "{denied:?}"
    );
    let shown = format!("{denied:?} {}", denied.as_ref().err().unwrap());
    assert!(!shown.contains("wrong-pw"), "{shown}");

    let right = Client::with_credentials(
        test_config(&[host.as_str()]),
        Arc::new(StaticCredentials::new().with(
            host.clone(),
            Credential::Basic {
                username: "alice".into(),
                password: Secret::new("s3cret-pw"),
            },
        )),
    )
    .unwrap();
    assert_eq!(
        right.resolve(&target).await.unwrap().digest,
        digest(&p.index)
    );
    // The second call sends Basic at once and still works.
    assert_eq!(
        right.platform_digest(&target, "linux/arm64").await.unwrap(),
        digest(&p.arm64)
    );
    let shown = format!("{right:?}");
    assert!(!shown.contains("s3cret-pw"), "{shown}");
}

#[tokio::test]
async fn token_auth_registry_accepts_tokens_from_its_realm() {
    if !common::real_registry_and_openssl_available() {
        return;
    }
    let tokens = TokenService::start("carol", "t0ken-pw").await;
    let registry = Registry::start_with(RegistryOptions {
        token: Some(&tokens.config),
        ..RegistryOptions::default()
    })
    .await;
    let p = push_images(registry, Some("carol:t0ken-pw")).await;
    let host = p.registry.host();
    let target = reference(&format!("{host}/test/multi:v1"));

    let anonymous = client_for(&[host.as_str()]);
    let denied = anonymous.resolve(&target).await;
    assert!(
        matches!(denied, Err(RegistryError::Unauthorized { .. })),
        "{denied:?}"
    );

    let client = Client::with_credentials(
        test_config(&[host.as_str()]),
        Arc::new(StaticCredentials::new().with(
            host.clone(),
            Credential::Basic {
                username: "carol".into(),
                password: Secret::new("t0ken-pw"),
            },
        )),
    )
    .unwrap();
    let before = tokens.issued.load(Ordering::SeqCst);
    assert_eq!(
        client.resolve(&target).await.unwrap().digest,
        digest(&p.index)
    );
    assert_eq!(
        client
            .platform_digest(&target, "linux/amd64")
            .await
            .unwrap(),
        digest(&p.amd64)
    );
    let pinned = reference(&format!("{host}/test/multi@{}", p.arm64));
    assert_eq!(
        client.fetch_manifest(&pinned).await.unwrap().digest,
        digest(&p.arm64)
    );
    // One token for the repository's pull scope, reused for every later request.
    assert_eq!(tokens.issued.load(Ordering::SeqCst) - before, 1);
}

#[tokio::test]
async fn nothing_listening_is_unreachable_quickly() {
    let port = common::free_port();
    let host = format!("127.0.0.1:{port}");
    let client = client_for(&[host.as_str()]);
    let started = Instant::now();
    let result = client
        .resolve(&reference(&format!("{host}/test/x:v1")))
        .await;
    match &result {
        Err(e @ RegistryError::Unreachable { registry, .. }) => {
            assert_eq!(registry, &host);
            assert!(e.to_string().contains("unreachable"), "{e}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn plain_http_registry_not_listed_as_insecure_is_a_tls_error() {
    if !common::real_registry_available() {
        return;
    }
    let registry = Registry::start(None).await;
    let client = client_for(&[]);
    let started = Instant::now();
    let result = client
        .resolve(&reference(&format!("{}/test/x:v1", registry.host())))
        .await;
    match &result {
        Err(e @ RegistryError::Tls { .. }) => {
            assert!(e.to_string().contains("insecure"), "{e}");
        }
        other => panic!("expected Tls, got {other:?}"),
    }
    // A TLS failure is not retried.
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn tls_registry_is_trusted_through_an_extra_ca_certificate() {
    if !common::real_registry_and_openssl_available() {
        return;
    }
    let pki = TestPki::new();
    let registry = Registry::start_with(RegistryOptions {
        tls: Some(&pki),
        ..RegistryOptions::default()
    })
    .await;
    let host = registry.host();
    let mut layout = Layout::new();
    let image = layout.image("amd64", "tls");
    layout.tag("t", &image);
    layout.push("t", &format!("{host}/test/tls:v1"), None).await;
    let target = reference(&format!("{host}/test/tls:v1"));

    let untrusting = client_for(&[]);
    let result = untrusting.resolve(&target).await;
    match &result {
        Err(e @ RegistryError::Tls { cause, .. }) => {
            assert!(cause.to_lowercase().contains("certificate"), "{e}");
        }
        other => panic!("expected Tls, got {other:?}"),
    }

    let trusting = Client::new(ClientConfig {
        extra_ca_certs_pem: vec![std::fs::read(&pki.ca_cert).unwrap()],
        ..test_config(&[])
    })
    .unwrap();
    let resolved = trusting.resolve(&target).await.unwrap();
    assert_eq!(resolved.digest, digest(&image.digest));
}

#[tokio::test]
async fn rate_limit_is_retried_after_the_asked_delay() {
    if !common::real_registry_available() {
        return;
    }
    let p = registry_with_images(None).await;
    let upstream = p.registry.host();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let proxy = FakeServer::start(handler(move |request| {
        let upstream = upstream.clone();
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                HttpResponse::new(429).header("Retry-After", "1")
            } else {
                common::forward(&upstream, request).await
            }
        }
    }))
    .await;
    let client = client_for(&[proxy.host().as_str()]);
    let started = Instant::now();
    let resolved = client
        .resolve(&reference(&format!("{}/test/multi:v1", proxy.host())))
        .await
        .unwrap();
    assert_eq!(resolved.digest, digest(&p.index));
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_registry_that_never_answers_times_out() {
    let server = FakeServer::start(handler(|_| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        HttpResponse::new(200)
    }))
    .await;
    let client = Client::new(ClientConfig {
        timeout: Duration::from_millis(300),
        retries: 1,
        ..test_config(&[server.host().as_str()])
    })
    .unwrap();
    let started = Instant::now();
    let result = client
        .resolve(&reference(&format!("{}/test/x:v1", server.host())))
        .await;
    match &result {
        Err(RegistryError::Unreachable { cause, .. }) => {
            assert!(cause.contains("timed out"), "{cause}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn rate_limit_longer_than_the_cap_gives_up_at_once() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let server = FakeServer::start(handler(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { HttpResponse::new(429).header("Retry-After", "3600") }
    }))
    .await;
    let client = client_for(&[server.host().as_str()]);
    let started = Instant::now();
    let result = client
        .resolve(&reference(&format!("{}/test/x:v1", server.host())))
        .await;
    assert!(
        matches!(result, Err(RegistryError::RateLimited { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_unreachable() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let server = FakeServer::start(handler(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { HttpResponse::new(503) }
    }))
    .await;
    let client = client_for(&[server.host().as_str()]);
    let result = client
        .resolve(&reference(&format!("{}/test/x:v1", server.host())))
        .await;
    match &result {
        Err(RegistryError::Unreachable { cause, .. }) => assert!(cause.contains("503"), "{cause}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    // One try and two retries.
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

/// Serves `body` for every manifest request, announcing `announced` as its digest.
async fn lying_registry(body: &'static [u8], announced: Option<String>) -> FakeServer {
    FakeServer::start(handler(move |_| {
        let announced = announced.clone();
        async move {
            let mut response = HttpResponse::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .body(body);
            if let Some(d) = announced {
                response = response.header("Docker-Content-Digest", &d);
            }
            response
        }
    }))
    .await
}

const SOME_MANIFEST: &[u8] =
    br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#;

#[tokio::test]
async fn a_registry_serving_other_bytes_than_the_digest_is_refused() {
    let asked = format!("sha256:{}", "a".repeat(64));
    let server = lying_registry(SOME_MANIFEST, Some(asked.clone())).await;
    let client = client_for(&[server.host().as_str()]);
    let pinned = reference(&format!("{}/test/x@{asked}", server.host()));
    let result = client.fetch_manifest(&pinned).await;
    match &result {
        Err(
            e @ RegistryError::DigestMismatch {
                expected, actual, ..
            },
        ) => {
            assert_eq!(expected, &digest(&asked));
            assert_eq!(actual, &digest(&digest_of(SOME_MANIFEST)));
            assert!(e.to_string().contains("refusing"), "{e}");
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    let platform = client.platform_digest(&pinned, "linux/amd64").await;
    assert!(
        matches!(platform, Err(RegistryError::DigestMismatch { .. })),
        "{platform:?}"
    );
}

#[tokio::test]
async fn a_tag_whose_announced_digest_does_not_match_its_bytes_is_refused() {
    let server = lying_registry(SOME_MANIFEST, Some(format!("sha256:{}", "b".repeat(64)))).await;
    let client = client_for(&[server.host().as_str()]);
    let result = client
        .fetch_manifest(&reference(&format!("{}/test/x:v1", server.host())))
        .await;
    assert!(
        matches!(result, Err(RegistryError::DigestMismatch { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn without_a_digest_header_resolve_hashes_the_body() {
    let server = lying_registry(SOME_MANIFEST, None).await;
    let client = client_for(&[server.host().as_str()]);
    let resolved = client
        .resolve(&reference(&format!("{}/test/x:v1", server.host())))
        .await
        .unwrap();
    assert_eq!(resolved.digest, digest(&digest_of(SOME_MANIFEST)));
    assert_eq!(resolved.media_type, OCI_MANIFEST);
}

#[tokio::test]
async fn a_registry_refusing_head_is_asked_with_get() {
    let server = FakeServer::start(handler(|request| async move {
        if request.method == "HEAD" {
            return HttpResponse::new(405);
        }
        HttpResponse::new(200)
            .header("Content-Type", "application/json")
            .body(SOME_MANIFEST)
    }))
    .await;
    let client = client_for(&[server.host().as_str()]);
    let resolved = client
        .resolve(&reference(&format!("{}/test/x:v1", server.host())))
        .await
        .unwrap();
    assert_eq!(resolved.digest, digest(&digest_of(SOME_MANIFEST)));
    // The media type comes from the manifest when the header is generic.
    assert_eq!(resolved.media_type, OCI_MANIFEST);
}

/// A fake registry that wants a bearer token from its own `/token` endpoint, which hands out
/// `good-token` for the right service and scope (and, if given, the right Basic credentials).
struct BearerRegistry {
    server: FakeServer,
    token_requests: Arc<AtomicUsize>,
}

async fn bearer_registry(required_basic: Option<&'static str>) -> BearerRegistry {
    let token_requests = Arc::new(AtomicUsize::new(0));
    let counter = token_requests.clone();
    let server = FakeServer::start_with(move |listener_port| handler(move |request| {
        let counter = counter.clone();
        async move {
            if request.target.starts_with("/token") {
                counter.fetch_add(1, Ordering::SeqCst);
                let form = String::from_utf8_lossy(&request.body).to_string();
                let params = if request.method == "POST" {
                    form
                } else {
                    request.target.split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default()
                };
                if !params.contains("service=fake-registry")
                    || !params.contains("scope=repository%3Atest%2Fx%3Apull")
                {
                    return HttpResponse::new(400);
                }
                if request.method == "POST" {
                    if !params.contains("grant_type=refresh_token")
                        || !params.contains("refresh_token=refresh-me")
                    {
                        return HttpResponse::new(401);
                    }
                    return HttpResponse::new(200)
                        .body(r#"{"access_token":"good-token","expires_in":300}"#);
                }
                if let Some(expected) = required_basic
                    && request.header("Authorization") != Some(expected)
                {
                    return HttpResponse::new(401);
                }
                return HttpResponse::new(200).body(r#"{"token":"good-token","expires_in":300}"#);
            }
            if request.header("Authorization") != Some("Bearer good-token") {
                return HttpResponse::new(401).header(
                    "WWW-Authenticate",
                    &format!(
                        r#"Bearer realm="http://127.0.0.1:{listener_port}/token",service="fake-registry",scope="repository:test/x:pull""#
                    ),
                );
            }
            HttpResponse::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .header("Docker-Content-Digest", &digest_of(SOME_MANIFEST))
                .body(SOME_MANIFEST)
        }
    }))
    .await;
    BearerRegistry {
        server,
        token_requests,
    }
}

#[tokio::test]
async fn bearer_tokens_are_fetched_anonymously_and_cached() {
    let fake = bearer_registry(None).await;
    let host = fake.server.host();
    let client = client_for(&[host.as_str()]);
    let target = reference(&format!("{host}/test/x:v1"));
    for _ in 0..3 {
        let resolved = client.resolve(&target).await.unwrap();
        assert_eq!(resolved.digest, digest(&digest_of(SOME_MANIFEST)));
    }
    assert_eq!(fake.token_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bearer_tokens_are_fetched_with_basic_credentials() {
    // base64("bob:pa55") = Ym9iOnBhNTU=
    let fake = bearer_registry(Some("Basic Ym9iOnBhNTU=")).await;
    let host = fake.server.host();
    let target = reference(&format!("{host}/test/x:v1"));

    let anonymous = client_for(&[host.as_str()]);
    let denied = anonymous.resolve(&target).await;
    assert!(
        matches!(denied, Err(RegistryError::Unauthorized { .. })),
        "{denied:?}"
    );

    let credentials = StaticCredentials::new().with(
        host.clone(),
        Credential::Basic {
            username: "bob".into(),
            password: Secret::new("pa55"),
        },
    );
    let client =
        Client::with_credentials(test_config(&[host.as_str()]), Arc::new(credentials)).unwrap();
    let resolved = client.resolve(&target).await.unwrap();
    assert_eq!(resolved.digest, digest(&digest_of(SOME_MANIFEST)));
}

#[tokio::test]
async fn identity_tokens_are_exchanged_at_the_realm() {
    let fake = bearer_registry(None).await;
    let host = fake.server.host();
    let credentials = StaticCredentials::new().with(
        host.clone(),
        Credential::IdentityToken(Secret::new("refresh-me")),
    );
    let shown = format!("{credentials:?}");
    assert!(!shown.contains("refresh-me"), "{shown}");
    let client =
        Client::with_credentials(test_config(&[host.as_str()]), Arc::new(credentials)).unwrap();
    let fetched = client
        .fetch_manifest(&reference(&format!("{host}/test/x:v1")))
        .await
        .unwrap();
    assert_eq!(fetched.bytes, SOME_MANIFEST);
}

#[tokio::test]
async fn tag_lists_follow_link_pagination_within_the_registry() {
    let server = FakeServer::start(handler(|request| async move {
        if request.target.contains("last=b") {
            HttpResponse::new(200).body(r#"{"name":"test/x","tags":["c"]}"#)
        } else {
            HttpResponse::new(200)
                .header("Link", r#"</v2/test/x/tags/list?n=2&last=b>; rel="next""#)
                .body(r#"{"name":"test/x","tags":["a","b"]}"#)
        }
    }))
    .await;
    let client = client_for(&[server.host().as_str()]);
    let tags = client
        .list_tags(&reference(&format!("{}/test/x", server.host())))
        .await
        .unwrap();
    assert_eq!(tags, vec!["a", "b", "c"]);

    let escaping = FakeServer::start(handler(|_| async {
        HttpResponse::new(200)
            .header(
                "Link",
                r#"<http://127.0.0.2:1/v2/test/x/tags/list>; rel="next""#,
            )
            .body(r#"{"tags":["a"]}"#)
    }))
    .await;
    let client = client_for(&[escaping.host().as_str()]);
    let result = client
        .list_tags(&reference(&format!("{}/test/x", escaping.host())))
        .await;
    assert!(
        matches!(result, Err(RegistryError::Protocol(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn concurrency_per_registry_is_limited() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now, max) = (in_flight.clone(), peak.clone());
    let server = FakeServer::start(handler(move |_| {
        let (now, max) = (now.clone(), max.clone());
        async move {
            let current = now.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(current, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            HttpResponse::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .header("Docker-Content-Digest", &digest_of(SOME_MANIFEST))
                .body(SOME_MANIFEST)
        }
    }))
    .await;
    let client = Client::new(ClientConfig {
        max_concurrency_per_registry: 2,
        ..test_config(&[server.host().as_str()])
    })
    .unwrap();
    let target = reference(&format!("{}/test/x:v1", server.host()));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            let target = target.clone();
            tokio::spawn(async move { client.resolve(&target).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}
