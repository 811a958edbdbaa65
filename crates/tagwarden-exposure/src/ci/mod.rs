//! What each job of a CI definition can read: one reader per platform, all built on the
//! readers of `tagwarden-extract` (YAML with spans, GitHub expressions, shell-style variables)
//! and dispatched by the file kind `scan` decides.

mod azure;
mod bitbucket;
mod circleci;
mod drone;
mod github;
mod gitlab;
mod jenkins;
mod yaml;

use tagwarden_extract::FileKind;
use tagwarden_text::LineIndex;

use crate::job::{CredentialKind, Grant, Job, Note, Place, Platform, Region};

/// A file of a tree, as the caller read it.
#[derive(Clone, Debug)]
pub struct TreeFile {
    /// Relative to the tree, `/`-separated: how definitions name each other
    /// (`./.github/workflows/scan.yml`, `include: local: ci/build.yml`).
    pub relative: String,
    /// As shown to people.
    pub display: String,
    /// The kind `scan` decided, if any.
    pub kind: Option<FileKind>,
    pub text: String,
}

/// The files of one tree (a repository) that CI definitions may name.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// The tree as given on the command line.
    pub name: String,
    /// The tree's directory name (`payments` for `.` inside it): Jenkins names a
    /// repository's jobs after it.
    pub folder: Option<String>,
    pub files: Vec<TreeFile>,
}

impl Tree {
    /// A file by its path relative to the tree (`./` and a leading `/` ignored).
    pub fn file(&self, relative: &str) -> Option<&TreeFile> {
        let wanted = relative.trim_start_matches("./").trim_start_matches('/');
        self.files.iter().find(|f| f.relative == wanted)
    }
}

/// The platform a file kind belongs to, for the kinds whose jobs can be read.
pub fn platform(kind: FileKind) -> Option<Platform> {
    Some(match kind {
        FileKind::GithubWorkflow => Platform::GithubActions,
        FileKind::GitlabCi => Platform::GitlabCi,
        FileKind::Jenkinsfile => Platform::Jenkins,
        FileKind::CircleCi => Platform::Circleci,
        FileKind::AzurePipelines => Platform::AzurePipelines,
        FileKind::BitbucketPipelines => Platform::BitbucketPipelines,
        FileKind::Drone => Platform::Drone,
        FileKind::Woodpecker => Platform::Woodpecker,
        _ => return None,
    })
}

/// Every job of every CI definition in the tree, in file order, and what could not be read.
pub fn jobs(tree: &Tree) -> (Vec<Job>, Vec<Note>) {
    let mut jobs = Vec::new();
    let mut notes = Vec::new();
    let included = gitlab::included_by_others(tree);
    for file in &tree.files {
        let Some(platform) = file.kind.and_then(platform) else {
            continue;
        };
        if platform == Platform::GitlabCi
            && file.relative != ".gitlab-ci.yml"
            && included.contains(&file.relative)
        {
            continue;
        }
        let ctx = Ctx::new(tree, file, platform);
        match platform {
            Platform::GithubActions => github::read(&ctx, &mut jobs, &mut notes),
            Platform::GitlabCi => gitlab::read(&ctx, &mut jobs, &mut notes),
            Platform::Jenkins => jenkins::read(&ctx, &mut jobs, &mut notes),
            Platform::Circleci => circleci::read(&ctx, &mut jobs, &mut notes),
            Platform::AzurePipelines => azure::read(&ctx, &mut jobs, &mut notes),
            Platform::BitbucketPipelines => bitbucket::read(&ctx, &mut jobs, &mut notes),
            Platform::Drone | Platform::Woodpecker => drone::read(&ctx, &mut jobs, &mut notes),
        }
    }
    (jobs, notes)
}

/// One file being read: places, jobs and grants are made here.
pub(crate) struct Ctx<'t> {
    pub(crate) tree: &'t Tree,
    pub(crate) file: &'t TreeFile,
    pub(crate) platform: Platform,
    lines: LineIndex,
}

impl<'t> Ctx<'t> {
    pub(crate) fn new(tree: &'t Tree, file: &'t TreeFile, platform: Platform) -> Self {
        Ctx {
            tree,
            file,
            platform,
            lines: LineIndex::new(&file.text),
        }
    }

