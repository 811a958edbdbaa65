//! `tagwarden advisory list|show|check|import|export`: the advisories themselves.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use tagwarden_advisory::{Advisory, AdvisorySet, Provenance, VersionBound, Window, self_test};
use tagwarden_findings::output::escape::terminal;
use tagwarden_interchange::{export, import};

use crate::Status;
use crate::cli::{
    AdvisoryCheckArgs, AdvisoryCommand, AdvisoryExportArgs, AdvisoryImportArgs, AdvisoryListArgs,
    AdvisoryShowArgs, ExportTo, ImportFrom, ListFormat, ShowFormat,
};
use crate::commands::{Loaded, Origin, load_all, load_file};

pub(crate) fn run(command: AdvisoryCommand) -> Result<Status> {
    match command {
        AdvisoryCommand::List(args) => list(args),
        AdvisoryCommand::Show(args) => show(args),
        AdvisoryCommand::Check(args) => check(args),
        AdvisoryCommand::Import(args) => import_files(args),
        AdvisoryCommand::Export(args) => export_advisory(args),
    }
}

/// Loads like the tree-walking commands do; a bad file is printed and makes the exit status 2.
fn load(args: &crate::cli::AdvisoryArgs) -> (Vec<Loaded>, bool) {
    let mut errors = Vec::new();
    let loaded = load_all(args, &[], &mut errors);
    for e in &errors {
        let _ = writeln!(std::io::stderr(), "error: {}", terminal(e));
    }
    (loaded, !errors.is_empty())
}

fn status(failed: bool) -> Status {
    if failed { Status::Error } else { Status::Clean }
}

/// `built-in advisories/x.toml`, `path`, or `path (imported from misp)`.
fn origin(l: &Loaded) -> String {
    let path = &l.advisory.path;
    match &l.origin {
        Origin::Builtin => format!("built-in ({path})"),
        Origin::File => path.clone(),
        Origin::Imported(f) => format!("{path} (imported from {})", f.describe()),
    }
}

fn origin_json(l: &Loaded) -> Value {
    let (kind, format) = match &l.origin {
        Origin::Builtin => ("builtin", None),
        Origin::File => (
            "file",
            l.advisory.imported.as_ref().map(|i| i.format.clone()),
        ),
        Origin::Imported(f) => ("imported", Some(f.as_str().to_string())),
    };
    json!({ "kind": kind, "path": l.advisory.path, "import_format": format })
}

fn counts(a: &Advisory) -> Value {
    json!({
        "image_exposures": a.image_exposures.len(),
        "malicious_digests": a.malicious_digests.len(),
        "known_good_digests": a.known_good_digests.len(),
        "actions": a.actions.len(),
        "network_indicators": a.network_indicators.len(),
        "file_hashes": a.file_hashes.len(),
        "not_indicators": a.not_indicators.len(),
    })
}

fn list(args: AdvisoryListArgs) -> Result<Status> {
    let (loaded, failed) = load(&args.advisory);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        ListFormat::Json => {
            let items: Vec<Value> = loaded
                .iter()
                .map(|l| {
                    json!({
                        "id": l.advisory.id,
                        "title": l.advisory.title,
                        "counts": counts(&l.advisory),
                        "origin": origin_json(l),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &json!({ "version": 1, "advisories": items }))?;
            writeln!(out)?;
        }
        ListFormat::Human => {
            for l in &loaded {
                let a = &l.advisory;
                writeln!(out, "{}  {}", terminal(&a.id), terminal(&a.title))?;
                writeln!(
                    out,
                    "    {} exposures, {} malicious digests, {} known-good digests, {} actions, {} network indicators, {} file hashes",
                    a.image_exposures.len(),
                    a.malicious_digests.len(),
                    a.known_good_digests.len(),
                    a.actions.len(),
                    a.network_indicators.len(),
                    a.file_hashes.len()
                )?;
                writeln!(out, "    from {}", terminal(&origin(l)))?;
            }
            writeln!(out, "{} advisories", loaded.len())?;
        }
    }
    out.flush()?;
    Ok(status(failed))
}

fn show(args: AdvisoryShowArgs) -> Result<Status> {
    let (loaded, failed) = load(&args.advisory);
    let Some(l) = loaded.iter().find(|l| l.advisory.id == args.id) else {
        let ids: Vec<&str> = loaded.iter().map(|l| l.advisory.id.as_str()).collect();
        anyhow::bail!(
            "no advisory with id {:?} (loaded: {})",
            args.id,
            ids.join(", ")
        );
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        ShowFormat::Toml => out.write_all(l.toml.as_bytes())?,
        ShowFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &advisory_json(l))?;
            writeln!(out)?;
        }
        ShowFormat::Human => out.write_all(human(l).as_bytes())?,
    }
    out.flush()?;
    Ok(status(failed))
}

