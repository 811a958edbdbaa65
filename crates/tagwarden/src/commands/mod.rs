//! One module per subcommand.

pub(crate) mod advisory;
pub(crate) mod audit;
pub(crate) mod completions;
pub(crate) mod exposure;
pub(crate) mod hunt;
mod hunt_sources;
pub(crate) mod man;
pub(crate) mod pin;
pub(crate) mod purge;
pub(crate) mod resolve;
pub(crate) mod scan;
pub(crate) mod verify;
pub(crate) mod watch;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use tagwarden_advisory::{Advisory, AdvisorySet};
use tagwarden_findings::Note;
use tagwarden_findings::output::escape;

use crate::cli::{AdvisoryArgs, WalkArgs};
use crate::config::Config;
use crate::scan::WalkOptions;

/// The trees a command walks: those given, or the current directory.
pub(crate) fn roots(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    }
}

/// What every tree-walking command sets up first: configuration, advisories, walk options.
pub(crate) struct Prepared {
    pub(crate) config: Config,
    pub(crate) advisories: AdvisorySet,
    /// Advisory files that failed to load (already printed); the command exits 2 at the end.
    pub(crate) advisory_errors: Vec<String>,
    pub(crate) walk: WalkOptions,
    /// What every output must say about the setup (which config was applied).
    pub(crate) notes: Vec<Note>,
}

/// The environment variable that turns `--untrusted-config` on for `scan` and `verify`.
pub(crate) const UNTRUSTED_ENV: &str = "TAGWARDEN_UNTRUSTED_CONFIG";

pub(crate) fn prepare(
    paths: &[PathBuf],
    config: Option<&PathBuf>,
    no_config: bool,
    untrusted: bool,
    walk: &WalkArgs,
    advisory: &AdvisoryArgs,
) -> Result<Prepared> {
    for p in paths {
        if !p.exists() {
            anyhow::bail!("{} does not exist", p.display());
        }
    }
    let first = paths.first().cloned().unwrap_or_else(|| ".".into());
    let mut advisory_errors = Vec::new();
    let mut config = match (config, no_config) {
        (_, true) => Config::default(),
        (Some(path), false) => Config::load(path)?,
        (None, false) => match Config::discover(&first) {
            Ok(c) => c,
            // A broken config in a tree we do not trust must not stop the search for compromise.
            Err(e) if untrusted => {
                advisory_errors.push(format!("{e:#}; searched without it"));
                Config::default()
            }
            Err(e) => return Err(e),
        },
    };
    let from_tree = config.is_in(paths);
    if untrusted {
        config.distrust_tree();
    }
    if untrusted && from_tree {
        config.guard();
        // A hostile config must not make us read (and quote in errors) files outside the tree.
        let roots: Vec<PathBuf> = paths
            .iter()
            .filter_map(|p| std::fs::canonicalize(p).ok())
            .collect();
        config.advisories.retain(|a| {
            // A missing file is reported when it is loaded.
            let inside = std::fs::canonicalize(a)
                .map_or(true, |a| roots.iter().any(|r| a.starts_with(r)));
            if !inside {
                advisory_errors.push(format!(
                    "{}: advisories {} is outside the scanned tree: not read (the tree's config is not trusted)",
                    config.source.as_deref().unwrap_or(Path::new("config")).display(),
                    a.display()
                ));
            }
            inside
        });
    }
    let notes = config_notes(&config, from_tree);
    for n in &notes {
        // On the terminal whatever the format (a hunt's STIX has no place for it).
        let _ = writeln!(
            std::io::stderr(),
            "note: {}: {}",
            escape::terminal(n.path.as_deref().unwrap_or("")),
            n.message
        );
    }
    let advisories = load_advisories(advisory, &config.advisories, &mut advisory_errors);
    for e in &advisory_errors {
        // Printed first so they are not lost below a long report.
        let _ = writeln!(std::io::stderr(), "error: {}", escape::terminal(e));
    }
    let threads = walk
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok(Prepared {
        config,
        advisories,
        advisory_errors,
        walk: WalkOptions {
            respect_ignore: !walk.no_ignore,
            follow_links: walk.follow,
            threads,
        },
        notes,
    })
}

