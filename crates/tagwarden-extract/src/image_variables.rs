//! Values that a name says are images, wherever a YAML file writes them: CI variables and env
//! (`DOCKER_IMAGE: quay.io/condaforge/linux-anvil:alma9`), action inputs (`with: image-ref:
//! aquasec/trivy:0.50.0`, `node_image: kindest/node:v1.30.0`), matrix entries, Compose build
//! args (`- BASE_IMAGE=node:22`), Kubernetes env pairs (`name: RELATED_IMAGE_X`, `value: …`) and
//! custom resources' `image:` fields. A script or operator pulls them by that name; no extractor
//! of the kind knows where.
//!
//! A value counts only when it is written as a literal reference with a tag or a digest
//! (`IMAGE_NAME: myorg/app` names what a build pushes; `IMAGE: true` is a switch), and only where
//! no other occurrence already covers its bytes (an `image:` the kind reads, the definition a
//! `$VAR` was expanded from). Names the file builds itself (`docker build -t name`) are not
//! references.

use crate::read::shell;
use crate::read::yaml::{self, NodeKind, NodeRef, Yaml};
use crate::{Extraction, Form, ImageOccurrence, Source, Span};

/// How deep the tree is searched (bounded work on hostile input).
const MAX_DEPTH: usize = 64;
/// Longest value considered.
const MAX_LEN: usize = 512;

/// Adds the image variables of a YAML file to what its kind's extractor found.
pub fn report(text: &str, out: &mut Extraction) {
    if !text.contains("image") && !text.contains("IMAGE") && !text.contains("Image") {
        return;
    }
    let covered = Covered::of(out);
    // Parsing again costs as much as the kind's own parse: only when a line may hold a value
    // that nothing reported yet.
    if !worth_parsing(text, &covered) {
        return;
    }
    let yaml = Yaml::parse(text);
    if yaml.error.is_some() {
        // The kind's extractor reported the error and read what it could.
        return;
    }
    let mut found = Found {
        text,
        candidates: Vec::new(),
        built: Vec::new(),
    };
    for doc in yaml.documents() {
        found.walk(doc, &mut Vec::new(), 0);
    }
    if found.candidates.is_empty() {
        return;
    }
    let built = found.built;
    for occ in found.candidates {
        let overlaps = covered.overlaps(occ.span);
        let is_built = occ.image.as_ref().is_ok_and(|i| shell::is_built(i, &built));
        if !overlaps && !is_built {
            out.push_image(occ);
        }
    }
}

/// Every byte range the occurrences already stand for: their spans, alias sites, origins and
/// parts, sorted, with the running maximum of their ends for an O(log n) overlap test.
struct Covered {
    spans: Vec<Span>,
    max_end: Vec<usize>,
}

impl Covered {
    fn of(out: &Extraction) -> Self {
        let mut spans = Vec::new();
        for o in &out.images {
            spans.push(o.span);
            spans.extend(o.alias_sites.iter().copied());
            match &o.form {
                Form::Expanded { origins } => spans.extend(origins.iter().map(|o| o.span)),
                Form::Composed { parts } => spans.extend(parts.iter().filter_map(|p| p.span)),
                Form::Literal => {}
            }
        }
        spans.sort();
        let max_end = spans
            .iter()
            .scan(0, |m, s| {
                *m = (*m).max(s.end);
                Some(*m)
            })
            .collect();
        Self { spans, max_end }
    }

    fn overlaps(&self, span: Span) -> bool {
        let before = self.spans.partition_point(|s| s.start < span.end);
        before > 0 && self.max_end[before - 1] > span.start
    }
}