/// `(P2: docker-blog, socket; disputed) note`
fn provenance(p: &Provenance) -> String {
    let mut s = format!("({}: {}", p.confidence, p.sources.join(", "));
    if p.disputed {
        s.push_str("; disputed");
    }
    s.push(')');
    if let Some(n) = &p.note {
        s.push(' ');
        s.push_str(n);
    }
    terminal(&s).into_owned()
}

fn human(l: &Loaded) -> String {
    use std::fmt::Write as _;
    let a = &l.advisory;
    let mut s = String::new();
    // Every value comes from an advisory file, perhaps imported from a feed: each is escaped so
    // that none can write a line of its own or drive the terminal.
    let t = |v: &str| terminal(v).into_owned();
    let _ = writeln!(s, "{}: {}", t(&a.id), t(&a.title));
    let _ = writeln!(s, "  from: {}", t(&origin(l)));
    if let Some(i) = &a.imported {
        let _ = write!(
            s,
            "  imported: {} from {} on {}",
            t(&i.format),
            t(&i.file),
            i.imported
        );
        if let Some(d) = &i.document_id {
            let _ = write!(s, ", document {}", t(d));
        }
        if let Some(au) = &i.author {
            let _ = write!(s, ", by {}", t(au));
        }
        s.push('\n');
    }
    let _ = writeln!(s, "  published {}, updated {}", a.published, a.updated);
    if !a.aliases.is_empty() {
        let _ = writeln!(s, "  aliases: {}", t(&a.aliases.join(", ")));
    }
    // The summary is prose: its lines are kept, each escaped.
    let summary: Vec<String> = a.summary.split('\n').map(t).collect();
    let _ = writeln!(s, "\n{}\n", summary.join("\n"));
    let _ = writeln!(s, "Sources:");
    for src in &a.sources {
        let _ = writeln!(
            s,
            "  [{}] {}{}",
            t(&src.id),
            t(src.title.as_deref().unwrap_or("")),
            src.url
                .as_ref()
                .map(|u| format!(" <{}>", t(u)))
                .unwrap_or_default()
        );
    }
    let window = |w: &tagwarden_advisory::Sourced<Window>| {
        format!("{} {}", w.value, provenance(&w.provenance))
    };
    if !a.image_exposures.is_empty() {
        let _ = writeln!(s, "Image exposures:");
        for e in &a.image_exposures {
            let _ = writeln!(
                s,
                "  {}: {}",
                t(&e.repositories.join(", ")),
                t(&e.tags.join(", "))
            );
            let _ = writeln!(s, "    {}", provenance(&e.provenance));
            let _ = writeln!(s, "    window {}", window(&e.window));
            if let Some(d) = &e.disputed_window {
                let _ = writeln!(s, "    disputed window {}", window(d));
            }
        }
    }
    if !a.malicious_digests.is_empty() {
        let _ = writeln!(s, "Malicious digests:");
        for d in &a.malicious_digests {
            let platform = d
                .platform
                .as_ref()
                .map(|p| format!(" {p}"))
                .unwrap_or_default();
            let _ = writeln!(s, "  {} {}{platform}", d.digest, d.kind);
            if !d.repositories.is_empty() || !d.tags.is_empty() {
                let _ = writeln!(
                    s,
                    "    {} tags {}",
                    t(&d.repositories.join(", ")),
                    t(&d.tags.join(", "))
                );
            }
            let _ = writeln!(s, "    {}", provenance(&d.provenance));
        }
    }
    if !a.known_good_digests.is_empty() {
        let _ = writeln!(s, "Known-good digests:");
        for d in &a.known_good_digests {
            let kind = d.kind.map(|k| format!(" {k}")).unwrap_or_default();
            let confirmed = if d.confirmed {
                "vendor-confirmed"
            } else {
                "not vendor-confirmed"
            };
            let _ = writeln!(s, "  {}{kind} ({confirmed})", d.digest);
            let _ = writeln!(
                s,
                "    {} tags {}",
                t(&d.repositories.join(", ")),
                t(&d.tags.join(", "))
            );
            let _ = writeln!(s, "    {}", provenance(&d.provenance));
        }
    }
    if !a.actions.is_empty() {
        let _ = writeln!(s, "GitHub Actions:");
        for x in &a.actions {
            let _ = writeln!(s, "  {} {}", t(&x.repository), provenance(&x.provenance));
            if !x.tags.is_empty() {
                let _ = writeln!(s, "    tags {}", t(&x.tags.join(", ")));
            }
            for r in &x.tag_rules {
                let _ = writeln!(s, "    tags {}", rule(r));
            }
            let _ = writeln!(s, "    window {}", window(&x.window));
            for c in &x.malicious_commits {
                let _ = writeln!(
                    s,
                    "    malicious commit {} {}",
                    t(&c.sha),
                    provenance(&c.provenance)
                );
            }
            for c in &x.known_good_commits {
                let _ = writeln!(
                    s,
                    "    known-good commit {} {}",
                    t(&c.sha),
                    provenance(&c.provenance)
                );
            }
        }
    }
    if !a.network_indicators.is_empty() {
        let _ = writeln!(s, "Network indicators:");
        for n in &a.network_indicators {
            let weak = if n.weak { " (weak: never alone)" } else { "" };
            let _ = writeln!(
                s,
                "  {} {}{weak} {}",
                n.kind.as_str(),
                t(&n.value),
                provenance(&n.provenance)
            );
        }
    }
    if !a.file_hashes.is_empty() {
        let _ = writeln!(s, "File hashes:");
        for f in &a.file_hashes {
            let _ = writeln!(s, "  sha256 {} {}", t(&f.sha256), t(&f.description));
            let _ = writeln!(s, "    {}", provenance(&f.provenance));
        }
    }
    if !a.host_artifacts.is_empty() {
        let _ = writeln!(s, "Host artifacts:");
        for h in &a.host_artifacts {
            let _ = writeln!(
                s,
                "  {} {} {}",
                t(&h.path),
                t(&h.description),
                provenance(&h.provenance)
            );
        }
    }
    if !a.other_indicators.is_empty() {
        let _ = writeln!(s, "Other indicators:");
        for o in &a.other_indicators {
            let _ = writeln!(
                s,
                "  {} {} ({}) {}",
                t(&o.kind),
                t(&o.value),
                t(&o.description),
                provenance(&o.provenance)
            );
        }
    }
    if !a.not_indicators.is_empty() {
        let _ = writeln!(s, "Not indicators (kept out of matching):");
        for n in &a.not_indicators {
            let _ = writeln!(
                s,
                "  {} {} ({}) {}",
                n.kind,
                n.value,
                n.reason,
                provenance(&n.provenance)
            );
        }
    }
    let ex = &a.examples;
    let _ = writeln!(
        s,
        "Self-test: {} image and {} action examples",
        ex.images_must_match.len() + ex.images_must_not_match.len(),
        ex.actions_must_match.len() + ex.actions_must_not_match.len()
    );
    s
}

