//! GitHub Actions: what each job of a workflow can read.
//!
//! - every `secrets.X` its definition reads, at workflow, job and step level (`env:`, `with:`,
//!   `run:`, container and service credentials); the runner receives every secret the job uses,
//!   so a compromised step can read them all, whichever step names them;
//! - a called workflow in the tree, followed: with `secrets: inherit` every secret it reads; a
//!   workflow outside the tree with `secrets: inherit` gets them all;
//! - the `environment:` whose secrets it receives;
//! - `GITHUB_TOKEN` with its effective `permissions:` (job, else workflow, else the
//!   repository's default, which the file cannot tell);
//! - `id-token: write` and the cloud roles it can assume (AWS, Google Cloud, Azure);
//! - registry logins, whose credential stays in the runner's docker config for later steps;
//! - whether it checks the repository out (then every file of the tree is in its workspace).

use tagwarden_extract::Span;
use tagwarden_extract::read::github_expr::context_reads;
use tagwarden_extract::yaml::NodeRef;

use super::yaml::{entry_ranges, offset_in_file, parse, scalars, str_at};
use super::{Ctx, push_grant, registry_login};
use crate::job::{CredentialKind, Grant, Job, Note, Region};

/// How many calls deep reusable workflows are followed (GitHub allows ten levels).
const MAX_CALL_DEPTH: usize = 10;
/// How many called workflows are read for one job: a tree whose workflows each call the next
/// from many jobs must not cost an exponential number of reads.
const MAX_CALLS_PER_JOB: usize = 64;

/// The workflows being followed for one job, and how many more may be read.
struct Calls {
    stack: Vec<String>,
    budget: usize,
    /// Whether the calling job may request an OIDC token: a called workflow can only lower it.
    caller_oidc: bool,
}

pub(crate) fn read(ctx: &Ctx<'_>, jobs: &mut Vec<Job>, notes: &mut Vec<Note>) {
    let yaml = parse(ctx, notes);
    let Some(doc) = yaml.documents().next() else {
        return;
    };
    let Some(job_map) = doc.get("jobs").filter(|j| j.is_mapping()) else {
        return;
    };
    // A workflow only ever called runs as part of its callers' jobs, with the secrets they
    // pass: it is read through them.
    if only_called(doc) {
        return;
    }
    for (id, node, start, end) in entry_ranges(job_map, ctx.text().len()) {
        let mut job = ctx.job(id, str_at(node, "name"), start, end, false);
        let mut calls = Calls {
            stack: vec![ctx.file.relative.clone()],
            budget: MAX_CALLS_PER_JOB,
            caller_oidc: false,
        };
        let reach = job_reach(ctx, doc, id, node, &Passed::Repository, &mut calls, 0);
        job.workspace = reach.workspace;
        job.regions.extend(reach.regions);
        for g in reach.grants {
            push_grant(&mut job, g);
        }
        job.notes.extend(reach.notes);
        jobs.push(job);
    }
}

/// `on: workflow_call` and no other trigger.
fn only_called(doc: NodeRef<'_, '_>) -> bool {
    // YAML 1.1 readers take a bare `on` for `true`; GitHub's key is the word.
    let Some(on) = doc.get("on").or_else(|| doc.get("true")) else {
        return false;
    };
    let triggers: Vec<&str> = if let Some(s) = on.as_str() {
        vec![s]
    } else if on.is_sequence() {
        on.items().iter().filter_map(|i| i.as_str()).collect()
    } else {
        on.entries().into_iter().map(|(k, _)| k).collect()
    };
    triggers == ["workflow_call"]
}

/// Which secrets a workflow's `secrets.X` reads resolve to.
#[derive(Clone, Debug)]
enum Passed {
    /// A workflow that runs on its own: the repository's, organization's and environment's.
    Repository,
    /// A called workflow: `secrets: inherit` from a caller.
    Inherited { caller: String },
    /// A called workflow: only the secrets its caller passed by name (read by the caller).
    Named { caller: String, names: Vec<String> },
}

