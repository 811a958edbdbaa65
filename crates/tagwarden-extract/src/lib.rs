//! Extractors: find every image reference in a configuration file and return the exact byte span
//! of the reference as written. Nothing here reads files or touches the network: each extractor
//! takes the text of one file and returns an [`Extraction`].
//!
//! [`detect`] decides a file's kind from its path and first bytes; [`kind`] holds one extractor
//! per kind, built on the readers of [`read`] (YAML, HCL, JSON, shell, variables, expressions),
//! which know nothing of kinds.

pub mod detect;
pub mod image_variables;
pub mod kind;
pub mod read;

// The paths the pin crate and the fuzz targets have always used.
pub use read::{vars, yaml};

#[cfg(test)]
mod test_ci_scripts;
#[cfg(test)]
mod test_corpus;
#[cfg(test)]
mod test_support;

pub use detect::{FileKind, detect};

/// A byte range in the file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        Self { start, end }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The text this span covers.
    pub fn of<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start..self.end).unwrap_or("")
    }
}

/// Which construct of which file kind held the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// `FROM image`
    DockerfileFrom,
    /// `COPY --from=image`
    DockerfileCopyFrom,
    /// `RUN --mount=…,from=image`
    DockerfileRunMount,
    /// `# syntax=image`
    DockerfileSyntax,
    /// A Compose service's `image:`
    ComposeImage,
    /// `containers[].image` of a Kubernetes workload or Pod template
    KubernetesContainer,
    /// `initContainers[].image`
    KubernetesInitContainer,
    /// `ephemeralContainers[].image`
    KubernetesEphemeralContainer,
    /// An `image:` string or map in Helm values
    HelmImage,
    /// An entry of Kustomize `images:`
    KustomizeImage,
    /// `jobs.<id>.container` (string or `image:`)
    GithubContainer,
    /// `jobs.<id>.services.<id>.image`
    GithubService,
    /// `uses: docker://image` in a step
    GithubStepUses,
    /// `runs.image: docker://image` in `action.yml`
    GithubActionImage,
    /// GitLab CI `image:` (string or `name:`)
    GitlabImage,
    /// GitLab CI `services:` entry (string or `name:`)
    GitlabService,
    /// The image operand of `docker run`/`pull`/`create` in a GitHub Actions step's `run:`
    GithubRunCommand,
    /// The image operand of `docker run`/`pull`/`create` in a GitLab CI `script:` entry
    GitlabScriptCommand,
    /// CircleCI `docker: - image:` of a job or executor
    CircleciImage,
    /// The image operand of a container command in a CircleCI `run:` step
    CircleciRunCommand,
    /// Azure Pipelines `resources.containers[].image`, a job's `container:` or a service
    AzureContainer,
    /// The image operand of a container command in an Azure `script:`/`bash:` step
    AzureScriptCommand,
    /// Bitbucket Pipelines `image:` (string or `name:`)
    BitbucketImage,
    /// Bitbucket `definitions.services.*.image`
    BitbucketService,
    /// The image operand of a container command in a Bitbucket `script:` entry
    BitbucketScriptCommand,
    /// Jenkinsfile `agent { docker { image '…' } }` or `agent { docker '…' }`
    JenkinsAgent,
    /// Jenkinsfile scripted `docker.image('…')`
    JenkinsDockerImage,
    /// The image operand of a container command in a Jenkinsfile `sh` step
    JenkinsShCommand,
    /// Drone / Woodpecker step or service `image:`
    DroneImage,
    /// The image operand of a container command in Drone / Woodpecker `commands:`
    DroneCommand,
    /// Google Cloud Build `steps[].name`
    CloudBuildStep,
    /// The image operand of a container command in a Cloud Build step's script or args
    CloudBuildCommand,
    /// An Argo Workflows template's `container`, `script` or `containerSet` image
    ArgoTemplate,
    /// devcontainer.json `image`
    DevcontainerImage,
    /// Podman Quadlet `Image=`
    QuadletImage,
    /// Docker Bake `contexts` value `docker-image://…`
    BakeContext,
    /// `docker buildx build --build-context name=docker-image://…`
    BuildContext,
    /// An `image` attribute of a Terraform resource (docker, Kubernetes, Nomad, cloud services)
    TerraformImage,
    /// A Nomad jobspec task's `config { image = … }`
    NomadImage,
    /// An ECS container definition's `image` (JSON file or `jsonencode(…)`)
    EcsContainerImage,
    /// An image Skaffold pulls (builder, base or run image, verify and custom action containers)
    SkaffoldImage,
    /// An image set by a Helmfile release (`values:` / `set:`)
    HelmfileImage,
    /// The image operand of a container command in a shell script
    ScriptCommand,
    /// The image operand of a container command in a Makefile recipe
    MakefileCommand,
    /// The image operand of a container command in an Argo template's `sh -c` args or script
    ArgoCommand,
    /// A Docker Bake target's build argument named like an image (`BASE_IMAGE = "node:22"`)
    BakeArg,
    /// A Tekton bundle (an OCI image holding Tasks or Pipelines): `taskRef`/`pipelineRef`/step
    /// `ref` `bundle:` or the `bundles` resolver's `bundle` parameter
    TektonBundle,
    /// The image operand of a container command in a Tekton step's `script:` or `sh -c` args
    TektonScriptCommand,
    /// A value whose name says it is an image (`DOCKER_IMAGE: …`, `with: image-ref: …`, a
    /// Compose build arg, a Kubernetes env pair, a custom resource's `image:`)
    ImageVariable,
}

