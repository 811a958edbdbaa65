//! GitHub Actions: image references in workflows (`jobs.<id>.container`,
//! `jobs.<id>.services.<name>.image`, steps' `uses: docker://…`) and in action metadata
//! (`runs.image: docker://…`, composite `runs.steps[].uses`), plus the actions and reusable
//! workflows they call (`uses: owner/repo[/path]@ref`), recorded as [`ActionUse`], not as images.
//!
//! Expressions (`${{ … }}`) are evaluated offline as far as the file allows:
//! - `matrix.*` is expanded from the job's static `strategy.matrix` (base keys, `exclude`, `include`,
//!   map values), one occurrence per distinct result, each [`Form::Expanded`] with origins at the
//!   matrix values. Combinations are computed as GitHub does, so several matrix keys in one
//!   reference stay correlated.
//! - `||`, `&&`, `!`, comparisons and `format()` are evaluated over every alternative, so
//!   `${{ matrix.db || 'postgres:16' }}` also yields `postgres:16`; a string literal that ends up
//!   in the reference is an origin named `literal`.
//! - Anything known only at run time (`inputs`, `vars`, `needs`, `env`, `fromJSON`, a matrix set by
//!   an expression) yields one occurrence with [`Unresolved`] naming the expression.
//!
//! Empty results (`''`, a missing matrix key, `null`) are not references.

use std::collections::{HashMap, HashSet};

use crate::read::ci_script::macros::{Macro, Script, script_node_images};
use crate::read::github_expr::{
    CmpOp, Expr, MAX_EXPR_DEPTH, Seg, find_close, parse_expr, parse_number,
};
use crate::read::yaml::{self, NodeKind, NodeRef, Style};
use crate::{ActionUse, Extraction, Form, ImageOccurrence, Origin, Source, Span, Unresolved};

const DOCKER_SCHEME: &str = "docker://";
/// Matrix combinations computed per job (GitHub runs at most 256); past this, values are
/// expanded key by key.
const MAX_ROWS: usize = 256;
/// Alternatives an expression may take before the rest is reported as unresolved.
const MAX_ALTERNATIVES: usize = 64;
/// Distinct images one reference may expand to.
const MAX_IMAGES: usize = 256;
/// Longer expressions are not evaluated (bounded work on hostile input).
const MAX_EXPR_LEN: usize = 4096;
/// Locally built image names remembered per job (bounded work on hostile input).
const MAX_BUILT: usize = 1000;
/// Origin name of a string literal of an expression that becomes (part of) the reference.
const LITERAL_ORIGIN: &str = "literal";

/// Extracts image references and action uses from a workflow file (`.github/workflows/*.yml`).
pub fn extract_workflow(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let yaml = yaml::parse(text, &mut out);
    let mut c = Collector::new(text, out);
    for doc in yaml.documents() {
        let Some(jobs) = doc.get("jobs") else {
            continue;
        };
        let aliases = with_alias(&[], jobs);
        c.workflow_env = env_map(doc.get("env"));
        for (id, job) in jobs.entries() {
            c.job(id, job, &aliases);
        }
    }
    c.out
}

/// Extracts image references and action uses from action metadata (`action.yml`).
pub fn extract_action(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let yaml = yaml::parse(text, &mut out);
    let mut c = Collector::new(text, out);
    for doc in yaml.documents() {
        let Some(runs) = doc.get("runs") else {
            continue;
        };
        let context = doc.get_str("name");
        let aliases = with_alias(&[], runs);
        let none = Matrix::Absent;
        if let Some(image) = runs.get("image")
            && image.as_str().is_some_and(|v| v.starts_with(DOCKER_SCHEME))
        {
            let at = Site {
                source: Source::GithubActionImage,
                context,
                aliases: &aliases,
            };
            c.image(image, DOCKER_SCHEME.len(), &at, &none, false);
        }
        if let Some(steps) = runs.get("steps") {
            let aliases = with_alias(&aliases, steps);
            c.built = built_in_steps(steps);
            for step in steps.items() {
                c.step(step, context, &none, &aliases);
            }
        }
    }
    c.out
}

/// Where an image reference was found, for the occurrence's fields.
struct Site<'s> {
    source: Source,
    context: Option<&'s str>,
    /// Aliases passed on the way to the value (`steps: *steps`).
    aliases: &'s [Span],
}

struct Collector<'t> {
    text: &'t str,
    out: Extraction,
    /// Action uses already recorded, by span: an alias visits the same `uses:` twice.
    seen_actions: HashSet<Span>,
    /// Index of each recorded image by (span, source, image): an alias reaches the same value
    /// twice, and a linear search over thousands of occurrences would be quadratic.
    seen_images: HashMap<(Span, Source, Result<String, String>), usize>,
    /// Images the steps of the current job build themselves (`docker build -t name`).
    built: Vec<String>,
    /// Literal `env:` values of the workflow and of the current job: (value, span) by name.
    workflow_env: HashMap<String, (String, Span)>,
    job_env: HashMap<String, (String, Span)>,
    /// Names assigned with `NAME=` somewhere in the file: their `env:` value is not trusted.
    assigned: HashSet<&'t str>,
}

impl<'t> Collector<'t> {
    fn new(text: &'t str, out: Extraction) -> Self {
        Self {
            text,
            out,
            seen_actions: HashSet::new(),
            seen_images: HashMap::new(),
            built: Vec::new(),
            workflow_env: HashMap::new(),
            job_env: HashMap::new(),
            assigned: crate::read::shell::assigned_names(text),
        }
    }

    /// Records an occurrence; one already recorded for the same value gains the alias sites.
    fn push(&mut self, occ: ImageOccurrence) {
        let key = (
            occ.span,
            occ.source,
            occ.image.clone().map_err(|e| e.reason),
        );
        match self
            .seen_images
            .get(&key)
            .and_then(|&i| self.out.images.get_mut(i))
        {
            Some(existing) => {
                for s in occ.alias_sites {
                    if !existing.alias_sites.contains(&s) {
                        existing.alias_sites.push(s);
                    }
                }
            }
            None => {
                self.seen_images.insert(key, self.out.images.len());
                self.out.images.push(occ);
            }
        }
    }

    fn job(&mut self, id: &str, job: NodeRef<'_, '_>, aliases: &[Span]) {
        let aliases = with_alias(aliases, job);
        let matrix = Matrix::of_job(job);
        if let Matrix::Rows {
            approximate: true, ..
        } = &matrix
        {
            let at = job.get("strategy").map_or(job.start(), |s| s.start());
            self.out.note(
                Span::new(at, at),
                format!(
                    "job {id}: strategy.matrix has more than {MAX_ROWS} combinations; \
                     matrix values are expanded key by key"
                ),
            );
        }
        if let Some(container) = job.get("container") {
            let aliases = with_alias(&aliases, container);
            let at = Site {
                source: Source::GithubContainer,
                context: Some(id),
                aliases: &aliases,
            };
            if container.is_mapping() {
                if let Some(image) = container.get("image") {
                    self.image(image, 0, &at, &matrix, false);
                }
            } else {
                // `container: ${{ matrix.c }}` may evaluate to a map with `image:`.
                self.image(container, 0, &at, &matrix, true);
            }
        }
        if let Some(services) = job.get("services") {
            let aliases = with_alias(&aliases, services);
            for (name, service) in services.entries() {
                let aliases = with_alias(&aliases, service);
                if let Some(image) = service.get("image") {
                    let at = Site {
                        source: Source::GithubService,
                        context: Some(name),
                        aliases: &aliases,
                    };
                    self.image(image, 0, &at, &matrix, false);
                }
            }
        }
        // A reusable-workflow call: `jobs.<id>.uses: owner/repo/.github/workflows/x.yml@ref`.
        if let Some(uses) = job.get("uses") {
            self.action_use(uses);
        }
        if let Some(steps) = job.get("steps") {
            let aliases = with_alias(&aliases, steps);
            self.built = built_in_steps(steps);
            self.job_env = env_map(job.get("env"));
            for step in steps.items() {
                self.step(step, Some(id), &matrix, &aliases);
            }
            self.built.clear();
            self.job_env.clear();
        }
    }

    fn step(
        &mut self,
        step: NodeRef<'_, '_>,
        context: Option<&str>,
        matrix: &Matrix<'_, '_>,
        aliases: &[Span],
    ) {
        if let Some(run) = step.get("run") {
            let context = match (context, step.get_str("name")) {
                (Some(c), Some(name)) => Some(format!("{c} / {name}")),
                (c, _) => c.map(str::to_string),
            };
            let step_env = env_map(step.get("env"));
            let (job_env, workflow_env) = (&self.job_env, &self.workflow_env);
            let assigned = &self.assigned;
            let env = |name: &str| {
                if assigned.contains(name) {
                    return None;
                }
                [&step_env, job_env, workflow_env]
                    .into_iter()
                    .find_map(|m| m.get(name))
                    .cloned()
            };
            let script = Script {
                text: self.text,
                source: Source::GithubRunCommand,
                context: context.as_deref(),
                built: &self.built,
                env: &env,
                powershell: matches!(step.get_str("shell"), Some("pwsh" | "powershell")),
            };
            // GitHub replaces `${{ … }}` before the shell runs: `env.X` with the step's env.
            let expressions = |value: &str| run_expressions(value, &env);
            script_node_images(&script, run, &expressions, &mut self.out);
        }
        let Some(uses) = step.get("uses") else {
            return;
        };
        let Some(value) = uses.as_str() else {
            return;
        };
        if value.starts_with(DOCKER_SCHEME) {
            let aliases = with_alias(aliases, step);
            let at = Site {
                source: Source::GithubStepUses,
                context,
                aliases: &aliases,
            };
            self.image(uses, DOCKER_SCHEME.len(), &at, matrix, false);
        } else {
            self.action_use(uses);
        }
    }

