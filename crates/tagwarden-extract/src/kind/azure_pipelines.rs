//! Azure Pipelines (`azure-pipelines.yml` and template files of steps, jobs or stages).
//!
//! Read: `resources.containers[].image` (reported once, with the `container:` alias as context);
//! a job's `container:` (a string naming an image or a `resources.containers` alias, or a map
//! with `image:`) and the values of its `services:` (same forms); a pipeline's own top-level
//! `container:` / `services:`; jobs and deployments at any depth (stages, `${{ if … }}` blocks,
//! `extends: parameters:` and template parameters); the image operands of container commands
//! (`docker|podman|nerdctl run|create|pull`) in `script:`, `bash:`, `pwsh:` and `powershell:`
//! steps and in the inline scripts of `Bash@3`, `CmdLine@2`, `PowerShell@2` and `AzureCLI@2`
//! tasks; the image a `Docker@2` task pulls or runs (`command: run|pull|create` with
//! `arguments:`) and a `Docker@0`/`Docker@1` task runs (`Run an image` with `imageName:`).
//!
//! Values take the pipeline's variables: `$(var)` macros and `${{ variables.var }}` from the
//! `variables:` of the job, its stage and the pipeline (map form and `- name: value:` list form;
//! the nearest wins, names compared without case), and `${{ parameters.x }}` from the literal
//! `default:` of the file's `parameters:` (list or map form). In scripts, `$VAR` reads a variable
//! as Azure exports it (`foo.bar` as `FOO_BAR`) or the step's `env:`, when written literally and
//! not assigned anywhere in the file. Anything else (predefined variables, variable groups,
//! `$[ … ]` runtime expressions, other template expressions) is unresolved, naming it.
//! PowerShell lines holding a backtick (its escape and continuation character) are not read.
//!
//! Not read: `pool:` (`vmImage:` and 1ES `image:` name VM images), `type: ACR` container
//! resources (they trigger on a registry, no image is written), `Docker@2` build, push and
//! login commands (they pull no image by name here), and `target: container` (an alias).
//! Images named in other template files are read when those files are scanned.

use std::collections::{HashMap, HashSet};

use crate::read::ci_script::macros::{
    Expansion, Macro, Script, occurrence, script_images, script_node_images,
};
use crate::read::shell;
use crate::read::value_map::ValueMap;
use crate::read::yaml::{self, NodeRef};
use crate::{Extraction, Origin, Source, Span, Unresolved};

/// Mappings and sequences deeper than this are not walked.
const MAX_DEPTH: usize = 64;
/// Template expressions read per value.
const MAX_MACROS: usize = 256;
/// Variables referring to variables, followed this deep.
const MAX_VAR_DEPTH: usize = 8;
/// Names of images a job builds, kept per job.
const MAX_BUILT: usize = 1000;
/// Keys walked for nothing: VM pools, triggers, variables (read where they apply).
const SKIPPED: &[&str] = &[
    "pool",
    "variables",
    "trigger",
    "pr",
    "schedules",
    "resources",
    "container",
    "services",
    "env",
    "inputs",
];

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let yaml = yaml::parse(text, &mut out);
    let assigned = shell::assigned_names(text);
    for doc in yaml.documents() {
        if !doc.is_mapping() {
            continue;
        }
        let pipeline = Pipeline::new(text, doc, &assigned);
        pipeline.scan(&mut out);
    }
    out.images.sort_by_key(|o| (o.span.start, o.span.end));
    out
}

/// Variables in scope, innermost layer last: lowercase name -> value node.
#[derive(Clone, Default)]
struct Scope<'y, 'a> {
    layers: Vec<HashMap<String, NodeRef<'y, 'a>>>,
}

impl<'y, 'a> Scope<'y, 'a> {
    /// The scope with the `variables:` of a stage or job added on top.
    fn with(&self, vars: Option<NodeRef<'y, 'a>>) -> Self {
        let mut s = self.clone();
        if let Some(vars) = vars {
            s.layers.push(variables(vars));
        }
        s
    }

    fn get(&self, name: &str) -> Option<NodeRef<'y, 'a>> {
        let key = name.to_ascii_lowercase();
        self.layers.iter().rev().find_map(|l| l.get(&key).copied())
    }

