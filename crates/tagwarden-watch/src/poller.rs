//! Polling: claim the tags that are due, ask each registry with `HEAD` (and `GET` an index only
//! when its digest is new, to record every platform child), record the answers in batches, and
//! turn failures in a row into registry health events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tagwarden_advisory::{AdvisorySet, ImageVerdict};
use tagwarden_findings::Severity;
use tagwarden_reference::Digest;
use tagwarden_registry::{Client, Poll, Polled};
use tokio::sync::mpsc;

use crate::alert::{Alerts, print_event};
use crate::event::{Child, EventKind, MaliciousHit, NewEvent, Observed, SignatureIssue};
use crate::limiter::{Limiter, random_fraction};
use crate::metrics::Metrics;
use crate::store::{Claimed, Outcome, PollResult, Store, StoreError, StoredEvent, now_ms};

/// Tags claimed at a time.
const BATCH: usize = 256;
/// Polls recorded per transaction at most.
const RECORD_BATCH: usize = 128;
/// How long a claimed tag is ours; a replica that dies loses its tags after this.
pub const LEASE_MS: i64 = 5 * 60 * 1000;
/// A registry paused longer than this is not waited for: its tags are put back.
const LONGEST_WAIT: Duration = Duration::from_secs(5);

/// What one round of polls did.
#[derive(Debug, Default)]
pub struct Round {
    pub polled: usize,
    pub failed: usize,
    /// The events recorded by this replica in this round.
    pub events: Vec<StoredEvent>,
}

impl Round {
    pub fn max_severity(&self) -> Option<Severity> {
        self.events.iter().map(|e| e.severity).max()
    }
}

/// Settings a reload may change.
#[derive(Clone, Debug)]
pub struct PollSettings {
    pub interval: Duration,
    pub unhealthy_after: u32,
}

/// A registry's failures in a row.
#[derive(Default)]
struct Health {
    failures: u32,
    since: i64,
    reported: bool,
}

/// The poller, shared by the daemon loop and the signal handlers.
pub struct Poller {
    pub client: Client,
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    pub alerts: Arc<Alerts>,
    pub limiter: RwLock<Arc<Limiter>>,
    pub advisories: RwLock<Arc<AdvisorySet>>,
    /// The `[signatures]` policy new digests are checked against, if any.
    signatures: RwLock<Option<Arc<tagwarden_signature::Policy>>>,
    pub settings: RwLock<PollSettings>,
    /// Set on SIGTERM: no new polls start; those in flight finish and are recorded.
    pub stopping: AtomicBool,
    /// Print each new event as a JSON line on standard output.
    pub print: bool,
    health: Mutex<HashMap<String, Health>>,
}

impl Poller {
    pub fn new(
        client: Client,
        store: Arc<Store>,
        metrics: Arc<Metrics>,
        alerts: Arc<Alerts>,
        limiter: Limiter,
        advisories: AdvisorySet,
        settings: PollSettings,
    ) -> Poller {
        Poller {
            client,
            store,
            metrics,
            alerts,
            limiter: RwLock::new(Arc::new(limiter)),
            advisories: RwLock::new(Arc::new(advisories)),
            signatures: RwLock::new(None),
            settings: RwLock::new(settings),
            stopping: AtomicBool::new(false),
            print: true,
            health: Mutex::new(HashMap::new()),
        }
    }

    /// Sets (or, with `None`, drops) the signature policy new digests must satisfy.
    pub fn set_signatures(&self, policy: Option<tagwarden_signature::Policy>) {
        *self.signatures.write().unwrap_or_else(|e| e.into_inner()) = policy.map(Arc::new);
    }

