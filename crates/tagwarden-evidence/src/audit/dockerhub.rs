//! Docker Hub: the organisation audit log (`GET /v2/auditlogs/{account}`: `account`, `action`,
//! `action_description`, `actor`, `name` (the repository), `data` (string map: `digest`,
//! `tag`), `timestamp`; actions `repo.tag.push`, `repo.tag.delete`, …), as the API pages it
//! (`{"logs": [...]}`) or as JSON lines, and the tag API's records exported with it
//! (`GET /v2/namespaces/{ns}/repositories/{repo}/tags`: `name` (the tag), `digest`,
//! `last_updater_username`, `tag_last_pushed`, `images[].digest`); the API names the
//! repository only in the page's `next`/`previous` links (its `repository` is a numeric id),
//! so a record takes it from there, or from a `repository` string added when exporting.
//!
//! The registry is left implicit (`checkmarx/kics`), as Docker Hub names its repositories.
//!
//! Sources: docs.docker.com, Docker Hub API reference, schemas `AuditLog` and `Tag`. Neither
//! carries the client address, the user agent or which access token was used.

use serde_json::{Map, Value};

use super::{AuditAction, Fields, Mapped, digest, object, text, time};

/// The first string among `keys` in the record or its `data` map.
fn field<'v>(obj: &'v Map<String, Value>, keys: &[&str]) -> Option<&'v str> {
    text(obj, keys).or_else(|| object(obj, "data").and_then(|d| text(d, keys)))
}

pub(super) fn map(obj: &Map<String, Value>) -> Mapped {
    if obj.contains_key("tag_last_pushed") {
        return tag_record(obj);
    }
    let Some(action) = field(
        obj,
        &["action", "event", "type", "action_name", "event_type"],
    ) else {
        return Err("a Docker Hub audit event without an `action`".into());
    };
    let a = action.to_ascii_lowercase();
    // `repo.tag.push` (API), `Tag Pushed` (UI wording).
    let action = if a.contains("push") {
        AuditAction::Push
    } else if a.contains("tag") && a.contains("delete") {
        AuditAction::Delete
    } else {
        return Ok(Vec::new());
    };
    let Some(name) = field(
        obj,
        &[
            "repository",
            "repo",
            "repository_name",
            "repo_name",
            "name",
            "image",
        ],
    ) else {
        return Err("a Docker Hub push event without a repository (`name`)".into());
    };
    let repository = match field(obj, &["namespace", "account"]) {
        Some(ns) if !name.contains('/') => format!("{ns}/{name}"),
        _ => name.to_string(),
    };
    let actor = field(obj, &["actor", "user", "username", "actor_name"])
        .map(str::to_string)
        .or_else(|| {
            object(obj, "actor")
                .and_then(|a| text(a, &["username", "name", "login"]))
                .map(str::to_string)
        });
    let when = ["timestamp", "created_at", "time", "date", "event_time"]
        .iter()
        .find_map(|k| time(obj.get(*k)));
    let mut problem = None;
    Ok(vec![Fields {
        action: Some(action),
        repository,
        tag: field(obj, &["tag", "tag_name"]).map(str::to_string),
        digest: digest(
            field(obj, &["digest", "manifest_digest", "image_digest"]),
            &mut problem,
        ),
        problem: problem.clone(),
        actor,
        time: when,
        ..Fields::default()
    }])
}

/// `namespace/name` from a tag API page link: `…/v2/namespaces/NS/repositories/NAME/tags?…`
/// or `…/v2/repositories/NS/NAME/tags?…`.
fn repository_of_url(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let parts: Vec<&str> = path.split('/').collect();
    let at = parts.iter().position(|p| *p == "repositories")?;
    let (ns, name) = match parts.iter().position(|p| *p == "namespaces") {
        Some(n) if n + 2 == at => (*parts.get(n + 1)?, *parts.get(at + 1)?),
        _ => (*parts.get(at + 1)?, *parts.get(at + 2)?),
    };
    let ok = |s: &str| !s.is_empty() && s != "tags";
    (ok(ns) && ok(name)).then(|| format!("{ns}/{name}"))
}

/// A tag API record: the tag's last push, by whom.
fn tag_record(obj: &Map<String, Value>) -> Mapped {
    let from_page = object(obj, super::json::PAGE_KEY).and_then(|p| {
        ["next", "previous"]
            .iter()
            .find_map(|k| text(p, &[k]).and_then(repository_of_url))
    });
    let Some(repository) = text(obj, &["repository", "repo", "repository_name"])
        .map(str::to_string)
        .or(from_page)
    else {
        return Err(
            "a Docker Hub tag record names no repository (a single page has no `next` link to take it from): add `\"repository\": \"namespace/name\"` to each record when exporting"
                .into(),
        );
    };
    let Some(tag) = text(obj, &["name", "tag"]) else {
        return Err("a Docker Hub tag record without its tag (`name`)".into());
    };
    let first_image = obj
        .get("images")
        .and_then(Value::as_array)
        .and_then(|i| i.first())
        .and_then(Value::as_object)
        .and_then(|i| text(i, &["digest"]));
    let mut problem = None;
    Ok(vec![Fields {
        action: Some(AuditAction::Push),
        repository,
        tag: Some(tag.to_string()),
        digest: digest(text(obj, &["digest"]).or(first_image), &mut problem),
        problem: problem.clone(),
        actor: text(obj, &["last_updater_username"]).map(str::to_string),
        time: time(obj.get("tag_last_pushed")),
        ..Fields::default()
    }])
}
