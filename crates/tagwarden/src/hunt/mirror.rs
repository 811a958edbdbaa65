//! Registries and mirrors the user names (a pull-through cache, a private registry, a Harbor
//! project): for each advisory repository, ask for every malicious digest directly (a cache can
//! hold a manifest no tag points at any more, and a huge repository still answers the question),
//! then list its tags page by page and resolve them concurrently within the registry's limit.
//! Read-only, and bounded: a page at a time in memory, a cap on the whole listing.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tagwarden_advisory::AdvisorySet;
use tagwarden_evidence::{
    Evidence, EvidenceSource, ImageAction, Observed, Problem, Sink, SourceKind, SourceStats,
};
use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::{Client, RegistryError};
use tokio::task::JoinSet;

/// Problems kept per registry; the rest are counted in one last problem.
const PROBLEMS_MAX: usize = 100;
/// How often a long registry hunt says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

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
        let mut run = Run::new(&self.prefix);
        self.runtime.block_on(async {
            for (path, digests) in &self.targets {
                let repo = format!("{}/{path}", self.prefix);
                let Ok(base) = Reference::parse(&repo) else {
                    run.problem(repo, "not a valid repository name".into());
                    continue;
                };
                self.check_digests(&base, digests, &mut run, sink).await;
                self.check_tags(&base, &repo, &mut run, sink).await;
            }
        });
        run.finish(sink)
    }
}

impl Mirror {
    /// The malicious digests, asked for directly.
    async fn check_digests(
        &self,
        base: &Reference,
        digests: &[Digest],
        run: &mut Run,
        sink: &dyn Sink,
    ) {
        for d in digests {
            let r = base.with_digest(d.clone());
            match self.client.resolve(&r).await {
                Ok(_) => {
                    run.answered();
                    sink.evidence(served(&r.to_string(), d.clone()));
                }
                Err(RegistryError::NotFound { .. }) => run.answered(),
                Err(e) => run.failed(r.to_string(), &e),
            }
        }
    }

    /// Every tag, page by page, each page's tags resolved concurrently.
    async fn check_tags(&self, base: &Reference, repo: &str, run: &mut Run, sink: &dyn Sink) {
        let in_flight = self.client.config().max_concurrency_per_registry.max(1) * 2;
        let mut pages = self.client.tag_pages(base);
        let mut invalid = 0usize;
        loop {
            let page = match pages.next_page().await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(RegistryError::NotFound { .. }) => {
                    run.answered();
                    break;
                }
                Err(e @ RegistryError::ListingTooLong { .. }) => {
                    run.repository_problem(
                        repo.to_string(),
                        format!(
                            "{e} (the {} tags listed before were checked; the malicious digests were asked for directly)",
                            pages.tags_so_far()
                        ),
                    );
                    break;
                }
                Err(e) => {
                    run.failed(repo.to_string(), &e);
                    break;
                }
            };
            run.answered();
            run.listing(repo, pages.tags_so_far());
            let mut tasks = JoinSet::new();
            for tag in page {
                // The length first: a hostile listing's megabyte "tag" is not worth parsing.
                let parsed = (tag.len() <= tagwarden_reference::TAG_MAX)
                    .then(|| Reference::parse(&format!("{repo}:{tag}")).ok())
                    .flatten();
                let Some(r) = parsed else {
                    invalid += 1;
                    continue;
                };
                while tasks.len() >= in_flight {
                    if let Some(Ok(done)) = tasks.join_next().await {
                        run.resolved(done, sink);
                    }
                }
                let client = self.client.clone();
                tasks.spawn(async move {
                    let result = served_by_tag(&client, &r).await;
                    (r, result)
                });
            }
            while let Some(joined) = tasks.join_next().await {
                if let Ok(done) = joined {
                    run.resolved(done, sink);
                }
            }
        }
        if invalid > 0 {
            run.repository_problem(
                repo.to_string(),
                format!("{invalid} listed tags are not valid tags and were not checked"),
            );
        }
    }
}

