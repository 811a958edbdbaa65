//! Detection rules as data: one TOML file per provider under `rules/` (format in the crate's
//! README), compiled into the binary, each rule carrying examples it must and must not match.

mod builtin;
mod load;
mod selftest;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use regex::Regex;

pub use builtin::FILES as BUILTIN_FILES;
pub use selftest::{SelfTestFailure, self_test};

/// How likely a match of the rule is a live credential rather than a look-alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A name that says secret and a value that looks random: review it.
    Low,
    /// A format that is mostly, not only, used for this credential.
    Medium,
    /// A provider's own token format (prefix, length, alphabet).
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// How to rotate a kind of credential, in the four steps of the incident playbook, with the
/// provider's documentation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rotation {
    pub id: String,
    /// The provider's page that documents these steps.
    pub docs: String,
    /// How to revoke the credential (or disable it first when revoking breaks production).
    pub revoke: String,
    /// How to issue a replacement.
    pub reissue: String,
    /// What has to receive the replacement (CI secrets, clusters, config files).
    pub update: String,
    /// How to confirm that the old credential no longer works.
    pub confirm: String,
}

/// Where an assignment (a name bound to a value) was read, which a rule may require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A line of any other text file: `NAME=value`, `name: value`, `"name": "value"`, `<name>`.
    Text,
    /// A `.env` file.
    Dotenv,
    /// A YAML file (Helm values, CI files, manifests other than Secrets).
    Yaml,
    /// A JSON file.
    Json,
    /// Terraform or HCL: `*.tf`, `*.tfvars`, `*.hcl`.
    Terraform,
    /// A Terraform state file.
    TerraformState,
    /// A Kubernetes `Secret` manifest's `data` or `stringData`.
    KubernetesSecret,
    /// A kubeconfig file.
    Kubeconfig,
    /// A docker or podman `config.json` / `auth.json`.
    DockerConfig,
    /// A Google Cloud credential JSON (service-account key, authorized user).
    GcpCredentials,
    /// `~/.aws/credentials` or `~/.aws/config`.
    AwsCredentials,
    /// Any other INI-style file.
    Ini,
    /// `.npmrc`
    Npmrc,
    /// `.pypirc`
    Pypirc,
    /// `.netrc`
    Netrc,
}

impl Source {
    pub const ALL: [Source; 15] = [
        Source::Text,
        Source::Dotenv,
        Source::Yaml,
        Source::Json,
        Source::Terraform,
        Source::TerraformState,
        Source::KubernetesSecret,
        Source::Kubeconfig,
        Source::DockerConfig,
        Source::GcpCredentials,
        Source::AwsCredentials,
        Source::Ini,
        Source::Npmrc,
        Source::Pypirc,
        Source::Netrc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Text => "text",
            Source::Dotenv => "dotenv",
            Source::Yaml => "yaml",
            Source::Json => "json",
            Source::Terraform => "terraform",
            Source::TerraformState => "terraform-state",
            Source::KubernetesSecret => "kubernetes-secret",
            Source::Kubeconfig => "kubeconfig",
            Source::DockerConfig => "docker-config",
            Source::GcpCredentials => "gcp-credentials",
            Source::AwsCredentials => "aws-credentials",
            Source::Ini => "ini",
            Source::Npmrc => "npmrc",
            Source::Pypirc => "pypirc",
            Source::Netrc => "netrc",
        }
    }

    fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A detection rule. Built from a rule file; see the crate's README for the format.
#[derive(serde::Serialize)]
pub struct Rule {
    /// Stable id, `provider.kind` (`github.pat-classic`).
    pub id: String,
    /// What the credential is, for a reader: `GitHub personal access token (classic)`.
    pub name: String,
    /// Who issued it: `GitHub`, `AWS`; `generic` for formats no one provider owns.
    pub provider: String,
    /// The kind of credential within the provider: `personal access token`, `private key`.
    pub kind: String,
    pub confidence: Confidence,
    #[serde(serialize_with = "rotation")]
    pub rotation: Arc<Rotation>,
    #[serde(skip)]
    pub(crate) keywords: Vec<String>,
    #[serde(skip)]
    pub(crate) matcher: Matcher,
    /// Minimum Shannon entropy (bits per character) of the secret.
    #[serde(skip)]
    pub(crate) entropy: Option<f64>,
    #[serde(skip)]
    pub(crate) pair: Option<Pair>,
    #[serde(skip)]
    pub(crate) examples: Vec<Example>,
    #[serde(skip)]
    pub(crate) negative_examples: Vec<Example>,
    /// `path:line:column` of the rule in its file, for self-test messages.
    #[serde(skip)]
    pub(crate) origin: String,
}

