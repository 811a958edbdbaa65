//! A hunt's result as a STIX 2.1 bundle of sightings. The layout is described in the module
//! documentation of [`crate::export`].

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use tagwarden_advisory::Advisory;
use tagwarden_reference::Algorithm;

use super::common::{one_line, timestamp_millis, uuid};
use tagwarden_hunt::{Hit, Matched, Outcome, Verdict};

use super::hunt::{Group, Sighted, group, listing, sighted, unread};
use super::stix::{
    Subject, advisory_indicators, extension_definition, extension_marker, identity, identity_id,
    network_pattern, quote,
};

/// TLP:AMBER (STIX 2.1 predefined marking): a hunt names hosts, jobs and paths of the
/// organisation that ran it, so its sightings are not for public sharing.
pub(crate) const TLP_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";

/// The largest `count` STIX allows on a sighting.
const MAX_COUNT: usize = 999_999_999;

/// The custom properties of sightings, declared by the hunt extension definition.
const HUNT_PROPERTIES: &[&str] = &[
    "x_tagwarden_advisory_id",
    "x_tagwarden_verdict",
    "x_tagwarden_weak",
    "x_tagwarden_source",
    "x_tagwarden_location",
    "x_tagwarden_locations",
    "x_tagwarden_jobs",
    "x_tagwarden_matched",
    "x_tagwarden_time_unknown",
];

fn hunt_extension_id() -> String {
    format!(
        "extension-definition--{}",
        uuid("stix/extension/hunt-properties/v1")
    )
}

fn hunt_extension_definition() -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": hunt_extension_id(),
        "created_by_ref": identity_id(),
        "created": super::stix::TOOL_OBJECTS_CREATED,
        "modified": super::stix::TOOL_OBJECTS_CREATED,
        "name": "tagwarden hunt properties",
        "description": "Top-level x_tagwarden_* properties of the sightings a tagwarden hunt exports: verdict, evidence source, location, jobs.",
        "schema": "The x_tagwarden_* properties as documented in the tagwarden-interchange crate, module export (https://github.com/tagwarden/tagwarden).",
        "version": "1.0.0",
        "extension_types": ["toplevel-property-extension"],
        "extension_properties": HUNT_PROPERTIES,
    })
}

/// Collects the bundle's objects, each id once.
struct Objects {
    list: Vec<Value>,
    ids: HashSet<String>,
}

impl Objects {
    fn add(&mut self, id: &str, object: impl FnOnce() -> Value) {
        if self.ids.insert(id.to_string()) {
            self.list.push(object());
        }
    }
}

pub(crate) fn bundle(advisories: &[&Advisory], outcome: &Outcome, generated: Timestamp) -> String {
    let created = timestamp_millis(generated);
    let hits = sighted(outcome);
    let by_id: HashMap<&str, &Advisory> = advisories
        .iter()
        .rev()
        .map(|a| (a.id.as_str(), *a))
        .collect();
    // Each hit advisory's indicators, computed once: the ids depend on the whole advisory.
    let mut indicators: HashMap<&str, Vec<(Value, Subject<'_>)>> = HashMap::new();
    for h in &hits {
        if let Some(a) = by_id.get(h.advisory.as_str()) {
            indicators
                .entry(a.id.as_str())
                .or_insert_with(|| advisory_indicators(a));
        }
    }
    let mut objects = Objects {
        list: vec![
            identity(),
            extension_definition(),
            hunt_extension_definition(),
        ],
        ids: HashSet::new(),
    };
    let mut sightings = Vec::new();
    for g in group(&hits) {
        let Some(first) = g.first() else {
            continue;
        };
        let known = indicators
            .get(first.advisory.as_str())
            .and_then(|list| find(list, &first));
        let indicator_id = match known {
            Some(ind) => {
                let id = ind["id"].as_str().unwrap_or_default().to_string();
                objects.add(&id, || ind.clone());
                id
            }
            None => {
                let ind = own_indicator(&first, &g, &created);
                let id = ind["id"].as_str().unwrap_or_default().to_string();
                objects.add(&id, || ind);
                id
            }
        };
        let host_id = first.host.as_deref().map(|host| {
            let id = format!("identity--{}", uuid(&format!("stix/hunt/host/{host}")));
            objects.add(&id, || host_identity(&id, host, &created));
            id
        });
        sightings.push(sighting(&g, &first, &indicator_id, host_id, &created));
    }
    let mut bundle_key = format!("stix/hunt/bundle/{created}");
    for s in &sightings {
        bundle_key.push('\n');
        bundle_key.push_str(s["id"].as_str().unwrap_or_default());
    }
    let note = unread_note(outcome, &sightings, &created);
    let mut all = objects.list;
    all.extend(sightings);
    all.extend(note);
    let bundle = json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid(&bundle_key)),
        "objects": all,
    });
    // Serialising a Value built from strings, numbers and maps cannot fail.
    serde_json::to_string_pretty(&bundle).unwrap_or_default()
}