    /// Literal values by the environment name Azure exports them under (`a.b` as `A_B`).
    fn env(&self) -> HashMap<String, (String, Span)> {
        let mut env = HashMap::new();
        for layer in &self.layers {
            for (name, node) in layer {
                if let (Some(v), Some(span)) = (node.as_str(), node.exact_span())
                    && !v.contains('$')
                {
                    let key = name.to_ascii_uppercase().replace('.', "_");
                    env.insert(key, (v.to_string(), span));
                }
            }
        }
        env
    }
}

/// `variables:` in map form (`name: value`) or list form (`- name: x` / `value: y`); groups,
/// templates and conditional blocks hold values not known here.
fn variables<'y, 'a>(vars: NodeRef<'y, 'a>) -> HashMap<String, NodeRef<'y, 'a>> {
    let mut map = HashMap::new();
    if vars.is_sequence() {
        for item in vars.items() {
            if let (Some(name), Some(value)) = (item.get_str("name"), item.get("value")) {
                map.insert(name.to_ascii_lowercase(), value);
            }
        }
    } else {
        for (name, value) in vars.entries() {
            if !name.starts_with("${{") && value.is_scalar() {
                map.insert(name.to_ascii_lowercase(), value);
            }
        }
    }
    map
}

/// Where a job's values are reported.
struct At<'s, 'y, 'a> {
    context: &'s str,
    scope: &'s Scope<'y, 'a>,
}

struct Pipeline<'c, 'y, 'a> {
    text: &'a str,
    root: NodeRef<'y, 'a>,
    /// `parameters:` declarations: name -> the `default:` node.
    params: HashMap<&'y str, NodeRef<'y, 'a>>,
    /// Names of `resources.containers` entries.
    aliases: HashSet<&'y str>,
    assigned: &'c HashSet<&'a str>,
}

impl<'c, 'y, 'a> Pipeline<'c, 'y, 'a> {
    fn new(text: &'a str, root: NodeRef<'y, 'a>, assigned: &'c HashSet<&'a str>) -> Self {
        let mut params = HashMap::new();
        if let Some(p) = root.get("parameters") {
            if p.is_sequence() {
                for item in p.items() {
                    if let (Some(name), Some(default)) = (item.get_str("name"), item.get("default"))
                    {
                        params.insert(name, default);
                    }
                }
            } else {
                // Old-style templates: `parameters: {name: default}`.
                for (name, default) in p.entries() {
                    params.insert(name, default);
                }
            }
        }
        let aliases = containers(root)
            .iter()
            .filter_map(|c| c.get_str("container"))
            .collect();
        Self {
            text,
            root,
            params,
            aliases,
            assigned,
        }
    }

    fn scan(&self, out: &mut Extraction) {
        // Scopes borrow nodes for the tree's lifetime; a local clone keeps the types simple.
        let scope: Scope<'y, 'a> = Scope::default().with(self.root.get("variables"));
        for c in containers(self.root) {
            let Some(image) = c.get("image") else {
                continue;
            };
            let context = c.get_str("container").unwrap_or("resources.containers");
            self.image(image, Source::AzureContainer, context, &scope, out);
        }
        self.walk(self.root, "pipeline", &scope, 0, out);
    }

    /// Visits every mapping and sequence below `node` (aliases are not followed: Azure does
    /// not read YAML anchors, and following them could multiply the work).
    fn walk(
        &self,
        node: NodeRef<'y, 'a>,
        context: &str,
        scope: &Scope<'y, 'a>,
        depth: usize,
        out: &mut Extraction,
    ) {
        if depth > MAX_DEPTH || node.is_alias() {
            return;
        }
        if node.is_sequence() {
            for item in node.items() {
                self.walk(item, context, scope, depth + 1, out);
            }
            return;
        }
        if !node.is_mapping() {
            return;
        }
        let is_root = depth == 0;
        let name = ["job", "deployment"]
            .iter()
            .find_map(|k| node.get_str(k))
            .map(str::to_string);
        let stage = node.get_str("stage");
        let scope = if is_root {
            scope.clone()
        } else if name.is_some() || stage.is_some() {
            scope.with(node.get("variables"))
        } else {
            scope.clone()
        };
        let context = match (&name, stage) {
            (Some(job), _) => job.clone(),
            (None, Some(stage)) => stage.to_string(),
            (None, None) => context.to_string(),
        };
        if name.is_some() || is_root {
            let at = At {
                context: &context,
                scope: &scope,
            };
            self.job_containers(node, &at, 0, out);
            let mut built = Vec::new();
            collect_built(node, 0, &mut built);
            built.truncate(MAX_BUILT);
            self.step(node, &context, &scope, &built, out);
            for (key, value) in node.own_entries() {
                if key.as_str().is_some_and(|k| SKIPPED.contains(&k)) {
                    continue;
                }
                self.steps_below(value, &context, &scope, &built, depth + 1, out);
            }
            return;
        }
        for (key, value) in node.own_entries() {
            if key.as_str().is_some_and(|k| SKIPPED.contains(&k)) {
                continue;
            }
            self.walk(value, &context, &scope, depth + 1, out);
        }
    }

