//! `tagwarden completions SHELL`: completions generated from the command-line definitions, so
//! they never fall behind a new flag.

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;

use crate::Status;
use crate::cli::{Cli, CompletionsArgs};

pub(crate) fn run(args: CompletionsArgs) -> Result<Status> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "tagwarden", &mut out);
    std::io::stdout().lock().write_all(&out)?;
    Ok(Status::Clean)
}
