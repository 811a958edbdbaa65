//! MISP event export (`{"Event": {…}}`), as MISP and PyMISP load it.

use serde_json::{Map, Value, json};
use tagwarden_advisory::{Advisory, NetworkKind, VersionBound};
use tagwarden_reference::Algorithm;

use super::common::{incident_start, one_line, sources_sentence, uuid};

/// The MISP object template of container images (misp-objects `container-image`, version 1).
const CONTAINER_IMAGE_TEMPLATE: &str = "4aa82e67-ed3d-48a2-8ecd-7a39cf2c3f3c";

struct EventBuilder<'a> {
    advisory: &'a Advisory,
    attributes: Vec<Value>,
    objects: Vec<Value>,
}

pub(crate) fn event(advisory: &Advisory) -> String {
    let mut b = EventBuilder {
        advisory,
        attributes: Vec::new(),
        objects: Vec::new(),
    };
    b.attribute(
        "summary",
        "comment",
        "Other",
        false,
        &one_line(&advisory.summary),
        "Advisory summary (tagwarden).",
    );
    for source in &advisory.sources {
        if let Some(url) = &source.url {
            let title = source.title.as_deref().unwrap_or(&source.id);
            b.attribute(
                &format!("source/{}", source.id),
                "link",
                "External analysis",
                false,
                url,
                title,
            );
        }
    }
    for alias in &advisory.aliases {
        let ty = if alias.starts_with("CVE-") {
            "vulnerability"
        } else {
            "text"
        };
        b.attribute(
            &format!("alias/{alias}"),
            ty,
            "External analysis",
            false,
            alias,
            "Alias of this advisory.",
        );
    }
    for n in &advisory.network_indicators {
        let (ty, what) = match n.kind {
            NetworkKind::Domain => ("domain", "Domain"),
            NetworkKind::Ip => ("ip-dst", "Destination address"),
            NetworkKind::Url => ("url", "URL"),
            NetworkKind::UserAgent => ("user-agent", "HTTP User-Agent"),
            NetworkKind::HttpHeader => ("pattern-in-traffic", "HTTP request header"),
        };
        let weak = if n.weak {
            " Weak: never alert on it alone."
        } else {
            ""
        };
        let comment = format!(
            "{what}.{weak} {}",
            sources_sentence(advisory, &n.provenance)
        );
        b.attribute(
            &format!("network/{}/{}", n.kind.as_str(), n.value),
            ty,
            "Network activity",
            !n.weak,
            &n.value,
            &comment,
        );
    }
    for h in &advisory.file_hashes {
        let comment = format!(
            "{}. {}",
            one_line(&h.description),
            sources_sentence(advisory, &h.provenance)
        );
        let hashes = [
            ("sha256", Some(&h.sha256)),
            ("sha1", h.sha1.as_ref()),
            ("md5", h.md5.as_ref()),
        ];
        for (ty, value) in hashes {
            if let Some(value) = value {
                b.attribute(
                    &format!("file/{}/{ty}", h.sha256),
                    ty,
                    "Payload delivery",
                    true,
                    value,
                    &comment,
                );
            }
        }
    }
    for h in &advisory.host_artifacts {
        let comment = format!(
            "{}. {}",
            one_line(&h.description),
            sources_sentence(advisory, &h.provenance)
        );
        b.attribute(
            &format!("host/{}", h.path),
            "filename",
            "Artifacts dropped",
            true,
            &h.path,
            &comment,
        );
    }
    for o in &advisory.other_indicators {
        let comment = format!(
            "{}: {}. {}",
            o.kind,
            one_line(&o.description),
            sources_sentence(advisory, &o.provenance)
        );
        b.attribute(
            &format!("other/{}/{}", o.kind, o.value),
            "text",
            "Other",
            false,
            &o.value,
            &comment,
        );
    }
    for a in &advisory.actions {
        let w = a.window.value;
        let mut affected = a.tags.clone();
        for rule in &a.tag_rules {
            let (word, v) = match rule.bound {
                VersionBound::Below(v) => ("below", v),
                VersionBound::UpTo(v) => ("up to", v),
            };
            affected.push(format!(
                "{}X[.Y[.Z]] {word} {}.{}.{}",
                rule.prefix, v[0], v[1], v[2]
            ));
        }
        if !affected.is_empty() {
            let value = format!("{}@{}", a.repository, affected.join(", "));
            let comment = format!(
                "GitHub Action tags that pointed at malicious commits between {} and {}. {}",
                w.start,
                w.end,
                sources_sentence(advisory, &a.provenance)
            );
            b.attribute(
                &format!("action/{}/tags", a.repository),
                "text",
                "Payload delivery",
                false,
                &value,
                &comment,
            );
        }
        for c in &a.malicious_commits {
            let tags = if c.tags.is_empty() {
                String::new()
            } else {
                format!(" (tags {})", c.tags.join(", "))
            };
            let comment = format!(
                "Malicious commit of GitHub Action {}{tags}. {}",
                a.repository,
                sources_sentence(advisory, &c.provenance)
            );
            b.attribute(
                &format!("action/{}/commit/{}", a.repository, c.sha),
                "git-commit-id",
                "Internal reference",
                true,
                &c.sha,
                &comment,
            );
        }
    }
    for d in &advisory.malicious_digests {
        let kind = match (&d.platform, d.kind.as_str()) {
            (Some(p), k) => format!("{k} for {p}"),
            (None, k) => k.to_string(),
        };
        let comment = format!(
            "Malicious {kind} digest {}, pushed as {}. {}",
            d.digest,
            if d.tags.is_empty() {
                "(no tag recorded)".to_string()
            } else {
                d.tags.join(", ")
            },
            sources_sentence(advisory, &d.provenance)
        );
        let digest_type = match d.digest.algorithm() {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        };
        for repo in &d.repositories {
            let (registry, name) = repo.split_once('/').unwrap_or(("", repo));
            let mut attrs = vec![
                ("registry", "text", registry.to_string(), false),
                ("image-name", "text", name.to_string(), false),
            ];
            if let Some(tag) = d.tags.first() {
                attrs.push(("tag", "text", tag.clone(), false));
            }
            attrs.push(("digest", digest_type, d.digest.hex().to_string(), true));
            if let Some(p) = &d.platform {
                let mut parts = p.splitn(2, '/');
                if let Some(os) = parts.next() {
                    attrs.push(("os", "text", os.to_string(), false));
                }
                if let Some(arch) = parts.next() {
                    attrs.push(("architecture", "text", arch.to_string(), false));
                }
            }
            b.container_image(&format!("digest/{}/{repo}", d.digest), &comment, attrs);
        }
    }
    for e in &advisory.image_exposures {
        let w = e.window.value;
        let mut comment = format!(
            "Tag served malicious images between {} and {}",
            w.start, w.end
        );
        if let Some(d) = &e.disputed_window {
            comment.push_str(&format!(" (disputed: up to {})", d.value.end));
        }
        comment.push_str(&format!(
            "; an unpinned pull in that window may be compromised. {}",
            sources_sentence(advisory, &e.provenance)
        ));
        for repo in &e.repositories {
            let (registry, name) = repo.split_once('/').unwrap_or(("", repo));
            for tag in &e.tags {
                let attrs = vec![
                    ("registry", "text", registry.to_string(), false),
                    ("image-name", "text", name.to_string(), false),
                    ("tag", "text", tag.clone(), false),
                ];
                b.container_image(
                    &format!("exposure/{repo}:{tag}/{}", w.start),
                    &comment,
                    attrs,
                );
            }
        }
    }
    let mut event = Map::new();
    event.insert("uuid".into(), json!(uuid(&format!("misp/{}", advisory.id))));
    event.insert("info".into(), json!(one_line(&advisory.title)));
    event.insert(
        "date".into(),
        json!(incident_start(advisory).strftime("%Y-%m-%d").to_string()),
    );
    // High threat, analysis completed, shared with all communities (the facts are public).
    event.insert("threat_level_id".into(), json!("1"));
    event.insert("analysis".into(), json!("2"));
    event.insert("distribution".into(), json!("3"));
    event.insert("published".into(), json!(false));
    event.insert(
        "Tag".into(),
        json!([
            { "name": "tlp:clear" },
            { "name": format!("tagwarden:advisory=\"{}\"", advisory.id) },
        ]),
    );
    event.insert("Attribute".into(), Value::Array(b.attributes));
    event.insert("Object".into(), Value::Array(b.objects));
    let doc = json!({ "Event": event });
    // Serialising a Value built from strings, numbers and maps cannot fail.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

impl EventBuilder<'_> {
    fn attribute(
        &mut self,
        key: &str,
        ty: &str,
        category: &str,
        to_ids: bool,
        value: &str,
        comment: &str,
    ) {
        self.attributes.push(json!({
            "uuid": uuid(&format!("misp/{}/attribute/{key}/{ty}", self.advisory.id)),
            "type": ty,
            "category": category,
            "to_ids": to_ids,
            "value": value,
            "comment": comment,
        }));
    }

    fn container_image(
        &mut self,
        key: &str,
        comment: &str,
        attrs: Vec<(&str, &str, String, bool)>,
    ) {
        let object_uuid = uuid(&format!("misp/{}/object/{key}", self.advisory.id));
        let attributes: Vec<Value> = attrs
            .into_iter()
            .map(|(relation, ty, value, to_ids)| {
                json!({
                    "uuid": uuid(&format!("misp/{}/object/{key}/{relation}", self.advisory.id)),
                    "object_relation": relation,
                    "type": ty,
                    "category": if ty == "text" { "Other" } else { "Payload delivery" },
                    "to_ids": to_ids,
                    "value": value,
                })
            })
            .collect();
        self.objects.push(json!({
            "uuid": object_uuid,
            "name": "container-image",
            "meta-category": "misc",
            "description": "Generic container-image object template to represent container images across platforms.",
            "template_uuid": CONTAINER_IMAGE_TEMPLATE,
            "template_version": "1",
            "comment": comment,
            "Attribute": attributes,
        }));
    }
}
