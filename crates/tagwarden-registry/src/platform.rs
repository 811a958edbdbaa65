//! A platform as `docker --platform` writes it (`os/arch[/variant]`), and how a wanted platform
//! matches the platforms an index lists.

use serde::Deserialize;

use crate::RegistryError;

/// `os/arch[/variant]`: `linux/amd64`, `linux/arm/v7`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Platform {
    /// `linux`, `windows`.
    pub os: String,
    /// `amd64`, `arm64`, `arm`.
    pub architecture: String,
    /// `v7`, `v8`, if given.
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch` or `os/arch/variant`.
    pub fn parse(s: &str) -> Result<Self, RegistryError> {
        let parts: Vec<&str> = s.split('/').collect();
        let bad = || {
            RegistryError::InvalidInput(format!(
                "platform {s:?} is not of the form os/arch or os/arch/variant"
            ))
        };
        if parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        match parts.as_slice() {
            [os, arch] => Ok(Self::new(os, arch, None)),
            [os, arch, variant] => Ok(Self::new(os, arch, Some(variant))),
            _ => Err(bad()),
        }
    }

    /// A platform from its parts; an empty variant is no variant.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        Self {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.filter(|v| !v.is_empty()).map(str::to_string),
        }
    }

    /// The platform an image config blob declares (`os`, `architecture`, `variant`), if it
    /// declares one.
    pub fn from_image_config(bytes: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct Config {
            os: Option<String>,
            architecture: Option<String>,
            variant: Option<String>,
        }
        let config: Config = serde_json::from_slice(bytes).ok()?;
        let os = config.os.filter(|s| !s.is_empty())?;
        let architecture = config.architecture.filter(|s| !s.is_empty())?;
        Some(Self::new(&os, &architecture, config.variant.as_deref()))
    }

    /// BuildKit lists its attestation manifests as `unknown/unknown`: not a platform one runs.
    pub fn is_runnable(&self) -> bool {
        self.os != "unknown" && self.architecture != "unknown"
    }

    /// The variant, or the one an architecture has when none is written (as containerd
    /// normalises it: `arm64` is `v8`).
    fn effective_variant(&self) -> Option<&str> {
        self.variant
            .as_deref()
            .or(default_variant(&self.architecture))
    }

    /// Whether this platform (one an index lists) satisfies `wanted`: same os and architecture,
    /// and the same variant when `wanted` names one.
    pub fn matches(&self, wanted: &Platform) -> bool {
        self.os == wanted.os
            && self.architecture == wanted.architecture
            && (wanted.variant.is_none() || wanted.effective_variant() == self.effective_variant())
    }

    /// Whether this platform has no variant beyond its architecture's default: the one to prefer
    /// when the variant is not asked for.
    pub(crate) fn is_plain(&self) -> bool {
        self.variant.is_none() || self.variant.as_deref() == default_variant(&self.architecture)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

fn default_variant(architecture: &str) -> Option<&'static str> {
    match architecture {
        "arm64" => Some("v8"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        Platform::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_and_prints() {
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux/").is_err());
        assert!(Platform::parse("a/b/c/d").is_err());
        assert_eq!(p("linux/arm/v7").to_string(), "linux/arm/v7");
        assert_eq!(
            Platform::new("linux", "amd64", Some("")).to_string(),
            "linux/amd64"
        );
    }

    #[test]
    fn matching_normalises_the_arm64_variant() {
        assert!(p("linux/arm64/v8").matches(&p("linux/arm64")));
        assert!(p("linux/arm64").matches(&p("linux/arm64/v8")));
        assert!(p("linux/amd64").matches(&p("linux/amd64")));
        assert!(!p("linux/arm/v6").matches(&p("linux/arm/v7")));
        assert!(p("linux/arm/v6").matches(&p("linux/arm")));
        assert!(!p("linux/amd64").matches(&p("linux/arm64")));
        assert!(!p("windows/amd64").matches(&p("linux/amd64")));
    }

    #[test]
    fn reads_image_configs() {
        let config = br#"{"architecture":"arm","os":"linux","variant":"v7","rootfs":{}}"#;
        assert_eq!(Platform::from_image_config(config), Some(p("linux/arm/v7")));
        assert_eq!(Platform::from_image_config(br#"{"os":"linux"}"#), None);
        assert_eq!(Platform::from_image_config(b"[]"), None);
        assert!(!p("unknown/unknown").is_runnable());
    }
}
