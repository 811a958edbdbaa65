//! The files of a tree as evidence: what the scan found is what the tree references.

use tagwarden_evidence::{
    Evidence, EvidenceSource, ImageAction, Observed, Problem, Sink, SourceKind, SourceStats,
};
use tagwarden_findings::ScanReport;
use tagwarden_reference::Reference;

pub(crate) struct FileReferences {
    pub(crate) report: ScanReport,
    /// Which configuration was applied to the scan, said in every output that names sources.
    pub(crate) config: Option<String>,
}

impl EvidenceSource for FileReferences {
    fn describe(&self) -> String {
        let config = self
            .config
            .as_ref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        format!(
            "image and action references in files under {}{config}",
            self.report.root
        )
    }

    fn collect(&self, sink: &dyn Sink) -> Result<SourceStats, Problem> {
        for r in &self.report.references {
            let Some(image) = &r.image else { continue };
            let parsed = Reference::parse(image).ok();
            sink.evidence(Evidence {
                source: SourceKind::File,
                location: r.path.clone(),
                line: Some(r.line as u64),
                timestamp: None,
                within: None,
                host: None,
                job: r.context.clone(),
                observed: Observed::Image {
                    action: ImageAction::Referenced,
                    reference: Some(r.text.clone()),
                    digest: parsed.and_then(|p| p.digest().cloned()),
                },
                excerpt: Some(r.text.clone()),
            });
        }
        for a in &self.report.actions {
            sink.evidence(Evidence {
                source: SourceKind::File,
                location: a.path.clone(),
                line: Some(a.line as u64),
                timestamp: None,
                within: None,
                host: None,
                job: None,
                observed: Observed::Action {
                    repository: a.repository.clone(),
                    git_ref: a.git_ref.clone(),
                    sha: a.pinned.then(|| a.git_ref.clone()),
                },
                excerpt: Some(a.text.clone()),
            });
        }
        for n in &self.report.notes {
            if !n.message.starts_with("not scanned") {
                continue;
            }
            let p = Problem {
                source: SourceKind::File,
                location: n.path.clone().unwrap_or_default(),
                message: n.message.clone(),
            };
            // A loop is walked once: nothing went unread (the walker names it so).
            if n.message.contains("File system loop") {
                sink.note(p);
            } else {
                sink.problem(p);
            }
        }
        Ok(SourceStats {
            files: self.report.files_scanned as u64,
            bytes: 0,
            records: (self.report.references.len() + self.report.actions.len()) as u64,
        })
    }
}
