//! Issue 11's attacks on the client, each against real loopback servers: a token realm on another
//! loopback address, a redirect from HTTPS to plain HTTP, a lying `HEAD` digest, an endless tag
//! listing, a registry token, unreadable credentials.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use tagwarden_auth::{CredentialStore, DockerConfig, Source};
use tagwarden_testbed::HttpRequest;

use super::*;

const OTHER_HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A server that records every request it gets and hands out a token.
fn recording_realm(ip: IpAddr, tls: Option<&TestPki>) -> (Server, Arc<Mutex<Vec<HttpRequest>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = Server::start_with(ip, tls, move |_| {
        handler(move |request| {
            log.lock().unwrap().push(request);
            HttpResponse::new(200).with_body(r#"{"token":"good-token","expires_in":300}"#)
        })
    });
    (server, seen)
}

/// A registry that sends every client to `realm` for a token and serves a manifest to `good-token`.
fn registry_with_realm(realm: String) -> Server {
    Server::start(handler(move |request| {
        if request.header("Authorization") != Some("Bearer good-token") {
            return HttpResponse::new(401).with_header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="{realm}",service="s",scope="repository:test/x:pull""#),
            );
        }
        HttpResponse::new(200)
            .with_header("Content-Type", OCI_MANIFEST)
            .with_header("Docker-Content-Digest", &digest_of(SOME_MANIFEST))
            .with_body(SOME_MANIFEST)
    }))
}

#[tokio::test]
async fn a_token_realm_on_another_host_never_gets_credentials_in_clear_text() {
    let (realm, seen) = recording_realm(OTHER_HOST, None);
    let registry = registry_with_realm(format!("{}/token", realm.url()));
    let host = registry.host();
    let target = reference(&format!("{host}/test/x:v1"));
    let credentials = [
        basic("alice", "s3cret-pw"),
        Credential::IdentityToken(Secret::new("s3cret-refresh")),
    ];

    // The registry is named insecure, the realm's host is not: nothing goes there.
    for credential in credentials.clone() {
        let client = with_credentials(&[&host], &host, credential);
        let result = client.resolve(&target).await;
        assert!(
            matches!(result, Err(RegistryError::UnsafeRealm { .. })),
            "{result:?}"
        );
        assert!(result.unwrap_err().is_access_denied());
    }
    let anonymous = client_for(&[&host]).resolve(&target).await;
    assert!(
        matches!(anonymous, Err(RegistryError::UnsafeRealm { .. })),
        "{anonymous:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 0, "the realm was asked");

    // Even named insecure, another host gets no credentials in clear text; anonymous is fine.
    let both = [host.as_str(), &realm.host()];
    for credential in credentials {
        let result = with_credentials(&both, &host, credential)
            .resolve(&target)
            .await;
        let Err(RegistryError::UnsafeRealm { reason, .. }) = &result else {
            panic!("{result:?}");
        };
        assert!(reason.contains("another host"), "{reason}");
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        0,
        "credentials went to the realm"
    );
    let resolved = client_for(&both).resolve(&target).await.unwrap();
    assert_eq!(resolved.digest, digest(&digest_of(SOME_MANIFEST)));
    let asked = seen.lock().unwrap();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].header("Authorization"), None);
    assert!(!asked[0].target.contains("refresh"), "{}", asked[0].target);
}

#[tokio::test]
async fn an_https_realm_on_another_host_gets_credentials() {
    if !tagwarden_testbed::real_registry_and_openssl_available() {
        return;
    }
    let pki = TestPki::new();
    let (realm, seen) = recording_realm(OTHER_HOST, Some(&pki));
    let registry = registry_with_realm(format!("{}/token", realm.url()));
    let host = registry.host();
    let credentials = StaticCredentials::new().with(&host, basic("bob", "pa55"));
    let client = Client::with_credentials(
        ClientConfig {
            extra_ca_certs_pem: vec![std::fs::read(pki.ca_cert()).unwrap()],
            ..test_config(&[&host])
        },
        Arc::new(credentials),
    )
    .unwrap();
    let resolved = client
        .resolve(&reference(&format!("{host}/test/x:v1")))
        .await
        .unwrap();
    assert_eq!(resolved.digest, digest(&digest_of(SOME_MANIFEST)));
    // base64("bob:pa55")
    assert_eq!(
        seen.lock().unwrap()[0].header("Authorization"),
        Some("Basic Ym9iOnBhNTU=")
    );
}

