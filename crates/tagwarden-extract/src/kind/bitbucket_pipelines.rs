//! Bitbucket Pipelines (`bitbucket-pipelines.yml`).
//!
//! Read: `image:` as a string or a map's `name:`, at the top level (the default of every step)
//! and per step; `definitions.services.<name>.image` (string or map); steps anywhere under
//! `pipelines:` (`default`, `branches.*`, `tags.*`, `pull-requests.*`, `custom.*`, inside
//! `parallel:` and `stage:`) and under `definitions.steps`, so a step shared through a YAML
//! anchor is reported once, where it is written, with the alias sites; the image operands of
//! container commands in `script:` and `after-script:` entries; and `pipe: docker://image`, a
//! Docker image run as a pipe (context `… / pipe`).
//!
//! Not read as an image: `pipe: owner/name:1.2.3` names a Bitbucket repository at a tag, whose
//! `pipe.yml` names the image to run (Atlassian's own pipes publish theirs as
//! `bitbucketpipelines/<name>`), so the image is not written in this file and a digest cannot be
//! spliced into the pipe's name; each one gets a note. Step `services:` entries name
//! `definitions.services` (or the built-in `docker`), reported at their definitions. Repository
//! and deployment variables live outside the file, so `$VAR` operands stay unresolved.

use std::collections::HashSet;

use crate::read::shell;
use crate::read::yaml::{self, NodeRef, Yaml};
use crate::{Extraction, Source, Span};

/// Where a pipe runs a Docker image directly.
const DOCKER_SCHEME: &str = "docker://";
/// Nesting of `parallel:` / `stage:` groups read (Bitbucket allows one level; a bound anyway).
const MAX_GROUP_DEPTH: usize = 8;
/// Names of images a step builds, kept per step.
const MAX_BUILT: usize = 1000;

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let strict = Yaml::parse(text);
    // Bitbucket reads a flow list closed at its key's indentation (`EXTRA_ARGS: [` … `]`, as pipe
    // READMEs show it); YAML does not. The same bytes with that line break turned into a space
    // parse as Bitbucket reads them, at the same offsets.
    let joined = strict
        .error
        .as_ref()
        .map(|_| join_flow_closers(text))
        .filter(|j| j != text);
    let lenient = joined.as_deref().map(Yaml::parse);
    let yaml = match lenient {
        Some(y)
            if y.error
                .as_ref()
                .is_none_or(|e| strict.error.as_ref().is_some_and(|s| e.offset > s.offset)) =>
        {
            if let Some(e) = &strict.error {
                out.note(
                    Span::new(e.offset, e.offset),
                    "a flow list or map is closed at its key's indentation: read as Bitbucket \
                     reads it",
                );
            }
            y
        }
        _ => strict,
    };
    if let Some(e) = &yaml.error {
        out.parse_error(
            Span::new(e.offset, e.offset),
            format!("YAML: {}", e.message),
        );
    }
    for doc in yaml.documents() {
        if !doc.is_mapping() {
            continue;
        }
        let mut c = Collector {
            text,
            out,
            noted: HashSet::new(),
        };
        if let Some(image) = doc.get("image") {
            c.image(image, Source::BitbucketImage, "global", &[]);
        }
        let definitions = doc.get("definitions");
        for (name, service) in definitions
            .and_then(|d| d.get("services"))
            .map(|s| s.entries())
            .unwrap_or_default()
        {
            if let Some(image) = service.get("image") {
                c.image(image, Source::BitbucketService, name, &[]);
            }
        }
        // Definitions first: a step shared by anchor is named after its definition.
        if let Some(steps) = definitions.and_then(|d| d.get("steps")) {
            c.group(steps, "definitions", &[], 0);
        }
        for (kind, pipelines) in doc
            .get("pipelines")
            .map(|p| p.entries())
            .unwrap_or_default()
        {
            if kind == "default" {
                c.group(pipelines, kind, &[], 0);
                continue;
            }
            for (pattern, list) in pipelines.entries() {
                c.group(list, &format!("{kind}.{pattern}"), &[], 0);
            }
        }
        out = c.out;
    }
    out.images.sort_by_key(|o| (o.span.start, o.span.end));
    out
}

struct Collector<'t> {
    text: &'t str,
    out: Extraction,
    /// Pipes already noted: a step shared by anchor is visited once per use.
    noted: HashSet<usize>,
}

