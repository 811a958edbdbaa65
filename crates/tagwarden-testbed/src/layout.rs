//! OCI image layouts written directly (blobs, manifests, index), so that every digest is known
//! before the push and each seed gives different images.

use std::path::Path;

use serde_json::json;

use crate::{OCI_INDEX as INDEX, OCI_MANIFEST as MANIFEST, digest_of};

const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// One platform manifest of an image.
#[derive(Debug, Clone)]
pub struct Platform {
    /// `os/arch`.
    pub platform: String,
    /// Digest of the platform manifest.
    pub digest: String,
    /// The platform manifest's bytes.
    pub bytes: Vec<u8>,
}

/// An OCI layout directory holding one image (a manifest or a multi-platform index) under
/// [`OciLayout::TAG`].
pub struct OciLayout {
    dir: tempfile::TempDir,
    /// Digest of the top-level manifest or index: what a registry serves for the tag.
    pub digest: String,
    /// Media type of the top-level manifest or index.
    pub media_type: &'static str,
    /// The top-level manifest or index bytes.
    pub bytes: Vec<u8>,
    /// The platform manifests (one for a single image).
    pub platforms: Vec<Platform>,
}

impl OciLayout {
    /// The tag every layout uses for its image inside the layout.
    pub const TAG: &'static str = "testbed";

    /// A single linux/amd64 image; a different `seed` gives a different digest.
    pub fn image(seed: &str) -> OciLayout {
        let mut layout = Self::empty();
        let platform = layout.write_image(seed, "amd64");
        layout.digest = platform.digest.clone();
        layout.media_type = MANIFEST;
        layout.bytes = platform.bytes.clone();
        layout.platforms = vec![platform];
        layout.write_index_json();
        layout
    }

    /// A multi-platform index of linux/amd64 and linux/arm64 images.
    pub fn multi_arch(seed: &str) -> OciLayout {
        let mut layout = Self::empty();
        let platforms: Vec<Platform> = ["amd64", "arm64"]
            .into_iter()
            .map(|arch| layout.write_image(seed, arch))
            .collect();
        let manifests: Vec<serde_json::Value> = platforms
            .iter()
            .map(|p| {
                let arch = p.platform.trim_start_matches("linux/");
                json!({
                    "mediaType": MANIFEST,
                    "digest": p.digest,
                    "size": p.bytes.len(),
                    "platform": {"os": "linux", "architecture": arch},
                })
            })
            .collect();
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": INDEX,
            "manifests": manifests,
        }))
        .expect("index JSON");
        layout.digest = layout.blob(&index);
        layout.media_type = INDEX;
        layout.bytes = index;
        layout.platforms = platforms;
        layout.write_index_json();
        layout
    }

    /// The layout directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The digest of one platform's manifest (`linux/arm64`).
    pub fn platform_digest(&self, platform: &str) -> &str {
        self.platforms
            .iter()
            .find(|p| p.platform == platform)
            .map(|p| p.digest.as_str())
            .unwrap_or_else(|| panic!("no {platform} in this layout"))
    }

    /// Pushes the image to `dest` (`127.0.0.1:PORT/repo:tag`), see [`crate::push`].
    pub fn push(&self, dest: &str, credentials: Option<(&str, &str)>) {
        crate::push(self.path(), Self::TAG, dest, credentials);
    }

    /// Pushes the image converted to Docker media types, see [`crate::push_docker_v2s2`].
    pub fn push_docker_v2s2(&self, dest: &str, credentials: Option<(&str, &str)>) {
        crate::push_docker_v2s2(self.path(), Self::TAG, dest, credentials);
    }

    fn empty() -> OciLayout {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("blobs/sha256")).expect("mkdir blobs");
        std::fs::write(
            dir.path().join("oci-layout"),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .expect("write oci-layout");
        OciLayout {
            dir,
            digest: String::new(),
            media_type: MANIFEST,
            bytes: Vec::new(),
            platforms: Vec::new(),
        }
    }

    /// Writes a blob and returns its digest.
    fn blob(&self, bytes: &[u8]) -> String {
        let digest = digest_of(bytes);
        let hex = digest.trim_start_matches("sha256:");
        std::fs::write(self.dir.path().join("blobs/sha256").join(hex), bytes).expect("write blob");
        digest
    }

    fn write_image(&self, seed: &str, arch: &str) -> Platform {
        let layer = tar_with_file("testbed.txt", format!("{seed} {arch}\n").as_bytes());
        let layer_digest = self.blob(&layer);
        let config = serde_json::to_vec(&json!({
            "architecture": arch,
            "os": "linux",
            "config": {"Labels": {"testbed.seed": seed}},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }))
        .expect("config JSON");
        let config_digest = self.blob(&config);
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": CONFIG, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": LAYER, "digest": layer_digest, "size": layer.len()}],
        }))
        .expect("manifest JSON");
        let digest = self.blob(&manifest);
        Platform {
            platform: format!("linux/{arch}"),
            digest,
            bytes: manifest,
        }
    }

    fn write_index_json(&self) {
        let index = json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": self.media_type,
                "digest": self.digest,
                "size": self.bytes.len(),
                "annotations": {"org.opencontainers.image.ref.name": Self::TAG},
            }],
        });
        std::fs::write(
            self.dir.path().join("index.json"),
            serde_json::to_vec(&index).expect("index.json"),
        )
        .expect("write index.json");
    }
}

/// An uncompressed ustar archive holding one regular file.
fn tar_with_file(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |field: &mut [u8], value: u64| {
        let s = format!("{:0width$o}\0", value, width = field.len() - 1);
        field.copy_from_slice(s.as_bytes());
    };
    octal(&mut header[100..108], 0o644);
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], content.len() as u64);
    octal(&mut header[136..148], 0);
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    // The checksum is computed with its own field as spaces.
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    let s = format!("{sum:06o}\0 ");
    header[148..156].copy_from_slice(s.as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.resize(out.len() + 1024, 0);
    out
}
