//! Helm chart values: `image:` settings anywhere in the tree (subchart values nest under their
//! chart's key), under `image`, any key ending in `image`/`Image` (`initImage`, `sidecarImage`)
//! or `imageOverride`.
//!
//! Two shapes are read:
//! - a string, `image: nginx:1.27`, reported as written; when the string has no tag and a sibling
//!   `tag:`/`imageTag:` (or `<key>Tag:`) holds one, the two are composed (`image: redis` +
//!   `tag: 7`, as older charts and redis-ha write it);
//! - a map with `repository` (or `name`) and optional `registry`, `tag` (or `version`, which
//!   Dependabot also reads) and `digest` (or `sha`), composed as `registry/repository:tag@digest`
//!   and reported at `repository` with each field as a [`Part`].
//!
//! `global.imageRegistry` fills in a missing `registry` unless `repository` already names one;
//! `global.imageTag` fills in an empty tag. Otherwise an empty or absent tag means the chart's
//! appVersion, which values do not show: unresolved. A map without a repository (just
//! `pullPolicy`, or `repository: ""` inheriting a global image) is not a reference; nor is
//! `images:` (a registry prefix shared by many images), a boolean, a number or a sentence.
//!
//! A document that is a Kubernetes object (a chart template) is read as a manifest instead.

use crate::read::placeholder::{TEMPLATE_REASON, placeholder_reason};
use crate::read::value_map::ValueMap;
use crate::read::yaml::{
    self, Entry, Found, NodeKind, NodeRef, Scalar, Style, Yaml, for_each_document,
    literal_occurrence, lookup, merged_entries, scalar_at, str_of, with_via,
};
use crate::{Extraction, Form, ImageOccurrence, Part, PartRole, Source, Span, Unresolved};

/// Finds the image settings of a Helm values file.
pub fn extract(text: &str) -> Extraction {
    let mut out = Found::default();
    for_each_document(text, &mut out, |doc, file, out| {
        let entries = merged_entries(doc);
        if str_of(&entries, "apiVersion").is_some() && str_of(&entries, "kind").is_some() {
            crate::walk_embedded(crate::EmbeddedYaml::Manifest, doc, file, out);
            return;
        }
        walk_values(doc, file, out);
    });
    out.finish()
}

/// Reads one mapping as chart values (also a Helmfile release's inline `values:` entry).
pub(crate) fn walk_values(values: NodeRef<'_, '_>, file: &str, out: &mut Found) {
    let entries = merged_entries(values);
    let global = lookup(&entries, "global")
        .map(|g| merged_entries(g.value))
        .unwrap_or_default();
    let walker = Walker {
        file,
        global_registry: field_of(&global, "imageRegistry", file),
        global_tag: field_of(&global, "imageTag", file),
        embedded: true,
    };
    walker.walk(values, &mut Vec::new(), out);
}

/// Reads a block scalar that holds YAML naming images (Katib's `runtimeConfig: |`, an operator's
/// config file passed through values) as values of its own, spans mapped back to the file.
fn walk_embedded(node: NodeRef<'_, '_>, path: &[String], file: &str, out: &mut Found) {
    let Some(value) = node.as_str().filter(|v| v.contains("image")) else {
        return;
    };
    let Some(map) = ValueMap::of(node) else {
        return;
    };
    let inner = Yaml::parse(value);
    if inner.error.is_some() {
        return;
    }
    let prefix = yaml::key_path(path);
    let mut found = Found::default();
    for doc in inner.documents() {
        if !doc.is_mapping() && !doc.is_sequence() {
            continue;
        }
        let walker = Walker {
            file: value,
            global_registry: None,
            global_tag: None,
            // One level: a block inside a block is data of data.
            embedded: false,
        };
        walker.walk(doc, &mut Vec::new(), &mut found);
    }
    for occ in found.finish().images {
        if let Some(mut occ) = map.occurrence(occ, file) {
            occ.context = Some(match occ.context {
                Some(c) => format!("{prefix} | {c}"),
                None => prefix.clone(),
            });
            out.push(occ);
        }
    }
}

struct Walker<'f> {
    file: &'f str,
    /// `global.imageRegistry`: the registry of image maps that name none.
    global_registry: Option<Scalar>,
    /// `global.imageTag`: the tag of image settings whose tag is empty (Katib and others).
    global_tag: Option<Scalar>,
    /// Block scalars holding YAML are read too.
    embedded: bool,
}

