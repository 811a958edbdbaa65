//! TODO(helper): extractor.

use crate::Extraction;

pub fn extract_workflow(_text: &str) -> Extraction {
    Extraction::default()
}

pub fn extract_action(_text: &str) -> Extraction {
    Extraction::default()
}