    /// Records `owner/repo[/path]@ref`; local actions, `docker://` and expressions are not actions.
    fn action_use(&mut self, node: NodeRef<'_, '_>) {
        let Some(value) = node.as_str() else {
            return;
        };
        let Some((repository, path, git_ref)) = parse_action_ref(value) else {
            return;
        };
        let Some((span, _, _)) = yaml::scalar_site(node) else {
            return;
        };
        if !self.seen_actions.insert(span) {
            return;
        }
        self.out.actions.push(ActionUse {
            span,
            text: span.of(self.text).to_string(),
            pinned: git_ref.len() == 40 && git_ref.bytes().all(|b| b.is_ascii_hexdigit()),
            repository: repository.to_string(),
            path,
            git_ref: git_ref.to_string(),
        });
    }

    /// Records the image a scalar names, after `skip` bytes (the `docker://` scheme).
    fn image(
        &mut self,
        node: NodeRef<'_, '_>,
        skip: usize,
        at: &Site<'_>,
        matrix: &Matrix<'_, '_>,
        allow_object: bool,
    ) {
        let Some(value) = node.as_str().and_then(|v| v.get(skip..)) else {
            return;
        };
        let Some((site, exact, mut alias_sites)) = yaml::scalar_site(node) else {
            return;
        };
        for a in at.aliases {
            if !alias_sites.contains(a) {
                alias_sites.push(*a);
            }
        }
        // An escaped or block scalar can only be reported as a whole.
        let span = if exact {
            Span::new((site.start + skip).min(site.end), site.end)
        } else {
            site
        };
        let occurrence = |image: Result<String, Unresolved>, form: Form| ImageOccurrence {
            span,
            text: span.of(self.text).to_string(),
            image,
            source: at.source,
            form,
            alias_sites: alias_sites.clone(),
            context: at.context.map(str::to_string),
            exact,
        };
        if !value.contains("${{") {
            if !value.trim().is_empty() {
                let occ = occurrence(Ok(value.to_string()), Form::Literal);
                self.push(occ);
            }
            return;
        }
        let expansion = expand_template(value, exact.then_some(span.start), matrix, allow_object);
        let mut found = Vec::new();
        for (image, origins) in expansion.images {
            found.push(occurrence(Ok(image), Form::Expanded { origins }));
        }
        if let Some(reason) = expansion.unresolved {
            found.push(occurrence(
                Err(Unresolved::new(reason)),
                Form::Expanded {
                    origins: Vec::new(),
                },
            ));
        }
        for occ in found {
            self.push(occ);
        }
    }
}

/// The `${{ … }}` expressions of a `run:` script, which GitHub replaces before the shell runs it:
/// `env.NAME` by the value `env` knows, anything else by a value set when the workflow runs.
fn run_expressions(value: &str, env: &dyn Fn(&str) -> Option<(String, Span)>) -> Vec<Macro> {
    let mut found = Vec::new();
    let mut from = 0;
    while found.len() < MAX_IMAGES
        && let Some(open) = value
            .get(from..)
            .and_then(|r| r.find("${{"))
            .map(|n| from + n)
    {
        let inner_at = open + 3;
        let Some(close) = value
            .get(inner_at..)
            .and_then(find_close)
            .map(|n| inner_at + n)
        else {
            break;
        };
        let expr = value.get(inner_at..close).unwrap_or_default().trim();
        let written = value.get(open..close + 2).unwrap_or_default();
        let name = expr
            .strip_prefix("env.")
            .filter(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        let known = name.and_then(|n| Some((n, env(n)?)));
        found.push(Macro {
            start: open,
            end: close + 2,
            name: expr.rsplit('.').next().unwrap_or(expr).to_string(),
            value: match known {
                Some((n, (v, span))) => Ok((
                    v,
                    vec![Origin {
                        name: n.to_string(),
                        span,
                    }],
                )),
                None => Err(Unresolved::new(format!(
                    "{written} is set when the workflow runs"
                ))),
            },
        });
        from = close + 2;
    }
    found
}

/// The `env:` entries whose values are written literally (no expression), with their spans.
/// A name set by an expression shadows outer ones, so it is kept unresolvable (no entry).
fn env_map(env: Option<NodeRef<'_, '_>>) -> HashMap<String, (String, Span)> {
    let mut map = HashMap::new();
    for (name, value) in env.map(|e| e.entries()).unwrap_or_default() {
        if let (Some(v), Some(span)) = (value.as_str(), value.exact_span())
            && !v.contains('$')
        {
            map.insert(name.to_string(), (v.to_string(), span));
        }
    }
    map
}

/// Images the `run:` scripts of these steps build (`docker build -t`, `docker commit`, `docker tag`).
fn built_in_steps(steps: NodeRef<'_, '_>) -> Vec<String> {
    let mut built: Vec<String> = steps
        .items()
        .iter()
        .filter_map(|s| s.get("run")?.resolve()?.as_str())
        .flat_map(crate::read::shell::built_images)
        .collect();
    built.truncate(MAX_BUILT);
    // `docker/build-push-action` names what it builds in `with.tags` (as written).
    for step in steps.items() {
        if step
            .get_str("uses")
            .is_some_and(|u| u.starts_with("docker/build-push-action"))
            && let Some(tags) = step.get("with").and_then(|w| w.get_str("tags"))
        {
            built.extend(
                tags.split([',', '\n'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string),
            );
        }
    }
    built.truncate(MAX_BUILT);
    built
}

/// `aliases` plus the node's own alias site, if the node is an alias.
fn with_alias(aliases: &[Span], node: NodeRef<'_, '_>) -> Vec<Span> {
    let mut v = aliases.to_vec();
    if let Some(s) = node.alias_span()
        && !v.contains(&s)
    {
        v.push(s);
    }
    v
}

/// Splits `owner/repo[/path]@ref` into its parts.
fn parse_action_ref(value: &str) -> Option<(&str, Option<String>, &str)> {
    if value.starts_with(['.', '/']) || value.starts_with(DOCKER_SCHEME) || value.contains("${{") {
        return None;
    }
    let (target, git_ref) = value.rsplit_once('@')?;
    let mut parts = target.splitn(3, '/');
    let owner = parts.next().filter(|s| !s.is_empty())?;
    let repo = parts.next().filter(|s| !s.is_empty())?;
    let path = parts.next().and_then(normalize_path);
    if git_ref.is_empty() || git_ref.contains(char::is_whitespace) {
        return None;
    }
    let repository = target.get(..owner.len() + 1 + repo.len())?;
    Some((repository, path, git_ref))
}

/// `init`, `./init`, `init//` and `x/../init` all name the same sub-directory; a path that climbs
/// out of the repository is kept as written.
fn normalize_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Some(path.to_string());
                }
            }
            s => parts.push(s),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

// ---------------------------------------------------------------------------------------------
// Matrix

/// A matrix value: a YAML node, or something set at run time.
#[derive(Clone, Debug)]
enum Cell<'y, 'a> {
    Node(NodeRef<'y, 'a>),
    Unknown(String),
}

