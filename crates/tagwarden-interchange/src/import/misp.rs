//! MISP events: `{"Event": …}`, a bare event, or a search result `{"response": [{"Event": …}]}`.
//!
//! Mapping of attributes (top-level, and inside objects other than those below):
//!
//! | MISP type | becomes |
//! |---|---|
//! | `domain`, `hostname` (`hostname\|port`) | `domain` indicator |
//! | `url` | `url` indicator |
//! | `ip-dst`, `ip-src` (`ip-dst\|port`, `ip-src\|port`: the port is dropped, noted) | `ip` indicator |
//! | `domain\|ip` | a `domain` and an `ip` indicator |
//! | `user-agent` | `user_agent` indicator |
//! | `sha256`, `filename\|sha256` | a file hash (the comment or file name as description) |
//! | `link` | a source (URL) cited by the event's values |
//! | `github-repository`, `filename` | an other indicator (kept for humans) |
//!
//! Objects: `file` (its `sha256` with `sha1`/`md5`/`filename`) is one file hash;
//! `container-image` (`registry`, `image-name`, `tag`, `digest`) is a malicious image digest
//! (kind `index` assumed unless the object says `manifest`, a `platform` or an `architecture`,
//! noted), plus an image exposure for its tag when the object or its tag attribute has
//! `first_seen`/`last_seen` (the window); without a window only the digest is imported. Two
//! objects for one tag in overlapping windows are one exposure.
//!
//! What an attribute is comes first (see [`super::polarity`]): `to_ids: false` ("not meant for
//! detection") or a `false-positive:risk="high"` tag makes a network indicator weak and keeps a
//! digest or file hash out of matching (`[[not_indicators]]`, printed): MISP has no "known good",
//! so a clean digest is never made malicious, nor vouched for. A `false-positive:confirmed` tag
//! or a false-positive sighting (`type` 1) keeps any value out. A `container-image` whose digest
//! is kept out makes no exposure: a clean image's tag served nothing. tagwarden's own exports
//! write weak indicators with `to_ids: false`, read back as weak.
//!
//! Provenance: the event is the source (its `Orgc` as author); confidence `S`; the attribute's
//! `comment` is the note; event tags (`tlp:…`) are kept in the summary.
//!
//! `container-image` `os` + `architecture` give a manifest's platform: an OCI OS name as it is, a
//! distribution (the template's "base OS of the image", `alpine`) as `linux`; without `os` the
//! platform is not recorded (noted). `x86_64`, `aarch64`, `armhf`… are written as OCI names. tagwarden's own events
//! (machine tags `tagwarden:…`, documented in [`crate::export`]) are read by their tags: kind,
//! confidence, disputed flag and cited sources replace the defaults (the event stays the first
//! source), `github-repository` + `tagwarden:kind="action_tags"` is an action (tags, tag rules,
//! window from `first_seen`/`last_seen`), `git-commit-id` + `tagwarden:action` a malicious commit,
//! `filename` a host artifact, `text` an other indicator, and the exposure's tag attribute its
//! disputed window.
//!
//! Unmapped (with position): other attribute types (`sha1`/`md5` alone, `text`, `email`…),
//! deleted attributes, other object templates' unknown attributes, invalid values.

use std::collections::HashMap;

use tagwarden_advisory::{Confidence, DigestKind, NetworkKind};

use super::draft::{
    Doc, Draft, DraftWindow, Prov, Rule, SourcedWindow, clip, date, one_line, timestamp,
};
use super::json::Node;
use super::polarity::{self, Polarity};
use super::{Format, ReadResult, Src};

/// Most events read from one search result.
const MAX_EVENTS: usize = 100;

pub(crate) fn read(root: &Node, src: Src<'_>, draft: &mut Draft) -> ReadResult {
    let events: Vec<&Node> = if let Some(e) = root.get("Event") {
        vec![e]
    } else if let Some(r) = root.get("response") {
        r.items()
            .iter()
            .take(MAX_EVENTS)
            .filter_map(|x| x.get("Event"))
            .collect()
    } else {
        vec![root]
    };
    if events.is_empty() || !events.iter().all(|e| e.is_object()) {
        return Err((
            root.at,
            "not a MISP event: expected {\"Event\": {…}}".to_string(),
        ));
    }
    for event in events {
        read_event(event, src, draft);
    }
    Ok(())
}

