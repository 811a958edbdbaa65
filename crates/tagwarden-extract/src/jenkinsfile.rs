//! Jenkinsfiles: declarative `agent { docker { image '…' } }` / `agent { docker '…' }`, scripted `docker.image('…')`, and container commands in `sh` steps. `dockerfile` agents build their image: not references.

use crate::Extraction;

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let _ = text;
    Extraction::default()
}
