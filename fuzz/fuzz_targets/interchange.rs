//! The importers: any text gives an advisory or an error with a position, never a panic, and
//! every unmapped item has a position too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_interchange::import::{self, Format, Input, Options};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let detected = import::detect(text);
    // Every format is tried, not only the detected one: readers must cope with any shape.
    let options = Options {
        id: None,
        today: jiff::civil::date(2026, 12, 3),
    };
    for format in std::iter::once(detected).chain(Format::ALL.map(Some)) {
        let input = Input { path: "fuzz.json", text, format };
        match import::import_all(&[input], &options) {
            Ok(imported) => {
                assert!(imported.unmapped.iter().all(|u| u.line >= 1 && u.column >= 1));
                assert!(!imported.advisory_toml.is_empty());
            }
            Err(e) => assert!(e.line >= 1 && e.column >= 1),
        }
    }
});
