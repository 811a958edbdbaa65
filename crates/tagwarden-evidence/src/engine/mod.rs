//! Container engines (docker, podman) through the Docker Engine API on a unix socket.
//!
//! Read-only: `GET /version`, `GET /v1.41/images/json` and `GET /v1.41/containers/json?all=1`.
//! Nothing is ever created, pulled or changed. Images in the store are reported as
//! [`ImageAction::Present`] under each name they are known by (with the manifest digest from
//! `RepoDigests`), containers as [`ImageAction::ContainerCreated`] with their creation time.

mod http;
pub(crate) mod records;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::{
    Evidence, EvidenceSource, ImageAction, Observed, Problem, Sink, SourceKind, SourceStats,
};
use http::{HttpError, Limits};
use records::DigestIndex;

/// The API version asked for: old enough for docker 20.10 and podman 3, new enough for the fields read.
const API_VERSION: (u32, u32) = (1, 41);
/// Deadline for each request.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response read: a store with tens of thousands of images stays well below it.
const MAX_BODY: usize = 256 * 1024 * 1024;

/// A docker or podman engine answering the Docker Engine API on a unix socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Engine {
    socket: PathBuf,
    /// `podman` or `docker`, for messages.
    name: String,
}

impl Engine {
    /// An engine on `socket`, named `podman` when the path says so and `docker` otherwise.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        let socket = socket.into();
        let name = if socket.to_string_lossy().contains("podman") {
            "podman"
        } else {
            "docker"
        };
        Self {
            socket,
            name: name.to_string(),
        }
    }

    /// An engine with an explicit name for messages (`podman`, `docker`, `colima`).
    pub fn with_name(socket: impl Into<PathBuf>, name: impl Into<String>) -> Self {
        Self {
            socket: socket.into(),
            name: name.into(),
        }
    }

    /// The socket's path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `podman`, `docker` or the name given.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn location(&self) -> String {
        self.socket.display().to_string()
    }

    fn problem(&self, message: String) -> Problem {
        Problem {
            source: SourceKind::Engine,
            location: self.location(),
            message,
        }
    }

    /// How to start the engine, for a refused or missing socket.
    fn start_hint(&self) -> &'static str {
        if self.name == "podman" {
            "start it with `podman system service` or `systemctl --user start podman.socket`"
        } else {
            "start it with `sudo systemctl start docker` (or Docker Desktop)"
        }
    }

    fn get(&self, path: &str) -> Result<(Value, u64), String> {
        let limits = Limits {
            timeout: TIMEOUT,
            max_body: MAX_BODY,
        };
        let response = http::get(&self.socket, path, limits).map_err(|e| match e {
            HttpError::Connect(ref io) => {
                let hint = match io.kind() {
                    std::io::ErrorKind::PermissionDenied => {
                        "run as a user who may use the socket (for docker, a member of the `docker` group)"
                    }
                    _ => self.start_hint(),
                };
                format!(
                    "cannot connect to {} at {}: {e}; {hint}",
                    self.name,
                    self.socket.display()
                )
            }
            e => format!("{} at {}: GET {path}: {e}", self.name, self.socket.display()),
        })?;
        let bytes = response.body.len() as u64;
        if response.status != 200 {
            return Err(format!(
                "{} at {}: GET {path}: HTTP {}: {}",
                self.name,
                self.socket.display(),
                response.status,
                error_message(&response.body)
            ));
        }
        let value = serde_json::from_slice(&response.body).map_err(|e| {
            format!(
                "{} at {}: GET {path}: not JSON ({e}; Content-Type {})",
                self.name,
                self.socket.display(),
                response.header("content-type").unwrap_or("not given")
            )
        })?;
        Ok((value, bytes))
    }

    /// The versioned path prefix to use, from `/version`'s `ApiVersion` and `MinAPIVersion`:
    /// v1.41 when the engine accepts it, else the nearest version it does accept.
    fn api_prefix(version: &Value) -> String {
        let parse = |key: &str| {
            let s = version.get(key)?.as_str()?;
            let (major, minor) = s.split_once('.')?;
            Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?))
        };
        let mut v = API_VERSION;
        if let Some(max) = parse("ApiVersion")
            && max < v
        {
            v = max;
        }
        if let Some(min) = parse("MinAPIVersion")
            && min > v
        {
            v = min;
        }
        format!("/v{}.{}", v.0, v.1)
    }
}

/// The message of a Docker API error body (`{"message": "…"}`), or the body itself.
fn error_message(body: &[u8]) -> String {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    crate::excerpt(&message)
}

