//! The watcher's life: load the configuration, open the store, expand the watch list, poll what
//! is due, deliver alerts, serve the page; reload on SIGHUP; on SIGTERM let the polls in flight
//! finish and be recorded, then close the store. `--once` runs one full cycle and returns the
//! worst event it recorded, for an exit status like `verify`'s.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tagwarden_advisory::AdvisorySet;
use tagwarden_findings::Severity;
use tagwarden_reference::Reference;
use tagwarden_registry::Client;
use tokio::sync::{Notify, watch};

use crate::alert::{Alerts, Hook};
use crate::config::{Database, WatchConfig};
use crate::limiter::Limiter;
use crate::metrics::Metrics;
use crate::poller::{PollSettings, Poller};
use crate::store::{Store, now_ms};
use crate::target::{Pattern, TargetSet};

/// Where the port is when none is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8465";

/// What the watcher needs from the rest of tagwarden: the references `scan` finds in trees
/// (same walker and extractors) and the advisories (built-in and the configured files).
pub trait Sources: Send + Sync {
    /// Every image reference in the trees, as (reference, `path:line:column`).
    fn scan(&self, paths: &[PathBuf]) -> Result<Vec<(Reference, String)>, String>;
    /// The built-in advisories and those in `extra`; problems are returned beside the set.
    fn advisories(&self, extra: &[PathBuf]) -> (AdvisorySet, Vec<String>);
}

/// The command line.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub config: PathBuf,
    /// `--db`: overrides the configuration's.
    pub database: Option<String>,
    /// `--listen`: overrides the configuration's; `none` serves nothing.
    pub listen: Option<String>,
    pub replica: Option<String>,
    pub once: bool,
}

/// How a run ended.
#[derive(Debug)]
pub enum Finished {
    /// `--once`: the worst event recorded and the threshold it is judged against.
    Once {
        worst: Option<Severity>,
        fail_on: Severity,
        polled: usize,
        failed: usize,
    },
    /// Stopped by a signal.
    Stopped,
}

/// Reads and parses the configuration file.
pub fn load_config(path: &Path) -> Result<WatchConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut config = WatchConfig::parse(path, &text).map_err(|e| e.to_string())?;
    config.load_signatures(&text).map_err(|e| e.to_string())?;
    Ok(config)
}

/// The store the options and configuration name: `--db`, the file's `db`, or
/// `tagwarden-watch.db` beside the configuration.
pub fn database(options: &Options, config: &WatchConfig) -> Result<Database, String> {
    let base = config.path.parent().unwrap_or(Path::new("."));
    match (&options.database, &config.database) {
        (Some(flag), _) => Database::parse(flag, Path::new(".")),
        (None, Some(db)) => Ok(db.clone()),
        (None, None) => Ok(Database::Sqlite(base.join("tagwarden-watch.db"))),
    }
}

/// This replica's name: `--replica`, the file's `replica`, or the host name.
fn replica_name(options: &Options, config: &WatchConfig) -> String {
    options
        .replica
        .clone()
        .or_else(|| config.replica.clone())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "local".to_string())
}

