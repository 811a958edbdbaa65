//! One extractor per file kind: each takes the text of one file and returns an
//! [`Extraction`](crate::Extraction), reading with [`crate::read`]. A document of another kind
//! written inside a file (a manifest in a heredoc, a Dockerfile in Compose) is read through
//! [`crate::extract_embedded`], never by importing that kind's module.

pub mod azure_pipelines;
pub mod bake;
pub mod bitbucket_pipelines;
pub mod circleci;
pub mod cloudbuild;
pub mod compose;
pub mod devcontainer;
pub mod dockerfile;
pub mod drone;
pub mod github_actions;
pub mod gitlab_ci;
pub mod helm;
pub mod helmfile;
pub mod jenkinsfile;
pub mod kubernetes;
pub mod quadlet;
pub mod script;
pub mod skaffold;
pub mod terraform;
