//! The labelled fixture repositories: exactly the planted credentials are found (recall and
//! precision 1.0), and no output of any kind holds a planted value or its base64.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use tagwarden_secrets::{FileScan, Scanner, group};

const SPLIT: &str = "{split}";

#[derive(serde::Deserialize)]
struct Expected {
    secret: Vec<Planted>,
}

#[derive(serde::Deserialize)]
struct Planted {
    file: String,
    line: usize,
    rule: String,
    value: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every fixture file as `(path relative to the fixtures, bytes with the split marks removed)`.
fn fixture_files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![root()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(root())
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "expected.toml" || rel == "README.md" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("fixture text");
            out.push((rel, text.replace(SPLIT, "").into_bytes()));
        }
    }
    out.sort();
    out
}

fn expected() -> Vec<Planted> {
    let text = std::fs::read_to_string(root().join("expected.toml")).expect("expected.toml");
    let e: Expected = toml::from_str(&text).expect("expected.toml parses");
    e.secret
        .into_iter()
        .map(|p| Planted {
            value: p.value.replace(SPLIT, ""),
            ..p
        })
        .collect()
}

fn scan_all(scanner: &Scanner) -> Vec<(String, FileScan)> {
    fixture_files()
        .into_iter()
        .map(|(path, bytes)| {
            let found = scanner.scan(&path, &bytes);
            (path, found)
        })
        .collect()
}

#[test]
fn finds_exactly_the_planted_credentials() {
    let scanner = Scanner::builtin().expect("built-in rules");
    let found: BTreeSet<(String, usize, String)> = scan_all(&scanner)
        .iter()
        .flat_map(|(_, scan)| &scan.matches)
        .map(|m| (m.location.path.clone(), m.location.line, m.rule.id.clone()))
        .collect();
    let want: BTreeSet<(String, usize, String)> = expected()
        .into_iter()
        .map(|p| (p.file, p.line, p.rule))
        .collect();
    let missed: Vec<_> = want.difference(&found).collect();
    let extra: Vec<_> = found.difference(&want).collect();
    let hits = want.intersection(&found).count();
    let recall = hits as f64 / want.len() as f64;
    let precision = hits as f64 / found.len().max(1) as f64;
    eprintln!(
        "recall {recall:.3}, precision {precision:.3} ({hits} of {} planted, {} reported)",
        want.len(),
        found.len()
    );
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed (file, line, rule): {missed:#?}\nreported but not planted: {extra:#?}"
    );
}

#[test]
fn no_output_holds_a_planted_value() {
    let scanner = Scanner::builtin().expect("built-in rules");
    let scans = scan_all(&scanner);
    let mut outputs = Vec::new();
    for (_, scan) in &scans {
        outputs.push(serde_json::to_string(scan).expect("json"));
        outputs.push(format!("{scan:?} {scan:#?}"));
        outputs.extend(scan.notes.iter().map(|n| n.to_string()));
    }
    let credentials = group(scans.into_iter().flat_map(|(_, s)| s.matches));
    outputs.push(serde_json::to_string(&credentials).expect("json"));
    outputs.push(format!("{credentials:?} {credentials:#?}"));
    for c in &credentials {
        outputs.push(c.fingerprint.to_string());
        outputs.push(c.preview.clone());
    }
    let all = outputs.join("\n");
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    for p in expected() {
        assert!(
            !all.contains(&p.value),
            "{}:{}: the planted value of {} is in an output",
            p.file,
            p.line,
            p.rule
        );
        for e in engines {
            let encoded = e.encode(&p.value);
            assert!(
                !all.contains(&encoded),
                "{}:{}: the base64 of a planted value is in an output",
                p.file,
                p.line
            );
        }
        // Nor a long piece of it (any run of 18 characters holds one of these windows): a preview
        // shows a format's public prefix (`pypi-AgEIcHl`) and at most 4 other characters.
        let chars: Vec<char> = p.value.chars().collect();
        for w in chars.windows(12).skip(1).step_by(6) {
            let piece: String = w.iter().collect();
            if piece.starts_with("-----")
                || piece.contains("PRIVATE KEY")
                || !piece.chars().any(|c| c.is_ascii_digit())
            {
                continue;
            }
            assert!(
                !all.contains(&piece),
                "{}:{}: 12 characters of a planted value are in an output",
                p.file,
                p.line
            );
        }
    }
}

