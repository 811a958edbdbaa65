//! docker `config.json` / podman `auth.json` files: any text gives a config or an error with a
//! position, every entry a credential or a reason, and no error quotes a secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_auth::DockerConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match DockerConfig::parse(std::path::Path::new("config.json"), text) {
        Ok(config) => {
            for entry in config.auths.values() {
                let _ = entry.credential();
            }
        }
        Err(e) => assert!(e.to_string().starts_with("config.json:")),
    }
});
