//! Skaffold (`skaffold*.yaml`, `apiVersion: skaffold/…`): the images Skaffold pulls.
//!
//! For each artifact of `build.artifacts[]`: the buildpacks `builder` and `runImage`, the Jib
//! and ko base image (`fromImage`), the Kaniko executor `image`, `docker.cacheFrom` entries
//! (except the artifact's own images), and container commands in its `hooks` (`command:`
//! lists, including `sh -c "…"` scripts). Also the Cloud Build images of
//! `build.googleCloudBuild` (`dockerImage`, `kanikoImage`, `packImage`, …), `verify[]
//! .container.image`, `customActions[].containers[].image`, and the same shapes in every
//! profile (`profiles[]`) and every document of the file.
//!
//! `build.artifacts[].image` is the name Skaffold gives to what it builds, and `test[].image`
//! and deploy sections refer to those names: none of them is pulled, so none is reported.
//! Manifests that `deploy` or `manifests` list are files of their own.

use crate::read::shell;
use crate::read::yaml::{Found, NodeRef, for_each_document, literal_occurrence};
use crate::{Extraction, Source};

/// The Cloud Build builder images Skaffold's `googleCloudBuild` section selects.
const CLOUD_BUILD_IMAGES: &[&str] = &[
    "dockerImage",
    "kanikoImage",
    "mavenImage",
    "gradleImage",
    "packImage",
    "koImage",
];

/// Finds the images a Skaffold configuration pulls.
pub fn extract(text: &str) -> Extraction {
    let mut out = Found::default();
    for_each_document(text, &mut out, |doc, file, out| {
        if !doc.is_mapping() {
            return;
        }
        let config = doc
            .get("metadata")
            .and_then(|m| m.get_str("name"))
            .map(str::to_string);
        let prefix = config.map(|c| format!("{c} ")).unwrap_or_default();
        let sk = Skaffold { file };
        sk.pipeline(doc, &prefix, out);
        if let Some(profiles) = doc.get("profiles") {
            for (i, p) in profiles.items().into_iter().enumerate() {
                let name = p
                    .get_str("name")
                    .map_or_else(|| format!("[{i}]"), str::to_string);
                sk.pipeline(p, &format!("{prefix}profiles.{name} "), out);
            }
        }
    });
    out.finish()
}

struct Skaffold<'f> {
    file: &'f str,
}

