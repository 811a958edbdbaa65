//! Terraform (`*.tf`, `*.tf.json`): the container images that resources and modules run; ECS
//! task definition JSON files; Nomad jobspec files (`*.nomad`, `*.nomad.hcl`), read as the inline
//! jobspecs of `nomad_job` are.
//!
//! Read by resource type (the list follows the providers' schemas and Checkov's image
//! referencer):
//! - docker: `docker_image.name` (unless the resource builds it: `build {}`),
//!   `docker_container.image` (a `docker_image.x.image_id` reference is reported at that
//!   `docker_image`), `docker_service` `task_spec.container_spec.image`,
//!   `docker_tag.source_image`, `data.docker_registry_image.name`;
//! - every `container`/`init_container`/`containers` block or list with an `image` in
//!   `kubernetes_*` resources (pods, deployments, jobs, cron jobs, daemon sets, stateful sets,
//!   `_v1` variants, `kubernetes_manifest`), Google Cloud Run (`google_cloud_run_service`,
//!   `_v2_service`, `_v2_job`, `_v2_worker_pool`), Azure container groups and container apps,
//!   AWS Batch `eks_properties`;
//! - `nomad_job.jobspec` written inline: its `config { image = … }` blocks, read with the same
//!   parser at their place in the file;
//! - `aws_ecs_task_definition.container_definitions` as `jsonencode([…])` (with `merge`,
//!   `concat`), as JSON in a string or heredoc, or through a `local`/`var`;
//!   `aws_batch_job_definition` container, node and ECS properties (JSON);
//! - `aws_lambda_function.image_uri`, App Runner `image_identifier`, SageMaker model
//!   containers and `base_image`, Lightsail deployment containers, CodeBuild
//!   `environment.image` (not AWS's curated `aws/codebuild/…` images, which no registry serves),
//!   Image Builder container recipes' `parent_image`, Cloud Build triggers' step `name`;
//! - Azure web and function apps (`docker_image` + `docker_image_tag`, `docker_image_name`,
//!   `docker { image_name image_tag }`, legacy `linux_fx_version = "DOCKER|…"`), Batch pools'
//!   `container_image_names`, Spring Cloud container deployments;
//! - module inputs named `image`, `image_uri`, `container_image` or `docker_image` at any depth
//!   (terraform-aws-modules' ECS `container_definitions = { x = { image = … } }`, Lambda's build
//!   image; a `docker_image` the module builds from `docker_file` is not a reference);
//! - the image operands of `docker`/`podman`/`nerdctl` commands in any string or heredoc
//!   (`user_data`, `local-exec` / `remote-exec` provisioners).
//!
//! `var.x` and `local.x` resolve to a `variable "x" { default = … }` or `locals { x = … }` of
//! the same file when it is defined once; a plain-string definition is the origin a rewrite
//! targets. Anything else (resource attributes, functions, conditionals) is unresolved: it is
//! known only when the configuration is applied. `docker_registry_image.name` names the image
//! a configuration pushes, not one it pulls, and is not read; nor are VM images (`ami`,
//! `image_id`, `boot_disk … image`), which are not container images.

use std::collections::HashMap;

use crate::read::hcl::{self, Body, Expr, ExprKind, Item, Node, TemplatePart};
use crate::read::json;
use crate::read::placeholder::placeholder_reason;
use crate::read::shell::{self, Variables};
use crate::{Extraction, Form, ImageOccurrence, Origin, Source, Span, Unresolved};

/// How many bytes of embedded documents (heredoc JSON, jobspecs) are parsed per file, as a
/// multiple of the file's size: each one is parsed over a copy of the file's prefix.
const EMBED_BUDGET_FACTOR: usize = 8;
/// How deep nested structures are searched for containers (module inputs, manifests).
const MAX_WALK_DEPTH: usize = 64;

/// Finds the image references of a Terraform file (native syntax or `.tf.json`).
pub fn extract(text: &str) -> Extraction {
    let mut out = Extraction::default();
    if looks_like_json(text) {
        let masked = json::mask(text);
        let yaml = json::parse(&masked, &mut out);
        if let Some(root) = yaml.documents().next() {
            let root = hcl::from_json(root, text, true);
            let config = Config::from_json(&root);
            let mut w = Walker::new(text, &config, &mut out);
            w.resources();
            w.scripts_in_expr(&root, "");
        }
    } else {
        let file = hcl::parse(text);
        for e in &file.errors {
            out.parse_error(Span::new(e.offset, e.offset), format!("HCL: {}", e.message));
        }
        let config = Config::from_native(&file.body);
        let mut w = Walker::new(text, &config, &mut out);
        w.resources();
        w.scripts_in_body(&file.body, "");
    }
    out
}

/// Finds the images of a Nomad jobspec file (`*.nomad`, `*.nomad.hcl`): the `config { image = … }`
/// of its tasks, with `var.x` / `local.x` from the file's own `variable` defaults and `locals`.
pub fn extract_nomad(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let file = hcl::parse(text);
    for e in &file.errors {
        out.parse_error(Span::new(e.offset, e.offset), format!("HCL: {}", e.message));
    }
    let config = Config::from_native(&file.body);
    let mut w = Walker::new(text, &config, &mut out);
    w.nomad_images(&file.body, "", Source::NomadImage, 0);
    w.scripts_in_body(&file.body, "");
    out
}

/// Finds the container images of an ECS task definition JSON file: `containerDefinitions[]`
/// of a task definition (or of `taskDefinition` in `describe-task-definition` output), or a
/// top-level list of container definitions.
pub fn extract_ecs_json(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let masked = json::mask(text);
    let yaml = json::parse(&masked, &mut out);
    let Some(root) = yaml.documents().next() else {
        return out;
    };
    // `${X}` in a task definition file is an envsubst or CI placeholder, not a template.
    let root = hcl::from_json(root, text, false);
    let config = Config::default();
    let mut w = Walker::new(text, &config, &mut out);
    let node = Node::Expr(&root);
    let defs = match &root.kind {
        ExprKind::Tuple(_) => spread(node),
        _ => {
            let mut d = node.children("containerDefinitions");
            d.extend(node.find(&["taskDefinition", "containerDefinitions"]));
            d
        }
    };
    for (i, def) in defs.into_iter().enumerate() {
        w.ecs_container(def, "task definition", i);
    }
    out
}

fn looks_like_json(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with(['{', '['])
}

/// What the file defines at its top: resources, data sources, modules, variables and locals.
#[derive(Default)]
struct Config<'h> {
    blocks: Vec<Resource<'h>>,
    /// `variable "x"`: its `default`, or None when it has none.
    vars: HashMap<&'h str, Vec<Option<&'h Expr>>>,
    locals: HashMap<&'h str, Vec<&'h Expr>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Resource,
    Data,
    Module,
}

struct Resource<'h> {
    kind: Kind,
    /// The resource type (empty for a module).
    rtype: &'h str,
    name: &'h str,
    body: Node<'h>,
}

impl<'h> Config<'h> {
    fn from_native(body: &'h Body) -> Self {
        let mut c = Config::default();
        for b in body.blocks() {
            let label = |i: usize| b.labels.get(i).map(|l| l.0.as_str());
            match (b.kind.as_str(), label(0), label(1)) {
                ("resource" | "data", Some(rtype), Some(name)) => c.blocks.push(Resource {
                    kind: if b.kind == "resource" {
                        Kind::Resource
                    } else {
                        Kind::Data
                    },
                    rtype,
                    name,
                    body: Node::Body(&b.body),
                }),
                ("module", Some(name), _) => c.blocks.push(Resource {
                    kind: Kind::Module,
                    rtype: "",
                    name,
                    body: Node::Body(&b.body),
                }),
                ("variable", Some(name), _) => {
                    c.vars
                        .entry(name)
                        .or_default()
                        .push(b.body.attribute("default"));
                }
                ("locals", _, _) => {
                    for a in b.body.attributes() {
                        c.locals.entry(a.name.as_str()).or_default().push(&a.value);
                    }
                }
                _ => {}
            }
        }
        c
    }

