//! The attacks each operation must withstand, on real files.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, symlink};
use std::path::Path;

use crate::{Dir, Journal, ReadError, ReplaceOptions, Stamp, WriteError, read_bounded, temporary};

/// Reads `rel` beneath `dir` as a rewriting command would: bytes and stamp.
fn read(dir: &Dir, rel: &str) -> (Vec<u8>, Stamp) {
    let f = dir.open_file(Path::new(rel)).unwrap();
    let stamp = Stamp::of(&f.metadata().unwrap());
    (crate::read_to_limit(&f, u64::MAX).unwrap(), stamp)
}

fn replace(dir: &Dir, rel: &str, read: &(Vec<u8>, Stamp), new: &str) -> Result<(), WriteError> {
    dir.replace(
        Path::new(rel),
        &read.1,
        &read.0,
        new.as_bytes(),
        ReplaceOptions::default(),
    )
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn replaces_the_file_read_and_leaves_no_temporary() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("a")).unwrap();
    fs::write(t.path().join("a/Dockerfile"), "FROM x\n").unwrap();
    let dir = Dir::open(t.path()).unwrap();
    let r = read(&dir, "a/Dockerfile");
    replace(&dir, "a/Dockerfile", &r, "FROM x@y\n").unwrap();
    assert_eq!(
        fs::read_to_string(t.path().join("a/Dockerfile")).unwrap(),
        "FROM x@y\n"
    );
    assert_eq!(names(&t.path().join("a")), ["Dockerfile"]);
}

#[test]
fn a_file_swapped_for_a_link_is_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("target"), "FROM x\n").unwrap();
    fs::write(t.path().join("Dockerfile"), "FROM x\n").unwrap();
    let dir = Dir::open(t.path()).unwrap();
    let r = read(&dir, "Dockerfile");
    fs::remove_file(t.path().join("Dockerfile")).unwrap();
    symlink(outside.path().join("target"), t.path().join("Dockerfile")).unwrap();
    let e = replace(&dir, "Dockerfile", &r, "pwned").unwrap_err();
    assert!(matches!(e, WriteError::Link), "{e:?}");
    assert_eq!(
        fs::read_to_string(outside.path().join("target")).unwrap(),
        "FROM x\n"
    );
    // Reading through it is refused too.
    assert!(dir.open_file(Path::new("Dockerfile")).is_err());
}

#[test]
fn a_directory_swapped_for_a_link_is_not_followed_and_nothing_is_created() {
    let t = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("ci")).unwrap();
    fs::write(t.path().join("ci/Dockerfile"), "FROM x\n").unwrap();
    let dir = Dir::open(t.path()).unwrap();
    let r = read(&dir, "ci/Dockerfile");
    fs::rename(t.path().join("ci"), t.path().join("ci.old")).unwrap();
    symlink(outside.path(), t.path().join("ci")).unwrap();
    let e = replace(&dir, "ci/Dockerfile", &r, "pwned").unwrap_err();
    assert!(matches!(e, WriteError::Link), "{e:?}");
    assert!(
        names(outside.path()).is_empty(),
        "{:?}",
        names(outside.path())
    );
}

#[test]
fn the_portable_walk_refuses_links_too() {
    use rustix::fs::OFlags;
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("real")).unwrap();
    fs::write(t.path().join("real/f"), "x").unwrap();
    symlink("real", t.path().join("link")).unwrap();
    symlink("f", t.path().join("real/g")).unwrap();
    let fd: std::os::fd::OwnedFd = fs::File::open(t.path()).unwrap().into();
    assert!(crate::dir::walk(&fd, Path::new("real/f"), OFlags::RDONLY).is_ok());
    assert!(crate::dir::walk(&fd, Path::new("link/f"), OFlags::RDONLY).is_err());
    assert_eq!(
        crate::dir::walk(&fd, Path::new("link"), OFlags::RDONLY | OFlags::DIRECTORY).err(),
        Some(rustix::io::Errno::LOOP)
    );
    assert!(crate::dir::walk(&fd, Path::new("real/g"), OFlags::RDONLY | OFlags::NOFOLLOW).is_err());
}

#[test]
fn paths_that_leave_the_directory_are_refused() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("a")).unwrap();
    fs::write(t.path().join("f"), "x").unwrap();
    let dir = Dir::open(&t.path().join("a")).unwrap();
    assert!(dir.open_file(Path::new("../f")).is_err());
    assert!(dir.open_file(&t.path().join("f")).is_err());
}

