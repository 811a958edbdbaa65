//! Kubernetes manifests: the images of every container of every pod spec.
//!
//! Pod specs are found by shape, not by kind: any mapping with a `containers` sequence whose items
//! are mappings with an `image`. That covers Pods, every built-in workload (`spec.template.spec`,
//! CronJob's `spec.jobTemplate.spec.template.spec`, PodTemplate's `template.spec`), `List` kinds and
//! CRDs that embed a pod template (Argo Rollouts, Knative, …) without a table of kinds. A pod spec
//! also yields `initContainers`, `ephemeralContainers` and image volumes (`volumes[].image`).
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
//!
//! A `kind: Kustomization` document is read as a kustomization.
//!
//! Argo Workflows (`Workflow`, `WorkflowTemplate`, `ClusterWorkflowTemplate`, `CronWorkflow`'s
//! `spec.workflowSpec`): every template's `container`, `script`, `containerSet.containers`,
//! `initContainers` and `sidecars`, inline templates of steps and DAG tasks, and
//! `templateDefaults`, as [`Source::ArgoTemplate`]; `{{inputs.parameters.x}}` and
//! `{{workflow.parameters.x}}` resolve to the literal `value`/`default` (origins there), other
//! expressions are unresolved. Container commands in a shell's `-c` argument or a script's
//! `source` are [`Source::ArgoCommand`]. `podSpecPatch` is a string merged at run time: not
//! parsed (a note says so when it mentions an image).
//!
//! No other `image` key is read: ConfigMap/Secret data, annotations and comments are not
//! references. Values with placeholders (`${X}`, `$(X)`, `<X>`, `ko://…`, `{{ … }}`) are reported
//! unresolved.
//!
//! This module also holds the YAML helpers the Compose, Helm and Kustomize extractors share:
//! merge-key lookups bounded against alias bombs, scalars read from the original bytes, and
//! [`for_each_document`], which accepts a byte-order mark, works around two indentation slips
//! the parser refuses, and masks Helm template actions so chart templates can be read.

use std::collections::{HashMap, HashSet};

use crate::ci_script::rewrite as substitute;
use crate::yaml::{NodeKind, NodeRef, Style, Yaml, YamlError};
use crate::{
    Diagnostic, Extraction, Form, ImageOccurrence, Origin, Source, Span, Unresolved, yaml_util,
};

/// Finds the container images of a Kubernetes manifest (one or many documents).
pub fn extract(text: &str) -> Extraction {
    let mut out = Found::default();
    for_each_document(text, &mut out, |doc, file, out| {
        walk_document(doc, file, out);
    });
    out.finish()
}

/// Extracts from one parsed Kubernetes document (also used for chart templates met as Helm files).
pub(crate) fn walk_document(doc: NodeRef<'_, '_>, file: &str, out: &mut Found) {
    let entries = merged_entries(doc);
    if str_of(&entries, "kind") == Some("Kustomization") {
        crate::kustomize::extract_kustomization(doc, file, out);
        return;
    }
    let api = str_of(&entries, "apiVersion").unwrap_or_default();
    let kind = str_of(&entries, "kind").unwrap_or_default();
    if api.starts_with("argoproj.io/") && ARGO_WORKFLOW_KINDS.contains(&kind) {
        Argo { file }.workflow(&entries, kind, out);
        return;
    }
    let tekton = is_tekton_api(api);
    let manifest = Manifest { file, tekton };
    if tekton && kind == "StepAction" {
        manifest.report_step_action(&entries, out);
        return;
    }
    manifest.walk(doc, &[], "", out);
}

/// Tekton Pipelines objects, and Triggers templates that embed them.
fn is_tekton_api(api: &str) -> bool {
    api.starts_with("tekton.dev/") || api.starts_with("triggers.tekton.dev/")
}

/// Tekton parameters in scope: name to its known value, or `None` when it is set to something
/// that cannot be known offline (a result, a matrix), which hides any default.
type ParamScope = Vec<(String, Option<Scalar>)>;

/// Container-list keys of a pod spec and the source each one reports as.
const CONTAINER_LISTS: &[(&str, Source)] = &[
    ("containers", Source::KubernetesContainer),
    ("initContainers", Source::KubernetesInitContainer),
    ("ephemeralContainers", Source::KubernetesEphemeralContainer),
];

/// Tekton's container lists (Task steps and sidecars).
const TEKTON_LISTS: &[&str] = &["steps", "sidecars"];

/// Keys whose subtree never holds a pod spec; skipping them also skips their strings.
const SKIPPED_KEYS: &[&str] = &["metadata", "status"];

struct Manifest<'f> {
    file: &'f str,
    /// A `tekton.dev` object: task steps and sidecars are containers too.
    tekton: bool,
}

