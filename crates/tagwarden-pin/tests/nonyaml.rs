//! Pinning the non-YAML kinds (Jenkinsfile, shell scripts, Makefiles, Quadlet units,
//! devcontainer.json) and `docker-image://` build contexts end to end: the real extractor, a plan
//! with a synthetic digest, the rewrite compared byte for byte, `verify_rewrite`, and a second
//! plan that has nothing left to do.

mod common;

use common::expect_sources as expect;
use tagwarden_extract::{FileKind, Source};
use tagwarden_pin::Skip;

const KICS: &str = r#"docker run --rm -v "$PWD:/path" checkmarx/kics:latest scan -p /path"#;
const KICS_PINNED: &str =
    r#"docker run --rm -v "$PWD:/path" checkmarx/kics:latest@%D scan -p /path"#;

#[test]
fn jenkinsfile() {
    let before = r#"pipeline {
  environment { TRIVY = 'aquasec/trivy:0.69.4' }
  agent { docker { image 'maven:3.9' ; args '-u root' } }
  stages {
    stage('scan') {
      agent { docker "node:22" }
      steps {
        sh 'KICS'
        sh 'docker run --rm $TRIVY fs .'
        sh "docker pull ${BUILD_TAG}"
        script { docker.image('redis:7').withRun { c -> sh 'true' } }
      }
    }
  }
}
podTemplate(yaml: '''
  spec:
    containers:
    - name: go
      image: golang:1.23
''') { node(POD_LABEL) { sh 'go version' } }
"#;
    let after = r#"pipeline {
  environment { TRIVY = 'aquasec/trivy:0.69.4@%D' }
  agent { docker { image 'maven:3.9@%D' ; args '-u root' } }
  stages {
    stage('scan') {
      agent { docker "node:22@%D" }
      steps {
        sh 'KICS'
        sh 'docker run --rm $TRIVY fs .'
        sh "docker pull ${BUILD_TAG}"
        script { docker.image('redis:7@%D').withRun { c -> sh 'true' } }
      }
    }
  }
}
podTemplate(yaml: '''
  spec:
    containers:
    - name: go
      image: golang:1.23@%D
''') { node(POD_LABEL) { sh 'go version' } }
"#;
    let got = expect(
        FileKind::Jenkinsfile,
        &before.replace("KICS", KICS),
        &after.replace("KICS", KICS_PINNED),
    );
    assert_eq!(
        got,
        [
            (Source::JenkinsAgent, Ok(1)),
            (Source::JenkinsAgent, Ok(1)),
            (Source::JenkinsShCommand, Ok(1)),
            (Source::JenkinsShCommand, Ok(1)),
            (
                Source::JenkinsShCommand,
                Err(Skip::Unresolvable(
                    "BUILD_TAG has no single literal value in this file".to_string()
                ))
            ),
            (Source::JenkinsDockerImage, Ok(1)),
            (Source::KubernetesContainer, Ok(1)),
        ]
    );
}

#[test]
fn shell_script() {
    let before = format!(
        "#!/usr/bin/env bash\n\
set -euo pipefail\n\
TRIVY=\"aquasec/trivy:0.69.4\"\n\
{KICS}\n\
docker run --rm \"$TRIVY\" fs .\n\
podman pull \"${{SCANNER:-ghcr.io/acme/scanner:2}}\"\n\
docker buildx build --build-context base=docker-image://alpine:3.20 -t me/app .\n\
docker run --rm me/app\n\
docker pull \"$FROM_CI\"\n\
cat <<EOF\n\
docker pull not/a:command\n\
EOF\n"
    );
    let after = format!(
        "#!/usr/bin/env bash\n\
set -euo pipefail\n\
TRIVY=\"aquasec/trivy:0.69.4@%D\"\n\
{KICS_PINNED}\n\
docker run --rm \"$TRIVY\" fs .\n\
podman pull \"${{SCANNER:-ghcr.io/acme/scanner:2@%D}}\"\n\
docker buildx build --build-context base=docker-image://alpine:3.20@%D -t me/app .\n\
docker run --rm me/app\n\
docker pull \"$FROM_CI\"\n\
cat <<EOF\n\
docker pull not/a:command\n\
EOF\n"
    );
    let got = expect(FileKind::ShellScript, &before, &after);
    assert_eq!(
        got,
        [
            (Source::ScriptCommand, Ok(1)),
            (Source::ScriptCommand, Ok(1)),
            (Source::ScriptCommand, Ok(1)),
            (Source::BuildContext, Ok(1)),
            (
                Source::ScriptCommand,
                Err(Skip::Unresolvable(
                    "variable FROM_CI has no known value".to_string()
                ))
            ),
        ]
    );
}

#[test]
fn shell_script_crlf_and_shared_variable() {
    // One definition read by two commands: pinned once, where it is written.
    let got = expect(
        FileKind::ShellScript,
        "IMAGE=checkmarx/kics:latest\r\ndocker pull $IMAGE\r\ndocker run --rm \\\r\n  -v \"$PWD:/path\" \\\r\n  $IMAGE scan -p /path\r\n",
        "IMAGE=checkmarx/kics:latest@%D\r\ndocker pull $IMAGE\r\ndocker run --rm \\\r\n  -v \"$PWD:/path\" \\\r\n  $IMAGE scan -p /path\r\n",
    );
    assert_eq!(
        got,
        [
            (Source::ScriptCommand, Ok(1)),
            (Source::ScriptCommand, Ok(0))
        ]
    );
}