/// True when some line may hold what [`report`] looks for and nothing covers it yet: `KEY:
/// value` or `- KEY=value` with an image name and a literal reference, or the `name:` of a
/// name/value pair, or an input described as an image.
fn worth_parsing(text: &str, covered: &Covered) -> bool {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        // Most lines never say image: skip them before any splitting.
        if !mentions_image(line) {
            continue;
        }
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim_start();
        if trimmed.starts_with('#') {
            continue;
        }
        // Flow maps (`{with: {image: x:1}}`) are left to the parser.
        let described =
            || trimmed.contains("description") && words(trimmed).iter().any(|w| w == "image");
        if trimmed.contains('{') && (flow_image_key(trimmed) || described()) {
            return true;
        }
        let indent = content.len() - trimmed.len();
        let item = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        let offset = start + indent + (trimmed.len() - item.len());
        let sep = match (item.find(':'), item.find('=')) {
            (Some(c), Some(e)) => c.min(e),
            (Some(c), None) => c,
            (None, Some(e)) => e,
            (None, None) => continue,
        };
        let key = item[..sep].trim().trim_matches(['"', '\'']);
        let rest = &item[sep + 1..];
        let value = rest.split(" #").next().unwrap_or("").trim();
        if key == "name" && is_image_name(value.trim_matches(['"', '\''])) {
            return true;
        }
        if key == "description" && words(value).iter().any(|w| w == "image") {
            return true;
        }
        if !words(key).iter().any(|w| w == "image") {
            continue;
        }
        let unquoted = value.trim_matches(['"', '\'']);
        // `X_IMAGE:` with a map or a block below (GitLab's `value:`); a plain `image:` map is
        // the kind's own (Helm, GitLab, Compose).
        if (value.is_empty() || value.starts_with(['|', '>', '&', '!']))
            && key != "image"
            && is_image_name(key)
        {
            return true;
        }
        if !is_literal_image(unquoted) {
            continue;
        }
        let lead = rest.len() - rest.trim_start().len() + (value.len() - unquoted.len()) / 2;
        let from = offset + sep + 1 + lead;
        if !covered.overlaps(Span::new(from, from + unquoted.len())) {
            return true;
        }
    }
    false
}

struct Found<'t> {
    text: &'t str,
    candidates: Vec<ImageOccurrence>,
    /// Names that scripts of the file build (`docker build -t name`): not references.
    built: Vec<String>,
}

impl<'t> Found<'t> {
    fn walk(&mut self, node: NodeRef<'_, 't>, path: &mut Vec<String>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match node.kind() {
            NodeKind::Mapping(_) => {
                // `{name: X_IMAGE, value: ref}`: a Kubernetes or Tekton env pair.
                if let (Some(name), Some(value)) = (node.get_str("name"), node.get("value"))
                    && is_image_name(name)
                {
                    self.candidate(value, &format!("{} {name}", yaml::key_path(path)));
                }
                for (k, v) in node.own_entries() {
                    let Some(key) = k.as_str() else { continue };
                    // Virtual machine images (CircleCI `machine:`, Azure `pool:`) are not
                    // container images.
                    if NOT_CONTAINERS.contains(&key) {
                        continue;
                    }
                    path.push(key.to_string());
                    self.default(key, v, path);
                    if v.is_scalar() {
                        if is_image_name(key) {
                            self.candidate(v, &yaml::key_path(path));
                        }
                        self.script(v);
                    } else if let Some(value) = v.get("value").filter(|_| is_image_name(key)) {
                        // GitLab `X_IMAGE: {value: ref, description: …}`.
                        path.push("value".into());
                        self.candidate(value, &yaml::key_path(path));
                        path.pop();
                    } else if !v.is_alias() {
                        self.walk(v, path, depth + 1);
                    }
                    path.pop();
                }
            }
            NodeKind::Sequence(_) => {
                for (i, item) in node.items().into_iter().enumerate() {
                    if item.is_alias() {
                        continue;
                    }
                    path.push(format!("[{i}]"));
                    if item.is_scalar() {
                        self.assignment(item, path);
                        self.script(item);
                    } else {
                        self.walk(item, path, depth + 1);
                    }
                    path.pop();
                }
            }
            NodeKind::Scalar { .. } | NodeKind::Alias(_) => {}
        }
    }

    /// The `default:` of an input or parameter named or described as an image (a
    /// `workflow_dispatch` input `upstream: {description: "Upstream image", default: …}`).
    fn default(&mut self, key: &str, node: NodeRef<'_, 't>, path: &mut Vec<String>) {
        let Some(default) = node.get("default").filter(|d| d.is_scalar()) else {
            return;
        };
        let name = node.get_str("name").unwrap_or(key);
        let described = node
            .get_str("description")
            .is_some_and(|d| words(d).iter().any(|w| w == "image"));
        if is_image_name(name) || described {
            path.push("default".into());
            self.candidate(default, &yaml::key_path(path));
            path.pop();
        }
    }

    fn script(&mut self, node: NodeRef<'_, 't>) {
        if let Some(s) = node
            .as_str()
            .filter(|s| s.contains("build") || s.contains("tag"))
        {
            self.built.extend(shell::built_images(s));
        }
    }

