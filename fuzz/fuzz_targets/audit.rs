//! Registry audit logs: any bytes read as an export give records or problems, never a panic,
//! and the records read are judged (baseline, bursts, overwrites) without a panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let records = tagwarden_evidence::audit::fuzzing::read(data);
    let _ = tagwarden_audit::judge(
        &records,
        tagwarden_audit::Period::default(),
        &tagwarden_audit::Thresholds::default(),
    );
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tagwarden_audit::config::parse(text);
    }
});
