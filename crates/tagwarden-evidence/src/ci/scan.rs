//! One log file (or zip entry) read line by line: its format detected from the first lines, the
//! line prefixes (timestamps, ANSI, GitLab sections) removed, and a small state machine that
//! ties a `Digest:` line to the pull it belongs to.

use std::collections::VecDeque;
use std::io::{self, BufRead};

use jiff::Timestamp;
use tagwarden_reference::Digest;

use super::patterns as p;
use crate::{Evidence, ImageAction, Observed, Sink, SourceKind, excerpt, input};

/// The kind of log a file is, from its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    GithubActions,
    Gitlab,
    Jenkins,
    /// Anything else: `docker pull`/`docker run` output, BuildKit output, `docker events`.
    Plain,
}

/// Lines and bytes looked at to decide the format.
const HEAD_LINES: usize = 64;
const HEAD_BYTES: usize = 256 * 1024;
/// Pulls waiting for their `Digest:`/`Status:` lines at once (compose and scripts interleave).
const MAX_PENDING: usize = 8;
/// BuildKit repeats a step's `FROM`/`resolve` lines (and TTY captures redraw them): remember
/// the last few images reported so each is reported once.
const RECENT_BUILDKIT: usize = 64;

/// Detects the format from the first lines of a file.
pub fn detect(head: &[&str]) -> LogFormat {
    let lines: Vec<&str> = head
        .iter()
        .map(|l| l.trim_start_matches('\u{feff}'))
        .filter(|l| !l.trim().is_empty())
        .collect();
    if lines.is_empty() {
        return LogFormat::Plain;
    }
    let github = lines
        .iter()
        .filter(|l| p::github_prefix(l).is_some() || p::gh_cli_prefix(l).is_some())
        .count();
    if github * 5 >= lines.len() * 4 {
        return LogFormat::GithubActions;
    }
    let gitlab_prefixed = lines
        .iter()
        .filter(|l| p::gitlab_prefix(l).is_some())
        .count();
    if gitlab_prefixed * 5 >= lines.len() * 4 {
        return LogFormat::Gitlab;
    }
    for line in &lines {
        let text = p::strip_ansi(line);
        let text = text.trim_start();
        if text.contains("Running with gitlab-runner")
            || text.starts_with("section_start:")
            || text.starts_with("Using Docker executor with image")
            || text.starts_with("Preparing the \"docker")
        {
            return LogFormat::Gitlab;
        }
        let (_, text) = p::jenkins_prefix(text);
        if text.starts_with("[Pipeline]")
            || text.starts_with("Started by user")
            || text.starts_with("Started by timer")
            || text.starts_with("Started by an SCM change")
            || text.starts_with("Started by upstream project")
            || text.starts_with("Building in workspace ")
            || text.starts_with("Obtained Jenkinsfile")
        {
            return LogFormat::Jenkins;
        }
    }
    LogFormat::Plain
}

/// What the file is, for locations and job names.
#[derive(Clone, Debug, Default)]
pub struct FileContext {
    /// The location reported: a path, or `run.zip!job/1_step.txt`.
    pub location: String,
    /// The job the path names (a GitHub run zip's folder or `N_job.txt`), if any.
    pub path_job: Option<String>,
    /// The file name without extensions: the job of last resort for CI logs.
    pub file_stem: String,
}

/// What one file of a job tells about the next files of the same job (a GitHub zip splits a
/// job into step files; only the first says which machine ran it).
#[derive(Clone, Debug, Default)]
pub struct Carry {
    pub host: Option<String>,
    pub job: Option<String>,
}

/// Where a line was seen, for the evidence chain.
#[derive(Clone, Debug)]
struct Seen {
    line: u64,
    timestamp: Option<Timestamp>,
    excerpt: String,
}

/// The line being read; its excerpt is only made when it is evidence.
#[derive(Clone, Copy)]
struct Mark<'l> {
    line: u64,
    timestamp: Option<Timestamp>,
    raw: &'l str,
}

