//! Azure Pipelines: `resources.containers[].image`, a job's `container:`, `services:`, and container commands in `script:` / `bash:` steps.

use crate::Extraction;

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let _ = text;
    Extraction::default()
}
