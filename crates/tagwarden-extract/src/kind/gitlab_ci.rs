//! GitLab CI: `image:` and `services:` (strings, or maps with `name:`) at the top level (the
//! deprecated global default), under `default:` and in every job, hidden templates (`.x:`)
//! included.
//!
//! Each reference is reported where its string is written: through an anchor it is the anchored
//! scalar (alias sites noted); through `extends:` it is the template. Variables (`$X`, `${X}`) are
//! expanded with the variables the *job that runs the image* sees: global `variables:` overridden by
//! those of the job and its `extends:` chain, honouring `inherit:`. So a template's
//! `image: $IMAGE` yields one occurrence per distinct value among the jobs that use it; a template
//! no visible job uses is expanded with its own variables, and the defaults with the globals when
//! no job inherits them. Component inputs `$[[ inputs.x ]]` take their `spec:` default. Anything
//! else (predefined `$CI_*` variables, project variables) is unresolved, naming the variable.
//!
//! Variables of `parallel: matrix:` and of `rules:` / `workflow: rules:` entries are alternatives:
//! each variable set a job may run with is evaluated (bounded, and only once per distinct set of
//! definitions the value actually reads). Trigger jobs (which run no
//! image) and jobs on GitLab-hosted macOS runners (tags `saas-macos-*`, whose `image:` names a VM
//! image) are skipped.
//!
//! `!reference [...]` tags are not images and are skipped: the referenced template is reported on
//! its own.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::read::vars::{self, Syntax, Value};
use crate::read::yaml::{self, NodeRef};
use crate::{Extraction, Form, ImageOccurrence, Origin, Source, Unresolved};

/// Top-level keys that are not jobs.
const RESERVED: &[&str] = &[
    "stages",
    "types",
    "variables",
    "include",
    "workflow",
    "default",
    "spec",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
];
/// Context of the deprecated top-level `image:` and `services:`.
const GLOBAL: &str = "global";
/// GitLab's own limit on `extends:` nesting.
const MAX_EXTENDS_DEPTH: usize = 11;
/// Templates one job may inherit from in all (bounded work on hostile input).
const MAX_CHAIN: usize = 64;
/// Variables referring to variables, followed this deep.
const MAX_VAR_DEPTH: usize = 10;
/// `parallel: matrix:` variable sets evaluated per job (GitLab allows 200).
const MAX_MATRIX_ROWS: usize = 256;
/// Variable sets (matrix rows × rule variables) evaluated per job.
const MAX_VARIANTS: usize = 512;
/// Variables expanded inside other variables for one value.
const MAX_LOOKUPS: usize = 1000;
/// Tags of GitLab-hosted macOS runners, whose `image:` names a VM image, not a container image.
const MACOS_RUNNER_TAG: &str = "saas-macos-";
/// The tag GitLab uses to copy a section of another job.
const REFERENCE_TAG: &str = "!reference";

/// Extracts image references from a GitLab CI file (`.gitlab-ci.yml` or an included file).
pub fn extract(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let yaml = yaml::parse(text, &mut out);
    let docs: Vec<NodeRef<'_, '_>> = yaml.documents().collect();
    // A component's `spec:` header is its own document, before the jobs.
    let mut inputs = Vec::new();
    for doc in &docs {
        if let Some(spec_inputs) = doc.get("spec").and_then(|s| s.get("inputs")) {
            inputs.extend(spec_inputs.entries());
        }
    }
    let mut found = Found::default();
    for doc in &docs {
        Document {
            text,
            root: *doc,
            inputs: &inputs,
        }
        .scan(&mut found);
    }
    // Sites are distinct scalars, so their spans never coincide: no further merging needed.
    for site in found.sites {
        out.images.extend(site.occurrences);
    }
    for doc in &docs {
        script_images(text, *doc, &mut out);
    }
    out.images.sort_by_key(|o| (o.span.start, o.span.end));
    out
}

/// Keys whose values are shell scripts.
const SCRIPT_KEYS: &[&str] = &["script", "before_script", "after_script"];

/// Image operands of container commands in the scripts of jobs, templates, `default:` and the
/// top level. Variables are not expanded here: such operands are reported unresolved.
fn script_images(text: &str, root: NodeRef<'_, '_>, out: &mut Extraction) {
    if !root.is_mapping() {
        return;
    }
    let assigned = crate::read::shell::assigned_names(text);
    let globals = literal_variables(root.get("variables"));
    let mut owners = vec![("global", root)];
    for (name, node) in root.entries() {
        if node.is_mapping() && (name == "default" || !RESERVED.contains(&name)) {
            owners.push((name, node));
        }
    }
    for (name, owner) in owners {
        let own = literal_variables(owner.get("variables"));
        // Templates and `inherit:` may change which global values a job sees: only its own count.
        let sees_globals = owner.get("extends").is_none() && owner.get("inherit").is_none();
        let env = |var: &str| {
            if assigned.contains(var) {
                return None;
            }
            own.get(var)
                .or_else(|| sees_globals.then(|| globals.get(var)).flatten())
                .cloned()
        };
        for key in SCRIPT_KEYS {
            let Some(script) = owner.get(key) else {
                continue;
            };
            // `!reference [job, script]` copies lines reported where they are written.
            if script.tag().is_some_and(|t| t.contains("reference")) {
                continue;
            }
            let mut lines = Vec::new();
            if script.is_sequence() {
                // GitLab flattens one level of nested lists (from `!reference`).
                for item in script.items() {
                    if item.is_sequence() {
                        lines.extend(item.items());
                    } else {
                        lines.push(item);
                    }
                }
            } else {
                lines.push(script);
            }
            // Images built by one line of the job's script are run by later lines.
            let built: Vec<String> = lines
                .iter()
                .filter_map(|l| l.resolve()?.as_str())
                .flat_map(crate::read::shell::built_images)
                .collect();
            for line in lines {
                if line.tag().is_some_and(|t| t.contains("reference")) {
                    continue;
                }
                crate::read::ci_script::scalar_images(
                    text,
                    line,
                    Source::GitlabScriptCommand,
                    Some(name),
                    &built,
                    &env,
                    out,
                );
            }
        }
    }
}

/// `variables:` entries whose values are written literally (`X: v` or `X: {value: v}`).
fn literal_variables(vars: Option<NodeRef<'_, '_>>) -> HashMap<String, (String, crate::Span)> {
    let mut map = HashMap::new();
    for (name, value) in vars.map(|v| v.entries()).unwrap_or_default() {
        let value = if value.is_mapping() {
            value.get("value")
        } else {
            Some(value)
        };
        if let Some(value) = value
            && let (Some(v), Some(span)) = (value.as_str(), value.exact_span())
            && !v.contains('$')
        {
            map.insert(name.to_string(), (v.to_string(), span));
        }
    }
    map
}

