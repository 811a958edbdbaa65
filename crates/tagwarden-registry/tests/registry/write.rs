//! Deletes and puts against the real CNCF registry: a manifest is deleted by digest only after
//! its bytes were checked, its tag goes with it and nothing else does; a second delete finds it
//! gone; a lying registry cannot steer a delete; a pull-through cache is told apart from a
//! registry that takes deletes.

use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::{DeleteSupport, Deletion, OCI_MANIFEST, RegistryError};
use tagwarden_testbed::{
    HttpResponse, OciLayout, Registry, RegistryOptions, Server, handler, real_registry_available,
};

use crate::client_for;

fn at(host: &str, repo_and_ref: &str) -> Reference {
    Reference::parse(&format!("{host}/{repo_and_ref}")).unwrap()
}

#[tokio::test]
async fn delete_by_digest_takes_the_tag_and_leaves_the_rest() {
    if !real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let host = registry.host();
    let bad = OciLayout::image("write-bad");
    let good = OciLayout::image("write-good");
    bad.push(&format!("{host}/team/tool:latest"), None);
    good.push(&format!("{host}/team/tool:stable"), None);
    let client = client_for(&[&host]);
    let repo = at(&host, "team/tool");
    assert_eq!(
        client.delete_support(&repo, false).await.unwrap(),
        DeleteSupport::Accepted
    );

    // A tag is never deleted as such: only a digest whose bytes were checked.
    let by_tag = client.delete_manifest(&at(&host, "team/tool:latest")).await;
    assert!(
        matches!(by_tag, Err(RegistryError::InvalidInput(_))),
        "{by_tag:?}"
    );

    let target = at(&host, &format!("team/tool@{}", bad.digest));
    assert_eq!(
        client.delete_manifest(&target).await.unwrap(),
        Deletion::Deleted
    );
    assert!(registry.head_digest("team/tool", &bad.digest).is_none());
    assert!(registry.head_digest("team/tool", "latest").is_none());
    assert_eq!(
        registry.head_digest("team/tool", "stable").map(|d| d.0),
        Some(good.digest.clone())
    );
    // Idempotent: a second delete (a fresh client, nothing cached) finds it gone.
    let again = client_for(&[&host]).delete_manifest(&target).await.unwrap();
    assert_eq!(again, Deletion::AlreadyGone);

    // Putting the bytes back under the tag restores it; bytes that do not hash are refused.
    let put = client
        .put_manifest(
            &at(&host, "team/tool:latest"),
            &Digest::parse(&good.digest).unwrap(),
            OCI_MANIFEST,
            &good.bytes,
        )
        .await
        .unwrap();
    assert_eq!(put.to_string(), good.digest);
    assert_eq!(
        registry.head_digest("team/tool", "latest").map(|d| d.0),
        Some(good.digest.clone())
    );
    let lie = client
        .put_manifest(
            &at(&host, "team/tool:latest"),
            &Digest::parse(&bad.digest).unwrap(),
            OCI_MANIFEST,
            &good.bytes,
        )
        .await;
    assert!(
        matches!(lie, Err(RegistryError::DigestMismatch { .. })),
        "{lie:?}"
    );
}

#[tokio::test]
async fn a_pull_through_cache_refuses_deletes_and_is_recognised() {
    if !real_registry_available() {
        return;
    }
    let upstream = Registry::start(RegistryOptions::default());
    let image = OciLayout::image("write-cached");
    image.push(&format!("{}/team/tool:latest", upstream.host()), None);
    let cache = Registry::start(RegistryOptions {
        proxy_of: Some(format!("http://{}", upstream.host())),
        ..RegistryOptions::default()
    });
    let host = cache.host();
    let client = client_for(&[&host]);
    // Pulled through once, so the cache holds it.
    client
        .fetch_manifest(&at(&host, "team/tool:latest"))
        .await
        .unwrap();
    let repo = at(&host, "team/tool");
    assert_eq!(
        client.delete_support(&repo, false).await.unwrap(),
        DeleteSupport::Refused { read_only: None }
    );
    assert_eq!(
        client.delete_support(&repo, true).await.unwrap(),
        DeleteSupport::Refused {
            read_only: Some(true)
        }
    );
    let refused = client
        .delete_manifest(&at(&host, &format!("team/tool@{}", image.digest)))
        .await;
    let Err(RegistryError::WriteRefused { status, code, .. }) = &refused else {
        panic!("expected WriteRefused, got {refused:?}");
    };
    assert_eq!((*status, code.as_deref()), (405, Some("UNSUPPORTED")));
    assert!(cache.head_digest("team/tool", &image.digest).is_some());
}

