//! Where a scanned file lives: each root is opened once as a directory handle, files are read
//! beneath it without following links (unless `--follow`), and a file that may be rewritten is
//! located beneath a root, so that `pin` never writes outside the paths it was given.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tagwarden_fs::Dir;

use super::walk::FileEntry;

/// A root, opened.
pub(crate) struct Anchor {
    dir: Arc<Dir>,
    /// For a file named on the command line: its name in `dir`.
    file: Option<OsString>,
    /// The path as given.
    given: PathBuf,
}

/// Where a file can be rewritten: beneath `dir`, at `rel`, reached without following any link.
#[derive(Clone)]
pub(crate) struct WriteTarget {
    pub(crate) dir: Arc<Dir>,
    pub(crate) rel: PathBuf,
}

/// Opens every root; `None` for one that cannot be opened (the walk reports why).
pub(crate) fn open(roots: &[PathBuf]) -> Vec<Option<Anchor>> {
    roots
        .iter()
        .map(|r| {
            // A root the user named is resolved once, links and all: that is their choice.
            let real = std::fs::canonicalize(r).ok()?;
            let (dir, file) = if real.is_dir() {
                (real.as_path(), None)
            } else {
                (real.parent()?, Some(real.file_name()?.to_os_string()))
            };
            Some(Anchor {
                dir: Arc::new(Dir::open(dir).ok()?),
                file,
                given: r.clone(),
            })
        })
        .collect()
}

impl Anchor {
    /// The path of `entry` relative to the directory handle.
    fn relative(&self, entry: &FileEntry) -> Option<PathBuf> {
        match &self.file {
            Some(name) => Some(PathBuf::from(name)),
            None => entry
                .path
                .strip_prefix(&self.given)
                .ok()
                .map(Path::to_path_buf),
        }
    }
}

/// Opens a walked file for reading: beneath its root without following links, or, with
/// `--follow`, by its path.
pub(crate) fn open_file(
    anchors: &[Option<Anchor>],
    entry: &FileEntry,
    follow: bool,
) -> io::Result<File> {
    if follow {
        return tagwarden_fs::open_for_reading(&entry.path);
    }
    let anchor = anchors.get(entry.root).and_then(Option::as_ref);
    match anchor.and_then(|a| Some((a, a.relative(entry)?))) {
        Some((a, rel)) => a.dir.open_file(&rel),
        None => Err(io::Error::new(
            io::ErrorKind::NotFound,
            "its root could not be opened",
        )),
    }
}

/// Where `entry` may be rewritten, or why it may not. Without `--follow` no link was followed,
/// so it is where the walk found it; with `--follow` its real path must be beneath a root.
pub(crate) fn target(
    anchors: &[Option<Anchor>],
    entry: &FileEntry,
    follow: bool,
) -> Result<WriteTarget, String> {
    if !follow {
        let a = anchors
            .get(entry.root)
            .and_then(Option::as_ref)
            .ok_or("its root could not be opened")?;
        let rel = a.relative(entry).ok_or("not under its root")?;
        return Ok(WriteTarget {
            dir: a.dir.clone(),
            rel,
        });
    }
    let real = std::fs::canonicalize(&entry.path).map_err(|e| e.to_string())?;
    for a in anchors.iter().flatten() {
        let rel = match &a.file {
            Some(name) if real == a.dir.path().join(name) => PathBuf::from(name),
            Some(_) => continue,
            None => match real.strip_prefix(a.dir.path()) {
                Ok(rel) => rel.to_path_buf(),
                Err(_) => continue,
            },
        };
        return Ok(WriteTarget {
            dir: a.dir.clone(),
            rel,
        });
    }
    Err(format!(
        "reached through a symbolic link to {}, outside the paths given: not rewritten",
        real.display()
    ))
}