/// How directly a site was reached: a visible job beats a hidden template beats the globals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    Job,
    Hidden,
    Global,
}

/// The occurrences one site (scalar node and source) yields, from the best tier that reached it.
struct Site {
    tier: Tier,
    occurrences: Vec<ImageOccurrence>,
    by_image: HashMap<Result<String, String>, usize>,
}

/// Occurrences per site.
#[derive(Default)]
struct Found {
    sites: Vec<Site>,
    index: HashMap<(usize, Source), usize>,
}

impl Found {
    fn add(&mut self, node: usize, source: Source, tier: Tier, occ: ImageOccurrence) {
        let i = *self.index.entry((node, source)).or_insert_with(|| {
            self.sites.push(Site {
                tier,
                occurrences: Vec::new(),
                by_image: HashMap::new(),
            });
            self.sites.len() - 1
        });
        let Some(site) = self.sites.get_mut(i) else {
            return;
        };
        if tier < site.tier {
            site.tier = tier;
            site.occurrences.clear();
            site.by_image.clear();
        }
        if tier != site.tier {
            return;
        }
        let key = occ.image.clone().map_err(|e| e.reason);
        match site
            .by_image
            .get(&key)
            .and_then(|&j| site.occurrences.get_mut(j))
        {
            // Another job reached the same value, perhaps through another alias.
            Some(existing) => {
                for s in occ.alias_sites {
                    if !existing.alias_sites.contains(&s) {
                        existing.alias_sites.push(s);
                    }
                }
            }
            None => {
                site.by_image.insert(key, site.occurrences.len());
                site.occurrences.push(occ);
            }
        }
    }

    fn has(&self, node: usize, source: Source) -> bool {
        self.index.contains_key(&(node, source))
    }
}

/// A variable definition: its value node, and whether GitLab expands variables inside it.
#[derive(Clone, Copy)]
struct Var<'y, 'a> {
    value: NodeRef<'y, 'a>,
    expand: bool,
}

/// Variables by name, from one `variables:` source.
type Layer<'y, 'a> = HashMap<&'y str, Var<'y, 'a>>;

/// Adds (or overrides) the entries of a `variables:` map.
fn add_vars<'y, 'a>(layer: &mut Layer<'y, 'a>, node: NodeRef<'y, 'a>) {
    if node.tag() == Some(REFERENCE_TAG) {
        return;
    }
    for (name, v) in node.entries() {
        if v.tag() == Some(REFERENCE_TAG) {
            continue;
        }
        let var = if v.is_mapping() {
            let Some(value) = v.get("value") else {
                continue;
            };
            let expand = v.get_str("expand") != Some("false");
            Var { value, expand }
        } else {
            Var {
                value: v,
                expand: true,
            }
        };
        layer.insert(name, var);
    }
}

/// The variables one run of a job sees: global layers (as `inherit: variables` allows) under the
/// job's layers, each later layer overriding the earlier ones.
struct Scope<'s, 'y, 'a> {
    globals: [Option<&'s Layer<'y, 'a>>; 2],
    filter: &'s Filter<'y>,
    job: [Option<&'s Layer<'y, 'a>>; 3],
}

impl<'y, 'a> Scope<'_, 'y, 'a> {
    fn get(&self, name: &str) -> Option<Var<'y, 'a>> {
        for layer in self.job.iter().rev().flatten() {
            if let Some(v) = layer.get(name) {
                return Some(*v);
            }
        }
        if !self.filter.allows(name) {
            return None;
        }
        for layer in self.globals.iter().rev().flatten() {
            if let Some(v) = layer.get(name) {
                return Some(*v);
            }
        }
        None
    }
}

/// The variables an evaluation looked up, and the definitions they resolved to: another scope
/// that resolves them the same way gives the same result.
type Deps = Vec<(String, Option<usize>)>;

/// What `inherit:` lets through: everything, nothing, or a list of names.
enum Filter<'y> {
    All,
    None,
    Only(Vec<&'y str>),
}

impl Filter<'_> {
    fn allows(&self, name: &str) -> bool {
        match self {
            Self::All => true,
            Self::None => false,
            Self::Only(names) => names.contains(&name),
        }
    }

    fn of<'y>(node: Option<NodeRef<'y, '_>>) -> Filter<'y> {
        let Some(n) = node else {
            return Filter::All;
        };
        if n.is_sequence() {
            return Filter::Only(n.items().iter().filter_map(|i| i.as_str()).collect());
        }
        match n.as_str() {
            Some("false") => Filter::None,
            _ => Filter::All,
        }
    }
}

struct Document<'d, 'y, 'a> {
    text: &'a str,
    root: NodeRef<'y, 'a>,
    inputs: &'d [(&'y str, NodeRef<'y, 'a>)],
}

/// Where an image value was found, and in whose name it runs.
struct Use<'y, 'a> {
    node: NodeRef<'y, 'a>,
    source: Source,
    /// The key (job, template, `default`) under which the value is written.
    owner: Option<&'y str>,
}

/// Lookup state shared by the nested expansions of one value.
#[derive(Default)]
struct Lookups {
    /// Origins of variables used inside other variables' values.
    nested: RefCell<Vec<Origin>>,
    /// Why a variable inside another one could not be expanded.
    failure: RefCell<Option<Unresolved>>,
    depth: Cell<usize>,
    /// Lookups done so far (bounded: `$A$A$A…` nested would otherwise grow exponentially).
    count: Cell<usize>,
    deps: RefCell<Deps>,
}

