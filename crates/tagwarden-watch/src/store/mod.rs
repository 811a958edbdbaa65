//! The history: every watched tag, every observation (a run of polls that saw the same thing,
//! with when it was first and last seen), every event and every alert delivery. One schema and
//! one set of queries for SQLite (the default, embedded) and PostgreSQL (replicas).
//!
//! Replicas share the work through leases: a replica claims due tags (`FOR UPDATE SKIP LOCKED`
//! on PostgreSQL; SQLite has one writer at a time), and its writes count only while it still
//! holds the lease, so a tag is polled once per interval whoever polls it; a dead replica's
//! leases expire and another takes them over. Events carry a key that names the transition, and
//! the key is unique, so an event is recorded, printed and alerted once.
//!
//! The methods are blocking: call them from a blocking thread.

mod conn;
mod postgres;
mod schema;
mod sqlite;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::Mutex;

use serde::Serialize;
use tagwarden_findings::Severity;
use tagwarden_reference::{Digest, Reference};

use crate::config::Database;
use crate::event::{Child, EventKind, MaliciousHit, NewEvent, Observed, SignatureIssue};
use crate::target::{TagKind, Target};
pub use conn::StoreError;
use conn::{Conn, Row, Value};

/// A tag this replica holds the lease of, with what was last seen of it.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: i64,
    pub target: Target,
    /// Its first sighting is news (it appeared in a repository listed before).
    pub announce: bool,
    /// The latest observation and its id.
    pub current: Option<(i64, Observed)>,
    /// When the lease was taken, to tell polls that were late.
    pub due: i64,
}

/// What a poll came to.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The registry answered: the tag's manifest, or that there is none.
    Seen {
        observed: Observed,
        /// `head`, or `head+get` when the index was fetched for its children.
        how: &'static str,
        malicious: Vec<MaliciousHit>,
        /// The signature policy refused the new digest.
        signature: Option<SignatureIssue>,
    },
    /// The registry could not be asked, or refused.
    Failed { error: String },
    /// Not polled: due again at `until`. `rate_limited`: the registry answered 429 (else the
    /// registry was paused, or the watcher is stopping).
    Deferred { until: i64, rate_limited: bool },
}

/// One poll, to record.
#[derive(Clone, Debug)]
pub struct PollResult {
    pub tag: Claimed,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub next_due: i64,
    pub outcome: Outcome,
}

/// A recorded event.
#[derive(Clone, Debug, Serialize)]
pub struct StoredEvent {
    pub id: i64,
    pub kind: String,
    pub severity: Severity,
    /// RFC 3339, UTC.
    pub at: String,
    #[serde(skip)]
    pub at_ms: i64,
    pub registry: String,
    pub reference: Option<String>,
    pub tag_id: Option<i64>,
    pub digest_before: Option<String>,
    pub digest_after: Option<String>,
    pub message: String,
    pub detail: serde_json::Value,
    pub replica: String,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
}

/// A watched tag as the page and the API show it.
#[derive(Clone, Debug, Serialize)]
pub struct TagSummary {
    pub id: i64,
    pub reference: String,
    pub kind: String,
    pub digest: Option<String>,
    pub children: Vec<Child>,
    pub pins: Vec<String>,
    pub origins: Vec<String>,
    pub last_checked: Option<String>,
    pub last_changed: Option<String>,
    pub last_error: Option<String>,
    pub failures: i64,
    pub active: bool,
}

/// A run of polls that saw the same thing.
#[derive(Clone, Debug, Serialize)]
pub struct ObservationRecord {
    pub id: i64,
    /// `None`: the tag did not exist.
    pub digest: Option<String>,
    pub media_type: Option<String>,
    pub children: Vec<Child>,
    pub first_seen: String,
    pub last_seen: String,
    pub polls: i64,
    pub how: String,
    pub replica: String,
}

/// One tag's whole history, oldest first: what `--export` and `/api/v1/tags/ID/history` give.
#[derive(Clone, Debug, Serialize)]
pub struct History {
    pub version: u32,
    pub tag: TagSummary,
    pub observations: Vec<ObservationRecord>,
    pub events: Vec<StoredEvent>,
}

/// An alert to deliver to one sink, leased to this replica.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: i64,
    pub sink: String,
    pub attempts: i64,
    pub event: StoredEvent,
}

/// What pruning removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub observations: u64,
    pub events: u64,
}

