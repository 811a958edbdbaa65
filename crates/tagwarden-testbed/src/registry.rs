//! A `docker-registry serve` process on a free loopback port, and pushes to it with skopeo.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::{basic_auth_header, request};

/// How to start a [`Registry`].
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Demand HTTP Basic authentication with this user and password (bcrypt htpasswd file).
    pub htpasswd: Option<(String, String)>,
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
    /// Starts the registry and waits until `/v2/` answers (200, or 401 with authentication).
    /// A port taken between choosing and binding it makes the process exit: then another port.
    pub fn start(options: RegistryOptions) -> Registry {
        let mut last_log = String::new();
        for _ in 0..5 {
            match Self::try_start(&options) {
                Ok(registry) => return registry,
                Err(log) => last_log = log,
            }
        }
        panic!("docker-registry did not come up: {last_log}");
    }

    fn try_start(options: &RegistryOptions) -> Result<Registry, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = crate::free_port();
        let mut config = format!(
            "version: 0.1\nlog: {{level: error}}\nstorage:\n  filesystem: {{rootdirectory: {}}}\n  delete: {{enabled: true}}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
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
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let mut registry = Registry {
            port,
            child,
            dir,
            credentials: options.htpasswd.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if registry.child.try_wait().ok().flatten().is_some() {
                return Err(registry.log());
            }
            if let Ok(r) = request(&registry.host(), "GET", "/v2/", &[], b"")
                && (r.status == 200 || r.status == 401)
            {
                // Whoever answered, it must be our process that is still listening.
                std::thread::sleep(Duration::from_millis(50));
                if registry.child.try_wait().ok().flatten().is_some() {
                    return Err(registry.log());
                }
                return Ok(registry);
            }
            if Instant::now() > deadline {
                return Err(format!("no answer on port {port}: {}", registry.log()));
            }
            std::thread::sleep(Duration::from_millis(30));
        }
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

    /// The credentials the registry demands, if any.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// One request to the registry, authenticated when it demands it.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> crate::HttpResponse {
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
        const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
            application/vnd.docker.distribution.manifest.list.v2+json, \
            application/vnd.oci.image.manifest.v1+json, \
            application/vnd.docker.distribution.manifest.v2+json";
        let r = self.http(
            "HEAD",
            &format!("/v2/{repository}/manifests/{reference}"),
            &[("Accept", ACCEPT)],
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

    /// `PUT /v2/<repo>/manifests/<reference>`: tags an existing manifest cheaply (its blobs must
    /// already be in that repository). Returns the digest the registry reports.
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
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies the image tagged `tag` in the OCI layout at `layout` to `dest` (`127.0.0.1:PORT/repo:tag`)
/// with skopeo over plain HTTP, keeping digests (`--preserve-digests`) and every platform of an
/// index (`--all`). Panics with skopeo's message when it fails.
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
