//! Decides what kind of file a path holds: by name and path first, then by content, because real
//! trees keep Dockerfiles without extensions and Kubernetes manifests under any name.

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    Dockerfile,
    Compose,
    Kubernetes,
    HelmValues,
    Kustomize,
    GithubWorkflow,
    GithubAction,
    GitlabCi,
}

impl FileKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Dockerfile => "dockerfile",
            Self::Compose => "compose",
            Self::Kubernetes => "kubernetes",
            Self::HelmValues => "helm-values",
            Self::Kustomize => "kustomize",
            Self::GithubWorkflow => "github-workflow",
            Self::GithubAction => "github-action",
            Self::GitlabCi => "gitlab-ci",
        }
    }
}

/// What the name alone says about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameHint {
    /// The name decides the kind.
    Kind(FileKind),
    /// YAML, or a file without extension: the content decides.
    Sniff,
    /// Not a file any extractor reads; don't open it.
    Skip,
}

/// Extensions of files that never hold references we extract (checked before any read).
const SKIP_EXTENSIONS: &[&str] = &[
    "md",
    "txt",
    "rst",
    "adoc",
    "html",
    "htm",
    "css",
    "scss",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "go",
    "rs",
    "py",
    "rb",
    "java",
    "kt",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cs",
    "swift",
    "php",
    "pl",
    "lua",
    "sql",
    "json",
    "jsonc",
    "toml",
    "ini",
    "cfg",
    "conf",
    "xml",
    "svg",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "ico",
    "pdf",
    "zip",
    "gz",
    "tgz",
    "xz",
    "zst",
    "bz2",
    "tar",
    "jar",
    "war",
    "so",
    "a",
    "o",
    "dll",
    "exe",
    "bin",
    "lock",
    "sum",
    "mod",
    "csv",
    "tsv",
    "log",
    "pem",
    "crt",
    "key",
    "pub",
    "tf",
    "hcl",
    "tfvars",
    "sh",
    "bash",
    "zsh",
    "ps1",
    "bat",
    "groovy",
    "gradle",
    "properties",
    "j2",
    "tpl",
    "tmpl",
    "gotmpl",
    "template",
    "proto",
    "graphql",
    "vue",
    "svelte",
    "ipynb",
    "map",
    "wasm",
    "woff",
    "woff2",
    "ttf",
    "eot",
    "otf",
    "mp4",
    "mp3",
    "webp",
    "avif",
    "snap",
    "patch",
    "diff",
    "orig",
    "bak",
    "swp",
];

/// Classifies a path (relative to the scan root) by its name and location.
pub fn hint(path: &Path) -> NameHint {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();

    if is_dockerfile_name(&lower) {
        return NameHint::Kind(FileKind::Dockerfile);
    }

    let ext = lower.rsplit_once('.').map(|(_, e)| e);
    let is_yaml = matches!(ext, Some("yml" | "yaml"));
    if is_yaml {
        let stem = lower.trim_end_matches(".yml").trim_end_matches(".yaml");
        if in_github_workflows(path) {
            return NameHint::Kind(FileKind::GithubWorkflow);
        }
        if stem == "action" {
            return NameHint::Kind(FileKind::GithubAction);
        }
        if stem == "kustomization" {
            return NameHint::Kind(FileKind::Kustomize);
        }
        if stem == ".gitlab-ci" || stem.ends_with(".gitlab-ci") || stem.ends_with("gitlab-ci") {
            return NameHint::Kind(FileKind::GitlabCi);
        }
        if stem.starts_with("docker-compose")
            || stem == "compose"
            || stem.starts_with("compose.")
            || stem.starts_with("compose-")
            || stem.ends_with(".compose")
        {
            return NameHint::Kind(FileKind::Compose);
        }
        if stem == "values" || stem.starts_with("values.") || stem.starts_with("values-") {
            return NameHint::Kind(FileKind::HelmValues);
        }
        return NameHint::Sniff;
    }
    if lower == "kustomization" {
        return NameHint::Kind(FileKind::Kustomize);
    }
    match ext {
        None => NameHint::Sniff,
        Some(e) if SKIP_EXTENSIONS.contains(&e) => NameHint::Skip,
        // Names like `Dockerfile-windows` were handled above; anything else with an unknown
        // extension may still be a fixture named after what it tests (`v1_tag`, `bare`).
        Some(_) => NameHint::Sniff,
    }
}

