//! Registries and mirrors the user names (a pull-through cache, a private registry, a Harbor
//! project): for each advisory repository, list its tags there and ask for every malicious
//! digest directly, since a cache can hold a manifest no tag points at any more. Read-only.

use std::collections::BTreeSet;
use std::sync::Arc;

use tagwarden_advisory::AdvisorySet;
use tagwarden_evidence::{
    Evidence, EvidenceSource, ImageAction, Observed, Problem, Sink, SourceKind, SourceStats,
};
use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::{Client, RegistryError};

/// One registry or mirror: `host[:port]` with an optional path prefix under which it mirrors
/// other registries (`harbor.example.com/dockerhub-proxy`).
pub(crate) struct Mirror {
    pub(crate) prefix: String,
    pub(crate) client: Client,
    pub(crate) runtime: Arc<tokio::runtime::Runtime>,
    /// (repository path without registry, malicious digests of that repository).
    pub(crate) targets: Vec<(String, Vec<Digest>)>,
}

impl Mirror {
    pub(crate) fn new(
        prefix: &str,
        client: Client,
        runtime: Arc<tokio::runtime::Runtime>,
        advisories: &AdvisorySet,
    ) -> Self {
        let mut targets: Vec<(String, Vec<Digest>)> = Vec::new();
        let mut paths = BTreeSet::new();
        for a in advisories.advisories() {
            for e in &a.image_exposures {
                paths.extend(e.repositories.iter().filter_map(|r| repo_path(r)));
            }
            for m in &a.malicious_digests {
                paths.extend(m.repositories.iter().filter_map(|r| repo_path(r)));
            }
        }
        for path in paths {
            let digests: Vec<Digest> = advisories
                .advisories()
                .iter()
                .flat_map(|a| &a.malicious_digests)
                .filter(|m| {
                    m.repositories
                        .iter()
                        .any(|r| repo_path(r).as_deref() == Some(&path))
                })
                .map(|m| m.digest.clone())
                .collect();
            targets.push((path, digests));
        }
        Self {
            prefix: prefix.trim_end_matches('/').to_string(),
            client,
            runtime,
            targets,
        }
    }
}

/// `docker.io/checkmarx/kics` → `checkmarx/kics`: a mirror keeps the path, not the registry.
fn repo_path(repository: &str) -> Option<String> {
    repository.split_once('/').map(|(_, p)| p.to_string())
}

impl EvidenceSource for Mirror {
    fn describe(&self) -> String {
        format!("registry {}", self.prefix)
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        let mut stats = SourceStats::default();
        let problem = |location: String, message: String| Problem {
            source: SourceKind::Registry,
            location,
            message,
        };
        // Reachability first: a registry that is down is one problem, not one per repository.
        let mut reachable = false;
        for (path, digests) in &self.targets {
            let repo = format!("{}/{path}", self.prefix);
            let Ok(base) = Reference::parse(&repo) else {
                sink.problem(problem(repo, "not a valid repository name".into()));
                continue;
            };
            let tags = match self.runtime.block_on(self.client.list_tags(&base)) {
                Ok(t) => {
                    reachable = true;
                    t
                }
                Err(RegistryError::NotFound { .. }) => {
                    reachable = true;
                    Vec::new()
                }
                Err(e @ (RegistryError::Unreachable { .. } | RegistryError::Tls { .. }))
                    if !reachable =>
                {
                    return Err(problem(self.prefix.clone(), e.to_string()));
                }
                Err(e) => {
                    sink.problem(problem(repo.clone(), format!("cannot list tags: {e}")));
                    Vec::new()
                }
            };
            stats.records += tags.len() as u64;
            for tag in tags {
                let Ok(r) = Reference::parse(&format!("{repo}:{tag}")) else {
                    continue;
                };
                match self.runtime.block_on(self.client.resolve(&r)) {
                    Ok(res) => {
                        let mut seen = vec![res.digest.clone()];
                        if res.is_index
                            && let Ok(m) = self.runtime.block_on(
                                self.client
                                    .fetch_manifest(&r.with_digest(res.digest.clone())),
                            )
                        {
                            seen.extend(child_digests(&m.bytes));
                        }
                        for d in seen {
                            sink.evidence(served(&r.to_string(), d));
                        }
                    }
                    Err(e) => sink.problem(problem(r.to_string(), e.to_string())),
                }
            }
            // Untagged manifests still served by digest (a cache keeps what it once pulled).
            for d in digests {
                let r = base.with_digest(d.clone());
                match self.runtime.block_on(self.client.resolve(&r)) {
                    Ok(_) => sink.evidence(served(&r.to_string(), d.clone())),
                    Err(RegistryError::NotFound { .. }) => {}
                    Err(e) => sink.problem(problem(r.to_string(), e.to_string())),
                }
            }
        }
        Ok(stats)
    }
}

fn served(reference: &str, digest: Digest) -> Evidence {
    // The repository is the place: the same digest in two repositories is two findings.
    let location = reference
        .split_once('@')
        .map_or(reference, |(name, _)| name)
        .to_string();
    Evidence {
        source: SourceKind::Registry,
        location,
        line: None,
        timestamp: None,
        within: None,
        host: None,
        job: None,
        observed: Observed::Image {
            action: ImageAction::Served,
            reference: Some(reference.to_string()),
            digest: Some(digest),
        },
        excerpt: Some(reference.to_string()),
    }
}

fn child_digests(bytes: &[u8]) -> Vec<Digest> {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("manifests").and_then(|m| m.as_array()).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|m| Digest::parse(m.get("digest")?.as_str()?).ok())
        .collect()
}
