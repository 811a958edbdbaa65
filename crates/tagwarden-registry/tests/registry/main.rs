//! The client against a real CNCF Distribution registry on loopback, and against fakes for what a
//! real registry will not do on demand (rate limits, lies, bearer tokens), all from the shared
//! test bed (`tagwarden-testbed`). The attacks of issue 11 are in `attacks.rs`.

#![allow(clippy::unwrap_used)]

mod attacks;
mod poll;
mod referrers;
mod write;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::{
    Client, ClientConfig, Credential, OCI_INDEX, OCI_MANIFEST, RegistryError, Secret,
    StaticCredentials,
};
use tagwarden_testbed::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, Fault, HttpResponse, OciLayout, Proxy, Registry,
    RegistryOptions, Server, TestPki, TokenService, digest_of, handler,
};

/// A client for loopback tests: plain HTTP to `hosts`, quick retries.
pub(crate) fn client_for(hosts: &[&str]) -> Client {
    Client::new(test_config(hosts)).unwrap()
}

pub(crate) fn test_config(hosts: &[&str]) -> ClientConfig {
    ClientConfig {
        insecure_registries: hosts.iter().map(|h| h.to_string()).collect(),
        timeout: Duration::from_secs(10),
        retries: 2,
        initial_backoff: Duration::from_millis(20),
        max_retry_wait: Duration::from_secs(2),
        ..ClientConfig::default()
    }
}

fn with_credentials(hosts: &[&str], registry: &str, credential: Credential) -> Client {
    let credentials = StaticCredentials::new().with(registry, credential);
    Client::with_credentials(test_config(hosts), Arc::new(credentials)).unwrap()
}

fn basic(user: &str, password: &str) -> Credential {
    Credential::Basic {
        username: user.into(),
        password: Secret::new(password),
    }
}

/// Asserts that the registry refuses `client`, and returns the error as shown (Debug and Display).
async fn assert_unauthorized(client: &Client, target: &Reference) -> String {
    let denied = client.resolve(target).await;
    let Err(error @ RegistryError::Unauthorized { .. }) = &denied else {
        panic!("expected Unauthorized, got {denied:?}");
    };
    format!("{error:?} {error}")
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
    single: OciLayout,
    multi: OciLayout,
}

impl Pushed {
    fn amd64(&self) -> String {
        self.multi.platform_digest("linux/amd64").to_string()
    }

    fn arm64(&self) -> String {
        self.multi.platform_digest("linux/arm64").to_string()
    }
}

fn registry_with_images(options: RegistryOptions, creds: Option<(&str, &str)>) -> Pushed {
    let registry = Registry::start(options);
    let single = OciLayout::image("single");
    let multi = OciLayout::multi_arch("multi");
    let host = registry.host();
    single.push(&format!("{host}/test/single:v1"), creds);
    multi.push(&format!("{host}/test/multi:v1"), creds);
    Pushed {
        registry,
        single,
        multi,
    }
}

#[tokio::test]
async fn resolves_tags_fetches_verified_manifests_and_picks_platforms() {
    if !tagwarden_testbed::real_registry_available() {
        return;
    }
    let p = registry_with_images(RegistryOptions::default(), None);
    let host = p.registry.host();
    let client = client_for(&[host.as_str()]);

    let single = client
        .resolve(&reference(&format!("{host}/test/single:v1")))
        .await
        .unwrap();
    assert_eq!(single.digest, digest(&p.single.digest));
    assert_eq!(single.media_type, OCI_MANIFEST);
    assert!(!single.is_index);

    let multi = client
        .resolve_confirmed(&reference(&format!("{host}/test/multi:v1")))
        .await
        .unwrap();
    assert_eq!(multi.digest, digest(&p.multi.digest));
    assert_eq!(multi.media_type, OCI_INDEX);
    assert!(multi.is_index);

    // A pinned reference resolves to itself.
    let pinned = reference(&format!("{host}/test/multi@{}", p.amd64()));
    assert_eq!(
        client.resolve(&pinned).await.unwrap().digest,
        digest(&p.amd64())
    );
    client.confirm(&pinned).await.unwrap();

    let index_ref = reference(&format!("{host}/test/multi@{}", p.multi.digest));
    let fetched = client.fetch_manifest(&index_ref).await.unwrap();
    assert_eq!(digest_of(&fetched.bytes), p.multi.digest);
    assert!(fetched.is_index());
    let children: Vec<String> = fetched
        .index(&index_ref)
        .unwrap()
        .platforms()
        .map(|(platform, d)| format!("{platform}={d}"))
        .collect();
    assert_eq!(
        children,
        [
            format!("linux/amd64={}", p.amd64()),
            format!("linux/arm64={}", p.arm64())
        ]
    );
    let by_tag = client
        .fetch_manifest(&reference(&format!("{host}/test/single:v1")))
        .await
        .unwrap();
    assert_eq!(by_tag.digest, digest(&p.single.digest));

    let multi_ref = reference(&format!("{host}/test/multi:v1"));
    for (platform, want) in [("linux/amd64", p.amd64()), ("linux/arm64", p.arm64())] {
        assert_eq!(
            client.platform_digest(&multi_ref, platform).await.unwrap(),
            digest(&want)
        );
    }
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
    let single_pinned = reference(&format!("{host}/test/single@{}", p.single.digest));
    assert_eq!(
        client.platform_of(&single_pinned).await.unwrap().as_deref(),
        Some("linux/amd64")
    );
    assert_eq!(client.platform_of(&index_ref).await.unwrap(), None);
}