impl Mark<'_> {
    fn seen(&self) -> Seen {
        Seen {
            line: self.line,
            timestamp: self.timestamp,
            excerpt: excerpt(&printable(self.raw)),
        }
    }
}

/// The line without escape sequences or control characters: excerpts end up on terminals.
fn printable(raw: &str) -> String {
    p::strip_ansi(raw)
        .chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect()
}

#[derive(Debug)]
struct PendingPull {
    reference: String,
    /// Written by a pull command or announcement (kept as the user wrote it), not inferred
    /// from a `Pulling from` line (where a fuller `Status:` reference is better).
    written: bool,
    started: Seen,
    digest: Option<(Digest, Seen)>,
}

#[derive(Debug)]
struct PendingAction {
    repository: String,
    git_ref: String,
    mark: Seen,
}

/// Reads one file's lines and reports what they show.
pub(crate) struct Scanner<'a> {
    format: LogFormat,
    file: FileContext,
    carry: Carry,
    sink: &'a dyn Sink,
    /// The last timestamp seen (GitHub line prefix, GitLab prefix or `section_start`).
    timestamp: Option<Timestamp>,
    pending: Vec<PendingPull>,
    action: Option<PendingAction>,
    recent_buildkit: VecDeque<String>,
    /// The previous line completed a pull: the bare reference docker prints next is not news.
    after_status: bool,
    /// The job the last `gh run view --log` line named.
    cli_job: Option<String>,
    /// Evidence reported so far.
    reported: u64,
}

impl<'a> Scanner<'a> {
    /// A scanner for one file of the given format; `carry` is what earlier files of the same
    /// job said (its machine, its name).
    pub(crate) fn new(
        format: LogFormat,
        file: FileContext,
        carry: Carry,
        sink: &'a dyn Sink,
    ) -> Self {
        Self {
            format,
            file,
            carry,
            sink,
            timestamp: None,
            pending: Vec::new(),
            action: None,
            recent_buildkit: VecDeque::new(),
            after_status: false,
            cli_job: None,
            reported: 0,
        }
    }

    /// What this file taught about its job, for the job's next files.
    pub(crate) fn carry(&self) -> Carry {
        self.carry.clone()
    }

    /// The file's kind; a plain file takes the kind of the output that showed the evidence.
    fn kind(&self, plain_kind: SourceKind) -> SourceKind {
        match self.format {
            LogFormat::GithubActions => SourceKind::GithubActionsLog,
            LogFormat::Gitlab => SourceKind::GitlabRunnerLog,
            LogFormat::Jenkins => SourceKind::JenkinsLog,
            LogFormat::Plain => plain_kind,
        }
    }

    fn job(&self) -> Option<String> {
        let fallback = match self.format {
            LogFormat::Plain => None,
            _ => Some(self.file.file_stem.clone()).filter(|s| !s.is_empty()),
        };
        self.carry
            .job
            .clone()
            .or_else(|| self.file.path_job.clone())
            .or(fallback)
    }

    fn emit(&mut self, plain_kind: SourceKind, observed: Observed, mark: &Seen) {
        let evidence = Evidence {
            source: self.kind(plain_kind),
            location: self.file.location.clone(),
            line: Some(mark.line),
            timestamp: mark.timestamp,
            within: None,
            host: self.carry.host.clone(),
            job: self.job(),
            observed,
            excerpt: Some(mark.excerpt.clone()),
        };
        self.reported += 1;
        self.sink.evidence(evidence);
    }

    fn emit_image(
        &mut self,
        plain_kind: SourceKind,
        action: ImageAction,
        reference: Option<String>,
        digest: Option<Digest>,
        mark: &Seen,
    ) {
        let observed = Observed::Image {
            action,
            reference,
            digest,
        };
        self.emit(plain_kind, observed, mark);
    }

