//! `tagwarden purge`: remove malicious images from container engines, registries and
//! pull-through caches, and say what is left to do by hand in clusters.
//!
//! Plan first, always ([`plan`]): every target found (engine images and the containers created
//! from them, registry manifests by digest with their tags, indexes holding a malicious child,
//! signatures and referrers attached to them, pods running the digest with their owners), what
//! will be done to each, and what cannot be done. [`execute`] carries the plan out, one step at
//! a time, each written to the [`journal`] before and after it is taken; then the purge is
//! planned again to prove what is left. A second run is a no-op: targets already gone are not
//! found again, and the journal says when they went.
//!
//! The rules kept:
//! - Only what a malicious digest names is touched: an engine image whose `RepoDigests` hold
//!   one, a manifest whose bytes the registry served and that hash to one (or an index that
//!   lists one, or an artifact whose subject is one), never a tag by name.
//! - Containers are stopped and removed only with `force`; otherwise they block their image.
//! - A registry that refuses deletes (deletes disabled, or a pull-through cache, which is
//!   read-only) is reported with what to do instead, never retried into an error storm.
//! - Restoring a tag to a known-good digest happens only when asked, when that digest is in the
//!   repository (its bytes checked) and no advisory calls it malicious.

pub mod execute;
pub mod journal;
pub mod output;
pub mod plan;
pub mod targets;

pub use execute::{Executed, execute};
pub use plan::{Inputs, Malicious, Plan, Registry, plan};
pub use targets::{Action, HarborPlace, Owner, Role, State, Step, Target};
