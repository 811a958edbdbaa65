//! The one test bed for tagwarden's tests that talk to registries: a real CNCF Distribution
//! registry on loopback ([`Registry`]: plain or TLS, Basic or token auth), OCI layouts written byte
//! by byte ([`OciLayout`]) and pushed with skopeo ([`push`]), a throwaway CA ([`TestPki`]), a token
//! service signing JWTs ([`TokenService`]), a small HTTP(S) server for fakes on any loopback
//! address ([`Server`]), a fault-injecting proxy ([`Proxy`]), a webhook [`Receiver`], a Sigstore of
//! the tests' own that signs images the ways cosign does ([`sigstore`]), where test data is
//! ([`testdata`], [`corpus`], [`incidents`]), and an exact measure of work ([`measure`]) for
//! tests that guard against blow-ups without a clock.
//!
//! Everything is synchronous and serves from threads of its own, so async tests can use it as
//! well as tests of the binary. Everything panics on failure: it is only ever used from tests,
//! where a broken fixture must stop the test with a message. Tests that need the real registry
//! call [`real_registry_available`] (or [`real_registry_and_openssl_available`]) first and return
//! early when it says no.

mod data;
mod http;
mod layout;
mod pki;
mod podman;
mod proxy;
mod receiver;
mod registry;
mod server;
pub mod sigstore;
mod token;
#[allow(unsafe_code)]
mod work;

pub use data::{CORPUS_ENV, INCIDENTS_ENV, corpus, incidents, testdata, testdata_text};
pub use http::{HttpRequest, HttpResponse, base64, base64_url, basic_auth_header, request};
pub use layout::{OciLayout, Platform};
pub use pki::TestPki;
pub use podman::Podman;
pub use proxy::{Fault, Gate, Proxy, forward};
pub use receiver::{Received, Receiver};
pub use registry::{Registry, RegistryOptions, push, push_docker_v2s2};
pub use server::{Handler, Server, handler};
pub use token::{TokenAuth, TokenService};
pub use work::{
    ALLOCATIONS_PER_INPUT_BYTE, BYTES_PER_INPUT_BYTE, CountingAllocator, Work, assert_linear,
    measure,
};

use sha2::{Digest as _, Sha256};
use std::path::PathBuf;

/// The environment variable that turns a missing registry binary into a test failure (CI sets it).
pub const REQUIRE_ENV: &str = "TAGWARDEN_REQUIRE_REGISTRY";

/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker schema 2 manifest media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list media type.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// An `Accept` header naming every manifest type.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

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
    available(&["docker-registry", "skopeo"])
}

/// Like [`real_registry_available`], and the openssl CLI too (certificates and token keys).
pub fn real_registry_and_openssl_available() -> bool {
    available(&["docker-registry", "skopeo", "openssl"])
}

fn available(programs: &[&str]) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
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
        "{REQUIRE_ENV} is set but {missing:?} are not on PATH (apt-get install docker-registry skopeo openssl)"
    );
    eprintln!(
        "\n!!!!!!!! SKIPPING real-registry test: {missing:?} not on PATH \
         (apt-get install docker-registry skopeo openssl, or set {REQUIRE_ENV} to make this fail) !!!!!!!!\n"
    );
    false
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for something that must not answer).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of any bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
}
