//! OpenVEX documents whose products are images named as `pkg:oci` purls.
//!
//! Mapping, per statement and product (`@id` or `identifiers.purl`):
//!
//! - `affected` → a malicious image digest (the purl's version), repository from
//!   `repository_url` (else the purl name), tag from `tag`; `action_statement` as the note.
//! - `not_affected`, `fixed` → a known-good digest, `confirmed = false`: OpenVEX does not say
//!   whether its author is the vendor, so the vendor confirmation is never assumed (said in the
//!   note, with the justification).
//! - `under_investigation` → kept out of matching (`[[not_indicators]]`, printed).
//! - `vulnerability.name` and `aliases` → aliases.
//!
//! Provenance: the document is the source (`author`, `@id` as URL when it is one); confidence `S`.
//! Unmapped (with position): products that are not `pkg:oci` purls or name no digest,
//! subcomponents, unknown statuses, invalid digests.

use tagwarden_advisory::Confidence;

use super::draft::{Draft, clip, date, one_line};
use super::json::Node;
use super::polarity::Polarity;
use super::vex::product;
use super::{Format, ReadResult, Src};

/// Most statements and products read from one document.
const MAX_ITEMS: usize = 10_000;

pub(crate) fn read(root: &Node, src: Src<'_>, draft: &mut Draft) -> ReadResult {
    let Some(statements) = root.get("statements") else {
        return Err((
            root.at,
            "not an OpenVEX document: no \"statements\"".to_string(),
        ));
    };
    let id = root.str_of("@id");
    let author = root.str_of("author");
    let doc = draft.document(src, Format::OpenVex, id, author, id, Confidence::Secondary);
    let published = root.str_of("timestamp").and_then(date);
    draft.dates(published, root.str_of("last_updated").and_then(date));
    let mut names = Vec::new();
    for s in statements.items().iter().take(MAX_ITEMS) {
        let vulnerability = s.get("vulnerability");
        // v0.0.x wrote the vulnerability as a plain string.
        let name = vulnerability
            .and_then(|v| v.str_of("name").or(v.as_str()))
            .unwrap_or_default();
        if !name.is_empty() {
            draft.alias(name);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        if let Some(v) = vulnerability {
            for a in v.strings_of("aliases") {
                draft.alias(a);
            }
        }
        let status_text = s.str_of("status").unwrap_or_default();
        let why = s
            .str_of("justification")
            .map(|j| format!(" ({j})"))
            .unwrap_or_default();
        let polarity = match status_text {
            "affected" => Polarity::Malicious,
            "not_affected" | "fixed" => Polarity::Benign(format!(
                "OpenVEX {status_text}{why} for {name}; not vendor-confirmed: the document does not say its author is the vendor"
            )),
            "under_investigation" => {
                Polarity::NotIndicator(format!("OpenVEX under_investigation for {name}"))
            }
            other => {
                draft.unmapped(&doc, s, format!("unknown OpenVEX status {:?}", clip(other)));
                continue;
            }
        };
        let mut prov = doc.prov.clone();
        if let Some(a) = s
            .str_of("action_statement")
            .or(s.str_of("impact_statement"))
        {
            prov = prov.with_note(a.trim().to_string());
        }
        for p in s.items_of("products").iter().take(MAX_ITEMS) {
            let purl = p
                .as_str()
                .or(p.str_of("@id"))
                .or(p.get("identifiers").and_then(|i| i.str_of("purl")));
            match purl {
                Some(purl) => product(draft, &doc, p, purl, &polarity, false, prov.clone()),
                None => draft.unmapped(&doc, p, "product without a purl"),
            }
            if let Some(sub) = p.get("subcomponents") {
                draft.unmapped(&doc, sub, "subcomponents are not imported");
            }
        }
    }
    draft.titles.push(one_line(&format!(
        "VEX statements on images ({})",
        if names.is_empty() {
            "no vulnerability named".to_string()
        } else {
            names.join(", ")
        }
    )));
    draft.summaries.push(clip(&format!(
        "Imported from the OpenVEX document {} by {}.",
        id.unwrap_or("without @id"),
        author.unwrap_or("an unnamed author")
    )));
    Ok(())
}
