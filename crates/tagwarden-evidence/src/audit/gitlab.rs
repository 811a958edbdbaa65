//! GitLab audit events (`GET /groups/:id/audit_events`, `/projects/:id/audit_events`, or
//! streamed): `id`, `author_id`, `entity_id`, `entity_type`, `entity_path`, `event_name` (or
//! `event_type` when streamed), `created_at`, `ip_address`, `target_details`, and `details`
//! (`author_name`, `ip_address`, `entity_path`, `target_details`, `custom_message`, …).
//!
//! Sources: GitLab Docs, "Audit event schema and examples" and "Audit event types"
//! (`container_repository_tags_deleted`; package events). GitLab records the deletion of
//! container registry tags but not their pushes: from GitLab alone, only deletions (and
//! package publications, where recorded) are judged.

use serde_json::{Map, Value};

use super::{AuditAction, Fields, Mapped, object, text, time};

pub(super) fn map(obj: &Map<String, Value>) -> Mapped {
    let empty = Map::new();
    let details = object(obj, "details").unwrap_or(&empty);
    let both = |keys: &[&str]| text(obj, keys).or_else(|| text(details, keys));
    let name = both(&["event_name", "event_type"])
        .unwrap_or("")
        .to_ascii_lowercase();
    let registry_event =
        name.contains("container") || name.contains("package") || name.contains("tag");
    if !registry_event {
        return Ok(Vec::new());
    }
    let action = if name.contains("delete") || name.contains("destroy") {
        AuditAction::Delete
    } else if name.contains("publish") || name.contains("push") || name.contains("create") {
        AuditAction::Push
    } else {
        return Ok(Vec::new());
    };
    let Some(repository) = both(&["target_details", "entity_path"]) else {
        return Err("a GitLab registry event without `target_details` or `entity_path`".into());
    };
    let tags: Vec<String> = match details.get("tags").or_else(|| obj.get("tags")) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => both(&["tag", "tag_name"])
            .map(str::to_string)
            .into_iter()
            .collect(),
    };
    let base = Fields {
        action: Some(action),
        repository: repository.to_string(),
        actor: both(&["author_name", "author_username"])
            .map(str::to_string)
            .or_else(|| obj.get("author_id").map(|a| format!("user {a}"))),
        token: both(&["token_id"]).map(str::to_string),
        address: both(&["ip_address"]).map(str::to_string),
        time: time(obj.get("created_at")),
        ..Fields::default()
    };
    if tags.is_empty() {
        return Ok(vec![base]);
    }
    Ok(tags
        .into_iter()
        .map(|t| Fields {
            tag: Some(t),
            ..base.clone()
        })
        .collect())
}
