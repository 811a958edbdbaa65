//! `kubectl get pods -A -o json` (a `List` of Pods) or `kubectl get pod NAME -o json` (one Pod).
//!
//! Each container status says which image the node resolved (`imageID`, with the manifest
//! digest) for which reference (`image`), on which node and since when. Containers without a
//! resolved image (pending, pulling) are reported as [`ImageAction::Referenced`] from the spec.

use serde_json::Value;
use tagwarden_reference::Digest;

use super::{Builder, Seen, parse_time};
use crate::ImageAction;
use crate::engine::records::is_image_id;
use crate::engine::string;

pub(super) fn is_kubectl(doc: &Value) -> bool {
    let kind = string(doc, "kind");
    let is_object = |v: &Value| v.get("apiVersion").is_some() && v.get("kind").is_some();
    kind == "Pod" && doc.get("spec").is_some()
        || matches!(kind, "List" | "PodList")
            && doc
                .get("items")
                .and_then(Value::as_array)
                .is_some_and(|items| items.iter().all(is_object) || kind == "PodList")
}

/// The status fields that hold container statuses, and the spec fields that list containers.
const STATUSES: [(&str, &str); 3] = [
    ("initContainerStatuses", "initContainers"),
    ("containerStatuses", "containers"),
    ("ephemeralContainerStatuses", "ephemeralContainers"),
];

pub(super) fn read(doc: &Value, out: &mut Builder<'_>) {
    let items: Vec<&Value> = if string(doc, "kind") == "Pod" {
        vec![doc]
    } else {
        let items = doc.get("items").and_then(Value::as_array);
        items.map(|a| a.iter().collect()).unwrap_or_default()
    };
    let mut other_kinds: Vec<&str> = Vec::new();
    let mut pods = 0;
    for item in &items {
        // A List from `kubectl get all` also holds services, deployments and the like.
        let kind = string(item, "kind");
        if !kind.is_empty() && kind != "Pod" {
            if !other_kinds.contains(&kind) {
                other_kinds.push(kind);
            }
            continue;
        }
        pods += 1;
        read_pod(item, out);
    }
    if pods == 0 && !other_kinds.is_empty() {
        out.problems.push(format!(
            "a kubectl List without Pods (it holds {}); use `kubectl get pods -A -o json`",
            other_kinds.join(", ")
        ));
    }
}

fn read_pod(pod: &Value, out: &mut Builder<'_>) {
    let meta = pod.get("metadata").unwrap_or(&Value::Null);
    let namespace = string(meta, "namespace");
    let name = string(meta, "name");
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let status = pod.get("status").unwrap_or(&Value::Null);
    let node = Some(string(spec, "nodeName"))
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let pod_started = status.get("startTime").and_then(Value::as_str);
    let job = |container: &str| {
        if namespace.is_empty() {
            format!("{name}/{container}")
        } else {
            format!("{namespace}/{name}/{container}")
        }
    };

    for (status_field, spec_field) in STATUSES {
        let specs = spec.get(spec_field).and_then(Value::as_array);
        let specs: &[Value] = specs.map(Vec::as_slice).unwrap_or_default();
        let statuses = status.get(status_field).and_then(Value::as_array);
        let statuses: &[Value] = statuses.map(Vec::as_slice).unwrap_or_default();

        for s in statuses {
            out.records += 1;
            let container = string(s, "name");
            let spec_image = specs
                .iter()
                .find(|c| string(c, "name") == container)
                .map(|c| string(c, "image"))
                .unwrap_or_default();
            let image_id = string(s, "imageID");
            let mut image = string(s, "image");
            // Some runtimes put the image ID in `image`; the spec has the reference then.
            if image.is_empty() || is_image_id(image, image_id) {
                image = spec_image;
            }
            let digest = digest_of(image_id, image, out, &job(container));
            let started = ["running", "terminated"]
                .iter()
                .find_map(|st| s.get("state")?.get(st)?.get("startedAt")?.as_str())
                .or_else(|| {
                    s.get("lastState")?
                        .get("terminated")?
                        .get("startedAt")?
                        .as_str()
                })
                .or(pod_started);
            let action = if image_id.is_empty() {
                ImageAction::Referenced
            } else {
                ImageAction::ContainerCreated
            };
            out.push(
                action,
                Seen {
                    reference: Some(image.to_string()).filter(|i| !i.is_empty()),
                    digest,
                    timestamp: (action == ImageAction::ContainerCreated)
                        .then(|| started.and_then(parse_time))
                        .flatten(),
                    host: node.clone(),
                    job: Some(job(container)),
                    excerpt: format!(
                        "pod {} container {container} image {} imageID {image_id}",
                        job("").trim_end_matches('/'),
                        string(s, "image")
                    ),
                    ..Seen::default()
                },
            );
        }

        // Containers the pod lists but has no status for yet.
        for c in specs {
            let container = string(c, "name");
            if statuses.iter().any(|s| string(s, "name") == container) {
                continue;
            }
            out.records += 1;
            let image = string(c, "image");
            if image.is_empty() {
                continue;
            }
            let digest = digest_of("", image, out, &job(container));
            out.push(
                ImageAction::Referenced,
                Seen {
                    reference: Some(image.to_string()),
                    digest,
                    host: node.clone(),
                    job: Some(job(container)),
                    excerpt: format!(
                        "pod {} {spec_field} {container} image {image} (no status yet)",
                        job("").trim_end_matches('/')
                    ),
                    ..Seen::default()
                },
            );
        }
    }
}

