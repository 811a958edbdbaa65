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
