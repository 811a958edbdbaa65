//! Writing a file the user named (an output, a report, an imported advisory).

use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::{Dir, temporary};

/// Writes `contents` to `path` atomically; see [`AtomicFile`].
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(contents)?;
    f.commit()
}

/// A file the user named, written in a stream and put in place at once by [`AtomicFile::commit`]:
/// a temporary file in the same directory is written, synced and renamed over the target, so a
/// reader sees the old file or the new one, never a part; dropped without a commit, it leaves the
/// target as it was. A symbolic link the user named is followed (the file it points to is
/// replaced, the link stays). An existing file keeps its mode, and its owner and group when
/// running as root; its contents are never readable by others for a moment (the temporary file
/// is `0600` until then). A new file gets the usual mode (`0666` less the umask). A FIFO or a
/// device (`/dev/stdout`, a process substitution) is written to directly.
#[derive(Debug)]
pub struct AtomicFile {
    file: File,
    /// Where to rename the temporary file: `None` when writing to a FIFO or a device.
    rename: Option<Rename>,
}

#[derive(Debug)]
struct Rename {
    dir: File,
    tmp: OsString,
    name: OsString,
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let path = match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path)?,
            _ => path.to_path_buf(),
        };
        let existing = match fs::metadata(&path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if let Some(m) = &existing
            && !m.is_file()
        {
            if m.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is a directory", path.display()),
                ));
            }
            let file = fs::OpenOptions::new().write(true).open(&path)?;
            return Ok(AtomicFile { file, rename: None });
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?
            .to_os_string();
        let dir = Dir::open(&parent)?.open_dir(Path::new(""))?;
        let mode = if existing.is_some() { 0o600 } else { 0o666 };
        let (tmp, file) = temporary::create(&dir, &name, mode)?;
        let rename = Rename { dir, tmp, name };
        if let Some(m) = &existing
            && let Err(e) = keep_owner_and_mode(&file, m)
        {
            rename.remove();
            return Err(e);
        }
        Ok(AtomicFile {
            file,
            rename: Some(rename),
        })
    }

    /// Syncs the new contents and puts them in place.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.flush()?;
        let Some(rename) = self.rename.take() else {
            return Ok(());
        };
        let done = self.file.sync_all().and_then(|()| {
            rustix::fs::renameat(
                &rename.dir,
                rename.tmp.as_os_str(),
                &rename.dir,
                rename.name.as_os_str(),
            )
            .map_err(io::Error::from)
        });
        match done {
            Ok(()) => {
                // Makes the rename durable.
                let _ = rename.dir.sync_all();
                Ok(())
            }
            Err(e) => {
                rename.remove();
                Err(e)
            }
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(rename) = self.rename.take() {
            rename.remove();
        }
    }
}

impl Rename {
    fn remove(&self) {
        let _ = rustix::fs::unlinkat(
            &self.dir,
            self.tmp.as_os_str(),
            rustix::fs::AtFlags::empty(),
        );
    }
}

/// Owner first (chown clears setgid), then the mode: access never widens on the way.
fn keep_owner_and_mode(file: &File, m: &Metadata) -> io::Result<()> {
    if crate::running_as_root() {
        std::os::unix::fs::fchown(file, Some(m.uid()), Some(m.gid()))?;
    }
    file.set_permissions(fs::Permissions::from_mode(m.mode() & 0o7777))
}
