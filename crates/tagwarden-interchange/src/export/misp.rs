//! MISP event export (`{"Event": {…}}`), as MISP and PyMISP load it.

use serde_json::{Map, Value, json};
use tagwarden_advisory::{Advisory, NetworkKind, Provenance, VersionBound, Window};
use tagwarden_reference::Algorithm;

use super::common::{incident_start, one_line, sources_sentence, uuid};

/// The MISP object template of container images (misp-objects `container-image`, version 1).
const CONTAINER_IMAGE_TEMPLATE: &str = "4aa82e67-ed3d-48a2-8ecd-7a39cf2c3f3c";
/// The MISP object template of files (misp-objects `file`, version 25).
const FILE_TEMPLATE: &str = "688c46fb-5edb-40a3-8273-1af7923e2215";

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
    b.tag_last(vec![kind_tag("summary")]);
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
            b.tag_last(vec![tag("source", &source.id)]);
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
        b.tag_last(vec![kind_tag("alias")]);
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
        b.tag_last(value_tags("network_indicator", &n.provenance));
    }
    for h in &advisory.file_hashes {
        let comment = format!(
            "{}. {}",
            one_line(&h.description),
            sources_sentence(advisory, &h.provenance)
        );
        // One `file` object per file: MISP's shape for several hashes of the same bytes.
        let mut attrs = vec![("sha256", "sha256", h.sha256.clone(), true)];
        if let Some(sha1) = &h.sha1 {
            attrs.push(("sha1", "sha1", sha1.clone(), true));
        }
        if let Some(md5) = &h.md5 {
            attrs.push(("md5", "md5", md5.clone(), true));
        }
        attrs.push(("text", "text", one_line(&h.description), false));
        b.object(
            "file",
            FILE_TEMPLATE,
            "25",
            &format!("file/{}", h.sha256),
            &comment,
            attrs,
        );
        b.tag_object_attribute("sha256", value_tags("file_hash", &h.provenance));
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
        b.tag_last(value_tags("host_artifact", &h.provenance));
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
        let mut tags = value_tags("other_indicator", &o.provenance);
        tags.push(tag("other-kind", &o.kind));
        b.tag_last(tags);
    }
    for a in &advisory.actions {
        let w = a.window.value;
        let mut affected = a.tags.clone();
        let mut tags = value_tags("action_tags", &a.provenance);
        for t in &a.tags {
            tags.push(tag("action-tag", t));
        }
        for rule in &a.tag_rules {
            let (word, key, v) = match rule.bound {
                VersionBound::Below(v) => ("below", "below", v),
                VersionBound::UpTo(v) => ("up to", "up_to", v),
            };
            affected.push(format!(
                "{}X[.Y[.Z]] {word} {}.{}.{}",
                rule.prefix, v[0], v[1], v[2]
            ));
            tags.push(tag(
                "action-tag-rule",
                &format!("prefix={};{key}={}.{}.{}", rule.prefix, v[0], v[1], v[2]),
            ));
        }
        if !affected.is_empty() {
            // MISP's own type for the repository; the tags and rules ride as tagwarden tags,
            // the window as the attribute's first_seen/last_seen.
            let comment = format!(
                "GitHub Action tags {} pointed at malicious commits between {} and {}. {}",
                affected.join(", "),
                w.start,
                w.end,
                sources_sentence(advisory, &a.provenance)
            );
            b.attribute(
                &format!("action/{}/tags", a.repository),
                "github-repository",
                // The categories MISP allows for the type: External analysis or Social network.
                "External analysis",
                false,
                &a.repository,
                &comment,
            );
            b.tag_last(tags);
            b.seen_last(&a.window.value);
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
            let mut tags = value_tags("action_commits", &c.provenance);
            tags.push(tag("action", &a.repository));
            for t in &c.tags {
                tags.push(tag("action-tag", t));
            }
            b.tag_last(tags);
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
        // An advisory may name no repository (STIX imports): one object with the digest alone,
        // which the template allows, so the digest is never lost.
        let repositories: Vec<Option<&String>> = if d.repositories.is_empty() {
            vec![None]
        } else {
            d.repositories.iter().map(Some).collect()
        };
        for repo in repositories {
            let mut attrs = Vec::new();
            if let Some(repo) = repo {
                let (registry, name) = repo.split_once('/').unwrap_or(("", repo));
                attrs.push(("registry", "text", registry.to_string(), false));
                attrs.push(("image-name", "text", name.to_string(), false));
            }
            if let Some(tag) = d.tags.first() {
                attrs.push(("tag", "text", tag.clone(), false));
            }
            attrs.push(("digest", digest_type, d.digest.hex().to_string(), true));
            let mut tags = value_tags("malicious_digest", &d.provenance);
            tags.push(tag("digest-kind", d.kind.as_str()));
            if let Some(p) = &d.platform {
                let mut parts = p.splitn(2, '/');
                if let Some(os) = parts.next() {
                    attrs.push(("os", "text", os.to_string(), false));
                }
                if let Some(arch) = parts.next() {
                    attrs.push(("architecture", "text", arch.to_string(), false));
                }
            }
            let key = match repo {
                Some(repo) => format!("digest/{}/{repo}", d.digest),
                None => format!("digest/{}", d.digest),
            };
            b.container_image(&key, &comment, attrs);
            b.tag_object_attribute("digest", tags.clone());
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
                // The window in MISP's object first_seen/last_seen; the disputed one has no
                // standard field, so it rides as an ISO 8601 interval tag.
                b.seen_last_object(&w);
                let mut tags = value_tags("image_exposure", &e.provenance);
                if let Some(d) = &e.disputed_window {
                    tags.push(self::tag(
                        "disputed-window",
                        &format!("{}/{}", d.value.start, d.value.end),
                    ));
                }
                b.tag_object_attribute("tag", tags);
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

    /// Adds MISP tags to the attribute added last.
    fn tag_last(&mut self, tags: Vec<String>) {
        if let Some(Value::Object(a)) = self.attributes.last_mut() {
            a.insert("Tag".into(), tag_list(tags));
        }
    }

    /// Sets `first_seen`/`last_seen` of the attribute added last.
    fn seen_last(&mut self, w: &Window) {
        if let Some(Value::Object(a)) = self.attributes.last_mut() {
            insert_seen(a, w);
        }
    }

    /// Sets `first_seen`/`last_seen` of the object added last.
    fn seen_last_object(&mut self, w: &Window) {
        if let Some(Value::Object(o)) = self.objects.last_mut() {
            insert_seen(o, w);
        }
    }

    /// Adds MISP tags to the `relation` attribute of the object added last.
    fn tag_object_attribute(&mut self, relation: &str, tags: Vec<String>) {
        let Some(Value::Object(o)) = self.objects.last_mut() else {
            return;
        };
        let Some(Value::Array(attrs)) = o.get_mut("Attribute") else {
            return;
        };
        for a in attrs {
            if let Value::Object(a) = a
                && a.get("object_relation").and_then(Value::as_str) == Some(relation)
            {
                a.insert("Tag".into(), tag_list(tags));
                return;
            }
        }
    }

    fn container_image(
        &mut self,
        key: &str,
        comment: &str,
        attrs: Vec<(&str, &str, String, bool)>,
    ) {
        self.object(
            "container-image",
            CONTAINER_IMAGE_TEMPLATE,
            "1",
            key,
            comment,
            attrs,
        );
    }

    fn object(
        &mut self,
        name: &str,
        template_uuid: &str,
        template_version: &str,
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
        let (meta_category, description) = if name == "file" {
            (
                "file",
                "File object describing a file with meta-information",
            )
        } else {
            (
                "misc",
                "Generic container-image object template to represent container images across platforms.",
            )
        };
        self.objects.push(json!({
            "uuid": object_uuid,
            "name": name,
            "meta-category": meta_category,
            "description": description,
            "template_uuid": template_uuid,
            "template_version": template_version,
            "comment": comment,
            "Attribute": attributes,
        }));
    }
}

/// A tagwarden machine tag, `tagwarden:<predicate>="<value>"` (the MISP triple-tag shape).
/// Quotes and backslashes cannot occur in the values tagwarden writes; they are dropped if
/// they ever do, so the tag still parses.
fn tag(predicate: &str, value: &str) -> String {
    let value: String = value.chars().filter(|c| *c != '"' && *c != '\\').collect();
    format!("tagwarden:{predicate}=\"{value}\"")
}

fn kind_tag(kind: &str) -> String {
    tag("kind", kind)
}

/// The tags every value carries: what it is in tagwarden terms and its provenance.
fn value_tags(kind: &str, p: &Provenance) -> Vec<String> {
    let mut tags = vec![kind_tag(kind), tag("confidence", p.confidence.as_str())];
    if p.disputed {
        tags.push(tag("disputed", "true"));
    }
    for s in &p.sources {
        tags.push(tag("source", s));
    }
    tags
}

fn tag_list(tags: Vec<String>) -> Value {
    Value::Array(tags.into_iter().map(|t| json!({ "name": t })).collect())
}

fn insert_seen(m: &mut Map<String, Value>, w: &Window) {
    m.insert("first_seen".into(), json!(w.start.to_string()));
    m.insert("last_seen".into(), json!(w.end.to_string()));
}