/// One matrix combination: key (as written) and value.
type Row<'y, 'a> = Vec<(&'y str, Cell<'y, 'a>)>;

/// A job's `strategy.matrix`, as the combinations GitHub would run.
#[derive(Debug)]
enum Matrix<'y, 'a> {
    /// No matrix: `matrix.*` is empty.
    Absent,
    /// The whole matrix is an expression.
    Dynamic(String),
    Rows {
        rows: Vec<Row<'y, 'a>>,
        /// Set when `include` is an expression: keys not found may still be defined.
        open: Option<String>,
        /// Too many combinations: rows hold every value of each key but not every combination.
        approximate: bool,
    },
}

impl<'y, 'a> Matrix<'y, 'a> {
    fn of_job(job: NodeRef<'y, 'a>) -> Self {
        let Some(strategy) = job.get("strategy") else {
            return Self::Absent;
        };
        if let Some(s) = strategy.as_str() {
            return if s.contains("${{") {
                Self::Dynamic(format!("strategy is set at run time by {s}"))
            } else {
                Self::Absent
            };
        }
        let Some(matrix) = strategy.get("matrix") else {
            return Self::Absent;
        };
        if let Some(s) = matrix.as_str() {
            return if s.contains("${{") {
                Self::Dynamic(format!("strategy.matrix is set at run time by {s}"))
            } else {
                Self::Absent
            };
        }
        if !matrix.is_mapping() {
            return Self::Absent;
        }
        Self::compute(matrix)
    }

    fn compute(matrix: NodeRef<'y, 'a>) -> Self {
        let mut base: Vec<(&'y str, Vec<Cell<'y, 'a>>)> = Vec::new();
        for (key, value) in matrix.entries() {
            if key == "include" || key == "exclude" {
                continue;
            }
            let cells: Vec<Cell<'y, 'a>> = if value.is_sequence() {
                value.items().into_iter().map(Cell::Node).collect()
            } else if let Some(s) = value.as_str().filter(|s| s.contains("${{")) {
                vec![Cell::Unknown(format!(
                    "matrix.{key} is set at run time by {s}"
                ))]
            } else {
                vec![Cell::Node(value)]
            };
            if !cells.is_empty() {
                base.push((key, cells));
            }
        }
        let combinations = base
            .iter()
            .try_fold(1usize, |n, (_, cells)| n.checked_mul(cells.len()));
        let approximate = combinations.is_none_or(|n| n > MAX_ROWS);
        let mut rows: Vec<Row<'y, 'a>> = Vec::new();
        if approximate {
            // Every value of every key appears in some row; combinations are not all there.
            let longest = base.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
            for i in 0..longest.min(MAX_ROWS) {
                rows.push(
                    base.iter()
                        .filter_map(|(k, cells)| {
                            cells.get(i % cells.len().max(1)).map(|c| (*k, c.clone()))
                        })
                        .collect(),
                );
            }
        } else if !base.is_empty() {
            rows.push(Vec::new());
            for (key, cells) in &base {
                let mut next = Vec::with_capacity(rows.len() * cells.len());
                for row in &rows {
                    for cell in cells {
                        let mut r = row.clone();
                        r.push((*key, cell.clone()));
                        next.push(r);
                    }
                }
                rows = next;
            }
            if let Some(exclude) = matrix.get("exclude") {
                for entry in exclude.items() {
                    if entry.is_mapping() {
                        rows.retain(|row| !row_matches(row, entry));
                    }
                }
            }
        }
        let mut open = None;
        match matrix.get("include") {
            Some(include) if include.is_sequence() => {
                let originals = rows.len();
                let is_base = |k: &str| base.iter().any(|(b, _)| *b == k);
                for entry in include.items().into_iter().take(MAX_ROWS) {
                    if !entry.is_mapping() {
                        continue;
                    }
                    let pairs = entry.entries();
                    let mut added = false;
                    for row in rows.iter_mut().take(originals) {
                        let fits = pairs.iter().all(|(k, v)| {
                            !is_base(k) || row.iter().any(|(rk, c)| rk == k && cell_eq(c, *v))
                        });
                        if fits {
                            for (k, v) in &pairs {
                                set_cell(row, k, Cell::Node(*v));
                            }
                            added = true;
                        }
                    }
                    if !added && rows.len() < MAX_ROWS {
                        rows.push(pairs.iter().map(|(k, v)| (*k, Cell::Node(*v))).collect());
                    }
                }
            }
            Some(include) => {
                if let Some(s) = include.as_str().filter(|s| s.contains("${{")) {
                    open = Some(format!("strategy.matrix.include is set at run time by {s}"));
                }
            }
            None => {}
        }
        Self::Rows {
            rows,
            open,
            approximate,
        }
    }
}

fn set_cell<'y, 'a>(row: &mut Row<'y, 'a>, key: &'y str, cell: Cell<'y, 'a>) {
    match row.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = cell,
        None => row.push((key, cell)),
    }
}

/// True when the row has every key of `entry` with an equal value (an `exclude` entry).
fn row_matches(row: &Row<'_, '_>, entry: NodeRef<'_, '_>) -> bool {
    entry
        .entries()
        .iter()
        .all(|(k, v)| row.iter().any(|(rk, c)| rk == k && cell_eq(c, *v)))
}

fn cell_eq(cell: &Cell<'_, '_>, value: NodeRef<'_, '_>) -> bool {
    match cell {
        Cell::Node(n) => nodes_eq(*n, value, 0),
        Cell::Unknown(_) => false,
    }
}

/// Scalar equality, or partial equality of maps (every key of `b` equal in `a`).
fn nodes_eq(a: NodeRef<'_, '_>, b: NodeRef<'_, '_>, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x == y,
        (None, None) if a.is_mapping() && b.is_mapping() => b
            .entries()
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| nodes_eq(av, *v, depth + 1))),
        _ => match (a.resolve(), b.resolve()) {
            (Some(x), Some(y)) => x.id() == y.id(),
            _ => false,
        },
    }
}

/// What `matrix` means while one expression is evaluated.
#[derive(Clone, Copy)]
enum MatrixView<'r, 'y, 'a> {
    Unknown(&'r str),
    Row {
        row: &'r [(&'y str, Cell<'y, 'a>)],
        open: Option<&'r str>,
    },
}

// ---------------------------------------------------------------------------------------------
// Templates: text with `${{ … }}` expressions

enum Piece {
    Text(String),
    Expr {
        /// The `${{ … }}` as written, to name it in reasons.
        source: String,
        ast: Result<Expr, String>,
        uses_matrix: bool,
    },
}

/// The distinct images a template evaluates to, with their origins, and why some could not be.
#[derive(Debug, Default)]
struct Expansion {
    images: Vec<(String, Vec<Origin>)>,
    unresolved: Option<String>,
    index: HashMap<String, usize>,
}

impl Expansion {
    fn add(&mut self, image: String, origins: Vec<Origin>) {
        if let Some((_, existing)) = self.index.get(&image).and_then(|&i| self.images.get_mut(i)) {
            for o in origins {
                if !existing.contains(&o) {
                    existing.push(o);
                }
            }
        } else if self.images.len() < MAX_IMAGES {
            self.index.insert(image.clone(), self.images.len());
            self.images.push((image, origins));
        } else if self.unresolved.is_none() {
            self.unresolved = Some(format!("more than {MAX_IMAGES} alternatives"));
        }
    }

    fn unresolved(&mut self, reason: String) {
        if self.unresolved.is_none() {
            self.unresolved = Some(reason);
        }
    }
}

/// Splits a value into text and `${{ … }}` pieces; `base` is the value's offset in the file when
/// the value is written verbatim there (so that literals get spans).
fn split_template(value: &str, base: Option<usize>) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest_at = 0;
    while let Some(open) = value[rest_at..].find("${{").map(|i| rest_at + i) {
        if open > rest_at {
            pieces.push(Piece::Text(value[rest_at..open].to_string()));
        }
        let inner_at = open + 3;
        let close = find_close(&value[inner_at..])
            .map(|i| inner_at + i)
            .ok_or_else(|| format!("unterminated expression in {value:?}"))?;
        let inner = &value[inner_at..close];
        let source = value[open..close + 2].to_string();
        let ast = if inner.len() > MAX_EXPR_LEN {
            Err("expression too long to evaluate".to_string())
        } else {
            parse_expr(inner, base.map(|b| b + inner_at))
        };
        let uses_matrix = ast.as_ref().is_ok_and(Expr::uses_matrix);
        pieces.push(Piece::Expr {
            source,
            ast,
            uses_matrix,
        });
        rest_at = close + 2;
    }
    if rest_at < value.len() {
        pieces.push(Piece::Text(value[rest_at..].to_string()));
    }
    Ok(pieces)
}

fn expand_template(
    value: &str,
    base: Option<usize>,
    matrix: &Matrix<'_, '_>,
    allow_object: bool,
) -> Expansion {
    let mut expansion = Expansion::default();
    let pieces = match split_template(value, base) {
        Ok(p) => p,
        Err(reason) => {
            expansion.unresolved(reason);
            return expansion;
        }
    };
    let uses_matrix = pieces.iter().any(|p| {
        matches!(
            p,
            Piece::Expr {
                uses_matrix: true,
                ..
            }
        )
    });
    match matrix {
        Matrix::Rows { rows, open, .. } if uses_matrix => {
            // Rows that agree on every key the template reads give the same result.
            let mut keys = Vec::new();
            let projectable = pieces.iter().all(|p| match p {
                Piece::Expr { ast: Ok(e), .. } => e.matrix_keys(&mut keys),
                _ => true,
            });
            let mut seen = HashSet::new();
            for row in rows {
                if projectable {
                    let signature: Vec<Option<usize>> = keys
                        .iter()
                        .map(|k| {
                            row.iter()
                                .find(|(rk, _)| rk.eq_ignore_ascii_case(k))
                                .map(|(_, c)| match c {
                                    Cell::Node(n) => n.id(),
                                    Cell::Unknown(_) => usize::MAX,
                                })
                        })
                        .collect();
                    if !seen.insert(signature) {
                        continue;
                    }
                }
                let view = MatrixView::Row {
                    row,
                    open: open.as_deref(),
                };
                eval_pieces(&pieces, view, allow_object, &mut expansion);
            }
        }
        Matrix::Dynamic(reason) => {
            eval_pieces(
                &pieces,
                MatrixView::Unknown(reason),
                allow_object,
                &mut expansion,
            );
        }
        _ => {
            let view = if uses_matrix {
                MatrixView::Unknown("the job has no strategy.matrix")
            } else {
                MatrixView::Row {
                    row: &[],
                    open: None,
                }
            };
            eval_pieces(&pieces, view, allow_object, &mut expansion);
        }
    }
    expansion
}

/// A partial result while a template is assembled.
struct Partial {
    text: String,
    origins: Vec<Origin>,
    /// An expression in a larger text evaluated to nothing (a missing matrix key).
    missing: bool,
}