    /// Walks a job (or the pipeline) for its steps, and for the jobs nested in it (a pipeline's
    /// stages, a template's parameters).
    fn steps_below(
        &self,
        node: NodeRef<'y, 'a>,
        context: &str,
        scope: &Scope<'y, 'a>,
        built: &[String],
        depth: usize,
        out: &mut Extraction,
    ) {
        if depth > MAX_DEPTH || node.is_alias() {
            return;
        }
        if node.is_sequence() {
            for item in node.items() {
                self.steps_below(item, context, scope, built, depth + 1, out);
            }
            return;
        }
        if !node.is_mapping() {
            return;
        }
        if ["job", "deployment", "stage"]
            .iter()
            .any(|k| node.get(k).is_some())
        {
            self.walk_nested(node, context, scope, depth, out);
            return;
        }
        self.step(node, context, scope, built, out);
        for (key, value) in node.own_entries() {
            if key.as_str().is_some_and(|k| SKIPPED.contains(&k)) {
                continue;
            }
            self.steps_below(value, context, scope, built, depth + 1, out);
        }
    }

    /// A job or stage met below another: walked on its own.
    fn walk_nested(
        &self,
        node: NodeRef<'y, 'a>,
        context: &str,
        scope: &Scope<'y, 'a>,
        depth: usize,
        out: &mut Extraction,
    ) {
        // `walk` treats depth 0 as the root: nested nodes are at least 1.
        self.walk(node, context, scope, depth.max(1), out);
    }

    /// A job's `container:` and `services:`, also inside `${{ if … }}` blocks.
    fn job_containers(
        &self,
        job: NodeRef<'y, 'a>,
        at: &At<'_, 'y, 'a>,
        depth: usize,
        out: &mut Extraction,
    ) {
        if depth > 4 {
            return;
        }
        if let Some(container) = job.get("container") {
            self.container(container, at.context, at, out);
        }
        for (name, service) in job.get("services").map(|s| s.entries()).unwrap_or_default() {
            let context = format!("{} / service {name}", at.context);
            self.container(service, &context, at, out);
        }
        for (key, value) in job.entries() {
            if key.starts_with("${{") && value.is_mapping() {
                self.job_containers(value, at, depth + 1, out);
            }
        }
    }

    /// A `container:` value: an alias of `resources.containers`, an image, or a map with
    /// `image:`.
    fn container(
        &self,
        node: NodeRef<'y, 'a>,
        context: &str,
        at: &At<'_, 'y, 'a>,
        out: &mut Extraction,
    ) {
        let node = if node.is_mapping() {
            match node.get("image") {
                Some(image) => image,
                None => return,
            }
        } else {
            if let Some(v) = node.as_str() {
                if self.aliases.contains(v.trim()) {
                    return;
                }
                // A parameter whose default names an alias is an alias too.
                let macros = self.macros(v, at.scope);
                if !macros.is_empty()
                    && let Ok((value, _)) = crate::read::ci_script::macros::substitute(v, &macros)
                    && self.aliases.contains(value.trim())
                {
                    return;
                }
            }
            node
        };
        self.image(node, Source::AzureContainer, context, at.scope, out);
    }

    /// Reports an image-valued scalar, with its variables expanded.
    fn image(
        &self,
        node: NodeRef<'y, 'a>,
        source: Source,
        context: &str,
        scope: &Scope<'y, 'a>,
        out: &mut Extraction,
    ) {
        let expand = |value: &str| {
            let macros = self.macros(value, scope);
            if macros.is_empty() {
                return None;
            }
            Some(crate::read::ci_script::macros::substitute(value, &macros))
        };
        if let Some(occ) = occurrence(self.text, node, source, context, &[], &expand) {
            out.push_image(occ);
        }
    }

