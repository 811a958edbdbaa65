//! GitLab CI: what each job of a pipeline (its file and the local files it includes) can read.
//!
//! - every CI/CD variable of the project, its groups and the instance is in every job's
//!   environment (protected ones on protected branches and tags only), whether or not the job
//!   names it; the `$VARS` a job uses without the file defining them are listed by name;
//! - `secrets:` (Vault, cloud secret managers), `id_tokens:`, `CI_JOB_TOKEN`;
//! - `extends:`, `default:` and the top-level scripts apply; `include: local:` files are read
//!   from the tree.

use std::collections::HashSet;

use tagwarden_extract::yaml::{NodeRef, Yaml};

use super::yaml::{entry_ranges, extent, offset_in_file, parse, scalars, str_at, strings};
use super::{
    Ctx, TreeFile, is_shell_own, push_grant, registry_login, script_names, shell_variables,
};
use crate::job::{CredentialKind, Job, Note};

/// Top-level keys that are not jobs.
const RESERVED: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
];

/// Local includes followed at most this deep (GitLab allows 100 includes in all).
const MAX_INCLUDES: usize = 100;

/// Variables the runner sets for every job that are not secrets a project defines (the shell's
/// own are `super::is_shell_own`).
const PREDEFINED: &[&str] = &[
    "DOCKER_HOST",
    "DOCKER_TLS_CERTDIR",
    "DOCKER_DRIVER",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
    "FF_USE_FASTZIP",
    "ARTIFACT_COMPRESSION_LEVEL",
    "CACHE_COMPRESSION_LEVEL",
    "GIT_STRATEGY",
    "GIT_DEPTH",
    "GIT_SUBMODULE_STRATEGY",
    "GIT_CLEAN_FLAGS",
    "TRIGGER_PAYLOAD",
];

const VARIABLE_SCOPE: &str = "GitLab CI/CD variable (project, group or instance)";

/// The files other GitLab pipelines of the tree include: they are read as part of those, not as
/// pipelines of their own. One pass over the tree's pipelines.
pub(crate) fn included_by_others(tree: &super::Tree) -> HashSet<String> {
    let mut out = HashSet::new();
    for f in &tree.files {
        if f.kind != Some(tagwarden_extract::FileKind::GitlabCi) {
            continue;
        }
        let ctx = Ctx::new(tree, f, crate::job::Platform::GitlabCi);
        for g in included_files(&ctx, &mut Vec::new()).iter().skip(1) {
            if g.relative != f.relative {
                out.insert(g.relative.clone());
            }
        }
    }
    out
}

