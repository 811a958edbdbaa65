//! Bitbucket Pipelines: `image:` (string or map), `definitions.services.*.image`, and container commands in `script:` entries.

use crate::Extraction;

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let _ = text;
    Extraction::default()
}