impl<'y, 'a> Document<'_, 'y, 'a> {
    fn scan(&self, found: &mut Found) {
        let root = self.root;
        if !root.is_mapping() {
            return;
        }
        let mut globals: Layer<'y, 'a> = HashMap::new();
        if let Some(v) = root.get("variables") {
            add_vars(&mut globals, v);
        }
        let workflow_vars = root
            .get("workflow")
            .and_then(|w| w.get("rules"))
            .map(rule_variables)
            .unwrap_or_default();
        let default = root.get("default").filter(|d| d.is_mapping());
        let default_image = default
            .and_then(|d| d.get("image").map(|i| (i, "default")))
            .or_else(|| root.get("image").map(|i| (i, GLOBAL)));
        let default_services = default
            .and_then(|d| d.get("services").map(|s| (s, "default")))
            .or_else(|| root.get("services").map(|s| (s, GLOBAL)));

        let entries = root.entries();
        // Looking templates up in a map: `get` on the root would rescan every key each time.
        let templates: HashMap<&'y str, NodeRef<'y, 'a>> = entries
            .iter()
            .filter(|(_, n)| n.is_mapping())
            .map(|(k, n)| (*k, *n))
            .collect();
        for &(name, job) in &entries {
            if RESERVED.contains(&name) || !job.is_mapping() {
                continue;
            }
            let tier = if name.starts_with('.') {
                Tier::Hidden
            } else {
                Tier::Job
            };
            let chain = chain(&templates, name, job);
            // A trigger job starts another pipeline and runs no image of its own.
            if first_key(&chain, "trigger").is_some() {
                continue;
            }
            let inherit = first_key(&chain, "inherit").map(|(_, n)| n);
            let inherit_default = Filter::of(inherit.and_then(|i| i.get("default")));
            let inherit_vars = Filter::of(inherit.and_then(|i| i.get("variables")));
            let tags = first_key(&chain, "tags").map(|(_, t)| t).or_else(|| {
                default
                    .and_then(|d| d.get("tags"))
                    .filter(|_| inherit_default.allows("tags"))
            });
            if tags.is_some_and(|t| {
                t.items()
                    .iter()
                    .any(|i| i.as_str().is_some_and(|s| s.starts_with(MACOS_RUNNER_TAG)))
            }) {
                continue;
            }

            let mut uses = Vec::new();
            match first_key(&chain, "image") {
                Some((owner, image)) => self.image_uses(&chain, owner, image, &mut uses),
                None => {
                    if let Some((image, owner)) = default_image
                        && inherit_default.allows("image")
                    {
                        self.image_uses(&[], owner, image, &mut uses);
                    }
                }
            }
            match first_key(&chain, "services") {
                Some((owner, services)) => service_uses(owner, services, &mut uses),
                None => {
                    if let Some((services, owner)) = default_services
                        && inherit_default.allows("services")
                    {
                        service_uses(owner, services, &mut uses);
                    }
                }
            }
            if uses.is_empty() {
                continue;
            }

            let mut job_vars: Layer<'y, 'a> = HashMap::new();
            // Ancestors first, so that the job's own variables win.
            for (_, link) in chain.iter().rev() {
                if let Some(v) = link.get("variables") {
                    add_vars(&mut job_vars, v);
                }
            }
            let matrix = first_key(&chain, "parallel")
                .and_then(|(_, p)| p.get("matrix"))
                .map(matrix_rows)
                .unwrap_or_default();
            let rules = first_key(&chain, "rules")
                .map(|(_, r)| rule_variables(r))
                .unwrap_or_default();
            // A matrix replaces the job as written: only its combinations run.
            let matrix_sets: Vec<Option<&Layer<'y, 'a>>> = if matrix.is_empty() {
                vec![None]
            } else {
                matrix.iter().map(Some).collect()
            };
            // Every variable set the job may run with: workflow rule × matrix row × job rule.
            let mut variants = Vec::new();
            'sets: for w in std::iter::once(None).chain(workflow_vars.iter().map(Some)) {
                for m in &matrix_sets {
                    for r in std::iter::once(None).chain(rules.iter().map(Some)) {
                        if variants.len() >= MAX_VARIANTS {
                            break 'sets;
                        }
                        variants.push(Scope {
                            globals: [Some(&globals), w],
                            filter: &inherit_vars,
                            job: [Some(&job_vars), *m, r],
                        });
                    }
                }
            }
            for u in uses {
                let mut done: Vec<Deps> = Vec::new();
                for scope in &variants {
                    let same = |deps: &Deps| {
                        deps.iter()
                            .all(|(n, id)| scope.get(n).map(|v| v.value.id()) == *id)
                    };
                    if done.iter().any(same) {
                        continue;
                    }
                    done.push(self.record(&u, scope, tier, found));
                }
            }
        }

        // Defaults no job inherits are still written in the file (both `default:` and the
        // deprecated top-level keys, though only the former applies when both are there).
        let mut uses = Vec::new();
        for (holder, owner) in default
            .map(|d| (d, "default"))
            .into_iter()
            .chain([(root, GLOBAL)])
        {
            if let Some(image) = holder.get("image") {
                self.image_uses(&[], owner, image, &mut uses);
            }
            if let Some(services) = holder.get("services") {
                service_uses(owner, services, &mut uses);
            }
        }
        let scope = Scope {
            globals: [Some(&globals), None],
            filter: &Filter::All,
            job: [None, None, None],
        };
        for u in uses {
            if let Some(id) = u.node.resolve().map(|n| n.id())
                && !found.has(id, u.source)
            {
                self.record(&u, &scope, Tier::Global, found);
            }
        }
    }

    /// The image value: a string, or a map's `name:` (found further up the chain when a job
    /// overrides only other fields of the map, as GitLab's deep merge does).
    fn image_uses(
        &self,
        chain: &[(&'y str, NodeRef<'y, 'a>)],
        owner: &'y str,
        image: NodeRef<'y, 'a>,
        uses: &mut Vec<Use<'y, 'a>>,
    ) {
        if image.tag() == Some(REFERENCE_TAG) {
            return;
        }
        if image.is_scalar() {
            uses.push(Use {
                node: image,
                source: Source::GitlabImage,
                owner: Some(owner),
            });
            return;
        }
        if !image.is_mapping() {
            return;
        }
        if let Some(name) = image.get("name") {
            if name.tag() != Some(REFERENCE_TAG) {
                uses.push(Use {
                    node: name,
                    source: Source::GitlabImage,
                    owner: Some(owner),
                });
            }
            return;
        }
        let below = chain
            .iter()
            .position(|(n, _)| *n == owner)
            .map_or(&[][..], |i| chain.get(i + 1..).unwrap_or(&[]));
        if let Some((owner, parent)) = first_key(below, "image") {
            self.image_uses(below, owner, parent, uses);
        }
    }

    /// Adds the occurrence one use yields in `scope`; returns the variables it depended on.
    fn record(
        &self,
        u: &Use<'y, 'a>,
        scope: &Scope<'_, 'y, 'a>,
        tier: Tier,
        found: &mut Found,
    ) -> Deps {
        let Some(target) = u.node.resolve() else {
            return Vec::new();
        };
        let lookups = Lookups::default();
        if let Some(occ) = self.occurrence(u, scope, &lookups) {
            found.add(target.id(), u.source, tier, occ);
        }
        lookups.deps.into_inner()
    }

    fn occurrence(
        &self,
        u: &Use<'y, 'a>,
        scope: &Scope<'_, 'y, 'a>,
        lookups: &Lookups,
    ) -> Option<ImageOccurrence> {
        let value = u.node.as_str()?;
        if value.trim().is_empty() {
            return None;
        }
        let (span, exact, alias_sites) = yaml::scalar_site(u.node)?;
        let (image, form) = if value.contains('$') {
            match self.expand(value, exact.then_some(span.start), scope, lookups) {
                Ok((image, origins)) => {
                    if image.trim().is_empty() {
                        return None;
                    }
                    (Ok(image), Form::Expanded { origins })
                }
                Err(e) => (
                    Err(e),
                    Form::Expanded {
                        origins: Vec::new(),
                    },
                ),
            }
        } else {
            (Ok(value.to_string()), Form::Literal)
        };
        Some(ImageOccurrence {
            span,
            text: span.of(self.text).to_string(),
            image,
            source: u.source,
            form,
            alias_sites,
            context: u.owner.map(str::to_string),
            exact,
        })
    }

    /// Expands `$[[ inputs.x ]]` and then `$VARS` in `value`, written at `base` when verbatim.
    fn expand(
        &self,
        value: &str,
        base: Option<usize>,
        scope: &Scope<'_, 'y, 'a>,
        lookups: &Lookups,
    ) -> Result<(String, Vec<Origin>), Unresolved> {
        let mut image = String::new();
        let mut origins = Vec::new();
        let mut rest_at = 0;
        while let Some(open) = value[rest_at..].find("$[[").map(|i| rest_at + i) {
            let close = value[open..]
                .find("]]")
                .map(|i| open + i)
                .ok_or_else(|| Unresolved::new(format!("unterminated $[[ in {value:?}")))?;
            let text = &value[rest_at..open];
            let at = base.map(|b| b + rest_at);
            expand_vars(text, at, scope, lookups, &mut image, &mut origins)?;
            let (v, origin) = self.input(&value[open + 3..close])?;
            image.push_str(&v);
            origins.extend(origin);
            rest_at = close + 2;
        }
        let text = &value[rest_at..];
        let at = base.map(|b| b + rest_at);
        expand_vars(text, at, scope, lookups, &mut image, &mut origins)?;
        Ok((image, origins))
    }

    /// The default of a component input: `inputs.name`, possibly followed by `| functions`.
    fn input(&self, inner: &str) -> Result<(String, Option<Origin>), Unresolved> {
        let expr = inner.split('|').next().unwrap_or("").trim();
        let Some(name) = expr.strip_prefix("inputs.") else {
            return Err(Unresolved::new(format!(
                "$[[{inner}]] is only known when the component is included"
            )));
        };
        if inner.contains('|') {
            return Err(Unresolved::new(format!(
                "$[[{inner}]] applies functions that are not evaluated"
            )));
        }
        let default = self
            .inputs
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, spec)| spec.get("default"))
            .filter(|d| d.is_scalar());
        let Some(default) = default else {
            return Err(Unresolved::new(format!(
                "component input {name} has no default; it is set where the component is included"
            )));
        };
        let value = default.as_str().unwrap_or_default().to_string();
        let origin = yaml::scalar_site(default).map(|(span, _, _)| Origin {
            name: format!("inputs.{name}"),
            span,
        });
        Ok((value, origin))
    }
}

