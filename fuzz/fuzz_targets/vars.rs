//! Variable expansion: never panics, bounded on nested defaults.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_extract::vars::{Syntax, Value, expand};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lookup = |name: &str| (name == "A").then(|| Value { value: "x:1".into(), origin: None });
    let _ = expand(text, 0, Syntax { dollar_escape: true }, &lookup);
    let _ = expand(text, 0, Syntax { dollar_escape: false }, &lookup);
});