/// True when `--untrusted-config` was given or the environment asks for it.
pub(crate) fn untrusted_from_env(flag: bool) -> bool {
    flag || std::env::var_os(UNTRUSTED_ENV)
        .is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Says which config was applied, and whether it came from the tree being judged.
fn config_notes(config: &Config, from_tree: bool) -> Vec<Note> {
    let Some(source) = &config.source else {
        return Vec::new();
    };
    let message = if config.is_guarded() {
        "configuration from the scanned tree applied; the tree is not trusted, so its ignores \
         cannot hide compromised-* findings and the advisory files it names must be inside it"
    } else if from_tree {
        "configuration from the scanned tree applied (the tree is trusted: its ignores can hide \
         any finding)"
    } else {
        "configuration applied"
    };
    vec![Note::new(Some(source.display().to_string()), message)]
}

/// Loads the built-in advisories and the user's. A bad user file is reported with its line and
/// column and the others still load; the caller exits 2 at the end so CI notices. What an
/// on-the-fly import could not map is printed as a warning.
pub(crate) fn load_advisories(
    args: &AdvisoryArgs,
    extra: &[PathBuf],
    errors: &mut Vec<String>,
) -> AdvisorySet {
    let mut set = AdvisorySet::empty();
    for loaded in load_all(args, extra, errors) {
        if let Err(e) = set.add(loaded.advisory) {
            errors.push(e.to_string());
        }
    }
    set
}

/// Where a loaded advisory came from.
#[derive(Clone, Debug)]
pub(crate) enum Origin {
    /// Compiled into the binary (its path under `advisories/`).
    Builtin,
    /// A TOML file the user gave.
    File,
    /// A shared-format document converted on load.
    Imported(tagwarden_interchange::import::Format),
}

/// An advisory with the TOML text it was loaded from (for `advisory show --format toml`).
pub(crate) struct Loaded {
    pub(crate) advisory: Advisory,
    pub(crate) toml: String,
    pub(crate) origin: Origin,
}

/// The built-in advisories (unless turned off) and every user file, in order; bad files are
/// reported in `errors` and skipped.
pub(crate) fn load_all(
    args: &AdvisoryArgs,
    extra: &[PathBuf],
    errors: &mut Vec<String>,
) -> Vec<Loaded> {
    let mut out = Vec::new();
    if !args.no_builtin_advisories {
        for (path, text) in tagwarden_advisory::BUILTIN_FILES {
            // The tests load every built-in, so none is skipped in practice.
            if let Ok(advisory) = Advisory::from_toml(path, text) {
                out.push(Loaded {
                    advisory,
                    toml: (*text).to_string(),
                    origin: Origin::Builtin,
                });
            }
        }
    }
    let named = args
        .advisories
        .iter()
        .map(|p| (p, Named::CommandLine))
        .chain(extra.iter().map(|p| (p, Named::Config)));
    for (path, how) in named {
        let files = match advisory_files(path, how) {
            Ok(files) => files,
            Err(e) => {
                errors.push(format!("{e:#}"));
                continue;
            }
        };
        for (f, how) in files {
            match load_source(&f, how) {
                Ok(Some(loaded)) => out.push(loaded),
                Ok(None) => {}
                Err(e) => errors.push(format!("{e:#}")),
            }
        }
    }
    out
}

/// Who named an advisory file, which decides how it may be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Named {
    /// `--advisories FILE`: the user's choice, a stream (`<(curl …)`) included.
    CommandLine,
    /// `advisories = [...]` in a config: a regular file only.
    Config,
    /// Found in a directory: a regular file only, and skipped when not an advisory format.
    Directory,
}

/// Reads one advisory file: TOML, or a `.json` document in a shared format, imported on the fly
/// (its unmapped items printed as warnings). A `.json` file of another kind found in a directory
/// (`named` false) is skipped with a warning; named on the command line, it is an error.
pub(crate) fn load_file(path: &Path, named: bool) -> Result<Option<Loaded>> {
    load_source(
        path,
        if named {
            Named::CommandLine
        } else {
            Named::Directory
        },
    )
}

fn load_source(path: &Path, how: Named) -> Result<Option<Loaded>> {
    use tagwarden_interchange::import;
    let named = how != Named::Directory;
    // Every advisory file is capped (`advisories = ["/dev/zero"]` must not eat memory); only a
    // file named on the command line may be a stream.
    let bytes =
        tagwarden_fs::read_bounded(path, import::MAX_INPUT as u64, how != Named::CommandLine)
            .map_err(|e| anyhow::anyhow!("cannot read advisory {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "cannot read advisory {}: not UTF-8 at byte {}",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    let shown = path.display().to_string();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        let Some(format) = import::detect(&text) else {
            if !named {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: {}: not an advisory format tagwarden imports: skipped",
                    escape::terminal(&shown)
                );
                return Ok(None);
            }
            // Detection failed: an import without a format gives the error and its position.
            let input = import::Input {
                path: &shown,
                text: &text,
                format: None,
            };
            return match import::import_all(&[input], &import::Options::default()) {
                Err(e) => Err(e.into()),
                Ok(_) => anyhow::bail!("{shown}: not an advisory format tagwarden imports"),
            };
        };
        let imported = import::import(&shown, &text, format)?;
        for u in &imported.unmapped {
            let _ = writeln!(
                std::io::stderr(),
                "warning: {}",
                escape::terminal(&u.to_string())
            );
        }
        return Ok(Some(Loaded {
            advisory: imported.advisory,
            toml: imported.advisory_toml,
            origin: Origin::Imported(format),
        }));
    }
    let advisory = Advisory::from_toml(&shown, &text)?;
    Ok(Some(Loaded {
        advisory,
        toml: text,
        origin: Origin::File,
    }))
}

