//! devcontainer.json / .devcontainer.json (JSON with comments).
//!
//! What is read: the top-level `image`; `build.cacheFrom` (images the build pulls as cache);
//! the keys of `features` that are OCI references (`ghcr.io/devcontainers/features/go:1`: a
//! feature is an OCI artifact pulled from a registry by that reference), with context `feature`;
//! and the container commands of the lifecycle scripts (`initializeCommand`, which runs on the
//! host, `onCreateCommand`, `postCreateCommand`, …), written as a shell string, as an exec array
//! (`["docker", "run", …]`, or `["bash", "-c", "docker run …"]`), or as an object of either.
//!
//! Not read: `build.dockerfile` (the image is built, not pulled), `dockerComposeFile` +
//! `service` (the image is in the Compose file, read as a Compose file), local features
//! (`./local-feature`), tarball features (`https://…/feature.tgz`) and the deprecated short
//! feature ids (`docker-in-docker`), which are not references. Values with devcontainer
//! variables (`${localEnv:X}`, `${templateOption:x}`) are reported unresolved.

use crate::read::ci_script::argv::command_images;
use crate::read::json;
use crate::read::yaml::{self, Found, NodeRef};
use crate::{Extraction, Form, ImageOccurrence, Source, Span, Unresolved};

/// Lifecycle scripts: a shell string, an exec array or an object of either.
const LIFECYCLE_KEYS: &[&str] = &[
    "initializeCommand",
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
    "postAttachCommand",
];

/// Finds the image references of one devcontainer.json.
pub fn extract(text: &str) -> Extraction {
    let mut out = Extraction::default();
    // A byte-order mark is blanked like a comment would be: same length, same offsets.
    let masked = json::mask(text);
    let masked = match masked.strip_prefix('\u{feff}') {
        Some(rest) => std::borrow::Cow::Owned(format!("{}{rest}", " ".repeat(3))),
        None => masked,
    };
    let yaml = json::parse(&masked, &mut out);
    let Some(root) = yaml.documents().next() else {
        return out;
    };
    if !root.is_mapping() {
        if !masked.trim().is_empty() {
            out.parse_error(
                Span::new(root.start(), root.start()),
                "devcontainer.json must be a JSON object",
            );
        }
        return out;
    }
    if let Some(image) = root.get("image") {
        string_image(text, image, "image", &mut out);
    }
    if let Some(cache) = root.get("build").and_then(|b| b.get("cacheFrom")) {
        let items = if cache.is_sequence() {
            cache.items()
        } else {
            vec![cache]
        };
        for item in items {
            string_image(text, item, "build.cacheFrom", &mut out);
        }
    }
    if let Some(features) = root.get("features").filter(|f| f.is_mapping()) {
        for (key, _) in features.own_entries() {
            feature(text, key, &mut out);
        }
    }
    for key in LIFECYCLE_KEYS {
        let Some(command) = root.get(key) else {
            continue;
        };
        // The object form runs each of its values in parallel; arrays run without a shell.
        let scripts = if command.is_mapping() {
            command.own_entries().into_iter().map(|(_, v)| v).collect()
        } else {
            vec![command]
        };
        for script in scripts {
            if script.is_sequence() {
                // `["docker", "run", …]` runs without a shell; `["bash", "-c", "…"]` with one.
                let mut found = Found::default();
                let argv = script.items();
                let source = Source::DevcontainerImage;
                command_images(text, &argv, source, key, &[], &mut found);
                let found = found.finish();
                out.images.extend(found.images);
                out.diagnostics.extend(found.diagnostics);
            } else if script.as_str().is_some() {
                crate::read::ci_script::scalar_images(
                    text,
                    script,
                    Source::DevcontainerImage,
                    Some(key),
                    &[],
                    &|_| None,
                    &mut out,
                );
            }
        }
    }
    out
}