/// What one job can reach.
#[derive(Default)]
struct Reach {
    grants: Vec<Grant>,
    workspace: bool,
    notes: Vec<String>,
    /// The called workflows' jobs: a reference inside one is the caller's.
    regions: Vec<Region>,
}

fn job_reach(
    ctx: &Ctx<'_>,
    doc: NodeRef<'_, '_>,
    id: &str,
    node: NodeRef<'_, '_>,
    passed: &Passed,
    calls: &mut Calls,
    depth: usize,
) -> Reach {
    let mut reach = Reach::default();
    let shown = format!("job `{id}` of {}", ctx.file.display);
    let environment = node
        .get("environment")
        .and_then(|e| e.as_str().or_else(|| str_at(e, "name")))
        .filter(|e| !e.is_empty());
    // A secret comes from the job's environment when it has one with that name.
    let scope = match environment {
        Some(e) => format!("GitHub Actions secret (repository, organization or environment `{e}`)"),
        None => "GitHub Actions secret (repository or organization)".to_string(),
    };
    // Secrets written in the workflow's env: every job gets them, except a job that calls a
    // workflow (the caller's `env` is not passed on).
    if let Some(env) = doc.get("env").filter(|_| node.get("uses").is_none()) {
        for (path, scalar) in scalars(env) {
            secret_reads(ctx, scalar, passed, &scope, &mut reach.grants, |_| {
                format!(
                    "the workflow's `env:` sets `{path}` from it for every job, {shown} included"
                )
            });
        }
    }
    let steps = node.get("steps").map(|s| s.items()).unwrap_or_default();
    for (path, scalar) in scalars(node) {
        if path == "uses" {
            continue;
        }
        let why = describe(&path, &steps, &shown);
        secret_reads(ctx, scalar, passed, &scope, &mut reach.grants, |line| {
            if registry_login(line) {
                format!(
                    "{why}, to log in to a registry: the login is saved in the runner's docker config, which every later step can read"
                )
            } else {
                why.clone()
            }
        });
    }
    token(ctx, doc, node, &shown, depth > 0, &mut reach);
    if let (Some(name), Some(env)) = (environment, node.get("environment")) {
        let at = env.resolve().map_or(env.start(), |n| n.start());
        reach.grants.push(ctx.grant(
            CredentialKind::SecretSet,
            name,
            "GitHub environment",
            format!(
                "{shown} runs in environment `{name}`: it receives every secret of that environment (once its protection rules pass)"
            ),
            at,
            "ci-secret-set",
        ));
    }
    let may_oidc = if depth == 0 {
        id_token_write(doc, node)
    } else {
        calls.caller_oidc && (permissions(doc, node).is_none() || id_token_write(doc, node))
    };
    let outer_oidc = std::mem::replace(&mut calls.caller_oidc, may_oidc);
    for (i, step) in steps.iter().enumerate() {
        step_reach(ctx, *step, i, &shown, may_oidc, &mut reach);
    }
    if let Some(uses) = str_at(node, "uses") {
        call(ctx, node, uses, &shown, passed, calls, depth, &mut reach);
    }
    calls.caller_oidc = outer_oidc;
    if may_oidc
        && !reach
            .grants
            .iter()
            .any(|g| g.kind == CredentialKind::CloudRole)
    {
        let at = permission_at(doc, node);
        reach.grants.push(ctx.grant(
            CredentialKind::IdToken,
            "GitHub OIDC token",
            "GitHub Actions OIDC",
            format!(
                "{shown} has `id-token: write`: it can request an OIDC token for this repository and exchange it at any cloud role or service that trusts it"
            ),
            at,
            "ci-id-token",
        ));
    }
    if node.get("container").is_some() {
        reach.notes.push(
            "a container job: its steps run inside the job container, with the job's environment"
                .to_string(),
        );
    }
    reach
}

