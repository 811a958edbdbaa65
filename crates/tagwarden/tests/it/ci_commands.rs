//! The way KICS and Trivy were most often run in CI: a `docker run … checkmarx/kics:latest …` line
//! in a script step. In every CI system and script kind tagwarden reads, `scan` flags it
//! `affected-tag`, and `pin` pins it in place (resolved through a loopback mirror standing in for
//! Docker Hub).

use tagwarden_testbed::{OciLayout, Registry, RegistryOptions, real_registry_available};

use crate::common::{Tree, scan_json};
use crate::env::tagwarden_env;

const RUN: &str = r#"docker run --rm -v "$PWD:/path" checkmarx/kics:latest scan -p /path"#;

/// One file per CI system or script kind, each running `RUN` the way that system writes a step.
fn files() -> Vec<(&'static str, String)> {
    vec![
        (
            ".github/workflows/iac.yml",
            format!(
                "on: push\njobs:\n  kics:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          {RUN}\n"
            ),
        ),
        (
            ".gitlab-ci.yml",
            format!("kics:\n  image: docker:27\n  script:\n    - {RUN}\n"),
        ),
        (
            ".circleci/config.yml",
            format!(
                "version: 2.1\njobs:\n  kics:\n    machine: true\n    steps:\n      - checkout\n      - run: {RUN}\nworkflows:\n  main:\n    jobs: [kics]\n"
            ),
        ),
        (
            "azure-pipelines.yml",
            format!(
                "trigger: [main]\npool:\n  vmImage: ubuntu-latest\nsteps:\n  - script: |\n      {RUN}\n"
            ),
        ),
        (
            "bitbucket-pipelines.yml",
            format!(
                "pipelines:\n  default:\n    - step:\n        services: [docker]\n        script:\n          - {RUN}\n"
            ),
        ),
        (
            "Jenkinsfile",
            format!(
                "pipeline {{\n  agent any\n  stages {{\n    stage('iac') {{\n      steps {{\n        sh '{RUN}'\n      }}\n    }}\n  }}\n}}\n"
            ),
        ),
        (
            ".drone.yml",
            format!(
                "kind: pipeline\ntype: docker\nname: default\nsteps:\n  - name: kics\n    image: docker:27\n    commands:\n      - {RUN}\n"
            ),
        ),
        (
            ".woodpecker/iac.yml",
            format!("steps:\n  - name: kics\n    image: docker:27\n    commands:\n      - {RUN}\n"),
        ),
        (
            "scripts/iac.sh",
            format!("#!/usr/bin/env bash\nset -euo pipefail\n{RUN}\n"),
        ),
        (
            "cloudbuild.yaml",
            format!(
                "steps:\n  - name: docker:27\n    entrypoint: bash\n    args: ['-c', '{RUN}']\n"
            ),
        ),
        (
            "devcontainer.json",
            format!(
                "{{\n  // the dev container\n  \"image\": \"docker:27\",\n  \"postCreateCommand\": \"{}\"\n}}\n",
                RUN.replace('"', "\\\"")
            ),
        ),
        ("Makefile", format!("iac:\n\t{RUN}\n")),
        (
            // The Docker builder's argument list, one argument per word.
            "ci/cloudbuild-args.yaml",
            "steps:\n  - name: docker:27\n    args: ['run', '--rm', '-v', '$$PWD:/path', 'checkmarx/kics:latest', 'scan', '-p', '/path']\n".to_string(),
        ),
        (
            "tekton/kics-task.yaml",
            format!(
                "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: kics\nspec:\n  steps:\n    - name: scan\n      image: docker:27\n      script: |\n        #!/bin/sh\n        {RUN}\n"
            ),
        ),
        (
            "argo/kics-workflow.yaml",
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: kics-\nspec:\n  entrypoint: scan\n  templates:\n    - name: scan\n      script:\n        image: docker:27\n        command: [sh]\n        source: |\n          {RUN}\n"
            ),
        ),
        (
            "infra/scan.tf",
            format!(
                "resource \"null_resource\" \"kics\" {{\n  provisioner \"local-exec\" {{\n    command = \"{}\"\n  }}\n}}\n",
                RUN.replace('"', "\\\"")
            ),
        ),
    ]
}

fn tree() -> Tree {
    files()
        .into_iter()
        .fold(Tree::new(), |t, (rel, text)| t.file(rel, text))
}

#[test]
fn docker_run_kics_latest_is_affected_in_every_ci_system() {
    let tree = tree();
    let (run, json) = scan_json(&tree, &[]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    for (rel, _) in files() {
        let hit = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| {
                f["path"] == rel
                    && f["rule"] == "affected-tag"
                    && f["image"] == "docker.io/checkmarx/kics:latest"
                    && f["advisory"] == "kics-2026-04-22"
            });
        assert!(hit, "{rel}: no affected-tag finding\n{json:#}");
    }
}

#[test]
fn docker_run_kics_latest_is_pinned_in_every_ci_system() {
    if !real_registry_available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let host = registry.host();
    let image = OciLayout::image("kics");
    // The jobs' own images (`docker:27`) are pinned too.
    for name in ["checkmarx/kics:latest", "library/docker:27"] {
        image.push(&format!("{host}/{name}"), registry.credentials());
    }
    let tree = tree();
    let home = tempfile::tempdir().expect("home");
    let env = [("HOME", home.path().as_os_str().to_owned())];
    let mirror = format!("docker.io={host}");
    let run = tagwarden_env(
        &[
            "pin",
            "--registry-mirror",
            &mirror,
            "--insecure-registry",
            &host,
            ".",
        ],
        tree.path(),
        &env,
    );
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    let pinned = format!("checkmarx/kics:latest@{}", image.digest);
    for (rel, before) in files() {
        let after = std::fs::read_to_string(tree.join(rel)).expect("read");
        assert_eq!(
            after,
            before
                .replace("checkmarx/kics:latest", &pinned)
                .replace("docker:27", &format!("docker:27@{}", image.digest)),
            "{rel}: only the digest is inserted"
        );
    }
    let (run, json) = scan_json(&tree, &[]);
    assert_eq!(run.status, 0, "{json:#}");
    let check = tagwarden_env(&["pin", "--check", "."], tree.path(), &env);
    assert_eq!(check.status, 0, "{}\n{}", check.stdout, check.stderr);
}
