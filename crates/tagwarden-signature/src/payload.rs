//! What a signature says it signs: cosign's simple-signing payload (the `.sig` tag) or an
//! in-toto statement in a DSSE envelope (cosign v3 bundles). Pure parsing, no I/O.

use serde::Deserialize;

/// The in-toto predicate type cosign v3 gives image signatures; other predicates are
/// attestations (SBOMs, provenance), which are not signatures of the image.
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// What a payload claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Claims {
    /// The manifest digests signed (`sha256:<hex>`).
    pub(crate) digests: Vec<String>,
    /// The repository the signer named (`critical.identity.docker-reference`, or an in-toto
    /// subject's name), when any.
    pub(crate) reference: Option<String>,
}

/// Reads a simple-signing payload (`critical.image.docker-manifest-digest`).
pub(crate) fn simple_signing(bytes: &[u8]) -> Result<Claims, String> {
    #[derive(Deserialize)]
    struct Payload {
        critical: Critical,
    }
    #[derive(Deserialize)]
    struct Critical {
        #[serde(default)]
        identity: Option<Identity>,
        image: Image,
        #[serde(rename = "type")]
        kind: String,
    }
    #[derive(Deserialize)]
    struct Identity {
        #[serde(rename = "docker-reference")]
        docker_reference: Option<String>,
    }
    #[derive(Deserialize)]
    struct Image {
        #[serde(rename = "docker-manifest-digest")]
        digest: String,
    }
    let p: Payload = serde_json::from_slice(bytes)
        .map_err(|e| format!("the signed payload is not a cosign simple-signing payload: {e}"))?;
    let kind = p.critical.kind.as_str();
    if !kind.eq_ignore_ascii_case("cosign container image signature")
        && kind != COSIGN_SIGN_PREDICATE
    {
        return Err(format!(
            "the signed payload is of type {kind:?}, not a container image signature"
        ));
    }
    Ok(Claims {
        digests: vec![p.critical.image.digest],
        reference: p
            .critical
            .identity
            .and_then(|i| i.docker_reference)
            .filter(|r| !r.is_empty()),
    })
}

/// Reads an in-toto statement; only cosign's image-signature predicate counts as a signature.
pub(crate) fn in_toto(bytes: &[u8]) -> Result<Claims, String> {
    #[derive(Deserialize)]
    struct Statement {
        #[serde(rename = "_type")]
        kind: String,
        subject: Vec<Subject>,
        #[serde(rename = "predicateType")]
        predicate_type: String,
    }
    #[derive(Deserialize)]
    struct Subject {
        #[serde(default)]
        name: Option<String>,
        digest: std::collections::BTreeMap<String, String>,
    }
    let s: Statement = serde_json::from_slice(bytes)
        .map_err(|e| format!("the signed statement is not an in-toto statement: {e}"))?;
    if !s.kind.starts_with("https://in-toto.io/Statement/") {
        return Err(format!(
            "the signed statement has type {:?}, not in-toto",
            s.kind
        ));
    }
    if s.predicate_type != COSIGN_SIGN_PREDICATE {
        return Err(format!(
            "an attestation ({}), not an image signature",
            s.predicate_type
        ));
    }
    let digests = s
        .subject
        .iter()
        .filter_map(|sub| {
            sub.digest
                .get("sha256")
                .map(|h| format!("sha256:{}", h.to_ascii_lowercase()))
        })
        .collect();
    let reference = s
        .subject
        .iter()
        .find_map(|sub| sub.name.clone())
        .filter(|n| !n.is_empty());
    Ok(Claims { digests, reference })
}

/// DSSE's pre-authentication encoding: what a DSSE signature covers.
pub(crate) fn dsse_pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_signing_names_the_digest_and_reference() {
        let p = br#"{"critical":{"identity":{"docker-reference":"ghcr.io/acme/app"},"image":{"docker-manifest-digest":"sha256:ab"},"type":"cosign container image signature"},"optional":null}"#;
        let c = simple_signing(p).unwrap();
        assert_eq!(c.digests, vec!["sha256:ab"]);
        assert_eq!(c.reference.as_deref(), Some("ghcr.io/acme/app"));
        assert!(
            simple_signing(
                br#"{"critical":{"image":{"docker-manifest-digest":"x"},"type":"other"}}"#
            )
            .is_err()
        );
        assert!(simple_signing(b"[]").is_err());
    }

    #[test]
    fn in_toto_signatures_and_attestations_differ() {
        let s = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"AB"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}"#;
        assert_eq!(in_toto(s).unwrap().digests, vec!["sha256:ab"]);
        let a = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"ab"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}"#;
        assert!(in_toto(a).unwrap_err().contains("attestation"));
    }

    #[test]
    fn pae() {
        assert_eq!(dsse_pae("t", b"ab"), b"DSSEv1 1 t 2 ab");
    }
}
