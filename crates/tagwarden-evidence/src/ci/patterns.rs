//! The lines CI logs print when an image is pulled or an action downloaded, recognised one line
//! at a time. Pure functions over `&str`: no state, no I/O.

use jiff::Timestamp;
use tagwarden_extract::read::shell::flags::engine_option_takes_value;
use tagwarden_reference::{Digest, Reference};

/// Parses a timestamp at the start of `line` (`2026-04-22T12:40:05.1234567Z` and other RFC 3339
/// forms) followed by a space or the end; returns it with the rest of the line and the number of
/// fractional digits written.
pub(crate) fn leading_timestamp(line: &str) -> Option<(Timestamp, &str, usize)> {
    let bytes = line.as_bytes();
    // Cheap shape check before the real parse: `dddd-dd-ddT`.
    if bytes.len() < 20
        || !bytes.get(..4)?.iter().all(u8::is_ascii_digit)
        || bytes.get(4) != Some(&b'-')
        || bytes.get(7) != Some(&b'-')
        || !matches!(bytes.get(10), Some(b'T' | b't'))
    {
        return None;
    }
    let end = line.find([' ', '\t']).unwrap_or(line.len());
    let word = line.get(..end)?;
    let ts: Timestamp = word.parse().ok()?;
    let fraction = word
        .find('.')
        .map(|dot| {
            word.get(dot + 1..)
                .unwrap_or("")
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count()
        })
        .unwrap_or(0);
    let rest = line.get(end..).unwrap_or("");
    Some((ts, rest.strip_prefix([' ', '\t']).unwrap_or(rest), fraction))
}

/// A GitHub Actions line prefix: a UTC timestamp with exactly 7 fractional digits and `Z`.
pub(crate) fn github_prefix(line: &str) -> Option<(Timestamp, &str)> {
    let (ts, rest, fraction) = leading_timestamp(line)?;
    let zulu = line.as_bytes().get(27).is_some_and(|b| *b == b'Z');
    (fraction == 7 && zulu).then_some((ts, rest))
}

/// A line of `gh run view --log`: `<job>\t<step>\t<GitHub timestamp> <text>` → (job, timestamp,
/// text).
pub(crate) fn gh_cli_prefix(line: &str) -> Option<(&str, Timestamp, &str)> {
    let (job, rest) = line.split_once('\t')?;
    let (_step, rest) = rest.split_once('\t')?;
    let (ts, text) = github_prefix(rest)?;
    Some((job, ts, text))
}

