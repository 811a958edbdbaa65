//! What a registry sends that tagwarden parses: image indexes, image configs, `WWW-Authenticate`
//! challenges and `Link` headers. Any bytes give an answer or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_registry::{ImageIndex, Platform, fuzzing};

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = ImageIndex::parse(data) {
        let wanted = Platform::new("linux", "arm64", None);
        let _ = index.pick(&wanted);
        assert!(index.platforms().count() <= index.manifests.len());
        let _ = index.listed_platforms();
    }
    let _ = Platform::from_image_config(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = fuzzing::challenge(text);
        let _ = fuzzing::next_link(text);
        if let Ok(platform) = Platform::parse(text) {
            assert_eq!(Platform::parse(&platform.to_string()).ok(), Some(platform));
        }
    }
});