fn is_dockerfile_name(lower: &str) -> bool {
    const NAMES: &[&str] = &["dockerfile", "containerfile"];
    NAMES.iter().any(|n| {
        lower == *n
            || lower.ends_with(&format!(".{n}"))
            || (lower.starts_with(n)
                && lower[n.len()..].starts_with(['.', '-', '_'])
                && !SKIP_EXTENSIONS.iter().any(|e| {
                    lower.ends_with(&format!(".{e}"))
                        && !matches!(*e, "template" | "j2" | "tpl" | "tmpl")
                }))
    })
}

fn in_github_workflows(path: &Path) -> bool {
    let mut comps = path.components().rev().skip(1);
    matches!(
        (comps.next(), comps.next()),
        (Some(w), Some(g)) if w.as_os_str() == "workflows" && g.as_os_str() == ".github"
    )
}

/// Decides the kind of a file from its path and content. `None`: nothing to extract.
pub fn detect(path: &Path, content: &str) -> Option<FileKind> {
    match hint(path) {
        NameHint::Kind(k) => Some(k),
        NameHint::Skip => None,
        NameHint::Sniff => sniff(path, content),
    }
}

/// Content-based classification for YAML and extension-less files.
pub fn sniff(path: &Path, content: &str) -> Option<FileKind> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let yaml_ext = matches!(ext.as_deref(), Some("yml" | "yaml"));
    if !yaml_ext && looks_like_dockerfile(content) {
        return Some(FileKind::Dockerfile);
    }
    let keys = top_level_keys(content);
    let has = |k: &str| keys.contains(&k);
    if has("apiVersion") && has("kind") {
        if content.contains("kind: Kustomization") {
            return Some(FileKind::Kustomize);
        }
        return Some(FileKind::Kubernetes);
    }
    // A kubectl List or a document stream that starts with a comment or `---`.
    if content.contains("\napiVersion:") && content.contains("\nkind:") {
        return Some(FileKind::Kubernetes);
    }
    let other_ci = [
        "pipelines",
        "workflows",
        "orbs",
        "trigger",
        "pool",
        "steps",
        "kind",
        "pipeline",
    ];
    if has("services") && !has("stages") && !other_ci.iter().any(|k| has(k)) && !has("jobs") {
        return Some(FileKind::Compose);
    }
    let gitlab_keys = [
        "stages",
        "include",
        "default",
        "workflow",
        "before_script",
        "after_script",
        "variables",
        "image",
    ];
    let gitlab_like = gitlab_keys.iter().any(|k| has(k)) || content.contains("\n  script:");
    if gitlab_like
        && !other_ci.iter().any(|k| has(k))
        && !has("jobs")
        && content.contains("script:")
    {
        return Some(FileKind::GitlabCi);
    }
    if yaml_ext && !other_ci.iter().any(|k| has(k)) && has_image_map(content) {
        return Some(FileKind::HelmValues);
    }
    None
}

/// An `image:` key opening a map whose next key is a `repository:`/`registry:`/`tag:` field, the
/// shape Helm charts use (a bare `repository:` elsewhere, as in CI files, is not enough).
fn has_image_map(content: &str) -> bool {
    let mut lines = content.lines();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        let key = t.split(':').next().unwrap_or("");
        if !(key == "image" || key.ends_with("Image")) || !t[key.len()..].trim().eq(":") {
            continue;
        }
        let indent = line.len() - t.len();
        if let Some(next) = lines
            .by_ref()
            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        {
            let nt = next.trim_start();
            let deeper = next.len() - nt.len() > indent;
            if deeper
                && ["repository:", "registry:", "tag:", "name:"]
                    .iter()
                    .any(|k| nt.starts_with(k))
            {
                return true;
            }
        }
    }
    false
}