impl Collector<'_> {
    /// A list of pipeline items: `- step:`, `- parallel:`, `- stage:`, `- variables:`.
    fn group(&mut self, list: NodeRef<'_, '_>, pipeline: &str, aliases: &[Span], depth: usize) {
        if depth > MAX_GROUP_DEPTH {
            return;
        }
        let aliases = with_alias(aliases, list);
        // `parallel:` is a list, or a map with `steps:` (and `fail-fast:`).
        let items = match list.get("steps") {
            Some(steps) => steps.items(),
            None => list.items(),
        };
        for item in items {
            let aliases = with_alias(&aliases, item);
            if let Some(step) = item.get("step") {
                self.step(step, pipeline, &aliases);
            }
            for key in ["parallel", "stage"] {
                if let Some(inner) = item.get(key) {
                    self.group(inner, pipeline, &aliases, depth + 1);
                }
            }
        }
    }

    fn step(&mut self, step: NodeRef<'_, '_>, pipeline: &str, aliases: &[Span]) {
        let aliases = with_alias(aliases, step);
        let name = step.get_str("name").unwrap_or(pipeline).to_string();
        if let Some(image) = step.get("image") {
            self.image(image, Source::BitbucketImage, &name, &aliases);
        }
        let scripts: Vec<NodeRef<'_, '_>> = ["script", "after-script"]
            .iter()
            .filter_map(|k| step.get(k))
            .flat_map(|s| s.items())
            .collect();
        let mut built: Vec<String> = scripts
            .iter()
            .filter_map(|l| l.resolve()?.as_str())
            .flat_map(shell::built_images)
            .collect();
        built.truncate(MAX_BUILT);
        let none = |_: &str| None;
        for line in scripts {
            if line.is_mapping() {
                self.pipe(line, &name, &aliases);
                continue;
            }
            let before = self.out.images.len();
            crate::read::ci_script::scalar_images(
                self.text,
                line,
                Source::BitbucketScriptCommand,
                Some(&name),
                &built,
                &none,
                &mut self.out,
            );
            // Alias sites of the enclosing step, as for the step's own `image:`.
            for occ in self.out.images.iter_mut().skip(before) {
                for a in &aliases {
                    if !occ.alias_sites.contains(a) {
                        occ.alias_sites.push(*a);
                    }
                }
            }
        }
    }

    /// `- pipe: docker://image` is an image; `- pipe: owner/name:tag` names a pipe repository.
    fn pipe(&mut self, entry: NodeRef<'_, '_>, step: &str, aliases: &[Span]) {
        let Some(pipe) = entry.get("pipe") else {
            return;
        };
        let Some(value) = pipe.as_str() else {
            return;
        };
        let context = format!("{step} / pipe");
        if value.starts_with(DOCKER_SCHEME) {
            if let Some(mut occ) = crate::read::ci_script::macros::occurrence(
                self.text,
                pipe,
                Source::BitbucketImage,
                &context,
                aliases,
                &|_| None,
            ) {
                let image = value.get(DOCKER_SCHEME.len()..).unwrap_or("");
                if image.trim().is_empty() {
                    return;
                }
                occ.image = Ok(image.to_string());
                if occ.exact {
                    occ.span = Span::new(occ.span.start + DOCKER_SCHEME.len(), occ.span.end);
                    occ.text = occ.span.of(self.text).to_string();
                }
                self.out.push_image(occ);
            }
            return;
        }
        let at = yaml::scalar_site(pipe).map_or(pipe.start(), |(s, _, _)| s.start);
        if !self.noted.insert(at) {
            return;
        }
        self.out.note(
            Span::new(at, at),
            format!(
                "pipe {value:?} names a Bitbucket pipe repository: the image it runs is named in \
                 that repository's pipe.yml, not here"
            ),
        );
    }

    /// An `image:` value: a string, or a map's `name:`.
    fn image(&mut self, node: NodeRef<'_, '_>, source: Source, context: &str, aliases: &[Span]) {
        let aliases = with_alias(aliases, node);
        let value = if node.is_mapping() {
            match node.get("name") {
                Some(name) => name,
                None => return,
            }
        } else {
            node
        };
        // Variables in image names are not expanded by Bitbucket from this file.
        let expand = |v: &str| {
            v.contains('$').then(|| {
                Err(crate::Unresolved::new(format!(
                    "{v:?} depends on variables defined outside the file"
                )))
            })
        };
        if let Some(occ) = crate::read::ci_script::macros::occurrence(
            self.text, value, source, context, &aliases, &expand,
        ) {
            self.out.push_image(occ);
        }
    }
}

