//! Where tests find their data: the repository's `testdata/` folder, always there, and material
//! kept beside the project (the real-world corpus and the incident notes in `../shared` of a
//! development checkout), read only when an environment variable names it, so that a clone of
//! the repository on its own passes every test.

use std::path::{Path, PathBuf};

/// Names the real-world configuration corpus; `scripts/test.sh` sets it to `../shared/corpus`
/// when that folder is there.
pub const CORPUS_ENV: &str = "TAGWARDEN_CORPUS";

/// Names the incident notes the built-in advisories are checked against; `scripts/test.sh` sets
/// it to `../shared/incidents` when that folder is there.
pub const INCIDENTS_ENV: &str = "TAGWARDEN_INCIDENTS";

/// A file or folder under the repository's `testdata/`.
pub fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(relative)
}

/// The text of a file under `testdata/`; panics with the path when it cannot be read.
pub fn testdata_text(relative: &str) -> String {
    let path = testdata(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The corpus, or `None` (with a notice) when [`CORPUS_ENV`] is not set.
pub fn corpus() -> Option<PathBuf> {
    named_folder(CORPUS_ENV)
}

/// The incident notes, or `None` (with a notice) when [`INCIDENTS_ENV`] is not set.
pub fn incidents() -> Option<PathBuf> {
    named_folder(INCIDENTS_ENV)
}

/// The folder `var` names. Unset or empty: `None`, and the test skips saying so. Set to
/// something that is not a folder: a failure, since whoever set it wanted those tests run.
fn named_folder(var: &str) -> Option<PathBuf> {
    let value = std::env::var_os(var).filter(|v| !v.is_empty());
    decide_folder(var, value.map(PathBuf::from))
}

fn decide_folder(var: &str, value: Option<PathBuf>) -> Option<PathBuf> {
    let Some(path) = value else {
        eprintln!("SKIPPED: {var} is not set (scripts/test.sh sets it when ../shared is there)");
        return None;
    };
    assert!(
        path.is_dir(),
        "{var} names {}, which is not a folder",
        path.display()
    );
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testdata_is_in_the_repository() {
        assert!(testdata("README.md").is_file());
    }

    #[test]
    fn unset_skips_and_a_folder_is_used() {
        assert_eq!(decide_folder("X", None), None);
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(decide_folder("X", Some(here.clone())), Some(here));
    }

    #[test]
    #[should_panic(expected = "which is not a folder")]
    fn a_missing_folder_fails() {
        decide_folder("X", Some(PathBuf::from("/nonexistent/tagwarden-corpus")));
    }
}