impl Walker<'_> {
    /// Walks the values tree once; aliases are not entered (their anchor is walked where it is).
    fn walk(&self, node: NodeRef<'_, '_>, path: &mut Vec<String>, out: &mut Found) {
        match node.kind() {
            NodeKind::Mapping(_) => {
                let siblings = merged_entries(node);
                for (k, v) in node.own_entries() {
                    let Some(key) = k.as_str() else { continue };
                    path.push(key.to_string());
                    let reported = is_image_key(key) && self.report(key, v, &siblings, path, out);
                    if !reported && !v.is_alias() {
                        self.walk(v, path, out);
                    }
                    path.pop();
                }
            }
            NodeKind::Sequence(_) => {
                for (i, item) in node.items().into_iter().enumerate() {
                    if !item.is_alias() {
                        path.push(format!("[{i}]"));
                        self.walk(item, path, out);
                        path.pop();
                    }
                }
            }
            NodeKind::Scalar { .. } => {
                if self.embedded && matches!(node.style(), Some(Style::Literal)) {
                    walk_embedded(node, path, self.file, out);
                }
            }
            NodeKind::Alias(_) => {}
        }
    }

    /// Reports the image under an image-like key; false when the value is not one.
    fn report(
        &self,
        key: &str,
        value: NodeRef<'_, '_>,
        siblings: &[Entry<'_, '_>],
        path: &[String],
        out: &mut Found,
    ) -> bool {
        let context = Some(yaml::key_path(path));
        if value.is_scalar() {
            if !looks_like_image_string(value) {
                return false;
            }
            // `image: repo` with its tag beside it (`tag:`, `imageTag:`, `<key>Tag:`).
            let own_tag = format!("{key}Tag");
            let mut tag_keys = vec![own_tag.as_str()];
            if key == "image" {
                tag_keys.extend(["tag", "imageTag"]);
            }
            let tag_key = tag_keys.into_iter().find(|k| lookup(siblings, k).is_some());
            let repository = scalar_at(value, self.file);
            let Some((tag_key, repository)) = tag_key
                .zip(repository)
                .filter(|(_, r)| !r.templated && !is_complete(&r.value))
            else {
                let occ = literal_occurrence(value, None, Source::HelmImage, context, self.file);
                return occ.map(|o| out.push(o)).is_some();
            };
            let fields = ImageFields {
                registry: None,
                tag_key: true,
                tag: field_of(siblings, tag_key, self.file),
                default_tag: self.global_tag.clone(),
                digest: None,
                repository,
            };
            out.push(fields.occurrence(value.alias_span(), context));
            return true;
        }
        if !value.is_mapping() {
            return false;
        }
        let entries = merged_entries(value);
        let field = |keys: &[&str]| keys.iter().find_map(|k| field_of(&entries, k, self.file));
        let Some(repository) = field(&["repository", "name"]) else {
            return false;
        };
        if repository.value.chars().any(char::is_whitespace) && !repository.templated {
            return false;
        }
        let registry = field(&["registry"]).or_else(|| {
            self.global_registry
                .clone()
                .filter(|_| !names_registry(&repository.value))
        });
        let fields = ImageFields {
            registry,
            tag_key: lookup(&entries, "tag").is_some() || lookup(&entries, "version").is_some(),
            tag: field(&["tag", "version"]),
            default_tag: self.global_tag.clone(),
            digest: field(&["digest", "sha"]),
            repository,
        };
        let via = lookup(&entries, "repository")
            .or_else(|| lookup(&entries, "name"))
            .and_then(|e| e.via)
            .or_else(|| value.alias_span());
        out.push(fields.occurrence(via, context));
        true
    }
}

/// A non-empty scalar under `key`, with the merge alias it came through noted as an alias site.
fn field_of(entries: &[Entry<'_, '_>], key: &str, file: &str) -> Option<Scalar> {
    let e = lookup(entries, key)?;
    let mut s = scalar_at(e.value, file)?;
    s.alias_sites = with_via(s.alias_sites, e.via);
    (!s.value.is_empty()).then_some(s)
}

/// The fields of one image setting, composed as `registry/repository:tag@digest`.
struct ImageFields {
    registry: Option<Scalar>,
    repository: Scalar,
    /// A tag key is present (possibly empty: "use the chart's default").
    tag_key: bool,
    tag: Option<Scalar>,
    /// Used when the tag is empty or absent.
    default_tag: Option<Scalar>,
    digest: Option<Scalar>,
}

