//! Drone and Woodpecker: each pipeline is a job; its steps get secrets by `from_secret:` (and,
//! in Woodpecker, `secrets: [...]`).

use super::yaml::{extent, parse, scalars, str_at, strings};
use super::{Ctx, push_grant};
use crate::job::{CredentialKind, Job, Note, Platform};

pub(crate) fn read(ctx: &Ctx<'_>, jobs: &mut Vec<Job>, notes: &mut Vec<Note>) {
    let yaml = parse(ctx, notes);
    let scope = match ctx.platform {
        Platform::Woodpecker => "Woodpecker secret (repository, organization or global)",
        _ => "Drone secret (repository or organization)",
    };
    let stem = ctx
        .file
        .relative
        .rsplit('/')
        .next()
        .unwrap_or(&ctx.file.relative)
        .trim_start_matches('.')
        .trim_end_matches(".yml")
        .trim_end_matches(".yaml")
        .to_string();
    for doc in yaml.documents() {
        if !doc.is_mapping() || matches!(str_at(doc, "kind"), Some(k) if k != "pipeline") {
            continue;
        }
        let id = str_at(doc, "name").map_or_else(|| stem.clone(), str::to_string);
        let (start, end) = extent(doc);
        let clone_off = doc
            .get("clone")
            .and_then(|c| c.get("disable"))
            .and_then(|d| d.as_str())
            == Some("true")
            || doc.get("skip_clone").and_then(|d| d.as_str()) == Some("true");
        let mut job = ctx.job(&id, None, start, end, !clone_off);
        let shown = format!("pipeline `{id}` of {}", ctx.file.display);
        for (path, s) in scalars(doc) {
            if !path.ends_with(".from_secret") {
                continue;
            }
            let Some(name) = s.as_str() else { continue };
            let var = path
                .trim_end_matches(".from_secret")
                .rsplit('.')
                .next()
                .unwrap_or("");
            let at = s.resolve().map_or(s.start(), |n| n.start());
            push_grant(
                &mut job,
                ctx.grant(
                    CredentialKind::Secret,
                    name,
                    scope,
                    format!(
                        "{shown} sets `{var}` from it (`from_secret`) in `{}`",
                        path.trim_end_matches(".from_secret")
                    ),
                    at,
                    "ci-secret",
                ),
            );
        }
        // Woodpecker's older `secrets: [name, {source, target}]` on a step.
        for step in steps_of(doc) {
            for (name, at) in strings(step.get("secrets")) {
                push_grant(
                    &mut job,
                    ctx.grant(
                        CredentialKind::Secret,
                        name,
                        scope,
                        format!("{shown} gives it to a step (`secrets:`)"),
                        at,
                        "ci-secret",
                    ),
                );
            }
        }
        jobs.push(job);
    }
}

fn steps_of<'y, 'a>(
    doc: tagwarden_extract::yaml::NodeRef<'y, 'a>,
) -> Vec<tagwarden_extract::yaml::NodeRef<'y, 'a>> {
    let mut out = Vec::new();
    for key in ["steps", "pipeline"] {
        if let Some(s) = doc.get(key) {
            if s.is_sequence() {
                out.extend(s.items());
            } else {
                out.extend(s.entries().into_iter().map(|(_, v)| v));
            }
        }
    }
    out
}
