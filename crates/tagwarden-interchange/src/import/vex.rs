//! What OpenVEX and CSAF VEX share: a product named by a `pkg:oci` purl and a status about it.

use tagwarden_advisory::DigestKind;

use super::draft::{Doc, Draft, Prov, clip};
use super::json::Node;
use super::purl;

/// A VEX status, as far as tagwarden reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// `affected`, `known_affected`, `first_affected`, `last_affected`.
    Affected,
    /// `not_affected`, `fixed`, `known_not_affected`, `first_fixed`, `recommended`.
    NotAffected,
    /// `under_investigation`: nothing to import.
    UnderInvestigation,
}

/// Imports one product: an affected image digest is malicious, a not-affected one known good
/// (`confirmed` only when the document is the vendor's).
pub(crate) fn product(
    draft: &mut Draft,
    doc: &Doc<'_>,
    at: &Node,
    purl_text: &str,
    status: Status,
    confirmed: bool,
    prov: Prov,
) {
    if status == Status::UnderInvestigation {
        draft.unmapped(
            doc,
            at,
            format!("{} is under investigation", clip(purl_text)),
        );
        return;
    }
    let p = match purl::parse_oci(purl_text) {
        Ok(p) => p,
        Err(m) => {
            draft.unmapped(doc, at, m);
            return;
        }
    };
    let Some(digest) = &p.version else {
        draft.unmapped(
            doc,
            at,
            format!(
                "{} names no digest (a tag alone has no time window to make an exposure)",
                clip(purl_text)
            ),
        );
        return;
    };
    let repositories = vec![p.repository()];
    let tags: Vec<String> = p.tag.iter().cloned().collect();
    // An `arch` qualifier names one platform's manifest; its OS only when the purl says it.
    let (kind, platform) = match (&p.arch, &p.os) {
        (Some(arch), Some(os)) => (DigestKind::Manifest, Some(format!("{os}/{arch}"))),
        (Some(_), None) => (DigestKind::Manifest, None),
        _ => (DigestKind::Index, None),
    };
    match status {
        Status::Affected => {
            let prov = if kind == DigestKind::Index && p.arch.is_none() {
                prov.with_note(
                    "The purl names no platform: index assumed (matching does not depend on it).",
                )
            } else {
                prov
            };
            draft.malicious_digest(doc, at, digest, kind, platform, &repositories, &tags, prov);
        }
        _ => draft.known_good_digest(
            doc,
            at,
            digest,
            platform,
            &repositories,
            &tags,
            confirmed,
            prov,
        ),
    }
}