    /// Reads one raw line.
    pub(crate) fn line(&mut self, n: u64, raw: &[u8]) {
        let lossy = String::from_utf8_lossy(raw);
        let mut text: &str = &lossy;
        if n == 1 {
            text = text.trim_start_matches('\u{feff}');
        }
        let mut own_ts = None;
        match self.format {
            LogFormat::GithubActions => {
                if let Some((ts, rest)) = p::github_prefix(text) {
                    own_ts = Some(ts);
                    text = rest;
                } else if let Some((job, ts, rest)) = p::gh_cli_prefix(text) {
                    self.enter_job(job);
                    own_ts = Some(ts);
                    text = rest;
                }
            }
            LogFormat::Gitlab => {
                if let Some((ts, rest)) = p::gitlab_prefix(text) {
                    own_ts = Some(ts);
                    text = rest;
                }
                self.section_start(text);
            }
            LogFormat::Jenkins => {}
            LogFormat::Plain => {
                if let Some((ts, rest, _)) = p::leading_timestamp(text) {
                    own_ts = Some(ts);
                    text = rest;
                }
            }
        }
        if own_ts.is_some() {
            self.timestamp = own_ts;
        }
        let clean = p::strip_ansi(text);
        let mut clean: &str = &clean;
        if self.format == LogFormat::Jenkins {
            let (ts, rest) = p::jenkins_prefix(clean);
            if ts.is_some() {
                self.timestamp = ts;
            }
            clean = rest;
        }
        let mark = Mark {
            line: n,
            timestamp: self.timestamp,
            raw: &lossy,
        };
        // A carriage return redraws the line: each part is a line of its own (GitLab writes
        // `section_start:…\r\e[0KPreparing …`).
        for part in clean.split('\r') {
            if !part.trim().is_empty() {
                self.text(part, &mark);
            }
        }
    }

    /// `gh run view --log` puts every job of a run in one file, each line naming its job: a new
    /// job ends the pulls of the previous one and forgets its machine.
    fn enter_job(&mut self, job: &str) {
        if self.cli_job.as_deref() == Some(job) {
            return;
        }
        self.finish();
        self.recent_buildkit.clear();
        self.cli_job = Some(job.to_string());
        self.carry = Carry {
            host: None,
            job: Some(job.to_string()),
        };
    }

    /// GitLab's `section_start:<epoch>:<name>` markers: the only time many traces carry.
    fn section_start(&mut self, text: &str) {
        let mut from = 0;
        while let Some(i) = text.get(from..).and_then(|s| s.find("section_start:")) {
            let start = from + i + "section_start:".len();
            from = start;
            let digits: String = text
                .get(start..)
                .unwrap_or("")
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(secs) = digits.parse::<i64>()
                && let Ok(ts) = Timestamp::from_second(secs)
            {
                self.timestamp = Some(ts);
            }
        }
    }

