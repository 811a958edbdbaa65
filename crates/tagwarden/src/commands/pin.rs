//! `tagwarden pin`: every tag-only reference becomes `name:tag@sha256:…`, resolved from the
//! registry it names, with every other byte of every file unchanged.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{IsTerminal, Write};

use anyhow::Result;
use tagwarden_advisory::{AdvisorySet, ImageVerdict};
use tagwarden_extract::ImageOccurrence;
use tagwarden_findings::output::escape::terminal;
use tagwarden_pin::Skip;
use tagwarden_reference::{Digest, Reference};
use tagwarden_text::LineIndex;

use crate::Status;
use crate::cli::PinArgs;
use crate::config::Config;
use crate::resolver::Resolver;
use crate::scan::{self, ParsedFile};

pub(crate) fn run(args: PinArgs) -> Result<Status> {
    let prep = super::prepare(
        &args.paths,
        args.config.as_ref(),
        false,
        false,
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
    let files = scanned.files;
    let mut stdout = std::io::stdout().lock();
    if !args.check && !args.dry_run {
        remove_leftovers(&scanned.temporaries);
    }

    if args.check {
        let unpinned = check(&files, &prep.config);
        for line in &unpinned {
            writeln!(stdout, "{line}")?;
        }
        writeln!(
            stdout,
            "{} unpinned image reference{}",
            unpinned.len(),
            if unpinned.len() == 1 { "" } else { "s" }
        )?;
        return Ok(if unpinned.is_empty() {
            Status::Clean
        } else {
            Status::Findings
        });
    }

    let resolver = crate::registry::RegistryResolver::new(&args.registry)?;
    let (targets, platforms) = if args.update {
        update_targets(&files, &prep.config, &resolver)
    } else {
        (targets(&files, &prep.config), HashMap::new())
    };
    let mut choice = choose_digests(&targets, &platforms, &resolver, &prep.advisories, &args);
    if let Some(policy) = &prep.config.signatures {
        check_signatures(&mut choice, policy, &resolver);
    }
    // Problems are listed below with the references they kept from being pinned.
    for n in &choice.notes {
        eprintln!("note: {}", terminal(n));
    }

    let options = tagwarden_fs::ReplaceOptions {
        allow_hard_links: args.allow_hard_links,
        allow_read_only: args.allow_read_only,
    };
    let mut pinned = 0usize;
    let mut changed_files = 0usize;
    let mut skipped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut write_errors = 0usize;
    for file in &files {
        let shown = terminal(&file.display);
        let lines = LineIndex::new(&file.text);
        let digest_for = |r: &Reference| choice.digests.get(r).cloned();
        let plans = if args.update {
            tagwarden_pin::repin(&file.text, &file.extraction, &digest_for)
        } else {
            tagwarden_pin::plan(&file.text, &file.extraction, &digest_for)
        };
        let mut edits = Vec::new();
        let mut in_file = 0usize;
        for planned in plans {
            let Some(occ) = file.extraction.images.get(planned.occurrence_index) else {
                continue;
            };
            if ignored(file, occ, &lines, &prep.config) {
                continue;
            }
            match planned.outcome {
                Ok(e) => {
                    in_file += 1;
                    edits.extend(e);
                }
                Err(Skip::AlreadyPinned | Skip::Ignored) => {}
                Err(skip) => {
                    let (line, col) = lines.line_col(&file.text, occ.span.start);
                    skipped
                        .entry(reason(&skip, occ, &choice))
                        .or_default()
                        .push(format!("{shown}:{line}:{col} `{}`", terminal(&occ.text)));
                }
            }
        }
        if edits.is_empty() {
            continue;
        }
        edits.sort_by_key(|e| (e.span.start, e.span.end));
        edits.dedup();
        let after = match tagwarden_pin::apply(&file.text, &edits) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: {shown}: not rewritten: {e}");
                write_errors += 1;
                continue;
            }
        };
        if let Err(e) = tagwarden_pin::verify_rewrite(file.kind, &file.text, &after, &edits) {
            eprintln!("error: {shown}: not rewritten, the result did not check out: {e}");
            write_errors += 1;
            continue;
        }
        if args.dry_run {
            let diff = tagwarden_pin::unified_diff(&file.display, &file.text, &after);
            if std::io::stdout().is_terminal() {
                // On a terminal, the file's own bytes must not drive it; piped, the diff stays
                // a patch.
                for line in diff.split_inclusive('\n') {
                    let body = line.strip_suffix('\n').unwrap_or(line);
                    writeln!(stdout, "{}", terminal(body))?;
                }
            } else {
                write!(stdout, "{diff}")?;
            }
        } else if let Err(e) = write(file, &after, options) {
            eprintln!("error: {shown}: not rewritten: {}", terminal(&e));
            write_errors += 1;
            continue;
        }
        // Only what was written (or would be) is counted.
        pinned += in_file;
        changed_files += 1;
    }

    for (why, sites) in &skipped {
        eprintln!("not pinned: {}", terminal(why));
        for s in sites {
            eprintln!("  {s}");
        }
    }
    let verb = if args.dry_run { "would pin" } else { "pinned" };
    let unwritten = if write_errors == 0 {
        String::new()
    } else {
        format!(
            "; {write_errors} file{} not rewritten",
            if write_errors == 1 { "" } else { "s" }
        )
    };
    eprintln!(
        "{verb} {pinned} reference{} in {changed_files} file{}; {} not pinned; {} registry or advisory problem{}{unwritten}",
        if pinned == 1 { "" } else { "s" },
        if changed_files == 1 { "" } else { "s" },
        skipped.values().map(Vec::len).sum::<usize>(),
        choice.problems.len(),
        if choice.problems.len() == 1 { "" } else { "s" },
    );
    stdout.flush()?;
    Ok(if !prep.advisory_errors.is_empty() || write_errors > 0 {
        Status::Error
    } else if !choice.problems.is_empty() {
        Status::Findings
    } else {
        Status::Clean
    })
}

