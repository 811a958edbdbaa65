//! Kubernetes manifests: the images of every container of every pod spec.
//!
//! Pod specs are found by shape, not by kind: any mapping with a `containers` sequence whose items
//! are mappings with an `image`. That covers Pods, every built-in workload (`spec.template.spec`,
//! CronJob's `spec.jobTemplate.spec.template.spec`, PodTemplate's `template.spec`), `List` kinds and
//! CRDs that embed a pod template (Argo Rollouts, Knative, …) without a table of kinds. A pod spec
//! also yields `initContainers`, `ephemeralContainers` and image volumes (`volumes[].image`).
//!
//! Objects with more to read than pod specs have modules of their own: Tekton ([`tekton`]: steps,
//! bundles and step scripts), Argo Workflows ([`argo`]: templates and their scripts), and a
//! `kind: Kustomization` document, read as a kustomization ([`kustomize`]).
//!
//! No other `image` key is read: ConfigMap/Secret data, annotations and comments are not
//! references. Values with placeholders (`${X}`, `$(X)`, `<X>`, `ko://…`, `{{ … }}`) are reported
//! unresolved.

mod argo;
pub mod kustomize;
mod tekton;

use crate::read::yaml::{
    Entry, Found, NodeKind, NodeRef, Scalar, for_each_document, literal_occurrence, lookup,
    merged_entries, scalar_at, str_of,
};
use crate::{Extraction, Source, Span};
use argo::{ARGO_WORKFLOW_KINDS, Argo};
use tekton::{is_tekton_api, param_scope, with_params};

/// Finds the container images of a Kubernetes manifest (one or many documents).
pub fn extract(text: &str) -> Extraction {
    let mut out = Found::default();
    for_each_document(text, &mut out, |doc, file, out| {
        walk_document(doc, file, out);
    });
    out.finish()
}

/// Extracts from one parsed Kubernetes document (also used for chart templates met as Helm files).
pub(crate) fn walk_document(doc: NodeRef<'_, '_>, file: &str, out: &mut Found) {
    let entries = merged_entries(doc);
    if str_of(&entries, "kind") == Some("Kustomization") {
        kustomize::extract_kustomization(doc, file, out);
        return;
    }
    let api = str_of(&entries, "apiVersion").unwrap_or_default();
    let kind = str_of(&entries, "kind").unwrap_or_default();
    if api.starts_with("argoproj.io/") && ARGO_WORKFLOW_KINDS.contains(&kind) {
        Argo { file }.workflow(&entries, kind, out);
        return;
    }
    let tekton = is_tekton_api(api);
    let manifest = Manifest { file, tekton };
    if tekton && kind == "StepAction" {
        manifest.report_step_action(&entries, out);
        return;
    }
    manifest.walk(doc, &[], "", out);
}

/// Container-list keys of a pod spec and the source each one reports as.
const CONTAINER_LISTS: &[(&str, Source)] = &[
    ("containers", Source::KubernetesContainer),
    ("initContainers", Source::KubernetesInitContainer),
    ("ephemeralContainers", Source::KubernetesEphemeralContainer),
];

/// Keys whose subtree never holds a pod spec; skipping them also skips their strings.
const SKIPPED_KEYS: &[&str] = &["metadata", "status"];

struct Manifest<'f> {
    file: &'f str,
    /// A `tekton.dev` object: task steps and sidecars are containers too.
    tekton: bool,
}

