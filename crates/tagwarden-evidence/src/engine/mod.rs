//! Container engines (docker, podman) as evidence, through the Docker Engine API client of
//! `tagwarden-engine` (which `purge` uses too).
//!
//! Read-only: `GET /version`, `GET /v1.41/images/json` and `GET /v1.41/containers/json?all=1`.
//! Nothing is ever created, pulled or changed. Images in the store are reported as
//! [`ImageAction::Present`] under each name they are known by (with the manifest digest from
//! `RepoDigests`), containers as [`ImageAction::ContainerCreated`] with their creation time.

pub(crate) mod records;

use std::path::PathBuf;

use serde_json::Value;
pub use tagwarden_engine::{DiscoverEnv, Engine};

use crate::{
    Evidence, EvidenceSource, ImageAction, Observed, Problem, Sink, SourceKind, SourceStats,
};
use records::DigestIndex;

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

/// [`tagwarden_engine::discover`], its unusable hosts as hunt problems.
pub fn discover(env: &DiscoverEnv) -> Discovery {
    let found = tagwarden_engine::discover(env);
    Discovery {
        sockets: found.sockets,
        problems: found
            .problems
            .into_iter()
            .map(|u| Problem {
                source: SourceKind::Engine,
                location: u.location,
                message: u.message,
            })
            .collect(),
    }
}

fn problem(engine: &Engine, message: String) -> Problem {
    Problem {
        source: SourceKind::Engine,
        location: location(engine),
        message,
    }
}

fn location(engine: &Engine) -> String {
    engine.socket().display().to_string()
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
        Engine::describe(self)
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        let mut stats = SourceStats::default();
        let (version, bytes) = self
            .get_json("/version")
            .map_err(|e| problem(self, e.message))?;
        stats.bytes += bytes;
        let prefix = tagwarden_engine::api_prefix(&version);

        let images = self.get_json(&format!("{prefix}/images/json"));
        let containers = self.get_json(&format!("{prefix}/containers/json?all=1"));
        if let (Err(a), Err(b)) = (&images, &containers) {
            sink.problem(problem(self, b.message.clone()));
            return Err(problem(self, a.message.clone()));
        }

        let mut index = DigestIndex::default();
        match images {
            Ok((list, bytes)) => {
                stats.bytes += bytes;
                sink.progress(stats.bytes);
                if !list.is_array() {
                    sink.problem(problem(
                        self,
                        format!("{prefix}/images/json: not a JSON array"),
                    ));
                }
                for image in list.as_array().map(Vec::as_slice).unwrap_or_default() {
                    stats.records += 1;
                    index.insert(string(image, "Id"), &strings(image, "RepoDigests"));
                    report_image(self, image, sink);
                }
                for (id, more) in index.crowded() {
                    sink.note(problem(self, crowded(id, more)));
                }
            }
            Err(e) => sink.problem(problem(self, e.message)),
        }
        match containers {
            Ok((list, bytes)) => {
                stats.bytes += bytes;
                sink.progress(stats.bytes);
                if !list.is_array() {
                    sink.problem(problem(
                        self,
                        format!("{prefix}/containers/json: not a JSON array"),
                    ));
                }
                for container in list.as_array().map(Vec::as_slice).unwrap_or_default() {
                    stats.records += 1;
                    report_container(self, container, &index, sink);
                }
            }
            Err(e) => sink.problem(problem(self, e.message)),
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

fn report_image(engine: &Engine, image: &Value, sink: &dyn Sink) {
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
        sink.problem(problem(
            engine,
            format!("image {id}: unreadable RepoDigests entry {entry:?}"),
        ));
    }
    for named in named {
        sink.evidence(Evidence {
            source: SourceKind::Engine,
            location: location(engine),
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

fn report_container(engine: &Engine, container: &Value, index: &DigestIndex, sink: &dyn Sink) {
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
    let reference =
        (!image.is_empty() && !records::is_image_id(image, image_id)).then(|| image.to_string());
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
            location: location(engine),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Collect;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;

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
