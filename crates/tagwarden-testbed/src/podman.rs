//! A podman of the test's own: its storage in a temporary directory (vfs, so no overlay mounts
//! are left behind), no systemd, and its Docker-compatible API service on a unix socket there.
//! Flags that work as root in a sandbox without systemd or a cgroup manager.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A podman with its own storage and its API service; the service is stopped when dropped.
pub struct Podman {
    dir: tempfile::TempDir,
    service: Option<Child>,
}

impl Podman {
    /// True when podman is installed. Otherwise prints a loud skip notice, or panics when
    /// `TAGWARDEN_REQUIRE_ENGINE` is set so that CI cannot pass by skipping.
    pub fn available() -> bool {
        if crate::which("podman").is_some() {
            return true;
        }
        assert!(
            std::env::var_os("TAGWARDEN_REQUIRE_ENGINE").is_none(),
            "TAGWARDEN_REQUIRE_ENGINE is set but podman is not installed"
        );
        eprintln!("SKIPPED: podman is not installed (apt-get install podman)");
        false
    }

    /// A podman with empty storage; the API service is not started yet ([`Podman::serve`]).
    pub fn new() -> Podman {
        Podman {
            dir: tempfile::tempdir().expect("temp dir"),
            service: None,
        }
    }

    /// `podman` with this storage and the sandbox-friendly settings.
    pub fn command(&self) -> Command {
        let dir = self.dir.path();
        let mut cmd = Command::new("podman");
        cmd.arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("runroot"))
            .args([
                "--storage-driver",
                "vfs",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file",
            ])
            // Keep podman's own temporary files inside the test directory.
            .env("TMPDIR", dir)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `podman ARGS`; panics with its output when it fails; returns standard output.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("run podman");
        assert!(
            out.status.success(),
            "podman {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The API socket's path.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("podman.sock")
    }

    /// Starts `podman system service` on [`Podman::socket`] and waits until it answers.
    pub fn serve(&mut self) -> &Path {
        if self.service.is_none() {
            let socket = self.socket();
            let child = self
                .command()
                .args(["system", "service", "--time=0"])
                .arg(format!("unix://{}", socket.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start podman system service");
            self.service = Some(child);
            let deadline = Instant::now() + Duration::from_secs(30);
            while std::os::unix::net::UnixStream::connect(&socket).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "podman system service did not come up"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.dir.path()
    }
}

impl Default for Podman {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        if let Some(mut child) = self.service.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
