//! `tagwarden resolve REF…`: the digest each reference's tag points at now.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;
use tagwarden_reference::Reference;

use crate::Status;
use crate::cli::{ListFormat, ResolveArgs};
use crate::resolver::{Resolver, platform_matches};

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    results: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Item<'a> {
    /// As given on the command line.
    reference: &'a str,
    /// Normalised, without digest.
    image: Option<String>,
    digest: Option<String>,
    platforms: Vec<PlatformDigest>,
    error: Option<String>,
    /// With `--signatures`: who signed the digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    signatures: Option<Signatures>,
}

#[derive(Serialize)]
struct Signatures {
    /// `verified`, `missing`, `invalid`, `unavailable`.
    status: &'static str,
    /// Who signed, for a verified digest.
    signers: Vec<String>,
    /// Whether a `[signatures]` rule covers the image (then `status` is the policy's verdict).
    policy: bool,
    /// The sentence the human output shows.
    reason: String,
}

#[derive(Serialize)]
struct PlatformDigest {
    platform: String,
    digest: String,
}

pub(crate) fn run(args: ResolveArgs) -> Result<Status> {
    let parsed: Vec<Result<Reference, String>> = args
        .references
        .iter()
        .map(|s| Reference::parse(s).map_err(|e| format!("not a valid image reference: {e}")))
        .collect();
    let valid: Vec<Reference> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok().cloned())
        .collect();
    let resolver = crate::registry::RegistryResolver::new(&args.registry)?;
    let mut answers = resolver
        .resolve_all(&valid, args.platform.is_some(), &|_, _| {})
        .into_iter();

    let mut items = Vec::new();
    let mut failed = false;
    for (input, p) in args.references.iter().zip(&parsed) {
        let mut item = Item {
            reference: input,
            image: None,
            digest: None,
            platforms: Vec::new(),
            error: None,
            signatures: None,
        };
        match p {
            Err(e) => item.error = Some(e.clone()),
            Ok(r) => {
                item.image = Some(r.to_string());
                match answers.next() {
                    Some(Ok(res)) => {
                        item.digest = Some(res.digest.to_string());
                        let wanted = args.platform.as_deref();
                        for (platform, d) in &res.children {
                            if wanted.is_some_and(|w| w == "all" || platform_matches(platform, w)) {
                                item.platforms.push(PlatformDigest {
                                    platform: platform.clone(),
                                    digest: d.to_string(),
                                });
                            }
                        }
                        if let Some(w) = wanted
                            && w != "all"
                            && !res.children.is_empty()
                            && item.platforms.is_empty()
                        {
                            item.error = Some(format!("no manifest for platform {w}"));
                        }
                    }
                    Some(Err(e)) => item.error = Some(e.message),
                    None => item.error = Some("not resolved".into()),
                }
            }
        }
        failed |= item.error.is_some();
        items.push(item);
    }

    if args.signatures {
        add_signatures(&mut items, &parsed, &resolver, args.config.as_deref())?;
    }

    let mut out = std::io::stdout().lock();
    match args.format {
        ListFormat::Json => {
            serde_json::to_writer(
                &mut out,
                &Output {
                    version: 1,
                    results: items,
                },
            )?;
            writeln!(out)?;
        }
        ListFormat::Human => {
            for item in &items {
                match (&item.digest, &item.error) {
                    (Some(d), None) => writeln!(out, "{}\t{d}", item.reference)?,
                    (_, Some(e)) => writeln!(out, "{}\terror: {e}", item.reference)?,
                    (None, None) => {}
                }
                for p in &item.platforms {
                    writeln!(out, "  {}\t{}", p.platform, p.digest)?;
                }
                if let Some(s) = &item.signatures {
                    writeln!(out, "  {}", s.reason)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(if failed { Status::Error } else { Status::Clean })
}

/// Who signed each resolved digest: checked against the config's `[signatures]` policy when a
/// rule covers the image, otherwise every signature that verifies against the trust root is
/// shown with its identity (keyed signatures need a policy key to be checked).
fn add_signatures(
    items: &mut [Item<'_>],
    parsed: &[Result<Reference, String>],
    resolver: &crate::registry::RegistryResolver,
    config: Option<&std::path::Path>,
) -> Result<()> {
    use tagwarden_signature::Verdict;
    let config = match config {
        Some(path) => crate::config::Config::load(path)?,
        None => crate::config::Config::discover(std::path::Path::new("."))?,
    };
    let policy = config.signatures.as_ref();
    let mut wanted = Vec::new();
    for (i, (item, p)) in items.iter().zip(parsed).enumerate() {
        if let (Ok(r), Some(d)) = (p, &item.digest)
            && let Ok(digest) = tagwarden_reference::Digest::parse(d)
        {
            wanted.push((
                i,
                crate::signatures::Item {
                    image: r.clone(),
                    digest,
                    index: None,
                },
            ));
        }
    }
    let (covered, free): (Vec<_>, Vec<_>) = wanted
        .into_iter()
        .partition(|(_, it)| policy.is_some_and(|p| p.rule_for(&it.image).is_some()));
    let mut verdicts: Vec<(usize, Verdict, bool, String)> = Vec::new();
    if let Some(policy) = policy {
        let list: Vec<_> = covered.iter().map(|(_, it)| it.clone()).collect();
        for ((i, _), d) in covered
            .iter()
            .zip(crate::signatures::check_all(resolver, policy, &list))
        {
            let reason = format!(
                "{} ({} policy)",
                d.reason(),
                d.mode.map_or("no".to_string(), |m| m.to_string())
            );
            verdicts.push((*i, d.verdict, true, reason));
        }
    }
    let list: Vec<_> = free.iter().map(|(_, it)| it.clone()).collect();
    for ((i, _), v) in free
        .iter()
        .zip(crate::signatures::inspect_all(resolver, policy, &list))
    {
        let reason = tagwarden_signature::Decision {
            mode: None,
            verdict: v.clone(),
        }
        .reason();
        verdicts.push((*i, v, false, reason));
    }
    for (i, verdict, covered, reason) in verdicts {
        let (status, signers) = match &verdict {
            Verdict::Verified(v) => ("verified", v.iter().map(|s| s.signer.to_string()).collect()),
            Verdict::Missing { .. } | Verdict::NotRequired => ("missing", Vec::new()),
            Verdict::Invalid(_) => ("invalid", Vec::new()),
            Verdict::Unavailable(_) => ("unavailable", Vec::new()),
        };
        items[i].signatures = Some(Signatures {
            status,
            signers,
            policy: covered,
            reason,
        });
    }
    Ok(())
}
