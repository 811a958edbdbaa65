//! Google Cloud Build: `steps[].name` (the step's image), and container commands in a step's script.
//!
//! Each step runs the image its `name:` names. A step may run containers itself: its `script:`,
//! the script of `entrypoint: bash|sh` with `args: ['-c', script]` (or a `bash` image with
//! `args: ['-c', …]`), and the argument list of the Docker builder (`name:
//! gcr.io/cloud-builders/docker` or any `docker` image, `args: ['run', …]`) are read for the
//! image operands of `docker|podman|nerdctl run|create|pull`, at their exact offsets.
//!
//! Substitutions: user substitutions (`$_VAR`, `${_VAR}`) expand from the file's
//! `substitutions:` when their value is literal (origins at the value); built-ins (`$PROJECT_ID`,
//! `$SHORT_SHA`, …) are set per build: unresolved. `$$` is a literal `$`. An operand that is
//! exactly `$NAME` may also take a literal value from the step's `env: ['NAME=value']`.
//!
//! `images:` lists what the build pushes (it builds them): those are not references to pin, and a
//! step whose `name:` is an image the build itself builds (listed in `images:` or tagged by a
//! `docker build -t` of a step) is not reported either: it runs what was just built.
//!
//! The argument lists of the other builders whose commands name images (`kubectl`, `gke-deploy`,
//! `gcloud`, `ctr`, `crictl`, as the builder image or the entrypoint) are read the same way, as
//! far as [`crate::read::shell`] knows their commands. Not read: `cosign verify …` (it checks a
//! signature, it runs nothing) and `oras copy …` (artifacts).
//!
//! JSON files (`cloudbuild.json`) are read through [`crate::read::json`], with the same offsets.

use std::collections::{HashMap, HashSet};

use crate::read::vars::{self, Syntax, Value};
use crate::read::yaml::{Found, NodeRef, for_each_document, is_null};
use crate::{Extraction, Form, ImageOccurrence, Origin, Source, Span, Unresolved};

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let is_json = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{');
    if is_json {
        let mut out = Extraction::default();
        let masked = crate::read::json::mask(text);
        let yaml = crate::read::json::parse(&masked, &mut out);
        for doc in yaml.documents() {
            document(doc, text, &mut out);
        }
        out.images.sort_by_key(|o| (o.span.start, o.span.end));
        return out;
    }
    let mut found = Found::default();
    for_each_document(text, &mut found, |doc, file, found| {
        document(doc, file, found.extraction());
    });
    found.finish()
}

/// Literal user substitutions: name to (value, span of the value).
type Substitutions = HashMap<String, (String, Span)>;

/// Expands the variables of `value`, written at `base` when `exact`.
fn expand(
    value: &str,
    base: usize,
    exact: bool,
    subs: &Substitutions,
) -> Result<(String, Vec<Origin>), Unresolved> {
    let lookup = |name: &str| {
        if !name.starts_with('_') {
            return None;
        }
        subs.get(name).map(|(v, span)| Value {
            value: v.clone(),
            origin: Some(Origin {
                name: name.to_string(),
                span: *span,
            }),
        })
    };
    let syntax = Syntax {
        dollar_escape: true,
    };
    match vars::expand(value, base, syntax, &lookup) {
        Ok(e) => Ok((e.value, if exact { e.origins } else { Vec::new() })),
        Err(e) => Err(Unresolved::new(format!(
            "{}: a built-in or trigger substitution, set per build",
            e.reason
        ))),
    }
}

/// An image name with its known user substitutions filled in and every other one written
/// `${NAME}`, without a `:latest` tag: two names the build spells alike are the same image.
fn canonical(value: &str, subs: &Substitutions) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 1..).unwrap_or_default();
        if let Some(escaped) = after.strip_prefix('$') {
            out.push_str("$$");
            rest = escaped;
            continue;
        }
        let (name, next) = match after.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (braced.get(..end).unwrap_or_default(), braced.get(end + 1..)),
                None => ("", None),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (after.get(..end).unwrap_or_default(), after.get(end..))
            }
        };
        match (subs.get(name).filter(|_| name.starts_with('_')), next) {
            (Some((v, _)), Some(next)) => {
                out.push_str(v);
                rest = next;
            }
            (None, Some(next)) if !name.is_empty() => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
                rest = next;
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.strip_suffix(":latest")
        .map(str::to_string)
        .unwrap_or(out)
}