#[tokio::test]
async fn a_registry_that_names_a_digest_it_does_not_serve_cannot_steer_a_delete() {
    // Answers every manifest GET with bytes that hash to something else, and would accept any
    // DELETE: the client must refuse before sending one.
    let deletes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = deletes.clone();
    let server = Server::start(handler(move |r| {
        if r.method == "DELETE" {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return HttpResponse::new(202);
        }
        HttpResponse::new(200)
            .with_header("Content-Type", OCI_MANIFEST)
            .with_body(
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
            )
    }));
    let host = server.host();
    let client = client_for(&[&host]);
    let digest = format!("sha256:{}", "d".repeat(64));
    let result = client
        .delete_manifest(&at(&host, &format!("team/tool@{digest}")))
        .await;
    assert!(
        matches!(result, Err(RegistryError::DigestMismatch { .. })),
        "{result:?}"
    );
    assert_eq!(deletes.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn harbor_is_recognised_and_its_api_deletes_a_checked_artifact() {
    // A fake Harbor: the real one cannot run here. It serves one manifest through the
    // distribution API, its version in systeminfo, and deletes artifacts through its REST API
    // only with Basic credentials, sent without a challenge (as Harbor's API expects).
    let manifest =
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;
    let digest = tagwarden_testbed::digest_of(manifest);
    let deleted = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = deleted.clone();
    let expected_auth = tagwarden_testbed::basic_auth_header("robot", "harbor-pw");
    let served = digest.clone();
    let server = Server::start(handler(move |r| {
        let path = r.path().to_string();
        if path == "/api/v2.0/systeminfo" {
            return HttpResponse::new(200)
                .with_header("Content-Type", "application/json")
                .with_body(r#"{"harbor_version":"v2.11.0-test","auth_mode":"db_auth"}"#);
        }
        if r.method == "DELETE" {
            let authorised = r
                .headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("authorization") && *v == expected_auth);
            if !authorised {
                return HttpResponse::new(401);
            }
            seen.lock().unwrap().push(r.target.clone());
            return HttpResponse::new(200);
        }
        if path == format!("/v2/proxy-cache/team/tool/manifests/{served}") {
            return HttpResponse::new(200)
                .with_header("Content-Type", OCI_MANIFEST)
                .with_body(&manifest[..]);
        }
        HttpResponse::new(404)
    }));
    let host = server.host();
    let credentials = tagwarden_registry::StaticCredentials::new().with(
        &host,
        tagwarden_registry::Credential::Basic {
            username: "robot".into(),
            password: tagwarden_registry::Secret::new("harbor-pw"),
        },
    );
    let client = tagwarden_registry::Client::with_credentials(
        crate::test_config(&[&host]),
        std::sync::Arc::new(credentials),
    )
    .unwrap();
    let harbor = client.harbor(&host).await.unwrap();
    assert_eq!(harbor.map(|h| h.version).as_deref(), Some("v2.11.0-test"));
    let target = at(&host, &format!("proxy-cache/team/tool@{digest}"));
    assert_eq!(
        client.harbor_delete_artifact(&target).await.unwrap(),
        Deletion::Deleted
    );
    assert_eq!(
        *deleted.lock().unwrap(),
        [format!(
            "/api/v2.0/projects/proxy-cache/repositories/team%252Ftool/artifacts/{}",
            digest.replace(':', "%3A")
        )]
    );
    // An artifact the registry does not serve is gone already: nothing is sent.
    let other = at(
        &host,
        &format!("proxy-cache/team/tool@sha256:{}", "e".repeat(64)),
    );
    assert_eq!(
        client.harbor_delete_artifact(&other).await.unwrap(),
        Deletion::AlreadyGone
    );
    assert_eq!(deleted.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_cncf_registry_is_not_harbor() {
    if !real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let client = client_for(&[&registry.host()]);
    assert_eq!(client.harbor(&registry.host()).await.unwrap(), None);
}
