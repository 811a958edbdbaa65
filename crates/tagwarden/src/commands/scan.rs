//! `tagwarden scan`: every image reference in a tree, offline, judged against advisories.

use anyhow::Result;

use crate::Status;
use crate::cli::ScanArgs;
use crate::scan;

pub(crate) fn run(args: ScanArgs) -> Result<Status> {
    let prep = super::prepare(
        &args.paths,
        args.config.as_ref(),
        args.no_config,
        super::untrusted_from_env(args.untrusted_config),
        &args.walk,
        &args.advisory,
    )?;
    let ctx = scan::Context {
        config: &prep.config,
        advisories: &prep.advisories,
        max_file_size: args.walk.max_file_size,
        keep_files: false,
    };
    let report = scan::scan(&args.paths, &prep.walk, &ctx).report;
    super::finish(&report, &args.report, &prep)
}
