//! The labelled fixture repositories: for each case of `fixtures/expected.toml`, the checklist
//! lists every credential a careful responder would list and nothing else, and no output
//! format holds a planted value or its base64.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use tagwarden_exposure::{Evidence, Tree, TreeFile, TreeSecrets, build, jobs, output, select};
use tagwarden_hunt::{Hit, Matched, Outcome, SourceKind, Verdict};
use tagwarden_secrets::{Scanner, group};

#[derive(serde::Deserialize)]
struct Expected {
    planted: Vec<String>,
    case: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
    tree: String,
    #[serde(default)]
    exposed_runs: Vec<Run>,
    #[serde(default)]
    cleared_runs: Vec<Run>,
    #[serde(default)]
    jobs: Vec<String>,
    exposed: Vec<String>,
    not_exposed: Vec<String>,
}

#[derive(serde::Deserialize)]
struct Run {
    job: String,
    source: String,
    at: Timestamp,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn hit(run: &Run, verdict: Verdict) -> Hit {
    Hit {
        advisory: "kics-2026-04-22".into(),
        verdict,
        source: run.source.parse::<SourceKind>().unwrap(),
        location: "logs/run.log".into(),
        line: Some(2),
        timestamp: Some(run.at),
        matched: Matched::ImageTag {
            repository: "docker.io/checkmarx/kics".into(),
            tag: "latest".into(),
        },
        host: None,
        job: Some(run.job.clone()),
        detail: "pulled docker.io/checkmarx/kics:latest".into(),
        excerpt: None,
    }
}

#[test]
fn every_case_lists_what_a_careful_responder_would_and_nothing_else() {
    let text = std::fs::read_to_string(root().join("expected.toml")).unwrap();
    let expected: Expected = toml::from_str(&text).unwrap();
    let scanner = Scanner::builtin().unwrap();
    for (n, case) in expected.case.iter().enumerate() {
        let dir = root().join(&case.tree);
        let raw: Vec<(String, Vec<u8>)> = common::files(&dir)
            .into_iter()
            .map(|p| {
                let rel = p
                    .strip_prefix(&dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                (rel, std::fs::read(&p).unwrap())
            })
            .collect();
        let mut tree = Tree {
            name: case.tree.clone(),
            folder: None,
            files: Vec::new(),
        };
        let mut matches = Vec::new();
        for (rel, bytes) in &raw {
            matches.extend(scanner.scan(rel, bytes).matches);
            let text = String::from_utf8(bytes.clone()).unwrap();
            let kind = tagwarden_extract::detect(Path::new(rel), &text);
            tree.files.push(TreeFile {
                relative: rel.clone(),
                display: rel.clone(),
                kind,
                text,
            });
        }
        let (all, mut notes) = jobs(&tree);
        let outcome = Outcome::new(
            case.exposed_runs
                .iter()
                .map(|r| hit(r, Verdict::Exposed))
                .collect(),
            vec![],
            vec![],
            vec![],
            vec![],
            0,
        )
        .with_cleared(
            case.cleared_runs
                .iter()
                .map(|r| hit(r, Verdict::Exposed))
                .collect(),
        );
        let hunt =
            (!case.exposed_runs.is_empty() || !case.cleared_runs.is_empty()).then_some(&outcome);
        let (selected, more) = select(
            &all,
            Evidence {
                hunt,
                named: &case.jobs,
                affected: &[],
            },
        );
        notes.extend(more);
        assert!(
            notes.iter().all(|n| !n.message.starts_with("--job")),
            "case {n}: {notes:?}"
        );
        let credentials = group(matches);
        let secrets = [TreeSecrets {
            tree: &case.tree,
            credentials: &credentials,
        }];
        let checklist = build(&all, &selected, &secrets, scanner.rules(), notes);
        let names = |items: &[tagwarden_exposure::Item]| {
            let mut v: Vec<String> = items
                .iter()
                .map(|i| format!("{} {}", i.kind.as_str(), i.name))
                .collect();
            v.sort();
            v
        };
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        assert_eq!(
            names(&checklist.exposed),
            sorted(&case.exposed),
            "case {n} ({}): exposed",
            case.tree
        );
        assert_eq!(
            names(&checklist.not_exposed),
            sorted(&case.not_exposed),
            "case {n} ({}): not exposed",
            case.tree
        );
        for item in &checklist.exposed {
            assert!(
                !item.reasons.is_empty(),
                "case {n}: {} has no reason",
                item.name
            );
            assert!(
                item.rotation.is_some(),
                "case {n}: {} has no rotation",
                item.name
            );
        }
        // No output holds a planted value, nor its base64.
        let mut json = Vec::new();
        output::json::write(&checklist, &mut json).unwrap();
        let rendered = [
            output::human::render(&checklist),
            output::markdown::render(&checklist),
            String::from_utf8(json).unwrap(),
        ];
        let doc: serde_json::Value = serde_json::from_str(&rendered[2]).unwrap();
        let documented = include_str!("../JSON.md");
        let mut keys = Vec::new();
        json_keys(&doc, &mut keys);
        for key in keys {
            assert!(
                documented.contains(&format!("`{key}`")),
                "JSON.md does not document `{key}`"
            );
        }
        for value in &expected.planted {
            for out in &rendered {
                for needle in [value.clone(), base64(value)] {
                    assert!(
                        !out.contains(&needle),
                        "case {n}: an output holds a planted value"
                    );
                }
            }
        }
    }
}

fn json_keys(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                json_keys(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| json_keys(i, out)),
        _ => {}
    }
}

fn base64(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
