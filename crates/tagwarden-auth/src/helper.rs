//! Running `docker-credential-<name> get` as docker does: the server URL on stdin, JSON on stdout.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::config::safe_json_message;
use crate::error::AuthErrorKind;
use crate::{Credential, Secret};

/// The user name helpers answer with when the secret is an identity token.
const TOKEN_USERNAME: &str = "<token>";

/// A helper prints a few hundred bytes; more is not an answer worth reading.
const MAX_OUTPUT: u64 = 1024 * 1024;

/// How much of a helper's first stderr line an error message shows.
const MAX_STDERR_CHARS: usize = 200;

/// The program name for a helper name: `desktop` → `docker-credential-desktop`.
pub(crate) fn program_name(name: &str) -> String {
    format!("docker-credential-{name}")
}

/// Whether `name` can only name a program on PATH (docker would run `docker-credential-../x`
/// as a relative path; we refuse).
pub(crate) fn is_plain_name(name: &str) -> bool {
    !name.contains(['/', '\\', '\0'])
}

/// The helper's path in the first `PATH` directory that holds it as an executable file.
pub(crate) fn find_program(program: &str, search_path: Option<&OsStr>) -> Option<PathBuf> {
    let search_path = search_path?;
    std::env::split_paths(search_path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .flat_map(|dir| candidates(&dir, program))
        .find(|candidate| is_executable(candidate))
}

#[cfg(windows)]
fn candidates(dir: &Path, program: &str) -> Vec<PathBuf> {
    vec![dir.join(format!("{program}.exe")), dir.join(program)]
}

#[cfg(not(windows))]
fn candidates(dir: &Path, program: &str) -> Vec<PathBuf> {
    vec![dir.join(program)]
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: Option<Secret>,
}

/// Runs `<path> get` with `server_url` on stdin, without a shell, killing it after `timeout`.
/// `Ok(None)` when the helper says "credentials not found".
pub(crate) fn get(
    path: &Path,
    program: &str,
    server_url: &str,
    timeout: Duration,
) -> Result<Option<Credential>, AuthErrorKind> {
    let mut child = spawn(path).map_err(|error| AuthErrorKind::HelperSpawn {
        program: program.to_owned(),
        error,
    })?;
    // A timeout too large to add is no timeout at all.
    let deadline = Instant::now().checked_add(timeout);
    let stdout = child.stdout.take().map(read_in_background);
    let stderr = child.stderr.take().map(read_in_background);
    if let Some(mut stdin) = child.stdin.take() {
        // A helper may exit without reading its input; that shows in its answer, not here.
        let _ = stdin.write_all(server_url.as_bytes());
    }
    let timed_out = || AuthErrorKind::HelperTimedOut {
        program: program.to_owned(),
        timeout,
    };
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if deadline.is_none_or(|deadline| Instant::now() < deadline) => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Ok(None) => {
                stop(&mut child);
                return Err(timed_out());
            }
            Err(error) => {
                stop(&mut child);
                return Err(AuthErrorKind::HelperSpawn {
                    program: program.to_owned(),
                    error,
                });
            }
        }
    };
    // A grandchild may keep the pipes open after the helper exits: wait for its output a bounded time.
    let grace = deadline
        .map(|deadline| deadline.saturating_duration_since(Instant::now()))
        .unwrap_or(Duration::MAX)
        .max(Duration::from_secs(1));
    let pgid = process_group(&child);
    let collect = |receiver: Option<mpsc::Receiver<Vec<u8>>>| match receiver {
        Some(receiver) => receiver.recv_timeout(grace).map_err(|_| {
            // What still holds the pipe is in the helper's group: stop it too.
            kill_group(pgid);
            timed_out()
        }),
        None => Ok(Vec::new()),
    };
    let not_found = |text: &str| text.to_ascii_lowercase().contains("credentials not found");
    let stdout = collect(stdout)?;
    let stderr = collect(stderr)?;
    let stdout = String::from_utf8_lossy(&stdout);
    let stderr = String::from_utf8_lossy(&stderr);
    if !status.success() {
        // docker-credential-helpers prints "credentials not found in native keychain".
        if not_found(&stdout) || not_found(&stderr) {
            return Ok(None);
        }
        return Err(AuthErrorKind::HelperFailed {
            program: program.to_owned(),
            status: status.to_string(),
            stderr: first_line(&stderr),
        });
    }
    let answer: HelperAnswer = match serde_json::from_str(&stdout) {
        Ok(answer) => answer,
        // Some helpers report a missing credential with exit status 0.
        Err(_) if not_found(&stdout) => return Ok(None),
        Err(error) => {
            return Err(AuthErrorKind::HelperOutput {
                program: program.to_owned(),
                message: safe_json_message(&error),
            });
        }
    };
    let Some(secret) = answer.secret.filter(|secret| !secret.is_empty()) else {
        return Ok(None);
    };
    if answer.username == TOKEN_USERNAME {
        Ok(Some(Credential::IdentityToken(secret)))
    } else {
        Ok(Some(Credential::Basic {
            username: answer.username,
            password: secret,
        }))
    }
}

fn spawn(path: &Path) -> std::io::Result<Child> {
    let mut attempts = 0;
    loop {
        let mut command = Command::new(path);
        command
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A group of its own, so that a timeout stops whatever the helper started as well.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let result = command.spawn();
        match result {
            // A helper just written (by an installer, or a test) can be briefly held open for
            // writing by another thread's fork; exec then fails with ETXTBSY.
            Err(error)
                if error.kind() == std::io::ErrorKind::ExecutableFileBusy && attempts < 20 =>
            {
                attempts += 1;
                thread::sleep(Duration::from_millis(10));
            }
            result => return result,
        }
    }
}

/// The helper's process group (its own pid, as `spawn` made it a group leader).
#[cfg(unix)]
fn process_group(child: &Child) -> Option<rustix::process::Pid> {
    Some(rustix::process::Pid::from_child(child))
}

#[cfg(not(unix))]
fn process_group(_child: &Child) -> Option<()> {
    None
}

#[cfg(unix)]
fn kill_group(pgid: Option<rustix::process::Pid>) {
    if let Some(pgid) = pgid {
        // ESRCH (the group is gone already) is what we want anyway.
        let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_pgid: Option<()>) {}

/// Kills the helper and every process of its group, then reaps the helper.
fn stop(child: &mut Child) {
    kill_group(process_group(child));
    let _ = child.kill();
    let _ = child.wait();
}

fn read_in_background(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.by_ref().take(MAX_OUTPUT).read_to_end(&mut bytes);
        // Keep draining so the helper never blocks on a full pipe.
        let _ = std::io::copy(&mut pipe, &mut std::io::sink());
        let _ = sender.send(bytes);
    });
    receiver
}

fn first_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    let line = line.unwrap_or_default();
    let mut short: String = line.chars().take(MAX_STDERR_CHARS).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_is_trimmed_and_truncated() {
        assert_eq!(
            first_line("\n  error: no keychain \nsecond"),
            "error: no keychain"
        );
        let long = "x".repeat(500);
        assert_eq!(first_line(&long).chars().count(), MAX_STDERR_CHARS + 1);
        assert_eq!(first_line(""), "");
    }

    #[test]
    fn plain_names_only() {
        assert!(is_plain_name("ecr-login"));
        assert!(!is_plain_name("../../bin/sh"));
        assert!(!is_plain_name("a\\b"));
    }

    #[test]
    fn no_search_path_finds_nothing() {
        assert_eq!(find_program("docker-credential-x", None), None);
    }
}
