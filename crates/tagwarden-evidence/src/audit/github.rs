//! GitHub: an organisation's audit-log export (JSON or JSON lines from the settings page, or
//! `GET /orgs/{org}/audit-log`): `@timestamp` (milliseconds), `created_at`, `action`
//! (`package.published`, `package_version.published`, `package.package_version_deleted`,
//! `package_version.deleted`, …), `actor`, `actor_ip` (only when the organisation discloses
//! IP addresses), `user_agent`, `org`, `hashed_token` and `token_id` (the token behind an API
//! call), and the package's `package` (or `name`) and `version` (for a container, its
//! digest).
//!
//! Sources: GitHub Docs, "Audit log events for your organization" (`package` and
//! `package_version` categories), "Identifying audit log events performed by an access
//! token", and the REST API's `audit-log-event` schema. A container version is a digest:
//! the log does not say which tags it was pushed under, so overwritten tags cannot be seen
//! from it.

use serde_json::{Map, Value};

use super::{AuditAction, Fields, Mapped, digest, text, time};

pub(super) fn map(obj: &Map<String, Value>) -> Mapped {
    let action = text(obj, &["action"]).unwrap_or("");
    if !action.starts_with("package") {
        return Ok(Vec::new());
    }
    let verb = action.rsplit('.').next().unwrap_or("");
    let action = if verb.contains("delete") || verb.contains("destroy") {
        AuditAction::Delete
    } else if verb.contains("publish") || verb.contains("create") || verb.contains("push") {
        AuditAction::Push
    } else {
        return Ok(Vec::new());
    };
    let Some(package) = text(obj, &["package", "package_name", "name"]) else {
        return Err("a GitHub package event without its package (`package` or `name`)".into());
    };
    let org = text(obj, &["org", "user", "owner"]);
    let repository = match org {
        Some(o) if !package.contains('/') => format!("{o}/{package}"),
        _ => package.to_string(),
    }
    .to_ascii_lowercase();
    let version = text(obj, &["version", "package_version", "version_name"]);
    let (tag, at) = match version {
        Some(v) if v.starts_with("sha256:") => (text(obj, &["tag"]), Some(v)),
        Some(v) => (Some(v), None),
        None => (text(obj, &["tag"]), None),
    };
    let token = text(obj, &["token_id", "hashed_token"])
        .map(str::to_string)
        .or_else(|| {
            obj.get("token_id")
                .and_then(Value::as_i64)
                .map(|n| n.to_string())
        });
    let when = time(obj.get("@timestamp")).or_else(|| time(obj.get("created_at")));
    let mut problem = None;
    Ok(vec![Fields {
        action: Some(action),
        registry: Some("ghcr.io".into()),
        repository,
        tag: tag.map(str::to_string),
        digest: digest(at, &mut problem),
        problem: problem.clone(),
        actor: text(obj, &["actor"]).map(str::to_string),
        token,
        address: text(obj, &["actor_ip"]).map(str::to_string),
        user_agent: text(obj, &["user_agent"]).map(str::to_string),
        time: when,
    }])
}