    fn text(&mut self, text: &str, mark: &Mark<'_>) {
        let t = text.trim();
        // The Engine API's progress stream, as tools that pull through it log it:
        // `{"status":"Pulling from checkmarx/kics","id":"latest"}`, `{"status":"Digest: …"}`.
        if t.starts_with('{')
            && t.contains("\"status\"")
            && let Some(status) = p::progress_message(t)
        {
            self.text(&status, mark);
            return;
        }
        let after_status = std::mem::take(&mut self.after_status);
        self.context_hints(t);
        if self.action_lines(t, mark) {
            return;
        }
        // GitLab's own lines are distinctive enough to be read in a trace cut before its header.
        if let Some((reference, digest)) = p::gitlab_using_image(t) {
            self.emit_image(
                SourceKind::GitlabRunnerLog,
                ImageAction::Pulled,
                Some(reference.to_string()),
                digest,
                &mark.seen(),
            );
            return;
        }
        if let Some(reference) = p::gitlab_kubernetes_image(t) {
            let digest = reference_digest(reference);
            let reference = Some(reference.to_string());
            self.emit_image(
                SourceKind::GitlabRunnerLog,
                ImageAction::Pulled,
                reference,
                digest,
                &mark.seen(),
            );
            return;
        }
        if self.pull_lines(t, mark) {
            return;
        }
        let images = p::buildkit_images(t);
        if !images.is_empty() {
            for (reference, digest) in images {
                if self.recent_buildkit.contains(&reference) {
                    continue;
                }
                if self.recent_buildkit.len() >= RECENT_BUILDKIT {
                    self.recent_buildkit.pop_front();
                }
                self.recent_buildkit.push_back(reference.clone());
                self.emit_image(
                    SourceKind::BuildkitLog,
                    ImageAction::Pulled,
                    Some(reference),
                    Some(digest),
                    &mark.seen(),
                );
            }
            return;
        }
        if let Some(reference) = p::docker_event_pull(t) {
            let digest = reference_digest(reference);
            self.emit_image(
                SourceKind::DockerPullLog,
                ImageAction::Pulled,
                Some(reference.to_string()),
                digest,
                &mark.seen(),
            );
            return;
        }
        // Any other `name@sha256:…` where containers are discussed.
        if !t.contains("@sha") || !p::container_context(t) {
            return;
        }
        if after_status && !t.contains(' ') {
            return;
        }
        let lower = t.to_ascii_lowercase();
        let action = if p::run_command(t) {
            ImageAction::ContainerCreated
        } else if lower.contains("pull") && lower.contains("image") {
            // kubelet `Successfully pulled image "x@sha256:…"`, compose, scripts.
            ImageAction::Pulled
        } else {
            ImageAction::Referenced
        };
        for (reference, digest) in p::digest_references(t) {
            self.emit_image(
                SourceKind::DockerPullLog,
                action,
                Some(reference),
                Some(digest),
                &mark.seen(),
            );
        }
    }

    /// Runner, machine and job names.
    fn context_hints(&mut self, t: &str) {
        match self.format {
            LogFormat::GithubActions => {
                if let Some(name) = t.strip_prefix("Complete job name: ") {
                    self.carry.job = Some(name.trim().to_string());
                } else if let Some(name) = quoted_after(t, "Machine name: ") {
                    self.carry.host = Some(name.to_string());
                } else if let Some(name) = quoted_after(t, "Runner name: ")
                    && self.carry.host.is_none()
                {
                    self.carry.host = Some(name.to_string());
                }
            }
            LogFormat::Gitlab => {
                if let Some(rest) = t.strip_prefix("Running on ") {
                    let rest = rest.trim().trim_end_matches('.').trim_end();
                    let host = match rest.split_once(" via ") {
                        Some((_, machine)) => machine.trim(),
                        None => rest,
                    };
                    if !host.is_empty() {
                        self.carry.host = Some(host.to_string());
                    }
                } else if let Some(id) = job_id(t) {
                    self.carry.job = Some(id.to_string());
                }
            }
            LogFormat::Jenkins => {
                if let Some(rest) = t.strip_prefix("Running on ")
                    && let Some((agent, dir)) = rest.split_once(" in ")
                {
                    self.carry.host = Some(agent.trim().to_string());
                    if let Some((_, job)) = dir.trim().rsplit_once("/workspace/") {
                        self.carry.job = Some(job.to_string());
                    }
                }
            }
            LogFormat::Plain => {}
        }
    }

    /// GitHub action downloads. Returns true when the line was one of them.
    fn action_lines(&mut self, t: &str, mark: &Mark<'_>) -> bool {
        if let Some(pending) = self.action.take() {
            if let Some(sha) = t.strip_prefix("Source commit SHA:") {
                let sha = sha.trim();
                let sha = (sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| sha.to_string());
                self.emit(
                    SourceKind::GithubActionsLog,
                    Observed::Action {
                        repository: pending.repository,
                        git_ref: pending.git_ref,
                        sha,
                    },
                    &mark.seen(),
                );
                return true;
            }
            // The package's own `Digest:` is an action package digest, not an image's.
            if t.starts_with("Version:") || t.starts_with("Digest:") {
                self.action = Some(pending);
                return true;
            }
            let PendingAction {
                repository,
                git_ref,
                mark: started,
            } = pending;
            self.emit(
                SourceKind::GithubActionsLog,
                Observed::Action {
                    repository,
                    git_ref,
                    sha: None,
                },
                &started,
            );
        }
        if let Some((repository, git_ref, sha)) = p::download_action(t) {
            self.emit(
                SourceKind::GithubActionsLog,
                Observed::Action {
                    repository: repository.to_string(),
                    git_ref: git_ref.to_string(),
                    sha: sha.map(str::to_string),
                },
                &mark.seen(),
            );
            return true;
        }
        if let Some((repository, git_ref)) = p::download_immutable_action(t) {
            self.action = Some(PendingAction {
                repository: repository.to_string(),
                git_ref: git_ref.to_string(),
                mark: mark.seen(),
            });
            return true;
        }
        false
    }

