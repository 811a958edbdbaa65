//! Which jobs were exposed: named by a hunt's CI hits (and cleared by its cleared runs), named
//! by hand, or, without either, every job whose definition uses an affected image or action.

use jiff::Timestamp;
use serde::Serialize;
use tagwarden_hunt::{Hit, Outcome, SourceKind, Verdict};

use crate::job::{Job, Note, Place, Platform};

/// A use of an affected image or action in a definition, as `scan` judged it.
#[derive(Clone, Debug)]
pub struct AffectedUse {
    /// The file, as shown (the jobs' `file`).
    pub file: String,
    /// Byte offset of the reference in the file.
    pub offset: usize,
    pub at: Place,
    /// What the advisory says of it: `checkmarx/kics:latest was overwritten …`.
    pub what: String,
}

/// Where the exposed jobs come from; every part given counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Evidence<'a> {
    pub hunt: Option<&'a Outcome>,
    /// `FILE:JOB` as given on the command line.
    pub named: &'a [String],
    /// Uses of affected images or actions: consulted only when neither a hunt nor names are
    /// given.
    pub affected: &'a [AffectedUse],
}

/// Whether a job was exposed, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    pub exposed: bool,
    /// One sentence per piece of evidence.
    pub why: Vec<String>,
    /// When the evidence says the job ran the affected image (hunt hits with a time).
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// The advisories involved.
    pub advisories: Vec<String>,
}

impl Status {
    fn add(&mut self, exposed: bool, why: String, time: Option<Timestamp>, advisory: Option<&str>) {
        if exposed && !self.exposed {
            // Exposure outweighs every reason it was not: those reasons are dropped.
            self.why.clear();
            self.first = None;
            self.last = None;
            self.advisories.clear();
            self.exposed = true;
        } else if !exposed && self.exposed {
            return;
        }
        if !self.why.contains(&why) {
            self.why.push(why);
        }
        if let Some(t) = time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        if let Some(a) = advisory
            && !self.advisories.iter().any(|x| x == a)
        {
            self.advisories.push(a.to_string());
        }
    }
}

/// The status of each job the evidence speaks of (indexes into `jobs`); jobs it does not speak
/// of are absent. Notes name evidence that matched no job and names that denote none.
pub fn select(jobs: &[Job], evidence: Evidence<'_>) -> (Vec<(usize, Status)>, Vec<Note>) {
    let mut status: Vec<Option<Status>> = vec![None; jobs.len()];
    let mut notes = Vec::new();
    if let Some(outcome) = evidence.hunt {
        for hit in &outcome.hits {
            if matches!(hit.verdict, Verdict::Contacted) || !is_run(hit.source) {
                continue;
            }
            let why = format!(
                "the hunt found it: {} ({}, {}{})",
                hit.detail,
                hit.advisory,
                hit.place(),
                hit.timestamp.map(|t| format!(", {t}")).unwrap_or_default()
            );
            match apply(jobs, hit, &mut status, true, &why) {
                0 => notes.push(unmatched(hit, "exposed")),
                1 => {}
                n => notes.push(Note {
                    at: None,
                    message: format!(
                        "the hunt's job `{}` ({}) answers to {n} jobs of the trees: all are counted as exposed (run again without --hunt, with --job FILE:JOB, to count one)",
                        hit.job.as_deref().unwrap_or(""),
                        hit.place()
                    ),
                }),
            }
        }
        let runs = outcome
            .hits
            .iter()
            .chain(&outcome.cleared)
            .filter(|h| is_run(h.source) && h.job.is_some())
            .count();
        if runs == 0 {
            notes.push(Note {
                at: None,
                message: "the hunt names no CI job (no CI log hit): name the jobs that ran the image with --job FILE:JOB, or run without --hunt to count every job that uses an affected image".to_string(),
            });
        }
        for hit in outcome.cleared.iter().filter(|h| is_run(h.source)) {
            let why = format!("the hunt cleared it: {} ({})", hit.detail, hit.place());
            if apply(jobs, hit, &mut status, false, &why) == 0 {
                notes.push(unmatched(hit, "not exposed"));
            }
        }
    }
    for name in evidence.named {
        let found: Vec<usize> = jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| named(j, name))
            .map(|(i, _)| i)
            .collect();
        if found.is_empty() {
            notes.push(Note {
                at: None,
                message: format!(
                    "--job {name}: no such job in the trees given (give FILE:JOB, with FILE as shown and JOB the job's key)"
                ),
            });
        }
        for i in found {
            status[i].get_or_insert_with(Status::default).add(
                true,
                "named with --job".to_string(),
                None,
                None,
            );
        }
    }
    if evidence.hunt.is_none() && evidence.named.is_empty() {
        for u in evidence.affected {
            let mut any = false;
            for (i, j) in jobs.iter().enumerate() {
                if j.regions.iter().any(|r| r.contains(&u.file, u.offset)) {
                    any = true;
                    status[i].get_or_insert_with(Status::default).add(
                        true,
                        format!("{}: {}", u.at, u.what),
                        None,
                        None,
                    );
                }
            }
            if !any {
                notes.push(Note {
                    at: Some(u.at.clone()),
                    message: format!(
                        "{}: not inside a CI job tagwarden reads, so no job's credentials are listed for it",
                        u.what
                    ),
                });
            }
        }
    }
    let selected = status
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, s)))
        .collect();
    (selected, notes)
}

