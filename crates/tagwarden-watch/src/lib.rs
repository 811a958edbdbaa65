//! `tagwarden watch`: a watcher of image tags for security. It polls registries (`HEAD`, and a
//! `GET` of an index only when its digest is new), keeps every observation and event in SQLite
//! or PostgreSQL, judges each change (a release tag that moved, one platform swapped inside an
//! index, a digest an advisory lists as malicious, a pin that no longer holds), alerts on
//! standard output and webhooks, and serves a page, a JSON API and Prometheus metrics.
//!
//! - [`config`]: the configuration file, parsed without I/O.
//! - [`target`]: what is watched, and release-like versus floating tags.
//! - [`event`]: the judge, pure: from the previous and new observation to events.
//! - [`store`]: the history, with leases for replicas and unique event keys.
//! - [`poller`], [`limiter`]: polling and pacing per registry.
//! - [`alert`], [`web`], [`metrics`]: what the outside sees.
//! - [`audit`]: registry audit-log exports tailed and judged, findings as events.
//! - [`daemon`]: the loop, signals, reloads and `--once`.

pub mod alert;
pub mod audit;
pub mod config;
pub mod daemon;
pub mod event;
pub mod limiter;
pub mod metrics;
pub mod poller;
pub mod store;
pub mod target;
pub mod web;

pub use config::{ConfigError, Database, WatchConfig};
pub use daemon::{Options, Sources, run};