/// Rewrites one file where it was read, only if it is still what was read.
fn write(
    file: &ParsedFile,
    after: &str,
    options: tagwarden_fs::ReplaceOptions,
) -> Result<(), String> {
    if file.lossy {
        // Its text has `?` where the file has invalid bytes: writing it would change them.
        return Err("the file is not valid UTF-8: pin it by hand".to_string());
    }
    let target = file.target.as_ref().map_err(Clone::clone)?;
    target
        .dir
        .replace(
            &target.rel,
            &file.stamp,
            file.text.as_bytes(),
            after.as_bytes(),
            options,
        )
        .map_err(|e| e.to_string())
}

/// Removes the temporary files that killed runs left in the tree; a running one's are left.
fn remove_leftovers(temporaries: &[scan::Temporary]) {
    for t in temporaries {
        let shown = terminal(&t.display);
        let result = match &t.target {
            Ok(target) => target
                .dir
                .remove_leftover(&target.rel)
                .map_err(|e| e.to_string()),
            Err(why) => Err(why.clone()),
        };
        match result {
            Ok(true) => eprintln!(
                "note: {shown}: removed, a temporary file left by an interrupted run (process {})",
                t.pid
            ),
            Ok(false) => eprintln!(
                "note: {shown}: a temporary file of a tagwarden run still going (process {}): left alone",
                t.pid
            ),
            Err(e) => eprintln!(
                "warning: {shown}: a leftover temporary file, not removed: {}",
                terminal(&e)
            ),
        }
    }
}

/// `--check`: every reference that names an image without a digest, offline.
fn check(files: &[ParsedFile], config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for file in files {
        let lines = LineIndex::new(&file.text);
        for occ in &file.extraction.images {
            let Ok(image) = &occ.image else { continue };
            let Ok(r) = Reference::parse(image) else {
                continue;
            };
            if r.is_pinned() || occ.built_locally() || ignored(file, occ, &lines, config) {
                continue;
            }
            let (line, col) = lines.line_col(&file.text, occ.span.start);
            out.push(format!(
                "{}:{line}:{col}: `{}` is not pinned to a digest ({})",
                terminal(&file.display),
                terminal(&occ.text),
                r
            ));
        }
    }
    out
}

/// The distinct references to resolve, in a stable order.
fn targets(files: &[ParsedFile], config: &Config) -> Vec<Reference> {
    let mut set = BTreeSet::new();
    for file in files {
        let lines = LineIndex::new(&file.text);
        for occ in &file.extraction.images {
            if ignored(file, occ, &lines, config) {
                continue;
            }
            if let Ok(r) = tagwarden_pin::target(occ) {
                set.insert(r);
            }
        }
    }
    set.into_iter().collect()
}

