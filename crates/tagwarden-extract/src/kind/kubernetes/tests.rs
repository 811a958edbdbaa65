use super::*;
use crate::DiagnosticKind;
use crate::read::placeholder::TEMPLATE_REASON;
use crate::test_corpus as corpus;
use crate::{Form, ImageOccurrence, Unresolved};

#[test]
fn corpus() {
    corpus::check_all("kubernetes", extract);
}

/// Tekton files are detected as Kubernetes manifests; their steps are container lists.
#[test]
fn corpus_tekton() {
    corpus::check_all("tekton", extract);
}

/// Expectations checked by reading the corpus files.
#[test]
fn corpus_expectations() {
    let dependabot = "kubernetes/dependabot__dependabot-core/docker/spec/fixtures/kubernetes/yaml/";
    let Some(src) = corpus::file(&format!("{dependabot}with_bom.yaml")) else {
        return;
    };
    assert_eq!(just_images(&run(&src)), vec!["nginx:1.14.2"]);
    if let Some(src) = corpus::file(&format!("{dependabot}unexpected_image.yaml")) {
        assert!(run(&src).images[0].image.is_err());
    }
    let path = "kubernetes/sse-secure-systems__connaisseur/test/integration/complexity/complex_deployment.yaml";
    if let Some(src) = corpus::file(path) {
        let out = run(&src);
        assert_eq!(out.images.len(), 31);
        let init = out
            .images
            .iter()
            .filter(|o| o.source == Source::KubernetesInitContainer)
            .count();
        assert_eq!(init, 9);
    }
    // Comments before a `]` at its key's indentation; the image is a ko:// build reference.
    if let Some(src) = corpus::file("kubernetes/sigstore__policy-controller/config/webhook.yaml") {
        let out = run(&src);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        assert_eq!(out.images.len(), 1);
        assert!(out.images[0].image.is_err());
    }
    let path =
        "kubernetes/GoogleCloudPlatform__microservices-demo/release/kubernetes-manifests.yaml";
    if let Some(src) = corpus::file(path) {
        let out = run(&src);
        assert_eq!(out.images.len(), 13);
        assert_eq!(
            out.images[0].image,
            Ok(
                "us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/frontend:v0.10.6"
                    .into()
            )
        );
    }
    // The TaskRun gives the embedded task's parameter its value.
    let path = "tekton/tektoncd__pipeline/examples/v1/taskruns/steptemplate-variable-interop.yaml";
    if let Some(src) = corpus::file(path) {
        assert_eq!(just_images(&run(&src)), vec!["ubuntu"]);
    }
    let path = "tekton/tektoncd__catalog/task/git-clone/0.10/git-clone.yaml";
    if let Some(src) = corpus::file(path) {
        let out = run(&src);
        assert_eq!(
            just_images(&out),
            vec!["ghcr.io/tektoncd-catalog/git-clone:v1.1.0"]
        );
    }
}

/// The Tekton corpus read by eye: step images only. Its scripts run no container command
/// (buildah `manifest push` pushes), one is Python, and its pipelines name tasks in the
/// cluster (`taskRef: {name: …}`), not bundles.
#[test]
fn corpus_tekton_expectations() {
    let files = corpus::files("tekton");
    let mut total = 0;
    for (path, text) in &files {
        let out = run(text);
        let extra: Vec<_> = out
            .images
            .iter()
            .filter(|o| o.source != Source::KubernetesContainer)
            .collect();
        assert!(extra.is_empty(), "{}: {extra:?}", path.display());
        total += out.images.len();
    }
    if !files.is_empty() {
        assert_eq!(total, 36);
    }
    let catalog = "tekton/tektoncd__catalog/";
    let cases: &[(&str, &[&str])] = &[
        (
            "task/github-open-pr/0.2/github-open-pr.yaml",
            &["registry.access.redhat.com/ubi8/python-38:1-34.1599745032"],
        ),
        (
            "task/buildah-manifest-push/0.1/buildah-manifest-push.yaml",
            &["quay.io/buildah/stable:v1"],
        ),
        (
            "task/orka-deploy/0.2/orka-deploy.yaml",
            &[
                "ghcr.io/macstadium/orka-tekton-runner:2022-06-29-ec3440a7@sha256:d7cfb75ea082a927e36c131aa96e96bfcacd23f62fdaf33f5b37320b86baf50e",
                "ghcr.io/macstadium/orka-tekton-runner:2022-06-29-ec3440a7@sha256:d7cfb75ea082a927e36c131aa96e96bfcacd23f62fdaf33f5b37320b86baf50e",
            ],
        ),
        (
            "task/gcloud/0.3/gcloud.yaml",
            &["gcr.io/google.com/cloudsdktool/cloud-sdk:slim"],
        ),
        ("pipeline/buildpacks/0.1/buildpacks.yaml", &[]),
        (
            "pipeline/build-push-gke-deploy/0.1/build-push-gke-deploy.yaml",
            &[],
        ),
    ];
    for (path, want) in cases {
        if let Some(src) = corpus::file(&format!("{catalog}{path}")) {
            assert_eq!(just_images(&run(&src)), *want, "{path}");
        }
    }
}

