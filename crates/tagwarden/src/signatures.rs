//! Signatures for `verify --signatures`, `pin` and `resolve --signatures`: the policy from the
//! config, checked through the commands' registry client (mirrors included), concurrently.

use std::path::Path;

use serde::Serialize;
use tagwarden_reference::{Digest, Reference};
use tagwarden_signature::{Decision, Policy, PolicyError, Verdict};

use crate::registry::RegistryResolver;

/// The `[signatures]` section of a config file's text, with its keys and trust root read
/// relative to `base`; errors carry the span of the value at fault.
pub(crate) fn load_policy(text: &str, base: &Path) -> Result<Option<Policy>, PolicyError> {
    tagwarden_signature::policy::parse(text)?
        .map(|draft| draft.load(base))
        .transpose()
}

/// One digest to check: the image as written, the digest, and the index it was taken from when
/// it is a platform manifest.
#[derive(Clone)]
pub(crate) struct Item {
    pub(crate) image: Reference,
    pub(crate) digest: Digest,
    pub(crate) index: Option<Digest>,
}

/// The policy's decision for every item, in order.
pub(crate) fn check_all(
    resolver: &RegistryResolver,
    policy: &Policy,
    items: &[Item],
) -> Vec<Decision> {
    let (client, runtime) = resolver.client();
    runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (i, item) in items.iter().enumerate() {
            let client = client.clone();
            let policy = policy.clone();
            let image = item.image.clone();
            let location = resolver.route(&item.image);
            let digest = item.digest.clone();
            let index = item.index.clone();
            set.spawn(async move {
                let d = tagwarden_signature::check_at(
                    &client,
                    &policy,
                    &image,
                    &location,
                    &digest,
                    index.as_ref(),
                )
                .await;
                (i, d)
            });
        }
        let mut out: Vec<Option<Decision>> = vec![None; items.len()];
        while let Some(joined) = set.join_next().await {
            if let Ok((i, d)) = joined {
                out[i] = Some(d);
            }
        }
        out.into_iter()
            .map(|d| {
                d.unwrap_or(Decision {
                    mode: None,
                    verdict: Verdict::Unavailable("internal error: the check failed".into()),
                })
            })
            .collect()
    })
}

/// Who signed each item, for display (see `tagwarden_signature::inspect`).
pub(crate) fn inspect_all(
    resolver: &RegistryResolver,
    policy: Option<&Policy>,
    items: &[Item],
) -> Vec<Verdict> {
    let (client, runtime) = resolver.client();
    runtime.block_on(async {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let location = resolver.route(&item.image);
            out.push(
                tagwarden_signature::inspect(client, policy, &item.image, &location, &item.digest)
                    .await,
            );
        }
        out
    })
}

/// Who signed a digest, as `resolve --signatures` shows it.
#[derive(Serialize)]
pub(crate) struct Signers {
    /// `verified`, `missing`, `invalid`, `unavailable`.
    status: &'static str,
    /// Who signed, for a verified digest.
    signers: Vec<String>,
    /// Whether a `[signatures]` rule covers the image (then `status` is the policy's verdict).
    policy: bool,
    /// The sentence the human output shows.
    pub(crate) reason: String,
}

/// Who signed each `(image, digest)`; `None` where there is no digest. Checked against the
/// config's `[signatures]` rule when one covers the image; otherwise every keyless signature
/// that verifies against the trust root is shown with its identity (keyed ones need a policy
/// key).
pub(crate) fn who_signed(
    resolver: &RegistryResolver,
    config: Option<&Path>,
    asked: &[(Reference, Option<&str>)],
) -> anyhow::Result<Vec<Option<Signers>>> {
    let config = match config {
        Some(path) => crate::config::Config::load(path)?,
        None => crate::config::Config::discover(Path::new("."))?,
    };
    let policy = config.signatures.as_ref();
    let mut covered = Vec::new();
    let mut free = Vec::new();
    for (i, (image, digest)) in asked.iter().enumerate() {
        let Some(digest) = digest.and_then(|d| Digest::parse(d).ok()) else {
            continue;
        };
        let item = Item {
            image: image.clone(),
            digest,
            index: None,
        };
        if policy.is_some_and(|p| p.rule_for(image).is_some()) {
            covered.push((i, item));
        } else {
            free.push((i, item));
        }
    }
    let mut out: Vec<Option<Signers>> = asked.iter().map(|_| None).collect();
    if let Some(policy) = policy {
        let list: Vec<Item> = covered.iter().map(|(_, it)| it.clone()).collect();
        for ((i, _), d) in covered.iter().zip(check_all(resolver, policy, &list)) {
            let reason = format!(
                "{} ({} policy)",
                d.reason(),
                d.mode.map_or("no".to_string(), |m| m.to_string())
            );
            out[*i] = Some(signers(&d.verdict, true, reason));
        }
    }
    let list: Vec<Item> = free.iter().map(|(_, it)| it.clone()).collect();
    for ((i, _), v) in free.iter().zip(inspect_all(resolver, policy, &list)) {
        let reason = Decision {
            mode: None,
            verdict: v.clone(),
        }
        .reason();
        out[*i] = Some(signers(&v, false, reason));
    }
    Ok(out)
}

fn signers(verdict: &Verdict, policy: bool, reason: String) -> Signers {
    let (status, signers) = match verdict {
        Verdict::Verified(v) => ("verified", v.iter().map(|s| s.signer.to_string()).collect()),
        Verdict::Missing { .. } | Verdict::NotRequired => ("missing", Vec::new()),
        Verdict::Invalid(_) => ("invalid", Vec::new()),
        Verdict::Unavailable(_) => ("unavailable", Vec::new()),
    };
    Signers {
        status,
        signers,
        policy,
        reason,
    }
}