impl Manifest<'_> {
    /// Walks a document once; alias nodes are not entered, so an anchored subtree is seen once.
    /// `scope` holds the Tekton parameters an embedded spec receives from its run or pipeline;
    /// `parent` is the key the node is under (items of a list: the list's key).
    fn walk(
        &self,
        node: NodeRef<'_, '_>,
        scope: &[(String, Option<Scalar>)],
        parent: &str,
        out: &mut Found,
    ) {
        match node.kind() {
            NodeKind::Mapping(_) => {
                let entries = merged_entries(node);
                // A `List` or a Triggers template may hold Tekton objects.
                let tekton = self.tekton
                    || str_of(&entries, "apiVersion").is_some_and(|a| a.starts_with("tekton.dev/"));
                let this = Manifest {
                    file: self.file,
                    tekton,
                };
                this.report_pod_spec(&entries, out);
                let here = if tekton {
                    let here = param_scope(&entries, scope, self.file);
                    this.report_task_spec(&entries, &here, out);
                    // A pipeline task's or a step's own `params` go to the task or StepAction, not
                    // to its resolver: those read the enclosing pipeline's or task's parameters.
                    let ref_scope = if matches!(parent, "tasks" | "finally" | "steps") {
                        scope
                    } else {
                        &here
                    };
                    this.report_refs(&entries, ref_scope, parent, out);
                    here
                } else {
                    Vec::new()
                };
                let holds_data = matches!(str_of(&entries, "kind"), Some("ConfigMap" | "Secret"));
                for (k, v) in node.own_entries() {
                    let key = k.as_str().unwrap_or_default();
                    let skipped = SKIPPED_KEYS.contains(&key)
                        || (holds_data && matches!(key, "data" | "stringData" | "binaryData"));
                    if !v.is_alias() && !skipped {
                        this.walk(v, &here, key, out);
                    }
                }
            }
            NodeKind::Sequence(_) => {
                for item in node.items() {
                    if !item.is_alias() {
                        self.walk(item, scope, parent, out);
                    }
                }
            }
            NodeKind::Scalar { .. } | NodeKind::Alias(_) => {}
        }
    }

    /// A pod spec: a mapping whose `containers` are mappings with an `image`.
    fn report_pod_spec(&self, entries: &[Entry<'_, '_>], out: &mut Found) {
        let is_pod_spec = lookup(entries, "containers")
            .is_some_and(|e| e.value.items().iter().any(has_image_key));
        if !is_pod_spec {
            return;
        }
        for (key, source) in CONTAINER_LISTS {
            if let Some(e) = lookup(entries, key) {
                self.report_containers(e, *source, &[], out);
            }
        }
        if let Some(e) = lookup(entries, "volumes") {
            self.report_image_volumes(e, out);
        }
    }

    /// A Tekton task spec: `steps`, `sidecars` and `stepTemplate`, with `$(params.x)` taken from
    /// the parameters in scope: values a TaskRun, PipelineRun or pipeline task gives an embedded
    /// spec, else the defaults of the spec's own `params`.
    fn report_task_spec(
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
        let runs_shell = argv
            .first()
            .and_then(|c| c.as_str())
            .is_some_and(|c| ARGO_SHELLS.contains(&c.rsplit('/').next().unwrap_or(c)));
        if runs_shell {
            argv.extend(
                lookup(step, "args")
                    .map(|e| e.value.items())
                    .unwrap_or_default(),
            );
            if let Some(c) = argv.iter().position(|a| a.as_str() == Some("-c")) {
                scripts.extend(argv.get(c + 1).copied());
            }
        }
        // Most scripts run no container engine: skip the env and assignment scans for them.
        let engine = |n: &NodeRef<'_, '_>| {
            n.resolve().and_then(|s| s.as_str()).is_some_and(|s| {
                ["docker", "podman", "nerdctl"]
                    .iter()
                    .any(|e| s.contains(e))
            })
        };
        if !scripts.iter().any(engine) {
            return;
        }
        let mut env = template_env.clone();
        env.extend(self.tekton_env(step, params));
        let assigned = out.assigned_names(self.file);
        let lookup_env = |name: &str| {
            if assigned.contains(name) {
                return None;
            }
            env.get(name).cloned()
        };
        let built: Vec<String> = scripts
            .iter()
            .filter_map(|s| s.resolve()?.as_str())
            .flat_map(crate::shell::built_images)
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
    fn report_refs(
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

    fn report_containers(
        &self,
        list: &Entry<'_, '_>,
        source: Source,
        params: &[(String, Scalar)],
        out: &mut Found,
    ) {
        // A list reused through an alias is reported once, at its anchor (alias bombs stay cheap).
        if !out.first_visit(list.value) {
            return;
        }
        for item in list.value.items() {
            let via = list.via.or_else(|| item.alias_span());
            self.report_container(item, via, source, params, out);
        }
    }

    /// Reports `image` of one container mapping; `via` is the alias it was reached through.
    fn report_container(
        &self,
        container: NodeRef<'_, '_>,
        via: Option<Span>,
        source: Source,
        params: &[(String, Scalar)],
        out: &mut Found,
    ) {
        if !container.is_mapping() {
            return;
        }
        let entries = merged_entries(container);
        let Some(image) = lookup(&entries, "image") else {
            return;
        };
        let context = lookup(&entries, "name")
            .and_then(|e| scalar_at(e.value, self.file))
            .map(|s| s.value);
        let via = via.or(image.via);
        let occ = literal_occurrence(image.value, via, source, context, self.file)
            .map(|o| with_params(o, params));
        if let Some(occ) = occ {
            out.push(occ);
        }
    }

    /// `volumes[].image.reference`: OCI image volumes (Kubernetes 1.31+).
    fn report_image_volumes(&self, volumes: &Entry<'_, '_>, out: &mut Found) {
        for volume in volumes.value.items() {
            let entries = merged_entries(volume);
            let Some(image) = lookup(&entries, "image") else {
                continue;
            };
            let Some(reference) = lookup(&merged_entries(image.value), "reference").copied() else {
                continue;
            };
            let context = lookup(&entries, "name")
                .and_then(|e| scalar_at(e.value, self.file))
                .map(|s| format!("volume {}", s.value));
            let via = volumes.via.or(image.via).or(reference.via);
            let source = Source::KubernetesContainer;
            if let Some(occ) = literal_occurrence(reference.value, via, source, context, self.file)
            {
                out.push(occ);
            }
        }
    }
}

impl Manifest<'_> {
    /// A Tekton `StepAction`: one container, `spec.image`, with the defaults of `spec.params`.
    fn report_step_action(&self, entries: &[Entry<'_, '_>], out: &mut Found) {
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
fn param_scope(
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

fn has_image_key(item: &NodeRef<'_, '_>) -> bool {
    item.is_mapping() && lookup(&merged_entries(*item), "image").is_some()
}

/// Resolves Tekton `$(params.x)` references of an image from parameter defaults; the defaults
/// become the origins (a TaskRun may still override them). Other `$(…)` stay unresolved.
fn with_params(mut occ: ImageOccurrence, params: &[(String, Scalar)]) -> ImageOccurrence {
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
    use substitute::{Piece, Rewrite};
    let mut rewrites = Vec::new();
    let mut from = 0;
    while rewrites.len() < substitute::MAX_REWRITES
        && let Some(n) = value.get(from..).and_then(|r| r.find("$("))
    {
        let start = from + n;
        let after = start + 2;
        let Some(close) = value.get(after..).and_then(|r| r.find(')')) else {
            break;
        };
        let expr = value.get(after..after + close).unwrap_or_default();
        let end = after + close + 1;
        let root = expr.split(['.', '[']).next().unwrap_or_default();
        let well_formed = !expr.contains(['(', '$', ' ', '\n', '\t']);
        if !TEKTON_VARIABLE_ROOTS.contains(&root) || !well_formed {
            from = after;
            continue;
        }
        let known = param_of_expression(expr)
            .and_then(|name| params.iter().find(|(n, _)| n == name))
            .filter(|(_, v)| !v.value.contains("$("));
        let piece = match known {
            Some((name, v)) => Piece::Known {
                value: v.value.clone(),
                origin: v.exact.then(|| Origin {
                    name: format!("params.{name}"),
                    span: v.span,
                }),
            },
            None => Piece::Unknown {
                // A shell variable for the lexer, named after the expression (`…_flags` keeps
                // reading as options).
                lexed: format!(
                    "${{{}}}",
                    expr.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                ),
                reason: format!("$({expr}) is set by Tekton when the task runs"),
            },
        };
        rewrites.push(Rewrite {
            range: Span::new(start, end),
            piece,
        });
        from = end;
    }
    rewrites
}

/// Interpreters that run a script as shell text.
const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"];

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
    SHELLS.contains(&interpreter.as_str())
}

// ---------------------------------------------------------------------------------------------
// Argo Workflows.

/// Argo kinds whose spec (or `spec.workflowSpec`) holds workflow templates.
const ARGO_WORKFLOW_KINDS: &[&str] = &[
    "Workflow",
    "WorkflowTemplate",
    "ClusterWorkflowTemplate",
    "CronWorkflow",
];

/// Programs whose `-c` argument (or script `source`) is shell text.
const ARGO_SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh"];

/// How deep `inline:` templates of steps and DAG tasks are followed.
const MAX_ARGO_INLINE_DEPTH: usize = 8;

/// Why an Argo expression that is not a known parameter is unresolved.
const ARGO_REASON: &str = "Argo expression ({{ … }}): the value is set when the workflow runs";

/// Reads Argo Workflows templates: `container`, `script`, `containerSet.containers`,
/// `initContainers` and `sidecars` of every template (inline ones of steps and DAG tasks too) and
/// of `templateDefaults`, reported as [`Source::ArgoTemplate`].
struct Argo<'f> {
    file: &'f str,
}

impl Argo<'_> {
    fn workflow(&self, entries: &[Entry<'_, '_>], kind: &str, out: &mut Found) {
        let Some(mut spec) = lookup(entries, "spec").copied() else {
            return;
        };
        if kind == "CronWorkflow" {
            match lookup(&merged_entries(spec.value), "workflowSpec") {
                Some(w) => spec = *w,
                None => return,
            }
        }
        let spec_entries = merged_entries(spec.value);
        let workflow_params = lookup(&spec_entries, "arguments")
            .map(|a| parameters(a.value, self.file))
            .unwrap_or_default();
        self.pod_spec_patch(&spec_entries, out);
        if let Some(defaults) = lookup(&spec_entries, "templateDefaults") {
            let at = At {
                workflow: &workflow_params,
                template: "templateDefaults",
            };
            self.template(defaults.value, &at, 0, out);
        }
        for template in lookup(&spec_entries, "templates")
            .map(|t| t.value.items())
            .unwrap_or_default()
        {
            let name = str_of(&merged_entries(template), "name").unwrap_or("template");
            let at = At {
                workflow: &workflow_params,
                template: name,
            };
            self.template(template, &at, 0, out);
        }
    }

    /// One template: its containers, then the inline templates of its steps and DAG tasks.
    fn template(&self, template: NodeRef<'_, '_>, at: &At<'_>, depth: usize, out: &mut Found) {
        if depth > MAX_ARGO_INLINE_DEPTH || !template.is_mapping() {
            return;
        }
        let entries = merged_entries(template);
        let inputs = lookup(&entries, "inputs")
            .map(|i| parameters(i.value, self.file))
            .unwrap_or_default();
        let params = Params {
            inputs: &inputs,
            workflow: at.workflow,
        };
        for key in ["container", "script"] {
            if let Some(c) = lookup(&entries, key) {
                self.container(
                    c.value,
                    c.via,
                    &format!("{} {key}", at.template),
                    &params,
                    out,
                );
            }
        }
        let set = lookup(&entries, "containerSet")
            .and_then(|c| lookup(&merged_entries(c.value), "containers").copied());
        let lists = [
            ("containerSet", set),
            (
                "initContainers",
                lookup(&entries, "initContainers").copied(),
            ),
            ("sidecars", lookup(&entries, "sidecars").copied()),
        ];
        for (what, list) in lists {
            let Some(list) = list else { continue };
            for item in list.value.items() {
                let name = str_of(&merged_entries(item), "name").unwrap_or("-");
                let context = format!("{} {what} {name}", at.template);
                let via = list.via.or_else(|| item.alias_span());
                self.container(item, via, &context, &params, out);
            }
        }
        self.pod_spec_patch(&entries, out);
        // Steps are a list of parallel groups (lists); DAG tasks a list.
        let mut calls = Vec::new();
        if let Some(steps) = lookup(&entries, "steps") {
            for group in steps.value.items() {
                if group.is_sequence() {
                    calls.extend(group.items());
                } else {
                    calls.push(group);
                }
            }
        }
        if let Some(dag) = lookup(&entries, "dag")
            && let Some(tasks) = lookup(&merged_entries(dag.value), "tasks")
        {
            calls.extend(tasks.value.items());
        }
        for call in calls {
            let call_entries = merged_entries(call);
            if let Some(inline) = lookup(&call_entries, "inline") {
                let name = str_of(&call_entries, "name").unwrap_or("inline");
                let context = format!("{} / {name}", at.template);
                let inner = At {
                    workflow: at.workflow,
                    template: &context,
                };
                self.template(inline.value, &inner, depth + 1, out);
            }
        }
    }

    /// Reports the `image` of one container mapping, with Argo parameters resolved.
    fn container(
        &self,
        container: NodeRef<'_, '_>,
        via: Option<Span>,
        context: &str,
        params: &Params<'_>,
        out: &mut Found,
    ) {
        if !container.is_mapping() {
            return;
        }
        let entries = merged_entries(container);
        let Some(image) = lookup(&entries, "image") else {
            return;
        };
        let via = via.or(image.via);
        let source = Source::ArgoTemplate;
        if let Some(occ) = literal_occurrence(
            image.value,
            via,
            source,
            Some(context.to_string()),
            self.file,
        ) {
            out.push(params.resolve(occ));
        }
        self.commands(&entries, context, out);
    }

    /// Container commands in the shell script a container runs: the argument after `-c` of a
    /// shell in `command` + `args`, or a script template's `source` run by a shell.
    fn commands(&self, entries: &[Entry<'_, '_>], context: &str, out: &mut Found) {
        let items = |key: &str| {
            lookup(entries, key)
                .map(|e| e.value.items())
                .unwrap_or_default()
        };
        let mut argv = items("command");
        let runs_shell = argv
            .first()
            .and_then(|c| c.as_str())
            .is_some_and(|c| ARGO_SHELLS.contains(&c.rsplit('/').next().unwrap_or(c)));
        if !runs_shell {
            return;
        }
        let mut scripts: Vec<NodeRef<'_, '_>> = lookup(entries, "source")
            .map(|s| s.value)
            .into_iter()
            .collect();
        argv.extend(items("args"));
        if let Some(c) = argv.iter().position(|a| a.as_str() == Some("-c")) {
            scripts.extend(argv.get(c + 1).copied());
        }
        let env: HashMap<String, (String, Span)> = lookup(entries, "env")
            .map(|e| e.value.items())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|var| {
                let e = merged_entries(var);
                let value = scalar_at(lookup(&e, "value")?.value, self.file)?;
                let literal = value.exact && !value.value.contains(['$', '{']);
                let name = str_of(&e, "name")?.to_string();
                literal.then_some((name, (value.value, value.span)))
            })
            .collect();
        let assigned = crate::shell::assigned_names(self.file);
        let lookup_env = |name: &str| {
            if assigned.contains(name) {
                return None;
            }
            env.get(name).cloned()
        };
        let built: Vec<String> = scripts
            .iter()
            .filter_map(|s| s.resolve()?.as_str())
            .flat_map(crate::shell::built_images)
            .collect();
        for script in scripts {
            crate::shell::scalar_images(
                self.file,
                script,
                Source::ArgoCommand,
                Some(context),
                &built,
                &lookup_env,
                out.extraction(),
            );
        }
    }

    /// `podSpecPatch` is a string holding YAML or JSON merged into the pod: not parsed here.
    fn pod_spec_patch(&self, entries: &[Entry<'_, '_>], out: &mut Found) {
        let Some(patch) = lookup(entries, "podSpecPatch") else {
            return;
        };
        if patch.value.as_str().is_some_and(|p| p.contains("image")) {
            let at = patch.value.start();
            out.note(
                Span::new(at, at),
                "podSpecPatch is a string merged into the pod at run time; images it sets are not read",
            );
        }
    }
}