/// Who owns each pod of a `kubectl get pods -o json` document, keyed `namespace/pod` (or `pod`
/// without a namespace): the controller among its `ownerReferences` (else the first), as
/// `(kind, name)`. What `purge` tells the user to roll.
pub(super) fn owners(doc: &Value) -> Vec<(String, String, String)> {
    if !is_kubectl(doc) {
        return Vec::new();
    }
    let items: Vec<&Value> = if string(doc, "kind") == "Pod" {
        vec![doc]
    } else {
        let items = doc.get("items").and_then(Value::as_array);
        items.map(|a| a.iter().collect()).unwrap_or_default()
    };
    let mut out = Vec::new();
    for pod in items {
        let meta = pod.get("metadata").unwrap_or(&Value::Null);
        let refs = meta.get("ownerReferences").and_then(Value::as_array);
        let refs: &[Value] = refs.map(Vec::as_slice).unwrap_or_default();
        let owner = refs
            .iter()
            .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
            .or_else(|| refs.first());
        let Some(owner) = owner else { continue };
        let (namespace, name) = (string(meta, "namespace"), string(meta, "name"));
        let key = if namespace.is_empty() {
            name.to_string()
        } else {
            format!("{namespace}/{name}")
        };
        out.push((
            key,
            string(owner, "kind").to_string(),
            string(owner, "name").to_string(),
        ));
    }
    out
}

