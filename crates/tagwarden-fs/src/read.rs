//! Reading a file that data names (a config's advisories), with a cap.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// Not a regular file (a FIFO, a device, a socket, a directory).
    NotRegular(&'static str),
    /// Larger than the cap, in bytes.
    TooLarge {
        limit: u64,
    },
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRegular(what) => write!(f, "{what}, not a regular file: not read"),
            Self::TooLarge { limit } => write!(f, "larger than {limit} bytes: not read"),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Reads `path` whole, at most `limit` bytes. With `regular_only`, anything but a regular file
/// is refused before a byte is read (`/dev/zero`, a FIFO that would block); otherwise a stream
/// is read up to the cap.
pub fn read_bounded(path: &Path, limit: u64, regular_only: bool) -> Result<Vec<u8>, ReadError> {
    let file = open_for_reading(path)?;
    let meta = file.metadata()?;
    let ft = meta.file_type();
    if !ft.is_file() {
        if regular_only || ft.is_dir() {
            return Err(ReadError::NotRegular(kind_of(&ft)));
        }
        // A stream the user named: block on it as usual.
        rustix::fs::fcntl_setfl(&file, OFlags::empty()).map_err(io::Error::from)?;
    } else if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let bytes = read_to_limit(&file, limit.saturating_add(1))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Opens `path` for reading, following links, without blocking on a FIFO (a walker saw a file
/// there, but something else may have taken its place): check `metadata().is_file()` next.
pub fn open_for_reading(path: &Path) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK;
    Ok(File::from(rustix::fs::open(path, flags, Mode::empty())?))
}

/// Reads at most `limit` bytes from `file` (it may have grown since its size was checked).
pub fn read_to_limit(file: &File, limit: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    file.take(limit).read_to_end(&mut buf)?;
    Ok(buf)
}

fn kind_of(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}
