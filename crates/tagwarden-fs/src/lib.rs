//! Safe file operations for every tagwarden command that reads a tree it may rewrite, writes an
//! output file, or keeps a journal.
//!
//! tagwarden runs as root in CI over repositories an attacker may have touched, so between the
//! moment a file is read and the moment it is written, a file or a directory above it may be
//! swapped for a symbolic link, edited, or hard-linked. The rules kept here:
//!
//! - A tree is opened once as a [`Dir`]; files in it are opened relative to that handle without
//!   following any symbolic link (`openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS` on Linux,
//!   `O_NOFOLLOW` component by component elsewhere), so nothing outside the tree is ever reached.
//! - [`Dir::replace`] never creates a file that was not there; it re-checks the file it read
//!   (device, inode, size, modification time and every byte, through the open descriptor) right
//!   before the rename, and refuses a file that changed, a read-only file or a file with several
//!   hard links (unless told to). The temporary file is created `0600` and given the original's
//!   owner, group and mode (setgid included) before it is renamed over it.
//! - Temporary files are named so that walkers know them ([`temporary::is_temporary`]) and a later
//!   run removes the ones a killed run left behind ([`Dir::remove_leftover`]).
//! - [`AtomicFile`] and [`write_atomic`] write a file the user named (an output, a report) whole
//!   or not at all; [`Journal`] appends
//!   records and syncs each one, for commands that must be able to say what they did before a
//!   crash; [`read_bounded`] reads a file that data names, refusing devices and FIFOs when asked
//!   and never more than a cap.
//!
//! This is a crate of its own because `pin`, `purge`, `exposure` and every report writer need it,
//! while none of them should depend on another's planning code.

mod dir;
mod journal;
mod output;
mod read;
mod replace;
mod stamp;
pub mod temporary;

pub use dir::Dir;
pub use journal::Journal;
pub use output::{AtomicFile, write_atomic};
pub use read::{ReadError, open_for_reading, read_bounded, read_to_limit};
pub use replace::{ReplaceOptions, WriteError};
pub use stamp::Stamp;

/// True when the process runs as root (it may then keep other users' ownership).
pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[cfg(test)]
mod tests;