/// A sink and the least severity it is sent.
pub type Sink = (String, Severity);

/// The store; share it behind an `Arc`.
pub struct Store {
    conn: Mutex<Box<dyn Conn>>,
    replica: String,
}

const EVENT_COLUMNS: &str = "e.id, e.kind, e.severity, e.at, e.registry, e.reference, e.tag_id, e.digest_before, e.digest_after, e.message, e.detail, e.replica, e.acknowledged_at, e.acknowledged_by";

const TAG_COLUMNS: &str = "t.id, t.registry, t.repository, t.tag, t.kind, o.digest, o.children, t.pins, t.origins, t.last_checked, t.last_changed, t.last_error, t.failures, t.active";

impl Store {
    /// Opens (creating the SQLite file if needed) and migrates to the current schema.
    pub fn open(database: &Database, replica: &str) -> Result<Store, StoreError> {
        let conn: Box<dyn Conn> = match database {
            Database::Sqlite(path) => Box::new(sqlite::Sqlite::open(path)?),
            Database::Postgres(url) => Box::new(postgres::Postgres::connect(url)?),
        };
        let store = Store {
            conn: Mutex::new(conn),
            replica: replica.to_string(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The replica name this store writes as.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Box<dyn Conn>> {
        // A panic while holding the lock left no transaction open that matters: a new statement
        // on a connection in a failed transaction errors and the caller rolls back.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in a transaction, rolled back when it fails; a deadlock or serialization
    /// failure between replicas is tried again.
    fn transaction<T>(
        &self,
        mut f: impl FnMut(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let mut tries = 0;
        loop {
            tries += 1;
            conn.begin()?;
            let result = f(conn.as_mut()).and_then(|v| conn.batch("COMMIT").map(|()| v));
            match result {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let _ = conn.batch("ROLLBACK");
                    if !e.is_retryable() || tries >= 5 {
                        return Err(e);
                    }
                }
            }
        }
    }

    fn migrate(&self) -> Result<(), StoreError> {
        self.transaction(|c| {
            let dialect = c.dialect();
            if dialect == conn::Dialect::Postgres {
                // Replicas starting together migrate one after the other.
                c.batch("SELECT pg_advisory_xact_lock(7403418213)")?;
            }
            c.batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            )?;
            let applied: HashSet<i64> = c
                .query("SELECT version FROM schema_migrations", &[])?
                .iter()
                .map(|r| r.int(0))
                .collect();
            let newest = schema::MIGRATIONS.last().map_or(0, |m| m.0);
            if let Some(v) = applied.iter().find(|v| **v > newest) {
                return Err(StoreError(format!(
                    "the database has schema version {v}, newer than this tagwarden knows ({newest}); upgrade tagwarden"
                )));
            }
            for (version, sql) in schema::MIGRATIONS {
                if applied.contains(version) {
                    continue;
                }
                c.batch(&dialect.render(sql))?;
                c.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    &[(*version).into(), now_ms().into()],
                )?;
            }
            Ok(())
        })
    }

    /// Gives up the leases a previous run of this replica held (it was killed mid-cycle), so
    /// that its tags are polled now rather than when the leases expire.
    pub fn release_own_leases(&self) -> Result<u64, StoreError> {
        let mut c = self.lock();
        c.execute(
            "UPDATE tags SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = $1",
            &[self.replica.as_str().into()],
        )
    }

    /// Makes the watched set exactly `targets`: new tags are added (due at once), known ones
    /// updated, the others kept with their history but no longer polled. `announce` says which
    /// new tags are news (found in a repository listed before).
    pub fn sync_targets(
        &self,
        targets: &[(Target, bool)],
        generation: i64,
    ) -> Result<(), StoreError> {
        for chunk in targets.chunks(500) {
            self.transaction(|c| {
                for (t, announce) in chunk {
                    c.execute(
                        "INSERT INTO tags (registry, repository, tag, kind, pins, origins, active, synced, announce, next_due)
                         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, 0)
                         ON CONFLICT (registry, repository, tag) DO UPDATE SET
                           kind = excluded.kind, pins = excluded.pins, origins = excluded.origins,
                           active = 1, synced = excluded.synced",
                        &[
                            t.registry().into(),
                            t.repository().into(),
                            t.tag().into(),
                            t.kind.as_str().into(),
                            json(&t.pins.iter().map(|d| d.to_string()).collect::<Vec<_>>()).into(),
                            json(&t.origins).into(),
                            generation.into(),
                            i64::from(*announce).into(),
                        ],
                    )?;
                }
                Ok(())
            })?;
        }
        let mut c = self.lock();
        c.execute(
            "UPDATE tags SET active = 0 WHERE active = 1 AND synced < $1",
            &[generation.into()],
        )?;
        Ok(())
    }

    /// Records that a repository was listed; true the first time (its tags are a baseline).
    pub fn note_listing(
        &self,
        registry: &str,
        repository: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut c = self.lock();
        let first = c.execute(
            "INSERT INTO listings (registry, repository, first_listed, last_listed) VALUES ($1, $2, $3, $3)
             ON CONFLICT (registry, repository) DO NOTHING",
            &[registry.into(), repository.into(), now.into()],
        )? == 1;
        if !first {
            c.execute(
                "UPDATE listings SET last_listed = $3 WHERE registry = $1 AND repository = $2",
                &[registry.into(), repository.into(), now.into()],
            )?;
        }
        Ok(first)
    }

    /// Leases up to `limit` tags for `lease_ms`, most overdue first: those due by `now`, or with
    /// `unchecked_since`, every tag not checked since then (one full cycle, for `--once`).
    pub fn claim_due(
        &self,
        now: i64,
        lease_ms: i64,
        limit: usize,
        unchecked_since: Option<i64>,
    ) -> Result<Vec<Claimed>, StoreError> {
        let until = now + lease_ms;
        self.transaction(|c| {
            let due = match unchecked_since {
                None => "next_due <= $5",
                Some(_) => "(last_checked IS NULL OR last_checked < $5)",
            };
            let sql = c.dialect().render(&format!(
                "UPDATE tags SET lease_owner = $1, lease_until = $2 WHERE id IN (
                   SELECT id FROM tags WHERE active = 1 AND {due}
                     AND (lease_owner IS NULL OR lease_until < $3)
                   ORDER BY next_due LIMIT $4{{skip_locked}})"
            ));
            let claimed = c.execute(
                &sql,
                &[
                    self.replica.as_str().into(),
                    until.into(),
                    now.into(),
                    (limit as i64).into(),
                    unchecked_since.unwrap_or(now).into(),
                ],
            )?;
            if claimed == 0 {
                return Ok(Vec::new());
            }
            let rows = c.query(
                "SELECT t.id, t.registry, t.repository, t.tag, t.kind, t.pins, t.origins, t.announce,
                        t.current_obs, o.digest, o.media_type, o.children, t.next_due
                 FROM tags t LEFT JOIN observations o ON o.id = t.current_obs
                 WHERE t.lease_owner = $1 AND t.lease_until = $2",
                &[self.replica.as_str().into(), until.into()],
            )?;
            Ok(rows.iter().filter_map(claimed_from_row).collect())
        })
    }