    /// The `docker pull` state machine. Returns true when the line belonged to a pull.
    fn pull_lines(&mut self, t: &str, mark: &Mark<'_>) -> bool {
        if let Some(reference) = p::pull_command(t).or_else(|| p::pull_announcement(t)) {
            self.start_pull(reference, true, mark);
            return true;
        }
        if let Some((repository, tag)) = p::pulling_from(t) {
            let known = self.pending.iter().rposition(|q| {
                q.digest.is_none() && p::matches_pulling_from(&q.reference, repository, tag)
            });
            match known {
                // The pull now running goes last: the next `Digest:` is its.
                Some(i) => {
                    let q = self.pending.remove(i);
                    self.pending.push(q);
                }
                None => {
                    let reference = if tag.starts_with("sha256:") {
                        format!("{repository}@{tag}")
                    } else {
                        format!("{repository}:{tag}")
                    };
                    self.start_pull(&reference, false, mark);
                }
            }
            return true;
        }
        if let Some(digest) = p::digest_line(t) {
            match self.pending.last_mut() {
                Some(q) if q.digest.is_none() => q.digest = Some((digest, mark.seen())),
                _ => {
                    // Printed by something we did not see start (a cut log): still evidence.
                    self.emit_image(
                        SourceKind::DockerPullLog,
                        ImageAction::Referenced,
                        None,
                        Some(digest),
                        &mark.seen(),
                    );
                }
            }
            return true;
        }
        if let Some(reference) = p::status_line(t) {
            self.after_status = true;
            let found = self
                .pending
                .iter()
                .rposition(|q| p::same_image(&q.reference, reference));
            match found {
                Some(i) => {
                    let mut q = self.pending.remove(i);
                    if !q.written {
                        q.reference = reference.to_string();
                    }
                    self.report_pull(q);
                }
                None => self.emit_image(
                    SourceKind::DockerPullLog,
                    ImageAction::Pulled,
                    Some(reference.to_string()),
                    None,
                    &mark.seen(),
                ),
            }
            return true;
        }
        if t.contains("Error response from daemon") || t.contains("Failed to pull image") {
            // The pull failed: nothing was fetched (unless a digest was already printed).
            if let Some(i) = self.pending.iter().rposition(|q| q.digest.is_none()) {
                self.pending.remove(i);
            }
        }
        false
    }

    fn start_pull(&mut self, reference: &str, written: bool, mark: &Mark<'_>) {
        // `Pull down action image 'x'` is followed by `docker pull x`: one pull.
        if let Some(last) = self.pending.last()
            && last.digest.is_none()
            && p::same_image(&last.reference, reference)
        {
            return;
        }
        if self.pending.len() >= MAX_PENDING {
            let oldest = self.pending.remove(0);
            self.report_pull(oldest);
        }
        self.pending.push(PendingPull {
            reference: reference.to_string(),
            written,
            started: mark.seen(),
            digest: None,
        });
    }

    fn report_pull(&mut self, q: PendingPull) {
        // A pull by digest fetched that digest, whether or not a `Digest:` line followed.
        let (digest, mark) = match q.digest {
            Some((d, m)) => (Some(d), m),
            None => (reference_digest(&q.reference), q.started),
        };
        self.emit_image(
            SourceKind::DockerPullLog,
            ImageAction::Pulled,
            Some(q.reference),
            digest,
            &mark,
        );
    }