#[test]
fn credentials_group_across_files_and_pairs() {
    let scanner = Scanner::builtin().expect("built-in rules");
    let token = ["ghp_", "Zq81mXw3Lk9Pv2Tn7Rb4Yc6Hd0Jf5Ge1Ua8S"].concat();
    let key_id = ["AKIA", "Z7KQW2XJ3VBN4MLP"].concat();
    let secret = ["wq8Zr2LmV0xTf7Kp", "W3sNd9Bc6Yh1Ja5Ue4Gi0Oa/"].concat();
    let mut matches = Vec::new();
    matches.extend(
        scanner
            .scan(".env", format!("GITHUB_TOKEN={token}\n").as_bytes())
            .matches,
    );
    matches.extend(
        scanner
            .scan(
                ".git-credentials",
                format!("https://ci:{token}@github.com\n").as_bytes(),
            )
            .matches,
    );
    matches.extend(
        scanner
            .scan(
                "home/.aws/credentials",
                format!("[ci]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n")
                    .as_bytes(),
            )
            .matches,
    );
    let credentials = group(matches);
    let summary: Vec<(String, usize, Vec<String>)> = credentials
        .iter()
        .map(|c| (c.rule.id.clone(), c.occurrences.len(), c.accounts.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "github.pat-classic".to_string(),
                2,
                vec!["ci at github.com".to_string()]
            ),
            (
                "aws.access-key-id".to_string(),
                2,
                vec!["profile ci".to_string()]
            ),
        ]
    );
    assert_eq!(credentials[1].preview, "AKIA…LP");
}

#[test]
fn bad_input_is_noted_and_the_rest_still_read() {
    let scanner = Scanner::builtin().expect("built-in rules");
    let token = ["npm_", "Zq81mXw3Lk9Pv2Tn7Rb4Yc6Hd0Jf5Ge1Ua8S"].concat();
    // A YAML syntax error: the token on a later line is still found, the error is noted.
    let text = format!("a: [unclosed\nb: {{\n  NPM_TOKEN: {token}\n");
    let found = scanner.scan("values.yaml", text.as_bytes());
    assert_eq!(found.matches.len(), 1, "{found:?}");
    assert_eq!(found.matches[0].location.line, 3);
    assert!(
        found
            .notes
            .iter()
            .any(|n| n.to_string().starts_with("values.yaml:")),
        "{:?}",
        found.notes
    );
    // Binary and huge files are skipped with a note.
    assert_eq!(scanner.scan("a.bin", b"\0\x01\x02ghp_").notes.len(), 1);
    let small = Scanner::new(
        tagwarden_secrets::RuleSet::builtin().expect("rules"),
        tagwarden_secrets::Options {
            max_file_size: 10,
            ..Default::default()
        },
    )
    .expect("scanner");
    let big = small.scan("big.env", format!("T={token}").as_bytes());
    assert!(big.matches.is_empty() && big.notes[0].message.contains("more than the limit"));
    // A minified line with thousands of tokens: the matches stop at the limit, with a note.
    let line = format!("é {token} ").repeat(5000);
    let many = scanner.scan("bundle.min.js", line.as_bytes());
    assert_eq!(many.matches.len(), 1000);
    assert_eq!(many.matches[999].location.column, 999 * 43 + 3);
    assert!(
        many.notes
            .iter()
            .any(|n| n.kind == tagwarden_secrets::NoteKind::Truncated)
    );
    // Invalid UTF-8 around a token keeps its column.
    let mut bytes = b"\xff\xfeX=".to_vec();
    bytes.extend(token.as_bytes());
    let found = scanner.scan("x.txt", &bytes);
    assert_eq!(found.matches[0].location.column, 5);
}

#[test]
fn scanner_is_shared_between_threads_and_fingerprints_can_be_keyed() {
    fn shared<T: Send + Sync>() {}
    shared::<Scanner>();
    shared::<tagwarden_secrets::Match>();
    let token = ["ghp_", "Zq81mXw3Lk9Pv2Tn7Rb4Yc6Hd0Jf5Ge1Ua8S"].concat();
    let text = format!("GITHUB_TOKEN={token}\n");
    let plain = Scanner::builtin()
        .expect("rules")
        .scan(".env", text.as_bytes());
    let keyed = Scanner::new(
        tagwarden_secrets::RuleSet::builtin().expect("rules"),
        tagwarden_secrets::Options {
            fingerprint_key: Some(b"incident-42".to_vec()),
            ..Default::default()
        },
    )
    .expect("scanner")
    .scan(".env", text.as_bytes());
    assert_ne!(plain.matches[0].fingerprint, keyed.matches[0].fingerprint);
    assert_eq!(plain.matches[0].preview, keyed.matches[0].preview);
}
