//! STIX 2.1 bundles.
//!
//! Mapping, per `indicator` with `pattern_type: stix` (patterns read by [`parse_pattern`]):
//!
//! | comparison | becomes |
//! |---|---|
//! | `file:hashes.'SHA-256' = '…'` on an image indicator (name, description, labels or `x_` properties say image/OCI/docker/digest/container/manifest, or `x_tagwarden_digest_kind` is set) | a malicious image digest, kind from `x_tagwarden_digest_kind` (else what the name, then the description, says: index, signature, manifest or a `linux/…` platform; else `index`, noted), platform from `x_tagwarden_platform` or a `linux/…`/`windows/…` platform the text names |
//! | `file:hashes.'SHA-256'` otherwise (with `MD5`/`SHA-1` of the same observation) | a file hash |
//! | `domain-name:value`, `url:value`, `ipv4-addr:value`, `ipv6-addr:value`, `network-traffic:dst_ref.value` | a network indicator |
//! | `network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'` (other headers) | a `user_agent` (`http_header`) indicator |
//!
//! `=` and `IN (…)` are read; comparisons joined by `OR` each become an indicator, and so do
//! comparisons joined by `AND` (broader than the pattern: reported). An `x_tagwarden` property
//! `{"repositories": […], "tags": […], "window": {"start", "end"}}` is an image exposure (window
//! from it, else from `valid_from`/`valid_until`) and gives digests their repositories and tags.
//!
//! What an indicator is comes first (see [`super::polarity`]): `indicator_types` (STIX 2.0
//! `labels`) `benign` make an image digest known good (`confirmed = false`) and any other value
//! a `[[not_indicators]]` entry; `benign` together with a malicious type, or an `opinion` of the
//! bundle that disagrees, keeps the value out of matching; only `anomalous-activity` or
//! `anonymization` makes a network indicator weak and keeps a digest or file hash out. The
//! `x_tagwarden` tags of an indicator that is not malicious are no exposure.
//!
//! Dates: `published` is the earliest `published` of a report, else the earliest `created` of
//! an indicator or report; `updated` the latest `modified` of those. Markings, identities and
//! extension definitions are dated when they were defined, not when the incident was reported.
//!
//! Provenance: the bundle is the source (its creator identity as author), an indicator's
//! `external_references` with a URL are further sources. Confidence `S`; a STIX `confidence`
//! below 30 (STIX "low") makes network indicators weak, and any STIX confidence is kept as a note.
//!
//! tagwarden's own bundles (indicators with `x_tagwarden_kind`, documented in
//! [`crate::export`]) are read from their custom properties, which are authoritative: the kind
//! decides what an indicator is (a `file_hash` is never an image digest, `x-oci-image` and
//! `x-github-action` patterns are not parsed), `x_tagwarden` gives repositories, tags, windows,
//! disputed windows, tag rules and commits, `x_tagwarden_weak` the weak flag, and
//! `x_tagwarden_confidence`/`_sources`/`_disputed`/`_note` the provenance (the sources resolved
//! through the report's `external_references`; the bundle stays the first source). The report's
//! `x_tagwarden_other_indicators` and aliases are read; the `extension-definition` is recognised.
//!
//! Unmapped (with position): objects other than indicators, identities, reports, opinions,
//! marking and extension definitions (malware, relationships…), revoked indicators, other pattern types, unknown object paths,
//! `!=`, `<`, `LIKE`, `MATCHES` and other operators, negations, `FOLLOWEDBY`, qualifiers
//! (`WITHIN`, `REPEATS`, `START`/`STOP`: imported without them, reported).

use std::collections::HashMap;

use tagwarden_advisory::{Confidence, DigestKind, NetworkKind};
use tagwarden_reference::normalize_repository;

use super::draft::{
    Doc, Draft, DraftWindow, Prov, Rule, SourcedWindow, clip, date, one_line, timestamp,
};
use super::json::{Node, Value};
use super::polarity::{self, Polarity};
use super::{Format, ReadResult, Src};

/// Longest pattern read; real indicators are a few hundred bytes.
const MAX_PATTERN: usize = 64 * 1024;
/// Deepest parenthesis nesting read in a pattern.
const MAX_PATTERN_DEPTH: usize = 32;