fn run(src: &str) -> Extraction {
    let out = extract(src);
    for o in &out.images {
        assert_eq!(o.text, o.span.of(src), "span/text invariant");
    }
    out
}

fn images(out: &Extraction) -> Vec<(String, Source, Option<String>)> {
    out.images
        .iter()
        .map(|o| {
            (
                o.image
                    .clone()
                    .unwrap_or_else(|e| format!("ERR {}", e.reason)),
                o.source,
                o.context.clone(),
            )
        })
        .collect()
}

fn just_images(out: &Extraction) -> Vec<String> {
    images(out).into_iter().map(|(i, _, _)| i).collect()
}

#[test]
fn pod_with_all_container_kinds() {
    let src = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    image: not-me\nspec:\n  initContainers:\n  - name: init\n    image: busybox:1.36\n  containers:\n  - name: app\n    image: \"nginx:1.27\"\n  ephemeralContainers:\n  - name: dbg\n    image: alpine\n";
    let out = run(src);
    assert_eq!(
        images(&out),
        vec![
            (
                "busybox:1.36".into(),
                Source::KubernetesInitContainer,
                Some("init".into())
            ),
            (
                "nginx:1.27".into(),
                Source::KubernetesContainer,
                Some("app".into())
            ),
            (
                "alpine".into(),
                Source::KubernetesEphemeralContainer,
                Some("dbg".into())
            ),
        ]
    );
    let nginx = &out.images[1];
    assert_eq!(&src[nginx.span.start..nginx.span.end], "nginx:1.27");
    assert!(nginx.exact);
    assert_eq!(nginx.form, Form::Literal);
}

#[test]
fn workloads() {
    let src = "\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
      - {name: web, image: web:1}
---
apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: cron
            image: cron:2
---
apiVersion: v1
kind: PodTemplate
template:
  spec:
    containers:
    - name: tpl
      image: tpl:3
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
spec:
  template:
    spec:
      containers:
      - name: ro
        image: rollout:4
";
    let out = run(src);
    assert_eq!(
        just_images(&out),
        vec!["web:1", "cron:2", "tpl:3", "rollout:4"]
    );
    assert_eq!(out.images[0].span.of(src), "web:1");
}

#[test]
fn lists_and_list_kinds() {
    let src = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec:\n    containers: [{name: a, image: a:1}]\n- apiVersion: apps/v1\n  kind: DeploymentList\n  items:\n  - spec:\n      template:\n        spec:\n          containers:\n          - name: b\n            image: b:2\n";
    assert_eq!(just_images(&run(src)), vec!["a:1", "b:2"]);
}

#[test]
fn configmap_data_and_comments_are_not_references() {
    let src = "apiVersion: v1\nkind: ConfigMap\ndata:\n  pod.yaml: |\n    containers:\n    - image: evil:1\n  image: nginx:1\n# image: commented:1\n---\napiVersion: example.com/v1\nkind: Thing\nspec:\n  image: not-a-pod-spec:1\n";
    let out = run(src);
    assert!(out.images.is_empty(), "{:?}", out.images);
    assert!(out.diagnostics.is_empty());
}

#[test]
fn image_volumes() {
    let src = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    image: app:1\n  volumes:\n  - name: models\n    image:\n      reference: quay.io/x/model:v1\n      pullPolicy: IfNotPresent\n";
    let out = run(src);
    assert_eq!(just_images(&out), vec!["app:1", "quay.io/x/model:v1"]);
    assert_eq!(out.images[1].context.as_deref(), Some("volume models"));
    assert_eq!(out.images[1].span.of(src), "quay.io/x/model:v1");
}

#[test]
fn bom_and_parse_error() {
    let src = "\u{feff}apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    image: nginx:1.2\n";
    let out = run(src);
    assert_eq!(just_images(&out), vec!["nginx:1.2"]);
    assert!(out.diagnostics.is_empty());

    let src =
        "kind: Pod\nspec:\n  containers:\n  - name: x\n    image: a:1\n---\nkind: Pod\nspec: [\n";
    let out = run(src);
    assert_eq!(just_images(&out), vec!["a:1"]);
    assert_eq!(out.diagnostics.len(), 1);
    assert_eq!(out.diagnostics[0].kind, DiagnosticKind::ParseError);
    assert!(out.diagnostics[0].span.start > 50);
}