impl ImageFields {
    fn occurrence(&self, via: Option<Span>, context: Option<String>) -> ImageOccurrence {
        let r = &self.repository;
        ImageOccurrence {
            span: r.span,
            text: r.text.clone(),
            image: self.compose(),
            source: Source::HelmImage,
            form: Form::Composed {
                parts: self.parts(),
            },
            alias_sites: with_via(r.alias_sites.clone(), via),
            context,
            // The span holds only the repository; the reference is assembled from several fields.
            exact: false,
        }
    }

    /// The tag that applies: the written one, else the default when the repository needs one.
    fn effective_tag(&self) -> Option<&Scalar> {
        self.tag.as_ref().or_else(|| {
            let needs_tag = self.digest.is_none() && !is_complete(&self.repository.value);
            self.default_tag.as_ref().filter(|_| needs_tag)
        })
    }

    fn parts(&self) -> Vec<Part> {
        let part = |role, s: &Scalar| Part {
            role,
            span: s.exact.then_some(s.span),
            value: s.value.clone(),
        };
        let mut parts = Vec::new();
        parts.extend(self.registry.iter().map(|r| part(PartRole::Registry, r)));
        parts.push(part(PartRole::Repository, &self.repository));
        if let Some(t) = self.effective_tag() {
            // `version: sha256:…` (a form Dependabot accepts) is a digest.
            let role = if is_digest(&t.value) {
                PartRole::Digest
            } else {
                PartRole::Tag
            };
            parts.push(part(role, t));
        }
        parts.extend(self.digest.iter().map(|d| part(PartRole::Digest, d)));
        parts
    }

    fn compose(&self) -> Result<String, Unresolved> {
        let tag = self.effective_tag();
        let scalars = [self.registry.as_ref(), Some(&self.repository), tag]
            .into_iter()
            .chain([self.digest.as_ref()])
            .flatten();
        if scalars.clone().any(|s| s.templated) {
            return Err(Unresolved::new(TEMPLATE_REASON));
        }
        if let Some(reason) = scalars.clone().find_map(|s| placeholder_reason(&s.value)) {
            return Err(Unresolved::new(reason));
        }
        let mut image = String::new();
        if let Some(r) = &self.registry {
            image.push_str(r.value.trim_end_matches('/'));
            image.push('/');
        }
        image.push_str(&self.repository.value);
        let tag_value = tag.map(|t| t.value.as_str()).unwrap_or_default();
        let digest = match &self.digest {
            Some(d) => Some(d.value.as_str()),
            None => is_digest(tag_value).then_some(tag_value),
        };
        if !tag_value.is_empty() && !is_digest(tag_value) {
            image.push(':');
            image.push_str(tag_value);
        } else if digest.is_none() && !is_complete(&self.repository.value) {
            return Err(Unresolved::new(if self.tag_key {
                "empty tag: the chart's appVersion is used"
            } else {
                "no tag: the chart's appVersion (or the template's default) is used"
            }));
        }
        if let Some(d) = digest {
            image.push('@');
            // Some charts (connaisseur) write the bare hex of a sha256 digest.
            if !d.contains(':') && d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()) {
                image.push_str("sha256:");
            }
            image.push_str(d);
        }
        Ok(image)
    }
}

/// `image`, a key ending in `image`/`Image` (`initImage`, `sidecar_image`), or an
/// `imageOverride` (OpenTelemetry demo chart).
fn is_image_key(key: &str) -> bool {
    key.ends_with("image") || key.ends_with("Image") || key.ends_with("imageOverride")
}

/// A string that may be a reference: not a boolean, number or sentence.
fn looks_like_image_string(node: NodeRef<'_, '_>) -> bool {
    let Some(v) = node.as_str() else {
        return false;
    };
    if v.contains("{{") {
        return true;
    }
    let plain = node.style() == Some(Style::Plain);
    let keyword = matches!(
        v,
        "true" | "false" | "True" | "False" | "TRUE" | "FALSE" | "yes" | "no" | "on" | "off"
    );
    !(v.trim().is_empty()
        || v.chars().any(char::is_whitespace)
        || (plain && (keyword || v.parse::<f64>().is_ok())))
}

