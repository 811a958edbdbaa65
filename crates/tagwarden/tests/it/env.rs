//! The binary with chosen environment variables on top of a scrubbed environment, for commands
//! that read credentials (DOCKER_CONFIG, HOME, REGISTRY_AUTH_FILE, PATH for credential helpers).

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use crate::common::Run;

/// Runs `tagwarden args…` in `cwd` with only `PATH`, `NO_COLOR` and `envs` set (`envs` wins).
pub(crate) fn tagwarden_env(args: &[&str], cwd: &Path, envs: &[(&str, OsString)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tagwarden"));
    cmd.args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run tagwarden");
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