/// Reads one build configuration document.
fn document(root: NodeRef<'_, '_>, file: &str, out: &mut Extraction) {
    if !root.is_mapping() {
        return;
    }
    let subs = substitutions(root.get("substitutions"));
    let steps: Vec<Step<'_, '_>> = root
        .get("steps")
        .map(|s| s.items())
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter(|(_, s)| s.is_mapping())
        .map(|(i, node)| Step::new(node, i))
        .collect();
    // What the build makes itself, as written and as expanded.
    let mut built: Vec<String> = root
        .get("images")
        .map(|i| i.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.as_str())
        .map(str::to_string)
        .collect();
    for step in &steps {
        built.extend(step.built());
    }
    let expanded_built: Vec<String> = built
        .iter()
        .filter_map(|b| expand(b, 0, false, &subs).ok().map(|(v, _)| v))
        .collect();
    // Names a script assigns (`NAME=…`) may hold another value than the step's `env:` gives.
    let scripts: Vec<&str> = steps
        .iter()
        .flat_map(Step::scripts)
        .filter_map(|s| s.as_str())
        .collect();
    let assigned: HashSet<&str> = scripts
        .iter()
        .flat_map(|s| crate::read::shell::assigned_names(s))
        .collect();
    let assigned = &assigned;
    let first = out.images.len();
    for step in &steps {
        step.report_name(file, &subs, &built, &expanded_built, out);
        step.report_commands(file, &subs, assigned, &expanded_built, out);
    }
    if let Some(added) = out.images.get_mut(first..) {
        expand_operands(added, &subs);
    }
}

/// `substitutions:` entries whose values are literal scalars.
fn substitutions(node: Option<NodeRef<'_, '_>>) -> Substitutions {
    let mut map = Substitutions::new();
    for (name, value) in node.map(|n| n.entries()).unwrap_or_default() {
        if let (Some(v), Some(span)) = (value.as_str(), value.exact_span())
            && !v.contains('$')
            && !is_null(value)
        {
            map.insert(name.to_string(), (v.to_string(), span));
        }
    }
    map
}

/// One entry of `steps:`.
struct Step<'y, 'a> {
    node: NodeRef<'y, 'a>,
    context: String,
    args: Vec<NodeRef<'y, 'a>>,
}

impl<'y, 'a> Step<'y, 'a> {
    fn new(node: NodeRef<'y, 'a>, index: usize) -> Self {
        let context = node
            .get_str("id")
            .map_or_else(|| format!("step {}", index + 1), str::to_string);
        let args = node.get("args").map(|a| a.items()).unwrap_or_default();
        Self {
            node,
            context,
            args,
        }
    }

