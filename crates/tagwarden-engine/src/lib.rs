//! The Docker Engine API over a unix socket, for docker and podman (whose service speaks the
//! same API): what `hunt` reads (`/version`, images, containers) and what `purge` changes (stop
//! and remove containers, remove images), and where engines' sockets are found ([`discover`]).
//!
//! Engines answer on a local socket: no TLS, no credentials, one short-lived connection per
//! request ([`http`]). Bounded: one deadline per request, a cap on every body. Error messages
//! name the engine and its socket and say how to fix what can be fixed.

mod discover;
mod http;
mod records;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

pub use discover::{DiscoverEnv, Discovery, Unusable, discover};
pub use records::{Container, Image};

use http::{HttpError, Limits};

/// The API version asked for: old enough for docker 20.10 and podman 3, new enough for the
/// fields read.
const API_VERSION: (u32, u32) = (1, 41);
/// Deadline for each request.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Deadline for stopping a container: the engine waits `STOP_GRACE` for it before killing.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Seconds a container is given to stop before the engine kills it.
const STOP_GRACE: u32 = 10;
/// Largest response read: a store with tens of thousands of images stays well below it.
const MAX_BODY: usize = 256 * 1024 * 1024;
/// Most characters of an engine's error message kept.
const MESSAGE_MAX: usize = 300;

/// A docker or podman engine answering the Docker Engine API on a unix socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Engine {
    socket: PathBuf,
    /// `podman` or `docker`, for messages.
    name: String,
}

/// A request the engine did not answer as hoped, worded for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineError {
    pub message: String,
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EngineError {}

/// What a stop or remove found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Done.
    Done,
    /// Nothing to do: already stopped, or already gone.
    AlreadyDone,
    /// Refused because something still uses it (HTTP 409: a running container, an image a
    /// container was created from).
    InUse,
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

    /// `podman at /run/podman/podman.sock`.
    pub fn describe(&self) -> String {
        format!("{} at {}", self.name, self.socket.display())
    }

    /// How to start the engine, for a refused or missing socket.
    fn start_hint(&self) -> &'static str {
        if self.name == "podman" {
            "start it with `podman system service` or `systemctl --user start podman.socket`"
        } else {
            "start it with `sudo systemctl start docker` (or Docker Desktop)"
        }
    }

    fn error(&self, message: String) -> EngineError {
        EngineError { message }
    }

    /// One request; the status and body, or why there is none.
    fn send(
        &self,
        method: &str,
        path: &str,
        timeout: Duration,
    ) -> Result<http::Response, EngineError> {
        let limits = Limits {
            timeout,
            max_body: MAX_BODY,
        };
        http::request(&self.socket, method, path, limits).map_err(|e| match e {
            HttpError::Connect(ref io) => {
                let hint = match io.kind() {
                    std::io::ErrorKind::PermissionDenied => {
                        "run as a user who may use the socket (for docker, a member of the `docker` group)"
                    }
                    _ => self.start_hint(),
                };
                self.error(format!(
                    "cannot connect to {} at {}: {e}; {hint}",
                    self.name,
                    self.socket.display()
                ))
            }
            e => self.error(format!(
                "{} at {}: {method} {path}: {e}",
                self.name,
                self.socket.display()
            )),
        })
    }

    fn failed(&self, method: &str, path: &str, response: &http::Response) -> EngineError {
        self.error(format!(
            "{} at {}: {method} {path}: HTTP {}: {}",
            self.name,
            self.socket.display(),
            response.status,
            error_message(&response.body)
        ))
    }

    /// `GET path` read as JSON, with the number of bytes read.
    pub fn get_json(&self, path: &str) -> Result<(Value, u64), EngineError> {
        let response = self.send("GET", path, TIMEOUT)?;
        let bytes = response.body.len() as u64;
        if response.status != 200 {
            return Err(self.failed("GET", path, &response));
        }
        let value = serde_json::from_slice(&response.body).map_err(|e| {
            self.error(format!(
                "{} at {}: GET {path}: not JSON ({e}; Content-Type {})",
                self.name,
                self.socket.display(),
                response.header("content-type").unwrap_or("not given")
            ))
        })?;
        Ok((value, bytes))
    }

    /// The versioned path prefix to use (`/v1.41`), asked of `/version`.
    pub fn api_prefix(&self) -> Result<String, EngineError> {
        let (version, _) = self.get_json("/version")?;
        Ok(api_prefix(&version))
    }

    /// Every image in the store.
    pub fn images(&self, prefix: &str) -> Result<Vec<Image>, EngineError> {
        self.list(&format!("{prefix}/images/json"))
    }

    /// Every container, running or not.
    pub fn containers(&self, prefix: &str) -> Result<Vec<Container>, EngineError> {
        self.list(&format!("{prefix}/containers/json?all=1"))
    }

    fn list<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, EngineError> {
        let (value, _) = self.get_json(path)?;
        serde_json::from_value(value).map_err(|e| {
            self.error(format!(
                "{} at {}: GET {path}: not the list expected: {e}",
                self.name,
                self.socket.display()
            ))
        })
    }

    /// Stops a container (the engine kills it after a grace period).
    pub fn stop_container(&self, prefix: &str, id: &str) -> Result<Change, EngineError> {
        let path = format!("{prefix}/containers/{}/stop?t={STOP_GRACE}", path_id(id)?);
        self.change("POST", &path, STOP_TIMEOUT)
    }

    /// Removes a container (with `force`, a running one too) and its anonymous volumes' links.
    pub fn remove_container(
        &self,
        prefix: &str,
        id: &str,
        force: bool,
    ) -> Result<Change, EngineError> {
        let path = format!("{prefix}/containers/{}?force={force}", path_id(id)?);
        self.change("DELETE", &path, TIMEOUT)
    }

    /// Removes an image by ID with all its tags (`force` is what lets an image with several
    /// names go at once; an image a container uses is refused all the same by podman).
    pub fn remove_image(&self, prefix: &str, id: &str, force: bool) -> Result<Change, EngineError> {
        let path = format!("{prefix}/images/{}?force={force}", path_id(id)?);
        self.change("DELETE", &path, TIMEOUT)
    }

    fn change(&self, method: &str, path: &str, timeout: Duration) -> Result<Change, EngineError> {
        let response = self.send(method, path, timeout)?;
        match response.status {
            200..=299 => Ok(Change::Done),
            304 | 404 => Ok(Change::AlreadyDone),
            409 => Ok(Change::InUse),
            _ => Err(self.failed(method, path, &response)),
        }
    }
}

