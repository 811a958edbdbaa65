//! End-to-end tests per file kind: the real extractor, a plan with a synthetic digest, the
//! rewrite, and checks that (a) the output is exactly as expected, (b) the bytes outside the edits
//! are unchanged, (c) the references are pinned with the same names, (d) a second plan has nothing
//! to do.

use tagwarden_extract::{FileKind, extract};
use tagwarden_reference::{Digest, Reference};

use super::*;

fn hex(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

fn fake() -> Digest {
    Digest::parse(&format!("sha256:{}", hex('b'))).unwrap()
}

/// `%D` in expected texts stands for the synthetic digest, `%A` for another one.
fn expand(s: &str) -> String {
    s.replace("%D", &format!("sha256:{}", hex('b')))
        .replace("%A", &format!("sha256:{}", hex('a')))
}

struct Pinned {
    after: String,
    planned: Vec<Planned>,
}

/// Runs plan + apply with the fake digest and checks (b), (c) and (d).
fn pin_with(
    kind: FileKind,
    before: &str,
    digest_for: &dyn Fn(&Reference) -> Option<Digest>,
) -> Pinned {
    let ex = extract(kind, before);
    let planned = plan(before, &ex, digest_for);
    let all = edits(&planned);
    let after = apply(before, &all).unwrap();
    outside_edits_identical(before, &after, &all);
    verify_rewrite(kind, before, &after, &all).unwrap();
    let ex2 = extract(kind, &after);
    assert_eq!(ex.images.len(), ex2.images.len());
    for p in &planned {
        let (old, new) = (
            &ex.images[p.occurrence_index],
            &ex2.images[p.occurrence_index],
        );
        if p.outcome.is_ok() {
            let o = Reference::parse(old.image.as_ref().unwrap()).unwrap();
            let n = Reference::parse(new.image.as_ref().unwrap()).unwrap();
            assert!(n.is_pinned(), "{new:?}");
            assert_eq!(o.repository(), n.repository());
            assert_eq!(o.effective_tag(), n.effective_tag());
        }
    }
    let again = plan(&after, &ex2, digest_for);
    assert_eq!(edits(&again), vec![], "second plan: {again:#?}");
    for (p, q) in planned.iter().zip(&again) {
        if p.outcome.is_ok() {
            assert_eq!(q.outcome, Err(Skip::AlreadyPinned), "{q:?}");
        }
    }
    Pinned { after, planned }
}

fn pin(kind: FileKind, before: &str) -> Pinned {
    pin_with(kind, before, &|_| Some(fake()))
}

/// Pins `before` and checks the exact output; returns the outcomes in file order.
fn expect(kind: FileKind, before: &str, after: &str) -> Vec<Result<usize, Skip>> {
    let p = pin(kind, &expand(before));
    assert_eq!(p.after, expand(after));
    p.planned
        .into_iter()
        .map(|p| p.outcome.map(|e| e.len()))
        .collect()
}

/// Every byte outside the edit spans is the same, in the same order.
fn outside_edits_identical(before: &str, after: &str, edits: &[Edit]) {
    let mut sorted = edits.to_vec();
    sorted.sort();
    let (mut b, mut a) = (0, 0);
    for e in &sorted {
        let keep = e.span.start - b;
        assert_eq!(before[b..e.span.start], after[a..a + keep]);
        a += keep;
        assert_eq!(after[a..a + e.replacement.len()], e.replacement);
        a += e.replacement.len();
        b = e.span.end;
    }
    assert_eq!(before[b..], after[a..]);
}

fn unsupported(r: &Result<usize, Skip>) -> bool {
    matches!(r, Err(Skip::Unsupported(_)))
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

#[test]
fn dockerfile_sources_flags_and_stages() {
    let got = expect(
        FileKind::Dockerfile,
        "# syntax=docker/dockerfile:1.7\n\
FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n\
COPY --from=nginx:1.27 /etc/nginx /etc/nginx\n\
RUN --mount=type=bind,from=alpine:3.19,target=/x true\n\
FROM nginx\n\
COPY --from=build /app /app\n\
COPY --from=0 /app /app2\n\
FROM scratch\n",
        "# syntax=docker/dockerfile:1.7@%D\n\
FROM --platform=$BUILDPLATFORM golang:1.22@%D AS build\n\
COPY --from=nginx:1.27@%D /etc/nginx /etc/nginx\n\
RUN --mount=type=bind,from=alpine:3.19@%D,target=/x true\n\
FROM nginx:latest@%D\n\
COPY --from=build /app /app\n\
COPY --from=0 /app /app2\n\
FROM scratch\n",
    );
    assert_eq!(got, vec![Ok(1); 5]);
}

#[test]
fn dockerfile_args() {
    let got = expect(
        FileKind::Dockerfile,
        "ARG BASE=node:20\n\
ARG NODE_VERSION=20\n\
ARG SHARED=alpine:3.19\n\
ARG IMG=\"python:3.12\"\n\
FROM ${BASE} AS a\n\
FROM node:${NODE_VERSION}-alpine AS b\n\
FROM $SHARED AS c\n\
FROM ${SHARED}-slim AS d\n\
FROM ${DEFAULTED:-redis:7} AS e\n\
FROM ${IMG} AS f\n\
FROM $IMG AS g\n\
FROM ${NOPE} AS h\n",
        "ARG BASE=node:20@%D\n\
ARG NODE_VERSION=20\n\
ARG SHARED=alpine:3.19\n\
ARG IMG=\"python:3.12@%D\"\n\
FROM ${BASE} AS a\n\
FROM node:${NODE_VERSION}-alpine AS b\n\
FROM $SHARED AS c\n\
FROM ${SHARED}-slim AS d\n\
FROM ${DEFAULTED:-redis:7@%D} AS e\n\
FROM ${IMG} AS f\n\
FROM $IMG AS g\n\
FROM ${NOPE} AS h\n",
    );
    assert_eq!(got[0], Ok(1));
    assert_eq!(
        got[1],
        Err(Skip::ArgNotWholeReference {
            name: "NODE_VERSION".into()
        })
    );
    assert_eq!(
        got[2],
        Err(Skip::SharedArg {
            name: "SHARED".into(),
            uses: 2
        })
    );
    assert_eq!(
        got[3],
        Err(Skip::ArgNotWholeReference {
            name: "SHARED".into()
        })
    );
    assert_eq!(got[4], Ok(1));
    // Two FROMs take IMG whole: the first carries the edit, the second is pinned by it.
    assert_eq!(got[5], Ok(1));
    assert_eq!(got[6], Ok(0));
    assert!(matches!(got[7], Err(Skip::Unresolvable(_))));
}

#[test]
fn dockerfile_quotes_continuations_and_pins() {
    let got = expect(
        FileKind::Dockerfile,
        "FROM \"nginx:1\" AS q\n\
FROM \\\n    alpine:3 AS cont\n\
FROM ngi\\\nnx:2 AS split\n\
FROM nginx:1@%A AS pinned\n\
FROM nginx@%A AS bare\n\
# tagwarden: ignore\n\
FROM redis:7 AS ignored\n\
FROM redis:8 AS ignored2 \n",
        "FROM \"nginx:1@%D\" AS q\n\
FROM \\\n    alpine:3@%D AS cont\n\
FROM ngi\\\nnx:2 AS split\n\
FROM nginx:1@%A AS pinned\n\
FROM nginx@%A AS bare\n\
# tagwarden: ignore\n\
FROM redis:7 AS ignored\n\
FROM redis:8@%D AS ignored2 \n",
    );
    assert_eq!(
        got,
        vec![
            Ok(1),
            Ok(1),
            Err(Skip::NotExact),
            Err(Skip::AlreadyPinned),
            Err(Skip::AlreadyPinned),
            Err(Skip::Ignored),
            Ok(1)
        ]
    );
}

#[test]
fn crlf_and_bom_are_kept() {
    let got = expect(
        FileKind::Dockerfile,
        "\u{feff}FROM nginx:1\r\nFROM alpine\r\nRUN true\r\n",
        "\u{feff}FROM nginx:1@%D\r\nFROM alpine:latest@%D\r\nRUN true\r\n",
    );
    assert_eq!(got, vec![Ok(1), Ok(1)]);
    expect(
        FileKind::Compose,
        "\u{feff}services:\r\n  web:\r\n    image: nginx:1 # c\r\n",
        "\u{feff}services:\r\n  web:\r\n    image: nginx:1@%D # c\r\n",
    );
    expect(
        FileKind::Kustomize,
        "\u{feff}images:\r\n- name: nginx\r\n  newTag: \"1\"\r\n",
        "\u{feff}images:\r\n- name: nginx\r\n  newTag: \"1\"\r\n  digest: %D\r\n",
    );
}

#[test]
fn unresolved_digest_is_reported() {
    let before = "FROM nginx:1\nFROM redis:7\n";
    let p = pin_with(FileKind::Dockerfile, before, &|r| {
        (r.path() == "library/nginx").then(fake)
    });
    assert_eq!(p.after, expand("FROM nginx:1@%D\nFROM redis:7\n"));
    assert_eq!(p.planned[1].outcome, Err(Skip::NotResolved));
}

#[test]
fn targets_are_normalised_tag_forms() {
    let ex = extract(FileKind::Dockerfile, "FROM nginx\nFROM ghcr.io/a/b:1\n");
    let t: Vec<_> = ex
        .images
        .iter()
        .map(|o| target(o).unwrap().to_string())
        .collect();
    assert_eq!(t, vec!["docker.io/library/nginx:latest", "ghcr.io/a/b:1"]);
}

#[test]
fn repin_replaces_digests() {
    let before = expand("FROM nginx:1@%A\nFROM alpine:3\nFROM busybox@%A\nFROM redis:7@%D\n");
    let ex = extract(FileKind::Dockerfile, &before);
    assert_eq!(
        repin_target(&ex.images[0]).unwrap().to_string(),
        "docker.io/library/nginx:1"
    );
    let planned = repin(&before, &ex, &|_| Some(fake()));
    let all = edits(&planned);
    let after = apply(&before, &all).unwrap();
    assert_eq!(
        after,
        expand("FROM nginx:1@%D\nFROM alpine:3@%D\nFROM busybox@%A\nFROM redis:7@%D\n")
    );
    assert!(unsupported(&planned[2].outcome.clone().map(|e| e.len())));
    assert_eq!(planned[3].outcome, Err(Skip::AlreadyPinned));
    verify_rewrite(FileKind::Dockerfile, &before, &after, &all).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Compose

#[test]
fn compose_anchors_merge_keys_and_defaults() {
    let got = expect(
        FileKind::Compose,
        r#"x-base: &base
  image: redis:7
  restart: always
services:
  web:
    image: "nginx:1.27" # front
  cache:
    <<: *base
  cache2:
    <<: *base
  db:
    image: ${DB_IMAGE:-postgres:16}
  worker:
    image: &w 'busybox'
  worker2:
    image: *w
  app:
    image: ghcr.io/acme/app:${TAG}
  built:
    build: .
    image: acme/built:dev
"#,
        r#"x-base: &base
  image: redis:7@%D
  restart: always
services:
  web:
    image: "nginx:1.27@%D" # front
  cache:
    <<: *base
  cache2:
    <<: *base
  db:
    image: ${DB_IMAGE:-postgres:16@%D}
  worker:
    image: &w 'busybox:latest@%D'
  worker2:
    image: *w
  app:
    image: ghcr.io/acme/app:${TAG}
  built:
    build: .
    image: acme/built:dev
"#,
    );
    assert_eq!(got.len(), 6, "{got:?}");
    assert!(matches!(got[4], Err(Skip::Unresolvable(_))));
    assert!(unsupported(&got[5]));
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

#[test]
fn kubernetes_flow_mappings_and_documents() {
    let got = expect(
        FileKind::Kubernetes,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: nginx:1.27}, {name: b, image: \"redis:7\"}]\n  initContainers:\n  - name: init\n    image: busybox\n\
---\n\
apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: x\n        image: >-\n          alpine:3.19\n      - name: y\n        image: \"quay.io/x/y:\\x31\"\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: nginx:1.27@%D}, {name: b, image: \"redis:7@%D\"}]\n  initContainers:\n  - name: init\n    image: busybox:latest@%D\n\
---\n\
apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: x\n        image: >-\n          alpine:3.19@%D\n      - name: y\n        image: \"quay.io/x/y:\\x31\"\n",
    );
    assert_eq!(got, vec![Ok(1), Ok(1), Ok(1), Ok(1), Err(Skip::NotExact)]);
}

// ---------------------------------------------------------------------------------------------
// Helm

#[test]
fn helm_strings_and_sibling_tags() {
    let got = expect(
        FileKind::HelmValues,
        "image: nginx:1.27\nredis:\n  image: redis\n  tag: \"7.2\"\nsidecarImage: 'busybox:1'\n",
        "image: nginx:1.27@%D\nredis:\n  image: redis\n  tag: \"7.2@%D\"\nsidecarImage: 'busybox:1@%D'\n",
    );
    assert_eq!(got, vec![Ok(1), Ok(1), Ok(1)]);
}

#[test]
fn helm_map_without_digest_convention_appends_to_the_tag() {
    let got = expect(
        FileKind::HelmValues,
        "app:\n  image:\n    registry: docker.io\n    repository: bitnami/nginx\n    tag: 1.25.3 # by CI\n    pullPolicy: IfNotPresent\n",
        "app:\n  image:\n    registry: docker.io\n    repository: bitnami/nginx\n    tag: 1.25.3@%D # by CI\n    pullPolicy: IfNotPresent\n",
    );
    assert_eq!(got, vec![Ok(1)]);
}

#[test]
fn helm_map_digest_fields() {
    let got = expect(
        FileKind::HelmValues,
        "a:\n  image:\n    repository: x/a\n    tag: \"1\"\n    digest: \"\"\n\
b:\n  image:\n    repository: x/b\n    tag: \"2\"\n    digest:\n\
c:\n  image:\n    repository: x/c\n    tag: \"3\"\n    digest: ~  # none yet\n\
d:\n  image: {repository: x/d, tag: \"4\"}\n\
e:\n  image:\n    repository: x/e\n    tag: '5'\n    pullPolicy: Always\n",
        "a:\n  image:\n    repository: x/a\n    tag: \"1\"\n    digest: \"%D\"\n\
b:\n  image:\n    repository: x/b\n    tag: \"2\"\n    digest: %D\n\
c:\n  image:\n    repository: x/c\n    tag: \"3\"\n    digest: %D  # none yet\n\
d:\n  image: {repository: x/d, tag: \"4\", digest: %D}\n\
e:\n  image:\n    repository: x/e\n    tag: '5'\n    digest: %D\n    pullPolicy: Always\n",
    );
    assert_eq!(got, vec![Ok(1); 5]);
}

#[test]
fn helm_digest_key_inserted_with_crlf_and_last_line() {
    expect(
        FileKind::HelmValues,
        "a:\r\n  image:\r\n    repository: x/a\r\n    tag: \"1\"\r\n    digest: \"\"\r\nb:\r\n  image:\r\n    repository: x/b\r\n    tag: v2",
        "a:\r\n  image:\r\n    repository: x/a\r\n    tag: \"1\"\r\n    digest: \"%D\"\r\nb:\r\n  image:\r\n    repository: x/b\r\n    tag: v2\r\n    digest: %D",
    );
}

#[test]
fn helm_inherited_tags_are_left_alone() {
    let got = expect(
        FileKind::HelmValues,
        "global:\n  imageTag: v9\na:\n  image:\n    repository: x/a\n    tag: \"\"\n",
        "global:\n  imageTag: v9\na:\n  image:\n    repository: x/a\n    tag: \"\"\n",
    );
    assert!(unsupported(&got[0]), "{got:?}");
}

#[test]
fn helm_repin_replaces_the_digest_field() {
    let before = expand("image:\n  repository: x/a\n  tag: \"1\"\n  digest: %A\n");
    let ex = extract(FileKind::HelmValues, &before);
    let planned = repin(&before, &ex, &|_| Some(fake()));
    let after = apply(&before, &edits(&planned)).unwrap();
    assert_eq!(
        after,
        expand("image:\n  repository: x/a\n  tag: \"1\"\n  digest: %D\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Kustomize

#[test]
fn kustomize_entries() {
    let got = expect(
        FileKind::Kustomize,
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n\
- name: nginx\n  newTag: 1.27\n\
- name: app\n  newName: registry.example/team/app\n  newTag: \"v2\" # release\n\
- {name: db, newName: postgres, newTag: \"16\"}\n\
- name: pinned\n  newName: x/y\n  digest: %A\n\
- name: empty\n  newTag: v1\n  digest: \"\"\n\
- name: nameonly\n  newName: x/z\n",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n\
- name: nginx\n  newTag: 1.27\n  digest: %D\n\
- name: app\n  newName: registry.example/team/app\n  newTag: \"v2\" # release\n  digest: %D\n\
- {name: db, newName: postgres, newTag: \"16\", digest: %D}\n\
- name: pinned\n  newName: x/y\n  digest: %A\n\
- name: empty\n  newTag: v1\n  digest: \"%D\"\n\
- name: nameonly\n  newName: x/z\n",
    );
    assert_eq!(got[..3], [Ok(1), Ok(1), Ok(1)]);
    assert_eq!(got[3], Err(Skip::AlreadyPinned));
    assert_eq!(got[4], Ok(1));
    assert!(matches!(got[5], Err(Skip::Unresolvable(_))));
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

#[test]
fn github_workflow() {
    let got = expect(
        FileKind::GithubWorkflow,
        r#"on: push
jobs:
  a:
    runs-on: ubuntu-latest
    container: node:20
    services:
      db:
        image: postgres:16
    steps:
      - uses: docker://alpine:3.19
      - uses: actions/checkout@v4
  b:
    strategy:
      matrix:
        img: [alpine:3, 'debian:12']
    container: ${{ matrix.img }}
  c:
    strategy:
      matrix:
        version: [18, 20]
    container:
      image: node:${{ matrix.version }}-slim
  d:
    container:
      image: ${{ inputs.image }}
  e:
    services:
      r:
        image: ${{ inputs.redis || 'redis:7' }}
"#,
        r#"on: push
jobs:
  a:
    runs-on: ubuntu-latest
    container: node:20@%D
    services:
      db:
        image: postgres:16@%D
    steps:
      - uses: docker://alpine:3.19@%D
      - uses: actions/checkout@v4
  b:
    strategy:
      matrix:
        img: [alpine:3@%D, 'debian:12@%D']
    container: ${{ matrix.img }}
  c:
    strategy:
      matrix:
        version: [18, 20]
    container:
      image: node:${{ matrix.version }}-slim
  d:
    container:
      image: ${{ inputs.image }}
  e:
    services:
      r:
        image: ${{ inputs.redis || 'redis:7@%D' }}
"#,
    );
    println!("{got:?}");
    assert_eq!(got[..5], [Ok(1), Ok(1), Ok(1), Ok(1), Ok(1)]);
    assert!(got.contains(&Err(Skip::ArgNotWholeReference {
        name: "matrix.version".into()
    })));
    assert!(got.iter().any(|g| matches!(g, Err(Skip::Unresolvable(_)))));
}

#[test]
fn github_anchor_shared_by_container_and_service() {
    let got = expect(
        FileKind::GithubWorkflow,
        "jobs:\n  a:\n    container:\n      image: &i alpine:3\n    services:\n      x:\n        image: *i\n",
        "jobs:\n  a:\n    container:\n      image: &i alpine:3@%D\n    services:\n      x:\n        image: *i\n",
    );
    assert_eq!(got, vec![Ok(1), Ok(0)]);
}

#[test]
fn github_action_metadata() {
    let got = expect(
        FileKind::GithubAction,
        "name: tool\nruns:\n  using: docker\n  image: docker://ghcr.io/acme/tool:1.2\n",
        "name: tool\nruns:\n  using: docker\n  image: docker://ghcr.io/acme/tool:1.2@%D\n",
    );
    assert_eq!(got, vec![Ok(1)]);
}

// ---------------------------------------------------------------------------------------------
// GitLab CI

#[test]
fn gitlab_images_services_and_variables() {
    let got = expect(
        FileKind::GitlabCi,
        "variables:\n  IMAGE: python:3.12\n  PG_VERSION: \"16\"\n\
image: $IMAGE\n\
services:\n  - name: postgres:$PG_VERSION\n  - redis:7\n\
test:\n  image:\n    name: node:20\n    entrypoint: [\"\"]\n  services:\n    - docker:24-dind\n  script: [true]\n",
        "variables:\n  IMAGE: python:3.12@%D\n  PG_VERSION: \"16\"\n\
image: $IMAGE\n\
services:\n  - name: postgres:$PG_VERSION\n  - redis:7@%D\n\
test:\n  image:\n    name: node:20@%D\n    entrypoint: [\"\"]\n  services:\n    - docker:24-dind@%D\n  script: [true]\n",
    );
    assert!(got.contains(&Err(Skip::ArgNotWholeReference {
        name: "PG_VERSION".into()
    })));
    assert_eq!(got.iter().filter(|g| **g == Ok(1)).count(), 4, "{got:?}");
}

#[test]
fn shell_commands_in_run_and_script() {
    for nl in ["\n", "\r\n"] {
        let before = "jobs:\n  scan:\n    steps:\n      - run: |\n          docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n          docker run --entrypoint sh \\\n            \"aquasec/trivy:0.69.4\" -c 'x'\n          docker pull $IMAGE\n      - run: docker pull alpine\n"
            .replace('\n', nl);
        let after = "jobs:\n  scan:\n    steps:\n      - run: |\n          docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path\n          docker run --entrypoint sh \\\n            \"aquasec/trivy:0.69.4@%D\" -c 'x'\n          docker pull $IMAGE\n      - run: docker pull alpine:latest@%D\n"
            .replace('\n', nl);
        let got = expect(FileKind::GithubWorkflow, &before, &after);
        assert_eq!(got.iter().filter(|g| **g == Ok(1)).count(), 3, "{got:?}");
        assert!(got.iter().any(|g| g.is_err()), "{got:?}");
    }
    let got = expect(
        FileKind::GitlabCi,
        "kics:\n  script:\n    - docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n    - echo docker run x:1\n",
        "kics:\n  script:\n    - docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path\n    - echo docker run x:1\n",
    );
    assert_eq!(got, vec![Ok(1)]);
}

#[test]
fn shell_command_env_variable_is_pinned_at_its_definition() {
    let got = expect(
        FileKind::GithubWorkflow,
        "env:\n  KICS_IMAGE: checkmarx/kics:latest\njobs:\n  a:\n    steps:\n      - run: |\n          docker run --rm \"$KICS_IMAGE\" scan -p .\n",
        "env:\n  KICS_IMAGE: checkmarx/kics:latest@%D\njobs:\n  a:\n    steps:\n      - run: |\n          docker run --rm \"$KICS_IMAGE\" scan -p .\n",
    );
    assert_eq!(got, vec![Ok(1)]);
}

#[test]
fn gitlab_script_variable_shared_with_image_is_pinned_once() {
    let got = expect(
        FileKind::GitlabCi,
        "variables:\n  KICS: checkmarx/kics:latest\nscan:\n  image: $KICS\n  script:\n    - docker run --rm \"$KICS\" scan -p .\n",
        "variables:\n  KICS: checkmarx/kics:latest@%D\nscan:\n  image: $KICS\n  script:\n    - docker run --rm \"$KICS\" scan -p .\n",
    );
    assert!(got.contains(&Ok(1)), "{got:?}");
}

// ---------------------------------------------------------------------------------------------
// Conflicts and the diff

#[test]
fn overlapping_plans_never_panic() {
    let mut ex = extract(FileKind::Dockerfile, "FROM nginx:1\n");
    // A forged duplicate occurrence at the same span but another image: its edit conflicts.
    let mut other = ex.images[0].clone();
    other.image = Ok("nginx:1".into());
    other.text = "nginx:1".into();
    ex.images.push(other);
    let planned = plan("FROM nginx:1\n", &ex, &|_| Some(fake()));
    assert_eq!(planned[0].outcome.as_ref().map(Vec::len), Ok(1));
    assert_eq!(planned[1].outcome.as_ref().map(Vec::len), Ok(0));
    // Spans that do not match the text are refused, not trusted.
    ex.images[1].span = Span::new(100, 200);
    let planned = plan("FROM nginx:1\n", &ex, &|_| Some(fake()));
    assert!(matches!(planned[1].outcome, Err(Skip::Unsupported(_))));
}

#[test]
fn diff_of_a_pin() {
    let p = pin(FileKind::Dockerfile, "FROM nginx:1\n");
    assert_eq!(
        unified_diff("Dockerfile", "FROM nginx:1\n", &p.after),
        expand(
            "--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1 +1 @@\n-FROM nginx:1\n+FROM nginx:1@%D\n"
        )
    );
}

#[test]
fn verify_rejects_a_rewrite_that_changes_a_name() {
    let before = "FROM nginx:1\n";
    let after = expand("FROM nginy:1@%D\n");
    let edits = [Edit::replace(Span::new(5, 12), expand("nginy:1@%D"))];
    let err = verify_rewrite(FileKind::Dockerfile, before, &after, &edits).unwrap_err();
    assert!(err.contains("name changed"), "{err}");
    let err = verify_rewrite(FileKind::Dockerfile, before, "FROM x\n", &edits).unwrap_err();
    assert!(err.contains("differs"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Robustness

/// Small inputs of every kind, mutated byte by byte: planning never panics, plans always apply,
/// and every rewrite passes `verify_rewrite`.
#[test]
fn mutated_inputs_plan_apply_and_verify() {
    let seeds: &[(FileKind, &str)] = &[
        (
            FileKind::Dockerfile,
            "# syntax=docker/dockerfile:1\nARG B=node:20\nARG V=3\nFROM ${B} AS a\nFROM alpine:${V}\nCOPY --from=nginx /a /b\nFROM \"redis:7\"\n",
        ),
        (
            FileKind::Compose,
            "x: &b\n  image: redis:7\nservices:\n  a:\n    <<: *b\n  c:\n    image: ${I:-pg:16}\n  d:\n    image: 'busybox'\n",
        ),
        (
            FileKind::Kubernetes,
            "kind: Pod\nspec:\n  containers: [{name: a, image: nginx:1}]\n  initContainers:\n  - image: \"busybox\"\n",
        ),
        (
            FileKind::HelmValues,
            "image:\n  repository: x/a\n  tag: \"1\"\n  digest: \"\"\nb:\n  image: redis\n  tag: 7\nc:\n  image: {repository: x/c, tag: v2}\n",
        ),
        (
            FileKind::Kustomize,
            "images:\n- name: nginx\n  newTag: 1.27\n- {name: db, newName: postgres, newTag: \"16\"}\n",
        ),
        (
            FileKind::GithubWorkflow,
            "jobs:\n  a:\n    strategy:\n      matrix:\n        img: [alpine:3, 'debian:12']\n    container: ${{ matrix.img }}\n    services:\n      s:\n        image: &i redis:7\n    steps:\n      - uses: docker://alpine\n",
        ),
        (
            FileKind::GitlabCi,
            "variables:\n  IMG: python:3\nimage: $IMG\nservices:\n  - redis:7\njob:\n  image: {name: node:20}\n  script: [x]\n",
        ),
    ];
    const ALPHABET: &[u8] = b" \n\r\t:@${}'\"#-&*<>[],\\|abc019";
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut failures = Vec::new();
    for (kind, text) in seeds {
        for _ in 0..1000 {
            let mut bytes = text.as_bytes().to_vec();
            for _ in 0..=(next() % 4) {
                let pos = (next() as usize) % (bytes.len() + 1);
                let ch = ALPHABET[(next() as usize) % ALPHABET.len()];
                match next() % 3 {
                    0 => bytes.insert(pos, ch),
                    1 if pos < bytes.len() => {
                        bytes.remove(pos);
                    }
                    _ if pos < bytes.len() => bytes[pos] = ch,
                    _ => {}
                }
            }
            let Ok(t) = String::from_utf8(bytes) else {
                continue;
            };
            let ex = extract(*kind, &t);
            let planned = plan(&t, &ex, &|_| Some(fake()));
            let all = edits(&planned);
            let after = apply(&t, &all).expect("a plan always applies");
            if let Err(e) = verify_rewrite(*kind, &t, &after, &all) {
                failures.push(format!("{kind:?} {t:?}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures, first: {:#?}",
        failures.len(),
        &failures[..failures.len().min(8)]
    );
}

#[test]
fn ignore_comments_on_use_or_definition() {
    let got = expect(
        FileKind::Dockerfile,
        "# tagwarden: ignore[unpinned-image]\r\nARG A=alpine:3\r\n\r\nARG B=busybox:1\r\nFROM $A\r\n# tagwarden: ignore[floating-latest]\r\nFROM $B\r\n",
        "# tagwarden: ignore[unpinned-image]\r\nARG A=alpine:3\r\n\r\nARG B=busybox:1@%D\r\nFROM $A\r\n# tagwarden: ignore[floating-latest]\r\nFROM $B\r\n",
    );
    assert_eq!(got, vec![Err(Skip::Ignored), Ok(1)]);
}

#[test]
fn compose_inline_dockerfile() {
    let got = expect(
        FileKind::Compose,
        "services:\n  app:\n    build:\n      dockerfile_inline: |\n        ARG BASE=alpine:3.20\n        FROM ${BASE}\n        FROM nginx AS web\n",
        "services:\n  app:\n    build:\n      dockerfile_inline: |\n        ARG BASE=alpine:3.20@%D\n        FROM ${BASE}\n        FROM nginx:latest@%D AS web\n",
    );
    assert_eq!(got, vec![Ok(1), Ok(1)]);
}

#[test]
fn helm_aliased_repository_and_shared_tags_are_left_alone() {
    // The second map reuses the first one's repository through an alias with its own tag: pinning
    // the anchor's map would not pin it, and appending to a shared tag would pin both wrongly.
    let got = expect(
        FileKind::HelmValues,
        "image:\n  repository: &r x/a\n  tag: \"1\"\nsidecarImage:\n  repository: *r\n  tag: \"1\"\n\
other:\n  image: &whole\n    repository: x/b\n    tag: v2\nagain:\n  image: *whole\n",
        "image:\n  repository: &r x/a\n  tag: \"1\"\nsidecarImage:\n  repository: *r\n  tag: \"1\"\n\
other:\n  image: &whole\n    repository: x/b\n    tag: v2@%D\nagain:\n  image: *whole\n",
    );
    assert!(unsupported(&got[0]), "{got:?}");
    // An alias of the whole map follows the anchor: pinned.
    assert_eq!(got[1], Ok(1));
}

/// Many references sharing one ARG, and many edits: planning and verifying stay near-linear.
#[test]
fn large_files_stay_linear() {
    let mut text = String::from("ARG BASE=alpine:3\n");
    for i in 0..5000 {
        text.push_str(&format!("FROM ${{BASE}} AS s{i}\nFROM nginx:{i}\n"));
    }
    let p = tagwarden_testbed::assert_linear("a large Dockerfile", text.len(), || {
        pin(FileKind::Dockerfile, &text)
    });
    assert_eq!(
        p.planned.iter().filter(|p| p.outcome.is_ok()).count(),
        10_000
    );
}
