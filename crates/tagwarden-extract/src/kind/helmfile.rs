//! Helmfile (`helmfile.yaml`, `helmfile.d/*.yaml`, `helmfile.yaml.gotmpl`): the images its
//! releases set.
//!
//! - inline `values:` entries that are maps, read as chart values (the Helm extractor's
//!   `image:` strings and `repository`/`tag` maps);
//! - `set:` / `setString:` entries `{name: …, value: …}` whose name is an image setting:
//!   `image` (or `…Image`) with a whole reference, or `….repository` with the `….registry`,
//!   `….tag` and `….digest` entries of the same prefix (a tag set alone is reported unresolved:
//!   the repository is the chart's default);
//! - container commands of `hooks` (`command:` + `args:`);
//! - the same in `templates:` (which releases inherit), in every document of the file.
//!
//! `values:` entries that are file names are files of their own; `chart:` names a chart (an
//! `oci://` chart is an OCI artifact, not a container image) and is not reported. Go template
//! actions (`{{ … }}`) make a value unresolved.

use std::collections::BTreeMap;

use crate::read::placeholder::{TEMPLATE_REASON, placeholder_reason};
use crate::read::yaml::{Found, NodeRef, Scalar, for_each_document, scalar_at};
use crate::{Extraction, Form, ImageOccurrence, Part, PartRole, Source, Unresolved};

/// Finds the images a Helmfile's releases set.
pub fn extract(text: &str) -> Extraction {
    let mut out = Found::default();
    for_each_document(text, &mut out, |doc, file, out| {
        if !doc.is_mapping() {
            return;
        }
        // Templates first: a release that inherits one reaches the same bytes, reported once
        // where they are written.
        if let Some(templates) = doc.get("templates") {
            for (name, t) in templates.entries() {
                release(t, &format!("template {name}"), file, out);
            }
        }
        if let Some(releases) = doc.get("releases") {
            for (i, r) in releases.items().into_iter().enumerate() {
                let name = r
                    .get_str("name")
                    .map_or_else(|| format!("[{i}]"), str::to_string);
                release(r, &format!("release {name}"), file, out);
            }
        }
    });
    out.finish()
}

fn release(r: NodeRef<'_, '_>, ctx: &str, file: &str, out: &mut Found) {
    if !r.is_mapping() {
        return;
    }
    if let Some(values) = r.get("values") {
        for v in values.items() {
            if !v.is_mapping() {
                continue;
            }
            let mut found = Found::default();
            crate::walk_embedded(crate::EmbeddedYaml::HelmValues, v, file, &mut found);
            for mut occ in found.finish().images {
                occ.source = Source::HelmfileImage;
                occ.context = Some(match occ.context {
                    Some(c) => format!("{ctx} values {c}"),
                    None => format!("{ctx} values"),
                });
                out.push(occ);
            }
        }
    }
    for key in ["set", "setString"] {
        if let Some(set) = r.get(key) {
            set_entries(set, &format!("{ctx} {key}"), file, out);
        }
    }
    if let Some(hooks) = r.get("hooks") {
        for h in hooks.items() {
            let Some(command) = h.get("command") else {
                continue;
            };
            let mut argv = vec![command];
            argv.extend(h.get("args").map(|a| a.items()).unwrap_or_default());
            crate::read::ci_script::argv::command_images(
                file,
                &argv,
                Source::ScriptCommand,
                &format!("{ctx} hooks"),
                &[],
                out,
            );
        }
    }
}

/// The fields of one image setting in `set:`, by the prefix of their names.
#[derive(Default)]
struct Fields {
    image: Option<Scalar>,
    registry: Option<Scalar>,
    repository: Option<Scalar>,
    tag: Option<Scalar>,
    digest: Option<Scalar>,
}

