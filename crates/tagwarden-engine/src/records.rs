//! The records the engine lists, as purge reads them (hunt reads the JSON itself, keeping every
//! field it may quote).

use serde::Deserialize;

/// One image in the store (`GET /images/json`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Image {
    /// `sha256:…`, the image ID (its config digest).
    pub id: String,
    /// `repo:tag` names; `<none>:<none>` for an untagged image.
    #[serde(deserialize_with = "null_is_empty")]
    pub repo_tags: Vec<String>,
    /// `repo@sha256:…`: the manifest digests the image was pulled by.
    #[serde(deserialize_with = "null_is_empty")]
    pub repo_digests: Vec<String>,
}

/// One container (`GET /containers/json?all=1`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Container {
    pub id: String,
    /// `/name` as the engine writes it.
    #[serde(deserialize_with = "null_is_empty")]
    pub names: Vec<String>,
    /// The image as the container was created from it (a name or an ID).
    pub image: String,
    /// The image ID.
    #[serde(rename = "ImageID")]
    pub image_id: String,
    /// `running`, `exited`, `created`…
    pub state: String,
}

impl Image {
    /// True when `id` names this image: engines write IDs with or without `sha256:`, whole or
    /// cut to 12 digits (podman's containers list does both).
    pub fn is(&self, id: &str) -> bool {
        let bare = |s: &str| s.strip_prefix("sha256:").unwrap_or(s).to_ascii_lowercase();
        let (mine, theirs) = (bare(&self.id), bare(id));
        !mine.is_empty() && theirs.len() >= 12 && mine.starts_with(&theirs)
    }
}

impl Container {
    /// True when the container runs (or is paused or restarting: stopping is still needed).
    pub fn is_running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "paused" | "restarting")
    }

    /// The first name without its leading `/`, or the short ID.
    pub fn display_name(&self) -> String {
        self.names
            .first()
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_else(|| self.id.chars().take(12).collect())
    }
}

fn null_is_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_and_missing_fields_read_as_empty() {
        let images: Vec<Image> = serde_json::from_str(
            r#"[{"Id":"sha256:1","RepoTags":null,"RepoDigests":["a@sha256:2"],"Size":3},{}]"#,
        )
        .unwrap_or_default();
        assert_eq!(images.len(), 2);
        assert!(images[0].repo_tags.is_empty());
        assert_eq!(images[0].repo_digests, ["a@sha256:2"]);
        let containers: Vec<Container> = serde_json::from_str(
            r#"[{"Id":"0123456789abcdef","Names":null,"ImageID":"sha256:1","State":"running"}]"#,
        )
        .unwrap_or_default();
        assert!(containers[0].is_running());
        let image = Image {
            id: format!("sha256:{}", "ab".repeat(32)),
            ..Image::default()
        };
        assert!(image.is(&"ab".repeat(32)));
        assert!(image.is(&format!("sha256:{}", "ab".repeat(6))));
        assert!(!image.is("abab"));
        assert!(!image.is(&"cd".repeat(32)));
        assert_eq!(containers[0].display_name(), "0123456789ab");
    }
}