    fn name(&self) -> Option<&'y str> {
        self.node.get_str("name")
    }

    /// The last path segment of the step's image, without tag or digest.
    fn image_base(&self) -> Option<&'y str> {
        let name = self.name()?;
        let path = name.split('@').next().unwrap_or(name);
        let last = path.rsplit('/').next().unwrap_or(path);
        Some(last.split(':').next().unwrap_or(last))
    }

    /// The entrypoint's program name (`/bin/bash` is `bash`).
    fn entrypoint(&self) -> Option<&'y str> {
        let e = self.node.get_str("entrypoint")?;
        Some(e.rsplit('/').next().unwrap_or(e))
    }

    /// True when `args` are the arguments of the `docker` command.
    fn runs_docker_cli(&self) -> bool {
        self.cli() == Some("docker")
    }

    /// The command whose arguments `args` are, when it is one that can name images: the
    /// entrypoint, or the builder image's own command (`gcr.io/cloud-builders/gke-deploy`).
    fn cli(&self) -> Option<&'y str> {
        let program = self.entrypoint().or_else(|| self.image_base())?;
        crate::read::shell::names_images(program).then_some(program)
    }

    /// The `-c` script of a shell step.
    fn shell_script(&self) -> Option<NodeRef<'y, 'a>> {
        let shell = match self.entrypoint() {
            Some(e) => crate::read::shell::is_shell(e),
            None => self.image_base() == Some("bash"),
        };
        if !shell {
            return None;
        }
        let c = self.args.iter().position(|a| a.as_str() == Some("-c"))?;
        self.args.get(c + 1).copied()
    }

    /// Images this step builds: `-t` / `--tag` of a Docker builder `build`, and those its shell
    /// script builds (as written).
    fn built(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.runs_docker_cli() {
            let args: Vec<&str> = self.args.iter().filter_map(|a| a.as_str()).collect();
            if args.iter().any(|a| *a == "build" || *a == "buildx") {
                let mut it = args.iter();
                while let Some(a) = it.next() {
                    if *a == "-t" || *a == "--tag" {
                        names.extend(it.next().map(|s| s.to_string()));
                    } else if let Some(t) = a.strip_prefix("--tag=").or(a.strip_prefix("-t")) {
                        names.push(t.to_string());
                    }
                }
            }
        }
        // Kaniko and buildpacks name what they build and push.
        let args: Vec<&str> = self.args.iter().filter_map(|a| a.as_str()).collect();
        match self.image_base() {
            Some("executor") => {
                for (i, a) in args.iter().enumerate() {
                    if *a == "--destination" || *a == "-d" {
                        names.extend(args.get(i + 1).map(|s| s.to_string()));
                    } else if let Some(d) = a.strip_prefix("--destination=") {
                        names.push(d.to_string());
                    }
                }
            }
            Some("pack") if args.first() == Some(&"build") => {
                names.extend(
                    args.get(1)
                        .filter(|a| !a.starts_with('-'))
                        .map(|s| s.to_string()),
                );
            }
            _ => {}
        }
        for script in self.scripts() {
            if let Some(s) = script.as_str() {
                names.extend(crate::read::shell::built_images(s));
            }
        }
        names
    }

    /// The shell texts the step runs: `script:` and the `-c` script of a shell entrypoint.
    fn scripts(&self) -> Vec<NodeRef<'y, 'a>> {
        self.node
            .get("script")
            .into_iter()
            .chain(self.shell_script())
            .collect()
    }

    /// Reports `name:`, unless the build makes that image itself.
    fn report_name(
        &self,
        file: &str,
        subs: &Substitutions,
        built: &[String],
        expanded_built: &[String],
        out: &mut Extraction,
    ) {
        let Some(node) = self.node.get("name") else {
            return;
        };
        let Some((span, exact, alias_sites)) = crate::read::yaml::scalar_site(node) else {
            return;
        };
        let Some(value) = node.as_str().filter(|v| !v.trim().is_empty()) else {
            return;
        };
        // Compared with what the build makes as Cloud Build would spell both: user substitutions
        // filled in, built-in ones (`$PROJECT_ID`) kept as names.
        let same = canonical(value, subs);
        if is_null(node) || built.iter().any(|b| canonical(b, subs) == same) {
            return;
        }
        let (image, form) = if value.contains('$') {
            match expand(value, span.start, exact, subs) {
                Ok((v, origins)) => (Ok(v), Form::Expanded { origins }),
                Err(e) => (Err(e), Form::Expanded { origins: vec![] }),
            }
        } else {
            (Ok(value.to_string()), Form::Literal)
        };
        if image
            .as_ref()
            .is_ok_and(|i| crate::read::shell::is_built(i, expanded_built))
        {
            return;
        }
        out.push_image(ImageOccurrence {
            span,
            text: span.of(file).to_string(),
            image,
            source: Source::CloudBuildStep,
            form,
            alias_sites,
            context: Some(self.context.clone()),
            exact,
        });
    }

    /// Reports the image operands of the container commands the step runs.
    fn report_commands(
        &self,
        file: &str,
        subs: &Substitutions,
        assigned: &HashSet<&str>,
        built: &[String],
        out: &mut Extraction,
    ) {
        let env = step_env(self.node.get("env"));
        let lookup = |name: &str| {
            if name.starts_with('_') {
                return subs.get(name).cloned();
            }
            if assigned.contains(name) {
                return None;
            }
            env.get(name).cloned()
        };
        for script in self.scripts() {
            crate::read::ci_script::scalar_images(
                file,
                script,
                Source::CloudBuildCommand,
                Some(&self.context),
                built,
                &lookup,
                out,
            );
        }
        if let Some(cli) = self.cli() {
            self.report_cli_args(cli, file, built, out);
        }
    }

    /// A builder's `args` read as the words of one command line of its program.
    fn report_cli_args(&self, cli: &str, file: &str, built: &[String], out: &mut Extraction) {
        let mut line = String::from(cli);
        // (offset of the word in `line`, its length, the arg's exact span in the file)
        let mut words: Vec<(usize, usize, Option<Span>)> = Vec::new();
        for arg in &self.args {
            let Some(value) = arg.as_str() else {
                return;
            };
            line.push(' ');
            if is_plain_word(value) {
                words.push((line.len(), value.len(), arg.exact_span()));
                line.push_str(value);
            } else {
                // Quoted so the line splits as the argument list does; never an image.
                line.push('\'');
                line.push_str(&value.replace('\'', "'\\''"));
                line.push('\'');
            }
        }
        for f in crate::read::shell::commands(&line, 0) {
            // The image is a whole argument or the value part of one (`--image=ref`).
            let Some(&(start, _, Some(word))) = words
                .iter()
                .find(|(start, len, _)| *start <= f.span.start && f.span.end <= start + len)
            else {
                continue;
            };
            let at = Span::new(
                word.start + f.span.start - start,
                word.start + f.span.end - start,
            );
            if f.image
                .as_ref()
                .is_ok_and(|i| crate::read::shell::is_built(i, built))
            {
                continue;
            }
            let form = if f.image.is_ok() {
                Form::Literal
            } else {
                Form::Expanded { origins: vec![] }
            };
            out.push_image(ImageOccurrence {
                span: at,
                text: at.of(file).to_string(),
                image: f.image.map_err(Unresolved::new),
                source: Source::CloudBuildCommand,
                form,
                alias_sites: Vec::new(),
                context: Some(self.context.clone()),
                exact: f.exact,
            });
        }
    }
}