/// True when the first path component of `repository` is a registry host.
fn names_registry(repository: &str) -> bool {
    repository
        .split_once('/')
        .is_some_and(|(first, _)| first.contains(['.', ':']) || first == "localhost")
}

/// True when a repository string already carries a tag or digest.
fn is_complete(repository: &str) -> bool {
    repository.contains('@')
        || repository
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'))
}

fn is_digest(value: &str) -> bool {
    value.split_once(':').is_some_and(|(alg, hex)| {
        matches!(alg, "sha256" | "sha384" | "sha512") && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus as corpus;

    #[test]
    fn corpus() {
        corpus::check_all("helm", extract);
    }

    /// Expectations checked by reading the corpus files.
    #[test]
    fn corpus_expectations() {
        let Some(src) = corpus::file("helm/argoproj__argo-helm/charts/argo-cd/values.yaml") else {
            return;
        };
        let out = run(&src);
        let by_context = |out: &Extraction, c: &str| {
            out.images
                .iter()
                .find(|o| o.context.as_deref() == Some(c))
                .map(|o| {
                    o.image
                        .clone()
                        .unwrap_or_else(|e| format!("ERR {}", e.reason))
                })
        };
        assert_eq!(
            by_context(&out, "global.image").as_deref(),
            Some("ERR empty tag: the chart's appVersion is used")
        );
        // A string `image:` with its tag in a sibling `tag:`.
        assert_eq!(
            by_context(&out, "redis-ha.exporter.image").as_deref(),
            Some("ghcr.io/oliver006/redis_exporter:v1.75.0")
        );
        // `repository: ""` (inherit global.image) is not a reference.
        assert_eq!(out.images.len(), 8);

        if let Some(src) = corpus::file("helm/bitnami__charts/bitnami/airflow/values.yaml") {
            let out = run(&src);
            assert_eq!(
                by_context(&out, "image").as_deref(),
                Some("docker.io/bitnami/airflow:3.0.5-debian-12-r0")
            );
            assert_eq!(out.images.len(), 2);
        }
        let path = "helm/sse-secure-systems__connaisseur/charts/connaisseur/values.yaml";
        if let Some(src) = corpus::file(path) {
            let out = run(&src);
            let redis = by_context(&out, "kubernetes.redis.image").unwrap();
            assert!(redis.starts_with("redis:7@sha256:83edc2b8"), "{redis}");
        }
        let path = "helm/kubeflow__manifests/experimental/helm/charts/katib/values.yaml";
        if let Some(src) = corpus::file(path) {
            let out = run(&src);
            assert_eq!(
                by_context(&out, "controller.image").as_deref(),
                Some("ghcr.io/kubeflow/katib/katib-controller:v0.19.0")
            );
            // `runtimeConfig: |` holds the Katib config: its collectors and suggestions.
            assert_eq!(
                by_context(&out, "config.runtimeConfig | suggestions[0].image").as_deref(),
                Some("ghcr.io/kubeflow/katib/suggestion-hyperopt:v0.19.0")
            );
        }
        let path = "helm/jaegertracing__jaeger/examples/otel-demo/otel-demo-values.yaml";
        if let Some(src) = corpus::file(path) {
            let out = run(&src);
            let images: Vec<_> = out
                .images
                .iter()
                .filter_map(|o| o.image.clone().ok())
                .collect();
            assert!(images.contains(&"docker.io/valkey/valkey:8.1.3-alpine".to_string()));
            assert!(images.contains(&"docker.io/library/postgres:17.6".to_string()));
        }
        let path = "helm/ratify-project__ratify/deployments/ratify-gatekeeper-provider/templates/deployment.yaml";
        if let Some(src) = corpus::file(path) {
            let out = run(&src);
            assert_eq!(out.images.len(), 1);
            assert_eq!(out.images[0].source, Source::KubernetesContainer);
            assert_eq!(out.diagnostics.len(), 1);
            assert_eq!(out.diagnostics[0].kind, crate::DiagnosticKind::Note);
        }
    }

    #[test]
    fn yaml_in_block_scalars() {
        let src = "operator:\n  config: |\n    collectors:\n      - kind: File\n        image: busybox:1.36\n    sidecar:\n      image:\n        repository: nginx\n        tag: \"1.27\"\n  script: |\n    echo image: not yaml: [\n  notes: |\n    no images here\n  nested: |\n    inner: |\n      image: alpine:3\n";
        let out = run(src);
        let got: Vec<_> = out
            .images
            .iter()
            .map(|o| (o.context.clone().unwrap(), o.text.as_str(), o.exact))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "operator.config | collectors[0].image".into(),
                    "busybox:1.36",
                    true
                ),
                ("operator.config | sidecar.image".into(), "nginx", false),
            ]
        );
        let Form::Composed { parts } = &out.images[1].form else {
            panic!("composed");
        };
        let tag = parts.iter().find(|p| p.role == PartRole::Tag).unwrap();
        assert_eq!(tag.span.unwrap().of(src), "1.27");
        // Folded blocks and quoted strings are not read as YAML.
        let folded = "a:\n  config: >\n    image: busybox:1.36\n";
        assert!(run(folded).images.is_empty());
    }

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

    fn roles(o: &ImageOccurrence) -> Vec<(PartRole, String)> {
        match &o.form {
            Form::Composed { parts } => parts.iter().map(|p| (p.role, p.value.clone())).collect(),
            f => panic!("not composed: {f:?}"),
        }
    }

    const D: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn string_and_map_forms() {
        let src = format!(
            "\
image:
  registry: docker.io
  repository: bitnami/nginx
  tag: 1.27.0-debian-12-r0
  digest: \"\"
  pullPolicy: IfNotPresent
sidecar:
  initImage: busybox:1.36
  sidecarImage: {{repository: quay.io/x/side, tag: 1.10}}
  imageOverride: {{repository: docker.io/valkey/valkey, tag: \"8.1.3-alpine\"}}
  pinned:
    image: {{name: alpine, tag: '3', digest: {D}}}
"
        );
        let out = run(&src);
        assert_eq!(
            found(&out),
            vec![
                (
                    "image".into(),
                    "docker.io/bitnami/nginx:1.27.0-debian-12-r0".into()
                ),
                ("sidecar.initImage".into(), "busybox:1.36".into()),
                ("sidecar.sidecarImage".into(), "quay.io/x/side:1.10".into()),
                (
                    "sidecar.imageOverride".into(),
                    "docker.io/valkey/valkey:8.1.3-alpine".into()
                ),
                ("sidecar.pinned.image".into(), format!("alpine:3@{D}")),
            ]
        );
        let o = &out.images[0];
        assert_eq!(o.text, "bitnami/nginx");
        assert_eq!(o.source, Source::HelmImage);
        assert!(!o.exact);
        assert_eq!(
            roles(o),
            vec![
                (PartRole::Registry, "docker.io".into()),
                (PartRole::Repository, "bitnami/nginx".into()),
                (PartRole::Tag, "1.27.0-debian-12-r0".into()),
            ]
        );
        if let Form::Composed { parts } = &o.form {
            assert_eq!(parts[2].span.unwrap().of(&src), "1.27.0-debian-12-r0");
        }
        let o = &out.images[1];
        assert_eq!(o.form, Form::Literal);
        assert!(o.exact);
        assert_eq!(o.text, "busybox:1.36");
        // A numeric-looking tag keeps its written text.
        assert_eq!(roles(&out.images[2])[1], (PartRole::Tag, "1.10".into()));
        // `images:` (a registry prefix for many images) is not an image setting.
        let out = run("images:\n  repository: gcr.io/x/demo\n  tag: \"\"\n");
        assert!(out.images.is_empty());
    }

    #[test]
    fn empty_and_missing_tags() {
        let src = format!(
            "a:\n  image:\n    repository: x/a\n    tag: \"\"\nb:\n  image:\n    repository: x/b\nc:\n  image:\n    repository: x/c\n    tag:\n    digest: {D}\nd:\n  image:\n    repository: x/d:1.0\n"
        );
        let out = run(&src);
        let f = found(&out);
        assert_eq!(f[0].1, "ERR empty tag: the chart's appVersion is used");
        assert!(f[1].1.starts_with("ERR no tag"));
        assert_eq!(f[2].1, format!("x/c@{D}"));
        assert_eq!(f[3].1, "x/d:1.0");
    }

    #[test]
    fn global_registry() {
        let src = "global:\n  imageRegistry: mirror.example\nimage:\n  repository: app\n  tag: 1\nother:\n  image:\n    registry: own.example\n    repository: o\n    tag: 2\nfull:\n  image:\n    repository: quay.io/f/f\n    tag: 3\n";
        let out = run(src);
        assert_eq!(
            found(&out).into_iter().map(|(_, i)| i).collect::<Vec<_>>(),
            vec!["mirror.example/app:1", "own.example/o:2", "quay.io/f/f:3"]
        );
        assert_eq!(roles(&out.images[0])[0].0, PartRole::Registry);
    }

    #[test]
    fn not_references() {
        let src = "image:\n  pullPolicy: Always\nuseImage: true\nbaseImage: 3\ndescImage: some words here\nimage2: x\n# image: commented:1\nregistry:\n  repository: not-an-image\n";
        let out = run(src);
        assert!(out.images.is_empty(), "{:?}", found(&out));
    }

    #[test]
    fn aliases_and_subcharts() {
        let src = "x-img: &img {repository: shared/img, tag: v1}\npostgresql:\n  primary:\n    image: *img\n  metrics:\n    image: &s redis:7\n  again:\n    image: *s\n";
        let out = run(src);
        assert_eq!(out.images.len(), 2, "{:?}", found(&out));
        let redis = out.images.iter().find(|o| o.text == "redis:7").unwrap();
        assert_eq!(redis.alias_sites.len(), 1);
        assert_eq!(redis.alias_sites[0].of(src), "*s");
        let shared = out.images.iter().find(|o| o.text == "shared/img").unwrap();
        assert_eq!(shared.image, Ok("shared/img:v1".into()));
        assert_eq!(shared.alias_sites[0].of(src), "*img");
    }

    #[test]
    fn templated_values_and_dependabot_version_key() {
        let src = format!(
            "image:\n  repository: \"{{{{ .Values.repo }}}}\"\n  tag: 1\nbar:\n  image:\n    repository: canonical/ubuntu\n    version: '{D}'\nbaz:\n  image:\n    repository: x\n    version: v1.2.3\n"
        );
        let out = run(&src);
        let f = found(&out);
        assert_eq!(f[0].1, format!("ERR {TEMPLATE_REASON}"));
        assert_eq!(f[1].1, format!("canonical/ubuntu@{D}"));
        assert_eq!(f[2].1, "x:v1.2.3");
    }

    #[test]
    fn string_with_sibling_tag_and_global_tag() {
        let src = "global:\n  imageRegistry: ghcr.io/kubeflow/katib\n  imageTag: v0.19.0\nexporter:\n  image: ghcr.io/o/redis_exporter\n  tag: v1.75.0\nold:\n  image: mysql\n  imageTag: \"5.7\"\nside:\n  initImage: busybox\n  initImageTag: '1.36'\ncontroller:\n  image:\n    repository: katib-controller\n    tag: \"\"\nfull:\n  image: a/b:1\n  tag: ignored\n";
        let out = run(src);
        let f: Vec<String> = found(&out).into_iter().map(|(_, i)| i).collect();
        assert_eq!(
            f,
            vec![
                "ghcr.io/o/redis_exporter:v1.75.0",
                "mysql:5.7",
                "busybox:1.36",
                "ghcr.io/kubeflow/katib/katib-controller:v0.19.0",
                "a/b:1",
            ]
        );
        assert_eq!(out.images[0].text, "ghcr.io/o/redis_exporter");
        assert_eq!(
            roles(&out.images[0]),
            vec![
                (PartRole::Repository, "ghcr.io/o/redis_exporter".into()),
                (PartRole::Tag, "v1.75.0".into())
            ]
        );
        assert_eq!(out.images[4].form, Form::Literal);
        if let Form::Composed { parts } = &out.images[3].form {
            assert_eq!(parts[2].span.unwrap().of(src), "v0.19.0");
        }
    }

    #[test]
    fn bare_hex_digest() {
        let hex = "a".repeat(64);
        let src =
            format!("redis:\n  image:\n    repository: redis\n    tag: 7\n    digest: \"{hex}\"\n");
        let out = run(&src);
        assert_eq!(found(&out)[0].1, format!("redis:7@sha256:{hex}"));
    }

    #[test]
    fn chart_template_documents_are_manifests() {
        let src = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  containers:\n  - name: c\n    image: \"{{ .Values.image }}\"\n  - name: d\n    image: busybox:1\n";
        let out = run(src);
        assert_eq!(out.images.len(), 2);
        assert_eq!(out.images[0].source, Source::KubernetesContainer);
        assert!(out.images[0].image.is_err());
    }
}
