//! Values named as images (CI variables and env, action inputs, matrix entries, Compose build
//! args, Kubernetes env pairs) are pinned where they are written.

mod common;

use common::{expect_sources, pinned};
use tagwarden_extract::{FileKind, Source};

#[test]
fn workflow_env_inputs_matrix_and_dispatch_defaults() {
    let before = "on:\n  workflow_dispatch:\n    inputs:\n      upstream:\n        description: Upstream image\n        default: \"docker.io/library/busybox:1.32\"\nenv:\n  SETUP_BUILDKIT_IMAGE: \"moby/buildkit:latest\"\njobs:\n  a:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        include:\n          - DOCKER_IMAGE: quay.io/condaforge/linux-anvil:alma9\n    steps:\n      - uses: docker/setup-qemu-action@v3\n        with:\n          image: tonistiigi/binfmt:qemu-v9.2.2\n      - uses: aquasecurity/trivy-action@0.28.0\n        with:\n          image-ref: 'checkmarx/kics:latest'\n";
    let after = "on:\n  workflow_dispatch:\n    inputs:\n      upstream:\n        description: Upstream image\n        default: \"docker.io/library/busybox:1.32@%D\"\nenv:\n  SETUP_BUILDKIT_IMAGE: \"moby/buildkit:latest@%D\"\njobs:\n  a:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        include:\n          - DOCKER_IMAGE: quay.io/condaforge/linux-anvil:alma9@%D\n    steps:\n      - uses: docker/setup-qemu-action@v3\n        with:\n          image: tonistiigi/binfmt:qemu-v9.2.2@%D\n      - uses: aquasecurity/trivy-action@0.28.0\n        with:\n          image-ref: 'checkmarx/kics:latest@%D'\n";
    let got = expect_sources(FileKind::GithubWorkflow, before, after);
    assert!(
        got.iter().all(|(s, _)| *s == Source::ImageVariable),
        "{got:?}"
    );
    let outcomes: Vec<_> = got.into_iter().map(|(_, o)| o).collect();
    assert_eq!(pinned(&outcomes), 5, "{outcomes:?}");
}

#[test]
fn gitlab_variables_compose_args_and_kubernetes_env() {
    let before = "variables:\n  DOCS_IMAGE: registry.gitlab.com/org/docs:hugo-0.154\n  LINT_IMAGE:\n    value: node:22\ndocs:\n  image: alpine:3\n  script: [make]\n";
    let after = "variables:\n  DOCS_IMAGE: registry.gitlab.com/org/docs:hugo-0.154@%D\n  LINT_IMAGE:\n    value: node:22@%D\ndocs:\n  image: alpine:3@%D\n  script: [make]\n";
    assert_eq!(
        pinned(&common::expect(FileKind::GitlabCi, before, after)),
        3
    );

    let before = "services:\n  db:\n    build:\n      context: .\n      args:\n        IMAGE: mysql:8.0\n  app:\n    build:\n      context: .\n      args:\n        - BASE_IMAGE=node:22\n";
    let after = "services:\n  db:\n    build:\n      context: .\n      args:\n        IMAGE: mysql:8.0@%D\n  app:\n    build:\n      context: .\n      args:\n        - BASE_IMAGE=node:22@%D\n";
    assert_eq!(pinned(&common::expect(FileKind::Compose, before, after)), 2);

    let before = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: op\n      image: quay.io/op/op:1\n      env:\n        - name: RELATED_IMAGE_AGENT\n          value: quay.io/op/agent:1.2\n";
    let after = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: op\n      image: quay.io/op/op:1@%D\n      env:\n        - name: RELATED_IMAGE_AGENT\n          value: quay.io/op/agent:1.2@%D\n";
    assert_eq!(
        pinned(&common::expect(FileKind::Kubernetes, before, after)),
        2
    );
}