    /// Script steps and the tasks that run container commands.
    fn step(
        &self,
        step: NodeRef<'y, 'a>,
        job: &str,
        scope: &Scope<'y, 'a>,
        built: &[String],
        out: &mut Extraction,
    ) {
        let context = match step.get_str("displayName").or(step.get_str("name")) {
            Some(name) => format!("{job} / {name}"),
            None => job.to_string(),
        };
        let mut env = scope.env();
        for (name, value) in step.get("env").map(|e| e.entries()).unwrap_or_default() {
            if let (Some(v), Some(span)) = (value.as_str(), value.exact_span())
                && !v.contains('$')
            {
                env.insert(name.to_string(), (v.to_string(), span));
            } else {
                env.remove(name);
            }
        }
        let lookup = |var: &str| {
            if self.assigned.contains(var) {
                return None;
            }
            env.get(var).cloned()
        };
        let script = |powershell: bool| Script {
            text: self.text,
            source: Source::AzureScriptCommand,
            context: Some(&context),
            built,
            env: &lookup,
            powershell,
        };
        let macros = |value: &str| self.macros(value, scope);
        for (key, powershell) in [
            ("script", false),
            ("bash", false),
            ("pwsh", true),
            ("powershell", true),
        ] {
            if let Some(body) = step.get(key).filter(|b| b.is_scalar()) {
                script_node_images(&script(powershell), body, &macros, out);
            }
        }
        let Some(task) = step.get_str("task") else {
            return;
        };
        let inputs = step.get("inputs");
        let input = |name: &str| inputs.and_then(|i| i.get(name));
        let (task_name, version) = task.split_once('@').unwrap_or((task, ""));
        match task_name.to_ascii_lowercase().as_str() {
            "bash" | "cmdline" => {
                if let Some(body) = input("script") {
                    script_node_images(&script(false), body, &macros, out);
                }
            }
            "powershell" => {
                if let Some(body) = input("script") {
                    script_node_images(&script(true), body, &macros, out);
                }
            }
            "azurecli" => {
                let powershell = !input("scriptType")
                    .and_then(|t| t.as_str())
                    .is_some_and(|t| t.eq_ignore_ascii_case("bash"));
                if let Some(body) = input("inlineScript") {
                    script_node_images(&script(powershell), body, &macros, out);
                }
            }
            "docker" if version == "2" => {
                let command = input("command").and_then(|c| c.as_str()).unwrap_or("");
                if let Some(args) = input("arguments")
                    && matches!(command, "run" | "pull" | "create")
                {
                    self.docker_arguments(&script(false), command, args, scope, out);
                }
            }
            "docker" => {
                let command = input("command")
                    .or(input("action"))
                    .and_then(|c| c.as_str())
                    .unwrap_or("");
                if !matches!(command, "Run an image" | "run") {
                    return;
                }
                let Some(image) = input("imageName") else {
                    return;
                };
                let qualified = !input("qualifyImageName")
                    .and_then(|q| q.as_str())
                    .is_some_and(|q| q.eq_ignore_ascii_case("false"));
                let registry = [
                    "azureContainerRegistry",
                    "dockerRegistryEndpoint",
                    "dockerRegistryConnection",
                ]
                .iter()
                .any(|k| input(k).is_some());
                let context = format!("{context} / {task}");
                if qualified && registry {
                    // The task prefixes the image with its service connection's registry.
                    let reason = "the task qualifies the image name with the registry of its \
                                  service connection (qualifyImageName)";
                    let expand = |_: &str| Some(Err(Unresolved::new(reason)));
                    if let Some(occ) = occurrence(
                        self.text,
                        image,
                        Source::AzureScriptCommand,
                        &context,
                        &[],
                        &expand,
                    ) {
                        out.push_image(occ);
                    }
                    return;
                }
                self.image(image, Source::AzureScriptCommand, &context, scope, out);
            }
            _ => {}
        }
    }

