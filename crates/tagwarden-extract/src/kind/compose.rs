//! Docker Compose: each service's `image:`, with Compose's variable interpolation, YAML anchors,
//! aliases and merge keys.
//!
//! - `${VAR:-default}` and `${VAR-default}` resolve to their default (no variable is known
//!   offline); `${VAR}`/`$VAR` without a default are unresolved; `$$` is a literal `$`.
//! - An image reached through `<<: *anchor` or `image: *alias` is reported once, at the anchored
//!   scalar, with the alias sites noted.
//! - A service with only `build:` names no image. A service with both `build:` and `image:` builds
//!   the image and tags it with that name; it is still reported (users pin and scan it) with the
//!   context `<service> (built locally)` so a reader knows the registry may not hold it.
//! - `build.additional_contexts` entries `docker-image://ref` are images the build pulls.
//! - `build.dockerfile_inline` (a `|` block) is read as a Dockerfile with the Dockerfile extractor.
//! - Compose v1 files (services at the top level, no `services:` key) are read too.

use crate::read::placeholder::TEMPLATE_REASON;
use crate::read::value_map::ValueMap;
use crate::read::vars::{self, Syntax};
use crate::read::yaml::{
    Entry, Found, NodeRef, Scalar, for_each_document, is_null, lookup, merged_entries, scalar_at,
    with_via,
};
use crate::{Extraction, Form, ImageOccurrence, Source, Span, Unresolved};

/// Top-level keys of a Compose file that are not services (for v1 files without `services:`).
const TOP_LEVEL_KEYS: &[&str] = &[
    "version", "services", "networks", "volumes", "secrets", "configs", "name", "include", "models",
];

/// Finds the service images of a Compose file.
pub fn extract(text: &str) -> Extraction {
    let mut out = Found::default();
    for_each_document(text, &mut out, |doc, file, out| {
        let root = merged_entries(doc);
        let services = match lookup(&root, "services") {
            Some(s) => merged_entries(s.value),
            None => root
                .iter()
                .filter(|e| !e.key.starts_with("x-") && !TOP_LEVEL_KEYS.contains(&e.key))
                .copied()
                .collect(),
        };
        for service in &services {
            report_service(service, file, out);
        }
    });
    out.finish()
}

fn report_service(service: &Entry<'_, '_>, file: &str, out: &mut Found) {
    if !service.value.is_mapping() {
        return;
    }
    let entries = merged_entries(service.value);
    let build = lookup(&entries, "build").filter(|b| !is_null(b.value));
    if let Some(b) = build {
        report_build(service.key, b.value, file, out);
    }
    let Some(image) = lookup(&entries, "image") else {
        return;
    };
    let Some(s) = scalar_at(image.value, file) else {
        return;
    };
    if s.value.trim().is_empty() {
        return;
    }
    let context = if build.is_some() {
        format!("{}{}", service.key, crate::BUILT_LOCALLY)
    } else {
        service.key.to_string()
    };
    let via = image
        .via
        .or(service.via)
        .or_else(|| service.value.alias_span());
    // Interpolation origins point into the file only when the scalar's bytes are its value.
    let base = s.exact.then_some(s.span.start);
    out.push(occurrence(s, base, via, context));
}

/// An occurrence for an image string written at `base` (when known), after interpolation.
fn occurrence(
    s: Scalar,
    base: Option<usize>,
    via: Option<Span>,
    context: String,
) -> ImageOccurrence {
    let (image, form) = interpolate(&s, base);
    ImageOccurrence {
        span: s.span,
        text: s.text,
        image,
        source: Source::ComposeImage,
        form,
        alias_sites: with_via(s.alias_sites, via),
        context: Some(context),
        exact: s.exact,
    }
}

/// Compose interpolation; no variable has a value offline, so only defaults resolve.
fn interpolate(s: &Scalar, base: Option<usize>) -> (Result<String, Unresolved>, Form) {
    if !vars::has_variables(&s.value) {
        let image = if s.templated {
            Err(Unresolved::new(TEMPLATE_REASON))
        } else {
            Ok(s.value.trim().to_string())
        };
        return (image, Form::Literal);
    }
    let syntax = Syntax {
        dollar_escape: true,
    };
    match vars::expand(&s.value, base.unwrap_or(0), syntax, &|_| None) {
        Ok(e) => {
            // Origins point into the file only when the scalar's bytes are its value.
            let origins = if base.is_some() {
                e.origins
            } else {
                Vec::new()
            };
            let value = e.value.trim().to_string();
            let image = if value.is_empty() {
                Err(Unresolved::new(format!(
                    "{:?} is empty unless set at deploy time",
                    s.value
                )))
            } else {
                Ok(value)
            };
            (image, Form::Expanded { origins })
        }
        Err(mut u) => {
            if u.reason.starts_with("variable ") {
                u.reason.push_str(" (set at deploy time)");
            }
            (
                Err(u),
                Form::Expanded {
                    origins: Vec::new(),
                },
            )
        }
    }
}

