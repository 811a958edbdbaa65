//! Attacks on tagwarden itself, each performed for real: files and directories swapped for
//! symbolic links while `pin` waits on a slow loopback registry, edits made meanwhile, private
//! files watched for a readable moment, hard links, read-only files, a killed run's temporary
//! file, a hostile config in the tree, and escape sequences in names that reach the reports.

use std::ffi::OsString;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tagwarden_testbed::{Fault, Gate, Proxy};

use crate::common::{KICS_LATEST_DIGEST, Run, Tree, tagwarden};
use crate::env::tagwarden_env;
use crate::pin::Bed;

/// A registry behind a proxy that holds every request until the attack is done.
struct Held {
    proxy: Proxy,
    gate: Gate,
}

impl Held {
    fn new(bed: &Bed) -> Held {
        let gate = Gate::new();
        let proxy = Proxy::start(&bed.host(), Fault::Hold(gate.clone()));
        Held { proxy, gate }
    }

    /// The host to write in references.
    fn host(&self) -> String {
        self.proxy.host()
    }

    /// Runs `tagwarden pin ARGS…` in `dir`; `attack` runs once pin has scanned the tree and is
    /// waiting on the registry, then the registry answers.
    fn pin(&self, bed: &Bed, dir: &Path, args: &[&str], attack: impl FnOnce()) -> Run {
        let host = self.host();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tagwarden"));
        cmd.arg("pin")
            .args(args)
            .args(["--insecure-registry", &host])
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .envs(bed.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run tagwarden pin");
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.proxy.faults() == 0
            && Instant::now() < deadline
            && child.try_wait().expect("wait").is_none()
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(self.proxy.faults() > 0, "pin never asked the registry");
        attack();
        self.gate.open();
        let out = child.wait_with_output().expect("pin output");
        Run {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn running_as_root() -> bool {
    let probe = tempfile::tempfile().unwrap();
    probe.metadata().unwrap().uid() == 0
}

/// What every refused write must say at the end: nothing counted, and exit 2.
fn assert_nothing_pinned(run: &Run, why: &str) {
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains(why), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("pinned 0 references in 0 files; 0 not pinned; 0 registry or advisory problems; 1 file not rewritten"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_file_swapped_for_a_link_while_pin_waits_is_not_followed() {
    for follow in [false, true] {
        let Some(bed) = Bed::new() else { return };
        let held = Held::new(&bed);
        let line = format!("FROM {}/app:1.0\n", held.host());
        let tree = Tree::new().file("Dockerfile", &line);
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("target");
        fs::write(&target, &line).unwrap();
        let args: &[&str] = if follow { &["--follow", "."] } else { &["."] };
        let run = held.pin(&bed, tree.path(), args, || {
            fs::remove_file(tree.join("Dockerfile")).unwrap();
            symlink(&target, tree.join("Dockerfile")).unwrap();
        });
        assert_nothing_pinned(&run, "a symbolic link took the place");
        assert_eq!(
            fs::read_to_string(&target).unwrap(),
            line,
            "follow={follow}"
        );
        assert!(
            fs::symlink_metadata(tree.join("Dockerfile"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}

#[test]
fn a_directory_swapped_for_a_link_while_pin_waits_is_not_followed() {
    for follow in [false, true] {
        let Some(bed) = Bed::new() else { return };
        let held = Held::new(&bed);
        let line = format!("FROM {}/app:1.0\n", held.host());
        let tree = Tree::new().file("ci/Dockerfile", &line);
        // The link leads to a directory with no Dockerfile: none may be created there.
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("other"), "x").unwrap();
        let args: &[&str] = if follow { &["--follow", "."] } else { &["."] };
        let run = held.pin(&bed, tree.path(), args, || {
            fs::rename(tree.join("ci"), tree.join("ci.orig")).unwrap();
            symlink(outside.path(), tree.join("ci")).unwrap();
        });
        assert_nothing_pinned(&run, "a symbolic link took the place");
        assert_eq!(names(outside.path()), ["other"], "follow={follow}");
        assert_eq!(
            fs::read_to_string(tree.join("ci.orig/Dockerfile")).unwrap(),
            line
        );
    }
}

#[test]
fn with_follow_a_link_out_of_the_tree_is_read_but_never_written() {
    let Some(bed) = Bed::new() else { return };
    let line = format!("FROM {}/app:1.0\n", bed.host());
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("Dockerfile");
    fs::write(&target, &line).unwrap();
    let tree = Tree::new().file("Dockerfile", &line);
    fs::create_dir(tree.join("linked")).unwrap();
    symlink(&target, tree.join("linked/Dockerfile")).unwrap();
    let run = bed.run(&["pin", "--follow", "."], tree.path());
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("linked/Dockerfile: not rewritten: reached through a symbolic link"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("pinned 1 reference in 1 file;")
            && run.stderr.contains("1 file not rewritten"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&target).unwrap(), line);
    assert_ne!(fs::read_to_string(tree.join("Dockerfile")).unwrap(), line);
}

#[test]
fn an_edit_made_while_pin_waits_is_kept() {
    let Some(bed) = Bed::new() else { return };
    let held = Held::new(&bed);
    let line = format!("FROM {}/app:1.0\n", held.host());
    let tree = Tree::new().file("Dockerfile", &line);
    let run = held.pin(&bed, tree.path(), &["."], || {
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(tree.join("Dockerfile"))
            .unwrap();
        f.write_all(b"RUN echo edited meanwhile\n").unwrap();
    });
    assert_nothing_pinned(&run, "the file changed since it was read");
    assert_eq!(
        fs::read_to_string(tree.join("Dockerfile")).unwrap(),
        format!("{line}RUN echo edited meanwhile\n")
    );
    // Run again: the edit is read, and pinned with it.
    let run = held.pin(&bed, tree.path(), &["."], || {});
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(tree.join("Dockerfile")).unwrap(),
        format!(
            "FROM {}/app:1.0@{}\nRUN echo edited meanwhile\n",
            held.host(),
            bed.app.digest
        )
    );
    assert!(
        run.stderr.contains("pinned 1 reference in 1 file"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_private_file_is_never_readable_by_others_and_keeps_owner_group_and_setgid() {
    let Some(bed) = Bed::new() else { return };
    let held = Held::new(&bed);
    let h = held.host();
    // Large enough that writing and syncing it takes a while for the watcher to see.
    let mut secret = format!("FROM {h}/app:1.0\n");
    let padding = format!("# {}\n", "s".repeat(200));
    while secret.len() < 12 << 20 {
        secret.push_str(&padding);
    }
    let tree = Tree::new()
        .file("private/Dockerfile", &secret)
        .file("shared/Dockerfile", format!("FROM {h}/app:1.0\n"));
    let private = tree.join("private/Dockerfile");
    let shared = tree.join("shared/Dockerfile");
    fs::set_permissions(&private, fs::Permissions::from_mode(0o600)).unwrap();
    let root = running_as_root();
    if root {
        std::os::unix::fs::chown(&private, Some(4321), Some(4322)).unwrap();
        std::os::unix::fs::chown(&shared, Some(4321), Some(4322)).unwrap();
    }
    // chown clears setgid: set it after.
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o2640)).unwrap();

    // Polls both directories for temporary files and records every mode seen.
    let stop = Arc::new(AtomicBool::new(false));
    let dirs = [tree.join("private"), tree.join("shared")];
    let watcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut seen: Vec<(String, u32)> = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                for dir in &dirs {
                    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
                        let name = e.file_name().to_string_lossy().into_owned();
                        if name.contains(".tagwarden-")
                            && let Ok(m) = fs::symlink_metadata(e.path())
                        {
                            seen.push((name, m.mode() & 0o7777));
                        }
                    }
                }
            }
            seen
        })
    };
    let run = held.pin(
        &bed,
        tree.path(),
        &["--max-file-size", "67108864", "."],
        || {},
    );
    stop.store(true, Ordering::SeqCst);
    let seen = watcher.join().unwrap();
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        seen.iter()
            .any(|(n, _)| n.starts_with(".Dockerfile.tagwarden-")),
        "the watcher never saw a temporary file"
    );
    for (name, mode) in &seen {
        assert_eq!(mode & 0o007, 0, "{name} was {mode:o}: readable by others");
    }
    let m = fs::metadata(&private).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o600);
    let m2 = fs::metadata(&shared).unwrap();
    assert_eq!(m2.mode() & 0o7777, 0o2640);
    if root {
        assert_eq!((m.uid(), m.gid()), (4321, 4322));
        assert_eq!((m2.uid(), m2.gid()), (4321, 4322));
    }
    let digest = &bed.app.digest;
    assert!(
        fs::read_to_string(&private)
            .unwrap()
            .starts_with(&format!("FROM {h}/app:1.0@{digest}\n"))
    );
}

#[test]
fn hard_links_and_read_only_files_are_refused_unless_allowed() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let line = format!("FROM {h}/app:1.0\n");
    let tree = Tree::new()
        .file("linked/Dockerfile", &line)
        .file("ro/Dockerfile", &line);
    // The other name is outside the tree (inside, it would be scanned too).
    let elsewhere = tempfile::tempdir_in(tree.path().parent().unwrap()).unwrap();
    let other = elsewhere.path().join("Dockerfile.copy");
    fs::hard_link(tree.join("linked/Dockerfile"), &other).unwrap();
    let ro = tree.join("ro/Dockerfile");
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o444)).unwrap();

    let run = bed.run(&["pin", "."], tree.path());
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("has 2 hard links"), "{}", run.stderr);
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
    assert!(
        run.stderr.contains("pinned 0 references in 0 files")
            && run.stderr.contains("2 files not rewritten"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_to_string(tree.join("linked/Dockerfile")).unwrap(),
        line
    );
    assert_eq!(fs::read_to_string(&ro).unwrap(), line);

    let run = bed.run(
        &["pin", "--allow-hard-links", "--allow-read-only", "."],
        tree.path(),
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    let pinned = format!("FROM {h}/app:1.0@{}\n", bed.app.digest);
    assert_eq!(
        fs::read_to_string(tree.join("linked/Dockerfile")).unwrap(),
        pinned
    );
    assert_eq!(fs::read_to_string(&ro).unwrap(), pinned);
    // The other name keeps the old file; the read-only file stays read-only.
    assert_eq!(fs::read_to_string(&other).unwrap(), line);
    assert_eq!(fs::metadata(&ro).unwrap().mode() & 0o777, 0o444);
}

#[test]
fn a_killed_runs_temporary_file_is_never_scanned_and_pin_removes_it() {
    let Some(bed) = Bed::new() else { return };
    let h = bed.host();
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let leftover = format!(".Dockerfile.tagwarden-{dead}-0.tmp");
    // PID 1 is alive: its temporary file may be being written, and is left alone.
    let live = ".Dockerfile.tagwarden-1-0.tmp";
    let tree = Tree::new()
        .file("Dockerfile", format!("FROM {h}/app:1.0\n"))
        .file(&leftover, format!("FROM {h}/app:1.0\nFROM {h}/app:half"))
        .file(live, format!("FROM {h}/app:1.0\n"));

    let run = tagwarden(&["scan", "--format", "json", "."], tree.path());
    let json = run.json();
    let paths: Vec<&str> = json["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["Dockerfile"], "{}", run.stdout);
    assert!(
        json["notes"]
            .to_string()
            .contains("a temporary file of a tagwarden run"),
        "{}",
        json["notes"]
    );

    // Skipping it is not a failure to search.
    let run = tagwarden(&["hunt", "--no-engine", "."], tree.path());
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);

    let run = bed.run(&["pin", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("removed, a temporary file left by an interrupted run"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("still going (process 1): left alone"),
        "{}",
        run.stderr
    );
    assert_eq!(names(tree.path()), [live, "Dockerfile"]);
    assert!(
        run.stderr.contains("pinned 1 reference in 1 file"),
        "{}",
        run.stderr
    );
}

/// A tree whose config hides everything: compromised digests in an ignored folder and under an
/// inline ignore comment, every rule and every image ignored.
fn hostile_tree() -> Tree {
    Tree::new()
        .file(
            "tagwarden.toml",
            "[ignore]\nrules = [\"compromised-digest\", \"compromised-action\", \"unpinned-image\"]\nimages = [\"*\"]\npaths = [\"ci\"]\n",
        )
        .file("ci/Dockerfile", format!("FROM checkmarx/kics@{KICS_LATEST_DIGEST}\n"))
        .file(
            "Dockerfile",
            format!("# tagwarden: ignore\nFROM checkmarx/kics@{KICS_LATEST_DIGEST}\nFROM alpine:3.20\n"),
        )
}

fn rules_and_paths(json: &serde_json::Value) -> Vec<(String, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_hostile_config_in_the_tree_cannot_hide_a_compromise_when_the_tree_is_not_trusted() {
    let tree = hostile_tree();
    // Trusted (the default for scan): the config is the team's and hides what it says, but the
    // output says it was applied.
    let run = tagwarden(&["scan", "--format", "json", "."], tree.path());
    assert_eq!(run.status, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(rules_and_paths(&json), []);
    assert!(
        json["notes"]
            .to_string()
            .contains("configuration from the scanned tree applied"),
        "{}",
        json["notes"]
    );

    let want = vec![
        ("compromised-digest".to_string(), "Dockerfile".to_string()),
        (
            "compromised-digest".to_string(),
            "ci/Dockerfile".to_string(),
        ),
    ];
    let run = tagwarden(
        &["scan", "--untrusted-config", "--format", "json", "."],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(rules_and_paths(&json), want);
    assert!(
        json["notes"]
            .to_string()
            .contains("the tree is not trusted")
    );
    // Only the compromised reference of the ignored folder is reported.
    assert_eq!(json["references"].as_array().unwrap().len(), 3);

    let run = tagwarden_env(
        &["scan", "--format", "json", "."],
        tree.path(),
        &[("TAGWARDEN_UNTRUSTED_CONFIG", OsString::from("1"))],
    );
    assert_eq!(rules_and_paths(&run.json()), want);

    // Every format says the config was applied.
    for format in ["human", "sarif", "github"] {
        let run = tagwarden(
            &["scan", "--untrusted-config", "--format", format, "."],
            tree.path(),
        );
        assert_eq!(run.status, 1, "{format}: {}", run.stderr);
        assert!(
            run.stdout.contains("not trusted"),
            "{format}: {}",
            run.stdout
        );
    }

    // A hunt is an incident: the tree is never trusted.
    let run = tagwarden(
        &["hunt", "--no-engine", "--format", "json", "."],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let json = run.json();
    let hits = json["hits"].to_string();
    assert!(
        hits.contains("ci/Dockerfile") && hits.contains("\"Dockerfile:2\""),
        "{hits}"
    );
    assert!(
        json["sources"].to_string().contains("not trusted"),
        "{}",
        json["sources"]
    );
}

#[test]
fn files_a_config_names_must_be_regular_small_and_in_an_untrusted_tree_inside_it() {
    let tree = Tree::new()
        .file(
            "tagwarden.toml",
            "advisories = [\"/dev/zero\", \"fifo.toml\", \"big.toml\"]\n",
        )
        .file("big.toml", vec![b'#'; 17 << 20])
        .file("Dockerfile", "FROM alpine:3.20\n");
    let fifo = tree.join("fifo.toml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let run = tagwarden(&["scan", "--format", "json", "."], tree.path());
    // Each refused at once, with the reason; the scan goes on and exits 2.
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("/dev/zero: a character device, not a regular file"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("fifo.toml: a FIFO, not a regular file"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("big.toml: larger than"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["references"].as_array().unwrap().len(), 1);

    // A config that cannot be read does not stop a hunt: the tree is searched without it.
    let tree = Tree::new().file(
        "Dockerfile",
        format!("FROM checkmarx/kics@{KICS_LATEST_DIGEST}\n"),
    );
    let made = Command::new("mkfifo")
        .arg(tree.join("tagwarden.toml"))
        .status()
        .unwrap();
    assert!(made.success());
    let run = tagwarden(&["hunt", "--no-engine", "."], tree.path());
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("a FIFO, not a regular file: not read; searched without it"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("compromised"), "{}", run.stdout);
    let run = tagwarden(&["scan", "."], tree.path());
    assert_eq!(run.status, 2, "{}", run.stderr);

    // Untrusted, a config may not make tagwarden read (and quote) files outside the tree.
    let secret = tempfile::NamedTempFile::new().unwrap();
    fs::write(secret.path(), "password = \"hunter2\"\n").unwrap();
    let tree = Tree::new()
        .file(
            "tagwarden.toml",
            format!("advisories = [{:?}]\n", secret.path().display().to_string()),
        )
        .file("Dockerfile", "FROM alpine:3.20\n");
    let run = tagwarden(&["hunt", "--no-engine", "."], tree.path());
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is outside the scanned tree: not read"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"));
}

/// A name meant to erase the line above and print a clean verdict in its place.
const FORGED: &str = "\x1b[1A\x1b[2K\rclean: nothing found <img src=x>|x|";

fn assert_no_raw_controls(what: &str, text: &str) {
    assert!(
        !text.contains(['\x1b', '\r', '\x07']),
        "{what} printed a raw control character:\n{text:?}"
    );
}

#[test]
fn escape_sequences_in_file_and_zip_entry_names_reach_no_report_raw() {
    let step = format!("build/1_{FORGED}.txt");
    let log = format!(
        "2026-04-22T12:31:00.0000000Z ##[command]/usr/bin/docker pull checkmarx/kics:latest\n2026-04-22T12:31:01.0000000Z Digest: {KICS_LATEST_DIGEST}\n"
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file(step.as_str(), stored).unwrap();
    zip.write_all(log.as_bytes()).unwrap();
    let zip = zip.finish().unwrap().into_inner();
    let dir: PathBuf = format!("deploy{FORGED}").into();
    let tree = Tree::new()
        .file(
            &dir.join("Dockerfile").to_string_lossy(),
            format!("FROM checkmarx/kics@{KICS_LATEST_DIGEST}\n"),
        )
        .file("logs/run.zip", zip);

    let run = tagwarden(&["scan", "--format", "human", "."], tree.path());
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_no_raw_controls("scan", &run.stdout);
    assert!(
        run.stdout.contains("deploy\\x1b[1A\\x1b[2K\\rclean"),
        "{}",
        run.stdout
    );
    let run = tagwarden(&["scan", "--format", "github", "."], tree.path());
    assert_no_raw_controls("scan --format github", &run.stdout);
    let run = tagwarden(&["pin", "--check", "."], tree.path());
    assert_no_raw_controls("pin --check", &run.stdout);

    let hunt = |format: &str| {
        tagwarden(
            &[
                "hunt",
                "--no-engine",
                "--ci-logs",
                "logs",
                "--format",
                format,
                ".",
            ],
            tree.path(),
        )
    };
    let run = hunt("human");
    assert_eq!(run.status, 1, "{}", run.stderr);
    assert_no_raw_controls("hunt", &run.stdout);
    assert!(
        run.stdout.contains("1_\\x1b[1A\\x1b[2K\\rclean"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("compromised"), "{}", run.stdout);

    let run = hunt("markdown");
    assert_no_raw_controls("hunt markdown", &run.stdout);
    // The names cannot open HTML (only inside code spans, where it is text) or end a table cell.
    let outside_code: String = run.stdout.split('`').step_by(2).collect();
    assert!(
        !outside_code.replace("\\<", "").contains("<img"),
        "{}",
        run.stdout
    );
    for row in run
        .stdout
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("clean"))
    {
        let cells = row.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 8, "a name split the row: {row}");
    }
    let run = hunt("json");
    assert!(run.json()["hits"].to_string().contains("\\u001b[1A"));
}