/// `--update`: every reference with a tag, pinned or not, to resolve again, and the platform of
/// the ones pinned to a platform manifest (read from the manifest's config), so that they stay
/// on their platform.
fn update_targets(
    files: &[ParsedFile],
    config: &Config,
    resolver: &dyn Resolver,
) -> (Vec<Reference>, HashMap<Reference, String>) {
    let mut tags = BTreeSet::new();
    let mut pinned: BTreeMap<Reference, Reference> = BTreeMap::new();
    for file in files {
        let lines = LineIndex::new(&file.text);
        for occ in &file.extraction.images {
            if ignored(file, occ, &lines, config) {
                continue;
            }
            let Ok(tag) = tagwarden_pin::repin_target(occ) else {
                continue;
            };
            if let Ok(image) = &occ.image
                && let Ok(current) = Reference::parse(image)
                && current.is_pinned()
            {
                pinned.insert(current, tag.clone());
            }
            tags.insert(tag);
        }
    }
    let old: Vec<Reference> = pinned.keys().cloned().collect();
    let mut platforms = HashMap::new();
    for (r, platform) in old.iter().zip(resolver.platforms_of(&old)) {
        match platform {
            Ok(Some(p)) => {
                if let Some(tag) = pinned.get(r) {
                    platforms.insert(tag.clone(), p);
                }
            }
            Ok(None) => {}
            // The old digest may be gone; the tag is resolved as usual and pinned to its index.
            Err(e) => eprintln!(
                "note: {r}: cannot read the pinned manifest's platform: {}",
                terminal(&e.to_string())
            ),
        }
    }
    (tags.into_iter().collect(), platforms)
}

/// Ignored by `ignore.images` in the config or an inline `# tagwarden: ignore[…]` comment.
fn ignored(file: &ParsedFile, occ: &ImageOccurrence, lines: &LineIndex, config: &Config) -> bool {
    if let Ok(image) = &occ.image
        && let Ok(r) = Reference::parse(image)
        && config.ignores_image(&r)
    {
        return true;
    }
    let (line, _) = lines.line_col(&file.text, occ.span.start);
    ["unpinned-image", "floating-latest"]
        .iter()
        .any(|rule| tagwarden_text::ignored_on_line(&file.text, lines, line, rule))
}

/// What to pin each reference to, and what could not be.
struct Choice {
    digests: HashMap<Reference, Digest>,
    /// The index each reference's tag resolved to, when the digest chosen is one of its
    /// platform manifests.
    indexes: HashMap<Reference, Digest>,
    /// Why a reference was not resolved, by reference.
    unresolved: HashMap<Reference, String>,
    problems: Vec<String>,
    notes: Vec<String>,
}