fn read_event(event: &Node, src: Src<'_>, draft: &mut Draft) {
    let author = event
        .get("Orgc")
        .or(event.get("Org"))
        .and_then(|o| o.str_of("name"));
    let mut doc = draft.document(
        src,
        Format::Misp,
        event.str_of("uuid"),
        author,
        None,
        Confidence::Secondary,
    );
    let published = event.str_of("date").and_then(date);
    let updated = event.str_of("timestamp").and_then(date);
    draft.dates(published, updated);
    let info = event.str_of("info").map(one_line);
    if let Some(i) = &info {
        draft.titles.push(i.clone());
    }
    // tagwarden's own links name the source id they stand for; declared first, under that id,
    // so values can cite them one by one.
    let mut own = OwnSources::default();
    for a in event
        .items_of("Attribute")
        .iter()
        .filter(|a| a.str_of("type") == Some("link"))
        .take(200)
    {
        if let (Some(id), Some(url)) = (own_tag(a, "source").first(), a.str_of("value")) {
            let title = a.str_of("comment").unwrap_or(url);
            let draft_id = draft.source(id, Some(url), title);
            own.0.insert((*id).to_string(), draft_id);
        }
    }
    // `link` attributes are sources of the whole event.
    let links: Vec<(&str, String)> = event
        .items_of("Attribute")
        .iter()
        .filter(|a| a.str_of("type") == Some("link"))
        .filter_map(|a| {
            a.str_of("value")
                .map(|u| (u, a.str_of("comment").unwrap_or(u).to_string()))
        })
        .collect();
    for id in draft.references(links) {
        if !doc.prov.sources.contains(&id) {
            doc.prov.sources.push(id);
        }
    }
    let tags: Vec<&str> = event
        .items_of("Tag")
        .iter()
        .filter_map(|t| t.str_of("name"))
        .collect();
    let mut summary = format!(
        "Imported from the MISP event {}: {}.",
        event.str_of("uuid").unwrap_or("without uuid"),
        info.as_deref().unwrap_or("no description")
    );
    if !tags.is_empty() {
        summary.push_str(&format!(" Tags: {}.", tags.join(", ")));
    }
    draft.summaries.push(clip(&summary));

    let mut ctx = Ctx {
        doc: &doc,
        own: &mut own,
    };
    for a in event.items_of("Attribute") {
        attribute(a, &mut ctx, draft);
    }
    for o in event.items_of("Object") {
        object(o, &mut ctx, draft);
    }
}

/// The document and the source ids of a tagwarden export read so far.
struct Ctx<'d, 'a> {
    doc: &'d Doc<'a>,
    own: &'d mut OwnSources,
}

/// Source ids a tagwarden export names (`tagwarden:source="…"`) and the draft source each is.
#[derive(Default)]
struct OwnSources(HashMap<String, String>);

/// The values of the attribute's `tagwarden:<predicate>="…"` tags.
fn own_tag<'n>(a: &'n Node, predicate: &str) -> Vec<&'n str> {
    a.items_of("Tag")
        .iter()
        .filter_map(|t| t.str_of("name"))
        .filter_map(|n| {
            let rest = n.strip_prefix("tagwarden:")?.strip_prefix(predicate)?;
            rest.strip_prefix("=\"")?.strip_suffix('"')
        })
        .collect()
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

