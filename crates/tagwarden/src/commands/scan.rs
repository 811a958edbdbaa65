//! `tagwarden scan`: every image reference in a tree, offline, judged against advisories.

use anyhow::Result;
use tagwarden_findings::Severity;

use crate::Status;
use crate::cli::ScanArgs;
use crate::scan;

pub(crate) fn run(args: ScanArgs) -> Result<Status> {
    let prep = super::prepare(
        &args.paths,
        args.config.as_ref(),
        args.no_config,
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
    let color = super::use_color(args.color, args.output.as_deref());
    super::render(&report, args.format, args.output.as_deref(), color)?;
    if !prep.advisory_errors.is_empty() {
        return Ok(Status::Error);
    }
    let fail_on = args
        .fail_on
        .or(prep.config.fail_on)
        .unwrap_or(Severity::High);
    Ok(if report.count_at_or_above(fail_on) > 0 {
        Status::Findings
    } else {
        Status::Clean
    })
}