impl Skaffold<'_> {
    /// The sections a config and a profile share.
    fn pipeline(&self, node: NodeRef<'_, '_>, ctx: &str, out: &mut Found) {
        if let Some(build) = node.get("build") {
            let artifacts = build
                .get("artifacts")
                .map(|a| a.items())
                .unwrap_or_default();
            // Names of what this pipeline builds: caches and hooks may name them too.
            let built: Vec<String> = artifacts
                .iter()
                .filter_map(|a| a.get_str("image"))
                .map(str::to_string)
                .collect();
            for (i, a) in artifacts.iter().enumerate() {
                let name = a
                    .get_str("image")
                    .map_or_else(|| format!("[{i}]"), str::to_string);
                let actx = format!("{ctx}build.artifacts {name}");
                self.artifact(*a, &actx, &built, out);
            }
            if let Some(gcb) = build.get("googleCloudBuild") {
                for key in CLOUD_BUILD_IMAGES {
                    self.image(
                        gcb.get(key),
                        &format!("{ctx}build.googleCloudBuild.{key}"),
                        out,
                    );
                }
            }
        }
        if let Some(verify) = node.get("verify") {
            for (i, v) in verify.items().into_iter().enumerate() {
                let name = v
                    .get_str("name")
                    .map_or_else(|| format!("[{i}]"), str::to_string);
                let image = v.get("container").and_then(|c| c.get("image"));
                self.image(image, &format!("{ctx}verify {name}"), out);
            }
        }
        if let Some(actions) = node.get("customActions") {
            for (i, a) in actions.items().into_iter().enumerate() {
                let name = a
                    .get_str("name")
                    .map_or_else(|| format!("[{i}]"), str::to_string);
                let containers = a.get("containers").map(|c| c.items()).unwrap_or_default();
                for c in containers {
                    let cname = c.get_str("name").unwrap_or("container");
                    self.image(
                        c.get("image"),
                        &format!("{ctx}customActions {name} {cname}"),
                        out,
                    );
                }
            }
        }
    }

    fn artifact(&self, a: NodeRef<'_, '_>, ctx: &str, built: &[String], out: &mut Found) {
        if let Some(bp) = a.get("buildpacks") {
            self.image(bp.get("builder"), &format!("{ctx} buildpacks.builder"), out);
            self.image(
                bp.get("runImage"),
                &format!("{ctx} buildpacks.runImage"),
                out,
            );
        }
        for kind in ["jib", "ko"] {
            if let Some(b) = a.get(kind) {
                self.image(b.get("fromImage"), &format!("{ctx} {kind}.fromImage"), out);
            }
        }
        if let Some(k) = a.get("kaniko") {
            self.image(k.get("image"), &format!("{ctx} kaniko.image"), out);
        }
        if let Some(cache) = a.get("docker").and_then(|d| d.get("cacheFrom")) {
            for c in cache.items() {
                let own = c
                    .as_str()
                    .is_some_and(|v| shell::is_built(v, built) || is_own(v, built));
                if !own {
                    self.image(Some(c), &format!("{ctx} docker.cacheFrom"), out);
                }
            }
        }
        if let Some(hooks) = a.get("hooks") {
            for phase in ["before", "after"] {
                let list = hooks.get(phase).map(|l| l.items()).unwrap_or_default();
                for h in list {
                    if let Some(cmd) = h.get("command") {
                        crate::read::ci_script::argv::command_images(
                            self.file,
                            cmd.items().as_slice(),
                            Source::ScriptCommand,
                            &format!("{ctx} hooks.{phase}"),
                            built,
                            out,
                        );
                    }
                }
            }
        }
    }

    fn image(&self, node: Option<NodeRef<'_, '_>>, ctx: &str, out: &mut Found) {
        let Some(node) = node else { return };
        if let Some(occ) = literal_occurrence(
            node,
            None,
            Source::SkaffoldImage,
            Some(ctx.to_string()),
            self.file,
        ) {
            out.push(occ);
        }
    }
}

