//! `tagwarden verify`: for every pinned `name:tag@digest`, ask the registry what the tag points at
//! now. A tag that moved is what an attacker who overwrites it causes (or a rebuild: look).

use anyhow::Result;
use tagwarden_findings::output::escape::terminal;
use tagwarden_findings::{ByteSpan, Finding, Location, Rule, rules};
use tagwarden_reference::Reference;
use tagwarden_text::LineIndex;

use crate::Status;
use crate::cli::VerifyArgs;
use crate::resolver::Resolver;
use crate::scan;

/// A pinned reference found in a file.
struct Pinned {
    reference: Reference,
    location: Location,
    text: String,
    snippet: String,
}

pub(crate) fn run(args: VerifyArgs) -> Result<Status> {
    let prep = super::prepare(
        &args.paths,
        args.config.as_ref(),
        false,
        super::untrusted_from_env(args.untrusted_config),
        &args.walk,
        &args.advisory,
    )?;
    let ctx = scan::Context {
        config: &prep.config,
        advisories: &prep.advisories,
        max_file_size: args.walk.max_file_size,
        keep_files: true,
    };
    let scanned = scan::scan(&args.paths, &prep.walk, &ctx);
    let pinned = pinned_references(&scanned.files, &prep.config);

    let resolver = crate::registry::RegistryResolver::new(&args.registry)?;
    let mut report = scanned.report;
    // Advisory verdicts come from the scan; pinning findings are not what verify is about.
    report.findings.retain(|f| {
        !matches!(
            f.rule.id,
            "unpinned-image" | "floating-latest" | "unpinned-action" | "unresolvable-reference"
        )
    });
    let pinned_images: std::collections::HashSet<(String, usize)> = pinned
        .iter()
        .map(|p| (p.location.path.clone(), p.location.line))
        .collect();
    report
        .references
        .retain(|r| pinned_images.contains(&(r.path.clone(), r.line)));
    let judged = judge(&pinned, &resolver);
    report.findings.extend(judged.findings);
    if args.signatures {
        let Some(policy) = &prep.config.signatures else {
            anyhow::bail!(
                "--signatures needs a [signatures] policy in tagwarden.toml (see the README's Signatures section)"
            );
        };
        report
            .findings
            .extend(signature_findings(&pinned, &resolver, policy));
    }

    let status = super::finish(&report, &args.report, &prep)?;
    if status == Status::Clean && !judged.unchecked.is_empty() {
        // A check that could not look is not clean.
        let n = judged.unchecked.len();
        eprintln!(
            "error: {n} pinned reference{} could not be checked against {}; the answer is not clean:",
            if n == 1 { "" } else { "s" },
            if n == 1 {
                "its registry"
            } else {
                "their registries"
            },
        );
        for reference in &judged.unchecked {
            eprintln!("  {}", terminal(reference));
        }
        return Ok(Status::Error);
    }
    Ok(status)
}

fn pinned_references(files: &[scan::ParsedFile], config: &crate::config::Config) -> Vec<Pinned> {
    let mut out = Vec::new();
    for file in files {
        let lines = LineIndex::new(&file.text);
        for occ in &file.extraction.images {
            let Ok(image) = &occ.image else { continue };
            let Ok(r) = Reference::parse(image) else {
                continue;
            };
            if !r.is_pinned() || config.ignores_image(&r) {
                continue;
            }
            let (line, column) = lines.line_col(&file.text, occ.span.start);
            let (end_line, end_column) = lines.line_col(&file.text, occ.span.end);
            out.push(Pinned {
                reference: r,
                location: Location {
                    path: file.display.clone(),
                    line,
                    column,
                    end_line,
                    end_column,
                    span: Some(ByteSpan {
                        start: occ.span.start,
                        end: occ.span.end,
                    }),
                },
                text: occ.text.clone(),
                snippet: lines.line(&file.text, line).to_string(),
            });
        }
    }
    out
}

/// What verify found, and the pinned references it could not check (a registry that did not
/// answer, refused us, or served something wrong).
struct Judged {
    findings: Vec<Finding>,
    unchecked: Vec<String>,
}

