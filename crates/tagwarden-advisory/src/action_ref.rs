//! `owner/repo[/path]@ref` as written in a workflow's `uses:`.

/// True for `owner/repo`: two non-empty segments of letters, digits, `.`, `_` or `-`.
pub(crate) fn is_repository(s: &str) -> bool {
    let mut parts = s.split('/');
    let (Some(owner), Some(repo), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    segment(owner) && segment(repo)
}

fn segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The `owner/repo` an action path belongs to: `owner/repo/sub/dir` → `owner/repo`.
pub(crate) fn repository_of(path: &str) -> Option<&str> {
    let mut slashes = path.match_indices('/').map(|(i, _)| i);
    let first = slashes.next()?;
    let end = slashes.next().unwrap_or(path.len());
    let repo = path.get(..end)?;
    (first > 0 && is_repository(repo)).then_some(repo)
}

/// Splits `owner/repo[/path]@ref` into the repository and the ref.
pub(crate) fn split(s: &str) -> Option<(&str, &str)> {
    let (path, git_ref) = s.split_once('@')?;
    if git_ref.is_empty() || git_ref.chars().any(char::is_whitespace) {
        return None;
    }
    Some((repository_of(path)?, git_ref))
}

/// True for a full 40-hex commit SHA, any case.
pub(crate) fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        assert_eq!(
            split("aquasecurity/trivy-action@0.24.0"),
            Some(("aquasecurity/trivy-action", "0.24.0"))
        );
        assert_eq!(split("a/b/c/d@v1"), Some(("a/b", "v1")));
        assert_eq!(split("a/b@"), None);
        assert_eq!(split("a@v1"), None);
        assert_eq!(split("/b@v1"), None);
        assert_eq!(split("a/b"), None);
        assert!(is_repository("Checkmarx/kics-github-action"));
        assert!(!is_repository("a/b/c"));
        assert!(is_full_sha("57A97C7E7821A5776CEBC9BB87C984FA69CBA8F1"));
        assert!(!is_full_sha("57a97c7"));
    }
}
