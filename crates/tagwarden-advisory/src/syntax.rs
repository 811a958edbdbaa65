//! The shapes of the advisory format's plain values, shared by the loader and by importers that
//! must decide before writing a value whether the loader will take it.

/// An id, alias or kind: letters, digits, `.`, `_`, `-`; starts with a letter or digit; at most
/// 100 characters.
pub fn is_identifier(s: &str) -> bool {
    s.len() <= 100
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// An image tag: a letter, digit or `_`, then up to 127 letters, digits, `_`, `.` or `-`.
pub fn is_tag(s: &str) -> bool {
    s.len() <= 128
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// A GitHub Action repository, `owner/repo`.
pub fn is_action_repository(s: &str) -> bool {
    crate::action_ref::is_repository(s)
}

/// A platform, `os/arch[/variant]` in lower case.
pub fn is_platform(s: &str) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    (2..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}
