//! The evidence sources a hunt's flags ask for (CI logs, network logs, engines, snapshots,
//! Docker Hub exports).

use std::sync::Arc;

use tagwarden_evidence::audit::AuditLogs;
use tagwarden_evidence::ci::CiLogs;
use tagwarden_evidence::dockerhub::DockerHubExports;
use tagwarden_evidence::engine::{DiscoverEnv, Engine, discover};
use tagwarden_evidence::network::NetworkLogs;
use tagwarden_evidence::recognise::Readers;
use tagwarden_evidence::snapshot::Snapshots;
use tagwarden_evidence::{EvidenceSource, IndicatorSet, Problem, Sink, SourceStats};

use crate::cli::HuntArgs;

pub(crate) fn evidence_sources(
    args: &HuntArgs,
    indicators: &Arc<IndicatorSet>,
    threads: usize,
) -> Vec<Box<dyn EvidenceSource>> {
    let mut sources: Vec<Box<dyn EvidenceSource>> = Vec::new();
    // Evidence is read by its content wherever it was given (a Docker Hub export among CI logs).
    let readers = Readers::new(indicators.clone());
    if !args.engines.is_empty() {
        for socket in &args.engines {
            sources.push(Box::new(Engine::new(socket.clone())));
        }
    } else if !args.no_engine {
        let found = discover(&DiscoverEnv::from_process());
        for engine in found.engines() {
            sources.push(Box::new(WhenItAnswers(engine)));
        }
        if !found.problems.is_empty() {
            sources.push(Box::new(Reported(found.problems)));
        }
    }
    if !args.snapshots.is_empty() {
        sources.push(Box::new(Snapshots::new(
            args.snapshots.clone(),
            readers.clone(),
        )));
    }
    if !args.ci_logs.is_empty() {
        sources.push(Box::new(CiLogs::new(args.ci_logs.clone(), readers.clone())));
    }
    if !args.network_logs.is_empty() {
        sources.push(Box::new(NetworkLogs::new(
            args.network_logs.clone(),
            indicators.clone(),
            threads,
        )));
    }
    if !args.dockerhub_exports.is_empty() {
        sources.push(Box::new(DockerHubExports::new(
            args.dockerhub_exports.clone(),
            readers.clone(),
        )));
    }
    if !args.audit_logs.is_empty() {
        sources.push(Box::new(AuditLogs::new(args.audit_logs.clone(), readers)));
    }
    sources
}

/// An engine found by looking in the usual places: searched when it answers; when it does not,
/// that is said as a note, not as a failed hunt (nobody asked for it by name).
struct WhenItAnswers(Engine);

impl EvidenceSource for WhenItAnswers {
    fn describe(&self) -> String {
        self.0.describe()
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        match self.0.collect(sink) {
            Ok(stats) => Ok(stats),
            Err(p) => {
                sink.note(p);
                Ok(SourceStats::default())
            }
        }
    }
}

/// Problems found while choosing sources (a `DOCKER_HOST` over TCP).
struct Reported(Vec<Problem>);

impl EvidenceSource for Reported {
    fn describe(&self) -> String {
        "container engine discovery".to_string()
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        for p in &self.0 {
            sink.problem(p.clone());
        }
        Ok(SourceStats::default())
    }
}