/// The strings of an array field; `null` or missing is empty.
pub(crate) fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn string<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

impl EvidenceSource for Engine {
    fn describe(&self) -> String {
        format!("{} at {}", self.name, self.socket.display())
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        let mut stats = SourceStats::default();
        let (version, bytes) = self.get("/version").map_err(|m| self.problem(m))?;
        stats.bytes += bytes;
        let prefix = Self::api_prefix(&version);

        let images = self.get(&format!("{prefix}/images/json"));
        let containers = self.get(&format!("{prefix}/containers/json?all=1"));
        if let (Err(a), Err(b)) = (&images, &containers) {
            sink.problem(self.problem(b.clone()));
            return Err(self.problem(a.clone()));
        }

        let mut index = DigestIndex::default();
        match images {
            Ok((list, bytes)) => {
                stats.bytes += bytes;
                sink.progress(stats.bytes);
                if !list.is_array() {
                    sink.problem(self.problem(format!("{prefix}/images/json: not a JSON array")));
                }
                for image in list.as_array().map(Vec::as_slice).unwrap_or_default() {
                    stats.records += 1;
                    index.insert(string(image, "Id"), &strings(image, "RepoDigests"));
                    self.report_image(image, sink);
                }
                for (id, more) in index.crowded() {
                    sink.note(self.problem(crowded(id, more)));
                }
            }
            Err(m) => sink.problem(self.problem(m)),
        }
        match containers {
            Ok((list, bytes)) => {
                stats.bytes += bytes;
                sink.progress(stats.bytes);
                if !list.is_array() {
                    sink.problem(
                        self.problem(format!("{prefix}/containers/json: not a JSON array")),
                    );
                }
                for container in list.as_array().map(Vec::as_slice).unwrap_or_default() {
                    stats.records += 1;
                    self.report_container(container, &index, sink);
                }
            }
            Err(m) => sink.problem(self.problem(m)),
        }
        Ok(stats)
    }
}

/// Why a container is judged against only some of its image's digests.
pub(crate) fn crowded(id: &str, more: u64) -> String {
    format!(
        "image {id} is known by {more} more digests than the {} its containers are judged \
         against (each digest is judged as the image's)",
        records::MAX_CONTAINER_DIGESTS
    )
}

impl Engine {
    fn report_image(&self, image: &Value, sink: &dyn Sink) {
        let id = string(image, "Id");
        let tags = strings(image, "RepoTags");
        let digests = strings(image, "RepoDigests");
        let created = image
            .get("Created")
            .and_then(Value::as_i64)
            .and_then(records::from_epoch);
        let excerpt = crate::excerpt(&format!(
            "image {id} tags [{}] digests [{}] created {} (the image's build time, not when it was pulled)",
            tags.join(", "),
            digests.join(", "),
            created.map_or_else(|| "unknown".to_string(), |t| t.to_string()),
        ));
        let (named, bad) = records::names(&tags, &digests);
        for entry in bad {
            sink.problem(self.problem(format!(
                "image {id}: unreadable RepoDigests entry {entry:?}"
            )));
        }
        for named in named {
            sink.evidence(Evidence {
                source: SourceKind::Engine,
                location: self.location(),
                line: None,
                // `Created` is when the image was built, which says nothing about this machine.
                timestamp: None,
                within: None,
                host: None,
                job: None,
                observed: Observed::Image {
                    action: ImageAction::Present,
                    reference: Some(named.reference),
                    digest: named.digest,
                },
                excerpt: Some(excerpt.clone()),
            });
        }
    }

    fn report_container(&self, container: &Value, index: &DigestIndex, sink: &dyn Sink) {
        let image = string(container, "Image");
        let image_id = string(container, "ImageID");
        let names: Vec<String> = strings(container, "Names")
            .iter()
            .map(|n| n.trim_start_matches('/').to_string())
            .collect();
        let id = string(container, "Id");
        let job = if names.is_empty() {
            id.get(..12).unwrap_or(id).to_string()
        } else {
            names.join(",")
        };
        let created = container
            .get("Created")
            .and_then(Value::as_i64)
            .and_then(records::from_epoch);
        let reference = (!image.is_empty() && !records::is_image_id(image, image_id))
            .then(|| image.to_string());
        let excerpt = crate::excerpt(&format!(
            "container {job} ({}) image {image} ({image_id}) state {}",
            id.get(..12).unwrap_or(id),
            string(container, "State"),
        ));
        // Several digests can name the same content (a mirror, an index and its manifest): one
        // piece of evidence each, so a match on any of them is found.
        let mut digests: Vec<Option<_>> = index
            .container_digests(image, image_id)
            .into_iter()
            .map(Some)
            .collect();
        if digests.is_empty() {
            digests.push(None);
        }
        for digest in digests {
            sink.evidence(Evidence {
                source: SourceKind::Engine,
                location: self.location(),
                line: None,
                timestamp: created,
                within: None,
                host: None,
                job: Some(job.clone()),
                observed: Observed::Image {
                    action: ImageAction::ContainerCreated,
                    reference: reference.clone(),
                    digest,
                },
                excerpt: Some(excerpt.clone()),
            });
        }
    }
}

