//! Signatures for `verify --signatures`, `pin` and `resolve --signatures`: the policy from the
//! config, checked through the commands' registry client (mirrors included), concurrently.

use std::path::Path;

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