/// Adds a grant for every `secrets.X` read in the scalar; `why` gets the line it is read on.
fn secret_reads(
    ctx: &Ctx<'_>,
    scalar: NodeRef<'_, '_>,
    passed: &Passed,
    scope: &str,
    out: &mut Vec<Grant>,
    why: impl Fn(&str) -> String,
) {
    let Some(value) = scalar.as_str() else { return };
    if !value.contains("${{") {
        return;
    }
    for read in context_reads(value, 0, "secrets") {
        let at = offset_in_file(scalar, read.span);
        let line = line_around(value, read.span);
        let reason = why(line);
        let grant = match (&read.name, passed) {
            (Some(name), _) if name.eq_ignore_ascii_case("GITHUB_TOKEN") => continue,
            (Some(name), Passed::Repository) => ctx.grant(
                CredentialKind::Secret,
                name,
                scope,
                reason,
                at,
                "ci-secret",
            ),
            (Some(name), Passed::Inherited { caller }) => ctx.grant(
                CredentialKind::Secret,
                name,
                scope,
                format!("{reason} (called by {caller} with `secrets: inherit`)"),
                at,
                "ci-secret",
            ),
            // The caller read the secret it passed; a name it did not pass is empty here.
            (Some(_), Passed::Named { .. }) => continue,
            (None, Passed::Named { caller, names }) => {
                if names.is_empty() {
                    continue;
                }
                ctx.grant(
                    CredentialKind::SecretSet,
                    "secrets passed by the caller",
                    "GitHub Actions secrets",
                    format!(
                        "{reason} reads the whole `secrets` context: every secret {caller} passes ({})",
                        names.join(", ")
                    ),
                    at,
                    "ci-secret-set",
                )
            }
            (None, _) => ctx.grant(
                CredentialKind::SecretSet,
                "every repository and organization secret",
                "GitHub Actions secrets",
                format!(
                    "{reason} reads the whole `secrets` context (`toJSON(secrets)` or a computed name): every secret the repository and organization hold"
                ),
                at,
                "ci-secret-set",
            ),
        };
        out.push(grant);
    }
}