    /// The tags known in a repository, with whether the latest observation saw them: a tag that
    /// left the tag list stays watched until a poll sees it gone.
    pub fn known_tags(
        &self,
        registry: &str,
        repository: &str,
    ) -> Result<Vec<(String, bool)>, StoreError> {
        let mut c = self.lock();
        let rows = c.query(
            "SELECT t.tag, t.current_obs, o.digest FROM tags t LEFT JOIN observations o ON o.id = t.current_obs
             WHERE t.registry = $1 AND t.repository = $2 AND t.active = 1",
            &[registry.into(), repository.into()],
        )?;
        // Never polled yet counts as there.
        Ok(rows
            .iter()
            .map(|r| (r.text(0), r.opt_int(1).is_none() || r.opt_text(2).is_some()))
            .collect())
    }

    /// When the next tag falls due, if any is watched.
    pub fn next_due(&self) -> Result<Option<i64>, StoreError> {
        let mut c = self.lock();
        let rows = c.query("SELECT MIN(next_due) FROM tags WHERE active = 1", &[])?;
        Ok(rows.first().and_then(|r| r.opt_int(0)))
    }

    /// Records a batch of polls in one transaction and returns the events that were new. A
    /// poll whose lease was lost meanwhile (another replica took the tag over) is dropped.
    pub fn record(
        &self,
        results: &[PollResult],
        sinks: &[Sink],
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.transaction(|c| {
            let mut new_events = Vec::new();
            for r in results {
                self.record_one(c, r, sinks, &mut new_events)?;
            }
            Ok(new_events)
        })
    }

