//! A parallel, gitignore-aware walk (ripgrep's `ignore` crate). Hidden files are included:
//! `.github/`, `.gitlab-ci.yml` and `.devcontainer/` are where references live. Temporary files
//! of a tagwarden run that writes (`pin`) are never scanned: they are reported apart.

use std::path::{Path, PathBuf};

use ignore::{WalkBuilder, WalkState};
use tagwarden_findings::Note;

pub(crate) struct WalkOptions {
    pub(crate) respect_ignore: bool,
    pub(crate) follow_links: bool,
    pub(crate) threads: usize,
}

/// A file to look at, with the path to show for it.
pub(crate) struct FileEntry {
    pub(crate) path: PathBuf,
    /// Relative to its scan root, with `/` separators (the root itself when a file was named).
    pub(crate) display: String,
    /// The same, for matching names and `ignore.paths` (never prefixed by the root).
    pub(crate) relative: String,
    /// The file was named on the command line (it is a root).
    pub(crate) is_root: bool,
    /// The index of its root in the roots walked.
    pub(crate) root: usize,
}

pub(crate) enum Entry {
    File(FileEntry),
    /// A temporary file of a tagwarden run (process id): never scanned.
    Temporary(FileEntry, u32),
    /// Something the walk could not read: reported, never silently dropped.
    Problem(Note),
}

pub(crate) fn walk(roots: &[PathBuf], opts: &WalkOptions, visit: impl Fn(Entry) + Sync) {
    let Some(first) = roots.first() else { return };
    let mut b = WalkBuilder::new(first);
    for r in &roots[1..] {
        b.add(r);
    }
    b.hidden(false)
        .git_ignore(opts.respect_ignore)
        .git_global(opts.respect_ignore)
        .git_exclude(opts.respect_ignore)
        .ignore(opts.respect_ignore)
        .parents(opts.respect_ignore)
        .require_git(false)
        .follow_links(opts.follow_links)
        .threads(opts.threads)
        .filter_entry(|e| e.file_name() != ".git");
    let multi_root = roots.len() > 1;
    b.build_parallel().run(|| {
        let visit = &visit;
        Box::new(move |result| {
            match result {
                Ok(entry) => {
                    if entry.file_type().is_some_and(|t| t.is_file()) {
                        let path = entry.path().to_path_buf();
                        let (display, relative, root) = names(roots, &path, multi_root);
                        let is_root = roots.iter().any(|r| r.as_path() == path);
                        let file = FileEntry {
                            path,
                            display,
                            relative,
                            is_root,
                            root,
                        };
                        match tagwarden_fs::temporary::is_temporary(entry.file_name()) {
                            Some(pid) => visit(Entry::Temporary(file, pid)),
                            None => visit(Entry::File(file)),
                        }
                    }
                }
                Err(err) => visit(Entry::Problem(problem(&err))),
            }
            WalkState::Continue
        })
    });
}

fn problem(err: &ignore::Error) -> Note {
    let path = error_path(err).map(|p| p.display().to_string());
    Note {
        path,
        message: format!("not scanned: {}", strip_path(err)),
    }
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

fn strip_path(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            strip_path(err)
        }
        ignore::Error::Loop { ancestor, .. } => {
            format!("symbolic link loop back to {}", ancestor.display())
        }
        other => other.to_string(),
    }
}

/// The display and relative names of a path found under one of the roots, and that root.
fn names(roots: &[PathBuf], path: &Path, multi_root: bool) -> (String, String, usize) {
    for (i, root) in roots.iter().enumerate() {
        if path == root.as_path() {
            let shown = slashes(path);
            let rel = path
                .file_name()
                .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
            return (shown, rel, i);
        }
        if let Ok(rel) = path.strip_prefix(root) {
            let rel = slashes(rel);
            let display = if multi_root {
                format!("{}/{rel}", slashes(root).trim_end_matches('/'))
            } else {
                rel.clone()
            };
            return (display, rel, i);
        }
    }
    let s = slashes(path);
    (s.clone(), s, 0)
}

fn slashes(p: &Path) -> String {
    let s = p.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}
