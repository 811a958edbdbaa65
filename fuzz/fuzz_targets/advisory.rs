//! The advisory loader: any text gives an advisory or an error with a position, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_advisory::Advisory;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = Advisory::from_toml("fuzz.toml", text) {
        assert!(e.line >= 1 && e.column >= 1);
    }
});