/// Opens the store on a blocking thread.
pub async fn open_store(database: Database, replica: String) -> Result<Arc<Store>, String> {
    tokio::task::spawn_blocking(move || Store::open(&database, &replica))
        .await
        .map_err(|e| format!("store: {e}"))?
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

fn resolve_hooks(config: &WatchConfig) -> Result<Vec<Hook>, String> {
    config.webhooks.iter().map(Hook::resolve).collect()
}

/// Everything a run holds.
struct Watcher {
    options: Options,
    config: WatchConfig,
    poller: Arc<Poller>,
    sources: Arc<dyn Sources>,
    /// The fingerprint of the last watch list written to the store.
    synced: Option<u64>,
    /// The audit-log exports read so far.
    audit: Arc<std::sync::Mutex<crate::audit::AuditTail>>,
}

/// Runs the watcher until `--once` is done or a signal stops it.
pub async fn run(
    options: Options,
    client: Client,
    sources: Arc<dyn Sources>,
) -> Result<Finished, String> {
    let config = load_config(&options.config)?;
    let database = database(&options, &config)?;
    let replica = replica_name(&options, &config);
    let hooks = resolve_hooks(&config)?;
    let (advisories, problems) = load_advisories(&sources, &config).await;
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let store = open_store(database.clone(), replica.clone()).await?;
    {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.release_own_leases())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    let metrics = Arc::new(Metrics::default());
    let alerts = Arc::new(Alerts::new(hooks)?);
    let poller = Arc::new(Poller::new(
        client,
        store.clone(),
        metrics.clone(),
        alerts.clone(),
        Limiter::new(config.registries.clone(), config.default_limits),
        advisories,
        PollSettings {
            interval: config.interval,
            unhealthy_after: config.unhealthy_after,
        },
    ));
    poller.set_signatures(config.signatures.clone());
    let mut watcher = Watcher {
        options,
        config,
        poller,
        sources,
        synced: None,
        audit: Arc::default(),
    };
    if watcher.options.once {
        return watcher.once().await;
    }
    eprintln!("tagwarden watch: replica {replica}, history in {database}");
    watcher.daemon().await
}

async fn load_advisories(
    sources: &Arc<dyn Sources>,
    config: &WatchConfig,
) -> (AdvisorySet, Vec<String>) {
    let sources = sources.clone();
    let extra = config.advisories.clone();
    tokio::task::spawn_blocking(move || sources.advisories(&extra))
        .await
        .unwrap_or_else(|e| (AdvisorySet::empty(), vec![format!("advisories: {e}")]))
}

impl Watcher {
    async fn once(&mut self) -> Result<Finished, String> {
        let start = now_ms();
        self.refresh_targets().await?;
        let round = self
            .poller
            .poll_due(Some(start))
            .await
            .map_err(|e| e.to_string())?;
        let audited = self.tail_audit().await;
        let worst = round
            .max_severity()
            .max(audited.iter().map(|e| e.severity).max());
        // Alerts queued by this cycle get one try now; failures stay queued for the next run.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline
            && self
                .poller
                .alerts
                .deliver_due(&self.poller.store, &self.poller.metrics)
                .await
                > 0
        {}
        Ok(Finished::Once {
            worst,
            fail_on: self.config.fail_on,
            polled: round.polled,
            failed: round.failed,
        })
    }

    async fn daemon(&mut self) -> Result<Finished, String> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let reload = Arc::new(AtomicBool::new(false));
        spawn_signals(self.poller.clone(), stop_tx, wake.clone(), reload.clone())?;

        let listen = self
            .options
            .listen
            .clone()
            .or_else(|| self.config.listen.clone())
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let server = if listen == "none" {
            None
        } else {
            let (listener, addr) = crate::web::bind(&listen).await?;
            eprintln!("tagwarden watch: serving http://{addr}/");
            let web = Arc::new(crate::web::Web::new(
                self.poller.store.clone(),
                self.poller.metrics.clone(),
            ));
            let mut rx = stop_rx.clone();
            Some(tokio::spawn(async move {
                let app = crate::web::router(web);
                let shutdown = async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                };
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
                {
                    eprintln!("error: web server: {e}");
                }
            }))
        };
        let deliveries = {
            let poller = self.poller.clone();
            let mut rx = stop_rx.clone();
            tokio::spawn(async move {
                while !*rx.borrow() {
                    let sent = poller
                        .alerts
                        .deliver_due(&poller.store, &poller.metrics)
                        .await;
                    if sent == 0 {
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                            _ = rx.changed() => {}
                        }
                    }
                }
            })
        };

        let mut next_refresh = Instant::now();
        let mut next_prune = Instant::now();
        while !self.poller.stopping.load(Ordering::SeqCst) {
            if reload.swap(false, Ordering::SeqCst) {
                self.reload().await;
                next_refresh = Instant::now();
            }
            if Instant::now() >= next_refresh {
                if let Err(e) = self.refresh_targets().await {
                    eprintln!("error: {e}");
                }
                self.tail_audit().await;
                next_refresh = Instant::now() + self.config.interval;
            }
            if let Err(e) = self.poller.poll_due(None).await {
                eprintln!("error: {e}");
            }
            if let Some(retention) = self.config.retention
                && Instant::now() >= next_prune
            {
                self.prune(retention).await;
                next_prune = Instant::now() + Duration::from_secs(3600);
            }
            let store = self.poller.store.clone();
            let next_due = tokio::task::spawn_blocking(move || store.next_due())
                .await
                .ok()
                .and_then(Result::ok)
                .flatten();
            let until_refresh = next_refresh.saturating_duration_since(Instant::now());
            let until_due = next_due
                .map(|due| Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0)))
                .unwrap_or(until_refresh);
            // Not busier than ten rounds a second, never asleep past the next refresh.
            let nap = until_due.min(until_refresh).max(Duration::from_millis(100));
            tokio::select! {
                _ = tokio::time::sleep(nap) => {}
                _ = wake.notified() => {}
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(15), deliveries).await;
        if let Some(server) = server {
            let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
        }
        eprintln!("tagwarden watch: stopped; the polls in flight were recorded");
        Ok(Finished::Stopped)
    }

    async fn reload(&mut self) {
        let config = match load_config(&self.options.config) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: reload: {e}; keeping the configuration in force");
                return;
            }
        };
        let hooks = match resolve_hooks(&config) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: reload: {e}; keeping the configuration in force");
                return;
            }
        };
        let (advisories, problems) = load_advisories(&self.sources, &config).await;
        for p in &problems {
            eprintln!("warning: reload: {p}");
        }
        if config.database != self.config.database || config.listen != self.config.listen {
            eprintln!("warning: reload: db and listen take effect at the next start");
        }
        self.poller.alerts.set_hooks(hooks);
        self.poller.set_signatures(config.signatures.clone());
        *self
            .poller
            .advisories
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(advisories);
        *self
            .poller
            .settings
            .write()
            .unwrap_or_else(|e| e.into_inner()) = PollSettings {
            interval: config.interval,
            unhealthy_after: config.unhealthy_after,
        };
        *self
            .poller
            .limiter
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(Limiter::new(
            config.registries.clone(),
            config.default_limits,
        ));
        self.config = config;
        self.synced = None;
        eprintln!("tagwarden watch: configuration reloaded");
    }

    /// Reads the audit-log exports that changed and records the findings as events (each key
    /// once); returns the events new in the store.
    async fn tail_audit(&self) -> Vec<crate::store::StoredEvent> {
        let Some(config) = self.config.audit.clone() else {
            return Vec::new();
        };
        if self.config.audit_exports.is_empty() {
            return Vec::new();
        }
        let exports = self.config.audit_exports.clone();
        let tail = self.audit.clone();
        let polled = tokio::task::spawn_blocking(move || {
            tail.lock()
                .unwrap_or_else(|e| e.into_inner())
                .poll(&exports, &config)
        })
        .await;
        let Ok((events, problems)) = polled else {
            eprintln!("error: audit logs: the reading task failed");
            return Vec::new();
        };
        for p in problems {
            eprintln!("warning: audit logs: {p}");
        }
        let store = self.poller.store.clone();
        let sinks = self.poller.alerts.sinks();
        let now = now_ms();
        let added = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for e in events {
                match store.add_event(&e.event, &e.registry, now, &sinks) {
                    Ok(Some(stored)) => out.push(stored),
                    Ok(None) => {}
                    Err(err) => eprintln!("error: cannot record an audit event: {err}"),
                }
            }
            out
        })
        .await
        .unwrap_or_default();
        for e in &added {
            self.poller.announce(e);
        }
        added
    }

    async fn prune(&self, retention: Duration) {
        let store = self.poller.store.clone();
        let before = now_ms() - retention.as_millis() as i64;
        match tokio::task::spawn_blocking(move || store.prune(before)).await {
            Ok(Ok(p)) if p.observations + p.events > 0 => eprintln!(
                "tagwarden watch: pruned {} observations and {} acknowledged events past retention",
                p.observations, p.events
            ),
            Ok(Err(e)) => eprintln!("error: prune: {e}"),
            _ => {}
        }
    }

    /// Expands the configuration into tags (listing repositories for tag patterns, scanning
    /// trees) and writes the list to the store when it changed. A repository that cannot be
    /// listed keeps the tags it had.
    async fn refresh_targets(&mut self) -> Result<(), String> {
        let mut set = TargetSet::default();
        let mut announce: HashSet<(String, String, String)> = HashSet::new();
        let origin = format!("{}", self.config.path.display());
        for pattern in &self.config.patterns {
            match pattern {
                Pattern::Exact(r) => set.add(r, &format!("{origin}: {r}")),
                Pattern::Tags {
                    repository,
                    glob,
                    text,
                } => {
                    let listed = self.list(repository).await;
                    let store = self.poller.store.clone();
                    let (registry, path) = (
                        repository.domain().to_string(),
                        repository.path().to_string(),
                    );
                    let known =
                        tokio::task::spawn_blocking(move || store.known_tags(&registry, &path))
                            .await
                            .map_err(|e| e.to_string())?
                            .map_err(|e| e.to_string())?;
                    let known: HashMap<String, bool> = known.into_iter().collect();
                    let (tags, first) = match listed {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!(
                                "warning: {text}: cannot list tags: {e}; keeping the tags known"
                            );
                            (Vec::new(), false)
                        }
                    };
                    let listed: HashSet<&String> = tags.iter().collect();
                    // Tags that left the list are polled until a poll sees them gone.
                    let kept = known
                        .iter()
                        .filter(|(t, present)| **present && !listed.contains(t))
                        .map(|(t, _)| t);
                    for tag in tags.iter().chain(kept) {
                        if !glob.is_match(tag) {
                            continue;
                        }
                        let Ok(r) = Reference::from_parts(
                            repository.domain(),
                            repository.path(),
                            Some(tag),
                            None,
                        ) else {
                            continue;
                        };
                        if !first && !known.contains_key(tag) {
                            announce.insert((
                                r.domain().to_string(),
                                r.path().to_string(),
                                tag.clone(),
                            ));
                        }
                        set.add(&r, &format!("{origin}: {text}"));
                    }
                }
            }
        }
        if !self.config.scan.is_empty() {
            let sources = self.sources.clone();
            let paths = self.config.scan.clone();
            let found = tokio::task::spawn_blocking(move || sources.scan(&paths))
                .await
                .map_err(|e| e.to_string())??;
            for (r, origin) in found {
                set.add(&r, &origin);
            }
        }
        let targets: Vec<_> = set
            .into_vec()
            .into_iter()
            .map(|t| {
                let key = (
                    t.registry().to_string(),
                    t.repository().to_string(),
                    t.tag().to_string(),
                );
                let news = announce.contains(&key);
                (t, news)
            })
            .collect();
        let mut hasher = DefaultHasher::new();
        for (t, _) in &targets {
            t.reference.to_string().hash(&mut hasher);
            t.pins.iter().for_each(|p| p.to_string().hash(&mut hasher));
            t.origins.hash(&mut hasher);
        }
        let fingerprint = hasher.finish();
        if self.synced == Some(fingerprint) {
            return Ok(());
        }
        let count = targets.len();
        let store = self.poller.store.clone();
        tokio::task::spawn_blocking(move || store.sync_targets(&targets, now_ms()))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        self.synced = Some(fingerprint);
        self.poller.metrics.watched.set(count as i64);
        Ok(())
    }

    /// A repository's tags, paced like polls; true the first time the repository is listed.
    async fn list(&self, repository: &Reference) -> Result<(Vec<String>, bool), String> {
        let limiter = self
            .poller
            .limiter
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let permit = limiter
            .acquire(repository.domain(), Duration::from_secs(60))
            .await
            .ok_or_else(|| {
                format!(
                    "{}: paused after failures or a rate limit",
                    repository.domain()
                )
            })?;
        let tags = self.poller.client.list_tags(repository).await;
        drop(permit);
        let tags = tags.map_err(|e| e.to_string())?;
        let store = self.poller.store.clone();
        let (registry, path) = (
            repository.domain().to_string(),
            repository.path().to_string(),
        );
        let first =
            tokio::task::spawn_blocking(move || store.note_listing(&registry, &path, now_ms()))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        Ok((tags, first))
    }
}

