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
        if !malicious.contains(digest) || *action == ImageAction::Referenced {
            continue;
        }
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
    #[test]
    fn a_replica_set_names_its_deployment() {
        assert_eq!(super::deployment_of("kics-7d9f8c6b5"), "kics");
        assert_eq!(super::deployment_of("web-api-5c9b"), "web-api");
        assert_eq!(super::deployment_of("lonely"), "lonely");
    }
}
