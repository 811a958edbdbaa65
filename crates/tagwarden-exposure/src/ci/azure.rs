//! Azure Pipelines: what each job can read: the variable groups linked to it (every variable of
//! each), secret variables it uses by `$(name)` without the file defining them, the service
//! connections its tasks use, and the job's `System.AccessToken`.

use std::collections::HashSet;

use tagwarden_extract::yaml::NodeRef;

use super::yaml::{extent, offset_in_file, parse, scalars, str_at};
use super::{Ctx, push_grant};
use crate::job::{CredentialKind, Job, Note};

/// Task inputs that name a service connection.
const CONNECTION_INPUTS: &[&str] = &[
    "azureSubscription",
    "connectedServiceName",
    "connectedServiceNameARM",
    "ConnectedServiceName",
    "azureResourceManagerConnection",
    "containerRegistry",
    "dockerRegistryServiceConnection",
    "dockerRegistryEndpoint",
    "kubernetesServiceConnection",
    "kubernetesServiceEndpoint",
    "serviceConnection",
    "externalFeedCredentials",
    "sshEndpoint",
    "gitHubConnection",
    "awsCredentials",
];

/// Prefixes of the variables Azure Pipelines defines.
const PREDEFINED: &[&str] = &[
    "Build.",
    "System.",
    "Agent.",
    "Pipeline.",
    "Release.",
    "Environment.",
    "Resources.",
    "Strategy.",
    "Checks.",
    "TF_BUILD",
];

pub(crate) fn read(ctx: &Ctx<'_>, jobs: &mut Vec<Job>, notes: &mut Vec<Note>) {
    let yaml = parse(ctx, notes);
    let Some(doc) = yaml.documents().next() else {
        return;
    };
    let mut found = Vec::new();
    // (job node, its id, the variables nodes that apply, outer first)
    let mut templates = Vec::new();
    collect(doc, &[doc], &mut found, &mut templates, 0);
    for (template, at) in templates {
        notes.push(ctx.note(
            at,
            format!("jobs or stages from template `{template}` are not read here"),
        ));
    }
    if found.is_empty() && doc.get("steps").is_some() {
        found.push(("job".to_string(), doc, vec![doc]));
    }
    if let Some(extends) = doc.get("extends") {
        let template = str_at(extends, "template").unwrap_or("a template");
        notes.push(ctx.note(
            extends.start(),
            format!("the pipeline extends `{template}`: the jobs it defines are not read here"),
        ));
    }
    for (id, node, scopes) in found {
        let (start, end) = extent(node);
        let mut job = ctx.job(&id, str_at(node, "displayName"), start, end, true);
        let shown = format!("job `{id}` of {}", ctx.file.display);
        let mut defined: HashSet<String> = HashSet::new();
        // A matrix defines a variable per key of each leg.
        if let Some(matrix) = node.get("strategy").and_then(|s| s.get("matrix")) {
            for (_, leg) in matrix.entries() {
                defined.extend(leg.entries().into_iter().map(|(k, _)| k.to_string()));
            }
        }
        for scope in &scopes {
            let Some(vars) = scope.get("variables") else {
                continue;
            };
            if vars.is_mapping() {
                defined.extend(vars.entries().into_iter().map(|(k, _)| k.to_string()));
            }
            for item in vars.items() {
                if let Some(n) = str_at(item, "name") {
                    defined.insert(n.to_string());
                }
                if let Some(group) = str_at(item, "group") {
                    let at = item
                        .get("group")
                        .and_then(|g| g.resolve())
                        .map_or(item.start(), |g| g.start());
                    push_grant(&mut job, ctx.grant(
                        CredentialKind::SecretSet,
                        group,
                        "Azure DevOps variable group",
                        format!("{shown} links variable group `{group}`: it receives every variable of the group, secret ones included"),
                        at,
                        "ci-secret-set",
                    ));
                }
            }
        }
        for (path, s) in scalars(node) {
            let Some(value) = s.as_str() else { continue };
            if path == "template" || path.ends_with(".template") {
                job.notes.push(format!(
                    "uses template `{value}`: the secrets and connections it uses are not read here"
                ));
            }
            let input = path.rsplit('.').next().unwrap_or("");
            if CONNECTION_INPUTS.contains(&input) && !value.contains("$(") {
                let at = s.resolve().map_or(s.start(), |n| n.start());
                push_grant(&mut job, ctx.grant(
                    CredentialKind::ServiceConnection,
                    value,
                    "Azure DevOps service connection",
                    format!("{shown} uses service connection `{value}` (`{path}`): its task gets the connection's credentials or token"),
                    at,
                    "cloud-oidc-role",
                ));
            }
            for (name, offset) in macros(value) {
                let at = offset_in_file(s, tagwarden_extract::Span::new(offset, offset + 1));
                if name.eq_ignore_ascii_case("System.AccessToken") {
                    continue;
                }
                if defined.contains(&name) || PREDEFINED.iter().any(|p| name.starts_with(p)) {
                    continue;
                }
                push_grant(&mut job, ctx.grant(
                    CredentialKind::Secret,
                    &name,
                    "Azure Pipelines variable (pipeline settings or a variable group)",
                    format!("{shown} uses `$({name})` in `{path}` and the file does not define it: a pipeline variable set in the pipeline's settings or a linked variable group"),
                    at,
                    "ci-secret",
                ));
            }
        }
        push_grant(&mut job, ctx.grant(
            CredentialKind::JobToken,
            "System.AccessToken",
            "Azure Pipelines job access token",
            format!("{shown} runs with the build service's System.AccessToken: tasks get it, scripts when mapped into `env:`, and a checkout with `persistCredentials: true` leaves it in `.git/config`"),
            start,
            "ci-job-token",
        ));
        jobs.push(job);
    }
}

/// `$(name)` macros in a value, with their offsets.
fn macros(value: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = value.get(from..).and_then(|v| v.find("$(")) {
        let start = from + i;
        let Some(close) = value[start + 2..].find(')') else {
            break;
        };
        let name = &value[start + 2..start + 2 + close];
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            out.push((name.to_string(), start));
        }
        from = start + 2;
    }
    out
}

/// Jobs under `jobs:` and `stages[].jobs:` (deployment jobs too), with the scopes whose
/// `variables:` apply to each.
fn collect<'y, 'a>(
    node: NodeRef<'y, 'a>,
    scopes: &[NodeRef<'y, 'a>],
    out: &mut Vec<(String, NodeRef<'y, 'a>, Vec<NodeRef<'y, 'a>>)>,
    templates: &mut Vec<(String, usize)>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    for stage in node.get("stages").map(|s| s.items()).unwrap_or_default() {
        let mut inner = scopes.to_vec();
        inner.push(stage);
        if let Some(t) = str_at(stage, "template") {
            templates.push((t.to_string(), stage.start()));
        }
        collect(stage, &inner, out, templates, depth + 1);
    }
    for job in node.get("jobs").map(|s| s.items()).unwrap_or_default() {
        if let Some(t) = str_at(job, "template") {
            templates.push((t.to_string(), job.start()));
        }
        let Some(id) = str_at(job, "job").or_else(|| str_at(job, "deployment")) else {
            continue;
        };
        let mut inner = scopes.to_vec();
        inner.push(job);
        out.push((id.to_string(), job, inner));
    }
}