/// Where a template is, for contexts.
struct At<'p> {
    workflow: &'p [(String, Scalar)],
    template: &'p str,
}

/// The parameters an Argo template's expressions may read.
struct Params<'p> {
    inputs: &'p [(String, Scalar)],
    workflow: &'p [(String, Scalar)],
}

impl Params<'_> {
    /// Resolves `{{inputs.parameters.x}}` and `{{workflow.parameters.x}}` from the literal values
    /// or defaults; the values become the origins. Any other expression stays unresolved.
    fn resolve(&self, mut occ: ImageOccurrence) -> ImageOccurrence {
        if !occ.text.contains("{{") {
            return occ;
        }
        occ.image = Err(Unresolved::new(ARGO_REASON));
        occ.form = Form::Expanded { origins: vec![] };
        if !occ.exact {
            return occ;
        }
        let mut value = String::new();
        let mut origins = Vec::new();
        let mut rest = occ.text.as_str();
        while let Some(open) = rest.find("{{") {
            value.push_str(rest.get(..open).unwrap_or_default());
            let after = rest.get(open + 2..).unwrap_or_default();
            let Some(close) = after.find("}}") else {
                return occ;
            };
            let expr = after.get(..close).unwrap_or_default().trim();
            let found = if let Some(name) = expr.strip_prefix("inputs.parameters.") {
                self.inputs.iter().find(|(n, _)| n == name)
            } else if let Some(name) = expr.strip_prefix("workflow.parameters.") {
                self.workflow.iter().find(|(n, _)| n == name)
            } else {
                None
            };
            let Some((_, param)) = found else {
                return occ;
            };
            value.push_str(&param.value);
            if param.exact {
                origins.push(Origin {
                    name: expr.to_string(),
                    span: param.span,
                });
            }
            rest = after.get(close + 2..).unwrap_or_default();
        }
        value.push_str(rest);
        if placeholder_reason(&value).is_none() && !value.contains("{{") && !value.trim().is_empty()
        {
            occ.image = Ok(value);
            occ.form = Form::Expanded { origins };
        }
        occ
    }
}

/// `parameters: [{name, value | default}]` under `arguments` or `inputs`: the literal ones.
fn parameters(holder: NodeRef<'_, '_>, file: &str) -> Vec<(String, Scalar)> {
    lookup(&merged_entries(holder), "parameters")
        .map(|p| p.value.items())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            let e = merged_entries(p);
            let name = str_of(&e, "name")?;
            let value = lookup(&e, "value").or_else(|| lookup(&e, "default"))?;
            let value = scalar_at(value.value, file)?;
            (!value.templated).then(|| (name.to_string(), value))
        })
        .collect()
}

/// An occurrence for a scalar that holds a whole image reference (no variable syntax of its own).
pub(crate) fn literal_occurrence(
    node: NodeRef<'_, '_>,
    via: Option<Span>,
    source: Source,
    context: Option<String>,
    file: &str,
) -> Option<ImageOccurrence> {
    let s = scalar_at(node, file)?;
    if s.value.trim().is_empty() {
        return None;
    }
    let image = if s.templated {
        Err(Unresolved::new(TEMPLATE_REASON))
    } else if let Some(reason) = placeholder_reason(&s.value) {
        Err(Unresolved::new(reason))
    } else {
        Ok(s.value.clone())
    };
    Some(ImageOccurrence {
        span: s.span,
        text: s.text,
        image,
        source,
        form: Form::Literal,
        alias_sites: with_via(s.alias_sites, via),
        context,
        exact: s.exact,
    })
}

/// Why a reference holding a template action (Helm/Go, Mustache) is unresolved.
pub(crate) const TEMPLATE_REASON: &str =
    "template expression ({{ … }}): the value is set when the template is rendered";

/// Why a value written with placeholder syntax cannot be known offline, if it has any.
pub(crate) fn placeholder_reason(value: &str) -> Option<String> {
    if value.contains("://") {
        // `ko://importpath` and similar: a build tool replaces it with the image it publishes.
        Some(format!(
            "{value:?} is a build-tool reference replaced by the image it builds"
        ))
    } else if value.contains(['<', '>']) {
        Some(format!(
            "{value:?} holds a <placeholder> substituted before deploy"
        ))
    } else if value.contains("$(") {
        // Tekton `$(params.x)` and Kubernetes `$(VAR)` are substituted by the controller.
        Some(format!(
            "{value:?} holds a $(…) parameter substituted at run time"
        ))
    } else if value.contains('$') {
        Some(format!(
            "{value:?} holds a variable substituted before deploy (envsubst or a CI step)"
        ))
    } else {
        None
    }
}

pub(crate) fn with_via(mut sites: Vec<Span>, via: Option<Span>) -> Vec<Span> {
    if let Some(v) = via
        && !sites.contains(&v)
    {
        sites.push(v);
    }
    sites
}

// ---------------------------------------------------------------------------------------------
// Shared helpers.

/// How many alias sites one occurrence records; more add nothing a reader needs.
const MAX_ALIAS_SITES: usize = 256;

/// What an extractor found so far. Occurrences reached again through a YAML alias are merged in
/// constant time (`Extraction::push_image` compares with every image found so far, which is
/// quadratic on files with many images).
#[derive(Default)]
pub(crate) struct Found {
    out: Extraction,
    index: HashMap<(Span, Source, Result<String, String>), usize>,
    /// Container lists already reported (an aliased list is reported once).
    lists: HashSet<usize>,
    /// Step lists whose scripts were read.
    script_lists: HashSet<usize>,
    /// Names the file assigns somewhere (`NAME=`), computed once when a script needs them.
    assigned: Option<std::rc::Rc<HashSet<String>>>,
}

impl Found {
    pub(crate) fn push(&mut self, occ: ImageOccurrence) {
        let image = occ.image.clone().map_err(|u| u.reason);
        let key = (occ.span, occ.source, image);
        match self
            .index
            .get(&key)
            .and_then(|&i| self.out.images.get_mut(i))
        {
            Some(existing) => {
                for s in occ.alias_sites {
                    if existing.alias_sites.len() < MAX_ALIAS_SITES
                        && !existing.alias_sites.contains(&s)
                    {
                        existing.alias_sites.push(s);
                    }
                }
            }
            None => {
                self.index.insert(key, self.out.images.len());
                self.out.images.push(occ);
            }
        }
    }

    pub(crate) fn note(&mut self, span: Span, message: impl Into<String>) {
        self.out.note(span, message);
    }

    pub(crate) fn parse_error(&mut self, span: Span, message: impl Into<String>) {
        self.out.parse_error(span, message);
    }

    pub(crate) fn diagnostic(&mut self, d: Diagnostic) {
        self.out.diagnostics.push(d);
    }

    /// The extraction being built, for extractors that record through [`Extraction`] helpers
    /// (`shell::scalar_images`) while reading documents with [`for_each_document`].
    pub(crate) fn extraction(&mut self) -> &mut Extraction {
        &mut self.out
    }

    /// True the first time a container list (by node) is seen.
    fn first_visit(&mut self, list: NodeRef<'_, '_>) -> bool {
        list.resolve().is_none_or(|l| self.lists.insert(l.id()))
    }

    /// True the first time the scripts of a step list (by node) are read.
    fn first_script_visit(&mut self, list: NodeRef<'_, '_>) -> bool {
        list.resolve()
            .is_none_or(|l| self.script_lists.insert(l.id()))
    }

    /// Every `NAME` the file assigns (`NAME=…`): such a variable may hold another value at run
    /// time than its `env:` definition.
    fn assigned_names(&mut self, file: &str) -> std::rc::Rc<HashSet<String>> {
        self.assigned
            .get_or_insert_with(|| {
                std::rc::Rc::new(
                    crate::shell::assigned_names(file)
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                )
            })
            .clone()
    }

    /// The extraction, in file order.
    pub(crate) fn finish(self) -> Extraction {
        let mut out = self.out;
        out.images.sort_by_key(|o| (o.span.start, o.span.end));
        out.diagnostics.sort_by_key(|d| d.span.start);
        out
    }
}

/// One mapping entry with merge keys applied; `via` is the merge alias (`<<: *x`) it came through.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<'y, 'a> {
    pub key: &'y str,
    pub value: NodeRef<'y, 'a>,
    pub via: Option<Span>,
}

/// How many merge levels are followed.
const MAX_MERGE_DEPTH: usize = 32;

