//! CI job logs as evidence: which images a job pulled (with the digest the log printed) and
//! which GitHub Actions it downloaded.
//!
//! [`CiLogs`] walks files, directories and GitHub Actions run-log zips; each file (plain, gzip or
//! zstd) is recognised from its content as a GitHub Actions log, a GitLab runner trace, a
//! Jenkins console log, or plain `docker pull`/BuildKit output. A digest is only ever one the log
//! printed: GitLab's image ID (`Using docker image sha256:<id> for …`) and `docker images` IDs
//! are never reported as digests.

mod patterns;
mod scan;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

pub use scan::{Carry, FileContext, LogFormat, ScanOutcome, detect, scan};

use crate::input::Found;
use crate::recognise::{self, Kind, Opened, Readers, Zip};
use crate::{EvidenceSource, Problem, Sink, SourceKind, SourceStats, input};

/// CI logs under some paths: files, directories (walked recursively), `.zip` run logs.
#[derive(Clone, Debug)]
pub struct CiLogs {
    paths: Vec<PathBuf>,
    readers: Readers,
}

impl CiLogs {
    /// Logs under these paths: files, directories, run-log zips; files of other kinds found
    /// among them (a network log, a snapshot, a Docker Hub export) go to `readers`.
    pub fn new(paths: Vec<PathBuf>, readers: Readers) -> Self {
        Self { paths, readers }
    }
}

impl EvidenceSource for CiLogs {
    fn describe(&self) -> String {
        let paths: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        format!("CI logs in {}", paths.join(", "))
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        let mut stats = SourceStats::default();
        let mut all = input::Walked::default();
        let mut roots: Vec<(&Path, Vec<Found>)> = Vec::new();
        for root in &self.paths {
            let mut walked = input::walk(std::slice::from_ref(root));
            // Step logs in step order (`2_…` before `10_…`): the first says which machine ran.
            walked.files.sort_by_cached_key(|f| {
                let name = f.path.file_name().map(|n| n.to_string_lossy().into_owned());
                let name = name.unwrap_or_default();
                (
                    f.path.parent().map(Path::to_path_buf),
                    step_number(&name),
                    name,
                )
            });
            all.problems.append(&mut walked.problems);
            all.notes.append(&mut walked.notes);
            all.files.extend(walked.files.iter().cloned());
            roots.push((root, walked.files));
        }
        recognise::walked(&all, SourceKind::DockerPullLog, &self.describe(), sink)?;
        for (root, files) in roots {
            let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
            let skipped = step_files_of_whole_jobs(&paths);
            let mut carries: HashMap<String, Carry> = HashMap::new();
            for found in files.iter().filter(|f| !skipped.contains(&f.path)) {
                let path = &found.path;
                let location = path.display().to_string();
                self.readers.read_found(
                    found,
                    Kind::CiLog,
                    kind_of_unread(&location),
                    sink,
                    &mut stats,
                    &mut |opened, stats| match opened {
                        Opened::Zip(zip) => read_zip(zip, &location, sink, stats),
                        Opened::Text { mut reader, .. } => {
                            let file = FileContext {
                                location: location.clone(),
                                path_job: job_from_path(relative_to(path, root)),
                                file_stem: stem(path),
                            };
                            // Keyed by folder too: two runs side by side may both have a
                            // `build` job.
                            let job_key = file.path_job.as_ref().map(|j| {
                                let dir = path.parent().unwrap_or(Path::new(""));
                                dir.join(j).display().to_string()
                            });
                            let carry = job_key
                                .as_ref()
                                .and_then(|k| carries.get(k).cloned())
                                .unwrap_or_default();
                            let outcome = scan(&mut reader, file, carry, sink);
                            account(&outcome, &location, sink, stats);
                            if let Some(key) = job_key {
                                carries.insert(key, outcome.carry);
                            }
                        }
                    },
                );
            }
        }
        Ok(stats)
    }
}

/// Reads one CI log found by a source of another kind.
pub(crate) fn read_stream(
    reader: &mut dyn BufRead,
    location: &str,
    sink: &dyn Sink,
    stats: &mut SourceStats,
) {
    let file = FileContext {
        location: location.to_string(),
        path_job: None,
        file_stem: stem(Path::new(location)),
    };
    let outcome = scan(reader, file, Carry::default(), sink);
    account(&outcome, location, sink, stats);
}

/// The kind of a log that could not be read at all: zips (GitHub run logs) say GitHub and the
/// rest say `docker pull` log.
fn kind_of_unread(location: &str) -> SourceKind {
    let zip = location.ends_with(".zip") || location.contains(".zip!");
    if zip {
        SourceKind::GithubActionsLog
    } else {
        SourceKind::DockerPullLog
    }
}

fn problem(location: &str, message: String) -> Problem {
    Problem {
        source: kind_of_unread(location),
        location: location.to_string(),
        message,
    }
}

fn account(outcome: &ScanOutcome, location: &str, sink: &dyn Sink, stats: &mut SourceStats) {
    stats.bytes += outcome.bytes;
    stats.records += outcome.reported;
    sink.progress(stats.bytes);
    if outcome.lines.long > 0 {
        sink.note(Problem {
            source: kind_of(outcome.format),
            location: location.to_string(),
            message: format!(
                "{} line(s) longer than {} MiB (the first: line {}): searched whole, in \
                 overlapping pieces",
                outcome.lines.long,
                input::MAX_LINE >> 20,
                outcome.lines.first_long
            ),
        });
    }
    if let Some(e) = &outcome.error {
        sink.problem(Problem {
            source: kind_of(outcome.format),
            location: location.to_string(),
            message: format!(
                "read stopped after {} bytes (corrupt or truncated?): {e}",
                outcome.bytes
            ),
        });
    }
}