    fn record_one(
        &self,
        c: &mut dyn Conn,
        r: &PollResult,
        sinks: &[Sink],
        new_events: &mut Vec<StoredEvent>,
    ) -> Result<(), StoreError> {
        let replica: Value = self.replica.as_str().into();
        let id = r.tag.id;
        let (observed, how, malicious, signature) = match &r.outcome {
            Outcome::Deferred { until, .. } => {
                c.execute(
                    "UPDATE tags SET next_due = $1, lease_owner = NULL, lease_until = 0 WHERE id = $2 AND lease_owner = $3",
                    &[(*until).into(), id.into(), replica],
                )?;
                return Ok(());
            }
            Outcome::Failed { error } => {
                c.execute(
                    "UPDATE tags SET last_checked = $1, next_due = $2, failures = failures + 1, last_error = $3,
                       lease_owner = NULL, lease_until = 0 WHERE id = $4 AND lease_owner = $5",
                    &[r.at.into(), r.next_due.into(), error.as_str().into(), id.into(), replica],
                )?;
                return Ok(());
            }
            Outcome::Seen {
                observed,
                how,
                malicious,
                signature,
            } => (observed, *how, malicious, signature.as_ref()),
        };
        let still_ours = c.execute(
            "UPDATE tags SET last_checked = $1, next_due = $2, failures = 0, last_error = NULL,
               lease_owner = NULL, lease_until = 0 WHERE id = $3 AND lease_owner = $4",
            &[r.at.into(), r.next_due.into(), id.into(), replica.clone()],
        )? == 1;
        if !still_ours {
            return Ok(());
        }
        let reference = r.tag.target.reference.to_string();
        let unchanged = r
            .tag
            .current
            .as_ref()
            .filter(|(_, current)| current == observed);
        if let Some((obs_id, _)) = unchanged {
            c.execute(
                "UPDATE observations SET last_seen = $1, polls = polls + 1 WHERE id = $2",
                &[r.at.into(), (*obs_id).into()],
            )?;
        }
        // Pins and advisories can make an unchanged tag news (after a reload); otherwise an
        // unchanged tag needs nothing more.
        let events = if unchanged.is_none()
            || !r.tag.target.pins.is_empty()
            || !malicious.is_empty()
        {
            let served: HashSet<String> = c
                .query(
                    "SELECT DISTINCT digest FROM observations WHERE tag_id = $1 AND digest IS NOT NULL",
                    &[id.into()],
                )?
                .iter()
                .map(|row| row.text(0))
                .collect();
            let pins: Vec<String> = r.tag.target.pins.iter().map(Digest::to_string).collect();
            let judged = crate::event::Judged {
                tag_id: id,
                reference: &reference,
                kind: r.tag.target.kind,
                pins: &pins,
                previous: r.tag.current.as_ref().map(|(i, o)| (*i, o)),
                served_before: &served,
                announce: r.tag.announce,
                malicious,
                signature,
            };
            crate::event::judge(&judged, observed)
        } else {
            Vec::new()
        };
        if unchanged.is_none() {
            self.insert_observation(c, r, observed, how)?;
        }
        for e in events {
            if let Some(stored) = self.insert_event(
                c,
                &e,
                r.tag.target.registry(),
                Some(&reference),
                Some(id),
                r.at,
                sinks,
            )? {
                new_events.push(stored);
            }
        }
        Ok(())
    }

    fn insert_observation(
        &self,
        c: &mut dyn Conn,
        r: &PollResult,
        observed: &Observed,
        how: &str,
    ) -> Result<(), StoreError> {
        let (digest, media_type, children) = match observed {
            Observed::Present {
                digest,
                media_type,
                children,
            } => (
                Some(digest.as_str()),
                Some(media_type.as_str()),
                json(children),
            ),
            Observed::Absent => (None, None, "[]".to_string()),
        };
        let obs = c.query(
            "INSERT INTO observations (tag_id, digest, media_type, children, first_seen, last_seen, polls, how, replica)
             VALUES ($1, $2, $3, $4, $5, $5, 1, $6, $7) RETURNING id",
            &[
                r.tag.id.into(),
                digest.into(),
                media_type.into(),
                children.into(),
                r.at.into(),
                how.into(),
                self.replica.as_str().into(),
            ],
        )?;
        let obs_id = obs.first().map_or(0, |row| row.int(0));
        c.execute(
            "UPDATE tags SET current_obs = $1, last_changed = $2, announce = 0 WHERE id = $3",
            &[obs_id.into(), r.at.into(), r.tag.id.into()],
        )?;
        Ok(())
    }

