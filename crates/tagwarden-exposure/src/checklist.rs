//! The rotation checklist: one item per credential (not per file or job), with every reason an
//! exposed job could read it, the exposure time, and the provider's rotation steps; the
//! credentials only jobs that were not exposed could read are listed apart, with why.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use tagwarden_secrets::{Credential, Rotation, RuleSet};

use crate::job::{CredentialKind, Job, Note, Place, Platform};
use crate::selection::Status;

/// One job the evidence spoke of.
#[derive(Clone, Debug, Serialize)]
pub struct JobEntry {
    /// `file:id`, as `--job` takes it.
    pub key: String,
    pub platform: Platform,
    pub tree: String,
    pub file: String,
    pub id: String,
    pub name: Option<String>,
    pub at: Place,
    /// Whether it was exposed, why, and when.
    #[serde(flatten)]
    pub status: Status,
    /// The job checks the repository out: the tree's files were in its workspace.
    pub workspace: bool,
    pub notes: Vec<String>,
}

/// One reason a job could read a credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The job's key (`file:id`).
    pub job: String,
    pub why: String,
    /// The definition (or the file holding the value) that makes it readable.
    pub at: Place,
}

/// One credential to rotate (or, listed apart, one that was not exposed).
#[derive(Clone, Debug, Serialize)]
pub struct Item {
    pub kind: CredentialKind,
    /// Its name: a secret's name, a credential id, a role, or for a value found in a file the
    /// rule's description (`GitHub personal access token (classic)`).
    pub name: String,
    pub platform: Option<Platform>,
    pub tree: String,
    /// Where it is kept: the CI platform's store, or `file in the repository`.
    pub scope: String,
    /// Whose it is, as far as its name or format says: `npm`, `AWS`, `unknown`.
    pub provider: String,
    /// For a value found in files: a redacted preview, its fingerprint, the accounts the files
    /// name, and every place it is written.
    pub preview: Option<String>,
    pub fingerprint: Option<String>,
    pub accounts: Vec<String>,
    pub found_at: Vec<Place>,
    /// Why exposed jobs could read it (for an item listed apart: why the jobs that could read
    /// it were not exposed).
    pub reasons: Vec<Reason>,
    /// The exposed jobs' first and last run of the affected image, when the hunt gave times.
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// For an item listed apart: why it was not exposed.
    pub not_exposed: Vec<String>,
    #[serde(serialize_with = "rotation_steps")]
    pub rotation: Option<Arc<Rotation>>,
}

fn rotation_steps<S: serde::Serializer>(
    r: &Option<Arc<Rotation>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => serde::Serialize::serialize(r.as_ref(), s),
        None => s.serialize_none(),
    }
}

/// The whole checklist.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Checklist {
    /// Rotate these, most evidence first.
    pub exposed: Vec<Item>,
    /// Readable only by jobs that were not exposed.
    pub not_exposed: Vec<Item>,
    /// Every job the evidence spoke of, exposed first.
    pub jobs: Vec<JobEntry>,
    /// What could not be read or matched.
    pub notes: Vec<Note>,
}

/// The secrets found in one tree's files.
pub struct TreeSecrets<'a> {
    pub tree: &'a str,
    pub credentials: &'a [Credential],
}

