//! Output escaping: whatever the text (a file name, a zip entry name, a registry message), what
//! reaches a terminal or a Markdown report has no control character, no bidi override, no
//! unescaped markup and no pipe that could end a table cell.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tagwarden_findings::output::escape::{is_unsafe, markdown, markdown_code, terminal};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    assert!(!terminal(s).chars().any(is_unsafe));
    let md: Vec<char> = markdown(s).chars().collect();
    assert!(!md.iter().copied().any(is_unsafe));
    for (i, c) in md.iter().enumerate() {
        if matches!(c, '|' | '<' | '`' | '&' | '[' | '*') {
            let slashes = md[..i].iter().rev().take_while(|&&b| b == '\\').count();
            assert!(slashes % 2 == 1, "{s:?}");
        }
    }
    let code = markdown_code(s);
    assert!(!code.chars().any(is_unsafe));
    let fence = code.chars().take_while(|&c| c == '`').count();
    let inner: Vec<char> = code[fence..code.len() - fence].chars().collect();
    assert!(!String::from_iter(&inner).contains(&"`".repeat(fence)));
    for (i, c) in inner.iter().enumerate() {
        if *c == '|' {
            let slashes = inner[..i].iter().rev().take_while(|&&b| b == '\\').count();
            assert!(slashes % 2 == 1, "{s:?}");
        }
    }
});
