//! Where users meet tagwarden: `--version`, completions, man pages, the pre-commit hooks' file
//! filter, and tagwarden's own repository passing its own checks.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::tagwarden;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn version_names_the_commit() {
    let run = tagwarden(&["--version"], &repository());
    assert_eq!(run.status, 0, "{}", run.stderr);
    let line = run.stdout.trim();
    let prefix = format!("tagwarden {} (commit ", env!("CARGO_PKG_VERSION"));
    let commit = line
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected --version: {line}"));
    // Built from a git checkout (CI clones), the commit is the one checked out.
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repository())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        Some(head) => assert_eq!(commit, head),
        None => assert_eq!(commit, "unknown"),
    }
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = tagwarden(&["completions", shell], &repository());
        assert_eq!(run.status, 0, "{shell}: {}", run.stderr);
        for word in ["scan", "pin", "verify", "hunt", "advisory", "fail-on"] {
            assert!(run.stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    let bad = tagwarden(&["completions", "tcsh"], &repository());
    assert_eq!(bad.status, 2);
}

#[test]
fn bash_completion_loads_and_completes() {
    let Some(bash) = tagwarden_testbed::which("bash") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("tagwarden.bash");
    std::fs::write(
        &script,
        tagwarden(&["completions", "bash"], &repository()).stdout,
    )
    .unwrap();
    // What bash offers after `tagwarden sc` and after `tagwarden scan --fo`.
    let probe = format!(
        "source {}\n\
         COMP_WORDS=(tagwarden sc); COMP_CWORD=1; _tagwarden tagwarden sc tagwarden; echo \"${{COMPREPLY[*]}}\"\n\
         COMP_WORDS=(tagwarden scan --fo); COMP_CWORD=2; _tagwarden tagwarden --fo scan; echo \"${{COMPREPLY[*]}}\"",
        script.display()
    );
    let out = Command::new(bash).args(["-c", &probe]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("scan"), "{stdout}");
    assert!(lines.next().unwrap_or("").contains("--format"), "{stdout}");
}

#[test]
fn man_pages_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    std::fs::create_dir(&out).unwrap();
    let run = tagwarden(&["man", "--dir", out.to_str().unwrap()], &repository());
    assert_eq!(run.status, 0, "{}", run.stderr);
    for page in [
        "tagwarden.1",
        "tagwarden-scan.1",
        "tagwarden-pin.1",
        "tagwarden-hunt.1",
        "tagwarden-advisory.1",
        "tagwarden-advisory-import.1",
        "tagwarden-completions.1",
    ] {
        let text =
            std::fs::read_to_string(out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        let name = page.trim_end_matches(".1");
        assert!(text.contains(&format!(".TH {name} 1")), "{page}: {text}");
    }
    // The page on standard output is the top-level one, and groff renders it without warnings.
    let page = tagwarden(&["man"], &repository());
    assert_eq!(page.status, 0);
    assert!(page.stdout.contains(".TH tagwarden 1"), "{}", page.stdout);
    assert!(page.stdout.contains("completions"), "{}", page.stdout);
    if let Some(groff) = tagwarden_testbed::which("groff") {
        let rendered = Command::new(groff)
            .args([
                "-man",
                "-Tutf8",
                "-ww",
                "-P-cbou",
                out.join("tagwarden-scan.1").to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(rendered.status.success());
        let text = String::from_utf8_lossy(&rendered.stdout);
        assert!(
            text.contains("--fail-on") || text.contains("‐‐fail‐on"),
            "{text}"
        );
        let warnings = String::from_utf8_lossy(&rendered.stderr);
        assert!(warnings.trim().is_empty(), "groff: {warnings}");
    }
}

#[test]
fn man_dir_that_does_not_exist_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = tagwarden(
        &["man", "--dir", dir.path().join("missing").to_str().unwrap()],
        &repository(),
    );
    assert_eq!(run.status, 2);
    assert!(run.stderr.contains("cannot write"), "{}", run.stderr);
}

/// The extensions the hooks never pass must be ones `scan` never reads, whatever the name's
/// stem or folder: the filter may save a process start, never hide a file.
#[test]
fn pre_commit_exclude_hides_nothing_scan_reads() {
    use tagwarden_extract::detect::{NameHint, hint};
    let hooks = std::fs::read_to_string(repository().join(".pre-commit-hooks.yaml")).unwrap();
    let excludes: Vec<&str> = hooks
        .lines()
        .filter_map(|l| l.trim().strip_prefix("exclude: '\\.("))
        .collect();
    assert_eq!(excludes.len(), 2, "one exclude per hook");
    assert_eq!(excludes[0], excludes[1], "the hooks pass the same files");
    let list = excludes[0].strip_suffix(")$'").expect("exclude shape");
    let stems = [
        "x",
        "Dockerfile",
        "Containerfile",
        "values",
        "docker-compose",
        "compose",
        "Jenkinsfile",
        "kustomization",
        "devcontainer",
        "docker-bake",
        "cloudbuild",
        "task-definition",
        "main.tf",
        "job.nomad",
        "helmfile",
        "skaffold",
        "Makefile",
        ".gitlab-ci",
        "action",
    ];
    let dirs = [
        "",
        ".github/workflows/",
        ".circleci/",
        "helmfile.d/",
        ".woodpecker/",
    ];
    for ext in list.split('|') {
        for stem in stems {
            for dir in dirs {
                let path = format!("{dir}{stem}.{ext}");
                assert_eq!(
                    hint(Path::new(&path)),
                    NameHint::Skip,
                    "the hooks exclude {path}, which scan reads"
                );
            }
        }
    }
}

/// tagwarden's own repository passes its own checks (its config leaves out the test data).
#[test]
fn own_repository_passes_scan_and_pin_check() {
    let root = repository();
    let scan = tagwarden(&["scan", "--fail-on", "low", "."], &root);
    assert_eq!(scan.status, 0, "{}\n{}", scan.stdout, scan.stderr);
    let pin = tagwarden(&["pin", "--check", "."], &root);
    assert_eq!(pin.status, 0, "{}\n{}", pin.stdout, pin.stderr);
}

/// The image's version label is written in the Containerfile: it must follow the crate's.
#[test]
fn containerfile_version_label_is_the_crate_version() {
    let text = std::fs::read_to_string(repository().join("Containerfile")).unwrap();
    let label = format!(
        "org.opencontainers.image.version=\"{}\"",
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains(&label), "Containerfile lacks {label}");
}