/// Builds the checklist from the jobs, their status, and the secrets of each tree's files.
pub fn build(
    jobs: &[Job],
    selected: &[(usize, Status)],
    secrets: &[TreeSecrets<'_>],
    rules: &RuleSet,
    notes: Vec<Note>,
) -> Checklist {
    // (tree, platform, kind, name) → item
    let mut items: BTreeMap<(String, Option<Platform>, CredentialKind, String), Item> =
        BTreeMap::new();
    let mut entries = Vec::new();
    for (i, status) in selected {
        let Some(job) = jobs.get(*i) else { continue };
        entries.push(entry(job, status));
        for g in &job.grants {
            let key = (job.tree.clone(), Some(job.platform), g.kind, g.name.clone());
            let item = items.entry(key).or_insert_with(|| {
                let (provider, rotation) = provider_of(g.kind, &g.name, g.rotation, rules);
                Item {
                    kind: g.kind,
                    name: g.name.clone(),
                    platform: Some(job.platform),
                    tree: job.tree.clone(),
                    scope: g.scope.clone(),
                    provider,
                    preview: None,
                    fingerprint: None,
                    accounts: Vec::new(),
                    found_at: Vec::new(),
                    reasons: Vec::new(),
                    first: None,
                    last: None,
                    not_exposed: Vec::new(),
                    rotation,
                }
            });
            add_reason(item, job, status, g.why.clone(), g.at.clone());
        }
    }
    for tree in secrets {
        let readers: Vec<(&Job, &Status)> = selected
            .iter()
            .filter_map(|(i, s)| jobs.get(*i).map(|j| (j, s)))
            .filter(|(j, _)| j.tree == tree.tree)
            .collect();
        if readers.is_empty() {
            continue;
        }
        for c in tree.credentials {
            let rule = &c.rule;
            let found_at: Vec<Place> = c
                .occurrences
                .iter()
                .map(|m| Place {
                    path: m.location.path.clone(),
                    line: m.location.line,
                    column: m.location.column,
                })
                .collect();
            let mut item = Item {
                kind: CredentialKind::FileSecret,
                name: rule.name.clone(),
                platform: None,
                tree: tree.tree.to_string(),
                scope: "written in a file of the repository".to_string(),
                provider: rule.provider.clone(),
                preview: Some(c.preview.clone()),
                fingerprint: Some(c.fingerprint.to_string()),
                accounts: c.accounts.clone(),
                found_at: found_at.clone(),
                reasons: Vec::new(),
                first: None,
                last: None,
                not_exposed: Vec::new(),
                rotation: Some(Arc::clone(&rule.rotation)),
            };
            let Some(first) = found_at.first() else {
                continue;
            };
            let mut any_reader = false;
            for (job, status) in &readers {
                if !job.workspace {
                    continue;
                }
                any_reader = true;
                let why = format!(
                    "{} of {} checks the repository out: the file is in its workspace, where the compromised image could read it",
                    job_word(job),
                    job.file
                );
                add_reason(&mut item, job, status, why, first.clone());
            }
            if !any_reader {
                item.not_exposed.push(
                    "no job the evidence names checks this repository out: the file was not in their workspaces".to_string(),
                );
            }
            let key = (
                tree.tree.to_string(),
                None,
                CredentialKind::FileSecret,
                format!("{} {}", rule.name, c.fingerprint),
            );
            items.insert(key, item);
        }
    }
    let mut checklist = Checklist {
        notes,
        ..Default::default()
    };
    for (_, mut item) in items {
        if item.reasons.is_empty() && item.not_exposed.is_empty() {
            continue;
        }
        let exposed = !item.reasons.is_empty();
        if exposed {
            item.not_exposed.clear();
            checklist.exposed.push(item);
        } else {
            checklist.not_exposed.push(item);
        }
    }
    // Most readers first, then by kind and name: a stable order.
    checklist.exposed.sort_by(|a, b| {
        b.reasons
            .len()
            .cmp(&a.reasons.len())
            .then_with(|| order(a).cmp(&order(b)))
    });
    checklist.not_exposed.sort_by_key(order);
    entries.sort_by(|a, b| {
        b.status
            .exposed
            .cmp(&a.status.exposed)
            .then_with(|| a.key.cmp(&b.key))
    });
    checklist.jobs = entries;
    checklist
}

fn order(i: &Item) -> (String, CredentialKind, String) {
    (i.tree.clone(), i.kind, i.name.clone())
}

fn job_word(job: &Job) -> String {
    match job.platform {
        Platform::Jenkins => "the pipeline".to_string(),
        _ => format!("job `{}`", job.id),
    }
}

fn add_reason(item: &mut Item, job: &Job, status: &Status, why: String, at: Place) {
    if status.exposed {
        let r = Reason {
            job: job.key(),
            why,
            at,
        };
        if !item.reasons.contains(&r) {
            item.reasons.push(r);
        }
        if let Some(f) = status.first {
            item.first = Some(item.first.map_or(f, |x| x.min(f)));
        }
        if let Some(l) = status.last {
            item.last = Some(item.last.map_or(l, |x| x.max(l)));
        }
    } else {
        let line = format!(
            "{} could read it ({why}, {at}), but was not exposed: {}",
            job.key(),
            status.why.join("; ")
        );
        if !item.not_exposed.contains(&line) {
            item.not_exposed.push(line);
        }
    }
}

fn entry(job: &Job, status: &Status) -> JobEntry {
    JobEntry {
        key: job.key(),
        platform: job.platform,
        tree: job.tree.clone(),
        file: job.file.clone(),
        id: job.id.clone(),
        name: job.name.clone(),
        at: job.at.clone(),
        status: status.clone(),
        workspace: job.workspace,
        notes: job.notes.clone(),
    }
}

/// Names that say whose a stored secret is, and the rotation that fits, in order: the first
/// hit wins (`DOCKERHUB_TOKEN` is Docker Hub's, not a generic token).
const NAME_HINTS: &[(&[&str], &str, &str)] = &[
    (&["NPM"], "npm", "npm-token"),
    (&["PYPI", "TWINE"], "PyPI", "pypi-token"),
    (
        &[
            "DOCKERHUB",
            "DOCKER_HUB",
            "DOCKER_PASSWORD",
            "DOCKER_TOKEN",
            "DOCKER_PAT",
        ],
        "Docker Hub",
        "dockerhub-token",
    ),
    (
        &["REGISTRY", "GHCR", "QUAY", "HARBOR", "ECR", "ACR"],
        "a container registry",
        "registry-credential",
    ),
    (
        &["AWS_SECRET", "AWS_ACCESS", "AWS_KEY", "AWS_CREDENTIALS"],
        "AWS",
        "aws-access-key",
    ),
    (
        &["GCP", "GOOGLE", "GCLOUD", "SERVICE_ACCOUNT"],
        "Google Cloud",
        "gcp-service-account-key",
    ),
    (&["AZURE", "ARM_CLIENT"], "Azure", "azure-client-secret"),
    (&["GITLAB"], "GitLab", "gitlab-token"),
    (&["GITHUB", "GH_", "_PAT"], "GitHub", "github-token"),
    (&["SLACK_WEBHOOK"], "Slack", "slack-webhook"),
    (&["SLACK"], "Slack", "slack-token"),
    (&["SSH", "DEPLOY_KEY"], "SSH", "ssh-key"),
    (&["KUBE", "K8S"], "Kubernetes", "kubernetes-token"),
    (&["STRIPE"], "Stripe", "stripe-key"),
    (&["SENDGRID"], "SendGrid", "sendgrid"),
    (&["TWILIO"], "Twilio", "twilio"),
];

/// Whose a CI credential is, by its name, and the rotation steps for it.
fn provider_of(
    kind: CredentialKind,
    name: &str,
    fallback: &str,
    rules: &RuleSet,
) -> (String, Option<Arc<Rotation>>) {
    let specific = matches!(
        kind,
        CredentialKind::Secret | CredentialKind::ExternalSecret
    );
    if specific {
        let upper = name.to_ascii_uppercase().replace(['-', '.', ' '], "_");
        for (words, provider, rotation) in NAME_HINTS {
            if words.iter().any(|w| upper.contains(w))
                && let Some(r) = rules.rotation(rotation)
            {
                return (format!("{provider} (by its name)"), Some(Arc::clone(r)));
            }
        }
    }
    // The way the job uses it may say whose it is (a Jenkins AWS binding).
    if let Some((_, provider, _)) = NAME_HINTS.iter().find(|(_, _, r)| *r == fallback) {
        return (
            format!("{provider} (by how the job uses it)"),
            rules.rotation(fallback).cloned(),
        );
    }
    let provider = match kind {
        CredentialKind::JobToken | CredentialKind::IdToken => "the CI platform",
        CredentialKind::CloudRole | CredentialKind::ServiceConnection => "the cloud provider",
        _ => "unknown: find what the secret is for",
    };
    (provider.to_string(), rules.rotation(fallback).cloned())
}