/// Provenance of one attribute: the event's, with the comment as note. A tagwarden export's tags
/// (`tagwarden:confidence`, `disputed`, `source`) are exact and replace the defaults; the comment
/// stays the note.
fn attribute_prov(a: &Node, ctx: &mut Ctx<'_, '_>, draft: &mut Draft) -> Prov {
    let doc = ctx.doc;
    if let Some(c) = own_tag(a, "confidence").first().and_then(|c| confidence(c)) {
        // The event first, then the sources the value names (not every link of the event).
        let mut sources: Vec<String> = doc.prov.sources.first().cloned().into_iter().collect();
        let event_only = sources.len();
        for id in own_tag(a, "source").into_iter().take(50) {
            let draft_id = match ctx.own.0.get(id) {
                Some(d) => d.clone(),
                None => {
                    // A source without a URL has no link attribute: named here only.
                    let d = draft.source(
                        id,
                        None,
                        &format!("{id} (named by the MISP event, no URL given)"),
                    );
                    ctx.own.0.insert(id.to_string(), d.clone());
                    d
                }
            };
            if !sources.contains(&draft_id) {
                sources.push(draft_id);
            }
        }
        if sources.len() == event_only {
            sources = doc.prov.sources.clone();
        }
        let prov = Prov {
            sources,
            confidence: c,
            disputed: own_tag(a, "disputed").first() == Some(&"true"),
            note: a
                .str_of("comment")
                .map(|c| clip(c.trim()))
                .filter(|c| !c.is_empty()),
        };
        return prov;
    }
    let mut prov = doc.prov.clone();
    if let Some(c) = a.str_of("comment").map(str::trim).filter(|c| !c.is_empty()) {
        prov = prov.with_note(c.to_string());
    }
    prov
}

/// What the attribute says it is (see [`polarity::misp`]). tagwarden's own exports mark weak
/// network indicators with `to_ids: false`: for them it means weak and nothing more.
fn attribute_polarity(a: &Node) -> Polarity {
    match polarity::misp(a) {
        Polarity::Context(_) if !own_tag(a, "confidence").is_empty() => Polarity::Malicious,
        p => p,
    }
}

/// True when a tagwarden export marked the attribute weak (`to_ids: false`).
fn own_weak(a: &Node) -> bool {
    !own_tag(a, "confidence").is_empty() && a.get("to_ids").and_then(Node::as_bool) == Some(false)
}

fn attribute(a: &Node, ctx: &mut Ctx<'_, '_>, draft: &mut Draft) {
    let doc = ctx.doc;
    if a.get("deleted").and_then(Node::as_bool) == Some(true) {
        draft.unmapped(doc, a, "deleted MISP attribute");
        return;
    }
    let kind = a.str_of("type").unwrap_or_default();
    let Some(value) = a.str_of("value") else {
        draft.unmapped(doc, a, format!("MISP {kind} attribute without a value"));
        return;
    };
    let prov = attribute_prov(a, ctx, draft);
    let at = a.get("value").unwrap_or(a);
    if own_attribute(a, value, at, prov.clone(), doc, draft) {
        return;
    }
    let polarity = &attribute_polarity(a);
    let weak = own_weak(a);
    let (first, second) = value.split_once('|').unwrap_or((value, ""));
    let net = |kind: NetworkKind, v: &str, prov: Prov, draft: &mut Draft| {
        draft.judged_network(doc, at, polarity, kind, v, weak, prov);
    };
    match kind {
        "domain" | "hostname" => net(NetworkKind::Domain, value, prov, draft),
        "hostname|port" => net(
            NetworkKind::Domain,
            first,
            prov.with_note(format!("Port {second}.")),
            draft,
        ),
        "url" => net(NetworkKind::Url, value, prov, draft),
        "ip-dst" | "ip-src" => net(NetworkKind::Ip, value, prov, draft),
        "ip-dst|port" | "ip-src|port" => net(
            NetworkKind::Ip,
            first,
            prov.with_note(format!("Port {second}.")),
            draft,
        ),
        "domain|ip" => {
            net(NetworkKind::Domain, first, prov.clone(), draft);
            net(NetworkKind::Ip, second, prov, draft);
        }
        "user-agent" => net(NetworkKind::UserAgent, value, prov, draft),
        "sha256" => {
            let description = a
                .str_of("comment")
                .unwrap_or("File (MISP sha256 attribute)");
            // The comment is the description here; the note would only repeat it.
            let prov = Prov {
                note: prov.note.filter(|n| n.trim() != description.trim()),
                ..prov
            };
            draft.judged_file_hash(doc, at, polarity, value, None, None, description, prov);
        }
        "filename|sha256" => {
            draft.judged_file_hash(doc, at, polarity, second, None, None, first, prov);
        }
        // Read above as sources.
        "link" => {}
        "github-repository" => draft.other(
            "github_repository_name",
            value,
            a.str_of("comment")
                .unwrap_or("GitHub repository (MISP attribute)"),
            prov,
        ),
        "filename" => draft.other(
            "file_name",
            value,
            a.str_of("comment").unwrap_or("File name (MISP attribute)"),
            prov,
        ),
        "sha1" | "md5" | "filename|md5" | "filename|sha1" => draft.unmapped(
            doc,
            a,
            format!("MISP {kind} attribute: a file hash is imported only with its SHA-256"),
        ),
        other => draft.unmapped(doc, a, format!("MISP {other} attribute {:?}", clip(value))),
    }
}

