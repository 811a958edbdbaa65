//! Drone and Woodpecker pipelines: step and service images, and container commands in `commands:`.
//!
//! One module reads both: Drone's multi-document `.drone.yml` (`kind: pipeline` documents with
//! `steps:` and `services:` lists) and Woodpecker's `.woodpecker.yml` / `.woodpecker/*.yml`
//! (`steps:` as a list or a map of name to step, the older `pipeline:` map, `services:` as a list
//! or a map, `clone:` steps). Every step's `image:` is a reference, plugins included
//! (`image: plugins/docker` runs that image); Drone's `kind: secret` and `kind: signature`
//! documents hold none.
//!
//! YAML anchors are followed and reported once, at the anchored scalar, with the alias sites
//! (Woodpecker files keep their images in a `variables:` list of anchors); merge keys (`<<:`) apply.
//!
//! Variables are expanded as the CI does. Before the YAML is used, Drone and Woodpecker replace
//! every `${NAME}` (with bash-like operations, `${NAME##v}`) by a value of their own: build
//! metadata (`${DRONE_TAG}`, `${CI_COMMIT_SHA}`), the server's global environment, a build's
//! parameters, and in Woodpecker the `matrix:` row; `$$` stands for a `$`. A step's
//! `environment:` does not feed that substitution (an unknown name becomes empty); it only sets
//! variables the shell sees, so in commands a bare `$NAME` (or `$$NAME`, `$${NAME}`) is the
//! shell's and takes `environment:`, while `${NAME}` is the CI's. Woodpecker's `matrix:` (keys
//! with lists of values, or `include:` rows) is expanded in images and commands alike (its row
//! is also set in each step's environment, so a shell's `$VAR` sees it): a `${VAR}` yields one
//! occurrence per distinct value, its origins at the matrix values. Other
//! `${…}` (set by the CI) are unresolved, and so is a bare `$NAME` in an image (not substituted).
//!
//! In `commands:` (and an `entrypoint: [sh, -c, script]`), the image operands of
//! `docker|podman|nerdctl run|create|pull` are reported after that substitution; an operand that
//! is a shell variable takes its literal value from the step's or pipeline's `environment:`,
//! unless the file assigns the name somewhere (`NAME=…`), which may change it at run time. Images
//! a step builds itself (`docker build -t x`) are not reported as pulled.
//!
//! Not read: plugin `settings:` (a plugin's `repo:` or `tags:` name what it builds and pushes) and
//! `when:` / `depends_on:`.

use std::collections::{HashMap, HashSet};

use crate::read::ci_script::rewrite::{self as substitute, Piece, Rewrite, ScriptSite};
use crate::read::yaml::{
    self, Entry, Found, NodeRef, for_each_document, is_null, lookup, merged_entries, str_of,
};
use crate::{Extraction, Form, ImageOccurrence, Origin, Source, Span, Unresolved};

/// Matrix rows evaluated per file (Woodpecker itself caps matrices well below this).
const MAX_MATRIX_ROWS: usize = 256;

/// Bytes of script lexed per step across matrix rows; further rows are not read.
const MAX_MATRIX_SCRIPT_BYTES: usize = 32 << 20;

/// Document kinds that describe no pipeline.
const NOT_PIPELINES: &[&str] = &["secret", "signature"];

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let mut found = Found::default();
    let assigned = crate::read::shell::assigned_names(text);
    for_each_document(text, &mut found, |doc, file, found| {
        let entries = merged_entries(doc);
        if str_of(&entries, "kind").is_some_and(|k| NOT_PIPELINES.contains(&k)) {
            return;
        }
        let (rows, note) = matrix_rows(lookup(&entries, "matrix").map(|e| e.value));
        if let Some((span, message)) = note {
            found.note(span, message);
        }
        let pipeline = Pipeline {
            file,
            assigned: &assigned,
            rows,
            env: literal_env(lookup(&entries, "environment").map(|e| e.value)),
        };
        pipeline.scan(&entries, found.extraction());
    });
    found.finish()
}

/// One matrix row: variable name to its value and where the value is written.
type Row = HashMap<String, (String, Option<Span>)>;

/// Literal environment values: name to (value, span of the value).
type Env = HashMap<String, (String, Span)>;

/// A pipeline document being read.
struct Pipeline<'f> {
    file: &'f str,
    /// Names the file assigns somewhere: their `environment:` value may not hold at run time.
    assigned: &'f HashSet<&'f str>,
    /// Matrix rows; empty when there is no matrix.
    rows: Vec<Row>,
    /// The pipeline's own `environment:` (Drone), shared by its steps.
    env: Env,
}