/// Keys of the top-level mapping (lines starting at column 0 with `key:`).
fn top_level_keys(content: &str) -> Vec<&str> {
    content
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '-']) && !l.is_empty())
        .filter_map(|l| {
            let (k, _) = l.split_once(':')?;
            let k = k.trim().trim_matches(['"', '\'']);
            (!k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)))
            .then_some(k)
        })
        .collect()
}

/// A Dockerfile's first instruction is `FROM` or `ARG` (after comments, directives and blanks).
fn looks_like_dockerfile(content: &str) -> bool {
    let mut saw_from = false;
    for line in content.lines().take(400) {
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let word = t
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match word.as_str() {
            "FROM" => {
                saw_from = true;
                break;
            }
            "ARG" => continue,
            _ => return false,
        }
    }
    saw_from
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(path: &str, content: &str) -> Option<FileKind> {
        detect(Path::new(path), content)
    }

    #[test]
    fn by_name() {
        assert_eq!(d("Dockerfile", ""), Some(FileKind::Dockerfile));
        assert_eq!(
            d("a/Containerfile.with-platform", ""),
            Some(FileKind::Dockerfile)
        );
        assert_eq!(d("x.Dockerfile", ""), Some(FileKind::Dockerfile));
        assert_eq!(d("Dockerfile-windows", ""), Some(FileKind::Dockerfile));
        assert_eq!(d("Dockerfile.md", ""), None);
        assert_eq!(
            d(".github/workflows/ci.yml", ""),
            Some(FileKind::GithubWorkflow)
        );
        assert_eq!(d("x/action.yaml", ""), Some(FileKind::GithubAction));
        assert_eq!(d("docker-compose.prod.yml", ""), Some(FileKind::Compose));
        assert_eq!(d("compose.yaml", ""), Some(FileKind::Compose));
        assert_eq!(d(".gitlab-ci.yml", ""), Some(FileKind::GitlabCi));
        assert_eq!(d("ci/test.gitlab-ci.yml", ""), Some(FileKind::GitlabCi));
        assert_eq!(d("chart/values.yaml", ""), Some(FileKind::HelmValues));
        assert_eq!(d("kustomization.yaml", ""), Some(FileKind::Kustomize));
        assert_eq!(d("main.rs", "FROM x"), None);
    }

    #[test]
    fn by_content() {
        assert_eq!(d("bare", "FROM ubuntu\n"), Some(FileKind::Dockerfile));
        assert_eq!(
            d("bare", "# c\nARG X=1\nFROM ubuntu:$X\n"),
            Some(FileKind::Dockerfile)
        );
        assert_eq!(
            d("pod.yaml", "apiVersion: v1\nkind: Pod\n"),
            Some(FileKind::Kubernetes)
        );
        assert_eq!(
            d("x.yaml", "---\n# c\napiVersion: v1\nkind: Pod\n"),
            Some(FileKind::Kubernetes)
        );
        assert_eq!(
            d("variable", "version: '2'\nservices:\n  a:\n    image: x\n"),
            Some(FileKind::Compose)
        );
        assert_eq!(
            d("rat.yml", "stages: [test]\njob:\n  script: [x]\n"),
            Some(FileKind::GitlabCi)
        );
        assert_eq!(d("notes", "hello world\n"), None);
        assert_eq!(
            d(
                "single-quotes.yaml",
                "image:\n  repository: 'x'\n  tag: '1'\n"
            ),
            Some(FileKind::HelmValues)
        );
    }
}