    /// Records an event that is not about one poll (registry health); `None` when its key
    /// was recorded before.
    pub fn add_event(
        &self,
        event: &NewEvent,
        registry: &str,
        at: i64,
        sinks: &[Sink],
    ) -> Result<Option<StoredEvent>, StoreError> {
        self.transaction(|c| self.insert_event(c, event, registry, None, None, at, sinks))
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_event(
        &self,
        c: &mut dyn Conn,
        e: &NewEvent,
        registry: &str,
        reference: Option<&str>,
        tag_id: Option<i64>,
        at: i64,
        sinks: &[Sink],
    ) -> Result<Option<StoredEvent>, StoreError> {
        let rows = c.query(
            "INSERT INTO events (key, tag_id, registry, reference, kind, severity, at, digest_before, digest_after, message, detail, replica)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (key) DO NOTHING RETURNING id",
            &[
                e.key.as_str().into(),
                tag_id.into(),
                registry.into(),
                reference.into(),
                e.kind.as_str().into(),
                e.severity.as_str().into(),
                at.into(),
                e.digest_before.clone().into(),
                e.digest_after.clone().into(),
                e.message.as_str().into(),
                e.detail.to_string().into(),
                self.replica.as_str().into(),
            ],
        )?;
        let Some(event_id) = rows.first().map(|row| row.int(0)) else {
            return Ok(None);
        };
        for (sink, least) in sinks {
            if e.severity >= *least {
                c.execute(
                    "INSERT INTO deliveries (event_id, sink, next_attempt) VALUES ($1, $2, $3)
                     ON CONFLICT (event_id, sink) DO NOTHING",
                    &[event_id.into(), sink.as_str().into(), at.into()],
                )?;
            }
        }
        Ok(Some(StoredEvent {
            id: event_id,
            kind: e.kind.as_str().to_string(),
            severity: e.severity,
            at: rfc3339(at),
            at_ms: at,
            registry: registry.to_string(),
            reference: reference.map(str::to_string),
            tag_id,
            digest_before: e.digest_before.clone(),
            digest_after: e.digest_after.clone(),
            message: e.message.clone(),
            detail: e.detail.clone(),
            replica: self.replica.clone(),
            acknowledged_at: None,
            acknowledged_by: None,
        }))
    }

    /// Watched tags (and, with `all`, those no longer watched), by name; `query` filters on a
    /// substring of the reference.
    pub fn tags(
        &self,
        query: Option<&str>,
        all: bool,
        limit: usize,
    ) -> Result<Vec<TagSummary>, StoreError> {
        let mut c = self.lock();
        let pattern = format!("%{}%", query.unwrap_or("").replace(['%', '_'], ""));
        let rows = c.query(
            &format!(
                "SELECT {TAG_COLUMNS} FROM tags t LEFT JOIN observations o ON o.id = t.current_obs
                 WHERE (t.active = 1 OR CAST($1 AS BIGINT) = 1) AND (t.registry || '/' || t.repository || ':' || t.tag) LIKE $2
                 ORDER BY t.registry, t.repository, t.tag LIMIT $3"
            ),
            &[i64::from(all).into(), pattern.into(), (limit as i64).into()],
        )?;
        Ok(rows.iter().map(tag_from_row).collect())
    }

    /// How many tags are watched.
    pub fn count_watched(&self) -> Result<i64, StoreError> {
        let mut c = self.lock();
        let rows = c.query("SELECT COUNT(*) FROM tags WHERE active = 1", &[])?;
        Ok(rows.first().map_or(0, |r| r.int(0)))
    }

    /// The id of a tag by reference (`registry/repository:tag`).
    pub fn find_tag(&self, reference: &Reference) -> Result<Option<i64>, StoreError> {
        let mut c = self.lock();
        let rows = c.query(
            "SELECT id FROM tags WHERE registry = $1 AND repository = $2 AND tag = $3",
            &[
                reference.domain().into(),
                reference.path().into(),
                reference.effective_tag().unwrap_or("latest").into(),
            ],
        )?;
        Ok(rows.first().map(|r| r.int(0)))
    }

    /// One tag's history, oldest first.
    pub fn history(&self, tag_id: i64) -> Result<Option<History>, StoreError> {
        let mut c = self.lock();
        let rows = c.query(
            &format!(
                "SELECT {TAG_COLUMNS} FROM tags t LEFT JOIN observations o ON o.id = t.current_obs WHERE t.id = $1"
            ),
            &[tag_id.into()],
        )?;
        let Some(tag) = rows.first().map(tag_from_row) else {
            return Ok(None);
        };
        let observations = c
            .query(
                "SELECT id, digest, media_type, children, first_seen, last_seen, polls, how, replica
                 FROM observations WHERE tag_id = $1 ORDER BY id",
                &[tag_id.into()],
            )?
            .iter()
            .map(|r| ObservationRecord {
                id: r.int(0),
                digest: r.opt_text(1),
                media_type: r.opt_text(2),
                children: parse_children(&r.text(3)),
                first_seen: rfc3339(r.int(4)),
                last_seen: rfc3339(r.int(5)),
                polls: r.int(6),
                how: r.text(7),
                replica: r.text(8),
            })
            .collect();
        let events = c
            .query(
                &format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.tag_id = $1 ORDER BY e.id"),
                &[tag_id.into()],
            )?
            .iter()
            .map(event_from_row)
            .collect();
        Ok(Some(History {
            version: 1,
            tag,
            observations,
            events,
        }))
    }

    /// Events, newest first: only those not acknowledged with `open`.
    pub fn events(&self, open: bool, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let mut c = self.lock();
        let rows = c.query(
            &format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE (CAST($1 AS BIGINT) = 0 OR e.acknowledged_at IS NULL)
                 ORDER BY e.id DESC LIMIT $2"
            ),
            &[i64::from(open).into(), (limit as i64).into()],
        )?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    /// Acknowledges an event; false when there is no such open event.
    pub fn acknowledge(&self, event_id: i64, by: &str, now: i64) -> Result<bool, StoreError> {
        let mut c = self.lock();
        Ok(c.execute(
            "UPDATE events SET acknowledged_at = $1, acknowledged_by = $2 WHERE id = $3 AND acknowledged_at IS NULL",
            &[now.into(), by.into(), event_id.into()],
        )? == 1)
    }

    /// Leases deliveries that are due.
    pub fn claim_deliveries(
        &self,
        now: i64,
        lease_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let until = now + lease_ms;
        self.transaction(|c| {
            let sql = c.dialect().render(
                "UPDATE deliveries SET lease_owner = $1, lease_until = $2 WHERE id IN (
                   SELECT id FROM deliveries WHERE delivered_at IS NULL AND failed_at IS NULL
                     AND next_attempt <= $3 AND (lease_owner IS NULL OR lease_until < $3)
                   ORDER BY id LIMIT $4{skip_locked})",
            );
            let n = c.execute(
                &sql,
                &[
                    self.replica.as_str().into(),
                    until.into(),
                    now.into(),
                    (limit as i64).into(),
                ],
            )?;
            if n == 0 {
                return Ok(Vec::new());
            }
            let rows = c.query(
                &format!(
                    "SELECT d.id, d.sink, d.attempts, {EVENT_COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id
                     WHERE d.lease_owner = $1 AND d.lease_until = $2 ORDER BY d.id"
                ),
                &[self.replica.as_str().into(), until.into()],
            )?;
            Ok(rows
                .iter()
                .map(|r| Delivery {
                    id: r.int(0),
                    sink: r.text(1),
                    attempts: r.int(2),
                    event: event_from_row(&Row(r.0[3..].to_vec())),
                })
                .collect())
        })
    }