/// Mapping entries with string keys and merge keys applied (own keys win, then merges in order).
///
/// Unlike `NodeRef::entries`, each merged mapping is visited at most once per call, so nested
/// merges of aliases (a merge-key bomb) cost one visit per mapping, not one per path.
pub(crate) fn merged_entries<'y, 'a>(node: NodeRef<'y, 'a>) -> Vec<Entry<'y, 'a>> {
    let mut out = Vec::new();
    let mut keys = HashSet::new();
    let mut seen = HashSet::new();
    collect_entries(node, None, &mut out, &mut keys, &mut seen, 0);
    out
}

fn collect_entries<'y, 'a>(
    node: NodeRef<'y, 'a>,
    via: Option<Span>,
    out: &mut Vec<Entry<'y, 'a>>,
    keys: &mut HashSet<&'y str>,
    seen: &mut HashSet<usize>,
    depth: usize,
) {
    let Some(map) = node.resolve() else {
        return;
    };
    if depth > MAX_MERGE_DEPTH || !map.is_mapping() || !seen.insert(map.id()) {
        return;
    }
    let mut merges = Vec::new();
    for (k, v) in map.own_entries() {
        match k.as_str() {
            Some("<<") if k.style() == Some(Style::Plain) => merges.push(v),
            Some(key) if keys.insert(key) => out.push(Entry { key, value: v, via }),
            _ => {}
        }
    }
    for m in merges {
        let targets = if m.is_sequence() { m.items() } else { vec![m] };
        for t in targets {
            let via = via.or_else(|| t.alias_span());
            collect_entries(t, via, out, keys, seen, depth + 1);
        }
    }
}

pub(crate) fn lookup<'e, 'y, 'a>(
    entries: &'e [Entry<'y, 'a>],
    key: &str,
) -> Option<&'e Entry<'y, 'a>> {
    entries.iter().find(|e| e.key == key)
}

/// The non-null string value under `key`.
pub(crate) fn str_of<'y>(entries: &[Entry<'y, '_>], key: &str) -> Option<&'y str> {
    let node = lookup(entries, key)?.value;
    let value = node.as_str()?;
    (!is_null(node)).then_some(value)
}

/// True for a plain `~`, `null` or empty scalar.
pub(crate) fn is_null(node: NodeRef<'_, '_>) -> bool {
    let null_word = node.style() == Some(Style::Plain)
        && matches!(node.as_str(), Some("" | "~" | "null" | "Null" | "NULL"));
    null_word || matches!(node.tag(), Some("!!null" | "tag:yaml.org,2002:null"))
}

/// A scalar as the extractors need it.
#[derive(Clone, Debug)]
pub(crate) struct Scalar {
    /// Where to report it: the anchored scalar's text (or its first line when not exact).
    pub span: Span,
    /// The file's bytes at `span`.
    pub text: String,
    /// The value: the file's bytes when exact (so numbers keep their written form).
    pub value: String,
    pub exact: bool,
    pub alias_sites: Vec<Span>,
    /// The text holds a Go template action (`{{ … }}`).
    pub templated: bool,
}

/// A non-null scalar (following an alias), read from the original file text.
pub(crate) fn scalar_at(node: NodeRef<'_, '_>, file: &str) -> Option<Scalar> {
    let target = node.resolve()?;
    let parsed = target.as_str()?;
    if is_null(target) {
        return None;
    }
    let (mut span, mut exact, alias_sites) = yaml_util::scalar_site(node)?;
    let mut value = parsed.to_string();
    if !exact && let Some(s) = block_content_span(target, parsed) {
        span = s;
        exact = true;
    }
    let text = span.of(file).to_string();
    if exact {
        value = text.clone();
    }
    let templated = text.contains("{{") || value.contains("{{");
    Some(Scalar {
        span,
        text,
        value,
        exact,
        alias_sites,
        templated,
    })
}

/// A one-line block scalar (`image: >-` then the reference on the next line) is written verbatim
/// on its content line: return those bytes.
fn block_content_span(node: NodeRef<'_, '_>, value: &str) -> Option<Span> {
    if !matches!(node.style(), Some(Style::Literal | Style::Folded)) {
        return None;
    }
    let content = value.trim();
    if content.is_empty() || content.contains(['\n', '\r']) {
        return None;
    }
    let src = node.src();
    let start = node.start();
    // The parser marks a block scalar at its first content byte.
    if src
        .get(start..)
        .is_some_and(|rest| rest.starts_with(content))
    {
        return Some(Span::new(start, start + content.len()));
    }
    let body = start + src.get(start..)?.find('\n')? + 1;
    let offset = src.get(body..)?.find(content)?;
    let between = src.get(body..body + offset)?;
    between
        .bytes()
        .all(|b| b.is_ascii_whitespace())
        .then(|| Span::new(body + offset, body + offset + content.len()))
}

/// Parses `text` and calls `visit` for each document root with the original text.
///
/// A UTF-8 byte-order mark is accepted. When the YAML does not parse and the text holds Go
/// template actions (`{{ … }}`, a Helm chart template), the actions are masked with same-length
/// filler and the result parsed instead; a single note replaces the parse error, and values that
/// held an action are reported as unresolved.
pub(crate) fn for_each_document(
    text: &str,
    out: &mut Found,
    mut visit: impl FnMut(NodeRef<'_, '_>, &str, &mut Found),
) {
    // The BOM's three bytes become blank lines so that offsets stay those of `text`.
    let unbommed = text
        .strip_prefix('\u{feff}')
        .map(|rest| format!("\n\n\n{rest}"));
    let source = unbommed.as_deref().unwrap_or(text);
    let first = Yaml::parse(source);
    let repaired = first
        .error
        .as_ref()
        .and_then(|e| repair_indentation(source, e));
    let (source, yaml) = match &repaired {
        Some(fixed) => (fixed.as_str(), Yaml::parse(fixed)),
        None => (source, first),
    };
    let Some(error) = yaml.error.clone() else {
        for doc in yaml.documents() {
            visit(doc, text, out);
        }
        return;
    };
    if !text.contains("{{") {
        out.parse_error(
            Span::new(error.offset, error.offset),
            format!("YAML: {}", error.message),
        );
        for doc in yaml.documents() {
            visit(doc, text, out);
        }
        return;
    }
    let masked = mask_go_template(source);
    let masked_first = Yaml::parse(&masked);
    let masked_fixed = masked_first
        .error
        .as_ref()
        .and_then(|e| repair_indentation(&masked, e));
    let masked_yaml = match &masked_fixed {
        Some(fixed) => Yaml::parse(fixed),
        None => masked_first,
    };
    let use_masked = masked_yaml
        .error
        .as_ref()
        .is_none_or(|e| e.offset >= error.offset);
    let chosen = if use_masked { &masked_yaml } else { &yaml };
    let message = match &chosen.error {
        None => "looks like a template (`{{ … }}`, e.g. a Helm chart template): template \
                  actions were skipped and values holding them are unresolved"
            .to_string(),
        Some(e) => format!(
            "looks like a template (`{{{{ … }}}}`, e.g. a Helm chart template) and was not fully parsed \
             (YAML stops at byte {}: {}); references after that point are not reported",
            e.offset, e.message
        ),
    };
    out.note(Span::new(error.offset, error.offset), message);
    for doc in chosen.documents() {
        visit(doc, text, out);
    }
}

/// How many indentation slips are repaired per file.
const MAX_REPAIRS: usize = 64;

/// Works around indentation the parser refuses but Docker Compose, kubectl and PyYAML accept:
///
/// ```yaml
///     command: [
///       "start",
///       # a comment
///     ]                      # `]` at the indentation of its key
///     args: ["a long
///       line"]               # a quoted scalar continued less indented than required
/// ```
///
/// Each repair turns line breaks (and the comments between) into spaces, so every offset stays
/// that of the original; returns the repaired text when something was repaired.
fn repair_indentation(src: &str, error: &YamlError) -> Option<String> {
    let mut fixed: Option<String> = None;
    let mut error = error.clone();
    for _ in 0..MAX_REPAIRS {
        let current = fixed.as_deref().unwrap_or(src);
        let Some(patched) = repair_at(current, &error) else {
            break;
        };
        let next = Yaml::parse(&patched).error;
        fixed = Some(patched);
        match next {
            Some(e) if e.offset > error.offset => error = e,
            _ => break,
        }
    }
    fixed
}

fn repair_at(src: &str, error: &YamlError) -> Option<String> {
    let at = src.as_bytes().get(error.offset).copied()?;
    // Before a `]` everything goes (comments, indentation); in a quoted scalar only line breaks.
    let (range, only_breaks) = match (error.message.as_str(), at) {
        ("invalid indentation", b']') => (closer_join_range(src, error.offset)?, false),
        ("invalid indentation in quoted scalar", b'"' | b'\'') => {
            (quoted_scalar_range(src, error.offset, at)?, true)
        }
        _ => return None,
    };
    let mut bytes = src.as_bytes().to_vec();
    for b in bytes.get_mut(range)? {
        if !only_breaks || matches!(*b, b'\n' | b'\r') {
            *b = b' ';
        }
    }
    String::from_utf8(bytes).ok()
}

/// The bytes between the end of the last content line and a `]` alone on its line: blank lines,
/// comment lines and the content line's trailing comment.
fn closer_join_range(src: &str, closer: usize) -> Option<std::ops::Range<usize>> {
    let line_start = src.get(..closer)?.rfind('\n')? + 1;
    if !src
        .get(line_start..closer)?
        .bytes()
        .all(|b| b == b' ' || b == b'\t')
    {
        return None;
    }
    let mut end_of_content = line_start - 1;
    loop {
        let before = src.get(..end_of_content)?;
        let start = before.rfind('\n').map_or(0, |n| n + 1);
        let line = before.get(start..)?;
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            let comment = trailing_comment(line).map_or(end_of_content, |c| start + c);
            return Some(comment..closer);
        }
        if start == 0 {
            return None;
        }
        end_of_content = start - 1;
    }
}