fn eval_pieces(
    pieces: &[Piece],
    matrix: MatrixView<'_, '_, '_>,
    allow_object: bool,
    expansion: &mut Expansion,
) {
    let whole = pieces.len() == 1;
    let mut acc = vec![Partial {
        text: String::new(),
        origins: Vec::new(),
        missing: false,
    }];
    for piece in pieces {
        let alternatives: Vec<(String, Vec<Origin>, bool)> = match piece {
            Piece::Text(t) => vec![(t.clone(), Vec::new(), false)],
            Piece::Expr { source, ast, .. } => {
                let alts = match ast {
                    Ok(ast) => eval(ast, matrix, 0),
                    Err(e) => vec![Alt::unknown(e.clone())],
                };
                let mut v = Vec::new();
                for alt in alts {
                    if let Val::Unknown(reason) = &alt.val {
                        expansion.unresolved(format!("{source}: {reason}"));
                        continue;
                    }
                    if whole {
                        if let Some(found) = whole_value(alt, allow_object) {
                            v.push((found.0, found.1, false));
                        }
                    } else {
                        let missing = matches!(alt.val, Val::Null);
                        v.push((stringify(&alt.val), alt.origins, missing));
                    }
                }
                v
            }
        };
        let mut next = Vec::new();
        'outer: for p in &acc {
            for (text, origins, missing) in &alternatives {
                if next.len() >= MAX_ALTERNATIVES {
                    expansion.unresolved(format!(
                        "{value:?} has more than {MAX_ALTERNATIVES} alternatives",
                        value = pieces_text(pieces)
                    ));
                    break 'outer;
                }
                let mut o = p.origins.clone();
                o.extend(origins.iter().cloned());
                next.push(Partial {
                    text: format!("{}{}", p.text, text),
                    origins: o,
                    missing: p.missing || *missing,
                });
            }
        }
        acc = next;
    }
    for p in acc {
        if !p.missing && !p.text.trim().is_empty() {
            expansion.add(p.text, p.origins);
        }
    }
}

fn pieces_text(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.as_str(),
            Piece::Expr { source, .. } => source.as_str(),
        })
        .collect()
}

/// The image a whole-value expression yields: a string, or a container map's `image:`.
fn whole_value(alt: Alt<'_, '_>, allow_object: bool) -> Option<(String, Vec<Origin>)> {
    match alt.val {
        Val::Str(s) => Some((s, alt.origins)),
        Val::Num(n) => Some((fmt_num(n), alt.origins)),
        Val::Node(n, name) if allow_object && n.is_mapping() => {
            let image = n.get("image")?;
            let v = node_val(image, &format!("{name}.image"));
            match v.val {
                Val::Str(s) => Some((s, v.origins)),
                _ => None,
            }
        }
        _ => None,
    }
}

#[derive(Clone, Debug)]
enum Val<'y, 'a> {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// A map or sequence from the matrix, with the path that reached it.
    Node(NodeRef<'y, 'a>, String),
    /// The `matrix` context itself.
    Matrix,
    /// Known only at run time; the reason says why.
    Unknown(String),
}

/// One value an expression may take, with the definitions it came from.
#[derive(Clone, Debug)]
struct Alt<'y, 'a> {
    val: Val<'y, 'a>,
    origins: Vec<Origin>,
}

impl<'y, 'a> Alt<'y, 'a> {
    fn of(val: Val<'y, 'a>) -> Self {
        Self {
            val,
            origins: Vec::new(),
        }
    }

    fn unknown(reason: impl Into<String>) -> Self {
        Self::of(Val::Unknown(reason.into()))
    }
}

fn both_bools<'y, 'a>() -> Vec<Alt<'y, 'a>> {
    vec![Alt::of(Val::Bool(true)), Alt::of(Val::Bool(false))]
}

/// Keeps a bounded, duplicate-free list of alternatives.
fn bounded<'y, 'a>(alts: Vec<Alt<'y, 'a>>) -> Vec<Alt<'y, 'a>> {
    let mut out: Vec<Alt<'y, 'a>> = Vec::new();
    for a in alts {
        if out.iter().any(|o| same_alt(o, &a)) {
            continue;
        }
        if out.len() >= MAX_ALTERNATIVES {
            out.push(Alt::unknown(format!(
                "more than {MAX_ALTERNATIVES} alternatives"
            )));
            break;
        }
        out.push(a);
    }
    out
}

fn same_alt(a: &Alt<'_, '_>, b: &Alt<'_, '_>) -> bool {
    let same_val = match (&a.val, &b.val) {
        (Val::Null, Val::Null) | (Val::Matrix, Val::Matrix) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Num(x), Val::Num(y)) => x.to_bits() == y.to_bits(),
        (Val::Str(x), Val::Str(y)) | (Val::Unknown(x), Val::Unknown(y)) => x == y,
        (Val::Node(x, _), Val::Node(y, _)) => x.id() == y.id(),
        _ => false,
    };
    same_val && a.origins == b.origins
}

fn truthy(v: &Val<'_, '_>) -> Option<bool> {
    match v {
        Val::Null => Some(false),
        Val::Bool(b) => Some(*b),
        Val::Num(n) => Some(*n != 0.0 && !n.is_nan()),
        Val::Str(s) => Some(!s.is_empty()),
        Val::Node(..) | Val::Matrix => Some(true),
        Val::Unknown(_) => None,
    }
}

fn eval<'y, 'a>(e: &Expr, m: MatrixView<'_, 'y, 'a>, depth: usize) -> Vec<Alt<'y, 'a>> {
    if depth > MAX_EXPR_DEPTH {
        return vec![Alt::unknown("expression nested too deeply")];
    }
    let d = depth + 1;
    let alts = match e {
        Expr::Null => vec![Alt::of(Val::Null)],
        Expr::Bool(b) => vec![Alt::of(Val::Bool(*b))],
        Expr::Num(n) => vec![Alt::of(Val::Num(*n))],
        Expr::Str { value, span } => vec![Alt {
            val: Val::Str(value.clone()),
            origins: span
                .iter()
                .map(|s| Origin {
                    name: LITERAL_ORIGIN.to_string(),
                    span: *s,
                })
                .collect(),
        }],
        Expr::Context(name) => {
            if name.eq_ignore_ascii_case("matrix") {
                match m {
                    MatrixView::Unknown(r) => vec![Alt::unknown(r)],
                    MatrixView::Row { .. } => vec![Alt::of(Val::Matrix)],
                }
            } else {
                vec![Alt::unknown(format!(
                    "the {name} context is only known at run time"
                ))]
            }
        }
        Expr::Member(base, seg) => {
            let mut out = Vec::new();
            for b in eval(base, m, d) {
                let keys: Vec<Alt<'y, 'a>> = match seg {
                    Seg::Name(n) => vec![Alt::of(Val::Str(n.clone()))],
                    Seg::Index(i) => eval(i, m, d),
                    Seg::Star => vec![Alt::unknown("object filters (.*) are not evaluated")],
                };
                for k in keys {
                    out.push(member(&b, &k, m));
                }
            }
            out
        }
        Expr::Not(inner) => {
            let mut out = Vec::new();
            for a in eval(inner, m, d) {
                match truthy(&a.val) {
                    Some(b) => out.push(Alt::of(Val::Bool(!b))),
                    None => out.extend(both_bools()),
                }
            }
            out
        }
        Expr::And(l, r) => {
            let mut out = Vec::new();
            let mut right = None;
            for a in eval(l, m, d) {
                match truthy(&a.val) {
                    Some(true) => out.extend(right.get_or_insert_with(|| eval(r, m, d)).clone()),
                    Some(false) => out.push(a),
                    None => {
                        // When falsy, the result is that falsy value: never a reference.
                        out.push(Alt::of(Val::Null));
                        out.extend(right.get_or_insert_with(|| eval(r, m, d)).clone());
                    }
                }
            }
            out
        }
        Expr::Or(l, r) => {
            let mut out = Vec::new();
            let mut right = None;
            for a in eval(l, m, d) {
                match truthy(&a.val) {
                    Some(true) => out.push(a),
                    Some(false) => out.extend(right.get_or_insert_with(|| eval(r, m, d)).clone()),
                    None => {
                        out.push(a);
                        out.extend(right.get_or_insert_with(|| eval(r, m, d)).clone());
                    }
                }
            }
            out
        }
        Expr::Cmp(op, l, r) => {
            let left = eval(l, m, d);
            let right = eval(r, m, d);
            let mut out = Vec::new();
            for a in &left {
                for b in &right {
                    match compare(*op, &a.val, &b.val) {
                        Some(x) => out.push(Alt::of(Val::Bool(x))),
                        None => out.extend(both_bools()),
                    }
                }
            }
            out
        }
        Expr::Call(name, args) => call(name, args, m, d),
    };
    bounded(alts)
}

