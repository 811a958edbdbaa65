//! CircleCI `.circleci/config.yml` (version 2 and 2.1).
//!
//! Read: every `docker: - image:` entry of `jobs.<id>` (the first is the primary container, the
//! others are services) and of `executors.<id>`, also through YAML anchors and merge keys (such
//! as a top-level `_defaults: &defaults` block, reported once where it is written); and the image
//! operands of container commands (`docker|podman|nerdctl run|create|pull`) in `run:` steps, in the
//! string form `run: cmd` and the map form `run: {command: …}`, of jobs and of reusable
//! `commands:`, inside `when:` / `unless:` blocks too.
//!
//! `<< parameters.x >>` takes the `default:` of the parameter declared by the job, executor or
//! command that holds the value, and `<< pipeline.parameters.x >>` the default of the top-level
//! `parameters:`; the default is the origin a pin rewrites. Without a literal default (or for
//! `<< pipeline.git.* >>` and other run-time values) the reference is unresolved. Shell variables
//! in `run:` commands take the literal `environment:` of the step, the job, the job's primary
//! container and the job's executor (the nearest wins), unless the file assigns the name
//! somewhere (`NAME=…`), as GitHub's `env:` is read.
//!
//! Not read: `machine: image:` and `macos:` name VM images, not container images; executors and
//! jobs of orbs are resolved by CircleCI from the orb registry, so an orb job's images are not in
//! this file; values passed to a job by a workflow (`- build: {tag: x}`) are not followed, only
//! the declared default is.

use std::collections::{HashMap, HashSet};

use crate::read::ci_script::macros::{
    Expansion, Macro, Script, occurrence, script_node_images, substitute,
};
use crate::read::shell;
use crate::read::yaml::{self, NodeRef};
use crate::{Extraction, Origin, Source, Span, Unresolved};

/// Top-level keys that hold neither jobs nor images.
const KNOWN_TOP: &[&str] = &[
    "version",
    "orbs",
    "executors",
    "jobs",
    "commands",
    "workflows",
    "parameters",
    "setup",
];
/// `when:` / `unless:` blocks nested deeper than this are not read (bounded work).
const MAX_STEP_DEPTH: usize = 16;
/// Template expressions read per value; more are treated as unreadable.
const MAX_MACROS: usize = 256;
/// Names of images a job builds, kept per job.
const MAX_BUILT: usize = 1000;

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let mut out = Extraction::default();
    let yaml = yaml::parse(text, &mut out);
    let assigned = shell::assigned_names(text);
    for doc in yaml.documents() {
        if doc.is_mapping() {
            Config {
                text,
                root: doc,
                assigned: &assigned,
            }
            .scan(&mut out);
        }
    }
    out.images.sort_by_key(|o| (o.span.start, o.span.end));
    out
}

/// Literal values by name: (value, span of the value).
type Env = HashMap<String, (String, Span)>;

struct Config<'c, 'y, 'a> {
    text: &'a str,
    root: NodeRef<'y, 'a>,
    assigned: &'c HashSet<&'a str>,
}

/// Where `<< parameters.x >>` is looked up: the declaring job, executor or command, and the
/// pipeline's own `parameters:`.
#[derive(Clone, Copy)]
struct Params<'y, 'a> {
    own: Option<NodeRef<'y, 'a>>,
    pipeline: Option<NodeRef<'y, 'a>>,
}