/// Where a `#` comment starts in a line, outside quotes.
fn trailing_comment(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut quote = None;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (quote, b) {
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), _) if b == q => quote = None,
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'#') if i == 0 || bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace) => {
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The bytes of a quoted scalar starting at `open`, up to its closing quote.
fn quoted_scalar_range(src: &str, open: usize, quote: u8) -> Option<std::ops::Range<usize>> {
    let bytes = src.as_bytes();
    let mut i = open + 1;
    while let Some(&b) = bytes.get(i) {
        if quote == b'"' && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(open..i);
        }
        i += 1;
    }
    None
}

/// Replaces Go template actions with filler of the same byte length: lines made only of actions
/// become blank, actions inside a line become `_` runs, so the rest keeps its YAML shape.
fn mask_go_template(src: &str) -> String {
    let bytes = src.as_bytes();
    let mut covered = vec![false; bytes.len()];
    let mut i = 0;
    while let Some(open) = memchr::memmem::find(bytes.get(i..).unwrap_or_default(), b"{{") {
        let start = i + open;
        let end = memchr::memmem::find(bytes.get(start + 2..).unwrap_or_default(), b"}}")
            .map_or(bytes.len(), |n| start + 2 + n + 2);
        for c in covered.iter_mut().take(end).skip(start) {
            *c = true;
        }
        i = end;
    }
    let mut masked = bytes.to_vec();
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end = memchr::memchr(b'\n', bytes.get(line_start..).unwrap_or_default())
            .map_or(bytes.len(), |n| line_start + n);
        let range = line_start..line_end;
        let only_actions = range.clone().all(|j| {
            covered.get(j).copied().unwrap_or(false)
                || bytes.get(j).is_some_and(u8::is_ascii_whitespace)
        });
        for j in range {
            if covered.get(j).copied().unwrap_or(false)
                && let Some(b) = masked.get_mut(j)
            {
                *b = if only_actions { b' ' } else { b'_' };
            }
        }
        line_start = line_end + 1;
    }
    // Newlines inside multi-line actions stay newlines; every other masked byte is ASCII.
    for (j, b) in bytes.iter().enumerate() {
        if *b == b'\n'
            && let Some(m) = masked.get_mut(j)
        {
            *m = b'\n';
        }
    }
    String::from_utf8(masked).unwrap_or_else(|_| src.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DiagnosticKind;
    use crate::test_corpus as corpus;

    #[test]
    fn corpus() {
        corpus::check_all("kubernetes", extract);
    }

    /// Tekton files are detected as Kubernetes manifests; their steps are container lists.
    #[test]
    fn corpus_tekton() {
        corpus::check_all("tekton", extract);
    }

    /// Expectations checked by reading the corpus files.
    #[test]
    fn corpus_expectations() {
        let dependabot =
            "kubernetes/dependabot__dependabot-core/docker/spec/fixtures/kubernetes/yaml/";
        let Some(src) = corpus::file(&format!("{dependabot}with_bom.yaml")) else {
            return;
        };
        assert_eq!(just_images(&run(&src)), vec!["nginx:1.14.2"]);
        if let Some(src) = corpus::file(&format!("{dependabot}unexpected_image.yaml")) {
            assert!(run(&src).images[0].image.is_err());
        }
        let path = "kubernetes/sse-secure-systems__connaisseur/test/integration/complexity/complex_deployment.yaml";
        if let Some(src) = corpus::file(path) {
            let out = run(&src);
            assert_eq!(out.images.len(), 31);
            let init = out
                .images
                .iter()
                .filter(|o| o.source == Source::KubernetesInitContainer)
                .count();
            assert_eq!(init, 9);
        }
        // Comments before a `]` at its key's indentation; the image is a ko:// build reference.
        if let Some(src) =
            corpus::file("kubernetes/sigstore__policy-controller/config/webhook.yaml")
        {
            let out = run(&src);
            assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
            assert_eq!(out.images.len(), 1);
            assert!(out.images[0].image.is_err());
        }
        let path =
            "kubernetes/GoogleCloudPlatform__microservices-demo/release/kubernetes-manifests.yaml";
        if let Some(src) = corpus::file(path) {
            let out = run(&src);
            assert_eq!(out.images.len(), 13);
            assert_eq!(
                out.images[0].image,
                Ok("us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/frontend:v0.10.6".into())
            );
        }
        // The TaskRun gives the embedded task's parameter its value.
        let path =
            "tekton/tektoncd__pipeline/examples/v1/taskruns/steptemplate-variable-interop.yaml";
        if let Some(src) = corpus::file(path) {
            assert_eq!(just_images(&run(&src)), vec!["ubuntu"]);
        }
        let path = "tekton/tektoncd__catalog/task/git-clone/0.10/git-clone.yaml";
        if let Some(src) = corpus::file(path) {
            let out = run(&src);
            assert_eq!(
                just_images(&out),
                vec!["ghcr.io/tektoncd-catalog/git-clone:v1.1.0"]
            );
        }
    }

    /// The Tekton corpus read by eye: step images only. Its scripts run no container command
    /// (buildah `manifest push` pushes), one is Python, and its pipelines name tasks in the
    /// cluster (`taskRef: {name: …}`), not bundles.
    #[test]
    fn corpus_tekton_expectations() {
        let files = corpus::files("tekton");
        let mut total = 0;
        for (path, text) in &files {
            let out = run(text);
            let extra: Vec<_> = out
                .images
                .iter()
                .filter(|o| o.source != Source::KubernetesContainer)
                .collect();
            assert!(extra.is_empty(), "{}: {extra:?}", path.display());
            total += out.images.len();
        }
        if !files.is_empty() {
            assert_eq!(total, 36);
        }
        let catalog = "tekton/tektoncd__catalog/";
        let cases: &[(&str, &[&str])] = &[
            (
                "task/github-open-pr/0.2/github-open-pr.yaml",
                &["registry.access.redhat.com/ubi8/python-38:1-34.1599745032"],
            ),
            (
                "task/buildah-manifest-push/0.1/buildah-manifest-push.yaml",
                &["quay.io/buildah/stable:v1"],
            ),
            (
                "task/orka-deploy/0.2/orka-deploy.yaml",
                &[
                    "ghcr.io/macstadium/orka-tekton-runner:2022-06-29-ec3440a7@sha256:d7cfb75ea082a927e36c131aa96e96bfcacd23f62fdaf33f5b37320b86baf50e",
                    "ghcr.io/macstadium/orka-tekton-runner:2022-06-29-ec3440a7@sha256:d7cfb75ea082a927e36c131aa96e96bfcacd23f62fdaf33f5b37320b86baf50e",
                ],
            ),
            (
                "task/gcloud/0.3/gcloud.yaml",
                &["gcr.io/google.com/cloudsdktool/cloud-sdk:slim"],
            ),
            ("pipeline/buildpacks/0.1/buildpacks.yaml", &[]),
            (
                "pipeline/build-push-gke-deploy/0.1/build-push-gke-deploy.yaml",
                &[],
            ),
        ];
        for (path, want) in cases {
            if let Some(src) = corpus::file(&format!("{catalog}{path}")) {
                assert_eq!(just_images(&run(&src)), *want, "{path}");
            }
        }
    }

    fn run(src: &str) -> Extraction {
        let out = extract(src);
        for o in &out.images {
            assert_eq!(o.text, o.span.of(src), "span/text invariant");
        }
        out
    }

    fn images(out: &Extraction) -> Vec<(String, Source, Option<String>)> {
        out.images
            .iter()
            .map(|o| {
                (
                    o.image
                        .clone()
                        .unwrap_or_else(|e| format!("ERR {}", e.reason)),
                    o.source,
                    o.context.clone(),
                )
            })
            .collect()
    }

    fn just_images(out: &Extraction) -> Vec<String> {
        images(out).into_iter().map(|(i, _, _)| i).collect()
    }

    #[test]
    fn pod_with_all_container_kinds() {
        let src = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    image: not-me\nspec:\n  initContainers:\n  - name: init\n    image: busybox:1.36\n  containers:\n  - name: app\n    image: \"nginx:1.27\"\n  ephemeralContainers:\n  - name: dbg\n    image: alpine\n";
        let out = run(src);
        assert_eq!(
            images(&out),
            vec![
                (
                    "busybox:1.36".into(),
                    Source::KubernetesInitContainer,
                    Some("init".into())
                ),
                (
                    "nginx:1.27".into(),
                    Source::KubernetesContainer,
                    Some("app".into())
                ),
                (
                    "alpine".into(),
                    Source::KubernetesEphemeralContainer,
                    Some("dbg".into())
                ),
            ]
        );
        let nginx = &out.images[1];
        assert_eq!(&src[nginx.span.start..nginx.span.end], "nginx:1.27");
        assert!(nginx.exact);
        assert_eq!(nginx.form, Form::Literal);
    }

    #[test]
    fn workloads() {
        let src = "\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
      - {name: web, image: web:1}
---
apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: cron
            image: cron:2
---
apiVersion: v1
kind: PodTemplate
template:
  spec:
    containers:
    - name: tpl
      image: tpl:3
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
spec:
  template:
    spec:
      containers:
      - name: ro
        image: rollout:4
";
        let out = run(src);
        assert_eq!(
            just_images(&out),
            vec!["web:1", "cron:2", "tpl:3", "rollout:4"]
        );
        assert_eq!(out.images[0].span.of(src), "web:1");
    }

    #[test]
    fn lists_and_list_kinds() {
        let src = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec:\n    containers: [{name: a, image: a:1}]\n- apiVersion: apps/v1\n  kind: DeploymentList\n  items:\n  - spec:\n      template:\n        spec:\n          containers:\n          - name: b\n            image: b:2\n";
        assert_eq!(just_images(&run(src)), vec!["a:1", "b:2"]);
    }

    #[test]
    fn configmap_data_and_comments_are_not_references() {
        let src = "apiVersion: v1\nkind: ConfigMap\ndata:\n  pod.yaml: |\n    containers:\n    - image: evil:1\n  image: nginx:1\n# image: commented:1\n---\napiVersion: example.com/v1\nkind: Thing\nspec:\n  image: not-a-pod-spec:1\n";
        let out = run(src);
        assert!(out.images.is_empty(), "{:?}", out.images);
        assert!(out.diagnostics.is_empty());
    }

    #[test]
    fn image_volumes() {
        let src = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    image: app:1\n  volumes:\n  - name: models\n    image:\n      reference: quay.io/x/model:v1\n      pullPolicy: IfNotPresent\n";
        let out = run(src);
        assert_eq!(just_images(&out), vec!["app:1", "quay.io/x/model:v1"]);
        assert_eq!(out.images[1].context.as_deref(), Some("volume models"));
        assert_eq!(out.images[1].span.of(src), "quay.io/x/model:v1");
    }

    #[test]
    fn bom_and_parse_error() {
        let src = "\u{feff}apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    image: nginx:1.2\n";
        let out = run(src);
        assert_eq!(just_images(&out), vec!["nginx:1.2"]);
        assert!(out.diagnostics.is_empty());

        let src = "kind: Pod\nspec:\n  containers:\n  - name: x\n    image: a:1\n---\nkind: Pod\nspec: [\n";
        let out = run(src);
        assert_eq!(just_images(&out), vec!["a:1"]);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].kind, DiagnosticKind::ParseError);
        assert!(out.diagnostics[0].span.start > 50);
    }

    #[test]
    fn go_template_is_masked_with_a_single_note() {
        let src = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include \"x.fullname\" . }}
  labels:
    {{- include \"x.labels\" . | nindent 4 }}
spec:
  template:
    spec:
      {{- if .Values.sa }}
      serviceAccountName: {{ .Values.sa }}
      {{- end }}
      containers:
        - name: {{ .Chart.Name }}
          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"
        - name: hook
          image: bitnami/kubectl:1.30
";
        let out = run(src);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].kind, DiagnosticKind::Note);
        assert_eq!(out.images.len(), 2);
        let t = &out.images[0];
        assert_eq!(
            t.text,
            "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
        );
        assert_eq!(t.image, Err(Unresolved::new(TEMPLATE_REASON)));
        assert_eq!(t.context.as_deref(), Some("{{ .Chart.Name }}"));
        assert_eq!(out.images[1].image, Ok("bitnami/kubectl:1.30".into()));
        assert_eq!(out.images[1].context.as_deref(), Some("hook"));
    }

    #[test]
    fn placeholders_and_aliases() {
        let src = "\
kind: Pod
spec:
  containers:
  - name: a
    image: &img registry.example/app:${TAG}
  - name: b
    image: *img
  - name: c
    image: ''
";
        let out = run(src);
        assert_eq!(out.images.len(), 1);
        let o = &out.images[0];
        assert!(o.image.is_err());
        assert_eq!(o.text, "registry.example/app:${TAG}");
        assert_eq!(o.alias_sites.len(), 1);
        assert_eq!(o.alias_sites[0].of(src), "*img");
    }

    #[test]
    fn tekton_steps() {
        let src = "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  stepTemplate:\n    image: base:1\n  steps:\n  - name: build\n    image: golang:1.22\n  - name: p\n    image: $(params.img)\n  sidecars:\n  - name: s\n    image: docker:dind\n";
        let out = run(src);
        let got = just_images(&out);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got.contains(&"golang:1.22".to_string()));
        assert!(got.iter().any(|g| g.starts_with("ERR")));
        let p = out
            .images
            .iter()
            .find(|o| o.text == "$(params.img)")
            .unwrap();
        assert!(p.image.is_err(), "no default: unresolved");
        // Outside tekton.dev, `steps` is not a container list.
        let out = run("apiVersion: x/v1\nkind: Y\nspec:\n  steps:\n  - image: a:1\n");
        assert!(out.images.is_empty());
    }

    #[test]
    fn tekton_param_defaults() {
        let src = "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  params:\n  - name: gitInitImage\n    default: \"ghcr.io/tektoncd-catalog/git-clone:v1.1.0\"\n  - name: version\n    default: '1.22'\n  - name: nodefault\n  steps:\n  - name: clone\n    image: \"$(params.gitInitImage)\"\n  - name: build\n    image: docker.io/library/golang:$(params['version'])\n  - name: other\n    image: $(params.nodefault)\n";
        let out = run(src);
        assert_eq!(out.images.len(), 3);
        let o = &out.images[0];
        assert_eq!(o.text, "$(params.gitInitImage)");
        assert_eq!(
            o.image,
            Ok("ghcr.io/tektoncd-catalog/git-clone:v1.1.0".into())
        );
        match &o.form {
            Form::Expanded { origins } => {
                assert_eq!(
                    origins[0].span.of(src),
                    "ghcr.io/tektoncd-catalog/git-clone:v1.1.0"
                );
                assert_eq!(origins[0].name, "params.gitInitImage");
            }
            f => panic!("{f:?}"),
        }
        assert_eq!(
            out.images[1].image,
            Ok("docker.io/library/golang:1.22".into())
        );
        assert!(out.images[2].image.is_err());
    }

    #[test]
    fn tekton_run_params_reach_embedded_specs() {
        // A TaskRun's value wins over the embedded task's default, and is the origin to pin.
        let src = "apiVersion: tekton.dev/v1\nkind: TaskRun\nspec:\n  params:\n  - name: image\n    value: ubuntu:24.04\n  taskSpec:\n    params:\n    - name: image\n      default: alpine:3\n    - name: other\n      default: busybox:1\n    steps:\n    - name: a\n      image: $(params.image)\n    - name: b\n      image: $(params.other)\n";
        let out = run(src);
        assert_eq!(just_images(&out), vec!["ubuntu:24.04", "busybox:1"]);
        match &out.images[0].form {
            Form::Expanded { origins } => assert_eq!(origins[0].span.of(src), "ubuntu:24.04"),
            f => panic!("{f:?}"),
        }
        // Pipeline defaults pass through a task's `$(params.x)` value; a result or a matrix is unknown.
        let src = "apiVersion: tekton.dev/v1\nkind: Pipeline\nspec:\n  params:\n  - name: img\n    default: golang:1.22\n  tasks:\n  - name: t1\n    params:\n    - name: builder\n      value: $(params.img)\n    taskSpec:\n      params:\n      - name: builder\n        default: golang:1.0\n      steps:\n      - image: $(params.builder)\n  - name: t2\n    params:\n    - name: builder\n      value: $(tasks.t1.results.image)\n    taskSpec:\n      params:\n      - name: builder\n        default: golang:1.0\n      steps:\n      - image: $(params.builder)\n  finally:\n  - name: f\n    matrix:\n      params:\n      - name: builder\n        value: [a:1, b:2]\n    taskSpec:\n      params:\n      - name: builder\n        default: golang:1.0\n      steps:\n      - image: $(params.builder)\n";
        let out = run(src);
        let got = just_images(&out);
        assert_eq!(got[0], "golang:1.22");
        assert!(got[1].starts_with("ERR"), "{got:?}");
        assert!(got[2].starts_with("ERR"), "{got:?}");
        // PipelineRun values reach pipelineSpec tasks (propagated parameters).
        let src = "apiVersion: tekton.dev/v1\nkind: PipelineRun\nspec:\n  params:\n  - name: img\n    value: mirror.gcr.io/ubuntu\n  pipelineSpec:\n    params:\n    - name: img\n      default: nope\n    tasks:\n    - name: echo\n      taskSpec:\n        steps:\n        - name: echo\n          image: $(params.img)\n";
        assert_eq!(just_images(&run(src)), vec!["mirror.gcr.io/ubuntu"]);
    }

    #[test]
    fn tekton_step_action() {
        let src = "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata:\n  name: kics\nspec:\n  params:\n  - name: image\n    default: checkmarx/kics:latest\n  image: $(params.image)\n  script: kics scan -p .\n";
        let out = run(src);
        assert_eq!(just_images(&out), vec!["checkmarx/kics:latest"]);
        assert_eq!(out.images[0].context.as_deref(), Some("kics"));
    }

    const TEKTON_BUNDLES: &str = "\
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: release
spec:
  params:
  - name: catalog
    default: quay.io/konflux-ci/tekton-catalog/task-git-clone:0.1
  - name: tag
    default: '0.4'
  tasks:
  - name: clone
    params:
    - name: catalog
      value: not-the-bundle:1
    taskRef:
      resolver: bundles
      params:
      - name: name
        value: git-clone
      - name: bundle
        value: $(params.catalog)
      - name: kind
        value: task
  - name: build
    taskRef:
      name: golang-build
      bundle: \"gcr.io/tekton-releases/catalog/upstream/golang-build:$(params.tag)\"
  - name: nested
    pipelineRef:
      resolver: bundles
      params:
      - {name: bundle, value: 'ghcr.io/acme/pipelines:v1'}
      - {name: name, value: inner}
  - name: from-git
    taskRef:
      resolver: git
      params:
      - {name: bundle, value: not-an-image}
  finally:
  - name: notify
    taskRef:
      resolver: bundles
      params:
      - name: bundle
        value: $(params.missing)
