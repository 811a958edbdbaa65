//! Text from outside (file names and contents, zip entry names, CI job names, registry and engine
//! messages) made safe to print: one place decides what may reach a terminal or a Markdown
//! report, and every human and Markdown output of every command goes through it.
//!
//! On a terminal, ESC starts a sequence that can move the cursor and erase lines, CR returns to
//! the start of the line, and a newline starts a line that looks like ours: together they can
//! erase a real "compromised" line and forge a "clean" one. Unicode bidirectional overrides
//! reorder what is shown. In Markdown, a `|` ends a table cell, `<` starts HTML, a backtick ends a
//! code span. JSON needs none of this: serde escapes what JSON must.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for a character that must not reach a terminal as itself: C0 controls but tab, DEL,
/// C1 controls, the Unicode line and paragraph separators, and the bidirectional formatting
/// characters (embeddings, overrides, isolates and marks).
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c,
            '\u{2028}' | '\u{2029}'
            | '\u{200E}' | '\u{200F}' | '\u{061C}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}')
}

/// `s` with every [`is_unsafe`] character written as a visible escape (`\n`, `\r`, `\x1b`,
/// `\u{202e}`), so a responder sees that it was there and nothing acts on it.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if !is_unsafe(c) => out.push(c),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` as Markdown text, on one line: [`terminal`]-safe, and every character that could end a
/// table cell, open HTML or an entity, a link, emphasis or code is backslash-escaped (which
/// renders as the character itself, in a table cell or out of one).
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '#' | '!'
        ) {
            out.push('\\');
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    out
}

/// `s` as a Markdown code span, backticks included: the fence is longer than any run of
/// backticks inside, controls are [`terminal`]-escaped, and `|` is escaped so that the span
/// cannot end a table cell (GitHub reads `\|` as `|` inside a table; outside one it shows the
/// backslash, which is the price of one function for both). Table rows are split before code
/// spans are read, so backslashes right before a `|` are doubled: none can unescape it.
pub fn markdown_code(s: &str) -> String {
    let mut body = String::with_capacity(s.len() + 4);
    let mut slashes = 0;
    for c in terminal(s).chars() {
        match c {
            '\\' => slashes += 1,
            '|' => {
                body.push_str(&"\\".repeat(slashes * 2 + 1));
                body.push('|');
                slashes = 0;
            }
            c => {
                body.push_str(&"\\".repeat(slashes));
                body.push(c);
                slashes = 0;
            }
        }
    }
    body.push_str(&"\\".repeat(slashes));
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A span that starts or ends with a backtick needs a space between it and the fence.
    let pad = if body.starts_with('`') || body.ends_with('`') || body.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_what_could_drive_a_terminal() {
        assert!(matches!(terminal("plain ünïcode\ttab"), Cow::Borrowed(_)));
        assert_eq!(
            terminal("a\x1b[2K\rclean\nb\x07\x7f\u{9b}"),
            "a\\x1b[2K\\rclean\\nb\\x07\\x7f\\x9b"
        );
        assert_eq!(terminal("x\u{202e}gnp.exe"), "x\\u{202e}gnp.exe");
        assert_eq!(terminal("\u{2066}\u{2028}"), "\\u{2066}\\u{2028}");
        for c in ['\u{0}', '\u{1b}', '\u{85}', '\u{200f}', '\u{2069}'] {
            assert!(is_unsafe(c), "{c:?}");
        }
        assert!(!is_unsafe('\t') && !is_unsafe('é') && !is_unsafe('€'));
    }

    #[test]
    fn markdown_text_cannot_break_out() {
        assert_eq!(
            markdown("a|b <img src=x> `c` [l](u) &#8238; *e*\nrow"),
            "a\\|b \\<img src=x\\> \\`c\\` \\[l\\](u) \\&\\#8238; \\*e\\*\\nrow"
        );
        assert_eq!(markdown("ghcr.io/a/b:1.0"), "ghcr.io/a/b:1.0");
    }

    /// The invariants the fuzz target checks, over strings drawn from the characters that matter.
    #[test]
    fn no_input_gets_through() {
        const ALPHABET: &[char] = &[
            'a', ' ', '\n', '\r', '\t', '\x1b', '\x07', '\x7f', '\u{9b}', '\u{202e}', '\u{2066}',
            '\u{2028}', '|', '<', '>', '`', '\\', '&', '[', ']', '*', '_', '#', 'é',
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let mut s = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bits = seed;
            for _ in 0..(bits % 12) {
                bits = bits.rotate_right(5);
                s.push(ALPHABET[(bits % ALPHABET.len() as u64) as usize]);
            }
            check(&s);
        }
    }

    /// What no output may contain, whatever the input.
    pub(crate) fn check(s: &str) {
        assert!(!terminal(s).chars().any(is_unsafe), "{s:?}");
        let md = markdown(s);
        assert!(!md.chars().any(is_unsafe), "{s:?}");
        // Every markup character is escaped (an even run of backslashes before it is not).
        let chars: Vec<char> = md.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if matches!(c, '|' | '<' | '`' | '&' | '[' | '*') {
                let slashes = chars[..i].iter().rev().take_while(|&&b| b == '\\').count();
                assert!(slashes % 2 == 1, "{s:?} -> {md:?}");
            }
        }
        let code = markdown_code(s);
        assert!(!code.chars().any(is_unsafe), "{s:?}");
        let fence = code.chars().take_while(|&c| c == '`').count();
        let inner = &code[fence..code.len() - fence];
        assert!(!inner.contains(&"`".repeat(fence)), "{s:?} -> {code:?}");
        let inner: Vec<char> = inner.chars().collect();
        for (i, c) in inner.iter().enumerate() {
            if *c == '|' {
                let slashes = inner[..i].iter().rev().take_while(|&&b| b == '\\').count();
                assert!(slashes % 2 == 1, "{s:?} -> {code:?}");
            }
        }
    }

    #[test]
    fn code_spans_are_fenced_past_any_backticks() {
        assert_eq!(markdown_code("ci.yml:3"), "`ci.yml:3`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x``"), "``` `x`` ```");
        assert_eq!(markdown_code("a|b\nc"), "`a\\|b\\nc`");
        assert_eq!(markdown_code("a\\|b\\c"), "`a\\\\\\|b\\c`");
        assert_eq!(markdown_code(""), "`  `");
    }
}
