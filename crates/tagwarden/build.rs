//! Records the commit the binary is built from, for `tagwarden --version`.
//!
//! `TAGWARDEN_COMMIT` wins (a container build has no `.git`); otherwise `git` is asked, but only
//! when the repository it finds is tagwarden's own (a source tarball unpacked inside someone
//! else's repository must not claim their commit).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=TAGWARDEN_COMMIT");
    let given = std::env::var("TAGWARDEN_COMMIT")
        .ok()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    // It is printed by `--version`: nothing but a plain word goes in.
    let given = given.filter(|c| {
        let plain = c.len() <= 64
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._+".contains(&b));
        if !plain {
            println!("cargo:warning=TAGWARDEN_COMMIT is not a plain word: ignored");
        }
        plain
    });
    let commit = given
        .or_else(from_git)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=TAGWARDEN_COMMIT={commit}");
}

fn git(args: &[&str]) -> Option<String> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let out = Command::new("git")
        .args(args)
        .current_dir(manifest)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn from_git() -> Option<String> {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    let workspace = manifest.parent()?.parent()?.canonicalize().ok()?;
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?);
    if top.canonicalize().ok()? != workspace {
        return None;
    }
    // Rebuild when HEAD moves: the HEAD file, the branch it names, and packed refs.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])?];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &branch])?);
    }
    watched.push(git(&["rev-parse", "--git-path", "packed-refs"])?);
    for path in watched {
        let path = if Path::new(&path).is_absolute() {
            PathBuf::from(path)
        } else {
            manifest.join(path)
        };
        // A path that does not exist would make cargo rerun this script on every build.
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    git(&["rev-parse", "HEAD"])
        .filter(|c| c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()))
}