#[tokio::test]
async fn a_registry_token_goes_to_the_registry_as_bearer_never_to_a_realm() {
    let (realm, seen) = recording_realm(Ipv4Addr::LOCALHOST.into(), None);
    let registry = Server::start(handler(move |request| {
        if request.header("Authorization") != Some("Bearer s3cret-registry-token") {
            return HttpResponse::new(401).with_header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="{}/token",service="s""#, realm.url()),
            );
        }
        HttpResponse::new(200)
            .with_header("Content-Type", OCI_MANIFEST)
            .with_header("Docker-Content-Digest", &digest_of(SOME_MANIFEST))
            .with_body(SOME_MANIFEST)
    }));
    let host = registry.host();
    let token = Credential::RegistryToken(Secret::new("s3cret-registry-token"));
    let client = with_credentials(&[&host], &host, token);
    let target = reference(&format!("{host}/test/x:v1"));
    for _ in 0..2 {
        let resolved = client.resolve(&target).await.unwrap();
        assert_eq!(resolved.digest, digest(&digest_of(SOME_MANIFEST)));
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        0,
        "the registry token went to the realm"
    );
    // One challenge, then the token is sent at once.
    assert_eq!(registry.requests(), 3);
}

#[tokio::test]
async fn a_redirect_from_https_to_plain_http_is_refused() {
    if !tagwarden_testbed::real_registry_and_openssl_available() {
        return;
    }
    let pki = TestPki::new();
    let plain = Server::start(handler(|_| {
        HttpResponse::new(200)
            .with_header("Content-Type", OCI_MANIFEST)
            .with_header("Docker-Content-Digest", &digest_of(SOME_MANIFEST))
            .with_body(SOME_MANIFEST)
    }));
    let target_url = plain.url();
    let tls = Server::start_tls(
        &pki,
        handler(move |request| {
            HttpResponse::new(307)
                .with_header("Location", &format!("{target_url}{}", request.target))
        }),
    );
    let config = |insecure: &[&str]| ClientConfig {
        extra_ca_certs_pem: vec![std::fs::read(pki.ca_cert()).unwrap()],
        ..test_config(insecure)
    };
    let target = reference(&format!("{}/test/x:v1", tls.host()));

    let client = Client::new(config(&[])).unwrap();
    let result = client.resolve(&target).await;
    match &result {
        Err(e @ RegistryError::InsecureRedirect { target, .. }) => {
            assert!(target.starts_with(&plain.url()), "{target}");
            assert!(e.to_string().contains("not named insecure"), "{e}");
        }
        other => panic!("expected InsecureRedirect, got {other:?}"),
    }
    assert_eq!(plain.requests(), 0, "the plain-HTTP target was asked");

    // Named insecure, the same redirect is followed.
    let client = Client::new(config(&[&plain.host()])).unwrap();
    let resolved = client.resolve(&target).await.unwrap();
    assert_eq!(resolved.digest, digest(&digest_of(SOME_MANIFEST)));
}