#[test]
fn go_template_is_masked_with_a_single_note() {
    let src = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include \"x.fullname\" . }}
  labels:
    {{- include \"x.labels\" . | nindent 4 }}
spec:
  template:
    spec:
      {{- if .Values.sa }}
      serviceAccountName: {{ .Values.sa }}
      {{- end }}
      containers:
        - name: {{ .Chart.Name }}
          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"
        - name: hook
          image: bitnami/kubectl:1.30
";
    let out = run(src);
    assert_eq!(out.diagnostics.len(), 1);
    assert_eq!(out.diagnostics[0].kind, DiagnosticKind::Note);
    assert_eq!(out.images.len(), 2);
    let t = &out.images[0];
    assert_eq!(
        t.text,
        "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
    );
    assert_eq!(t.image, Err(Unresolved::new(TEMPLATE_REASON)));
    assert_eq!(t.context.as_deref(), Some("{{ .Chart.Name }}"));
    assert_eq!(out.images[1].image, Ok("bitnami/kubectl:1.30".into()));
    assert_eq!(out.images[1].context.as_deref(), Some("hook"));
}

#[test]
fn placeholders_and_aliases() {
    let src = "\
kind: Pod
spec:
  containers:
  - name: a
    image: &img registry.example/app:${TAG}
  - name: b
    image: *img
  - name: c
    image: ''
";
    let out = run(src);
    assert_eq!(out.images.len(), 1);
    let o = &out.images[0];
    assert!(o.image.is_err());
    assert_eq!(o.text, "registry.example/app:${TAG}");
    assert_eq!(o.alias_sites.len(), 1);
    assert_eq!(o.alias_sites[0].of(src), "*img");
}

#[test]
fn tekton_steps() {
    let src = "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  stepTemplate:\n    image: base:1\n  steps:\n  - name: build\n    image: golang:1.22\n  - name: p\n    image: $(params.img)\n  sidecars:\n  - name: s\n    image: docker:dind\n";
    let out = run(src);
    let got = just_images(&out);
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got.contains(&"golang:1.22".to_string()));
    assert!(got.iter().any(|g| g.starts_with("ERR")));
    let p = out
        .images
        .iter()
        .find(|o| o.text == "$(params.img)")
        .unwrap();
    assert!(p.image.is_err(), "no default: unresolved");
    // Outside tekton.dev, `steps` is not a container list.
    let out = run("apiVersion: x/v1\nkind: Y\nspec:\n  steps:\n  - image: a:1\n");
    assert!(out.images.is_empty());
}

#[test]
fn tekton_param_defaults() {
    let src = "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  params:\n  - name: gitInitImage\n    default: \"ghcr.io/tektoncd-catalog/git-clone:v1.1.0\"\n  - name: version\n    default: '1.22'\n  - name: nodefault\n  steps:\n  - name: clone\n    image: \"$(params.gitInitImage)\"\n  - name: build\n    image: docker.io/library/golang:$(params['version'])\n  - name: other\n    image: $(params.nodefault)\n";
    let out = run(src);
    assert_eq!(out.images.len(), 3);
    let o = &out.images[0];
    assert_eq!(o.text, "$(params.gitInitImage)");
    assert_eq!(
        o.image,
        Ok("ghcr.io/tektoncd-catalog/git-clone:v1.1.0".into())
    );
    match &o.form {
        Form::Expanded { origins } => {
            assert_eq!(
                origins[0].span.of(src),
                "ghcr.io/tektoncd-catalog/git-clone:v1.1.0"
            );
            assert_eq!(origins[0].name, "params.gitInitImage");
        }
        f => panic!("{f:?}"),
    }
    assert_eq!(
        out.images[1].image,
        Ok("docker.io/library/golang:1.22".into())
    );
    assert!(out.images[2].image.is_err());
}

#[test]
fn tekton_run_params_reach_embedded_specs() {
    // A TaskRun's value wins over the embedded task's default, and is the origin to pin.
    let src = "apiVersion: tekton.dev/v1\nkind: TaskRun\nspec:\n  params:\n  - name: image\n    value: ubuntu:24.04\n  taskSpec:\n    params:\n    - name: image\n      default: alpine:3\n    - name: other\n      default: busybox:1\n    steps:\n    - name: a\n      image: $(params.image)\n    - name: b\n      image: $(params.other)\n";
    let out = run(src);
    assert_eq!(just_images(&out), vec!["ubuntu:24.04", "busybox:1"]);
    match &out.images[0].form {
        Form::Expanded { origins } => assert_eq!(origins[0].span.of(src), "ubuntu:24.04"),
        f => panic!("{f:?}"),
    }
    // Pipeline defaults pass through a task's `$(params.x)` value; a result or a matrix is unknown.
    let src = "apiVersion: tekton.dev/v1\nkind: Pipeline\nspec:\n  params:\n  - name: img\n    default: golang:1.22\n  tasks:\n  - name: t1\n    params:\n    - name: builder\n      value: $(params.img)\n    taskSpec:\n      params:\n      - name: builder\n        default: golang:1.0\n      steps:\n      - image: $(params.builder)\n  - name: t2\n    params:\n    - name: builder\n      value: $(tasks.t1.results.image)\n    taskSpec:\n      params:\n      - name: builder\n        default: golang:1.0\n      steps:\n      - image: $(params.builder)\n  finally:\n  - name: f\n    matrix:\n      params:\n      - name: builder\n        value: [a:1, b:2]\n    taskSpec:\n      params:\n      - name: builder\n        default: golang:1.0\n      steps:\n      - image: $(params.builder)\n";
    let out = run(src);
    let got = just_images(&out);
    assert_eq!(got[0], "golang:1.22");
    assert!(got[1].starts_with("ERR"), "{got:?}");
    assert!(got[2].starts_with("ERR"), "{got:?}");
    // PipelineRun values reach pipelineSpec tasks (propagated parameters).
    let src = "apiVersion: tekton.dev/v1\nkind: PipelineRun\nspec:\n  params:\n  - name: img\n    value: mirror.gcr.io/ubuntu\n  pipelineSpec:\n    params:\n    - name: img\n      default: nope\n    tasks:\n    - name: echo\n      taskSpec:\n        steps:\n        - name: echo\n          image: $(params.img)\n";
    assert_eq!(just_images(&run(src)), vec!["mirror.gcr.io/ubuntu"]);
}

#[test]
fn tekton_step_action() {
    let src = "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata:\n  name: kics\nspec:\n  params:\n  - name: image\n    default: checkmarx/kics:latest\n  image: $(params.image)\n  script: kics scan -p .\n";
    let out = run(src);
    assert_eq!(just_images(&out), vec!["checkmarx/kics:latest"]);
    assert_eq!(out.images[0].context.as_deref(), Some("kics"));
}

const TEKTON_BUNDLES: &str = "\
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: release
spec:
  params:
  - name: catalog
    default: quay.io/konflux-ci/tekton-catalog/task-git-clone:0.1
  - name: tag
    default: '0.4'
  tasks:
  - name: clone
    params:
    - name: catalog
      value: not-the-bundle:1
    taskRef:
      resolver: bundles
      params:
      - name: name
        value: git-clone
      - name: bundle
        value: $(params.catalog)
      - name: kind
        value: task
  - name: build
    taskRef:
      name: golang-build
      bundle: \"gcr.io/tekton-releases/catalog/upstream/golang-build:$(params.tag)\"
  - name: nested
    pipelineRef:
      resolver: bundles
      params:
      - {name: bundle, value: 'ghcr.io/acme/pipelines:v1'}
      - {name: name, value: inner}
  - name: from-git
    taskRef:
      resolver: git
      params:
      - {name: bundle, value: not-an-image}
  finally:
  - name: notify
    taskRef:
      resolver: bundles
      params:
      - name: bundle
        value: $(params.missing)
---
apiVersion: tekton.dev/v1
kind: PipelineRun
spec:
  params:
  - name: ref
    value: registry.example.com/pipelines/ci@sha256:3f9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f
  pipelineRef:
    resolver: bundles
    params:
    - name: bundle
      value: $(params.ref)
---
apiVersion: tekton.dev/v1beta1
kind: TaskRun
spec:
  taskRef:
    name: echo
    bundle: docker.io/ptasci67/example-oci:latest
---
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: uses-step-actions
spec:
  params:
  - name: actions
    default: ghcr.io/acme/step-actions:1.2
  steps:
  - name: scan
    params:
    - name: actions
      value: ignored:0
    ref:
      resolver: bundles
      params:
      - name: bundle
        value: $(params.actions)
      - name: name
        value: kics-scan
---
apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
spec:
  resourcetemplates:
  - apiVersion: tekton.dev/v1
    kind: PipelineRun
    spec:
      pipelineRef:
        resolver: bundles
        params:
        - name: bundle
          value: quay.io/acme/triggered:2
---
apiVersion: v1
kind: ConfigMap
data:
  ref: 'taskRef: {bundle: not/me:1}'
";

#[test]
fn tekton_bundles() {
    let out = run(TEKTON_BUNDLES);
    let got: Vec<(String, Source, Option<String>)> = images(&out);
    let want = |i: &str, c: &str| (i.to_string(), Source::TektonBundle, Some(c.to_string()));
    assert_eq!(got.len(), 8, "{got:#?}");
    assert_eq!(
        got[0],
        want(
            "quay.io/konflux-ci/tekton-catalog/task-git-clone:0.1",
            "clone taskRef git-clone"
        )
    );
    assert_eq!(
        got[1],
        want(
            "gcr.io/tekton-releases/catalog/upstream/golang-build:0.4",
            "build taskRef golang-build"
        )
    );
    assert_eq!(
        got[2],
        want("ghcr.io/acme/pipelines:v1", "nested pipelineRef inner")
    );
    assert_eq!(got[3].2.as_deref(), Some("notify taskRef"));
    assert!(got[3].0.starts_with("ERR"), "{got:?}");
    assert!(
        got[4]
            .0
            .starts_with("registry.example.com/pipelines/ci@sha256:3f9a")
    );
    assert_eq!(
        got[5],
        want("docker.io/ptasci67/example-oci:latest", "taskRef echo")
    );
    assert_eq!(
        got[6],
        want("ghcr.io/acme/step-actions:1.2", "scan ref kics-scan")
    );
    assert_eq!(got[7], want("quay.io/acme/triggered:2", "pipelineRef"));
    // Spans: the expression for parameters (origin at the default), the value otherwise.
    let clone = &out.images[0];
    assert_eq!(clone.span.of(TEKTON_BUNDLES), "$(params.catalog)");
    match &clone.form {
        Form::Expanded { origins } => assert_eq!(
            origins[0].span.of(TEKTON_BUNDLES),
            "quay.io/konflux-ci/tekton-catalog/task-git-clone:0.1"
        ),
        f => panic!("{f:?}"),
    }
    let run_ref = &out.images[4];
    match &run_ref.form {
        Form::Expanded { origins } => assert!(
            origins[0]
                .span
                .of(TEKTON_BUNDLES)
                .starts_with("registry.example.com/pipelines/ci@")
        ),
        f => panic!("{f:?}"),
    }
    let nested = &out.images[2];
    assert_eq!(nested.span.of(TEKTON_BUNDLES), "ghcr.io/acme/pipelines:v1");
    assert!(nested.exact);
    assert_eq!(nested.form, Form::Literal);
    assert_eq!(
        out.images[5].span.of(TEKTON_BUNDLES),
        "docker.io/ptasci67/example-oci:latest"
    );
}

const TEKTON_SCRIPTS: &str = "\
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: scan
spec:
  params:
  - name: scanner
    default: \"aquasec/trivy:0.50.0\"
  - name: tag
    default: '3.20'
  - name: unknown
  stepTemplate:
    env:
    - name: FROM_TEMPLATE
      value: redis:7
  steps:
  - name: kics
    image: docker:27
    script: |
      #!/bin/sh
      set -e
      cd $(workspaces.source.path)
      docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path
      docker run --rm $(params.scanner) image x
      docker pull alpine:$(params.tag)
      docker pull $(params.unknown)
      docker run --rm \"$SCANNER\" fs .
      docker run --rm $FROM_TEMPLATE
      echo $(date) && docker run --rm busybox:1.36 true
    env:
    - name: SCANNER
      value: $(params.scanner)
  - name: python
    image: python:3.12
    script: |
      #!/usr/bin/env python3
      import os; os.system('docker run not/shell:1')
  - name: bash
    image: docker:27
    script: |-
      #!/usr/bin/env bash
      docker run --rm ghcr.io/acme/tool:1
  - name: sh-c
    image: docker:27
    command: [/bin/sh, -c]
    args: ['docker pull quay.io/acme/args:2']
  sidecars:
  - name: dind
    image: docker:27-dind
    script: docker pull nginx:1.27
";

#[test]
fn tekton_step_scripts() {
    let out = run(TEKTON_SCRIPTS);
    let cmds: Vec<&ImageOccurrence> = out
        .images
        .iter()
        .filter(|o| o.source == Source::TektonScriptCommand)
        .collect();
    let got: Vec<(String, &str, String)> = cmds
        .iter()
        .map(|o| {
            (
                o.image.clone().unwrap_or_else(|_| "ERR".into()),
                o.text.as_str(),
                o.context.clone().unwrap_or_default(),
            )
        })
        .collect();
    let w = |i: &str, t: &'static str, c: &str| (i.to_string(), t, c.to_string());
    assert_eq!(
        got,
        vec![
            w("checkmarx/kics:latest", "checkmarx/kics:latest", "kics"),
            w("aquasec/trivy:0.50.0", "$(params.scanner)", "kics"),
            w("alpine:3.20", "alpine:$(params.tag)", "kics"),
            w("ERR", "$(params.unknown)", "kics"),
            w("aquasec/trivy:0.50.0", "$SCANNER", "kics"),
            w("redis:7", "$FROM_TEMPLATE", "kics"),
            w("busybox:1.36", "busybox:1.36", "kics"),
            w("ghcr.io/acme/tool:1", "ghcr.io/acme/tool:1", "bash"),
            w("quay.io/acme/args:2", "quay.io/acme/args:2", "sh-c"),
            w("nginx:1.27", "nginx:1.27", "dind"),
        ]
    );
    let kics = cmds[0];
    assert!(kics.exact);
    assert_eq!(kics.form, Form::Literal);
    let origin = |o: &ImageOccurrence| match &o.form {
        Form::Expanded { origins } => origins
            .iter()
            .map(|x| (x.name.clone(), x.span.of(TEKTON_SCRIPTS).to_string()))
            .collect::<Vec<_>>(),
        f => panic!("{f:?}"),
    };
    let trivy = vec![(
        "params.scanner".to_string(),
        "aquasec/trivy:0.50.0".to_string(),
    )];
    assert_eq!(origin(cmds[1]), trivy);
    assert!(!cmds[1].exact);
    assert_eq!(origin(cmds[2]), vec![("params.tag".into(), "3.20".into())]);
    assert!(
        cmds[3]
            .image
            .as_ref()
            .unwrap_err()
            .reason
            .contains("$(params.unknown)")
    );
    assert_eq!(
        origin(cmds[4]),
        vec![("SCANNER".into(), "aquasec/trivy:0.50.0".into())]
    );
    assert!(
        cmds.iter()
            .skip(6)
            .all(|o| o.exact && o.form == Form::Literal)
    );
}

#[test]
fn tekton_scripts_crlf_runs_and_step_actions() {
    let src = "apiVersion: tekton.dev/v1\r\nkind: TaskRun\r\nspec:\r\n  params:\r\n  - name: img\r\n    value: ubuntu:24.04\r\n  taskSpec:\r\n    params:\r\n    - name: img\r\n      default: alpine:3\r\n    steps:\r\n    - name: s\r\n      image: docker\r\n      script: |\r\n        docker pull $(params.img)\r\n        docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\r\n";
    let out = run(src);
    let cmds: Vec<&ImageOccurrence> = out
        .images
        .iter()
        .filter(|o| o.source == Source::TektonScriptCommand)
        .collect();
    assert_eq!(cmds.len(), 2);
    assert_eq!(cmds[0].image, Ok("ubuntu:24.04".into()));
    match &cmds[0].form {
        Form::Expanded { origins } => assert_eq!(origins[0].span.of(src), "ubuntu:24.04"),
        f => panic!("{f:?}"),
    }
    assert_eq!(cmds[1].span.of(src), "checkmarx/kics:latest");
    assert!(cmds[1].exact);
    let src = "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata:\n  name: kics\nspec:\n  params:\n  - name: image\n    default: checkmarx/kics:latest\n  image: docker:27\n  script: docker run --rm -v \"$PWD:/path\" $(params.image) scan -p /path\n";
    let out = run(src);
    assert_eq!(
        just_images(&out),
        vec!["docker:27", "checkmarx/kics:latest"]
    );
    assert_eq!(out.images[1].source, Source::TektonScriptCommand);
    assert_eq!(out.images[1].text, "$(params.image)");
}

#[test]
fn tekton_hostile_scripts_are_bounded() {
    // Thousands of parameter references, one of them huge, and unterminated expressions.
    let big = "x".repeat(200_000);
    let mut script = String::from("docker pull $(params.big)");
    for _ in 0..30 {
        script.push_str(" $(params.big)");
    }
    for _ in 0..20_000 {
        script.push_str(" $(params.p) $(context.taskRun.name) $(");
    }
    let src = format!(
        "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  params:\n  - name: big\n    default: {big}\n  - name: p\n    default: alpine\n  steps:\n  - image: docker\n    script: '{script}'\n"
    );
    let out = crate::test_support::linear(src.len(), || run(&src));
    assert!(out.images.len() <= 3, "{}", out.images.len());
    for input in [
        "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - script: 'docker run $(params.'\n",
        "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n  - script: \"#!\"\n  - script: \"docker run $(params[\\\"x\\\"])\"\n",
        "apiVersion: tekton.dev/v1\nkind: Pipeline\nspec:\n  tasks:\n  - taskRef: {resolver: bundles, params: [{name: bundle}]}\n  - taskRef: {resolver: bundles, params: bundle}\n  - taskRef: bundle\n  - taskRef: {bundle: ''}\n",
    ] {
        run(input);
    }
}

const ARGO: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: dind-
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: tool
      value: aquasec/trivy:0.50.0
  templateDefaults:
    sidecars:
    - name: dind
      image: docker:27-dind
  templates:
  - name: main
    inputs:
      parameters:
      - name: image
        default: \"python:3.12\"
      - name: tag
        value: '3.20'
    container:
      image: \"{{inputs.parameters.image}}\"
      command: [sh, -c]
      args: ['docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path']
    initContainers:
    - name: init
      image: alpine:{{ inputs.parameters.tag }}
  - name: tool
    script:
      image: '{{workflow.parameters.tool}}'
      command: [bash]
      source: |
        docker pull redis:7
  - name: set
    containerSet:
      containers:
      - name: a
        image: argoproj/argosay:v2
      - name: b
        image: '{{workflow.outputs.parameters.x}}'
  - name: steps
    steps:
    - - name: inline
        inline:
          container:
            image: busybox:1.36
    dag:
      tasks:
      - name: d
        inline:
          script:
            image: node:20
            command: [node]
            source: console.log(1)
    podSpecPatch: '{\"containers\":[{\"name\":\"main\",\"image\":\"x\"}]}'
";

#[test]
fn argo_templates() {
    let out = run(ARGO);
    let got: Vec<(String, Source, String)> = out
        .images
        .iter()
        .map(|o| {
            (
                o.image.clone().unwrap_or_else(|_| "ERR".into()),
                o.source,
                o.context.clone().unwrap_or_default(),
            )
        })
        .collect();
    let want = |i: &str, s: Source, c: &str| (i.to_string(), s, c.to_string());
    assert_eq!(
        got,
        vec![
            want(
                "docker:27-dind",
                Source::ArgoTemplate,
                "templateDefaults sidecars dind"
            ),
            want("python:3.12", Source::ArgoTemplate, "main container"),
            want(
                "checkmarx/kics:latest",
                Source::ArgoCommand,
                "main container"
            ),
            want(
                "alpine:3.20",
                Source::ArgoTemplate,
                "main initContainers init"
            ),
            want("aquasec/trivy:0.50.0", Source::ArgoTemplate, "tool script"),
            want("redis:7", Source::ArgoCommand, "tool script"),
            want(
                "argoproj/argosay:v2",
                Source::ArgoTemplate,
                "set containerSet a"
            ),
            want("ERR", Source::ArgoTemplate, "set containerSet b"),
            want(
                "busybox:1.36",
                Source::ArgoTemplate,
                "steps / inline container"
            ),
            want("node:20", Source::ArgoTemplate, "steps / d script"),
        ]
    );
    let kics = &out.images[2];
    assert_eq!(kics.span.of(ARGO), "checkmarx/kics:latest");
    assert!(kics.exact);
    let python = &out.images[1];
    assert_eq!(python.text, "{{inputs.parameters.image}}");
    match &python.form {
        Form::Expanded { origins } => {
            assert_eq!(origins[0].span.of(ARGO), "python:3.12");
            assert_eq!(origins[0].name, "inputs.parameters.image");
        }
        f => panic!("{f:?}"),
    }
    match &out.images[4].form {
        Form::Expanded { origins } => {
            assert_eq!(origins[0].span.of(ARGO), "aquasec/trivy:0.50.0")
        }
        f => panic!("{f:?}"),
    }
    assert!(
        out.images[7]
            .image
            .as_ref()
            .unwrap_err()
            .reason
            .contains("Argo")
    );
    // podSpecPatch is a string: a note says its images are not read.
    assert_eq!(out.diagnostics.len(), 1);
    assert_eq!(out.diagnostics[0].kind, DiagnosticKind::Note);
    assert!(out.diagnostics[0].message.contains("podSpecPatch"));
}

#[test]
fn argo_cron_and_templates_kinds() {
    let src = "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nspec:\n  schedule: '0 * * * *'\n  workflowSpec:\n    arguments:\n      parameters:\n      - name: img\n        value: alpine:3\n    templates:\n    - name: t\n      container:\n        image: '{{workflow.parameters.img}}'\n---\napiVersion: argoproj.io/v1alpha1\nkind: ClusterWorkflowTemplate\nspec:\n  templates:\n  - name: c\n    container: {image: 'nginx:1.27'}\n---\napiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nspec:\n  templates:\n  - name: w\n    container:\n      image: '{{inputs.parameters.missing}}'\n";
    let out = run(src);
    assert_eq!(
        just_images(&out)[..2],
        ["alpine:3".to_string(), "nginx:1.27".to_string()]
    );
    assert!(out.images[2].image.is_err());
    assert!(out.images.iter().all(|o| o.source == Source::ArgoTemplate));
    // Argo Rollouts (argoproj.io, a pod template) stays a Kubernetes workload.
    let src = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec:\n  template:\n    spec:\n      containers:\n      - name: r\n        image: r:1\n";
    assert_eq!(run(src).images[0].source, Source::KubernetesContainer);
}

#[test]
fn argo_hostile_inline_nesting_is_bounded() {
    let mut src = String::from(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  templates:\n  - name: t\n",
    );
    let mut indent = String::from("    ");
    for _ in 0..40 {
        src.push_str(&format!(
            "{indent}steps:\n{indent}- - name: s\n{indent}    inline:\n"
        ));
        indent.push_str("        ");
    }
    src.push_str(&format!("{indent}container: {{image: deep:1}}\n"));
    let out = run(&src);
    assert!(out.images.is_empty());
}

#[test]
fn flux_kustomization_inside() {
    let src = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n  images:\n  - name: podinfo\n    newTag: 6.5.0\n";
    let out = run(src);
    assert_eq!(just_images(&out), vec!["podinfo:6.5.0"]);
    assert_eq!(out.images[0].source, Source::KustomizeImage);
}

#[test]
fn merge_key_bomb_is_cheap() {
    let mut src = String::from("l0: &l0 {containers: [{name: a, image: a:1}]}\n");
    for i in 1..40 {
        let p = i - 1;
        src.push_str(&format!(
            "l{i}: &l{i} {{<<: [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]}}\n"
        ));
    }
    src.push_str("spec: {<<: *l39}\n");
    let out = run(&src);
    assert_eq!(just_images(&out), vec!["a:1"]);
}

#[test]
fn flow_sequence_closer_at_key_indentation() {
    let src = "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: a:1\n    command: [\n      \"start\"\n    ]\n  - name: b\n    image: b:2\n";
    let out = run(src);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    assert_eq!(just_images(&out), vec!["a:1", "b:2"]);
}

#[test]
fn closer_after_comments_and_underindented_quoted_scalar() {
    let src = "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: a:1\n    command: [\"x\", # c\n      # more\n\n    ]\n    args:\n      - \"one \\\n    two\"\n  - name: b\n    image: b:2\n";
    let out = run(src);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    assert_eq!(just_images(&out), vec!["a:1", "b:2"]);
}

#[test]
fn reused_container_list_is_cheap() {
    let n = 1500;
    let mut src = String::from("x-list: &l\n");
    for i in 0..n {
        src.push_str(&format!("- {{name: c{i}, image: img{i}:1}}\n"));
    }
    src.push_str("items:\n");
    for _ in 0..n {
        src.push_str("- spec: {containers: *l}\n");
    }
    let out = crate::test_support::linear(src.len(), || run(&src));
    assert_eq!(out.images.len(), n);
}

#[test]
fn many_images_are_cheap() {
    let mut src = String::new();
    for i in 0..20_000 {
        src.push_str(&format!(
            "- kind: Pod\n  spec:\n    containers: [{{image: i{i}}}]\n"
        ));
    }
    let out = crate::test_support::linear(src.len(), || run(&src));
    assert_eq!(out.images.len(), 20_000);
}

/// Every YAML extractor on hostile input: alias and merge bombs, deep nesting, cut-off files.
#[test]
fn hostile_inputs_never_panic() {
    let extractors: [fn(&str) -> Extraction; 4] = [
        extract,
        crate::kind::compose::extract,
        crate::kind::helm::extract,
        crate::kind::kubernetes::kustomize::extract,
    ];
    let mut inputs = vec![
        "[".repeat(10_000),
        "a: ".repeat(5_000),
        "{{".repeat(5_000),
        "]\n".repeat(100),
        "\u{feff}".to_string(),
        "services: *x\nimages: *y\nimage: *z\n".to_string(),
    ];
    let mut bomb = String::from(
        "l0: &l0 {image: a:1, repository: r, containers: [{image: b}], services: {s: {image: c}}, images: [{name: n, newTag: t}]}\n",
    );
    for i in 1..40 {
        let p = i - 1;
        bomb.push_str(&format!(
                "l{i}: &l{i} {{<<: [*l{p}, *l{p}, *l{p}, *l{p}], image: *l{p}, services: *l{p}, x: [*l{p}, *l{p}, *l{p}]}}\n"
            ));
    }
    bomb.push_str("services: *l39\nimages: *l39\nspec: *l39\nimage: *l39\n");
    inputs.push(bomb);
    for (_, text) in corpus::files("kubernetes").iter().take(6) {
        for cut in (0..text.len()).step_by(101) {
            if text.is_char_boundary(cut) {
                inputs.push(text[..cut].to_string());
            }
        }
    }
    for input in &inputs {
        for extract in extractors {
            let out = crate::test_support::linear(input.len(), || extract(input));
            for o in &out.images {
                assert_eq!(o.text, o.span.of(input));
            }
        }
    }
}

#[test]
fn flow_mapping_documents() {
    let src = "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: \"nginx:1.27.0\"}], initContainers: [{name: i, image: busybox:1.36}]}}\n---\n{\"apiVersion\": \"batch/v1\", \"kind\": \"Job\", \"spec\": {\"template\": {\"spec\": {\"containers\": [{\"name\": \"j\", \"image\": \"redis:7\"}]}}}}\n";
    let out = crate::extract(crate::FileKind::Kubernetes, src);
    let got: Vec<_> = out
        .images
        .iter()
        .map(|o| (o.span.of(src), o.image.clone().ok(), o.exact))
        .collect();
    assert_eq!(
        got,
        [
            ("nginx:1.27.0", Some("nginx:1.27.0".into()), true),
            ("busybox:1.36", Some("busybox:1.36".into()), true),
            ("redis:7", Some("redis:7".into()), true),
        ]
    );
}
