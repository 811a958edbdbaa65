//! The span-keeping YAML tree and file detection: never panic, exact spans spell the value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_extract::yaml::{NodeKind, Yaml};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let y = Yaml::parse(text);
    for id in 0..y.node_count() {
        if let NodeKind::Scalar { value, exact: Some(s), .. } = y.node(id).kind() {
            assert_eq!(text.get(s.start..s.end), Some(value.as_str()));
        }
        let n = y.node(id);
        let _ = n.entries();
        let _ = n.as_str();
    }
    let _ = tagwarden_extract::detect(std::path::Path::new("x.yaml"), text);
    let _ = tagwarden_extract::detect(std::path::Path::new("x"), text);
});
