//! Every extractor: never panics, every reported span is inside the text, on char boundaries,
//! and spells the reported text, and every place a rewrite may target (an origin, a part, an
//! alias site) is inside the text on char boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_extract::{FileKind, Form, Span, extract};

const KINDS: &[FileKind] = FileKind::ALL;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let kind = KINDS[selector as usize % KINDS.len()];
    let out = extract(kind, text);
    let inside = |s: &Span| text.get(s.start..s.end).is_some();
    for o in &out.images {
        assert_eq!(text.get(o.span.start..o.span.end), Some(o.text.as_str()), "{kind:?}");
        assert!(o.alias_sites.iter().all(inside), "{kind:?}");
        match &o.form {
            Form::Expanded { origins } => {
                assert!(origins.iter().all(|g| inside(&g.span)), "{kind:?}")
            }
            Form::Composed { parts } => {
                assert!(parts.iter().filter_map(|p| p.span.as_ref()).all(inside), "{kind:?}")
            }
            Form::Literal => {}
        }
    }
    for a in &out.actions {
        assert_eq!(text.get(a.span.start..a.span.end), Some(a.text.as_str()), "{kind:?}");
    }
    for d in &out.diagnostics {
        assert!(d.span.start <= d.span.end && d.span.end <= text.len());
    }
});
