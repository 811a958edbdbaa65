//! The scan pipeline shared by every command that reads a tree: walk in parallel, read each
//! candidate file once, extract its references, judge them, and collect the results in a stable
//! order. `commands/scan.rs` renders what this returns; `pin` and `verify` reuse it.

mod anchor;
mod file;
mod judge;
mod walk;

use std::path::PathBuf;
use std::sync::Mutex;

use tagwarden_advisory::AdvisorySet;
use tagwarden_findings::{ActionRecord, Finding, Note, ReferenceRecord, ScanReport};

use crate::config::Config;
pub(crate) use anchor::WriteTarget;
pub(crate) use walk::{Entry, FileEntry, WalkOptions, walk};

/// What a scan needs besides the paths.
pub(crate) struct Context<'a> {
    pub(crate) config: &'a Config,
    pub(crate) advisories: &'a AdvisorySet,
    pub(crate) max_file_size: u64,
    /// Keep each scanned file's text and extraction (for commands that rewrite files).
    pub(crate) keep_files: bool,
}

/// A scanned file, kept for rewriting.
pub(crate) struct ParsedFile {
    pub(crate) display: String,
    pub(crate) text: String,
    pub(crate) kind: tagwarden_extract::FileKind,
    pub(crate) extraction: tagwarden_extract::Extraction,
    /// The file as it was read, to refuse rewriting it if it changed since.
    pub(crate) stamp: tagwarden_fs::Stamp,
    /// Invalid UTF-8 was read as `?`: `text` is not the file's bytes.
    pub(crate) lossy: bool,
    /// Where it may be rewritten, or why not.
    pub(crate) target: Result<WriteTarget, String>,
}

/// A temporary file left by a tagwarden run, found by the walk and not scanned.
pub(crate) struct Temporary {
    pub(crate) display: String,
    pub(crate) pid: u32,
    pub(crate) target: Result<WriteTarget, String>,
}

/// A scan's report, and the files when [`Context::keep_files`] asked for them.
pub(crate) struct ScanResult {
    pub(crate) report: ScanReport,
    pub(crate) files: Vec<ParsedFile>,
    /// Temporary files of tagwarden runs found in the tree (`pin` removes those of dead runs).
    pub(crate) temporaries: Vec<Temporary>,
}

/// Everything learned from one file.
#[derive(Default)]
pub(crate) struct FileOutcome {
    pub(crate) display_path: String,
    pub(crate) references: Vec<ReferenceRecord>,
    pub(crate) actions: Vec<ActionRecord>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) notes: Vec<Note>,
    /// False when the file was looked at but not scanned (too large, binary, unreadable).
    pub(crate) scanned: bool,
    pub(crate) parsed: Option<ParsedFile>,
}

/// Scans the roots and returns the report, sorted by path and position.
pub(crate) fn scan(roots: &[PathBuf], walk: &WalkOptions, ctx: &Context<'_>) -> ScanResult {
    let outcomes = Mutex::new(Vec::new());
    let walk_notes = Mutex::new(Vec::new());
    let temporaries = Mutex::new(Vec::new());
    let anchors = anchor::open(roots);
    let follow = walk.follow_links;
    walk::walk(roots, walk, |entry| match entry {
        walk::Entry::File(f) => {
            if let Some(o) = file::process(&f, ctx, &anchors, follow) {
                push(&outcomes, o);
            }
        }
        walk::Entry::Temporary(f, pid) => {
            push(
                &walk_notes,
                Note {
                    path: Some(f.display.clone()),
                    message: format!(
                        "skipped: a temporary file of a tagwarden run (process {pid}); `tagwarden pin` removes it once that run is over"
                    ),
                },
            );
            push(
                &temporaries,
                Temporary {
                    display: f.display.clone(),
                    pid,
                    target: anchor::target(&anchors, &f, follow),
                },
            );
        }
        walk::Entry::Problem(n) => push(&walk_notes, n),
    });
    let mut outcomes = outcomes.into_inner().unwrap_or_else(|e| e.into_inner());
    outcomes.sort_by(|a, b| a.display_path.cmp(&b.display_path));

    let mut report = ScanReport {
        root: roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(" "),
        ..Default::default()
    };
    let mut files = Vec::new();
    for o in outcomes {
        files.extend(o.parsed);
        if o.scanned {
            report.files_scanned += 1;
        } else {
            report.files_skipped += 1;
        }
        report.references.extend(o.references);
        report.actions.extend(o.actions);
        report.findings.extend(o.findings);
        report.notes.extend(o.notes);
    }
    let mut walk_notes = walk_notes.into_inner().unwrap_or_else(|e| e.into_inner());
    walk_notes.sort_by(|a, b| a.path.cmp(&b.path));
    report.notes.extend(walk_notes);
    report.advisories = ctx
        .advisories
        .advisories()
        .iter()
        .map(|a| a.id.clone())
        .collect();
    let mut temporaries = temporaries.into_inner().unwrap_or_else(|e| e.into_inner());
    temporaries.sort_by(|a, b| a.display.cmp(&b.display));
    ScanResult {
        report,
        files,
        temporaries,
    }
}

fn push<T>(m: &Mutex<Vec<T>>, item: T) {
    // A poisoned lock only means another worker panicked; keep its data.
    m.lock().unwrap_or_else(|e| e.into_inner()).push(item);
}
