//! Kustomize: the `images:` overrides of a `kustomization.yaml` (also `kind: Component`, and
//! `spec.images` of a Flux `Kustomization`).
//!
//! Each entry `{name, newName, newTag, digest}` names the image kustomize writes into the resources:
//! `(newName or name)[:newTag][@digest]`, reported at `newName` (else `name`) with every field as a
//! [`Part`]. An entry with only `name` changes nothing and is not reported. Without `newTag` or
//! `digest` the tag comes from the resources, which this file does not show: unresolved.
//!
//! Not read: inline `patches` (their YAML is inside a string), `helmCharts`, `replacements`.

use crate::read::placeholder::{TEMPLATE_REASON, placeholder_reason};
use crate::read::yaml::{
    Entry, Found, NodeRef, Scalar, for_each_document, lookup, merged_entries, scalar_at, str_of,
    with_via,
};
use crate::{Extraction, Form, ImageOccurrence, Part, PartRole, Source, Unresolved};

/// Finds the image overrides of a kustomization file.
pub fn extract(text: &str) -> Extraction {
    let mut out = Found::default();
    for_each_document(text, &mut out, |doc, file, out| {
        let entries = merged_entries(doc);
        let kind = str_of(&entries, "kind");
        let is_kubernetes_object =
            str_of(&entries, "apiVersion").is_some() && !matches!(kind, Some("Component"));
        if is_kubernetes_object {
            // `kind: Kustomization` comes back here through the Kubernetes walk.
            super::walk_document(doc, file, out);
        } else {
            extract_kustomization(doc, file, out);
        }
    });
    out.finish()
}

/// Reports the `images:` entries of one Kustomization or Component document.
pub(crate) fn extract_kustomization(doc: NodeRef<'_, '_>, file: &str, out: &mut Found) {
    let entries = merged_entries(doc);
    if let Some(images) = lookup(&entries, "images") {
        report_images(images, file, out);
    }
    // Flux's Kustomization CRD carries the same list under `spec`.
    let flux = str_of(&entries, "apiVersion").is_some_and(|v| v.contains("toolkit.fluxcd.io"));
    let spec = lookup(&entries, "spec").filter(|_| flux);
    if let Some(images) = spec.and_then(|s| lookup(&merged_entries(s.value), "images").copied()) {
        report_images(&images, file, out);
    }
}

fn report_images(images: &Entry<'_, '_>, file: &str, out: &mut Found) {
    for item in images.value.items() {
        let via = images.via.or_else(|| item.alias_span());
        let entries = merged_entries(item);
        let field = |key: &str| {
            let e = lookup(&entries, key)?;
            let mut s = scalar_at(e.value, file)?;
            s.alias_sites = with_via(s.alias_sites, e.via);
            (!s.value.is_empty()).then_some(s)
        };
        let name = field("name");
        let image = ImageEntry {
            new_name: field("newName"),
            new_tag: field("newTag"),
            tag_suffix: field("tagSuffix"),
            digest: field("digest"),
        };
        let Some(primary) = image.new_name.as_ref().or(name.as_ref()) else {
            continue;
        };
        if image.new_name.is_none()
            && image.new_tag.is_none()
            && image.digest.is_none()
            && image.tag_suffix.is_none()
        {
            // Only `name`: kustomize changes nothing.
            continue;
        }
        let part = |role, s: &Option<Scalar>| {
            s.as_ref().map(|s| Part {
                role,
                span: s.exact.then_some(s.span),
                value: s.value.clone(),
            })
        };
        let parts = [
            part(PartRole::Name, &name),
            part(PartRole::NewName, &image.new_name),
            part(PartRole::NewTag, &image.new_tag),
            part(PartRole::NewTag, &image.tag_suffix),
            part(PartRole::Digest, &image.digest),
        ]
        .into_iter()
        .flatten()
        .collect();
        out.push(ImageOccurrence {
            span: primary.span,
            text: primary.text.clone(),
            image: image.compose(primary),
            source: Source::KustomizeImage,
            form: Form::Composed { parts },
            alias_sites: with_via(primary.alias_sites.clone(), via),
            context: name.as_ref().map(|s| s.value.clone()),
            // The span holds only the name; the reference is assembled from several fields.
            exact: false,
        });
    }
}

/// The fields of an `images:` entry that change the image.
struct ImageEntry {
    new_name: Option<Scalar>,
    new_tag: Option<Scalar>,
    tag_suffix: Option<Scalar>,
    digest: Option<Scalar>,
}