/// The collections of steps of a pipeline document and how their steps are named in contexts.
const STEP_LISTS: &[(&str, &str)] = &[
    ("steps", ""),
    ("pipeline", ""),
    ("services", "service "),
    ("clone", "clone "),
];

impl Pipeline<'_> {
    fn scan(&self, entries: &[Entry<'_, '_>], out: &mut Extraction) {
        for (key, prefix) in STEP_LISTS {
            let Some(list) = lookup(entries, key) else {
                continue;
            };
            for (name, step) in steps_of(list.value) {
                let context = format!("{prefix}{name}");
                self.step(step, list.via, &context, out);
            }
        }
    }

    /// Reports one step's (or service's) image and the container commands it runs.
    fn step(&self, step: NodeRef<'_, '_>, via: Option<Span>, context: &str, out: &mut Extraction) {
        let entries = merged_entries(step);
        if let Some(image) = lookup(&entries, "image") {
            self.image(image, via, context, out);
        }
        let mut env = self.env.clone();
        env.extend(literal_env(
            lookup(&entries, "environment").map(|e| e.value),
        ));
        let mut scripts = Vec::new();
        if let Some(commands) = lookup(&entries, "commands") {
            if commands.value.is_sequence() {
                scripts.extend(commands.value.items());
            } else {
                scripts.push(commands.value);
            }
        }
        if let Some(entrypoint) = lookup(&entries, "entrypoint") {
            scripts.extend(shell_c_script(entrypoint.value));
        }
        // An image one command builds may be run by a later one.
        let built: Vec<String> = scripts
            .iter()
            .filter_map(|s| s.resolve()?.as_str())
            .flat_map(crate::read::shell::built_images)
            .collect();
        for script in scripts {
            let Some(value) = script.resolve().and_then(|s| s.as_str()) else {
                continue;
            };
            for row in self.rows_for(value, true, out, script.start()) {
                // Woodpecker also sets the row's values in the step's environment, where
                // `environment:` wins.
                let lookup_env = |name: &str| {
                    if self.assigned.contains(name) {
                        return None;
                    }
                    env.get(name).cloned().or_else(|| {
                        let (value, span) = row.get(name)?;
                        Some((value.clone(), (*span)?))
                    })
                };
                let site = ScriptSite {
                    file: self.file,
                    source: Source::DroneCommand,
                    context: Some(context),
                    built: &built,
                    env: &lookup_env,
                };
                let rewrites = |value: &str| ci_rewrites(value, row);
                substitute::script_images(&site, script, &rewrites, out);
            }
        }
    }

    /// The matrix rows a text must be read with: all of them when it names a matrix variable as
    /// `${NAME}` (or as `$NAME` for a shell, which sees the row in its environment), bounded by
    /// the bytes lexed; else one empty row.
    fn rows_for(&self, value: &str, shell: bool, out: &mut Extraction, at: usize) -> Vec<&Row> {
        static EMPTY: std::sync::LazyLock<Row> = std::sync::LazyLock::new(Row::new);
        let uses_matrix = self.rows.iter().any(|row| {
            row.keys().any(|name| {
                value.contains(&format!("${{{name}}}"))
                    || (shell && value.contains(&format!("${name}")))
            })
        });
        if !uses_matrix {
            return vec![&EMPTY];
        }
        let fit = (MAX_MATRIX_SCRIPT_BYTES / value.len().max(1)).max(1);
        if fit < self.rows.len() {
            out.note(
                Span::new(at, at),
                format!(
                    "script read for the first {fit} of {} matrix rows only",
                    self.rows.len()
                ),
            );
        }
        self.rows.iter().take(fit).collect()
    }

    /// Reports an `image:` value, expanded for each matrix row when it holds variables.
    fn image(&self, image: &Entry<'_, '_>, via: Option<Span>, context: &str, out: &mut Extraction) {
        let node = image.value;
        if is_null(node) {
            return;
        }
        let (Some(value), Some((span, exact, mut alias_sites))) =
            (node.as_str(), yaml::scalar_site(node))
        else {
            return;
        };
        if value.trim().is_empty() {
            return;
        }
        for site in [via, image.via].into_iter().flatten() {
            if !alias_sites.contains(&site) {
                alias_sites.push(site);
            }
        }
        let occurrence = |image: Result<String, Unresolved>, form: Form| ImageOccurrence {
            span,
            text: span.of(self.file).to_string(),
            image,
            source: Source::DroneImage,
            form,
            alias_sites: alias_sites.clone(),
            context: Some(context.to_string()),
            exact,
        };
        if !value.contains('$') {
            out.push_image(occurrence(Ok(value.to_string()), Form::Literal));
            return;
        }
        for row in self.rows_for(value, false, out, span.start) {
            let (image, origins) = match substituted(value, row) {
                Ok((v, _)) if v.trim().is_empty() => continue,
                Ok((v, _)) if v.contains('$') => (
                    Err(Unresolved::new(format!(
                        "{value:?} holds a `$` the CI does not substitute (only `${{NAME}}` is)"
                    ))),
                    Vec::new(),
                ),
                // Origins are offsets in the file only when the scalar is written as its value.
                Ok((v, origins)) => (Ok(v), if exact { origins } else { Vec::new() }),
                Err(reason) => (Err(Unresolved::new(reason)), Vec::new()),
            };
            out.push_image(occurrence(image, Form::Expanded { origins }));
        }
    }
}

