//! `exposure`: which credentials the exposed CI jobs could read, as a rotation checklist.
//!
//! The trees are walked once (the scan walker: `.gitignore` and the config's ignores apply):
//! every readable text file goes through the secret scanner, and the CI definitions (and the
//! YAML files they may include) are kept for the job readers of `tagwarden-exposure`. Which
//! jobs were exposed comes from `--hunt`, `--job`, or else from `scan`'s verdicts on the
//! references inside the jobs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use tagwarden_exposure::{AffectedUse, Checklist, Evidence, Note, Place, Tree, TreeFile};
use tagwarden_extract::detect::{self, NameHint};
use tagwarden_hunt::Outcome;
use tagwarden_secrets::{Match, Scanner};

use super::{OutputSink, Prepared};
use crate::Status;
use crate::cli::{ExposureArgs, ExposureFormat};
use crate::scan::{self, Entry, FileEntry};

/// A hunt document larger than this is refused (a hunt over terabytes of logs stays far below).
const MAX_HUNT_JSON: u64 = 512 << 20;

/// Bytes looked at for a NUL to call a file binary, as `scan` does.
const BINARY_SNIFF: usize = 8 * 1024;

pub(crate) fn run(args: ExposureArgs) -> Result<Status> {
    let paths = super::roots(&args.paths);
    let prep = super::prepare(
        &paths,
        args.config.as_ref(),
        false,
        false,
        &args.walk,
        &args.advisory,
    )?;
    let outcome = args.hunt.as_deref().map(read_hunt).transpose()?;
    let scanner = builtin_scanner()?;
    let read = read_trees(&paths, &prep, &scanner, args.walk.max_file_size);
    let affected = if outcome.is_none() && args.jobs.is_empty() {
        affected_uses(&paths, &prep, &read.trees, args.walk.max_file_size)
    } else {
        Vec::new()
    };
    let checklist = checklist(&read, outcome.as_ref(), &args.jobs, &affected, &scanner);
    let mut sink = OutputSink::open(args.output.as_deref())?;
    match args.format {
        ExposureFormat::Human => write!(
            sink,
            "{}",
            tagwarden_exposure::output::human::render(&checklist)
        )?,
        ExposureFormat::Json => tagwarden_exposure::output::json::write(&checklist, &mut sink)?,
        ExposureFormat::Markdown => write!(
            sink,
            "{}",
            tagwarden_exposure::output::markdown::render(&checklist)
        )?,
    }
    sink.finish()?;
    let unknown_job = checklist
        .notes
        .iter()
        .any(|n| n.message.starts_with("--job "));
    Ok(if !prep.advisory_errors.is_empty() || unknown_job {
        Status::Error
    } else if !checklist.exposed.is_empty() {
        Status::Findings
    } else {
        Status::Clean
    })
}

/// The checklist for `hunt --report`: the hunt's CI hits name the exposed jobs of the trees.
pub(crate) fn for_hunt(
    paths: &[PathBuf],
    prep: &Prepared,
    outcome: &Outcome,
    max_file_size: u64,
) -> Result<Checklist> {
    let scanner = builtin_scanner()?;
    let read = read_trees(paths, prep, &scanner, max_file_size);
    Ok(checklist(&read, Some(outcome), &[], &[], &scanner))
}