/// Images a build pulls: `additional_contexts` with `docker-image://`, and the FROM lines of an
/// inline Dockerfile.
fn report_build(service: &str, build: NodeRef<'_, '_>, file: &str, out: &mut Found) {
    let entries = merged_entries(build);
    if let Some(contexts) = lookup(&entries, "additional_contexts") {
        let values: Vec<(Option<&str>, NodeRef<'_, '_>)> = if contexts.value.is_sequence() {
            contexts
                .value
                .items()
                .into_iter()
                .map(|v| (None, v))
                .collect()
        } else {
            merged_entries(contexts.value)
                .into_iter()
                .map(|e| (Some(e.key), e.value))
                .collect()
        };
        for (name, value) in values {
            if let Some(occ) = docker_image_context(service, name, value, file) {
                out.push(occ);
            }
        }
    }
    if let Some(inline) = lookup(&entries, "dockerfile_inline") {
        report_inline_dockerfile(service, inline.value, file, out);
    }
}

const DOCKER_IMAGE_SCHEME: &str = "docker-image://";

/// `name: docker-image://ref` (map form) or `name=docker-image://ref` (list form).
fn docker_image_context(
    service: &str,
    name: Option<&str>,
    value: NodeRef<'_, '_>,
    file: &str,
) -> Option<ImageOccurrence> {
    let s = scalar_at(value, file)?;
    let (name, rest_offset) = match name {
        Some(n) => (n.to_string(), 0),
        None => {
            let (n, _) = s.value.split_once('=')?;
            (n.to_string(), n.len() + 1)
        }
    };
    let after_name = s.value.get(rest_offset..)?;
    let reference = after_name.strip_prefix(DOCKER_IMAGE_SCHEME)?;
    let offset = rest_offset + DOCKER_IMAGE_SCHEME.len();
    let (span, exact) = if s.exact {
        let start = s.span.start + offset;
        (Span::new(start, start + reference.len()), true)
    } else {
        (s.span, false)
    };
    let sub = Scalar {
        span,
        text: span.of(file).to_string(),
        value: reference.to_string(),
        exact,
        alias_sites: s.alias_sites.clone(),
        templated: s.templated,
    };
    let base = exact.then_some(span.start);
    Some(occurrence(
        sub,
        base,
        None,
        format!("{service} (build context {name})"),
    ))
}