/// Reads an attribute by its `tagwarden:kind` tag; false when it has none the type does not
/// already say.
fn own_attribute(
    a: &Node,
    value: &str,
    at: &Node,
    prov: Prov,
    doc: &Doc<'_>,
    draft: &mut Draft,
) -> bool {
    let Some(kind) = own_tag(a, "kind").first().copied() else {
        return false;
    };
    let comment = a.str_of("comment").unwrap_or_default();
    let tags: Vec<String> = own_tag(a, "action-tag")
        .into_iter()
        .map(str::to_string)
        .collect();
    match kind {
        // MISP has no header type: tagwarden writes a header line as pattern-in-traffic.
        "network_indicator" if a.str_of("type") == Some("pattern-in-traffic") => {
            let weak = a.get("to_ids").and_then(Node::as_bool) == Some(false);
            draft.network(doc, at, NetworkKind::HttpHeader, value, weak, prov);
        }
        "summary" => draft.summaries.insert(0, clip(value.trim())),
        "alias" => draft.alias(value),
        "host_artifact" => draft.host_artifact(doc, at, value, comment, prov),
        "other_indicator" => {
            let other_kind = own_tag(a, "other-kind")
                .first()
                .copied()
                .unwrap_or("misp_text");
            draft.other(other_kind, value, comment, prov);
        }
        "action_tags" => {
            let rules = own_tag(a, "action-tag-rule")
                .into_iter()
                .filter_map(rule)
                .collect();
            let window = DraftWindow {
                start: a.str_of("first_seen").and_then(timestamp),
                end: a.str_of("last_seen").and_then(timestamp),
            };
            draft.action(doc, at, value, &tags, rules, window, &[], &[], prov);
        }
        "action_commits" => {
            let Some(repository) = own_tag(a, "action").first().copied() else {
                draft.unmapped(doc, a, "tagwarden commit without its tagwarden:action tag");
                return true;
            };
            let commits = [(value.to_string(), prov.clone())];
            draft.action(
                doc,
                at,
                repository,
                &[],
                Vec::new(),
                DraftWindow::default(),
                &commits,
                &[],
                prov,
            );
            draft.commit_tags(doc, at, repository, value, &tags);
        }
        _ => return false,
    }
    true
}

/// `prefix=v;up_to=2.1.20` (a `tagwarden:action-tag-rule` tag) as a rule.
fn rule(text: &str) -> Option<Rule> {
    let (prefix, bound) = text.rsplit_once(';')?;
    let prefix = prefix.strip_prefix("prefix=")?.to_string();
    let (up_to, version) = match bound.split_once('=')? {
        ("up_to", v) => (true, v),
        ("below", v) => (false, v),
        _ => return None,
    };
    Some(Rule {
        prefix,
        up_to,
        version: version.to_string(),
    })
}