fn builtin_scanner() -> Result<Scanner> {
    Scanner::builtin().map_err(|errors| {
        anyhow::anyhow!(
            "the built-in secret rules do not load: {}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

/// The checklist of the trees read, for `exposure` and for `hunt --report`.
pub(crate) fn checklist(
    read: &ReadTrees,
    hunt: Option<&Outcome>,
    named: &[String],
    affected: &[AffectedUse],
    scanner: &Scanner,
) -> Checklist {
    let mut jobs = Vec::new();
    let mut notes = read.notes.clone();
    for tree in &read.trees {
        let (j, n) = tagwarden_exposure::jobs(tree);
        jobs.extend(j);
        notes.extend(n);
    }
    let (selected, selection_notes) = tagwarden_exposure::select(
        &jobs,
        Evidence {
            hunt,
            named,
            affected,
        },
    );
    notes.extend(selection_notes);
    let grouped: Vec<(String, Vec<tagwarden_secrets::Credential>)> = read
        .trees
        .iter()
        .zip(&read.matches)
        .map(|(t, m)| (t.name.clone(), tagwarden_secrets::group(m.iter().cloned())))
        .collect();
    let secrets: Vec<tagwarden_exposure::TreeSecrets<'_>> = grouped
        .iter()
        .map(|(tree, credentials)| tagwarden_exposure::TreeSecrets { tree, credentials })
        .collect();
    tagwarden_exposure::build(&jobs, &selected, &secrets, scanner.rules(), notes)
}

fn read_hunt(path: &Path) -> Result<Outcome> {
    let bytes = tagwarden_fs::read_bounded(path, MAX_HUNT_JSON, false)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 at byte {}",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    tagwarden_hunt::json::read(&text).with_context(|| format!("{}", path.display()))
}

/// What the walk read: per tree, the CI files and the secret matches; notes for what could not
/// be read.
pub(crate) struct ReadTrees {
    pub(crate) trees: Vec<Tree>,
    /// Parallel to `trees`.
    pub(crate) matches: Vec<Vec<Match>>,
    pub(crate) notes: Vec<Note>,
}

/// Walks the trees once: secrets from every text file, the text of the CI definitions and of
/// the YAML files they may include.
pub(crate) fn read_trees(
    paths: &[PathBuf],
    prep: &Prepared,
    scanner: &Scanner,
    max_file_size: u64,
) -> ReadTrees {
    let files: Mutex<Vec<(usize, TreeFile)>> = Mutex::new(Vec::new());
    let matches: Mutex<Vec<(usize, Match)>> = Mutex::new(Vec::new());
    let notes: Mutex<Vec<Note>> = Mutex::new(Vec::new());
    let push_note = |at: Option<&str>, message: String| {
        lock(&notes).push(Note {
            at: at.map(|p| Place {
                path: p.to_string(),
                line: 1,
                column: 1,
            }),
            message,
        });
    };
    scan::walk(paths, &prep.walk, |entry| match entry {
        Entry::File(f) => read_file(
            &f,
            prep,
            scanner,
            max_file_size,
            &files,
            &matches,
            &push_note,
        ),
        Entry::Temporary(..) => {}
        Entry::Problem(n) => push_note(n.path.as_deref(), n.message),
    });
    let mut files = files.into_inner().unwrap_or_else(|e| e.into_inner());
    files.sort_by(|a, b| a.1.display.cmp(&b.1.display));
    let mut found = matches.into_inner().unwrap_or_else(|e| e.into_inner());
    found.sort_by(|a, b| {
        (&a.1.location.path, a.1.location.line, a.1.location.column).cmp(&(
            &b.1.location.path,
            b.1.location.line,
            b.1.location.column,
        ))
    });
    let mut trees: Vec<Tree> = paths
        .iter()
        .map(|p| Tree {
            name: p.display().to_string(),
            folder: std::fs::canonicalize(p)
                .ok()
                .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned())),
            files: Vec::new(),
        })
        .collect();
    let mut per_tree: Vec<Vec<Match>> = vec![Vec::new(); trees.len()];
    for (root, f) in files {
        if let Some(t) = trees.get_mut(root) {
            t.files.push(f);
        }
    }
    for (root, m) in found {
        if let Some(t) = per_tree.get_mut(root) {
            t.push(m);
        }
    }
    let mut notes = notes.into_inner().unwrap_or_else(|e| e.into_inner());
    notes.sort_by_key(ToString::to_string);
    ReadTrees {
        trees,
        matches: per_tree,
        notes,
    }
}

fn read_file(
    f: &FileEntry,
    prep: &Prepared,
    scanner: &Scanner,
    max_file_size: u64,
    files: &Mutex<Vec<(usize, TreeFile)>>,
    matches: &Mutex<Vec<(usize, Match)>>,
    note: &(dyn Fn(Option<&str>, String) + Sync),
) {
    // As in `scan`: a config the tree wrote (hunt, --untrusted-config) cannot hide files.
    if prep.config.ignores_path(&f.relative) && !prep.config.is_guarded() {
        return;
    }
    let bytes = match tagwarden_fs::read_bounded(&f.path, max_file_size, true) {
        Ok(b) => b,
        Err(tagwarden_fs::ReadError::TooLarge { .. }) => {
            note(
                Some(&f.display),
                format!("not read: over the {max_file_size} byte limit (--max-file-size)"),
            );
            return;
        }
        Err(e) => {
            note(Some(&f.display), format!("not read: {e}"));
            return;
        }
    };
    if memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some() {
        return;
    }
    let found = scanner.scan(&f.display, &bytes);
    for n in &found.notes {
        note(None, n.to_string());
    }
    lock(matches).extend(found.matches.into_iter().map(|m| (f.root, m)));
    let hint = detect::hint(Path::new(&f.relative));
    let yaml = f.relative.ends_with(".yml") || f.relative.ends_with(".yaml");
    if hint == NameHint::Skip && !yaml {
        return;
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return;
    };
    let kind = detect::detect(Path::new(&f.relative), &text);
    let ci = kind.is_some_and(|k| tagwarden_exposure::ci::platform(k).is_some());
    // Other YAML is kept for `include:`s; it is small next to the trees' other files.
    if ci || yaml {
        lock(files).push((
            f.root,
            TreeFile {
                relative: f.relative.clone(),
                display: f.display.clone(),
                kind,
                text,
            },
        ));
    }
}

/// Uses of affected images and actions inside the trees, as `scan` judges them.
fn affected_uses(
    paths: &[PathBuf],
    prep: &Prepared,
    trees: &[Tree],
    max_file_size: u64,
) -> Vec<AffectedUse> {
    const RULES: [&str; 4] = [
        "compromised-digest",
        "compromised-action",
        "affected-tag",
        "affected-action",
    ];
    let ctx = scan::Context {
        config: &prep.config,
        advisories: &prep.advisories,
        max_file_size,
        keep_files: false,
    };
    let report = scan::scan(paths, &prep.walk, &ctx).report;
    report
        .findings
        .iter()
        .filter(|f| RULES.contains(&f.rule.id))
        .filter_map(|f| {
            let file = trees
                .iter()
                .flat_map(|t| &t.files)
                .find(|t| t.display == f.location.path)?;
            let offset = match f.location.span {
                Some(s) => s.start,
                None => tagwarden_text::LineIndex::new(&file.text)
                    .line_start(f.location.line)
                    .unwrap_or(0),
            };
            Some(AffectedUse {
                file: f.location.path.clone(),
                offset,
                at: Place {
                    path: f.location.path.clone(),
                    line: f.location.line,
                    column: f.location.column,
                },
                what: f.message.clone(),
            })
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another worker panicked; keep its data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}