impl<'y, 'a> Config<'_, 'y, 'a> {
    fn scan(&self, out: &mut Extraction) {
        let pipeline = self.root.get("parameters");
        let executors = self.root.get("executors");
        for (name, executor) in executors.map(|e| e.entries()).unwrap_or_default() {
            let params = Params {
                own: executor.get("parameters"),
                pipeline,
            };
            self.docker_images(executor, &format!("executor {name}"), params, out);
        }
        for (id, job) in self
            .root
            .get("jobs")
            .map(|j| j.entries())
            .unwrap_or_default()
        {
            if !job.is_mapping() {
                continue;
            }
            let params = Params {
                own: job.get("parameters"),
                pipeline,
            };
            self.docker_images(job, id, params, out);
            let Some(steps) = job.get("steps") else {
                continue;
            };
            // The nearest definition wins: executor, then primary container, then job.
            let mut env = Env::new();
            if let Some(executor) = job_executor(job, executors) {
                env.extend(literal_env(executor.get("environment")));
                env.extend(literal_env(primary_environment(executor)));
            }
            env.extend(literal_env(primary_environment(job)));
            env.extend(literal_env(job.get("environment")));
            let mut built = Vec::new();
            collect_built(steps, 0, &mut built);
            self.steps(steps, id, params, &env, &built, 0, out);
        }
        for (name, command) in self
            .root
            .get("commands")
            .map(|c| c.entries())
            .unwrap_or_default()
        {
            let Some(steps) = command.get("steps") else {
                continue;
            };
            let params = Params {
                own: command.get("parameters"),
                pipeline,
            };
            let mut built = Vec::new();
            collect_built(steps, 0, &mut built);
            let context = format!("command {name}");
            self.steps(steps, &context, params, &Env::new(), &built, 0, out);
        }
        // Blocks kept for anchors (`_defaults: &defaults`) name images too.
        for (key, node) in self.root.entries() {
            if !KNOWN_TOP.contains(&key) && node.is_mapping() {
                let params = Params {
                    own: None,
                    pipeline,
                };
                self.docker_images(node, key, params, out);
            }
        }
    }

    /// The `docker:` images of a job or executor: the primary container, then the services.
    fn docker_images(
        &self,
        holder: NodeRef<'y, 'a>,
        name: &str,
        params: Params<'y, 'a>,
        out: &mut Extraction,
    ) {
        let Some(docker) = holder.get("docker") else {
            return;
        };
        let aliases: Vec<Span> = docker.alias_span().into_iter().collect();
        for (n, entry) in docker.items().into_iter().enumerate() {
            let Some(image) = entry.get("image") else {
                continue;
            };
            let context = if n == 0 {
                name.to_string()
            } else {
                format!("{name} (service)")
            };
            let expand = |value: &str| {
                let macros = macros(value, params);
                (!macros.is_empty()).then(|| substitute(value, &macros))
            };
            if let Some(occ) = occurrence(
                self.text,
                image,
                Source::CircleciImage,
                &context,
                &aliases,
                &expand,
            ) {
                out.push_image(occ);
            }
        }
    }

    /// The `run:` steps of a job or command, inside `when:` / `unless:` blocks too.
    #[allow(clippy::too_many_arguments)]
    fn steps(
        &self,
        steps: NodeRef<'y, 'a>,
        owner: &str,
        params: Params<'y, 'a>,
        env: &Env,
        built: &[String],
        depth: usize,
        out: &mut Extraction,
    ) {
        if depth > MAX_STEP_DEPTH {
            return;
        }
        for step in steps.items() {
            for key in ["when", "unless"] {
                if let Some(inner) = step.get(key).and_then(|b| b.get("steps")) {
                    self.steps(inner, owner, params, env, built, depth + 1, out);
                }
            }
            let Some(run) = step.get("run") else {
                continue;
            };
            let (command, step_env, name) = if run.is_mapping() {
                (
                    run.get("command"),
                    literal_env(run.get("environment")),
                    run.get_str("name"),
                )
            } else {
                (Some(run), Env::new(), None)
            };
            let Some(command) = command else {
                continue;
            };
            let context = match name {
                Some(name) => format!("{owner} / {name}"),
                None => owner.to_string(),
            };
            let lookup = |var: &str| {
                if self.assigned.contains(var) {
                    return None;
                }
                step_env.get(var).or_else(|| env.get(var)).cloned()
            };
            let script = Script {
                text: self.text,
                source: Source::CircleciRunCommand,
                context: Some(&context),
                built,
                env: &lookup,
                powershell: false,
            };
            script_node_images(&script, command, &|value| macros(value, params), out);
        }
    }
}

/// The local executor a job names (`executor: name` or `executor: {name: …}`), if any.
fn job_executor<'y, 'a>(
    job: NodeRef<'y, 'a>,
    executors: Option<NodeRef<'y, 'a>>,
) -> Option<NodeRef<'y, 'a>> {
    let executor = job.get("executor")?;
    let name = executor
        .as_str()
        .or_else(|| executor.get("name").and_then(|n| n.as_str()))?;
    executors?.get(name)
}

