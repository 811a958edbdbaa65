//! Evidence recognised by its content, wherever it is given: a Docker Hub usage export or a
//! `kubectl` snapshot inside a folder given as CI logs, a Zeek log among snapshots, a GitHub
//! Actions log among network logs. Each file source reads the files of its own kind and hands
//! every file whose first bytes clearly say another kind to that kind's reader ([`Readers`]), so
//! no evidence is skipped for having been put in the wrong folder. A file nothing specific is
//! recognised in is read by the source it was given to (a CI log source reads plain `docker
//! pull` output, a network log source searches plain text).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::Arc;

use crate::indicators::IndicatorSet;
use crate::input::{self, Found};
use crate::{Problem, Sink, SourceKind, SourceStats};

/// Which reader a file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    CiLog,
    NetworkLog,
    Snapshot,
    DockerHubExport,
    AuditLog,
}

impl Kind {
    /// The flag that names files of this kind.
    pub fn flag(self) -> &'static str {
        match self {
            Kind::CiLog => "--ci-logs",
            Kind::NetworkLog => "--network-logs",
            Kind::Snapshot => "--snapshot",
            Kind::DockerHubExport => "--dockerhub-export",
            Kind::AuditLog => "--audit-logs",
        }
    }
}

/// Bytes looked at to recognise a file (after decompression).
const HEAD: usize = 64 * 1024;

/// Lines looked at to recognise a file.
const HEAD_LINES: usize = 64;

/// What a file's first bytes clearly say it is; `None` when nothing specific is recognised.
pub fn recognise(head: &[u8]) -> Option<Kind> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    // The last line may be cut by the head's end.
    if head.len() >= HEAD && lines.len() > 1 {
        lines.pop();
    }
    lines.truncate(HEAD_LINES);
    let first = lines.first()?;
    if crate::ci::detect(&lines) != crate::ci::LogFormat::Plain {
        return Some(Kind::CiLog);
    }
    if first.trim_start().starts_with(['{', '[']) && crate::audit::recognise(text) {
        return Some(Kind::AuditLog);
    }
    if crate::dockerhub::recognise(first, text) {
        return Some(Kind::DockerHubExport);
    }
    if crate::snapshot::recognise(first, text) {
        return Some(Kind::Snapshot);
    }
    if crate::network::recognise(first) {
        return Some(Kind::NetworkLog);
    }
    None
}

/// A file opened for reading: a zip archive (GitHub run logs), or text (decompressed) with the
/// kind its head says.
pub(crate) enum Opened {
    Zip(Zip),
    Text {
        reader: Box<dyn BufRead + Send>,
        kind: Option<Kind>,
    },
}

/// A zip archive to read: a file (sought in place) or a stream read into memory first.
pub(crate) enum Zip {
    File(File),
    Memory(Cursor<Vec<u8>>),
}

/// Largest zip archive read from a stream (it must be held whole to be read).
const ZIP_STREAM_MAX: u64 = 512 * 1024 * 1024;

/// Opens a file found by a walk, once (a stream cannot be opened twice): a zip, or text with
/// its kind recognised from the first bytes.
pub(crate) fn open(found: &Found) -> io::Result<Opened> {
    let mut raw = input::open_raw(&found.path)?;
    if input::is_zip(raw.fill_buf()?) {
        return Ok(Opened::Zip(if found.stream {
            Zip::Memory(Cursor::new(input::read_all_from(&mut raw, ZIP_STREAM_MAX)?))
        } else {
            Zip::File(raw.into_inner())
        }));
    }
    let mut reader = input::decompress(raw)?;
    let mut head = Vec::with_capacity(HEAD);
    let kind;
    let reader: Box<dyn BufRead + Send> =
        match (&mut reader).take(HEAD as u64).read_to_end(&mut head) {
            Ok(_) => {
                kind = recognise(&head);
                Box::new(Cursor::new(head).chain(reader))
            }
            // A corrupt or cut file: what came before the error is still read (and the error
            // reported where the reading stops).
            Err(e) => {
                kind = recognise(&head);
                Box::new(Cursor::new(head).chain(Failed(Some(e))))
            }
        };
    Ok(Opened::Text { reader, kind })
}

/// A reader whose next read fails with the error it holds, then ends.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

impl BufRead for Failed {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(&[]),
        }
    }
    fn consume(&mut self, _: usize) {}
}

/// The readers of every kind, shared by the file sources so that each can read what it finds
/// of another kind. Network logs need the indicators to search for.
#[derive(Clone, Debug, Default)]
pub struct Readers {
    indicators: Arc<IndicatorSet>,
}

impl Readers {
    /// Readers that search network logs for these indicators.
    pub fn new(indicators: Arc<IndicatorSet>) -> Self {
        Readers { indicators }
    }