/// The environment socket discovery reads, passed explicitly so tests need not touch the
/// process environment.
#[derive(Clone, Debug, Default)]
pub struct DiscoverEnv {
    /// `DOCKER_HOST`, e.g. `unix:///run/user/1000/docker.sock`.
    pub docker_host: Option<String>,
    /// `CONTAINER_HOST`, podman's equivalent of `DOCKER_HOST`.
    pub container_host: Option<String>,
    /// `XDG_RUNTIME_DIR`, where rootless podman puts `podman/podman.sock`.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// The user ID, for `/run/user/$UID/podman/podman.sock`.
    pub uid: Option<u32>,
    /// `HOME`, for Docker Desktop's and colima's per-user sockets.
    pub home: Option<PathBuf>,
}

impl DiscoverEnv {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        use std::os::unix::fs::MetadataExt;
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            docker_host: var("DOCKER_HOST"),
            container_host: var("CONTAINER_HOST"),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
            // The owner of /proc/self is the process's user: no libc call needed.
            uid: std::fs::metadata("/proc/self").ok().map(|m| m.uid()),
            home: var("HOME").map(PathBuf::from),
        }
    }
}

/// The engine sockets found, and why some hosts were not used.
#[derive(Debug, Default)]
pub struct Discovery {
    pub sockets: Vec<PathBuf>,
    pub problems: Vec<Problem>,
}

impl Discovery {
    /// One [`Engine`] per socket found.
    pub fn engines(&self) -> Vec<Engine> {
        self.sockets.iter().map(Engine::new).collect()
    }
}

/// Finds engine sockets where docker and podman clients look: `DOCKER_HOST` and
/// `CONTAINER_HOST` (`unix://` only), `$XDG_RUNTIME_DIR/podman/podman.sock`,
/// `/run/user/$UID/podman/podman.sock`, `/run/podman/podman.sock`, `/var/run/docker.sock`,
/// then rootless docker (`$XDG_RUNTIME_DIR/docker.sock`), Docker Desktop
/// (`~/.docker/run/docker.sock`, `~/.docker/desktop/docker.sock`) and colima
/// (`~/.colima/default/docker.sock`). Unlike a docker client, which uses `DOCKER_HOST` alone,
/// every engine found is returned: a hunt wants them all. Only existing sockets are returned,
/// each once.
pub fn discover(env: &DiscoverEnv) -> Discovery {
    discover_with(env, &|p: &Path| {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(p).is_ok_and(|m| m.file_type().is_socket())
    })
}

