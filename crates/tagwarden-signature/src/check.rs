//! The question every caller asks: is this digest of this repository acceptable under the
//! policy, and why (or why not)?

use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::Client;

use crate::fetch;
use crate::policy::{Identity, Mode, Policy, Rule};
use crate::trust_root::TrustRoot;
use crate::verify::{self, Verified};

/// What the signatures of one digest came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No rule of the policy covers this image.
    NotRequired,
    /// At least one signature satisfies the rule.
    Verified(Vec<Verified>),
    /// No signature at all (`note` says more, e.g. that the index is signed but not this child).
    Missing { note: Option<String> },
    /// Signatures exist, none satisfies the rule; one reason per signature.
    Invalid(Vec<String>),
    /// The registry could not be asked, so nothing is known.
    Unavailable(String),
}

/// The answer for one image digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The mode of the rule that applied (`None` when none did).
    pub mode: Option<Mode>,
    pub verdict: Verdict,
}

impl Decision {
    /// True when the image may be used: it is signed as required, no rule covers it, or the
    /// rule only warns.
    pub fn acceptable(&self) -> bool {
        match self.verdict {
            Verdict::NotRequired | Verdict::Verified(_) => true,
            _ => self.mode == Some(Mode::Warn),
        }
    }

    /// One sentence for people: who signed, or what is wrong.
    pub fn reason(&self) -> String {
        match &self.verdict {
            Verdict::NotRequired => "no signature rule covers this image".into(),
            Verdict::Verified(v) => format!(
                "signed by {}",
                v.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            Verdict::Missing { note: None } => "no signature found".into(),
            Verdict::Missing { note: Some(n) } => format!("no signature found: {n}"),
            Verdict::Invalid(reasons) => format!("no valid signature: {}", reasons.join("; ")),
            Verdict::Unavailable(e) => format!("signatures could not be read: {e}"),
        }
    }
}

/// Checks `digest` of `image`'s repository against `policy`. `index` names the index the digest
/// was taken from, when it is a platform manifest: cosign binds a signature to one digest, so
/// an index's signature does not cover its children (they must be signed too, as
/// `cosign sign --recursive` does); the index is then only looked at to say so.
pub async fn check(
    client: &Client,
    policy: &Policy,
    image: &Reference,
    digest: &Digest,
    index: Option<&Digest>,
) -> Decision {
    check_at(client, policy, image, image, digest, index).await
}

/// [`check`], reading the signatures from `location` (a mirror of `image`'s repository, whose
/// name the signatures do not carry) while the policy and the repository binding use `image`.
pub async fn check_at(
    client: &Client,
    policy: &Policy,
    image: &Reference,
    location: &Reference,
    digest: &Digest,
    index: Option<&Digest>,
) -> Decision {
    let Some(rule) = policy.rule_for(image) else {
        return Decision {
            mode: None,
            verdict: Verdict::NotRequired,
        };
    };
    let verdict = judge(
        client,
        rule,
        &policy.trust_root,
        image,
        location,
        digest,
        index,
    )
    .await;
    Decision {
        mode: Some(rule.mode),
        verdict,
    }
}

/// Who signed `digest`, for display: every signature whose certificate chains to the trust
/// root and whose log entry verifies, whatever its identity; keyed signatures are checked
/// against `keys` (the policy's, when one covers the image). Read from `location` as in
/// [`check_at`].
pub async fn inspect(
    client: &Client,
    policy: Option<&Policy>,
    image: &Reference,
    location: &Reference,
    digest: &Digest,
) -> Verdict {
    let any = Identity::new("**", "*").ok();
    let (root, keys) = match policy {
        Some(p) => (
            p.trust_root.clone(),
            p.rule_for(image)
                .map(|r| r.keys.clone())
                .unwrap_or_default(),
        ),
        None => (std::sync::Arc::new(TrustRoot::public_good()), Vec::new()),
    };
    let mut rule = match Policy::single(
        &["**"],
        Mode::Warn,
        keys,
        any.into_iter().collect(),
        TrustRoot::default(),
    ) {
        Ok(mut p) => p.rules.remove(0),
        Err(e) => return Verdict::Unavailable(e),
    };
    rule.repository_binding = false;
    let mut verdict = judge(client, &rule, &root, image, location, digest, None).await;
    if let Verdict::Verified(v) = &mut verdict {
        v.sort_by_key(|s| s.to_string());
        v.dedup();
    }
    // Keyed signatures cannot be checked without the key: say so rather than "invalid".
    if let Verdict::Invalid(reasons) = &verdict
        && reasons
            .iter()
            .all(|r| r.ends_with(crate::verify::NO_POLICY_KEY))
    {
        return Verdict::Missing {
            note: Some(
                "signed with a cosign key, which only a [signatures] rule naming the key can check"
                    .into(),
            ),
        };
    }
    verdict
}

async fn judge(
    client: &Client,
    rule: &Rule,
    root: &TrustRoot,
    image: &Reference,
    location: &Reference,
    digest: &Digest,
    index: Option<&Digest>,
) -> Verdict {
    let found = match fetch::signatures(client, location, digest).await {
        Ok(f) => f,
        Err(e) => return Verdict::Unavailable(e.to_string()),
    };
    let mut verified = Vec::new();
    let mut reasons = found.unreadable.clone();
    for c in &found.candidates {
        match verify::verify(c, rule, root, image, digest) {
            Ok(v) => verified.push(v),
            Err(e) => reasons.push(format!("{}: {e}", c.origin)),
        }
    }
    if !verified.is_empty() {
        return Verdict::Verified(verified);
    }
    if !reasons.is_empty() {
        return Verdict::Invalid(reasons);
    }
    let note = match index {
        Some(parent) if parent != digest => match fetch::signatures(client, location, parent).await
        {
            Ok(f) if !f.candidates.is_empty() => Some(format!(
                "the index {parent} is signed, but cosign binds a signature to one digest, so it does not cover this platform manifest (sign with `cosign sign --recursive`)"
            )),
            _ => None,
        },
        _ => None,
    };
    Verdict::Missing { note }
}