---
apiVersion: tekton.dev/v1
kind: PipelineRun
spec:
  params:
  - name: ref
    value: registry.example.com/pipelines/ci@sha256:3f9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f
  pipelineRef:
    resolver: bundles
    params:
    - name: bundle
      value: $(params.ref)
---
apiVersion: tekton.dev/v1beta1
kind: TaskRun
spec:
  taskRef:
    name: echo
    bundle: docker.io/ptasci67/example-oci:latest
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: uses-step-actions
spec:
  params:
  - name: actions
    default: ghcr.io/acme/step-actions:1.2
  steps:
  - name: scan
    params:
    - name: actions
      value: ignored:0
    ref:
      resolver: bundles
      params:
      - name: bundle
        value: $(params.actions)
      - name: name
        value: kics-scan
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
spec:
  resourcetemplates:
  - apiVersion: tekton.dev/v1
    kind: PipelineRun
    spec:
      pipelineRef:
        resolver: bundles
        params:
        - name: bundle
          value: quay.io/acme/triggered:2
---
apiVersion: v1
kind: ConfigMap
data:
  ref: 'taskRef: {bundle: not/me:1}'
";

    #[test]
    fn tekton_bundles() {
        let out = run(TEKTON_BUNDLES);
        let got: Vec<(String, Source, Option<String>)> = images(&out);
        let want = |i: &str, c: &str| (i.to_string(), Source::TektonBundle, Some(c.to_string()));
        assert_eq!(got.len(), 8, "{got:#?}");
        assert_eq!(
            got[0],
            want(
                "quay.io/konflux-ci/tekton-catalog/task-git-clone:0.1",
                "clone taskRef git-clone"
            )
        );
        assert_eq!(
            got[1],
            want(
                "gcr.io/tekton-releases/catalog/upstream/golang-build:0.4",
                "build taskRef golang-build"
            )
        );
        assert_eq!(
            got[2],
            want("ghcr.io/acme/pipelines:v1", "nested pipelineRef inner")
        );
        assert_eq!(got[3].2.as_deref(), Some("notify taskRef"));
        assert!(got[3].0.starts_with("ERR"), "{got:?}");
        assert!(
            got[4]
                .0
                .starts_with("registry.example.com/pipelines/ci@sha256:3f9a")
        );
        assert_eq!(
            got[5],
            want("docker.io/ptasci67/example-oci:latest", "taskRef echo")
        );
        assert_eq!(
            got[6],
            want("ghcr.io/acme/step-actions:1.2", "scan ref kics-scan")
        );
        assert_eq!(got[7], want("quay.io/acme/triggered:2", "pipelineRef"));
        // Spans: the expression for parameters (origin at the default), the value otherwise.
        let clone = &out.images[0];
        assert_eq!(clone.span.of(TEKTON_BUNDLES), "$(params.catalog)");
        match &clone.form {
            Form::Expanded { origins } => assert_eq!(
                origins[0].span.of(TEKTON_BUNDLES),
                "quay.io/konflux-ci/tekton-catalog/task-git-clone:0.1"
            ),
            f => panic!("{f:?}"),
        }
        let run_ref = &out.images[4];
        match &run_ref.form {
            Form::Expanded { origins } => assert!(
                origins[0]
                    .span
                    .of(TEKTON_BUNDLES)
                    .starts_with("registry.example.com/pipelines/ci@")
            ),
            f => panic!("{f:?}"),
        }
        let nested = &out.images[2];
        assert_eq!(nested.span.of(TEKTON_BUNDLES), "ghcr.io/acme/pipelines:v1");
        assert!(nested.exact);
        assert_eq!(nested.form, Form::Literal);
        assert_eq!(
            out.images[5].span.of(TEKTON_BUNDLES),
            "docker.io/ptasci67/example-oci:latest"
        );
    }

    const TEKTON_SCRIPTS: &str = "\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: scan