fn rotation<S: serde::Serializer>(r: &Arc<Rotation>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(r.as_ref(), s)
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rule({})", self.id)
    }
}

impl Rule {
    /// True for rules no single provider owns (private keys, JWTs, URLs, names that say secret):
    /// a provider's rule wins over them where both match the same value.
    pub fn is_generic(&self) -> bool {
        self.provider == "generic"
    }

    /// Which of two rules matching the same value is reported: a provider's token format, then a
    /// provider's named value (a kubeconfig token, an AWS secret key by its name), then a
    /// generic format (a PEM key, a JWT), then a value the file declares secret, then a name
    /// that says secret.
    pub(crate) fn precedence(&self) -> (u8, Confidence) {
        let rank = match &self.matcher {
            Matcher::Pattern(_) if !self.is_generic() => 4,
            Matcher::Pattern(_) => 2,
            Matcher::Assignment(a) if a.declared => 1,
            Matcher::Assignment(_) if !self.is_generic() => 3,
            Matcher::Assignment(_) => 0,
        };
        (rank, self.confidence)
    }
}

/// How a rule recognises its credential.
pub(crate) enum Matcher {
    /// A regular expression over the text, with a `secret` capture group (and optionally
    /// `account`, or `user` and `host`, naming whose credential it is).
    Pattern(Regex),
    /// A name bound to a value, as readers of structured files and the line reader find them.
    Assignment(AssignmentRule),
}

pub(crate) struct AssignmentRule {
    /// The name (last key) the value is bound to.
    pub(crate) name: Regex,
    pub(crate) not_name: Option<Regex>,
    /// Readers whose assignments the rule considers; empty for all.
    pub(crate) sources: Vec<Source>,
    /// Only values the file itself declares secret (a Secret's data, a sensitive attribute).
    pub(crate) declared: bool,
    /// A shape the value must have.
    pub(crate) value: Option<Regex>,
    pub(crate) min_length: usize,
}

/// A rule whose matches belong with a match of another rule nearby: an AWS secret key with its
/// access key id.
pub(crate) struct Pair {
    pub(crate) rule: String,
    pub(crate) within_lines: usize,
    /// Drop matches that have no partner (the value alone is too common a shape).
    pub(crate) required: bool,
}

/// A self-test example: text scanned as a file at `path` (`example.txt` when not given).
#[derive(Clone, Debug)]
pub(crate) struct Example {
    pub(crate) path: String,
    pub(crate) text: String,
}

/// The compiled rules, in file order, looked up by id.
pub struct RuleSet {
    pub(crate) rules: Vec<Arc<Rule>>,
    by_id: HashMap<String, usize>,
    rotations: HashMap<String, Arc<Rotation>>,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RuleSet({} rules)", self.rules.len())
    }
}

/// Why a rule file was rejected, and where: `path:line:column: message` (1-based; the column
/// counts characters).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct RuleError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl RuleSet {
    /// The rules shipped with the crate (`rules/*.toml`).
    pub fn builtin() -> Result<RuleSet, Vec<RuleError>> {
        RuleSet::from_toml(BUILTIN_FILES)
    }

    /// Loads rule files given as `(path, text)`; `path` is used in messages only. Every error
    /// of every file is returned, each at its line and column.
    pub fn from_toml(files: &[(&str, &str)]) -> Result<RuleSet, Vec<RuleError>> {
        let (rules, rotations) = load::load(files)?;
        let by_id = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        Ok(RuleSet {
            rules,
            by_id,
            rotations,
        })
    }

    /// A rotation procedure by id, whether or not a rule uses it (`ci.toml` holds those of
    /// credentials a CI platform hands to jobs, which no rule finds in a file).
    pub fn rotation(&self, id: &str) -> Option<&Arc<Rotation>> {
        self.rotations.get(id)
    }

    pub fn rules(&self) -> impl Iterator<Item = &Arc<Rule>> {
        self.rules.iter()
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Rule>> {
        self.by_id.get(id).map(|&i| &self.rules[i])
    }

    pub(crate) fn index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }
}