    /// `Docker@2` with `command: run|pull|create`: the arguments are read as the command line
    /// `docker <command> <arguments>`.
    fn docker_arguments(
        &self,
        script: &Script<'_>,
        command: &str,
        args: NodeRef<'y, 'a>,
        scope: &Scope<'y, 'a>,
        out: &mut Extraction,
    ) {
        let Some(target) = args.resolve() else {
            return;
        };
        let Some(value) = target.as_str() else {
            return;
        };
        let prefix = format!("docker {command} ");
        let line = format!("{prefix}{value}");
        let map = ValueMap::of(target);
        let to_file = |span: Span| {
            let start = span.start.checked_sub(prefix.len())?;
            let end = span.end.checked_sub(prefix.len())?;
            map.as_ref()?.to_source(Span::new(start, end))
        };
        let context = format!("{} / Docker@2", script.context.unwrap_or_default());
        let s = Script {
            context: Some(&context),
            ..*script
        };
        let macros = self.macros(&line, scope);
        script_images(&s, &line, &to_file, &macros, &[], target.start(), out);
    }

    /// The `$(var)` macros and `${{ … }}` template expressions of a value, with their values.
    fn macros(&self, value: &str, scope: &Scope<'y, 'a>) -> Vec<Macro> {
        self.macros_at(value, scope, 0)
    }

    fn macros_at(&self, value: &str, scope: &Scope<'y, 'a>, depth: usize) -> Vec<Macro> {
        let mut found = Vec::new();
        let bytes = value.as_bytes();
        let mut i = 0;
        while let Some(n) = value.get(i..).and_then(|r| r.find('$')) {
            let start = i + n;
            if found.len() >= MAX_MACROS {
                break;
            }
            match bytes.get(start + 1) {
                Some(b'(') => {
                    let Some(close) = value
                        .get(start + 2..)
                        .and_then(|r| r.find(')'))
                        .map(|c| start + 2 + c)
                    else {
                        break;
                    };
                    let name = value.get(start + 2..close).unwrap_or("");
                    // `$(cmd …)` is the shell's command substitution, not a macro.
                    let is_name = !name.is_empty()
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
                    if is_name {
                        found.push(Macro {
                            start,
                            end: close + 1,
                            name: name.to_string(),
                            value: self.variable(name, scope, depth),
                        });
                        i = close + 1;
                    } else {
                        i = start + 2;
                    }
                }
                Some(b'{') if bytes.get(start + 2) == Some(&b'{') => {
                    let Some(close) = value
                        .get(start + 3..)
                        .and_then(|r| r.find("}}"))
                        .map(|c| start + 3 + c)
                    else {
                        break;
                    };
                    let expr = value.get(start + 3..close).unwrap_or("").trim();
                    found.push(Macro {
                        start,
                        end: close + 2,
                        name: expr.rsplit('.').next().unwrap_or(expr).to_string(),
                        value: self.template_expression(expr, scope, depth),
                    });
                    i = close + 2;
                }
                Some(b'[') => {
                    let close = value
                        .get(start..)
                        .and_then(|r| r.find(']'))
                        .map_or(value.len(), |c| start + c + 1);
                    let expr = value.get(start..close).unwrap_or("");
                    found.push(Macro {
                        start,
                        end: close,
                        name: "runtime".to_string(),
                        value: Err(Unresolved::new(format!(
                            "{expr} is a runtime expression, evaluated when the job runs"
                        ))),
                    });
                    i = close.max(start + 1);
                }
                _ => i = start + 1,
            }
        }
        found
    }

    /// `${{ parameters.x }}` takes the declared default; `${{ variables.x }}` the variable.
    fn template_expression(&self, expr: &str, scope: &Scope<'y, 'a>, depth: usize) -> Expansion {
        let name_of = |prefix: &str| {
            let rest = expr.strip_prefix(prefix)?;
            let name = rest
                .strip_prefix('.')
                .or_else(|| rest.strip_prefix("['").and_then(|r| r.strip_suffix("']")))?;
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
                .then_some(name)
        };
        if let Some(name) = name_of("parameters") {
            let default = self.params.get(name).filter(|d| d.is_scalar());
            let Some(default) = default else {
                return Err(Unresolved::new(format!(
                    "parameter {name} has no literal default; its value is passed where the \
                     template is used"
                )));
            };
            let value = default.as_str().unwrap_or_default().to_string();
            let origin = default.exact_span().map(|span| Origin {
                name: format!("parameters.{name}"),
                span,
            });
            return Ok((value, origin.into_iter().collect()));
        }
        if let Some(name) = name_of("variables") {
            return self.variable(name, scope, depth);
        }
        Err(Unresolved::new(format!(
            "${{{{ {expr} }}}} is evaluated when the pipeline is compiled"
        )))
    }

