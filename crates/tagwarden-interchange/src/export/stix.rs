//! STIX 2.1 bundle export. The layout and the custom properties are described in the module
//! documentation of [`crate::export`].

use std::collections::HashSet;
use std::net::IpAddr;

use serde_json::{Map, Value, json};
use tagwarden_advisory::{
    ActionAdvisory, Advisory, Commit, ImageExposure, MaliciousDigest, NetworkIndicator,
    NetworkKind, Provenance, Sourced, VersionBound, Window,
};
use tagwarden_reference::Algorithm;

use super::common::{
    confidence_score, date_timestamp, digest_first_seen, incident_start, one_line,
    timestamp_millis, uuid,
};

/// Creation time of the objects that do not belong to one advisory (the identity and the
/// extension definition): fixed, so every export carries the same version of them.
pub(crate) const TOOL_OBJECTS_CREATED: &str = "2026-01-01T00:00:00.000Z";

/// The custom top-level properties the extension definition declares.
const EXTENSION_PROPERTIES: &[&str] = &[
    "x_tagwarden",
    "x_tagwarden_advisory_id",
    "x_tagwarden_kind",
    "x_tagwarden_confidence",
    "x_tagwarden_sources",
    "x_tagwarden_disputed",
    "x_tagwarden_note",
    "x_tagwarden_weak",
    "x_tagwarden_digest",
    "x_tagwarden_digest_kind",
    "x_tagwarden_platform",
    "x_tagwarden_network_kind",
    "x_tagwarden_other_indicators",
];

pub(crate) fn identity_id() -> String {
    format!("identity--{}", uuid("stix/identity"))
}

pub(crate) fn extension_id() -> String {
    format!(
        "extension-definition--{}",
        uuid("stix/extension/advisory-properties/v1")
    )
}

/// The bundle for the advisories; an advisory whose id was already exported is left out, since
/// its object ids would repeat.
pub(crate) fn bundle(advisories: &[&Advisory]) -> String {
    let mut seen = HashSet::new();
    let mut objects = vec![identity(), extension_definition()];
    let mut bundle_key = String::from("stix/bundle");
    for advisory in advisories {
        if !seen.insert(advisory.id.as_str()) {
            continue;
        }
        bundle_key.push('\n');
        bundle_key.push_str(&advisory.id);
        bundle_key.push('@');
        bundle_key.push_str(&advisory.updated.to_string());
        objects.extend(advisory_objects(advisory));
    }
    let bundle = json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid(&bundle_key)),
        "objects": objects,
    });
    // Serialising a Value built from strings, numbers and maps cannot fail.
    serde_json::to_string_pretty(&bundle).unwrap_or_default()
}

pub(crate) fn identity() -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id(),
        "created": TOOL_OBJECTS_CREATED,
        "modified": TOOL_OBJECTS_CREATED,
        "name": "tagwarden",
        "description": "tagwarden: finds, pins and verifies container image references and hunts compromised images. These objects were generated from tagwarden advisories.",
        "identity_class": "system",
    })
}

pub(crate) fn extension_definition() -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": extension_id(),
        "created_by_ref": identity_id(),
        "created": TOOL_OBJECTS_CREATED,
        "modified": TOOL_OBJECTS_CREATED,
        "name": "tagwarden advisory properties",
        "description": "Top-level x_tagwarden_* properties carrying what a tagwarden advisory knows beyond the pattern: repositories, tags, windows, digest kinds, provenance.",
        "schema": "The x_tagwarden_* properties as documented in the tagwarden-interchange crate, module export (https://github.com/tagwarden/tagwarden).",
        "version": "1.0.0",
        "extension_types": ["toplevel-property-extension"],
        "extension_properties": EXTENSION_PROPERTIES,
    })
}

