//! Argo Workflows (`Workflow`, `WorkflowTemplate`, `ClusterWorkflowTemplate`, `CronWorkflow`'s
//! `spec.workflowSpec`): every template's `container`, `script`, `containerSet.containers`,
//! `initContainers` and `sidecars`, inline templates of steps and DAG tasks, and
//! `templateDefaults`, as [`Source::ArgoTemplate`]; `{{inputs.parameters.x}}` and
//! `{{workflow.parameters.x}}` resolve to the literal `value`/`default` (origins there), other
//! expressions are unresolved. Container commands in a shell's `-c` argument or a script's
//! `source` are [`Source::ArgoCommand`]. `podSpecPatch` is a string merged at run time: not
//! parsed (a note says so when it mentions an image).

use std::collections::HashMap;

use crate::read::ci_script::rewrite::{self, Piece, Rewrite, ScriptSite};
use crate::read::placeholder::placeholder_reason;
use crate::read::shell;
use crate::read::yaml::{
    Entry, Found, NodeRef, Scalar, literal_occurrence, lookup, merged_entries, scalar_at, str_of,
};
use crate::{Form, ImageOccurrence, Origin, Source, Span, Unresolved};

/// Argo kinds whose spec (or `spec.workflowSpec`) holds workflow templates.
pub(super) const ARGO_WORKFLOW_KINDS: &[&str] = &[
    "Workflow",
    "WorkflowTemplate",
    "ClusterWorkflowTemplate",
    "CronWorkflow",
];

/// How deep `inline:` templates of steps and DAG tasks are followed.
const MAX_ARGO_INLINE_DEPTH: usize = 8;

/// Why an Argo expression that is not a known parameter is unresolved.
const ARGO_REASON: &str = "Argo expression ({{ … }}): the value is set when the workflow runs";

/// Reads Argo Workflows templates: `container`, `script`, `containerSet.containers`,
/// `initContainers` and `sidecars` of every template (inline ones of steps and DAG tasks too) and
/// of `templateDefaults`, reported as [`Source::ArgoTemplate`].
pub(super) struct Argo<'f> {
    pub(super) file: &'f str,
}

impl Argo<'_> {
    pub(super) fn workflow(&self, entries: &[Entry<'_, '_>], kind: &str, out: &mut Found) {
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
        self.commands(&entries, context, params, out);
    }

    /// Container commands in the shell script a container runs: the argument after `-c` of a
    /// shell in `command` + `args`, or a script template's `source` run by a shell.
    fn commands(
        &self,
        entries: &[Entry<'_, '_>],
        context: &str,
        params: &Params<'_>,
        out: &mut Found,
    ) {
        let items = |key: &str| {
            lookup(entries, key)
                .map(|e| e.value.items())
                .unwrap_or_default()
        };
        let mut argv = items("command");
        let runs_shell = argv
            .first()
            .and_then(|c| c.as_str())
            .is_some_and(shell::is_shell);
        if !runs_shell {
            return;
        }
        let mut scripts: Vec<NodeRef<'_, '_>> = lookup(entries, "source")
            .map(|s| s.value)
            .into_iter()
            .collect();
        argv.extend(items("args"));
        scripts.extend(crate::read::ci_script::argv::shell_script(&argv));
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
        let assigned = shell::assigned_names(self.file);
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
        let site = ScriptSite {
            file: self.file,
            source: Source::ArgoCommand,
            context: Some(context),
            built: &built,
            env: &lookup_env,
        };
        // Argo replaces `{{…}}` before the shell runs.
        let rewrites = |value: &str| params.rewrites(value);
        for script in scripts {
            rewrite::script_images(&site, script, &rewrites, out.extraction());
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
    /// The parameter an expression (`inputs.parameters.x`, `workflow.parameters.x`) names.
    fn parameter(&self, expr: &str) -> Option<&Scalar> {
        let found = if let Some(name) = expr.strip_prefix("inputs.parameters.") {
            self.inputs.iter().find(|(n, _)| n == name)
        } else if let Some(name) = expr.strip_prefix("workflow.parameters.") {
            self.workflow.iter().find(|(n, _)| n == name)
        } else {
            None
        };
        found.map(|(_, p)| p)
    }

    /// What Argo replaces in a script before the shell runs: each `{{…}}`, by a known
    /// parameter's value (its definition as origin) or by a value set when the workflow runs.
    fn rewrites(&self, value: &str) -> Vec<Rewrite> {
        rewrite::delimited(value, "{{", "}}", &|inner| {
            let expr = inner.trim();
            Some(match self.parameter(expr) {
                Some(p) => Piece::known(expr.to_string(), &p.value, p.exact.then_some(p.span)),
                None => Piece::unknown(
                    expr,
                    format!("{{{{{expr}}}}} is set when the workflow runs"),
                ),
            })
        })
    }

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
            let Some(param) = self.parameter(expr) else {
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