impl Manifest<'_> {
    /// Walks a document once; alias nodes are not entered, so an anchored subtree is seen once.
    /// `scope` holds the Tekton parameters an embedded spec receives from its run or pipeline;
    /// `parent` is the key the node is under (items of a list: the list's key).
    fn walk(
        &self,
        node: NodeRef<'_, '_>,
        scope: &[(String, Option<Scalar>)],
        parent: &str,
        out: &mut Found,
    ) {
        match node.kind() {
            NodeKind::Mapping(_) => {
                let entries = merged_entries(node);
                // A `List` or a Triggers template may hold Tekton objects.
                let tekton = self.tekton
                    || str_of(&entries, "apiVersion").is_some_and(|a| a.starts_with("tekton.dev/"));
                let this = Manifest {
                    file: self.file,
                    tekton,
                };
                this.report_pod_spec(&entries, out);
                let here = if tekton {
                    let here = param_scope(&entries, scope, self.file);
                    this.report_task_spec(&entries, &here, out);
                    // A pipeline task's or a step's own `params` go to the task or StepAction, not
                    // to its resolver: those read the enclosing pipeline's or task's parameters.
                    let ref_scope = if matches!(parent, "tasks" | "finally" | "steps") {
                        scope
                    } else {
                        &here
                    };
                    this.report_refs(&entries, ref_scope, parent, out);
                    here
                } else {
                    Vec::new()
                };
                let holds_data = matches!(str_of(&entries, "kind"), Some("ConfigMap" | "Secret"));
                for (k, v) in node.own_entries() {
                    let key = k.as_str().unwrap_or_default();
                    let skipped = SKIPPED_KEYS.contains(&key)
                        || (holds_data && matches!(key, "data" | "stringData" | "binaryData"));
                    if !v.is_alias() && !skipped {
                        this.walk(v, &here, key, out);
                    }
                }
            }
            NodeKind::Sequence(_) => {
                for item in node.items() {
                    if !item.is_alias() {
                        self.walk(item, scope, parent, out);
                    }
                }
            }
            NodeKind::Scalar { .. } | NodeKind::Alias(_) => {}
        }
    }

    /// A pod spec: a mapping whose `containers` are mappings with an `image`.
    fn report_pod_spec(&self, entries: &[Entry<'_, '_>], out: &mut Found) {
        let is_pod_spec = lookup(entries, "containers")
            .is_some_and(|e| e.value.items().iter().any(has_image_key));
        if !is_pod_spec {
            return;
        }
        for (key, source) in CONTAINER_LISTS {
            if let Some(e) = lookup(entries, key) {
                self.report_containers(e, *source, &[], out);
            }
        }
        if let Some(e) = lookup(entries, "volumes") {
            self.report_image_volumes(e, out);
        }
    }

    fn report_containers(
        &self,
        list: &Entry<'_, '_>,
        source: Source,
        params: &[(String, Scalar)],
        out: &mut Found,
    ) {
        // A list reused through an alias is reported once, at its anchor (alias bombs stay cheap).
        if !out.first_visit(list.value) {
            return;
        }
        for item in list.value.items() {
            let via = list.via.or_else(|| item.alias_span());
            self.report_container(item, via, source, params, out);
        }
    }

    /// Reports `image` of one container mapping; `via` is the alias it was reached through.
    fn report_container(
        &self,
        container: NodeRef<'_, '_>,
        via: Option<Span>,
        source: Source,
        params: &[(String, Scalar)],
        out: &mut Found,
    ) {
        if !container.is_mapping() {
            return;
        }
        let entries = merged_entries(container);
        let Some(image) = lookup(&entries, "image") else {
            return;
        };
        let context = lookup(&entries, "name")
            .and_then(|e| scalar_at(e.value, self.file))
            .map(|s| s.value);
        let via = via.or(image.via);
        let occ = literal_occurrence(image.value, via, source, context, self.file)
            .map(|o| with_params(o, params));
        if let Some(occ) = occ {
            out.push(occ);
        }
    }

    /// `volumes[].image.reference`: OCI image volumes (Kubernetes 1.31+).
    fn report_image_volumes(&self, volumes: &Entry<'_, '_>, out: &mut Found) {
        for volume in volumes.value.items() {
            let entries = merged_entries(volume);
            let Some(image) = lookup(&entries, "image") else {
                continue;
            };
            let Some(reference) = lookup(&merged_entries(image.value), "reference").copied() else {
                continue;
            };
            let context = lookup(&entries, "name")
                .and_then(|e| scalar_at(e.value, self.file))
                .map(|s| format!("volume {}", s.value));
            let via = volumes.via.or(image.via).or(reference.via);
            let source = Source::KubernetesContainer;
            if let Some(occ) = literal_occurrence(reference.value, via, source, context, self.file)
            {
                out.push(occ);
            }
        }
    }
}

fn has_image_key(item: &NodeRef<'_, '_>) -> bool {
    item.is_mapping() && lookup(&merged_entries(*item), "image").is_some()
}

#[cfg(test)]
mod tests;