    /// A variable's value, with the macros inside it expanded.
    fn variable(&self, name: &str, scope: &Scope<'y, 'a>, depth: usize) -> Expansion {
        let Some(node) = scope.get(name) else {
            return Err(Unresolved::new(format!(
                "variable {name} has no known value"
            )));
        };
        let Some(raw) = node.as_str() else {
            return Err(Unresolved::new(format!("variable {name} is not a string")));
        };
        let origin = node.exact_span().map(|span| Origin {
            name: name.to_string(),
            span,
        });
        if !raw.contains('$') {
            return Ok((raw.to_string(), origin.into_iter().collect()));
        }
        if depth >= MAX_VAR_DEPTH {
            return Err(Unresolved::new(format!(
                "variable {name} refers to itself or nests too deeply"
            )));
        }
        let inner = self.macros_at(raw, scope, depth + 1);
        let (value, mut origins) = crate::read::ci_script::macros::substitute(raw, &inner)?;
        origins.extend(origin);
        Ok((value, origins))
    }
}

/// The `resources.containers` entries.
fn containers<'y, 'a>(root: NodeRef<'y, 'a>) -> Vec<NodeRef<'y, 'a>> {
    root.get("resources")
        .and_then(|r| r.get("containers"))
        .map(|c| c.items())
        .unwrap_or_default()
}

