//! What OpenVEX and CSAF VEX share: a product named by a `pkg:oci` purl and what a status says
//! about it.

use tagwarden_advisory::DigestKind;

use super::draft::{Doc, Draft, Prov, clip};
use super::json::Node;
use super::polarity::Polarity;
use super::purl;

/// Imports one product judged by its status (see [`super::polarity`]): an affected image digest
/// is malicious, a not-affected one known good (`confirmed` only when the document is the
/// vendor's), one under investigation kept out of matching.
pub(crate) fn product(
    draft: &mut Draft,
    doc: &Doc<'_>,
    at: &Node,
    purl_text: &str,
    polarity: &Polarity,
    confirmed: bool,
    prov: Prov,
) {
    let p = match purl::parse_oci(purl_text) {
        Ok(p) => p,
        Err(m) => {
            draft.unmapped(doc, at, m);
            return;
        }
    };
    let Some(digest) = &p.version else {
        let why = match polarity.reason() {
            Some(r) => format!("{r}; nothing to keep"),
            None => "a tag alone has no time window to make an exposure".to_string(),
        };
        draft.unmapped(
            doc,
            at,
            format!("{} names no digest ({why})", clip(purl_text)),
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
    let prov = if polarity.is_malicious() && kind == DigestKind::Index {
        prov.with_note(
            "The purl names no platform: index assumed (matching does not depend on it).",
        )
    } else {
        prov
    };
    draft.judged_digest(
        doc,
        at,
        digest,
        polarity,
        kind,
        platform,
        &repositories,
        &tags,
        confirmed,
        prov,
    );
}
