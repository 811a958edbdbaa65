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
//! Built on ring and webpki (which rustls already brings in) rather than sigstore-rs: see the
//! README's "Signatures" section for why.

mod bundle;
mod certificate;
mod check;
mod der;
mod fetch;
mod keys;
mod payload;
pub mod policy;
mod tlog;
mod trust_root;
mod verify;

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
        let _ = crate::fetch::from_bundle("fuzz", bytes);
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