/// Names images are built under by the scripts below a job.
fn collect_built(node: NodeRef<'_, '_>, depth: usize, built: &mut Vec<String>) {
    if depth > MAX_DEPTH || node.is_alias() || built.len() >= MAX_BUILT {
        return;
    }
    if node.is_sequence() {
        for item in node.items() {
            collect_built(item, depth + 1, built);
        }
        return;
    }
    for (key, value) in node.own_entries() {
        match key.as_str() {
            Some("script" | "bash" | "pwsh" | "powershell" | "inlineScript") => {
                if let Some(v) = value.as_str() {
                    built.extend(shell::built_images(v));
                }
            }
            _ => collect_built(value, depth + 1, built),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DiagnosticKind;
    use crate::test_support::{origins, row, rows};

    fn got(t: &str) -> Vec<crate::test_support::Row<'_>> {
        rows(t, &extract(t))
    }

    const CTR: Source = Source::AzureContainer;
    const CMD: Source = Source::AzureScriptCommand;

    #[test]
    fn resources_containers_and_services() {
        for nl in ["\n", "\r\n"] {
            let t = "resources:\n  containers:\n  - container: builder\n    image: ubuntu:24.04\n  - container: redis\n    image: redis:7\njobs:\n- job: a\n  container: builder\n  services:\n    cache: redis\n    db: postgres:16\n    web:\n      image: nginx:1.27\n- job: b\n  container: 'python:3.13'\n- job: c\n  container:\n    image: node:20\n    options: --user 0\n  pool:\n    vmImage: ubuntu-latest\n"
                .replace('\n', nl);
            assert_eq!(
                got(&t),
                vec![
                    row("ubuntu:24.04", CTR, "builder"),
                    row("redis:7", CTR, "redis"),
                    row("postgres:16", CTR, "a / service db"),
                    row("nginx:1.27", CTR, "a / service web"),
                    row("python:3.13", CTR, "b"),
                    row("node:20", CTR, "c"),
                ]
            );
        }
    }

    #[test]
    fn stages_deployments_conditionals_and_root_container() {
        let t = "container: alpine:3\nstages:\n- stage: build\n  jobs:\n  - deployment: deploy\n    environment: prod\n    ${{ if eq(parameters.x, true) }}:\n      container: busybox:1\n    strategy:\n      runOnce:\n        deploy:\n          steps:\n          - bash: docker pull debian:13\nextends:\n  template: t.yml@x\n  parameters:\n    stages:\n    - stage: s\n      jobs:\n      - job: inner\n        container: golang:1.26\n";
        let g = got(t);
        assert_eq!(
            g,
            vec![
                row("alpine:3", CTR, "pipeline"),
                row("busybox:1", CTR, "deploy"),
                row("debian:13", CMD, "deploy"),
                row("golang:1.26", CTR, "inner"),
            ]
        );
    }

    #[test]
    fn kics_in_scripts_and_tasks() {
        for nl in ["\n", "\r\n"] {
            let t = "steps:\n- script: docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n- bash: |\n    docker pull aquasec/trivy:0.69.4\n    echo docker run no:1\n  displayName: trivy\n- pwsh: |\n    docker pull mcr.microsoft.com/powershell:7.5\n    docker run `\n      --rm skipped:1\n- powershell: docker pull 'mcr.microsoft.com/windows/nanoserver:ltsc2025'\n- task: Bash@3\n  inputs:\n    targetType: inline\n    script: podman pull quay.io/a/b:1\n- task: Docker@2\n  inputs:\n    command: run\n    arguments: --rm alpine:3.22 echo hi\n- task: Docker@2\n  inputs:\n    command: build\n    arguments: --build-arg X=alpine:3\n- task: Docker@1\n  inputs:\n    command: Run an image\n    imageName: redis:7\n    qualifyImageName: false\n- task: Docker@1\n  inputs:\n    command: run\n    azureContainerRegistry: myacr.azurecr.io\n    imageName: app:1\n"
                .replace('\n', nl);
            let g = got(&t);
            assert_eq!(g[0], row("checkmarx/kics:latest", CMD, "pipeline"));
            assert_eq!(g[1], row("aquasec/trivy:0.69.4", CMD, "pipeline / trivy"));
            assert_eq!(
                g[2],
                row("mcr.microsoft.com/powershell:7.5", CMD, "pipeline")
            );
            assert_eq!(
                g[3],
                row(
                    "mcr.microsoft.com/windows/nanoserver:ltsc2025",
                    CMD,
                    "pipeline"
                )
            );
            assert_eq!(g[4], row("quay.io/a/b:1", CMD, "pipeline"));
            assert_eq!(g[5], row("alpine:3.22", CMD, "pipeline / Docker@2"));
            assert_eq!(g[6], row("redis:7", CMD, "pipeline / Docker@1"));
            assert_eq!(g[7].0, "app:1");
            assert!(g[7].1.as_ref().unwrap_err().contains("qualif"));
            assert_eq!(g.len(), 8, "{g:?}");
        }
    }

    #[test]
    fn variables_and_parameters() {
        let t = "parameters:\n- name: image\n  type: string\n  default: checkmarx/kics:latest\n- name: tag\n  default: '3.13'\n- name: free\n  type: string\n- name: builder\n  default: b\nvariables:\n  registry: ghcr.io/acme\n  app.image: $(registry)/app:2\n  Trivy: aquasec/trivy:0.69.4\nresources:\n  containers:\n  - container: b\n    image: $(registry)/builder:1\njobs:\n- job: j\n  variables:\n  - name: local\n    value: busybox:1\n  - group: secrets\n  container: ${{ parameters.builder }}\n  services:\n    x: python:${{ parameters.tag }}\n    y: ${{ parameters.free }}\n    z: $(Build.Repository.Name):$[ variables.x ]\n  steps:\n  - script: |\n      docker run --rm ${{ parameters.image }} scan\n      docker run \"$(TRIVY)\" image x\n      docker run $(app.image)\n      docker run $APP_IMAGE\n      docker run ${LOCAL}\n      docker run $(local)\n      docker run $(nope)\n";
        let out = extract(t);
        let g = got(t);
        assert_eq!(g[0].1, Ok("ghcr.io/acme/builder:1".into()));
        assert_eq!(
            origins(t, &out.images[0]),
            [("registry".to_string(), "ghcr.io/acme")]
        );
        assert_eq!(g[1].1, Ok("python:3.13".into()));
        assert_eq!(g[1].3, "j / service x");
        assert!(g[2].1.as_ref().unwrap_err().contains("free"));
        assert!(g[3].1.is_err());
        let runs: Vec<_> = g.iter().filter(|r| r.2 == CMD).collect();
        assert_eq!(runs[0].0, "${{ parameters.image }}");
        assert_eq!(runs[0].1, Ok("checkmarx/kics:latest".into()));
        let kics = out
            .images
            .iter()
            .find(|o| o.text == "${{ parameters.image }}")
            .unwrap();
        assert_eq!(
            origins(t, kics),
            [("parameters.image".to_string(), "checkmarx/kics:latest")]
        );
        assert_eq!(runs[1].1, Ok("aquasec/trivy:0.69.4".into()));
        assert_eq!(runs[2].1, Ok("ghcr.io/acme/app:2".into()));
        // `app.image` is built from another variable: not a literal environment value.
        assert!(runs[3].1.is_err());
        assert_eq!(runs[4].1, Ok("busybox:1".into()));
        assert_eq!(runs[5].1, Ok("busybox:1".into()));
        assert!(runs[6].1.as_ref().unwrap_err().contains("nope"));
        assert_eq!(runs.len(), 7, "{runs:?}");
        // A parameter default naming an alias is the alias, not an image.
        assert!(!g.iter().any(|r| r.0 == "${{ parameters.builder }}"));
    }

    #[test]
    fn parse_errors_and_hostile_input() {
        let t = "jobs:\n- job: a\n  container: alpine:3\n- job: [\n";
        let out = extract(t);
        assert_eq!(out.images.len(), 1);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].kind, DiagnosticKind::ParseError);
        for t in [
            "",
            "jobs: 1\n",
            "jobs: [{job: [x], container: [y]}, {job: a, services: [1]}]\n",
            "steps:\n- script: [x]\n- task: Docker@2\n  inputs: {command: run, arguments: [x]}\n- task: 5\n",
            "variables: [1, {name: [x]}]\nparameters: 3\nresources: {containers: 1}\n",
            "container: $(a)\nvariables: {a: $(b), b: $(a)}\n",
            "container: \"${{\"\nservices: {a: \"$(\", b: \"$[\"}\n",
            "steps:\n- bash: \"docker run $(a\"\n- bash: \"docker run ${{ x\"\n",
        ] {
            extract(t);
        }
        // Nested stages and a long script stay bounded.
        let mut t = String::from("stages:\n");
        let mut indent = String::new();
        for _ in 0..60 {
            t.push_str(&format!("{indent}- stage: s\n{indent}  jobs:\n"));
            indent.push_str("    ");
        }
        extract(&t);
        let long = format!(
            "steps:\n- bash: \"{}\"\n",
            "docker run $(a) $(b) && ".repeat(5000)
        );
        extract(&long);
        let aliases = "a: &a [{job: x, container: y:1}]\nb: [*a, *a, *a, *a, *a, *a, *a, *a]\n";
        assert_eq!(extract(aliases).images.len(), 1);
    }

    #[test]
    fn corpus() {
        let n = crate::test_corpus::check_all("azure-pipelines", extract);
        let Some(t) = crate::test_corpus::file(
            "azure-pipelines/bridgecrewio__checkov/tests/azure_pipelines/checks/jobs/example_ContainerLatestTag/azure-pipelines.yml",
        ) else {
            return;
        };
        assert!(n >= 16, "{n}");
        let g: Vec<_> = got(&t).into_iter().map(|g| (g.0, g.3)).collect();
        assert_eq!(
            g,
            [
                ("ubuntu", "FailNoTag".to_string()),
                (
                    "ubuntu@sha256:a0a45bd8c6c4acd6967396366f01f2a68f73406327285edc5b7b07cb1cf073db",
                    "PassDigest".to_string()
                ),
                ("ubuntu:latest", "FailLatestTag".to_string()),
                ("ubuntu:20.04", "PassTag".to_string()),
                ("node:latest", "FailAnotherLatestTag".to_string()),
            ]
        );
        let t = crate::test_corpus::file("azure-pipelines/pypa__cibuildwheel/azure-pipelines.yml")
            .unwrap();
        assert_eq!(
            got(&t),
            vec![row(
                "docker.io/tonistiigi/binfmt:latest",
                CMD,
                "tests / Install binfmt on Linux"
            )]
        );
        // A template's `container: ${{ parameters.container }}` without a default.
        let t = crate::test_corpus::file(
            "azure-pipelines/microsoft__azure-pipelines-agent/.azure-pipelines/build-job.yml",
        )
        .unwrap();
        let g = got(&t);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].0, "${{ parameters.container }}");
        assert!(g[0].1.is_err());
        // 1ES pools name VM images (`image:` under `pool:`), not containers.
        for f in [
            "azure-pipelines/dotnet__dotnet-docker/eng/docker-tools/templates/1es.yml",
            "azure-pipelines/microsoft__azure-pipelines-agent/.azure-pipelines/pipeline.yml",
            "azure-pipelines/microsoft__azure-pipelines-yaml/templates/docker-container-to-aks.yml",
        ] {
            let t = crate::test_corpus::file(f).unwrap();
            assert!(got(&t).is_empty(), "{f}");
        }
    }
}