    fn settings(&self) -> PollSettings {
        self.settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn limiter(&self) -> Arc<Limiter> {
        self.limiter
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Polls every due tag (or, with `unchecked_since`, every tag not checked since then: one
    /// full cycle for `--once`) until none is left or a stop is asked.
    pub async fn poll_due(
        self: &Arc<Self>,
        unchecked_since: Option<i64>,
    ) -> Result<Round, StoreError> {
        let started = std::time::Instant::now();
        let (tx, rx) = mpsc::channel::<PollResult>(RECORD_BATCH * 4);
        let recorder = {
            let this = self.clone();
            tokio::spawn(async move { this.record_all(rx).await })
        };
        let mut polled = 0;
        let mut failed = 0;
        let mut claim_error = None;
        while !self.stopping() {
            let store = self.store.clone();
            let claimed = tokio::task::spawn_blocking(move || {
                store.claim_due(now_ms(), LEASE_MS, BATCH, unchecked_since)
            })
            .await
            .map_err(|e| StoreError(format!("claim task: {e}")))
            .and_then(|r| r);
            let claimed = match claimed {
                Ok(c) => c,
                Err(e) => {
                    claim_error = Some(e);
                    break;
                }
            };
            if claimed.is_empty() {
                break;
            }
            let mut tasks = tokio::task::JoinSet::new();
            for tag in claimed {
                let this = self.clone();
                let tx = tx.clone();
                let once = unchecked_since.is_some();
                tasks.spawn(async move {
                    let result = this.poll_one(tag, once).await;
                    let failed = matches!(result.outcome, Outcome::Failed { .. });
                    // The recorder only goes away when this round is over.
                    let _ = tx.send(result).await;
                    failed
                });
            }
            while let Some(joined) = tasks.join_next().await {
                polled += 1;
                if joined.unwrap_or(true) {
                    failed += 1;
                }
            }
        }
        drop(tx);
        let recorded = recorder
            .await
            .map_err(|e| StoreError(format!("record task: {e}")))?;
        self.metrics
            .cycle_seconds
            .set(started.elapsed().as_secs_f64());
        let events = recorded?;
        if let Some(e) = claim_error {
            return Err(e);
        }
        Ok(Round {
            polled,
            failed,
            events,
        })
    }

    async fn poll_one(&self, tag: Claimed, once: bool) -> PollResult {
        let registry = tag.target.registry().to_string();
        let limiter = self.limiter();
        let interval = self.settings().interval;
        let next_due = |at: i64| {
            let jitter = interval.mul_f64(random_fraction() / 10.0);
            at + (interval + jitter).as_millis() as i64
        };
        // Not polled: stopping, or the registry is paused for long. Once, that is a failure.
        let put_back = |tag: Claimed| {
            let at = now_ms();
            let paused = limiter.paused_for(&registry);
            let outcome = if once && !self.stopping() {
                Outcome::Failed {
                    error: format!(
                        "{registry}: not asked: the registry is paused after failures or a rate limit"
                    ),
                }
            } else {
                Outcome::Deferred {
                    until: at + paused.as_millis() as i64,
                    rate_limited: false,
                }
            };
            PollResult {
                tag,
                at,
                next_due: next_due(at),
                outcome,
            }
        };
        if self.stopping() {
            return put_back(tag);
        }
        let Some(permit) = limiter.acquire(&registry, LONGEST_WAIT).await else {
            return put_back(tag);
        };
        let answer = self.client.poll(&tag.target.reference).await;
        let outcome = match answer {
            Ok(Polled {
                poll: Poll::Found(resolved),
                rate_limit,
            }) => {
                limiter.observe(&registry, &rate_limit);
                limiter.succeeded(&registry);
                self.observe_found(&tag, resolved).await
            }
            Ok(Polled {
                poll: Poll::NotFound,
                rate_limit,
            }) => {
                limiter.observe(&registry, &rate_limit);
                limiter.succeeded(&registry);
                Outcome::Seen {
                    observed: Observed::Absent,
                    how: "head",
                    malicious: Vec::new(),
                    signature: None,
                }
            }
            Ok(Polled {
                poll: Poll::RateLimited,
                rate_limit,
            }) => {
                limiter.observe(&registry, &rate_limit);
                let wait = limiter.paused_for(&registry).max(limiter.failed(&registry));
                if once {
                    Outcome::Failed {
                        error: format!("{registry}: rate limited (HTTP 429)"),
                    }
                } else {
                    Outcome::Deferred {
                        until: now_ms() + wait.as_millis() as i64,
                        rate_limited: true,
                    }
                }
            }
            Err(e) => {
                limiter.failed(&registry);
                Outcome::Failed {
                    error: e.to_string(),
                }
            }
        };
        drop(permit);
        let at = now_ms();
        PollResult {
            tag,
            at,
            next_due: next_due(at),
            outcome,
        }
    }

    /// The tag exists: its children come from the last observation when the digest is the same,
    /// else from a `GET` of the index (checked against its digest).
    async fn observe_found(
        &self,
        tag: &Claimed,
        resolved: tagwarden_registry::Resolved,
    ) -> Outcome {
        let digest = resolved.digest.to_string();
        let known = tag.current.as_ref().and_then(|(_, o)| match o {
            Observed::Present {
                digest: d,
                children,
                media_type,
            } if *d == digest => Some((children.clone(), media_type.clone())),
            _ => None,
        });
        let new_digest = known.is_none();
        let (children, media_type, how) = match known {
            Some((children, media_type)) => (children, media_type, "head"),
            None if resolved.is_index => {
                let pinned = tag.target.reference.with_digest(resolved.digest.clone());
                let fetched = self
                    .client
                    .fetch_manifest(&pinned)
                    .await
                    .and_then(|m| m.index(&pinned));
                match fetched {
                    // Every child, attestations too: a swapped child anywhere is an event.
                    Ok(index) => (
                        index
                            .manifests
                            .into_iter()
                            .map(|c| Child {
                                platform: c.platform.map(|p| p.to_string()),
                                digest: c.digest.to_string(),
                            })
                            .collect(),
                        resolved.media_type.clone(),
                        "head+get",
                    ),
                    Err(e) => {
                        return Outcome::Failed {
                            error: format!("cannot read the index {digest}: {e}"),
                        };
                    }
                }
            }
            None => (Vec::new(), resolved.media_type.clone(), "head"),
        };
        let signature = if new_digest {
            match self.accept_new_digest(tag, &resolved.digest).await {
                Ok(issue) => issue,
                Err(error) => return Outcome::Failed { error },
            }
        } else {
            None
        };
        let advisories = self
            .advisories
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let malicious = malicious_hits(&advisories, &resolved.digest, &children);
        Outcome::Seen {
            observed: Observed::Present {
                digest,
                media_type,
                children,
            },
            how,
            malicious,
            signature,
        }
    }

    /// The one place where a digest the tag did not serve at its last poll (or at all: the
    /// first sighting is checked too) is accepted into the history: when a `[signatures]` rule
    /// covers the tag, the digest the tag points at must be signed as the rule says, else an
    /// issue becomes an event beside the advisories' verdicts (`enforce`: not accepted, high;
    /// `warn`: accepted, medium). Signatures that cannot be read make the poll fail, so that
    /// the next poll checks again rather than accepting what nobody looked at.
    async fn accept_new_digest(
        &self,
        tag: &Claimed,
        digest: &Digest,
    ) -> Result<Option<SignatureIssue>, String> {
        let policy = self
            .signatures
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(policy) = policy else {
            return Ok(None);
        };
        let image = &tag.target.reference;
        let decision = tagwarden_signature::check(&self.client, &policy, image, digest, None).await;
        use tagwarden_signature::{Mode, Verdict};
        let missing = match &decision.verdict {
            Verdict::NotRequired | Verdict::Verified(_) => return Ok(None),
            Verdict::Unavailable(_) => {
                return Err(format!("{digest}: {}", decision.reason()));
            }
            Verdict::Missing { .. } => true,
            Verdict::Invalid(_) => false,
        };
        Ok(Some(SignatureIssue {
            missing,
            enforced: decision.mode != Some(Mode::Warn),
            reason: decision.reason(),
        }))
    }

    /// Records results as they come, in batches, and returns the new events.
    async fn record_all(
        self: Arc<Self>,
        mut rx: mpsc::Receiver<PollResult>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut all = Vec::new();
        let mut first_error = None;
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < RECORD_BATCH {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            let now = now_ms();
            for r in &batch {
                let registry = r.tag.target.registry();
                let result = match &r.outcome {
                    Outcome::Seen {
                        observed: Observed::Absent,
                        ..
                    } => "not_found",
                    Outcome::Seen { observed, .. }
                        if r.tag.current.as_ref().map(|(_, o)| o) == Some(observed) =>
                    {
                        "unchanged"
                    }
                    Outcome::Seen { .. } => "changed",
                    Outcome::Failed { .. } => "error",
                    Outcome::Deferred {
                        rate_limited: true, ..
                    } => "rate_limited",
                    Outcome::Deferred { .. } => "deferred",
                };
                self.metrics.poll(registry, result);
                if r.tag.due > 0 && r.tag.due < now {
                    self.metrics
                        .lag(registry, (now - r.tag.due) as f64 / 1000.0);
                }
            }
            let sinks = self.alerts.sinks();
            let store = self.store.clone();
            let health: Vec<(String, bool)> = batch
                .iter()
                .filter(|r| {
                    !matches!(
                        r.outcome,
                        Outcome::Deferred {
                            rate_limited: false,
                            ..
                        }
                    )
                })
                .map(|r| {
                    (
                        r.tag.target.registry().to_string(),
                        matches!(r.outcome, Outcome::Seen { .. }),
                    )
                })
                .collect();
            let errors: HashMap<String, String> = batch
                .iter()
                .filter_map(|r| match &r.outcome {
                    Outcome::Failed { error } => {
                        Some((r.tag.target.registry().to_string(), error.clone()))
                    }
                    Outcome::Deferred { .. } => Some((
                        r.tag.target.registry().to_string(),
                        "rate limited (HTTP 429)".to_string(),
                    )),
                    Outcome::Seen { .. } => None,
                })
                .collect();
            let recorded = tokio::task::spawn_blocking(move || store.record(&batch, &sinks))
                .await
                .map_err(|e| StoreError(format!("record task: {e}")))
                .and_then(|r| r);
            match recorded {
                Ok(events) => {
                    for e in events {
                        self.announce(&e);
                        all.push(e);
                    }
                }
                Err(e) => {
                    eprintln!("error: cannot record polls: {e}");
                    first_error.get_or_insert(e);
                }
            }
            for (registry, ok) in health {
                if let Some(event) = self.health(&registry, ok, errors.get(&registry)).await {
                    all.push(event);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(all),
        }
    }

    pub(crate) fn announce(&self, event: &StoredEvent) {
        self.metrics.event(&event.kind, event.severity.as_str());
        if self.print {
            print_event(event);
        }
    }

    /// Counts failures in a row per registry; reports when they reach the threshold, and when
    /// the registry answers again after that.
    async fn health(
        &self,
        registry: &str,
        ok: bool,
        error: Option<&String>,
    ) -> Option<StoredEvent> {
        let threshold = self.settings().unhealthy_after;
        let now = now_ms();
        let replica = self.store.replica().to_string();
        let event = {
            let mut all = self.health.lock().unwrap_or_else(|e| e.into_inner());
            let h = all.entry(registry.to_string()).or_default();
            if ok {
                let was = h.reported.then_some(h.since);
                *h = Health::default();
                was.map(|since| NewEvent {
                    kind: EventKind::RegistryRecovered,
                    severity: Severity::Info,
                    key: format!("health:{registry}:{replica}:{since}:recovered"),
                    message: format!("{registry} answers again (seen from {replica})"),
                    digest_before: None,
                    digest_after: None,
                    detail: serde_json::json!({ "replica": replica }),
                })
            } else {
                if h.failures == 0 {
                    h.since = now;
                }
                h.failures = h.failures.saturating_add(1);
                (h.failures == threshold && !h.reported).then(|| {
                    h.reported = true;
                    let error = error.cloned().unwrap_or_default();
                    NewEvent {
                        kind: EventKind::RegistryUnhealthy,
                        severity: Severity::Medium,
                        key: format!("health:{registry}:{replica}:{}", h.since),
                        message: format!(
                            "{registry}: {threshold} polls in a row failed (seen from {replica}): {error}"
                        ),
                        digest_before: None,
                        digest_after: None,
                        detail: serde_json::json!({ "replica": replica, "error": error, "failures": threshold }),
                    }
                })
            }
        };
        self.metrics
            .healthy(registry, ok || !self.is_reported(registry));
        let event = event?;
        let store = self.store.clone();
        let sinks = self.alerts.sinks();
        let registry = registry.to_string();
        let added =
            tokio::task::spawn_blocking(move || store.add_event(&event, &registry, now, &sinks))
                .await;
        match added {
            Ok(Ok(Some(stored))) => {
                self.announce(&stored);
                Some(stored)
            }
            Ok(Err(e)) => {
                eprintln!("error: cannot record a health event: {e}");
                None
            }
            _ => None,
        }
    }

    fn is_reported(&self, registry: &str) -> bool {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(registry)
            .is_some_and(|h| h.reported)
    }
}

/// The digests of an observation that advisories list as malicious.
pub fn malicious_hits(
    advisories: &AdvisorySet,
    digest: &Digest,
    children: &[Child],
) -> Vec<MaliciousHit> {
    let mut hits = Vec::new();
    let mut check = |d: &Digest, platform: Option<&str>| {
        for m in advisories.match_digest(d) {
            if matches!(m.verdict, ImageVerdict::MaliciousDigest { .. }) {
                hits.push(MaliciousHit {
                    digest: d.to_string(),
                    platform: platform.map(str::to_string),
                    advisory: m.advisory_id.clone(),
                    title: m.advisory_title.clone(),
                });
            }
        }
    };
    check(digest, None);
    for c in children {
        if let Ok(d) = Digest::parse(&c.digest) {
            check(&d, c.platform.as_deref());
        }
    }
    hits
}
