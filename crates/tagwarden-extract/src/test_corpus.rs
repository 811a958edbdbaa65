//! The real-world corpus, for extra tests over files the project did not write, when the
//! environment variable `TAGWARDEN_CORPUS` names its directory; without it those tests skip, so
//! the suite passes in a clone with nothing beside it.

use std::path::PathBuf;

use crate::Extraction;

/// The corpus directory, when the environment names one.
pub(crate) fn root() -> Option<PathBuf> {
    std::env::var_os("TAGWARDEN_CORPUS").map(PathBuf::from)
}

/// The directory of one kind's files in the corpus, when there is a corpus.
pub(crate) fn dir(kind: &str) -> Option<PathBuf> {
    root().map(|r| r.join(kind))
}

/// Every file under `corpus/<kind>/`, sorted; empty when the corpus is not checked out.
pub(crate) fn files(kind: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = dir(kind).into_iter().collect();
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                out.push((p, text));
            }
        }
    }
    out.sort();
    out
}

/// The text of one corpus file, by its path below `corpus/`.
pub(crate) fn file(path: &str) -> Option<String> {
    std::fs::read_to_string(root()?.join(path)).ok()
}

/// Runs `extract` over every file of `kind`, checks the span invariant and prints the result.
pub(crate) fn check_all(kind: &str, extract: fn(&str) -> Extraction) -> usize {
    let files = files(kind);
    if files.is_empty() {
        eprintln!("corpus/{kind} not found; skipped");
    }
    let mut total = 0;
    for (path, text) in &files {
        let out = extract(text);
        let name = path.to_string_lossy();
        let name = name.rsplit_once("/corpus/").map_or(&*name, |(_, n)| n);
        println!("== {name}");
        for o in &out.images {
            assert!(
                o.span.end <= text.len() && o.span.start <= o.span.end,
                "{name}"
            );
            assert_eq!(o.text, o.span.of(text), "{name}: span/text invariant");
            assert!(text.is_char_boundary(o.span.start) && text.is_char_boundary(o.span.end));
            let image = match &o.image {
                Ok(i) => i.clone(),
                Err(e) => format!("UNRESOLVED ({})", e.reason),
            };
            println!(
                "  {:>6} {:<30} {:<28} {:?} -> {image}{}",
                o.span.start,
                o.source.as_str(),
                o.context.as_deref().unwrap_or("-"),
                o.text,
                if o.alias_sites.is_empty() {
                    String::new()
                } else {
                    format!(" (+{} alias sites)", o.alias_sites.len())
                }
            );
        }
        for d in &out.diagnostics {
            println!("  diag {:?} at {}: {}", d.kind, d.span.start, d.message);
        }
        total += out.images.len();
    }
    total
}
