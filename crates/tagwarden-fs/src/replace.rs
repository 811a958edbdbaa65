//! Replacing a file that was read, atomically, only if it is still what was read.

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crate::dir::{Dir, is_link_error, split};
use crate::{Stamp, temporary};

/// What the caller allows beyond the safe default.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplaceOptions {
    /// Rewrite a file with several hard links: the name rewritten gets a new file, the other
    /// names keep the old contents.
    pub allow_hard_links: bool,
    /// Rewrite a file whose mode forbids writing it.
    pub allow_read_only: bool,
}

/// Why a file was not replaced. Nothing was changed in any case.
#[derive(Debug)]
pub enum WriteError {
    /// A symbolic link took the place of the file or of a directory above it.
    Link,
    /// The file is gone; it is never created again.
    Missing,
    /// Something other than a regular file is there now.
    NotRegular,
    /// Another file has the name now (another device or inode).
    Replaced,
    /// The file's size, modification time or contents changed since it was read.
    Changed,
    /// The file has this many names; rewriting one would split them.
    HardLinks(u64),
    /// The file's mode says it must not be written.
    ReadOnly,
    /// Not running as root, the owner (or group) of the file could not be kept.
    Owner(String),
    /// Anything else the system said.
    Io(io::Error),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Link => write!(
                f,
                "a symbolic link took the place of the file or of a directory above it since it was read: not followed"
            ),
            Self::Missing => write!(f, "the file is gone since it was read: not created again"),
            Self::NotRegular => write!(f, "no longer a regular file"),
            Self::Replaced => write!(f, "another file took its place since it was read"),
            Self::Changed => write!(
                f,
                "the file changed since it was read: not overwritten (run again to include the change)"
            ),
            Self::HardLinks(n) => write!(
                f,
                "the file has {n} hard links: rewriting it would split them (--allow-hard-links to rewrite this name only)"
            ),
            Self::ReadOnly => write!(f, "the file is read-only (--allow-read-only to rewrite it)"),
            Self::Owner(why) => write!(f, "{why}"),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for WriteError {}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        if is_link_error(&e) {
            Self::Link
        } else if e.kind() == io::ErrorKind::NotFound {
            Self::Missing
        } else {
            Self::Io(e)
        }
    }
}

impl Dir {
    /// Replaces the file `rel` with `contents`, if it is still the file stamped `stamp` holding
    /// exactly `original`. The new file gets the old one's owner and group (when running as
    /// root, or when they are the caller's), mode and setgid bit; it is written to a `0600`
    /// temporary file in the same directory, synced, and renamed over the old one.
    pub fn replace(
        &self,
        rel: &Path,
        stamp: &Stamp,
        original: &[u8],
        contents: &[u8],
        options: ReplaceOptions,
    ) -> Result<(), WriteError> {
        let (parent, name) = split(rel)?;
        let dir = self.open_dir(parent)?;
        let file = open_existing(&dir, name)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(WriteError::NotRegular);
        }
        let now = Stamp::of(&meta);
        if !now.same_file(stamp) {
            return Err(WriteError::Replaced);
        }
        if now != *stamp {
            return Err(WriteError::Changed);
        }
        if meta.nlink() > 1 && !options.allow_hard_links {
            return Err(WriteError::HardLinks(meta.nlink()));
        }
        let root = crate::running_as_root();
        let writable = if root {
            meta.mode() & 0o222 != 0
        } else {
            meta.mode() & 0o200 != 0
        };
        if !writable && !options.allow_read_only {
            return Err(WriteError::ReadOnly);
        }
        let owner = owner_to_keep(&meta, root)?;

        let (tmp_name, mut tmp) = temporary::create(&dir, name, 0o600)?;
        let result = (|| -> Result<(), WriteError> {
            tmp.write_all(contents)?;
            // Owner first: chown clears setuid and setgid, and the mode must not widen access
            // before the owner is right.
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::fchown(&tmp, Some(uid), Some(gid))?;
            }
            tmp.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
            tmp.sync_all()?;
            unchanged(&file, stamp, original)?;
            rustix::fs::renameat(&dir, tmp_name.as_os_str(), &dir, name)
                .map_err(io::Error::from)?;
            Ok(())
        })();
        if result.is_err() {
            let _ = rustix::fs::unlinkat(&dir, tmp_name.as_os_str(), rustix::fs::AtFlags::empty());
            return result;
        }
        // Makes the rename durable.
        let _ = dir.sync_all();
        Ok(())
    }
}

/// Opens the file that must already be there, without following a link.
fn open_existing(dir: &File, name: &OsStr) -> Result<File, WriteError> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => Ok(File::from(fd)),
        Err(rustix::io::Errno::LOOP) => Err(WriteError::Link),
        Err(rustix::io::Errno::NOENT) => Err(WriteError::Missing),
        Err(e) => Err(WriteError::Io(e.into())),
    }
}

/// The owner and group to give the new file: the old file's. Root can give any; anyone else
/// keeps what they can (their own files, a group they are in) and refuses the rest rather than
/// take the file over.
fn owner_to_keep(meta: &std::fs::Metadata, root: bool) -> Result<Option<(u32, u32)>, WriteError> {
    if root {
        return Ok(Some((meta.uid(), meta.gid())));
    }
    let uid = rustix::process::geteuid().as_raw();
    if meta.uid() != uid {
        return Err(WriteError::Owner(format!(
            "the file belongs to user {}; rewriting it would make it yours (run as its owner or as root)",
            meta.uid()
        )));
    }
    let gid = meta.gid();
    let ours = rustix::process::getegid().as_raw() == gid
        || rustix::process::getgroups()
            .map(|g| g.iter().any(|x| x.as_raw() == gid))
            .unwrap_or(false);
    if !ours {
        return Err(WriteError::Owner(format!(
            "the file's group {gid} is not one of yours; rewriting it would change its group"
        )));
    }
    Ok(Some((uid, gid)))
}

/// Checks, through the descriptor opened before writing, that the file still has the stamp and
/// the bytes it was read with.
fn unchanged(file: &File, stamp: &Stamp, original: &[u8]) -> Result<(), WriteError> {
    if Stamp::of(&file.metadata()?) != *stamp {
        return Err(WriteError::Changed);
    }
    let mut now = Vec::with_capacity(original.len());
    let mut reader = file;
    std::io::Seek::rewind(&mut reader)?;
    reader
        .take(original.len() as u64 + 1)
        .read_to_end(&mut now)?;
    if now != original {
        return Err(WriteError::Changed);
    }
    Ok(())
}