spec:
  params:
  - name: scanner
    default: \"aquasec/trivy:0.50.0\"
  - name: tag
    default: '3.20'
  - name: unknown
  stepTemplate:
    env:
    - name: FROM_TEMPLATE
      value: redis:7
  steps:
  - name: kics
    image: docker:27
    script: |
      #!/bin/sh
      set -e
      cd $(workspaces.source.path)
      docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path
      docker run --rm $(params.scanner) image x
      docker pull alpine:$(params.tag)
      docker pull $(params.unknown)
      docker run --rm \"$SCANNER\" fs .
      docker run --rm $FROM_TEMPLATE
      echo $(date) && docker run --rm busybox:1.36 true
    env:
    - name: SCANNER
      value: $(params.scanner)
  - name: python
    image: python:3.12
    script: |
      #!/usr/bin/env python3
      import os; os.system('docker run not/shell:1')
  - name: bash
    image: docker:27
    script: |-
      #!/usr/bin/env bash
      docker run --rm ghcr.io/acme/tool:1
  - name: sh-c
    image: docker:27
    command: [/bin/sh, -c]
    args: ['docker pull quay.io/acme/args:2']
  sidecars:
  - name: dind
    image: docker:27-dind
    script: docker pull nginx:1.27
";

    #[test]
    fn tekton_step_scripts() {
        let out = run(TEKTON_SCRIPTS);
        let cmds: Vec<&ImageOccurrence> = out
            .images
            .iter()
            .filter(|o| o.source == Source::TektonScriptCommand)
            .collect();
        let got: Vec<(String, &str, String)> = cmds
            .iter()
            .map(|o| {
                (
                    o.image.clone().unwrap_or_else(|_| "ERR".into()),
                    o.text.as_str(),
                    o.context.clone().unwrap_or_default(),
                )
            })
            .collect();
        let w = |i: &str, t: &'static str, c: &str| (i.to_string(), t, c.to_string());
        assert_eq!(
            got,
            vec![
                w("checkmarx/kics:latest", "checkmarx/kics:latest", "kics"),
                w("aquasec/trivy:0.50.0", "$(params.scanner)", "kics"),
                w("alpine:3.20", "alpine:$(params.tag)", "kics"),
                w("ERR", "$(params.unknown)", "kics"),
                w("aquasec/trivy:0.50.0", "$SCANNER", "kics"),
                w("redis:7", "$FROM_TEMPLATE", "kics"),
                w("busybox:1.36", "busybox:1.36", "kics"),
                w("ghcr.io/acme/tool:1", "ghcr.io/acme/tool:1", "bash"),
                w("quay.io/acme/args:2", "quay.io/acme/args:2", "sh-c"),
                w("nginx:1.27", "nginx:1.27", "dind"),
            ]
        );
        let kics = cmds[0];
        assert!(kics.exact);
        assert_eq!(kics.form, Form::Literal);
        let origin = |o: &ImageOccurrence| match &o.form {
            Form::Expanded { origins } => origins
                .iter()
                .map(|x| (x.name.clone(), x.span.of(TEKTON_SCRIPTS).to_string()))
                .collect::<Vec<_>>(),
            f => panic!("{f:?}"),
        };
        let trivy = vec![(
            "params.scanner".to_string(),
            "aquasec/trivy:0.50.0".to_string(),
        )];
        assert_eq!(origin(cmds[1]), trivy);
        assert!(!cmds[1].exact);
        assert_eq!(origin(cmds[2]), vec![("params.tag".into(), "3.20".into())]);
        assert!(
            cmds[3]
                .image
                .as_ref()
                .unwrap_err()
                .reason
                .contains("$(params.unknown)")
        );
        assert_eq!(
            origin(cmds[4]),
            vec![("SCANNER".into(), "aquasec/trivy:0.50.0".into())]
        );
        assert!(
            cmds.iter()
                .skip(6)
                .all(|o| o.exact && o.form == Form::Literal)
        );
    }

    #[test]
    fn tekton_scripts_crlf_runs_and_step_actions() {
        let src = "apiVersion: tekton.dev/v1\r\nkind: TaskRun\r\nspec:\r\n  params:\r\n  - name: img\r\n    value: ubuntu:24.04\r\n  taskSpec:\r\n    params:\r\n    - name: img\r\n      default: alpine:3\r\n    steps:\r\n    - name: s\r\n      image: docker\r\n      script: |\r\n        docker pull $(params.img)\r\n        docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\r\n";
        let out = run(src);
        let cmds: Vec<&ImageOccurrence> = out
            .images
            .iter()
            .filter(|o| o.source == Source::TektonScriptCommand)
            .collect();
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].image, Ok("ubuntu:24.04".into()));
        match &cmds[0].form {
            Form::Expanded { origins } => assert_eq!(origins[0].span.of(src), "ubuntu:24.04"),
            f => panic!("{f:?}"),
        }
        assert_eq!(cmds[1].span.of(src), "checkmarx/kics:latest");
        assert!(cmds[1].exact);
        let src = "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata:\n  name: kics\nspec:\n  params:\n  - name: image\n    default: checkmarx/kics:latest\n  image: docker:27\n  script: docker run --rm -v \"$PWD:/path\" $(params.image) scan -p /path\n";
        let out = run(src);
        assert_eq!(
            just_images(&out),
            vec!["docker:27", "checkmarx/kics:latest"]
        );
        assert_eq!(out.images[1].source, Source::TektonScriptCommand);
        assert_eq!(out.images[1].text, "$(params.image)");
    }

    #[test]
    fn tekton_hostile_scripts_are_bounded() {
        // Thousands of parameter references, one of them huge, and unterminated expressions.
        let big = "x".repeat(200_000);
        let mut script = String::from("docker pull $(params.big)");
        for _ in 0..30 {
            script.push_str(" $(params.big)");
        }
        for _ in 0..20_000 {
            script.push_str(" $(params.p) $(context.taskRun.name) $(");
        }
        let src = format!(
            "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  params:\n  - name: big\n    default: {big}\n  - name: p\n    default: alpine\n  steps:\n  - image: docker\n    script: '{script}'\n"
        );
        let start = std::time::Instant::now();
        let out = run(&src);
        assert!(start.elapsed().as_secs() < 20);
        assert!(out.images.len() <= 3, "{}", out.images.len());
        for input in [
            "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - script: 'docker run $(params.'\n",
            "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - script: \"#!\"\n  - script: \"docker run $(params[\\\"x\\\"])\"\n",
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nspec:\n  tasks:\n  - taskRef: {resolver: bundles, params: [{name: bundle}]}\n  - taskRef: {resolver: bundles, params: bundle}\n  - taskRef: bundle\n  - taskRef: {bundle: ''}\n",
        ] {
            run(input);
        }
    }

    const ARGO: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: dind-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: tool
      value: aquasec/trivy:0.50.0
  templateDefaults:
    sidecars:
    - name: dind
      image: docker:27-dind
  templates:
  - name: main
    inputs:
      parameters:
      - name: image
        default: \"python:3.12\"
      - name: tag
        value: '3.20'
    container:
      image: \"{{inputs.parameters.image}}\"
      command: [sh, -c]
      args: ['docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path']
    initContainers:
    - name: init
      image: alpine:{{ inputs.parameters.tag }}
  - name: tool
    script:
      image: '{{workflow.parameters.tool}}'
      command: [bash]
      source: |
        docker pull redis:7
  - name: set
    containerSet:
      containers:
      - name: a
        image: argoproj/argosay:v2
      - name: b
        image: '{{workflow.outputs.parameters.x}}'
  - name: steps
    steps:
    - - name: inline
        inline:
          container:
            image: busybox:1.36
    dag:
      tasks:
      - name: d
        inline:
          script:
            image: node:20
            command: [node]
            source: console.log(1)
    podSpecPatch: '{\"containers\":[{\"name\":\"main\",\"image\":\"x\"}]}'