    /// `- NAME=value` in a list (Compose `build.args`, CI env lists).
    fn assignment(&mut self, item: NodeRef<'_, 't>, path: &[String]) {
        let Some(value) = item.as_str() else { return };
        let Some((name, image)) = value.split_once('=') else {
            return;
        };
        let Some(at) = item.exact_span() else { return };
        if !is_image_name(name) || !is_literal_image(image) {
            return;
        }
        let span = Span::new(at.start + name.len() + 1, at.end);
        self.candidates.push(ImageOccurrence {
            span,
            text: span.of(self.text).to_string(),
            image: Ok(image.to_string()),
            source: Source::ImageVariable,
            form: Form::Literal,
            alias_sites: Vec::new(),
            context: Some(format!("{} {name}", yaml::key_path(path))),
            exact: true,
        });
    }

    fn candidate(&mut self, node: NodeRef<'_, 't>, context: &str) {
        let Some(value) = node.as_str().filter(|v| is_literal_image(v)) else {
            return;
        };
        let Some((span, exact, alias_sites)) = yaml::scalar_site(node) else {
            return;
        };
        let text = span.of(self.text);
        self.candidates.push(ImageOccurrence {
            span,
            text: text.to_string(),
            image: Ok(value.to_string()),
            source: Source::ImageVariable,
            form: Form::Literal,
            alias_sites,
            context: Some(context.to_string()),
            exact: exact && text == value,
        });
    }
}

/// True when the text holds `image` in any case, without allocating.
fn mentions_image(text: &str) -> bool {
    text.as_bytes()
        .windows(5)
        .any(|w| w.eq_ignore_ascii_case(b"image"))
}

/// True when a key with an image name follows a `{` or `,` of a flow map on the line.
fn flow_image_key(line: &str) -> bool {
    line.match_indices(['{', ',']).any(|(i, _)| {
        let rest = line[i + 1..].trim_start().trim_start_matches(['"', '\'']);
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .unwrap_or(rest.len());
        let after = rest[end..].trim_start_matches(['"', '\'']).trim_start();
        after.starts_with(':') && is_image_name(&rest[..end])
    })
}

/// Keys whose subtree names virtual machine images, not container images.
const NOT_CONTAINERS: &[&str] = &["machine", "pool", "macos", "runs-on"];

/// Words of a name that say its value is not itself an image reference.
const NOT_A_REFERENCE: &[&str] = &[
    "pull", "policy", "tag", "tags", "sha", "digest", "version", "prefix", "suffix", "secret",
    "secrets", "file", "path", "dir", "id", "type", "size", "count", "format", "os", "arch",
];

/// True for a name with the word `image` in it (`DOCKER_IMAGE`, `image-ref`, `node_image`,
/// `baseImage`), unless another word says it holds a part or a property of one.
pub fn is_image_name(name: &str) -> bool {
    if name.len() > 128 {
        return false;
    }
    let words = words(name);
    words.iter().any(|w| w == "image")
        && !words.iter().any(|w| NOT_A_REFERENCE.contains(&w.as_str()))
}

/// Lowercase words of a name split at other characters than letters and digits, and at
/// lower-to-upper case changes.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(std::mem::take(&mut cur));
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    words.push(cur);
    words.retain(|w| !w.is_empty());
    words
}