/// Far-off base offset for text whose position in the file is unknown; spans computed from it
/// (defaults such as `${X:-y}`) are dropped.
const NOWHERE: usize = usize::MAX / 2;

/// Expands `$VARS` in `text` (at `base` in the file when verbatim) into `image`.
fn expand_vars(
    text: &str,
    base: Option<usize>,
    scope: &Scope<'_, '_, '_>,
    lookups: &Lookups,
    image: &mut String,
    origins: &mut Vec<Origin>,
) -> Result<(), Unresolved> {
    if text.is_empty() {
        return Ok(());
    }
    lookups.failure.replace(None);
    let lookup = |name: &str| lookup_var(name, scope, lookups);
    match vars::expand(text, base.unwrap_or(NOWHERE), dollar(), &lookup) {
        Ok(e) => {
            image.push_str(&e.value);
            origins.extend(e.origins.into_iter().filter(|o| o.span.start < NOWHERE / 2));
            origins.extend(lookups.nested.take());
            Ok(())
        }
        Err(e) => Err(lookups.failure.take().unwrap_or(e)),
    }
}

fn dollar() -> Syntax {
    Syntax {
        dollar_escape: true,
    }
}

/// A variable's value, with the variables inside it expanded (GitLab expands them recursively).
fn lookup_var(name: &str, scope: &Scope<'_, '_, '_>, lookups: &Lookups) -> Option<Value> {
    let var = scope.get(name);
    lookups
        .deps
        .borrow_mut()
        .push((name.to_string(), var.map(|v| v.value.id())));
    let var = var?;
    let raw = var.value.as_str()?;
    let origin = yaml::scalar_site(var.value).map(|(span, _, _)| Origin {
        name: name.to_string(),
        span,
    });
    if !var.expand || !raw.contains('$') {
        return Some(Value {
            value: raw.to_string(),
            origin,
        });
    }
    lookups.count.set(lookups.count.get() + 1);
    if lookups.depth.get() >= MAX_VAR_DEPTH || lookups.count.get() > MAX_LOOKUPS {
        lookups.failure.borrow_mut().get_or_insert_with(|| {
            Unresolved::new(format!(
                "variable {name} refers to itself or nests too deeply"
            ))
        });
        return None;
    }
    lookups.depth.set(lookups.depth.get() + 1);
    let inner = |n: &str| lookup_var(n, scope, lookups);
    // Defaults inside another variable's value have no offset here: they get no origin.
    let result = vars::expand(raw, NOWHERE, dollar(), &inner);
    lookups.depth.set(lookups.depth.get() - 1);
    match result {
        Ok(e) => {
            lookups
                .nested
                .borrow_mut()
                .extend(e.origins.into_iter().filter(|o| o.span.start < NOWHERE / 2));
            Some(Value {
                value: e.value,
                origin,
            })
        }
        Err(e) => {
            lookups.failure.borrow_mut().get_or_insert_with(|| {
                Unresolved::new(format!("{} (through variable {name})", e.reason))
            });
            None
        }
    }
}

