//! Integration tests: the real binary on real trees.

mod common;
mod env;
mod pin;
mod scan;