/// `base.key` / `base[key]`.
fn member<'y, 'a>(base: &Alt<'y, 'a>, key: &Alt<'y, 'a>, m: MatrixView<'_, 'y, 'a>) -> Alt<'y, 'a> {
    let key = match &key.val {
        Val::Unknown(r) => return Alt::unknown(r.clone()),
        Val::Str(s) => s.clone(),
        Val::Num(n) => fmt_num(*n),
        _ => return Alt::of(Val::Null),
    };
    match &base.val {
        Val::Unknown(r) => Alt::unknown(r.clone()),
        Val::Matrix => {
            let MatrixView::Row { row, open } = m else {
                return Alt::unknown("matrix is only known at run time");
            };
            match row.iter().find(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                Some((k, Cell::Node(n))) => node_val(*n, &format!("matrix.{k}")),
                Some((_, Cell::Unknown(r))) => Alt::unknown(r.clone()),
                None => match open {
                    Some(r) => Alt::unknown(r),
                    None => Alt::of(Val::Null),
                },
            }
        }
        Val::Node(n, name) => {
            if n.is_mapping() {
                match n
                    .entries()
                    .into_iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&key))
                {
                    Some((k, v)) => node_val(v, &format!("{name}.{k}")),
                    None => Alt::of(Val::Null),
                }
            } else {
                let item = key
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| n.items().get(i).copied());
                match item {
                    Some(v) => node_val(v, &format!("{name}[{key}]")),
                    None => Alt::of(Val::Null),
                }
            }
        }
        _ => Alt::of(Val::Null),
    }
}

/// A matrix value as GitHub sees it: YAML-typed, with its origin for strings and numbers.
fn node_val<'y, 'a>(n: NodeRef<'y, 'a>, name: &str) -> Alt<'y, 'a> {
    let Some(target) = n.resolve() else {
        return Alt::of(Val::Null);
    };
    match target.kind() {
        NodeKind::Scalar { value, style, .. } => {
            if value.contains("${{") {
                return Alt::unknown(format!("{name} is set at run time by {value}"));
            }
            let val = if *style == Style::Plain {
                yaml_typed(value)
            } else {
                Val::Str(value.clone())
            };
            let origins = match (&val, yaml::scalar_site(n)) {
                (Val::Str(_) | Val::Num(_), Some((span, _, _))) => vec![Origin {
                    name: name.to_string(),
                    span,
                }],
                _ => Vec::new(),
            };
            Alt { val, origins }
        }
        NodeKind::Mapping(_) | NodeKind::Sequence(_) => Alt::of(Val::Node(n, name.to_string())),
        NodeKind::Alias(_) => Alt::of(Val::Null),
    }
}

/// The type GitHub gives a plain YAML scalar: `3.10` is the number 3.1, `true` a boolean.
fn yaml_typed<'y, 'a>(s: &str) -> Val<'y, 'a> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Val::Null,
        "true" | "True" | "TRUE" => return Val::Bool(true),
        "false" | "False" | "FALSE" => return Val::Bool(false),
        _ => {}
    }
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    let numeric = !t.is_empty()
        && t.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && t.bytes().filter(|&b| b == b'.').count() <= 1
        && t.bytes().any(|b| b.is_ascii_digit());
    match s.parse::<f64>() {
        Ok(n) if numeric && n.is_finite() => Val::Num(n),
        _ => Val::Str(s.to_string()),
    }
}

fn fmt_num(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn stringify(v: &Val<'_, '_>) -> String {
    match v {
        Val::Null | Val::Unknown(_) => String::new(),
        Val::Bool(b) => b.to_string(),
        Val::Num(n) => fmt_num(*n),
        Val::Str(s) => s.clone(),
        Val::Node(n, _) if n.is_sequence() => "Array".into(),
        Val::Node(..) | Val::Matrix => "Object".into(),
    }
}

fn as_number(v: &Val<'_, '_>) -> f64 {
    match v {
        Val::Null => 0.0,
        Val::Bool(b) => f64::from(u8::from(*b)),
        Val::Num(n) => *n,
        Val::Str(s) => {
            let t = s.trim();
            if t.is_empty() {
                0.0
            } else {
                parse_number(t).unwrap_or(f64::NAN)
            }
        }
        _ => f64::NAN,
    }
}

/// GitHub's loose comparison; `None` when an operand is unknown.
fn compare(op: CmpOp, a: &Val<'_, '_>, b: &Val<'_, '_>) -> Option<bool> {
    use std::cmp::Ordering;
    if matches!(a, Val::Unknown(_)) || matches!(b, Val::Unknown(_)) {
        return None;
    }
    let ord: Option<Ordering> = match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        (Val::Null, Val::Null) => Some(Ordering::Equal),
        (Val::Node(x, _), Val::Node(y, _)) => (x.id() == y.id()).then_some(Ordering::Equal),
        (Val::Node(..) | Val::Matrix, _) | (_, Val::Node(..) | Val::Matrix) => None,
        _ => as_number(a).partial_cmp(&as_number(b)),
    };
    Some(match op {
        CmpOp::Eq => ord == Some(Ordering::Equal),
        CmpOp::Ne => ord != Some(Ordering::Equal),
        CmpOp::Lt => ord == Some(Ordering::Less),
        CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ord == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
    })
}

fn call<'y, 'a>(
    name: &str,
    args: &[Expr],
    m: MatrixView<'_, 'y, 'a>,
    depth: usize,
) -> Vec<Alt<'y, 'a>> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "success" | "always" | "failure" | "cancelled" => both_bools(),
        "format" | "contains" | "startswith" | "endswith" => {
            // Every combination of the arguments' alternatives, bounded.
            let mut combos: Vec<Vec<Alt<'y, 'a>>> = vec![Vec::new()];
            for arg in args {
                let alts = eval(arg, m, depth);
                let mut next = Vec::new();
                for c in &combos {
                    for a in &alts {
                        if next.len() >= MAX_ALTERNATIVES {
                            break;
                        }
                        let mut c = c.clone();
                        c.push(a.clone());
                        next.push(c);
                    }
                }
                combos = next;
            }
            let mut out = Vec::new();
            for c in combos {
                if let Some(Alt {
                    val: Val::Unknown(r),
                    ..
                }) = c.iter().find(|a| matches!(a.val, Val::Unknown(_)))
                {
                    if lower == "format" {
                        out.push(Alt::unknown(r.clone()));
                    } else {
                        out.extend(both_bools());
                    }
                    continue;
                }
                match lower.as_str() {
                    "format" => out.push(format_call(&c)),
                    _ => out.push(Alt::of(string_test(&lower, &c))),
                }
            }
            out
        }
        _ => vec![Alt::unknown(format!("{name}() is only known at run time"))],
    }
}

/// `format('{0}:{1}', a, b)`.
fn format_call<'y, 'a>(args: &[Alt<'y, 'a>]) -> Alt<'y, 'a> {
    let Some((fmt, rest)) = args.split_first() else {
        return Alt::unknown("format() without arguments");
    };
    let Val::Str(f) = &fmt.val else {
        return Alt::unknown("format() with a non-string format");
    };
    let mut out = String::new();
    let mut origins = Vec::new();
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut n = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    n.push(d);
                }
                let Some(arg) = n.parse::<usize>().ok().and_then(|i| rest.get(i)) else {
                    return Alt::unknown(format!("format() placeholder {{{n}}} has no argument"));
                };
                out.push_str(&stringify(&arg.val));
                origins.extend(arg.origins.iter().cloned());
            }
            c => out.push(c),
        }
    }
    Alt {
        val: Val::Str(out),
        origins,
    }
}