#[tokio::test]
async fn a_lying_head_digest_is_caught_by_fetching_the_bytes() {
    if !tagwarden_testbed::real_registry_available() {
        return;
    }
    let p = registry_with_images(RegistryOptions::default(), None);
    // The tag is said to point at the single image, which this repository does not serve, or at
    // a digest nobody serves; and every HEAD by digest says yes.
    for lie in [
        p.single.digest.clone(),
        format!("sha256:{}", "c".repeat(64)),
    ] {
        let liar = Proxy::start(&p.registry.host(), Fault::LyingDigest(lie.clone()));
        let client = client_for(&[&liar.host()]);
        let target = reference(&format!("{}/test/multi:v1", liar.host()));
        // HEAD alone believes it.
        assert_eq!(client.resolve(&target).await.unwrap().digest, digest(&lie));
        let pinned = target.with_digest(digest(&lie));
        assert_eq!(client.resolve(&pinned).await.unwrap().digest, digest(&lie));
        // Fetching the bytes does not.
        for confirmed in [
            client.resolve_confirmed(&target).await.map(|_| ()),
            client.resolve_with_index(&target).await.map(|_| ()),
        ] {
            let Err(e @ RegistryError::UnservedDigest { .. }) = &confirmed else {
                panic!("expected UnservedDigest, got {confirmed:?}");
            };
            assert!(e.to_string().contains("does not serve"), "{e}");
        }
        let confirmed = client.confirm(&pinned).await;
        assert!(
            matches!(confirmed, Err(RegistryError::NotFound { .. })),
            "{confirmed:?}"
        );
    }

    // An honest answer is confirmed once per digest: the second time costs a HEAD only.
    let proxy = Proxy::start(&p.registry.host(), Fault::None);
    let client = client_for(&[&proxy.host()]);
    let target = reference(&format!("{}/test/multi:v1", proxy.host()));
    let (first, index) = client.resolve_with_index(&target).await.unwrap();
    assert_eq!(first.digest, digest(&p.multi.digest));
    assert_eq!(index.map(|i| i.platforms().count()), Some(2));
    assert_eq!(proxy.requests(), 2);
    client.resolve_confirmed(&target).await.unwrap();
    client
        .confirm(&target.with_digest(first.digest.clone()))
        .await
        .unwrap();
    assert_eq!(proxy.requests(), 3);
}

#[tokio::test]
async fn an_endless_tag_listing_stops_at_the_byte_cap() {
    let padding = "x".repeat(256 * 1024);
    let server = Server::start(handler(move |request| {
        let n: usize = request
            .params()
            .iter()
            .find(|(k, _)| k == "last")
            .and_then(|(_, v)| v.trim_start_matches('t').parse().ok())
            .unwrap_or(0);
        HttpResponse::new(200)
            .with_header(
                "Link",
                &format!("</v2/test/x/tags/list?last=t{}>; rel=\"next\"", n + 1),
            )
            .with_body(format!(r#"{{"padding":"{padding}","tags":["t{n}"]}}"#))
    }));
    let client = Client::new(ClientConfig {
        max_tag_list_bytes: 2 * 1024 * 1024,
        ..test_config(&[&server.host()])
    })
    .unwrap();
    let repository = reference(&format!("{}/test/x", server.host()));
    let mut pages = client.tag_pages(&repository);
    let mut tags = Vec::new();
    let error = loop {
        match pages.next_page().await {
            Ok(Some(page)) => tags.extend(page),
            Ok(None) => panic!("an endless listing ended"),
            Err(error) => break error,
        }
    };
    assert!(
        matches!(error, RegistryError::ListingTooLong { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("2 MiB"), "{error}");
    // The pages before the cap are kept, and the listing is over.
    assert_eq!(tags.len(), 7, "{tags:?}");
    assert_eq!(pages.tags_so_far(), 7);
    assert!(matches!(pages.next_page().await, Ok(None)));
    assert!(server.requests() <= 8, "{}", server.requests());
    let all = client.list_tags(&repository).await;
    assert!(
        matches!(all, Err(RegistryError::ListingTooLong { .. })),
        "{all:?}"
    );
}

#[tokio::test]
async fn credentials_that_cannot_be_read_are_named_when_access_is_denied() {
    let registry = Server::start(handler(|_| {
        HttpResponse::new(401).with_header("WWW-Authenticate", r#"Basic realm="r""#)
    }));
    let host = registry.host();
    let config = DockerConfig::parse(
        std::path::Path::new("config.json"),
        &format!(r#"{{"credHelpers": {{"{host}": "gone"}}}}"#),
    )
    .unwrap();
    let store = CredentialStore::from_sources(vec![Source::DockerConfig {
        path: "/home/u/.docker/config.json".into(),
        config,
    }])
    .with_helper_search_path("");
    let client = Client::with_credentials(test_config(&[&host]), Arc::new(store)).unwrap();
    let result = client
        .resolve(&reference(&format!("{host}/test/x:v1")))
        .await;
    match &result {
        Err(e @ RegistryError::CredentialsUnavailable { cause, .. }) => {
            assert!(cause.contains("docker-credential-gone"), "{cause}");
            assert!(e.is_access_denied());
        }
        other => panic!("expected CredentialsUnavailable, got {other:?}"),
    }
}
