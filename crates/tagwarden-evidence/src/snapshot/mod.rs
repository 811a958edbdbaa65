//! Snapshots people produce with their tools, recognised by content rather than by name:
//! `kubectl get pods -A -o json`, `docker inspect` (images or containers, podman's too),
//! `docker images --digests` (the table or `--format json` lines), `docker ps --format json`,
//! `crictl images -o json` and `crictl ps -a -o json`.
//! Files may be gzip- or zstd-compressed.

mod crictl;
mod docker;
mod kubectl;

use std::path::PathBuf;

use jiff::Timestamp;
use serde_json::Value;
use tagwarden_reference::Digest;

use crate::recognise::{self, Kind, Readers};
use crate::{
    Evidence, EvidenceSource, ImageAction, Observed, Problem, Sink, SourceKind, SourceStats, input,
};

/// Largest snapshot read (after decompression).
const FILE_MAX: u64 = 256 * 1024 * 1024;

/// Snapshot files (or directories of them, or streams such as `<(kubectl get pods -A -o
/// json)`) to read.
#[derive(Clone, Debug)]
pub struct Snapshots {
    paths: Vec<PathBuf>,
    readers: Readers,
}

impl Snapshots {
    /// Snapshots under these paths; files of other kinds found among them go to `readers`.
    pub fn new(paths: Vec<PathBuf>, readers: Readers) -> Self {
        Self { paths, readers }
    }

    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

/// What one snapshot file holds.
#[derive(Debug)]
pub struct Parsed {
    /// The kind recognised.
    pub kind: SourceKind,
    pub evidence: Vec<Evidence>,
    /// Records that could not be read, as messages (the file is named by the caller).
    pub problems: Vec<String>,
    /// Records read with a caveat.
    pub notes: Vec<String>,
    /// Records looked at (images, containers).
    pub records: u64,
}

/// The owner of each pod in a `kubectl get pods -o json` snapshot, as `(namespace/pod, kind,
/// name)`: the Deployment's ReplicaSet, a DaemonSet, a Job… Empty for other snapshots and for
/// text that is not JSON (which [`parse`] reports).
pub fn kubectl_owners(text: &str) -> Vec<(String, String, String)> {
    serde_json::from_str::<Value>(text)
        .map(|doc| kubectl::owners(&doc))
        .unwrap_or_default()
}

/// The formats recognised, in the order they are tried.
const EXPECTED: &str = "expected the output of `kubectl get pods -o json`, `docker inspect`, \
                        `docker images --digests` or `crictl images -o json`";

/// Recognises and reads one snapshot. `location` goes into each piece of evidence. An `Err` is
/// a file that is not a snapshot at all (unknown or malformed), with the reason.
pub fn parse(location: &str, text: &str) -> Result<Parsed, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    let mut out = Builder::new(location);
    if trimmed.is_empty() {
        return Err(format!("empty file; {EXPECTED}"));
    }
    if trimmed.starts_with(['{', '[']) {
        let doc = match serde_json::from_str::<Value>(text) {
            Ok(doc) => doc,
            Err(e) => {
                // `--format json` prints one object per line, which is not one JSON document.
                if let Some(parsed) = docker::json_lines(location, text) {
                    return Ok(parsed);
                }
                return Err(format!("malformed JSON: {e}"));
            }
        };
        if kubectl::is_kubectl(&doc) {
            out.kind = SourceKind::KubectlSnapshot;
            kubectl::read(&doc, &mut out);
        } else if crictl::is_crictl(&doc) {
            out.kind = SourceKind::CrictlSnapshot;
            crictl::read(&doc, &mut out);
        } else if docker::is_inspect(&doc) {
            out.kind = SourceKind::DockerSnapshot;
            docker::read_inspect(&doc, &mut out);
        } else if let Some(parsed) = docker::json_lines(location, text) {
            // `--format json` with a single line is one JSON document.
            return Ok(parsed);
        } else {
            return Err(format!("JSON of an unknown shape; {EXPECTED}"));
        }
        return Ok(out.finish());
    }
    if let Some(parsed) = docker::images_table(location, text) {
        return parsed;
    }
    Err(format!("not a recognised snapshot; {EXPECTED}"))
}

/// Collects evidence of one kind for one file.
struct Builder<'a> {
    location: &'a str,
    kind: SourceKind,
    evidence: Vec<Evidence>,
    problems: Vec<String>,
    notes: Vec<String>,
    records: u64,
}

