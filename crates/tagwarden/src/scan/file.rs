//! One file: read it once, decide its kind, extract, judge, and turn spans into locations.

use std::path::Path;

use tagwarden_extract::detect::{self, NameHint};
use tagwarden_extract::{DiagnosticKind, Extraction};
use tagwarden_findings::{ByteSpan, Finding, Location, Note, rules};
use tagwarden_text::LineIndex;

use super::anchor::{self, Anchor};
use super::walk::FileEntry;
use super::{Context, FileOutcome, judge};

/// Bytes looked at for a NUL to call a file binary (git and ripgrep use the same idea).
const BINARY_SNIFF: usize = 8 * 1024;

/// Returns `None` for files no extractor reads (they are not counted).
pub(super) fn process(
    entry: &FileEntry,
    ctx: &Context<'_>,
    anchors: &[Option<Anchor>],
    follow: bool,
) -> Option<FileOutcome> {
    let hint = detect::hint(Path::new(&entry.relative));
    // A path the config ignores is still searched for compromises when the config is guarded.
    let path_ignored = ctx.config.ignores_path(&entry.relative);
    if hint == NameHint::Skip || (path_ignored && !ctx.config.is_guarded()) {
        return None;
    }
    let named = matches!(hint, NameHint::Kind(_));
    let mut out = FileOutcome {
        display_path: entry.display.clone(),
        ..Default::default()
    };
    let skip = |mut out: FileOutcome, message: String| {
        out.notes.push(Note {
            path: Some(entry.display.clone()),
            message,
        });
        Some(out)
    };

    // Size, kind and bytes all come from one descriptor: what is judged is what was read.
    let (file, meta) = match anchor::open_file(anchors, entry, follow)
        .and_then(|f| f.metadata().map(|m| (f, m)))
    {
        Ok(fm) => fm,
        Err(e) => return skip(out, format!("not scanned: cannot read: {e}")),
    };
    if !meta.is_file() {
        return skip(out, "not scanned: not a regular file".to_string());
    }
    let size = meta.len();
    if size > ctx.max_file_size {
        if !named {
            return None;
        }
        return skip(
            out,
            format!(
                "not scanned: {size} bytes is over the {} byte limit (--max-file-size)",
                ctx.max_file_size
            ),
        );
    }
    let bytes = match tagwarden_fs::read_to_limit(&file, ctx.max_file_size) {
        Ok(b) => b,
        Err(e) => return skip(out, format!("not scanned: cannot read: {e}")),
    };
    if memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some() {
        // Unnamed binaries (executables, images without extension) are everywhere; say nothing.
        return if named {
            skip(out, "not scanned: binary file (NUL byte)".to_string())
        } else {
            None
        };
    }
    let (text, invalid_at) = utf8_keeping_offsets(bytes);
    // A file named on the command line keeps its folders (`.github/workflows/ci.yml`): they
    // decide its kind as much as its name does.
    // (`scan ci.yml` from inside `.github/workflows`: the absolute path has them).
    let absolute = entry
        .is_root
        .then(|| std::fs::canonicalize(&entry.path).unwrap_or_else(|_| entry.path.clone()));
    let name = absolute.as_deref().unwrap_or(Path::new(&entry.relative));
    let kind = detect::detect(name, &text)?;
    if let Some(at) = invalid_at {
        out.notes.push(Note {
            path: Some(entry.display.clone()),
            message: format!(
                "invalid UTF-8 at byte {at}; invalid bytes were read as '?' (positions are unchanged)"
            ),
        });
    }
    out.scanned = true;

    let extraction = tagwarden_extract::extract(kind, &text);
    let lines = LineIndex::new(&text);
    let file_text = FileText {
        path: &entry.display,
        text: &text,
        lines: &lines,
    };
    collect(&file_text, &extraction, ctx, &mut out);
    let silenced = |f: &Finding| {
        ctx.config.ignores_rule(f.rule.id)
            || (ctx.config.inline_may_ignore(f.rule.id)
                && file_text.ignored_inline(f.location.line, f.rule.id))
    };
    out.findings.retain(|f| !silenced(f));
    if path_ignored {
        keep_compromises_only(&mut out);
    }
    if ctx.keep_files {
        out.parsed = Some(super::ParsedFile {
            display: entry.display.clone(),
            text,
            kind,
            extraction,
            stamp: tagwarden_fs::Stamp::of(&meta),
            lossy: invalid_at.is_some(),
            target: anchor::target(anchors, entry, follow),
        });
    }
    Some(out)
}

