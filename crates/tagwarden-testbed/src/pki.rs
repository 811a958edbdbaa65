//! A throwaway CA and a server certificate for the loopback addresses, made with the openssl CLI:
//! for a TLS registry and HTTPS fakes, trusted by a client through its extra-CA setting.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// The CA and the server certificate (for `127.0.0.1` and `127.0.0.2`), as PEM files.
pub struct TestPki {
    dir: tempfile::TempDir,
}

impl TestPki {
    /// Makes a new CA and a server certificate signed by it.
    pub fn new() -> TestPki {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            d,
            &["req", "-x509"]
                .into_iter()
                .chain(ec)
                .chain([
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.crt",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=tagwarden test CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
                ])
                .collect::<Vec<_>>(),
        );
        openssl(
            d,
            &["req"]
                .into_iter()
                .chain(ec)
                .chain([
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    "/CN=127.0.0.1",
                ])
                .collect::<Vec<_>>(),
        );
        std::fs::write(
            d.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1,IP:127.0.0.2\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("write ext.cnf");
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        );
        TestPki { dir }
    }

    /// The CA certificate (PEM), to trust.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The server certificate (PEM).
    pub fn server_cert(&self) -> PathBuf {
        self.dir.path().join("server.crt")
    }

    /// The server's private key (PEM).
    pub fn server_key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// A rustls server configuration serving the server certificate.
    pub(crate) fn server_config(&self) -> rustls::ServerConfig {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(self.server_cert())
            .expect("server certificate")
            .collect::<Result<_, _>>()
            .expect("server certificate PEM");
        let key = PrivateKeyDer::from_pem_file(self.server_key()).expect("server key PEM");
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate and key")
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs the openssl CLI in `dir`; panics with its message when it fails.
pub(crate) fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
