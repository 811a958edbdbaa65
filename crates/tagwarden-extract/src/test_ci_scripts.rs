//! One script, written in every kind of file that holds shell scripts, read the same way: the
//! claims of the README's "container commands in CI scripts" row as one table, so that a kind
//! whose reader drifts from the shared one fails here.

use crate::{FileKind, Form, extract};

/// The script: assignments read as in a shell file, a variable inside an image word, quotes
/// around a flag's value, a tool other than the engines, and a script handed to `sh -c`.
const SCRIPT: &[&str] = &[
    "IMG=aquasec/trivy:0.69.4",
    "export KICS_TAG=latest",
    "docker run --rm \"$IMG\" image x",
    "docker run --rm checkmarx/kics:${KICS_TAG} scan -p .",
    "kubectl run k --image=\"nginx:1.27\"",
    "crane copy gcr.io/acme/b:1 mirror.local/b:1",
    "sh -c 'docker pull redis:7'",
];

/// What each operand must be read as: its text, its image, exact, the texts of its origins.
fn expected() -> Vec<(&'static str, &'static str, bool, Vec<&'static str>)> {
    vec![
        (
            "$IMG",
            "aquasec/trivy:0.69.4",
            false,
            vec!["aquasec/trivy:0.69.4"],
        ),
        (
            "checkmarx/kics:${KICS_TAG}",
            "checkmarx/kics:latest",
            false,
            vec!["latest"],
        ),
        ("nginx:1.27", "nginx:1.27", true, vec![]),
        ("gcr.io/acme/b:1", "gcr.io/acme/b:1", true, vec![]),
        ("redis:7", "redis:7", true, vec![]),
    ]
}

fn indented(n: usize) -> String {
    SCRIPT
        .iter()
        .map(|l| format!("{}{l}\n", " ".repeat(n)))
        .collect()
}

/// Every kind with its file around the script. The script is the same bytes in each.
fn files() -> Vec<(&'static str, FileKind, String)> {
    let json_string: String = SCRIPT
        .join("\n")
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    vec![
        (
            "github",
            FileKind::GithubWorkflow,
            format!(
                "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n{}",
                indented(10)
            ),
        ),
        (
            "gitlab",
            FileKind::GitlabCi,
            format!("job:\n  script:\n    - |\n{}", indented(6)),
        ),
        (
            "circleci",
            FileKind::CircleCi,
            format!(
                "version: 2.1\njobs:\n  j:\n    docker:\n      - image: cimg/base:2024.01\n    steps:\n      - run: |\n{}",
                indented(10)
            ),
        ),
        (
            "azure",
            FileKind::AzurePipelines,
            format!(
                "trigger: none\npool:\n  vmImage: ubuntu-latest\nsteps:\n- script: |\n{}",
                indented(4)
            ),
        ),
        (
            "bitbucket",
            FileKind::BitbucketPipelines,
            format!(
                "pipelines:\n  default:\n    - step:\n        script:\n          - |\n{}",
                indented(12)
            ),
        ),
        (
            "tekton",
            FileKind::Kubernetes,
            format!(
                "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  steps:\n  - name: s\n    image: docker:27\n    script: |\n{}",
                indented(6)
            ),
        ),
        (
            "argo",
            FileKind::Kubernetes,
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: w\nspec:\n  templates:\n  - name: t\n    script:\n      image: docker:27\n      command: [sh]\n      source: |\n{}",
                indented(8)
            ),
        ),
        (
            "cloudbuild",
            FileKind::CloudBuild,
            format!("steps:\n- name: docker\n  script: |\n{}", indented(4)),
        ),
        (
            "jenkins",
            FileKind::Jenkinsfile,
            format!(
                "pipeline {{\n  agent any\n  stages {{\n    stage('s') {{\n      steps {{\n        sh '''\n{}        '''\n      }}\n    }}\n  }}\n}}\n",
                indented(10)
            ),
        ),
        (
            "devcontainer",
            FileKind::Devcontainer,
            format!("{{\"image\": \"x:1\", \"postCreateCommand\": \"{json_string}\"}}\n"),
        ),
        ("shell", FileKind::ShellScript, indented(0)),
    ]
}

#[test]
fn every_kind_reads_a_script_alike() {
    for (name, kind, text) in files() {
        let out = extract(kind, &text);
        let got: Vec<_> = expected()
            .iter()
            .map(|(written, ..)| {
                let occ = out
                    .images
                    .iter()
                    .find(|o| o.span.of(&text) == *written)
                    .unwrap_or_else(|| panic!("{name}: {written} not found in {:#?}", out.images));
                let origins: Vec<&str> = match &occ.form {
                    Form::Expanded { origins } => {
                        origins.iter().map(|o| o.span.of(&text)).collect()
                    }
                    _ => Vec::new(),
                };
                (
                    *written,
                    occ.image.as_ref().map_or("ERR", |i| i.as_str()),
                    occ.exact,
                    origins,
                )
            })
            .collect();
        assert_eq!(got, expected(), "{name}");
        assert!(out.diagnostics.is_empty(), "{name}: {:?}", out.diagnostics);
    }
}

#[test]
fn folded_scripts_are_read_in_every_yaml_kind() {
    // `>` folds the two lines into one command: `docker run --rm nginx:1.27`.
    for (kind, text) in [
        (
            FileKind::GithubWorkflow,
            "on: push\njobs:\n  a:\n    steps:\n      - run: >-\n          docker run --rm\n          nginx:1.27\n",
        ),
        (
            FileKind::GitlabCi,
            "job:\n  script:\n    - >\n      docker run --rm\n      nginx:1.27\n",
        ),
        (
            FileKind::Kubernetes,
            "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - name: s\n    image: docker:27\n    script: >\n      docker run --rm\n      nginx:1.27\n",
        ),
    ] {
        let out = extract(kind, text);
        let run: Vec<_> = out
            .images
            .iter()
            .filter(|o| o.span.of(text) == "nginx:1.27")
            .map(|o| (o.image.clone().ok(), o.exact))
            .collect();
        assert_eq!(run, [(Some("nginx:1.27".to_string()), true)], "{kind:?}");
    }
}
