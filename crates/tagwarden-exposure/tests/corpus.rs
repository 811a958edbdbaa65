//! The CI readers over the real-world corpus (the folder `TAGWARDEN_CORPUS` names; skipped
//! without it): no panic, every place inside its file, and every GitHub workflow that reads a
//! secret yields at least one secret for a job.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
mod common;

use std::path::Path;

use tagwarden_exposure::{CredentialKind, Tree, TreeFile, ci, jobs};

#[test]
fn corpus_definitions_are_read_without_a_miss() {
    let Some(root) = tagwarden_testbed::corpus() else {
        return;
    };
    let all = common::files(&root);
    let mut per_platform: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for path in all {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let Some(kind) = tagwarden_extract::detect(Path::new(&rel), &text) else {
            continue;
        };
        let Some(platform) = ci::platform(kind) else {
            continue;
        };
        let tree = Tree {
            name: "corpus".into(),
            folder: None,
            files: vec![TreeFile {
                relative: rel.clone(),
                display: rel.clone(),
                kind: Some(kind),
                text: text.clone(),
            }],
        };
        let (found, notes) = jobs(&tree);
        let lines = text.split('\n').count();
        let entry = per_platform.entry(platform.name()).or_default();
        entry.0 += 1;
        entry.1 += found.len();
        for job in &found {
            entry.2 += job.grants.len();
            for g in job
                .grants
                .iter()
                .filter(|g| g.kind == CredentialKind::Secret)
            {
                *names
                    .entry(format!("{}: {}", platform.name(), g.name))
                    .or_default() += 1;
            }
            for g in &job.grants {
                assert!(g.at.line >= 1 && g.at.line <= lines, "{rel}: {g:?}");
            }
        }
        for n in &notes {
            if let Some(at) = &n.at {
                assert!(at.line <= lines, "{rel}: {n}");
            }
        }
        // `secrets.GITHUB_TOKEN` is the job's token, listed as such.
        let reads_secrets =
            tagwarden_extract::read::github_expr::context_reads(&text, 0, "secrets")
                .iter()
                .any(|r| {
                    r.name
                        .as_deref()
                        .is_none_or(|n| !n.eq_ignore_ascii_case("GITHUB_TOKEN"))
                });
        // A workflow only ever called is read through its callers (none here).
        let yaml = tagwarden_extract::yaml::Yaml::parse(&text);
        let on = yaml
            .documents()
            .next()
            .and_then(|d| d.get("on").or_else(|| d.get("true")));
        let called_only = on.is_some_and(|on| {
            on.as_str() == Some("workflow_call")
                || on.entries().iter().map(|(k, _)| *k).eq(["workflow_call"])
        });
        let secret =
            |k: CredentialKind| matches!(k, CredentialKind::Secret | CredentialKind::SecretSet);
        if kind == tagwarden_extract::FileKind::GithubWorkflow
            && reads_secrets
            && !called_only
            && !found
                .iter()
                .any(|j| j.grants.iter().any(|g| secret(g.kind)))
        {
            misses.push(rel);
        }
    }
    // For a reader of the test's output: the secrets named, to judge precision by eye.
    eprintln!(
        "secrets named: {}",
        names.keys().cloned().collect::<Vec<_>>().join(", ")
    );
    for (platform, (files, jobs, grants)) in &per_platform {
        eprintln!("{platform}: {files} files, {jobs} jobs, {grants} grants");
    }
    assert!(
        misses.is_empty(),
        "workflows that read secrets, none found: {misses:#?}"
    );
}