/// A `note` saying what the hunt could not read, about its sightings (or, with none, about
/// tagwarden): a bundle without sightings is not a clean hunt when evidence went unread.
fn unread_note(outcome: &Outcome, sightings: &[Value], created: &str) -> Option<Value> {
    let (lines, more) = unread(outcome);
    if lines.is_empty() {
        return None;
    }
    let mut refs: Vec<Value> = sightings.iter().map(|s| s["id"].clone()).collect();
    if refs.is_empty() {
        refs.push(json!(identity_id()));
    }
    let mut content = String::from(
        "This hunt could not read all the evidence it was given; what it did not read was not searched:\n",
    );
    for l in &lines {
        content.push_str(&format!("- {l}\n"));
    }
    if more > 0 {
        content.push_str(&format!("- and {more} more\n"));
    }
    Some(json!({
        "type": "note",
        "spec_version": "2.1",
        "id": format!("note--{}", uuid(&format!("stix/hunt/unread/{created}/{content}"))),
        "created_by_ref": identity_id(),
        "created": created,
        "modified": created,
        "abstract": "Not everything could be searched",
        "content": content,
        "object_refs": refs,
        "object_marking_refs": [TLP_AMBER],
    }))
}

/// The advisory indicator the hit is a sighting of. An affected tag listed by several exposures
/// goes to the one whose window (or disputed window, for a disputed hit) holds the hit's time.
fn find<'v>(indicators: &'v [(Value, Subject<'_>)], hit: &Hit) -> Option<&'v Value> {
    let mut fallback = None;
    for (value, subject) in indicators {
        let matched = match (&hit.matched, subject) {
            (Matched::Digest(d), Subject::Digest(m)) => m.digest == *d,
            (Matched::ImageTag { repository, tag }, Subject::Exposure(e)) => {
                if !(e.repositories.contains(repository) && e.tags.contains(tag)) {
                    false
                } else {
                    let window = match hit.verdict {
                        Verdict::Disputed => e.disputed_window.as_ref().map(|w| w.value),
                        _ => Some(e.window.value),
                    };
                    let inside = hit
                        .timestamp
                        .zip(window)
                        .is_some_and(|(t, w)| w.start <= t && t <= w.end);
                    if inside {
                        return Some(value);
                    }
                    true
                }
            }
            (
                Matched::ActionCommit {
                    repository, commit, ..
                },
                Subject::ActionCommits(a, c),
            ) => {
                a.repository.eq_ignore_ascii_case(owner_repo(repository))
                    && c.iter().any(|c| c.sha.eq_ignore_ascii_case(commit))
            }
            (Matched::ActionTag { repository, .. }, Subject::ActionTags(a)) => {
                a.repository.eq_ignore_ascii_case(owner_repo(repository))
            }
            (Matched::Network { kind, value }, Subject::Network(n)) => {
                n.kind == *kind && n.value.eq_ignore_ascii_case(value)
            }
            _ => false,
        };
        if matched && fallback.is_none() {
            fallback = Some(value);
        }
    }
    fallback
}

/// `owner/repo` of an action path such as `owner/repo/sub/dir` (workflows may use an action in a
/// subfolder; advisories name the repository).
fn owner_repo(path: &str) -> &str {
    match path.match_indices('/').nth(1) {
        Some((i, _)) => &path[..i],
        None => path,
    }
}

/// An indicator for a hit no loaded advisory names (an indicator feed): the hunt's own, with an
/// id from the feed and the value.
fn own_indicator(hit: &Sighted<'_>, g: &Group<'_>, created: &str) -> Value {
    let (kind, name, pattern) = match &hit.matched {
        Matched::Digest(d) => {
            let hash = match d.algorithm() {
                Algorithm::Sha256 => "SHA-256",
                Algorithm::Sha512 => "SHA-512",
            };
            (
                "malicious_digest",
                format!("Malicious image digest {d}"),
                format!("[file:hashes.'{hash}' = {}]", quote(d.hex())),
            )
        }
        Matched::ImageTag { repository, tag } => (
            "image_exposure",
            format!("Affected image tag {repository}:{tag}"),
            format!(
                "[x-oci-image:repository = {} AND x-oci-image:tag = {}]",
                quote(repository),
                quote(tag)
            ),
        ),
        Matched::ActionCommit {
            repository, commit, ..
        } => (
            "action_commits",
            format!("Malicious commit {commit} of GitHub Action {repository}"),
            format!(
                "[x-github-action:repository = {} AND x-github-action:commit = {}]",
                quote(repository),
                quote(commit)
            ),
        ),
        Matched::ActionTag {
            repository,
            git_ref,
        } => (
            "action_tags",
            format!("Affected tag {git_ref} of GitHub Action {repository}"),
            format!(
                "[x-github-action:repository = {} AND x-github-action:ref = {}]",
                quote(repository),
                quote(git_ref)
            ),
        ),
        Matched::Network { kind, value } => {
            let (what, pattern) = network_pattern(*kind, value);
            ("network_indicator", format!("{what} {value}"), pattern)
        }
    };
    let id = format!(
        "indicator--{}",
        uuid(&format!("stix/hunt/{}/{}", hit.advisory, hit.matched.key()))
    );
    let valid_from = g
        .first_seen()
        .map_or_else(|| created.to_string(), timestamp_millis);
    let mut m = Map::new();
    m.insert("type".into(), json!("indicator"));
    m.insert("spec_version".into(), json!("2.1"));
    m.insert("id".into(), json!(id));
    m.insert("created_by_ref".into(), json!(identity_id()));
    m.insert("created".into(), json!(created));
    m.insert("modified".into(), json!(created));
    m.insert("name".into(), json!(one_line(&name)));
    m.insert(
        "description".into(),
        json!(format!(
            "Indicator from {}, not from a tagwarden advisory.",
            one_line(&hit.advisory)
        )),
    );
    let types = if hit.weak {
        "anomalous-activity"
    } else {
        "malicious-activity"
    };
    m.insert("indicator_types".into(), json!([types]));
    m.insert("pattern".into(), json!(pattern));
    m.insert("pattern_type".into(), json!("stix"));
    m.insert("pattern_version".into(), json!("2.1"));
    m.insert("valid_from".into(), json!(valid_from));
    m.insert("x_tagwarden_advisory_id".into(), json!(hit.advisory));
    m.insert("x_tagwarden_kind".into(), json!(kind));
    if let Matched::Network { kind, .. } = &hit.matched {
        m.insert("x_tagwarden_network_kind".into(), json!(kind.as_str()));
    }
    if hit.weak {
        m.insert("x_tagwarden_weak".into(), json!(true));
    }
    m.insert("extensions".into(), extension_marker());
    Value::Object(m)
}

/// The machine a hit happened on, as the place it was sighted.
fn host_identity(id: &str, host: &str, created: &str) -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": id,
        "created_by_ref": identity_id(),
        "created": created,
        "modified": created,
        "name": one_line(host),
        "description": "A host (machine or client address) where a tagwarden hunt found evidence.",
        "identity_class": "system",
        "object_marking_refs": [TLP_AMBER],
    })
}

