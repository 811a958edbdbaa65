//! CircleCI: what each job can read: the contexts the workflows give it (every variable of
//! each), and the project environment variables its steps use (`$VAR` the file does not set).

use std::collections::HashSet;

use tagwarden_extract::Span;

use super::yaml::{entry_ranges, offset_in_file, parse, scalars, str_at, strings};
use super::{Ctx, is_shell_own, push_grant, script_names, shell_variables};
use crate::job::{CredentialKind, Job, Note};

pub(crate) fn read(ctx: &Ctx<'_>, jobs: &mut Vec<Job>, notes: &mut Vec<Note>) {
    let yaml = parse(ctx, notes);
    let Some(doc) = yaml.documents().next() else {
        return;
    };
    let Some(job_map) = doc.get("jobs").filter(|j| j.is_mapping()) else {
        return;
    };
    let workflows = doc.get("workflows");
    for (id, node, start, end) in entry_ranges(job_map, ctx.text().len()) {
        let checkout = node
            .get("steps")
            .map(|s| s.items())
            .unwrap_or_default()
            .iter()
            .any(|s| s.as_str() == Some("checkout") || s.get("checkout").is_some());
        let mut job = ctx.job(id, None, start, end, checkout);
        let shown = format!("job `{id}` of {}", ctx.file.display);
        let mut defined: HashSet<String> = node
            .get("environment")
            .map(|e| {
                e.entries()
                    .into_iter()
                    .map(|(k, _)| k.to_string())
                    .collect()
            })
            .unwrap_or_default();
        let scripts: Vec<&str> = scalars(node)
            .iter()
            .filter_map(|(_, s)| s.as_str())
            .collect();
        defined.extend(script_names(&scripts.join("\n")));
        for (path, s) in scalars(node) {
            let Some(value) = s.as_str() else { continue };
            for (name, offset) in shell_variables(value) {
                // CircleCI's own: `CIRCLE_*`, `CI_PULL_REQUEST(S)`.
                if defined.contains(&name)
                    || name.starts_with("CIRCLE")
                    || name.starts_with("CI_PULL_REQUEST")
                    || is_shell_own(&name)
                {
                    continue;
                }
                let at = offset_in_file(s, Span::new(offset, offset + 1));
                push_grant(&mut job, ctx.grant(
                    CredentialKind::Secret,
                    &name,
                    "CircleCI project environment variable or context variable",
                    format!("{shown} uses `${name}` in `{path}` and the job does not set it: a project environment variable or a variable of a context it runs with"),
                    at,
                    "ci-secret",
                ));
            }
        }
        // Contexts: `workflows.<w>.jobs[] = {<id>: {context: [...]}}`.
        for (_, wf) in workflows.map(|w| w.entries()).unwrap_or_default() {
            for item in wf.get("jobs").map(|j| j.items()).unwrap_or_default() {
                let Some(spec) = item.get(id) else { continue };
                for (context, at) in strings(spec.get("context")) {
                    push_grant(&mut job, ctx.grant(
                        CredentialKind::SecretSet,
                        context,
                        "CircleCI context",
                        format!("{shown} runs with context `{context}`{}: it receives every environment variable of that context", str_at(spec, "name").map(|n| format!(" (as `{n}`)")).unwrap_or_default()),
                        at,
                        "ci-secret-set",
                    ));
                }
            }
        }
        jobs.push(job);
    }
}