/// The `environment:` of the primary (first) `docker:` container.
fn primary_environment<'y, 'a>(holder: NodeRef<'y, 'a>) -> Option<NodeRef<'y, 'a>> {
    holder.get("docker")?.items().first()?.get("environment")
}

/// The names images are built under by the `run:` commands of these steps.
fn collect_built(steps: NodeRef<'_, '_>, depth: usize, built: &mut Vec<String>) {
    if depth > MAX_STEP_DEPTH {
        return;
    }
    for step in steps.items() {
        for key in ["when", "unless"] {
            if let Some(inner) = step.get(key).and_then(|b| b.get("steps")) {
                collect_built(inner, depth + 1, built);
            }
        }
        let run = step.get("run");
        let command = match run {
            Some(r) if r.is_mapping() => r.get("command"),
            other => other,
        };
        if let Some(script) = command.and_then(|c| c.as_str()) {
            built.extend(shell::built_images(script));
        }
    }
    built.truncate(MAX_BUILT);
}

/// The `environment:` entries written literally, with the spans of their values.
fn literal_env(env: Option<NodeRef<'_, '_>>) -> Env {
    let mut map = Env::new();
    for (name, value) in env.map(|e| e.entries()).unwrap_or_default() {
        if let (Some(v), Some(span)) = (value.as_str(), value.exact_span())
            && !v.contains('$')
            && !v.contains("<<")
        {
            map.insert(name.to_string(), (v.to_string(), span));
        }
    }
    map
}

/// The `<< parameters.x >>` / `<< pipeline.… >>` expressions of a value, with their values.
fn macros(value: &str, params: Params<'_, '_>) -> Vec<Macro> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = value
        .get(from..)
        .and_then(|r| r.find("<<"))
        .map(|n| from + n)
    {
        if found.len() >= MAX_MACROS {
            break;
        }
        let Some(close) = value
            .get(open + 2..)
            .and_then(|r| r.find(">>"))
            .map(|n| open + 2 + n)
        else {
            break;
        };
        let inner = value.get(open + 2..close).unwrap_or("").trim();
        // Only parameter expressions are CircleCI's; `<<EOF` and the like are the shell's.
        let is_expr = (inner.starts_with("parameters.") || inner.starts_with("pipeline."))
            && inner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !is_expr {
            from = open + 2;
            continue;
        }
        found.push(Macro {
            start: open,
            end: close + 2,
            name: inner.rsplit('.').next().unwrap_or(inner).to_string(),
            value: parameter(inner, params),
        });
        from = close + 2;
    }
    found
}