impl Source {
    /// Stable kebab-case name used in JSON output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::DockerfileFrom => "dockerfile-from",
            Self::DockerfileCopyFrom => "dockerfile-copy-from",
            Self::DockerfileRunMount => "dockerfile-run-mount",
            Self::DockerfileSyntax => "dockerfile-syntax",
            Self::ComposeImage => "compose-image",
            Self::KubernetesContainer => "kubernetes-container",
            Self::KubernetesInitContainer => "kubernetes-init-container",
            Self::KubernetesEphemeralContainer => "kubernetes-ephemeral-container",
            Self::HelmImage => "helm-image",
            Self::KustomizeImage => "kustomize-image",
            Self::GithubContainer => "github-container",
            Self::GithubService => "github-service",
            Self::GithubStepUses => "github-step-uses",
            Self::GithubActionImage => "github-action-image",
            Self::GitlabImage => "gitlab-image",
            Self::GitlabService => "gitlab-service",
            Self::GithubRunCommand => "github-run-command",
            Self::GitlabScriptCommand => "gitlab-script-command",
            Self::CircleciImage => "circleci-image",
            Self::CircleciRunCommand => "circleci-run-command",
            Self::AzureContainer => "azure-container",
            Self::AzureScriptCommand => "azure-script-command",
            Self::BitbucketImage => "bitbucket-image",
            Self::BitbucketService => "bitbucket-service",
            Self::BitbucketScriptCommand => "bitbucket-script-command",
            Self::JenkinsAgent => "jenkins-agent",
            Self::JenkinsDockerImage => "jenkins-docker-image",
            Self::JenkinsShCommand => "jenkins-sh-command",
            Self::DroneImage => "drone-image",
            Self::DroneCommand => "drone-command",
            Self::CloudBuildStep => "cloudbuild-step",
            Self::CloudBuildCommand => "cloudbuild-command",
            Self::ArgoTemplate => "argo-template",
            Self::DevcontainerImage => "devcontainer-image",
            Self::QuadletImage => "quadlet-image",
            Self::BakeContext => "bake-context",
            Self::BuildContext => "build-context",
            Self::TerraformImage => "terraform-image",
            Self::NomadImage => "nomad-image",
            Self::EcsContainerImage => "ecs-container-image",
            Self::SkaffoldImage => "skaffold-image",
            Self::HelmfileImage => "helmfile-image",
            Self::ScriptCommand => "script-command",
            Self::MakefileCommand => "makefile-command",
            Self::ArgoCommand => "argo-command",
            Self::BakeArg => "bake-arg",
            Self::TektonBundle => "tekton-bundle",
            Self::TektonScriptCommand => "tekton-script-command",
            Self::ImageVariable => "image-variable",
        }
    }
}