/// Reports a string value that names an image.
fn string_image(text: &str, node: NodeRef<'_, '_>, context: &str, out: &mut Extraction) {
    let Some(value) = node.as_str() else {
        return;
    };
    if value.trim().is_empty() {
        return;
    }
    let Some((span, exact, _)) = yaml::scalar_site(node) else {
        return;
    };
    let (image, form, exact) = if value.contains("${") {
        (
            Err(Unresolved::new(format!(
                "{value:?} uses a devcontainer variable, known when the container is created"
            ))),
            Form::Expanded {
                origins: Vec::new(),
            },
            false,
        )
    } else {
        (Ok(value.to_string()), Form::Literal, exact)
    };
    out.push_image(ImageOccurrence {
        span,
        text: span.of(text).to_string(),
        image,
        source: Source::DevcontainerImage,
        form,
        alias_sites: Vec::new(),
        context: Some(context.to_string()),
        exact,
    });
}

/// A `features` key that is an OCI reference: a registry host, then a path.
fn feature(text: &str, key: NodeRef<'_, '_>, out: &mut Extraction) {
    let Some(id) = key.as_str() else {
        return;
    };
    let host = id.split('/').next().unwrap_or("");
    let oci = id.contains('/')
        && !id.contains("://")
        && !id.starts_with(['.', '/', '~'])
        && (host.contains(['.', ':']) || host == "localhost");
    if oci {
        string_image(text, key, "feature", out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus;

    type Row<'t> = (&'t str, Result<String, String>, bool, Option<String>);

    fn rows(t: &str) -> Vec<Row<'_>> {
        let mut out = extract(t);
        out.images.sort_by_key(|o| o.span);
        out.images
            .iter()
            .map(|o| {
                assert_eq!(o.text, o.span.of(t));
                (
                    o.span.of(t),
                    o.image.clone().map_err(|e| e.reason),
                    o.exact,
                    o.context.clone(),
                )
            })
            .collect()
    }

    fn images(t: &str) -> Vec<&str> {
        rows(t).into_iter().map(|r| r.0).collect()
    }

    #[test]
    fn image_features_and_comments() {
        let t = r#"// a comment with "image": "not/this:1"
{
	"image": "mcr.microsoft.com/devcontainers/go:1.22", /* trailing */
	"features": {
		"ghcr.io/devcontainers/features/sshd:1": {},
		"ghcr.io/devcontainers/features/node": "lts",
		"./local-features/apache": "latest",
		"https://example.com/f.tgz": {},
		"docker-in-docker": "latest",
	},
	// "image": "commented/out:1",
	"build": { "dockerfile": "Dockerfile", "cacheFrom": ["ghcr.io/acme/cache:main"] },
}
"#;
        let got = rows(t);
        assert_eq!(
            got.iter()
                .map(|r| (r.0, r.3.as_deref()))
                .collect::<Vec<_>>(),
            [
                ("mcr.microsoft.com/devcontainers/go:1.22", Some("image")),
                ("ghcr.io/devcontainers/features/sshd:1", Some("feature")),
                ("ghcr.io/devcontainers/features/node", Some("feature")),
                ("ghcr.io/acme/cache:main", Some("build.cacheFrom")),
            ]
        );
        assert!(got.iter().all(|r| r.2 && r.1.as_deref() == Ok(r.0)));
    }

    #[test]
    fn lifecycle_commands() {
        let t = r#"{
  "image": "alpine:3",
  "initializeCommand": "docker pull aquasec/trivy:0.69.4",
  "postCreateCommand": {
    "scan": "docker run --rm -v \"$PWD:/path\" checkmarx/kics:latest scan -p /path",
    "plain": "docker run --rm -v $PWD:/path checkmarx/kics:latest scan -p /path",
    "exec": ["docker", "pull", "ghcr.io/acme/tool:1"],
    "shell": ["bash", "-c", "docker run --rm -v \"$PWD:/p\" aquasec/trivy:0.50.0 fs /p"]
  },
  "postStartCommand": ["podman", "run", "--rm", "-e", "A=1", "redis:7"]
}"#;
        let out = extract(t);
        let got = images(t);
        assert_eq!(
            got,
            [
                "alpine:3",
                "aquasec/trivy:0.69.4",
                "checkmarx/kics:latest",
                "checkmarx/kics:latest",
                "ghcr.io/acme/tool:1",
                "aquasec/trivy:0.50.0",
                "redis:7"
            ]
        );
        // The string with `\"` escapes is mapped between them, byte for byte.
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let kics = out
            .images
            .iter()
            .find(|o| o.text == "checkmarx/kics:latest")
            .unwrap();
        assert!(out.images.iter().all(|o| o.exact && o.span.of(t) == o.text));
        assert_eq!(kics.context.as_deref(), Some("postCreateCommand"));
    }

    #[test]
    fn variables_compose_and_dockerfile() {
        let got = rows(
            r#"{"image": "mcr.microsoft.com/devcontainers/base:alpine${templateOption:imageVariant}"}"#,
        );
        assert!(got[0].1.is_err() && !got[0].2);
        assert!(
            images(r#"{"dockerComposeFile": "docker-compose.yml", "service": "app"}"#).is_empty()
        );
        assert!(
            images(r#"{"build": {"dockerfile": "Dockerfile", "args": {"V": "x:1"}}}"#).is_empty()
        );
        assert!(images(r#"{"dockerFile": "Dockerfile"}"#).is_empty());
    }

    #[test]
    fn crlf_bom_escapes_and_errors() {
        let t = "\u{feff}{\r\n  \"image\": \"alpine:3\"\r\n}\r\n";
        assert_eq!(images(t), ["alpine:3"]);
        let t = "{\"image\": \"alp\\u0069ne:3\"}";
        let got = rows(t);
        assert_eq!(got[0].1, Ok("alpine:3".to_string()));
        assert!(!got[0].2);
        let out = extract("{\n  \"image\": \"alpine:3\",\n  \"x\": [\n}");
        assert!(
            out.diagnostics
                .iter()
                .any(|d| d.kind == crate::DiagnosticKind::ParseError)
        );
        for t in [
            "",
            "[]",
            "\"x\"",
            "{",
            "{\"image\": 1}",
            "{\"features\": [\"a/b\"]}",
            "/*",
            "{\"image\": \"\"}",
        ] {
            for o in extract(t).images {
                assert_eq!(o.text, o.span.of(t));
            }
        }
        let deep = "[".repeat(100_000);
        let _ = extract(&deep);
    }

    #[test]
    fn corpus() {
        let n = test_corpus::check_all("devcontainer", extract);
        let files = test_corpus::files("devcontainer");
        if files.is_empty() {
            return;
        }
        let file = |p: &str| test_corpus::file(&format!("devcontainer/{p}")).unwrap();
        let t = file("cli__cli/.devcontainer/devcontainer.json");
        assert_eq!(
            images(&t),
            [
                "mcr.microsoft.com/devcontainers/go:1.22",
                "ghcr.io/devcontainers/features/sshd:1"
            ]
        );
        let t = file("dependabot__dependabot-core/.devcontainer/core-dev/devcontainer.json");
        assert_eq!(images(&t), ["ghcr.io/dependabot/dependabot-updater-core"]);
        let t = file("devcontainers__images/src/php/.devcontainer/devcontainer.json");
        assert_eq!(
            images(&t),
            [
                "ghcr.io/devcontainers/features/common-utils:2",
                "ghcr.io/devcontainers/features/node:1",
                "ghcr.io/devcontainers/features/git:1"
            ]
        );
        let t = file("devcontainers__templates/src/go/.devcontainer/devcontainer.json");
        assert!(rows(&t)[0].1.is_err());
        let t = file("devcontainers__templates/src/postgres/.devcontainer/devcontainer.json");
        assert!(images(&t).is_empty());
        for (path, text) in &files {
            let out = extract(text);
            assert!(
                out.diagnostics.is_empty(),
                "{path:?}: {:?}",
                out.diagnostics
            );
        }
        // 47 references, 3 of them template images built from `${templateOption:…}`.
        assert_eq!(n, 47);
    }
}
