//! cosign-style signature verification for OCI images, offline except for the registry.
//!
//! - [`policy`]: the `[signatures]` section of `tagwarden.toml`: for image patterns, which
//!   cosign keys or keyless identities (certificate SAN and OIDC issuer) must have signed, in
//!   `enforce` or `warn` mode, against a trust root ([`TrustRoot`], Sigstore's
//!   `trusted_root.json`; the public-good one is built in).
//! - Finding signatures (`fetch`): the `sha256-<hex>.sig` tag and Sigstore bundles attached as
//!   OCI referrers, through `tagwarden-registry`.
//! - Verifying them (`verify`), as the Sigstore client specification asks: the payload names
//!   this digest and repository, the signature verifies, the Rekor entry's signed timestamp and
//!   inclusion proof verify against the log's key and record this signature, the certificate
//!   chains to a Fulcio CA at the log's time with a valid SCT, and its identity and issuer are
//!   the policy's.
//! - [`check`]: "is this digest of this repository acceptable under the policy?", with a
//!   reason: what `verify --signatures`, `pin` and `watch` ask.
//!
//! Without the default `registry` feature, only the parsers and the verifier are built (no
//! network stack): what the fuzz targets use.
//!
//! Built on ring and webpki (which rustls already brings in) rather than sigstore-rs: see the
//! README's "Signatures" section for why.

// Without `registry` nothing calls the verifier; it is still built so the parsers are the same.
#![cfg_attr(not(feature = "registry"), allow(dead_code))]

mod bundle;
mod certificate;
#[cfg(feature = "registry")]
mod check;
mod der;
#[cfg(feature = "registry")]
mod fetch;
mod keys;
mod payload;
pub mod policy;
mod tlog;
mod trust_root;
mod verify;

#[cfg(feature = "registry")]
pub use check::{Decision, Verdict, check, check_at, inspect};
pub use keys::{KeyKind, PublicKey};
pub use payload::COSIGN_SIGN_PREDICATE;
pub use policy::{Identity, Mode, NamedKey, Policy, PolicyError};
pub use trust_root::{CertificateAuthority, LogKey, PUBLIC_GOOD, TrustRoot, Validity};
pub use verify::{Signer, Verified};

/// Parsers exposed for the fuzz targets only; not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    /// Parses a Sigstore bundle and turns it into a signature candidate.
    pub fn bundle(bytes: &[u8]) {
        let _ = crate::verify::Candidate::from_bundle("fuzz", bytes);
    }

    /// Parses a simple-signing payload, an in-toto statement and a cosign Rekor annotation.
    pub fn payload(bytes: &[u8]) {
        let _ = crate::payload::simple_signing(bytes);
        let _ = crate::payload::in_toto(bytes);
        if let Ok(text) = std::str::from_utf8(bytes) {
            let _ = crate::tlog::from_cosign_annotation(text);
            let _ = crate::trust_root::TrustRoot::from_json(text);
        }
    }

    /// Parses a certificate as the verifier does.
    pub fn certificate(bytes: &[u8]) {
        if let Ok(c) = crate::certificate::Certificate::parse(bytes) {
            let _ = c.sans();
            let _ = c.oidc_issuer();
            let _ = c.public_key();
        }
        let _ = crate::keys::PublicKey::from_pem_or_der(bytes);
    }
}

#[cfg(test)]
mod tests {
    /// The fuzz targets' parsers on mutations of real-shaped inputs, so that CI runs a little
    /// of what `scripts/fuzz.sh` runs at length: nothing may panic.
    #[test]
    fn parsers_survive_mutated_inputs() {
        let bundle = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"MIIB"},"tlogEntries":[{"logIndex":"1","logId":{"keyId":"AAAA"},"kindVersion":{"kind":"dsse","version":"0.0.1"},"integratedTime":"1767225600","inclusionPromise":{"signedEntryTimestamp":"AAAA"},"inclusionProof":{"logIndex":"1","rootHash":"AAAA","treeSize":"3","hashes":["AAAA"],"checkpoint":{"envelope":"a\n3\nAAAA\n\n\u2014 a AAAAAAAA\n"}},"canonicalizedBody":"e30="}]},"dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AAAA"}]}}"#;
        let payload = br#"{"critical":{"identity":{"docker-reference":"a/b"},"image":{"docker-manifest-digest":"sha256:ab"},"type":"cosign container image signature"},"optional":null}"#;
        let annotation = br#"{"SignedEntryTimestamp":"AAAA","Payload":{"body":"e30=","integratedTime":1,"logIndex":1,"logID":"ab"}}"#;
        let root = crate::trust_root::PUBLIC_GOOD.as_bytes();
        // A real certificate: the public-good Fulcio intermediate.
        let cert = crate::TrustRoot::public_good().certificate_authorities[1].chain[0].clone();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for seed in [&bundle[..], payload, annotation, &root[..4096], &cert] {
            for _ in 0..400 {
                let mut data = seed.to_vec();
                for _ in 0..1 + next() % 4 {
                    if data.is_empty() {
                        break;
                    }
                    let i = (next() as usize) % data.len();
                    match next() % 3 {
                        0 => data[i] = next() as u8,
                        1 => data.truncate(i),
                        _ => data.insert(i, next() as u8),
                    }
                }
                super::fuzzing::bundle(&data);
                super::fuzzing::payload(&data);
                super::fuzzing::certificate(&data);
            }
        }
    }
}