    /// The same tree, another file (a called workflow, an included file).
    pub(crate) fn other(&self, file: &'t TreeFile) -> Ctx<'t> {
        Ctx::new(self.tree, file, self.platform)
    }

    pub(crate) fn text(&self) -> &'t str {
        &self.file.text
    }

    pub(crate) fn place(&self, offset: usize) -> Place {
        let offset = offset.min(self.file.text.len());
        let (line, column) = self.lines.line_col(&self.file.text, offset);
        Place {
            path: self.file.display.clone(),
            line,
            column,
        }
    }

    pub(crate) fn note(&self, offset: usize, message: impl Into<String>) -> Note {
        Note {
            at: Some(self.place(offset)),
            message: message.into(),
        }
    }

    pub(crate) fn job(
        &self,
        id: &str,
        name: Option<&str>,
        start: usize,
        end: usize,
        workspace: bool,
    ) -> Job {
        Job {
            platform: self.platform,
            tree: self.tree.name.clone(),
            file: self.file.display.clone(),
            id: id.to_string(),
            name: name.filter(|n| *n != id).map(str::to_string),
            at: self.place(start),
            regions: vec![self.region(start, end)],
            workspace,
            grants: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub(crate) fn region(&self, start: usize, end: usize) -> Region {
        Region {
            file: self.file.display.clone(),
            start,
            end: end.max(start),
        }
    }

    pub(crate) fn grant(
        &self,
        kind: CredentialKind,
        name: &str,
        scope: &str,
        why: String,
        offset: usize,
        rotation: &'static str,
    ) -> Grant {
        Grant {
            kind,
            name: name.to_string(),
            scope: scope.to_string(),
            why,
            at: self.place(offset),
            rotation,
        }
    }
}

/// Adds a grant unless the job already has one for the same credential at the same place.
pub(crate) fn push_grant(job: &mut Job, grant: Grant) {
    let dup = job.grants.iter().any(|g| {
        g.kind == grant.kind && g.name == grant.name && g.at == grant.at && g.why == grant.why
    });
    if !dup {
        job.grants.push(grant);
    }
}

/// A shell line that logs in to a registry: the credential it uses is saved in the runner's
/// config (`~/.docker/config.json`, podman's `auth.json`) for every later command.
pub(crate) fn registry_login(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    [
        "docker login",
        "podman login",
        "buildah login",
        "helm registry login",
        "skopeo login",
        "crane auth login",
        "oras login",
    ]
    .iter()
    .any(|c| l.contains(c))
}

/// Variables a shell (sh or PowerShell) has on its own: never a project's secrets.
pub(crate) fn is_shell_own(name: &str) -> bool {
    // Windows spells the environment's names in any case (`$env:Path`).
    [
        "HOME",
        "PATH",
        "PWD",
        "OLDPWD",
        "USER",
        "SHELL",
        "HOSTNAME",
        "LANG",
        "TERM",
        "IFS",
        "UID",
        "RANDOM",
        "SECONDS",
        "BASH_SOURCE",
        "LINENO",
        "CI",
        "TEMP",
        "TMP",
        "USERPROFILE",
    ]
    .iter()
    .any(|p| p.eq_ignore_ascii_case(name))
        || [
            "null",
            "true",
            "false",
            "LASTEXITCODE",
            "ErrorActionPreference",
            "ProgressPreference",
            "PSScriptRoot",
            "PSVersionTable",
            "args",
            "input",
            "this",
            "_",
            "Error",
            "Matches",
            "IsWindows",
            "IsLinux",
            "IsMacOS",
        ]
        .iter()
        .any(|p| p.eq_ignore_ascii_case(name))
}

/// The names a job's scripts set themselves (`X=…`, `export X=…`, `read X`, `for X in …`): a
/// variable read under one of them is the script's, not the project's.
pub(crate) fn script_names(scripts: &str) -> std::collections::HashSet<String> {
    use tagwarden_extract::read::shell::{assigned_names, assignments};
    let mut names: std::collections::HashSet<String> = assigned_names(scripts)
        .into_iter()
        .map(str::to_string)
        .collect();
    for line in scripts.lines() {
        names.extend(assignments(line, 0).into_iter().map(|a| a.name));
        // PowerShell: `$name = …`.
        if let Some(rest) = line.trim_start().strip_prefix('$') {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let after = rest[end..].trim_start();
            if end > 0 && after.starts_with('=') && !after.starts_with("==") {
                names.insert(rest[..end].to_string());
            }
        }
    }
    names
}

/// The variables a text reads, shell style (`$X`, `${X}`, `${X:-d}`, and `$$X`, which the CI
/// platform passes to the shell as `$X`), each once with the offset of its first read, by the
/// shell reader's reference scan (an expansion it cannot evaluate does not hide the rest).
pub(crate) fn shell_variables(text: &str) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for name in tagwarden_extract::read::shell::referenced_names(text) {
        // `$1`, `$0`: positional parameters, not variables.
        if name.starts_with(|c: char| c.is_ascii_digit()) || out.iter().any(|(n, _)| n == name) {
            continue;
        }
        // The name is a slice of `text`: its offset is the distance between them.
        let offset = (name.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        // PowerShell reads the environment as `$env:NAME`.
        let name = if name.eq_ignore_ascii_case("env")
            && let Some(rest) = text
                .get(offset + name.len()..)
                .and_then(|r| r.strip_prefix(':'))
        {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        } else {
            name
        };
        if name.is_empty() || out.iter().any(|(n, _)| n == name) {
            continue;
        }
        out.push((name.to_string(), offset.saturating_sub(1)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree {
            name: "repo".into(),
            folder: Some("repo".into()),
            files: files
                .iter()
                .map(|(path, text)| TreeFile {
                    relative: (*path).to_string(),
                    display: (*path).to_string(),
                    kind: tagwarden_extract::detect(std::path::Path::new(path), text),
                    text: (*text).to_string(),
                })
                .collect(),
        }
    }

    fn grants(job: &Job) -> Vec<String> {
        job.grants
            .iter()
            .map(|g| format!("{} {}", g.kind.as_str(), g.name))
            .collect()
    }

    #[test]
    fn a_broken_definition_is_read_up_to_the_error_and_said_at_its_place() {
        let wf = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo ${{ secrets.A }}\n  b: [\n";
        let (jobs, notes) = jobs(&tree(&[(".github/workflows/w.yml", wf)]));
        // What came before the error is read; the job cut by it still counts.
        assert_eq!(jobs[0].id, "a");
        assert!(grants(&jobs[0]).contains(&"secret A".to_string()));
        let note = &notes[0];
        let at = note.at.as_ref().unwrap();
        assert_eq!((at.path.as_str(), at.line), (".github/workflows/w.yml", 8));
        assert!(note.message.starts_with("YAML:"), "{note}");
    }

    #[test]
    fn the_whole_secrets_context_and_the_default_token() {
        let wf = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo '${{ toJSON(secrets) }}'\n";
        let (jobs, _) = jobs(&tree(&[(".github/workflows/w.yml", wf)]));
        let g = grants(&jobs[0]);
        assert!(
            g.contains(&"secret-set every repository and organization secret".to_string()),
            "{g:?}"
        );
        let token = jobs[0]
            .grants
            .iter()
            .find(|g| g.name == "GITHUB_TOKEN")
            .unwrap();
        assert!(
            token.why.contains("the repository's default applies"),
            "{}",
            token.why
        );
        assert!(token.why.contains("restricted") && token.why.contains("permissive"));
    }

    #[test]
    fn calls_in_a_cycle_and_includes_in_a_cycle_end() {
        let a = "on: [push, workflow_call]\njobs:\n  j:\n    uses: ./.github/workflows/b.yml\n    secrets: inherit\n";
        let b = "on: workflow_call\njobs:\n  k:\n    uses: ./.github/workflows/a.yml\n    secrets: inherit\n  l:\n    runs-on: x\n    steps:\n      - run: echo ${{ secrets.B }}\n";
        let (called, _) = jobs(&tree(&[
            (".github/workflows/a.yml", a),
            (".github/workflows/b.yml", b),
        ]));
        let j = called.iter().find(|j| j.id == "j").unwrap();
        assert!(
            grants(j).contains(&"secret B".to_string()),
            "{:?}",
            grants(j)
        );
        assert!(
            j.notes.iter().any(|n| n.contains("again or too deep")),
            "{:?}",
            j.notes
        );

        let main = "include:\n  - local: x.yml\nvariables:\n  DB_URL: postgres://app:$DB_PASSWORD@db/app\njob:\n  script: echo $TOKEN $DB_URL\n";
        let x = "include:\n  - local: .gitlab-ci.yml\n  - remote: https://example.com/ci.yml\n";
        let (found, notes) = jobs(&tree(&[(".gitlab-ci.yml", main), ("x.yml", x)]));
        assert_eq!(found.len(), 1);
        assert!(grants(&found[0]).contains(&"secret TOKEN".to_string()));
        // A pipeline variable that reads a project variable: every job reads it.
        assert!(
            grants(&found[0]).contains(&"secret DB_PASSWORD".to_string()),
            "{:?}",
            grants(&found[0])
        );
        assert!(!grants(&found[0]).contains(&"secret DB_URL".to_string()));
        assert!(
            notes.iter().any(|n| n.message.contains("remote")),
            "{notes:?}"
        );
    }

    #[test]
    fn secrets_passed_by_name_to_a_called_workflow() {
        let caller = "on: push\njobs:\n  call:\n    uses: ./.github/workflows/b.yml\n    secrets:\n      token: ${{ secrets.DEPLOY_TOKEN }}\n";
        let callee = "on: workflow_call\njobs:\n  d:\n    runs-on: x\n    steps:\n      - run: echo ${{ secrets.token }} ${{ secrets.OTHER }}\n";
        let (found, _) = jobs(&tree(&[
            (".github/workflows/a.yml", caller),
            (".github/workflows/b.yml", callee),
        ]));
        let call = found.iter().find(|j| j.id == "call").unwrap();
        let g = grants(call);
        assert!(g.contains(&"secret DEPLOY_TOKEN".to_string()), "{g:?}");
        // Only what the caller passes reaches the called workflow.
        assert!(
            !g.iter()
                .any(|n| n.contains("OTHER") || n.ends_with(" token")),
            "{g:?}"
        );
    }

    #[test]
    fn jenkins_input_that_ends_anywhere() {
        for text in [
            "pipeline { environment { X = credentials('",
            "withCredentials([string(credentialsId: ",
            "/* never closed",
            "'''",
            "sshagent([",
            "stage('a') {",
        ] {
            let _ = jobs(&tree(&[("Jenkinsfile", text)]));
        }
    }

    #[test]
    fn shell_variables_are_names_only() {
        let found: Vec<String> = shell_variables(
            "echo $1 $? $@ $$ ${#ARR[@]} $(date) $((1 + 2)) $TOKEN ${USER_KEY:-x} '$NOT_IN_QUOTES'",
        )
        .into_iter()
        .map(|(n, _)| n)
        .collect();
        assert!(found.contains(&"TOKEN".to_string()), "{found:?}");
        assert!(found.contains(&"USER_KEY".to_string()), "{found:?}");
        assert!(
            found
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')),
            "{found:?}"
        );
        assert!(!found.iter().any(|n| n == "1" || n == "date"), "{found:?}");
        // PowerShell: the environment as `$env:NAME`, its own variables, its assignments.
        let ps: Vec<String> =
            shell_variables("$out = docker load; $env:API_KEY; $null; $LASTEXITCODE")
                .into_iter()
                .map(|(n, _)| n)
                .filter(|n| !is_shell_own(n) && !script_names("$out = docker load").contains(n))
                .collect();
        assert_eq!(ps, ["API_KEY"]);
    }

    #[test]
    fn a_called_workflow_has_its_callers_token_and_oidc() {
        let caller = "on: push\njobs:\n  call:\n    permissions:\n      id-token: write\n    uses: ./.github/workflows/b.yml\n";
        let callee = "on: workflow_call\njobs:\n  d:\n    runs-on: x\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-assume: arn:aws:iam::1:role/r\n";
        let (found, _) = jobs(&tree(&[
            (".github/workflows/a.yml", caller),
            (".github/workflows/b.yml", callee),
        ]));
        let call = found.iter().find(|j| j.id == "call").unwrap();
        assert!(
            grants(call).contains(&"cloud-role arn:aws:iam::1:role/r".to_string()),
            "{:?}",
            grants(call)
        );
        assert!(
            call.grants
                .iter()
                .any(|g| g.why.contains("has its caller's"))
        );
        // Without the caller's `id-token: write`, the role cannot be assumed.
        let caller = caller.replace("id-token: write", "contents: read");
        let (found, _) = jobs(&tree(&[
            (".github/workflows/a.yml", &caller),
            (".github/workflows/b.yml", callee),
        ]));
        assert!(
            !grants(&found[0])
                .iter()
                .any(|g| g.starts_with("cloud-role"))
        );
    }
}