/// Runs the Dockerfile extractor over a `dockerfile_inline: |` block and maps its spans back.
fn report_inline_dockerfile(service: &str, node: NodeRef<'_, '_>, file: &str, out: &mut Found) {
    let Some(target) = node.resolve() else {
        return;
    };
    let Some(value) = target.as_str() else {
        return;
    };
    let Some(map) = ValueMap::of(target) else {
        return;
    };
    let inner = crate::extract_embedded(crate::FileKind::Dockerfile, value);
    for occ in inner.images {
        let Some(mut occ) = map.occurrence(occ, file) else {
            continue;
        };
        occ.context = Some(match occ.context {
            Some(c) => format!("{service} (dockerfile_inline, {c})"),
            None => format!("{service} (dockerfile_inline)"),
        });
        out.push(occ);
    }
    for mut d in inner.diagnostics {
        if let Some(s) = map.to_source(d.span) {
            d.span = s;
            out.diagnostic(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus as corpus;

    #[test]
    fn corpus() {
        corpus::check_all("compose", extract);
    }

    /// Expectations checked by reading the corpus files.
    #[test]
    fn corpus_expectations() {
        let Some(src) = corpus::file("compose/netbox-community__netbox-docker/docker-compose.yml")
        else {
            return;
        };
        let out = run(&src);
        let netbox = &out.images[0];
        assert_eq!(
            netbox.text,
            "docker.io/netboxcommunity/netbox:${VERSION-v4.1-3.0.2}"
        );
        assert_eq!(
            netbox.image,
            Ok("docker.io/netboxcommunity/netbox:v4.1-3.0.2".into())
        );
        // netbox-worker and netbox-housekeeping merge `<<: *netbox`.
        assert_eq!(netbox.alias_sites.len(), 2);
        assert!(netbox.alias_sites.iter().all(|s| s.of(&src) == "*netbox"));
        assert_eq!(out.images.len(), 4);

        // Six services merge `<<: *client-libs-image` from an `x-` extension field.
        if let Some(src) = corpus::file("compose/redis__redis-py/docker-compose.yml") {
            let out = run(&src);
            assert_eq!(out.images.len(), 3);
            let redis = out
                .images
                .iter()
                .find(|o| o.alias_sites.len() == 6)
                .unwrap();
            assert_eq!(redis.image, Ok("redislabs/client-libs-test:8.6.1".into()));
        }

        // A `]` at its key's indentation (line 368) used to stop the parse half-way.
        if let Some(src) = corpus::file("compose/open-telemetry__opentelemetry-demo/compose.yaml") {
            let out = run(&src);
            assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
            assert_eq!(out.images.len(), 20);
            assert!(out.images.iter().all(|o| o.image.is_err()));
        }

        let dependabot =
            "compose/dependabot__dependabot-core/docker/spec/fixtures/docker_compose/composefiles/";
        if let Some(src) = corpus::file(&format!("{dependabot}folded_digest")) {
            let out = run(&src);
            assert_eq!(out.images.len(), 1);
            assert!(out.images[0].exact);
            assert!(
                out.images[0]
                    .text
                    .starts_with("docker.io/library/nginx:1.25.4@sha256:")
            );
        }
        if let Some(src) = corpus::file(&format!("{dependabot}variable")) {
            assert_eq!(run(&src).images[0].image, Ok("ubuntu:17.04".into()));
        }
    }
    use crate::DiagnosticKind;

    fn run(src: &str) -> Extraction {
        let out = extract(src);
        for o in &out.images {
            assert_eq!(o.text, o.span.of(src), "span/text invariant");
        }
        out
    }

    fn found(out: &Extraction) -> Vec<(String, String)> {
        out.images
            .iter()
            .map(|o| {
                (
                    o.context.clone().unwrap_or_default(),
                    o.image
                        .clone()
                        .unwrap_or_else(|e| format!("ERR {}", e.reason)),
                )
            })
            .collect()
    }

    #[test]
    fn services_and_build() {
        let src = "version: '2'\nservices:\n  web:\n    image: \"nginx:1.27\"\n  api:\n    build: .\n    image: registry.example/api:dev\n  worker:\n    build:\n      context: ./worker\n  db: {image: postgres:16}\n";
        let out = run(src);
        assert_eq!(
            found(&out),
            vec![
                ("web".into(), "nginx:1.27".into()),
                (
                    "api (built locally)".into(),
                    "registry.example/api:dev".into()
                ),
                ("db".into(), "postgres:16".into()),
            ]
        );
        assert_eq!(out.images[0].text, "nginx:1.27");
        assert!(out.images[0].exact);
        assert_eq!(out.images[0].form, Form::Literal);
        assert_eq!(out.images[0].source, Source::ComposeImage);
    }

    #[test]
    fn interpolation() {
        let src = "services:\n  a:\n    image: ${IMG:-redis:7}\n  b:\n    image: \"app:${TAG-1.0}\"\n  c:\n    image: ${IMG}\n  d:\n    image: $REGISTRY/app\n  e:\n    image: cost$$ly:1\n";
        let out = run(src);
        let f = found(&out);
        assert_eq!(f[0].1, "redis:7");
        assert_eq!(f[1].1, "app:1.0");
        assert_eq!(
            f[2].1,
            "ERR variable IMG has no known value (set at deploy time)"
        );
        assert!(f[3].1.contains("REGISTRY"));
        assert_eq!(f[4].1, "cost$ly:1");
        let a = &out.images[0];
        assert_eq!(a.text, "${IMG:-redis:7}");
        match &a.form {
            Form::Expanded { origins } => {
                assert_eq!(origins.len(), 1);
                assert_eq!(origins[0].span.of(src), "redis:7");
                assert_eq!(origins[0].name, "IMG");
            }
            f => panic!("{f:?}"),
        }
        match &out.images[1].form {
            Form::Expanded { origins } => assert_eq!(origins[0].span.of(src), "1.0"),
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let src = "\
x-common: &common
  image: base/app:1
  restart: always
x-img: &img redis:7
services:
  one:
    <<: *common
  two:
    <<: *common
    command: x
  three:
    image: *img
  four:
    image: *img
  five: &svc
    image: five:1
  six: *svc
";
        let out = run(src);
        assert_eq!(out.images.len(), 3, "{:?}", found(&out));
        let five = &out.images[2];
        assert_eq!(five.alias_sites.len(), 1);
        assert_eq!(five.alias_sites[0].of(src), "*svc");
        let app = &out.images[0];
        assert_eq!(app.text, "base/app:1");
        assert_eq!(app.context.as_deref(), Some("one"));
        let sites: Vec<&str> = app.alias_sites.iter().map(|s| s.of(src)).collect();
        assert_eq!(sites, vec!["*common", "*common"]);
        assert_ne!(app.alias_sites[0], app.alias_sites[1]);
        let redis = &out.images[1];
        assert_eq!(redis.text, "redis:7");
        assert_eq!(redis.alias_sites.len(), 2);
    }

    #[test]
    fn v1_without_services_key() {
        let src = "web:\n  image: ubuntu:14.04\n  links: [db]\ndb:\n  build: .\nx-foo:\n  image: not-a-service\n";
        assert_eq!(
            found(&run(src)),
            vec![("web".into(), "ubuntu:14.04".into())]
        );
    }

    #[test]
    fn block_scalars() {
        let d = "a".repeat(64);
        let src = format!(
            "services:\n  nginx:\n    image: >-\n      docker.io/library/nginx:1.25.4@sha256:{d}\n  lit:\n    image: |\n      alpine:3\n"
        );
        let out = run(&src);
        assert_eq!(
            out.images[0].image,
            Ok(format!("docker.io/library/nginx:1.25.4@sha256:{d}"))
        );
        assert!(out.images[0].exact);
        assert_eq!(out.images[0].text, out.images[0].image.clone().unwrap());
        assert_eq!(out.images[1].image, Ok("alpine:3".into()));
        assert_eq!(out.images[1].text, "alpine:3");
    }

    #[test]
    fn additional_contexts() {
        let src = "services:\n  a:\n    build:\n      context: .\n      additional_contexts:\n        base: docker-image://alpine:3.20\n        src: ../src\n  b:\n    build:\n      context: .\n      additional_contexts:\n        - tools=docker-image://ghcr.io/x/tools:1\n";
        let out = run(src);
        assert_eq!(
            found(&out),
            vec![
                ("a (build context base)".into(), "alpine:3.20".into()),
                ("b (build context tools)".into(), "ghcr.io/x/tools:1".into()),
            ]
        );
        assert_eq!(out.images[1].text, "ghcr.io/x/tools:1");
    }

    #[test]
    fn inline_dockerfile_offsets_map_back() {
        let src = "services:\n  db:\n    build:\n      dockerfile_inline: |\n        FROM mariadb:10.11\n\n        RUN echo hi\n";
        let y = crate::read::yaml::Yaml::parse(src);
        let doc = y.documents().next().unwrap();
        let node = doc
            .get("services")
            .unwrap()
            .get("db")
            .unwrap()
            .get("build")
            .unwrap()
            .get("dockerfile_inline")
            .unwrap();
        let value = node.as_str().unwrap();
        let map = ValueMap::of(node).unwrap();
        let from = value.find("mariadb").unwrap();
        let s = map
            .to_source(Span::new(from, from + "mariadb:10.11".len()))
            .unwrap();
        assert_eq!(s.of(src), "mariadb:10.11");
        let run_at = value.find("echo").unwrap();
        assert_eq!(
            map.to_source(Span::new(run_at, run_at + 4))
                .unwrap()
                .of(src),
            "echo"
        );
        // Whatever the Dockerfile extractor finds keeps the span invariant.
        run(src);
    }

    #[test]
    fn parse_error_keeps_earlier_documents() {
        let src = "services:\n  a:\n    image: a:1\n---\nservices: [\n";
        let out = run(src);
        assert_eq!(found(&out), vec![("a".into(), "a:1".into())]);
        assert_eq!(out.diagnostics[0].kind, DiagnosticKind::ParseError);
    }

    #[test]
    fn null_and_empty_images() {
        let out = run("services:\n  a:\n    image:\n  b:\n    image: ''\n  c: ~\n");
        assert!(out.images.is_empty());
    }
}