pub(crate) fn read(ctx: &Ctx<'_>, jobs: &mut Vec<Job>, notes: &mut Vec<Note>) {
    // The main file and every local file it includes, in order.
    let files = included_files(ctx, notes);
    let ctxs: Vec<Ctx<'_>> = files.iter().map(|f| ctx.other(f)).collect();
    let parsed: Vec<Yaml<'_>> = ctxs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                parse(c, notes)
            } else {
                Yaml::parse(c.text())
            }
        })
        .collect();
    let docs: Vec<(usize, NodeRef<'_, '_>)> = parsed
        .iter()
        .enumerate()
        .filter_map(|(i, y)| y.documents().find(|d| d.is_mapping()).map(|d| (i, d)))
        .collect();
    // Later files win for the same key, as GitLab merges includes; the main file wins over all.
    let lookup = |key: &str| -> Option<(usize, NodeRef<'_, '_>)> {
        let main = docs
            .iter()
            .find(|(i, _)| *i == 0)
            .and_then(|(i, d)| d.get(key).map(|n| (*i, n)));
        main.or_else(|| {
            docs.iter()
                .rev()
                .find_map(|(i, d)| d.get(key).map(|n| (*i, n)))
        })
    };
    let mut defined: HashSet<String> = HashSet::new();
    for (_, d) in &docs {
        if let Some(v) = d.get("variables") {
            defined.extend(v.entries().into_iter().map(|(k, _)| k.to_string()));
        }
    }
    // Scripts every job runs unless it overrides them.
    let default = lookup("default");
    let mut seen_jobs = HashSet::new();
    for (fi, d) in &docs {
        let c = &ctxs[*fi];
        for (id, node, start, end) in entry_ranges(*d, c.text().len()) {
            if RESERVED.contains(&id) || id.starts_with('.') || !node.is_mapping() {
                continue;
            }
            if *fi == 0 {
                seen_jobs.insert(id.to_string());
            } else if !seen_jobs.insert(id.to_string()) {
                continue;
            }
            let mut job = c.job(id, None, start, end, true);
            let shown = format!("job `{id}` of {}", c.file.display);
            // The job, then the templates it extends, then the defaults.
            let mut parts: Vec<(usize, NodeRef<'_, '_>, String)> = vec![(*fi, node, String::new())];
            extends(node, &lookup, &mut parts, 0);
            if let Some((di, dn)) = default {
                parts.push((di, dn, " (from `default:`)".to_string()));
            }
            for key in ["before_script", "after_script"] {
                if let Some((gi, g)) = lookup(key)
                    && !parts.iter().any(|(_, p, _)| p.get(key).is_some())
                {
                    parts.push((gi, g, format!(" (the top-level `{key}`)")));
                }
            }
            // The pipeline's variables are every job's: a value may read a project variable.
            for (vi, d) in &docs {
                if let Some(v) = d.get("variables").filter(|v| v.is_mapping()) {
                    parts.push((*vi, v, " (the top-level `variables:`)".to_string()));
                }
            }
            for (pi, p, from) in &parts {
                if from.starts_with(" (from `") && !from.starts_with(" (from `default") {
                    let (s, e) = extent(*p);
                    job.regions.push(ctxs[*pi].region(s, e));
                }
            }
            let mut job_defined = defined.clone();
            let mut scripts = String::new();
            for (_, p, _) in &parts {
                if let Some(v) = p.get("variables") {
                    job_defined.extend(v.entries().into_iter().map(|(k, _)| k.to_string()));
                }
                for (_, s) in scalars(*p) {
                    scripts.push_str(s.as_str().unwrap_or(""));
                    scripts.push('\n');
                }
            }
            let assigned = script_names(&scripts);
            for (pi, p, from) in &parts {
                let pc = &ctxs[*pi];
                // A default or top-level script applies only where the job sets none.
                let own_keys: Vec<&str> = parts
                    .iter()
                    .filter(|(_, _, f)| {
                        !f.starts_with(" (from `default") && !f.starts_with(" (the top-level")
                    })
                    .flat_map(|(_, q, _)| q.entries().into_iter().map(|(k, _)| k))
                    .collect();
                let fallback =
                    from.starts_with(" (from `default") || from.starts_with(" (the top-level");
                for (path, s) in scalars(*p) {
                    let key = path.split(['.', '[']).next().unwrap_or("");
                    if fallback && own_keys.contains(&key) {
                        continue;
                    }
                    if path.starts_with("rules")
                        || path.starts_with("only")
                        || path.starts_with("except")
                        || path == "extends"
                        || path.starts_with("needs")
                        || path == "stage"
                        || path.starts_with("tags")
                    {
                        continue;
                    }
                    let Some(value) = s.as_str() else { continue };
                    for (name, offset) in shell_variables(value) {
                        if job_defined.contains(&name)
                            || assigned.contains(&name)
                            || is_shell_own(&name)
                            || is_predefined(&name)
                        {
                            continue;
                        }
                        let at =
                            offset_in_file(s, tagwarden_extract::Span::new(offset, offset + 1));
                        let login = value
                            .lines()
                            .any(|l| l.contains(&name) && registry_login(l));
                        let why = format!(
                            "{shown} uses `${name}` in `{path}`{from} and the file does not define it: it is a CI/CD variable of the project, a group or the instance{}",
                            if login {
                                ", used to log in to a registry (saved in the job's docker config for later commands)"
                            } else {
                                ""
                            }
                        );
                        push_grant(
                            &mut job,
                            pc.grant(
                                CredentialKind::Secret,
                                &name,
                                VARIABLE_SCOPE,
                                why,
                                at,
                                "ci-secret",
                            ),
                        );
                    }
                }
                if let Some(secrets) = p.get("secrets") {
                    for (name, spec) in secrets.entries() {
                        let source = [
                            "vault",
                            "gcp_secret_manager",
                            "azure_key_vault",
                            "aws_secrets_manager",
                            "akeyless",
                            "gitlab_secrets_manager",
                        ]
                        .iter()
                        .find_map(|k| spec.get(k).map(|v| (*k, v)));
                        let what = match source {
                            Some((k, v)) => match v.as_str() {
                                Some(s) => format!("{k} `{s}`"),
                                None => str_at(v, "path")
                                    .or_else(|| str_at(v, "name"))
                                    .map_or_else(|| k.to_string(), |s| format!("{k} `{s}`")),
                            },
                            None => "an external secret manager".to_string(),
                        };
                        let at = spec.resolve().map_or(spec.start(), |n| n.start());
                        push_grant(
                            &mut job,
                            pc.grant(
                                CredentialKind::ExternalSecret,
                                name,
                                "GitLab CI `secrets:` (external secret manager)",
                                format!("{shown} fetches `{name}` from {what}{from}"),
                                at,
                                "external-secret",
                            ),
                        );
                    }
                }
                if let Some(tokens) = p.get("id_tokens") {
                    for (name, spec) in tokens.entries() {
                        let aud: Vec<&str> = strings(spec.get("aud"))
                            .into_iter()
                            .map(|(a, _)| a)
                            .collect();
                        let at = spec.resolve().map_or(spec.start(), |n| n.start());
                        push_grant(&mut job, pc.grant(
                            CredentialKind::IdToken,
                            name,
                            "GitLab CI ID token",
                            format!(
                                "{shown} requests an OIDC ID token as `{name}`{}{from}: any cloud role or service that trusts this project's tokens accepts it",
                                if aud.is_empty() { String::new() } else { format!(" for audience {}", aud.join(", ")) }
                            ),
                            at,
                            "ci-id-token",
                        ));
                    }
                }
            }
            if node.get("trigger").is_some() {
                job.notes.push(
                    "triggers a downstream or child pipeline: its jobs get their own variables and are not read here"
                        .to_string(),
                );
            }
            if parts.iter().any(|(_, p, _)| {
                p.get("variables").and_then(|v| str_at(v, "GIT_STRATEGY")) == Some("none")
            }) {
                job.workspace = false;
            }
            let environment = node
                .get("environment")
                .and_then(|e| e.as_str().or_else(|| str_at(e, "name")));
            let scope_note = environment
                .map(|e| format!(", and those scoped to environment `{e}`"))
                .unwrap_or_default();
            push_grant(&mut job, c.grant(
                CredentialKind::SecretSet,
                "every CI/CD variable of the project, its groups and the instance",
                "GitLab CI/CD variables",
                format!(
                    "{shown} receives every CI/CD variable of the project, its groups and the instance in its environment, whether or not it names them (protected variables only on protected branches and tags{scope_note})"
                ),
                start,
                "ci-secret-set",
            ));
            push_grant(&mut job, c.grant(
                CredentialKind::JobToken,
                "CI_JOB_TOKEN",
                "GitLab CI job token",
                format!(
                    "{shown} always gets CI_JOB_TOKEN (also as CI_REGISTRY_PASSWORD): while the job runs it reads the project's repository, packages and container registry, and what the job token allowlist of other projects grants"
                ),
                start,
                "gitlab-job-token",
            ));
            jobs.push(job);
        }
    }
}

