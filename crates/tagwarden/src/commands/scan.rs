//! `tagwarden scan`: every image reference in a tree, offline, judged against advisories.

use std::io::{IsTerminal, Write};

use anyhow::{Context as _, Result};
use tagwarden_findings::{Severity, output};

use crate::Status;
use crate::cli::{ColorChoice, OutputFormat, ScanArgs};
use crate::config::Config;
use crate::scan::{self, WalkOptions};

pub(crate) fn run(args: ScanArgs) -> Result<Status> {
    let first = args.paths.first().cloned().unwrap_or_else(|| ".".into());
    for p in &args.paths {
        if !p.exists() {
            anyhow::bail!("{} does not exist", p.display());
        }
    }
    let config = match (&args.config, args.no_config) {
        (_, true) => Config::default(),
        (Some(path), false) => Config::load(path)?,
        (None, false) => Config::discover(&first)?,
    };

    let mut errors = Vec::new();
    let advisories = super::load_advisories(&args.advisory, &config.advisories, &mut errors);
    for e in &errors {
        // Reported before the scan output so they are not lost below a long report.
        let _ = writeln!(std::io::stderr(), "error: {e}");
    }

    let threads = args
        .walk
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let walk = WalkOptions {
        respect_ignore: !args.walk.no_ignore,
        follow_links: args.walk.follow,
        threads,
    };
    let ctx = scan::Context {
        config: &config,
        advisories: &advisories,
        max_file_size: args.walk.max_file_size,
    };
    let report = scan::scan(&args.paths, &walk, &ctx);

    let mut sink: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    match args.format {
        OutputFormat::Human => output::human::render(&report, &mut sink, color)?,
        OutputFormat::Json => output::json::render(&report, &mut sink)?,
        OutputFormat::Sarif => {
            output::sarif::render(&report, &mut sink, env!("CARGO_PKG_VERSION"))?
        }
        OutputFormat::Github => output::github::render(&report, &mut sink)?,
    }
    sink.flush()?;

    if !errors.is_empty() {
        return Ok(Status::Error);
    }
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(Severity::High);
    Ok(if report.count_at_or_above(fail_on) > 0 {
        Status::Findings
    } else {
        Status::Clean
    })
}
