//! Advisories in and out of the formats defenders share. Takes and returns text; the caller does
//! the I/O.
//!
//! - [`import`]: STIX 2.1 bundles, MISP events, OSV records (GitHub Actions), OpenVEX and CSAF VEX
//!   documents become tagwarden advisories (TOML, loaded by `tagwarden-advisory`), keeping each
//!   value's source and confidence; what cannot be mapped is listed, never dropped silently.
//! - [`export`]: an advisory as a STIX 2.1 bundle, a MISP event, and Sigma rules for DNS and proxy
//!   logs.

pub mod export;
pub mod import;