fn is_predefined(name: &str) -> bool {
    // GitLab's own start with `CI_` (and a few `GITLAB_`); `GITLAB_API_TOKEN` is a project's.
    name.starts_with("CI_")
        || name.starts_with("GITLAB_USER_")
        || matches!(name, "GITLAB_CI" | "GITLAB_FEATURES")
        || name.starts_with("FF_")
        || PREDEFINED.contains(&name)
        || super::is_shell_own(name)
}

/// The templates a job extends, depth first, each with where it came from.
fn extends<'y, 'a>(
    node: NodeRef<'y, 'a>,
    lookup: &dyn Fn(&str) -> Option<(usize, NodeRef<'y, 'a>)>,
    out: &mut Vec<(usize, NodeRef<'y, 'a>, String)>,
    depth: usize,
) {
    // GitLab allows eleven levels of `extends`.
    if depth > 11 {
        return;
    }
    for (name, _) in strings(node.get("extends")) {
        if let Some((i, t)) = lookup(name) {
            if out
                .iter()
                .any(|(_, n, _)| n.id() == t.id() && n.src().as_ptr() == t.src().as_ptr())
            {
                continue;
            }
            out.push((i, t, format!(" (from `{name}`, which it extends)")));
            extends(t, lookup, out, depth + 1);
        }
    }
}

