//! Temporary files: `.NAME.tagwarden-PID-N.tmp` next to the file they will replace, created
//! `0600` and exclusively, so that a walker can tell them from the user's files and a later run
//! can remove what a killed one left behind.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::fs::{Mode, OFlags};

/// Names tried before giving up.
const MAX_ATTEMPTS: usize = 64;
/// Bytes of the original name kept in the temporary's name, so that it stays under `NAME_MAX`.
const MAX_STEM: usize = 128;
const MARK: &[u8] = b".tagwarden-";
const SUFFIX: &[u8] = b".tmp";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The name of a temporary file for `name`, for the process `pid`.
pub fn name_for(name: &OsStr, pid: u32, n: usize) -> OsString {
    let bytes = name.as_bytes();
    let stem = &bytes[..bytes.len().min(MAX_STEM)];
    let mut out = Vec::with_capacity(stem.len() + 40);
    out.push(b'.');
    out.extend_from_slice(stem);
    out.extend_from_slice(MARK);
    out.extend_from_slice(format!("{pid}-{n}").as_bytes());
    out.extend_from_slice(SUFFIX);
    OsString::from_vec(out)
}

/// The process that created the temporary file `name`, when `name` is one.
pub fn is_temporary(name: &OsStr) -> Option<u32> {
    let rest = name.as_bytes().strip_prefix(b".")?.strip_suffix(SUFFIX)?;
    let at = rest.windows(MARK.len()).rposition(|w| w == MARK)?;
    let (pid, n) = std::str::from_utf8(&rest[at + MARK.len()..])
        .ok()?
        .split_once('-')?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if at == 0 || !all_digits(pid) || !all_digits(n) {
        return None;
    }
    pid.parse().ok()
}

/// True when the process that made a temporary file may still be writing it. Our own process
/// id counts as gone: a leftover with it is from an earlier process that had the same id.
pub(crate) fn owner_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    let Ok(signed) = i32::try_from(pid) else {
        return false;
    };
    let Some(pid) = rustix::process::Pid::from_raw(signed) else {
        return false;
    };
    // EPERM means it exists but belongs to someone else.
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e != rustix::io::Errno::SRCH,
    }
}

/// Creates a new temporary file for `name` in `dir`, mode `mode` (before the umask), never
/// following or reusing an existing name.
pub(crate) fn create(dir: impl AsFd, name: &OsStr, mode: u32) -> io::Result<(OsString, File)> {
    let pid = std::process::id();
    for _ in 0..MAX_ATTEMPTS {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = name_for(name, pid, n);
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::openat(
            dir.as_fd(),
            tmp.as_os_str(),
            flags,
            Mode::from_raw_mode(mode),
        ) {
            Ok(fd) => return Ok((tmp, File::from(fd))),
            Err(rustix::io::Errno::EXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "could not create a temporary file next to the target",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_not_temporaries() {
        let n = name_for(OsStr::new("Dockerfile"), 4242, 7);
        assert_eq!(n, ".Dockerfile.tagwarden-4242-7.tmp");
        assert_eq!(is_temporary(&n), Some(4242));
        for not in [
            "Dockerfile",
            ".tagwarden-1-2.tmp",
            ".x.tagwarden-1-.tmp",
            ".x.tagwarden--2.tmp",
            ".x.tagwarden-a-2.tmp",
            "x.tagwarden-1-2.tmp",
            ".x.tagwarden-1-2.tmp.bak",
        ] {
            assert_eq!(is_temporary(OsStr::new(not)), None, "{not}");
        }
        // A name that itself contains the mark is still read from the end.
        let n = name_for(OsStr::new("a.tagwarden-9-9.tmp"), 5, 1);
        assert_eq!(is_temporary(&n), Some(5));
    }

    #[test]
    fn long_names_are_cut_to_stay_under_name_max() {
        let long = "x".repeat(300);
        let n = name_for(OsStr::new(&long), u32::MAX, usize::MAX);
        assert!(n.len() < 255, "{}", n.len());
        assert_eq!(is_temporary(&n), Some(u32::MAX));
    }

    #[test]
    fn our_own_pid_and_missing_processes_are_not_alive() {
        assert!(!owner_alive(std::process::id()));
        assert!(!owner_alive(u32::MAX));
        // PID 1 always exists.
        assert!(owner_alive(1));
    }
}
