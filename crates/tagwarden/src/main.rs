//! `tagwarden`: find, pin and hunt compromised container images.

mod cli;
mod commands;
mod config;
mod hunt;
mod registry;
mod resolver;
mod scan;
mod signatures;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// Exit statuses shared by every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Status {
    /// Nothing at or above the failure threshold.
    Clean = 0,
    /// Findings at or above the threshold.
    Findings = 1,
    /// Usage or internal error.
    Error = 2,
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Scan(args) => commands::scan::run(args),
        cli::Command::Resolve(args) => commands::resolve::run(args),
        cli::Command::Pin(args) => commands::pin::run(args),
        cli::Command::Verify(args) => commands::verify::run(args),
        cli::Command::Hunt(args) => commands::hunt::run(args),
        cli::Command::Watch(args) => commands::watch::run(args),
        cli::Command::Audit(args) => commands::audit::run(args),
        cli::Command::Exposure(args) => commands::exposure::run(args),
        cli::Command::Purge(args) => commands::purge::run(args),
        cli::Command::Advisory(command) => commands::advisory::run(command),
        cli::Command::Completions(args) => commands::completions::run(args),
        cli::Command::Man(args) => commands::man::run(args),
    };
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) => {
            // A closed pipe (`tagwarden scan | head`) is not a failure of ours.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            // Errors quote paths and registry answers: nothing in them may drive the terminal.
            let message = format!("{e:#}");
            let _ = writeln!(
                std::io::stderr(),
                "error: {}",
                tagwarden_findings::output::escape::terminal(&message)
            );
            ExitCode::from(Status::Error as u8)
        }
    }
}
