//! The signature verifier's parsers on arbitrary bytes: Sigstore bundles, simple-signing
//! payloads, in-toto statements, cosign Rekor annotations, trust roots, certificates and keys.
//! The first byte picks the parser, so one corpus serves them all.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => tagwarden_signature::fuzzing::bundle(rest),
        1 => tagwarden_signature::fuzzing::payload(rest),
        _ => tagwarden_signature::fuzzing::certificate(rest),
    }
});