pub(crate) fn read(root: &Node, src: Src<'_>, draft: &mut Draft) -> ReadResult {
    let Some(objects) = root
        .get("objects")
        .filter(|o| matches!(o.value, Value::Array(_)))
    else {
        return Err((
            root.at,
            "not a STIX bundle: no \"objects\" array".to_string(),
        ));
    };
    let objects = objects.items();
    let creator = objects
        .iter()
        .find(|o| o.str_of("type") == Some("identity"))
        .and_then(|o| o.str_of("name"));
    let doc = draft.document(
        src,
        Format::Stix,
        root.str_of("id"),
        creator,
        None,
        Confidence::Secondary,
    );
    // The advisory's dates are the intelligence's: a report's `published`, else its indicators'
    // and reports' `created`. Markings, identities and extension definitions are dated when
    // they were defined (TLP's in 2017), not when anything was said about this incident.
    let intelligence = || {
        objects
            .iter()
            .filter(|o| matches!(o.str_of("type"), Some("indicator" | "report")))
    };
    let published = intelligence()
        .filter_map(|o| o.str_of("published"))
        .filter_map(date)
        .min()
        .or_else(|| {
            intelligence()
                .filter_map(|o| o.str_of("created"))
                .filter_map(date)
                .min()
        });
    let modified = intelligence()
        .filter_map(|o| o.str_of("modified"))
        .filter_map(date)
        .max();
    draft.dates(published, modified);
    let disagreements: HashMap<&str, &str> = objects
        .iter()
        .filter(|o| o.str_of("type") == Some("opinion"))
        .filter_map(|o| Some((o, polarity::stix_disagreement(o)?)))
        .flat_map(|(o, opinion)| {
            o.strings_of("object_refs")
                .into_iter()
                .map(move |r| (r, opinion))
        })
        .take(10_000)
        .collect();
    let mut sources = own_sources(objects, draft);

    let mut count = 0;
    for object in objects {
        match object.str_of("type") {
            Some("indicator") => {
                count += 1;
                let disagreement = object
                    .str_of("id")
                    .and_then(|id| disagreements.get(id).copied());
                let polarity = polarity::stix(object, disagreement);
                indicator(object, &polarity, &doc, draft, &mut sources);
            }
            // Identities are read above, as the bundle's author; opinions about indicators
            // with them.
            Some("identity" | "opinion") => {}
            // How the bundle may be shared, not what it says.
            Some("marking-definition") => {}
            // A schema of custom properties, not intelligence: tagwarden's own is read below.
            Some("extension-definition") => {}
            Some("report") => {
                if let Some(name) = object.str_of("name") {
                    draft.titles.insert(0, one_line(name));
                }
                if let Some(d) = object.str_of("description") {
                    draft.summaries.push(clip(d.trim()));
                }
                other_indicators(object, &doc, draft, &sources);
            }
            Some(other) => {
                let name = object
                    .str_of("name")
                    .map(|n| format!(" {:?}", clip(n)))
                    .unwrap_or_default();
                draft.unmapped(
                    &doc,
                    object,
                    format!("STIX {other} object{name}: only indicators are imported"),
                );
            }
            None => draft.unmapped(&doc, object, "STIX object without a type"),
        }
    }
    if draft.titles.is_empty() {
        draft.titles.push(match creator {
            Some(c) => format!("Indicators from a STIX bundle by {}", one_line(c)),
            None => "Indicators from a STIX bundle".to_string(),
        });
    }
    let names: Vec<String> = objects
        .iter()
        .filter(|o| o.str_of("type") == Some("indicator"))
        .filter_map(|o| o.str_of("name"))
        .take(20)
        .map(one_line)
        .collect();
    draft.summaries.push(clip(&format!(
        "Imported from the STIX 2.1 bundle {} ({count} indicators): {}.",
        root.str_of("id").unwrap_or("without id"),
        names.join("; ")
    )));
    Ok(())
}