/// What Drone and Woodpecker replace in a text before using it: `$$` (a `$`), and every `${…}`:
/// a plain `${NAME}` of the matrix row with its value (origin at the matrix value), any other
/// with a value set by the CI. A bare `$NAME` is left alone (the shell's).
fn ci_rewrites(value: &str, row: &Row) -> Vec<Rewrite> {
    let bytes = value.as_bytes();
    let mut rewrites = Vec::new();
    let mut i = 0;
    while rewrites.len() < substitute::MAX_REWRITES
        && let Some(n) = bytes.get(i..).and_then(|r| memchr::memchr(b'$', r))
    {
        let at = i + n;
        match bytes.get(at + 1) {
            Some(b'$') => {
                rewrites.push(Rewrite {
                    range: Span::new(at, at + 2),
                    piece: Piece::Escape,
                });
                i = at + 2;
            }
            Some(b'{') => {
                let Some(close) = closing_brace(bytes, at + 1) else {
                    // Unterminated: the CI refuses the file ("bad substitution"); read as written.
                    break;
                };
                let expr = value.get(at..=close).unwrap_or_default();
                let inner = value.get(at + 2..close).unwrap_or_default();
                let piece = match row.get(inner) {
                    Some((v, span)) => Piece::Known {
                        value: v.clone(),
                        origin: span.map(|span| Origin {
                            name: format!("matrix.{inner}"),
                            span,
                        }),
                    },
                    None => Piece::Unknown {
                        lexed: expr.to_string(),
                        reason: format!(
                            "{expr} is substituted by the CI with its own variables (build \
                             metadata, server or build parameters; `environment:` does not feed it)"
                        ),
                    },
                };
                rewrites.push(Rewrite {
                    range: Span::new(at, close + 1),
                    piece,
                });
                i = close + 1;
            }
            _ => i = at + 1,
        }
    }
    rewrites
}

/// The byte index of the `}` closing the `{` at `open` (nested `${…}` allowed).
fn closing_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// A text after the CI's substitution with the origins of the matrix values it took, or why it
/// cannot be known offline.
fn substituted(value: &str, row: &Row) -> Result<(String, Vec<Origin>), String> {
    let mut text = String::with_capacity(value.len());
    let mut origins = Vec::new();
    let mut at = 0;
    for r in ci_rewrites(value, row) {
        text.push_str(value.get(at..r.range.start).unwrap_or_default());
        match r.piece {
            Piece::Escape => text.push('$'),
            Piece::Known { value, origin } => {
                text.push_str(&value);
                origins.extend(origin);
            }
            Piece::Unknown { reason, .. } => return Err(reason),
        }
        at = r.range.end;
    }
    text.push_str(value.get(at..).unwrap_or_default());
    Ok((text, origins))
}

/// The steps of a `steps:`/`services:`/`clone:` collection: a list of mappings (named by their
/// `name:`), or a map of name to step. Entries that are not mappings are not steps.
fn steps_of<'y, 'a>(list: NodeRef<'y, 'a>) -> Vec<(String, NodeRef<'y, 'a>)> {
    if list.is_sequence() {
        list.items()
            .into_iter()
            .enumerate()
            .filter(|(_, s)| s.is_mapping())
            .map(|(i, s)| {
                let name = str_of(&merged_entries(s), "name")
                    .map_or_else(|| format!("#{}", i + 1), str::to_string);
                (name, s)
            })
            .collect()
    } else {
        merged_entries(list)
            .into_iter()
            .filter(|e| e.value.is_mapping())
            .map(|e| (e.key.to_string(), e.value))
            .collect()
    }
}