/// The job followed by what it extends, in priority order (the job first, then its last
/// `extends:` entry and that entry's own ancestors, and so on).
fn chain<'y, 'a>(
    templates: &HashMap<&'y str, NodeRef<'y, 'a>>,
    name: &'y str,
    job: NodeRef<'y, 'a>,
) -> Vec<(&'y str, NodeRef<'y, 'a>)> {
    let mut out = Vec::new();
    extend_chain(templates, name, job, 0, &mut out);
    out
}

fn extend_chain<'y, 'a>(
    templates: &HashMap<&'y str, NodeRef<'y, 'a>>,
    name: &'y str,
    job: NodeRef<'y, 'a>,
    depth: usize,
    out: &mut Vec<(&'y str, NodeRef<'y, 'a>)>,
) {
    if depth > MAX_EXTENDS_DEPTH || out.len() >= MAX_CHAIN || out.iter().any(|(n, _)| *n == name) {
        return;
    }
    out.push((name, job));
    let Some(extends) = job.get("extends") else {
        return;
    };
    let parents: Vec<&'y str> = if extends.is_sequence() {
        extends.items().iter().filter_map(|i| i.as_str()).collect()
    } else {
        extends.as_str().into_iter().collect()
    };
    for parent in parents.into_iter().rev() {
        // Templates from included files are not in this file: nothing to inherit here.
        if let Some(node) = templates.get(parent) {
            extend_chain(templates, parent, *node, depth + 1, out);
        }
    }
}

/// The `variables:` of each rule that has some (`rules:` of a job or of `workflow:`).
fn rule_variables<'y, 'a>(rules: NodeRef<'y, 'a>) -> Vec<Layer<'y, 'a>> {
    if rules.tag() == Some(REFERENCE_TAG) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for rule in rules.items().into_iter().take(MAX_VARIANTS) {
        if rule.tag() == Some(REFERENCE_TAG) {
            continue;
        }
        if let Some(v) = rule.get("variables") {
            let mut layer = HashMap::new();
            add_vars(&mut layer, v);
            if !layer.is_empty() {
                out.push(layer);
            }
        }
    }
    out
}

/// The variable sets of `parallel: matrix:`: each entry is the product of its lists.
fn matrix_rows<'y, 'a>(matrix: NodeRef<'y, 'a>) -> Vec<Layer<'y, 'a>> {
    let mut rows: Vec<Layer<'y, 'a>> = Vec::new();
    for entry in matrix.items() {
        let mut entry_rows: Vec<Layer<'y, 'a>> = vec![HashMap::new()];
        for (name, values) in entry.entries() {
            let values = if values.is_sequence() {
                values.items()
            } else {
                vec![values]
            };
            let mut next = Vec::new();
            for row in &entry_rows {
                for v in values.iter().filter(|v| v.is_scalar()) {
                    if rows.len() + next.len() >= MAX_MATRIX_ROWS {
                        break;
                    }
                    let mut r = row.clone();
                    r.insert(
                        name,
                        Var {
                            value: *v,
                            expand: true,
                        },
                    );
                    next.push(r);
                }
            }
            entry_rows = next;
        }
        rows.extend(entry_rows.into_iter().filter(|r| !r.is_empty()));
    }
    rows
}

