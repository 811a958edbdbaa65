//! What extractor tests look at, in one shape for every kind.

use crate::{Extraction, Form, ImageOccurrence, Source, Span};

/// Text at the span, image or reason, source, context, exact.
pub(crate) type Row<'t> = (&'t str, Result<String, String>, Source, String, bool);

/// The rows of an extraction of `t`, checking that each text is what its span covers.
pub(crate) fn rows<'t>(t: &'t str, out: &Extraction) -> Vec<Row<'t>> {
    out.images
        .iter()
        .map(|o| {
            assert_eq!(o.text, o.span.of(t));
            (
                o.span.of(t),
                o.image.clone().map_err(|e| e.reason),
                o.source,
                o.context.clone().unwrap_or_default(),
                o.exact,
            )
        })
        .collect()
}

/// The row of a literal, exact reference.
pub(crate) fn row(text: &str, source: Source, context: &str) -> Row<'static> {
    let text: &'static str = Box::leak(text.to_string().into_boxed_str());
    (
        text,
        Ok(text.to_string()),
        source,
        context.to_string(),
        true,
    )
}

/// (text at the span, image or `ERR`, source, context)
pub(crate) fn summary(out: &Extraction) -> Vec<(&str, String, Source, &str)> {
    out.images
        .iter()
        .map(|o| {
            (
                o.text.as_str(),
                o.image.clone().unwrap_or_else(|_| "ERR".to_string()),
                o.source,
                o.context.as_deref().unwrap_or(""),
            )
        })
        .collect()
}

/// The names of an expanded occurrence's origins with the text of each.
pub(crate) fn origins<'t>(t: &'t str, o: &ImageOccurrence) -> Vec<(String, &'t str)> {
    origin_spans(o)
        .into_iter()
        .map(|(n, s)| (n, s.of(t)))
        .collect()
}

/// The names and spans of an expanded occurrence's origins.
pub(crate) fn origin_spans(o: &ImageOccurrence) -> Vec<(String, Span)> {
    match &o.form {
        Form::Expanded { origins } => origins.iter().map(|x| (x.name.clone(), x.span)).collect(),
        _ => Vec::new(),
    }
}

/// Hostile-input tests check that work stays linear (not quadratic or worse), never how fast it is:
/// speed is measured by the benchmarks. Work is counted exactly (allocations and bytes), so the
/// bound holds on any machine and still catches a blow-up.
pub(crate) fn linear<T>(input_len: usize, f: impl FnOnce() -> T) -> T {
    tagwarden_testbed::assert_linear("hostile input", input_len, f)
}

/// A YAML alias bomb: `head` (which anchors `&{first}`), twenty levels `l0`..`l19` of six aliases
/// each to the level below, then `tail` (which uses `*l19`). Expanded per path it would be 6^20
/// copies of `head`'s value.
pub(crate) fn alias_bomb(head: &str, first: &str, tail: &str) -> String {
    let mut bomb = String::from(head);
    for i in 0..20 {
        let p = if i == 0 {
            first.to_string()
        } else {
            format!("l{}", i - 1)
        };
        bomb.push_str(&format!(
            "l{i}: &l{i} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        ));
    }
    bomb.push_str(tail);
    bomb
}

#[global_allocator]
static ALLOC: tagwarden_testbed::CountingAllocator = tagwarden_testbed::CountingAllocator;
