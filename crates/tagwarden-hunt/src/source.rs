//! Where evidence comes from, and what a source could not read.

use std::fmt;
use std::str::FromStr;

/// Which kind of source saw something. The kebab-case names ([`SourceKind::as_str`]) are stable:
/// they are the `source` of every hit and problem in every output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKind {
    /// A reference in a file of the scanned tree.
    File,
    /// A Docker Engine API (docker or podman) answering on a socket.
    Engine,
    /// A registry or mirror the user named.
    Registry,
    /// `kubectl get pods -A -o json` output.
    KubectlSnapshot,
    /// `docker inspect` / `docker images --digests` output.
    DockerSnapshot,
    /// `crictl images -o json` output.
    CrictlSnapshot,
    GithubActionsLog,
    GitlabRunnerLog,
    JenkinsLog,
    /// Plain `docker pull` / `docker run` output.
    DockerPullLog,
    BuildkitLog,
    DockerHubUsage,
    DockerHubAudit,
    /// Harbor's audit log (`/api/v2.0/audit-logs`).
    HarborAudit,
    /// AWS CloudTrail records of ECR calls.
    CloudTrail,
    /// A GitHub organisation's audit-log export.
    GithubAudit,
    /// GitLab audit events.
    GitlabAudit,
    ZeekDns,
    ZeekHttp,
    ZeekSsl,
    ZeekConn,
    Squid,
    /// nginx or Apache combined access log.
    AccessLog,
    Route53Resolver,
    CoreDns,
    VpcFlow,
    JsonLines,
    PlainText,
}

impl SourceKind {
    /// Every kind, in declaration order.
    pub const ALL: [SourceKind; 28] = [
        Self::File,
        Self::Engine,
        Self::Registry,
        Self::KubectlSnapshot,
        Self::DockerSnapshot,
        Self::CrictlSnapshot,
        Self::GithubActionsLog,
        Self::GitlabRunnerLog,
        Self::JenkinsLog,
        Self::DockerPullLog,
        Self::BuildkitLog,
        Self::DockerHubUsage,
        Self::DockerHubAudit,
        Self::HarborAudit,
        Self::CloudTrail,
        Self::GithubAudit,
        Self::GitlabAudit,
        Self::ZeekDns,
        Self::ZeekHttp,
        Self::ZeekSsl,
        Self::ZeekConn,
        Self::Squid,
        Self::AccessLog,
        Self::Route53Resolver,
        Self::CoreDns,
        Self::VpcFlow,
        Self::JsonLines,
        Self::PlainText,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Engine => "engine",
            Self::Registry => "registry",
            Self::KubectlSnapshot => "kubectl-snapshot",
            Self::DockerSnapshot => "docker-snapshot",
            Self::CrictlSnapshot => "crictl-snapshot",
            Self::GithubActionsLog => "github-actions-log",
            Self::GitlabRunnerLog => "gitlab-runner-log",
            Self::JenkinsLog => "jenkins-log",
            Self::DockerPullLog => "docker-pull-log",
            Self::BuildkitLog => "buildkit-log",
            Self::DockerHubUsage => "dockerhub-usage",
            Self::DockerHubAudit => "dockerhub-audit",
            Self::HarborAudit => "harbor-audit",
            Self::CloudTrail => "cloudtrail",
            Self::GithubAudit => "github-audit",
            Self::GitlabAudit => "gitlab-audit",
            Self::ZeekDns => "zeek-dns",
            Self::ZeekHttp => "zeek-http",
            Self::ZeekSsl => "zeek-ssl",
            Self::ZeekConn => "zeek-conn",
            Self::Squid => "squid",
            Self::AccessLog => "access-log",
            Self::Route53Resolver => "route53-resolver",
            Self::CoreDns => "coredns",
            Self::VpcFlow => "vpc-flow",
            Self::JsonLines => "json-lines",
            Self::PlainText => "plain-text",
        }
    }

    /// Whether the source reports what a file of the scanned tree references (rather than what
    /// happened somewhere).
    pub fn is_file(&self) -> bool {
        *self == Self::File
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown source kind {s:?}"))
    }
}

/// Something that could not be read (a file, a record, a socket, a registry), or something
/// read with a caveat. Sources report problems to their sink; the hunt keeps them apart from
/// notes: a problem means evidence went unread, so the answer cannot be "clean".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub source: SourceKind,
    /// The file, record, socket or registry concerned.
    pub location: String,
    /// What happened, for people.
    pub message: String,
}

/// Whether a source searched at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceStatus {
    /// Searched (problems with parts of it are listed apart).
    Ok,
    /// Nothing could be searched (a refused socket, a missing directory).
    Error,
}

impl SourceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
        }
    }
}

impl FromStr for SourceStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ok" => Ok(Self::Ok),
            "error" => Ok(Self::Error),
            _ => Err(format!("unknown source status {s:?}")),
        }
    }
}

/// What one source did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRun {
    /// What was searched ("CI logs in ./logs", "podman at /run/podman/podman.sock").
    pub name: String,
    pub status: SourceStatus,
    /// Why nothing could be searched, when `status` is `Error`.
    pub error: Option<String>,
    pub files: u64,
    /// Bytes read after decompression.
    pub bytes: u64,
    pub records: u64,
}