/// `text` with the line break before each line holding only a flow closer (`]`, `}`, `],` …)
/// replaced by spaces: same length, same offsets, the closer moved onto the line before.
fn join_flow_closers(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end =
            memchr::memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |n| line_start + n);
        let line = &bytes[line_start..line_end];
        let content: Vec<u8> = line
            .iter()
            .copied()
            .filter(|b| !matches!(b, b' ' | b'\r'))
            .collect();
        let closer = !content.is_empty() && content.iter().all(|b| matches!(b, b']' | b'}' | b','));
        if closer && line_start > 0 {
            // The `\n` (and a `\r` before it) ending the previous line.
            bytes[line_start - 1] = b' ';
            if line_start >= 2 && bytes[line_start - 2] == b'\r' {
                bytes[line_start - 2] = b' ';
            }
        }
        line_start = line_end + 1;
    }
    // Only ASCII line breaks were replaced by ASCII spaces.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{row, rows};
    use crate::{DiagnosticKind, Form};

    fn got(t: &str) -> Vec<crate::test_support::Row<'_>> {
        rows(t, &extract(t))
    }

    const IMG: Source = Source::BitbucketImage;
    const SVC: Source = Source::BitbucketService;
    const CMD: Source = Source::BitbucketScriptCommand;

    #[test]
    fn images_services_and_steps_everywhere() {
        for nl in ["\n", "\r\n"] {
            let t = "image: node:20\ndefinitions:\n  services:\n    db:\n      image: postgres:16\n    cache:\n      image:\n        name: 'redis:7'\n        username: u\n    docker:\n      memory: 2048\npipelines:\n  default:\n    - step:\n        image: {name: \"python:3.13\", username: $U}\n        services: [db, docker]\n        script: [true]\n  branches:\n    main:\n      - parallel:\n          - step: {name: a, image: alpine:3}\n  tags:\n    'v*':\n      - parallel:\n          fail-fast: true\n          steps:\n            - step: {name: b, image: busybox:1}\n  pull-requests:\n    '**':\n      - stage:\n          name: s\n          steps:\n            - step: {image: golang:1.26}\n  custom:\n    manual:\n      - variables:\n          - name: X\n      - step: {image: ruby:3}\n"
                .replace('\n', nl);
            assert_eq!(
                got(&t),
                vec![
                    row("node:20", IMG, "global"),
                    row("postgres:16", SVC, "db"),
                    row("redis:7", SVC, "cache"),
                    row("python:3.13", IMG, "default"),
                    row("alpine:3", IMG, "a"),
                    row("busybox:1", IMG, "b"),
                    row("golang:1.26", IMG, "pull-requests.**"),
                    row("ruby:3", IMG, "custom.manual"),
                ]
            );
        }
    }

    #[test]
    fn anchored_steps_are_reported_once() {
        let t = "definitions:\n  steps:\n    - step: &build\n        name: Build\n        image: node:20\n        script:\n          - docker run --rm node:20-alpine npm test\npipelines:\n  default:\n    - step: *build\n  branches:\n    main:\n      - step:\n          <<: *build\n          name: Main build\n";
        let out = extract(t);
        let g = got(t);
        assert_eq!(
            g,
            vec![
                row("node:20", IMG, "Build"),
                row("node:20-alpine", CMD, "Build")
            ]
        );
        let sites: Vec<_> = out.images[0].alias_sites.iter().map(|s| s.of(t)).collect();
        assert_eq!(sites, ["*build"]);
    }

    #[test]
    fn kics_in_scripts_and_pipes() {
        for nl in ["\n", "\r\n"] {
            let t = "pipelines:\n  default:\n    - step:\n        name: scan\n        script:\n          - docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n          - |\n            docker pull aquasec/trivy:0.69.4\n            docker run $IMAGE\n          - pipe: docker://ghcr.io/acme/pipe:1.0\n            variables: {A: b}\n          - pipe: atlassian/aws-s3-deploy:1.1.0\n        after-script:\n          - docker pull alpine:3\n"
                .replace('\n', nl);
            let out = extract(&t);
            let g = got(&t);
            assert_eq!(g[0], row("checkmarx/kics:latest", CMD, "scan"));
            assert_eq!(g[1], row("aquasec/trivy:0.69.4", CMD, "scan"));
            assert_eq!(g[2].0, "$IMAGE");
            assert!(g[2].1.is_err());
            assert_eq!(g[3], row("ghcr.io/acme/pipe:1.0", IMG, "scan / pipe"));
            assert_eq!(g[4], row("alpine:3", CMD, "scan"));
            assert_eq!(g.len(), 5);
            // A pipe repository is noted, not reported as an image.
            assert_eq!(out.diagnostics.len(), 1);
            assert_eq!(out.diagnostics[0].kind, DiagnosticKind::Note);
            assert!(
                out.diagnostics[0]
                    .message
                    .contains("atlassian/aws-s3-deploy")
            );
        }
    }

    #[test]
    fn variables_in_image_names_are_unresolved() {
        let t = "image: $REGISTRY/app:1\npipelines:\n  default:\n    - step:\n        image: \"ru\\u0062y:3\"\n        script: [true]\n";
        let out = extract(t);
        let g = got(t);
        assert!(g[0].1.is_err());
        assert!(matches!(&out.images[0].form, Form::Expanded { origins } if origins.is_empty()));
        // An escaped scalar is reported, not spliceable.
        assert_eq!(g[1].1, Ok("ruby:3".into()));
        assert!(!g[1].4);
    }

    #[test]
    fn lenient_flow_closers_and_parse_errors() {
        let t = "pipelines:\n  default:\n    - step:\n        image: a:1\n        script:\n          - pipe: docker://x/y:1\n            variables:\n              ARGS: [\n                'a'\n              ]\n    - step:\n        image: b:2\n        script: [true]\n";
        let g = got(t);
        assert_eq!(g.len(), 3, "{g:?}");
        assert_eq!(g[2].0, "b:2");
        let out = extract(t);
        assert!(
            out.diagnostics
                .iter()
                .all(|d| d.kind == DiagnosticKind::Note)
        );
        let t = "image: a:1\npipelines:\n  default: [\n";
        let out = extract(t);
        assert_eq!(out.images.len(), 1);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].kind, DiagnosticKind::ParseError);
        for t in [
            "",
            "image: [x]\n",
            "image: {name: [x]}\n",
            "pipelines: 1\n",
            "pipelines:\n  default: {step: 1}\n  branches: [x]\n",
            "pipelines:\n  default:\n    - step: {script: {a: b}}\n    - step: {script: [{pipe: [x]}, {pipe: 'docker://'}]}\n",
            "definitions: {services: [x], steps: {a: b}}\n",
            "]\n]\n}\n",
        ] {
            extract(t);
        }
        let mut deep = String::from("pipelines:\n  default:\n");
        for _ in 0..50 {
            deep.push_str("    - parallel:\n");
        }
        extract(&deep);
        let wide = format!(
            "pipelines:\n  default:\n    - step:\n        script:\n{}",
            "          - docker run -v a:b x:1 && docker pull y\n".repeat(5000)
        );
        assert_eq!(extract(&wide).images.len(), 10_000);
    }

    #[test]
    fn corpus() {
        let n = crate::test_corpus::check_all("bitbucket-pipelines", extract);
        let Some(t) = crate::test_corpus::file(
            "bitbucket-pipelines/LoremFooBar__resharper-inspections-bitbucket-pipe/bitbucket-pipelines.yml",
        ) else {
            return;
        };
        assert!(n >= 40, "{n}");
        let g: Vec<_> = got(&t).into_iter().map(|g| (g.0, g.3)).collect();
        assert_eq!(
            g,
            [
                (
                    "mcr.microsoft.com/dotnet/sdk:8.0",
                    "Build and test".to_string()
                ),
                (
                    "loremfoobar/resharper-inspections-bitbucket-pipe:1.1.0",
                    "Build and test / pipe".to_string()
                ),
                (
                    "loremfoobar/reportgenerator-coverage-bitbucket-pipe:1.0.0",
                    "Build and test / pipe".to_string()
                ),
                // After the flow list closed at its key's indentation.
                ("atlassian/default-image:4", "Release".to_string()),
            ]
        );
        let t = crate::test_corpus::file(
            "bitbucket-pipelines/ccideas__sbom-utilities-pipe/bitbucket-pipelines.yml",
        )
        .unwrap();
        let images: Vec<_> = got(&t).into_iter().map(|g| g.0).collect();
        assert_eq!(
            images,
            [
                "hadolint/hadolint:v2.12.0-alpine",
                "golang:1.21.1-alpine3.18",
                "golang:1.21.1-alpine3.18",
                "golang:1.21.1-alpine3.18",
                "debian:bookworm-slim",
                "sonarsource/sonar-scanner-cli:5",
                "ccideas/sbom-utilities-pipe:1.5.0",
                "alpine/git:1.0.26",
            ]
        );
        let t = crate::test_corpus::file(
            "bitbucket-pipelines/cyberark__conjur-bitbucket-pipe/bitbucket-pipelines.yml",
        )
        .unwrap();
        assert_eq!(
            got(&t),
            vec![
                row("atlassian/default-image:4", IMG, "global"),
                row(
                    "cyberark/conjur-bitbucket-pipe:edge",
                    IMG,
                    "Run pipe with Conjur OSS / pipe"
                ),
            ]
        );
        // A step merged from a top-level anchor (`- <<: *test`).
        let t = crate::test_corpus::file(
            "bitbucket-pipelines/safedep__vet-bitbucket-pipe/bitbucket-pipelines.yml",
        )
        .unwrap();
        assert_eq!(
            got(&t),
            vec![row("atlassian/default-image:3", IMG, "global")]
        );
    }
}
