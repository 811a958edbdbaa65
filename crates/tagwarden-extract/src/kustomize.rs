//! TODO(helper): extractor.

use crate::Extraction;

pub fn extract(_text: &str) -> Extraction {
    Extraction::default()
}