/// A GitLab runner line prefix (runner 17+ with `FF_TIMESTAMPS`): a UTC timestamp, then a
/// stream header (`00O`, `01E`, `00O+` for a continuation).
pub(crate) fn gitlab_prefix(line: &str) -> Option<(Timestamp, &str)> {
    let (ts, rest, _) = leading_timestamp(line)?;
    let b = rest.as_bytes();
    let header = b.len() >= 3
        && b.first().is_some_and(u8::is_ascii_hexdigit)
        && b.get(1).is_some_and(u8::is_ascii_hexdigit)
        && matches!(b.get(2), Some(b'O' | b'E'));
    if !header {
        return None;
    }
    let rest = rest.get(3..).unwrap_or("");
    let rest = rest.strip_prefix('+').unwrap_or(rest);
    Some((ts, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// A Jenkins timestamper prefix: `[2026-04-22T12:40:05.123Z] ` (a timestamp) or `12:40:05 ` /
/// `[12:40:05] ` (a time of day without a date: stripped, no timestamp).
pub(crate) fn jenkins_prefix(line: &str) -> (Option<Timestamp>, &str) {
    if let Some(inner) = line.strip_prefix('[')
        && let Some(close) = inner.find(']')
    {
        let word = inner.get(..close).unwrap_or("");
        let rest = inner.get(close + 1..).unwrap_or("");
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        if let Some((ts, tail, _)) = leading_timestamp(word)
            && tail.is_empty()
        {
            return (Some(ts), rest);
        }
        if is_time_of_day(word) {
            return (None, rest);
        }
    }
    if let Some(word) = line.get(..8)
        && is_time_of_day(word)
        && line.as_bytes().get(8) == Some(&b' ')
    {
        return (None, line.get(9..).unwrap_or("").trim_start_matches(' '));
    }
    (None, line)
}

fn is_time_of_day(s: &str) -> bool {
    let b = s.as_bytes();
    let head = b.get(..8).unwrap_or(b"");
    head.len() == 8
        && head.iter().enumerate().all(|(i, c)| {
            if i == 2 || i == 5 {
                *c == b':'
            } else {
                c.is_ascii_digit()
            }
        })
        && (b.len() == 8
            || (b.get(8) == Some(&b'.')
                && b.get(9..).unwrap_or(&[]).iter().all(u8::is_ascii_digit)))
}

/// Removes ANSI escape sequences (CSI, OSC, two-byte escapes) and Jenkins' hidden console
/// notes (`ESC[8m…ESC[0m`, which carry base64 that must not be read as text).
pub(crate) fn strip_ansi(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\u{1b}') {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find('\u{1b}') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let esc = rest.get(i..).unwrap_or("");
        if let Some(hidden) = esc.strip_prefix("\u{1b}[8m") {
            rest = match hidden.find("\u{1b}[0m") {
                Some(j) => hidden.get(j + 4..).unwrap_or(""),
                None => "",
            };
            continue;
        }
        let b = esc.as_bytes();
        let skip = match b.get(1) {
            Some(b'[') => b
                .iter()
                .skip(2)
                .position(|c| (0x40..=0x7e).contains(c))
                .map_or(b.len(), |p| p + 3),
            Some(b']') => {
                let bel = b.iter().position(|c| *c == 0x07).map(|p| p + 1);
                let st = esc.find("\u{1b}\\").filter(|p| *p > 0).map(|p| p + 2);
                match (bel, st) {
                    (Some(x), Some(y)) => x.min(y),
                    (Some(x), None) | (None, Some(x)) => x,
                    (None, None) => b.len(),
                }
            }
            Some(_) => 2,
            None => 1,
        };
        let mut skip = skip.min(esc.len());
        while !esc.is_char_boundary(skip) {
            skip += 1;
        }
        rest = esc.get(skip..).unwrap_or("");
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// `sha256:<64 hex>` (or sha512) at the start of `s`, with the length it spans.
pub(crate) fn digest_at(s: &str) -> Option<(Digest, usize)> {
    let (alg, hex_len) = if s.starts_with("sha256:") {
        ("sha256:", 64)
    } else if s.starts_with("sha512:") {
        ("sha512:", 128)
    } else {
        return None;
    };
    let hex = s.get(alg.len()..)?;
    let n = hex
        .bytes()
        .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        .count();
    if n != hex_len {
        return None;
    }
    let len = alg.len() + n;
    Digest::parse(s.get(..len)?).ok().map(|d| (d, len))
}

/// Characters that can appear in an image reference.
fn is_ref_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@' | '[' | ']')
}

/// A plausible image reference: parses, and is not an option or a path.
pub(crate) fn plausible_reference(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(['-', '/', '.', '$', '{'])
        && s.chars().all(is_ref_char)
        && Reference::parse(s).is_ok()
}

/// Longest name and tag looked back at before an `@sha256:`.
const MAX_REFERENCE: usize = 512;
/// References reported from one line at most.
const MAX_REFERENCES_PER_LINE: usize = 64;

/// Every `name@sha256:<64 hex>` token in a line, as `(reference, digest)`.
pub(crate) fn digest_references(line: &str) -> Vec<(String, Digest)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = line.get(from..).and_then(|s| s.find("@sha")) {
        let at = from + at;
        from = at + 1;
        let Some((digest, len)) = line.get(at + 1..).and_then(digest_at) else {
            continue;
        };
        // Look back a bounded distance: a reference is at most a few hundred bytes, and an
        // unbounded look-back makes a hostile line quadratic.
        let mut window = at.saturating_sub(MAX_REFERENCE);
        while !line.is_char_boundary(window) {
            window += 1;
        }
        let before = line.get(window..at).unwrap_or("");
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !is_ref_char(*c))
            .map(|(i, c)| window + i + c.len_utf8());
        let start = match start {
            Some(s) => s,
            None if window == 0 => 0,
            None => {
                from = at + 1 + len;
                continue;
            }
        };
        let name = line.get(start..at).unwrap_or("");
        let token = line.get(start..at + 1 + len).unwrap_or("");
        if !name.is_empty() && plausible_reference(token) {
            out.push((token.to_string(), digest));
            if out.len() >= MAX_REFERENCES_PER_LINE {
                break;
            }
        }
        from = at + 1 + len;
    }
    out
}

/// Strips how a CI log shows a command being run: `##[command]`, `[command]`, `$ `, `+ `, a
/// GitHub `##[group]Run ` header, a `Run ` step title.
pub(crate) fn command_text(line: &str) -> &str {
    let mut s = line.trim_start();
    for prefix in [
        "##[group]Run ",
        "##[command]",
        "[command]",
        "$ ",
        "+ ",
        "> ",
        "Run ",
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.trim_start();
            break;
        }
    }
    s.strip_prefix("sudo ").unwrap_or(s)
}