/// One image observation before it becomes [`Evidence`].
#[derive(Default)]
struct Seen {
    reference: Option<String>,
    digest: Option<Digest>,
    line: Option<u64>,
    timestamp: Option<Timestamp>,
    host: Option<String>,
    job: Option<String>,
    excerpt: String,
}

impl<'a> Builder<'a> {
    fn new(location: &'a str) -> Self {
        Self {
            location,
            kind: SourceKind::DockerSnapshot,
            evidence: Vec::new(),
            problems: Vec::new(),
            notes: Vec::new(),
            records: 0,
        }
    }

    fn push(&mut self, action: ImageAction, seen: Seen) {
        self.evidence.push(Evidence {
            source: self.kind,
            location: self.location.to_string(),
            line: seen.line,
            timestamp: seen.timestamp,
            within: None,
            host: seen.host,
            job: seen.job,
            observed: Observed::Image {
                action,
                reference: seen.reference,
                digest: seen.digest,
            },
            excerpt: Some(crate::excerpt(&seen.excerpt)),
        });
    }

    /// An image store entry: one piece of evidence per name it is known by.
    fn present(&mut self, id: &str, tags: &[String], digests: &[String], created: &str) {
        self.records += 1;
        let (named, bad) = crate::engine::records::names(tags, digests);
        for entry in bad {
            self.problems
                .push(format!("image {id}: unreadable repo digest {entry:?}"));
        }
        let excerpt = format!(
            "image {id} tags [{}] digests [{}] created {created} (the image's build time, not when it was pulled)",
            tags.join(", "),
            digests.join(", ")
        );
        for named in named {
            self.push(
                ImageAction::Present,
                Seen {
                    reference: Some(named.reference),
                    digest: named.digest,
                    excerpt: excerpt.clone(),
                    ..Seen::default()
                },
            );
        }
    }

    fn finish(self) -> Parsed {
        Parsed {
            kind: self.kind,
            evidence: self.evidence,
            problems: self.problems,
            notes: self.notes,
            records: self.records,
        }
    }
}

/// A timestamp as the tools print it: RFC 3339 (`kubectl`, `docker inspect`), or Go's default
/// `2026-04-22 10:00:00 +0000 UTC` (`docker images --format json`). Go's zero time is `None`.
fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let t = s.parse::<Timestamp>().ok().or_else(|| {
        // Go appends the zone name after the offset, and sometimes a monotonic clock reading.
        let s = s.split(" m=").next().unwrap_or(s);
        let mut parts: Vec<&str> = s.split(' ').collect();
        if parts.len() == 4 {
            parts.pop();
        }
        let s = parts.join(" ");
        jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S%.f %z", &s)
            .or_else(|_| jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S %z", &s))
            .ok()?
            .to_timestamp()
            .ok()
    })?;
    // Docker writes 0001-01-01T00:00:00Z for "never".
    (t.as_second() > 0).then_some(t)
}

impl EvidenceSource for Snapshots {
    fn describe(&self) -> String {
        let paths: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        format!("snapshots in {}", paths.join(", "))
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        // No kind is known for a file that could not be read; snapshots are mostly docker's.
        recognise::collect(
            &self.paths,
            &self.readers,
            Kind::Snapshot,
            SourceKind::DockerSnapshot,
            &self.describe(),
            sink,
            read_stream,
        )
    }
}

/// Whether a file's first line and head are a snapshot: the `docker images` table, or JSON
/// with the keys `kubectl`, `docker inspect`, `docker images/ps --format json` and `crictl`
/// write.
pub(crate) fn recognise(first: &str, head: &str) -> bool {
    let first = first.trim_start();
    if first.starts_with("REPOSITORY") && first.contains("TAG") {
        return true;
    }
    if !first.starts_with(['{', '[']) {
        return false;
    }
    let has = |k: &str| head.contains(k);
    has("\"RepoTags\"")
        || has("\"RepoDigests\"")
        || has("\"repoTags\"")
        || has("\"repoDigests\"")
        || has("\"imageRef\"")
        || has("\"containerStatuses\"")
        || (has("\"apiVersion\"") && has("\"kind\"") && has("\"containers\""))
        || (has("\"Repository\"") && has("\"Tag\""))
        || (has("\"Names\"") && has("\"Image\""))
}