fn judge(pinned: &[Pinned], resolver: &dyn Resolver) -> Judged {
    // Resolve each distinct tag once, and check each distinct digest once.
    let mut tags: Vec<Reference> = pinned
        .iter()
        .filter(|p| p.reference.tag().is_some())
        .map(|p| tag_only(&p.reference))
        .collect();
    tags.sort();
    tags.dedup();
    let mut digests: Vec<Reference> = pinned.iter().map(|p| p.reference.clone()).collect();
    digests.sort();
    digests.dedup();
    let now = resolver.resolve_all(&tags, true, &|_, _| {});
    let exists = resolver.exists_all(&digests);

    let mut findings = Vec::new();
    let mut unchecked = Vec::new();
    for p in pinned {
        let Some(pinned_digest) = p.reference.digest() else {
            continue;
        };
        let finding = |rule: &'static Rule, message: String| Finding {
            rule,
            severity: rule.default_severity,
            location: p.location.clone(),
            message,
            image: Some(p.reference.to_string()),
            advisory: None,
            snippet: Some(p.snippet.clone()),
            notes: Vec::new(),
        };
        if let Some(i) = digests.iter().position(|d| d == &p.reference) {
            match &exists[i] {
                Ok(true) => {}
                Ok(false) => findings.push(finding(
                    &rules::DIGEST_MISSING,
                    format!("`{}`: the registry no longer has {pinned_digest}", p.text),
                )),
                Err(e) => {
                    unchecked.push(format!(
                        "{} ({}:{})",
                        p.text, p.location.path, p.location.line
                    ));
                    findings.push(finding(
                        &rules::REGISTRY_ERROR,
                        format!("`{}`: cannot check the digest: {e}", p.text),
                    ));
                }
            }
        }
        if p.reference.tag().is_none() {
            continue;
        }
        let tag_ref = tag_only(&p.reference);
        let Some(i) = tags.iter().position(|t| *t == tag_ref) else {
            continue;
        };
        match &now[i] {
            Ok(current) => {
                // A platform pin is still current when it is one of the index's manifests.
                let same = current.digest == *pinned_digest
                    || current.platform_of(pinned_digest).is_some();
                if !same {
                    let mut f = finding(
                        &rules::TAG_MOVED,
                        format!(
                            "tag {} of {} moved since it was pinned: it now points at {}",
                            p.reference.tag().unwrap_or(""),
                            p.reference.repository(),
                            current.digest.short()
                        ),
                    );
                    f.notes.push(format!("pinned: {pinned_digest}"));
                    f.notes.push(format!("now:    {}", current.digest));
                    findings.push(f);
                }
            }
            Err(e) if e.not_found => findings.push(finding(
                &rules::REGISTRY_ERROR,
                format!(
                    "`{}`: tag {} no longer exists in the registry",
                    p.text,
                    p.reference.tag().unwrap_or("")
                ),
            )),
            Err(e) => {
                let place = format!("{} ({}:{})", p.text, p.location.path, p.location.line);
                if unchecked.last() != Some(&place) {
                    unchecked.push(place);
                }
                findings.push(finding(
                    &rules::REGISTRY_ERROR,
                    format!("`{}`: cannot resolve the tag: {e}", p.text),
                ));
            }
        }
    }
    Judged {
        findings,
        unchecked,
    }
}

/// A finding for every pinned reference whose digest the signature policy does not accept;
/// each distinct digest is checked once. In `warn` mode the findings are medium.
fn signature_findings(
    pinned: &[Pinned],
    resolver: &crate::registry::RegistryResolver,
    policy: &tagwarden_signature::Policy,
) -> Vec<Finding> {
    use tagwarden_signature::{Mode, Verdict};
    let mut items: Vec<crate::signatures::Item> = Vec::new();
    for p in pinned {
        let Some(digest) = p.reference.digest() else {
            continue;
        };
        if policy.rule_for(&p.reference).is_some() && !items.iter().any(|i| i.image == p.reference)
        {
            items.push(crate::signatures::Item {
                image: p.reference.clone(),
                digest: digest.clone(),
                index: None,
            });
        }
    }
    // A platform manifest's tag tells which index it came from, for the reason given when only
    // the index is signed.
    let mut tags: Vec<Reference> = items
        .iter()
        .filter(|i| i.image.tag().is_some())
        .map(|i| tag_only(&i.image))
        .collect();
    tags.sort();
    tags.dedup();
    let now = resolver.resolve_all(&tags, true, &|_, _| {});
    for item in &mut items {
        let tag = tag_only(&item.image);
        if let Some(Ok(current)) = tags.iter().position(|t| *t == tag).map(|i| &now[i])
            && current.platform_of(&item.digest).is_some()
        {
            item.index = Some(current.digest.clone());
        }
    }
    let decisions = crate::signatures::check_all(resolver, policy, &items);
    let mut findings = Vec::new();
    for p in pinned {
        let Some(i) = items.iter().position(|i| i.image == p.reference) else {
            continue;
        };
        let d = &decisions[i];
        let rule = match d.verdict {
            Verdict::NotRequired | Verdict::Verified(_) => continue,
            Verdict::Missing { .. } => &rules::SIGNATURE_MISSING,
            Verdict::Invalid(_) => &rules::SIGNATURE_INVALID,
            Verdict::Unavailable(_) => &rules::REGISTRY_ERROR,
        };
        let severity = if d.mode == Some(Mode::Warn) && rule.id != "registry-error" {
            tagwarden_findings::Severity::Medium
        } else {
            rule.default_severity
        };
        findings.push(Finding {
            rule,
            severity,
            location: p.location.clone(),
            message: format!("`{}`: {}", p.text, d.reason()),
            image: Some(p.reference.to_string()),
            advisory: None,
            snippet: Some(p.snippet.clone()),
            notes: Vec::new(),
        });
    }
    findings
}

/// `name:tag@digest` → `name:tag`, to ask what the tag points at now.
fn tag_only(r: &Reference) -> Reference {
    Reference::from_parts(r.domain(), r.path(), r.tag(), None).unwrap_or_else(|_| r.clone())
}