impl ImageEntry {
    /// `primary[:newTag[tagSuffix]][@digest]`, where `primary` is `newName` or `name`.
    fn compose(&self, primary: &Scalar) -> Result<String, Unresolved> {
        let used = [
            Some(primary),
            self.new_tag.as_ref(),
            self.tag_suffix.as_ref(),
            self.digest.as_ref(),
        ];
        let mut used = used.into_iter().flatten();
        if used.clone().any(|s| s.templated) {
            return Err(Unresolved::new(TEMPLATE_REASON));
        }
        if let Some(reason) = used.find_map(|s| placeholder_reason(&s.value)) {
            return Err(Unresolved::new(reason));
        }
        let mut image = primary.value.clone();
        match (&self.new_tag, &self.tag_suffix, &self.digest) {
            (Some(tag), suffix, _) => {
                image.push(':');
                image.push_str(&tag.value);
                if let Some(s) = suffix {
                    image.push_str(&s.value);
                }
            }
            (None, _, Some(_)) => {}
            (None, Some(_), None) => {
                return Err(Unresolved::new(
                    "tagSuffix without newTag: the tag is the resources' tag plus the suffix",
                ));
            }
            (None, None, None) => {
                return Err(Unresolved::new(
                    "no newTag or digest: the tag is kept from the image in the resources",
                ));
            }
        }
        if let Some(d) = &self.digest {
            image.push('@');
            image.push_str(&d.value);
        }
        Ok(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_corpus as corpus;

    #[test]
    fn corpus() {
        corpus::check_all("kustomize", extract);
    }

    /// Expectations checked by reading the corpus files.
    #[test]
    fn corpus_expectations() {
        let path = "kustomize/kubernetes-sigs__kustomize/examples/transformerconfigs/images/kustomization.yaml";
        let Some(src) = corpus::file(path) else {
            return;
        };
        let out = run(&src);
        let images: Vec<_> = out
            .images
            .iter()
            .map(|o| o.image.clone().unwrap())
            .collect();
        assert_eq!(
            images,
            vec![
                "new-crd-image:new-v1-tag",
                "new-app-1:MYNEWTAG-1",
                "prod-mysql:v3",
                "my-docker2@sha256:25a0d4"
            ]
        );
        let path = "kustomize/GoogleCloudPlatform__microservices-demo/kustomize/components/container-images-registry/kustomization.yaml";
        if let Some(src) = corpus::file(path) {
            let out = run(&src);
            assert_eq!(out.images.len(), 12);
            assert!(out.images.iter().all(|o| o.image.is_err()));
            assert_eq!(out.images[11].text, "CONTAINER_IMAGES_REGISTRY/redis");
        }
        let path = "kustomize/kubeflow__manifests/applications/training-operator/upstream/v2/overlays/standalone/kustomization.yaml";
        if let Some(src) = corpus::file(path) {
            let out = run(&src);
            assert_eq!(
                out.images[0].image,
                Ok("kubeflow/training-operator-v2:latest".into())
            );
        }
    }

    fn run(src: &str) -> Extraction {
        let out = extract(src);
        for o in &out.images {
            assert_eq!(o.text, o.span.of(src), "span/text invariant");
        }
        out
    }

    fn parts(o: &ImageOccurrence) -> Vec<(PartRole, String)> {
        match &o.form {
            Form::Composed { parts } => parts.iter().map(|p| (p.role, p.value.clone())).collect(),
            f => panic!("not composed: {f:?}"),
        }
    }

    const D: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn entries() {
        let src = format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n\
- name: nginx\n  newTag: 1.27\n\
- name: app\n  newName: registry.example/team/app\n  newTag: \"v2\"\n\
- {{name: db, newName: postgres, digest: {D}}}\n\
- name: unchanged\n\
- name: renamed\n  newName: other/renamed\n"
        );
        let out = run(&src);
        assert_eq!(out.images.len(), 4);
        let o = &out.images[0];
        assert_eq!(o.image, Ok("nginx:1.27".into()));
        assert_eq!(o.text, "nginx");
        assert_eq!(o.source, Source::KustomizeImage);
        assert!(!o.exact);
        assert_eq!(
            parts(o),
            vec![
                (PartRole::Name, "nginx".into()),
                (PartRole::NewTag, "1.27".into())
            ]
        );
        if let Form::Composed { parts } = &o.form {
            assert_eq!(parts[1].span.unwrap().of(&src), "1.27");
        }
        let o = &out.images[1];
        assert_eq!(o.image, Ok("registry.example/team/app:v2".into()));
        assert_eq!(o.text, "registry.example/team/app");
        assert_eq!(o.context.as_deref(), Some("app"));
        let o = &out.images[2];
        assert_eq!(o.image, Ok(format!("postgres@{D}")));
        assert_eq!(o.text, "postgres");
        assert_eq!(parts(o).last().unwrap().0, PartRole::Digest);
        let o = &out.images[3];
        assert!(o.image.as_ref().unwrap_err().reason.contains("kept"));
        assert_eq!(o.text, "other/renamed");
    }

    #[test]
    fn tag_and_digest_and_no_kind() {
        let src = format!("images:\n- name: a\n  newTag: '1'\n  digest: {D}\n");
        let out = run(&src);
        assert_eq!(out.images[0].image, Ok(format!("a:1@{D}")));
    }

    #[test]
    fn flux_spec_images_and_component() {
        let src = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n  images:\n  - name: podinfo\n    newName: ghcr.io/stefanprodan/podinfo\n    newTag: 6.5.0\n---\napiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nimages:\n- name: x\n  tagSuffix: -rc\n";
        let out = run(src);
        assert_eq!(out.images.len(), 2);
        assert_eq!(
            out.images[0].image,
            Ok("ghcr.io/stefanprodan/podinfo:6.5.0".into())
        );
        assert!(out.images[1].image.is_err());
    }

    #[test]
    fn aliases_and_placeholders() {
        let src = "x-tag: &t v1\nimages:\n- name: a\n  newTag: *t\n- name: b\n  newTag: ${TAG}\n";
        let out = run(src);
        assert_eq!(out.images[0].image, Ok("a:v1".into()));
        if let Form::Composed { parts } = &out.images[0].form {
            assert_eq!(parts[1].span.unwrap().of(src), "v1");
        }
        assert!(out.images[1].image.is_err());
    }

    #[test]
    fn kubernetes_objects_in_a_kustomize_file() {
        let src = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: a:1\n";
        let out = run(src);
        assert_eq!(out.images[0].source, Source::KubernetesContainer);
    }

    #[test]
    fn parse_error_is_a_diagnostic() {
        let out = run("images:\n- name: a\n  newTag: '1\n");
        assert_eq!(out.diagnostics.len(), 1);
    }
}