/// SIGHUP asks for a reload; SIGTERM and SIGINT stop the watcher after the polls in flight.
fn spawn_signals(
    poller: Arc<Poller>,
    stop: watch::Sender<bool>,
    wake: Arc<Notify>,
    reload: Arc<AtomicBool>,
) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind| signal(kind).map_err(|e| format!("cannot handle signals: {e}"));
    let mut hup = listen(SignalKind::hangup())?;
    let mut term = listen(SignalKind::terminate())?;
    let mut int = listen(SignalKind::interrupt())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = hup.recv() => {
                    reload.store(true, Ordering::SeqCst);
                    wake.notify_one();
                }
                _ = term.recv() => break,
                _ = int.recv() => break,
            }
        }
        eprintln!("tagwarden watch: stopping after the polls in flight");
        poller.stopping.store(true, Ordering::SeqCst);
        let _ = stop.send(true);
        wake.notify_one();
    });
    Ok(())
}

/// The history of one tag as JSON (`tagwarden watch --export REF`).
pub async fn export_history(options: &Options, reference: &str) -> Result<String, String> {
    let config = load_config(&options.config)?;
    let database = database(options, &config)?;
    let reference = Reference::parse(reference).map_err(|e| format!("{reference}: {e}"))?;
    let store = open_store(database, replica_name(options, &config)).await?;
    let history = tokio::task::spawn_blocking(move || {
        let id = store.find_tag(&reference)?;
        match id {
            Some(id) => store.history(id),
            None => Ok(None),
        }
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?
    .ok_or_else(|| "that tag is not in the history".to_string())?;
    serde_json::to_string_pretty(&history).map_err(|e| e.to_string())
}