/// Sources whose `job` is a CI job (an engine's or a snapshot's is a container or a pod).
fn is_run(source: SourceKind) -> bool {
    matches!(
        source,
        SourceKind::GithubActionsLog
            | SourceKind::GitlabRunnerLog
            | SourceKind::JenkinsLog
            | SourceKind::DockerPullLog
            | SourceKind::BuildkitLog
            | SourceKind::PlainText
    )
}

/// Marks every job the hit names; how many.
fn apply(
    jobs: &[Job],
    hit: &Hit,
    status: &mut [Option<Status>],
    exposed: bool,
    why: &str,
) -> usize {
    let Some(name) = hit.job.as_deref() else {
        return 0;
    };
    let mut count = 0;
    for (i, j) in jobs.iter().enumerate() {
        if platform_fits(j.platform, hit.source) && answers(j, name) {
            count += 1;
            status[i].get_or_insert_with(Status::default).add(
                exposed,
                why.to_string(),
                hit.timestamp,
                exposed.then_some(hit.advisory.as_str()),
            );
        }
    }
    count
}

fn unmatched(hit: &Hit, verdict: &str) -> Note {
    let message = match &hit.job {
        Some(job) => format!(
            "the hunt saw job `{job}` {verdict} ({}), but no job of the trees given answers to that name: name it with --job FILE:JOB",
            hit.place()
        ),
        None => format!(
            "the hunt saw a run {verdict} ({}) without a job name: name the job with --job FILE:JOB",
            hit.place()
        ),
    };
    Note { at: None, message }
}

/// A log of one platform names only that platform's jobs; generic logs may name any.
fn platform_fits(platform: Platform, source: SourceKind) -> bool {
    match source {
        SourceKind::GithubActionsLog => platform == Platform::GithubActions,
        SourceKind::GitlabRunnerLog => platform == Platform::GitlabCi,
        SourceKind::JenkinsLog => platform == Platform::Jenkins,
        _ => true,
    }
}

/// A log's job name against a job. GitHub names a called workflow's job `caller / callee`
/// and a matrix job `build (a, b)`; Jenkins names the Jenkins job (`repo/branch`,
/// `repo_branch`), which for a Jenkinsfile is the tree's folder.
fn answers(job: &Job, name: &str) -> bool {
    if job.platform == Platform::Jenkins {
        let folder = job.name.as_deref().unwrap_or(&job.id);
        let lower = name.to_ascii_lowercase();
        let folder = folder.to_ascii_lowercase();
        return lower == folder
            || lower == job.id
            || lower
                .strip_prefix(&folder)
                .is_some_and(|rest| rest.starts_with(['/', '_', ' ']));
    }
    let caller = name.split(" / ").next().unwrap_or(name);
    job.answers_to(caller)
}

/// `FILE:JOB`: the file as shown or a path ending with it, and the job's key or name.
fn named(job: &Job, spec: &str) -> bool {
    let Some((file, id)) = spec.rsplit_once(':') else {
        return false;
    };
    let file = file.trim_start_matches("./");
    let file_matches = job.file == file
        || job.file.ends_with(&format!("/{file}"))
        || file.ends_with(&format!("/{}", job.file));
    file_matches && (job.id == id || job.name.as_deref() == Some(id))
}