    /// Reads a file of `kind` that a source of another kind found.
    pub(crate) fn read(
        &self,
        kind: Kind,
        location: &str,
        opened: Opened,
        sink: &dyn Sink,
        stats: &mut SourceStats,
    ) {
        match (kind, opened) {
            (_, Opened::Zip(zip)) => crate::ci::read_zip(zip, location, sink, stats),
            (Kind::CiLog, Opened::Text { mut reader, .. }) => {
                crate::ci::read_stream(&mut *reader, location, sink, stats)
            }
            (Kind::NetworkLog, Opened::Text { reader, .. }) => {
                crate::network::read_stream(&self.indicators, location, reader, sink, stats)
            }
            (Kind::Snapshot, Opened::Text { mut reader, .. }) => {
                crate::snapshot::read_stream(&mut *reader, location, sink, stats)
            }
            (Kind::DockerHubExport, Opened::Text { mut reader, .. }) => {
                crate::dockerhub::read_stream(&mut *reader, location, sink, stats)
            }
            (Kind::AuditLog, Opened::Text { mut reader, .. }) => {
                crate::audit::read_stream(&mut *reader, location, sink, stats)
            }
        }
    }

    /// Reads every file a walk found for a source of `own` kind: its own files (and those
    /// nothing specific is recognised in) with `read_own`, the others with their kind's reader.
    /// Files that cannot be opened, and streams that gave nothing, are problems of kind
    /// `source`.
    pub(crate) fn read_found(
        &self,
        found: &Found,
        own: Kind,
        source: SourceKind,
        sink: &dyn Sink,
        stats: &mut SourceStats,
        read_own: &mut dyn FnMut(Opened, &mut SourceStats),
    ) {
        let location = found.path.display().to_string();
        let opened = match open(found) {
            Ok(o) => o,
            Err(e) => {
                sink.problem(problem(source, &location, format!("cannot read: {e}")));
                return;
            }
        };
        let before = stats.bytes;
        stats.files += 1;
        let kind = match &opened {
            Opened::Zip(_) => Kind::CiLog,
            Opened::Text { kind, .. } => kind.unwrap_or(own),
        };
        if kind == own {
            read_own(opened, stats);
        } else {
            self.read(kind, &location, opened, sink, stats);
        }
        if found.stream && stats.bytes == before {
            sink.problem(problem(
                source,
                &location,
                "the stream gave nothing (did the command writing it fail?): nothing was searched"
                    .into(),
            ));
        }
    }
}

/// Reads every file under `paths` for a source of `own` kind whose own files are each read
/// whole by `read_own` (snapshots, exports): walked, recognised, routed.
pub(crate) fn collect(
    paths: &[std::path::PathBuf],
    readers: &Readers,
    own: Kind,
    source: SourceKind,
    describe: &str,
    sink: &dyn Sink,
    read_own: fn(&mut dyn BufRead, &str, &dyn Sink, &mut SourceStats),
) -> Result<SourceStats, Problem> {
    let mut stats = SourceStats::default();
    let found = input::walk(paths);
    walked(&found, source, describe, sink)?;
    for file in &found.files {
        let location = file.path.display().to_string();
        readers.read_found(file, own, source, sink, &mut stats, &mut |opened, stats| {
            // A zip is a CI log: `read_found` gives it to the CI reader, never here.
            if let Opened::Text { mut reader, .. } = opened {
                read_own(&mut *reader, &location, sink, stats);
            }
        });
    }
    Ok(stats)
}

/// Reports what a walk could not read as problems, and what it passed over as notes; `Err`
/// (the source searched nothing) when it found no file at all and something failed.
pub(crate) fn walked(
    walked: &input::Walked,
    source: SourceKind,
    describe: &str,
    sink: &dyn Sink,
) -> Result<(), Problem> {
    for (path, message) in &walked.notes {
        sink.note(problem(
            source,
            &path.display().to_string(),
            message.clone(),
        ));
    }
    let mut problems = walked
        .problems
        .iter()
        .map(|(path, message)| problem(source, &path.display().to_string(), message.clone()));
    if walked.files.is_empty()
        && let Some(first) = problems.next()
    {
        for p in problems {
            sink.problem(p);
        }
        return Err(Problem {
            location: format!("{describe}: {}", first.location),
            ..first
        });
    }
    for p in problems {
        sink.problem(p);
    }
    Ok(())
}

fn problem(source: SourceKind, location: &str, message: String) -> Problem {
    Problem {
        source,
        location: location.to_string(),
        message,
    }
}

/// A zip archive behind a buffered reader, for the zip crate (which needs `Read + Seek`).
pub(crate) fn zip_reader(zip: Zip) -> Box<dyn ReadSeek> {
    match zip {
        Zip::File(f) => Box::new(BufReader::new(f)),
        Zip::Memory(c) => Box::new(c),
    }
}

