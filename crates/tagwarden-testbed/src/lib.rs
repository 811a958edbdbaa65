//! A synchronous test bed for tagwarden's integration tests: a real CNCF Distribution registry on
//! loopback ([`Registry`]), OCI layouts written byte by byte ([`OciLayout`]) and pushed with skopeo
//! ([`push`]), a small fault-injecting HTTP proxy ([`Proxy`]), a webhook [`Receiver`], a Sigstore of
//! the tests' own that signs images the ways cosign does ([`sigstore`]), and where test data is
//! ([`testdata`], [`corpus`], [`incidents`]).
//!
//! Everything here panics on failure: it is only ever used from tests, where a broken fixture
//! must stop the test with a message. Tests that need the real registry call
//! [`real_registry_available`] first and return early when it says no.

mod data;
mod http;
mod layout;
mod proxy;
mod receiver;
mod registry;
pub mod sigstore;

pub use data::{CORPUS_ENV, INCIDENTS_ENV, corpus, incidents, testdata, testdata_text};
pub use http::{HttpResponse, base64, basic_auth_header, request};
pub use layout::{OciLayout, Platform};
pub use proxy::{Fault, Gate, Proxy};
pub use receiver::{Received, Receiver};
pub use registry::{Registry, RegistryOptions, push, push_docker_v2s2};

use sha2::{Digest as _, Sha256};
use std::path::PathBuf;

/// The environment variable that turns a missing registry binary into a test failure (CI sets it).
pub const REQUIRE_ENV: &str = "TAGWARDEN_REQUIRE_REGISTRY";

/// Where a program is on `PATH`, if anywhere.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// True when `docker-registry` and `skopeo` are installed. Otherwise prints a loud skip notice,
/// or panics when [`REQUIRE_ENV`] is set so that CI cannot pass by skipping.
pub fn real_registry_available() -> bool {
    let missing: Vec<&str> = ["docker-registry", "skopeo"]
        .into_iter()
        .filter(|p| which(p).is_none())
        .collect();
    decide(&missing, std::env::var_os(REQUIRE_ENV).is_some())
}

/// The rule itself: run when nothing is missing; otherwise skip loudly, or fail when required.
fn decide(missing: &[&str], required: bool) -> bool {
    if missing.is_empty() {
        return true;
    }
    assert!(
        !required,
        "{REQUIRE_ENV} is set but {missing:?} are not on PATH (apt-get install docker-registry skopeo)"
    );
    eprintln!(
        "\n!!!!!!!! SKIPPING real-registry test: {missing:?} not on PATH \
         (apt-get install docker-registry skopeo, or set {REQUIRE_ENV} to make this fail) !!!!!!!!\n"
    );
    false
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `sha256:<hex>` of the bytes, as registries name content.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty() {
        assert_eq!(
            digest_of(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn missing_tools_skip_unless_required() {
        assert!(decide(&[], true));
        assert!(decide(&[], false));
        assert!(!decide(&["skopeo"], false));
    }

    #[test]
    #[should_panic(expected = "TAGWARDEN_REQUIRE_REGISTRY is set")]
    fn missing_tools_fail_when_required() {
        decide(&["docker-registry"], true);
    }

    #[test]
    fn base64_known_values() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }
}