/// The first link of the chain that has `key`, with the link's name.
fn first_key<'y, 'a>(
    chain: &[(&'y str, NodeRef<'y, 'a>)],
    key: &str,
) -> Option<(&'y str, NodeRef<'y, 'a>)> {
    chain
        .iter()
        .find_map(|(name, node)| node.get(key).map(|v| (*name, v)))
}

/// Each entry of a `services:` list: a string, or a map's `name:`.
fn service_uses<'y, 'a>(owner: &'y str, services: NodeRef<'y, 'a>, uses: &mut Vec<Use<'y, 'a>>) {
    if services.tag() == Some(REFERENCE_TAG) {
        return;
    }
    for item in services.items() {
        if item.tag() == Some(REFERENCE_TAG) {
            continue;
        }
        let node = if item.is_mapping() {
            match item.get("name") {
                Some(n) if n.tag() != Some(REFERENCE_TAG) => n,
                _ => continue,
            }
        } else if item.is_scalar() {
            item
        } else {
            continue;
        };
        uses.push(Use {
            node,
            source: Source::GitlabService,
            owner: Some(owner),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Extraction {
        let out = extract(text);
        for o in &out.images {
            assert_eq!(o.text, o.span.of(text), "{o:?}");
            if let Form::Expanded { origins } = &o.form {
                for g in origins {
                    assert!(g.span.end <= text.len(), "{g:?}");
                }
            }
        }
        out
    }

    fn got(out: &Extraction) -> Vec<(&str, Source, Result<&str, &str>)> {
        out.images
            .iter()
            .map(|o| {
                (
                    o.text.as_str(),
                    o.source,
                    o.image.as_deref().map_err(|e| e.reason.as_str()),
                )
            })
            .collect()
    }

    fn origin_texts<'t>(text: &'t str, o: &ImageOccurrence) -> Vec<(String, &'t str)> {
        match &o.form {
            Form::Expanded { origins } => origins
                .iter()
                .map(|g| (g.name.clone(), g.span.of(text)))
                .collect(),
            _ => Vec::new(),
        }
    }

    use Source::{GitlabImage as Img, GitlabService as Svc};

    fn script_images(out: &Extraction) -> Vec<(&str, &str, Result<&str, &str>, bool)> {
        out.images
            .iter()
            .filter(|o| o.source == Source::GitlabScriptCommand)
            .map(|o| {
                (
                    o.context.as_deref().unwrap_or(""),
                    o.text.as_str(),
                    o.image.as_deref().map_err(|e| e.reason.as_str()),
                    o.exact,
                )
            })
            .collect()
    }

    #[test]
    fn script_commands() {
        for nl in ["\n", "\r\n"] {
            let t = "before_script:\n  - docker pull a:1\ndefault:\n  after_script: docker pull b:1\nkics:\n  image: docker:27\n  script:\n    - docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n    - echo \"docker run nope\"\n    - |\n      docker run --entrypoint sh \\\n        aquasec/trivy:0.69.4 -c 'x'\n    - [\"docker pull 'c:1'\"]\n  before_script: [\"docker pull $IMG\"]\n.tpl:\n  script: docker create d:1\n"
                .replace('\n', nl);
            let out = run(&t);
            assert_eq!(
                script_images(&out),
                [
                    ("global", "a:1", Ok("a:1"), true),
                    ("default", "b:1", Ok("b:1"), true),
                    (
                        "kics",
                        "checkmarx/kics:latest",
                        Ok("checkmarx/kics:latest"),
                        true
                    ),
                    (
                        "kics",
                        "aquasec/trivy:0.69.4",
                        Ok("aquasec/trivy:0.69.4"),
                        true
                    ),
                    ("kics", "c:1", Ok("c:1"), true),
                    (
                        "kics",
                        "$IMG",
                        Err("variable IMG has no known value"),
                        false
                    ),
                    (".tpl", "d:1", Ok("d:1"), true),
                ]
            );
        }
    }

    #[test]
    fn script_variables_are_expanded_when_literal() {
        let t = "variables:\n  KICS: checkmarx/kics:latest\n  T: x:1\nkics:\n  variables:\n    T:\n      value: aquasec/trivy:0.69.4\n  script:\n    - docker run --rm \"$KICS\" scan\n    - docker run ${T} image .\nother:\n  extends: .x\n  script: docker pull $KICS\n";
        let out = run(t);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| (o.text.as_str(), o.image.clone().ok(), origin_texts(t, o)))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "$KICS",
                    Some("checkmarx/kics:latest".to_string()),
                    vec![("KICS".to_string(), "checkmarx/kics:latest")]
                ),
                (
                    "${T}",
                    Some("aquasec/trivy:0.69.4".to_string()),
                    vec![("T".to_string(), "aquasec/trivy:0.69.4")]
                ),
                ("$KICS", None, vec![]),
            ]
        );
    }

    #[test]
    fn strings_and_maps() {
        let t = "build:\n  image:\n    name: gcr.io/distroless/static:nonroot\n    entrypoint: [\"\"]\n  services:\n    - postgres:14\n    - name: 'redis:7'\n      alias: cache\ntest:\n  image: node:12\n";
        let out = run(t);
        assert_eq!(
            got(&out),
            vec![
                (
                    "gcr.io/distroless/static:nonroot",
                    Img,
                    Ok("gcr.io/distroless/static:nonroot")
                ),
                ("postgres:14", Svc, Ok("postgres:14")),
                ("redis:7", Svc, Ok("redis:7")),
                ("node:12", Img, Ok("node:12")),
            ]
        );
        assert_eq!(out.images[0].context.as_deref(), Some("build"));
        assert!(
            out.images
                .iter()
                .all(|o| o.exact && o.form == Form::Literal)
        );
    }

    #[test]
    fn default_and_global() {
        let t = "image: ruby:3\nservices: [redis]\ndefault:\n  image: ruby:3.3\n  services:\n    - name: pg:16\njob: {script: x}\n";
        let out = run(t);
        assert_eq!(
            got(&out),
            vec![
                ("ruby:3", Img, Ok("ruby:3")),
                ("redis", Svc, Ok("redis")),
                ("ruby:3.3", Img, Ok("ruby:3.3")),
                ("pg:16", Svc, Ok("pg:16")),
            ]
        );
        assert_eq!(out.images[2].context.as_deref(), Some("default"));
    }

    #[test]
    fn reserved_keys_are_not_jobs() {
        let t = "stages: [a]\nvariables:\n  image: not-an-image\ncache:\n  key: x\nworkflow:\n  rules: []\ninclude:\n  - local: x.yml\nlist:\n  - image\n";
        assert!(run(t).images.is_empty());
    }

    #[test]
    fn hidden_jobs_and_extends() {
        let t = ".base:\n  image: alpine:3\n  services: [docker:dind]\njob:\n  extends: .base\n";
        let out = run(t);
        assert_eq!(
            got(&out),
            vec![
                ("alpine:3", Img, Ok("alpine:3")),
                ("docker:dind", Svc, Ok("docker:dind")),
            ]
        );
        assert_eq!(out.images[0].context.as_deref(), Some(".base"));
    }

    #[test]
    fn reference_tags_are_skipped() {
        let t = ".a:\n  image: alpine:3\n  services: [redis:7]\njob:\n  image: !reference [.a, image]\n  services: !reference [.a, services]\njob2:\n  services:\n    - !reference [.a, services]\n    - pg:16\n  variables: !reference [.a, variables]\n";
        let out = run(t);
        assert_eq!(
            got(&out),
            vec![
                ("alpine:3", Img, Ok("alpine:3")),
                ("redis:7", Svc, Ok("redis:7")),
                ("pg:16", Svc, Ok("pg:16")),
            ]
        );
    }

    #[test]
    fn variables_global_and_job() {
        let t = "variables:\n  REG: registry.example.com\n  TAG:\n    value: '1.2'\n    description: tag\njob:\n  variables:\n    TAG: '2.0'\n  image: $REG/app:${TAG}\nother:\n  image: ${REG}/app:$TAG\n";
        let out = run(t);
        assert_eq!(
            got(&out),
            vec![
                ("$REG/app:${TAG}", Img, Ok("registry.example.com/app:2.0")),
                ("${REG}/app:$TAG", Img, Ok("registry.example.com/app:1.2")),
            ]
        );
        assert_eq!(
            origin_texts(t, &out.images[0]),
            vec![
                ("REG".into(), "registry.example.com"),
                ("TAG".into(), "2.0")
            ]
        );
        assert_eq!(
            origin_texts(t, &out.images[1]),
            vec![
                ("REG".into(), "registry.example.com"),
                ("TAG".into(), "1.2")
            ]
        );
    }

    #[test]
    fn undefined_variables_are_unresolved() {
        let t =
            "job:\n  image: $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA\n  services:\n    - name: ${DIND}\n";
        let out = run(t);
        let g = got(&out);
        assert!(g[0].2.unwrap_err().contains("CI_REGISTRY_IMAGE"));
        assert!(g[1].2.unwrap_err().contains("DIND"));
    }

    #[test]
    fn template_expanded_per_job() {
        let t = ".base:\n  image: node:$NODE\njob18:\n  extends: .base\n  variables: {NODE: '18'}\njob20:\n  extends: [.base]\n  variables: {NODE: '20'}\n";
        let out = run(t);
        assert_eq!(
            got(&out),
            vec![
                ("node:$NODE", Img, Ok("node:18")),
                ("node:$NODE", Img, Ok("node:20")),
            ]
        );
        // An unused template is expanded on its own.
        let t = ".base:\n  image: node:$NODE\n";
        assert!(got(&run(t))[0].2.is_err());
    }

    #[test]
    fn default_image_uses_job_variables() {
        let t = "variables: {V: '1'}\ndefault:\n  image: app:$V\na:\n  script: x\nb:\n  variables: {V: '2'}\nc:\n  image: other:1\n";
        let out = run(t);
        assert_eq!(
            got(&out),
            vec![
                ("app:$V", Img, Ok("app:1")),
                ("app:$V", Img, Ok("app:2")),
                ("other:1", Img, Ok("other:1")),
            ]
        );
    }

    #[test]
    fn inherit_controls() {
        let t = "variables: {V: '1'}\ndefault:\n  image: app:$V\n  services: [redis]\na:\n  inherit:\n    default: false\n  script: x\nb:\n  inherit:\n    variables: false\n    default: [image]\n";
        let out = run(t);
        let g = got(&out);
        // `a` inherits nothing, `b` the image without the variable; the services are written anyway.
        assert_eq!(g.len(), 2, "{g:?}");
        assert!(g[0].2.is_err());
        assert_eq!(g[1], ("redis", Svc, Ok("redis")));
    }

    #[test]
    fn nested_variables_and_expand_false() {
        let t = "variables:\n  REG: r.example\n  IMG: $REG/app\n  RAW:\n    value: $REG\n    expand: false\n  LOOP: $LOOP\njob:\n  image: $IMG:1\n  services: [$RAW, $LOOP, $$HOME]\n";
        let out = run(t);
        let g = got(&out);
        assert_eq!(g[0], ("$IMG:1", Img, Ok("r.example/app:1")));
        assert_eq!(
            origin_texts(t, &out.images[0]),
            vec![("IMG".into(), "$REG/app"), ("REG".into(), "r.example")]
        );
        assert_eq!(g[1], ("$RAW", Svc, Ok("$REG")));
        assert!(g[2].2.unwrap_err().contains("LOOP"));
        assert_eq!(g[3], ("$$HOME", Svc, Ok("$HOME")));
    }

    #[test]
    fn anchors_report_at_anchor() {
        let t = ".img: &img\n  name: alpine:3\na:\n  image: *img\nb:\n  image: &x busybox:1\nc:\n  image: *x\nd:\n  <<: *img\n";
        let out = run(t);
        let g = got(&out);
        assert_eq!(
            g,
            vec![
                ("alpine:3", Img, Ok("alpine:3")),
                ("busybox:1", Img, Ok("busybox:1"))
            ]
        );
        let busybox = &out.images[1];
        assert_eq!(busybox.alias_sites.len(), 1);
        assert_eq!(busybox.alias_sites[0].of(t), "*x");
    }

    #[test]
    fn component_inputs() {
        let t = "spec:\n  inputs:\n    image:\n      default: alpine:3.20\n    stage: {}\n---\njob:\n  image: $[[ inputs.image ]]\n  services:\n    - $[[ inputs.stage ]]\n    - $[[ inputs.image | expand_vars ]]\n";
        let out = run(t);
        let g = got(&out);
        assert_eq!(g[0], ("$[[ inputs.image ]]", Img, Ok("alpine:3.20")));
        assert_eq!(
            origin_texts(t, &out.images[0]),
            vec![("inputs.image".into(), "alpine:3.20")]
        );
        assert!(g[1].2.unwrap_err().contains("stage"));
        assert!(g[2].2.is_err());
    }

    #[test]
    fn parallel_matrix_variables() {
        let t = ".m:\n  parallel:\n    matrix:\n      - GO: ['1.25', '1.26']\n        OS: [bookworm]\n      - GO: '1.24'\n        OS: alpine\ntest:\n  extends: .m\n  image: golang:$GO-$OS\n";
        let out = run(t);
        let g: Vec<_> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(
            g,
            [
                "golang:1.25-bookworm",
                "golang:1.26-bookworm",
                "golang:1.24-alpine"
            ]
        );
        assert_eq!(
            origin_texts(t, &out.images[1]),
            vec![("GO".into(), "1.26"), ("OS".into(), "bookworm")]
        );
    }

    #[test]
    fn rules_variables_are_alternatives() {
        let t = "variables: {TAG: '1'}\nworkflow:\n  rules:\n    - if: $X\n      variables: {TAG: '2'}\n    - when: always\njob:\n  image: app:$TAG\n  rules:\n    - if: $Y\n      variables: {TAG: '3'}\n";
        let out = run(t);
        let g: Vec<_> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(g, ["app:1", "app:3", "app:2"]);
    }

    #[test]
    fn trigger_and_macos_jobs_run_no_container() {
        let t = "default:\n  image: ruby:3\ndownstream:\n  trigger: group/project\n  inherit:\n    variables: false\nmac:\n  image: macos-15-xcode-16\n  tags: [saas-macos-medium-m1]\nlinux:\n  image: python:3.13\n";
        let out = run(t);
        assert_eq!(
            got(&out),
            vec![
                ("ruby:3", Img, Ok("ruby:3")),
                ("python:3.13", Img, Ok("python:3.13"))
            ]
        );
    }

    #[test]
    fn image_map_deep_merge() {
        let t = ".base:\n  image:\n    name: alpine:3\njob:\n  extends: .base\n  image:\n    entrypoint: ['']\n";
        let out = run(t);
        assert_eq!(got(&out), vec![("alpine:3", Img, Ok("alpine:3"))]);
    }

    #[test]
    fn default_values_in_variables() {
        let t = "job:\n  image: ${IMG:-alpine:3}\n";
        let out = run(t);
        assert_eq!(got(&out), vec![("${IMG:-alpine:3}", Img, Ok("alpine:3"))]);
        assert_eq!(
            origin_texts(t, &out.images[0]),
            vec![("IMG".into(), "alpine:3")]
        );
    }

    #[test]
    fn parse_error_and_hostile_input() {
        let t = "a:\n  image: alpine\nb: [\n";
        let out = run(t);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.images.len(), 1);
        // Extends cycles and long chains terminate.
        let mut t = String::from(".t0:\n  extends: .t0\n  image: x\n");
        for i in 1..200 {
            t.push_str(&format!(".t{i}:\n  extends: [.t{}, .t{}]\n", i - 1, i / 2));
        }
        t.push_str("job:\n  extends: .t199\n");
        let out = run(&t);
        assert_eq!(out.images.len(), 1);
        for t in [
            "",
            "---\n",
            "[1, 2]\n",
            "job: 1\n",
            "job:\n  image: [a]\n",
            "$[[\n",
        ] {
            run(t);
        }
        run("job:\n  image: \"$[[ inputs.x\"\n");
    }

    // -----------------------------------------------------------------------------------------
    // Corpus

    fn corpus_dir() -> std::path::PathBuf {
        crate::test_corpus::dir("gitlab-ci")
    }

    fn corpus_files() -> Vec<std::path::PathBuf> {
        crate::test_corpus::files("gitlab-ci")
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    fn corpus(rel: &str) -> Option<(String, Extraction)> {
        let text = std::fs::read_to_string(corpus_dir().join(rel)).ok()?;
        let out = run(&text);
        Some((text, out))
    }

    #[test]
    fn corpus_invariants() {
        let files = corpus_files();
        if files.is_empty() {
            eprintln!("no corpus (TAGWARDEN_CORPUS): skipped");
            return;
        }
        let (mut n_images, mut n_unresolved) = (0, 0);
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let out = run(&text);
            let rel = path.strip_prefix(corpus_dir()).unwrap_or(path).display();
            for o in &out.images {
                n_images += 1;
                match &o.image {
                    Ok(i) => {
                        assert!(!i.trim().is_empty());
                        println!(
                            "{rel}: {:?} [{}] {:?} -> {i}",
                            o.source,
                            o.context.as_deref().unwrap_or(""),
                            o.text
                        );
                    }
                    Err(e) => {
                        n_unresolved += 1;
                        println!(
                            "{rel}: {:?} [{}] {:?} -> UNRESOLVED {}",
                            o.source,
                            o.context.as_deref().unwrap_or(""),
                            o.text,
                            e.reason
                        );
                    }
                }
            }
            for d in &out.diagnostics {
                println!("{rel}: diagnostic {:?} {}", d.kind, d.message);
            }
        }
        println!(
            "{} files, {n_images} images ({n_unresolved} unresolved)",
            files.len()
        );
        assert!(n_images > 50);
    }

    #[test]
    fn corpus_gitlab_variables() {
        let Some((t, out)) = corpus("gitlabhq__gitlab-shell/.gitlab-ci.yml") else {
            return;
        };
        // `default: image: ${DEFAULT_IMAGE}`, with GO_VERSION from the global variables and from
        // the `parallel: matrix:` of `.go-matrix-job`; the trigger job is not a container.
        let defaults: Vec<_> = out
            .images
            .iter()
            .filter(|o| o.text == "${DEFAULT_IMAGE}")
            .collect();
        let images: Vec<_> = defaults.iter().map(|o| o.image.clone().unwrap()).collect();
        assert_eq!(
            images,
            [
                "registry.gitlab.com/gitlab-org/gitlab-build-images/debian-bookworm-ruby-3.3.11-golang-1.25-rust-1.89:rubygems-3.6-git-2.51-exiftool-12.60",
                "registry.gitlab.com/gitlab-org/gitlab-build-images/debian-bookworm-ruby-3.3.11-golang-1.26-rust-1.89:rubygems-3.6-git-2.51-exiftool-12.60",
            ]
        );
        let origins = origin_texts(&t, defaults[1]);
        assert!(
            origins.contains(&("GO_VERSION".into(), "1.26")),
            "{origins:?}"
        );
        assert!(origins.contains(&("DEBIAN_VERSION".into(), "bookworm")));
        assert_eq!(defaults[0].context.as_deref(), Some("default"));

        let (t, out) = corpus("gitlabhq__gitlab-runner/.gitlab/ci/_common.gitlab-ci.yml").unwrap();
        let ci = &out.images[0];
        assert_eq!(ci.text, "$CI_IMAGE");
        assert_eq!(
            ci.image.as_deref(),
            Ok("registry.gitlab.com/gitlab-org/ci-cd/runner-tools/base-images/ci:0.0.48")
        );
        assert_eq!(
            origin_texts(&t, ci),
            vec![
                (
                    "CI_IMAGE".into(),
                    "${RUNNER_IMAGES_REGISTRY}/ci:${RUNNER_IMAGES_VERSION}"
                ),
                (
                    "RUNNER_IMAGES_REGISTRY".into(),
                    "registry.gitlab.com/gitlab-org/ci-cd/runner-tools/base-images"
                ),
                ("RUNNER_IMAGES_VERSION".into(), "0.0.48"),
            ]
        );

        // Variables defined in another (included) file are not known here.
        let (_, out) = corpus("gitlabhq__gitlab-runner/.gitlab/ci/qa.gitlab-ci.yml").unwrap();
        let linters = out
            .images
            .iter()
            .find(|o| o.text == "$RUNNER_LINTERS_IMAGE")
            .unwrap();
        assert!(
            linters
                .image
                .as_ref()
                .unwrap_err()
                .reason
                .contains("RUNNER_LINTERS_IMAGE")
        );

        // GitLab-hosted macOS runners name VM images: not reported.
        let (_, out) = corpus("pypa__cibuildwheel/.gitlab-ci.yml").unwrap();
        assert_eq!(
            got(&out),
            vec![
                ("python:3.13", Img, Ok("python:3.13")),
                ("docker:dind", Svc, Ok("docker:dind")),
                (
                    "docker.io/tonistiigi/binfmt:latest",
                    Source::GitlabScriptCommand,
                    Ok("docker.io/tonistiigi/binfmt:latest")
                ),
            ]
        );
    }

    #[test]
    fn corpus_checkov_and_ratchet() {
        let Some((_, out)) =
            corpus("bridgecrewio__checkov/tests/gitlab_ci/resources/images/.gitlab-ci.yml")
        else {
            return;
        };
        assert_eq!(
            got(&out),
            vec![
                ("ruby:2.6", Img, Ok("ruby:2.6")),
                (
                    "privateregistry/stuff/my-postgres:11.7",
                    Svc,
                    Ok("privateregistry/stuff/my-postgres:11.7")
                ),
                ("redis:latest", Svc, Ok("redis:latest")),
                ("nginx:1.17", Svc, Ok("nginx:1.17")),
                (
                    "privateregistry/stuff/myimage:11.7",
                    Source::GitlabScriptCommand,
                    Ok("privateregistry/stuff/myimage:11.7")
                ),
            ]
        );
        let (_, out) = corpus("sethvargo__ratchet/testdata/gitlabci.yml").unwrap();
        assert_eq!(
            got(&out),
            vec![
                (
                    "gcr.io/distroless/static-debian11:nonroot",
                    Img,
                    Ok("gcr.io/distroless/static-debian11:nonroot")
                ),
                ("node:12", Img, Ok("node:12")),
                ("amazon/aws-cli:latest", Img, Ok("amazon/aws-cli:latest")),
            ]
        );
        // A component: the `spec:` header document, then the jobs; no images.
        let (_, out) = corpus(
            "gitlabhq__cli/internal/commands/project/publish/catalog/testdata/test-repo/templates/component-1.yml",
        )
        .unwrap();
        assert!(out.images.is_empty());
        assert!(out.diagnostics.is_empty());
    }
}