/// An ID as it may go into a request path: the engine's own IDs and names are hex, letters,
/// digits and `:._-`; anything else (a `/`, a `?`) is refused rather than sent.
fn path_id(id: &str) -> Result<&str, EngineError> {
    let ok = !id.is_empty()
        && id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-'));
    if ok {
        Ok(id)
    } else {
        Err(EngineError {
            message: format!("refusing to send an ID that is not one: {id:?}"),
        })
    }
}

/// The versioned path prefix from `/version`'s `ApiVersion` and `MinAPIVersion`: v1.41 when
/// the engine accepts it, else the nearest version it does accept.
pub fn api_prefix(version: &Value) -> String {
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

/// The message of a Docker API error body (`{"message": "…"}`), or the body itself, cut short.
fn error_message(body: &[u8]) -> String {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    excerpt(&message)
}

/// The message on one line, at most [`MESSAGE_MAX`] characters: an engine's error is quoted,
/// not its whole body.
fn excerpt(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    let mut cut: String = line.chars().take(MESSAGE_MAX).collect();
    if cut.len() < line.len() {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_version_negotiation() {
        let v = |s: &str| serde_json::from_str::<Value>(s).unwrap_or_default();
        assert_eq!(
            api_prefix(&v(r#"{"ApiVersion":"1.41","MinAPIVersion":"1.24"}"#)),
            "/v1.41"
        );
        assert_eq!(
            api_prefix(&v(r#"{"ApiVersion":"1.52","MinAPIVersion":"1.44"}"#)),
            "/v1.44"
        );
        assert_eq!(
            api_prefix(&v(r#"{"ApiVersion":"1.40","MinAPIVersion":"1.12"}"#)),
            "/v1.40"
        );
        assert_eq!(api_prefix(&v("{}")), "/v1.41");
    }

    #[test]
    fn ids_that_would_change_the_path_are_refused() {
        assert!(path_id("sha256:0123abc").is_ok());
        assert!(path_id("scanner_1").is_ok());
        for bad in ["", "../images", "a?force=true", "a/b", "a b", "a%2f"] {
            assert!(path_id(bad).is_err(), "{bad}");
        }
    }
}