    /// Records a delivery's outcome: delivered, to be retried at `retry_at`, or given up.
    pub fn finish_delivery(
        &self,
        id: i64,
        now: i64,
        outcome: Result<(), String>,
        retry_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut c = self.lock();
        match (outcome, retry_at) {
            (Ok(()), _) => c.execute(
                "UPDATE deliveries SET delivered_at = $1, attempts = attempts + 1, lease_owner = NULL, last_error = NULL WHERE id = $2",
                &[now.into(), id.into()],
            ),
            (Err(e), Some(at)) => c.execute(
                "UPDATE deliveries SET attempts = attempts + 1, next_attempt = $1, last_error = $2, lease_owner = NULL, lease_until = 0 WHERE id = $3",
                &[at.into(), e.into(), id.into()],
            ),
            (Err(e), None) => c.execute(
                "UPDATE deliveries SET attempts = attempts + 1, failed_at = $1, last_error = $2, lease_owner = NULL WHERE id = $3",
                &[now.into(), e.into(), id.into()],
            ),
        }?;
        Ok(())
    }

    /// Deliveries as (sink, delivered, pending, failed) counts, for the page and metrics.
    pub fn delivery_counts(&self) -> Result<Vec<(String, i64, i64, i64)>, StoreError> {
        let mut c = self.lock();
        let rows = c.query(
            "SELECT sink,
                    SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END),
                    SUM(CASE WHEN delivered_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END),
                    SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END)
             FROM deliveries GROUP BY sink ORDER BY sink",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| (r.text(0), r.int(1), r.int(2), r.int(3)))
            .collect())
    }

    /// Forgets observations last seen before `before` (never a tag's latest), and acknowledged
    /// events (with their deliveries) older than that.
    pub fn prune(&self, before: i64) -> Result<Pruned, StoreError> {
        self.transaction(|c| {
            let observations = c.execute(
                "DELETE FROM observations WHERE last_seen < $1
                   AND id NOT IN (SELECT current_obs FROM tags WHERE current_obs IS NOT NULL)",
                &[before.into()],
            )?;
            c.execute(
                "DELETE FROM deliveries WHERE event_id IN
                   (SELECT id FROM events WHERE at < $1 AND acknowledged_at IS NOT NULL)",
                &[before.into()],
            )?;
            let events = c.execute(
                "DELETE FROM events WHERE at < $1 AND acknowledged_at IS NOT NULL",
                &[before.into()],
            )?;
            Ok(Pruned {
                observations,
                events,
            })
        })
    }
}