/// The script of an `entrypoint: [sh, -c, script]` list.
fn shell_c_script<'y, 'a>(entrypoint: NodeRef<'y, 'a>) -> Option<NodeRef<'y, 'a>> {
    let items = entrypoint.items();
    let c = items.iter().position(|i| i.as_str() == Some("-c"))?;
    items.get(c + 1).copied()
}

/// `environment:` entries written as literal scalars (not `from_secret:` maps, not variables).
fn literal_env(env: Option<NodeRef<'_, '_>>) -> Env {
    let mut map = Env::new();
    let Some(env) = env else {
        return map;
    };
    for e in merged_entries(env) {
        if let (Some(v), Some(span)) = (e.value.as_str(), e.value.exact_span())
            && !v.contains('$')
            && !is_null(e.value)
        {
            map.insert(e.key.to_string(), (v.to_string(), span));
        }
    }
    map
}

/// The rows of a Woodpecker `matrix:`: the product of its keys' lists, or its `include:` rows.
/// Returns a note when the matrix is cut short.
fn matrix_rows(matrix: Option<NodeRef<'_, '_>>) -> (Vec<Row>, Option<(Span, String)>) {
    let Some(matrix) = matrix.filter(NodeRef::is_mapping) else {
        return (Vec::new(), None);
    };
    let value_of = |n: NodeRef<'_, '_>| -> Option<(String, Option<Span>)> {
        let v = n.as_str()?;
        Some((v.to_string(), n.exact_span()))
    };
    let cut = || {
        Some((
            Span::new(matrix.start(), matrix.start()),
            format!("matrix has more than {MAX_MATRIX_ROWS} rows; the rest are not expanded"),
        ))
    };
    if let Some(include) = merged_entries(matrix)
        .into_iter()
        .find(|e| e.key == "include")
    {
        let items = include.value.items();
        let note = (items.len() > MAX_MATRIX_ROWS).then(cut).flatten();
        let rows = items
            .into_iter()
            .take(MAX_MATRIX_ROWS)
            .map(|row| {
                merged_entries(row)
                    .into_iter()
                    .filter_map(|e| Some((e.key.to_string(), value_of(e.value)?)))
                    .collect()
            })
            .collect();
        return (rows, note);
    }
    let mut rows: Vec<Row> = vec![Row::new()];
    let mut note = None;
    for e in merged_entries(matrix) {
        let values = if e.value.is_sequence() {
            e.value.items()
        } else {
            vec![e.value]
        };
        let mut next = Vec::new();
        'rows: for row in &rows {
            for v in values.iter().filter_map(|v| value_of(*v)) {
                if next.len() >= MAX_MATRIX_ROWS {
                    note = cut();
                    break 'rows;
                }
                let mut r = row.clone();
                r.insert(e.key.to_string(), v);
                next.push(r);
            }
        }
        rows = next;
    }
    rows.retain(|r| !r.is_empty());
    (rows, note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DiagnosticKind;
    use crate::test_corpus as corpus;
    use crate::test_support::summary as got;

    fn run(text: &str) -> Extraction {
        let out = extract(text);
        for o in &out.images {
            assert_eq!(o.text, o.span.of(text), "span/text invariant");
        }
        out
    }

    const KICS: &str = "docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path";

    #[test]
    fn drone_pipeline_steps_services_and_commands() {
        let src = format!(
            "---\nkind: pipeline\ntype: docker\nname: default\n\nsteps:\n- name: test\n  image: golang:1.22\n  commands:\n  - go test ./...\n  - {KICS}\n- name: publish\n  image: plugins/docker\n  settings:\n    repo: octocat/hello-world\n\nservices:\n- name: db\n  image: \"postgres:16\"\n---\nkind: secret\nname: token\nget:\n  path: secret/data/x\n  name: image\n---\nkind: signature\nhmac: abc\n"
        );
        let out = run(&src);
        assert_eq!(
            got(&out),
            vec![
                (
                    "golang:1.22",
                    "golang:1.22".into(),
                    Source::DroneImage,
                    "test"
                ),
                (
                    "checkmarx/kics:latest",
                    "checkmarx/kics:latest".into(),
                    Source::DroneCommand,
                    "test"
                ),
                (
                    "plugins/docker",
                    "plugins/docker".into(),
                    Source::DroneImage,
                    "publish"
                ),
                (
                    "postgres:16",
                    "postgres:16".into(),
                    Source::DroneImage,
                    "service db"
                ),
            ]
        );
        assert!(out.images.iter().all(|o| o.exact));
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn crlf_and_block_commands() {
        let src = "steps:\r\n  - name: scan\r\n    image: alpine:3\r\n    commands:\r\n      - |\r\n        set -e\r\n        docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\r\n";
        let out = run(src);
        assert_eq!(
            got(&out),
            vec![
                ("alpine:3", "alpine:3".into(), Source::DroneImage, "scan"),
                (
                    "checkmarx/kics:latest",
                    "checkmarx/kics:latest".into(),
                    Source::DroneCommand,
                    "scan"
                ),
            ]
        );
        assert!(out.images[1].exact);
    }

    #[test]
    fn woodpecker_maps_services_clone_and_old_pipeline_key() {
        let src = "clone:\n  git:\n    image: woodpeckerci/plugin-git:2.5\nsteps:\n  build:\n    image: golang\n    commands: go build\n  lint:\n    image: golangci/golangci-lint:v1\n    entrypoint: ['/bin/sh', '-c', 'docker pull aquasec/trivy:0.50.0']\nservices:\n  cache:\n    image: redis:7\n";
        let out = run(src);
        assert_eq!(
            got(&out),
            vec![
                (
                    "woodpeckerci/plugin-git:2.5",
                    "woodpeckerci/plugin-git:2.5".into(),
                    Source::DroneImage,
                    "clone git"
                ),
                ("golang", "golang".into(), Source::DroneImage, "build"),
                (
                    "golangci/golangci-lint:v1",
                    "golangci/golangci-lint:v1".into(),
                    Source::DroneImage,
                    "lint"
                ),
                (
                    "aquasec/trivy:0.50.0",
                    "aquasec/trivy:0.50.0".into(),
                    Source::DroneCommand,
                    "lint"
                ),
                (
                    "redis:7",
                    "redis:7".into(),
                    Source::DroneImage,
                    "service cache"
                ),
            ]
        );
        // Drone's `clone:` holds settings, not steps.
        let out = run("clone:\n  disable: true\n  depth: 50\nsteps:\n- name: a\n  image: a:1\n");
        assert_eq!(out.images.len(), 1);
        let out = run("pipeline:\n  build:\n    image: node:20\n");
        assert_eq!(
            got(&out),
            vec![("node:20", "node:20".into(), Source::DroneImage, "build")]
        );
    }

    #[test]
    fn anchors_and_merge_keys_report_the_anchor_once() {
        let src = "variables:\n  - &golang 'docker.io/golang:1.22'\n  base: &base\n    image: alpine:3.20\nsteps:\n  a:\n    image: *golang\n  b:\n    image: *golang\n  c:\n    <<: *base\n  d:\n    <<: *base\n    image: alpine:edge\n";
        // `variables:` as a list with a mapping entry in it is invalid YAML; use a valid shape.
        let src = src.replace(
            "  base: &base\n    image: alpine:3.20\n",
            "  - base: &base\n      image: alpine:3.20\n",
        );
        let out = run(&src);
        let golang = &out.images[0];
        assert_eq!(golang.text, "docker.io/golang:1.22");
        assert_eq!(golang.alias_sites.len(), 2);
        assert!(golang.alias_sites.iter().all(|s| s.of(&src) == "*golang"));
        let alpine = &out.images[1];
        assert_eq!(alpine.text, "alpine:3.20");
        assert_eq!(alpine.alias_sites.len(), 1);
        assert_eq!(alpine.alias_sites[0].of(&src), "*base");
        assert_eq!(out.images[2].text, "alpine:edge");
        assert_eq!(out.images.len(), 3);
    }

    #[test]
    fn matrix_rows_expand_images() {
        let src = "steps:\n  test:\n    image: golang:${GO_VERSION}\n    commands:\n      - echo ${DATABASE}\nmatrix:\n  GO_VERSION:\n    - 1.21\n    - 1.22\n  DATABASE:\n    - mysql:8\n    - postgres:16\n";
        let out = run(src);
        let images: Vec<String> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(images, vec!["golang:1.21", "golang:1.22"]);
        match &out.images[1].form {
            Form::Expanded { origins } => {
                assert_eq!(origins.len(), 1);
                assert_eq!(origins[0].name, "matrix.GO_VERSION");
                assert_eq!(origins[0].span.of(src), "1.22");
            }
            f => panic!("{f:?}"),
        }
        let src = "matrix:\n  include:\n    - IMAGE: node:20\n    - IMAGE: node:22\nsteps:\n  - name: t\n    image: ${IMAGE}\n";
        let out = run(src);
        let images: Vec<String> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(images, vec!["node:20", "node:22"]);
        // Variables the CI sets are unresolved, naming the variable.
        let out = run("steps:\n  - name: t\n    image: registry/app:${CI_COMMIT_TAG}\n");
        let reason = &out.images[0].image.as_ref().unwrap_err().reason;
        assert!(reason.contains("CI_COMMIT_TAG"), "{reason}");
        assert_eq!(out.images[0].form, Form::Expanded { origins: vec![] });
    }

    #[test]
    fn environment_values_expand_whole_operands() {
        let src = "kind: pipeline\nenvironment:\n  SCANNER: checkmarx/kics:latest\nsteps:\n- name: scan\n  image: docker:27\n  environment:\n    TRIVY: aquasec/trivy:0.50.0\n    SECRET:\n      from_secret: x\n  commands:\n  - docker run --rm $SCANNER scan\n  - docker run --rm $${TRIVY} image x\n  - docker run --rm $SECRET\n  - docker run --rm $$TRIVY image y\n- name: other\n  image: docker:27\n  commands:\n  - OVERRIDDEN=x:1\n  - docker pull $OVERRIDDEN\n  environment:\n    OVERRIDDEN: y:2\n";
        let out = run(src);
        let cmds: Vec<_> = out
            .images
            .iter()
            .filter(|o| o.source == Source::DroneCommand)
            .collect();
        assert_eq!(cmds.len(), 5);
        assert_eq!(cmds[0].image, Ok("checkmarx/kics:latest".into()));
        match &cmds[0].form {
            Form::Expanded { origins } => {
                assert_eq!(origins[0].span.of(src), "checkmarx/kics:latest")
            }
            f => panic!("{f:?}"),
        }
        // `$${TRIVY}` and `$$TRIVY` reach the shell as `${TRIVY}` and `$TRIVY`.
        for o in [cmds[1], cmds[3]] {
            assert_eq!(o.image, Ok("aquasec/trivy:0.50.0".into()));
            assert!(!o.exact);
            match &o.form {
                Form::Expanded { origins } => {
                    assert_eq!(origins[0].span.of(src), "aquasec/trivy:0.50.0")
                }
                f => panic!("{f:?}"),
            }
        }
        assert_eq!(cmds[1].text, "$${TRIVY}");
        assert_eq!(cmds[3].text, "$$TRIVY");
        assert!(cmds[2].image.is_err());
        assert!(cmds[4].image.is_err(), "assigned in the file: not expanded");
    }

    #[test]
    fn braced_variables_are_the_ci_s_not_the_environment_s() {
        // Drone and Woodpecker replace `${TRIVY}` before the shell runs, with their own variables:
        // `environment:` does not feed it, so the value is not known offline.
        let src = "steps:\n- name: scan\n  image: docker:27\n  environment:\n    TRIVY: aquasec/trivy:0.50.0\n  commands:\n  - docker run --rm ${TRIVY} image x\n  - docker run --rm \"${DRONE_REPO}:${DRONE_TAG}\" test\n  - echo $${HOME} $$PATH && docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n";
        let out = run(src);
        let cmds: Vec<_> = out
            .images
            .iter()
            .filter(|o| o.source == Source::DroneCommand)
            .collect();
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0].text, "${TRIVY}");
        let reason = &cmds[0].image.as_ref().unwrap_err().reason;
        assert!(
            reason.contains("${TRIVY}") && reason.contains("environment:"),
            "{reason}"
        );
        assert_eq!(cmds[0].form, Form::Expanded { origins: vec![] });
        assert_eq!(cmds[1].text, "${DRONE_REPO}:${DRONE_TAG}");
        assert!(cmds[1].image.is_err());
        // Escapes before an operand leave its bytes exact.
        assert_eq!(cmds[2].span.of(src), "checkmarx/kics:latest");
        assert_eq!(cmds[2].image, Ok("checkmarx/kics:latest".into()));
        assert_eq!(cmds[2].form, Form::Literal);
        assert!(cmds[2].exact);
    }

    #[test]
    fn matrix_values_reach_commands() {
        let src = "matrix:\n  SCANNER:\n    - checkmarx/kics:latest\n    - aquasec/trivy:0.50.0\n  TAG: ['1.0', '2.0']\nsteps:\n  scan:\n    image: docker:27\n    commands:\n      - |\n        docker run --rm ${SCANNER} scan\n        docker pull registry.example.com/app:${TAG}\n        docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n";
        let out = run(src);
        let cmds: Vec<_> = out
            .images
            .iter()
            .filter(|o| o.source == Source::DroneCommand)
            .collect();
        let images: Vec<&str> = cmds.iter().map(|o| o.image.as_deref().unwrap()).collect();
        assert_eq!(
            images,
            vec![
                "checkmarx/kics:latest",
                "aquasec/trivy:0.50.0",
                "registry.example.com/app:1.0",
                "registry.example.com/app:2.0",
                "checkmarx/kics:latest",
            ]
        );
        for (o, want) in cmds
            .iter()
            .take(2)
            .zip(["checkmarx/kics:latest", "aquasec/trivy:0.50.0"])
        {
            assert_eq!(o.text, "${SCANNER}");
            match &o.form {
                Form::Expanded { origins } => {
                    assert_eq!(origins.len(), 1);
                    assert_eq!(origins[0].name, "matrix.SCANNER");
                    assert_eq!(origins[0].span.of(src), want);
                }
                f => panic!("{f:?}"),
            }
        }
        assert_eq!(cmds[2].text, "registry.example.com/app:${TAG}");
        // Woodpecker puts the row in the step's environment too: `$SCANNER` is the shell's.
        let shell = src.replace(
            "docker run --rm ${SCANNER} scan",
            "docker run --rm \"$SCANNER\" scan",
        );
        let out = run(&shell);
        let first: Vec<_> = out
            .images
            .iter()
            .filter(|o| o.text == "$SCANNER")
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(first, vec!["checkmarx/kics:latest", "aquasec/trivy:0.50.0"]);
        assert!(cmds[4].exact);
        assert_eq!(cmds[4].span.of(src), "checkmarx/kics:latest");
        // A bare `$NAME` in an image is not substituted by the CI.
        let out = run("matrix:\n  GO: ['1.22']\nsteps:\n  t:\n    image: golang:$GO\n");
        let reason = &out.images[0].image.as_ref().unwrap_err().reason;
        assert!(reason.contains("only `${NAME}`"), "{reason}");
        // `$$` is a `$`: an image cannot hold one.
        let out = run("steps:\n  t:\n    image: golang:$${GO}\n");
        assert!(out.images[0].image.is_err());
    }

    #[test]
    fn crlf_matrix_commands() {
        let src = "matrix:\r\n  IMG: [alpine:3, 'busybox:1']\r\nsteps:\r\n  - name: t\r\n    image: docker\r\n    commands:\r\n      - |\r\n        docker pull ${IMG}\r\n        docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\r\n";
        let out = run(src);
        let got = got(&out);
        assert_eq!(
            got[1],
            ("${IMG}", "alpine:3".into(), Source::DroneCommand, "t")
        );
        assert_eq!(
            got[2],
            ("${IMG}", "busybox:1".into(), Source::DroneCommand, "t")
        );
        assert_eq!(
            got[3],
            (
                "checkmarx/kics:latest",
                "checkmarx/kics:latest".into(),
                Source::DroneCommand,
                "t"
            )
        );
        assert!(out.images[3].exact);
        match &out.images[2].form {
            Form::Expanded { origins } => assert_eq!(origins[0].span.of(src), "busybox:1"),
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn hostile_substitutions_are_bounded() {
        // Many `${…}` and `$$`, an unterminated `${`, a matrix times a large script.
        let mut script = String::from("docker run ${A} ");
        for _ in 0..20_000 {
            script.push_str("$$x ${Y} ");
        }
        script.push_str("${unterminated");
        let src = format!(
            "matrix:\n  A: [a:1, b:2, c:3]\nsteps:\n  t:\n    image: x\n    commands:\n      - '{script}'\n"
        );
        let out = crate::test_support::linear(src.len(), || run(&src));
        assert!(out.images.len() <= 4);
        for input in [
            "steps: {t: {image: '${', commands: ['docker run ${']}}\n",
            "steps: {t: {commands: ['docker run ${{}}}']}}\n",
            "steps: {t: {image: '$$$', commands: ['docker run $$$ $${']}}\n",
        ] {
            run(input);
        }
    }

    #[test]
    fn built_images_are_not_pulled() {
        let src = "steps:\n- name: b\n  image: docker\n  commands:\n  - docker build -t app:ci .\n  - docker run --rm app:ci test\n";
        let out = run(src);
        assert_eq!(out.images.len(), 1);
    }

    #[test]
    fn parse_errors_and_hostile_input() {
        let src = "steps:\n- name: a\n  image: a:1\n---\nsteps: [\n";
        let out = run(src);
        assert_eq!(out.images.len(), 1);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].kind, DiagnosticKind::ParseError);
        assert!(out.diagnostics[0].span.start > 20);

        let mut big = String::from("matrix:\n");
        for k in 0..6 {
            big.push_str(&format!("  K{k}: [a, b, c, d, e, f]\n"));
        }
        big.push_str("steps:\n  t:\n    image: x:${K0}${K1}${K2}${K3}${K4}${K5}\n");
        let out = run(&big);
        assert!(out.images.len() <= MAX_MATRIX_ROWS);
        assert!(
            out.diagnostics
                .iter()
                .any(|d| d.kind == DiagnosticKind::Note)
        );

        let mut bomb = String::from("a0: &a0 {image: x:1, commands: ['docker run y:1']}\n");
        // Deep enough to be exponential if merges were expanded per path, within the merge limit.
        for i in 1..30 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} {{<<: [*a{p}, *a{p}, *a{p}, *a{p}]}}\n"
            ));
        }
        bomb.push_str("steps:\n");
        for i in 0..200 {
            bomb.push_str(&format!("  s{i}: *a29\n"));
        }
        let out = crate::test_support::linear(bomb.len(), || run(&bomb));
        assert_eq!(out.images.len(), 2);
        for input in [
            "[".repeat(10_000),
            "steps: *x\n".into(),
            "\u{feff}".into(),
            "- - -".into(),
        ] {
            run(&input);
        }
    }

    #[test]
    fn corpus() {
        corpus::check_all("drone", extract);
    }

    #[test]
    fn corpus_expectations() {
        let images_of = |path: &str| -> Option<Vec<String>> {
            let src = corpus::file(path)?;
            Some(
                run(&src)
                    .images
                    .iter()
                    .map(|o| {
                        o.image
                            .clone()
                            .unwrap_or_else(|e| format!("ERR {}", e.reason))
                    })
                    .collect(),
            )
        };
        if let Some(got) = images_of("drone/drone-plugins__drone-docker/.drone.yml") {
            assert_eq!(got.iter().filter(|i| *i == "golang:1.24.11").count(), 30);
            assert!(got.contains(&"plugins/docker:18".to_string()));
            assert!(got.contains(&"plugins/manifest".to_string()));
            let pinned = "plugins/docker@sha256:f0233d950ae87ee6cb5500b2d5497fe02aa338201c0bdce2619f443fd174cfa4";
            assert_eq!(got.iter().filter(|i| *i == pinned).count(), 10);
        }
        if let Some(src) = corpus::file("drone/woodpecker-ci__woodpecker/.woodpecker/binaries.yaml")
        {
            let out = run(&src);
            let golang = out
                .images
                .iter()
                .find(|o| o.image.as_deref() == Ok("docker.io/golang:1.27"))
                .unwrap();
            assert_eq!(golang.alias_sites.len(), 7);
            assert_eq!(out.images.len(), 4);
        }
        if let Some(got) = images_of("drone/woodpecker-ci__woodpecker/.woodpecker/test.yaml") {
            for want in [
                "docker.io/golang:1.27",
                "golangci/golangci-lint:v2.12.2",
                "docker.io/woodpeckerci/plugin-codecov:2.3.2",
                "docker.io/postgres:18",
                "docker.io/mysql:26.7.0",
            ] {
                assert!(got.contains(&want.to_string()), "{want}: {got:?}");
            }
            assert_eq!(got.len(), 5);
        }
        let schema =
            "drone/woodpecker-ci__woodpecker/pipeline/frontend/yaml/linter/schema/.woodpecker/";
        if let Some(got) = images_of(&format!("{schema}test-matrix.yaml")) {
            assert_eq!(got, vec!["golang:1.4", "golang:1.3"]);
        }
        if let Some(got) = images_of(&format!("{schema}test-merge-map-and-sequence.yaml")) {
            assert_eq!(got, vec!["golang:1.19", "golang:latest"]);
        }
        if let Some(got) = images_of(&format!("{schema}test-service.yaml")) {
            assert_eq!(got, vec!["golang", "mysql", "redis"]);
        }
        if let Some(got) = images_of(&format!("{schema}test-step.yaml")) {
            // `docker build -t octocat/hello-world .` builds, it does not pull.
            assert_eq!(got.len(), 9);
            assert!(!got.iter().any(|i| i.contains("octocat")));
        }
        if let Some(src) =
            corpus::file("drone/woodpecker-ci__woodpecker/.woodpecker/securityscan.yaml")
        {
            let out = run(&src);
            assert_eq!(out.images.len(), 1);
            assert_eq!(
                out.images[0].image,
                Ok("docker.io/woodpeckerci/plugin-trivy:1.6.0".into())
            );
            assert_eq!(out.images[0].alias_sites.len(), 4);
        }
    }
}
