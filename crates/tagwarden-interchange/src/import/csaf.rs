//! CSAF 2.0 VEX documents whose products are images named as `pkg:oci` purls
//! (`product_identification_helper.purl`, or `purls` in CSAF 2.1).
//!
//! Mapping, per vulnerability's `product_status`:
//!
//! - `known_affected`, `first_affected`, `last_affected` → malicious image digests (repository
//!   from `repository_url`, tag from `tag`); remediations and threats naming the product are
//!   its note. When the vulnerability names its weakness (`cwe`, 2.1 `cwes`) and none is
//!   malicious code (CWE-506 and kin), the image is vulnerable, not compromised: kept out of
//!   matching (`[[not_indicators]]`, printed).
//! - `known_not_affected`, `fixed`, `first_fixed`, `recommended` → known-good digests, confirmed
//!   only when `publisher.category` is `vendor`.
//! - `under_investigation` → kept out of matching.
//! - `cve` and `ids[].text` → aliases.
//!
//! Provenance: the document is the source (`publisher.name`, the `self` reference as URL, other
//! references as sources); confidence `P` when the publisher is the vendor, else `S`.
//! Unmapped (with position): products without a `pkg:oci` purl or digest, unknown product ids.

use tagwarden_advisory::Confidence;

use super::draft::{Draft, clip, date, one_line};
use super::json::Node;
use super::polarity::{self, Polarity};
use super::vex::product;
use super::{Format, ReadResult, Src};

/// Most products, vulnerabilities and statuses read; branches deeper than this are not walked.
const MAX_ITEMS: usize = 10_000;
const MAX_BRANCH_DEPTH: usize = 16;