fn rule(r: &tagwarden_advisory::TagRule) -> String {
    let v = |p: [u64; 3]| format!("{}.{}.{}", p[0], p[1], p[2]);
    match r.bound {
        VersionBound::Below(b) => format!("{}X.Y.Z below {}", r.prefix, v(b)),
        VersionBound::UpTo(b) => format!("{}X.Y.Z up to {}", r.prefix, v(b)),
    }
}

fn provenance_json(p: &Provenance) -> Value {
    json!({
        "sources": p.sources,
        "confidence": p.confidence.as_str(),
        "disputed": p.disputed,
        "note": p.note,
    })
}

fn window_json(w: &tagwarden_advisory::Sourced<Window>) -> Value {
    json!({
        "start": w.value.start.to_string(),
        "end": w.value.end.to_string(),
        "open_start": w.value.start == Window::OPEN.start,
        "open_end": w.value.end == Window::OPEN.end,
        "provenance": provenance_json(&w.provenance),
    })
}

fn advisory_json(l: &Loaded) -> Value {
    let a = &l.advisory;
    json!({
        "version": 1,
        "id": a.id,
        "title": a.title,
        "summary": a.summary,
        "aliases": a.aliases,
        "published": a.published.to_string(),
        "updated": a.updated.to_string(),
        "origin": origin_json(l),
        "imported": a.imported.as_ref().map(|i| json!({
            "format": i.format, "file": i.file, "document_id": i.document_id,
            "author": i.author, "imported": i.imported.to_string(),
        })),
        "sources": a.sources.iter().map(|s| json!({"id": s.id, "url": s.url, "title": s.title})).collect::<Vec<_>>(),
        "image_exposures": a.image_exposures.iter().map(|e| json!({
            "repositories": e.repositories, "tags": e.tags,
            "window": window_json(&e.window),
            "disputed_window": e.disputed_window.as_ref().map(window_json),
            "provenance": provenance_json(&e.provenance),
        })).collect::<Vec<_>>(),
        "malicious_digests": a.malicious_digests.iter().map(|d| json!({
            "digest": d.digest.to_string(), "kind": d.kind.as_str(), "platform": d.platform,
            "repositories": d.repositories, "tags": d.tags,
            "provenance": provenance_json(&d.provenance),
        })).collect::<Vec<_>>(),
        "known_good_digests": a.known_good_digests.iter().map(|d| json!({
            "digest": d.digest.to_string(), "kind": d.kind.map(|k| k.as_str()), "platform": d.platform,
            "repositories": d.repositories, "tags": d.tags, "confirmed": d.confirmed,
            "provenance": provenance_json(&d.provenance),
        })).collect::<Vec<_>>(),
        "actions": a.actions.iter().map(|x| json!({
            "repository": x.repository, "tags": x.tags,
            "tag_rules": x.tag_rules.iter().map(rule).collect::<Vec<_>>(),
            "window": window_json(&x.window),
            "malicious_commits": x.malicious_commits.iter().map(|c| json!({"sha": c.sha, "tags": c.tags, "provenance": provenance_json(&c.provenance)})).collect::<Vec<_>>(),
            "known_good_commits": x.known_good_commits.iter().map(|c| json!({"sha": c.sha, "tags": c.tags, "provenance": provenance_json(&c.provenance)})).collect::<Vec<_>>(),
            "provenance": provenance_json(&x.provenance),
        })).collect::<Vec<_>>(),
        "network_indicators": a.network_indicators.iter().map(|n| json!({
            "kind": n.kind.as_str(), "value": n.value, "weak": n.weak,
            "provenance": provenance_json(&n.provenance),
        })).collect::<Vec<_>>(),
        "file_hashes": a.file_hashes.iter().map(|f| json!({
            "sha256": f.sha256, "sha1": f.sha1, "md5": f.md5, "description": f.description,
            "provenance": provenance_json(&f.provenance),
        })).collect::<Vec<_>>(),
        "host_artifacts": a.host_artifacts.iter().map(|h| json!({
            "path": h.path, "description": h.description, "provenance": provenance_json(&h.provenance),
        })).collect::<Vec<_>>(),
        "other_indicators": a.other_indicators.iter().map(|o| json!({
            "kind": o.kind, "value": o.value, "description": o.description,
            "provenance": provenance_json(&o.provenance),
        })).collect::<Vec<_>>(),
        "not_indicators": a.not_indicators.iter().map(|n| json!({
            "kind": n.kind, "value": n.value, "reason": n.reason,
            "provenance": provenance_json(&n.provenance),
        })).collect::<Vec<_>>(),
    })
}

