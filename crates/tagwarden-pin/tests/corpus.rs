//! Pins every file of the real-world corpus (when `TAGWARDEN_CORPUS` names it) with a synthetic
//! digest: nothing panics, every rewrite passes `verify_rewrite`, and a second plan has nothing
//! left to do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tagwarden_extract::{detect, extract};
use tagwarden_pin::{Skip, apply, edits, plan, unified_diff, verify_rewrite};
use tagwarden_reference::{Digest, Reference};

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn fake(_: &Reference) -> Option<Digest> {
    Digest::parse(&format!("sha256:{}", "b".repeat(64))).ok()
}

/// The reason a skip is counted under: its kind, with the message for `unsupported`.
fn bucket(s: &Skip) -> String {
    match s {
        Skip::Unsupported(why) => format!("unsupported: {why}"),
        other => other.kind().to_string(),
    }
}

#[test]
fn corpus_pins_verify_and_are_idempotent() {
    // The real-world corpus feeds this test only when the environment names it.
    let Some(root) = std::env::var_os("TAGWARDEN_CORPUS").map(PathBuf::from) else {
        eprintln!("no corpus (TAGWARDEN_CORPUS): skipped");
        return;
    };
    let root = root.as_path();
    let mut per_kind: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut reasons: BTreeMap<(&str, String), usize> = BTreeMap::new();
    let (mut files_seen, mut files_changed) = (0, 0);
    let mut failures = Vec::new();
    for path in files(root) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let Some(kind) = detect(rel, &text) else {
            continue;
        };
        files_seen += 1;
        let ex = extract(kind, &text);
        let planned = plan(&text, &ex, &fake);
        let all = edits(&planned);
        let after = match apply(&text, &all) {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{}: apply: {e}", rel.display()));
                continue;
            }
        };
        if after != text {
            files_changed += 1;
            // For review: `TAGWARDEN_PIN_SHOW_DIFF=1 cargo test -p tagwarden-pin --test corpus -- --nocapture`.
            if std::env::var_os("TAGWARDEN_PIN_SHOW_DIFF").is_some() {
                print!("{}", unified_diff(&rel.to_string_lossy(), &text, &after));
            }
        }
        if let Err(e) = verify_rewrite(kind, &text, &after, &all) {
            failures.push(format!("{}: verify: {e}", rel.display()));
            continue;
        }
        let again = plan(&after, &extract(kind, &after), &fake);
        if !edits(&again).is_empty() {
            failures.push(format!("{}: second plan still edits", rel.display()));
        }
        let counts = per_kind.entry(kind.as_str()).or_default();
        for p in &planned {
            match &p.outcome {
                Ok(_) => counts.0 += 1,
                Err(Skip::AlreadyPinned) => counts.1 += 1,
                Err(s) => {
                    counts.2 += 1;
                    *reasons.entry((kind.as_str(), bucket(s))).or_default() += 1;
                }
            }
        }
    }
    println!("{files_seen} files, {files_changed} changed");
    println!(
        "{:<16} {:>7} {:>14} {:>8}",
        "kind", "pinned", "already pinned", "skipped"
    );
    let mut total = (0, 0, 0);
    for (kind, (p, a, s)) in &per_kind {
        println!("{kind:<16} {p:>7} {a:>14} {s:>8}");
        total = (total.0 + p, total.1 + a, total.2 + s);
    }
    println!(
        "{:<16} {:>7} {:>14} {:>8}",
        "total", total.0, total.1, total.2
    );
    println!("skipped by reason:");
    for ((kind, reason), n) in &reasons {
        println!("  {n:>6}  {kind:<16} {reason}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(total.0 > 0, "nothing was pinned");
}
