//! What a file was when it was read, to tell later whether it is still the same file, unchanged.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

/// A file's identity (device and inode) and the cheap signs of a change (size and modification
/// time), taken from an open descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Stamp {
    /// The stamp of `meta`, from `File::metadata` on the descriptor that was read.
    pub fn of(meta: &Metadata) -> Stamp {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }

    /// The size in bytes when stamped.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// True when both stamps are of the same file (whatever happened to its contents).
    pub fn same_file(&self, other: &Stamp) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}
