//! Shell scripts and Makefile recipes: the image operands of their container commands.

use crate::Extraction;

/// Finds the image references of one file.
pub fn extract_shell(text: &str) -> Extraction {
    let _ = text;
    Extraction::default()
}

/// Finds the image references of one file.
pub fn extract_makefile(text: &str) -> Extraction {
    let _ = text;
    Extraction::default()
}