fn set_entries(set: NodeRef<'_, '_>, ctx: &str, file: &str, out: &mut Found) {
    let mut by_prefix: BTreeMap<String, Fields> = BTreeMap::new();
    for entry in set.items() {
        let (Some(name), Some(value)) = (entry.get_str("name"), entry.get("value")) else {
            continue;
        };
        let Some(value) = scalar_at(value, file) else {
            continue;
        };
        if value.value.trim().is_empty() {
            continue;
        }
        let (prefix, field) = match name.rsplit_once('.') {
            Some((p, f)) => (p, f),
            None => ("", name),
        };
        let (prefix, slot) = match field {
            "registry" => (prefix.to_string(), "registry"),
            "repository" => (prefix.to_string(), "repository"),
            "tag" => (prefix.to_string(), "tag"),
            "digest" => (prefix.to_string(), "digest"),
            f if f == "image" || f.ends_with("Image") => (name.to_string(), "image"),
            _ => continue,
        };
        let fields = by_prefix.entry(prefix).or_default();
        let place = match slot {
            "registry" => &mut fields.registry,
            "repository" => &mut fields.repository,
            "tag" => &mut fields.tag,
            "digest" => &mut fields.digest,
            _ => &mut fields.image,
        };
        // A later entry of the same name wins, as Helm applies them in order.
        *place = Some(value);
    }
    for (prefix, f) in by_prefix {
        let context = Some(format!("{ctx} {prefix}"));
        if let Some(image) = f.image {
            out.push(literal(image, context));
            continue;
        }
        // Only `registry`/`tag`/`digest` under a key that names an image count.
        let is_image = prefix == "image" || prefix.ends_with(".image") || prefix.ends_with("Image");
        match (f.repository, is_image || prefix.is_empty()) {
            (Some(repository), _) => {
                out.push(composed(f.registry, repository, f.tag, f.digest, context))
            }
            (None, true) => {
                if let Some(tag) = f.tag.or(f.digest) {
                    out.push(ImageOccurrence {
                        span: tag.span,
                        text: tag.text,
                        image: Err(Unresolved::new(
                            "only the tag is set: the repository is the chart's default",
                        )),
                        source: Source::HelmfileImage,
                        form: Form::Literal,
                        alias_sites: tag.alias_sites,
                        context,
                        exact: false,
                    });
                }
            }
            (None, false) => {}
        }
    }
}

fn literal(s: Scalar, context: Option<String>) -> ImageOccurrence {
    let image = if s.templated {
        Err(Unresolved::new(TEMPLATE_REASON))
    } else if let Some(reason) = placeholder_reason(&s.value) {
        Err(Unresolved::new(reason))
    } else {
        Ok(s.value.trim().to_string())
    };
    ImageOccurrence {
        span: s.span,
        text: s.text,
        image,
        source: Source::HelmfileImage,
        form: Form::Literal,
        alias_sites: s.alias_sites,
        context,
        exact: s.exact,
    }
}

