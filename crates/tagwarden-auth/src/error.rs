//! Errors that name the file or helper at fault and never carry a secret.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why credentials could not be found. `Display` names the file (with line and column for JSON
/// errors) or the credential helper; it never includes a secret. Cheap to clone, so that a
/// failure can be remembered and given again without running a failing helper twice.
#[derive(Debug, Clone, thiserror::Error)]
#[error(transparent)]
pub struct AuthError {
    kind: Arc<AuthErrorKind>,
}

impl AuthError {
    /// What went wrong, for callers that want to react to a particular case.
    pub fn kind(&self) -> &AuthErrorKind {
        &self.kind
    }

    /// The credentials file involved, if any.
    pub fn path(&self) -> Option<&Path> {
        match &*self.kind {
            AuthErrorKind::ReadFile { path, .. }
            | AuthErrorKind::FileTooLarge { path, .. }
            | AuthErrorKind::MalformedJson { path, .. }
            | AuthErrorKind::InvalidEntry { path, .. }
            | AuthErrorKind::InvalidHelperName { path, .. }
            | AuthErrorKind::HelperNotFound { path, .. } => Some(path),
            AuthErrorKind::HelperSpawn { .. }
            | AuthErrorKind::HelperTimedOut { .. }
            | AuthErrorKind::HelperFailed { .. }
            | AuthErrorKind::HelperOutput { .. } => None,
        }
    }
}

impl From<AuthErrorKind> for AuthError {
    fn from(kind: AuthErrorKind) -> AuthError {
        AuthError {
            kind: Arc::new(kind),
        }
    }
}

/// The cases of [`AuthError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// A credentials file exists but could not be read.
    #[error("cannot read credentials file {}: {error}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
    /// A credentials file is implausibly large.
    #[error("credentials file {} is larger than {limit} bytes", path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// The size limit in bytes.
        limit: u64,
    },
    /// A credentials file (or `$DOCKER_AUTH_CONFIG`) is not valid JSON, or not the shape docker
    /// and podman write.
    #[error("{}:{line}:{column}: invalid credentials JSON: {message}", path.display())]
    MalformedJson {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What is wrong, with any value from the file left out.
        message: String,
    },
    /// An `auths` entry that cannot be decoded.
    #[error("{}: auths entry {key:?}: {reason}", path.display())]
    InvalidEntry {
        /// The file.
        path: PathBuf,
        /// The registry key of the entry, as written.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A `credHelpers` or `credsStore` value that is not a plain program-name suffix.
    #[error("{}: credential helper name {name:?} must not contain a path separator", path.display())]
    InvalidHelperName {
        /// The file naming the helper.
        path: PathBuf,
        /// The helper name as written.
        name: String,
    },
    /// The helper program is not on `PATH`.
    #[error("credential helper {program} not found on PATH (configured in {})", path.display())]
    HelperNotFound {
        /// `docker-credential-<name>`.
        program: String,
        /// The file naming the helper.
        path: PathBuf,
    },
    /// The helper program could not be started.
    #[error("cannot run credential helper {program}: {error}")]
    HelperSpawn {
        /// `docker-credential-<name>`.
        program: String,
        /// The I/O error.
        error: io::Error,
    },
    /// The helper did not finish in time and was killed.
    #[error("credential helper {program} did not answer within {timeout:?} and was stopped")]
    HelperTimedOut {
        /// `docker-credential-<name>`.
        program: String,
        /// The time limit.
        timeout: std::time::Duration,
    },
    /// The helper failed for a reason other than "credentials not found".
    #[error(
        "credential helper {program} failed ({status}){}",
        stderr_suffix(stderr)
    )]
    HelperFailed {
        /// `docker-credential-<name>`.
        program: String,
        /// How it exited.
        status: String,
        /// The first line of its standard error, truncated; its standard output is never shown.
        stderr: String,
    },
    /// The helper succeeded but its output is not the JSON it should print.
    #[error("credential helper {program} printed malformed output: {message}")]
    HelperOutput {
        /// `docker-credential-<name>`.
        program: String,
        /// What is wrong, with any value from the output left out.
        message: String,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}