/// A variable definition whose value was substituted into a reference (a Dockerfile `ARG`
/// default, a GitLab `variables:` entry, a matrix value, a `${VAR:-default}` default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The variable's name, e.g. `BASE` or `matrix.image`.
    pub name: String,
    /// Where its value is written.
    pub span: Span,
}

/// A field that contributes to a composed reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartRole {
    Registry,
    Repository,
    Tag,
    Digest,
    /// Kustomize `name:` (the image being replaced)
    Name,
    /// Kustomize `newName:`
    NewName,
    /// Kustomize `newTag:`
    NewTag,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub role: PartRole,
    /// Exact bytes of the value; `None` when the value is not a plain span (escapes, aliases).
    pub span: Option<Span>,
    pub value: String,
}

/// How the reference text relates to the bytes of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form {
    /// The span holds the whole reference verbatim.
    Literal,
    /// The span holds text with variables; `origins` are the definitions substituted into it.
    Expanded { origins: Vec<Origin> },
    /// The reference is assembled from several fields (Helm `image:` maps, Kustomize `images:`).
    Composed { parts: Vec<Part> },
}

/// One place a file names a container image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageOccurrence {
    /// The reference as written. Invariant: `text == span.of(file)`.
    pub span: Span,
    pub text: String,
    /// The reference after variable expansion and composition, not yet normalised; or why it
    /// could not be determined.
    pub image: Result<String, Unresolved>,
    pub source: Source,
    pub form: Form,
    /// Other places that use this very value through a YAML alias.
    pub alias_sites: Vec<Span>,
    /// A name that helps a reader find it: the stage, service, job or container name.
    pub context: Option<String>,
    /// True when `span` covers exactly the reference so that a rewrite may splice it.
    pub exact: bool,
}

/// The context suffix of a Compose image that the service builds (`build:` and `image:`).
pub const BUILT_LOCALLY: &str = " (built locally)";

impl ImageOccurrence {
    /// True for a name the file gives to an image it builds (a Compose service with `build:`):
    /// nothing is pulled by that name, so there is no digest to pin.
    pub fn built_locally(&self) -> bool {
        self.context
            .as_deref()
            .is_some_and(|c| c.ends_with(BUILT_LOCALLY))
    }
}

/// Why a reference could not be determined offline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    pub reason: String,
}

impl Unresolved {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// A GitHub Action used by a step or job: `uses: owner/repo[/path]@ref`. Not an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionUse {
    /// The whole `owner/repo@ref` as written.
    pub span: Span,
    pub text: String,
    /// `owner/repo` (lowercase is not enforced; GitHub is case-insensitive).
    pub repository: String,
    /// A sub-directory path inside the repository, if any.
    pub path: Option<String>,
    /// The git ref after `@`: a tag, branch or commit SHA.
    pub git_ref: String,
    /// True when `git_ref` is a full 40-hex commit SHA.
    pub pinned: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiagnosticKind {
    /// The file could not be parsed (from here on); references after it may be missing.
    ParseError,
    /// Something the user should know but that is not a problem of the file.
    Note,
}

/// A problem in the file itself, at a byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: DiagnosticKind,
    pub span: Span,
    pub message: String,
}

/// Everything an extractor found in one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extraction {
    pub images: Vec<ImageOccurrence>,
    pub actions: Vec<ActionUse>,
    pub diagnostics: Vec<Diagnostic>,
    /// Indices of `images` by span, so merging alias sites stays O(1) per push.
    by_span: std::collections::HashMap<(usize, usize, Source), Vec<usize>>,
}