fn sighting(
    g: &Group<'_>,
    first: &Sighted<'_>,
    indicator_id: &str,
    host_id: Option<String>,
    created: &str,
) -> Value {
    let key = format!(
        "stix/hunt/sighting/{indicator_id}/{}/{}/{}/{}/{}",
        first.verdict.as_str(),
        first.weak,
        first.source,
        first.location,
        first.host.as_deref().unwrap_or("")
    );
    let (places, more_places) = g.places();
    let (jobs, more_jobs) = g.jobs();
    let unknown = g.unknown_times();
    let count = g.hits.len();

    let mut description = if first.weak {
        format!(
            "Weak signal, not a hit on its own ({}): ",
            first.verdict.as_str()
        )
    } else {
        format!("{}: ", capitalised(first.verdict.as_str()))
    };
    description.push_str(&format!(
        "{} seen {count} time{} by {} in {}",
        one_line(&first.matched.display()),
        if count == 1 { "" } else { "s" },
        first.source,
        listing(&places, more_places)
    ));
    if !jobs.is_empty() {
        description.push_str(&format!(", job {}", listing(&jobs, more_jobs)));
    }
    if let Some(host) = &first.host {
        description.push_str(&format!(", host {}", one_line(host)));
    }
    description.push('.');
    if unknown == count {
        description
            .push_str(" Time unknown: the source gives none, so the sighting has no first_seen.");
    } else if unknown > 0 {
        description.push_str(&format!(
            " {unknown} of them at an unknown time (not in first_seen/last_seen)."
        ));
    }
    description.push(' ');
    description.push_str(&one_line(&first.detail));
    description.push('.');

    let mut m = Map::new();
    m.insert("type".into(), json!("sighting"));
    m.insert("spec_version".into(), json!("2.1"));
    // One hunt, one observation: a later hunt is a new sighting, never a new version of this
    // one (STIX forbids a changed `created` under the same id).
    m.insert(
        "id".into(),
        json!(format!("sighting--{}", uuid(&format!("{key}|{created}")))),
    );
    m.insert("created_by_ref".into(), json!(identity_id()));
    m.insert("created".into(), json!(created));
    m.insert("modified".into(), json!(created));
    m.insert("sighting_of_ref".into(), json!(indicator_id));
    m.insert("count".into(), json!(count.min(MAX_COUNT)));
    if let (Some(a), Some(b)) = (g.first_seen(), g.last_seen()) {
        m.insert("first_seen".into(), json!(timestamp_millis(a)));
        m.insert("last_seen".into(), json!(timestamp_millis(b)));
    }
    if let Some(host) = host_id {
        m.insert("where_sighted_refs".into(), json!([host]));
    }
    m.insert("summary".into(), json!(false));
    m.insert("description".into(), json!(description));
    m.insert("object_marking_refs".into(), json!([TLP_AMBER]));
    m.insert("x_tagwarden_advisory_id".into(), json!(first.advisory));
    m.insert("x_tagwarden_verdict".into(), json!(first.verdict.as_str()));
    if first.weak {
        m.insert("x_tagwarden_weak".into(), json!(true));
    }
    m.insert("x_tagwarden_source".into(), json!(first.source));
    m.insert("x_tagwarden_location".into(), json!(first.location));
    m.insert("x_tagwarden_locations".into(), json!(places));
    if !jobs.is_empty() {
        m.insert("x_tagwarden_jobs".into(), json!(jobs));
    }
    m.insert("x_tagwarden_matched".into(), json!(first.matched.display()));
    if unknown > 0 {
        m.insert("x_tagwarden_time_unknown".into(), json!(unknown));
    }
    let mut ext = Map::new();
    ext.insert(
        hunt_extension_id(),
        json!({ "extension_type": "toplevel-property-extension" }),
    );
    m.insert("extensions".into(), Value::Object(ext));
    Value::Object(m)
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The id the advisory export gives the indicator named by `hit`, if a loaded advisory names it.
#[cfg(test)]
pub(crate) fn indicator_id_for(advisory: &Advisory, hit: &Hit) -> Option<String> {
    let list = advisory_indicators(advisory);
    find(&list, hit).and_then(|v| v["id"].as_str().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagwarden_advisory::AdvisorySet;

    #[test]
    fn action_paths() {
        assert_eq!(owner_repo("a/b/c/d"), "a/b");
        assert_eq!(owner_repo("a/b"), "a/b");
        assert_eq!(owner_repo("a"), "a");
    }

    #[test]
    fn exposure_windows_pick_the_indicator() {
        let set = AdvisorySet::builtin();
        let kics = set.get("kics-2026-04-22").unwrap();
        let hit = Hit {
            advisory: kics.id.clone(),
            verdict: Verdict::Exposed,
            matched: Matched::ImageTag {
                repository: "docker.io/checkmarx/kics".into(),
                tag: "latest".into(),
            },
            source: tagwarden_hunt::SourceKind::File,
            location: "ci.yml".into(),
            line: Some(3),
            timestamp: None,
            host: None,
            job: None,
            detail: "uses it".into(),
            excerpt: None,
        };
        assert!(indicator_id_for(kics, &hit).is_some());
        let other = Hit {
            matched: Matched::ImageTag {
                repository: "docker.io/library/alpine".into(),
                tag: "latest".into(),
            },
            ..hit
        };
        assert!(indicator_id_for(kics, &other).is_none());
    }
}