#[tokio::test]
async fn docker_manifest_lists_resolve_and_pick_variants() {
    if !tagwarden_testbed::real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let host = registry.host();
    let repo = "test/docker-list";
    let mut children = Vec::new();
    for (arch, variant) in [("amd64", None), ("arm", Some("v6")), ("arm", Some("v7"))] {
        let (digest, size) = registry.push_docker_image(repo, arch, variant);
        let mut platform = serde_json::json!({"os": "linux", "architecture": arch});
        if let Some(v) = variant {
            platform["variant"] = v.into();
        }
        children.push(serde_json::json!({
            "mediaType": DOCKER_MANIFEST, "size": size, "digest": digest, "platform": platform,
        }));
    }
    let list = serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2, "mediaType": DOCKER_MANIFEST_LIST, "manifests": children,
    }))
    .unwrap();
    let list_digest = registry.put_manifest(repo, "1.0", DOCKER_MANIFEST_LIST, &list);

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
    for (platform, i) in [("linux/arm/v7", 2), ("linux/arm/v6", 1), ("linux/amd64", 0)] {
        assert_eq!(
            client.platform_digest(&target, platform).await.unwrap(),
            child(i)
        );
    }
    let amd64 = client
        .resolve(&reference(&format!("{host}/{repo}@{}", child(0))))
        .await
        .unwrap();
    assert_eq!(amd64.media_type, tagwarden_registry::DOCKER_MANIFEST);
    assert!(!amd64.is_index);
}

#[tokio::test]
async fn missing_tags_repositories_and_digests_are_not_found() {
    if !tagwarden_testbed::real_registry_available() {
        return;
    }
    let p = registry_with_images(RegistryOptions::default(), None);
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
    let gone = client
        .confirm(&reference(&format!(
            "{host}/test/single@sha256:{}",
            "a".repeat(64)
        )))
        .await;
    assert!(
        matches!(gone, Err(RegistryError::NotFound { .. })),
        "{gone:?}"
    );
}

