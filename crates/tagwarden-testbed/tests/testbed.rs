//! The test bed checks itself against the real registry: pushes keep digests, the proxy's faults
//! happen as described.

#![allow(clippy::unwrap_used)]

use tagwarden_testbed::{
    Fault, OciLayout, Proxy, Registry, RegistryOptions, digest_of, real_registry_available, request,
};

const ACCEPT: &str =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json";

fn head_digest(host: &str, repo: &str, tag: &str) -> (u16, Option<String>) {
    let r = request(
        host,
        "HEAD",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Accept", ACCEPT)],
        b"",
    )
    .unwrap();
    (
        r.status,
        r.header("Docker-Content-Digest").map(String::from),
    )
}

#[test]
fn push_keeps_digests_and_delete_works() {
    if !real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let single = OciLayout::image("one");
    let multi = OciLayout::multi_arch("one");
    assert_ne!(single.digest, OciLayout::image("two").digest);
    single.push(&format!("{}/app:1", registry.host()), None);
    multi.push(&format!("{}/multi:1", registry.host()), None);
    assert_eq!(
        head_digest(&registry.host(), "app", "1").1.as_deref(),
        Some(single.digest.as_str())
    );
    assert_eq!(
        head_digest(&registry.host(), "multi", "1").1.as_deref(),
        Some(multi.digest.as_str())
    );
    let arm = multi.platform_digest("linux/arm64").to_string();
    assert_eq!(head_digest(&registry.host(), "multi", &arm).0, 200);

    // Tagging by PUT of the same bytes.
    let d = registry.put_manifest("app", "2", single.media_type, &single.bytes);
    assert_eq!(d, single.digest);

    registry.delete_manifest("app", &single.digest);
    assert_eq!(head_digest(&registry.host(), "app", &single.digest).0, 404);
}

#[test]
fn htpasswd_registry_demands_credentials() {
    if !real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions {
        htpasswd: Some(("alice".into(), "s3cret".into())),
        ..RegistryOptions::default()
    });
    let image = OciLayout::image("auth");
    image.push(
        &format!("{}/private/app:1", registry.host()),
        registry.credentials(),
    );
    assert_eq!(head_digest(&registry.host(), "private/app", "1").0, 401);
    let r = registry.http(
        "HEAD",
        "/v2/private/app/manifests/1",
        &[("Accept", ACCEPT)],
        b"",
    );
    assert_eq!(r.status, 200);
}

#[test]
fn proxy_faults() {
    if !real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let multi = OciLayout::multi_arch("proxy");
    multi.push(&format!("{}/multi:1", registry.host()), None);

    let faithful = Proxy::start(&registry.host(), Fault::None);
    assert_eq!(
        head_digest(&faithful.host(), "multi", "1").1.as_deref(),
        Some(multi.digest.as_str())
    );

    let limited = Proxy::start(
        &registry.host(),
        Fault::TooManyRequests {
            times: 2,
            retry_after_secs: 1,
        },
    );
    let first = request(&limited.host(), "GET", "/v2/", &[], b"").unwrap();
    assert_eq!(first.status, 429);
    assert_eq!(first.header("Retry-After"), Some("1"));
    assert_eq!(head_digest(&limited.host(), "multi", "1").0, 429);
    assert_eq!(head_digest(&limited.host(), "multi", "1").0, 200);
    assert_eq!(limited.faults(), 2);

    let down = Proxy::start(&registry.host(), Fault::ServiceUnavailable);
    assert_eq!(head_digest(&down.host(), "multi", "1").0, 503);

    let lie = format!("sha256:{}", "c".repeat(64));
    let head_liar = Proxy::start(&registry.host(), Fault::LyingDigest(lie.clone()));
    assert_eq!(
        head_digest(&head_liar.host(), "multi", "1").1.as_deref(),
        Some(lie.as_str())
    );
    // Even a manifest the registry does not have: HEAD says yes.
    let nowhere = format!("sha256:{}", "d".repeat(64));
    assert_eq!(
        head_digest(&head_liar.host(), "multi", &nowhere),
        (200, Some(lie.clone()))
    );

    let liar = Proxy::start(&registry.host(), Fault::MismatchedManifest);
    let path = format!("/v2/multi/manifests/{}", multi.digest);
    let body = request(&liar.host(), "GET", &path, &[("Accept", ACCEPT)], b"")
        .unwrap()
        .body;
    assert_ne!(digest_of(&body), multi.digest);
    let honest = request(&faithful.host(), "GET", &path, &[("Accept", ACCEPT)], b"")
        .unwrap()
        .body;
    assert_eq!(digest_of(&honest), multi.digest);
}

#[test]
fn servers_on_other_loopback_addresses_and_held_requests() {
    use std::time::{Duration, Instant};
    use tagwarden_testbed::{Gate, HttpResponse, Server, handler};
    let other = Server::start_on(
        std::net::Ipv4Addr::new(127, 0, 0, 2).into(),
        handler(|request| HttpResponse::new(200).with_body(request.path().to_string())),
    );
    assert!(other.host().starts_with("127.0.0.2:"));
    let answer = request(&other.host(), "GET", "/v2/x?y=1", &[], b"").unwrap();
    assert_eq!(
        (answer.status, answer.body.as_slice()),
        (200, &b"/v2/x"[..])
    );

    let gate = Gate::new();
    let held = Proxy::start(&other.host(), Fault::Hold(gate.clone()));
    let host = held.host();
    let started = Instant::now();
    let waiting = std::thread::spawn(move || request(&host, "GET", "/v2/", &[], b"").unwrap());
    std::thread::sleep(Duration::from_millis(200));
    assert!(!waiting.is_finished());
    gate.open();
    assert_eq!(waiting.join().unwrap().status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
}
