//! The schema, as numbered migrations shared by SQLite and PostgreSQL. A migration is never
//! edited once released: a change is a new one. `{id}` is each dialect's auto-increment key.

/// `(version, statements)`, applied in order, each in the transaction that records it.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "
CREATE TABLE tags (
    id {id},
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    kind TEXT NOT NULL,
    pins TEXT NOT NULL DEFAULT '[]',
    origins TEXT NOT NULL DEFAULT '[]',
    active BIGINT NOT NULL DEFAULT 1,
    synced BIGINT NOT NULL DEFAULT 0,
    announce BIGINT NOT NULL DEFAULT 0,
    current_obs BIGINT,
    last_checked BIGINT,
    last_changed BIGINT,
    last_error TEXT,
    failures BIGINT NOT NULL DEFAULT 0,
    next_due BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    UNIQUE (registry, repository, tag)
);
CREATE INDEX tags_due ON tags (active, next_due);
CREATE TABLE observations (
    id {id},
    tag_id BIGINT NOT NULL REFERENCES tags (id),
    digest TEXT,
    media_type TEXT,
    children TEXT NOT NULL DEFAULT '[]',
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    polls BIGINT NOT NULL DEFAULT 1,
    how TEXT NOT NULL,
    replica TEXT NOT NULL
);
CREATE INDEX observations_tag ON observations (tag_id, id);
CREATE TABLE events (
    id {id},
    key TEXT NOT NULL UNIQUE,
    tag_id BIGINT REFERENCES tags (id),
    registry TEXT NOT NULL,
    reference TEXT,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    at BIGINT NOT NULL,
    digest_before TEXT,
    digest_after TEXT,
    message TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    replica TEXT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT
);
CREATE INDEX events_tag ON events (tag_id, id);
CREATE INDEX events_open ON events (acknowledged_at, id);
CREATE TABLE deliveries (
    id {id},
    event_id BIGINT NOT NULL REFERENCES events (id),
    sink TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    failed_at BIGINT,
    last_error TEXT,
    UNIQUE (event_id, sink)
);
CREATE INDEX deliveries_due ON deliveries (delivered_at, failed_at, next_attempt);
CREATE TABLE listings (
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    first_listed BIGINT NOT NULL,
    last_listed BIGINT NOT NULL,
    PRIMARY KEY (registry, repository)
);
",
)];
