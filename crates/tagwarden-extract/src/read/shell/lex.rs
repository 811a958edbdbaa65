//! The shell lexer: words (with their quotes, escapes and expansions), command separators, and
//! heredoc bodies, which are skipped as data.

use crate::Span;

#[derive(Debug)]
pub(super) struct Word {
    /// Raw bytes of the word in the script.
    pub(super) start: usize,
    pub(super) end: usize,
    /// The bytes to report: the raw word, or inside the quotes of a wholly quoted word.
    pub(super) inner: (usize, usize),
    /// The value after quote removal, when it has no expansions.
    pub(super) value: Option<String>,
    /// The raw word when it is unquoted and unescaped (for matching keywords and flags).
    pub(super) plain: Option<String>,
    /// True when `inner` spells `value` exactly.
    pub(super) simple: bool,
    /// True when the word holds `$…`, backticks or `${{ … }}`.
    pub(super) dynamic: bool,
}

#[derive(Debug)]
pub(super) enum Tok {
    Word(Word),
    Sep,
}

/// Splits shell text into words and command separators.
pub(super) fn lex(s: &str) -> Vec<Tok> {
    lex_with_heredocs(s).0
}

/// A heredoc body: its bytes and whether the shell expands `$…` in it (unquoted delimiter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heredoc {
    pub body: Span,
    pub expands: bool,
    /// `<<-`: leading tabs are stripped from each line.
    pub strips_tabs: bool,
}

/// [`lex`], and the heredoc bodies it skipped.
pub(super) fn lex_with_heredocs(s: &str) -> (Vec<Tok>, Vec<Heredoc>) {
    let b = s.as_bytes();
    let mut toks = Vec::new();
    let mut heredocs = Vec::new();
    let mut i = 0;
    let mut cur: Option<(usize, String, bool, bool, usize)> = None; // start, value, dynamic, quoted, quote segments
    let mut pending: Vec<(String, bool, bool)> = Vec::new(); // heredoc delimiters of the current line
    let flush = |toks: &mut Vec<Tok>, cur: &mut Option<(usize, String, bool, bool, usize)>, end| {
        if let Some((start, value, dynamic, quoted, segments)) = cur.take() {
            let raw = s.get(start..end).unwrap_or("");
            let plain = (!quoted && !dynamic && !raw.contains('\\')).then(|| raw.to_string());
            let whole_quote = segments == 1
                && raw.len() >= 2
                && (raw.starts_with('"') && raw.ends_with('"')
                    || raw.starts_with('\'') && raw.ends_with('\''));
            let inner = if whole_quote {
                (start + 1, end - 1)
            } else {
                (start, end)
            };
            let simple =
                s.get(inner.0..inner.1) == Some(value.as_str()) && (whole_quote || !quoted);
            toks.push(Tok::Word(Word {
                start,
                end,
                inner,
                value: (!dynamic).then_some(value),
                plain,
                simple,
                dynamic,
            }));
        }
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' => {
                flush(&mut toks, &mut cur, i);
                i += 1;
            }
            b'\\' if matches!(b.get(i + 1), Some(b'\n')) => {
                flush(&mut toks, &mut cur, i);
                i += 2;
            }
            b'\\' if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') => {
                flush(&mut toks, &mut cur, i);
                i += 3;
            }
            b'\n' => {
                flush(&mut toks, &mut cur, i);
                toks.push(Tok::Sep);
                i += 1;
                // The bodies of the line's heredocs follow it: data, not commands.
                for (delimiter, strip_tabs, expands) in pending.drain(..) {
                    let (body_end, next) = heredoc_end(s, i, &delimiter, strip_tabs);
                    heredocs.push(Heredoc {
                        body: Span::new(i, body_end),
                        expands,
                        strips_tabs: strip_tabs,
                    });
                    i = next;
                }
            }
            b';' | b'&' | b'|' | b'(' | b')' => {
                flush(&mut toks, &mut cur, i);
                toks.push(Tok::Sep);
                i += 1;
            }
            b'<' if b.get(i + 1) == Some(&b'<') && b.get(i + 2) != Some(&b'<') => {
                // `<<EOF` / `<<-EOF` / `<<'EOF'`: remember the delimiter; the command goes on.
                flush(&mut toks, &mut cur, i);
                i += 2;
                let strip_tabs = b.get(i) == Some(&b'-');
                i += usize::from(strip_tabs);
                while matches!(b.get(i), Some(b' ' | b'\t')) {
                    i += 1;
                }
                let start = i;
                while i < b.len()
                    && !matches!(
                        b[i],
                        b' ' | b'\t'
                            | b'\r'
                            | b'\n'
                            | b';'
                            | b'|'
                            | b'&'
                            | b'<'
                            | b'>'
                            | b'('
                            | b')'
                    )
                {
                    i += 1;
                }
                let written = s.get(start..i).unwrap_or("");
                let delimiter: String = written
                    .chars()
                    .filter(|c| !matches!(c, '\'' | '"' | '\\'))
                    .collect();
                // A quoted delimiter (`<<'EOF'`) makes the body literal.
                let expands = delimiter.len() == written.len();
                if !delimiter.is_empty() && pending.len() < MAX_HEREDOCS_PER_LINE {
                    pending.push((delimiter, strip_tabs, expands));
                }
            }
            b'<' | b'>' => {
                // A redirection: its target is a word, then the command goes on.
                flush(&mut toks, &mut cur, i);
                i += 1;
                while matches!(b.get(i), Some(b'>' | b'&' | b'<')) {
                    i += 1;
                }
                while matches!(b.get(i), Some(b' ' | b'\t')) {
                    i += 1;
                }
                while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n' | b';' | b'|') {
                    i += 1;
                }
            }
            b'#' if cur.is_none() => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            _ => {
                let w = cur.get_or_insert_with(|| (i, String::new(), false, false, 0));
                match c {
                    b'\'' => {
                        w.3 = true;
                        w.4 += 1;
                        let close = s
                            .get(i + 1..)
                            .and_then(|r| r.find('\''))
                            .map_or(b.len(), |n| i + 1 + n);
                        w.1.push_str(s.get(i + 1..close).unwrap_or(""));
                        i = close + 1;
                    }
                    b'"' => {
                        w.3 = true;
                        w.4 += 1;
                        i += 1;
                        while i < b.len() && b[i] != b'"' {
                            if b[i] == b'\\' && i + 1 < b.len() {
                                // An escape: the value is no longer spelled by the bytes.
                                w.4 += 2;
                                let ch = s.get(i + 1..).and_then(|r| r.chars().next());
                                if let Some(ch) = ch {
                                    if !matches!(ch, '$' | '`' | '"' | '\\' | '\n') {
                                        w.1.push('\\');
                                    }
                                    if ch != '\n' {
                                        w.1.push(ch);
                                    }
                                    i += 1 + ch.len_utf8();
                                } else {
                                    i += 1;
                                }
                                continue;
                            }
                            if b[i] == b'$' || b[i] == b'`' {
                                w.2 = true;
                            }
                            let ch_len = s
                                .get(i..)
                                .and_then(|r| r.chars().next())
                                .map_or(1, char::len_utf8);
                            w.1.push_str(s.get(i..i + ch_len).unwrap_or(""));
                            i += ch_len;
                        }
                        i += 1;
                    }
                    b'\\' => {
                        w.3 = true;
                        w.4 += 2; // never a whole quote
                        if let Some(ch) = s.get(i + 1..).and_then(|r| r.chars().next()) {
                            w.1.push(ch);
                            i += 1 + ch.len_utf8();
                        } else {
                            i += 1;
                        }
                    }
                    b'$' => {
                        w.2 = true;
                        w.4 += 2;
                        i = skip_expansion(s, i);
                    }
                    b'`' => {
                        w.2 = true;
                        w.4 += 2;
                        i = s
                            .get(i + 1..)
                            .and_then(|r| r.find('`'))
                            .map_or(b.len(), |n| i + 2 + n);
                    }
                    _ => {
                        let ch_len = s
                            .get(i..)
                            .and_then(|r| r.chars().next())
                            .map_or(1, char::len_utf8);
                        w.1.push_str(s.get(i..i + ch_len).unwrap_or(""));
                        w.4 += 2;
                        i += ch_len;
                    }
                }
            }
        }
    }
    flush(&mut toks, &mut cur, b.len().min(i));
    (toks, heredocs)
}