/// `contains`, `startsWith`, `endsWith` (case-insensitive, as GitHub does).
fn string_test<'y, 'a>(name: &str, args: &[Alt<'y, 'a>]) -> Val<'y, 'a> {
    let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
        return Val::Bool(false);
    };
    let needle = stringify(&b.val).to_lowercase();
    if let Val::Node(n, _) = &a.val {
        if name == "contains" && n.is_sequence() {
            let hit = n
                .items()
                .iter()
                .any(|i| i.as_str().is_some_and(|s| s.to_lowercase() == needle));
            return Val::Bool(hit);
        }
        return Val::Bool(false);
    }
    let hay = stringify(&a.val).to_lowercase();
    Val::Bool(match name {
        "contains" => hay.contains(&needle),
        "startswith" => hay.starts_with(&needle),
        _ => hay.ends_with(&needle),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(out: &Extraction) -> Vec<(String, Source, Result<String, String>)> {
        out.images
            .iter()
            .map(|o| {
                (
                    o.text.clone(),
                    o.source,
                    o.image.clone().map_err(|e| e.reason),
                )
            })
            .collect()
    }

    fn check_spans(text: &str, out: &Extraction) {
        for o in &out.images {
            assert_eq!(o.text, o.span.of(text), "{o:?}");
            if let Form::Expanded { origins } = &o.form {
                for origin in origins {
                    assert!(origin.span.end <= text.len());
                }
            }
        }
        for a in &out.actions {
            assert_eq!(a.text, a.span.of(text), "{a:?}");
        }
    }

    fn wf(text: &str) -> Extraction {
        let out = extract_workflow(text);
        check_spans(text, &out);
        out
    }

    fn origins(o: &ImageOccurrence) -> Vec<(String, String)> {
        match &o.form {
            Form::Expanded { origins } => origins
                .iter()
                .map(|g| (g.name.clone(), g.span.start.to_string()))
                .collect(),
            _ => Vec::new(),
        }
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

    fn run_images(out: &Extraction) -> Vec<(&str, Result<&str, &str>, bool)> {
        out.images
            .iter()
            .filter(|o| o.source == Source::GithubRunCommand)
            .map(|o| {
                (
                    o.text.as_str(),
                    o.image.as_deref().map_err(|e| e.reason.as_str()),
                    o.exact,
                )
            })
            .collect()
    }

    #[test]
    fn run_literal_blocks() {
        for nl in ["\n", "\r\n"] {
            let t = "jobs:\n  scan:\n    steps:\n      - name: kics\n        run: |\n          echo \"docker run x\"\n          docker run --rm -v \"$PWD:/path\" \\\n            checkmarx/kics:latest scan -p /path\n\n          docker run --entrypoint sh aquasec/trivy:0.69.4 -c 'x'\n      - run: |-\n          # docker pull no\n          docker pull \"$IMAGE\"\n"
                .replace('\n', nl);
            let out = wf(&t);
            assert_eq!(
                run_images(&out),
                [
                    ("checkmarx/kics:latest", Ok("checkmarx/kics:latest"), true),
                    ("aquasec/trivy:0.69.4", Ok("aquasec/trivy:0.69.4"), true),
                    ("$IMAGE", Err("variable IMAGE has no known value"), false),
                ]
            );
            assert_eq!(out.images[0].context.as_deref(), Some("scan / kics"));
            assert_eq!(out.images[0].form, Form::Literal);
        }
    }

    #[test]
    fn run_single_line_and_quoted() {
        let t = "jobs:\n  a:\n    steps:\n      - run: docker run --rm alpine:3 echo hi\n      - run: 'docker pull \"redis:7\"'\n      - run: \"docker pull\\tbusybox\"\n      - run: echo docker run nope\n";
        let out = wf(t);
        assert_eq!(
            run_images(&out),
            [
                ("alpine:3", Ok("alpine:3"), true),
                ("redis:7", Ok("redis:7"), true),
                ("busybox", Ok("busybox"), true),
            ]
        );
        // The operand after the `\t` escape is mapped to its own bytes.
        let busybox = &out.images[2];
        assert_eq!(busybox.span.of(t), "busybox");
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn run_env_variables_are_expanded_when_literal() {
        let t = "env:\n  KICS: checkmarx/kics:latest\n  T: x:1\njobs:\n  a:\n    env:\n      T: aquasec/trivy:0.69.4\n      U: z:1\n    steps:\n      - run: docker run --rm \"$KICS\" scan\n      - run: |\n          docker run ${{ env.T }} image .\n          docker pull $OTHER\n      - run: U=y:2; docker pull $U\n";
        let out = wf(t);
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
                    "${{ env.T }}",
                    Some("aquasec/trivy:0.69.4".to_string()),
                    vec![("T".to_string(), "aquasec/trivy:0.69.4")]
                ),
                ("$OTHER", None, vec![]),
                // The script's own assignment, read as a shell file's is.
                (
                    "$U",
                    Some("y:2".to_string()),
                    vec![("U".to_string(), "y:2")]
                ),
            ]
        );
    }

    #[test]
    fn run_images_built_by_the_job_are_not_reported() {
        let t = "jobs:\n  a:\n    steps:\n      - run: docker build -t app:dev .\n      - run: |\n          docker run --rm app:dev test\n          docker commit c snap && docker run snap\n          docker run --rm alpine:3\n";
        let out = wf(t);
        assert_eq!(run_images(&out), [("alpine:3", Ok("alpine:3"), true)]);
        let t = "env:\n  TAG: app:local\njobs:\n  a:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          load: true\n          tags: ${{ env.TAG }}\n      - run: docker run --rm ${{ env.TAG }} test\n";
        assert_eq!(run_images(&wf(t)), []);
    }

    #[test]
    fn run_hostile_sizes_stay_linear() {
        let mut t = String::from("env:\n  X: a:1\njobs:\n  a:\n    steps:\n");
        for i in 0..2000 {
            t.push_str(&format!(
                "      - run: |\n          docker build -t b{i} . && docker run $X\n"
            ));
        }
        t.push_str("      - run: |\n");
        for _ in 0..20_000 {
            t.push_str("          docker run -v x:/y \"$X\" -e A=B=C\n");
        }
        let out = crate::test_support::linear(t.len(), || wf(&t));
        assert_eq!(out.images.len(), 22_000);
    }

    #[test]
    fn run_folded_and_composite_action() {
        let t = "jobs:\n  a:\n    steps:\n      - run: >\n          docker pull alpine:3\n      - run: >\n          docker run\n          nginx:1\n";
        let out = wf(t);
        // Folding joins `docker run` and `nginx:1` into one command; each line keeps its bytes.
        assert_eq!(
            run_images(&out),
            [
                ("alpine:3", Ok("alpine:3"), true),
                ("nginx:1", Ok("nginx:1"), true)
            ]
        );
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let t = "name: x\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: |\n        docker run --rm ghcr.io/o/i:1\n";
        let out = extract_action(t);
        check_spans(t, &out);
        assert_eq!(
            run_images(&out),
            [("ghcr.io/o/i:1", Ok("ghcr.io/o/i:1"), true)]
        );
    }

    #[test]
    fn container_string_and_map() {
        let t = "jobs:\n  a:\n    container: node:18\n  b:\n    container:\n      image: 'ghcr.io/x/y:1'\n      options: --cpus 1\n";
        let out = wf(t);
        assert_eq!(
            images(&out),
            vec![
                (
                    "node:18".into(),
                    Source::GithubContainer,
                    Ok("node:18".into())
                ),
                (
                    "ghcr.io/x/y:1".into(),
                    Source::GithubContainer,
                    Ok("ghcr.io/x/y:1".into())
                ),
            ]
        );
        assert_eq!(out.images[0].context.as_deref(), Some("a"));
        assert_eq!(out.images[1].context.as_deref(), Some("b"));
        assert!(
            out.images
                .iter()
                .all(|o| o.exact && o.form == Form::Literal)
        );
    }

    #[test]
    fn services() {
        let t = "jobs:\n  a:\n    services:\n      redis:\n        image: redis:7\n      db:\n        image: \"\"\n      pg:\n        image: \"postgres:16\"\n";
        let out = wf(t);
        assert_eq!(
            images(&out),
            vec![
                (
                    "redis:7".into(),
                    Source::GithubService,
                    Ok("redis:7".into())
                ),
                (
                    "postgres:16".into(),
                    Source::GithubService,
                    Ok("postgres:16".into())
                ),
            ]
        );
        assert_eq!(out.images[0].context.as_deref(), Some("redis"));
    }

    #[test]
    fn docker_uses_spans() {
        let t = "jobs:\n  a:\n    steps:\n      - uses: docker://ubuntu\n      - uses: 'docker://alpine:3'\n      - name: x\n        uses: \"docker://ghcr.io/a/b@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n      - uses: actions/checkout@v4\n";
        let out = wf(t);
        let got = images(&out);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, "ubuntu");
        assert_eq!(got[1].0, "alpine:3");
        assert!(got[2].0.starts_with("ghcr.io/a/b@sha256:"));
        assert!(got.iter().all(|g| g.1 == Source::GithubStepUses));
        assert_eq!(out.actions.len(), 1);
    }

    #[test]
    fn action_uses() {
        let sha = "11bd71901bbe5b1630ceea73d27597364c9af683";
        let t = format!(
            "jobs:\n  a:\n    steps:\n      - uses: actions/checkout@{sha}\n      - uses: github/codeql-action/init@v3\n      - uses: ./local/action\n      - uses: pypa/gh-action-pypi-publish@release/v1\n  b:\n    uses: owner/repo/.github/workflows/x.yml@main\n  c:\n    uses: ./.github/workflows/local.yml\n"
        );
        let out = wf(&t);
        assert!(out.images.is_empty());
        let a: Vec<_> = out
            .actions
            .iter()
            .map(|a| {
                (
                    a.text.as_str(),
                    a.repository.as_str(),
                    a.path.as_deref(),
                    a.git_ref.as_str(),
                    a.pinned,
                )
            })
            .collect();
        assert_eq!(
            a,
            vec![
                (
                    &*format!("actions/checkout@{sha}"),
                    "actions/checkout",
                    None,
                    sha,
                    true
                ),
                (
                    "github/codeql-action/init@v3",
                    "github/codeql-action",
                    Some("init"),
                    "v3",
                    false
                ),
                (
                    "pypa/gh-action-pypi-publish@release/v1",
                    "pypa/gh-action-pypi-publish",
                    None,
                    "release/v1",
                    false
                ),
                (
                    "owner/repo/.github/workflows/x.yml@main",
                    "owner/repo",
                    Some(".github/workflows/x.yml"),
                    "main",
                    false
                ),
            ]
        );
    }

    #[test]
    fn obfuscated_action_paths() {
        let t = "jobs:\n  a:\n    steps:\n      - uses: actions/checkout////@v6\n      - uses: github/codeql-action/./init@v3\n      - uses: actions/cache/save/../save@v4\n      - uses: actions/cache/../../save@v4\n";
        let out = wf(t);
        let got: Vec<_> = out
            .actions
            .iter()
            .map(|a| (a.repository.as_str(), a.path.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("actions/checkout", None),
                ("github/codeql-action", Some("init")),
                ("actions/cache", Some("save")),
                ("actions/cache", Some("../../save")),
            ]
        );
    }

    #[test]
    fn action_metadata() {
        let t = "name: x\nruns:\n  using: docker\n  image: 'docker://ghcr.io/bridgecrewio/checkov:3.3.13'\n";
        let out = extract_action(t);
        check_spans(t, &out);
        assert_eq!(
            images(&out),
            vec![(
                "ghcr.io/bridgecrewio/checkov:3.3.13".into(),
                Source::GithubActionImage,
                Ok("ghcr.io/bridgecrewio/checkov:3.3.13".into())
            )]
        );
        assert_eq!(out.images[0].context.as_deref(), Some("x"));
        for t in [
            "runs:\n  using: docker\n  image: Dockerfile\n",
            "runs:\n  using: docker\n  image: \"./build/Dockerfile\"\n",
        ] {
            assert!(extract_action(t).images.is_empty());
        }
    }

    #[test]
    fn composite_action_steps() {
        let t = "runs:\n  using: composite\n  steps:\n    - uses: docker://alpine:3.20\n    - uses: actions/setup-go@v5\n    - uses: ./inner\n";
        let out = extract_action(t);
        check_spans(t, &out);
        assert_eq!(
            images(&out),
            vec![(
                "alpine:3.20".into(),
                Source::GithubStepUses,
                Ok("alpine:3.20".into())
            )]
        );
        assert_eq!(out.actions.len(), 1);
        assert_eq!(out.actions[0].text, "actions/setup-go@v5");
    }

    #[test]
    fn matrix_list() {
        let t = "jobs:\n  a:\n    strategy:\n      matrix:\n        img: [alpine:3, 'debian:12', '']\n    container: ${{ matrix.img }}\n";
        let out = wf(t);
        assert_eq!(out.images.len(), 2);
        for (o, want) in out.images.iter().zip(["alpine:3", "debian:12"]) {
            assert_eq!(o.text, "${{ matrix.img }}");
            assert_eq!(o.image.as_deref().ok(), Some(want));
            assert_eq!(origin_texts(t, o), vec![("matrix.img".into(), want)]);
        }
    }

    #[test]
    fn matrix_include_and_partial_template() {
        let t = "jobs:\n  a:\n    strategy:\n      matrix:\n        version: [18, 20]\n        include:\n          - version: 22\n            extra: x\n    container:\n      image: node:${{ matrix.version }}-slim\n";
        let out = wf(t);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(got, vec!["node:18-slim", "node:20-slim", "node:22-slim"]);
        assert_eq!(out.images[0].text, "node:${{ matrix.version }}-slim");
        assert_eq!(
            origin_texts(t, &out.images[2]),
            vec![("matrix.version".into(), "22")]
        );
    }

    #[test]
    fn matrix_combinations_stay_correlated() {
        let t = "jobs:\n  a:\n    strategy:\n      matrix:\n        include:\n          - v: '1.0'\n            sha: sha256:aaaa\n          - v: '2.0'\n            sha: sha256:bbbb\n    container: x/y:${{ matrix.v }}@${{ matrix.sha }}\n";
        let out = wf(t);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(got, vec!["x/y:1.0@sha256:aaaa", "x/y:2.0@sha256:bbbb"]);
    }

    #[test]
    fn matrix_exclude_and_include_extension() {
        let t = "jobs:\n  a:\n    strategy:\n      matrix:\n        os: [linux, windows]\n        db: [pg, my]\n        exclude:\n          - os: windows\n        include:\n          - db: pg\n            image: postgres:16\n          - db: my\n            image: mysql:8\n    services:\n      db:\n        image: ${{ matrix.image }}\n";
        let out = wf(t);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(got, vec!["postgres:16", "mysql:8"]);
    }

    #[test]
    fn matrix_map_values() {
        let t = "jobs:\n  a:\n    strategy:\n      matrix:\n        cfg:\n          - {image: 'alpine:3', n: 1}\n          - image: busybox\n    container:\n      image: ${{ matrix.cfg.image }}\n  b:\n    strategy:\n      matrix:\n        container:\n          - image: fedora:40\n          - null\n    container: ${{ matrix.container }}\n";
        let out = wf(t);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(got, vec!["alpine:3", "busybox", "fedora:40"]);
        assert_eq!(
            origin_texts(t, &out.images[0]),
            vec![("matrix.cfg.image".into(), "alpine:3")]
        );
    }

    #[test]
    fn yaml_numbers_as_github_types_them() {
        let t = "jobs:\n  a:\n    strategy:\n      matrix:\n        py: [3.10, '3.10', 3]\n    container: python:${{ matrix.py }}\n";
        let out = wf(t);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(got, vec!["python:3.1", "python:3.10", "python:3"]);
    }

    #[test]
    fn fallbacks_and_conditions() {
        let t = "jobs:\n  a:\n    strategy:\n      matrix:\n        include:\n          - mysql: 'mysql:8.4'\n          - other: 1\n    services:\n      db:\n        image: \"${{ matrix.mysql || '' }}\"\n      pg:\n        image: ${{ matrix.pg || 'postgres:14' }}\n      redis:\n        image: ${{ inputs.use-redis == 'true' && 'redis:7' || '' }}\n";
        let out = wf(t);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| (o.image.clone().unwrap(), origin_texts(t, o)))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "mysql:8.4".to_string(),
                    vec![("matrix.mysql".to_string(), "mysql:8.4")]
                ),
                (
                    "postgres:14".to_string(),
                    vec![("literal".to_string(), "postgres:14")]
                ),
                (
                    "redis:7".to_string(),
                    vec![("literal".to_string(), "redis:7")]
                ),
            ]
        );
    }

    #[test]
    fn unresolved_expressions() {
        let t = "jobs:\n  a:\n    container:\n      image: ${{ inputs.image }}\n  b:\n    container: ${{ fromJSON(inputs.c) }}\n  c:\n    strategy:\n      matrix: ${{ fromJSON(needs.x.outputs.m) }}\n    container: ${{ matrix.img }}\n  d:\n    services:\n      s:\n        image: ghcr.io/${{ github.repository }}:${{ needs.b.outputs.tag }}\n  e:\n    container:\n      image: ${{ inputs.image || 'alpine:3' }}\n  f:\n    container: ${{ matrix.nope }}\n";
        let out = wf(t);
        let got = images(&out);
        assert_eq!(got.len(), 7, "{got:#?}");
        let err = |i: usize| got[i].2.clone().unwrap_err();
        assert!(err(0).contains("${{ inputs.image }}"));
        assert!(err(0).contains("inputs"));
        assert!(err(1).contains("fromJSON"));
        assert!(err(2).contains("strategy.matrix"));
        assert!(err(3).contains("github"));
        // `inputs.image || 'alpine:3'`: the literal is known, the input is not.
        assert_eq!(got[4].2, Ok("alpine:3".into()));
        assert!(got[5].2.is_err());
        assert!(err(6).contains("no strategy.matrix"));
    }

    #[test]
    fn matrix_value_that_is_an_expression() {
        let t = "jobs:\n  a:\n    strategy:\n      matrix:\n        img: ['alpine:3', '${{ inputs.x }}']\n        dyn: ${{ fromJSON(inputs.y) }}\n    container: ${{ matrix.img }}\n    services:\n      s:\n        image: ${{ matrix.dyn }}\n";
        let out = wf(t);
        let got = images(&out);
        assert!(got.contains(&(
            "${{ matrix.img }}".into(),
            Source::GithubContainer,
            Ok("alpine:3".into())
        )));
        assert!(
            got.iter()
                .any(|g| g.1 == Source::GithubContainer && g.2.is_err())
        );
        assert!(
            got.iter()
                .any(|g| g.1 == Source::GithubService && g.2.is_err())
        );
    }

    #[test]
    fn aliases() {
        let t = "jobs:\n  a:\n    container: &c\n      image: &i alpine:3\n    steps: &s\n      - uses: docker://busybox:1\n  b:\n    container: *c\n    services:\n      x:\n        image: *i\n    steps: *s\n";
        let out = wf(t);
        let got = images(&out);
        assert_eq!(got.len(), 3, "{got:#?}");
        let alpine = &out.images[0];
        assert_eq!(alpine.text, "alpine:3");
        assert_eq!(alpine.source, Source::GithubContainer);
        assert_eq!(alpine.alias_sites.len(), 1);
        assert_eq!(alpine.alias_sites[0].of(t), "*c");
        let busybox = out.images.iter().find(|o| o.text == "busybox:1").unwrap();
        assert_eq!(busybox.alias_sites.len(), 1);
        assert_eq!(busybox.alias_sites[0].of(t), "*s");
        let service = out
            .images
            .iter()
            .find(|o| o.source == Source::GithubService)
            .unwrap();
        assert_eq!(service.text, "alpine:3");
        assert_eq!(service.alias_sites[0].of(t), "*i");
    }

    #[test]
    fn format_function() {
        let t = "jobs:\n  a:\n    strategy:\n      matrix:\n        v: [1]\n    container: ${{ format('{0}:{1}', 'node', matrix.v) }}\n";
        let out = wf(t);
        assert_eq!(images(&out)[0].2, Ok("node:1".into()));
        assert_eq!(origins(&out.images[0]).len(), 2);
    }

    #[test]
    fn parse_error_is_reported_and_earlier_content_kept() {
        let t = "jobs:\n  a:\n    container: node:18\n  b: [\n";
        let out = wf(t);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(images(&out).len(), 1);
    }

    #[test]
    fn escaped_scalar_is_not_exact() {
        let t = "jobs:\n  a:\n    container: \"nod\\u0065:18\"\n    steps:\n      - uses: \"docker://alpin\\u0065\"\n";
        let out = wf(t);
        assert_eq!(out.images.len(), 2);
        assert_eq!(out.images[0].image, Ok("node:18".into()));
        assert!(!out.images[0].exact);
        assert_eq!(out.images[1].image, Ok("alpine".into()));
        assert!(!out.images[1].exact);
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let deep = format!("${{{{ {}matrix.x{} }}}}", "(".repeat(500), ")".repeat(500));
        let many = format!("${{{{ {} }}}}", vec!["matrix.x || 'a'"; 300].join(" || "));
        let wide: String = (0..40)
            .map(|i| format!("        k{i}: [a, b, c, d]\n"))
            .collect();
        for image in [
            deep.as_str(),
            many.as_str(),
            "${{ 'unterminated }}",
            "${{ matrix.x",
            "${{ }}",
            "${{ a.b[ }}",
            "${{ format('{9}') }}",
            "${{ -0x }}",
            "${{ é }}",
        ] {
            let t = format!(
                "jobs:\n  a:\n    strategy:\n      matrix:\n{wide}        x: [p, q]\n    container: \"{}\"\n",
                image.replace('"', "'")
            );
            let out = wf(&t);
            assert!(out.images.len() <= MAX_IMAGES + 1);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Corpus

    fn corpus_dir() -> std::path::PathBuf {
        crate::test_corpus::dir("github-actions")
    }

    fn corpus_files() -> Vec<std::path::PathBuf> {
        crate::test_corpus::files("github-actions")
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    fn corpus_extract(path: &std::path::Path) -> Option<(String, Extraction)> {
        let text = std::fs::read_to_string(path).ok()?;
        let name = path.file_name()?.to_str()?;
        let out = if name == "action.yml" || name == "action.yaml" {
            extract_action(&text)
        } else if path.to_string_lossy().contains(".github/workflows/") {
            extract_workflow(&text)
        } else {
            return None;
        };
        Some((text, out))
    }

    #[test]
    fn corpus_invariants() {
        let files = corpus_files();
        if files.is_empty() {
            eprintln!("no corpus (TAGWARDEN_CORPUS): skipped");
            return;
        }
        let (mut n_files, mut n_images, mut n_unresolved, mut n_actions) = (0, 0, 0, 0);
        for path in &files {
            let Some((text, out)) = corpus_extract(path) else {
                continue;
            };
            n_files += 1;
            check_spans(&text, &out);
            let rel = path.strip_prefix(corpus_dir()).unwrap_or(path).display();
            for o in &out.images {
                n_images += 1;
                match &o.image {
                    Ok(i) => println!("{rel}: {:?} {:?} -> {i}", o.source, o.text),
                    Err(e) => {
                        n_unresolved += 1;
                        println!(
                            "{rel}: {:?} {:?} -> UNRESOLVED {}",
                            o.source, o.text, e.reason
                        );
                    }
                }
                if let Ok(i) = &o.image {
                    assert!(!i.trim().is_empty(), "{rel}: empty image");
                    assert!(!i.contains("${{"), "{rel}: unexpanded {i}");
                }
            }
            for a in &out.actions {
                n_actions += 1;
                assert!(!a.repository.is_empty() && !a.git_ref.is_empty());
            }
            for d in &out.diagnostics {
                println!("{rel}: diagnostic {:?} {}", d.kind, d.message);
            }
        }
        println!(
            "{n_files} files, {n_images} images ({n_unresolved} unresolved), {n_actions} action uses"
        );
        assert!(n_files > 100);
        assert!(n_images > 100);
    }

    fn corpus_images(rel: &str) -> Option<(String, Extraction)> {
        corpus_extract(&corpus_dir().join(rel))
    }

    fn found(out: &Extraction) -> Vec<(Source, &str, Result<&str, ()>)> {
        out.images
            .iter()
            .map(|o| {
                (
                    o.source,
                    o.text.as_str(),
                    o.image.as_deref().map_err(|_| ()),
                )
            })
            .collect()
    }

    #[test]
    fn corpus_zizmor_unpinned_images() {
        let Some((_, out)) = corpus_images(
            "zizmorcore__zizmor/.github/workflows/crates__zizmor__tests__integration__test-data__unpinned-images.yml",
        ) else {
            return;
        };
        let got = found(&out);
        use Source::*;
        let want = [
            (
                GithubContainer,
                "fake.example.com/example",
                Ok("fake.example.com/example"),
            ),
            (
                GithubService,
                "fake.example.com/redis",
                Ok("fake.example.com/redis"),
            ),
            (
                GithubContainer,
                "fake.example.com/example:latest",
                Ok("fake.example.com/example:latest"),
            ),
            (
                GithubService,
                "fake.example.com/redis:latest",
                Ok("fake.example.com/redis:latest"),
            ),
            (
                GithubContainer,
                "fake.example.com/example:0.0.348",
                Ok("fake.example.com/example:0.0.348"),
            ),
            (
                GithubService,
                "fake.example.com/redis:7.4.3",
                Ok("fake.example.com/redis:7.4.3"),
            ),
            (
                GithubContainer,
                "fake.example.com/example@sha256:bfadbbcb25fd75c30c295843f1a861414f46c080f0f1d0c5cd93843c88edabcf",
                Ok(
                    "fake.example.com/example@sha256:bfadbbcb25fd75c30c295843f1a861414f46c080f0f1d0c5cd93843c88edabcf",
                ),
            ),
            (
                GithubService,
                "fake.example.com/redis@sha256:7df1eeff67eb0ba84f6b9d2940765a6bb1158081426745c185a03b1507de6a09",
                Ok(
                    "fake.example.com/redis@sha256:7df1eeff67eb0ba84f6b9d2940765a6bb1158081426745c185a03b1507de6a09",
                ),
            ),
            (
                GithubService,
                "${{ inputs.use-redis == 'true' && 'redis:7' || '' }}",
                Ok("redis:7"),
            ),
            (
                GithubService,
                "${{ inputs.use-redis == 'true' && 'redis@sha256:...' || '' }}",
                Ok("redis@sha256:..."),
            ),
            (
                GithubContainer,
                "${{ inputs.image || vars.DEFAULT_IMAGE }}",
                Err(()),
            ),
            (GithubStepUses, "ubuntu", Ok("ubuntu")),
            (GithubStepUses, "ubuntu:latest", Ok("ubuntu:latest")),
            (
                GithubStepUses,
                "ghcr.io/pypa/gh-action-pypi-publish",
                Ok("ghcr.io/pypa/gh-action-pypi-publish"),
            ),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn corpus_zizmor_matrix_cases() {
        let base = "zizmorcore__zizmor/.github/workflows/crates__zizmor__tests__integration__test-data__unpinned-images__";
        let Some((t, out)) = corpus_images(&format!("{base}matrix-in-image.yml")) else {
            return;
        };
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(
            got,
            ["ubuntu:24.04", "ubuntu:22.04", "ubuntu", "ubuntu:latest"]
        );
        assert_eq!(
            origin_texts(&t, &out.images[2]),
            vec![("matrix.image".into(), "ubuntu")]
        );

        let (_, out) = corpus_images(&format!("{base}urllib3-empty-matrix-container.yml")).unwrap();
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(got, ["python:3.13-bullseye", "python"]);

        let (_, out) = corpus_images(&format!("{base}issue-2097-repro.yml")).unwrap();
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(
            got,
            ["mysql:8.4.9@sha256:c36050afdca850f23cef85703f84c7531a5ae155a11b5ee1c60acb09937c4084"]
        );

        let (_, out) = corpus_images(&format!("{base}issue-1942-repro.yml")).unwrap();
        assert_eq!(
            found(&out),
            [(Source::GithubContainer, "node:18", Ok("node:18"))]
        );
    }

    #[test]
    fn corpus_actions_and_ratchet() {
        let Some((_, out)) = corpus_images(
            "zizmorcore__zizmor/crates/zizmor/tests/integration/test-data/unpinned-images/docker-action/action.yml",
        ) else {
            return;
        };
        assert_eq!(
            found(&out),
            [(
                Source::GithubActionImage,
                "ghcr.io/super-linter/super-linter:slim-v8.5.0",
                Ok("ghcr.io/super-linter/super-linter:slim-v8.5.0")
            )]
        );
        for rel in [
            "pypa__gh-action-pypi-publish/action.yml",
            "hadolint__hadolint-action/action.yml",
            "zizmorcore__zizmor/crates/zizmor/tests/integration/test-data/pr-960-backstop/action.yml",
        ] {
            let (_, out) = corpus_images(rel).unwrap();
            assert!(out.images.is_empty(), "{rel}: {:?}", out.images);
        }
        let (_, out) =
            corpus_images("sethvargo__ratchet/.github/workflows/testdata__github-crazy-indent.yml")
                .unwrap();
        use Source::*;
        assert_eq!(
            found(&out),
            [
                (GithubContainer, "ubuntu:20.04", Ok("ubuntu:20.04")),
                (GithubService, "nginx:1.21", Ok("nginx:1.21")),
                (GithubStepUses, "ubuntu:20.04", Ok("ubuntu:20.04")),
            ]
        );
        let uses: Vec<_> = out.actions.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(
            uses,
            [
                "actions/checkout@v3",
                "my-org/my-repo/.github/workflows/my-workflow.yml@v0"
            ]
        );
    }
}