fn choose_digests(
    targets: &[Reference],
    platforms: &HashMap<Reference, String>,
    resolver: &dyn Resolver,
    advisories: &AdvisorySet,
    args: &PinArgs,
) -> Choice {
    let tty = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if tty {
            eprint!("\rresolving {done}/{total}");
            if done == total {
                eprint!("\r\x1b[K");
            }
        }
    };
    // The platform manifests are read for every index, so that advisories are checked against them.
    let results = resolver.resolve_all(targets, true, &progress);
    let mut choice = Choice {
        digests: HashMap::new(),
        indexes: HashMap::new(),
        unresolved: HashMap::new(),
        problems: Vec::new(),
        notes: Vec::new(),
    };
    for (r, result) in targets.iter().zip(results) {
        let resolved = match result {
            Ok(res) => res,
            Err(e) => {
                // Registry errors already name the reference.
                choice.problems.push(e.message.clone());
                choice.unresolved.insert(r.clone(), e.message);
                continue;
            }
        };
        // `--platform` wins; otherwise an existing platform pin keeps its platform (`--update`).
        let platform = args
            .platform
            .as_deref()
            .or(platforms.get(r).map(String::as_str));
        let Some(digest) = resolved.digest_for(platform).cloned() else {
            let why = format!(
                "no manifest for platform {} (the index has: {})",
                platform.unwrap_or(""),
                resolved
                    .children
                    .iter()
                    .map(|(p, _)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            choice.problems.push(format!("{r}: {why}"));
            choice.unresolved.insert(r.clone(), why);
            continue;
        };
        // An index is as bad as any manifest in it, and a platform manifest as bad as its index.
        let mut served = vec![digest.clone(), resolved.digest.clone()];
        served.extend(resolved.children.iter().map(|(_, d)| d.clone()));
        served.dedup();
        let malicious: Vec<(Digest, _)> = served
            .iter()
            .flat_map(|d| {
                advisories
                    .match_digest(d)
                    .into_iter()
                    .map(move |m| (d.clone(), m))
            })
            .collect();
        let affected = advisories
            .match_image(r)
            .into_iter()
            .any(|m| matches!(m.verdict, ImageVerdict::AffectedTag { .. }));
        if args.to_known_good && (!malicious.is_empty() || affected) {
            match known_good(advisories, r) {
                Some((good, advisory, confirmed)) => {
                    choice.notes.push(format!(
                        "{r}: pinned to the known-good digest {good} from advisory {advisory}{}",
                        if confirmed {
                            ""
                        } else {
                            " (not confirmed by the vendor: verify it)"
                        }
                    ));
                    choice.digests.insert(r.clone(), good);
                }
                None => {
                    let why = "no known-good digest in the advisories".to_string();
                    choice.problems.push(format!("{r}: {why}"));
                    choice.unresolved.insert(r.clone(), why);
                }
            }
            continue;
        }
        if let Some((bad, m)) = malicious.first() {
            let what = if *bad == digest {
                format!("the registry serves {bad}")
            } else if *bad == resolved.digest {
                format!("the registry serves {digest} from the index {bad}")
            } else if digest == resolved.digest {
                format!("the registry serves the index {digest}, which holds {bad}")
            } else {
                format!(
                    "the registry serves {digest} from the index {}, which holds {bad}",
                    resolved.digest
                )
            };
            let why = format!(
                "refusing to pin: {what}, which advisory {} lists as malicious ({}); use --to-known-good",
                m.advisory_id, m.advisory_title
            );
            choice.problems.push(format!("{r}: {why}"));
            choice.unresolved.insert(r.clone(), why);
            continue;
        }
        if digest != resolved.digest {
            choice.indexes.insert(r.clone(), resolved.digest.clone());
        }
        choice.digests.insert(r.clone(), digest);
    }
    choice
}

/// Refuses the digests the signature policy rejects, as malicious ones are refused; in `warn`
/// mode a digest without an acceptable signature is pinned with a note.
fn check_signatures(
    choice: &mut Choice,
    policy: &tagwarden_signature::Policy,
    resolver: &crate::registry::RegistryResolver,
) {
    use tagwarden_signature::Verdict;
    let mut items: Vec<crate::signatures::Item> = choice
        .digests
        .iter()
        .filter(|(r, _)| policy.rule_for(r).is_some())
        .map(|(r, d)| crate::signatures::Item {
            image: r.clone(),
            digest: d.clone(),
            index: choice.indexes.get(r).cloned(),
        })
        .collect();
    items.sort_by(|a, b| a.image.cmp(&b.image));
    let decisions = crate::signatures::check_all(resolver, policy, &items);
    for (item, d) in items.iter().zip(decisions) {
        let r = &item.image;
        if !d.acceptable() {
            let why = format!(
                "refusing to pin {}: {} (signature policy)",
                item.digest,
                d.reason()
            );
            choice.digests.remove(r);
            choice.problems.push(format!("{r}: {why}"));
            choice.unresolved.insert(r.clone(), why);
        } else if !matches!(d.verdict, Verdict::Verified(_) | Verdict::NotRequired) {
            choice.notes.push(format!(
                "{r}: {} (signature policy in warn mode: pinned anyway)",
                d.reason()
            ));
        }
    }
}

/// A known-good digest for the reference's repository, preferring one listed for its tag.
fn known_good(advisories: &AdvisorySet, r: &Reference) -> Option<(Digest, String, bool)> {
    let repo = r.repository();
    let tag = r.effective_tag().unwrap_or("latest");
    let mut best: Option<(bool, Digest, String, bool)> = None;
    for a in advisories.advisories() {
        for kg in &a.known_good_digests {
            if !kg.repositories.contains(&repo) {
                continue;
            }
            let same_tag = kg.tags.iter().any(|t| t == tag);
            if best.as_ref().is_none_or(|(b, ..)| same_tag && !b) {
                best = Some((same_tag, kg.digest.clone(), a.id.clone(), kg.confirmed));
            }
        }
    }
    best.map(|(_, d, id, confirmed)| (d, id, confirmed))
}

fn reason(skip: &Skip, occ: &ImageOccurrence, choice: &Choice) -> String {
    if let Ok(r) = tagwarden_pin::target(occ)
        && let Some(why) = choice.unresolved.get(&r)
    {
        return why.clone();
    }
    skip.to_string()
}