pub(crate) fn read(root: &Node, src: Src<'_>, draft: &mut Draft) -> ReadResult {
    let Some(document) = root.get("document").filter(|d| d.is_object()) else {
        return Err((
            root.at,
            "not a CSAF document: no \"document\" object".to_string(),
        ));
    };
    let publisher = document.get("publisher");
    let vendor = publisher.and_then(|p| p.str_of("category")) == Some("vendor");
    let tracking = document.get("tracking");
    let id = tracking.and_then(|t| t.str_of("id"));
    let self_url = document
        .items_of("references")
        .iter()
        .find(|r| r.str_of("category") == Some("self"))
        .and_then(|r| r.str_of("url"));
    let confidence = if vendor {
        Confidence::Primary
    } else {
        Confidence::Secondary
    };
    let mut doc = draft.document(
        src,
        Format::Csaf,
        id,
        publisher.and_then(|p| p.str_of("name")),
        self_url,
        confidence,
    );
    let refs: Vec<(&str, String)> = document
        .items_of("references")
        .iter()
        .filter(|r| r.str_of("category") != Some("self"))
        .filter_map(|r| {
            Some((
                r.str_of("url")?,
                r.str_of("summary").unwrap_or("reference").to_string(),
            ))
        })
        .collect();
    for rid in draft.references(refs) {
        if !doc.prov.sources.contains(&rid) {
            doc.prov.sources.push(rid);
        }
    }
    draft.dates(
        tracking
            .and_then(|t| t.str_of("initial_release_date"))
            .and_then(date),
        tracking
            .and_then(|t| t.str_of("current_release_date"))
            .and_then(date),
    );
    draft.titles.push(one_line(
        document.str_of("title").unwrap_or("CSAF VEX document"),
    ));

    // product_id → (purl, where it is named)
    let mut products: Vec<(String, Option<String>, &Node)> = Vec::new();
    if let Some(tree) = root.get("product_tree") {
        for p in tree.items_of("full_product_names") {
            add_product(p, &mut products);
        }
        for r in tree.items_of("relationships") {
            if let Some(p) = r.get("full_product_name") {
                add_product(p, &mut products);
            }
        }
        branches(tree.items_of("branches"), 0, &mut products);
    }

    let mut notes = Vec::new();
    for v in root.items_of("vulnerabilities").iter().take(MAX_ITEMS) {
        if let Some(cve) = v.str_of("cve") {
            draft.alias(cve);
        }
        for i in v.items_of("ids") {
            if let Some(t) = i.str_of("text") {
                draft.alias(t);
            }
        }
        for n in v.items_of("notes") {
            if let Some(t) = n.str_of("text") {
                notes.push(t.trim().to_string());
            }
        }
        // Remediations and threats that name a product are that product's note.
        let product_note = |pid: &str| -> Option<String> {
            let texts: Vec<&str> = v
                .items_of("remediations")
                .iter()
                .chain(v.items_of("threats"))
                .filter(|r| r.strings_of("product_ids").contains(&pid))
                .filter_map(|r| r.str_of("details"))
                .collect();
            (!texts.is_empty()).then(|| texts.join(" "))
        };
        let Some(status) = v.get("product_status") else {
            continue;
        };
        // CSAF 2.0 names one weakness (`cwe`), 2.1 a list (`cwes`).
        let record = v.str_of("cve").unwrap_or("the vulnerability");
        let cwes = v
            .get("cwe")
            .into_iter()
            .chain(v.items_of("cwes"))
            .filter_map(|c| c.str_of("id"));
        let affected = polarity::weaknesses(record, cwes);
        for (key, list) in status.members() {
            let polarity = match key.as_str() {
                "known_affected" | "first_affected" | "last_affected" => affected.clone(),
                "known_not_affected" | "fixed" | "first_fixed" | "recommended" => {
                    Polarity::Benign(format!(
                        "CSAF {key}; {}",
                        if vendor {
                            "published by the vendor"
                        } else {
                            "not vendor-confirmed: the publisher is not the vendor"
                        }
                    ))
                }
                "under_investigation" => {
                    Polarity::NotIndicator(format!("CSAF under_investigation for {record}"))
                }
                other => {
                    draft.unmapped(
                        &doc,
                        list,
                        format!("CSAF product status {:?} is not read", clip(other)),
                    );
                    continue;
                }
            };
            for pid_node in list.items().iter().take(MAX_ITEMS) {
                let Some(pid) = pid_node.as_str() else {
                    continue;
                };
                let Some((_, purl, _)) = products.iter().find(|(id, _, _)| id == pid) else {
                    draft.unmapped(
                        &doc,
                        pid_node,
                        format!("product {:?} is not in the product tree", clip(pid)),
                    );
                    continue;
                };
                let Some(purl) = purl else {
                    draft.unmapped(
                        &doc,
                        pid_node,
                        format!("product {:?} has no purl", clip(pid)),
                    );
                    continue;
                };
                let mut prov = doc.prov.clone();
                if let Some(n) = product_note(pid) {
                    prov = prov.with_note(n);
                }
                product(draft, &doc, pid_node, purl, &polarity, vendor, prov);
            }
        }
    }
    let mut summary = format!(
        "Imported from the CSAF VEX document {} by {}.",
        id.unwrap_or("without tracking id"),
        publisher
            .and_then(|p| p.str_of("name"))
            .unwrap_or("an unnamed publisher")
    );
    for n in notes {
        summary.push(' ');
        summary.push_str(&n);
    }
    draft.summaries.push(clip(&summary));
    Ok(())
}

fn add_product<'a>(p: &'a Node, out: &mut Vec<(String, Option<String>, &'a Node)>) {
    let Some(id) = p.str_of("product_id") else {
        return;
    };
    if out.len() >= MAX_ITEMS {
        return;
    }
    let helper = p.get("product_identification_helper");
    let purl = helper
        .and_then(|h| {
            h.str_of("purl")
                .or_else(|| h.strings_of("purls").first().copied())
        })
        .map(str::to_string);
    out.push((id.to_string(), purl, p));
}

fn branches<'a>(list: &'a [Node], depth: usize, out: &mut Vec<(String, Option<String>, &'a Node)>) {
    if depth > MAX_BRANCH_DEPTH {
        return;
    }
    for b in list {
        if let Some(p) = b.get("product") {
            add_product(p, out);
        }
        branches(b.items_of("branches"), depth + 1, out);
    }
}
