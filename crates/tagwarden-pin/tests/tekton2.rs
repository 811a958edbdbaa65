//! Pinning Tekton bundles and step scripts, and Drone / Woodpecker commands after the CI's own
//! substitution, end to end: the real extractor, a plan with a synthetic digest, the rewrite
//! compared byte for byte, `verify_rewrite`, and a second plan with nothing left to do.

#![allow(clippy::unwrap_used)]

mod common;

use common::expect_sources as expect;
use tagwarden_extract::{FileKind, Source};
use tagwarden_pin::Skip;

#[test]
fn tekton_bundles_in_pipelines_runs_and_steps() {
    let got = expect(
        FileKind::Kubernetes,
        "apiVersion: tekton.dev/v1
kind: Pipeline
spec:
  params:
  - name: catalog
    default: quay.io/konflux-ci/tekton-catalog/task-git-clone:0.1
  tasks:
  - name: clone
    taskRef:
      resolver: bundles
      params:
      - name: bundle
        value: $(params.catalog)
      - {name: name, value: git-clone}
  - name: build
    taskRef:
      name: golang-build
      bundle: 'gcr.io/tekton-releases/catalog/upstream/golang-build:0.1'
  finally:
  - name: notify
    taskRef:
      resolver: bundles
      params:
      - name: bundle
        value: \"ghcr.io/acme/notify:2\"
---
apiVersion: tekton.dev/v1
kind: PipelineRun
spec:
  pipelineRef:
    resolver: bundles
    params:
    - name: bundle
      value: registry.example.com/pipelines/ci
---
apiVersion: tekton.dev/v1
kind: Task
spec:
  steps:
  - name: scan
    ref:
      resolver: bundles
      params:
      - {name: bundle, value: ghcr.io/acme/step-actions:1.2}
",
        "apiVersion: tekton.dev/v1
kind: Pipeline
spec:
  params:
  - name: catalog
    default: quay.io/konflux-ci/tekton-catalog/task-git-clone:0.1@%D
  tasks:
  - name: clone
    taskRef:
      resolver: bundles
      params:
      - name: bundle
        value: $(params.catalog)
      - {name: name, value: git-clone}
  - name: build
    taskRef:
      name: golang-build
      bundle: 'gcr.io/tekton-releases/catalog/upstream/golang-build:0.1@%D'
  finally:
  - name: notify
    taskRef:
      resolver: bundles
      params:
      - name: bundle
        value: \"ghcr.io/acme/notify:2@%D\"
---
apiVersion: tekton.dev/v1
kind: PipelineRun
spec:
  pipelineRef:
    resolver: bundles
    params:
    - name: bundle
      value: registry.example.com/pipelines/ci:latest@%D
---
apiVersion: tekton.dev/v1
kind: Task
spec:
  steps:
  - name: scan
    ref:
      resolver: bundles
      params:
      - {name: bundle, value: ghcr.io/acme/step-actions:1.2@%D}
",
    );
    assert_eq!(got, vec![(Source::TektonBundle, Ok(1)); 5]);
}

#[test]
fn tekton_step_scripts_with_params_and_env() {
    let got = expect(
        FileKind::Kubernetes,
        "apiVersion: tekton.dev/v1
kind: Task
spec:
  params:
  - name: scanner
    default: aquasec/trivy:0.50.0
  - name: tag
    default: '3.20'
  steps:
  - name: scan
    image: docker:27
    env:
    - name: TOOL
      value: ghcr.io/acme/tool:1
    script: |
      #!/bin/sh
      docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path
      docker run --rm $(params.scanner) fs .
      docker pull alpine:$(params.tag)
      docker run --rm \"$TOOL\"
  - name: py
    image: python:3.12
    script: |
      #!/usr/bin/env python3
      print('docker run not/me:1')
",
        "apiVersion: tekton.dev/v1
kind: Task
spec:
  params:
  - name: scanner
    default: aquasec/trivy:0.50.0@%D
  - name: tag
    default: '3.20'
  steps:
  - name: scan
    image: docker:27@%D
    env:
    - name: TOOL
      value: ghcr.io/acme/tool:1@%D
    script: |
      #!/bin/sh
      docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path
      docker run --rm $(params.scanner) fs .
      docker pull alpine:$(params.tag)
      docker run --rm \"$TOOL\"
  - name: py
    image: python:3.12@%D
    script: |
      #!/usr/bin/env python3
      print('docker run not/me:1')
",
    );
    let script = |r| (Source::TektonScriptCommand, r);
    assert_eq!(got[0], (Source::KubernetesContainer, Ok(1)));
    assert_eq!(got[1], script(Ok(1)), "kics, in place");
    assert_eq!(got[2], script(Ok(1)), "the parameter's default");
    // A parameter that is part of the reference is not rewritten.
    assert!(
        matches!(got[3].1, Err(Skip::ArgNotWholeReference { .. })),
        "{got:?}"
    );
    assert_eq!(got[4], script(Ok(1)), "the env value");
    assert_eq!(got[5], (Source::KubernetesContainer, Ok(1)));
    assert_eq!(got.len(), 6);
}

