//! One module per subcommand.

pub(crate) mod scan;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use tagwarden_advisory::{Advisory, AdvisorySet};

use crate::cli::AdvisoryArgs;

/// Loads the built-in advisories and the user's. A bad user file is reported with its line and
/// column and the others still load; the caller exits 2 at the end so CI notices.
pub(crate) fn load_advisories(
    args: &AdvisoryArgs,
    extra: &[PathBuf],
    errors: &mut Vec<String>,
) -> AdvisorySet {
    let mut set = if args.no_builtin_advisories {
        AdvisorySet::empty()
    } else {
        AdvisorySet::builtin()
    };
    for path in args.advisories.iter().chain(extra) {
        match advisory_files(path) {
            Ok(files) => {
                for f in files {
                    if let Err(e) = load_one(&f, &mut set) {
                        errors.push(format!("{e:#}"));
                    }
                }
            }
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    set
}

fn load_one(path: &Path, set: &mut AdvisorySet) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read advisory {}", path.display()))?;
    let advisory = Advisory::from_toml(&path.display().to_string(), &text)?;
    set.add(advisory)?;
    Ok(())
}

/// A file, or the `*.toml` files of a directory in name order.
fn advisory_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read advisory directory {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
            .collect();
        files.sort();
        Ok(files)
    } else if path.exists() {
        Ok(vec![path.to_path_buf()])
    } else {
        anyhow::bail!("advisory path {} does not exist", path.display())
    }
}
