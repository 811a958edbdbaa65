//! Podman Quadlet units: `Image=` of `[Container]`, `[Image]` and `[Volume]` sections.

use crate::Extraction;

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let _ = text;
    Extraction::default()
}
