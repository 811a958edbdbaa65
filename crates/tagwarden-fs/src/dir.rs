//! A directory opened once, and paths beneath it resolved without following any link.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags};

use crate::temporary;

/// An open directory: the anchor of every file operation in a tree. Paths given to its methods
/// are relative to it and are resolved without following any symbolic link, so they cannot
/// leave it.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

impl Dir {
    /// Opens `path`, following links in it (the caller named it), and keeps its canonical path.
    pub fn open(path: &Path) -> io::Result<Dir> {
        let path = std::fs::canonicalize(path)?;
        let fd = rustix::fs::open(
            &path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Dir { fd, path })
    }

    /// The canonical path the directory had when opened.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the regular file `rel` for reading without following links, and without blocking
    /// on a FIFO that took its place.
    pub fn open_file(&self, rel: &Path) -> io::Result<File> {
        let fd = beneath(&self.fd, rel, OFlags::RDONLY | OFlags::NONBLOCK)?;
        Ok(File::from(fd))
    }

    /// Opens the directory `rel` (empty: this one) without following links.
    pub(crate) fn open_dir(&self, rel: &Path) -> io::Result<File> {
        if rel.as_os_str().is_empty() {
            return Ok(File::from(self.fd.try_clone()?));
        }
        let fd = beneath(&self.fd, rel, OFlags::RDONLY | OFlags::DIRECTORY)?;
        Ok(File::from(fd))
    }

    /// Removes the temporary file `rel` that a killed run left behind: only a regular file
    /// named as a temporary whose process is gone. Returns false when its process still runs.
    pub fn remove_leftover(&self, rel: &Path) -> io::Result<bool> {
        let (parent, name) = split(rel)?;
        let Some(pid) = temporary::is_temporary(name) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a tagwarden temporary file",
            ));
        };
        if temporary::owner_alive(pid) {
            return Ok(false);
        }
        let dir = self.open_dir(parent)?;
        let st = rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
        if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file: left alone",
            ));
        }
        rustix::fs::unlinkat(&dir, name, AtFlags::empty())?;
        Ok(true)
    }
}

/// Splits a relative path into its parent (possibly empty) and its file name; refuses
/// absolute paths and `..`.
pub(crate) fn split(rel: &Path) -> io::Result<(&Path, &OsStr)> {
    check_relative(rel)?;
    let name = rel
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    Ok((rel.parent().unwrap_or(Path::new("")), name))
}

fn check_relative(rel: &Path) -> io::Result<()> {
    if rel
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a path inside the directory", rel.display()),
        ))
    }
}

/// Opens `rel` beneath `dir` with `flags`, following no symbolic link on the way or at the end.
fn beneath(dir: &OwnedFd, rel: &Path, flags: OFlags) -> io::Result<OwnedFd> {
    check_relative(rel)?;
    let flags = flags | OFlags::CLOEXEC;
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::ResolveFlags;
        // NO_SYMLINKS covers the last component too (and says ELOOP where O_NOFOLLOW with
        // O_DIRECTORY would say ENOTDIR).
        let how = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
        match rustix::fs::openat2(dir, rel, flags, Mode::empty(), how) {
            // Kernels before 5.6, or a seccomp filter that does not know the call.
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => {}
            other => return other.map_err(link_error),
        }
    }
    walk(dir, rel, flags).map_err(link_error)
}

/// The portable way: one component at a time, each opened with `O_NOFOLLOW`.
pub(crate) fn walk(dir: &OwnedFd, rel: &Path, flags: OFlags) -> rustix::io::Result<OwnedFd> {
    let parts: Vec<&OsStr> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p),
            _ => None,
        })
        .collect();
    let Some((last, dirs)) = parts.split_last() else {
        return rustix::fs::openat(dir, ".", flags, Mode::empty());
    };
    let mut current: Option<OwnedFd> = None;
    for part in dirs {
        let at = current.as_ref().map_or(dir.as_fd(), |f| f.as_fd());
        let next = component(
            at,
            part,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        )?;
        current = Some(next);
    }
    let at = current.as_ref().map_or(dir.as_fd(), |f| f.as_fd());
    component(at, last, flags)
}

/// Opens one name with `O_NOFOLLOW`; a link there is `ELOOP`, whatever the other flags.
fn component(at: BorrowedFd<'_>, name: &OsStr, flags: OFlags) -> rustix::io::Result<OwnedFd> {
    match rustix::fs::openat(at, name, flags | OFlags::NOFOLLOW, Mode::empty()) {
        Err(rustix::io::Errno::NOTDIR)
            if rustix::fs::statat(at, name, AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|st| {
                rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Symlink
            }) =>
        {
            Err(rustix::io::Errno::LOOP)
        }
        other => other,
    }
}

/// A link met on the way is `ELOOP` (or `ENOTDIR` for a directory opened `O_NOFOLLOW`, `EXDEV`
/// for a path that would leave the directory): say so in words.
fn link_error(e: rustix::io::Errno) -> io::Error {
    match e {
        rustix::io::Errno::LOOP | rustix::io::Errno::XDEV => {
            io::Error::new(io::ErrorKind::InvalidInput, LinkInTheWay)
        }
        other => other.into(),
    }
}

/// The error inside the `io::Error` of a path that met a symbolic link.
#[derive(Debug)]
pub(crate) struct LinkInTheWay;

impl std::fmt::Display for LinkInTheWay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a symbolic link is in the way (the file or a directory above it): not followed"
        )
    }
}

impl std::error::Error for LinkInTheWay {}

/// True when `e` says a symbolic link was in the way.
pub(crate) fn is_link_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<LinkInTheWay>())
}
