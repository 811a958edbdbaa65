//! The CI readers of `tagwarden-exposure` over any text as any CI kind, alone and beside a second
//! file it may include or call: never a panic, every place inside its file, every job's regions
//! inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_exposure::{Tree, TreeFile, jobs};
use tagwarden_extract::FileKind;

/// One kind per CI platform, chosen by the input's first byte, with the path it lives at.
const KINDS: &[(FileKind, &str)] = &[
    (FileKind::GithubWorkflow, ".github/workflows/a.yml"),
    (FileKind::GitlabCi, ".gitlab-ci.yml"),
    (FileKind::Jenkinsfile, "Jenkinsfile"),
    (FileKind::CircleCi, ".circleci/config.yml"),
    (FileKind::AzurePipelines, "azure-pipelines.yml"),
    (FileKind::BitbucketPipelines, "bitbucket-pipelines.yml"),
    (FileKind::Drone, ".drone.yml"),
    (FileKind::Woodpecker, ".woodpecker.yml"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (kind, path) = KINDS[first as usize % KINDS.len()];
    // The text is both the definition and the file it includes or calls.
    let second = match kind {
        FileKind::GithubWorkflow => ".github/workflows/b.yml",
        _ => "ci/b.yml",
    };
    let file = |relative: &str| TreeFile {
        relative: relative.to_string(),
        display: relative.to_string(),
        kind: Some(kind),
        text: text.to_string(),
    };
    let tree = Tree {
        name: "t".into(),
        folder: None,
        files: vec![file(path), file(second)],
    };
    let (found, notes) = jobs(&tree);
    let lines = text.split('\n').count();
    for job in &found {
        for r in &job.regions {
            assert!(r.start <= r.end && r.end <= text.len(), "region out of the text");
        }
        for g in &job.grants {
            assert!(g.at.line >= 1 && g.at.line <= lines && g.at.column >= 1);
        }
    }
    for n in &notes {
        if let Some(at) = &n.at {
            assert!(at.line >= 1 && at.line <= lines);
        }
    }
});
