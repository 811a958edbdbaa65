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
    /// `.circleci/config.yml`
    CircleCi,
    /// `azure-pipelines*.yml`, or a YAML with Azure's top-level keys
    AzurePipelines,
    /// `bitbucket-pipelines.yml`
    BitbucketPipelines,
    /// `Jenkinsfile`, `*.jenkinsfile`, `*.groovy`
    Jenkinsfile,
    /// `.drone.yml`
    Drone,
    /// `.woodpecker.yml`, `.woodpecker/*.yml`
    Woodpecker,
    /// `cloudbuild*.yaml` / `.json`
    CloudBuild,
    /// `devcontainer.json`, `.devcontainer.json` (JSON with comments)
    Devcontainer,
    /// Podman Quadlet units: `*.container`, `*.image`, `*.volume`, `*.build`, `*.pod`, `*.kube`
    Quadlet,
    /// `docker-bake*.hcl` / `docker-bake*.json`
    Bake,
    /// `*.tf`, `*.tf.json`
    Terraform,
    /// Nomad jobspecs: `*.nomad`, `*.nomad.hcl`
    Nomad,
    /// An ECS task or container definition in JSON (`*task-definition*.json`, `*container-definitions*.json`)
    EcsTaskDefinition,
    /// `skaffold*.yaml`, or `apiVersion: skaffold/…`
    Skaffold,
    /// `helmfile*.yaml`, `helmfile.d/*.yaml`
    Helmfile,
    /// `*.sh`, `*.bash`, or a file whose first line is a `sh`/`bash` shebang
    ShellScript,
    /// `Makefile`, `GNUmakefile`, `*.mk`
    Makefile,
}

impl FileKind {
    /// True for the kinds written in YAML.
    pub fn is_yaml(&self) -> bool {
        matches!(
            self,
            Self::Compose
                | Self::Kubernetes
                | Self::HelmValues
                | Self::Kustomize
                | Self::GithubWorkflow
                | Self::GithubAction
                | Self::GitlabCi
                | Self::CircleCi
                | Self::AzurePipelines
                | Self::BitbucketPipelines
                | Self::Drone
                | Self::Woodpecker
                | Self::CloudBuild
                | Self::Skaffold
                | Self::Helmfile
        )
    }

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
            Self::CircleCi => "circleci",
            Self::AzurePipelines => "azure-pipelines",
            Self::BitbucketPipelines => "bitbucket-pipelines",
            Self::Jenkinsfile => "jenkinsfile",
            Self::Drone => "drone",
            Self::Woodpecker => "woodpecker",
            Self::CloudBuild => "cloudbuild",
            Self::Devcontainer => "devcontainer",
            Self::Quadlet => "quadlet",
            Self::Bake => "bake",
            Self::Terraform => "terraform",
            Self::Nomad => "nomad",
            Self::EcsTaskDefinition => "ecs-task-definition",
            Self::Skaffold => "skaffold",
            Self::Helmfile => "helmfile",
            Self::ShellScript => "shell-script",
            Self::Makefile => "makefile",
        }
    }

    /// Every kind, in a stable order (for fuzzing and documentation).
    pub const ALL: &'static [FileKind] = &[
        Self::Dockerfile,
        Self::Compose,
        Self::Kubernetes,
        Self::HelmValues,
        Self::Kustomize,
        Self::GithubWorkflow,
        Self::GithubAction,
        Self::GitlabCi,
        Self::CircleCi,
        Self::AzurePipelines,
        Self::BitbucketPipelines,
        Self::Jenkinsfile,
        Self::Drone,
        Self::Woodpecker,
        Self::CloudBuild,
        Self::Devcontainer,
        Self::Quadlet,
        Self::Bake,
        Self::Terraform,
        Self::Nomad,
        Self::EcsTaskDefinition,
        Self::Skaffold,
        Self::Helmfile,
        Self::ShellScript,
        Self::Makefile,
    ];
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
    if let Some(kind) = kind_by_name(path, &lower) {
        return NameHint::Kind(kind);
    }

    let ext = lower.rsplit_once('.').map(|(_, e)| e);
    let is_yaml = matches!(ext, Some("yml" | "yaml"));
    if is_yaml {
        return NameHint::Sniff;
    }
    match ext {
        None => NameHint::Sniff,
        Some(e) if SKIP_EXTENSIONS.contains(&e) => NameHint::Skip,
        // Names like `Dockerfile-windows` were handled above; anything else with an unknown
        // extension may still be a fixture named after what it tests (`v1_tag`, `bare`).
        Some(_) => NameHint::Sniff,
    }
}