fn line_around(value: &str, span: Span) -> &str {
    let start = value[..span.start.min(value.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let end = value[span.end.min(value.len())..]
        .find('\n')
        .map_or(value.len(), |i| span.end + i);
    value.get(start..end).unwrap_or("")
}

/// Why a secret read at `path` (under the job) reaches the job, in words.
fn describe(path: &str, steps: &[NodeRef<'_, '_>], shown: &str) -> String {
    if let Some(rest) = path.strip_prefix("steps[") {
        let (index, rest) = rest.split_once(']').unwrap_or((rest, ""));
        let rest = rest.trim_start_matches('.');
        let n: usize = index.parse().unwrap_or(0);
        let step = steps
            .get(n)
            .map_or_else(|| format!("step {}", n + 1), |s| step_name(*s, n));
        let login = steps.get(n).and_then(|s| registry_login_action(*s));
        return match rest.split_once('.') {
            Some(("env", var)) => format!("{step} of {shown} sets `{var}` from it in its `env:`"),
            Some(("with", input @ ("password" | "username"))) if login.is_some() => format!(
                "{step} of {shown} logs in to {} with it (input `{input}`): the login is saved in the runner's docker config, which every later step can read",
                login.unwrap_or_default()
            ),
            Some(("with", input)) => format!("{step} of {shown} gets it as input `{input}`"),
            _ if rest == "run" => format!("{step} of {shown} writes it into its script (`run:`)"),
            _ => format!("{step} of {shown} reads it in `{rest}`"),
        };
    }
    match path.split_once('.') {
        Some(("env", var)) => {
            format!("{shown} sets `{var}` from it in the job's `env:`, for every step")
        }
        Some(("container", _)) => format!("{shown} uses it for its job container (`{path}`)"),
        Some(("services", rest)) => format!("{shown} uses it for service container `{rest}`"),
        Some(("with", input)) => {
            format!("{shown} passes it to the called workflow as input `{input}`")
        }
        Some(("secrets", name)) => {
            format!("{shown} passes it to the called workflow as secret `{name}`")
        }
        _ => format!("{shown} reads it in `{path}`"),
    }
}

/// The registry a `docker/login-action` step logs in to, with the user when written:
/// `` `ghcr.io` as `bot` ``; Docker Hub when the step names none.
fn registry_login_action(step: NodeRef<'_, '_>) -> Option<String> {
    let uses = str_at(step, "uses")?;
    if !uses
        .to_ascii_lowercase()
        .starts_with("docker/login-action@")
    {
        return None;
    }
    let with = step.get("with");
    let input = |k: &str| with.and_then(|w| str_at(w, k));
    let registry = input("registry").map_or_else(|| "Docker Hub".to_string(), |r| format!("`{r}`"));
    Some(match input("username").filter(|u| !u.contains("${{")) {
        Some(user) => format!("{registry} as `{user}`"),
        None => registry,
    })
}

/// `step 3 (`docker/login-action@v3`)`, or its `name:`.
fn step_name(step: NodeRef<'_, '_>, index: usize) -> String {
    let label = str_at(step, "name").or_else(|| str_at(step, "uses"));
    match label {
        Some(l) => format!("step {} (`{}`)", index + 1, l.replace('`', "'")),
        None => format!("step {}", index + 1),
    }
}

/// The effective `permissions:` (job, else workflow) and the node holding them.
fn permissions<'y, 'a>(
    doc: NodeRef<'y, 'a>,
    job: NodeRef<'y, 'a>,
) -> Option<(NodeRef<'y, 'a>, &'static str)> {
    job.get("permissions")
        .map(|p| (p, "the job's"))
        .or_else(|| doc.get("permissions").map(|p| (p, "the workflow's")))
}

fn permission_at(doc: NodeRef<'_, '_>, job: NodeRef<'_, '_>) -> usize {
    permissions(doc, job).map_or(job.start(), |(p, _)| {
        p.resolve().map_or(p.start(), |n| n.start())
    })
}

fn id_token_write(doc: NodeRef<'_, '_>, job: NodeRef<'_, '_>) -> bool {
    match permissions(doc, job) {
        Some((p, _)) => p.as_str() == Some("write-all") || str_at(p, "id-token") == Some("write"),
        None => false,
    }
}

/// The job's GITHUB_TOKEN: always there, with what its permissions allow.
fn token(
    ctx: &Ctx<'_>,
    doc: NodeRef<'_, '_>,
    job: NodeRef<'_, '_>,
    shown: &str,
    called: bool,
    reach: &mut Reach,
) {
    let (why, at) = match permissions(doc, job) {
        // A called workflow that sets none runs with its caller's.
        None if called => (
            format!(
                "{shown} always gets a GITHUB_TOKEN; the called workflow sets no `permissions:`, so it has its caller's (listed with the caller)"
            ),
            job.start(),
        ),
        None => (
            format!(
                "{shown} always gets a GITHUB_TOKEN; neither the workflow nor the job sets `permissions:`, so the repository's default applies, which this file cannot tell: \"restricted\" (the default for repositories and organizations created since February 2023) grants `contents: read` and `packages: read`, \"permissive\" grants read and write on every scope but `id-token`; the repository or organization setting decides (Settings > Actions > General > Workflow permissions)"
            ),
            job.start(),
        ),
        Some((p, whose)) => {
            let at = p.resolve().map_or(p.start(), |n| n.start());
            let what = match p.as_str() {
                Some("write-all") => "read and write on every scope".to_string(),
                Some("read-all") => "read on every scope".to_string(),
                Some(other) if !other.is_empty() => format!("`{other}`"),
                _ => {
                    let mut writes = Vec::new();
                    let mut reads = Vec::new();
                    for (scope, level) in p.entries() {
                        match level.as_str() {
                            Some("write") => writes.push(scope),
                            Some("read") => reads.push(scope),
                            _ => {}
                        }
                    }
                    match (writes.is_empty(), reads.is_empty()) {
                        (true, true) => "no scope at all (`permissions: {}`)".to_string(),
                        (true, false) => format!("read on {}", reads.join(", ")),
                        (false, true) => format!("write on {}", writes.join(", ")),
                        (false, false) => format!(
                            "write on {}; read on {}",
                            writes.join(", "),
                            reads.join(", ")
                        ),
                    }
                }
            };
            let limit = if called {
                ", at most what the caller's allow (a called workflow can only lower them)"
            } else {
                ""
            };
            (
                format!(
                    "{shown} always gets a GITHUB_TOKEN; {whose} `permissions:` grant {what}{limit}"
                ),
                at,
            )
        }
    };
    reach.grants.push(ctx.grant(
        CredentialKind::JobToken,
        "GITHUB_TOKEN",
        "GitHub Actions job token",
        why,
        at,
        "github-actions-token",
    ));
    reach.grants.push(ctx.grant(
        CredentialKind::JobToken,
        "ACTIONS_RUNTIME_TOKEN",
        "GitHub Actions runtime token (artifacts and cache)",
        format!(
            "{shown} runs with the runner's ACTIONS_RUNTIME_TOKEN, which actions and container steps get in their environment: it writes the run's artifacts and the repository's Actions cache that later workflows restore"
        ),
        job.start(),
        "github-actions-runtime-token",
    ));
}

/// What one step adds: a checkout, a cloud role, a registry login.
fn step_reach(
    ctx: &Ctx<'_>,
    step: NodeRef<'_, '_>,
    index: usize,
    shown: &str,
    may_oidc: bool,
    reach: &mut Reach,
) {
    let Some(uses) = str_at(step, "uses") else {
        return;
    };
    let action = uses.split('@').next().unwrap_or("").to_ascii_lowercase();
    let name = step_name(step, index);
    let with = step.get("with");
    let input = |k: &str| with.and_then(|w| str_at(w, k));
    let at = step
        .get("uses")
        .and_then(|u| u.resolve())
        .map_or(step.start(), |u| u.start());
    match action.as_str() {
        "actions/checkout" => {
            reach.workspace = true;
            if input("persist-credentials").is_none_or(|v| v != "false") {
                reach.notes.push(format!(
                    "{name} checks the repository out and leaves the job's token in `.git/config` (`persist-credentials` is not `false`): any later step can read it from the workspace"
                ));
            }
        }
        "aws-actions/configure-aws-credentials" => {
            if let Some(role) = input("role-to-assume") {
                let how = if input("aws-access-key-id").is_some() {
                    "with the access key it is given"
                } else if may_oidc {
                    "with the job's OIDC token"
                } else {
                    "(`id-token: write` is not granted, so only with a key it is given)"
                };
                cloud_role(
                    ctx,
                    reach,
                    role,
                    "AWS IAM role",
                    format!("{name} of {shown} assumes it {how}"),
                    at,
                    may_oidc || input("aws-access-key-id").is_some(),
                );
            }
        }
        "google-github-actions/auth" => {
            let sa = input("service_account");
            let provider = input("workload_identity_provider");
            if let Some(target) = sa.or(provider) {
                let how = match (provider, sa) {
                    (Some(p), Some(_)) => format!("through workload identity provider `{p}`"),
                    (Some(_), None) => "through workload identity federation".to_string(),
                    _ => "with the key it is given".to_string(),
                };
                cloud_role(
                    ctx,
                    reach,
                    target,
                    "Google Cloud service account or workload identity",
                    format!("{name} of {shown} authenticates as it {how}"),
                    at,
                    may_oidc || provider.is_none(),
                );
            }
        }
        "azure/login" => {
            let federated = input("creds").is_none() && input("client-secret").is_none();
            if let (Some(client), true) = (input("client-id"), federated) {
                let tenant = input("tenant-id")
                    .map(|t| format!(" in tenant `{t}`"))
                    .unwrap_or_default();
                cloud_role(
                    ctx,
                    reach,
                    client,
                    "Azure app registration or managed identity",
                    format!(
                        "{name} of {shown} signs in as this client id{tenant} with the job's OIDC token"
                    ),
                    at,
                    may_oidc,
                );
            }
        }
        _ => {}
    }
}

fn cloud_role(
    ctx: &Ctx<'_>,
    reach: &mut Reach,
    role: &str,
    scope: &str,
    why: String,
    at: usize,
    usable: bool,
) {
    if !usable {
        reach.notes.push(format!(
            "{why}: the job lacks `id-token: write`, so it cannot get the OIDC token this needs"
        ));
        return;
    }
    let name = if role.contains("${{") {
        let names: Vec<String> = context_reads(role, 0, "secrets")
            .into_iter()
            .filter_map(|r| r.name)
            .collect();
        match names.as_slice() {
            [one] => format!("the role in secret {one}"),
            _ => role.to_string(),
        }
    } else {
        role.to_string()
    };
    reach.grants.push(ctx.grant(
        CredentialKind::CloudRole,
        &name,
        scope,
        why,
        at,
        "cloud-oidc-role",
    ));
}

/// A job that calls a reusable workflow: what the called jobs can read, followed in the tree.
#[allow(clippy::too_many_arguments)]
fn call(
    ctx: &Ctx<'_>,
    node: NodeRef<'_, '_>,
    uses: &str,
    shown: &str,
    passed: &Passed,
    calls: &mut Calls,
    depth: usize,
    reach: &mut Reach,
) {
    let at = node
        .get("uses")
        .and_then(|u| u.resolve())
        .map_or(node.start(), |u| u.start());
    let secrets = node.get("secrets");
    let inherit = secrets.and_then(|s| s.as_str()) == Some("inherit");
    let local = uses.starts_with("./");
    let callee_passed = match (inherit, passed) {
        (true, Passed::Repository) => Passed::Inherited {
            caller: shown.to_string(),
        },
        (true, other) => other.clone(),
        (false, _) => Passed::Named {
            caller: shown.to_string(),
            names: secrets
                .map(|s| {
                    s.entries()
                        .into_iter()
                        .map(|(k, _)| k.to_string())
                        .collect()
                })
                .unwrap_or_default(),
        },
    };
    if !local {
        if inherit {
            reach.grants.push(ctx.grant(
                CredentialKind::SecretSet,
                "every repository and organization secret",
                "GitHub Actions secrets",
                format!(
                    "{shown} calls `{uses}`, outside this tree, with `secrets: inherit`: it receives every secret the caller can read"
                ),
                at,
                "ci-secret-set",
            ));
        }
        reach.notes.push(format!(
            "calls the workflow `{uses}` outside this tree: what its jobs read beyond what is passed to them is not known here"
        ));
        return;
    }
    let path = uses.trim_start_matches("./");
    let path = path.split('@').next().unwrap_or(path);
    let Some(file) = ctx.tree.file(path) else {
        reach.notes.push(format!(
            "calls `{uses}`, which is not in the tree: its jobs could not be followed"
        ));
        return;
    };
    if calls.budget == 0 {
        reach.notes.push(format!(
            "calls `{uses}`: not followed, more than {MAX_CALLS_PER_JOB} called workflows were read for this job"
        ));
        return;
    }
    if depth >= MAX_CALL_DEPTH || calls.stack.contains(&file.relative) {
        reach
            .notes
            .push(format!("calls `{uses}` again or too deep: followed once"));
        return;
    }
    calls.budget -= 1;
    calls.stack.push(file.relative.clone());
    let callee = ctx.other(file);
    let yaml = tagwarden_extract::yaml::Yaml::parse(callee.text());
    if let Some(doc) = yaml.documents().next()
        && let Some(jobs) = doc.get("jobs")
    {
        for (id, job, start, end) in entry_ranges(jobs, callee.text().len()) {
            let inner = job_reach(&callee, doc, id, job, &callee_passed, calls, depth + 1);
            reach.regions.push(callee.region(start, end));
            reach.regions.extend(inner.regions);
            reach.workspace |= inner.workspace;
            reach.grants.extend(inner.grants);
            reach.notes.extend(inner.notes);
        }
    }
    calls.stack.pop();
}
