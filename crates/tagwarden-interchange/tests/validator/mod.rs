//! Runs `tests/validate.py` (stix2-validator, PyMISP, sigma-cli) over a work folder, from the
//! Python named by `TAGWARDEN_PYTHON`. Without it the caller skips, unless
//! `TAGWARDEN_REQUIRE_INTERCHANGE_CHECK=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The validators' Python, or `None` to skip (panics when the check is required).
pub(crate) fn python() -> Option<String> {
    match std::env::var("TAGWARDEN_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("TAGWARDEN_REQUIRE_INTERCHANGE_CHECK").as_deref() != Ok("1"),
                "TAGWARDEN_REQUIRE_INTERCHANGE_CHECK=1 but TAGWARDEN_PYTHON is not set"
            );
            eprintln!(
                "skipping: set TAGWARDEN_PYTHON to a Python with the validators (scripts/test.sh does)"
            );
            None
        }
    }
}

/// A fresh work folder under the target's temporary directory.
pub(crate) fn work_dir(name: &str) -> PathBuf {
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    work
}

/// Runs the validators over `work` (with the Sigma schema when given) and fails on any problem.
pub(crate) fn validate(python: &str, work: &Path, sigma_schema: Option<&Path>) {
    let mut cmd = Command::new(python);
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate.py"))
        .arg(work);
    if let Some(schema) = sigma_schema {
        assert!(schema.is_file(), "missing {}", schema.display());
        cmd.arg(schema);
    }
    let out = cmd.output().expect("run validate.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "validators failed:\n{stdout}\n{stderr}"
    );
}
