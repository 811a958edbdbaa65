//! Cross-checks the built-in advisories against the incident notes (`../shared/incidents` in a
//! development checkout, named by `TAGWARDEN_INCIDENTS`; skipped without it): every published
//! digest and SHA is shipped, and nothing is shipped that the notes do not contain.

use std::collections::BTreeSet;

use tagwarden_advisory::{AdvisorySet, BUILTIN_FILES};

/// A file of the incident notes, or `None` when they are not here (the test skips).
fn read(name: &str) -> Option<String> {
    let path = tagwarden_testbed::incidents()?.join(name);
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Maximal runs of lower-case hex digits of exactly `len` characters.
fn hex_runs(text: &str, len: usize) -> BTreeSet<String> {
    let lower = text.to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|run| run.len() == len)
        .map(str::to_string)
        .collect()
}

/// Every digest, commit and file hash the built-in advisories carry, lower-case hex.
fn shipped() -> BTreeSet<String> {
    let set = AdvisorySet::builtin();
    let mut out = BTreeSet::new();
    for a in set.advisories() {
        out.extend(
            a.malicious_digests
                .iter()
                .map(|d| d.digest.hex().to_string()),
        );
        out.extend(
            a.known_good_digests
                .iter()
                .map(|d| d.digest.hex().to_string()),
        );
        for action in &a.actions {
            out.extend(action.malicious_commits.iter().map(|c| c.sha.clone()));
            out.extend(action.known_good_commits.iter().map(|c| c.sha.clone()));
        }
        for f in &a.file_hashes {
            out.insert(f.sha256.clone());
            out.extend(f.sha1.clone());
            out.extend(f.md5.clone());
        }
    }
    out
}

#[test]
fn every_readme_digest_and_sha_is_shipped() {
    let Some(readme) = read("README.md") else {
        return;
    };
    let shipped = shipped();
    let digests = hex_runs(&readme, 64);
    let shas = hex_runs(&readme, 40);
    // kics: 9 malicious, 1 known good, 1 binary; trivy: 15 malicious (one disputed), 1 signature,
    // 1 known good. SHAs: trivy-action 0.35.0, two setup-trivy, one kics-github-action. Exact, so
    // that a change to the notes forces a look at the advisories.
    assert_eq!(digests.len(), 28);
    assert_eq!(shas.len(), 4);
    let missing: Vec<&String> = digests
        .union(&shas)
        .filter(|h| !shipped.contains(*h))
        .collect();
    assert!(
        missing.is_empty(),
        "in README.md but not shipped: {missing:#?}"
    );
}

#[test]
fn every_trivy_action_sha_is_shipped() {
    let Some(list) = read("trivy_action_malicious_shas.txt") else {
        return;
    };
    let expected: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(expected.len(), 75);
    let set = AdvisorySet::builtin();
    let trivy_action = set
        .advisories()
        .iter()
        .flat_map(|a| &a.actions)
        .find(|a| a.repository == "aquasecurity/trivy-action")
        .expect("trivy-action advisory");
    let shipped: Vec<&str> = trivy_action
        .malicious_commits
        .iter()
        .map(|c| c.sha.as_str())
        .collect();
    // Same SHAs in the same order, so a reviewer can diff the two lists.
    assert_eq!(shipped, expected);
    for sha in &expected {
        let m = set.match_action("aquasecurity/trivy-action", sha);
        assert_eq!(m.len(), 1, "{sha}");
    }
}

#[test]
fn nothing_shipped_that_the_notes_do_not_contain() {
    let Some(notes) = [
        "README.md",
        "research-2026-11.md",
        "trivy_action_malicious_shas.txt",
    ]
    .into_iter()
    .map(read)
    .collect::<Option<Vec<String>>>() else {
        return;
    };
    let notes = notes.join("\n");
    let known: BTreeSet<String> = [32, 40, 64]
        .into_iter()
        .flat_map(|len| hex_runs(&notes, len))
        .collect();
    for (path, text) in BUILTIN_FILES {
        for len in [32, 40, 64] {
            for run in hex_runs(text, len) {
                assert!(
                    known.contains(&run),
                    "{path}: {run} does not appear in the incident notes"
                );
            }
        }
    }
    for value in shipped() {
        assert!(
            known.contains(&value),
            "{value} does not appear in the incident notes"
        );
    }
}

#[test]
fn readme_digests_match_by_digest() {
    let Some(readme) = read("README.md") else {
        return;
    };
    let set = AdvisorySet::builtin();
    for hex in hex_runs(&readme, 64) {
        let Ok(d) = tagwarden_reference::Digest::parse(&format!("sha256:{hex}")) else {
            continue;
        };
        if readme.contains(&format!("sha256:{hex}")) {
            assert!(
                !set.match_digest(&d).is_empty(),
                "sha256:{hex} matches nothing"
            );
        }
    }
}
