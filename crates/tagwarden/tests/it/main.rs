//! Integration tests: the real binary on real trees.
#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions.

mod advisory;
mod audit;
mod ci_commands;
mod common;
mod dist;
mod env;
mod exposure;
mod hunt;
mod hunt_export;
mod pin;
mod purge;
mod registry_attacks;
mod safety;
mod scan;
mod signatures;
mod watch;
mod watch_audit;
mod watch_signatures;
mod watch_support;