/// The image of `docker pull [options] <ref>` (also `docker image pull`, podman, nerdctl,
/// with a path such as `/usr/bin/docker`).
pub(crate) fn pull_command(line: &str) -> Option<&str> {
    let mut words = command_text(line).split_ascii_whitespace();
    let tool = words.next()?;
    let tool = tool.rsplit('/').next().unwrap_or(tool);
    if !matches!(tool, "docker" | "podman" | "nerdctl") {
        return None;
    }
    let mut verb = words.next()?;
    if verb == "image" {
        verb = words.next()?;
    }
    if verb != "pull" {
        return None;
    }
    while let Some(w) = words.next() {
        if w.starts_with('-') {
            // The shell reader's table of the engines' options: `--platform x`, `-q`, …
            if engine_option_takes_value(w, true) {
                words.next();
            }
            continue;
        }
        let w = w.trim_matches(['"', '\'']);
        return plausible_reference(w).then_some(w);
    }
    None
}

/// `<tag>: Pulling from <repository>` → `(repository, tag)`.
pub(crate) fn pulling_from(line: &str) -> Option<(&str, &str)> {
    let (tag, repo) = line.trim().split_once(": Pulling from ")?;
    let repo = repo.trim();
    (!tag.is_empty() && !tag.contains(' ') && !repo.is_empty() && !repo.contains(' '))
        .then_some((repo, tag))
}

/// `Digest: sha256:…` (nothing else on the line).
pub(crate) fn digest_line(line: &str) -> Option<Digest> {
    let rest = line.trim().strip_prefix("Digest:")?.trim();
    let (d, len) = digest_at(rest)?;
    (len == rest.len()).then_some(d)
}

/// `Status: Downloaded newer image for <ref>` / `Status: Image is up to date for <ref>`.
pub(crate) fn status_line(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("Status: ")?;
    let r = rest
        .strip_prefix("Downloaded newer image for ")
        .or_else(|| rest.strip_prefix("Image is up to date for "))?
        .trim();
    plausible_reference(r).then_some(r)
}