    fn from_json(root: &'h Expr) -> Self {
        let mut c = Config::default();
        let top = Node::Expr(root);
        for kind in ["resource", "data"] {
            for types in top.children(kind) {
                for (rtype, names) in types.entries() {
                    for names in spread(names) {
                        for (name, body) in names.entries() {
                            for body in spread(body) {
                                c.blocks.push(Resource {
                                    kind: if kind == "resource" {
                                        Kind::Resource
                                    } else {
                                        Kind::Data
                                    },
                                    rtype,
                                    name,
                                    body,
                                });
                            }
                        }
                    }
                }
            }
        }
        for modules in top.children("module") {
            for (name, body) in modules.entries() {
                for body in spread(body) {
                    c.blocks.push(Resource {
                        kind: Kind::Module,
                        rtype: "",
                        name,
                        body,
                    });
                }
            }
        }
        for vars in top.children("variable") {
            for (name, v) in vars.entries() {
                for v in spread(v) {
                    c.vars.entry(name).or_default().push(v.attr("default"));
                }
            }
        }
        for locals in top.children("locals") {
            for (name, v) in locals.entries() {
                if let Some(e) = v.expr() {
                    c.locals.entry(name).or_default().push(e);
                }
            }
        }
        c
    }

    /// What `var.x` or `local.x` stands for.
    fn lookup(&self, path: &[String]) -> Option<Result<(&'h Expr, String), Unresolved>> {
        let [root, name] = path else {
            return None;
        };
        let full = format!("{root}.{name}");
        match root.as_str() {
            "var" => Some(match self.vars.get(name.as_str()).map(Vec::as_slice) {
                None => Err(Unresolved::new(format!(
                    "{full} is declared in another file or set when the configuration is applied"
                ))),
                Some([Some(def)]) => Ok((*def, full)),
                Some([None]) => Err(Unresolved::new(format!(
                    "{full} has no default: its value is set when the configuration is applied"
                ))),
                Some(defs) => Err(Unresolved::new(format!(
                    "{full} is declared {} times",
                    defs.len()
                ))),
            }),
            "local" => Some(match self.locals.get(name.as_str()).map(Vec::as_slice) {
                None => Err(Unresolved::new(format!(
                    "{full} is defined in another file of the module"
                ))),
                Some([def]) => Ok((*def, full)),
                Some(defs) => Err(Unresolved::new(format!(
                    "{full} is defined {} times",
                    defs.len()
                ))),
            }),
            _ => None,
        }
    }
}

/// A JSON value that may be a list of objects (Terraform JSON allows both at each level).
fn spread(n: Node<'_>) -> Vec<Node<'_>> {
    match n.expr().map(|e| &e.kind) {
        Some(ExprKind::Tuple(items)) => items.iter().map(Node::Expr).collect(),
        _ => vec![n],
    }
}

/// Keys of container blocks or lists (provider block names and Kubernetes manifest fields).
const CONTAINER_KEYS: &[&str] = &[
    "container",
    "init_container",
    "ephemeral_container",
    "containers",
    "init_containers",
    "initContainers",
    "ephemeralContainers",
];

/// Module inputs that hold an image.
const MODULE_IMAGE_KEYS: &[&str] = &["image", "image_uri", "container_image", "docker_image"];

struct Walker<'t, 'c, 'h> {
    text: &'t str,
    config: &'c Config<'h>,
    out: &'c mut Extraction,
    /// Bytes left for parsing embedded documents.
    embed_budget: usize,
}

impl<'t, 'c, 'h> Walker<'t, 'c, 'h> {
    fn new(text: &'t str, config: &'c Config<'h>, out: &'c mut Extraction) -> Self {
        Self {
            text,
            config,
            out,
            embed_budget: text.len().saturating_mul(EMBED_BUDGET_FACTOR).max(1 << 20),
        }
    }

