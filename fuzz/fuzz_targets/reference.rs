//! The reference grammar: never panics, and whatever parses prints back to something that
//! parses to the same reference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_reference::Reference;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(r) = Reference::parse(s) {
        let again = Reference::parse(&r.to_string()).expect("normalised form parses");
        assert_eq!(r, again);
    }
});
