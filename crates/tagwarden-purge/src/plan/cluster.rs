//! Snapshots: pods running a malicious digest (with the workload that owns them, to roll) and
//! node or host image stores holding one. Nothing here can be done from afar: each is a step
//! left to the user, with what to do.

use tagwarden_evidence::snapshot;
use tagwarden_evidence::{ImageAction, Observed, SourceKind};

use super::{Malicious, Plan};
use crate::targets::{Action, Owner, State, Step, Target};

pub(super) fn plan(name: &str, text: &str, malicious: &Malicious, plan: &mut Plan) {
    let parsed = match snapshot::parse(name, text) {
        Ok(parsed) => parsed,
        Err(e) => {
            plan.problems.push(format!("{name}: {e}"));
            return;
        }
    };
    for p in &parsed.problems {
        plan.problems.push(format!("{name}: {p}"));
    }
    let owners = if parsed.kind == SourceKind::KubectlSnapshot {
        snapshot::kubectl_owners(text)
    } else {
        Vec::new()
    };
    let mut seen = std::collections::BTreeSet::new();
    for e in &parsed.evidence {
        let Observed::Image {
            action,
            reference,
            digest: Some(digest),
        } = &e.observed
        else {
            continue;
        };
        if !malicious.contains(digest) {
            continue;
        }
        // A container not started yet whose spec pins the digest runs it once it is scheduled.
        let pending = *action == ImageAction::Referenced;
        let why = malicious.why(digest);
        if parsed.kind == SourceKind::KubectlSnapshot {
            let container = e.job.clone().unwrap_or_default();
            if !seen.insert(format!("pod:{container}:{digest}")) {
                continue;
            }
            // `namespace/pod/container`: the owner is keyed by `namespace/pod`.
            let pod = container.rsplit_once('/').map_or("", |(p, _)| p);
            let owner = owners
                .iter()
                .find(|(key, _, _)| key == pod)
                .map(|(_, kind, name)| Owner {
                    kind: kind.clone(),
                    name: name.clone(),
                });
            let mut instead = Vec::new();
            if pending {
                instead.push(
                    "the pod has not started it yet: its spec pins the malicious digest; change the image in the owner's spec".to_string(),
                );
            }
            match &owner {
                Some(o) if o.kind == "ReplicaSet" => instead.push(format!(
                    "roll the Deployment that owns ReplicaSet {} (`kubectl rollout restart deployment/{}`) once the image is purged and its tag points at a clean digest",
                    o.name,
                    deployment_of(&o.name)
                )),
                Some(o) => instead.push(format!(
                    "roll {} {} once the image is purged and its tag points at a clean digest",
                    o.kind, o.name
                )),
                None => instead.push("delete the pod (it has no owner to roll)".to_string()),
            }
            instead.push(format!(
                "remove the image from the node's store: `crictl rmi {digest}` on {}",
                e.host.as_deref().unwrap_or("every node")
            ));
            plan.steps.push(Step {
                key: format!("pod:{name}:{container}"),
                target: Target::Pod {
                    snapshot: name.to_string(),
                    container,
                    node: e.host.clone(),
                    digest: digest.to_string(),
                    owner,
                },
                action: Action::ByHand,
                why,
                state: State::ByHand,
                instead,
            });
        } else {
            let host = e.host.clone();
            if !seen.insert(format!("host:{host:?}:{digest}")) {
                continue;
            }
            plan.steps.push(Step {
                key: format!("snapshot:{name}:{}:{digest}", host.as_deref().unwrap_or("")),
                target: Target::Snapshot {
                    snapshot: name.to_string(),
                    host: host.clone(),
                    reference: reference.clone(),
                    digest: digest.to_string(),
                },
                action: Action::ByHand,
                why,
                state: State::ByHand,
                instead: vec![format!(
                    "on {}: `crictl rmi {digest}` (Kubernetes nodes) or `docker rmi -f` of the image holding it; or run `tagwarden purge --engine SOCKET` there",
                    host.as_deref().unwrap_or("the host the snapshot came from")
                )],
            });
        }
    }
}

/// `web-7d9f8c6b5` → `web`: a ReplicaSet a Deployment made is named after it with a hash.
fn deployment_of(replica_set: &str) -> &str {
    match replica_set.rsplit_once('-') {
        Some((name, hash))
            if !name.is_empty() && hash.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            name
        }
        _ => replica_set,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn malicious(digest: &str) -> Malicious {
        let mut m = Malicious::default();
        if let Ok(d) = tagwarden_reference::Digest::parse(digest) {
            m.add(d, "test");
        }
        m
    }

    #[test]
    fn pods_running_or_pinned_to_the_digest_and_node_stores_are_left_by_hand() {
        let bad = format!("sha256:{}", "b".repeat(64));
        let pods = format!(
            r#"{{"apiVersion":"v1","kind":"List","items":[
  {{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"agent-x1","namespace":"ops",
    "ownerReferences":[{{"kind":"DaemonSet","name":"agent","controller":true}}]}},
   "spec":{{"nodeName":"n1","containers":[{{"name":"a","image":"x/agent:1"}}]}},
   "status":{{"containerStatuses":[{{"name":"a","image":"x/agent:1","imageID":"docker-pullable://x/agent@{bad}"}}]}}}},
  {{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"job-1","namespace":"ci"}},
   "spec":{{"containers":[{{"name":"scan","image":"x/scan@{bad}"}}]}},"status":{{}}}},
  {{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"clean","namespace":"ci"}},
   "spec":{{"containers":[{{"name":"c","image":"x/clean:1"}}]}},"status":{{}}}}]}}"#
        );
        let mut plan = Plan::default();
        super::plan("pods.json", &pods, &malicious(&bad), &mut plan);
        assert!(plan.problems.is_empty(), "{:?}", plan.problems);
        let keys: Vec<&str> = plan.steps.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "pod:pods.json:ops/agent-x1/a",
                "pod:pods.json:ci/job-1/scan"
            ]
        );
        assert!(plan.steps.iter().all(|s| s.state == State::ByHand));
        assert!(plan.steps[0].instead[0].starts_with("roll DaemonSet agent"));
        assert!(plan.steps[1].instead[0].contains("has not started it yet"));
        assert!(plan.steps[1].instead[1].contains("no owner"));

        let crictl = format!(
            r#"{{"images":[{{"id":"sha256:{}","repoTags":["x/agent:1"],"repoDigests":["x/agent@{bad}"]}}]}}"#,
            "1".repeat(64)
        );
        let mut plan = Plan::default();
        super::plan("node.json", &crictl, &malicious(&bad), &mut plan);
        assert_eq!(plan.steps.len(), 1, "{:?} {:?}", plan.steps, plan.problems);
        assert!(matches!(plan.steps[0].target, Target::Snapshot { .. }));
        let mut plan = Plan::default();
        super::plan("bad.json", "{not json", &malicious(&bad), &mut plan);
        assert!(
            plan.problems[0].starts_with("bad.json: "),
            "{:?}",
            plan.problems
        );
    }

    #[test]
    fn a_replica_set_names_its_deployment() {
        assert_eq!(super::deployment_of("kics-7d9f8c6b5"), "kics");
        assert_eq!(super::deployment_of("web-api-5c9b"), "web-api");
        assert_eq!(super::deployment_of("lonely"), "lonely");
    }
}