/// Reads one snapshot (at most [`FILE_MAX`] bytes once decompressed).
pub(crate) fn read_stream(
    reader: &mut dyn std::io::BufRead,
    location: &str,
    sink: &dyn Sink,
    stats: &mut SourceStats,
) {
    let problem = |message: String| Problem {
        source: SourceKind::DockerSnapshot,
        location: location.to_string(),
        message,
    };
    let bytes = match input::read_all_from(reader, FILE_MAX) {
        Ok(b) => b,
        Err(e) => {
            sink.problem(problem(format!("cannot read: {e}")));
            return;
        }
    };
    stats.bytes += bytes.len() as u64;
    sink.progress(stats.bytes);
    let text = String::from_utf8_lossy(&bytes);
    match parse(location, &text) {
        Ok(parsed) => {
            stats.records += parsed.records;
            let kind = parsed.kind;
            for message in parsed.problems {
                sink.problem(Problem {
                    source: kind,
                    location: location.to_string(),
                    message,
                });
            }
            for message in parsed.notes {
                sink.note(Problem {
                    source: kind,
                    location: location.to_string(),
                    message,
                });
            }
            for evidence in parsed.evidence {
                sink.evidence(evidence);
            }
        }
        Err(message) => sink.problem(problem(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Collect;

    #[test]
    fn unknown_and_malformed_files_are_named_problems() {
        let e = parse("x.json", "{\"kind\": \"List\",\n \"items\": [}").unwrap_err();
        assert!(e.starts_with("malformed JSON: "), "{e}");
        assert!(e.contains("line 2 column"), "{e}");
        let e = parse("x.json", r#"{"hello": "world"}"#).unwrap_err();
        assert!(e.contains("unknown shape"), "{e}");
        let e = parse("x.txt", "just some text\n").unwrap_err();
        assert!(e.contains("not a recognised snapshot"), "{e}");
        assert!(parse("x", " \n").is_err());
    }

    #[test]
    fn hostile_input_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(
            parse("deep.json", &deep)
                .unwrap_err()
                .contains("recursion limit")
        );
        let deep_object = "{\"items\":".repeat(50_000);
        assert!(parse("deep.json", &deep_object).is_err());
        assert!(parse("bin", "\u{0}\u{1}\u{fffd}REPOSITORY").is_err());
        let wide = format!("REPOSITORY  TAG\n{}\n", "x  ".repeat(100_000));
        let parsed = parse("wide.txt", &wide).unwrap();
        assert_eq!((parsed.evidence.len(), parsed.problems.len()), (0, 1));
        // A List whose items are not objects, and pods whose fields have the wrong types.
        let odd = r#"{"kind":"PodList","items":[1,"x",{"kind":"Pod","metadata":7,
            "spec":{"containers":"no"},"status":{"containerStatuses":[{"name":5,"imageID":[]}]}}]}"#;
        let parsed = parse("odd.json", odd).unwrap();
        assert_eq!(parsed.kind, SourceKind::KubectlSnapshot);
    }

    #[test]
    fn times_as_tools_print_them() {
        let t = |s| parse_time(s).map(|t| t.to_string());
        assert_eq!(
            t("2026-04-22T10:00:00Z").as_deref(),
            Some("2026-04-22T10:00:00Z")
        );
        assert_eq!(
            t("2026-04-22T10:00:00.123456789+02:00").as_deref(),
            Some("2026-04-22T08:00:00.123456789Z")
        );
        assert_eq!(
            t("2026-04-22 10:00:00 +0000 UTC").as_deref(),
            Some("2026-04-22T10:00:00Z")
        );
        assert_eq!(t("0001-01-01T00:00:00Z"), None);
        assert_eq!(t("3 weeks ago"), None);
    }

    #[test]
    fn collect_reads_compressed_files_and_reports_problems_by_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("images.json.zst");
        let body = format!(
            r#"{{"images":[{{"id":"sha256:{}","repoTags":["docker.io/checkmarx/kics:latest"],"repoDigests":["docker.io/checkmarx/kics@sha256:{}"]}}]}}"#,
            "1".repeat(64),
            "a".repeat(64)
        );
        std::fs::write(&good, zstd::encode_all(body.as_bytes(), 3).unwrap()).unwrap();
        let bad = dir.path().join("notes.txt");
        std::fs::write(&bad, "hello\n").unwrap();
        let source = Snapshots::new(vec![dir.path().to_path_buf()], Readers::default());
        let sink = Collect::default();
        let stats = source.collect(&sink).unwrap();
        assert_eq!((stats.files, stats.records), (2, 1));
        let (evidence, problems) = sink.into_parts();
        assert_eq!(evidence.len(), 1);
        assert_eq!(evidence[0].source, SourceKind::CrictlSnapshot);
        assert_eq!(evidence[0].location, good.display().to_string());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].location, bad.display().to_string());

        let missing = Snapshots::new(vec![dir.path().join("missing.json")], Readers::default());
        assert!(missing.collect(&Collect::default()).is_err());
    }
}
