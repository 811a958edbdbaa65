//! What a purge reads back: any bytes as its journal give records or problems at a line, never a
//! panic; any text as a purge result (`hunt --purge`) is read or refused; any text as a snapshot
//! names pod owners or nothing; and a result reads back as it was written.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_evidence::snapshot;
use tagwarden_purge::journal;
use tagwarden_purge::output::json;

fuzz_target!(|data: &[u8]| {
    let read = journal::parse("fuzz.jsonl", data);
    for p in &read.problems {
        assert!(p.starts_with("fuzz.jsonl:"));
    }
    let text = String::from_utf8_lossy(data);
    let _ = snapshot::kubectl_owners(&text);
    if let Ok(run) = json::read(&text) {
        let mut out = Vec::new();
        json::write(&run, &mut out).expect("write to memory");
        let again = json::read(&String::from_utf8_lossy(&out)).expect("reads back");
        assert_eq!(again.steps, run.steps);
        let _ = tagwarden_purge::output::markdown::section(&run);
        let _ = tagwarden_purge::output::human::render(&run);
    }
});
