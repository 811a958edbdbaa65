//! Every extractor: never panics, and every reported span is inside the text, on char
//! boundaries, and spells the reported text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_extract::{FileKind, extract};

const KINDS: &[FileKind] = FileKind::ALL;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let kind = KINDS[selector as usize % KINDS.len()];
    let out = extract(kind, text);
    for o in &out.images {
        assert_eq!(text.get(o.span.start..o.span.end), Some(o.text.as_str()), "{kind:?}");
    }
    for a in &out.actions {
        assert_eq!(text.get(a.span.start..a.span.end), Some(a.text.as_str()), "{kind:?}");
    }
    for d in &out.diagnostics {
        assert!(d.span.start <= d.span.end && d.span.end <= text.len());
    }
});