#[test]
fn makefile() {
    let before = "IMAGE ?= checkmarx/kics:latest\n\
TRIVY := aquasec/trivy:0.69.4 # scanner\n\
DOCKER ?= docker\n\
\n\
scan:\n\
\t@docker run --rm -v \"$$PWD:/path\" $(IMAGE) scan -p /path\n\
\t-$(DOCKER) run --rm ${TRIVY} fs .\n\
\tdocker pull \\\n\
\t  redis:7\n\
\tdocker pull app:$(VERSION)\n";
    let after = "IMAGE ?= checkmarx/kics:latest@%D\n\
TRIVY := aquasec/trivy:0.69.4@%D # scanner\n\
DOCKER ?= docker\n\
\n\
scan:\n\
\t@docker run --rm -v \"$$PWD:/path\" $(IMAGE) scan -p /path\n\
\t-$(DOCKER) run --rm ${TRIVY} fs .\n\
\tdocker pull \\\n\
\t  redis:7@%D\n\
\tdocker pull app:$(VERSION)\n";
    let got = expect(FileKind::Makefile, before, after);
    assert_eq!(
        got,
        [
            (Source::MakefileCommand, Ok(1)),
            (Source::MakefileCommand, Ok(1)),
            (Source::MakefileCommand, Ok(1)),
            (
                Source::MakefileCommand,
                Err(Skip::Unresolvable(
                    "make variable VERSION has no definition in this file".to_string()
                ))
            ),
        ]
    );
    // The kics line itself, written literally in a recipe.
    let got = expect(
        FileKind::Makefile,
        &format!("scan:\n\t{KICS}\n"),
        &format!("scan:\n\t{KICS_PINNED}\n"),
    );
    assert_eq!(got, [(Source::MakefileCommand, Ok(1))]);
}

#[test]
fn quadlet() {
    let before = "[Unit]\nDescription=scan\n\n[Container]\n# Image=commented/out:1\nImage=\"checkmarx/kics:latest\"\nMount=type=image,source=quay.io/data/set:2,destination=/data\nVolume=cache.volume:/cache\n\n[Service]\nExecStartPre=-/usr/bin/podman pull docker.io/aquasec/trivy:0.69.4\nExecStartPost=/usr/bin/podman run --rm -v \"/srv:/path\" checkmarx/kics:latest scan -p /path\n";
    let after = "[Unit]\nDescription=scan\n\n[Container]\n# Image=commented/out:1\nImage=\"checkmarx/kics:latest@%D\"\nMount=type=image,source=quay.io/data/set:2@%D,destination=/data\nVolume=cache.volume:/cache\n\n[Service]\nExecStartPre=-/usr/bin/podman pull docker.io/aquasec/trivy:0.69.4@%D\nExecStartPost=/usr/bin/podman run --rm -v \"/srv:/path\" checkmarx/kics:latest@%D scan -p /path\n";
    let got = expect(FileKind::Quadlet, before, after);
    assert_eq!(got, vec![(Source::QuadletImage, Ok(1)); 4]);
    // `.image` and `.build` values name other units: nothing to pin. CRLF is kept.
    let got = expect(
        FileKind::Quadlet,
        "[Container]\r\nImage=app.build\r\n[Image]\r\nImage=alpine:3\r\n",
        "[Container]\r\nImage=app.build\r\n[Image]\r\nImage=alpine:3@%D\r\n",
    );
    assert_eq!(got, [(Source::QuadletImage, Ok(1))]);
    let got = expect(
        FileKind::Quadlet,
        "[Container]\nImage=quay.io/%u/app:1\n",
        "[Container]\nImage=quay.io/%u/app:1\n",
    );
    assert!(matches!(&got[0].1, Err(Skip::Unresolvable(_))));
}

#[test]
fn devcontainer() {
    let before = r#"// dev container
{
  "image": "mcr.microsoft.com/devcontainers/base:bookworm", // base
  "features": {
    "ghcr.io/devcontainers/features/node:1": { "version": "lts" },
    "ghcr.io/devcontainers/features/go": {},
    "./local": {}
  },
  "initializeCommand": "docker run --rm -v $PWD:/path checkmarx/kics:latest scan -p /path",
  "build": { "cacheFrom": "ghcr.io/acme/cache:main" },
}
"#;
    let after = r#"// dev container
{
  "image": "mcr.microsoft.com/devcontainers/base:bookworm@%D", // base
  "features": {
    "ghcr.io/devcontainers/features/node:1@%D": { "version": "lts" },
    "ghcr.io/devcontainers/features/go:latest@%D": {},
    "./local": {}
  },
  "initializeCommand": "docker run --rm -v $PWD:/path checkmarx/kics:latest@%D scan -p /path",
  "build": { "cacheFrom": "ghcr.io/acme/cache:main@%D" },
}
"#;
    let got = expect(FileKind::Devcontainer, before, after);
    assert_eq!(got, vec![(Source::DevcontainerImage, Ok(1)); 5]);
}

#[test]
fn build_context_in_a_github_run_step() {
    let before = "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          docker buildx build --build-context base=docker-image://alpine:3.20 .\n          docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path\n";
    let after = "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          docker buildx build --build-context base=docker-image://alpine:3.20@%D .\n          docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest@%D scan -p /path\n";
    let got = expect(FileKind::GithubWorkflow, before, after);
    assert_eq!(
        got,
        [
            (Source::BuildContext, Ok(1)),
            (Source::GithubRunCommand, Ok(1))
        ]
    );
}