";

    #[test]
    fn argo_templates() {
        let out = run(ARGO);
        let got: Vec<(String, Source, String)> = out
            .images
            .iter()
            .map(|o| {
                (
                    o.image.clone().unwrap_or_else(|_| "ERR".into()),
                    o.source,
                    o.context.clone().unwrap_or_default(),
                )
            })
            .collect();
        let want = |i: &str, s: Source, c: &str| (i.to_string(), s, c.to_string());
        assert_eq!(
            got,
            vec![
                want(
                    "docker:27-dind",
                    Source::ArgoTemplate,
                    "templateDefaults sidecars dind"
                ),
                want("python:3.12", Source::ArgoTemplate, "main container"),
                want(
                    "checkmarx/kics:latest",
                    Source::ArgoCommand,
                    "main container"
                ),
                want(
                    "alpine:3.20",
                    Source::ArgoTemplate,
                    "main initContainers init"
                ),
                want("aquasec/trivy:0.50.0", Source::ArgoTemplate, "tool script"),
                want("redis:7", Source::ArgoCommand, "tool script"),
                want(
                    "argoproj/argosay:v2",
                    Source::ArgoTemplate,
                    "set containerSet a"
                ),
                want("ERR", Source::ArgoTemplate, "set containerSet b"),
                want(
                    "busybox:1.36",
                    Source::ArgoTemplate,
                    "steps / inline container"
                ),
                want("node:20", Source::ArgoTemplate, "steps / d script"),
            ]
        );
        let kics = &out.images[2];
        assert_eq!(kics.span.of(ARGO), "checkmarx/kics:latest");
        assert!(kics.exact);
        let python = &out.images[1];
        assert_eq!(python.text, "{{inputs.parameters.image}}");
        match &python.form {
            Form::Expanded { origins } => {
                assert_eq!(origins[0].span.of(ARGO), "python:3.12");
                assert_eq!(origins[0].name, "inputs.parameters.image");
            }
            f => panic!("{f:?}"),
        }
        match &out.images[4].form {
            Form::Expanded { origins } => {
                assert_eq!(origins[0].span.of(ARGO), "aquasec/trivy:0.50.0")
            }
            f => panic!("{f:?}"),
        }
        assert!(
            out.images[7]
                .image
                .as_ref()
                .unwrap_err()
                .reason
                .contains("Argo")
        );
        // podSpecPatch is a string: a note says its images are not read.
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].kind, DiagnosticKind::Note);
        assert!(out.diagnostics[0].message.contains("podSpecPatch"));
    }

    #[test]
    fn argo_cron_and_templates_kinds() {
        let src = "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nspec:\n  schedule: '0 * * * *'\n  workflowSpec:\n    arguments:\n      parameters:\n      - name: img\n        value: alpine:3\n    templates:\n    - name: t\n      container:\n        image: '{{workflow.parameters.img}}'\n---\napiVersion: argoproj.io/v1alpha1\nkind: ClusterWorkflowTemplate\nspec:\n  templates:\n  - name: c\n    container: {image: 'nginx:1.27'}\n---\napiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nspec:\n  templates:\n  - name: w\n    container:\n      image: '{{inputs.parameters.missing}}'\n";
        let out = run(src);
        assert_eq!(
            just_images(&out)[..2],
            ["alpine:3".to_string(), "nginx:1.27".to_string()]
        );
        assert!(out.images[2].image.is_err());
        assert!(out.images.iter().all(|o| o.source == Source::ArgoTemplate));
        // Argo Rollouts (argoproj.io, a pod template) stays a Kubernetes workload.
        let src = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec:\n  template:\n    spec:\n      containers:\n      - name: r\n        image: r:1\n";
        assert_eq!(run(src).images[0].source, Source::KubernetesContainer);
    }

    #[test]
    fn argo_hostile_inline_nesting_is_bounded() {
        let mut src = String::from(
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  templates:\n  - name: t\n",
        );
        let mut indent = String::from("    ");
        for _ in 0..40 {
            src.push_str(&format!(
                "{indent}steps:\n{indent}- - name: s\n{indent}    inline:\n"
            ));
            indent.push_str("        ");
        }
        src.push_str(&format!("{indent}container: {{image: deep:1}}\n"));
        let out = run(&src);
        assert!(out.images.is_empty());
    }

    #[test]
    fn flux_kustomization_inside() {
        let src = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n  images:\n  - name: podinfo\n    newTag: 6.5.0\n";
        let out = run(src);
        assert_eq!(just_images(&out), vec!["podinfo:6.5.0"]);
        assert_eq!(out.images[0].source, Source::KustomizeImage);
    }

    #[test]
    fn merge_key_bomb_is_cheap() {
        let mut src = String::from("l0: &l0 {containers: [{name: a, image: a:1}]}\n");
        for i in 1..40 {
            let p = i - 1;
            src.push_str(&format!(
                "l{i}: &l{i} {{<<: [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]}}\n"
            ));
        }
        src.push_str("spec: {<<: *l39}\n");
        let out = run(&src);
        assert_eq!(just_images(&out), vec!["a:1"]);
    }

    #[test]
    fn flow_sequence_closer_at_key_indentation() {
        let src = "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: a:1\n    command: [\n      \"start\"\n    ]\n  - name: b\n    image: b:2\n";
        let out = run(src);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(just_images(&out), vec!["a:1", "b:2"]);
    }

    #[test]
    fn closer_after_comments_and_underindented_quoted_scalar() {
        let src = "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: a:1\n    command: [\"x\", # c\n      # more\n\n    ]\n    args:\n      - \"one \\\n    two\"\n  - name: b\n    image: b:2\n";
        let out = run(src);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(just_images(&out), vec!["a:1", "b:2"]);
    }

    #[test]
    fn reused_container_list_is_cheap() {
        let n = 1500;
        let mut src = String::from("x-list: &l\n");
        for i in 0..n {
            src.push_str(&format!("- {{name: c{i}, image: img{i}:1}}\n"));
        }
        src.push_str("items:\n");
        for _ in 0..n {
            src.push_str("- spec: {containers: *l}\n");
        }
        let start = std::time::Instant::now();
        let out = run(&src);
        assert_eq!(out.images.len(), n);
        assert!(start.elapsed().as_secs() < 10);
    }

    #[test]
    fn many_images_are_cheap() {
        let mut src = String::new();
        for i in 0..20_000 {
            src.push_str(&format!(
                "- kind: Pod\n  spec:\n    containers: [{{image: i{i}}}]\n"
            ));
        }
        let start = std::time::Instant::now();
        assert_eq!(run(&src).images.len(), 20_000);
        assert!(start.elapsed().as_secs() < 10);
    }

    /// Every YAML extractor on hostile input: alias and merge bombs, deep nesting, cut-off files.
    #[test]
    fn hostile_inputs_never_panic() {
        let extractors: [fn(&str) -> Extraction; 4] = [
            extract,
            crate::compose::extract,
            crate::helm::extract,
            crate::kustomize::extract,
        ];
        let mut inputs = vec![
            "[".repeat(10_000),
            "a: ".repeat(5_000),
            "{{".repeat(5_000),
            "]\n".repeat(100),
            "\u{feff}".to_string(),
            "services: *x\nimages: *y\nimage: *z\n".to_string(),
        ];
        let mut bomb = String::from(
            "l0: &l0 {image: a:1, repository: r, containers: [{image: b}], services: {s: {image: c}}, images: [{name: n, newTag: t}]}\n",
        );
        for i in 1..40 {
            let p = i - 1;
            bomb.push_str(&format!(
                "l{i}: &l{i} {{<<: [*l{p}, *l{p}, *l{p}, *l{p}], image: *l{p}, services: *l{p}, x: [*l{p}, *l{p}, *l{p}]}}\n"
            ));
        }
        bomb.push_str("services: *l39\nimages: *l39\nspec: *l39\nimage: *l39\n");
        inputs.push(bomb);
        for (_, text) in corpus::files("kubernetes").iter().take(6) {
            for cut in (0..text.len()).step_by(101) {
                if text.is_char_boundary(cut) {
                    inputs.push(text[..cut].to_string());
                }
            }
        }
        let start = std::time::Instant::now();
        for input in &inputs {
            for extract in extractors {
                let out = extract(input);
                for o in &out.images {
                    assert_eq!(o.text, o.span.of(input));
                }
            }
        }
        assert!(start.elapsed().as_secs() < 30);
    }

    #[test]
    fn masking_keeps_length() {
        let src = "a: {{ x }}\n  {{- if y }}\nb: \"{{ \"q\" }}é\"\n{{/* multi\nline */}}\n";
        let m = mask_go_template(src);
        assert_eq!(m.len(), src.len());
        assert!(!m.contains("{{"));
        assert_eq!(m.lines().count(), src.lines().count());
    }
}