fn composed(
    registry: Option<Scalar>,
    repository: Scalar,
    tag: Option<Scalar>,
    digest: Option<Scalar>,
    context: Option<String>,
) -> ImageOccurrence {
    let fields = [&registry, &Some(repository.clone()), &tag, &digest];
    let part = |role, s: &Scalar| Part {
        role,
        span: s.exact.then_some(s.span),
        value: s.value.clone(),
    };
    let mut parts = Vec::new();
    parts.extend(registry.iter().map(|r| part(PartRole::Registry, r)));
    parts.push(part(PartRole::Repository, &repository));
    parts.extend(tag.iter().map(|t| part(PartRole::Tag, t)));
    parts.extend(digest.iter().map(|d| part(PartRole::Digest, d)));
    let image = if fields
        .iter()
        .filter_map(|f| f.as_ref())
        .any(|s| s.templated)
    {
        Err(Unresolved::new(TEMPLATE_REASON))
    } else if let Some(reason) = fields
        .iter()
        .filter_map(|f| f.as_ref())
        .find_map(|s| placeholder_reason(&s.value))
    {
        Err(Unresolved::new(reason))
    } else {
        let mut image = String::new();
        if let Some(r) = &registry {
            image.push_str(r.value.trim_end_matches('/'));
            image.push('/');
        }
        image.push_str(&repository.value);
        match (&tag, &digest) {
            (Some(t), _) => {
                image.push(':');
                image.push_str(&t.value);
                if let Some(d) = &digest {
                    image.push('@');
                    image.push_str(&d.value);
                }
                Ok(image)
            }
            (None, Some(d)) => {
                image.push('@');
                image.push_str(&d.value);
                Ok(image)
            }
            (None, None) if repository.value.contains(':') || repository.value.contains('@') => {
                Ok(image)
            }
            (None, None) => Err(Unresolved::new(
                "no tag is set: the chart's default tag (often its appVersion) is used",
            )),
        }
    };
    ImageOccurrence {
        span: repository.span,
        text: repository.text,
        image,
        source: Source::HelmfileImage,
        form: Form::Composed { parts },
        alias_sites: repository.alias_sites,
        context,
        // The repository alone is not the reference.
        exact: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Row = (String, String, Source, bool, String);

    fn found(t: &str) -> (Vec<Row>, Extraction) {
        let out = crate::extract(crate::FileKind::Helmfile, t);
        let rows = out
            .images
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
            .collect();
        (rows, out)
    }

    const HELMFILE: &str = r#"repositories:
  - name: bitnami
    url: https://charts.bitnami.com/bitnami
  - name: ghcr
    url: ghcr.io/acme/charts
    oci: true

templates:
  default: &default
    namespace: apps
    values:
      - podAnnotations: {}
        sidecar:
          image: envoyproxy/envoy:v1.31.0

releases:
  - name: redis
    chart: bitnami/redis
    version: 19.0.0
    values:
      - values/redis.yaml
      - image:
          registry: docker.io
          repository: bitnami/redis
          tag: 7.2.4
        metrics:
          image: "bitnami/redis-exporter:1.58.0"
    set:
      - name: sentinel.image.repository
        value: bitnami/redis-sentinel
      - name: sentinel.image.tag
        value: 7.2.4
      - name: replicaCount
        value: 3
  - name: app
    chart: oci://ghcr.io/acme/charts/app
    <<: *default
    setString:
      - name: image
        value: ghcr.io/acme/app:2.0.1
      - name: worker.image.tag
        value: "{{ .Values.workerTag }}"
    hooks:
      - events: ["presync"]
        showlogs: true
        command: "docker"
        args: ["run", "--rm", "-v", "$PWD:/path", "checkmarx/kics:latest", "scan", "-p", "/path"]
"#;

    #[test]
    fn values_set_and_hooks() {
        let (got, out) = found(HELMFILE);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let short: Vec<_> = got
            .iter()
            .map(|(text, image, source, exact, _)| (text.as_str(), image.as_str(), *source, *exact))
            .collect();
        use Source::{HelmfileImage as H, ScriptCommand as Cmd};
        assert_eq!(
            short,
            vec![
                (
                    "envoyproxy/envoy:v1.31.0",
                    "envoyproxy/envoy:v1.31.0",
                    H,
                    true
                ),
                ("bitnami/redis", "docker.io/bitnami/redis:7.2.4", H, false),
                (
                    "bitnami/redis-exporter:1.58.0",
                    "bitnami/redis-exporter:1.58.0",
                    H,
                    true
                ),
                (
                    "bitnami/redis-sentinel",
                    "bitnami/redis-sentinel:7.2.4",
                    H,
                    false
                ),
                ("ghcr.io/acme/app:2.0.1", "ghcr.io/acme/app:2.0.1", H, true),
                (
                    "{{ .Values.workerTag }}",
                    "ERR only the tag is set: the repository is the chart's default",
                    H,
                    false
                ),
                ("checkmarx/kics:latest", "checkmarx/kics:latest", Cmd, true),
            ]
        );
        assert_eq!(got[0].4, "template default values sidecar.image");
        assert_eq!(got[3].4, "release redis set sentinel.image");
        assert_eq!(got[6].4, "release app hooks");
    }

    #[test]
    fn crlf_and_gotmpl() {
        let t = HELMFILE.replace('\n', "\r\n");
        let (got, _) = found(&t);
        assert_eq!(got.len(), 7);
        let t = "environments:\n  default:\n    values: [env.yaml]\n---\nreleases:\n{{ range .Values.apps }}\n  - name: {{ .name }}\n    chart: charts/app\n    values:\n      - image:\n          repository: {{ .repo }}\n          tag: \"1.0\"\n{{ end }}\n";
        let (got, out) = found(t);
        assert!(
            out.diagnostics
                .iter()
                .all(|d| d.kind == crate::DiagnosticKind::Note)
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].1.starts_with("ERR template"));
    }

    #[test]
    fn errors_and_hostile_input() {
        let t = "releases:\n  - name: a\n    set: [\n";
        let out = extract(t);
        assert_eq!(out.diagnostics[0].kind, crate::DiagnosticKind::ParseError);
        let bomb = crate::test_support::alias_bomb(
            "v: &v {image: nginx:1}\n",
            "v",
            "releases:\n  - name: x\n    values: *l19\n",
        );
        let _ = crate::test_support::linear(bomb.len(), || extract(&bomb));
        let deep = "releases:\n  - values:\n    - ".to_string() + &"{a: ".repeat(10_000);
        let _ = extract(&deep);
    }
}
