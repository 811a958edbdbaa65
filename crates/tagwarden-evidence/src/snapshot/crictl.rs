//! `crictl images -o json`: a node's image store as the CRI runtime (containerd, CRI-O) sees it.

use serde_json::Value;

use super::Builder;
use crate::engine::{string, strings};

pub(super) fn is_crictl(doc: &Value) -> bool {
    doc.get("images")
        .and_then(Value::as_array)
        .is_some_and(|images| {
            images.iter().all(|i| {
                i.get("id").is_some()
                    && (i.get("repoTags").is_some() || i.get("repoDigests").is_some())
            })
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
        assert_eq!(parsed.kind, Some(SourceKind::CrictlSnapshot));
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
}
