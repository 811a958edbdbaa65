//! The collector of a YAML extractor's occurrences, and the occurrence of a scalar that holds a
//! whole reference.

use std::collections::{HashMap, HashSet};

use super::{NodeRef, scalar_at};
use crate::read::placeholder::{TEMPLATE_REASON, placeholder_reason};
use crate::{Diagnostic, Extraction, Form, ImageOccurrence, Source, Span, Unresolved};

/// An occurrence for a scalar that holds a whole image reference (no variable syntax of its own).
pub(crate) fn literal_occurrence(
    node: NodeRef<'_, '_>,
    via: Option<Span>,
    source: Source,
    context: Option<String>,
    file: &str,
) -> Option<ImageOccurrence> {
    let s = scalar_at(node, file)?;
    if s.value.trim().is_empty() {
        return None;
    }
    let image = if s.templated {
        Err(Unresolved::new(TEMPLATE_REASON))
    } else if let Some(reason) = placeholder_reason(&s.value) {
        Err(Unresolved::new(reason))
    } else {
        Ok(s.value.clone())
    };
    Some(ImageOccurrence {
        span: s.span,
        text: s.text,
        image,
        source,
        form: Form::Literal,
        alias_sites: with_via(s.alias_sites, via),
        context,
        exact: s.exact,
    })
}

pub(crate) fn with_via(mut sites: Vec<Span>, via: Option<Span>) -> Vec<Span> {
    if let Some(v) = via
        && !sites.contains(&v)
    {
        sites.push(v);
    }
    sites
}

/// How many alias sites one occurrence records; more add nothing a reader needs.
const MAX_ALIAS_SITES: usize = 256;

/// What an extractor found so far. Occurrences reached again through a YAML alias are merged in
/// constant time (`Extraction::push_image` compares with every image found so far, which is
/// quadratic on files with many images).
#[derive(Default)]
pub(crate) struct Found {
    out: Extraction,
    index: HashMap<(Span, Source, Result<String, String>), usize>,
    /// Container lists already reported (an aliased list is reported once).
    lists: HashSet<usize>,
    /// Step lists whose scripts were read.
    script_lists: HashSet<usize>,
    /// Names the file assigns somewhere (`NAME=`), computed once when a script needs them.
    assigned: Option<std::rc::Rc<HashSet<String>>>,
}

impl Found {
    pub(crate) fn push(&mut self, occ: ImageOccurrence) {
        let image = occ.image.clone().map_err(|u| u.reason);
        let key = (occ.span, occ.source, image);
        match self
            .index
            .get(&key)
            .and_then(|&i| self.out.images.get_mut(i))
        {
            Some(existing) => {
                for s in occ.alias_sites {
                    if existing.alias_sites.len() < MAX_ALIAS_SITES
                        && !existing.alias_sites.contains(&s)
                    {
                        existing.alias_sites.push(s);
                    }
                }
            }
            None => {
                self.index.insert(key, self.out.images.len());
                self.out.images.push(occ);
            }
        }
    }

    pub(crate) fn note(&mut self, span: Span, message: impl Into<String>) {
        self.out.note(span, message);
    }

    pub(crate) fn parse_error(&mut self, span: Span, message: impl Into<String>) {
        self.out.parse_error(span, message);
    }

    pub(crate) fn diagnostic(&mut self, d: Diagnostic) {
        self.out.diagnostics.push(d);
    }

    /// The extraction being built, for extractors that record through [`Extraction`] helpers
    /// (`ci_script::scalar_images`) while reading documents with [`for_each_document`].
    pub(crate) fn extraction(&mut self) -> &mut Extraction {
        &mut self.out
    }

    /// True the first time a container list (by node) is seen.
    pub(crate) fn first_visit(&mut self, list: NodeRef<'_, '_>) -> bool {
        list.resolve().is_none_or(|l| self.lists.insert(l.id()))
    }

    /// True the first time the scripts of a step list (by node) are read.
    pub(crate) fn first_script_visit(&mut self, list: NodeRef<'_, '_>) -> bool {
        list.resolve()
            .is_none_or(|l| self.script_lists.insert(l.id()))
    }

    /// Names the file's scripts assign, computed by `scan` the first time a script needs them
    /// and kept for the rest of the file.
    pub(crate) fn assigned_names(
        &mut self,
        scan: impl FnOnce() -> HashSet<String>,
    ) -> std::rc::Rc<HashSet<String>> {
        self.assigned
            .get_or_insert_with(|| std::rc::Rc::new(scan()))
            .clone()
    }

    /// The extraction, in file order.
    pub(crate) fn finish(self) -> Extraction {
        let mut out = self.out;
        out.images.sort_by_key(|o| (o.span.start, o.span.end));
        out.diagnostics.sort_by_key(|d| d.span.start);
        out
    }
}