    /// Reports what is still pending at the end of the file (a cut log keeps its evidence).
    pub(crate) fn finish(&mut self) {
        if let Some(PendingAction {
            repository,
            git_ref,
            mark,
        }) = self.action.take()
        {
            self.emit(
                SourceKind::GithubActionsLog,
                Observed::Action {
                    repository,
                    git_ref,
                    sha: None,
                },
                &mark,
            );
        }
        for q in std::mem::take(&mut self.pending) {
            self.report_pull(q);
        }
    }
}

/// The digest a reference pins, if any.
fn reference_digest(reference: &str) -> Option<Digest> {
    tagwarden_reference::Reference::parse(reference)
        .ok()
        .and_then(|r| r.digest().cloned())
}

/// `Label: 'value'` → `value`.
fn quoted_after<'t>(t: &'t str, label: &str) -> Option<&'t str> {
    let v = t.strip_prefix(label)?.trim();
    let v = v
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or(v);
    (!v.is_empty()).then_some(v)
}

/// A GitLab job id: `job=12345` (runner service logs) or `Job #12345`.
fn job_id(t: &str) -> Option<&str> {
    let i = t
        .find("job=")
        .map(|i| i + 4)
        .or_else(|| t.find("Job #").map(|i| i + 5))?;
    let rest = t.get(i..)?;
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    (n > 0).then(|| rest.get(..n)).flatten()
}

/// Reads a whole stream: detects the format from its head, then reports line by line.
/// Returns the bytes read, the evidence reported, and what carries over to the job's next file;
/// on a read error, what was found before is kept and the error returned too.
pub fn scan(
    reader: &mut dyn BufRead,
    file: FileContext,
    carry: Carry,
    sink: &dyn Sink,
) -> ScanOutcome {
    let mut head: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut head_bytes = 0usize;
    let mut scanner: Option<Scanner<'_>> = None;
    let mut bytes = 0u64;
    let mut seed = Some((file, carry));
    let result = input::for_each_line(reader, |n, line| {
        bytes += line.len() as u64 + 1;
        if let Some(s) = scanner.as_mut() {
            s.line(n, line);
            return true;
        }
        head_bytes += line.len();
        head.push((n, line.to_vec()));
        if head.len() >= HEAD_LINES || head_bytes >= HEAD_BYTES {
            scanner = Some(start(&mut head, seed.take().unwrap_or_default(), sink));
        }
        true
    });
    let mut s = match scanner {
        Some(s) => s,
        None => start(&mut head, seed.take().unwrap_or_default(), sink),
    };
    s.finish();
    let (lines, error) = match result {
        Ok(lines) => (lines, None),
        Err(e) => (
            input::Lines {
                bytes,
                ..input::Lines::default()
            },
            Some(e),
        ),
    };
    ScanOutcome {
        bytes: lines.bytes,
        lines,
        reported: s.reported,
        format: s.format,
        carry: s.carry(),
        error,
    }
}

/// What reading one stream gave.
#[derive(Debug)]
pub struct ScanOutcome {
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Lines read, long ones counted.
    pub lines: input::Lines,
    /// Evidence reported.
    pub reported: u64,
    pub format: LogFormat,
    pub carry: Carry,
    /// The read error that stopped it early, if any.
    pub error: Option<io::Error>,
}

/// Detects the format from the buffered head, and replays it.
fn start<'s>(
    head: &mut Vec<(u64, Vec<u8>)>,
    (file, carry): (FileContext, Carry),
    sink: &'s dyn Sink,
) -> Scanner<'s> {
    let texts: Vec<String> = head
        .iter()
        .map(|(_, l)| String::from_utf8_lossy(l).into_owned())
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut s = Scanner::new(detect(&refs), file, carry, sink);
    for (n, l) in head.drain(..) {
        s.line(n, &l);
    }
    s
}
