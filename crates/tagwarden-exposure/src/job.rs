//! What a CI job is and what it can read: the model every CI reader fills in.

use serde::Serialize;

/// A place in a file of a tree: the path as shown (relative to the tree, prefixed by it when
/// several trees are read), 1-based line and column (in characters).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Place {
    pub path: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.column)
    }
}

/// The CI platform a definition is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    GithubActions,
    GitlabCi,
    Jenkins,
    Circleci,
    AzurePipelines,
    BitbucketPipelines,
    Drone,
    Woodpecker,
}

impl Platform {
    /// As people write it: `GitHub Actions`, `GitLab CI`, …
    pub fn name(self) -> &'static str {
        match self {
            Self::GithubActions => "GitHub Actions",
            Self::GitlabCi => "GitLab CI",
            Self::Jenkins => "Jenkins",
            Self::Circleci => "CircleCI",
            Self::AzurePipelines => "Azure Pipelines",
            Self::BitbucketPipelines => "Bitbucket Pipelines",
            Self::Drone => "Drone",
            Self::Woodpecker => "Woodpecker",
        }
    }
}

/// What kind of credential a job can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    /// A secret or variable the platform stores and hands to the job by name (a GitHub
    /// secret, a GitLab CI/CD variable, a Jenkins credential, a Drone secret).
    Secret,
    /// Every secret of a set the job receives whole, whether or not a step uses them: a GitHub
    /// environment, `secrets: inherit` into a workflow outside the tree, `toJSON(secrets)`, an
    /// Azure variable group, a CircleCI context, Bitbucket deployment variables.
    SecretSet,
    /// The platform's token for the job itself (`GITHUB_TOKEN`, `CI_JOB_TOKEN`,
    /// `System.AccessToken`).
    JobToken,
    /// A cloud role or identity the job can assume with its OIDC token (no stored secret).
    CloudRole,
    /// An OIDC ID token the job can request, for whatever trusts it.
    IdToken,
    /// A service connection of the platform (an Azure DevOps service connection).
    ServiceConnection,
    /// A secret the job fetches from an external manager (GitLab `secrets:` from Vault).
    ExternalSecret,
    /// A credential whose value is written in a file of the tree.
    FileSecret,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::SecretSet => "secret-set",
            Self::JobToken => "job-token",
            Self::CloudRole => "cloud-role",
            Self::IdToken => "id-token",
            Self::ServiceConnection => "service-connection",
            Self::ExternalSecret => "external-secret",
            Self::FileSecret => "file-secret",
        }
    }
}

/// One reason a job can read one credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub kind: CredentialKind,
    /// The credential's name: `NPM_TOKEN`, `production` (an environment), `GITHUB_TOKEN`, a
    /// role ARN, a Jenkins credential id.
    pub name: String,
    /// Where the platform keeps it: `repository, organization or environment secret`.
    pub scope: String,
    /// Why the job can read it, in one sentence.
    pub why: String,
    /// The definition that grants it.
    pub at: Place,
    /// The rotation procedure (an id of `tagwarden-secrets`' rotations) when the name says
    /// nothing more specific.
    pub rotation: &'static str,
}

/// A job of a CI definition and everything it can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub platform: Platform,
    /// The tree it belongs to, as given.
    pub tree: String,
    /// Its definition file, as shown.
    pub file: String,
    /// The job's key (`build`), a Jenkins pipeline's `pipeline`, a Drone pipeline's name.
    pub id: String,
    /// Its display name, when it has one (`name: Build and scan`).
    pub name: Option<String>,
    pub at: Place,
    /// Where it is defined: its own definition, and the templates and defaults it takes
    /// (a GitLab `extends:` in an included file). A reference inside one belongs to the job.
    pub regions: Vec<Region>,
    /// The job's workspace holds the repository (a checkout): every file of the tree, and the
    /// secrets written in them, is readable by its steps.
    pub workspace: bool,
    pub grants: Vec<Grant>,
    /// What the reader could not follow or wants the responder to know.
    pub notes: Vec<String>,
}

impl Job {
    /// `file:id`, the name `--job` takes.
    pub fn key(&self) -> String {
        format!("{}:{}", self.file, self.id)
    }

    /// Whether a name a log or a user gives denotes this job: its id or display name, exactly or
    /// with a matrix suffix (`build (ubuntu, 20)`) or a caller prefix (`call / build`).
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.trim();
        let bare = name
            .rsplit_once(" / ")
            .map_or(name, |(_, callee)| callee)
            .trim();
        let bare = bare
            .strip_suffix(')')
            .and_then(|b| b.rsplit_once(" ("))
            .map_or(bare, |(n, _)| n)
            .trim();
        [name, bare].iter().any(|n| {
            n.eq_ignore_ascii_case(&self.id)
                || self
                    .name
                    .as_deref()
                    .is_some_and(|own| n.eq_ignore_ascii_case(own))
        })
    }
}

/// A byte range of a file (as shown) that defines a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub file: String,
    pub start: usize,
    pub end: usize,
}

impl Region {
    pub fn contains(&self, file: &str, offset: usize) -> bool {
        self.file == file && self.start <= offset && offset < self.end
    }
}

/// A problem a reader met: a definition that did not parse, at its place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Note {
    pub at: Option<Place>,
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.at {
            Some(p) => write!(f, "{p}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}