    fn lookup(&self) -> impl Fn(&[String]) -> Option<Result<(&'h Expr, String), Unresolved>> + '_ {
        |path| self.config.lookup(path)
    }

    fn resources(&mut self) {
        let config = self.config;
        for r in &config.blocks {
            self.resource(r);
        }
    }

    fn resource(&mut self, r: &Resource<'h>) {
        let ctx = match r.kind {
            Kind::Resource => format!("{}.{}", r.rtype, r.name),
            Kind::Data => format!("data.{}.{}", r.rtype, r.name),
            Kind::Module => format!("module.{}", r.name),
        };
        let body = r.body;
        let img = Source::TerraformImage;
        match (r.kind, r.rtype) {
            (Kind::Module, _) => self.module(body, &ctx, 0),
            (Kind::Data, "docker_registry_image") => self.at(body, &["name"], img, &ctx),
            (Kind::Data, _) => {}
            // A `build {}` block makes the name the tag of what it builds.
            (_, "docker_image") if !body.has("build") => self.at(body, &["name"], img, &ctx),
            (_, "docker_container") => self.at(body, &["image"], img, &ctx),
            (_, "docker_service") => {
                self.at(body, &["task_spec", "container_spec", "image"], img, &ctx);
            }
            (_, "docker_tag") => self.at(body, &["source_image"], img, &ctx),
            (_, t) if t.starts_with("kubernetes_") || t.starts_with("google_cloud_run") => {
                self.containers(body, &ctx, 0);
            }
            (
                _,
                "azurerm_container_group" | "azurerm_container_app" | "azurerm_container_app_job",
            ) => self.containers(body, &ctx, 0),
            (_, "google_cloudbuild_trigger") => {
                self.at(body, &["build", "step", "name"], img, &ctx)
            }
            (_, "nomad_job") => {
                for js in body.children("jobspec") {
                    if let Some(e) = js.expr() {
                        self.jobspec(e, &ctx);
                    }
                }
            }
            (_, "aws_ecs_task_definition") => {
                for defs in body.children("container_definitions") {
                    if let Some(e) = defs.expr() {
                        self.ecs_definitions(e, &ctx, 0);
                    }
                }
            }
            (_, "aws_batch_job_definition") => {
                for key in ["container_properties", "node_properties", "ecs_properties"] {
                    for p in body.children(key) {
                        if let Some(e) = p.expr() {
                            self.json_property(e, &ctx, 0);
                        }
                    }
                }
                for p in body.children("eks_properties") {
                    self.containers(p, &ctx, 0);
                }
            }
            (_, "aws_lambda_function") => self.at(body, &["image_uri"], img, &ctx),
            (_, "aws_apprunner_service") => self.at(
                body,
                &[
                    "source_configuration",
                    "image_repository",
                    "image_identifier",
                ],
                img,
                &ctx,
            ),
            (_, "aws_sagemaker_model") => {
                self.at(body, &["primary_container", "image"], img, &ctx);
                self.at(body, &["container", "image"], img, &ctx);
            }
            (_, "aws_sagemaker_image_version") => self.at(body, &["base_image"], img, &ctx),
            (_, "aws_lightsail_container_service_deployment_version") => {
                self.containers(body, &ctx, 0);
            }
            (_, "aws_codebuild_project") => self.at(body, &["environment", "image"], img, &ctx),
            (_, "aws_imagebuilder_container_recipe") => {
                self.at(body, &["parent_image"], img, &ctx);
            }
            (
                _,
                "azurerm_linux_web_app"
                | "azurerm_linux_web_app_slot"
                | "azurerm_windows_web_app"
                | "azurerm_windows_web_app_slot",
            ) => {
                for stack in body.find(&["site_config", "application_stack"]) {
                    self.azure_stack(stack, &ctx);
                }
            }
            (_, "azurerm_linux_function_app" | "azurerm_linux_function_app_slot") => {
                for docker in body.find(&["site_config", "application_stack", "docker"]) {
                    self.azure_function_docker(docker, &ctx);
                }
            }
            (
                _,
                "azurerm_app_service"
                | "azurerm_app_service_slot"
                | "azurerm_function_app"
                | "azurerm_function_app_slot",
            ) => {
                for key in ["linux_fx_version", "windows_fx_version"] {
                    for v in body.find(&["site_config", key]) {
                        if let Some(e) = v.expr() {
                            self.fx_version(e, &ctx);
                        }
                    }
                }
            }
            (_, "azurerm_batch_pool") => self.at(
                body,
                &["container_configuration", "container_image_names"],
                img,
                &ctx,
            ),
            (_, "azurerm_spring_cloud_container_deployment") => self.spring_cloud(body, &ctx),
            _ => {}
        }
    }

    /// Reports every expression at `path`.
    fn at(&mut self, node: Node<'_>, path: &[&str], source: Source, ctx: &str) {
        for n in node.find(path) {
            if let Some(e) = n.expr() {
                self.site(e, source, ctx.to_string());
            }
        }
    }

    /// Container blocks (or lists of container objects) anywhere below `node`.
    fn containers(&mut self, node: Node<'_>, ctx: &str, depth: usize) {
        if depth > MAX_WALK_DEPTH {
            return;
        }
        for (key, child) in node.entries() {
            if CONTAINER_KEYS.contains(&key) {
                for c in spread(child) {
                    if c.has("image") {
                        let name = c.literal("name").or_else(|| c.literal("container_name"));
                        let context = match name {
                            Some(n) => format!("{ctx} {key} {n}"),
                            None => format!("{ctx} {key}"),
                        };
                        self.at(c, &["image"], Source::TerraformImage, &context);
                    } else {
                        self.containers(c, ctx, depth + 1);
                    }
                }
            } else {
                for c in spread(child) {
                    if c.expr()
                        .is_none_or(|e| matches!(e.kind, ExprKind::Object(_)))
                    {
                        self.containers(c, ctx, depth + 1);
                    } else if let Some(ExprKind::Call { args, .. }) = c.expr().map(|e| &e.kind) {
                        // `kubernetes_manifest { manifest = yamldecode(…) }` is not readable;
                        // `merge({…}, {…})` is.
                        for a in args {
                            self.containers(Node::Expr(a), ctx, depth + 1);
                        }
                    }
                }
            }
        }
    }

    /// Module inputs that name an image, at any depth.
    fn module(&mut self, node: Node<'_>, ctx: &str, depth: usize) {
        if depth > MAX_WALK_DEPTH {
            return;
        }
        let entries = node.entries();
        // The Lambda module builds `docker_image` itself when it is given a `docker_file`.
        let builds = entries.iter().any(|(k, _)| *k == "docker_file");
        for (key, child) in entries {
            if matches!(key, "source" | "version" | "providers" | "depends_on") {
                continue;
            }
            let path = if depth == 0 {
                format!("{ctx} {key}")
            } else {
                format!("{ctx}.{key}")
            };
            let Some(e) = child.expr() else {
                self.module(child, &path, depth + 1);
                continue;
            };
            match &e.kind {
                ExprKind::Object(_) => self.module(child, &path, depth + 1),
                ExprKind::Tuple(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.module(Node::Expr(item), &format!("{path}[{i}]"), depth + 1);
                    }
                }
                _ if MODULE_IMAGE_KEYS.contains(&key) && !(key == "docker_image" && builds) => {
                    self.site(e, Source::TerraformImage, ctx.to_string());
                }
                _ => {}
            }
        }
    }

    /// Reports the image an expression names.
    fn site(&mut self, e: &Expr, source: Source, context: String) {
        if let Some(occ) = self.occurrence(e, source, context) {
            self.out.push_image(occ);
        }
    }

    fn occurrence(&self, e: &Expr, source: Source, context: String) -> Option<ImageOccurrence> {
        let text = self.text;
        let lookup = self.lookup();
        let (span, image, form, exact) = match &e.kind {
            ExprKind::Template(t) => {
                if let (Some(value), Some(span)) = (t.literal(), t.exact_span()) {
                    (span, literal_image(&value)?, Form::Literal, true)
                } else if let Some(value) = t.literal() {
                    (t.content, literal_image(&value)?, Form::Literal, false)
                } else {
                    let (image, form) = expanded(hcl::evaluate(e, text, &lookup));
                    (t.content, image, form, false)
                }
            }
            ExprKind::Traversal(path) => {
                // The image of another resource is reported where that resource names it.
                if matches!(
                    path.first().map(String::as_str),
                    Some("docker_image" | "docker_registry_image")
                ) || path
                    .get(..2)
                    .is_some_and(|p| p[0] == "data" && p[1] == "docker_registry_image")
                {
                    return None;
                }
                let (image, form) = expanded(hcl::evaluate(e, text, &lookup));
                (e.span, image, form, false)
            }
            ExprKind::Call { .. } | ExprKind::Other => (
                e.span,
                Err(Unresolved::new(format!(
                    "expression {:?} is evaluated when the configuration is applied",
                    hcl::first_line(e.span.of(text))
                ))),
                Form::Expanded {
                    origins: Vec::new(),
                },
                false,
            ),
            _ => return None,
        };
        let image = image.and_then(|i| checked(&i).map(|()| i));
        Some(ImageOccurrence {
            span,
            text: span.of(text).to_string(),
            image,
            source,
            form,
            alias_sites: Vec::new(),
            context: Some(context),
            exact,
        })
    }

    /// `container_definitions`: `jsonencode([...])`, a JSON string or heredoc, or a name.
    fn ecs_definitions(&mut self, e: &Expr, ctx: &str, depth: usize) {
        if depth > 4 {
            return;
        }
        match &e.kind {
            ExprKind::Call { name, args } if name == "jsonencode" => {
                for a in args {
                    self.ecs_list(a, ctx, depth);
                }
            }
            ExprKind::Template(_) => {
                if let Some(parsed) = self.embedded_json(e) {
                    self.ecs_list(&parsed, ctx, depth);
                }
            }
            ExprKind::Traversal(path) => match self.config.lookup(path) {
                Some(Ok((def, _))) => self.ecs_definitions(def, ctx, depth + 1),
                _ => self.out.note(
                    e.span,
                    format!(
                        "container definitions of {ctx} come from {:?}, which is not defined in this file",
                        hcl::first_line(e.span.of(self.text))
                    ),
                ),
            },
            ExprKind::Call { name, .. } if name == "file" || name == "templatefile" => {
                self.out.note(
                    e.span,
                    format!(
                        "container definitions of {ctx} are read from a file: it is scanned on its \
                         own when named like a task definition (task-definition*.json)"
                    ),
                );
            }
            _ => self.ecs_list(e, ctx, depth),
        }
    }

    /// A list of container definitions (or one), through `merge`/`concat` and names.
    fn ecs_list(&mut self, e: &Expr, ctx: &str, depth: usize) {
        if depth > 8 {
            return;
        }
        match &e.kind {
            ExprKind::Tuple(items) => {
                for (i, item) in items.iter().enumerate() {
                    match &item.kind {
                        ExprKind::Object(_) => self.ecs_container(Node::Expr(item), ctx, i),
                        _ => self.ecs_list(item, ctx, depth + 1),
                    }
                }
            }
            ExprKind::Object(_) => self.ecs_container(Node::Expr(e), ctx, 0),
            ExprKind::Call { args, .. } => {
                for a in args {
                    self.ecs_list(a, ctx, depth + 1);
                }
            }
            ExprKind::Traversal(path) => {
                if let Some(Ok((def, _))) = self.config.lookup(path) {
                    self.ecs_list(def, ctx, depth + 1);
                }
            }
            _ => {}
        }
    }