#[test]
fn a_missing_file_is_never_created() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("Dockerfile"), "FROM x\n").unwrap();
    let dir = Dir::open(t.path()).unwrap();
    let r = read(&dir, "Dockerfile");
    fs::remove_file(t.path().join("Dockerfile")).unwrap();
    let e = replace(&dir, "Dockerfile", &r, "new").unwrap_err();
    assert!(matches!(e, WriteError::Missing), "{e:?}");
    assert!(names(t.path()).is_empty());
}

#[test]
fn an_edit_since_the_read_is_kept() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("Dockerfile");
    fs::write(&p, "FROM a\n").unwrap();
    let dir = Dir::open(t.path()).unwrap();
    let r = read(&dir, "Dockerfile");
    // Same size, and the modification time put back: only the bytes tell.
    let mtime = fs::metadata(&p).unwrap().modified().unwrap();
    fs::write(&p, "FROM b\n").unwrap();
    fs::File::options()
        .write(true)
        .open(&p)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let e = replace(&dir, "Dockerfile", &r, "FROM a@x\n").unwrap_err();
    assert!(matches!(e, WriteError::Changed), "{e:?}");
    assert_eq!(fs::read_to_string(&p).unwrap(), "FROM b\n");
    // Another file under the same name.
    fs::remove_file(&p).unwrap();
    fs::write(&p, "FROM a\n").unwrap();
    let e = replace(&dir, "Dockerfile", &r, "FROM a@x\n").unwrap_err();
    assert!(
        matches!(e, WriteError::Replaced | WriteError::Changed),
        "{e:?}"
    );
    assert_eq!(names(t.path()), ["Dockerfile"]);
}

#[test]
fn mode_owner_and_setgid_are_kept_and_never_widened() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("secret.yml");
    fs::write(&p, "a").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o2640)).unwrap();
    let root = crate::running_as_root();
    if root {
        std::os::unix::fs::chown(&p, Some(4321), Some(4322)).unwrap();
        // chown clears setgid.
        fs::set_permissions(&p, fs::Permissions::from_mode(0o2640)).unwrap();
    }
    let dir = Dir::open(t.path()).unwrap();
    let r = read(&dir, "secret.yml");
    replace(&dir, "secret.yml", &r, "b").unwrap();
    let m = fs::metadata(&p).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o2640, "{:o}", m.mode());
    if root {
        assert_eq!((m.uid(), m.gid()), (4321, 4322));
    }
    assert_eq!(fs::read_to_string(&p).unwrap(), "b");
}

#[test]
fn temporary_files_are_created_private() {
    let t = tempfile::tempdir().unwrap();
    let dir = Dir::open(t.path())
        .unwrap()
        .open_dir(Path::new(""))
        .unwrap();
    let (name, f) = temporary::create(&dir, std::ffi::OsStr::new("x"), 0o600).unwrap();
    let mode = f.metadata().unwrap().mode() & 0o777;
    assert_eq!(mode & 0o077, 0, "{mode:o}");
    assert!(temporary::is_temporary(&name).is_some());
}

#[test]
fn hard_links_and_read_only_files_are_refused_unless_allowed() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("a.yml");
    fs::write(&p, "a").unwrap();
    fs::hard_link(&p, t.path().join("b.yml")).unwrap();
    let dir = Dir::open(t.path()).unwrap();
    let r = read(&dir, "a.yml");
    let e = replace(&dir, "a.yml", &r, "new").unwrap_err();
    assert!(matches!(e, WriteError::HardLinks(2)), "{e:?}");
    let allow = ReplaceOptions {
        allow_hard_links: true,
        ..Default::default()
    };
    dir.replace(Path::new("a.yml"), &r.1, &r.0, b"new", allow)
        .unwrap();
    assert_eq!(fs::read_to_string(t.path().join("b.yml")).unwrap(), "a");

    let p = t.path().join("ro.yml");
    fs::write(&p, "a").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
    let r = read(&dir, "ro.yml");
    let e = replace(&dir, "ro.yml", &r, "new").unwrap_err();
    assert!(matches!(e, WriteError::ReadOnly), "{e:?}");
    let allow = ReplaceOptions {
        allow_read_only: true,
        ..Default::default()
    };
    dir.replace(Path::new("ro.yml"), &r.1, &r.0, b"new", allow)
        .unwrap();
    assert_eq!(fs::read_to_string(&p).unwrap(), "new");
    assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o444);
}

