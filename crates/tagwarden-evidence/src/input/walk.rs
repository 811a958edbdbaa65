//! Finding the files under the paths a user gave: directories walked in a stable order, each
//! directory and file reached once (a link loop or a second link to the same place is read
//! once and said), streams named directly (a FIFO, `/dev/stdin`, a process substitution such as
//! `<(kubectl get pods -A -o json)`) kept as streams, special files inside directories skipped
//! with a note rather than opened (a FIFO with no writer would block the hunt forever).

use std::collections::HashSet;
use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::PathBuf;

/// A file to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// A FIFO or character device named on the command line: read once, as it comes (it cannot
    /// be reopened or sought), and an empty one is a problem (the command writing it failed).
    pub stream: bool,
}

/// What a walk found, and what it could not read or chose not to.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<Found>,
    /// Paths that could not be read (missing, permission denied), or given and empty.
    pub problems: Vec<(PathBuf, String)>,
    /// Paths passed over on purpose, with why (a link loop, a special file in a directory).
    pub notes: Vec<(PathBuf, String)>,
}

/// Every file under the paths: files and streams as given, directories recursively (sorted).
pub fn walk(paths: &[PathBuf]) -> Walked {
    let mut out = Walked::default();
    let mut seen: HashSet<(u64, u64)> = HashSet::new();
    for root in paths {
        let before = out.files.len();
        let mut stack: Vec<(PathBuf, bool)> = vec![(root.clone(), true)];
        while let Some((p, named)) = stack.pop() {
            let meta = match std::fs::metadata(&p) {
                Ok(m) => m,
                Err(e) => {
                    out.problems.push((p, format!("cannot read: {e}")));
                    continue;
                }
            };
            let kind = meta.file_type();
            if kind.is_dir() {
                if !seen.insert(identity(&meta)) {
                    out.notes.push((
                        p,
                        "a folder reached again through a link (a loop, or two links to one \
                         place): read once"
                            .into(),
                    ));
                    continue;
                }
                match std::fs::read_dir(&p) {
                    Ok(rd) => {
                        let mut children: Vec<PathBuf> =
                            rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
                        children.sort();
                        stack.extend(children.into_iter().rev().map(|c| (c, false)));
                    }
                    Err(e) => out.problems.push((p, format!("cannot read: {e}"))),
                }
            } else if kind.is_file() {
                if seen.insert(identity(&meta)) {
                    out.files.push(Found {
                        path: p,
                        stream: false,
                    });
                } else {
                    out.notes
                        .push((p, "the same file as one read already: read once".into()));
                }
            } else if named && (kind.is_fifo() || kind.is_char_device()) {
                out.files.push(Found {
                    path: p,
                    stream: true,
                });
            } else if named {
                out.problems.push((p, skipped(&meta, true)));
            } else {
                out.notes.push((p, skipped(&meta, false)));
            }
        }
        if out.files.len() == before && !out.problems.iter().any(|(p, _)| p.starts_with(root)) {
            out.problems.push((
                root.clone(),
                "no file to read there (an empty folder): nothing was searched".into(),
            ));
        }
    }
    out
}

/// Device and inode: what a file is, whatever the path that reached it.
fn identity(m: &Metadata) -> (u64, u64) {
    (m.dev(), m.ino())
}

fn skipped(m: &Metadata, named: bool) -> String {
    let kind = m.file_type();
    let what = if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    };
    if named {
        format!("{what}: cannot be read as evidence")
    } else {
        format!("{what} inside a folder: skipped (name it on the command line to read it)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn link_loops_and_second_links_are_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(logs.join("a/b")).unwrap();
        std::fs::write(logs.join("a/b/job.txt"), "x\n").unwrap();
        // A loop back to the top, a loop to itself, and a second link to a file.
        symlink(&logs, logs.join("a/b/up")).unwrap();
        symlink(logs.join("a"), logs.join("a/again")).unwrap();
        symlink(logs.join("a/b/job.txt"), logs.join("same.txt")).unwrap();
        let w = walk(std::slice::from_ref(&logs));
        assert_eq!(w.files.len(), 1, "{w:?}");
        assert!(w.problems.is_empty(), "{w:?}");
        assert_eq!(w.notes.len(), 3, "{w:?}");
        assert!(
            w.notes
                .iter()
                .any(|(p, m)| p.ends_with("up") && m.contains("read once"))
        );
    }

    #[test]
    fn streams_named_directly_and_special_files_in_folders() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        if !crate::input::tests_support::mkfifo(&fifo) {
            return;
        }
        // Inside a folder: not opened (it could block forever), said.
        let w = walk(&[dir.path().to_path_buf()]);
        assert!(w.files.is_empty());
        assert!(w.notes[0].1.contains("a FIFO inside a folder"), "{w:?}");
        // Named: a stream to read.
        let w = walk(std::slice::from_ref(&fifo));
        assert_eq!(
            w.files,
            [Found {
                path: fifo,
                stream: true
            }]
        );
        // An empty folder is nothing searched, and says so.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let w = walk(&[empty]);
        assert!(w.problems[0].1.contains("nothing was searched"), "{w:?}");
    }
}