/// Checks every file (one bad file does not stop the others): load errors and self-test
/// failures as `path:line:column: message`.
fn check(args: AdvisoryCheckArgs) -> Result<Status> {
    let mut failed = false;
    let mut err = std::io::stderr().lock();
    let mut out = std::io::stdout().lock();
    for path in &args.files {
        let loaded = match load_file(path, true) {
            Ok(Some(l)) => l,
            Ok(None) => continue,
            Err(e) => {
                failed = true;
                writeln!(err, "{}", terminal(&format!("{e:#}")))?;
                continue;
            }
        };
        let a = &loaded.advisory;
        let mut set = AdvisorySet::empty();
        let _ = set.add(a.clone());
        let failures = self_test(&set);
        for f in &failures {
            let (line, column) = a
                .example_position(&f.example, f.must_match)
                .unwrap_or((1, 1));
            writeln!(
                err,
                "{}:{line}:{column}: self-test: {}: {}",
                terminal(&a.path),
                terminal(&f.example),
                terminal(&f.message)
            )?;
        }
        if failures.is_empty() {
            writeln!(
                out,
                "{}: ok ({})",
                terminal(&path.display().to_string()),
                terminal(&a.id)
            )?;
        } else {
            failed = true;
        }
    }
    Ok(if failed {
        Status::Findings
    } else {
        Status::Clean
    })
}