fn discover_with(env: &DiscoverEnv, exists: &dyn Fn(&Path) -> bool) -> Discovery {
    let mut out = Discovery::default();
    let mut candidates = Vec::new();
    for (var, value) in [
        ("DOCKER_HOST", &env.docker_host),
        ("CONTAINER_HOST", &env.container_host),
    ] {
        let Some(value) = value.as_deref() else {
            continue;
        };
        let problem = |message: String| Problem {
            source: SourceKind::Engine,
            location: format!("{var}={value}"),
            message,
        };
        match value.strip_prefix("unix://") {
            Some(path) if !path.is_empty() => {
                let path = PathBuf::from(path);
                if exists(&path) {
                    candidates.push(path);
                } else {
                    out.problems.push(problem(format!(
                        "{var} names {}, which is not a socket",
                        path.display()
                    )));
                }
            }
            _ => out.problems.push(problem(format!(
                "{var} is not used: only unix:// sockets are supported (tagwarden reads engines locally)"
            ))),
        }
    }
    if let Some(dir) = &env.xdg_runtime_dir {
        candidates.push(dir.join("podman/podman.sock"));
    }
    if let Some(uid) = env.uid {
        candidates.push(PathBuf::from(format!("/run/user/{uid}/podman/podman.sock")));
    }
    candidates.push(PathBuf::from("/run/podman/podman.sock"));
    candidates.push(PathBuf::from("/var/run/docker.sock"));
    if let Some(dir) = &env.xdg_runtime_dir {
        candidates.push(dir.join("docker.sock"));
    }
    if let Some(home) = &env.home {
        for path in [
            ".docker/run/docker.sock",
            ".docker/desktop/docker.sock",
            ".colima/default/docker.sock",
        ] {
            candidates.push(home.join(path));
        }
    }

    let mut seen = HashSet::new();
    for path in candidates {
        if !exists(&path) {
            continue;
        }
        // /var/run is usually a link to /run: one engine, one entry.
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.insert(key) {
            out.sockets.push(path);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Collect;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;

    #[test]
    fn discovery_order_and_problems() {
        let present: HashSet<PathBuf> = [
            "/x/xdg/podman/podman.sock",
            "/run/user/1000/podman/podman.sock",
            "/var/run/docker.sock",
            "/custom/docker.sock",
            "/home/u/.colima/default/docker.sock",
            "/x/xdg/docker.sock",
        ]
        .into_iter()
        .map(PathBuf::from)
        .collect();
        let env = DiscoverEnv {
            docker_host: Some("unix:///custom/docker.sock".into()),
            container_host: Some("tcp://10.0.0.1:2375".into()),
            xdg_runtime_dir: Some("/x/xdg".into()),
            uid: Some(1000),
            home: Some("/home/u".into()),
        };
        let found = discover_with(&env, &|p| present.contains(p));
        assert_eq!(
            found.sockets,
            [
                "/custom/docker.sock",
                "/x/xdg/podman/podman.sock",
                "/run/user/1000/podman/podman.sock",
                "/var/run/docker.sock",
                "/x/xdg/docker.sock",
                "/home/u/.colima/default/docker.sock",
            ]
            .map(PathBuf::from)
        );
        assert_eq!(found.problems.len(), 1);
        assert!(found.problems[0].message.contains("only unix:// sockets"));
        assert_eq!(
            found.problems[0].location,
            "CONTAINER_HOST=tcp://10.0.0.1:2375"
        );

        let env = DiscoverEnv {
            docker_host: Some("unix:///missing.sock".into()),
            ..Default::default()
        };
        let found = discover_with(&env, &|_| false);
        assert!(found.sockets.is_empty());
        assert!(found.problems[0].message.contains("not a socket"));
    }

    #[test]
    fn discovers_a_real_socket_in_xdg_runtime_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("podman")).unwrap();
        let socket = dir.path().join("podman/podman.sock");
        let _listener = UnixListener::bind(&socket).unwrap();
        std::fs::write(dir.path().join("not-a-socket"), "").unwrap();
        let found = discover(&DiscoverEnv {
            docker_host: Some(format!(
                "unix://{}",
                dir.path().join("not-a-socket").display()
            )),
            xdg_runtime_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        });
        assert_eq!(found.sockets.first(), Some(&socket));
        assert_eq!(found.engines().first().map(Engine::name), Some("podman"));
        assert_eq!(found.problems.len(), 1);
    }

    #[test]
    fn api_version_negotiation() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert_eq!(
            Engine::api_prefix(&v(r#"{"ApiVersion":"1.41","MinAPIVersion":"1.24"}"#)),
            "/v1.41"
        );
        assert_eq!(
            Engine::api_prefix(&v(r#"{"ApiVersion":"1.52","MinAPIVersion":"1.44"}"#)),
            "/v1.44"
        );
        assert_eq!(
            Engine::api_prefix(&v(r#"{"ApiVersion":"1.40","MinAPIVersion":"1.12"}"#)),
            "/v1.40"
        );
        assert_eq!(Engine::api_prefix(&v("{}")), "/v1.41");
    }

    /// A fake engine: answers each request by path from `routes`, 404 otherwise.
    fn fake_engine(routes: Vec<(&'static str, u16, String)>) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { return };
                let mut req = Vec::new();
                let mut b = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut b) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&b[..n]),
                    }
                }
                let req = String::from_utf8_lossy(&req);
                let path = req.split(' ').nth(1).unwrap_or_default().to_string();
                let (status, body) = routes
                    .iter()
                    .find(|(p, _, _)| *p == path)
                    .map(|(_, s, b)| (*s, b.clone()))
                    .unwrap_or((404, r#"{"message":"page not found"}"#.to_string()));
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                    body.len()
                );
            }
        });
        (dir, socket)
    }

    #[test]
    fn images_and_containers_from_a_fake_docker() {
        let a = format!("sha256:{}", "a".repeat(64));
        let id = format!("sha256:{}", "1".repeat(64));
        let images = format!(
            r#"[{{"Id":"{id}","RepoTags":["checkmarx/kics:latest","local/built:1"],
                 "RepoDigests":["checkmarx/kics@{a}"],"Created":1776816000}},
                {{"Id":"sha256:{}","RepoTags":["<none>:<none>"],"RepoDigests":null,"Created":1}}]"#,
            "2".repeat(64)
        );
        let containers = format!(
            r#"[{{"Id":"{}","Names":["/scanner"],"Image":"checkmarx/kics:latest","ImageID":"{id}",
                 "Created":1776859200,"State":"exited"}},
                {{"Id":"c2","Names":["/pinned"],"Image":"x/y@sha256:{}","ImageID":"sha256:{}","Created":1776859201}}]"#,
            "f".repeat(64),
            "b".repeat(64),
            "3".repeat(64)
        );
        let (_dir, socket) = fake_engine(vec![
            (
                "/version",
                200,
                r#"{"ApiVersion":"1.47","MinAPIVersion":"1.24"}"#.into(),
            ),
            ("/v1.41/images/json", 200, images),
            ("/v1.41/containers/json?all=1", 200, containers),
        ]);
        let engine = Engine::new(&socket);
        assert_eq!(engine.describe(), format!("docker at {}", socket.display()));
        let sink = Collect::default();
        let stats = engine.collect(&sink).unwrap();
        assert_eq!(stats.records, 4);
        let (evidence, problems) = sink.into_parts();
        assert!(problems.is_empty(), "{problems:?}");
        let observed: Vec<_> = evidence
            .iter()
            .map(|e| {
                (
                    e.observed.clone(),
                    e.timestamp.map(|t| t.to_string()),
                    e.job.clone(),
                )
            })
            .collect();
        let img = |action, reference: &str, digest: Option<&str>| Observed::Image {
            action,
            reference: Some(reference.into()),
            digest: digest.map(|d| tagwarden_reference::Digest::parse(d).unwrap()),
        };
        let b = format!("sha256:{}", "b".repeat(64));
        assert_eq!(
            observed,
            [
                (
                    img(ImageAction::Present, "checkmarx/kics", Some(&a)),
                    None,
                    None
                ),
                (img(ImageAction::Present, "local/built:1", None), None, None),
                (
                    img(
                        ImageAction::ContainerCreated,
                        "checkmarx/kics:latest",
                        Some(&a)
                    ),
                    Some("2026-04-22T12:00:00Z".into()),
                    Some("scanner".into())
                ),
                (
                    img(ImageAction::ContainerCreated, &format!("x/y@{b}"), Some(&b)),
                    Some("2026-04-22T12:00:01Z".into()),
                    Some("pinned".into())
                ),
            ]
        );
        assert!(
            evidence[0]
                .excerpt
                .as_deref()
                .unwrap()
                .contains("created 2026-04-22T00:00:00Z (the image's build time")
        );
        assert_eq!(evidence[0].location, socket.display().to_string());
    }

    #[test]
    fn http_errors_and_refused_sockets_are_problems() {
        let (_dir, socket) = fake_engine(vec![
            ("/version", 200, r#"{"ApiVersion":"1.41"}"#.into()),
            (
                "/v1.41/images/json",
                500,
                r#"{"message":"storage is corrupt"}"#.into(),
            ),
            ("/v1.41/containers/json?all=1", 200, "[]".into()),
        ]);
        let sink = Collect::default();
        Engine::new(&socket).collect(&sink).unwrap();
        let (_, problems) = sink.into_parts();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .message
                .ends_with("GET /v1.41/images/json: HTTP 500: storage is corrupt"),
            "{}",
            problems[0].message
        );

        let (_dir, socket) = fake_engine(vec![]);
        let e = Engine::new(&socket)
            .collect(&Collect::default())
            .unwrap_err();
        assert!(
            e.message.contains("HTTP 404: page not found"),
            "{}",
            e.message
        );

        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join("podman.sock");
        drop(UnixListener::bind(&stale).unwrap());
        let e = Engine::new(&stale)
            .collect(&Collect::default())
            .unwrap_err();
        assert_eq!(
            e.message,
            format!(
                "cannot connect to podman at {}: connection refused; start it with `podman system service` or `systemctl --user start podman.socket`",
                stale.display()
            )
        );
        assert_eq!(e.source, SourceKind::Engine);
    }
}