/// What an exported indicator stands for, so that a hunt's sightings can name the indicator an
/// advisory export gave the same value.
#[derive(Clone, Debug)]
pub(crate) enum Subject<'a> {
    Digest(&'a MaliciousDigest),
    Exposure(&'a ImageExposure),
    ActionTags(&'a ActionAdvisory),
    ActionCommits(&'a ActionAdvisory, Vec<&'a Commit>),
    Network(&'a NetworkIndicator),
    /// File hashes and host artifacts: no hunt source reports them.
    Other,
}

/// Builds the objects of one advisory: its indicators, then the report listing them.
struct AdvisoryExport<'a> {
    advisory: &'a Advisory,
    created: String,
    used_ids: HashSet<String>,
    indicators: Vec<(Value, Subject<'a>)>,
}

fn advisory_objects(advisory: &Advisory) -> Vec<Value> {
    let mut objects: Vec<Value> = advisory_indicators(advisory)
        .into_iter()
        .map(|(indicator, _)| indicator)
        .collect();
    let refs: Vec<Value> = objects
        .iter()
        .filter_map(|o| o.get("id").cloned())
        .collect();
    objects.push(report(advisory, refs));
    objects
}

/// The advisory's indicators, in export order, each with what it stands for. Ids depend on the
/// order (a repeated value gets a `#n` suffix), so every export goes through here.
pub(crate) fn advisory_indicators(advisory: &Advisory) -> Vec<(Value, Subject<'_>)> {
    let mut ex = AdvisoryExport {
        advisory,
        created: date_timestamp(advisory.updated),
        used_ids: HashSet::new(),
        indicators: Vec::new(),
    };
    for digest in &advisory.malicious_digests {
        ex.digest(digest);
    }
    for exposure in &advisory.image_exposures {
        ex.exposure(exposure);
    }
    for action in &advisory.actions {
        ex.action_tags(action);
        for group in commit_groups(&action.malicious_commits) {
            ex.action_commits(action, group);
        }
    }
    for indicator in &advisory.network_indicators {
        ex.network(indicator);
    }
    for hash in &advisory.file_hashes {
        let mut parts = vec![format!("file:hashes.'SHA-256' = {}", quote(&hash.sha256))];
        if let Some(sha1) = &hash.sha1 {
            parts.push(format!("file:hashes.'SHA-1' = {}", quote(sha1)));
        }
        if let Some(md5) = &hash.md5 {
            parts.push(format!("file:hashes.MD5 = {}", quote(md5)));
        }
        let name = format!("Malicious file: {}", one_line(&hash.description));
        let mut ind = ex.indicator(
            &format!("file/{}", hash.sha256),
            &name,
            one_line(&hash.description),
            format!("[{}]", parts.join(" OR ")),
            &hash.provenance,
            false,
            "file_hash",
        );
        ind.insert(
            "valid_from".into(),
            json!(timestamp_millis(incident_start(advisory))),
        );
        ex.push(ind, Subject::Other);
    }
    for artifact in &advisory.host_artifacts {
        let name = format!("Host artifact: {}", artifact.path);
        let mut ind = ex.indicator(
            &format!("host/{}", artifact.path),
            &name,
            one_line(&artifact.description),
            host_artifact_pattern(&artifact.path),
            &artifact.provenance,
            false,
            "host_artifact",
        );
        ind.insert(
            "valid_from".into(),
            json!(timestamp_millis(incident_start(advisory))),
        );
        ind.insert("x_tagwarden".into(), json!({ "path": artifact.path }));
        ex.push(ind, Subject::Other);
    }
    ex.indicators
}

impl<'a> AdvisoryExport<'a> {
    /// An id for `key`, unique within the advisory even if the data repeats a value.
    fn id(&mut self, key: &str) -> String {
        let base = format!("stix/{}/{key}", self.advisory.id);
        let mut candidate = format!("indicator--{}", uuid(&base));
        let mut n = 1u32;
        while !self.used_ids.insert(candidate.clone()) {
            n += 1;
            candidate = format!("indicator--{}", uuid(&format!("{base}#{n}")));
        }
        candidate
    }

    /// The properties every indicator has; the caller adds `valid_from` and its specifics.
    #[allow(clippy::too_many_arguments)]
    fn indicator(
        &mut self,
        key: &str,
        name: &str,
        description: String,
        pattern: String,
        provenance: &Provenance,
        weak: bool,
        kind: &str,
    ) -> Map<String, Value> {
        let id = self.id(key);
        let mut m = Map::new();
        m.insert("type".into(), json!("indicator"));
        m.insert("spec_version".into(), json!("2.1"));
        m.insert("id".into(), json!(id));
        m.insert("created_by_ref".into(), json!(identity_id()));
        m.insert("created".into(), json!(self.created));
        m.insert("modified".into(), json!(self.created));
        m.insert("name".into(), json!(name));
        m.insert("description".into(), json!(description));
        let types = if weak {
            "anomalous-activity"
        } else {
            "malicious-activity"
        };
        m.insert("indicator_types".into(), json!([types]));
        m.insert("pattern".into(), json!(pattern));
        m.insert("pattern_type".into(), json!("stix"));
        m.insert("pattern_version".into(), json!("2.1"));
        m.insert(
            "confidence".into(),
            json!(confidence_score(provenance, weak)),
        );
        let refs = source_references(self.advisory, &provenance.sources);
        if !refs.is_empty() {
            m.insert("external_references".into(), Value::Array(refs));
        }
        m.insert("x_tagwarden_advisory_id".into(), json!(self.advisory.id));
        m.insert("x_tagwarden_kind".into(), json!(kind));
        insert_provenance(&mut m, provenance);
        if weak {
            m.insert("x_tagwarden_weak".into(), json!(true));
        }
        m.insert("extensions".into(), extension_marker());
        m
    }

    fn push(&mut self, indicator: Map<String, Value>, subject: Subject<'a>) {
        self.indicators.push((Value::Object(indicator), subject));
    }

    fn digest(&mut self, d: &'a MaliciousDigest) {
        let hash_name = match d.digest.algorithm() {
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha512 => "SHA-512",
        };
        let what = match (d.kind.as_str(), &d.platform) {
            ("manifest", Some(p)) => format!("{p} image manifest"),
            ("index", _) => "multi-platform image index".to_string(),
            ("signature", _) => "signature artifact".to_string(),
            (k, _) => format!("image {k}"),
        };
        // An imported advisory may name no repository: the digest alone is the indicator.
        let (name, published_in) = if d.repositories.is_empty() {
            (
                format!("Malicious {what} {}", d.digest),
                "an unnamed repository".to_string(),
            )
        } else {
            let repos = d.repositories.join(", ");
            (format!("Malicious {what} {} ({repos})", d.digest), repos)
        };
        let description = format!(
            "OCI content digest of a malicious {what} published in {published_in} as {}. A pull or run of this digest is a compromise in any repository and at any time (mirrors and caches serve the same bytes).",
            list_or_none(&d.tags),
        );
        let mut ind = self.indicator(
            &format!("digest/{}", d.digest),
            &name,
            description,
            format!("[file:hashes.'{hash_name}' = {}]", quote(d.digest.hex())),
            &d.provenance,
            false,
            "malicious_digest",
        );
        let first_seen = digest_first_seen(self.advisory, d);
        ind.insert("valid_from".into(), json!(timestamp_millis(first_seen)));
        ind.insert("x_tagwarden_digest".into(), json!(d.digest.to_string()));
        ind.insert("x_tagwarden_digest_kind".into(), json!(d.kind.as_str()));
        if let Some(p) = &d.platform {
            ind.insert("x_tagwarden_platform".into(), json!(p));
        }
        ind.insert(
            "x_tagwarden".into(),
            json!({ "repositories": d.repositories, "tags": d.tags }),
        );
        self.push(ind, Subject::Digest(d));
    }

    fn exposure(&mut self, e: &'a ImageExposure) {
        let w = e.window.value;
        let name = format!(
            "Tags {} of {} served malicious images",
            e.tags.join(", "),
            e.repositories.join(", ")
        );
        let mut description = format!(
            "An unpinned pull of these tags between {} and {} may have fetched a malicious image.",
            w.start, w.end
        );
        if let Some(d) = &e.disputed_window {
            description.push_str(&format!(
                " Some sources give a wider window, {} to {} (disputed).",
                d.value.start, d.value.end
            ));
        }
        let pattern = format!(
            "[x-oci-image:repository IN ({}) AND x-oci-image:tag IN ({})]",
            quoted_list(&e.repositories),
            quoted_list(&e.tags)
        );
        let key = format!(
            "exposure/{}/{}/{}",
            e.repositories.join(","),
            e.tags.join(","),
            w.start
        );
        let mut ind = self.indicator(
            &key,
            &name,
            description,
            pattern,
            &e.provenance,
            false,
            "image_exposure",
        );
        ind.insert("valid_from".into(), json!(timestamp_millis(w.start)));
        ind.insert("valid_until".into(), json!(timestamp_millis(w.end)));
        ind.insert(
            "x_tagwarden".into(),
            json!({
                "repositories": e.repositories,
                "tags": e.tags,
                "window": window_json(&e.window),
                "disputed_window": e.disputed_window.as_ref().map(window_json),
            }),
        );
        self.push(ind, Subject::Exposure(e));
    }

    fn action_tags(&mut self, a: &'a ActionAdvisory) {
        if a.tags.is_empty() && a.tag_rules.is_empty() {
            return;
        }
        let w = a.window.value;
        let mut refs = Vec::new();
        if !a.tags.is_empty() {
            refs.push(format!("x-github-action:ref IN ({})", quoted_list(&a.tags)));
        }
        let mut rules = Vec::new();
        let mut rule_texts = Vec::new();
        for rule in &a.tag_rules {
            // The pattern can only say "prefix + a numeric version"; the bound lives in
            // x_tagwarden.tag_rules, which is exact.
            let regex = format!("^{}[0-9]+(\\.[0-9]+){{0,2}}$", regex_escape(&rule.prefix));
            refs.push(format!("x-github-action:ref MATCHES {}", quote(&regex)));
            let (key, version) = match rule.bound {
                VersionBound::Below(v) => ("below", v),
                VersionBound::UpTo(v) => ("up_to", v),
            };
            let version = format!("{}.{}.{}", version[0], version[1], version[2]);
            rule_texts.push(format!(
                "{}X[.Y[.Z]] {} {version}",
                rule.prefix,
                if key == "below" { "below" } else { "up to" }
            ));
            rules.push(json!({ "prefix": rule.prefix, key: version }));
        }
        let pattern = format!(
            "[x-github-action:repository = {} AND ({})]",
            quote(&a.repository),
            refs.join(" OR ")
        );
        let mut affected = a.tags.clone();
        affected.extend(rule_texts);
        let name = format!("Hijacked tags of GitHub Action {}", a.repository);
        let description = format!(
            "Tags {} of {} (repository matched case-insensitively) pointed at malicious commits between {} and {}. The pattern's MATCHES clauses over-approximate the version rules: x_tagwarden.tag_rules is exact.",
            affected.join(", "),
            a.repository,
            w.start,
            w.end
        );
        let mut ind = self.indicator(
            &format!("action/{}/tags", a.repository),
            &name,
            description,
            pattern,
            &a.provenance,
            false,
            "action_tags",
        );
        ind.insert("valid_from".into(), json!(timestamp_millis(w.start)));
        ind.insert("valid_until".into(), json!(timestamp_millis(w.end)));
        ind.insert(
            "x_tagwarden".into(),
            json!({
                "repositories": [a.repository],
                "tags": a.tags,
                "tag_rules": rules,
                "window": window_json(&a.window),
                "disputed_window": Value::Null,
            }),
        );
        self.push(ind, Subject::ActionTags(a));
    }

    fn action_commits(&mut self, a: &'a ActionAdvisory, group: Vec<&'a Commit>) {
        let Some(c) = group.first() else {
            return;
        };
        let name = format!("Malicious commits of GitHub Action {}", a.repository);
        let description = format!(
            "A workflow that uses {} at one of these commits ran malicious code, whatever the date{}.",
            a.repository,
            if c.tags.is_empty() {
                String::new()
            } else {
                format!(" (tags {})", c.tags.join(", "))
            }
        );
        let shas: Vec<String> = group.iter().map(|c| c.sha.clone()).collect();
        let pattern = format!(
            "[x-github-action:repository = {} AND x-github-action:commit IN ({})]",
            quote(&a.repository),
            quoted_list(&shas)
        );
        let mut ind = self.indicator(
            &format!("action/{}/commit/{}", a.repository, c.sha),
            &name,
            description,
            pattern,
            &c.provenance,
            false,
            "action_commits",
        );
        ind.insert(
            "valid_from".into(),
            json!(timestamp_millis(a.window.value.start)),
        );
        ind.insert(
            "x_tagwarden".into(),
            json!({
                "repositories": [a.repository],
                "tags": c.tags,
                "commits": shas,
                "window": window_json(&a.window),
                "disputed_window": Value::Null,
            }),
        );
        self.push(ind, Subject::ActionCommits(a, group));
    }

    fn network(&mut self, n: &'a NetworkIndicator) {
        let (what, pattern) = network_pattern(n.kind, &n.value);
        let name = format!("{what} {}", n.value);
        let mut description = match n.kind {
            NetworkKind::UserAgent | NetworkKind::HttpHeader => format!(
                "HTTP requests carrying {} (visible only with TLS inspection or endpoint telemetry when sent over HTTPS).",
                n.value
            ),
            _ => format!("Traffic to {} is an indicator of this compromise.", n.value),
        };
        if n.weak {
            description.push_str(" Weak indicator: never alert on it alone.");
        }
        let mut ind = self.indicator(
            &format!("network/{}/{}", n.kind.as_str(), n.value),
            &name,
            description,
            pattern,
            &n.provenance,
            n.weak,
            "network_indicator",
        );
        ind.insert(
            "valid_from".into(),
            json!(timestamp_millis(incident_start(self.advisory))),
        );
        ind.insert("x_tagwarden_network_kind".into(), json!(n.kind.as_str()));
        self.push(ind, Subject::Network(n));
    }
}

/// What a network indicator is called in a name, and its pattern.
pub(crate) fn network_pattern(kind: NetworkKind, value: &str) -> (&'static str, String) {
    match kind {
        NetworkKind::Domain => ("Domain", format!("[domain-name:value = {}]", quote(value))),
        NetworkKind::Ip => {
            let ty = match value.parse::<IpAddr>() {
                Ok(IpAddr::V6(_)) => "ipv6-addr",
                _ => "ipv4-addr",
            };
            ("IP address", format!("[{ty}:value = {}]", quote(value)))
        }
        NetworkKind::Url => ("URL", format!("[url:value = {}]", quote(value))),
        NetworkKind::UserAgent => ("User-Agent", header_pattern("User-Agent", value)),
        NetworkKind::HttpHeader => {
            let (header, rest) = value.split_once(':').unwrap_or((value, ""));
            ("HTTP header", header_pattern(header.trim(), rest.trim()))
        }
    }
}

/// Consecutive commits with the same provenance and tags (one `malicious_commits` record of the
/// advisory file) become one indicator.
fn commit_groups(commits: &[Commit]) -> Vec<Vec<&Commit>> {
    let mut groups: Vec<Vec<&Commit>> = Vec::new();
    for c in commits {
        match groups.last_mut() {
            Some(g)
                if g.first()
                    .is_some_and(|f| f.provenance == c.provenance && f.tags == c.tags) =>
            {
                g.push(c)
            }
            _ => groups.push(vec![c]),
        }
    }
    groups
}

fn report(advisory: &Advisory, object_refs: Vec<Value>) -> Value {
    let created = date_timestamp(advisory.updated);
    let mut refs = vec![json!({ "source_name": "tagwarden", "external_id": advisory.id })];
    for alias in &advisory.aliases {
        refs.push(alias_reference(alias));
    }
    let all_sources: Vec<String> = advisory.sources.iter().map(|s| s.id.clone()).collect();
    refs.extend(source_references(advisory, &all_sources));
    let others: Vec<Value> = advisory
        .other_indicators
        .iter()
        .map(|o| {
            let mut m = Map::new();
            m.insert("kind".into(), json!(o.kind));
            m.insert("value".into(), json!(o.value));
            m.insert("description".into(), json!(o.description));
            m.insert("confidence".into(), json!(o.provenance.confidence.as_str()));
            m.insert("sources".into(), json!(o.provenance.sources));
            m.insert("disputed".into(), json!(o.provenance.disputed));
            if let Some(note) = &o.provenance.note {
                m.insert("note".into(), json!(note));
            }
            Value::Object(m)
        })
        .collect();
    let mut m = Map::new();
    m.insert("type".into(), json!("report"));
    m.insert("spec_version".into(), json!("2.1"));
    m.insert(
        "id".into(),
        json!(format!(
            "report--{}",
            uuid(&format!("stix/{}/report", advisory.id))
        )),
    );
    m.insert("created_by_ref".into(), json!(identity_id()));
    m.insert("created".into(), json!(created));
    m.insert("modified".into(), json!(created));
    m.insert("name".into(), json!(advisory.title));
    m.insert("description".into(), json!(advisory.summary));
    m.insert("report_types".into(), json!(["threat-report"]));
    m.insert(
        "published".into(),
        json!(date_timestamp(advisory.published)),
    );
    // A report must reference at least one object; an advisory without indicators names the
    // identity that produced it.
    let object_refs = if object_refs.is_empty() {
        vec![json!(identity_id())]
    } else {
        object_refs
    };
    m.insert("object_refs".into(), Value::Array(object_refs));
    m.insert("external_references".into(), Value::Array(refs));
    m.insert("x_tagwarden_advisory_id".into(), json!(advisory.id));
    if !others.is_empty() {
        m.insert("x_tagwarden_other_indicators".into(), Value::Array(others));
    }
    m.insert("extensions".into(), extension_marker());
    Value::Object(m)
}

pub(crate) fn extension_marker() -> Value {
    let mut ext = Map::new();
    ext.insert(
        extension_id(),
        json!({ "extension_type": "toplevel-property-extension" }),
    );
    Value::Object(ext)
}

fn insert_provenance(m: &mut Map<String, Value>, p: &Provenance) {
    m.insert(
        "x_tagwarden_confidence".into(),
        json!(p.confidence.as_str()),
    );
    m.insert("x_tagwarden_sources".into(), json!(p.sources));
    m.insert("x_tagwarden_disputed".into(), json!(p.disputed));
    if let Some(note) = &p.note {
        m.insert("x_tagwarden_note".into(), json!(note));
    }
}

fn window_json(w: &Sourced<Window>) -> Value {
    let mut m = Map::new();
    m.insert("start".into(), json!(w.value.start.to_string()));
    m.insert("end".into(), json!(w.value.end.to_string()));
    m.insert("confidence".into(), json!(w.provenance.confidence.as_str()));
    m.insert("sources".into(), json!(w.provenance.sources));
    m.insert("disputed".into(), json!(w.provenance.disputed));
    if let Some(note) = &w.provenance.note {
        m.insert("note".into(), json!(note));
    }
    Value::Object(m)
}

/// External references for the cited sources: `source_name` is the advisory's source id (stable,
/// for importers), `description` its title.
fn source_references(advisory: &Advisory, ids: &[String]) -> Vec<Value> {
    ids.iter()
        .filter_map(|id| advisory.source(id))
        .map(|s| {
            let mut m = Map::new();
            m.insert("source_name".into(), json!(source_name(&s.id)));
            if let Some(t) = &s.title {
                m.insert("description".into(), json!(t));
            }
            if let Some(u) = &s.url {
                m.insert("url".into(), json!(u));
            }
            Value::Object(m)
        })
        .collect()
}

/// The `source_name` of a cited source: its id, except that `cve` and `capec` are reserved by
/// STIX for references carrying such an id, so those get a `tagwarden-source-` prefix.
pub(crate) fn source_name(id: &str) -> String {
    if id.eq_ignore_ascii_case("cve") || id.eq_ignore_ascii_case("capec") {
        format!("tagwarden-source-{id}")
    } else {
        id.to_string()
    }
}

/// CVE, GHSA and Go vulnerability ids as external references with their canonical pages.
fn alias_reference(alias: &str) -> Value {
    if alias.starts_with("CVE-") {
        json!({ "source_name": "cve", "external_id": alias,
                "url": format!("https://www.cve.org/CVERecord?id={alias}") })
    } else if alias.starts_with("GHSA-") {
        json!({ "source_name": "github-advisory", "external_id": alias,
                "url": format!("https://github.com/advisories/{alias}") })
    } else if alias.starts_with("GO-") {
        json!({ "source_name": "go-vulndb", "external_id": alias,
                "url": format!("https://pkg.go.dev/vuln/{alias}") })
    } else {
        json!({ "source_name": "alias", "external_id": alias })
    }
}

fn header_pattern(header: &str, value: &str) -> String {
    format!(
        "[network-traffic:extensions.'http-request-ext'.request_header.{} = {}]",
        quote(header),
        quote(value)
    )
}

/// `[file:name = …]`, with the parent directory when the path has one; a path ending in `/` is a
/// directory.
fn host_artifact_pattern(path: &str) -> String {
    if path.len() > 1 && path.ends_with('/') {
        return format!("[directory:path = {}]", quote(path.trim_end_matches('/')));
    }
    match path.rsplit_once('/') {
        Some((dir, name)) if !name.is_empty() => {
            let dir = if dir.is_empty() { "/" } else { dir };
            format!(
                "[file:name = {} AND file:parent_directory_ref.path = {}]",
                quote(name),
                quote(dir)
            )
        }
        _ => format!("[file:name = {}]", quote(path)),
    }
}

/// A STIX pattern string literal: single quotes, with `\` and `'` escaped.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| quote(s))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(no tag recorded)".to_string()
    } else {
        items.join(", ")
    }
}

/// Escapes regular-expression metacharacters of a literal prefix.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(regex_escape("v1."), "v1\\.");
    }

    #[test]
    fn host_artifacts() {
        assert_eq!(
            host_artifact_pattern("~/.checkmarx/mcp/mcpAddon.js"),
            "[file:name = 'mcpAddon.js' AND file:parent_directory_ref.path = '~/.checkmarx/mcp']"
        );
        assert_eq!(
            host_artifact_pattern("/tmp/x/"),
            "[directory:path = '/tmp/x']"
        );
        assert_eq!(
            host_artifact_pattern("/pglog"),
            "[file:name = 'pglog' AND file:parent_directory_ref.path = '/']"
        );
        assert_eq!(host_artifact_pattern("x"), "[file:name = 'x']");
    }
}
