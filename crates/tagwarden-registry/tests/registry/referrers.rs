//! Referrers and blobs: the referrers API where a registry has it (a fake: the CNCF registry
//! 2.8 in Debian has none), the tag-schema fallback and blob reads against the real one.

use std::sync::{Arc, Mutex};

use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::{Client, ClientConfig, OCI_INDEX, ReferrersSource, RegistryError};
use tagwarden_testbed::{
    HttpResponse, OciLayout, Registry, RegistryOptions, Server, digest_of, handler,
    real_registry_available,
};

const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

fn client_for(host: &str) -> Client {
    Client::new(ClientConfig {
        insecure_registries: vec![host.to_string()],
        retries: 0,
        ..ClientConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn the_referrers_api_is_used_where_the_registry_has_it() {
    let subject = format!("sha256:{}", "c".repeat(64));
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
        {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":1,"artifactType":"{BUNDLE}"}},
        {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{}","size":1,"artifactType":"application/spdx+json"}}]}}"#,
        "a".repeat(64),
        "b".repeat(64)
    );
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = asked.clone();
    let server = Server::start(handler(move |r| {
        seen.lock().unwrap().push(r.target.clone());
        if r.target.starts_with("/v2/test/x/referrers/") {
            HttpResponse::new(200)
                .with_header("Content-Type", OCI_INDEX)
                .with_body(index.clone())
        } else {
            HttpResponse::new(404)
        }
    }));
    let client = client_for(&server.host());
    let repo = Reference::parse(&format!("{}/test/x", server.host())).unwrap();
    let subject = Digest::parse(&subject).unwrap();
    let found = client
        .referrers(&repo, &subject, Some(BUNDLE))
        .await
        .unwrap();
    assert_eq!(found.source, ReferrersSource::Api);
    assert_eq!(found.descriptors.len(), 1);
    assert_eq!(found.descriptors[0].artifact_type.as_deref(), Some(BUNDLE));
    let targets = asked.lock().unwrap().clone();
    assert_eq!(targets.len(), 1, "{targets:?}");
    assert!(
        targets[0].ends_with("?artifactType=application%2Fvnd.dev.sigstore.bundle.v0.3%2Bjson"),
        "{targets:?}"
    );
}

#[tokio::test]
async fn a_blob_that_is_not_its_digest_is_refused() {
    let server = Server::start(handler(|_| HttpResponse::new(200).with_body("other")));
    let client = client_for(&server.host());
    let repo = Reference::parse(&format!("{}/test/x", server.host())).unwrap();
    let asked = Digest::parse(&digest_of(b"wanted")).unwrap();
    let result = client.fetch_blob(&repo, &asked, 1024).await;
    assert!(
        matches!(result, Err(RegistryError::DigestMismatch { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn without_the_api_the_tag_schema_is_read_and_blobs_are_verified() {
    if !real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let host = registry.host();
    let image = OciLayout::image("referred");
    image.push(&format!("{host}/test/r:v1"), None);
    let client = client_for(&host);
    let repo = Reference::parse(&format!("{host}/test/r")).unwrap();
    let subject = Digest::parse(&image.digest).unwrap();
    // Nothing refers to it yet: an empty list, from the fallback.
    let found = client.referrers(&repo, &subject, None).await.unwrap();
    assert_eq!(found.source, ReferrersSource::TagSchema);
    assert!(found.descriptors.is_empty());
    // A tag-schema index naming the image's own manifest as a referrer.
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":{},"artifactType":"{BUNDLE}"}}]}}"#,
        image.digest,
        image.bytes.len()
    );
    let tag = image.digest.replace(':', "-");
    registry.put_manifest("test/r", &tag, OCI_INDEX, index.as_bytes());
    let found = client
        .referrers(&repo, &subject, Some(BUNDLE))
        .await
        .unwrap();
    assert_eq!(found.source, ReferrersSource::TagSchema);
    assert_eq!(found.descriptors.len(), 1);
    assert_eq!(found.descriptors[0].digest, subject);
    // The image's config blob reads back verified; a blob it does not have is not found.
    let manifest: serde_json::Value = serde_json::from_slice(
        &client
            .fetch_manifest(&repo.with_digest(subject.clone()))
            .await
            .unwrap()
            .bytes,
    )
    .unwrap();
    let config = Digest::parse(manifest["config"]["digest"].as_str().unwrap()).unwrap();
    let bytes = client.fetch_blob(&repo, &config, 1 << 20).await.unwrap();
    assert_eq!(digest_of(&bytes), config.to_string());
    let missing = Digest::parse(&digest_of(b"nothing")).unwrap();
    let result = client.fetch_blob(&repo, &missing, 1 << 20).await;
    assert!(
        matches!(result, Err(RegistryError::NotFound { .. })),
        "{result:?}"
    );
    // Over the size limit: refused before it is all read.
    let result = client.fetch_blob(&repo, &config, 4).await;
    assert!(
        matches!(
            result,
            Err(RegistryError::ResponseTooLarge { limit: 4, .. })
        ),
        "{result:?}"
    );
}