/// A file, or the `*.toml` and `*.json` files of a directory in name order, with who named each.
fn advisory_files(path: &Path, named: Named) -> Result<Vec<(PathBuf, Named)>> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read advisory directory {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "toml" || e.eq_ignore_ascii_case("json"))
                    && p.is_file()
            })
            .collect();
        files.sort();
        Ok(files.into_iter().map(|f| (f, Named::Directory)).collect())
    } else if path.exists() || std::fs::symlink_metadata(path).is_ok() {
        Ok(vec![(path.to_path_buf(), named)])
    } else {
        anyhow::bail!("advisory path {} does not exist", path.display())
    }
}

/// Renders a findings report as asked and chooses the exit status: 2 when an advisory file
/// failed to load, 1 when a finding is at or above the threshold, else 0.
pub(crate) fn finish(
    report: &tagwarden_findings::ScanReport,
    args: &crate::cli::ReportArgs,
    prep: &Prepared,
) -> Result<crate::Status> {
    let color = use_color(args.color, args.output.as_deref());
    if prep.notes.is_empty() {
        render(report, args.format, args.output.as_deref(), color)?;
    } else {
        let mut report = report.clone();
        report.notes.splice(0..0, prep.notes.iter().cloned());
        render(&report, args.format, args.output.as_deref(), color)?;
    }
    if !prep.advisory_errors.is_empty() {
        return Ok(crate::Status::Error);
    }
    let fail_on = args
        .fail_on
        .or(prep.config.fail_on)
        .unwrap_or(tagwarden_findings::Severity::High);
    Ok(if report.count_at_or_above(fail_on) > 0 {
        crate::Status::Findings
    } else {
        crate::Status::Clean
    })
}

/// Colours for human output: asked for, or a terminal without `NO_COLOR`.
pub(crate) fn use_color(choice: crate::cli::ColorChoice, output: Option<&Path>) -> bool {
    use std::io::IsTerminal;
    match choice {
        crate::cli::ColorChoice::Always => true,
        crate::cli::ColorChoice::Never => false,
        crate::cli::ColorChoice::Auto => {
            output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Writes a report in the chosen format to the output file or standard output.
pub(crate) fn render(
    report: &tagwarden_findings::ScanReport,
    format: crate::cli::OutputFormat,
    output: Option<&Path>,
    color: bool,
) -> Result<()> {
    use crate::cli::OutputFormat;
    use tagwarden_findings::output;
    let mut sink = OutputSink::open(output)?;
    match format {
        OutputFormat::Human => output::human::render(report, &mut sink, color)?,
        OutputFormat::Json => output::json::render(report, &mut sink)?,
        OutputFormat::Sarif => {
            output::sarif::render(report, &mut sink, env!("CARGO_PKG_VERSION"))?;
        }
        OutputFormat::Github => output::github::render(report, &mut sink)?,
    }
    sink.finish()
}

/// Where a command's output goes: standard output, or a file (`--output`) written whole or not
/// at all, so that a CI step reading it never sees half a report.
pub(crate) enum OutputSink {
    File(std::io::BufWriter<tagwarden_fs::AtomicFile>, PathBuf),
    Stdout(std::io::BufWriter<std::io::StdoutLock<'static>>),
}

impl OutputSink {
    pub(crate) fn open(output: Option<&Path>) -> Result<OutputSink> {
        Ok(match output {
            Some(p) => OutputSink::File(
                std::io::BufWriter::new(
                    tagwarden_fs::AtomicFile::create(p)
                        .with_context(|| format!("cannot write {}", p.display()))?,
                ),
                p.to_path_buf(),
            ),
            None => OutputSink::Stdout(std::io::BufWriter::new(std::io::stdout().lock())),
        })
    }

    /// Flushes, and puts the file in place.
    pub(crate) fn finish(self) -> Result<()> {
        match self {
            OutputSink::File(f, p) => f
                .into_inner()
                .map_err(|e| e.into_error())
                .and_then(tagwarden_fs::AtomicFile::commit)
                .with_context(|| format!("cannot write {}", p.display())),
            OutputSink::Stdout(mut out) => Ok(out.flush()?),
        }
    }
}

impl Write for OutputSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            OutputSink::File(f, _) => f.write(buf),
            OutputSink::Stdout(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            OutputSink::File(f, _) => f.flush(),
            OutputSink::Stdout(out) => out.flush(),
        }
    }
}