/// `Unable to find image '<ref>' locally` (docker run), podman's `Trying to pull <ref>...` or
/// GitHub's `Pull down action image '<ref>'`.
pub(crate) fn pull_announcement(line: &str) -> Option<&str> {
    let line = line.trim();
    let line = line.strip_prefix("##[group]").unwrap_or(line);
    let quoted = if let Some(rest) = line.strip_prefix("Unable to find image '") {
        rest.strip_suffix("' locally")?
    } else if let Some(rest) = line.strip_prefix("Trying to pull ") {
        // podman: never prints the manifest digest of a pull by tag.
        rest.trim_end().trim_end_matches("...")
    } else {
        line.strip_prefix("Pull down action image '")?
            .strip_suffix('\'')?
    };
    plausible_reference(quoted).then_some(quoted)
}

/// GitHub: `Download action repository 'owner/repo@ref' (SHA:<40 hex>)` → (repository, ref,
/// sha). Older runners print no SHA.
pub(crate) fn download_action(line: &str) -> Option<(&str, &str, Option<&str>)> {
    let line = line.trim();
    let line = line.strip_prefix("##[group]").unwrap_or(line);
    let rest = line.strip_prefix("Download action repository '")?;
    let (spec, tail) = rest.split_once('\'')?;
    let (repo, git_ref) = spec.rsplit_once('@')?;
    let sha = tail
        .trim()
        .strip_prefix("(SHA:")
        .and_then(|s| s.strip_suffix(')'))
        .filter(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    (!repo.is_empty() && !git_ref.is_empty()).then_some((repo, git_ref, sha))
}

/// GitHub: `Download immutable action package 'owner/repo@ref'`; the commit follows on a
/// `Source commit SHA:` line.
pub(crate) fn download_immutable_action(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    let line = line.strip_prefix("##[group]").unwrap_or(line);
    let spec = line
        .strip_prefix("Download immutable action package '")?
        .strip_suffix('\'')?;
    let (repo, git_ref) = spec.rsplit_once('@')?;
    (!repo.is_empty() && !git_ref.is_empty()).then_some((repo, git_ref))
}

/// GitLab: `Using docker image sha256:<image id> for <ref> [with digest <name>@sha256:<d>] ...`
/// → (ref, digest). The first hash is the image ID (config digest): never returned.
pub(crate) fn gitlab_using_image(line: &str) -> Option<(&str, Option<Digest>)> {
    let rest = line.trim().strip_prefix("Using docker image ")?;
    let (_, rest) = rest.split_once(" for ")?;
    let rest = rest.trim_end().trim_end_matches("...").trim_end();
    let (reference, digest) = match rest.split_once(" with digest ") {
        Some((r, d)) => {
            let d = d.trim();
            let digest = d
                .rsplit_once('@')
                .and_then(|(_, h)| digest_at(h).filter(|(_, len)| *len == h.len()))
                .map(|(d, _)| d);
            (r.trim(), digest)
        }
        None => (rest, None),
    };
    plausible_reference(reference).then_some((reference, digest))
}

/// The image of a BuildKit step that resolved one: TTY `=> [1/2] FROM <ref>@sha256:…`,
/// `=> => resolve <ref>@sha256:…`, plain `#5 [1/2] FROM <ref>@sha256:…`, `#3 resolve …`.
pub(crate) fn buildkit_images(line: &str) -> Vec<(String, Digest)> {
    let t = line.trim_start();
    let body = if let Some(rest) = t.strip_prefix('#') {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || rest.as_bytes().get(digits) != Some(&b' ') {
            return Vec::new();
        }
        rest.get(digits + 1..).unwrap_or("")
    } else if let Some(rest) = t.strip_prefix("=> ") {
        rest.trim_start_matches("=> ")
    } else {
        return Vec::new();
    };
    let body = body.trim_start().trim_start_matches("CACHED ");
    let is_from = body.starts_with('[') && body.contains("] FROM ");
    if !(is_from || body.starts_with("resolve ") || body.starts_with("FROM ")) {
        return Vec::new();
    }
    digest_references(body)
}

/// Whether a line talks about containers, so a `name@sha256:` token in it is an image.
pub(crate) fn container_context(line: &str) -> bool {
    const WORDS: [&str; 9] = [
        "docker",
        "podman",
        "nerdctl",
        "buildah",
        "skopeo",
        "crictl",
        "image",
        "container",
        "FROM ",
    ];
    WORDS.iter().any(|w| line.contains(w)) || line.contains("Image") || line.contains("pull")
}

/// `docker run`/`podman run`/`docker create` in a line.
pub(crate) fn run_command(line: &str) -> bool {
    let c = command_text(line);
    let mut words = c.split_ascii_whitespace();
    let tool = words.next().unwrap_or("");
    let tool = tool.rsplit('/').next().unwrap_or(tool);
    matches!(tool, "docker" | "podman" | "nerdctl")
        && matches!(words.next(), Some("run" | "create" | "container"))
}

/// GitLab's Kubernetes executor names the job image, never its digest:
/// `Using Kubernetes executor with image <ref> ...`.
pub(crate) fn gitlab_kubernetes_image(line: &str) -> Option<&str> {
    let rest = line
        .trim()
        .strip_prefix("Using Kubernetes executor with image ")?;
    let r = rest.split_once(' ').map_or(rest, |(r, _)| r);
    plausible_reference(r).then_some(r)
}

/// A Docker Engine API progress message as the CLI would print it (`<id>: <status>`).
pub(crate) fn progress_message(line: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let status = v.get("status")?.as_str()?;
    // Never a message inside a message: the caller reads the result as a line again.
    if status.trim_start().starts_with('{') {
        return None;
    }
    match v.get("id").and_then(|i| i.as_str()) {
        Some(id) if status.starts_with("Pulling from ") => Some(format!("{id}: {status}")),
        _ => Some(status.to_string()),
    }
}

/// `docker events`: `<time> image pull <ref> (name=…)` (the time already stripped).
pub(crate) fn docker_event_pull(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("image pull ")?;
    let r = rest.split_once(' ').map_or(rest, |(r, _)| r);
    plausible_reference(r).then_some(r)
}

/// Same image: repository path (ignoring the registry when either side names none) and tag
/// or digest.
pub(crate) fn same_image(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (Ok(x), Ok(y)) = (Reference::parse(a), Reference::parse(b)) else {
        return false;
    };
    let domains_agree = x.domain() == y.domain() || !has_domain(a) || !has_domain(b);
    domains_agree
        && x.path() == y.path()
        && (x.effective_tag() == y.effective_tag()
            || (x.digest().is_some() && x.digest() == y.digest()))
}

/// Whether `reference` names its registry (a first component with `.` or `:`, or `localhost`).
fn has_domain(reference: &str) -> bool {
    match reference.split_once('/') {
        Some((first, _)) => first.contains(['.', ':']) || first == "localhost",
        None => false,
    }
}

/// Whether `reference` is the image `repository` (as `Pulling from` writes it: a path, no
/// registry) at `tag` (a tag, or a digest for pulls by digest).
pub(crate) fn matches_pulling_from(reference: &str, repository: &str, tag: &str) -> bool {
    let Ok(r) = Reference::parse(reference) else {
        return false;
    };
    let path_ok = r.path() == repository
        || r.path() == format!("library/{repository}")
        || r.path().ends_with(&format!("/{repository}"));
    let tag_ok = r.effective_tag() == Some(tag) || r.digest().is_some_and(|d| d.to_string() == tag);
    path_ok && tag_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn github_prefix_needs_seven_digits() {
        let (ts, rest) = github_prefix("2021-12-03T08:01:20.9615234Z Digest: x").unwrap();
        assert_eq!(ts.to_string(), "2021-12-03T08:01:20.9615234Z");
        assert_eq!(rest, "Digest: x");
        assert!(github_prefix("2021-12-03T08:01:20.961523Z 00O x").is_none());
        assert!(github_prefix("2021-12-03T08:01:20Z x").is_none());
        let (job, ts, rest) = gh_cli_prefix(
            "backend\tInitialize containers\t2025-09-23T10:02:50.2732770Z ##[command]x",
        )
        .unwrap();
        assert_eq!((job, rest), ("backend", "##[command]x"));
        assert_eq!(ts.to_string(), "2025-09-23T10:02:50.273277Z");
        let (_, rest) = github_prefix("2021-12-03T08:01:20.9615234Z").unwrap();
        assert_eq!(rest, "");
    }

    #[test]
    fn gitlab_prefixes() {
        let (ts, rest) =
            gitlab_prefix("2026-05-08T09:28:43.725057Z 00O+Preparing the \"shell\" executor")
                .unwrap();
        assert_eq!(ts.as_second(), 1778232523);
        assert_eq!(rest, "Preparing the \"shell\" executor");
        let (_, rest) = gitlab_prefix("2026-05-08T09:28:43.725057Z 01E fatal: x").unwrap();
        assert_eq!(rest, "fatal: x");
        assert!(gitlab_prefix("2026-05-08T09:28:43.725057Z hello").is_none());
    }

    #[test]
    fn jenkins_prefixes() {
        let (ts, rest) = jenkins_prefix("[2026-04-22T12:40:05.123Z] + docker pull a");
        assert_eq!(ts.unwrap().to_string(), "2026-04-22T12:40:05.123Z");
        assert_eq!(rest, "+ docker pull a");
        assert_eq!(
            jenkins_prefix("12:40:05  [Pipeline] sh"),
            (None, "[Pipeline] sh")
        );
        assert_eq!(jenkins_prefix("[12:40:05] x"), (None, "x"));
        assert_eq!(jenkins_prefix("[Pipeline] sh"), (None, "[Pipeline] sh"));
    }

    #[test]
    fn ansi_and_console_notes() {
        assert_eq!(strip_ansi("\u{1b}[36;1mUsing\u{1b}[0;m x"), "Using x");
        assert_eq!(
            strip_ansi("\u{1b}[8mha:////4Kxyz@sha256:\u{1b}[0m[Pipeline] sh"),
            "[Pipeline] sh"
        );
        assert_eq!(strip_ansi("a\u{1b}]0;title\u{7}b"), "ab");
        assert_eq!(strip_ansi("tail\u{1b}["), "tail");
        assert_eq!(strip_ansi("é\u{1b}é"), "é");
    }

    #[test]
    fn references_with_digests() {
        let line = format!("run docker.io/checkmarx/kics@{} and x@sha256:abc", d('a'));
        let refs = digest_references(&line);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].0, format!("docker.io/checkmarx/kics@{}", d('a')));
        let line = format!("image=\"alpine:3.19@{}\"", d('b'));
        assert_eq!(
            digest_references(&line)[0].0,
            format!("alpine:3.19@{}", d('b'))
        );
        assert!(digest_references(&format!("Copying blob {}", d('c'))).is_empty());
    }

    #[test]
    fn pull_commands() {
        assert_eq!(
            pull_command("##[command]/usr/bin/docker pull ghcr.io/github/super-linter:slim-v4"),
            Some("ghcr.io/github/super-linter:slim-v4")
        );
        assert_eq!(
            pull_command("+ docker pull --platform linux/amd64 -q checkmarx/kics:latest"),
            Some("checkmarx/kics:latest")
        );
        assert_eq!(pull_command("$ podman image pull alpine"), Some("alpine"));
        assert_eq!(pull_command("docker pull $IMAGE"), None);
        assert_eq!(pull_command("docker push a"), None);
        assert_eq!(pull_command("echo docker pull a"), None);
    }

    #[test]
    fn docker_pull_lines() {
        assert_eq!(
            pulling_from("slim-v4: Pulling from github/super-linter"),
            Some(("github/super-linter", "slim-v4"))
        );
        assert_eq!(
            digest_line(&format!("Digest: {}", d('a')))
                .unwrap()
                .to_string(),
            d('a')
        );
        assert!(digest_line(&format!("Digest: {}x", d('a'))).is_none());
        assert!(digest_line("Digest: sha256:abc").is_none());
        assert_eq!(
            status_line("Status: Image is up to date for checkmarx/kics:latest"),
            Some("checkmarx/kics:latest")
        );
        assert_eq!(
            pull_announcement("Unable to find image 'checkmarx/kics:latest' locally"),
            Some("checkmarx/kics:latest")
        );
        assert_eq!(
            pull_announcement("Trying to pull docker.io/checkmarx/kics:latest..."),
            Some("docker.io/checkmarx/kics:latest")
        );
        assert_eq!(
            pull_announcement("##[group]Pull down action image 'checkmarx/kics:latest'"),
            Some("checkmarx/kics:latest")
        );
    }

    #[test]
    fn actions() {
        assert_eq!(
            download_action(
                "Download action repository 'github/super-linter@v4' (SHA:563be7dc5568017515b9e700329e9c6d3862f2b7)"
            ),
            Some((
                "github/super-linter",
                "v4",
                Some("563be7dc5568017515b9e700329e9c6d3862f2b7")
            ))
        );
        assert_eq!(
            download_action("Download action repository 'actions/checkout@v2'"),
            Some(("actions/checkout", "v2", None))
        );
        assert_eq!(
            download_immutable_action(
                "##[group]Download immutable action package 'actions/checkout@v4'"
            ),
            Some(("actions/checkout", "v4"))
        );
    }

    #[test]
    fn gitlab_using() {
        let line = format!(
            "Using docker image {} for alpine with digest alpine@{} ...",
            d('1'),
            d('2')
        );
        let (r, digest) = gitlab_using_image(&line).unwrap();
        assert_eq!(r, "alpine");
        assert_eq!(digest.unwrap().to_string(), d('2'));
        let old = format!("Using docker image {} for alpine:latest ...", d('1'));
        assert_eq!(gitlab_using_image(&old), Some(("alpine:latest", None)));
    }

    #[test]
    fn buildkit() {
        let tty = format!(
            "=> [1/2] FROM docker.io/library/alpine:latest@{}  0.0s",
            d('a')
        );
        assert_eq!(buildkit_images(&tty).len(), 1);
        let resolve = format!(
            "=> => resolve docker.io/library/alpine:latest@{}  0.0s",
            d('a')
        );
        assert_eq!(buildkit_images(&resolve).len(), 1);
        let plain = format!("#5 [1/2] FROM docker.io/library/alpine:latest@{}", d('a'));
        assert_eq!(buildkit_images(&plain).len(), 1);
        let plain = format!("#3 resolve docker.io/library/alpine:latest@{} done", d('a'));
        assert_eq!(
            buildkit_images(&plain)[0].0,
            format!("docker.io/library/alpine:latest@{}", d('a'))
        );
        assert!(buildkit_images(&format!("#4 {} 0B / 3.4MB", d('a'))).is_empty());
        assert!(
            buildkit_images("#5 [internal] load metadata for docker.io/library/alpine:latest")
                .is_empty()
        );
    }

    #[test]
    fn image_identity() {
        assert!(same_image(
            "checkmarx/kics:latest",
            "docker.io/checkmarx/kics:latest"
        ));
        assert!(same_image("alpine", "alpine:latest"));
        assert!(same_image(
            "github/super-linter:slim-v4",
            "ghcr.io/github/super-linter:slim-v4"
        ));
        assert!(!same_image("alpine:3", "alpine:latest"));
        assert!(!same_image("quay.io/a/b:1", "ghcr.io/a/b:1"));
        assert!(matches_pulling_from(
            "ghcr.io/github/super-linter:slim-v4",
            "github/super-linter",
            "slim-v4"
        ));
        assert!(matches_pulling_from("alpine", "library/alpine", "latest"));
        assert!(!matches_pulling_from("alpine", "library/alpine", "3"));
    }
}
