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
    signatures: Option<crate::signatures::Signers>,
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
        let asked: Vec<(Reference, Option<&str>)> = parsed
            .iter()
            .zip(&items)
            .filter_map(|(p, item)| Some((p.as_ref().ok()?.clone(), item.digest.as_deref())))
            .collect();
        let mut signers =
            crate::signatures::who_signed(&resolver, args.config.as_deref(), &asked)?.into_iter();
        for (p, item) in parsed.iter().zip(items.iter_mut()) {
            if p.is_ok() {
                item.signatures = signers.next().flatten();
            }
        }
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
                    (_, Some(e)) => writeln!(
                        out,
                        "{}\terror: {}",
                        item.reference,
                        tagwarden_findings::output::escape::terminal(e)
                    )?,
                    (None, None) => {}
                }
                for p in &item.platforms {
                    writeln!(
                        out,
                        "  {}\t{}",
                        tagwarden_findings::output::escape::terminal(&p.platform),
                        p.digest
                    )?;
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
