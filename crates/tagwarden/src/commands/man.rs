//! `tagwarden man`: man pages generated from the command-line definitions.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use clap::CommandFactory;

use crate::Status;
use crate::cli::{Cli, ManArgs};

pub(crate) fn run(args: ManArgs) -> Result<Status> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Gives each subcommand its display name (`tagwarden-scan`), which names its page.
    cmd.build();
    match args.dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            std::io::stdout().lock().write_all(&out)?;
        }
        Some(dir) => {
            let mut written = Vec::new();
            write_pages(&cmd, &dir, &mut written)?;
            let mut err = std::io::stderr().lock();
            writeln!(
                err,
                "wrote {} man pages to {}",
                written.len(),
                dir.display()
            )?;
        }
    }
    Ok(Status::Clean)
}

/// Writes the page of `cmd` and of every visible subcommand, depth first.
fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut Vec<String>) -> Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    let man = clap_mangen::Man::new(cmd.clone());
    let name = man.get_filename();
    let mut page = Vec::new();
    man.render(&mut page)?;
    let path = dir.join(&name);
    tagwarden_fs::write_atomic(&path, &page)
        .with_context(|| format!("cannot write {}", path.display()))?;
    written.push(name);
    Ok(())
}
