//! Tekton objects in Kubernetes manifests.
//!
//! In `tekton.dev` objects, task `steps`, `sidecars` and `stepTemplate` are containers too (in
//! Tasks, Pipeline `tasks[].taskSpec` and `finally`, TaskRun / PipelineRun embedded specs), and a
//! `StepAction`'s `spec.image`. `$(params.x)` resolves to the value a run or pipeline task passes
//! an embedded spec (`params[].value`, `$(params.y)` of the pipeline followed), else to the
//! spec's own default; a result or a matrix parameter is unresolved. Tekton objects are also
//! recognised inside `List`s and Triggers `TriggerTemplate`s.
//!
//! Tekton bundles are OCI images that hold Tasks, Pipelines or StepActions, pulled by tag like
//! any image: a `taskRef`, `pipelineRef` (pipeline tasks, `finally`, runs, nested pipelines) or a
//! step's StepAction `ref` names one in `bundle:` (older API) or in the `bundle` parameter of the
//! `bundles` resolver, reported as [`Source::TektonBundle`]. `$(params.x)` there reads the
//! enclosing pipeline's or task's parameters (a run's own for a run), not the ones the task is
//! given. Other resolvers (git, hub, cluster, http) name no image.
//!
//! A step's, sidecar's or StepAction's `script:` run by a shell (no shebang, or a shell's; a
//! `#!/usr/bin/env python` script is skipped) and the `-c` argument of a shell `command:` are
//! read for container commands, [`Source::TektonScriptCommand`]. Tekton replaces `$(params.x)`
//! before the shell runs, so a known parameter's value is substituted (its definition is the
//! origin) and other Tekton variables (`$(workspaces.w.path)`, a parameter without a known value)
//! leave an operand unresolved; a `$NAME` takes the step's (or `stepTemplate`'s) `env:` value when
//! that is literal or a whole `$(params.x)`.

use std::collections::HashMap;

use super::Manifest;
use crate::read::ci_script::rewrite as substitute;
use crate::read::placeholder::placeholder_reason;
use crate::read::shell;
use crate::read::yaml::{
    Entry, Found, NodeRef, Scalar, literal_occurrence, lookup, merged_entries, scalar_at, str_of,
};
use crate::{Form, ImageOccurrence, Origin, Source, Span};

/// Tekton Pipelines objects, and Triggers templates that embed them.
pub(super) fn is_tekton_api(api: &str) -> bool {
    api.starts_with("tekton.dev/") || api.starts_with("triggers.tekton.dev/")
}

/// Tekton parameters in scope: name to its known value, or `None` when it is set to something
/// that cannot be known offline (a result, a matrix), which hides any default.
pub(super) type ParamScope = Vec<(String, Option<Scalar>)>;

/// Tekton's container lists (Task steps and sidecars).
const TEKTON_LISTS: &[&str] = &["steps", "sidecars"];

