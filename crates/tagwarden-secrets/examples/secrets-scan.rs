//! Scans a tree for credentials the way a command would: a parallel walk that honours
//! `.gitignore` (hidden files included), one [`Scanner`] shared by every thread. Used by
//! `bench/secrets.sh`; not a tagwarden command.
//!
//! ```sh
//! cargo run --release -p tagwarden-secrets --example secrets-scan -- DIR [--jsonl] [-j N]
//! ```
//!
//! Prints one line per match (`path:line:column rule preview fingerprint`, or JSON lines with
//! `--jsonl`), then a summary on standard error. Exit status 1 when something was found.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ignore::{WalkBuilder, WalkState};
use tagwarden_secrets::{Match, Scanner};

fn main() -> std::process::ExitCode {
    let mut root = None;
    let mut jsonl = false;
    let mut threads = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--jsonl" => jsonl = true,
            "-j" => threads = args.next().and_then(|n| n.parse().ok()).unwrap_or(0),
            _ => root = Some(PathBuf::from(a)),
        }
    }
    let Some(root) = root else {
        eprintln!("usage: secrets-scan DIR [--jsonl] [-j N]");
        return std::process::ExitCode::from(2);
    };
    let scanner = match Scanner::builtin() {
        Ok(s) => Arc::new(s),
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return std::process::ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let (files, bytes, found) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let out = Mutex::new(std::io::BufWriter::new(std::io::stdout()));
    WalkBuilder::new(&root)
        .hidden(false)
        .threads(threads)
        .build_parallel()
        .run(|| {
            let scanner = Arc::clone(&scanner);
            let (root, files, bytes, found, out) = (&root, &files, &bytes, &found, &out);
            Box::new(move |entry| {
                let Ok(entry) = entry else {
                    return WalkState::Continue;
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return WalkState::Continue;
                }
                let path = entry.path();
                let Ok(data) = std::fs::read(path) else {
                    return WalkState::Continue;
                };
                files.fetch_add(1, Ordering::Relaxed);
                bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
                let rel = relative(root, path);
                let scan = scanner.scan(&rel, &data);
                if scan.matches.is_empty() {
                    return WalkState::Continue;
                }
                found.fetch_add(scan.matches.len() as u64, Ordering::Relaxed);
                let mut text = Vec::new();
                for m in &scan.matches {
                    line(&mut text, m, jsonl);
                }
                if let Ok(mut o) = out.lock() {
                    let _ = o.write_all(&text);
                }
                WalkState::Continue
            })
        });
    if let Ok(mut o) = out.lock() {
        let _ = o.flush();
    }
    let secs = started.elapsed().as_secs_f64();
    let (files, bytes, found) = (files.into_inner(), bytes.into_inner(), found.into_inner());
    eprintln!(
        "{found} matches in {files} files, {:.1} MB, {secs:.3} s ({:.0} MB/s)",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs.max(1e-9)
    );
    std::process::ExitCode::from(u8::from(found > 0))
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn line(out: &mut Vec<u8>, m: &Match, jsonl: bool) {
    let l = &m.location;
    let _ = if jsonl {
        serde_json::to_writer(&mut *out, m)
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out))
    } else {
        writeln!(
            out,
            "{}:{}:{} {} {} {}",
            l.path, l.line, l.column, m.rule.id, m.preview, m.fingerprint
        )
    };
}
