//! Pinning Drone / Woodpecker, Google Cloud Build, Argo Workflows and Tekton files end to end:
//! the real extractor, a plan with a synthetic digest, the rewrite compared byte for byte,
//! `verify_rewrite`, and a second plan with nothing left to do.

#![allow(clippy::unwrap_used)]

mod common;

use common::expect;
use tagwarden_extract::FileKind;
use tagwarden_pin::Skip;

#[test]
fn drone_steps_services_and_kics_command() {
    let got = expect(
        FileKind::Drone,
        "kind: pipeline
type: docker
steps:
- name: scan
  image: docker:27
  commands:
  - docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path
- name: publish
  image: plugins/docker
services:
- name: db
  image: 'postgres:16'
---
kind: secret
name: image\n",
        "kind: pipeline
type: docker
steps:
- name: scan
  image: docker:27@%D
  commands:
  - docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path
- name: publish
  image: plugins/docker:latest@%D
services:
- name: db
  image: 'postgres:16@%D'
---
kind: secret
name: image\n",
    );
    assert_eq!(got, vec![Ok(1); 4]);
}

#[test]
fn woodpecker_anchors_matrix_environment_and_crlf() {
    let got = expect(
        FileKind::Woodpecker,
        "variables:\r
  - &golang 'docker.io/golang:1.22'\r
matrix:\r
  NODE: ['20', '22']\r
steps:\r
  build:\r
    image: *golang\r
  test:\r
    image: *golang\r
  web:\r
    image: node:${NODE}\r
  scan:\r
    image: docker:27-cli\r
    environment:\r
      SCANNER: checkmarx/kics:latest\r
    commands:\r
      - |\r
        docker run --rm -v \"$PWD:/path\" $SCANNER scan -p /path\r
        docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\r\n",
        "variables:\r
  - &golang 'docker.io/golang:1.22@%D'\r
matrix:\r
  NODE: ['20', '22']\r
steps:\r
  build:\r
    image: *golang\r
  test:\r
    image: *golang\r
  web:\r
    image: node:${NODE}\r
  scan:\r
    image: docker:27-cli@%D\r
    environment:\r
      SCANNER: checkmarx/kics:latest@%D\r
    commands:\r
      - |\r
        docker run --rm -v \"$PWD:/path\" $SCANNER scan -p /path\r
        docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path\r\n",
    );
    assert_eq!(got[0], Ok(1), "the anchor, once for both aliases");
    // A matrix value is part of the reference: not rewritten.
    assert!(
        matches!(got[1], Err(Skip::ArgNotWholeReference { .. })),
        "{:?}",
        got[1]
    );
    assert!(
        matches!(got[2], Err(Skip::ArgNotWholeReference { .. })),
        "{:?}",
        got[2]
    );
    assert_eq!(got[3..], [Ok(1), Ok(1), Ok(1)]);
}

#[test]
fn cloudbuild_steps_scripts_docker_args_and_substitutions() {
    let got = expect(
        FileKind::CloudBuild,
        "substitutions:
  _SCANNER: checkmarx/kics:latest
steps:
- name: 'gcr.io/cloud-builders/docker'
  args: ['run', '--rm', '-v', '$$PWD:/path', 'checkmarx/kics:latest', 'scan', '-p', '/path']
- name: ubuntu
  entrypoint: bash
  args:
  - -c
  - |
    docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path
- name: $_SCANNER
- name: gcr.io/$PROJECT_ID/tool
images: ['gcr.io/$PROJECT_ID/app']\n",
        "substitutions:
  _SCANNER: checkmarx/kics:latest@%D
steps:
- name: 'gcr.io/cloud-builders/docker:latest@%D'
  args: ['run', '--rm', '-v', '$$PWD:/path', 'checkmarx/kics:latest@%D', 'scan', '-p', '/path']
- name: ubuntu:latest@%D
  entrypoint: bash
  args:
  - -c
  - |
    docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path
- name: $_SCANNER
- name: gcr.io/$PROJECT_ID/tool
images: ['gcr.io/$PROJECT_ID/app']\n",
    );
    assert_eq!(got[..5], [Ok(1), Ok(1), Ok(1), Ok(1), Ok(1)]);
    assert!(matches!(got[5], Err(Skip::Unresolvable(_))), "{:?}", got[5]);
}

#[test]
fn cloudbuild_json() {
    let got = expect(
        FileKind::CloudBuild,
        "{\n  \"steps\": [\n    {\"name\": \"gcr.io/cloud-builders/docker\", \"args\": [\"run\", \"checkmarx/kics:latest\", \"scan\"]}\n  ]\n}\n",
        "{\n  \"steps\": [\n    {\"name\": \"gcr.io/cloud-builders/docker:latest@%D\", \"args\": [\"run\", \"checkmarx/kics:latest@%D\", \"scan\"]}\n  ]\n}\n",
    );
    assert_eq!(got, vec![Ok(1), Ok(1)]);
}

#[test]
fn argo_workflow_templates_parameters_and_commands() {
    let got = expect(
        FileKind::Kubernetes,
        "apiVersion: argoproj.io/v1alpha1
kind: Workflow
spec:
  arguments:
    parameters:
    - name: tool
      value: aquasec/trivy:0.50.0
  templates:
  - name: main
    container:
      image: docker:27-cli
      command: [sh, -c]
      args: ['docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path']
    sidecars:
    - name: dind
      image: docker:27-dind
  - name: tool
    script:
      image: \"{{workflow.parameters.tool}}\"
      command: [sh]
      source: trivy --version
  - name: set
    containerSet:
      containers:
      - name: a
        image: argoproj/argosay:v2\n",
        "apiVersion: argoproj.io/v1alpha1
kind: Workflow
spec:
  arguments:
    parameters:
    - name: tool
      value: aquasec/trivy:0.50.0@%D
  templates:
  - name: main
    container:
      image: docker:27-cli@%D
      command: [sh, -c]
      args: ['docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path']
    sidecars:
    - name: dind
      image: docker:27-dind@%D
  - name: tool
    script:
      image: \"{{workflow.parameters.tool}}\"
      command: [sh]
      source: trivy --version
  - name: set
    containerSet:
      containers:
      - name: a
        image: argoproj/argosay:v2@%D\n",
    );
    assert_eq!(got, vec![Ok(1); 5]);
}

#[test]
fn tekton_taskrun_value_and_step_script() {
    let got = expect(
        FileKind::Kubernetes,
        "apiVersion: tekton.dev/v1
kind: TaskRun
spec:
  params:
  - name: image
    value: ubuntu:24.04
  taskSpec:
    params:
    - name: image
      default: alpine:3
    steps:
    - name: a
      image: $(params.image)
    - name: b
      image: docker.io/library/golang:1.22\n",
        "apiVersion: tekton.dev/v1
kind: TaskRun
spec:
  params:
  - name: image
    value: ubuntu:24.04@%D
  taskSpec:
    params:
    - name: image
      default: alpine:3
    steps:
    - name: a
      image: $(params.image)
    - name: b
      image: docker.io/library/golang:1.22@%D\n",
    );
    assert_eq!(got, vec![Ok(1), Ok(1)]);
}
