//! An append-only journal: one record a line, each on disk before the next step is taken, so
//! that a command that deletes or rewrites can tell after a crash what it had done.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

/// A journal file opened for appending.
#[derive(Debug)]
pub struct Journal {
    file: File,
}

impl Journal {
    /// Opens (or creates, mode `0600`) the journal at `path`. A symbolic link, a FIFO or a
    /// device there is refused: a journal is a regular file of its own.
    pub fn open(path: &Path) -> io::Result<Journal> {
        let flags = OFlags::WRONLY
            | OFlags::APPEND
            | OFlags::CREATE
            | OFlags::NOFOLLOW
            | OFlags::NONBLOCK
            | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::from_raw_mode(0o600)).map_err(|e| {
            if e == rustix::io::Errno::LOOP {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is a symbolic link: a journal must not be one",
                        path.display()
                    ),
                )
            } else {
                e.into()
            }
        })?;
        let file = File::from(fd);
        if !file.metadata()?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", path.display()),
            ));
        }
        Ok(Journal { file })
    }

    /// Appends `record` as one line and waits until it is on disk. A record holding a newline
    /// is refused: it would read back as two.
    pub fn append(&mut self, record: &str) -> io::Result<()> {
        if record.contains(['\n', '\r']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a journal record must be one line",
            ));
        }
        let mut line = Vec::with_capacity(record.len() + 1);
        line.extend_from_slice(record.as_bytes());
        line.push(b'\n');
        // One write: with O_APPEND the line lands whole at the end, even with other writers.
        self.file.write_all(&line)?;
        self.file.sync_data()
    }
}
