//! The purge's outputs, one module each: the terminal summary, the versioned JSON, and the
//! Markdown section `hunt --report` includes. Every piece of text that came from an engine, a
//! registry or a file is escaped for where it goes.

pub mod human;
pub mod json;
pub mod markdown;