fn import_files(args: AdvisoryImportArgs) -> Result<Status> {
    let format = match args.from {
        ImportFrom::Auto => None,
        ImportFrom::Stix => Some(import::Format::Stix),
        ImportFrom::Misp => Some(import::Format::Misp),
        ImportFrom::Osv => Some(import::Format::Osv),
        ImportFrom::Openvex => Some(import::Format::OpenVex),
        ImportFrom::Csaf => Some(import::Format::Csaf),
    };
    let mut texts = Vec::new();
    for f in &args.files {
        let meta = std::fs::metadata(f).with_context(|| format!("cannot read {}", f.display()))?;
        // Refused before reading, so a huge file costs nothing.
        if meta.len() > import::MAX_INPUT as u64 {
            anyhow::bail!(
                "{}:1:1: the file is larger than {} MiB: not imported",
                f.display(),
                import::MAX_INPUT / (1024 * 1024)
            );
        }
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        texts.push((f.display().to_string(), text));
    }
    let inputs: Vec<import::Input<'_>> = texts
        .iter()
        .map(|(path, text)| import::Input { path, text, format })
        .collect();
    let options = import::Options {
        id: args.id.clone(),
        ..import::Options::default()
    };
    let mut err = std::io::stderr().lock();
    let imported = match import::import_all(&inputs, &options) {
        Ok(i) => i,
        Err(e) => {
            for u in &e.unmapped {
                writeln!(err, "{}", terminal(&u.to_string()))?;
            }
            writeln!(err, "{}", terminal(&e.to_string()))?;
            return Ok(Status::Findings);
        }
    };
    for u in &imported.unmapped {
        writeln!(err, "{}", terminal(&u.to_string()))?;
    }
    match &args.output {
        Some(path) => tagwarden_fs::write_atomic(path, imported.advisory_toml.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(imported.advisory_toml.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(Status::Clean)
}

fn export_advisory(args: AdvisoryExportArgs) -> Result<Status> {
    let path = Path::new(&args.advisory_ref);
    let advisory = if path.is_file() {
        load_file(path, true)?
            .map(|l| l.advisory)
            .with_context(|| format!("{} is not an advisory", path.display()))?
    } else {
        let (loaded, _) = load(&args.advisory);
        loaded
            .into_iter()
            .map(|l| l.advisory)
            .find(|a| a.id == args.advisory_ref)
            .with_context(|| {
                format!(
                    "no advisory with id {:?} and no such file (see tagwarden advisory list)",
                    args.advisory_ref
                )
            })?
    };
    let text = match args.to {
        ExportTo::Stix => export::stix_bundle(&[&advisory]),
        ExportTo::Misp => export::misp_event(&advisory),
        ExportTo::Sigma => {
            let rules = export::sigma_rules(&advisory);
            if let Some(dir) = &args.output {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                for r in &rules {
                    // Only the file name: a rule cannot write outside the directory.
                    let name = Path::new(&r.file_name).file_name().with_context(|| {
                        format!("rule file name {:?} is not a file name", r.file_name)
                    })?;
                    let target = dir.join(name);
                    tagwarden_fs::write_atomic(&target, r.yaml.as_bytes())
                        .with_context(|| format!("cannot write {}", target.display()))?;
                }
                return Ok(Status::Clean);
            }
            rules
                .iter()
                .map(|r| r.yaml.as_str())
                .collect::<Vec<_>>()
                .join("---\n")
        }
    };
    match &args.output {
        Some(path) => tagwarden_fs::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                writeln!(out)?;
            }
            out.flush()?;
        }
    }
    Ok(Status::Clean)
}
