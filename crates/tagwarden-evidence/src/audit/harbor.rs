//! Harbor: the audit log API (`GET /api/v2.0/audit-logs`, and `/audit-log-exts` since 2.13):
//! `id`, `username`, `resource` (`project/repository:tag` or `project/repository@sha256:…`),
//! `resource_type` (`artifact`), `operation` (`create` for a push, `delete`, `pull`),
//! `op_time`; the newer log adds `client_ip` when Harbor records it.
//!
//! Sources: goharbor.io "Audit Log" (administration) and the Harbor v2.0 API's `AuditLog`
//! schema. A robot account (`robot$…`) is a credential, so it counts as the token too.

use serde_json::{Map, Value};

use super::{AuditAction, Fields, Mapped, digest, text, time};

pub(super) fn map(obj: &Map<String, Value>) -> Mapped {
    let operation = text(obj, &["operation"]).unwrap_or("").to_ascii_lowercase();
    let resource_type = text(obj, &["resource_type"]).unwrap_or("artifact");
    let action = match operation.as_str() {
        "create" | "push" | "create_artifact" => AuditAction::Push,
        "delete" | "delete_artifact" | "delete_tag" => AuditAction::Delete,
        _ => return Ok(Vec::new()),
    };
    if !matches!(resource_type, "artifact" | "tag" | "image") {
        return Ok(Vec::new());
    }
    let Some(resource) = text(obj, &["resource"]) else {
        return Err("a Harbor audit entry without a `resource`".into());
    };
    let (repository, tag, at) = match resource.split_once('@') {
        Some((repo, d)) => (repo, None, Some(d)),
        None => match resource.rsplit_once(':') {
            Some((repo, t)) if !t.contains('/') => (repo, Some(t), None),
            _ => (resource, None, None),
        },
    };
    let user = text(obj, &["username"]).map(str::to_string);
    let mut problem = None;
    Ok(vec![Fields {
        action: Some(action),
        repository: repository.to_string(),
        tag: tag.map(str::to_string),
        digest: digest(at, &mut problem),
        problem: problem.clone(),
        token: user.clone().filter(|u| u.starts_with("robot$")),
        actor: user,
        address: text(obj, &["client_ip", "ip_address"]).map(str::to_string),
        time: time(obj.get("op_time")),
        ..Fields::default()
    }])
}