    fn ecs_container(&mut self, c: Node<'_>, ctx: &str, index: usize) {
        let context = match c.literal("name") {
            Some(n) => format!("{ctx} container {n}"),
            None => format!("{ctx} container [{index}]"),
        };
        self.at(c, &["image"], Source::EcsContainerImage, &context);
    }

    /// A JSON property (Batch): every `image` in it.
    fn json_property(&mut self, e: &Expr, ctx: &str, depth: usize) {
        match &e.kind {
            ExprKind::Call { name, args } if name == "jsonencode" => {
                for a in args {
                    self.images_anywhere(Node::Expr(a), ctx, 0);
                }
            }
            ExprKind::Template(_) => {
                if let Some(parsed) = self.embedded_json(e) {
                    self.images_anywhere(Node::Expr(&parsed), ctx, 0);
                }
            }
            ExprKind::Traversal(path) if depth < 4 => {
                if let Some(Ok((def, _))) = self.config.lookup(path) {
                    self.json_property(def, ctx, depth + 1);
                }
            }
            _ => {}
        }
    }

    fn images_anywhere(&mut self, node: Node<'_>, ctx: &str, depth: usize) {
        if depth > MAX_WALK_DEPTH {
            return;
        }
        for (key, child) in node.entries() {
            for c in spread(child) {
                match c.expr().map(|e| &e.kind) {
                    Some(ExprKind::Object(_)) => self.images_anywhere(c, ctx, depth + 1),
                    Some(_) if key == "image" => {
                        if let Some(e) = c.expr() {
                            self.site(e, Source::TerraformImage, ctx.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Parses JSON written in a string or heredoc at its place in the file. Interpolations
    /// outside JSON strings (`"cpu": ${var.cpu}`) are read as numbers.
    fn embedded_json(&mut self, e: &Expr) -> Option<Expr> {
        let t = e.as_template()?;
        if !(t.heredoc || t.raw_is_value()) || t.content.is_empty() {
            return None;
        }
        if t.content.end > self.embed_budget {
            self.out
                .note(e.span, "embedded JSON not read: the file holds too many");
            return None;
        }
        self.embed_budget -= t.content.end;
        let mut isolated = hcl::isolate(self.text, t.content).into_bytes();
        mask_bare_interpolations(&mut isolated, t);
        let isolated = String::from_utf8(isolated).ok()?;
        let masked = json::mask(&isolated);
        let yaml = crate::read::yaml::Yaml::parse(&masked);
        if let Some(err) = &yaml.error {
            self.out.note(
                Span::new(err.offset, err.offset),
                format!("embedded JSON not fully read: {}", err.message),
            );
        }
        let root = yaml.documents().next()?;
        Some(hcl::from_json(root, self.text, true))
    }

    /// A Nomad jobspec written inline: `config { image = … }` of its tasks.
    fn jobspec(&mut self, e: &Expr, ctx: &str) {
        let Some(t) = e.as_template() else {
            if let ExprKind::Call { name, .. } = &e.kind
                && (name == "file" || name == "templatefile")
            {
                self.out.note(
                    e.span,
                    format!("the jobspec of {ctx} is read from a file, which is not scanned here"),
                );
            }
            return;
        };
        // A heredoc's bytes are the jobspec (its `$${` escapes read the same to the parser).
        if !t.heredoc && !t.raw_is_value() {
            return;
        }
        let file = hcl::parse_range(self.text, t.content.start, t.content.end);
        for err in &file.errors {
            self.out.note(
                Span::new(err.offset, err.offset),
                format!("jobspec of {ctx}: {}", err.message),
            );
        }
        self.nomad_configs(&file.body, ctx, 0);
    }

    fn nomad_configs(&mut self, body: &Body, ctx: &str, depth: usize) {
        self.nomad_images(body, ctx, Source::TerraformImage, depth);
    }

    /// The `config { image = … }` blocks of a jobspec's tasks (at any depth: `job`, `group`,
    /// `task`, dynamic blocks).
    fn nomad_images(&mut self, body: &Body, ctx: &str, source: Source, depth: usize) {
        if depth > MAX_WALK_DEPTH {
            return;
        }
        for b in body.blocks() {
            let ctx = match (b.kind.as_str(), b.labels.first()) {
                ("task" | "group" | "job", Some((label, _))) => {
                    format!("{ctx} {} {label}", b.kind).trim_start().to_string()
                }
                _ => ctx.to_string(),
            };
            if b.kind == "config"
                && let Some(image) = b.body.attribute("image")
            {
                self.site(image, source, ctx.clone());
            }
            self.nomad_images(&b.body, &ctx, source, depth + 1);
        }
    }

    /// Azure web app `application_stack`: `docker_image` + `docker_image_tag` (or the Windows
    /// `docker_container_name` + `docker_container_tag`), or `docker_image_name`.
    fn azure_stack(&mut self, stack: Node<'_>, ctx: &str) {
        for (name_key, tag_key) in [
            ("docker_image", "docker_image_tag"),
            ("docker_container_name", "docker_container_tag"),
        ] {
            if let Some(name) = stack.attr(name_key) {
                self.composed(None, name, stack.attr(tag_key), ctx);
            }
        }
        if let Some(name) = stack.attr("docker_image_name") {
            self.composed(stack.attr("docker_registry_url"), name, None, ctx);
        }
    }

    /// Azure function app `application_stack.docker`: `registry_url`, `image_name`, `image_tag`.
    fn azure_function_docker(&mut self, docker: Node<'_>, ctx: &str) {
        if let Some(name) = docker.attr("image_name") {
            self.composed(
                docker.attr("registry_url"),
                name,
                docker.attr("image_tag"),
                ctx,
            );
        }
    }

    /// `azurerm_spring_cloud_container_deployment`: `server` + `image`.
    fn spring_cloud(&mut self, body: Node<'_>, ctx: &str) {
        if let Some(image) = body.attr("image") {
            self.composed(body.attr("server"), image, None, ctx);
        }
    }

    /// An image given as registry, name and tag fields: reported at the name, exact when it is
    /// written alone and whole.
    fn composed(&mut self, registry: Option<&Expr>, name: &Expr, tag: Option<&Expr>, ctx: &str) {
        let Some(mut occ) = self.occurrence(name, Source::TerraformImage, ctx.to_string()) else {
            return;
        };
        let field = |e: Option<&Expr>| -> Option<(String, Option<Span>)> {
            let e = e?;
            let t = e.as_template()?;
            Some((t.literal()?, t.exact_span()))
        };
        let registry = field(registry).map(|(v, s)| (registry_host(&v), s));
        let registry = registry.filter(|(host, _)| {
            !matches!(
                host.as_str(),
                "" | "docker.io" | "index.docker.io" | "registry-1.docker.io"
            )
        });
        let tag = field(tag).filter(|(v, _)| !v.is_empty());
        if registry.is_none() && tag.is_none() {
            self.out.push_image(occ);
            return;
        }
        if let Ok(name_value) = &occ.image {
            let mut image = String::new();
            let mut parts = Vec::new();
            if let Some((host, span)) = &registry {
                image.push_str(host);
                image.push('/');
                parts.push(crate::Part {
                    role: crate::PartRole::Registry,
                    span: *span,
                    value: host.clone(),
                });
            }
            image.push_str(name_value);
            parts.push(crate::Part {
                role: crate::PartRole::Repository,
                span: occ.exact.then_some(occ.span),
                value: name_value.clone(),
            });
            if let Some((t, span)) = &tag {
                image.push(':');
                image.push_str(t);
                parts.push(crate::Part {
                    role: crate::PartRole::Tag,
                    span: *span,
                    value: t.clone(),
                });
            }
            occ.image = Ok(image);
            occ.form = Form::Composed { parts };
            // The name alone is not the reference: the fields are joined.
            occ.exact = false;
        }
        self.out.push_image(occ);
    }

    /// `linux_fx_version = "DOCKER|nginx:1.27"`: the image after `DOCKER|`.
    fn fx_version(&mut self, e: &Expr, ctx: &str) {
        let Some(t) = e.as_template() else { return };
        let (Some(value), Some(span)) = (t.literal(), t.exact_span()) else {
            return;
        };
        let Some(image) = value.strip_prefix("DOCKER|") else {
            return;
        };
        let start = span.start + "DOCKER|".len();
        let span = Span::new(start, span.end);
        let Some(Ok(image)) = literal_image(image) else {
            return;
        };
        self.out.push_image(ImageOccurrence {
            span,
            text: span.of(self.text).to_string(),
            image: Ok(image),
            source: Source::TerraformImage,
            form: Form::Literal,
            alias_sites: Vec::new(),
            context: Some(ctx.to_string()),
            exact: true,
        });
    }

    fn scripts_in_body(&mut self, body: &Body, ctx: &str) {
        for item in &body.items {
            match item {
                Item::Attribute(a) => {
                    let ctx = join(ctx, &a.name);
                    self.scripts_in_expr(&a.value, &ctx);
                }
                Item::Block(b) => {
                    let mut ctx = ctx.to_string();
                    if ctx.is_empty() && !b.labels.is_empty() {
                        let labels: Vec<&str> = b.labels.iter().map(|l| l.0.as_str()).collect();
                        ctx = match b.kind.as_str() {
                            "resource" => labels.join("."),
                            kind => format!("{kind}.{}", labels.join(".")),
                        };
                    } else {
                        ctx = join(&ctx, &b.kind);
                    }
                    self.scripts_in_body(&b.body, &ctx);
                }
            }
        }
    }

    /// The container commands in every string and heredoc of an expression.
    fn scripts_in_expr(&mut self, e: &Expr, ctx: &str) {
        let mut stack = vec![e];
        while let Some(e) = stack.pop() {
            match &e.kind {
                ExprKind::Template(t) => self.script(t, ctx),
                ExprKind::Object(items) => stack.extend(items.iter().rev().map(|i| &i.value)),
                ExprKind::Tuple(items) => stack.extend(items.iter().rev()),
                ExprKind::Call { args, .. } => stack.extend(args.iter().rev()),
                _ => {}
            }
        }
    }

    fn script(&mut self, t: &hcl::Template, ctx: &str) {
        let raw = t.content.of(self.text);
        if !shell::may_name_images(raw) {
            return;
        }
        let config = self.config;
        let lookup = |p: &[String]| config.lookup(p);
        let base = t.content.start;
        let to_file = |s: Span| Some(Span::new(s.start + base, s.end + base));
        let vars = Variables::new(raw, &|_| None, &to_file);
        let context = if ctx.is_empty() { "script" } else { ctx };
        let mut found = Vec::new();
        for mut f in shell::script_images(raw, &vars, &[]) {
            f.span = Span::new(f.span.start + base, f.span.end + base);
            // A word that is one Terraform interpolation (`${var.image}`): Terraform fills it in
            // before the shell runs.
            let interpolation = hcl::template_in(self.text, f.span)
                .filter(|tpl| matches!(tpl.parts.as_slice(), [TemplatePart::Interpolation { .. }]));
            let mut occ = if let (Err(_), Some(tpl)) = (&f.image, interpolation)
                && let [TemplatePart::Interpolation { expr, .. }] = tpl.parts.as_slice()
            {
                let (image, form) = expanded(hcl::evaluate(expr, self.text, &lookup));
                let mut occ = f.occurrence(self.text, Source::ScriptCommand, Some(context));
                (occ.image, occ.form) = (image, form);
                occ
            } else {
                f.occurrence(self.text, Source::ScriptCommand, Some(context))
            };
            occ.alias_sites.clear();
            found.push(occ);
        }
        for occ in found {
            self.out.push_image(occ);
        }
    }
}

fn join(ctx: &str, key: &str) -> String {
    if ctx.is_empty() {
        key.to_string()
    } else {
        format!("{ctx} {key}")
    }
}

/// `https://mcr.microsoft.com/` → `mcr.microsoft.com`.
fn registry_host(url: &str) -> String {
    let s = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    s.trim_end_matches('/').to_string()
}

/// The result of evaluating an expression, as an occurrence's image and form.
fn expanded(r: Result<(String, Vec<Origin>), Unresolved>) -> (Result<String, Unresolved>, Form) {
    match r {
        Ok((value, origins)) => (Ok(value), Form::Expanded { origins }),
        Err(u) => (
            Err(u),
            Form::Expanded {
                origins: Vec::new(),
            },
        ),
    }
}

/// A literal written as an image: None when it is empty (nothing is named).
fn literal_image(value: &str) -> Option<Result<String, Unresolved>> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    Some(checked(v).map(|()| v.to_string()))
}

/// Why a value cannot be pulled as written, if it cannot.
fn checked(v: &str) -> Result<(), Unresolved> {
    if let Some(reason) = placeholder_reason(v) {
        return Err(Unresolved::new(reason));
    }
    if v.starts_with("aws/codebuild/") {
        return Err(Unresolved::new(
            "a CodeBuild curated image: AWS manages it and no registry serves it by this name",
        ));
    }
    if v.starts_with(':') {
        return Err(Unresolved::new(
            "an image stored in the Lightsail container service",
        ));
    }
    if v.chars().any(char::is_whitespace) {
        return Err(Unresolved::new(format!("{v:?} is not an image reference")));
    }
    Ok(())
}

/// Replaces `${…}` written outside JSON strings by `0` and spaces (line breaks kept), so the
/// JSON parses; interpolations inside strings stay as they are.
fn mask_bare_interpolations(bytes: &mut [u8], t: &hcl::Template) {
    let mut in_string = false;
    let mut i = t.content.start;
    for part in &t.parts {
        let span = match part {
            TemplatePart::Interpolation { span, .. } | TemplatePart::Directive(span) => *span,
            TemplatePart::Literal { .. } => continue,
        };
        while i < span.start && i < bytes.len() {
            match bytes[i] {
                b'\\' if in_string => i += 1,
                b'"' => in_string = !in_string,
                _ => {}
            }
            i += 1;
        }
        if !in_string && span.end <= bytes.len() {
            let directive = matches!(part, TemplatePart::Directive(_));
            for (k, b) in bytes[span.start..span.end].iter_mut().enumerate() {
                if *b != b'\n' && *b != b'\r' {
                    *b = if k == 0 && !directive { b'0' } else { b' ' };
                }
            }
        }
        i = span.end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus;

    fn images(t: &str) -> Vec<(String, Result<String, String>, Source, bool)> {
        let out = crate::extract(crate::FileKind::Terraform, t);
        out.images
            .iter()
            .map(|o| {
                assert_eq!(o.text, o.span.of(t));
                (
                    o.text.clone(),
                    o.image.clone().map_err(|u| u.reason),
                    o.source,
                    o.exact,
                )
            })
            .collect()
    }

    fn ok(t: &str) -> Vec<(String, String)> {
        images(t)
            .into_iter()
            .map(|(text, image, _, _)| (text, image.unwrap_or_else(|e| format!("ERR {e}"))))
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    const DOCKER: &str = r#"
resource "docker_image" "nginx" {
  name         = "nginx:1.27"
  keep_locally = false
}

resource "docker_image" "app" {
  name = "registry.example.com/app:dev"
  build {
    context = "."
  }
}

resource "docker_container" "web" {
  image = docker_image.nginx.image_id
  name  = "web"
}

resource "docker_container" "cache" {
  image = "redis:7-alpine"
  name  = "cache"
}

resource "docker_service" "svc" {
  name = "svc"
  task_spec {
    container_spec {
      image = "traefik:v3.1"
    }
  }
}

resource "docker_registry_image" "push" {
  name = "registry.example.com/app:dev"
}

data "docker_registry_image" "ubuntu" {
  name = "ubuntu:24.04"
}
"#;

    #[test]
    fn docker_provider() {
        let out = extract(DOCKER);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(
            ok(DOCKER),
            pairs(&[
                ("nginx:1.27", "nginx:1.27"),
                ("redis:7-alpine", "redis:7-alpine"),
                ("traefik:v3.1", "traefik:v3.1"),
                ("ubuntu:24.04", "ubuntu:24.04"),
            ])
        );
        let o = &crate::extract(crate::FileKind::Terraform, DOCKER).images[0];
        assert!(o.exact);
        assert_eq!(o.source, Source::TerraformImage);
        assert_eq!(o.form, Form::Literal);
        assert_eq!(o.context.as_deref(), Some("docker_image.nginx"));
    }

    const VARS: &str = r#"
variable "image" {
  type    = string
  default = "ghcr.io/acme/api:2.4.1"
}

variable "repo" {
  default = "nginx"
}

variable "tag" {
  default = "1.27"
}

variable "no_default" {
  type = string
}

locals {
  sidecar = "envoyproxy/envoy:v1.31.0"
  full    = "${var.repo}:${var.tag}"
}

resource "kubernetes_deployment_v1" "api" {
  metadata {
    name = "api"
  }
  spec {
    template {
      metadata {
        labels = { app = "api" }
      }
      spec {
        init_container {
          name  = "migrate"
          image = var.image
        }
        container {
          name  = "api"
          image = "${var.image}"
        }
        container {
          name  = "envoy"
          image = local.sidecar
        }
        container {
          name  = "web"
          image = "${var.repo}:${var.tag}"
        }
        container {
          name  = "web2"
          image = local.full
        }
        container {
          name  = "x"
          image = var.no_default
        }
        container {
          name  = "y"
          image = "${var.elsewhere}:1"
        }
        container {
          name  = "z"
          image = var.flag ? "a:1" : "b:2"
        }
      }
    }
  }
}
"#;

    #[test]
    fn variables_and_locals() {
        let out = crate::extract(crate::FileKind::Terraform, VARS);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| {
                let origins = match &o.form {
                    Form::Expanded { origins } => origins
                        .iter()
                        .map(|or| or.span.of(VARS).to_string())
                        .collect(),
                    _ => vec![],
                };
                (
                    o.text.as_str(),
                    o.image.clone().map_err(|u| u.reason),
                    origins,
                    o.context.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(got[0].0, "var.image");
        assert_eq!(got[0].1.as_deref(), Ok("ghcr.io/acme/api:2.4.1"));
        assert_eq!(got[0].2, vec!["ghcr.io/acme/api:2.4.1"]);
        assert_eq!(
            got[0].3,
            "kubernetes_deployment_v1.api init_container migrate"
        );
        assert_eq!(got[1].0, "${var.image}");
        assert_eq!(got[1].2, vec!["ghcr.io/acme/api:2.4.1"]);
        assert_eq!(got[2].1.as_deref(), Ok("envoyproxy/envoy:v1.31.0"));
        assert_eq!(got[3].1.as_deref(), Ok("nginx:1.27"));
        assert_eq!(got[3].2, vec!["nginx", "1.27"]);
        assert_eq!(got[4].1.as_deref(), Ok("nginx:1.27"));
        assert!(
            got[5]
                .1
                .as_ref()
                .unwrap_err()
                .contains("var.no_default has no default")
        );
        assert!(got[6].1.as_ref().unwrap_err().contains("var.elsewhere"));
        assert!(got[7].1.as_ref().unwrap_err().contains("evaluated when"));
        assert_eq!(got.len(), 8);
        assert!(out.images.iter().all(|o| !o.exact));
    }

    #[test]
    fn kubernetes_list_syntax_and_manifest() {
        let t = r#"
resource "kubernetes_pod" "p" {
  spec {
    container = [
      { image = "nginx", name = "a" },
      { image = "nginx:1.7.9", name = "b" },
    ]
  }
}
resource "kubernetes_manifest" "m" {
  manifest = {
    apiVersion = "apps/v1"
    kind       = "Deployment"
    spec = {
      template = {
        spec = {
          initContainers = [{ name = "i", image = "busybox:1.36" }]
          containers     = [{ name = "c", image = "quay.io/org/app:1" }]
        }
      }
    }
  }
}
"#;
        assert_eq!(
            ok(t),
            pairs(&[
                ("nginx", "nginx"),
                ("nginx:1.7.9", "nginx:1.7.9"),
                ("busybox:1.36", "busybox:1.36"),
                ("quay.io/org/app:1", "quay.io/org/app:1"),
            ])
        );
    }

    const ECS: &str = r#"
locals {
  defs = jsonencode([{ name = "side", image = "amazon/aws-xray-daemon:3.3" }])
}

resource "aws_ecs_task_definition" "hcl" {
  family = "svc"
  container_definitions = jsonencode([
    {
      name      = "app"
      image     = "public.ecr.aws/nginx/nginx:1.27"
      essential = true
    },
    merge(local.common, {
      name  = "log"
      image = "fluent/fluent-bit:3.0"
    }),
  ])
}

resource "aws_ecs_task_definition" "heredoc" {
  family                = "svc"
  container_definitions = <<-EOF
    [
      {
        "name": "web",
        "image": "httpd:2.4",
        "cpu": ${var.cpu},
        "environment": [{"name": "X", "value": "${var.x}"}]
      },
      { "name": "tpl", "image": "${var.image}" }
    ]
  EOF
}

resource "aws_ecs_task_definition" "string" {
  family                = "svc"
  container_definitions = "[{\"name\": \"s\", \"image\": \"alpine:3.20\"}]"
}

resource "aws_ecs_task_definition" "via_local" {
  family                = "svc"
  container_definitions = local.defs
}

resource "aws_ecs_task_definition" "file" {
  family                = "svc"
  container_definitions = file("task-definition.json")
}

variable "image" {
  default = "ghcr.io/acme/worker:5"
}
"#;

    #[test]
    fn ecs_container_definitions() {
        let out = crate::extract(crate::FileKind::Terraform, ECS);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| {
                assert_eq!(o.text, o.span.of(ECS));
                assert_eq!(o.source, Source::EcsContainerImage);
                (
                    o.text.as_str(),
                    o.image.clone().unwrap_or_default(),
                    o.exact,
                    o.context.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "amazon/aws-xray-daemon:3.3",
                    "amazon/aws-xray-daemon:3.3".to_string(),
                    true,
                    "aws_ecs_task_definition.via_local container side".to_string()
                ),
                (
                    "public.ecr.aws/nginx/nginx:1.27",
                    "public.ecr.aws/nginx/nginx:1.27".to_string(),
                    true,
                    "aws_ecs_task_definition.hcl container app".to_string()
                ),
                (
                    "fluent/fluent-bit:3.0",
                    "fluent/fluent-bit:3.0".to_string(),
                    true,
                    "aws_ecs_task_definition.hcl container log".to_string()
                ),
                (
                    "httpd:2.4",
                    "httpd:2.4".to_string(),
                    true,
                    "aws_ecs_task_definition.heredoc container web".to_string()
                ),
                (
                    "${var.image}",
                    "ghcr.io/acme/worker:5".to_string(),
                    false,
                    "aws_ecs_task_definition.heredoc container tpl".to_string()
                ),
            ]
        );
        // A JSON string inside an HCL string needs escapes; a file is scanned on its own.
        assert_eq!(out.diagnostics.len(), 1, "{:?}", out.diagnostics);
        assert!(out.diagnostics[0].message.contains("read from a file"));
    }

    #[test]
    fn cloud_services() {
        let t = r#"
resource "aws_lambda_function" "f" {
  function_name = "f"
  package_type  = "Image"
  image_uri     = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fn:1.0"
}
resource "azurerm_container_app" "a" {
  template {
    container {
      name  = "app"
      image = "mcr.microsoft.com/k8se/quickstart:latest"
    }
  }
}
resource "azurerm_container_group" "g" {
  container {
    name  = "hello"
    image = "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
  }
  init_container {
    name  = "init"
    image = "busybox:1.36"
  }
}
resource "azurerm_linux_web_app" "w" {
  site_config {
    application_stack {
      docker_image_name   = "nginx:1.27"
      docker_registry_url = "https://index.docker.io"
    }
  }
}
resource "azurerm_linux_function_app" "fa" {
  site_config {
    application_stack {
      docker {
        registry_url = "https://mcr.microsoft.com"
        image_name   = "azure-functions/dotnet"
        image_tag    = "4"
      }
    }
  }
}
resource "azurerm_app_service" "legacy" {
  site_config {
    linux_fx_version = "DOCKER|appsvcsample/python-helloworld:latest"
  }
}
resource "google_cloudbuild_trigger" "t" {
  build {
    step {
      name = "gcr.io/cloud-builders/docker"
      args = ["build", "."]
    }
  }
}
resource "aws_instance" "vm" {
  ami = "ami-123"
}
resource "google_compute_instance" "vm" {
  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
    }
  }
}
"#;
        assert_eq!(
            ok(t),
            pairs(&[
                (
                    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fn:1.0",
                    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fn:1.0"
                ),
                (
                    "mcr.microsoft.com/k8se/quickstart:latest",
                    "mcr.microsoft.com/k8se/quickstart:latest"
                ),
                (
                    "mcr.microsoft.com/azuredocs/aci-helloworld:latest",
                    "mcr.microsoft.com/azuredocs/aci-helloworld:latest"
                ),
                ("busybox:1.36", "busybox:1.36"),
                ("nginx:1.27", "nginx:1.27"),
                (
                    "azure-functions/dotnet",
                    "mcr.microsoft.com/azure-functions/dotnet:4"
                ),
                (
                    "appsvcsample/python-helloworld:latest",
                    "appsvcsample/python-helloworld:latest"
                ),
                (
                    "gcr.io/cloud-builders/docker",
                    "gcr.io/cloud-builders/docker"
                ),
            ])
        );
        let all = images(t);
        assert!(all[4].3, "docker_image_name on Docker Hub is exact");
        assert!(!all[5].3, "a composed image is not exact");
    }

    const NOMAD: &str = "resource \"nomad_job\" \"cache\" {\n  jobspec = <<-EOT\n    job \"cache\" {\n      group \"g\" {\n        task \"redis\" {\n          driver = \"docker\"\n          config {\n            image = \"redis:7.2\"\n          }\n        }\n        task \"app\" {\n          driver = \"docker\"\n          config {\n            image = \"${var.app_image}\"\n            args  = [\"$${NOMAD_ALLOC_ID}\"]\n          }\n        }\n      }\n    }\n  EOT\n}\n\nvariable \"app_image\" {\n  default = \"ghcr.io/acme/app:9\"\n}\n";

    #[test]
    fn nomad_jobspec_files() {
        let src = "variable \"tag\" {\n  default = \"1.27\"\n}\njob \"web\" {\n  group \"g\" {\n    task \"nginx\" {\n      driver = \"docker\"\n      config {\n        image = \"nginx:${var.tag}\"\n      }\n    }\n    task \"scan\" {\n      driver = \"podman\"\n      config {\n        image = \"docker.io/checkmarx/kics:latest\"\n        args  = [\"scan\"]\n      }\n    }\n    task \"exec\" {\n      driver = \"exec\"\n      config { command = \"/bin/true\" }\n    }\n  }\n}\n";
        let out = crate::extract(crate::FileKind::Nomad, src);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| {
                assert_eq!(o.text, o.span.of(src));
                (
                    o.source,
                    o.image.clone().unwrap(),
                    o.exact,
                    o.context.clone().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    Source::NomadImage,
                    "nginx:1.27".into(),
                    false,
                    "job web group g task nginx".into()
                ),
                (
                    Source::NomadImage,
                    "docker.io/checkmarx/kics:latest".into(),
                    true,
                    "job web group g task scan".into()
                ),
            ]
        );
    }

    #[test]
    fn nomad_jobspec() {
        let out = crate::extract(crate::FileKind::Terraform, NOMAD);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(out.images.len(), 2);
        assert_eq!(out.images[0].span.of(NOMAD), "redis:7.2");
        assert!(out.images[0].exact);
        assert_eq!(
            out.images[0].context.as_deref(),
            Some("nomad_job.cache job cache group g task redis")
        );
        assert_eq!(
            out.images[1].image.as_deref().ok(),
            Some("ghcr.io/acme/app:9")
        );
    }

    const SCRIPTS: &str = "resource \"aws_instance\" \"scanner\" {\n  ami       = \"ami-0abc\"\n  user_data = <<-EOF\n    #!/bin/bash\n    docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n    docker run -d ${var.web_image}\n    docker build -t local/app .\n    docker run local/app\n  EOF\n\n  provisioner \"local-exec\" {\n    command = \"docker pull aquasec/trivy:0.50.0\"\n  }\n\n  provisioner \"remote-exec\" {\n    inline = [\"sudo podman run --rm quay.io/prometheus/node-exporter:v1.8.1\", \"echo docker run nope\"]\n  }\n}\n\nvariable \"web_image\" {\n  default = \"nginx:1.27\"\n}\n";

    #[test]
    fn container_commands_in_scripts() {
        let out = crate::extract(crate::FileKind::Terraform, SCRIPTS);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| {
                assert_eq!(o.source, Source::ScriptCommand);
                (
                    o.span.of(SCRIPTS),
                    o.image.clone().unwrap_or_default(),
                    o.exact,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "checkmarx/kics:latest",
                    "checkmarx/kics:latest".to_string(),
                    true
                ),
                ("${var.web_image}", "nginx:1.27".to_string(), false),
                (
                    "aquasec/trivy:0.50.0",
                    "aquasec/trivy:0.50.0".to_string(),
                    true
                ),
                (
                    "quay.io/prometheus/node-exporter:v1.8.1",
                    "quay.io/prometheus/node-exporter:v1.8.1".to_string(),
                    true
                ),
            ]
        );
        assert_eq!(
            out.images[0].context.as_deref(),
            Some("aws_instance.scanner user_data")
        );
        assert_eq!(out.images[0].form, Form::Literal);
    }

    #[test]
    fn crlf() {
        let t = SCRIPTS.replace('\n', "\r\n");
        let out = crate::extract(crate::FileKind::Terraform, &t);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(out.images.len(), 4);
        assert_eq!(out.images[0].span.of(&t), "checkmarx/kics:latest");
        let d = DOCKER.replace('\n', "\r\n");
        assert_eq!(ok(&d).len(), 4);
        let n = NOMAD.replace('\n', "\r\n");
        let out = crate::extract(crate::FileKind::Terraform, &n);
        assert_eq!(out.images[0].span.of(&n), "redis:7.2");
        let e = ECS.replace('\n', "\r\n");
        let out = crate::extract(crate::FileKind::Terraform, &e);
        assert_eq!(out.images.len(), 5);
    }

    #[test]
    fn terraform_json() {
        let t = r#"{
  "variable": { "tag": { "default": "1.27" } },
  "resource": {
    "docker_image": { "nginx": { "name": "nginx:${var.tag}" } },
    "kubernetes_pod": {
      "p": { "spec": [{ "container": [{ "name": "c", "image": "busybox:1.36" }] }] }
    },
    "aws_ecs_task_definition": {
      "t": { "container_definitions": "[{\"image\": \"x\"}]" }
    }
  },
  "module": { "svc": { "source": "./svc", "image": "quay.io/a/b:1" } }
}"#;
        let out = crate::extract(crate::FileKind::Terraform, t);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| (o.span.of(t), o.image.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("nginx:${var.tag}", "nginx:1.27".to_string()),
                ("busybox:1.36", "busybox:1.36".to_string()),
                ("quay.io/a/b:1", "quay.io/a/b:1".to_string()),
            ]
        );
        let Form::Expanded { origins } = &out.images[0].form else {
            panic!()
        };
        assert_eq!(origins[0].span.of(t), "1.27");
    }

    #[test]
    fn ecs_json_files() {
        let t = r#"{
  "family": "web",
  // a comment (JSONC)
  "containerDefinitions": [
    { "name": "web", "image": "nginx:1.27", "essential": true },
    { "name": "tpl", "image": "${IMAGE}" }
  ]
}"#;
        let out = extract_ecs_json(t);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(out.images.len(), 2);
        assert_eq!(out.images[0].span.of(t), "nginx:1.27");
        assert!(out.images[0].exact);
        assert_eq!(out.images[0].source, Source::EcsContainerImage);
        assert_eq!(
            out.images[0].context.as_deref(),
            Some("task definition container web")
        );
        assert!(out.images[1].image.is_err());
        let list = "[{\"image\": \"redis:7\"}]";
        assert_eq!(extract_ecs_json(list).images[0].span.of(list), "redis:7");
        let described = r#"{"taskDefinition": {"containerDefinitions": [{"image": "a:1"}]}}"#;
        assert_eq!(extract_ecs_json(described).images.len(), 1);
        let bad = "{\"containerDefinitions\": [";
        let out = extract_ecs_json(bad);
        assert_eq!(out.diagnostics[0].kind, crate::DiagnosticKind::ParseError);
    }

    #[test]
    fn parse_errors_are_reported_and_the_rest_is_read() {
        let t = "resource \"docker_image\" \"a\" {\n  name = \"nginx:1\"\n  oops oops\n}\nresource \"docker_image\" \"b\" {\n  name = \"redis:7\n}\nresource \"docker_image\" \"c\" {\n  name = \"alpine:3\"\n}\n";
        let out = crate::extract(crate::FileKind::Terraform, t);
        assert!(!out.diagnostics.is_empty());
        assert!(
            out.diagnostics
                .iter()
                .all(|d| d.kind == crate::DiagnosticKind::ParseError)
        );
        let first = &out.diagnostics[0];
        assert_eq!(&t[first.span.start..first.span.start + 4], "oops");
        let got: Vec<_> = out.images.iter().map(|o| o.span.of(t)).collect();
        assert_eq!(got, vec!["nginx:1", "alpine:3"]);
    }

    #[test]
    fn hostile_input() {
        let cases = [
            "resource \"docker_image\" \"a\" { name = ".to_string() + &"[".repeat(50_000),
            "a = ".to_string() + &"{ b = ".repeat(50_000),
            "x = <<A\n".repeat(20_000),
            "resource \"aws_ecs_task_definition\" \"t\" {\n container_definitions = <<E\n"
                .to_string()
                + &"[".repeat(100_000)
                + "\nE\n}\n",
            "locals {\n".to_string()
                + &(0..2000)
                    .map(|i| format!("  l{i} = local.l{}\n", i + 1))
                    .collect::<String>()
                + "}\nresource \"docker_container\" \"c\" { image = local.l0 }\n",
            "\u{0}\u{feff}é\"${".repeat(10_000),
            // Each local repeats the next one: evaluation must not grow exponentially.
            "locals {\n".to_string()
                + &(0..8)
                    .map(|i| {
                        format!(
                            "  l{i} = \"{}\"\n",
                            format!("${{local.l{}}}", i + 1).repeat(50)
                        )
                    })
                    .collect::<String>()
                + "  l8 = \"x\"\n}\nresource \"docker_container\" \"c\" { image = local.l0 }\n",
            "{".repeat(100_000),
        ];
        for t in &cases {
            let out = crate::test_support::linear(t.len(), || extract(t));
            for o in &out.images {
                assert_eq!(o.text, o.span.of(t));
            }
        }
        let many = "resource \"aws_ecs_task_definition\" \"t\" {\n container_definitions = <<E\n[{\"image\": \"a:1\"}]\nE\n}\n"
            .repeat(5_000);
        let out = crate::test_support::linear(many.len(), || extract(&many));
        assert!(!out.images.is_empty());
    }

    #[test]
    fn corpus() {
        let n = test_corpus::check_all("terraform", extract);
        if n == 0 {
            return;
        }
        let expect = |path: &str, wanted: &[&str]| {
            let text = test_corpus::file(path).unwrap();
            let out = extract(&text);
            let got: Vec<_> = out
                .images
                .iter()
                .map(|o| {
                    o.image
                        .clone()
                        .unwrap_or_else(|u| format!("ERR {}", u.reason))
                })
                .collect();
            for w in wanted {
                assert!(got.iter().any(|g| g == w), "{path}: {w} not in {got:?}");
            }
        };
        let ecs = "terraform/terraform-aws-modules__terraform-aws-ecs/examples/";
        expect(
            &format!("{ecs}fargate/main.tf"),
            &[
                "public.ecr.aws/aws-containers/ecsdemo-frontend:776fd50",
                "public.ecr.aws/amazonlinux/amazonlinux:2023-minimal",
            ],
        );
        expect(
            &format!("{ecs}managed-instances/main.tf"),
            &["public.ecr.aws/docker/library/httpd:latest"],
        );
        expect(
            "terraform/aws-ia__ecs-blueprints/terraform/ec2-examples/distributed-ml-training/main.tf",
            &[
                "docker.io/rayproject/ray-ml:2.7.1.artur.c9f4c6-py38",
                "docker.io/rayproject/ray-ml:2.7.1.artur.c9f4c6-py38-gpu",
            ],
        );
        let checkov = "terraform/bridgecrewio__checkov/tests/terraform/";
        expect(
            &format!("{checkov}image_referencer/resources/aws/batch.tf"),
            &["busybox"],
        );
        expect(
            &format!("{checkov}image_referencer/resources/azure/app_service_linux_web.tf"),
            &[
                "mcr.microsoft.com/appsvc/staticsite:latest",
                "busybox:latest",
            ],
        );
        expect(
            &format!("{checkov}image_referencer/resources/gcp/cloud_run_v2.tf"),
            &["gcr.io/cloudrun/job", "gcr.io/cloudrun/hello"],
        );
        expect(
            &format!("{checkov}graph/resources/ecs_with_merge/main.tf"),
            &["service-first", "service"],
        );
        expect(
            "terraform/terraform-aws-modules__terraform-aws-lambda/examples/build-package/main.tf",
            &["public.ecr.aws/sam/build-python3.12:latest"],
        );
        let k8s = test_corpus::file(&format!(
            "{checkov}checks/resource/kubernetes/example_ImagePullPolicyAlways/main.tf"
        ))
        .unwrap();
        assert_eq!(extract(&k8s).images.len(), 25);
        // The build images the Lambda module makes from a Dockerfile are not references.
        let lambda = test_corpus::file(
            "terraform/terraform-aws-modules__terraform-aws-lambda/examples/build-package/main.tf",
        )
        .unwrap();
        assert!(
            extract(&lambda)
                .images
                .iter()
                .all(|o| o.image.as_deref() != Ok("build-python-poetry"))
        );
    }
}