impl Extraction {
    /// Adds an occurrence; one already recorded at the same span instead gains `alias_sites`
    /// (a YAML alias reaches the same anchored scalar).
    pub fn push_image(&mut self, occ: ImageOccurrence) {
        let key = (occ.span.start, occ.span.end, occ.source);
        let same_span = self.by_span.entry(key).or_default();
        if let Some(&i) = same_span
            .iter()
            .find(|&&i| self.images[i].image == occ.image)
        {
            let existing = &mut self.images[i];
            for s in occ.alias_sites {
                if !existing.alias_sites.contains(&s) {
                    existing.alias_sites.push(s);
                }
            }
            return;
        }
        same_span.push(self.images.len());
        self.images.push(occ);
    }

    pub fn parse_error(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            kind: DiagnosticKind::ParseError,
            span,
            message: message.into(),
        });
    }

    pub fn note(&mut self, span: Span, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            kind: DiagnosticKind::Note,
            span,
            message: message.into(),
        });
    }
}

/// Runs the extractor for `kind` over `text`.
pub fn extract(kind: FileKind, text: &str) -> Extraction {
    let mut out = extract_embedded(kind, text);
    if kind.is_yaml() {
        image_variables::report(text, &mut out);
    }
    out.images.sort_by_key(|o| (o.span.start, o.span.end));
    out.actions.sort_by_key(|a| a.span.start);
    out.diagnostics.sort_by_key(|d| d.span.start);
    out
}

/// Reads a document of `kind` written inside another file (a manifest in a shell heredoc or a
/// Jenkins `yaml` block, a Dockerfile in Compose's `dockerfile_inline`): the extractor of that
/// kind alone, without the passes [`extract`] adds for a whole file. Spans are offsets in
/// `text`. Extractors reach other kinds only through here, so no kind imports another.
pub(crate) fn extract_embedded(kind: FileKind, text: &str) -> Extraction {
    use kind::*;
    match kind {
        FileKind::Dockerfile => dockerfile::extract(text),
        FileKind::Compose => compose::extract(text),
        FileKind::Kubernetes => kubernetes::extract(text),
        FileKind::HelmValues => helm::extract(text),
        FileKind::Kustomize => kubernetes::kustomize::extract(text),
        FileKind::GithubWorkflow => github_actions::extract_workflow(text),
        FileKind::GithubAction => github_actions::extract_action(text),
        FileKind::GitlabCi => gitlab_ci::extract(text),
        FileKind::CircleCi => circleci::extract(text),
        FileKind::AzurePipelines => azure_pipelines::extract(text),
        FileKind::BitbucketPipelines => bitbucket_pipelines::extract(text),
        FileKind::Jenkinsfile => jenkinsfile::extract(text),
        FileKind::Drone | FileKind::Woodpecker => drone::extract(text),
        FileKind::CloudBuild => cloudbuild::extract(text),
        FileKind::Devcontainer => devcontainer::extract(text),
        FileKind::Quadlet => quadlet::extract(text),
        FileKind::Bake => bake::extract(text),
        FileKind::Terraform => terraform::extract(text),
        FileKind::Nomad => terraform::extract_nomad(text),
        FileKind::EcsTaskDefinition => terraform::extract_ecs_json(text),
        FileKind::Skaffold => skaffold::extract(text),
        FileKind::Helmfile => helmfile::extract(text),
        FileKind::ShellScript => script::extract_shell(text),
        FileKind::Makefile => script::extract_makefile(text),
    }
}

/// A YAML node of one file read as a document of another kind: a chart template in a values
/// file is a manifest, a Helmfile release's `values:` are chart values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EmbeddedYaml {
    Manifest,
    HelmValues,
}

/// Reads `node`, a YAML node of `file`, as a document of the given kind, into `out`; the
/// counterpart of [`extract_embedded`] for documents already parsed.
pub(crate) fn walk_embedded(
    kind: EmbeddedYaml,
    node: read::yaml::NodeRef<'_, '_>,
    file: &str,
    out: &mut read::yaml::Found,
) {
    match kind {
        EmbeddedYaml::Manifest => kind::kubernetes::walk_document(node, file, out),
        EmbeddedYaml::HelmValues => kind::helm::walk_values(node, file, out),
    }
}
