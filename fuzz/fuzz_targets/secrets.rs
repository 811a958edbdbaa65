//! The secret scanner over any bytes under any of the paths that pick a reader (and the rule
//! loader over any text): never a panic, every match inside the file, every preview short.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tagwarden_secrets::{RuleSet, Scanner};

/// One path per reader, chosen by the input's first byte.
const PATHS: &[&str] = &[
    "app/.env",
    "k8s/secret.yaml",
    "home/.kube/config",
    "home/.docker/config.json",
    "infra/terraform.tfstate",
    "infra/main.tf",
    "home/.aws/credentials",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "src/app.py",
    "notes.txt",
    "rules.toml",
];

fuzz_target!(|data: &[u8]| {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    let scanner = SCANNER.get_or_init(|| Scanner::builtin().expect("built-in rules"));
    let Some((&first, rest)) = data.split_first() else { return };
    let path = PATHS[first as usize % PATHS.len()];
    if path == "rules.toml" {
        if let Ok(text) = std::str::from_utf8(rest) {
            if let Err(errors) = RuleSet::from_toml(&[("rules.toml", text)]) {
                assert!(errors.iter().all(|e| e.line >= 1 && e.column >= 1));
            }
        }
        return;
    }
    let found = scanner.scan(path, rest);
    for m in &found.matches {
        let span = m.location.span.expect("a match has a span");
        assert!(span.start <= span.end && span.end <= rest.len(), "{m:?}");
        assert!(m.location.line >= 1 && m.location.column >= 1);
        assert!(m.preview.chars().count() <= 90, "{m:?}");
    }
});