fn object(o: &Node, ctx: &mut Ctx<'_, '_>, draft: &mut Draft) {
    let doc = ctx.doc;
    if o.get("deleted").and_then(Node::as_bool) == Some(true) {
        draft.unmapped(doc, o, "deleted MISP object");
        return;
    }
    let relation = |name: &str| {
        o.items_of("Attribute")
            .iter()
            .find(|a| a.str_of("object_relation") == Some(name))
    };
    let value = |name: &str| relation(name).and_then(|a| a.str_of("value"));
    match o.str_of("name") {
        Some("container-image") => container_image(o, ctx, draft),
        Some("file") => {
            let Some(sha256) = relation("sha256") else {
                draft.unmapped(doc, o, "MISP file object without a sha256");
                return;
            };
            let mut prov = attribute_prov(sha256, ctx, draft);
            let description = value("filename")
                .or(value("text"))
                .unwrap_or("File (MISP file object)");
            // The object's comment (tagwarden: description and sources) is the note.
            if prov.note.is_none()
                && let Some(c) = o.str_of("comment").map(str::trim).filter(|c| !c.is_empty())
            {
                prov.note = Some(clip(c));
            }
            draft.judged_file_hash(
                doc,
                sha256,
                &attribute_polarity(sha256),
                sha256.str_of("value").unwrap_or_default(),
                value("sha1"),
                value("md5"),
                description,
                prov,
            );
        }
        name => {
            // Any other template: its attributes of known types are imported one by one.
            for a in o.items_of("Attribute") {
                match a.str_of("type") {
                    Some(
                        "domain" | "hostname" | "url" | "ip-dst" | "ip-src" | "user-agent"
                        | "ip-dst|port" | "ip-src|port" | "domain|ip" | "sha256",
                    ) => attribute(a, ctx, draft),
                    Some(t) => draft.unmapped(
                        doc,
                        a,
                        format!(
                            "{t} attribute of a MISP {} object",
                            name.unwrap_or("unnamed")
                        ),
                    ),
                    None => draft.unmapped(doc, a, "MISP attribute without a type"),
                }
            }
        }
    }
}

fn container_image(o: &Node, ctx: &mut Ctx<'_, '_>, draft: &mut Draft) {
    let doc = ctx.doc;
    let relation = |name: &str| {
        o.items_of("Attribute")
            .iter()
            .find(|a| a.str_of("object_relation") == Some(name))
    };
    let value = |name: &str| {
        relation(name)
            .and_then(|a| a.str_of("value"))
            .map(str::trim)
    };
    let Some(digest_attr) = relation("digest") else {
        // Without a digest only a windowed tag could be imported.
        if let Some(repository) = repository(value("registry"), value("image-name")) {
            let window = window_of(o, relation("tag"));
            if let (Some(tag), false) = (value("tag"), window == DraftWindow::default()) {
                // tagwarden's exposures carry their provenance and disputed window on the tag.
                let (prov, disputed) = match relation("tag") {
                    Some(t) if !own_tag(t, "confidence").is_empty() => {
                        let mut prov = attribute_prov(t, ctx, draft);
                        prov.note = o.str_of("comment").map(|c| clip(c.trim()));
                        let disputed = own_tag(t, "disputed-window")
                            .first()
                            .and_then(|i| i.split_once('/'))
                            .map(|(s, e)| SourcedWindow {
                                window: DraftWindow {
                                    start: timestamp(s),
                                    end: timestamp(e),
                                },
                                prov: None,
                            });
                        (prov, disputed)
                    }
                    _ => (doc.prov.clone(), None),
                };
                draft.exposure_with(
                    doc,
                    o,
                    &[repository],
                    &[tag.to_string()],
                    window.into(),
                    disputed,
                    prov,
                );
                return;
            }
        }
        draft.unmapped(
            doc,
            o,
            "MISP container-image object without a digest or a tag with first_seen/last_seen",
        );
        return;
    };
    let mut prov = attribute_prov(digest_attr, ctx, draft);
    let polarity = attribute_polarity(digest_attr);
    let repositories: Vec<String> = repository(value("registry"), value("image-name"))
        .into_iter()
        .collect();
    let tags: Vec<String> = value("tag").map(str::to_string).into_iter().collect();
    let architecture = value("architecture").filter(|a| !a.is_empty());
    let (platform, platform_note) = match value("platform") {
        Some(p) => (Some(p.to_ascii_lowercase()), None),
        None => platform(value("os"), architecture),
    };
    if let Some(n) = platform_note {
        prov = prov.with_note(n);
    }
    let own_kind = own_tag(digest_attr, "digest-kind").first().copied();
    let kind = match own_kind.or(value("kind")).or(value("digest-kind")) {
        Some("manifest") => DigestKind::Manifest,
        Some("signature") => DigestKind::Signature,
        Some("index") => DigestKind::Index,
        // An architecture belongs to one platform's manifest, never to an index.
        _ if platform.is_some() || architecture.is_some() => DigestKind::Manifest,
        _ => {
            prov = prov.with_note("MISP does not say index or manifest: index assumed (matching does not depend on it).");
            DigestKind::Index
        }
    };
    draft.judged_digest(
        doc,
        digest_attr,
        digest_attr.str_of("value").unwrap_or_default(),
        &polarity,
        kind,
        platform,
        &repositories,
        &tags,
        false,
        prov,
    );
    // The tag's window is an exposure only when the object's image is malicious: a clean
    // image's tag served nothing.
    let window = window_of(o, relation("tag"));
    if polarity.is_malicious()
        && window != DraftWindow::default()
        && !tags.is_empty()
        && !repositories.is_empty()
    {
        draft.exposure(doc, o, &repositories, &tags, window, doc.prov.clone());
    }
}