#[tokio::test]
async fn lists_tags() {
    if !tagwarden_testbed::real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let host = registry.host();
    let image = OciLayout::image("tags");
    for tag in ["1.0", "1.1", "latest"] {
        image.push(&format!("{host}/test/tags:{tag}"), None);
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
    if !tagwarden_testbed::real_registry_available() {
        return;
    }
    let p = registry_with_images(
        RegistryOptions {
            htpasswd: Some(("alice".into(), "s3cret-pw".into())),
            ..RegistryOptions::default()
        },
        Some(("alice", "s3cret-pw")),
    );
    let host = p.registry.host();
    let target = reference(&format!("{host}/test/multi:v1"));

    assert_unauthorized(&client_for(&[host.as_str()]), &target).await;

    let wrong = with_credentials(&[host.as_str()], &host, basic("alice", "wrong-pw"));
    let shown = assert_unauthorized(&wrong, &target).await;
    assert!(!shown.contains("wrong-pw"), "{shown}");

    let right = with_credentials(&[host.as_str()], &host, basic("alice", "s3cret-pw"));
    assert_eq!(
        right.resolve(&target).await.unwrap().digest,
        digest(&p.multi.digest)
    );
    // The second call sends Basic at once and still works.
    assert_eq!(
        right.platform_digest(&target, "linux/arm64").await.unwrap(),
        digest(&p.arm64())
    );
    let shown = format!("{right:?}");
    assert!(!shown.contains("s3cret-pw"), "{shown}");
}

#[tokio::test]
async fn token_auth_registry_accepts_tokens_from_its_realm() {
    if !tagwarden_testbed::real_registry_and_openssl_available() {
        return;
    }
    let tokens = TokenService::start("carol", "t0ken-pw");
    let p = registry_with_images(
        RegistryOptions {
            token: Some(tokens.auth()),
            ..RegistryOptions::default()
        },
        Some(("carol", "t0ken-pw")),
    );
    let host = p.registry.host();
    let target = reference(&format!("{host}/test/multi:v1"));

    assert_unauthorized(&client_for(&[host.as_str()]), &target).await;

    // The realm is plain HTTP on the registry's own host (another port): allowed, since the
    // user named that host insecure.
    let client = with_credentials(&[host.as_str()], &host, basic("carol", "t0ken-pw"));
    let before = tokens.issued();
    assert_eq!(
        client.resolve(&target).await.unwrap().digest,
        digest(&p.multi.digest)
    );
    assert_eq!(
        client
            .platform_digest(&target, "linux/amd64")
            .await
            .unwrap(),
        digest(&p.amd64())
    );
    let pinned = reference(&format!("{host}/test/multi@{}", p.arm64()));
    assert_eq!(
        client.fetch_manifest(&pinned).await.unwrap().digest,
        digest(&p.arm64())
    );
    // One token for the repository's pull scope, reused for every later request.
    assert_eq!(tokens.issued() - before, 1);
}

#[tokio::test]
async fn nothing_listening_is_unreachable_without_waiting_for_the_timeout() {
    let port = tagwarden_testbed::free_port();
    let host = format!("127.0.0.1:{port}");
    let client = client_for(&[host.as_str()]);
    let result = client
        .resolve(&reference(&format!("{host}/test/x:v1")))
        .await;
    match &result {
        Err(e @ RegistryError::Unreachable { registry, cause }) => {
            assert_eq!(registry, &host);
            assert!(e.to_string().contains("unreachable"), "{e}");
            // The refusal itself ended it, not the ten-second timeout.
            assert!(!cause.contains("timed out"), "{cause}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

/// A TCP relay to `upstream` on a loopback port of its own, counting the connections it relays.
fn counting_relay(upstream: String) -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                continue;
            };
            let (mut c, mut s) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut c, &mut s));
            std::thread::spawn(move || std::io::copy(&mut { server }, &mut { client }));
        }
    });
    (host, connections)
}

#[tokio::test]
async fn plain_http_registry_not_listed_as_insecure_is_a_tls_error() {
    if !tagwarden_testbed::real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let (host, connections) = counting_relay(registry.host());
    let client = client_for(&[]);
    let result = client
        .resolve(&reference(&format!("{host}/test/x:v1")))
        .await;
    match &result {
        Err(e @ RegistryError::Tls { .. }) => {
            assert!(e.to_string().contains("insecure"), "{e}");
        }
        other => panic!("expected Tls, got {other:?}"),
    }
    // A TLS failure is not retried: one connection, where a retry would make three.
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn tls_registry_is_trusted_through_an_extra_ca_certificate() {
    if !tagwarden_testbed::real_registry_and_openssl_available() {
        return;
    }
    let pki = TestPki::new();
    let registry = Registry::start(RegistryOptions {
        tls: Some((pki.server_cert(), pki.server_key())),
        ..RegistryOptions::default()
    });
    let host = registry.host();
    let image = OciLayout::image("tls");
    image.push(&format!("{host}/test/tls:v1"), None);
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
        extra_ca_certs_pem: vec![std::fs::read(pki.ca_cert()).unwrap()],
        ..test_config(&[])
    })
    .unwrap();
    let resolved = trusting.resolve_confirmed(&target).await.unwrap();
    assert_eq!(resolved.digest, digest(&image.digest));
}