fn claimed_from_row(r: &Row) -> Option<Claimed> {
    let tag = r.text(3);
    let reference = Reference::from_parts(&r.text(1), &r.text(2), Some(&tag), None).ok()?;
    let pins = parse_strings(&r.text(5))
        .iter()
        .filter_map(|p| Digest::parse(p).ok())
        .collect();
    let current = r.opt_int(8).map(|obs| {
        let observed = match r.opt_text(9) {
            Some(digest) => Observed::Present {
                digest,
                media_type: r.text(10),
                children: parse_children(&r.text(11)),
            },
            None => Observed::Absent,
        };
        (obs, observed)
    });
    Some(Claimed {
        id: r.int(0),
        target: Target {
            reference,
            kind: TagKind::parse(&r.text(4)),
            pins,
            origins: parse_strings(&r.text(6)),
        },
        announce: r.int(7) == 1,
        current,
        due: r.int(12),
    })
}

fn tag_from_row(r: &Row) -> TagSummary {
    TagSummary {
        id: r.int(0),
        reference: format!("{}/{}:{}", r.text(1), r.text(2), r.text(3)),
        kind: r.text(4),
        digest: r.opt_text(5),
        children: r
            .opt_text(6)
            .map(|c| parse_children(&c))
            .unwrap_or_default(),
        pins: parse_strings(&r.text(7)),
        origins: parse_strings(&r.text(8)),
        last_checked: r.opt_int(9).map(rfc3339),
        last_changed: r.opt_int(10).map(rfc3339),
        last_error: r.opt_text(11),
        failures: r.int(12),
        active: r.int(13) == 1,
    }
}

fn event_from_row(r: &Row) -> StoredEvent {
    let at = r.int(3);
    StoredEvent {
        id: r.int(0),
        kind: r.text(1),
        severity: r.text(2).parse().unwrap_or(Severity::Info),
        at: rfc3339(at),
        at_ms: at,
        registry: r.text(4),
        reference: r.opt_text(5),
        tag_id: r.opt_int(6),
        digest_before: r.opt_text(7),
        digest_after: r.opt_text(8),
        message: r.text(9),
        detail: serde_json::from_str(&r.text(10)).unwrap_or(serde_json::Value::Null),
        replica: r.text(11),
        acknowledged_at: r.opt_int(12).map(rfc3339),
        acknowledged_by: r.opt_text(13),
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

fn parse_strings(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

fn parse_children(text: &str) -> Vec<Child> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Milliseconds since the epoch as RFC 3339 UTC, to the second.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Whether `kind` names a known event kind (for filters).
pub fn is_event_kind(kind: &str) -> bool {
    EventKind::parse(kind).is_some()
}