/// True for an argument the shell would read as the same single word.
fn is_plain_word(v: &str) -> bool {
    !v.is_empty()
        && v.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'.' | b'_'
                        | b'-'
                        | b'/'
                        | b':'
                        | b'@'
                        | b'='
                        | b','
                        | b'+'
                        | b'%'
                        | b'$'
                        | b'{'
                        | b'}'
                )
        })
}

/// A step's `env: ['NAME=value']` entries with literal values.
fn step_env(env: Option<NodeRef<'_, '_>>) -> HashMap<String, (String, Span)> {
    let mut map = HashMap::new();
    for item in env.map(|e| e.items()).unwrap_or_default() {
        let (Some(entry), Some(span)) = (item.as_str(), item.exact_span()) else {
            continue;
        };
        let Some((name, value)) = entry.split_once('=') else {
            continue;
        };
        if !value.contains('$') && !value.is_empty() {
            let start = span.start + name.len() + 1;
            map.insert(
                name.to_string(),
                (value.to_string(), Span::new(start, start + value.len())),
            );
        }
    }
    map
}

/// Command operands written with substitutions (`gcr.io/x/app:${_TAG}`) are expanded from the
/// file's `substitutions:`: Cloud Build replaces them before the shell sees the text.
fn expand_operands(images: &mut [ImageOccurrence], subs: &Substitutions) {
    for o in images {
        if o.source != Source::CloudBuildCommand || o.image.is_ok() || !is_plain_word(&o.text) {
            continue;
        }
        if let Ok((image, origins)) = expand(&o.text, o.span.start, true, subs)
            && !image.is_empty()
            && !image.contains(['$', '{', '}', '='])
        {
            o.image = Ok(image);
            o.form = Form::Expanded { origins };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DiagnosticKind;
    use crate::test_corpus as corpus;
    use crate::test_support::{origin_spans as origins, summary as got};

    fn run(text: &str) -> Extraction {
        let out = extract(text);
        for o in &out.images {
            assert_eq!(o.text, o.span.of(text), "span/text invariant");
        }
        out
    }

    #[test]
    fn steps_scripts_and_docker_args() {
        let src = "steps:\n- name: 'gcr.io/cloud-builders/docker'\n  id: kics\n  args: ['run', '--rm', '-v', '$$PWD:/path', 'checkmarx/kics:latest', 'scan', '-p', '/path']\n- name: ubuntu:22.04\n  entrypoint: bash\n  args:\n  - -c\n  - |\n    apt-get update\n    docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n- name: gcr.io/cloud-builders/docker\n  script: |\n    docker pull aquasec/trivy:0.50.0\n- name: bash\n  args: ['-c', 'docker create redis:7']\n";
        let out = run(src);
        assert_eq!(
            got(&out),
            vec![
                (
                    "gcr.io/cloud-builders/docker",
                    "gcr.io/cloud-builders/docker".into(),
                    Source::CloudBuildStep,
                    "kics"
                ),
                (
                    "checkmarx/kics:latest",
                    "checkmarx/kics:latest".into(),
                    Source::CloudBuildCommand,
                    "kics"
                ),
                (
                    "ubuntu:22.04",
                    "ubuntu:22.04".into(),
                    Source::CloudBuildStep,
                    "step 2"
                ),
                (
                    "checkmarx/kics:latest",
                    "checkmarx/kics:latest".into(),
                    Source::CloudBuildCommand,
                    "step 2"
                ),
                (
                    "gcr.io/cloud-builders/docker",
                    "gcr.io/cloud-builders/docker".into(),
                    Source::CloudBuildStep,
                    "step 3"
                ),
                (
                    "aquasec/trivy:0.50.0",
                    "aquasec/trivy:0.50.0".into(),
                    Source::CloudBuildCommand,
                    "step 3"
                ),
                ("bash", "bash".into(), Source::CloudBuildStep, "step 4"),
                (
                    "redis:7",
                    "redis:7".into(),
                    Source::CloudBuildCommand,
                    "step 4"
                ),
            ]
        );
        assert!(out.images.iter().all(|o| o.exact), "{:?}", out.images);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    }

    #[test]
    fn other_builders_argument_lists() {
        let src = "steps:\n- name: gcr.io/cloud-builders/gke-deploy\n  args: ['run', '--filename=k8s/', '--image=gcr.io/google-containers/nginx:latest']\n- name: gcr.io/google.com/cloudsdktool/cloud-sdk\n  entrypoint: gcloud\n  args: ['run', 'deploy', 'api', '--image', 'us-docker.pkg.dev/p/r/api:1']\n- name: gcr.io/cloud-builders/kubectl\n  args: ['set', 'image', 'deployment/web', 'web=nginx:1.27']\n";
        let out = run(src);
        let commands: Vec<_> = got(&out)
            .into_iter()
            .filter(|g| g.2 == Source::CloudBuildCommand)
            .map(|g| g.0)
            .collect();
        assert_eq!(
            commands,
            [
                "gcr.io/google-containers/nginx:latest",
                "us-docker.pkg.dev/p/r/api:1",
                "nginx:1.27"
            ]
        );
        assert!(out.images.iter().all(|o| o.exact), "{:?}", out.images);
    }

    #[test]
    fn substitutions_expand_user_variables_only() {
        let src = "substitutions:\n  _IMAGE: node:20\n  _TAG: '1.27'\n  _EMPTY:\nsteps:\n- name: $_IMAGE\n- name: nginx:${_TAG}\n- name: gcr.io/$PROJECT_ID/tool\n- name: ${_EMPTY}\n- name: docker\n  args: ['run', '${_IMAGE}']\n- name: docker\n  args: ['pull', 'nginx:$_TAG']\n";
        let out = run(src);
        let o = &out.images;
        assert_eq!(o[0].image, Ok("node:20".into()));
        assert_eq!(origins(&o[0])[0].1.of(src), "node:20");
        assert_eq!(o[1].image, Ok("nginx:1.27".into()));
        assert_eq!(origins(&o[1])[0].1.of(src), "1.27");
        let reason = &o[2].image.as_ref().unwrap_err().reason;
        assert!(reason.contains("PROJECT_ID"), "{reason}");
        assert!(o[3].image.is_err());
        let cmds: Vec<_> = o
            .iter()
            .filter(|o| o.source == Source::CloudBuildCommand)
            .collect();
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0].image, Ok("node:20".into()));
        assert_eq!(origins(cmds[0])[0].1.of(src), "node:20");
        assert_eq!(cmds[1].image, Ok("nginx:1.27".into()));
    }

    #[test]
    fn built_and_pushed_images_are_not_references() {
        let src = "steps:\n- name: gcr.io/cloud-builders/docker\n  args: ['build', '-t', 'gcr.io/p/app:1', '--tag=gcr.io/$PROJECT_ID/tool', '.']\n- name: gcr.io/p/app:1\n- name: gcr.io/$PROJECT_ID/tool\n- name: gcr.io/p/pushed\n- name: gcr.io/cloud-builders/docker\n  args: ['run', 'gcr.io/p/app:1']\nimages: ['gcr.io/p/pushed', 'gcr.io/p/app:1']\n";
        let out = run(src);
        let names: Vec<&str> = out.images.iter().map(|o| o.text.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "gcr.io/cloud-builders/docker",
                "gcr.io/cloud-builders/docker"
            ]
        );
    }

    #[test]
    fn step_env_and_assigned_names() {
        let src = "steps:\n- name: docker\n  entrypoint: sh\n  env: ['SCANNER=checkmarx/kics:latest', 'OTHER=x:1']\n  args: ['-c', 'docker run $SCANNER; OTHER=y:2; docker run $OTHER']\n";
        let out = run(src);
        let cmds: Vec<_> = out
            .images
            .iter()
            .filter(|o| o.source == Source::CloudBuildCommand)
            .collect();
        assert_eq!(cmds[0].image, Ok("checkmarx/kics:latest".into()));
        assert_eq!(origins(cmds[0])[0].1.of(src), "checkmarx/kics:latest");
        // The script's own assignment wins over the step's `env:`, as the shell sees it.
        assert_eq!(cmds[1].image, Ok("y:2".into()));
        assert_eq!(origins(cmds[1])[0].1.of(src), "y:2");
    }

    #[test]
    fn json_and_crlf() {
        let src = "{\n  // comment\n  \"steps\": [\n    {\"name\": \"gcr.io/cloud-builders/docker\", \"args\": [\"run\", \"--rm\", \"checkmarx/kics:latest\", \"scan\"]},\n    {\"name\": \"alpine:3\", \"entrypoint\": \"sh\", \"args\": [\"-c\", \"docker run --rm -v \\\"$PWD:/path\\\" checkmarx/kics:latest scan -p /path\"]}\n  ],\n  \"images\": [\"gcr.io/p/x\"]\n}\n";
        let out = run(src);
        let texts: Vec<(&str, bool)> = out
            .images
            .iter()
            .map(|o| (o.text.as_str(), o.exact))
            .collect();
        assert_eq!(texts[0], ("gcr.io/cloud-builders/docker", true));
        assert_eq!(texts[1], ("checkmarx/kics:latest", true));
        assert_eq!(texts[2], ("alpine:3", true));
        // The JSON string with escapes is mapped between them, byte for byte.
        assert_eq!(texts[3], ("checkmarx/kics:latest", true));
        assert_eq!(texts.len(), 4);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);

        let crlf = "steps:\r\n- name: 'ubuntu'\r\n  entrypoint: 'bash'\r\n  args:\r\n  - '-c'\r\n  - |\r\n    docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\r\n";
        let out = run(crlf);
        assert_eq!(
            got(&out)[1],
            (
                "checkmarx/kics:latest",
                "checkmarx/kics:latest".into(),
                Source::CloudBuildCommand,
                "step 1"
            )
        );
    }

    #[test]
    fn parse_errors_and_hostile_input() {
        let out = run("steps:\n- name: a:1\n- name: [\n");
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].kind, DiagnosticKind::ParseError);
        assert!(out.diagnostics[0].span.start > 10);
        let out = run("{\"steps\": [{\"name\": \"a:1\"}, {\"name\": ");
        assert_eq!(out.diagnostics.len(), 1);

        let mut many = String::from("substitutions:\n");
        for i in 0..2000 {
            many.push_str(&format!("  _V{i}: v{i}\n"));
        }
        many.push_str("steps:\n");
        for i in 0..2000 {
            many.push_str(&format!(
                "- name: docker\n  args: ['run', 'x:${{_V{i}}}', '-e', 'A=B C']\n"
            ));
        }
        let out = crate::test_support::linear(many.len(), || run(&many));
        assert_eq!(out.images.len(), 4000);
        for input in [
            "[".repeat(10_000),
            "steps: *x\n".into(),
            "\u{feff}{".into(),
            "steps: [1, [2], {args: 3}]".into(),
        ] {
            run(&input);
        }
    }

    #[test]
    fn corpus() {
        corpus::check_all("cloudbuild", extract);
    }

    #[test]
    fn corpus_expectations() {
        let images_of = |path: &str| -> Option<Vec<String>> {
            let src = corpus::file(path)?;
            Some(
                run(&src)
                    .images
                    .iter()
                    .map(|o| o.image.clone().unwrap_or_else(|_| "ERR".to_string()))
                    .collect(),
            )
        };
        if let Some(got) = images_of("cloudbuild/sigstore__cosign/release/cloudbuild.yaml") {
            assert_eq!(got.len(), 9);
            assert_eq!(got[0], "gcr.io/cloud-builders/git");
            assert!(got.contains(&"ghcr.io/gythialy/golang-cross:v1.26.4-0@sha256:638b15f32291895696ec579e36cbf37ee186374f828e4a211072558b816c3c7e".to_string()));
        }
        if let Some(got) =
            images_of("cloudbuild/GoogleCloudPlatform__cloud-builders/npm/cloudbuild.yaml")
        {
            // Every `gcr.io/$PROJECT_ID/npm:*` step runs an image the build made.
            assert!(
                got.iter().all(|i| i == "gcr.io/cloud-builders/docker"),
                "{got:?}"
            );
            assert_eq!(got.len(), 12);
        }
        if let Some(got) =
            images_of("cloudbuild/GoogleCloudPlatform__cloud-builders/gke-deploy/cloudbuild.yaml")
        {
            assert_eq!(got, vec!["golang:stretch", "gcr.io/cloud-builders/docker"]);
        }
        if let Some(got) =
            images_of("cloudbuild/GoogleCloudPlatform__microservices-demo/cloudbuild.yaml")
        {
            assert_eq!(got, vec!["gcr.io/k8s-skaffold/skaffold:v2.16.1"]);
        }
        if let Some(got) = images_of(
            "cloudbuild/GoogleCloudPlatform__cloud-builders-community/bookdown/example/cloudbuild.yaml",
        ) {
            assert_eq!(got, vec!["ERR", "busybox"]);
        }
        if let Some(got) = images_of(
            "cloudbuild/kubernetes-sigs__kustomize/releasing/cloudbuild_kustomize_image.yaml",
        ) {
            assert_eq!(got, vec!["bash", "gcr.io/cloud-builders/docker"]);
        }
    }
}
