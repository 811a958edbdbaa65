//! Bitbucket Pipelines: each step is a job; it receives the repository and workspace
//! variables, and with `deployment:` the variables of that deployment environment; `oidc: true`
//! gives it an OpenID Connect token.

use std::collections::HashSet;

use tagwarden_extract::Span;
use tagwarden_extract::yaml::NodeRef;

use super::yaml::{extent, offset_in_file, parse, scalars, str_at};
use super::{Ctx, is_shell_own, push_grant, script_names, shell_variables};
use crate::job::{CredentialKind, Job, Note};

pub(crate) fn read(ctx: &Ctx<'_>, jobs: &mut Vec<Job>, notes: &mut Vec<Note>) {
    let yaml = parse(ctx, notes);
    let Some(doc) = yaml.documents().next() else {
        return;
    };
    let Some(pipelines) = doc.get("pipelines") else {
        return;
    };
    let mut steps = Vec::new();
    collect_steps(pipelines, "pipelines", &mut steps, 0);
    let mut seen = HashSet::new();
    for (path, step) in steps {
        // A step from `definitions` used by several pipelines is one job.
        let key = step.resolve().map_or(step.id(), |s| s.id());
        if !seen.insert(key) {
            continue;
        }
        let name = str_at(step, "name");
        let id = name.unwrap_or(&path).to_string();
        let (start, end) = extent(step.resolve().unwrap_or(step));
        let mut job = ctx.job(&id, None, start, end, true);
        let shown = format!("step `{id}` of {}", ctx.file.display);
        let scripts: Vec<&str> = scalars(step)
            .iter()
            .filter_map(|(_, s)| s.as_str())
            .collect();
        let set_here = script_names(&scripts.join("\n"));
        for (p, s) in scalars(step) {
            let Some(value) = s.as_str() else { continue };
            for (var, offset) in shell_variables(value) {
                if var.starts_with("BITBUCKET_") || is_shell_own(&var) || set_here.contains(&var) {
                    continue;
                }
                let at = offset_in_file(s, Span::new(offset, offset + 1));
                push_grant(&mut job, ctx.grant(
                    CredentialKind::Secret,
                    &var,
                    "Bitbucket repository, workspace or deployment variable",
                    format!("{shown} uses `${var}` in `{p}`: a repository, workspace or deployment variable"),
                    at,
                    "ci-secret",
                ));
            }
        }
        if let Some(env) = str_at(step, "deployment") {
            let at = step
                .get("deployment")
                .and_then(|d| d.resolve())
                .map_or(start, |d| d.start());
            push_grant(&mut job, ctx.grant(
                CredentialKind::SecretSet,
                env,
                "Bitbucket deployment variables",
                format!("{shown} deploys to `{env}`: it receives every variable of that deployment environment"),
                at,
                "ci-secret-set",
            ));
        }
        if step.get("oidc").and_then(|o| o.as_str()) == Some("true") {
            push_grant(&mut job, ctx.grant(
                CredentialKind::IdToken,
                "BITBUCKET_STEP_OIDC_TOKEN",
                "Bitbucket Pipelines OIDC",
                format!("{shown} has `oidc: true`: it gets an OpenID Connect token that any cloud role trusting this repository accepts"),
                start,
                "ci-id-token",
            ));
        }
        jobs.push(job);
    }
}

/// Every `step:` under the pipelines, with a path naming it when it has no `name:`.
fn collect_steps<'y, 'a>(
    node: NodeRef<'y, 'a>,
    path: &str,
    out: &mut Vec<(String, NodeRef<'y, 'a>)>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    if node.is_mapping() {
        for (k, v) in node.entries() {
            if k == "step" {
                out.push((path.to_string(), v));
            } else {
                collect_steps(v, &format!("{path}.{k}"), out, depth + 1);
            }
        }
    } else if node.is_sequence() {
        for (i, item) in node.items().into_iter().enumerate() {
            collect_steps(item, &format!("{path}[{i}]"), out, depth + 1);
        }
    }
}