/// In a path a guarded config ignores: only the compromises, and the references they are about.
fn keep_compromises_only(out: &mut FileOutcome) {
    out.findings
        .retain(|f| crate::config::is_compromise(f.rule.id));
    let at: std::collections::HashSet<(usize, usize)> = out
        .findings
        .iter()
        .map(|f| (f.location.line, f.location.column))
        .collect();
    out.references.retain(|r| at.contains(&(r.line, r.column)));
    out.actions.retain(|a| at.contains(&(a.line, a.column)));
    out.notes.clear();
}

/// Decodes UTF-8; each invalid byte becomes `?` so byte offsets still match the file.
fn utf8_keeping_offsets(bytes: Vec<u8>) -> (String, Option<usize>) {
    match String::from_utf8(bytes) {
        Ok(s) => (s, None),
        Err(e) => {
            let first = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            let mut i = 0;
            while i < bytes.len() {
                match std::str::from_utf8(&bytes[i..]) {
                    Ok(_) => break,
                    Err(err) => {
                        i += err.valid_up_to();
                        let bad = err.error_len().unwrap_or(bytes.len() - i);
                        for b in &mut bytes[i..i + bad] {
                            *b = b'?';
                        }
                        i += bad;
                    }
                }
            }
            (String::from_utf8(bytes).unwrap_or_default(), Some(first))
        }
    }
}

/// A file's text with what is needed to locate spans in it.
pub(super) struct FileText<'a> {
    pub(super) path: &'a str,
    pub(super) text: &'a str,
    pub(super) lines: &'a LineIndex,
}

impl FileText<'_> {
    pub(super) fn location(&self, start: usize, end: usize) -> Location {
        let (line, column) = self.lines.line_col(self.text, start);
        let (end_line, end_column) = self.lines.line_col(self.text, end.max(start));
        Location {
            path: self.path.to_string(),
            line,
            column,
            end_line,
            end_column,
            span: Some(ByteSpan { start, end }),
        }
    }

    pub(super) fn line(&self, line: usize) -> String {
        self.lines.line(self.text, line).to_string()
    }

    /// `# tagwarden: ignore[rule, …]` (or a bare `# tagwarden: ignore`) on the line or the one above.
    pub(crate) fn ignored_inline(&self, line: usize, rule: &str) -> bool {
        tagwarden_text::ignored_on_line(self.text, self.lines, line, rule)
    }
}

fn collect(file: &FileText<'_>, ex: &Extraction, ctx: &Context<'_>, out: &mut FileOutcome) {
    for occ in &ex.images {
        judge::image(file, occ, ctx, out);
    }
    for action in &ex.actions {
        judge::action(file, action, ctx, out);
    }
    for d in &ex.diagnostics {
        let loc = file.location(d.span.start, d.span.end);
        match d.kind {
            DiagnosticKind::ParseError => out.findings.push(Finding {
                rule: &rules::PARSE_ERROR,
                severity: rules::PARSE_ERROR.default_severity,
                snippet: Some(file.line(loc.line)),
                location: loc,
                message: d.message.clone(),
                image: None,
                advisory: None,
                notes: vec![
                    "references after this point in the file may be missing from the scan"
                        .to_string(),
                ],
            }),
            DiagnosticKind::Note => out.notes.push(Note {
                path: Some(format!("{}:{}:{}", file.path, loc.line, loc.column)),
                message: d.message.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_keeps_offsets() {
        let (s, at) = utf8_keeping_offsets(b"ab\xffcd\xe2\x82".to_vec());
        assert_eq!(s, "ab?cd??");
        assert_eq!(at, Some(2));
    }
}
