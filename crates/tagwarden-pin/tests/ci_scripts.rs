//! Pinning what the shared script reader finds in CI scripts, end to end: the real extractor, a
//! plan with a synthetic digest, the rewrite compared byte for byte, `verify_rewrite`, and a
//! second plan with nothing left to do. A reference written literally is pinned where it is
//! written; one held whole by a variable the script assigns is pinned at the assignment; one
//! built from a variable and text is reported and left alone, with the reason.

#![allow(clippy::unwrap_used)]

mod common;

use common::expect;
use tagwarden_extract::FileKind;
use tagwarden_pin::Skip;

#[test]
fn github_assignments_quoted_flags_nested_shells_and_env_in_a_word() {
    let got = expect(
        FileKind::GithubWorkflow,
        "on: push
env:
  WEB_TAG: v1
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - run: |
          IMG=aquasec/trivy:0.69.4
          export KICS_TAG=latest
          docker run --rm \"$IMG\" image x
          docker run --rm checkmarx/kics:${KICS_TAG} scan
          kubectl run k --image=\"nginx:1.27\"
          sh -c 'docker pull redis:7'
          docker pull ghcr.io/acme/web:${{ env.WEB_TAG }}
      - run: >-
          docker run --rm
          alpine:3.20
",
        "on: push
env:
  WEB_TAG: v1
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - run: |
          IMG=aquasec/trivy:0.69.4@%D
          export KICS_TAG=latest
          docker run --rm \"$IMG\" image x
          docker run --rm checkmarx/kics:${KICS_TAG} scan
          kubectl run k --image=\"nginx:1.27@%D\"
          sh -c 'docker pull redis:7@%D'
          docker pull ghcr.io/acme/web:${{ env.WEB_TAG }}
      - run: >-
          docker run --rm
          alpine:3.20@%D
",
    );
    assert_eq!(
        got,
        vec![
            Ok(1),
            Err(Skip::ArgNotWholeReference {
                name: "KICS_TAG".into()
            }),
            Ok(1),
            Ok(1),
            Err(Skip::ArgNotWholeReference {
                name: "WEB_TAG".into()
            }),
            Ok(1),
        ]
    );
}

#[test]
fn tekton_copy_only_script_and_argo_parameters() {
    let got = expect(
        FileKind::Kubernetes,
        "apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: mirror
spec:
  steps:
  - name: copy
    image: gcr.io/go-containerregistry/crane:debug
    script: |
      crane copy checkmarx/kics:v2.1.5 registry.local/kics:v2.1.5
      skopeo copy docker://aquasec/trivy:0.69.4 docker://registry.local/trivy:0.69.4
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: scan
spec:
  arguments:
    parameters:
    - name: scanner
      value: aquasec/trivy:0.50.0
  templates:
  - name: main
    container:
      image: docker:27
      command: [sh, -c]
      args: ['docker run --rm {{workflow.parameters.scanner}} fs /src']
",
        "apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: mirror
spec:
  steps:
  - name: copy
    image: gcr.io/go-containerregistry/crane:debug@%D
    script: |
      crane copy checkmarx/kics:v2.1.5@%D registry.local/kics:v2.1.5
      skopeo copy docker://aquasec/trivy:0.69.4@%D docker://registry.local/trivy:0.69.4
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: scan
spec:
  arguments:
    parameters:
    - name: scanner
      value: aquasec/trivy:0.50.0@%D
  templates:
  - name: main
    container:
      image: docker:27@%D
      command: [sh, -c]
      args: ['docker run --rm {{workflow.parameters.scanner}} fs /src']
",
    );
    assert_eq!(got, vec![Ok(1); 5]);
}

#[test]
fn devcontainer_exec_arrays() {
    let got = expect(
        FileKind::Devcontainer,
        r#"{
  "image": "mcr.microsoft.com/devcontainers/base:ubuntu",
  "postCreateCommand": ["docker", "pull", "ghcr.io/acme/tool:1"],
  "postStartCommand": ["bash", "-c", "docker run --rm redis:7"]
}
"#,
        r#"{
  "image": "mcr.microsoft.com/devcontainers/base:ubuntu@%D",
  "postCreateCommand": ["docker", "pull", "ghcr.io/acme/tool:1@%D"],
  "postStartCommand": ["bash", "-c", "docker run --rm redis:7@%D"]
}
"#,
    );
    assert_eq!(got, vec![Ok(1); 3]);
}

#[test]
fn quadlet_shell_exec_lines() {
    let got = expect(
        FileKind::Quadlet,
        "[Container]
Image=docker.io/library/nginx:1.27

[Service]
ExecStartPre=/bin/sh -c 'podman pull quay.io/acme/tool:1 || true'
",
        "[Container]
Image=docker.io/library/nginx:1.27@%D

[Service]
ExecStartPre=/bin/sh -c 'podman pull quay.io/acme/tool:1@%D || true'
",
    );
    assert_eq!(got, vec![Ok(1); 2]);
}

#[test]
fn kubernetes_flow_mapping_document() {
    let got = expect(
        FileKind::Kubernetes,
        "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: \"nginx:1.27.0\"}]}}\n",
        "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: \"nginx:1.27.0@%D\"}]}}\n",
    );
    assert_eq!(got, vec![Ok(1)]);
}

#[test]
fn cloudbuild_runs_what_it_builds_and_pins_the_rest() {
    let got = expect(
        FileKind::CloudBuild,
        "steps:
- name: gcr.io/cloud-builders/docker
  args: ['build', '-t', 'gcr.io/$PROJECT_ID/app:$SHORT_SHA', '.']
- name: gcr.io/$PROJECT_ID/app:${SHORT_SHA}
  args: ['test']
- name: gcr.io/go-containerregistry/crane
  args: ['copy', 'checkmarx/kics:v2.1.5', 'gcr.io/$PROJECT_ID/kics:v2.1.5']
",
        "steps:
- name: gcr.io/cloud-builders/docker:latest@%D
  args: ['build', '-t', 'gcr.io/$PROJECT_ID/app:$SHORT_SHA', '.']
- name: gcr.io/$PROJECT_ID/app:${SHORT_SHA}
  args: ['test']
- name: gcr.io/go-containerregistry/crane:latest@%D
  args: ['copy', 'checkmarx/kics:v2.1.5@%D', 'gcr.io/$PROJECT_ID/kics:v2.1.5']
",
    );
    // The step running the image the build made is not a reference at all.
    assert_eq!(got, vec![Ok(1); 3]);
}
