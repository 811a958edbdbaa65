//! One module per subcommand.

pub(crate) mod advisory;
pub(crate) mod hunt;
mod hunt_sources;
pub(crate) mod pin;
pub(crate) mod resolve;
pub(crate) mod scan;
pub(crate) mod verify;
pub(crate) mod watch;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use tagwarden_advisory::{Advisory, AdvisorySet};

use crate::cli::{AdvisoryArgs, WalkArgs};
use crate::config::Config;
use crate::scan::WalkOptions;

/// What every tree-walking command sets up first: configuration, advisories, walk options.
pub(crate) struct Prepared {
    pub(crate) config: Config,
    pub(crate) advisories: AdvisorySet,
    /// Advisory files that failed to load (already printed); the command exits 2 at the end.
    pub(crate) advisory_errors: Vec<String>,
    pub(crate) walk: WalkOptions,
}

pub(crate) fn prepare(
    paths: &[PathBuf],
    config: Option<&PathBuf>,
    no_config: bool,
    walk: &WalkArgs,
    advisory: &AdvisoryArgs,
) -> Result<Prepared> {
    for p in paths {
        if !p.exists() {
            anyhow::bail!("{} does not exist", p.display());
        }
    }
    let first = paths.first().cloned().unwrap_or_else(|| ".".into());
    let config = match (config, no_config) {
        (_, true) => Config::default(),
        (Some(path), false) => Config::load(path)?,
        (None, false) => Config::discover(&first)?,
    };
    let mut advisory_errors = Vec::new();
    let advisories = load_advisories(advisory, &config.advisories, &mut advisory_errors);
    for e in &advisory_errors {
        // Printed first so they are not lost below a long report.
        let _ = writeln!(std::io::stderr(), "error: {e}");
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
    })
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
    for path in args.advisories.iter().chain(extra) {
        match advisory_files(path) {
            Ok(files) => {
                for (f, named) in files {
                    match load_file(&f, named) {
                        Ok(Some(loaded)) => out.push(loaded),
                        Ok(None) => {}
                        Err(e) => errors.push(format!("{e:#}")),
                    }
                }
            }
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    out
}

/// Reads one advisory file: TOML, or a `.json` document in a shared format, imported on the fly
/// (its unmapped items printed as warnings). A `.json` file of another kind found in a directory
/// (`named` false) is skipped with a warning; named on the command line, it is an error.
pub(crate) fn load_file(path: &Path, named: bool) -> Result<Option<Loaded>> {
    use tagwarden_interchange::import;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read advisory {}", path.display()))?;
    let shown = path.display().to_string();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        let Some(format) = import::detect(&text) else {
            if !named {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: {shown}: not an advisory format tagwarden imports: skipped"
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
            let _ = writeln!(std::io::stderr(), "warning: {u}");
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

/// A file, or the `*.toml` and `*.json` files of a directory in name order; `true` marks a file
/// named by the user.
fn advisory_files(path: &Path) -> Result<Vec<(PathBuf, bool)>> {
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
        Ok(files.into_iter().map(|f| (f, false)).collect())
    } else if path.exists() {
        Ok(vec![(path.to_path_buf(), true)])
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
    render(report, args.format, args.output.as_deref(), color)?;
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
    let mut sink: Box<dyn Write> = match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match format {
        OutputFormat::Human => output::human::render(report, &mut sink, color)?,
        OutputFormat::Json => output::json::render(report, &mut sink)?,
        OutputFormat::Sarif => output::sarif::render(report, &mut sink, env!("CARGO_PKG_VERSION"))?,
        OutputFormat::Github => output::github::render(report, &mut sink)?,
    }
    sink.flush()?;
    Ok(())
}