/// What the zip crate reads from.
pub(crate) trait ReadSeek: Read + io::Seek + Send {}
impl<T: Read + io::Seek + Send> ReadSeek for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ci::CiLogs;
    use crate::network::NetworkLogs;
    use crate::snapshot::Snapshots;
    use crate::{Collect, EvidenceSource, Indicator, NetworkKind};

    const DIGEST: &str = "sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0";

    fn indicators() -> Arc<IndicatorSet> {
        Arc::new(IndicatorSet::new(vec![Indicator {
            kind: NetworkKind::Domain,
            value: "audit.checkmarx.cx".into(),
            advisory_id: "kics".into(),
            weak: false,
        }]))
    }

    /// One file of every kind in one folder.
    fn mixed() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        std::fs::write(
            p("1_build.txt"),
            format!(
                "2026-04-22T12:40:00.0000000Z ##[command]/usr/bin/docker pull checkmarx/kics:latest\n\
                 2026-04-22T12:40:01.0000000Z Digest: {DIGEST}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            p("hub-usage.csv"),
            "datehour,repository,tag,digest,ips,pulls\n2026/04/22/12,checkmarx/kics,latest,,10.0.0.9,1\n",
        )
        .unwrap();
        std::fs::write(
            p("dns.log"),
            "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\n\
             1776861361.5\tC1\t10.0.5.23\t1\t10.0.0.2\t53\tudp\taudit.checkmarx.cx\n",
        )
        .unwrap();
        std::fs::write(
            p("pods.json"),
            r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"scan"},"spec":{"containers":[{"name":"k","image":"checkmarx/kics:latest"}]}}]}"#,
        )
        .unwrap();
        dir
    }

    fn sources(e: &[crate::Evidence]) -> Vec<&'static str> {
        let mut s: Vec<&str> = e.iter().map(|e| e.source.as_str()).collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    #[test]
    fn every_kind_is_read_wherever_it_is_given() {
        let dir = mixed();
        let want = [
            "dockerhub-usage",
            "github-actions-log",
            "kubectl-snapshot",
            "zeek-dns",
        ];
        let readers = Readers::new(indicators());
        let all: Vec<Box<dyn EvidenceSource>> = vec![
            Box::new(CiLogs::new(vec![dir.path().into()], readers.clone())),
            Box::new(Snapshots::new(vec![dir.path().into()], readers.clone())),
            Box::new(crate::dockerhub::DockerHubExports::new(
                vec![dir.path().into()],
                readers,
            )),
            Box::new(NetworkLogs::new(vec![dir.path().into()], indicators(), 1)),
        ];
        for source in all {
            let sink = Collect::default();
            let stats = source.collect(&sink).unwrap();
            let (evidence, problems) = sink.into_parts();
            assert!(problems.is_empty(), "{}: {problems:?}", source.describe());
            assert_eq!(sources(&evidence), want, "{}", source.describe());
            assert_eq!(stats.files, 4);
        }
    }

    #[test]
    fn recognised_from_the_first_bytes() {
        let r = |s: &str| recognise(s.as_bytes());
        assert_eq!(
            r("datehour,repository,tag,pulls\n"),
            Some(Kind::DockerHubExport)
        );
        assert_eq!(
            r("{\"logs\":[{\"action\":\"repo.tag.push\"}]}"),
            Some(Kind::DockerHubExport)
        );
        assert_eq!(r("REPOSITORY   TAG   IMAGE ID\n"), Some(Kind::Snapshot));
        assert_eq!(
            r("[{\"Id\":\"sha256:1\",\"RepoTags\":[]}]"),
            Some(Kind::Snapshot)
        );
        assert_eq!(
            r(
                "1776861362.114   1350 10.0.5.23 TCP_TUNNEL/200 48211 CONNECT a.b:443 - HIER_DIRECT/1.2.3.4 -\n"
            ),
            Some(Kind::NetworkLog)
        );
        // Plain text and generic JSON: whoever was given them reads them.
        assert_eq!(r("latest: Pulling from checkmarx/kics\n"), None);
        assert_eq!(r("{\"msg\":\"hello\"}\n"), None);
        assert_eq!(r(""), None);
    }

    #[test]
    fn streams_are_read_once_and_an_empty_one_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("snap");
        if !crate::input::tests_support::mkfifo(&fifo) {
            return;
        }
        let pods = r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"scan"},"spec":{"containers":[{"name":"k","image":"checkmarx/kics:latest"}]}}]}"#;
        for body in [pods, ""] {
            let writer = {
                let fifo = fifo.clone();
                std::thread::spawn(move || std::fs::write(fifo, body).unwrap())
            };
            let sink = Collect::default();
            let stats = Snapshots::new(vec![fifo.clone()], Readers::default())
                .collect(&sink)
                .unwrap();
            writer.join().unwrap();
            let (evidence, problems) = sink.into_parts();
            if body.is_empty() {
                assert!(evidence.is_empty());
                assert!(
                    problems
                        .iter()
                        .any(|p| p.message.contains("stream gave nothing")),
                    "{problems:?}"
                );
            } else {
                assert!(problems.is_empty(), "{problems:?}");
                assert_eq!(evidence.len(), 1);
                assert_eq!(stats.bytes, pods.len() as u64);
            }
        }
    }
}