/// The main file and the local files it includes (recursively), each once.
fn included_files<'t>(ctx: &Ctx<'t>, notes: &mut Vec<Note>) -> Vec<&'t TreeFile> {
    let mut files: Vec<&'t TreeFile> = vec![ctx.file];
    let mut i = 0;
    while i < files.len() && files.len() < MAX_INCLUDES {
        let file = files[i];
        let c = ctx.other(file);
        let yaml = Yaml::parse(c.text());
        let includes = yaml.documents().next().and_then(|d| d.get("include"));
        for (include, at) in local_includes(includes) {
            let path = match include {
                Ok(path) => path,
                Err(what) => {
                    notes.push(c.note(
                        at,
                        format!("includes {what}, which is not in the tree: the jobs and variables it defines are not read"),
                    ));
                    continue;
                }
            };
            if path.contains('*') || path.contains('$') {
                notes.push(c.note(
                    at,
                    format!("include `{path}` is a pattern or holds a variable: not followed"),
                ));
                continue;
            }
            match ctx.tree.file(&path) {
                Some(f) if !files.iter().any(|g| std::ptr::eq(*g, f)) => files.push(f),
                Some(_) => {}
                None => notes.push(c.note(
                    at,
                    format!("included file `{path}` is not in the tree: its jobs are not read"),
                )),
            }
        }
        i += 1;
    }
    files
}

/// `include: path`, `include: [path, {local: path}]`, `include: {local: path}`; remote,
/// project and template includes are not in the tree.
/// Each include: a local path, or (as an error) what it names outside the tree.
fn local_includes(node: Option<NodeRef<'_, '_>>) -> Vec<(Result<String, String>, usize)> {
    let Some(node) = node else { return Vec::new() };
    let items = if node.is_sequence() {
        node.items()
    } else {
        vec![node]
    };
    let mut out = Vec::new();
    for item in items {
        let at = item.resolve().map_or(item.start(), |n| n.start());
        if let Some(s) = item.as_str() {
            if s.starts_with("http://") || s.starts_with("https://") {
                out.push((Err(format!("the remote file `{s}`")), at));
            } else {
                out.push((Ok(s.to_string()), at));
            }
        } else if let Some(local) = str_at(item, "local") {
            out.push((Ok(local.to_string()), at));
        } else {
            let what = ["remote", "project", "template", "component"]
                .iter()
                .find_map(|k| str_at(item, k).map(|v| format!("{k} `{v}`")))
                .unwrap_or_else(|| "an include".to_string());
            out.push((Err(what), at));
        }
    }
    out
}