impl Manifest<'_> {
    /// A Tekton task spec: `steps`, `sidecars` and `stepTemplate`, with `$(params.x)` taken from
    /// the parameters in scope: values a TaskRun, PipelineRun or pipeline task gives an embedded
    /// spec, else the defaults of the spec's own `params`.
    pub(super) fn report_task_spec(
        &self,
        entries: &[Entry<'_, '_>],
        scope: &[(String, Option<Scalar>)],
        out: &mut Found,
    ) {
        if TEKTON_LISTS.iter().all(|k| lookup(entries, k).is_none())
            && lookup(entries, "stepTemplate").is_none()
        {
            return;
        }
        let params = known_params(scope);
        for key in TEKTON_LISTS {
            if let Some(e) = lookup(entries, key) {
                self.report_containers(e, Source::KubernetesContainer, &params, out);
            }
        }
        let template = lookup(entries, "stepTemplate");
        if let Some(e) = template {
            self.report_container(e.value, e.via, Source::KubernetesContainer, &params, out);
        }
        let template_env = template
            .map(|t| self.tekton_env(&merged_entries(t.value), &params))
            .unwrap_or_default();
        for key in TEKTON_LISTS {
            let Some(list) = lookup(entries, key) else {
                continue;
            };
            // Like containers, a list reused through an alias is read once.
            if !out.first_script_visit(list.value) {
                continue;
            }
            for step in list.value.items() {
                self.report_step_scripts(&merged_entries(step), &params, &template_env, out);
            }
        }
    }

    /// Container commands of a Tekton step or sidecar: its `script:` when a shell runs it (no
    /// shebang, or a shell's), and the argument after `-c` of a shell `command:`. Tekton replaces
    /// `$(params.x)` before the shell runs, so known parameters are substituted first.
    fn report_step_scripts(
        &self,
        step: &[Entry<'_, '_>],
        params: &[(String, Scalar)],
        template_env: &HashMap<String, (String, Span)>,
        out: &mut Found,
    ) {
        let mut scripts = Vec::new();
        if let Some(script) = lookup(step, "script")
            && script
                .value
                .resolve()
                .and_then(|s| s.as_str())
                .is_some_and(runs_in_shell)
        {
            scripts.push(script.value);
        }
        let mut argv = lookup(step, "command")
            .map(|e| e.value.items())
            .unwrap_or_default();
        argv.extend(
            lookup(step, "args")
                .map(|e| e.value.items())
                .unwrap_or_default(),
        );
        let runs_shell = argv
            .first()
            .and_then(|c| c.as_str())
            .is_some_and(shell::is_shell);
        if runs_shell {
            scripts.extend(crate::read::ci_script::argv::shell_script(&argv));
        }
        // Most scripts run no program that names images: skip the env and assignment scans.
        let may_name_images = |n: &NodeRef<'_, '_>| {
            n.resolve()
                .and_then(|s| s.as_str())
                .is_some_and(|s| shell::may_name_images(s) || s.contains("apiVersion"))
        };
        if !scripts.iter().any(may_name_images) {
            return;
        }
        let mut env = template_env.clone();
        env.extend(self.tekton_env(step, params));
        // A variable assigned anywhere in the file may hold another value than its `env:` one.
        let assigned = out.assigned_names(|| {
            crate::read::shell::assigned_names(self.file)
                .into_iter()
                .map(str::to_string)
                .collect()
        });
        let lookup_env = |name: &str| {
            if assigned.contains(name) {
                return None;
            }
            env.get(name).cloned()
        };
        let built: Vec<String> = scripts
            .iter()
            .filter_map(|s| s.resolve()?.as_str())
            .flat_map(shell::built_images)
            .collect();
        let context = str_of(step, "name");
        let site = substitute::ScriptSite {
            file: self.file,
            source: Source::TektonScriptCommand,
            context,
            built: &built,
            env: &lookup_env,
        };
        let rewrites = |value: &str| tekton_rewrites(value, params);
        for script in scripts {
            substitute::script_images(&site, script, &rewrites, out.extraction());
        }
    }

    /// A step's `env:` values that are literal, or a whole `$(params.x)` with a known value.
    fn tekton_env(
        &self,
        step: &[Entry<'_, '_>],
        params: &[(String, Scalar)],
    ) -> HashMap<String, (String, Span)> {
        let mut env = HashMap::new();
        for var in lookup(step, "env")
            .map(|e| e.value.items())
            .unwrap_or_default()
        {
            let e = merged_entries(var);
            let (Some(name), Some(value)) = (
                str_of(&e, "name"),
                lookup(&e, "value").and_then(|v| scalar_at(v.value, self.file)),
            ) else {
                continue;
            };
            let known = match tekton_param_name(&value.value) {
                Some(param) => params
                    .iter()
                    .find(|(n, _)| n == param)
                    .map(|(_, s)| s)
                    .filter(|s| s.exact && !s.value.contains('$'))
                    .map(|s| (s.value.clone(), s.span)),
                None => (value.exact && !value.value.contains('$'))
                    .then(|| (value.value.clone(), value.span)),
            };
            if let Some(known) = known {
                env.insert(name.to_string(), known);
            }
        }
        env
    }

    /// Tekton bundles named by a `taskRef` or `pipelineRef` (a pipeline task, a run, a nested
    /// pipeline) or a step's StepAction `ref`: the `bundle:` field (older API) or the `bundle`
    /// parameter of the `bundles` resolver.
    pub(super) fn report_refs(
        &self,
        entries: &[Entry<'_, '_>],
        scope: &[(String, Option<Scalar>)],
        parent: &str,
        out: &mut Found,
    ) {
        let holder = str_of(entries, "name");
        for key in ["taskRef", "pipelineRef", "ref"] {
            // `ref` names a StepAction only in a step; elsewhere it is someone else's field.
            if key == "ref" && parent != "steps" {
                continue;
            }
            let Some(reference) = lookup(entries, key) else {
                continue;
            };
            let ref_entries = merged_entries(reference.value);
            let mut resource = str_of(&ref_entries, "name");
            let mut bundles = Vec::new();
            if let Some(b) = lookup(&ref_entries, "bundle") {
                bundles.push((b.value, b.via));
            }
            if str_of(&ref_entries, "resolver") == Some("bundles") {
                for p in lookup(&ref_entries, "params")
                    .map(|p| p.value.items())
                    .unwrap_or_default()
                {
                    let e = merged_entries(p);
                    let value = lookup(&e, "value");
                    match (str_of(&e, "name"), value) {
                        (Some("bundle"), Some(v)) => bundles.push((v.value, v.via)),
                        (Some("name"), Some(v)) => resource = resource.or(v.value.as_str()),
                        _ => {}
                    }
                }
            }
            let context = [holder, Some(key), resource]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let params = known_params(scope);
            for (node, via) in bundles {
                let via = reference.via.or(via);
                let source = Source::TektonBundle;
                if let Some(occ) =
                    literal_occurrence(node, via, source, Some(context.clone()), self.file)
                {
                    out.push(with_params(occ, &params));
                }
            }
        }
    }

    /// A Tekton `StepAction`: one container, `spec.image`, with the defaults of `spec.params`.
    pub(super) fn report_step_action(&self, entries: &[Entry<'_, '_>], out: &mut Found) {
        let Some(spec) = lookup(entries, "spec") else {
            return;
        };
        let spec_entries = merged_entries(spec.value);
        let scope = param_scope(&spec_entries, &[], self.file);
        let Some(image) = lookup(&spec_entries, "image") else {
            return;
        };
        let context = lookup(entries, "metadata")
            .and_then(|m| str_of(&merged_entries(m.value), "name"))
            .map(str::to_string);
        let via = spec.via.or(image.via);
        let source = Source::KubernetesContainer;
        let params = known_params(&scope);
        if let Some(occ) = literal_occurrence(image.value, via, source, context, self.file) {
            out.push(with_params(occ, &params));
        }
        self.report_step_scripts(&spec_entries, &params, &HashMap::new(), out);
    }
}

