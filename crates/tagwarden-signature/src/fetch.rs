//! Finding an image's signatures in its registry, the ways cosign stores them. This is the only
//! module that talks to the registry; it uses `Client::fetch_manifest`, `Client::fetch_blob`
//! and `Client::referrers` of `tagwarden-registry`.
//!
//! - The `sha256-<hex>.sig` tag: an image manifest whose layers are simple-signing payloads,
//!   with the signature, certificate, chain and Rekor bundle in each layer's annotations.
//! - OCI referrers (cosign v3): manifests of artifact type `application/vnd.dev.sigstore.bundle…`
//!   whose one layer is a Sigstore bundle; through the referrers API or its tag schema.

use std::collections::BTreeMap;

use serde::Deserialize;
use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::{Client, RegistryError};

use crate::bundle;
use crate::keys::{b64, pem_certificates};
use crate::tlog;
use crate::verify::{Candidate, Statement};

const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const SIGNATURE: &str = "dev.cosignproject.cosign/signature";
const CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
const REKOR_BUNDLE: &str = "dev.sigstore.cosign/bundle";
const BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// A payload is a few hundred bytes; anything much bigger is not a signature.
const PAYLOAD_MAX: usize = 256 * 1024;
/// Signatures read per image: cosign appends one layer per signing, so a busy tag could grow.
const CANDIDATES_MAX: usize = 64;

#[derive(Deserialize)]
struct ImageManifest {
    #[serde(default)]
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Layer {
    #[serde(default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// What was found: signatures that could be read, and those that could not (with why).
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) unreadable: Vec<String>,
}

/// Every signature stored for `digest` in the image's repository. A registry error (other
/// than "nothing there") is returned as such: a signature that could not be looked for is not
/// a missing one.
pub(crate) async fn signatures(
    client: &Client,
    image: &Reference,
    digest: &Digest,
) -> Result<Found, RegistryError> {
    let mut found = Found::default();
    sig_tag(client, image, digest, &mut found).await?;
    referrers(client, image, digest, &mut found).await?;
    Ok(found)
}

async fn sig_tag(
    client: &Client,
    image: &Reference,
    digest: &Digest,
    found: &mut Found,
) -> Result<(), RegistryError> {
    let tag = format!("{}-{}.sig", digest.algorithm().as_str(), digest.hex());
    let tagged = Reference::from_parts(image.domain(), image.path(), Some(&tag), None)
        .map_err(|e| RegistryError::InvalidInput(format!("{tag}: {e}")))?;
    let manifest = match client.fetch_manifest(&tagged).await {
        Ok(m) => m,
        Err(RegistryError::NotFound { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    let parsed: ImageManifest = match serde_json::from_slice(&manifest.bytes) {
        Ok(m) => m,
        Err(e) => {
            found
                .unreadable
                .push(format!("tag {tag}: not an image manifest: {e}"));
            return Ok(());
        }
    };
    for (i, layer) in parsed.layers.iter().enumerate().take(CANDIDATES_MAX) {
        let origin = format!("tag {tag}, layer {i}");
        if layer.media_type != SIMPLE_SIGNING {
            continue;
        }
        let Some(payload) = blob(client, image, layer, PAYLOAD_MAX, &origin, found).await? else {
            continue;
        };
        match from_layer(&origin, layer, payload) {
            Ok(c) => found.candidates.push(c),
            Err(e) => found.unreadable.push(format!("{origin}: {e}")),
        }
    }
    Ok(())
}

/// A layer's blob; `None` (with the reason noted) when its digest is invalid or it is gone.
async fn blob(
    client: &Client,
    image: &Reference,
    layer: &Layer,
    limit: usize,
    origin: &str,
    found: &mut Found,
) -> Result<Option<Vec<u8>>, RegistryError> {
    let Ok(digest) = Digest::parse(&layer.digest) else {
        found
            .unreadable
            .push(format!("{origin}: invalid digest {:?}", layer.digest));
        return Ok(None);
    };
    match client.fetch_blob(image, &digest, limit).await {
        Ok(b) => Ok(Some(b)),
        Err(RegistryError::NotFound { .. }) => {
            found
                .unreadable
                .push(format!("{origin}: the blob {digest} is missing"));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// A `.sig` layer's payload and annotations as a candidate.
fn from_layer(origin: &str, layer: &Layer, payload: Vec<u8>) -> Result<Candidate, String> {
    let signature = layer
        .annotations
        .get(SIGNATURE)
        .ok_or("no signature annotation")
        .and_then(|s| b64(s).map_err(|_| "the signature annotation is not base64"))?;
    let certificate = match layer.annotations.get(CERTIFICATE).filter(|c| !c.is_empty()) {
        Some(pem) => Some(
            pem_certificates(pem.as_bytes())
                .into_iter()
                .next()
                .ok_or("the certificate annotation holds no PEM certificate")?,
        ),
        None => None,
    };
    let tlog = match layer
        .annotations
        .get(REKOR_BUNDLE)
        .filter(|b| !b.is_empty())
    {
        Some(text) => vec![tlog::from_cosign_annotation(text)?],
        None => Vec::new(),
    };
    Ok(Candidate {
        origin: origin.to_string(),
        statement: Statement::SimpleSigning(payload),
        signature,
        certificate,
        tlog,
        require_proof: false,
    })
}

async fn referrers(
    client: &Client,
    image: &Reference,
    digest: &Digest,
    found: &mut Found,
) -> Result<(), RegistryError> {
    let list = client.referrers(image, digest, None).await?;
    let bundles = list
        .descriptors
        .iter()
        .filter(|d| {
            d.artifact_type
                .as_deref()
                .is_some_and(|t| t.starts_with(BUNDLE_PREFIX))
        })
        .take(CANDIDATES_MAX);
    for d in bundles {
        let origin = format!("referrer {}", d.digest);
        let manifest_ref = image.with_digest(d.digest.clone());
        let manifest = match client.fetch_manifest(&manifest_ref).await {
            Ok(m) => m,
            Err(RegistryError::NotFound { .. }) => {
                found
                    .unreadable
                    .push(format!("{origin}: the manifest is missing"));
                continue;
            }
            Err(e) => return Err(e),
        };
        let layer = serde_json::from_slice::<ImageManifest>(&manifest.bytes)
            .ok()
            .and_then(|m| {
                m.layers
                    .into_iter()
                    .find(|l| l.media_type.starts_with(BUNDLE_PREFIX))
            });
        let Some(layer) = layer else {
            found
                .unreadable
                .push(format!("{origin}: no Sigstore bundle layer"));
            continue;
        };
        let Some(bytes) = blob(client, image, &layer, bundle::MAX_BUNDLE, &origin, found).await?
        else {
            continue;
        };
        match Candidate::from_bundle(&origin, &bytes) {
            Ok(Some(c)) => found.candidates.push(c),
            Ok(None) => {}
            Err(e) => found.unreadable.push(format!("{origin}: {e}")),
        }
    }
    Ok(())
}