fn kind_of(format: LogFormat) -> SourceKind {
    match format {
        LogFormat::GithubActions => SourceKind::GithubActionsLog,
        LogFormat::Gitlab => SourceKind::GitlabRunnerLog,
        LogFormat::Jenkins => SourceKind::JenkinsLog,
        LogFormat::Plain => SourceKind::DockerPullLog,
    }
}

/// The path inside the walked root; a file given directly is its own name.
fn relative_to<'p>(path: &'p Path, root: &Path) -> &'p Path {
    match path.strip_prefix(root) {
        Ok(r) if !r.as_os_str().is_empty() => r,
        _ => path.file_name().map_or(path, Path::new),
    }
}

/// The file name without its extensions (`1_build.txt.gz` → `1_build`).
fn stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut s = name.as_str();
    for ext in [".gz", ".zst", ".zstd", ".txt", ".log"] {
        s = s.strip_suffix(ext).unwrap_or(s);
    }
    s.to_string()
}

/// `12_build.txt` → `build`: how GitHub names a job's (or a step's) log in a run's zip.
fn numbered_name(name: &str) -> Option<&str> {
    let name = name.strip_suffix(".txt")?;
    let (n, rest) = name.split_once('_')?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty()).then_some(rest)
}

/// The job a GitHub run-log path names: the folder of a step log (`build/3_Run x.txt`), or the
/// name of a whole-job log (`1_build.txt`).
fn job_from_path(relative: &Path) -> Option<String> {
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let name = parts.last()?;
    numbered_name(name)?;
    match parts.len() {
        0 | 1 => numbered_name(name).map(str::to_string),
        n => parts.get(n - 2).cloned(),
    }
}

/// A GitHub run zip (and its unzipped folder) has both `N_job.txt` (the whole job) and
/// `job/M_step.txt` (its steps): read the whole job only, so each line is reported once.
fn step_files_of_whole_jobs(files: &[PathBuf]) -> HashSet<PathBuf> {
    let whole: HashSet<(PathBuf, String)> = files
        .iter()
        .filter_map(|f| {
            let name = f.file_name()?.to_str()?;
            Some((f.parent()?.to_path_buf(), numbered_name(name)?.to_string()))
        })
        .collect();
    files
        .iter()
        .filter(|f| {
            let Some(dir) = f.parent() else { return false };
            let (Some(job), Some(up)) = (dir.file_name().and_then(|n| n.to_str()), dir.parent())
            else {
                return false;
            };
            f.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| numbered_name(n).is_some())
                && whole.contains(&(up.to_path_buf(), job.to_string()))
        })
        .cloned()
        .collect()
}

/// The `N` of a GitHub `N_name.txt` log; others sort last.
fn step_number(name: &str) -> u64 {
    name.split_once('_')
        .and_then(|(k, _)| k.parse::<u64>().ok())
        .unwrap_or(u64::MAX)
}

/// Entry names of a zip in reading order: by folder, then by step number.
fn zip_order(names: &[(usize, String)]) -> Vec<(usize, String)> {
    let whole: HashSet<&str> = names
        .iter()
        .filter(|(_, n)| !n.contains('/'))
        .filter_map(|(_, n)| numbered_name(n))
        .collect();
    let mut keep: Vec<(usize, String)> = names
        .iter()
        .filter(|(_, n)| !n.ends_with('/'))
        .filter(|(_, n)| match n.split_once('/') {
            Some((job, rest)) => !whole.contains(job) || rest.contains('/'),
            None => true,
        })
        .cloned()
        .collect();
    keep.sort_by_key(|(_, n)| {
        let (dir, file) = n.rsplit_once('/').unwrap_or(("", n));
        (dir.to_string(), step_number(file), file.to_string())
    });
    keep
}

/// A GitHub run's logs zip (a file, or a stream held in memory).
pub(crate) fn read_zip(zip: Zip, location: &str, sink: &dyn Sink, stats: &mut SourceStats) {
    let mut archive = match zip::ZipArchive::new(recognise::zip_reader(zip)) {
        Ok(a) => a,
        Err(e) => {
            sink.problem(problem(location, format!("not a readable zip: {e}")));
            return;
        }
    };
    let names: Vec<(usize, String)> = (0..archive.len())
        .filter_map(|i| match archive.name_for_index(i) {
            Some(Ok(n)) => Some((i, n.into_owned())),
            _ => None,
        })
        .collect();
    if names.len() < archive.len() {
        sink.problem(problem(
            location,
            format!(
                "{} entries with unreadable names",
                archive.len() - names.len()
            ),
        ));
    }
    let mut carries: HashMap<String, Carry> = HashMap::new();
    for (index, name) in zip_order(&names) {
        let entry_location = format!("{location}!{name}");
        let entry = match archive.by_index(index) {
            Ok(e) => e,
            Err(e) => {
                sink.problem(problem(&entry_location, format!("cannot read entry: {e}")));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let file = FileContext {
            location: entry_location.clone(),
            path_job: job_from_path(Path::new(&name)),
            file_stem: stem(Path::new(&name)),
        };
        let job_key = file.path_job.clone();
        let carry = job_key
            .as_ref()
            .and_then(|j| carries.get(j).cloned())
            .unwrap_or_default();
        // Streamed line by line: a large (or bomb) entry costs time, never memory.
        let mut reader = BufReader::with_capacity(64 * 1024, entry);
        let outcome = scan(&mut reader, file, carry, sink);
        account(&outcome, &entry_location, sink, stats);
        if let Some(key) = job_key {
            carries.insert(key, outcome.carry);
        }
    }
}

#[cfg(test)]
mod tests;