/// The parameters in scope inside a Tekton mapping: `params[].value` (a run or pipeline task
/// setting them) override those received; `params[].default` (a task or pipeline declaring them)
/// apply only where nothing was received; `matrix.params` are unknown.
pub(super) fn param_scope(
    entries: &[Entry<'_, '_>],
    received: &[(String, Option<Scalar>)],
    file: &str,
) -> ParamScope {
    let mut scope = received.to_vec();
    let set = |scope: &mut ParamScope, name: &str, value: Option<Scalar>| match scope
        .iter_mut()
        .find(|(n, _)| n == name)
    {
        Some(slot) => slot.1 = value,
        None => scope.push((name.to_string(), value)),
    };
    for p in lookup(entries, "params")
        .map(|p| p.value.items())
        .unwrap_or_default()
    {
        let e = merged_entries(p);
        let Some(name) = str_of(&e, "name") else {
            continue;
        };
        if let Some(value) = lookup(&e, "value") {
            let known = scalar_at(value.value, file).and_then(|v| {
                // `$(params.x)` passes a parameter of the enclosing pipeline or run along.
                match v
                    .value
                    .strip_prefix("$(params.")
                    .and_then(|r| r.strip_suffix(')'))
                {
                    Some(outer) => received
                        .iter()
                        .find(|(n, _)| n == outer)
                        .and_then(|(_, v)| v.clone()),
                    None => (!v.value.contains("$(")).then_some(v),
                }
            });
            set(&mut scope, name, known);
        } else if let Some(default) = lookup(&e, "default")
            && !received.iter().any(|(n, _)| n == name)
        {
            set(&mut scope, name, scalar_at(default.value, file));
        }
    }
    let matrix_params = lookup(entries, "matrix")
        .and_then(|m| lookup(&merged_entries(m.value), "params").map(|p| p.value.items()))
        .unwrap_or_default();
    for p in matrix_params {
        if let Some(name) = str_of(&merged_entries(p), "name") {
            set(&mut scope, name, None);
        }
    }
    scope
}

/// The parameters of a scope whose values are known.
fn known_params(scope: &[(String, Option<Scalar>)]) -> Vec<(String, Scalar)> {
    scope
        .iter()
        .filter_map(|(n, v)| Some((n.clone(), v.clone()?)))
        .collect()
}