/// Heredocs one line may open (`cmd <<A <<B`); more are read as commands (bounded work).
const MAX_HEREDOCS_PER_LINE: usize = 8;

/// Where the body of a heredoc that starts at `i` ends, and the offset after the line that
/// closes it (both the end of the text when no line closes it). With `<<-`, leading tabs of the closing line are ignored.
fn heredoc_end(s: &str, mut i: usize, delimiter: &str, strip_tabs: bool) -> (usize, usize) {
    while let Some(rest) = s.get(i..).filter(|r| !r.is_empty()) {
        let len = rest.find('\n').unwrap_or(rest.len());
        let line = rest.get(..len).unwrap_or("").trim_end_matches('\r');
        let line = if strip_tabs {
            line.trim_start_matches('\t')
        } else {
            line
        };
        let line_start = i;
        i += (len + 1).min(rest.len());
        if line == delimiter {
            return (line_start, i);
        }
    }
    (i, i)
}

/// The end of a `$…` expansion starting at `i`: `${{ … }}`, `$(…)`, `${…}` or `$NAME`.
fn skip_expansion(s: &str, i: usize) -> usize {
    let b = s.as_bytes();
    let rest = s.get(i..).unwrap_or("");
    if rest.starts_with("${{") {
        return rest.find("}}").map_or(b.len(), |n| i + n + 2);
    }
    let (open, close) = match b.get(i + 1) {
        Some(b'(') => (b'(', b')'),
        Some(b'{') => (b'{', b'}'),
        _ => {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            return j.max(i + 1);
        }
    };
    let mut depth = 0usize;
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == open {
            depth += 1;
        } else if b[j] == close {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return j + 1;
            }
        }
        j += 1;
    }
    b.len()
}
