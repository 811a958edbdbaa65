//! Writing a file the user named (an output, a report, an imported advisory).

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::{Dir, temporary};

/// Writes `contents` to `path` atomically: a temporary file in the same directory is written,
/// flushed to disk and renamed over the target, so a reader sees the old file or the new one,
/// never a part. A symbolic link the user named is followed (the file it points to is replaced,
/// the link stays). An existing file keeps its mode, and its owner and group when running as
/// root; its contents are never readable by others for a moment (the temporary file is `0600`
/// until then). A new file gets the usual mode (`0666` less the umask). A FIFO or a device
/// (`/dev/stdout`, a process substitution) is written to directly.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
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
        let mut f = fs::OpenOptions::new().write(true).open(&path)?;
        return f.write_all(contents).and_then(|()| f.flush());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let dir = Dir::open(&parent)?.open_dir(Path::new(""))?;
    let mode = if existing.is_some() { 0o600 } else { 0o666 };
    let (tmp_name, mut tmp) = temporary::create(&dir, name, mode)?;
    let written = (|| {
        tmp.write_all(contents)?;
        if let Some(m) = &existing {
            if crate::running_as_root() {
                std::os::unix::fs::fchown(&tmp, Some(m.uid()), Some(m.gid()))?;
            }
            tmp.set_permissions(fs::Permissions::from_mode(m.mode() & 0o7777))?;
        }
        tmp.sync_all()?;
        rustix::fs::renameat(&dir, tmp_name.as_os_str(), &dir, name).map_err(io::Error::from)
    })();
    if let Err(e) = written {
        let _ = rustix::fs::unlinkat(&dir, tmp_name.as_os_str(), rustix::fs::AtFlags::empty());
        return Err(e);
    }
    let _ = dir.sync_all();
    Ok(())
}
