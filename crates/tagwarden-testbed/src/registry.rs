//! A `docker-registry serve` process (CNCF Distribution) on a loopback port, plain, TLS, with
//! Basic (htpasswd) or token auth, and pushes to it with skopeo or over its API.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::http::{HttpResponse, basic_auth_header, request};
use crate::token::TokenAuth;
use crate::{DOCKER_MANIFEST, digest_of};

/// How to start a [`Registry`].
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Demand HTTP Basic authentication with this user and password (bcrypt htpasswd file).
    pub htpasswd: Option<(String, String)>,
    /// Serve HTTPS with this certificate and key (PEM files, e.g. from a [`crate::TestPki`]).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Demand bearer tokens from this token service ([`crate::TokenService::auth`]).
    pub token: Option<TokenAuth>,
    /// Run as a pull-through cache of this registry URL (`proxy: {remoteurl: …}`): read-only,
    /// deletes and pushes refused, as distribution's proxy mode is.
    pub proxy_of: Option<String>,
}

/// A CNCF Distribution registry on `127.0.0.1:port`, storing into a temporary directory, with
/// deletes enabled. Killed when dropped.
pub struct Registry {
    port: u16,
    child: Child,
    dir: tempfile::TempDir,
    credentials: Option<(String, String)>,
}

impl Registry {
    /// Starts the registry on a port the kernel picks (read back from its log, so tests running
    /// in parallel never race for a port) and waits until it answers.
    pub fn start(options: RegistryOptions) -> Registry {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = format!(
            "version: 0.1\nlog: {{level: info}}\nstorage:\n  filesystem: {{rootdirectory: {}}}\n  delete: {{enabled: true}}\nhttp:\n  addr: 127.0.0.1:0\n",
            dir.path().join("data").display()
        );
        if let Some((cert, key)) = &options.tls {
            config.push_str(&format!(
                "  tls: {{certificate: {}, key: {}}}\n",
                cert.display(),
                key.display()
            ));
        }
        if let Some((user, password)) = &options.htpasswd {
            let hash = bcrypt::hash_with_result(password, 4)
                .expect("bcrypt")
                .format_for_version(bcrypt::Version::TwoY);
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, format!("{user}:{hash}\n")).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd: {{realm: testbed, path: {}}}\n",
                file.display()
            ));
        }
        if let Some(token) = &options.token {
            config.push_str(&format!(
                "auth:\n  token: {{realm: {:?}, service: {:?}, issuer: {:?}, rootcertbundle: {}}}\n",
                token.realm,
                token.service,
                token.issuer,
                token.root_cert.display()
            ));
        }
        if let Some(remote) = &options.proxy_of {
            config.push_str(&format!("proxy:\n  remoteurl: {remote:?}\n"));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write registry config");
        let log_path = dir.path().join("registry.log");
        let log = std::fs::File::create(&log_path).expect("registry log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let mut registry = Registry {
            port: 0,
            child,
            dir,
            credentials: options.htpasswd.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while registry.port == 0 {
            registry.port = registry
                .log()
                .split("listening on 127.0.0.1:")
                .nth(1)
                .and_then(|rest| {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    digits.parse().ok()
                })
                .unwrap_or(0);
            let exited = registry.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                panic!(
                    "docker-registry did not start ({exited:?}): {}",
                    registry.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // It logs once its socket is bound; a plain one is asked once more to be sure it serves.
        if options.tls.is_none() {
            loop {
                if let Ok(r) = request(&registry.host(), "GET", "/v2/", &[], b"")
                    && (r.status == 200 || r.status == 401)
                {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "docker-registry does not answer: {}",
                    registry.log()
                );
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        registry
    }

    /// `127.0.0.1:PORT`, as written in image references and `--insecure-registry`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port the registry listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The registry's own log, for assertion messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The Basic credentials the registry demands, if any.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// One plain-HTTP request to the registry, with its Basic credentials when it demands them
    /// (not for TLS or token registries).
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        let auth = self.credentials().map(|(u, p)| basic_auth_header(u, p));
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = &auth {
            all.push(("Authorization", a));
        }
        request(&self.host(), method, path, &all, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// The digest and media type the registry answers `HEAD` with for `repo:reference`, accepting
    /// every manifest type; `None` when it has no such manifest.
    pub fn head_digest(&self, repository: &str, reference: &str) -> Option<(String, String)> {
        let r = self.http(
            "HEAD",
            &format!("/v2/{repository}/manifests/{reference}"),
            &[("Accept", crate::MANIFEST_ACCEPT)],
            b"",
        );
        if r.status != 200 {
            return None;
        }
        Some((
            r.header("Docker-Content-Digest")?.to_string(),
            r.header("Content-Type")?.to_string(),
        ))
    }

    /// `DELETE /v2/<repo>/manifests/<digest>`; panics unless the registry accepts (202).
    pub fn delete_manifest(&self, repository: &str, digest: &str) {
        let r = self.http(
            "DELETE",
            &format!("/v2/{repository}/manifests/{digest}"),
            &[],
            b"",
        );
        assert_eq!(
            r.status,
            202,
            "delete {repository}@{digest}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }

    /// `PUT /v2/<repo>/manifests/<reference>` (a tag or digest); its blobs must already be in
    /// that repository. Returns the digest the registry reports.
    pub fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let r = self.http(
            "PUT",
            &format!("/v2/{repository}/manifests/{reference}"),
            &[("Content-Type", media_type)],
            bytes,
        );
        assert_eq!(
            r.status,
            201,
            "put {repository}:{reference}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.header("Docker-Content-Digest")
            .unwrap_or_default()
            .to_string()
    }

    /// Uploads a blob (monolithic upload); returns its digest.
    pub fn upload_blob(&self, repository: &str, bytes: &[u8]) -> String {
        let digest = digest_of(bytes);
        let started = self.http(
            "POST",
            &format!("/v2/{repository}/blobs/uploads/"),
            &[],
            b"",
        );
        assert_eq!(started.status, 202, "blob upload start");
        let location = started.header("Location").expect("upload location");
        // The location may be absolute; the request goes to the same registry anyway.
        let path = location
            .strip_prefix("http://")
            .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or(location);
        let separator = if path.contains('?') { '&' } else { '?' };
        let done = self.http(
            "PUT",
            &format!("{path}{separator}digest={}", digest.replace(':', "%3A")),
            &[("Content-Type", "application/octet-stream")],
            bytes,
        );
        assert_eq!(done.status, 201, "blob upload finish");
        digest
    }

    /// Pushes a Docker schema 2 image for `arch`/`variant` by digest (no tag) and returns the
    /// manifest's digest and size, to assemble manifest lists with.
    pub fn push_docker_image(
        &self,
        repository: &str,
        arch: &str,
        variant: Option<&str>,
    ) -> (String, usize) {
        let layer = vec![0u8; 1024];
        let layer_digest = self.upload_blob(repository, &layer);
        let config = json!({
            "architecture": arch, "variant": variant, "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        })
        .to_string();
        let config_digest = self.upload_blob(repository, config.as_bytes());
        let manifest = serde_json::to_vec_pretty(&json!({
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                       "size": config.len(), "digest": config_digest},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar",
                        "size": layer.len(), "digest": layer_digest}],
        }))
        .expect("manifest JSON");
        let digest = digest_of(&manifest);
        self.put_manifest(repository, &digest, DOCKER_MANIFEST, &manifest);
        (digest, manifest.len())
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies the image tagged `tag` in the OCI layout at `layout` to `dest` (`127.0.0.1:PORT/repo:tag`)
/// with skopeo (plain HTTP or unverified TLS), keeping digests (`--preserve-digests`) and every
/// platform of an index (`--all`). Panics with skopeo's message when it fails.
pub fn push(layout: &Path, tag: &str, dest: &str, credentials: Option<(&str, &str)>) {
    skopeo_copy(layout, tag, dest, credentials, &["--preserve-digests"]);
}

/// Like [`push`], converting to Docker's media types (schema 2 manifests and manifest lists, as
/// Docker Hub serves most images). Digests change: read them with [`Registry::head_digest`].
pub fn push_docker_v2s2(layout: &Path, tag: &str, dest: &str, credentials: Option<(&str, &str)>) {
    skopeo_copy(layout, tag, dest, credentials, &["--format", "v2s2"]);
}

fn skopeo_copy(
    layout: &Path,
    tag: &str,
    dest: &str,
    credentials: Option<(&str, &str)>,
    extra: &[&str],
) {
    let mut cmd = Command::new("skopeo");
    cmd.args([
        "--insecure-policy",
        "--command-timeout=60s",
        "copy",
        "--all",
        "--quiet",
        "--dest-tls-verify=false",
    ]);
    cmd.args(extra);
    match credentials {
        Some((user, password)) => {
            cmd.arg("--dest-creds").arg(format!("{user}:{password}"));
        }
        // Never let the machine's own credentials leak into a test push.
        None => {
            cmd.arg("--dest-no-creds");
        }
    }
    cmd.arg(format!("oci:{}:{tag}", layout.display()))
        .arg(format!("docker://{dest}"));
    let out = cmd.output().expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo copy to {dest} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