fn indicator(
    ind: &Node,
    polarity: &Polarity,
    doc: &Doc<'_>,
    draft: &mut Draft,
    sources: &mut OwnSources,
) {
    if ind.get("revoked").and_then(Node::as_bool) == Some(true) {
        draft.unmapped(doc, ind, "revoked indicator");
        return;
    }
    // tagwarden's own kinds are all malicious; anything else is read from the pattern below.
    if polarity.is_malicious() && tagwarden_indicator(ind, doc, draft, sources) {
        return;
    }
    let name = ind.str_of("name").unwrap_or("indicator");
    // Provenance: the bundle, plus the indicator's own references.
    let mut prov = doc.prov.clone();
    let refs = ind
        .items_of("external_references")
        .iter()
        .filter_map(|r| {
            let url = r.str_of("url")?;
            let title = r
                .str_of("description")
                .or(r.str_of("source_name"))
                .unwrap_or(url);
            Some((url, title.to_string()))
        })
        .collect::<Vec<_>>();
    for id in draft.references(refs) {
        if !prov.sources.contains(&id) {
            prov.sources.push(id);
        }
    }
    let stix_confidence = ind
        .get("confidence")
        .and_then(Node::as_u64)
        .filter(|c| *c <= 100);
    let mut note = format!("STIX indicator {:?}", clip(&one_line(name)));
    if let Some(c) = stix_confidence {
        note.push_str(&format!(", STIX confidence {c}"));
    }
    note.push('.');
    let mut prov = prov.with_note(note);
    let mut weak = stix_confidence.is_some_and(|c| c < 30);
    let mut polarity = polarity;
    // tagwarden's own provenance and weak flag, when the indicator carries them, are exact
    // (its weak indicators are `anomalous-activity`: the flag says it already).
    if ind.get("x_tagwarden_confidence").is_some() {
        sources.learn(ind, draft);
        prov = own_prov(ind, "x_tagwarden_", doc, sources, &doc.prov);
        weak = ind.get("x_tagwarden_weak").and_then(Node::as_bool) == Some(true);
        if matches!(polarity, Polarity::Context(_)) {
            polarity = &Polarity::Malicious;
        }
    }

    let window = DraftWindow {
        start: ind.str_of("valid_from").and_then(timestamp),
        end: ind.str_of("valid_until").and_then(timestamp),
    };
    // tagwarden's own kinds were read above when malicious; a non-malicious one is read here.
    let custom = ind.get("x_tagwarden").filter(|x| {
        x.is_object() && (ind.get("x_tagwarden_kind").is_none() || !polarity.is_malicious())
    });
    let strings = |n: Option<&Node>, key: &str| -> Vec<String> {
        n.map(|n| n.strings_of(key).into_iter().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let repositories = strings(custom, "repositories");
    let tags = strings(custom, "tags");
    if let (Some(x), Some(why)) = (custom, polarity.reason()) {
        // Tags of an indicator that is not malicious did not serve anything malicious.
        for r in repositories.iter().take(20) {
            let r = normalize_repository(r.trim()).unwrap_or_else(|_| r.clone());
            for t in tags.iter().take(20) {
                draft.not_indicator(doc, x, "image_tag", &format!("{r}:{t}"), why, prov.clone());
            }
        }
    } else if let Some(x) = custom
        && !tags.is_empty()
    {
        let own = x.get("window");
        let window = match own {
            Some(w) => DraftWindow {
                start: w.str_of("start").and_then(timestamp),
                end: w.str_of("end").and_then(timestamp),
            },
            None => window,
        };
        draft.exposure(doc, x, &repositories, &tags, window, prov.clone());
    }

    match ind.str_of("pattern_type") {
        Some("stix") | None => {}
        Some(other) => {
            draft.unmapped(
                doc,
                ind,
                format!("indicator {name:?}: pattern type {other:?} is not read (only stix)"),
            );
            return;
        }
    }
    let Some(pattern_node) = ind.get("pattern") else {
        if custom.is_none() {
            draft.unmapped(doc, ind, format!("indicator {name:?} has no pattern"));
        }
        return;
    };
    let pattern_text = pattern_node.as_str().unwrap_or_default();
    // Byte offset of pattern position `i` in the file (exact when the JSON string has no escape).
    let raw = doc
        .text
        .get(pattern_node.at + 1..pattern_node.at + 1 + pattern_text.len())
        .unwrap_or_default();
    let exact = raw == pattern_text;
    let offset = |i: usize| {
        if exact {
            pattern_node.at + 1 + i
        } else {
            pattern_node.at
        }
    };
    let pattern = match parse_pattern(pattern_text) {
        Ok(p) => p,
        Err((i, m)) => {
            draft.unmapped_at(
                doc,
                offset(i),
                format!("indicator {name:?}: pattern not read: {m}"),
            );
            return;
        }
    };
    for (i, what) in &pattern.ignored {
        draft.unmapped_at(doc, offset(*i), format!("indicator {name:?}: {what}"));
    }
    let image = is_image_indicator(ind);
    let kind_hint = ind.str_of("x_tagwarden_digest_kind");
    let platform = ind
        .str_of("x_tagwarden_platform")
        .map(str::to_string)
        .or_else(|| platform_in_text(ind));
    for group in &pattern.groups {
        let hash = |names: &[&str]| {
            group.iter().find(|c| {
                c.path
                    .strip_prefix("file:hashes.")
                    .is_some_and(|h| names.iter().any(|n| n.eq_ignore_ascii_case(h)))
            })
        };
        let md5 = hash(&["MD5"]).and_then(|c| c.values.first().cloned());
        let sha1 = hash(&["SHA-1", "SHA1"]).and_then(|c| c.values.first().cloned());
        for c in group {
            let at = pattern_node;
            let path = c.path.as_str();
            let is_sha256 = path.strip_prefix("file:hashes.").is_some_and(|h| {
                h.eq_ignore_ascii_case("SHA-256") || h.eq_ignore_ascii_case("SHA256")
            });
            let is_other_hash = path.starts_with("file:hashes.") && !is_sha256;
            for value in &c.values {
                if is_sha256 && image {
                    let (kind, kind_note) = digest_kind(ind, kind_hint);
                    let p = match kind_note {
                        Some(n) if polarity.is_malicious() => prov.with_note(n),
                        _ => prov.clone(),
                    };
                    draft.judged_digest(
                        doc,
                        at,
                        value,
                        polarity,
                        kind,
                        platform.clone(),
                        &repositories,
                        &tags,
                        false,
                        p,
                    );
                } else if is_sha256 {
                    let description = ind.str_of("description").unwrap_or(name);
                    draft.judged_file_hash(
                        doc,
                        at,
                        polarity,
                        value,
                        sha1.as_deref(),
                        md5.as_deref(),
                        description,
                        prov.clone(),
                    );
                } else if is_other_hash {
                    if hash(&["SHA-256", "SHA256"]).is_none() {
                        draft.unmapped_at(
                            doc,
                            offset(c.at),
                            format!("{path} without a SHA-256 in the same observation"),
                        );
                    }
                } else if let Some(kind) = network_kind(path, value) {
                    let value = match path.rsplit_once("request_header.") {
                        Some((_, header)) if kind == NetworkKind::HttpHeader => {
                            format!("{header}: {value}")
                        }
                        _ => value.clone(),
                    };
                    draft.judged_network(doc, at, polarity, kind, &value, weak, prov.clone());
                } else {
                    draft.unmapped_at(
                        doc,
                        offset(c.at),
                        format!("indicator {name:?}: object path {path} is not mapped"),
                    );
                }
            }
        }
    }
}

// --- tagwarden's own exports ------------------------------------------------------------------

/// Source ids of a tagwarden export (`external_references[].source_name`) and the draft source
/// each became.
#[derive(Default)]
struct OwnSources(HashMap<String, String>);

impl OwnSources {
    /// Declares the sources an object's `external_references` name (once per name).
    fn learn(&mut self, object: &Node, draft: &mut Draft) {
        for r in object.items_of("external_references") {
            let Some(name) = r.str_of("source_name") else {
                continue;
            };
            // The advisory id and aliases carry an external id; they are not sources.
            if r.get("external_id").is_some() || self.0.contains_key(name) || self.0.len() >= 200 {
                continue;
            }
            let title = r.str_of("description").unwrap_or(name);
            let id = draft.source(name, r.str_of("url"), title);
            self.0.insert(name.to_string(), id);
        }
    }
}

/// Reads the sources and aliases of tagwarden reports (`x_tagwarden_advisory_id`), so the
/// indicators' `x_tagwarden_sources` can cite them, whatever the object order.
fn own_sources(objects: &[Node], draft: &mut Draft) -> OwnSources {
    let mut sources = OwnSources::default();
    for report in objects.iter().filter(|o| {
        o.str_of("type") == Some("report") && o.get("x_tagwarden_advisory_id").is_some()
    }) {
        for r in report.items_of("external_references") {
            if r.str_of("source_name") != Some("tagwarden")
                && let Some(alias) = r.str_of("external_id")
            {
                draft.alias(alias);
            }
        }
        sources.learn(report, draft);
    }
    sources
}

/// The provenance a tagwarden export wrote (`<prefix>confidence`, `sources`, `disputed`, `note`),
/// citing the document first; what it leaves out comes from `fallback`.
fn own_prov(
    node: &Node,
    prefix: &str,
    doc: &Doc<'_>,
    sources: &OwnSources,
    fallback: &Prov,
) -> Prov {
    let key = |k: &str| format!("{prefix}{k}");
    let confidence = node
        .str_of(&key("confidence"))
        .and_then(confidence)
        .unwrap_or(fallback.confidence);
    let mut cited = doc.prov.sources.clone();
    for id in node.strings_of(&key("sources")) {
        if let Some(d) = sources.0.get(id)
            && !cited.contains(d)
        {
            cited.push(d.clone());
        }
    }
    if cited.len() == doc.prov.sources.len() {
        // Nothing named, or nothing known: the record's own sources stand.
        for s in &fallback.sources {
            if !cited.contains(s) {
                cited.push(s.clone());
            }
        }
    }
    Prov {
        sources: cited,
        confidence,
        disputed: node.get(&key("disputed")).and_then(Node::as_bool) == Some(true),
        note: node
            .str_of(&key("note"))
            .map(|n| clip(n.trim()))
            .filter(|n| !n.is_empty()),
    }
}

fn confidence(s: &str) -> Option<Confidence> {
    Some(match s {
        "P" => Confidence::Primary,
        "P2" => Confidence::PrimaryCopy,
        "S" => Confidence::Secondary,
        "C" => Confidence::Conflicting,
        "I" => Confidence::Inferred,
        _ => return None,
    })
}

/// A window of `x_tagwarden` (`{start, end, confidence, sources, disputed, note}`), with its
/// provenance when it gives one.
fn own_window(
    w: Option<&Node>,
    doc: &Doc<'_>,
    sources: &OwnSources,
    record: &Prov,
) -> SourcedWindow {
    let Some(w) = w.filter(|w| w.is_object()) else {
        return SourcedWindow::default();
    };
    SourcedWindow {
        window: DraftWindow {
            start: w.str_of("start").and_then(timestamp),
            end: w.str_of("end").and_then(timestamp),
        },
        prov: w
            .get("confidence")
            .is_some()
            .then(|| own_prov(w, "", doc, sources, record)),
    }
}

/// Reads an indicator by its `x_tagwarden_kind`, the custom properties being authoritative.
/// False when the indicator is not tagwarden's or its kind is read from the pattern.
fn tagwarden_indicator(
    ind: &Node,
    doc: &Doc<'_>,
    draft: &mut Draft,
    sources: &mut OwnSources,
) -> bool {
    let Some(kind) = ind.str_of("x_tagwarden_kind") else {
        return false;
    };
    if !matches!(
        kind,
        "malicious_digest"
            | "image_exposure"
            | "action_tags"
            | "action_commits"
            | "file_hash"
            | "host_artifact"
    ) {
        return false;
    }
    sources.learn(ind, draft);
    let prov = own_prov(ind, "x_tagwarden_", doc, sources, &doc.prov);
    let custom = ind.get("x_tagwarden").filter(|x| x.is_object());
    let strings = |key: &str| -> Vec<String> {
        custom
            .map(|x| x.strings_of(key).into_iter().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let repositories = strings("repositories");
    let tags = strings("tags");
    let window = |key: &str| own_window(custom.and_then(|x| x.get(key)), doc, sources, &prov);
    match kind {
        "malicious_digest" => {
            let Some(digest) = ind.get("x_tagwarden_digest") else {
                // Read from the pattern as any image digest indicator.
                return false;
            };
            let kind = match ind.str_of("x_tagwarden_digest_kind") {
                Some("manifest") => DigestKind::Manifest,
                Some("signature") => DigestKind::Signature,
                _ => DigestKind::Index,
            };
            let platform = ind.str_of("x_tagwarden_platform").map(str::to_string);
            draft.malicious_digest(
                doc,
                digest,
                digest.as_str().unwrap_or_default(),
                kind,
                platform,
                &repositories,
                &tags,
                prov,
            );
        }
        "image_exposure" => {
            let disputed = custom
                .and_then(|x| x.get("disputed_window"))
                .filter(|w| w.is_object())
                .map(|_| window("disputed_window"));
            draft.exposure_with(
                doc,
                custom.unwrap_or(ind),
                &repositories,
                &tags,
                window("window"),
                disputed,
                prov,
            );
        }
        "action_tags" | "action_commits" => {
            let at = custom.unwrap_or(ind);
            let Some(repository) = repositories.first() else {
                draft.unmapped(doc, at, "tagwarden action indicator without a repository");
                return true;
            };
            let rules = custom
                .map(|x| x.items_of("tag_rules"))
                .unwrap_or_default()
                .iter()
                .filter_map(|r| {
                    let prefix = r.str_of("prefix")?.to_string();
                    let (up_to, version) = match (r.str_of("below"), r.str_of("up_to")) {
                        (Some(v), None) => (false, v),
                        (None, Some(v)) => (true, v),
                        _ => return None,
                    };
                    Some(Rule {
                        prefix,
                        up_to,
                        version: version.to_string(),
                    })
                })
                .collect::<Vec<_>>();
            if kind == "action_tags" {
                draft.action(
                    doc,
                    at,
                    repository,
                    &tags,
                    rules,
                    window("window"),
                    &[],
                    &[],
                    prov,
                );
            } else {
                let commits: Vec<(String, Prov)> = strings("commits")
                    .into_iter()
                    .map(|c| (c, prov.clone()))
                    .collect();
                draft.action(
                    doc,
                    at,
                    repository,
                    &[],
                    rules,
                    window("window"),
                    &commits,
                    &[],
                    prov,
                );
                for (sha, _) in &commits {
                    draft.commit_tags(doc, at, repository, sha, &tags);
                }
            }
        }
        "file_hash" | "host_artifact" => {
            let description = ind
                .str_of("description")
                .or(ind.str_of("name"))
                .unwrap_or("Malicious file");
            if kind == "host_artifact" {
                match custom.and_then(|x| x.get("path")) {
                    Some(path) => draft.host_artifact(
                        doc,
                        path,
                        path.as_str().unwrap_or_default(),
                        description,
                        prov,
                    ),
                    None => {
                        draft.unmapped(doc, ind, "tagwarden host artifact without x_tagwarden.path")
                    }
                }
                return true;
            }
            // The hashes of one file are alternatives in the pattern: gather them.
            let Some(pattern) = ind.get("pattern") else {
                draft.unmapped(doc, ind, "tagwarden file hash without a pattern");
                return true;
            };
            let parsed = match parse_pattern(pattern.as_str().unwrap_or_default()) {
                Ok(p) => p,
                Err((_, m)) => {
                    draft.unmapped(doc, pattern, format!("file hash pattern not read: {m}"));
                    return true;
                }
            };
            let hash = |names: &[&str]| {
                parsed.groups.iter().flatten().find_map(|c| {
                    let h = c.path.strip_prefix("file:hashes.")?;
                    names
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(h))
                        .then(|| c.values.first().cloned())
                        .flatten()
                })
            };
            match hash(&["SHA-256", "SHA256"]) {
                Some(sha256) => draft.file_hash(
                    doc,
                    pattern,
                    &sha256,
                    hash(&["SHA-1", "SHA1"]).as_deref(),
                    hash(&["MD5"]).as_deref(),
                    description,
                    prov,
                ),
                None => draft.unmapped(doc, pattern, "tagwarden file hash without a SHA-256"),
            }
        }
        _ => return false,
    }
    true
}

/// `x_tagwarden_other_indicators` of a tagwarden report: indicators kept for humans.
fn other_indicators(report: &Node, doc: &Doc<'_>, draft: &mut Draft, sources: &OwnSources) {
    for o in report
        .items_of("x_tagwarden_other_indicators")
        .iter()
        .take(1000)
    {
        let (Some(kind), Some(value)) = (o.str_of("kind"), o.str_of("value")) else {
            draft.unmapped(doc, o, "other indicator without a kind and a value");
            continue;
        };
        let prov = own_prov(o, "", doc, sources, &doc.prov);
        draft.other(kind, value, o.str_of("description").unwrap_or(kind), prov);
    }
}

/// The network indicator kind of an object path.
fn network_kind(path: &str, value: &str) -> Option<NetworkKind> {
    Some(match path {
        "domain-name:value" => NetworkKind::Domain,
        "url:value" => NetworkKind::Url,
        "ipv4-addr:value" | "ipv6-addr:value" => NetworkKind::Ip,
        "network-traffic:dst_ref.value" => {
            if value.parse::<std::net::IpAddr>().is_ok() {
                NetworkKind::Ip
            } else {
                NetworkKind::Domain
            }
        }
        p => {
            let header =
                p.strip_prefix("network-traffic:extensions.http-request-ext.request_header.")?;
            if header.eq_ignore_ascii_case("User-Agent") {
                NetworkKind::UserAgent
            } else {
                NetworkKind::HttpHeader
            }
        }
    })
}

/// True when the indicator says its hashes are image digests.
fn is_image_indicator(ind: &Node) -> bool {
    if ind.get("x_tagwarden_digest_kind").is_some() {
        return true;
    }
    let mut text = String::new();
    for key in ["name", "description"] {
        text.push_str(ind.str_of(key).unwrap_or_default());
        text.push(' ');
    }
    for l in ind.strings_of("labels") {
        text.push_str(l);
        text.push(' ');
    }
    for (k, v) in ind.members() {
        if k.starts_with("x_") {
            text.push_str(k);
            text.push(' ');
            if let Some(s) = v.as_str() {
                text.push_str(s);
                text.push(' ');
            }
        }
    }
    words(&text).any(|w| {
        matches!(
            w.as_str(),
            "image" | "images" | "oci" | "docker" | "digest" | "digests" | "container" | "manifest"
        )
    })
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
}

/// The digest kind an image indicator gives, and a note when it had to be assumed.
fn digest_kind(ind: &Node, hint: Option<&str>) -> (DigestKind, Option<String>) {
    match hint {
        Some("index") => return (DigestKind::Index, None),
        Some("manifest") => return (DigestKind::Manifest, None),
        Some("signature") => return (DigestKind::Signature, None),
        _ => {}
    }
    // The name says what the value is; the description may mention the others ("the arm64
    // manifest inside the index"), so it decides only when the name says nothing.
    for key in ["name", "description"] {
        let text = ind.str_of(key).unwrap_or_default();
        let has = |w: &[&str]| words(text).any(|x| w.contains(&x.as_str()));
        if has(&["index", "indexes"]) {
            return (DigestKind::Index, None);
        } else if has(&["signature", "cosign"]) {
            return (DigestKind::Signature, None);
        } else if has(&["manifest", "manifests"]) || platform_in_text(ind).is_some() {
            return (DigestKind::Manifest, None);
        }
    }
    (
        DigestKind::Index,
        Some("The indicator does not say index or manifest: index assumed (matching does not depend on it).".to_string()),
    )
}

/// A platform the indicator's name or description spells out (`linux/arm64`), for manifests
/// whose bundle gives no `x_tagwarden_platform`.
fn platform_in_text(ind: &Node) -> Option<String> {
    ["name", "description"]
        .iter()
        .filter_map(|k| ind.str_of(k))
        .flat_map(|t| t.split(|c: char| c.is_whitespace() || ",;()[]\"'".contains(c)))
        .map(|w| w.trim_end_matches(['.', ':']).to_ascii_lowercase())
        .find(|w| {
            (w.starts_with("linux/") || w.starts_with("windows/"))
                && tagwarden_advisory::syntax::is_platform(w)
        })
}

// --- patterns --------------------------------------------------------------------------------

/// What a STIX pattern says, as far as tagwarden reads it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Pattern {
    /// Comparisons joined by `AND` in one group; groups are alternatives (or `AND`ed
    /// observations, reported in `ignored`).
    pub(crate) groups: Vec<Vec<Comparison>>,
    /// Parts read but not honoured, with their offset in the pattern.
    pub(crate) ignored: Vec<(usize, String)>,
}

/// `path = 'value'` (or `path IN ('a', 'b')`).
#[derive(Debug, PartialEq)]
pub(crate) struct Comparison {
    /// Quotes removed: `file:hashes.SHA-256`.
    pub(crate) path: String,
    pub(crate) values: Vec<String>,
    /// Offset of the comparison in the pattern.
    pub(crate) at: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    LParen,
    RParen,
    Comma,
    Word(String),
    Str(String),
    Op(String),
}

fn tokenize(s: &str) -> Result<Vec<(usize, Token)>, (usize, String)> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'[' => {
                out.push((start, Token::Open));
                i += 1;
            }
            b']' => {
                out.push((start, Token::Close));
                i += 1;
            }
            b'(' => {
                out.push((start, Token::LParen));
                i += 1;
            }
            b')' => {
                out.push((start, Token::RParen));
                i += 1;
            }
            b',' => {
                out.push((start, Token::Comma));
                i += 1;
            }
            b'\'' => {
                i += 1;
                let mut value = String::new();
                loop {
                    match bytes.get(i) {
                        Some(b'\\') => {
                            let Some(c) = s.get(i + 1..).and_then(|r| r.chars().next()) else {
                                return Err((start, "unterminated string".to_string()));
                            };
                            value.push(c);
                            i += 1 + c.len_utf8();
                        }
                        Some(b'\'') => {
                            i += 1;
                            break;
                        }
                        Some(_) => {
                            let Some(c) = s.get(i..).and_then(|r| r.chars().next()) else {
                                return Err((start, "unterminated string".to_string()));
                            };
                            value.push(c);
                            i += c.len_utf8();
                        }
                        None => return Err((start, "unterminated string".to_string())),
                    }
                }
                out.push((start, Token::Str(value)));
            }
            b'=' | b'!' | b'<' | b'>' => {
                i += 1;
                if bytes.get(i) == Some(&b'=') {
                    i += 1;
                }
                let op = s.get(start..i).unwrap_or_default();
                if op == "!" {
                    return Err((start, "expected != ".to_string()));
                }
                out.push((start, Token::Op(op.to_string())));
            }
            b if b.is_ascii_alphanumeric() || b"_-:.*".contains(&b) => {
                // Words and object paths (`file:hashes.`), up to a quote or bracket.
                while bytes
                    .get(i)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b"_-:.*+".contains(b))
                {
                    i += 1;
                }
                let word = s.get(start..i).unwrap_or_default().to_string();
                // A typed literal: t'…', h'…', b'…'.
                if matches!(word.as_str(), "t" | "h" | "b") && bytes.get(i) == Some(&b'\'') {
                    continue;
                }
                out.push((start, Token::Word(word)));
            }
            _ => {
                return Err((
                    start,
                    format!(
                        "unexpected character {:?}",
                        s.get(start..).and_then(|r| r.chars().next()).unwrap_or('?')
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Reads a STIX 2.1 pattern into comparison groups (see [`Pattern`]).
pub(crate) fn parse_pattern(s: &str) -> Result<Pattern, (usize, String)> {
    if s.len() > MAX_PATTERN {
        return Err((0, format!("pattern longer than {MAX_PATTERN} bytes")));
    }
    let tokens = tokenize(s)?;
    let mut p = PatternParser {
        tokens,
        pos: 0,
        end: s.len(),
        out: Pattern::default(),
    };
    p.observations(0)?;
    if let Some((at, _)) = p.tokens.get(p.pos) {
        return Err((*at, "unexpected text after the pattern".to_string()));
    }
    Ok(p.out)
}

struct PatternParser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    end: usize,
    out: Pattern,
}

impl PatternParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(a, _)| *a)
    }

    fn word_is(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn expect(&mut self, t: Token, what: &str) -> Result<(), (usize, String)> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err((self.at(), format!("expected {what}")))
        }
    }

    /// Observation expressions joined by OR, AND or FOLLOWEDBY.
    fn observations(&mut self, depth: usize) -> Result<(), (usize, String)> {
        if depth > MAX_PATTERN_DEPTH {
            return Err((self.at(), "nested too deeply".to_string()));
        }
        loop {
            self.observation(depth)?;
            let at = self.at();
            if self.word_is("OR") {
                self.pos += 1;
            } else if self.word_is("AND") {
                self.out.ignored.push((at, "observations joined by AND: each comparison imported on its own (broader than the pattern)".to_string()));
                self.pos += 1;
            } else if self.word_is("FOLLOWEDBY") {
                return Err((
                    at,
                    "FOLLOWEDBY (a sequence of observations) is not imported".to_string(),
                ));
            } else {
                return Ok(());
            }
        }
    }

    fn observation(&mut self, depth: usize) -> Result<(), (usize, String)> {
        match self.peek() {
            Some(Token::Open) => {
                self.pos += 1;
                let mut group = Vec::new();
                self.comparisons(&mut group, depth + 1)?;
                self.expect(Token::Close, "']'")?;
                self.out.groups.push(group);
            }
            Some(Token::LParen) => {
                self.pos += 1;
                self.observations(depth + 1)?;
                self.expect(Token::RParen, "')'")?;
            }
            _ => {
                return Err((
                    self.at(),
                    "expected '[' to start an observation".to_string(),
                ));
            }
        }
        self.qualifiers()
    }

    fn qualifiers(&mut self) -> Result<(), (usize, String)> {
        loop {
            let at = self.at();
            let words: usize = if self.word_is("WITHIN") || self.word_is("REPEATS") {
                3
            } else if self.word_is("START") {
                4
            } else {
                return Ok(());
            };
            let name = match self.peek() {
                Some(Token::Word(w)) => w.to_ascii_uppercase(),
                _ => String::new(),
            };
            if self.pos + words > self.tokens.len() {
                return Err((at, format!("incomplete {name} qualifier")));
            }
            self.pos += words;
            self.out.ignored.push((
                at,
                format!("qualifier {name} ignored: the comparisons are imported without it"),
            ));
        }
    }

    /// Comparisons inside `[...]`: AND binds tighter than OR.
    fn comparisons(
        &mut self,
        group: &mut Vec<Comparison>,
        depth: usize,
    ) -> Result<(), (usize, String)> {
        if depth > MAX_PATTERN_DEPTH {
            return Err((self.at(), "nested too deeply".to_string()));
        }
        loop {
            self.comparison(group, depth)?;
            let at = self.at();
            if self.word_is("OR") {
                self.pos += 1;
                // An alternative: a new group, unless inside parentheses (kept together).
                if depth <= 1 {
                    self.out.groups.push(std::mem::take(group));
                }
            } else if self.word_is("AND") {
                self.pos += 1;
                let _ = at;
            } else {
                return Ok(());
            }
        }
    }

    fn comparison(
        &mut self,
        group: &mut Vec<Comparison>,
        depth: usize,
    ) -> Result<(), (usize, String)> {
        let at = self.at();
        if self.peek() == Some(&Token::LParen) {
            self.pos += 1;
            self.comparisons(group, depth + 1)?;
            return self.expect(Token::RParen, "')'");
        }
        if self.word_is("EXISTS") {
            self.pos += 1;
            self.path()?;
            self.out
                .ignored
                .push((at, "EXISTS comparison not imported".to_string()));
            return Ok(());
        }
        let path = self.path()?;
        let negated = self.word_is("NOT");
        if negated {
            self.pos += 1;
        }
        let op_at = self.at();
        let op = match self.peek() {
            Some(Token::Op(o)) => o.clone(),
            Some(Token::Word(w)) => w.to_ascii_uppercase(),
            _ => return Err((op_at, "expected a comparison operator".to_string())),
        };
        self.pos += 1;
        let values = if op == "IN" {
            self.set()?
        } else {
            vec![self.literal()?]
        };
        let supported = !negated && (op == "=" || op == "IN");
        if !supported {
            let op = if negated { format!("NOT {op}") } else { op };
            self.out.ignored.push((
                at,
                format!("comparison {path} {op} … not imported (only = and IN are)"),
            ));
            return Ok(());
        }
        group.push(Comparison { path, values, at });
        Ok(())
    }

    /// An object path: `type:prop.'quoted'.sub[0]`, quotes removed.
    fn path(&mut self) -> Result<String, (usize, String)> {
        let at = self.at();
        let Some(Token::Word(first)) = self.peek().cloned() else {
            return Err((at, "expected an object path".to_string()));
        };
        if !first.contains(':') {
            return Err((
                at,
                format!("expected an object path (type:property), found {first:?}"),
            ));
        }
        self.pos += 1;
        let mut path = first;
        // Quoted steps follow a '.', e.g. hashes.'SHA-256'; list steps are [n] or [*].
        loop {
            match self.peek().cloned() {
                Some(Token::Str(s)) if path.ends_with('.') => {
                    path.push_str(&s);
                    self.pos += 1;
                }
                Some(Token::Word(w)) if path.ends_with('.') || w.starts_with('.') => {
                    path.push_str(&w);
                    self.pos += 1;
                }
                Some(Token::Open)
                    if matches!(self.tokens.get(self.pos + 1), Some((_, Token::Word(_))))
                        && matches!(self.tokens.get(self.pos + 2), Some((_, Token::Close))) =>
                {
                    if let Some((_, Token::Word(i))) = self.tokens.get(self.pos + 1) {
                        path.push_str(&format!("[{i}]"));
                    }
                    self.pos += 3;
                }
                _ => break,
            }
        }
        Ok(path)
    }

    fn literal(&mut self) -> Result<String, (usize, String)> {
        let at = self.at();
        match self.peek().cloned() {
            Some(Token::Str(s)) => {
                self.pos += 1;
                Ok(s)
            }
            Some(Token::Word(w)) => {
                self.pos += 1;
                Ok(w)
            }
            _ => Err((at, "expected a value".to_string())),
        }
    }

    fn set(&mut self) -> Result<Vec<String>, (usize, String)> {
        self.expect(Token::LParen, "'(' after IN")?;
        let mut values = Vec::new();
        loop {
            values.push(self.literal()?);
            match self.peek() {
                Some(Token::Comma) => self.pos += 1,
                Some(Token::RParen) => {
                    self.pos += 1;
                    return Ok(values);
                }
                _ => return Err((self.at(), "expected ',' or ')' in a set".to_string())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(p: &Pattern) -> Vec<Vec<(String, Vec<String>)>> {
        p.groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|c| (c.path.clone(), c.values.clone()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn or_and_and_in() {
        let p = parse_pattern("[file:hashes.'SHA-256' = 'aa' OR file:hashes.'SHA-256' = 'b\\'b'] OR [domain-name:value IN ('x.example', 'y.example')]").unwrap();
        assert_eq!(
            paths(&p),
            [
                vec![("file:hashes.SHA-256".to_string(), vec!["aa".to_string()])],
                vec![("file:hashes.SHA-256".to_string(), vec!["b'b".to_string()])],
                vec![(
                    "domain-name:value".to_string(),
                    vec!["x.example".to_string(), "y.example".to_string()]
                )],
            ]
        );
        assert!(p.ignored.is_empty());
        let p = parse_pattern("[file:hashes.MD5 = 'm' AND file:hashes.'SHA-256' = 's']").unwrap();
        assert_eq!(p.groups.len(), 1);
        assert_eq!(p.groups[0].len(), 2);
        let p = parse_pattern("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'KICS-Telemetry/2.0']").unwrap();
        assert_eq!(
            p.groups[0][0].path,
            "network-traffic:extensions.http-request-ext.request_header.User-Agent"
        );
    }

    #[test]
    fn unsupported_parts_are_reported() {
        let p = parse_pattern(
            "[url:value MATCHES '^https://x'] AND [domain-name:value != 'a'] WITHIN 600 SECONDS",
        )
        .unwrap();
        assert!(p.groups.iter().all(Vec::is_empty));
        let what: Vec<&str> = p.ignored.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(what.len(), 4, "{what:?}");
        assert!(what[0].contains("MATCHES"));
        assert!(
            parse_pattern("[a:b = 'x'] FOLLOWEDBY [a:b = 'y']")
                .unwrap_err()
                .1
                .contains("FOLLOWEDBY")
        );
        for bad in [
            "",
            "[",
            "[a:b = ",
            "[a:b = 'x'",
            "a:b = 'x'",
            "[x = 'y']",
            "[a:b ~ 'x']",
            "[a:b = 'x']]",
        ] {
            assert!(parse_pattern(bad).is_err(), "{bad}");
        }
        let deep = format!("{}[a:b = 'x']{}", "(".repeat(1000), ")".repeat(1000));
        assert!(parse_pattern(&deep).unwrap_err().1.contains("deeply"));
    }
}