/// The manifest digest of a container: from `imageID` when it is `name@digest` (with or without
/// a `docker-pullable://` scheme), else from a pinned `image`. A bare `sha256:…` imageID is an
/// image (config) ID, never reported as a digest.
fn digest_of(image_id: &str, image: &str, out: &mut Builder<'_>, job: &str) -> Option<Digest> {
    let id = image_id
        .split_once("://")
        .map_or(image_id, |(_, rest)| rest);
    let written = id
        .split_once('@')
        .or_else(|| image.split_once('@'))
        .map(|(_, d)| d)?;
    match Digest::parse(written) {
        Ok(d) => Some(d),
        Err(e) => {
            out.problems
                .push(format!("{job}: unreadable digest {written:?}: {e:?}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use crate::{ImageAction, Observed, SourceKind};

    fn a() -> String {
        format!("sha256:{}", "a".repeat(64))
    }

    fn sample() -> String {
        let a = a();
        let id = format!("sha256:{}", "1".repeat(64));
        format!(
            r#"{{
  "apiVersion": "v1", "kind": "List", "metadata": {{"resourceVersion": ""}},
  "items": [
    {{"apiVersion": "v1", "kind": "Pod",
      "metadata": {{"name": "scan-7f9", "namespace": "ci"}},
      "spec": {{"nodeName": "node-a",
               "initContainers": [{{"name": "fetch", "image": "alpine:3.20"}}],
               "containers": [{{"name": "kics", "image": "checkmarx/kics:latest"}},
                              {{"name": "sidecar", "image": "busybox"}}]}},
      "status": {{"startTime": "2026-04-22T09:59:00Z",
        "initContainerStatuses": [{{"name": "fetch", "image": "docker.io/library/alpine:3.20",
            "imageID": "{id}",
            "state": {{"terminated": {{"startedAt": "2026-04-22T09:59:10Z", "exitCode": 0}}}}}}],
        "containerStatuses": [
          {{"name": "kics", "image": "docker.io/checkmarx/kics:latest",
            "imageID": "docker-pullable://checkmarx/kics@{a}",
            "state": {{"running": {{"startedAt": "2026-04-22T10:00:00Z"}}}}}},
          {{"name": "sidecar", "image": "busybox", "imageID": "",
            "state": {{"waiting": {{"reason": "ImagePullBackOff"}}}}}}],
        "ephemeralContainerStatuses": [{{"name": "debugger", "image": "docker.io/checkmarx/kics@{a}",
            "imageID": "docker.io/checkmarx/kics@{a}", "state": {{"waiting": {{}}}}}}]}}}},
    {{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "pending", "namespace": "ci"}},
      "spec": {{"containers": [{{"name": "c", "image": "checkmarx/kics@{a}"}}]}},
      "status": {{"phase": "Pending"}}}},
    {{"apiVersion": "v1", "kind": "Service", "metadata": {{"name": "svc"}}, "spec": {{}}}}
  ]
}}"#
        )
    }

    #[test]
    fn pods_containers_and_digests() {
        let parsed = parse("pods.json", &sample()).unwrap();
        assert_eq!(parsed.kind, SourceKind::KubectlSnapshot);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let a = tagwarden_reference::Digest::parse(&a()).unwrap();
        let rows: Vec<_> = parsed
            .evidence
            .iter()
            .map(|e| {
                let Observed::Image {
                    action,
                    reference,
                    digest,
                } = &e.observed
                else {
                    panic!()
                };
                (
                    *action,
                    reference.clone().unwrap_or_default(),
                    digest.clone(),
                    e.job.clone().unwrap_or_default(),
                    e.host.clone(),
                    e.timestamp.map(|t| t.to_string()),
                )
            })
            .collect();
        let node = Some("node-a".to_string());
        assert_eq!(
            rows,
            [
                (
                    ImageAction::ContainerCreated,
                    "docker.io/library/alpine:3.20".into(),
                    None,
                    "ci/scan-7f9/fetch".into(),
                    node.clone(),
                    Some("2026-04-22T09:59:10Z".into())
                ),
                (
                    ImageAction::ContainerCreated,
                    "docker.io/checkmarx/kics:latest".into(),
                    Some(a.clone()),
                    "ci/scan-7f9/kics".into(),
                    node.clone(),
                    Some("2026-04-22T10:00:00Z".into())
                ),
                (
                    ImageAction::Referenced,
                    "busybox".into(),
                    None,
                    "ci/scan-7f9/sidecar".into(),
                    node.clone(),
                    None
                ),
                (
                    ImageAction::ContainerCreated,
                    format!("docker.io/checkmarx/kics@{}", a),
                    Some(a.clone()),
                    "ci/scan-7f9/debugger".into(),
                    node,
                    Some("2026-04-22T09:59:00Z".into())
                ),
                (
                    ImageAction::Referenced,
                    format!("checkmarx/kics@{}", a),
                    Some(a),
                    "ci/pending/c".into(),
                    None,
                    None
                ),
            ]
        );
        assert_eq!(parsed.records, 5);
    }

    #[test]
    fn a_single_pod_and_a_bad_digest() {
        let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"d"},
            "spec":{"containers":[{"name":"c","image":"x"}]},
            "status":{"containerStatuses":[{"name":"c","image":"x","imageID":"x@sha256:zz"}]}}"#;
        let parsed = parse("pod.json", pod).unwrap();
        assert_eq!(parsed.kind, SourceKind::KubectlSnapshot);
        assert_eq!(parsed.evidence.len(), 1);
        assert_eq!(parsed.problems.len(), 1);
        assert!(parsed.problems[0].starts_with("d/p/c: unreadable digest"));

        let deployments = r#"{"apiVersion":"v1","kind":"List","items":[
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"}}]}"#;
        let parsed = parse("deploy.json", deployments).unwrap();
        assert!(parsed.evidence.is_empty());
        assert!(parsed.problems[0].contains("without Pods (it holds Deployment)"));
    }
}