/// A literal reference with an explicit tag or digest: `name:tag`, `host:5000/name:tag`,
/// `name@sha256:…`. No variables, templates or spaces.
fn is_literal_image(v: &str) -> bool {
    if v.len() > MAX_LEN
        || v.starts_with("sha256:")
        || v.contains("://")
        || !shell::looks_like_image(v)
    {
        return false;
    }
    if let Some((name, digest)) = v.split_once('@') {
        return !name.is_empty()
            && digest.len() == 71
            && digest.starts_with("sha256:")
            && digest[7..].bytes().all(|b| b.is_ascii_hexdigit());
    }
    // The tag follows the last `:` after the last `/` (a registry port is before a `/`).
    let last = v.rsplit('/').next().unwrap_or(v);
    let Some((repo, tag)) = last.split_once(':') else {
        return false;
    };
    !repo.is_empty()
        && !tag.is_empty()
        && tag.len() <= 128
        && !tag.contains(':')
        && !tag.starts_with(['.', '-'])
        // `host:8080` alone is an address, not an image.
        && !(v == last && tag.bytes().all(|b| b.is_ascii_digit()) && repo.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind_extract: fn(&str) -> Extraction, text: &str) -> Vec<(String, String, bool)> {
        let mut out = kind_extract(text);
        let before = out.images.len();
        report(text, &mut out);
        out.images
            .iter()
            .skip(before)
            .map(|o| {
                assert_eq!(o.text, o.span.of(text));
                assert_eq!(o.source, Source::ImageVariable);
                (
                    o.context.clone().unwrap_or_default(),
                    o.image.clone().unwrap(),
                    o.exact,
                )
            })
            .collect()
    }

    #[test]
    fn names() {
        for yes in [
            "IMAGE",
            "DOCKER_IMAGE",
            "image-ref",
            "node_image",
            "baseImage",
            "DAPR_TEST_N_MINUS_1_IMAGE",
            "image_name",
        ] {
            assert!(is_image_name(yes), "{yes}");
        }
        for no in [
            "images",
            "imagePullPolicy",
            "IMAGE_TAG",
            "kind-image-sha",
            "imageRegistry_x_tag",
            "IMAGEPULLSECRET",
        ] {
            assert!(!is_image_name(no), "{no}");
        }
        // `vmImage` has the word image: its values (`ubuntu-latest`) are left out by having no tag.
        assert!(is_image_name("vmImage") && !is_literal_image("ubuntu-latest"));
        assert!(!is_image_name(&"image_".repeat(100)));
    }

    #[test]
    fn literal_images() {
        for yes in [
            "mysql:8.0",
            "quay.io/condaforge/linux-anvil-x86_64:alma9",
            "localhost:5000/a/b:1",
            "hashicorp/nomad:2.0.2@sha256:5eed30ce9cdde08f8761eb05a71e1aa3d81413f1e9e24bd088ec92cf8b8c61ba",
        ] {
            assert!(is_literal_image(yes), "{yes}");
        }
        for no in [
            "true",
            "org/app",
            "",
            "sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a",
            "${{ matrix.image }}",
            "$IMAGE:1",
            "ubuntu-latest",
            "a b:1",
            "https://x.io/a:1",
            "registry.local:5000",
            "x:",
            "x@sha256:12",
        ] {
            assert!(!is_literal_image(no), "{no}");
        }
    }

    #[test]
    fn github_env_inputs_and_matrix_entries() {
        let wf = "env:\n  SETUP_BUILDKIT_IMAGE: \"moby/buildkit:latest\"\n  ZIZMOR_IMAGE: ghcr.io/zizmorcore/zizmor\njobs:\n  a:\n    runs-on: ubuntu-latest\n    container: alpine:3\n    strategy:\n      matrix:\n        include:\n          - DOCKER_IMAGE: quay.io/condaforge/linux-anvil:alma9\n    steps:\n      - uses: docker/setup-qemu-action@v3\n        with:\n          image: tonistiigi/binfmt:qemu-v9.2.2\n      - uses: aquasecurity/trivy-action@0.28.0\n        with:\n          image-ref: 'aquasec/trivy:0.50.0'\n          format: sarif\n      - run: docker build --tag localbuild/testimage:latest .\n      - uses: anchore/scan-action@v3\n        with:\n          image: \"localbuild/testimage:latest\"\n      - run: docker run $KIND_IMAGE\n        env:\n          KIND_IMAGE: kindest/node:v1.30.0\n";
        let got = run(crate::kind::github_actions::extract_workflow, wf);
        assert_eq!(
            got,
            [
                (
                    "env.SETUP_BUILDKIT_IMAGE".into(),
                    "moby/buildkit:latest".into(),
                    true
                ),
                (
                    "jobs.a.strategy.matrix.include[0].DOCKER_IMAGE".into(),
                    "quay.io/condaforge/linux-anvil:alma9".into(),
                    true
                ),
                (
                    "jobs.a.steps[0].with.image".into(),
                    "tonistiigi/binfmt:qemu-v9.2.2".into(),
                    true
                ),
                (
                    "jobs.a.steps[1].with.image-ref".into(),
                    "aquasec/trivy:0.50.0".into(),
                    true
                ),
            ],
            "the container, the built image and the expanded KIND_IMAGE are not repeated"
        );
    }

    #[test]
    fn gitlab_variables_compose_args_and_kubernetes_env() {
        let gl = "variables:\n  DOCS_HUGO_IMAGE: registry.gitlab.com/org/builder:hugo-0.154.5\n  USED_IMAGE: alpine:3\n  IMAGE_TAG: v1\njob:\n  image: $USED_IMAGE\n  variables:\n    LINT_IMAGE:\n      value: node:22\n      description: linter\n  script: [make]\n";
        let got = run(crate::kind::gitlab_ci::extract, gl);
        assert_eq!(
            got,
            [
                (
                    "variables.DOCS_HUGO_IMAGE".into(),
                    "registry.gitlab.com/org/builder:hugo-0.154.5".into(),
                    true
                ),
                (
                    "job.variables.LINT_IMAGE.value".into(),
                    "node:22".into(),
                    true
                ),
            ]
        );
        let compose = "services:\n  db:\n    build:\n      context: .\n      args:\n        IMAGE: mysql:8.0\n  app:\n    build:\n      context: .\n      args:\n        - BASE_IMAGE=node:22\n        - OTHER=x:1\n";
        let got = run(crate::kind::compose::extract, compose);
        assert_eq!(
            got,
            [
                (
                    "services.db.build.args.IMAGE".into(),
                    "mysql:8.0".into(),
                    true
                ),
                (
                    "services.app.build.args[0] BASE_IMAGE".into(),
                    "node:22".into(),
                    true
                ),
            ]
        );
        let k8s = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: operator\n          image: quay.io/op/op:1\n          env:\n            - name: RELATED_IMAGE_AGENT\n              value: quay.io/op/agent:1.2\n            - name: LOG_LEVEL\n              value: debug:1\n---\napiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nspec:\n  image: quay.io/prometheus/prometheus:v2.54.1\n";
        let got = run(crate::kind::kubernetes::extract, k8s);
        assert_eq!(
            got,
            [
                (
                    "spec.template.spec.containers[0].env[0] RELATED_IMAGE_AGENT".into(),
                    "quay.io/op/agent:1.2".into(),
                    true
                ),
                (
                    "spec.image".into(),
                    "quay.io/prometheus/prometheus:v2.54.1".into(),
                    true
                ),
            ]
        );
    }

    #[test]
    fn input_defaults_and_virtual_machines() {
        let wf = "on:\n  workflow_dispatch:\n    inputs:\n      upstream:\n        description: \"Upstream image to mirror\"\n        default: \"docker.io/library/busybox:1.32\"\n      other:\n        description: a version\n        default: x:1\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{run: 'true'}]\n";
        let got = run(crate::kind::github_actions::extract_workflow, wf);
        assert_eq!(
            got,
            [(
                "on.workflow_dispatch.inputs.upstream.default".into(),
                "docker.io/library/busybox:1.32".into(),
                true
            )]
        );
        let circle = "version: 2.1\njobs:\n  build:\n    machine:\n      image: ubuntu-2004:current\n    steps: [checkout]\nworkflows:\n  w:\n    jobs: [build]\n";
        assert!(run(crate::kind::circleci::extract, circle).is_empty());
    }

    #[test]
    fn lines_that_need_no_second_parse() {
        let covered = |text: &str, kind: fn(&str) -> Extraction| Covered::of(&kind(text));
        // Every image-named value is already an occurrence.
        let k8s = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      image: \"nginx:1.27\"\n";
        assert!(!worth_parsing(
            k8s,
            &covered(k8s, crate::kind::kubernetes::extract)
        ));
        for needs in [
            "env:\n  DOCKER_IMAGE: quay.io/x:1\n",
            "variables:\n  LINT_IMAGE:\n    value: node:22\n",
            "env:\n  - name: RELATED_IMAGE_A\n    value: q/a:1\n",
            "steps: [{with: {image: 'a:1'}}]\n",
            "on: {workflow_dispatch: {inputs: {u: {description: the image}}}}\n",
        ] {
            assert!(
                worth_parsing(needs, &Covered::of(&Extraction::default())),
                "{needs}"
            );
        }
    }

    #[test]
    fn hostile_input() {
        let deep = format!("{}x_image: a:1\n", "- ".repeat(200));
        let mut out = Extraction::default();
        report(&deep, &mut out);
        let mut out = Extraction::default();
        report("a: [unclosed\nIMAGE: x:1\n", &mut out);
        assert!(out.images.is_empty());
    }
}
