//! A hunt's result as a MISP event: one attribute per matched indicator, with MISP sightings.
//! The layout is described in the module documentation of [`crate::export`].

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value, json};
use tagwarden_advisory::{Advisory, NetworkKind};
use tagwarden_reference::Algorithm;

use super::common::{one_line, uuid};
use tagwarden_hunt::{Hit, Matched, Outcome, Verdict};

use super::hunt::{MAX_LISTED, Sighted, distinct, listing, sighted, unread};

/// At most this many MISP sightings per attribute: the count beyond is in the comment (a
/// sighting per DNS query of a busy resolver log would drown MISP).
const MAX_SIGHTINGS: usize = 1000;

/// MISP stores a sighting's `source` in 255 characters.
const MAX_SOURCE_CHARS: usize = 255;

pub(crate) fn event(advisories: &[&Advisory], outcome: &Outcome, generated: Timestamp) -> String {
    let date = generated.strftime("%Y-%m-%d").to_string();
    let hits = sighted(outcome);
    // Per advisory, indicator and weakness: one attribute. BTreeMap: stable order.
    let mut by_attribute: BTreeMap<(&str, String, bool), Vec<Sighted<'_>>> = BTreeMap::new();
    for h in &hits {
        by_attribute
            .entry((h.hit.advisory.as_str(), h.matched.key(), h.weak))
            .or_default()
            .push(*h);
    }
    let mut advisory_ids: Vec<&str> = by_attribute.keys().map(|k| k.0).collect();
    advisory_ids.dedup();
    let mut event_key = format!("misp/hunt/{}", generated.as_second());
    for id in &advisory_ids {
        event_key.push('\n');
        event_key.push_str(id);
    }
    let event_uuid = uuid(&event_key);

    let mut attributes = Vec::new();
    for ((advisory_id, key, weak), mut group) in by_attribute {
        group.sort_by_key(|h| (h.timestamp.is_none(), h.timestamp, h.place()));
        let Some(first) = group.first().copied() else {
            continue;
        };
        let attribute_uuid = uuid(&format!(
            "misp/hunt/{event_uuid}/attribute/{advisory_id}/{key}/{weak}"
        ));
        let advisory = advisories.iter().find(|a| a.id == advisory_id);
        attributes.push(attribute(
            &attribute_uuid,
            &first,
            &group,
            advisory.copied(),
            generated,
        ));
    }

    let (unread_lines, more) = unread(outcome);
    if !unread_lines.is_empty() {
        let mut value = unread_lines.join("\n");
        if more > 0 {
            value.push_str(&format!("\nand {more} more"));
        }
        attributes.push(json!({
            "uuid": uuid(&format!("misp/hunt/{event_uuid}/unread")),
            "type": "comment",
            "category": "Other",
            "to_ids": false,
            "value": value,
            "comment": "Not everything could be searched: this evidence was not read, so the absence of a sighting here is not a clean answer.",
        }));
    }

    let threat_level = if hits
        .iter()
        .any(|h| !h.weak && h.verdict == Verdict::Compromised)
    {
        "1"
    } else {
        "2"
    };
    let mut tags = vec![
        json!({ "name": "tlp:amber" }),
        json!({ "name": "tagwarden:hunt" }),
    ];
    for id in &advisory_ids {
        tags.push(json!({ "name": format!("tagwarden:advisory=\"{}\"", one_line(id)) }));
    }
    let mut event = Map::new();
    event.insert("uuid".into(), json!(event_uuid));
    event.insert("info".into(), json!(format!("tagwarden hunt {date}")));
    event.insert("date".into(), json!(date));
    event.insert("timestamp".into(), json!(generated.as_second().to_string()));
    // Threat high when something was compromised; analysis ongoing (a hunt starts the
    // response); this organisation only (hosts and jobs are internal).
    event.insert("threat_level_id".into(), json!(threat_level));
    event.insert("analysis".into(), json!("1"));
    event.insert("distribution".into(), json!("0"));
    event.insert("published".into(), json!(false));
    event.insert("Tag".into(), Value::Array(tags));
    event.insert("Attribute".into(), Value::Array(attributes));
    event.insert("Object".into(), json!([]));
    let doc = json!({ "Event": event });
    // Serialising a Value built from strings, numbers and maps cannot fail.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The MISP type, category and value of a matched indicator.
fn misp_value(indicator: &Matched) -> (&'static str, &'static str, String) {
    match indicator {
        Matched::Digest(d) => {
            let ty = match d.algorithm() {
                Algorithm::Sha256 => "sha256",
                Algorithm::Sha512 => "sha512",
            };
            (ty, "Payload delivery", d.hex().to_string())
        }
        Matched::ImageTag { repository, tag } => {
            ("text", "Payload delivery", format!("{repository}:{tag}"))
        }
        Matched::ActionCommit { commit, .. } => {
            ("git-commit-id", "Internal reference", commit.clone())
        }
        Matched::ActionTag {
            repository,
            git_ref,
        } => (
            "text",
            "Payload delivery",
            format!("{repository}@{git_ref}"),
        ),
        Matched::Network { kind, value } => {
            let ty = match kind {
                NetworkKind::Domain => "domain",
                NetworkKind::Ip => "ip-dst",
                NetworkKind::Url => "url",
                NetworkKind::UserAgent => "user-agent",
                NetworkKind::HttpHeader => "pattern-in-traffic",
            };
            (ty, "Network activity", value.clone())
        }
    }
}

/// `source (location:line) at time, host h, job j`: one sighting's `source`, one entry of a
/// comment.
fn where_when(h: &Hit) -> String {
    let mut s = format!("tagwarden {} {}", h.source, h.place());
    match h.timestamp {
        Some(t) => s.push_str(&format!(" at {t}")),
        None => s.push_str(" at an unknown time"),
    }
    if let Some(host) = &h.host {
        s.push_str(&format!(", host {host}"));
    }
    if let Some(job) = &h.job {
        s.push_str(&format!(", job {job}"));
    }
    one_line(&s)
}

fn attribute(
    attribute_uuid: &str,
    first: &Sighted<'_>,
    group: &[Sighted<'_>],
    advisory: Option<&Advisory>,
    generated: Timestamp,
) -> Value {
    let (ty, category, value) = misp_value(&first.matched);
    let (verdicts, _) = distinct(group.iter().map(|h| h.verdict.as_str()));
    let entries: Vec<String> = group
        .iter()
        .take(MAX_LISTED)
        .map(|h| where_when(h))
        .collect();
    let about = match advisory {
        Some(a) => format!(
            "advisory {} ({}; its MISP event {})",
            a.id,
            one_line(&a.title),
            uuid(&format!("misp/{}", a.id))
        ),
        None => format!(
            "indicator from {} (not a tagwarden advisory)",
            one_line(&first.advisory)
        ),
    };
    let mut comment = if first.weak {
        format!(
            "Weak signal, not a hit on its own ({}): {about}. ",
            verdicts.join(", ")
        )
    } else {
        format!("{}: {about}. ", verdicts.join(", "))
    };
    comment.push_str(&format!(
        "Seen {} time{}: {}.",
        group.len(),
        if group.len() == 1 { "" } else { "s" },
        listing(&entries, group.len().saturating_sub(entries.len()))
    ));
    if group.len() > MAX_SIGHTINGS && !first.weak {
        comment.push_str(&format!(
            " Only the first {MAX_SIGHTINGS} are listed as sightings."
        ));
    }
    comment.push(' ');
    comment.push_str(&one_line(&first.detail));
    comment.push('.');

    let mut m = Map::new();
    m.insert("uuid".into(), json!(attribute_uuid));
    m.insert("type".into(), json!(ty));
    m.insert("category".into(), json!(category));
    // Weak values and tag names (plain text) are context, not detection material.
    m.insert("to_ids".into(), json!(!first.weak && ty != "text"));
    m.insert("value".into(), json!(value));
    m.insert("comment".into(), json!(comment));
    let known: Vec<Timestamp> = group.iter().filter_map(|h| h.timestamp).collect();
    if let (Some(a), Some(b)) = (known.iter().min(), known.iter().max()) {
        m.insert("first_seen".into(), json!(misp_time(*a)));
        m.insert("last_seen".into(), json!(misp_time(*b)));
    }
    // Weak matches are listed, not sighted: a MISP sighting raises the value's standing.
    if !first.weak {
        let sightings: Vec<Value> = group
            .iter()
            .take(MAX_SIGHTINGS)
            .enumerate()
            .map(|(i, h)| {
                let mut source = where_when(h);
                if h.timestamp.is_none() {
                    source.push_str(" (dated when the hunt ran)");
                }
                let source = truncate(&source, MAX_SOURCE_CHARS);
                let when = h.timestamp.unwrap_or(generated);
                json!({
                    "uuid": uuid(&format!("misp/hunt/{attribute_uuid}/sighting/{i}")),
                    "attribute_uuid": attribute_uuid,
                    "type": "0",
                    "date_sighting": when.as_second().to_string(),
                    "source": source,
                })
            })
            .collect();
        m.insert("Sighting".into(), Value::Array(sightings));
    }
    Value::Object(m)
}

/// At most `max` characters, with `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// MISP's `first_seen`/`last_seen`: ISO 8601 with microseconds and an offset.
fn misp_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}
