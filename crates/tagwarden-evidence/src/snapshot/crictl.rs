//! `crictl images -o json`: a node's image store as the CRI runtime (containerd, CRI-O) sees
//! it; and `crictl ps -a -o json`: the containers on the node.

use serde_json::Value;
use tagwarden_reference::Digest;

use super::{Builder, Seen};
use crate::ImageAction;
use crate::engine::records::is_image_id;
use crate::engine::{string, strings};

pub(super) fn is_crictl(doc: &Value) -> bool {
    let images = doc.get("images").and_then(Value::as_array);
    let containers = doc.get("containers").and_then(Value::as_array);
    images.is_some_and(|images| {
        images.iter().all(|i| {
            i.get("id").is_some() && (i.get("repoTags").is_some() || i.get("repoDigests").is_some())
        })
    }) || containers.is_some_and(|containers| {
        containers
            .iter()
            .all(|c| c.get("id").is_some() && c.get("imageRef").is_some())
    })
}

pub(super) fn read(doc: &Value, out: &mut Builder<'_>) {
    let images = doc.get("images").and_then(Value::as_array);
    for image in images.map(Vec::as_slice).unwrap_or_default() {
        out.present(
            string(image, "id"),
            &strings(image, "repoTags"),
            &strings(image, "repoDigests"),
            "unknown (crictl does not say)",
        );
    }
    let containers = doc.get("containers").and_then(Value::as_array);
    for container in containers.map(Vec::as_slice).unwrap_or_default() {
        read_container(container, out);
    }
}

/// One container of `crictl ps -o json`. `imageRef` is a digest reference with some runtimes
/// and the image ID with others (containerd); only `name@digest` forms give a digest.
fn read_container(c: &Value, out: &mut Builder<'_>) {
    out.records += 1;
    let labels = c.get("labels").unwrap_or(&Value::Null);
    let image_ref = string(c, "imageRef");
    let spec = c.get("image").unwrap_or(&Value::Null);
    let reference = [
        string(spec, "userSpecifiedImage"),
        string(spec, "image"),
        image_ref,
    ]
    .into_iter()
    .find(|i| !i.is_empty() && !is_image_id(i, i));
    let digest = [image_ref, reference.unwrap_or_default()]
        .into_iter()
        .find_map(|r| Digest::parse(r.split_once('@')?.1).ok());
    let container = [
        string(labels, "io.kubernetes.container.name"),
        c.get("metadata")
            .map(|m| string(m, "name"))
            .unwrap_or_default(),
    ]
    .into_iter()
    .find(|n| !n.is_empty())
    .unwrap_or(string(c, "id"));
    let pod = string(labels, "io.kubernetes.pod.name");
    let namespace = string(labels, "io.kubernetes.pod.namespace");
    let job = [namespace, pod, container]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    // CRI times are nanoseconds since the epoch, as a string.
    let timestamp = string(c, "createdAt")
        .parse::<i128>()
        .ok()
        .and_then(|ns| jiff::Timestamp::from_nanosecond(ns).ok())
        .filter(|t| t.as_second() > 0);
    out.push(
        ImageAction::ContainerCreated,
        Seen {
            reference: reference.map(str::to_string),
            digest,
            timestamp,
            job: Some(job.clone()),
            excerpt: format!(
                "container {job} ({}) image {} imageRef {image_ref} state {}",
                string(c, "id"),
                string(spec, "image"),
                string(c, "state")
            ),
            ..Seen::default()
        },
    );
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use crate::{ImageAction, Observed, SourceKind};
    use tagwarden_reference::Digest;

    #[test]
    fn images_with_digests_and_tags() {
        let a = format!("sha256:{}", "a".repeat(64));
        let text = format!(
            r#"{{"images": [
  {{"id": "sha256:{}", "repoTags": ["docker.io/checkmarx/kics:latest"],
    "repoDigests": ["docker.io/checkmarx/kics@{a}"], "size": "123", "uid": null,
    "username": "", "spec": null, "pinned": false}},
  {{"id": "sha256:{}", "repoTags": ["registry.k8s.io/pause:3.10"], "repoDigests": [],
    "size": "1", "pinned": true}},
  {{"id": "sha256:{}", "repoTags": null, "repoDigests": null}}
]}}"#,
            "1".repeat(64),
            "2".repeat(64),
            "3".repeat(64)
        );
        let parsed = parse("crictl.json", &text).unwrap();
        assert_eq!(parsed.kind, SourceKind::CrictlSnapshot);
        assert_eq!(parsed.records, 3);
        let observed: Vec<_> = parsed.evidence.iter().map(|e| e.observed.clone()).collect();
        assert_eq!(
            observed,
            [
                Observed::Image {
                    action: ImageAction::Present,
                    reference: Some("docker.io/checkmarx/kics".into()),
                    digest: Some(Digest::parse(&a).unwrap()),
                },
                Observed::Image {
                    action: ImageAction::Present,
                    reference: Some("registry.k8s.io/pause:3.10".into()),
                    digest: None,
                },
            ]
        );
        assert!(
            parsed
                .evidence
                .iter()
                .all(|e| e.source == SourceKind::CrictlSnapshot)
        );
    }

    #[test]
    fn containers_from_crictl_ps() {
        let a = format!("sha256:{}", "a".repeat(64));
        let text = format!(
            r#"{{"containers": [
  {{"id": "1f73f2d81bf98", "podSandboxId": "9a", "metadata": {{"name": "kics", "attempt": 0}},
    "image": {{"image": "docker.io/checkmarx/kics:latest", "annotations": {{}}}},
    "imageRef": "docker.io/checkmarx/kics@{a}", "state": "CONTAINER_RUNNING",
    "createdAt": "1776852000123456789",
    "labels": {{"io.kubernetes.container.name": "kics", "io.kubernetes.pod.name": "scan-1",
               "io.kubernetes.pod.namespace": "ci"}}}},
  {{"id": "2b", "metadata": {{"name": "other"}}, "image": {{"image": "sha256:{id}"}},
    "imageRef": "sha256:{id}", "state": "CONTAINER_EXITED", "createdAt": "0", "labels": {{}}}}
]}}"#,
            id = "1".repeat(64)
        );
        let parsed = parse("ps.json", &text).unwrap();
        assert_eq!(parsed.kind, SourceKind::CrictlSnapshot);
        let e = &parsed.evidence;
        assert_eq!(e.len(), 2);
        assert_eq!(
            e[0].observed,
            Observed::Image {
                action: ImageAction::ContainerCreated,
                reference: Some("docker.io/checkmarx/kics:latest".into()),
                digest: Some(Digest::parse(&a).unwrap()),
            }
        );
        assert_eq!(e[0].job.as_deref(), Some("ci/scan-1/kics"));
        assert_eq!(
            e[0].timestamp.map(|t| t.to_string()).as_deref(),
            Some("2026-04-22T10:00:00.123456789Z")
        );
        // An image ID is neither a reference nor a digest.
        assert_eq!(
            e[1].observed,
            Observed::Image {
                action: ImageAction::ContainerCreated,
                reference: None,
                digest: None,
            }
        );
        assert_eq!((e[1].job.as_deref(), e[1].timestamp), (Some("other"), None));
    }
}