/// The kinds a file name (or its folder) decides on its own.
fn kind_by_name(path: &Path, lower: &str) -> Option<FileKind> {
    let (stem, ext) = match lower.rsplit_once('.') {
        Some((s, e)) => (s, Some(e)),
        None => (lower, None),
    };
    let parent = |n: usize| {
        path.components()
            .rev()
            .nth(n)
            .and_then(|c| c.as_os_str().to_str())
            .map(str::to_ascii_lowercase)
    };
    let dir = parent(1);
    let dir = dir.as_deref();
    match ext {
        Some("yml" | "yaml") => {
            if in_github_workflows(path) {
                return Some(FileKind::GithubWorkflow);
            }
            let kind = match stem {
                "action" => FileKind::GithubAction,
                "kustomization" => FileKind::Kustomize,
                ".drone" => FileKind::Drone,
                ".woodpecker" => FileKind::Woodpecker,
                "bitbucket-pipelines" => FileKind::BitbucketPipelines,
                _ if dir == Some(".circleci") => FileKind::CircleCi,
                _ if dir == Some(".woodpecker") => FileKind::Woodpecker,
                _ if dir == Some("helmfile.d") => FileKind::Helmfile,
                _ if stem == ".gitlab-ci" || stem.ends_with("gitlab-ci") => FileKind::GitlabCi,
                _ if stem.starts_with("azure-pipelines") || dir == Some(".azure-pipelines") => {
                    FileKind::AzurePipelines
                }
                _ if stem.starts_with("cloudbuild") => FileKind::CloudBuild,
                _ if stem.starts_with("skaffold") => FileKind::Skaffold,
                _ if stem == "helmfile" || stem.starts_with("helmfile.") => FileKind::Helmfile,
                _ if stem.starts_with("docker-compose")
                    || stem == "compose"
                    || stem.starts_with("compose.")
                    || stem.starts_with("compose-")
                    || stem.ends_with(".compose") =>
                {
                    FileKind::Compose
                }
                // `ci/sidecar-values.yaml`: chart-testing and `helm -f` files are named after values.
                _ if stem == "values"
                    || stem.starts_with("values.")
                    || stem.starts_with("values-")
                    || ["-values", "_values", ".values"]
                        .iter()
                        .any(|s| stem.ends_with(s)) =>
                {
                    FileKind::HelmValues
                }
                _ => return None,
            };
            Some(kind)
        }
        Some("json") => match stem {
            "devcontainer" | ".devcontainer" => Some(FileKind::Devcontainer),
            _ if stem.starts_with("docker-bake") => Some(FileKind::Bake),
            _ if stem.starts_with("cloudbuild") => Some(FileKind::CloudBuild),
            _ if stem.ends_with(".tf") => Some(FileKind::Terraform),
            _ if [
                "task-definition",
                "taskdef",
                "task_definition",
                "container-definition",
                "container_definition",
                "containerdefinition",
            ]
            .iter()
            .any(|n| stem.contains(n)) =>
            {
                Some(FileKind::EcsTaskDefinition)
            }
            _ => None,
        },
        Some("gotmpl") if stem == "helmfile.yaml" || stem == "helmfile" => Some(FileKind::Helmfile),
        Some("hcl") if stem.starts_with("docker-bake") => Some(FileKind::Bake),
        Some("hcl") if stem.ends_with(".nomad") => Some(FileKind::Nomad),
        Some("nomad") => Some(FileKind::Nomad),
        Some("tf") => Some(FileKind::Terraform),
        Some("container" | "image" | "volume" | "build") => Some(FileKind::Quadlet),
        Some("sh" | "bash") => Some(FileKind::ShellScript),
        Some("mk") => Some(FileKind::Makefile),
        Some("jenkinsfile" | "groovy") => Some(FileKind::Jenkinsfile),
        _ => match lower {
            "kustomization" => Some(FileKind::Kustomize),
            "jenkinsfile" => Some(FileKind::Jenkinsfile),
            "makefile" | "gnumakefile" => Some(FileKind::Makefile),
            _ if (lower.starts_with("jenkinsfile.") || lower.starts_with("jenkinsfile-"))
                && !ext.is_some_and(|e| SKIP_EXTENSIONS.contains(&e)) =>
            {
                Some(FileKind::Jenkinsfile)
            }
            _ => None,
        },
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
    if !yaml_ext && looks_like_shell(content) {
        return Some(FileKind::ShellScript);
    }
    let keys = top_level_keys(content);
    let has = |k: &str| keys.iter().any(|key| key == k);
    if content.contains("apiVersion: skaffold/") {
        return Some(FileKind::Skaffold);
    }
    if let Some(kind) = sniff_ci(content, &has) {
        return Some(kind);
    }
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
    // A pod fragment without apiVersion (Jenkins `yamlFile`, kubernetes-plugin pod templates).
    if has("spec")
        && keys
            .iter()
            .all(|k| matches!(k.as_str(), "spec" | "metadata"))
        && content.contains("containers:")
    {
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

/// CI systems whose files have no fixed name, by their top-level keys.
fn sniff_ci(content: &str, has: &dyn Fn(&str) -> bool) -> Option<FileKind> {
    if has("orbs") || (has("version") && has("workflows") && has("jobs")) {
        return Some(FileKind::CircleCi);
    }
    if has("pipelines") && (has("image") || has("definitions") || has("options") || has("clone")) {
        return Some(FileKind::BitbucketPipelines);
    }
    if content.starts_with("kind: pipeline")
        || (has("kind") && content.contains("\nkind: pipeline"))
    {
        return Some(FileKind::Drone);
    }
    let azure_top = [
        "trigger",
        "pr",
        "pool",
        "resources",
        "extends",
        "parameters",
        "schedules",
    ];
    let azure_items = ["- job:", "- stage:", "- task:", "- deployment:"];
    if !has("on")
        && ((azure_top.iter().any(|k| has(k))
            && (has("stages") || has("jobs") || has("steps") || has("extends")))
            || ((has("jobs") || has("stages") || has("steps"))
                && azure_items.iter().any(|i| content.contains(i))))
    {
        return Some(FileKind::AzurePipelines);
    }
    if has("releases")
        && [
            "repositories",
            "helmDefaults",
            "environments",
            "helmfiles",
            "bases",
        ]
        .iter()
        .any(|k| has(k))
    {
        return Some(FileKind::Helmfile);
    }
    if has("steps") && !has("jobs") && !has("on") {
        let cloudbuild = [
            "substitutions",
            "images",
            "options",
            "timeout",
            "availableSecrets",
            "artifacts",
            "logsBucket",
            "serviceAccount",
        ];
        if cloudbuild.iter().any(|k| has(k)) {
            return Some(FileKind::CloudBuild);
        }
        if content.contains(" image:") {
            return Some(FileKind::Woodpecker);
        }
        if content.contains("- name:") {
            return Some(FileKind::CloudBuild);
        }
    }
    if has("pipeline") && content.contains(" image:") && !has("jobs") && !has("stages") {
        return Some(FileKind::Woodpecker);
    }
    None
}

/// A `#!` line naming a POSIX shell.
fn looks_like_shell(content: &str) -> bool {
    let Some(first) = content.lines().next().and_then(|l| l.strip_prefix("#!")) else {
        return false;
    };
    let mut words = first.split_whitespace();
    let interp = words.next().unwrap_or_default();
    let interp = if interp.ends_with("/env") {
        words.find(|w| !w.starts_with('-')).unwrap_or_default()
    } else {
        interp
    };
    matches!(
        interp.rsplit('/').next().unwrap_or_default(),
        "sh" | "bash" | "dash" | "ksh" | "zsh" | "ash"
    )
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
fn top_level_keys(content: &str) -> Vec<String> {
    let mut keys: Vec<String> = content
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '-']) && !l.is_empty())
        .filter_map(|l| {
            let (k, _) = l.split_once(':')?;
            let k = k.trim().trim_matches(['"', '\'']);
            (!k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)))
            .then(|| k.to_string())
        })
        .collect();
    // A document written as one flow mapping (`{apiVersion: v1, kind: Pod, …}`): its keys.
    if content.lines().any(|l| l.starts_with('{')) {
        let yaml = crate::read::yaml::Yaml::parse(content);
        for doc in yaml.documents().filter(|d| d.is_mapping()) {
            keys.extend(doc.entries().into_iter().map(|(k, _)| k.to_string()));
        }
    }
    keys
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
        assert_eq!(d("ci/sidecar-values.yaml", ""), Some(FileKind::HelmValues));
        assert_eq!(d("prod.values.yml", ""), Some(FileKind::HelmValues));
        assert_eq!(d("jobs/web.nomad", ""), Some(FileKind::Nomad));
        assert_eq!(d("web.nomad.hcl", ""), Some(FileKind::Nomad));
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
        // Documents written as one flow mapping are sniffed by the same keys.
        assert_eq!(
            d(
                "pod.yaml",
                "{apiVersion: v1, kind: Pod, spec: {containers: []}}\n"
            ),
            Some(FileKind::Kubernetes)
        );
        assert_eq!(
            d(
                "x.yml",
                "---\n{\"services\": {\"web\": {\"image\": \"nginx:1\"}}}\n"
            ),
            Some(FileKind::Compose)
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
                "KubernetesPod.yaml",
                "metadata:\n  labels: {a: b}\nspec:\n  containers:\n  - name: m\n    image: maven:3\n"
            ),
            Some(FileKind::Kubernetes)
        );
        assert_eq!(
            d(
                "single-quotes.yaml",
                "image:\n  repository: 'x'\n  tag: '1'\n"
            ),
            Some(FileKind::HelmValues)
        );
    }
}

#[cfg(test)]
mod corpus_tests {
    use super::*;

    /// Every file of the corpus folders named after a CI system or format is detected as that kind.
    #[test]
    fn corpus_folders_are_detected() {
        let expect: &[(&str, &[FileKind])] = &[
            ("azure-pipelines", &[FileKind::AzurePipelines]),
            ("bitbucket-pipelines", &[FileKind::BitbucketPipelines]),
            ("circleci", &[FileKind::CircleCi]),
            ("cloudbuild", &[FileKind::CloudBuild]),
            ("devcontainer", &[FileKind::Devcontainer]),
            ("drone", &[FileKind::Drone, FileKind::Woodpecker]),
            ("jenkins", &[FileKind::Jenkinsfile]),
            ("quadlet", &[FileKind::Quadlet]),
            ("terraform", &[FileKind::Terraform]),
            ("tekton", &[FileKind::Kubernetes]),
        ];
        let mut wrong = Vec::new();
        for (dir, kinds) in expect {
            for (path, text) in crate::test_corpus::files(dir) {
                let got = detect(&path, &text);
                if !got.is_some_and(|k| kinds.contains(&k)) {
                    wrong.push(format!("{}: {got:?}", path.display()));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