/// A cache image of the artifact itself: its name with another tag (`my-app:cache`).
fn is_own(value: &str, built: &[String]) -> bool {
    let name = value
        .rsplit_once(':')
        .map_or(value, |(n, t)| if t.contains('/') { value } else { n });
    built.iter().any(|b| b == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(t: &str) -> Vec<(String, String, Source, bool, String)> {
        let out = crate::extract(crate::FileKind::Skaffold, t);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        out.images
            .iter()
            .map(|o| {
                assert_eq!(o.text, o.span.of(t));
                (
                    o.text.clone(),
                    o.image
                        .clone()
                        .unwrap_or_else(|u| format!("ERR {}", u.reason)),
                    o.source,
                    o.exact,
                    o.context.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    const SKAFFOLD: &str = r#"apiVersion: skaffold/v4beta11
kind: Config
metadata:
  name: shop
build:
  artifacts:
    - image: shop/web
      context: web
      docker:
        dockerfile: Dockerfile
        cacheFrom:
          - shop/web
          - shop/web:cache
          - "golang:1.23"
      hooks:
        before:
          - command: ["sh", "-c", "docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path"]
            os: [darwin, linux]
          - command: ["docker", "pull", "aquasec/trivy:0.50.0"]
          - command: ["docker", "run", "shop/web"]
    - image: shop/api
      buildpacks:
        builder: gcr.io/buildpacks/builder:v1
        runImage: 'gcr.io/buildpacks/gcp/run:v1'
    - image: shop/java
      jib:
        fromImage: eclipse-temurin:21-jre
    - image: shop/go
      ko:
        fromImage: gcr.io/distroless/static:nonroot
    - image: shop/tpl
      kaniko:
        image: "{{.KANIKO_IMAGE}}"
  googleCloudBuild:
    kanikoImage: gcr.io/kaniko-project/executor:v1.23.2
test:
  - image: shop/web
    structureTests: [./test/*]
verify:
  - name: smoke
    container:
      name: curl
      image: curlimages/curl:8.10.1
customActions:
  - name: migrate
    containers:
      - name: flyway
        image: flyway/flyway:10
profiles:
  - name: ci
    build:
      artifacts:
        - image: shop/web
          buildpacks:
            builder: paketobuildpacks/builder-jammy-base
---
apiVersion: skaffold/v4beta11
kind: Config
verify:
  - name: second
    container:
      name: x
      image: alpine:3.20
"#;

    #[test]
    fn artifacts_verify_actions_profiles_and_documents() {
        let got = found(SKAFFOLD);
        let short: Vec<_> = got
            .iter()
            .map(|(text, image, source, exact, _)| (text.as_str(), image.as_str(), *source, *exact))
            .collect();
        use Source::{ScriptCommand as Cmd, SkaffoldImage as Sk};
        assert_eq!(
            short,
            vec![
                ("golang:1.23", "golang:1.23", Sk, true),
                ("checkmarx/kics:latest", "checkmarx/kics:latest", Cmd, true),
                ("aquasec/trivy:0.50.0", "aquasec/trivy:0.50.0", Cmd, true),
                (
                    "gcr.io/buildpacks/builder:v1",
                    "gcr.io/buildpacks/builder:v1",
                    Sk,
                    true
                ),
                (
                    "gcr.io/buildpacks/gcp/run:v1",
                    "gcr.io/buildpacks/gcp/run:v1",
                    Sk,
                    true
                ),
                ("eclipse-temurin:21-jre", "eclipse-temurin:21-jre", Sk, true),
                (
                    "gcr.io/distroless/static:nonroot",
                    "gcr.io/distroless/static:nonroot",
                    Sk,
                    true
                ),
                (
                    "{{.KANIKO_IMAGE}}",
                    "ERR template expression ({{ … }}): the value is set when the template is rendered",
                    Sk,
                    true
                ),
                (
                    "gcr.io/kaniko-project/executor:v1.23.2",
                    "gcr.io/kaniko-project/executor:v1.23.2",
                    Sk,
                    true
                ),
                ("curlimages/curl:8.10.1", "curlimages/curl:8.10.1", Sk, true),
                ("flyway/flyway:10", "flyway/flyway:10", Sk, true),
                (
                    "paketobuildpacks/builder-jammy-base",
                    "paketobuildpacks/builder-jammy-base",
                    Sk,
                    true
                ),
                ("alpine:3.20", "alpine:3.20", Sk, true),
            ]
        );
        assert_eq!(got[0].4, "shop build.artifacts shop/web docker.cacheFrom");
        assert_eq!(got[1].4, "shop build.artifacts shop/web hooks.before");
        assert_eq!(
            got[11].4,
            "shop profiles.ci build.artifacts shop/web buildpacks.builder"
        );
        assert_eq!(got[12].4, "verify second");
    }

    #[test]
    fn crlf_and_bom() {
        let t = format!("\u{feff}{}", SKAFFOLD.replace('\n', "\r\n"));
        let got = found(&t);
        assert_eq!(got.len(), 13);
        assert_eq!(got[1].0, "checkmarx/kics:latest");
    }

    #[test]
    fn errors_and_hostile_input() {
        let t = "apiVersion: skaffold/v4beta11\nbuild:\n  artifacts:\n    - image: a\n      jib: {fromImage: x:1\n";
        let out = extract(t);
        assert_eq!(out.diagnostics[0].kind, crate::DiagnosticKind::ParseError);
        let deep = "build:\n  artifacts: ".to_string() + &"[".repeat(10_000);
        let out = extract(&deep);
        assert!(!out.diagnostics.is_empty());
        let bomb = crate::test_support::alias_bomb(
            "a: &a [x, x, x, x, x, x, x, x]\n",
            "a",
            "profiles: *l19\n",
        );
        let _ = crate::test_support::linear(bomb.len(), || extract(&bomb));
    }
}