/// The digests a tag serves: its manifest, and the children of an index.
async fn served_by_tag(client: &Client, r: &Reference) -> Result<Vec<Digest>, RegistryError> {
    let resolved = client.resolve(r).await?;
    let mut seen = vec![resolved.digest.clone()];
    if resolved.is_index {
        let pinned = r.with_digest(resolved.digest);
        // The tag's own digest is evidence even when its index cannot be read.
        if let Ok(index) = client
            .fetch_manifest(&pinned)
            .await
            .and_then(|m| m.index(&pinned))
        {
            seen.extend(index.digests().cloned());
        }
    }
    Ok(seen)
}

/// What one registry's hunt found out so far: whether it ever answered, its problems (bounded),
/// its progress.
struct Run {
    prefix: String,
    answered: bool,
    /// The first failure before anything answered, as (access denied?, message): what the
    /// source reports if nothing ever answers.
    first_failure: Option<(bool, String)>,
    /// Problems with single tags or digests, at most [`PROBLEMS_MAX`].
    problems: Vec<Problem>,
    dropped: usize,
    /// Problems with a whole repository (a listing cut short): a few, and never dropped.
    repository_problems: Vec<Problem>,
    tags: u64,
    /// The repository being listed and how many of its tags are listed so far, for progress.
    listing: (String, usize),
    started: Instant,
    last_progress: Instant,
}

impl Run {
    fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_string(),
            answered: false,
            first_failure: None,
            problems: Vec::new(),
            dropped: 0,
            repository_problems: Vec::new(),
            tags: 0,
            listing: (String::new(), 0),
            started: Instant::now(),
            last_progress: Instant::now(),
        }
    }

    fn answered(&mut self) {
        self.answered = true;
    }

    fn failed(&mut self, location: String, error: &RegistryError) {
        if !self.answered && self.first_failure.is_none() {
            self.first_failure = Some((error.is_access_denied(), error.to_string()));
        }
        self.problem(location, error.to_string());
    }

    fn problem(&mut self, location: String, message: String) {
        if self.problems.len() >= PROBLEMS_MAX {
            self.dropped += 1;
            return;
        }
        self.problems.push(Problem {
            source: SourceKind::Registry,
            location,
            message,
        });
    }

    fn repository_problem(&mut self, location: String, message: String) {
        self.repository_problems.push(Problem {
            source: SourceKind::Registry,
            location,
            message,
        });
    }

    fn listing(&mut self, repo: &str, listed: usize) {
        self.listing = (repo.to_string(), listed);
    }

    fn resolved(
        &mut self,
        (r, result): (Reference, Result<Vec<Digest>, RegistryError>),
        sink: &dyn Sink,
    ) {
        self.tags += 1;
        self.progress();
        match result {
            Ok(digests) => {
                self.answered();
                for d in digests {
                    sink.evidence(served(&r.to_string(), d));
                }
            }
            Err(e) => self.failed(r.to_string(), &e),
        }
    }

    /// A line on stderr every few seconds once a registry takes long: a million tags take a while.
    fn progress(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.started) < PROGRESS_EVERY
            || now.duration_since(self.last_progress) < PROGRESS_EVERY
        {
            return;
        }
        self.last_progress = now;
        let (repo, listed) = &self.listing;
        eprintln!(
            "hunt: registry {}: {repo}: {} tags checked ({listed} listed so far)",
            self.prefix, self.tags
        );
    }

    /// The source's answer. A registry that never answered (down, or refusing every request:
    /// credentials rotated mid-incident) was not searched: that is the source failing, not a
    /// clean registry.
    fn finish(mut self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        if !self.answered
            && let Some((denied, error)) = &self.first_failure
        {
            let message = if *denied {
                format!(
                    "every request was refused, so nothing was searched: {error} (are the credentials for it missing, wrong or rotated?)"
                )
            } else {
                format!("nothing could be searched: {error}")
            };
            return Err(Problem {
                source: SourceKind::Registry,
                location: self.prefix,
                message,
            });
        }
        if self.dropped > 0 {
            self.problems.push(Problem {
                source: SourceKind::Registry,
                location: self.prefix.clone(),
                message: format!("{} more problems like the above", self.dropped),
            });
        }
        for p in self.repository_problems.into_iter().chain(self.problems) {
            sink.problem(p);
        }
        Ok(SourceStats {
            records: self.tags,
            ..SourceStats::default()
        })
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
