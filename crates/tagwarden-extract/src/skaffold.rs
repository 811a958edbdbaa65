//! Skaffold: the images it pulls (builders, base and run images, verify and custom action containers); the images it builds are not references.

use crate::Extraction;

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let _ = text;
    Extraction::default()
}