/// Operating systems as OCI platforms name them (Go's `GOOS`).
const OCI_OS: [&str; 15] = [
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "illumos",
    "ios",
    "js",
    "linux",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
];

/// The OCI platform of a `container-image` object's `os` and `architecture`, and a note when it
/// had to be read. The template's `os` is "the base OS of the image (e.g., alpine, debian)": a
/// distribution is Linux. Without an OS the platform is not recorded (the note keeps the
/// architecture).
fn platform(os: Option<&str>, architecture: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(raw_arch) = architecture else {
        return (None, None);
    };
    let arch = raw_arch.to_ascii_lowercase();
    let arch = match arch.as_str() {
        "x86_64" | "x86-64" | "x64" => "amd64",
        "aarch64" | "arm64/v8" => "arm64",
        "i386" | "i686" | "x86" => "386",
        "armhf" | "armv7" | "armv7l" => "arm/v7",
        "armv6" | "armv6l" | "armel" => "arm/v6",
        a => a,
    };
    let os = os.map(str::trim).filter(|o| !o.is_empty());
    match os.map(str::to_ascii_lowercase) {
        Some(o) if OCI_OS.contains(&o.as_str()) => (Some(format!("{o}/{arch}")), None),
        Some(o) if o.starts_with("windows") => (Some(format!("windows/{arch}")), None),
        Some(_) => (
            Some(format!("linux/{arch}")),
            Some(format!(
                "MISP os {:?} names a Linux distribution: platform linux/{arch}.",
                os.unwrap_or_default()
            )),
        ),
        None => (
            None,
            Some(format!(
                "MISP gives the architecture {raw_arch} but no os: a platform manifest, platform not recorded."
            )),
        ),
    }
}

/// `registry` + `image-name` → `registry/name` (the name alone when it already has a registry).
fn repository(registry: Option<&str>, name: Option<&str>) -> Option<String> {
    let name = name?.trim_matches('/');
    Some(
        match registry
            .map(|r| r.trim_end_matches('/'))
            .filter(|r| !r.is_empty())
        {
            Some(r) if !name.starts_with(&format!("{r}/")) => format!("{r}/{name}"),
            _ => name.to_string(),
        },
    )
}

/// `first_seen`/`last_seen` of the object, else of its tag attribute.
fn window_of(o: &Node, tag: Option<&Node>) -> DraftWindow {
    let of = |n: &Node| DraftWindow {
        start: n.str_of("first_seen").and_then(timestamp),
        end: n.str_of("last_seen").and_then(timestamp),
    };
    let w = of(o);
    if w != DraftWindow::default() {
        return w;
    }
    tag.map(of).unwrap_or_default()
}