#[test]
fn tekton_crlf_taskrun_script() {
    let got = expect(
        FileKind::Kubernetes,
        "apiVersion: tekton.dev/v1\r\nkind: TaskRun\r\nspec:\r\n  params:\r\n  - name: img\r\n    value: ubuntu:24.04\r\n  taskSpec:\r\n    params:\r\n    - name: img\r\n    steps:\r\n    - name: s\r\n      image: docker:27-cli\r\n      script: |\r\n        docker pull $(params.img)\r\n        docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\r\n",
        "apiVersion: tekton.dev/v1\r\nkind: TaskRun\r\nspec:\r\n  params:\r\n  - name: img\r\n    value: ubuntu:24.04@%D\r\n  taskSpec:\r\n    params:\r\n    - name: img\r\n    steps:\r\n    - name: s\r\n      image: docker:27-cli@%D\r\n      script: |\r\n        docker pull $(params.img)\r\n        docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path\r\n",
    );
    assert!(got.iter().all(|(_, r)| *r == Ok(1)), "{got:?}");
    assert_eq!(got.len(), 3);
}

#[test]
fn drone_escaped_shell_variables_and_kics() {
    let got = expect(
        FileKind::Drone,
        "kind: pipeline
steps:
- name: scan
  image: docker:27
  environment:
    TRIVY: aquasec/trivy:0.50.0
  commands:
  - docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path
  - docker run --rm $${TRIVY} image x
  - docker run --rm ${TRIVY} image y
",
        "kind: pipeline
steps:
- name: scan
  image: docker:27@%D
  environment:
    TRIVY: aquasec/trivy:0.50.0@%D
  commands:
  - docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path
  - docker run --rm $${TRIVY} image x
  - docker run --rm ${TRIVY} image y
",
    );
    let cmd = |r| (Source::DroneCommand, r);
    assert_eq!(got[0], (Source::DroneImage, Ok(1)));
    assert_eq!(got[1], cmd(Ok(1)));
    assert_eq!(
        got[2],
        cmd(Ok(1)),
        "`$${{TRIVY}}` is the shell's: the environment value"
    );
    // `${TRIVY}` is replaced by Drone itself, not from `environment:`.
    assert!(matches!(got[3].1, Err(Skip::Unresolvable(_))), "{got:?}");
}

#[test]
fn woodpecker_matrix_values_in_commands_crlf() {
    let got = expect(
        FileKind::Woodpecker,
        "matrix:\r
  SCANNER:\r
    - checkmarx/kics:latest\r
    - aquasec/trivy:0.50.0\r
steps:\r
  scan:\r
    image: docker:27-cli\r
    commands:\r
      - |\r
        docker run --rm -v \"$PWD:/path\" ${SCANNER} scan -p /path\r
        docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\r\n",
        "matrix:\r
  SCANNER:\r
    - checkmarx/kics:latest@%D\r
    - aquasec/trivy:0.50.0@%D\r
steps:\r
  scan:\r
    image: docker:27-cli@%D\r
    commands:\r
      - |\r
        docker run --rm -v \"$PWD:/path\" ${SCANNER} scan -p /path\r
        docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path\r\n",
    );
    assert!(got.iter().all(|(_, r)| *r == Ok(1)), "{got:?}");
    assert_eq!(got.len(), 4);
}
