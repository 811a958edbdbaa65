//! YAML: a span-keeping tree ([`Yaml`], [`NodeRef`]), and what the extractors build on it: the
//! documents of a file read leniently ([`for_each_document`]), mappings with merge keys applied
//! ([`merged_entries`]), scalars read from the file's bytes ([`scalar_at`]), and the collector of
//! occurrences ([`Found`]).

mod documents;
mod entries;
mod found;
mod tree;

pub(crate) use documents::{for_each_document, parse};
pub(crate) use entries::{
    Entry, Scalar, is_null, key_path, lookup, merged_entries, scalar_at, scalar_site, str_of,
};
pub(crate) use found::{Found, literal_occurrence, with_via};
pub use tree::{MAX_DEPTH, MAX_NODES, Node, NodeId, NodeKind, NodeRef, Style, Yaml, YamlError};