#[test]
fn leftovers_of_dead_processes_are_removed_and_nothing_else() {
    let t = tempfile::tempdir().unwrap();
    let dead = temporary::name_for("Dockerfile".as_ref(), u32::MAX - 1, 0);
    let alive = temporary::name_for("Dockerfile".as_ref(), 1, 0);
    fs::write(t.path().join(&dead), "FROM x").unwrap();
    fs::write(t.path().join(&alive), "FROM x").unwrap();
    fs::write(t.path().join("Dockerfile"), "FROM x").unwrap();
    let dir = Dir::open(t.path()).unwrap();
    assert!(dir.remove_leftover(Path::new(&dead)).unwrap());
    assert!(!dir.remove_leftover(Path::new(&alive)).unwrap());
    assert!(dir.remove_leftover(Path::new("Dockerfile")).is_err());
    // A link named like a temporary is not a leftover to follow or remove.
    let link = temporary::name_for("x".as_ref(), u32::MAX - 1, 1);
    symlink("Dockerfile", t.path().join(&link)).unwrap();
    assert!(dir.remove_leftover(Path::new(&link)).is_err());
    let mut want = vec![
        alive.to_string_lossy().into_owned(),
        link.to_string_lossy().into_owned(),
        "Dockerfile".to_string(),
    ];
    want.sort();
    assert_eq!(names(t.path()), want);
}

#[test]
fn journal_appends_lines_and_refuses_links() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("purge.journal");
    let mut j = Journal::open(&p).unwrap();
    j.append("deleted sha256:aa").unwrap();
    assert!(j.append("two\nlines").is_err());
    drop(j);
    let mut j = Journal::open(&p).unwrap();
    j.append("deleted sha256:bb").unwrap();
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        "deleted sha256:aa\ndeleted sha256:bb\n"
    );
    assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
    symlink(&p, t.path().join("link")).unwrap();
    assert!(Journal::open(&t.path().join("link")).is_err());
}

#[test]
fn bounded_reads_refuse_devices_fifos_and_big_files() {
    let e = read_bounded(Path::new("/dev/zero"), 1024, true).unwrap_err();
    assert!(matches!(e, ReadError::NotRegular(_)), "{e}");
    // A stream the user named is read up to the cap, no further.
    let e = read_bounded(Path::new("/dev/zero"), 1024, false).unwrap_err();
    assert!(matches!(e, ReadError::TooLarge { limit: 1024 }), "{e}");
    let t = tempfile::tempdir().unwrap();
    let fifo = t.path().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    // Refused at once, without waiting for a writer.
    assert!(matches!(
        read_bounded(&fifo, 1024, true),
        Err(ReadError::NotRegular("a FIFO"))
    ));
    let big = t.path().join("big");
    fs::write(&big, vec![b'a'; 2048]).unwrap();
    assert!(matches!(
        read_bounded(&big, 1024, true),
        Err(ReadError::TooLarge { .. })
    ));
    assert_eq!(read_bounded(&big, 4096, true).unwrap().len(), 2048);
    assert!(read_bounded(t.path(), 4096, false).is_err());
}

#[test]
fn outputs_are_atomic_keep_modes_and_stream_to_fifos() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("report.md");
    crate::write_atomic(&p, b"one").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"one");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    crate::write_atomic(&p, b"two").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"two");
    assert_eq!(fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
    // A link the user named is followed; the link stays.
    symlink("report.md", t.path().join("link")).unwrap();
    crate::write_atomic(&t.path().join("link"), b"three").unwrap();
    assert!(
        fs::symlink_metadata(t.path().join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(&p).unwrap(), b"three");
    assert_eq!(names(t.path()), ["link", "report.md"]);
    // /dev/null is written to, not replaced.
    crate::write_atomic(Path::new("/dev/null"), b"x").unwrap();
    assert!(
        fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    assert!(crate::write_atomic(&t.path().join("missing/f"), b"x").is_err());
    // A stream that is not committed changes nothing and leaves no temporary file.
    let mut f = crate::AtomicFile::create(&p).unwrap();
    std::io::Write::write_all(&mut f, b"half").unwrap();
    drop(f);
    assert_eq!(fs::read(&p).unwrap(), b"three");
    assert_eq!(names(t.path()), ["link", "report.md"]);
}
