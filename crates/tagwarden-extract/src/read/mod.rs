//! Readers: the languages configuration is written in, each keeping the byte spans of what it
//! reads, and none knowing which kind of file it reads. The per-kind extractors in
//! [`crate::kind`] are built on them.

pub(crate) mod ci_script;
pub mod github_expr;
pub mod hcl;
pub mod json;
pub(crate) mod placeholder;
pub mod shell;
pub mod value_map;
pub mod vars;
pub mod yaml;