#[tokio::test]
async fn rate_limit_is_retried_after_the_asked_delay() {
    if !tagwarden_testbed::real_registry_available() {
        return;
    }
    let p = registry_with_images(RegistryOptions::default(), None);
    let proxy = Proxy::start(
        &p.registry.host(),
        Fault::TooManyRequests {
            times: 1,
            retry_after_secs: 1,
        },
    );
    let client = client_for(&[proxy.host().as_str()]);
    let started = Instant::now();
    let resolved = client
        .resolve(&reference(&format!("{}/test/multi:v1", proxy.host())))
        .await
        .unwrap();
    assert_eq!(resolved.digest, digest(&p.multi.digest));
    // A lower bound, which load can only help: the asked second was waited, not skipped.
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(proxy.requests(), 2);
}

#[tokio::test]
async fn a_registry_that_never_answers_times_out() {
    let server = Server::start(handler(|_| {
        std::thread::sleep(Duration::from_secs(5));
        HttpResponse::new(200)
    }));
    let client = Client::new(ClientConfig {
        timeout: Duration::from_millis(300),
        retries: 1,
        ..test_config(&[server.host().as_str()])
    })
    .unwrap();
    let result = client
        .resolve(&reference(&format!("{}/test/x:v1", server.host())))
        .await;
    // The timeout fired: the server would have answered 200 after five seconds.
    match &result {
        Err(RegistryError::Unreachable { cause, .. }) => {
            assert!(cause.contains("timed out"), "{cause}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_limit_longer_than_the_cap_gives_up_at_once() {
    let server = Server::start(handler(|_| {
        HttpResponse::new(429).with_header("Retry-After", "3600")
    }));
    let client = client_for(&[server.host().as_str()]);
    let result = client
        .resolve(&reference(&format!("{}/test/x:v1", server.host())))
        .await;
    assert!(
        matches!(result, Err(RegistryError::RateLimited { .. })),
        "{result:?}"
    );
    // Given up on the first answer, neither waited out nor retried.
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_unreachable() {
    let server = Server::start(handler(|_| HttpResponse::new(503)));
    let client = client_for(&[server.host().as_str()]);
    let result = client
        .resolve(&reference(&format!("{}/test/x:v1", server.host())))
        .await;
    match &result {
        Err(RegistryError::Unreachable { cause, .. }) => assert!(cause.contains("503"), "{cause}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    // One try and two retries.
    assert_eq!(server.requests(), 3);
}

const SOME_MANIFEST: &[u8] =
    br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#;

/// Serves `body` for every manifest request, announcing `announced` as its digest.
fn lying_registry(body: &'static [u8], announced: Option<String>) -> Server {
    Server::start(handler(move |_| {
        let response = HttpResponse::new(200)
            .with_header("Content-Type", OCI_MANIFEST)
            .with_body(body);
        match &announced {
            Some(d) => response.with_header("Docker-Content-Digest", d),
            None => response,
        }
    }))
}

#[tokio::test]
async fn a_registry_serving_other_bytes_than_the_digest_is_refused() {
    let asked = format!("sha256:{}", "a".repeat(64));
    let server = lying_registry(SOME_MANIFEST, Some(asked.clone()));
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
    let server = lying_registry(SOME_MANIFEST, Some(format!("sha256:{}", "b".repeat(64))));
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
    let server = lying_registry(SOME_MANIFEST, None);
    let client = client_for(&[server.host().as_str()]);
    let target = reference(&format!("{}/test/x:v1", server.host()));
    let resolved = client.resolve_confirmed(&target).await.unwrap();
    assert_eq!(resolved.digest, digest(&digest_of(SOME_MANIFEST)));
    assert_eq!(resolved.media_type, OCI_MANIFEST);
    // The bytes were hashed once already (HEAD had no digest): confirming needs no other fetch.
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn a_registry_refusing_head_is_asked_with_get() {
    let server = Server::start(handler(|request| {
        if request.method == "HEAD" {
            return HttpResponse::new(405);
        }
        HttpResponse::new(200)
            .with_header("Content-Type", "application/json")
            .with_body(SOME_MANIFEST)
    }));
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
fn bearer_registry(required_basic: Option<&'static str>) -> (Server, Arc<AtomicUsize>) {
    let token_requests = Arc::new(AtomicUsize::new(0));
    let counter = token_requests.clone();
    let server = Server::start_with(std::net::Ipv4Addr::LOCALHOST.into(), None, move |port| {
        handler(move |request| {
            if request.path() == "/token" {
                counter.fetch_add(1, Ordering::SeqCst);
                let params = request.params();
                let has = |k: &str, v: &str| params.iter().any(|(pk, pv)| pk == k && pv == v);
                if !has("service", "fake-registry") || !has("scope", "repository:test/x:pull") {
                    return HttpResponse::new(400);
                }
                if request.method == "POST" {
                    if !has("grant_type", "refresh_token") || !has("refresh_token", "refresh-me") {
                        return HttpResponse::new(401);
                    }
                    return HttpResponse::new(200)
                        .with_body(r#"{"access_token":"good-token","expires_in":300}"#);
                }
                if let Some(expected) = required_basic
                    && request.header("Authorization") != Some(expected)
                {
                    return HttpResponse::new(401);
                }
                return HttpResponse::new(200)
                    .with_body(r#"{"token":"good-token","expires_in":300}"#);
            }
            if request.header("Authorization") != Some("Bearer good-token") {
                return HttpResponse::new(401).with_header(
                    "WWW-Authenticate",
                    &format!(
                        r#"Bearer realm="http://127.0.0.1:{port}/token",service="fake-registry",scope="repository:test/x:pull""#
                    ),
                );
            }
            HttpResponse::new(200)
                .with_header("Content-Type", OCI_MANIFEST)
                .with_header("Docker-Content-Digest", &digest_of(SOME_MANIFEST))
                .with_body(SOME_MANIFEST)
        })
    });
    (server, token_requests)
}

#[tokio::test]
async fn bearer_tokens_are_fetched_anonymously_and_cached() {
    let (server, token_requests) = bearer_registry(None);
    let host = server.host();
    let client = client_for(&[host.as_str()]);
    let target = reference(&format!("{host}/test/x:v1"));
    for _ in 0..3 {
        let resolved = client.resolve(&target).await.unwrap();
        assert_eq!(resolved.digest, digest(&digest_of(SOME_MANIFEST)));
    }
    assert_eq!(token_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bearer_tokens_are_fetched_with_basic_credentials() {
    // base64("bob:pa55") = Ym9iOnBhNTU=
    let (server, _) = bearer_registry(Some("Basic Ym9iOnBhNTU="));
    let host = server.host();
    let target = reference(&format!("{host}/test/x:v1"));

    assert_unauthorized(&client_for(&[host.as_str()]), &target).await;

    let client = with_credentials(&[host.as_str()], &host, basic("bob", "pa55"));
    let resolved = client.resolve(&target).await.unwrap();
    assert_eq!(resolved.digest, digest(&digest_of(SOME_MANIFEST)));
}

#[tokio::test]
async fn identity_tokens_are_exchanged_at_the_realm() {
    let (server, _) = bearer_registry(None);
    let host = server.host();
    let credential = Credential::IdentityToken(Secret::new("refresh-me"));
    let shown = format!("{credential:?}");
    assert!(!shown.contains("refresh-me"), "{shown}");
    let client = with_credentials(&[host.as_str()], &host, credential);
    let fetched = client
        .fetch_manifest(&reference(&format!("{host}/test/x:v1")))
        .await
        .unwrap();
    assert_eq!(fetched.bytes, SOME_MANIFEST);
}

#[tokio::test]
async fn tag_lists_follow_link_pagination_within_the_registry() {
    let server = Server::start(handler(|request| {
        if request.target.contains("last=b") {
            HttpResponse::new(200).with_body(r#"{"name":"test/x","tags":["c"]}"#)
        } else {
            HttpResponse::new(200)
                .with_header("Link", r#"</v2/test/x/tags/list?n=2&last=b>; rel="next""#)
                .with_body(r#"{"name":"test/x","tags":["a","b"]}"#)
        }
    }));
    let client = client_for(&[server.host().as_str()]);
    let tags = client
        .list_tags(&reference(&format!("{}/test/x", server.host())))
        .await
        .unwrap();
    assert_eq!(tags, vec!["a", "b", "c"]);

    let escaping = Server::start(handler(|_| {
        HttpResponse::new(200)
            .with_header(
                "Link",
                r#"<http://127.0.0.2:1/v2/test/x/tags/list>; rel="next""#,
            )
            .with_body(r#"{"tags":["a"]}"#)
    }));
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
    let server = Server::start(handler(move |_| {
        let current = now.fetch_add(1, Ordering::SeqCst) + 1;
        max.fetch_max(current, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
        now.fetch_sub(1, Ordering::SeqCst);
        HttpResponse::new(200)
            .with_header("Content-Type", OCI_MANIFEST)
            .with_header("Docker-Content-Digest", &digest_of(SOME_MANIFEST))
            .with_body(SOME_MANIFEST)
    }));
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