/// Resolves Tekton `$(params.x)` references of an image from parameter defaults; the defaults
/// become the origins (a TaskRun may still override them). Other `$(…)` stay unresolved.
pub(super) fn with_params(
    mut occ: ImageOccurrence,
    params: &[(String, Scalar)],
) -> ImageOccurrence {
    if params.is_empty() || !occ.text.contains("$(") || !occ.exact {
        return occ;
    }
    let mut value = String::new();
    let mut origins = Vec::new();
    let mut rest = occ.text.as_str();
    while let Some(open) = rest.find("$(") {
        value.push_str(rest.get(..open).unwrap_or_default());
        let after = rest.get(open + 2..).unwrap_or_default();
        let Some(close) = after.find(')') else {
            return occ;
        };
        let expr = after.get(..close).unwrap_or_default();
        let name = param_of_expression(expr);
        let Some((name, default)) = name.and_then(|n| params.iter().find(|(p, _)| p == n)) else {
            return occ;
        };
        value.push_str(&default.value);
        if default.exact {
            origins.push(Origin {
                name: format!("params.{name}"),
                span: default.span,
            });
        }
        rest = after.get(close + 1..).unwrap_or_default();
    }
    value.push_str(rest);
    if placeholder_reason(&value).is_none() && !value.trim().is_empty() {
        occ.image = Ok(value);
        occ.form = Form::Expanded { origins };
    }
    occ
}

/// The parameter `params.x`, `params["x"]` or `params['x']` names (inside `$(…)`).
fn param_of_expression(expr: &str) -> Option<&str> {
    expr.strip_prefix("params.").or_else(|| {
        expr.strip_prefix("params[")?
            .strip_suffix(']')?
            .strip_prefix(['"', '\''])?
            .strip_suffix(['"', '\''])
    })
}

/// The parameter a value consisting of one `$(params.x)` names.
fn tekton_param_name(value: &str) -> Option<&str> {
    let expr = value.strip_prefix("$(")?.strip_suffix(')')?;
    param_of_expression(expr).filter(|n| !n.contains([')', '(']))
}

/// The roots of the variables Tekton substitutes in a step (`$(params.x)`, `$(workspaces.w.path)`,
/// `$(results.r.path)`, `$(context.taskRun.name)`, …); any other `$(…)` is the shell's.
const TEKTON_VARIABLE_ROOTS: &[&str] = &[
    "params",
    "context",
    "workspaces",
    "results",
    "steps",
    "step",
    "tasks",
    "inputs",
    "outputs",
    "resources",
    "credentials",
];

/// What Tekton replaces in a script before the shell runs: `$(params.x)` with a known value (its
/// definition as origin), any other Tekton variable with an unknown value.
fn tekton_rewrites(value: &str, params: &[(String, Scalar)]) -> Vec<substitute::Rewrite> {
    substitute::delimited(value, "$(", ")", &|expr| {
        let root = expr.split(['.', '[']).next().unwrap_or_default();
        let well_formed = !expr.contains(['(', '$', ' ', '\n', '\t']);
        if !TEKTON_VARIABLE_ROOTS.contains(&root) || !well_formed {
            return None;
        }
        let known = param_of_expression(expr)
            .and_then(|name| params.iter().find(|(n, _)| n == name))
            .filter(|(_, v)| !v.value.contains("$("));
        Some(match known {
            Some((name, v)) => substitute::Piece::known(
                format!("params.{name}"),
                &v.value,
                v.exact.then_some(v.span),
            ),
            None => substitute::Piece::unknown(
                expr,
                format!("$({expr}) is set by Tekton when the task runs"),
            ),
        })
    })
}

/// True when Tekton runs `script` with a shell: no shebang (Tekton uses `/bin/sh`), or a
/// shebang naming a shell directly or through `env`.
fn runs_in_shell(script: &str) -> bool {
    let Some(shebang) = script.trim_start().strip_prefix("#!") else {
        return true;
    };
    let line = shebang.lines().next().unwrap_or_default();
    let mut words = line.split_whitespace();
    let Some(program) = words.next() else {
        return false;
    };
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let mut interpreter = base(program);
    if interpreter == "env" {
        interpreter = words
            .find(|w| !w.starts_with('-'))
            .map(base)
            .unwrap_or_default();
    }
    shell::is_shell(&interpreter)
}
