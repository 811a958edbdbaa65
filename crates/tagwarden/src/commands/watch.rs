//! `tagwarden watch`: the daemon of `tagwarden-watch`, given the registry client and credentials
//! `pin` uses, the scan pipeline for `scan = [...]` trees and the advisories every command loads.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Result, anyhow};
use tagwarden_advisory::AdvisorySet;
use tagwarden_reference::Reference;
use tagwarden_watch::daemon::{Finished, Options, export_history};

use crate::Status;
use crate::cli::{AdvisoryArgs, WatchArgs};
use crate::config::Config;
use crate::scan;

pub(crate) fn run(args: WatchArgs) -> Result<Status> {
    let (client, runtime) = crate::registry::client(&args.registry)?;
    let options = Options {
        config: args.config.clone(),
        database: args.db.clone(),
        listen: args.listen.clone(),
        replica: args.replica.clone(),
        once: args.once,
    };
    if let Some(reference) = &args.export {
        let json = runtime
            .block_on(export_history(&options, reference))
            .map_err(|e| anyhow!(e))?;
        println!("{json}");
        return Ok(Status::Clean);
    }
    let sources = Arc::new(Trees {
        advisory: AdvisoryArgs {
            advisories: args.advisory.advisories.clone(),
            no_builtin_advisories: args.advisory.no_builtin_advisories,
        },
    });
    let finished = runtime
        .block_on(tagwarden_watch::run(options, client, sources))
        .map_err(|e| anyhow!(e))?;
    Ok(match finished {
        Finished::Once {
            worst: Some(worst),
            fail_on,
            ..
        } if worst >= fail_on => Status::Findings,
        Finished::Once { .. } | Finished::Stopped => Status::Clean,
    })
}

/// The trees and advisories a watch configuration names, read as `scan` and `verify` read them.
struct Trees {
    advisory: AdvisoryArgs,
}

impl tagwarden_watch::Sources for Trees {
    fn scan(&self, paths: &[PathBuf]) -> Result<Vec<(Reference, String)>, String> {
        let mut found = Vec::new();
        for root in paths {
            if !root.exists() {
                return Err(format!("scan path {} does not exist", root.display()));
            }
            // Each tree's own tagwarden.toml decides what it ignores, as for `scan`.
            let config = Config::discover(root).map_err(|e| format!("{e:#}"))?;
            let advisories = AdvisorySet::empty();
            let ctx = scan::Context {
                config: &config,
                advisories: &advisories,
                max_file_size: 8 * 1024 * 1024,
                keep_files: false,
            };
            let walk = scan::WalkOptions {
                respect_ignore: true,
                follow_links: false,
                threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            };
            let scanned = scan::scan(std::slice::from_ref(root), &walk, &ctx);
            for r in scanned.report.references {
                let Some(reference) = r.image.as_deref().and_then(|i| Reference::parse(i).ok())
                else {
                    continue;
                };
                if config.ignores_image(&reference) {
                    continue;
                }
                let origin = format!("{}:{}:{}", root.join(&r.path).display(), r.line, r.column);
                found.push((reference, origin));
            }
        }
        Ok(found)
    }

    fn advisories(&self, extra: &[PathBuf]) -> (AdvisorySet, Vec<String>) {
        let mut errors = Vec::new();
        let set = super::load_advisories(&self.advisory, extra, &mut errors);
        (set, errors)
    }
}
