//! Pins CircleCI, Azure Pipelines and Bitbucket Pipelines files with a synthetic digest and
//! compares the output byte for byte: the rewrite verifies, only the edits changed bytes, and a
//! second plan has nothing left to do.

mod common;

use common::{expect, fake, pinned};
use tagwarden_extract::{FileKind, extract};
use tagwarden_pin::{Skip, apply, edits, plan, verify_rewrite};

#[test]
fn circleci_images_runs_and_parameters() {
    for nl in ["\n", "\r\n"] {
        let before = "version: 2.1\nexecutors:\n  go:\n    docker:\n      - image: cimg/go:1.23\njobs:\n  scan:\n    parameters:\n      trivy: {type: string, default: \"aquasec/trivy:0.69.4\"}\n    docker:\n      - image: 'cimg/base:2024.01'\n      - image: postgres\n    steps:\n      - run: docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n      - run:\n          command: |\n            docker run --rm << parameters.trivy >> image x\n  vm:\n    machine:\n      image: ubuntu-2204:current\n"
            .replace('\n', nl);
        let after = "version: 2.1\nexecutors:\n  go:\n    docker:\n      - image: cimg/go:1.23@%D\njobs:\n  scan:\n    parameters:\n      trivy: {type: string, default: \"aquasec/trivy:0.69.4@%D\"}\n    docker:\n      - image: 'cimg/base:2024.01@%D'\n      - image: postgres:latest@%D\n    steps:\n      - run: docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path\n      - run:\n          command: |\n            docker run --rm << parameters.trivy >> image x\n  vm:\n    machine:\n      image: ubuntu-2204:current\n"
            .replace('\n', nl);
        let got = expect(FileKind::CircleCi, &before, &after);
        assert_eq!(pinned(&got), 5, "{got:?}");
    }
}

#[test]
fn bitbucket_images_services_scripts_and_pipes() {
    for nl in ["\n", "\r\n"] {
        let before = "image: atlassian/default-image:4\ndefinitions:\n  services:\n    db:\n      image:\n        name: \"postgres:16\"\n  steps:\n    - step: &scan\n        name: scan\n        image: alpine:3\n        script:\n          - docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n          - pipe: docker://ghcr.io/acme/pipe:1.0\n          - pipe: atlassian/aws-s3-deploy:1.1.0\npipelines:\n  default:\n    - step: *scan\n  branches:\n    main:\n      - parallel:\n          - step:\n              image: node\n              script: [docker pull \"$IMAGE\"]\n"
            .replace('\n', nl);
        let after = "image: atlassian/default-image:4@%D\ndefinitions:\n  services:\n    db:\n      image:\n        name: \"postgres:16@%D\"\n  steps:\n    - step: &scan\n        name: scan\n        image: alpine:3@%D\n        script:\n          - docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path\n          - pipe: docker://ghcr.io/acme/pipe:1.0@%D\n          - pipe: atlassian/aws-s3-deploy:1.1.0\npipelines:\n  default:\n    - step: *scan\n  branches:\n    main:\n      - parallel:\n          - step:\n              image: node:latest@%D\n              script: [docker pull \"$IMAGE\"]\n"
            .replace('\n', nl);
        let got = expect(FileKind::BitbucketPipelines, &before, &after);
        assert_eq!(pinned(&got), 6, "{got:?}");
        assert_eq!(got.len(), 7, "{got:?}");
    }
}

#[test]
fn azure_containers_scripts_and_variables() {
    for nl in ["\n", "\r\n"] {
        let before = "parameters:\n- name: trivy\n  default: aquasec/trivy:0.69.4\nvariables:\n  KICS: checkmarx/kics:latest\n  REG: ghcr.io/acme\nresources:\n  containers:\n  - container: builder\n    image: ubuntu:24.04\njobs:\n- job: scan\n  container: builder\n  services:\n    db: postgres\n    app: $(REG)/app:1\n  steps:\n  - script: docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n  - bash: |\n      docker run --rm \"$(KICS)\" scan -p .\n      docker run --rm ${{ parameters.trivy }} image x\n  - task: Docker@2\n    inputs:\n      command: pull\n      arguments: 'alpine:3.22'\n"
            .replace('\n', nl);
        let after = "parameters:\n- name: trivy\n  default: aquasec/trivy:0.69.4@%D\nvariables:\n  KICS: checkmarx/kics:latest@%D\n  REG: ghcr.io/acme\nresources:\n  containers:\n  - container: builder\n    image: ubuntu:24.04@%D\njobs:\n- job: scan\n  container: builder\n  services:\n    db: postgres:latest@%D\n    app: $(REG)/app:1\n  steps:\n  - script: docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path\n  - bash: |\n      docker run --rm \"$(KICS)\" scan -p .\n      docker run --rm ${{ parameters.trivy }} image x\n  - task: Docker@2\n    inputs:\n      command: pull\n      arguments: 'alpine:3.22@%D'\n"
            .replace('\n', nl);
        let got = expect(FileKind::AzurePipelines, &before, &after);
        assert_eq!(pinned(&got), 6, "{got:?}");
        assert!(
            got.contains(&Err(Skip::ArgNotWholeReference { name: "REG".into() })),
            "{got:?}"
        );
    }
}

/// Small files of each kind, mutated byte by byte: extraction never panics, plans apply, and
/// every rewrite verifies.
#[test]
fn mutated_inputs_plan_apply_and_verify() {
    let seeds: &[(FileKind, &str)] = &[
        (
            FileKind::CircleCi,
            "jobs:\n  a:\n    parameters: {i: {default: x/y:1}}\n    docker:\n      - image: << parameters.i >>\n      - image: 'redis:7'\n    steps:\n      - run: docker run --rm << parameters.i >> && docker pull $E\n    environment: {E: alpine:3}\n",
        ),
        (
            FileKind::AzurePipelines,
            "variables: {I: x/y:1}\nresources:\n  containers: [{container: c, image: $(I)}]\njobs:\n- job: a\n  container: c\n  services: {s: 'redis:7'}\n  steps:\n  - bash: docker run \"$(I)\" && docker pull ${{ parameters.p }}\n",
        ),
        (
            FileKind::BitbucketPipelines,
            "image: {name: node:20}\ndefinitions:\n  steps:\n    - step: &s\n        image: 'redis:7'\n        script: [docker pull x/y:1, {pipe: 'docker://a/b:1'}]\npipelines:\n  default:\n    - step: *s\n",
        ),
    ];
    const ALPHABET: &[u8] = b" \n\r\t:@${}()<>'\"#-&*[],\\|abc019";
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
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
            for o in &ex.images {
                assert_eq!(o.text, o.span.of(&t), "{t:?}");
            }
            let planned = plan(&t, &ex, &fake);
            let all = edits(&planned);
            let after = apply(&t, &all).expect("a plan always applies");
            if let Err(e) = verify_rewrite(*kind, &t, &after, &all) {
                failures.push(format!("{kind:?} {t:?}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