/// The literal default of the parameter an expression names.
fn parameter(expr: &str, params: Params<'_, '_>) -> Expansion {
    let (declared, name) = if let Some(name) = expr.strip_prefix("pipeline.parameters.") {
        (params.pipeline, name)
    } else if let Some(name) = expr.strip_prefix("parameters.") {
        (params.own, name)
    } else {
        return Err(Unresolved::new(format!(
            "<< {expr} >> is only known when the pipeline runs"
        )));
    };
    let default = declared
        .and_then(|p| p.get(name))
        .and_then(|p| p.get("default"))
        .filter(|d| d.is_scalar());
    let Some(default) = default else {
        return Err(Unresolved::new(format!(
            "parameter {name} has no default; its value is passed where the job is used"
        )));
    };
    let value = default.as_str().unwrap_or_default().to_string();
    let origin = default.exact_span().map(|span| Origin {
        name: expr.to_string(),
        span,
    });
    Ok((value, origin.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DiagnosticKind;
    use crate::test_support::{origins, rows};

    fn got(t: &str) -> Vec<crate::test_support::Row<'_>> {
        rows(t, &extract(t))
    }

    const IMG: Source = Source::CircleciImage;
    const RUN: Source = Source::CircleciRunCommand;

    #[test]
    fn other_tools_in_run_steps() {
        let t = "version: 2.1\njobs:\n  d:\n    docker: [{image: cimg/base:2024.01}]\n    steps:\n      - run: kubectl run scan --image=checkmarx/kics:latest && ctr image pull docker.io/library/busybox:1\n";
        let texts: Vec<_> = got(t)
            .into_iter()
            .filter(|r| r.2 == RUN)
            .map(|r| r.0)
            .collect();
        assert_eq!(
            texts,
            ["checkmarx/kics:latest", "docker.io/library/busybox:1"]
        );
    }

    #[test]
    fn jobs_executors_and_services() {
        for nl in ["\n", "\r\n"] {
            let t = "version: 2.1\nexecutors:\n  go:\n    docker:\n      - image: cimg/go:1.23\njobs:\n  build:\n    docker:\n      - image: \"cimg/go:1.23\"\n      - image: 'postgres:17'\n        environment: {POSTGRES_USER: u}\n      - auth: {username: u}\n  vm:\n    machine:\n      image: ubuntu-2204:current\n  mac:\n    macos: {xcode: 15.4.0}\n  orb-job:\n    executor: node/default\n  short: orb/job\n"
                .replace('\n', nl);
            assert_eq!(
                got(&t),
                vec![
                    (
                        "cimg/go:1.23",
                        Ok("cimg/go:1.23".into()),
                        IMG,
                        "executor go".into(),
                        true
                    ),
                    (
                        "cimg/go:1.23",
                        Ok("cimg/go:1.23".into()),
                        IMG,
                        "build".into(),
                        true
                    ),
                    (
                        "postgres:17",
                        Ok("postgres:17".into()),
                        IMG,
                        "build (service)".into(),
                        true
                    ),
                ]
            );
        }
    }

    #[test]
    fn anchors_are_reported_once() {
        let t = "_defaults: &defaults\n  docker:\n    - image: cimg/python:3.12\njobs:\n  a:\n    <<: *defaults\n  b:\n    <<: *defaults\n  c:\n    docker:\n      - image: &img redis:7\n  d:\n    docker:\n      - image: *img\n";
        let out = extract(t);
        let g = got(t);
        assert_eq!(g.len(), 2, "{g:?}");
        assert_eq!(g[0].0, "cimg/python:3.12");
        assert_eq!(g[0].3, "a");
        assert_eq!(g[1].0, "redis:7");
        assert_eq!(out.images[1].alias_sites.len(), 1);
        assert_eq!(out.images[1].alias_sites[0].of(t), "*img");
    }

    #[test]
    fn kics_in_run_steps() {
        for nl in ["\n", "\r\n"] {
            let t = "version: 2.1\njobs:\n  scan:\n    docker: [{image: cimg/base:2024.01}]\n    steps:\n      - checkout\n      - setup_remote_docker\n      - run: docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n      - run:\n          name: trivy\n          command: |\n            docker pull aquasec/trivy:0.69.4\n            echo docker run not:1\n            docker build -t mine .\n            docker run --rm mine\n"
                .replace('\n', nl);
            let g = got(&t);
            assert_eq!(
                g[1..],
                [
                    (
                        "checkmarx/kics:latest",
                        Ok("checkmarx/kics:latest".into()),
                        RUN,
                        "scan".into(),
                        true
                    ),
                    (
                        "aquasec/trivy:0.69.4",
                        Ok("aquasec/trivy:0.69.4".into()),
                        RUN,
                        "scan / trivy".into(),
                        true
                    ),
                ]
            );
        }
    }

    #[test]
    fn run_environment_is_expanded_when_literal() {
        let t = "executors:\n  e:\n    docker: [{image: a:1}]\n    environment: {FROM_EXECUTOR: x/e:1}\njobs:\n  j:\n    executor: e\n    environment:\n      KICS: checkmarx/kics:latest\n      OTHER: $HOME/x\n      REASSIGNED: x/r:1\n    steps:\n      - run:\n          environment: {STEP: x/s:1}\n          command: |\n            docker run \"$KICS\" scan\n            docker run ${STEP}\n            docker run $FROM_EXECUTOR\n            docker run $OTHER\n            REASSIGNED=y/r:2\n            docker run $REASSIGNED\n      - run: docker run $STEP\n";
        let out = extract(t);
        let runs: Vec<_> = out.images.iter().filter(|o| o.source == RUN).collect();
        let images: Vec<_> = runs
            .iter()
            .map(|o| o.image.clone().map_err(|_| ()))
            .collect();
        assert_eq!(
            images,
            [
                Ok("checkmarx/kics:latest".into()),
                Ok("x/s:1".into()),
                Ok("x/e:1".into()),
                Err(()),
                // The script's own assignment, read as a shell file's is.
                Ok("y/r:2".into()),
                Err(()),
            ]
        );
        assert_eq!(
            origins(t, runs[0]),
            [("KICS".to_string(), "checkmarx/kics:latest")]
        );
        assert_eq!(runs[0].span.of(t), "$KICS");
    }

    #[test]
    fn parameters_take_their_default() {
        let t = "version: 2.1\nparameters:\n  registry: {type: string, default: ghcr.io/acme}\nexecutors:\n  py:\n    parameters:\n      tag: {type: string, default: \"3.12\"}\n    docker:\n      - image: cimg/python:<< parameters.tag >>\njobs:\n  j:\n    parameters:\n      image: {type: string, default: checkmarx/kics:latest}\n      free: {type: string}\n    docker:\n      - image: << parameters.image >>\n      - image: << pipeline.parameters.registry >>/db:1\n      - image: <<parameters.free>>\n      - image: << pipeline.git.tag >>\n    steps:\n      - run: docker run --rm << parameters.image >> scan -p .\n      - run: docker run --rm \"<< pipeline.parameters.registry >>/tool:2\"\n      - run: docker run << parameters.free >> x\n      - run: cat <<EOF >> out\n";
        let out = extract(t);
        let g = got(t);
        assert_eq!(g[0].1, Ok("cimg/python:3.12".into()));
        assert_eq!(
            origins(t, &out.images[0]),
            [("parameters.tag".to_string(), "3.12")]
        );
        assert_eq!(g[1].0, "<< parameters.image >>");
        assert_eq!(g[1].1, Ok("checkmarx/kics:latest".into()));
        assert_eq!(
            origins(t, &out.images[1]),
            [("parameters.image".to_string(), "checkmarx/kics:latest")]
        );
        assert_eq!(g[2].1, Ok("ghcr.io/acme/db:1".into()));
        assert!(g[3].1.as_ref().unwrap_err().contains("free"), "{g:?}");
        assert!(g[4].1.is_err());
        // Run commands: the parameter word is the operand.
        assert_eq!(g[5].0, "<< parameters.image >>");
        assert_eq!(g[5].1, Ok("checkmarx/kics:latest".into()));
        assert_eq!(g[5].2, RUN);
        assert_eq!(
            origins(t, &out.images[5]),
            [("parameters.image".to_string(), "checkmarx/kics:latest")]
        );
        assert_eq!(g[6].0, "<< pipeline.parameters.registry >>/tool:2");
        assert_eq!(g[6].1, Ok("ghcr.io/acme/tool:2".into()));
        assert!(g[7].1.is_err());
        assert_eq!(g.len(), 8, "{g:?}");
    }

    #[test]
    fn commands_and_conditional_steps() {
        let t = "commands:\n  scan:\n    parameters:\n      img: {default: alpine:3}\n    steps:\n      - when:\n          condition: true\n          steps:\n            - run: docker pull << parameters.img >>\njobs:\n  j:\n    docker: [{image: a:1}]\n    steps:\n      - unless:\n          condition: false\n          steps:\n            - run: {command: podman pull quay.io/x/y:1}\n";
        let g = got(t);
        assert_eq!(g[0].1, Ok("alpine:3".into()));
        assert_eq!(g[0].3, "command scan");
        assert_eq!(g[2].0, "quay.io/x/y:1");
    }

    #[test]
    fn parse_errors_and_hostile_input() {
        let t = "jobs:\n  a:\n    docker:\n      - image: alpine:3\n  b: [\n";
        let out = extract(t);
        assert_eq!(out.images.len(), 1);
        assert_eq!(out.diagnostics.len(), 1);
        assert_eq!(out.diagnostics[0].kind, DiagnosticKind::ParseError);
        assert!(out.diagnostics[0].span.start >= t.find("b: [").unwrap());
        for t in [
            "",
            "---\n",
            "jobs: 1\n",
            "jobs:\n  a: [1]\n",
            "jobs:\n  a:\n    docker: x\n",
            "jobs:\n  a:\n    docker: [1, [2], {image: [x]}]\n    steps: {run: 1}\n",
            "jobs:\n  a:\n    steps:\n      - run: {command: [x]}\n      - run: \"docker run << parameters.\"\n      - run: docker run <<>>\n",
            "executors: [1]\ncommands: x\n",
        ] {
            extract(t);
        }
        // Deep `when:` nesting and long scripts stay bounded.
        let mut t = String::from("jobs:\n  a:\n    steps:\n");
        let mut indent = String::from("      ");
        for _ in 0..100 {
            t.push_str(&format!("{indent}- when:\n{indent}    steps:\n"));
            indent.push_str("      ");
        }
        t.push_str(&format!("{indent}- run: docker pull x\n"));
        extract(&t);
        let long = format!(
            "jobs:\n  a:\n    steps:\n      - run: \"{}\"\n",
            "docker run << parameters.x >> ".repeat(5000)
        );
        extract(&long);
    }

    #[test]
    fn corpus() {
        let n = crate::test_corpus::check_all("circleci", extract);
        let Some(t) = crate::test_corpus::file("circleci/sethvargo__ratchet/testdata/circleci.yml")
        else {
            return;
        };
        assert!(n >= 23, "{n}");
        let g = got(&t);
        assert_eq!(
            g,
            vec![
                (
                    "cimg/base:2022.05-22.04",
                    Ok("cimg/base:2022.05-22.04".into()),
                    IMG,
                    "executor my-executor".into(),
                    true
                ),
                (
                    "cimg/base:2022.05-22.04",
                    Ok("cimg/base:2022.05-22.04".into()),
                    IMG,
                    "build".into(),
                    true
                ),
                (
                    "ubuntu:20.04",
                    Ok("ubuntu:20.04".into()),
                    IMG,
                    "build (service)".into(),
                    true
                ),
            ]
        );
        let t = crate::test_corpus::file(
            "circleci/bridgecrewio__checkov/tests/circleci_pipelines/resources/.circleci/config.yml",
        )
        .unwrap();
        let images: Vec<_> = got(&t).into_iter().map(|g| g.0).collect();
        assert_eq!(
            images,
            [
                "mongo:2.6.8",
                "redis@sha256:54057dd7e125ca41afe526a877e8bd35ec2cdd33b9217e022ed37bdcf7d09673",
                "buildpack-deps:latest",
                "mongo:2.6.8",
                "postgres:14.2",
                "cimg/python:latest",
                "cimg/python:latest",
                "cimg/python:latest",
                "cimg/python:latest",
                "cimg/python:latest",
            ]
        );
        // `machine:` VM images are not container images.
        let t =
            crate::test_corpus::file("circleci/conda-forge__numpy-feedstock/.circleci/config.yml")
                .unwrap();
        assert!(got(&t).is_empty());
        let t =
            crate::test_corpus::file("circleci/pypa__cibuildwheel/.circleci/config.yml").unwrap();
        assert_eq!(got(&t).len(), 1);
        // An anchored `_defaults` block used by two jobs: one occurrence.
        let t = crate::test_corpus::file("circleci/numpy__numpy/.circleci/config.yml").unwrap();
        let g = got(&t);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].0, "cimg/python:3.12.12");
        let t = crate::test_corpus::file(
            "circleci/CircleCI-Public__circleci-demo-go/.circleci/config.yml",
        )
        .unwrap();
        let g: Vec<_> = got(&t).into_iter().map(|g| (g.0, g.3)).collect();
        assert_eq!(
            g,
            [
                ("cimg/go:1.23", "executor go".to_string()),
                ("cimg/go:1.23", "build".to_string()),
                ("cimg/postgres:17.0", "build (service)".to_string()),
            ]
        );
    }
}
