//! `pkg:oci/…` package URLs, as VEX documents name images:
//! `pkg:oci/trivy@sha256%3A27f4…?repository_url=index.docker.io/aquasec/trivy&tag=0.69.4`.
//! The version is the digest (percent-encoded); qualifiers say where and under which tag.

/// A parsed `pkg:oci` purl.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OciPurl {
    /// The last path segment of the repository (`trivy`).
    pub(crate) name: String,
    /// The version, percent-decoded: the digest, `sha256:<hex>`.
    pub(crate) version: Option<String>,
    /// `repository_url`, the repository without scheme (`index.docker.io/aquasec/trivy`).
    pub(crate) repository_url: Option<String>,
    pub(crate) tag: Option<String>,
    /// `arch` (and `os` when given), for a platform manifest.
    pub(crate) arch: Option<String>,
    pub(crate) os: Option<String>,
}

impl OciPurl {
    /// The repository to record: `repository_url` without a scheme, else the bare name (which
    /// resolves on Docker Hub, as the purl spec's default registry does).
    pub(crate) fn repository(&self) -> String {
        match &self.repository_url {
            Some(url) => {
                let url = url
                    .strip_prefix("https://")
                    .or_else(|| url.strip_prefix("http://"))
                    .unwrap_or(url);
                url.trim_end_matches('/').to_string()
            }
            None => self.name.clone(),
        }
    }
}

/// Parses a purl of type `oci`; any other type or a malformed purl is an error saying why.
pub(crate) fn parse_oci(s: &str) -> Result<OciPurl, String> {
    let rest = s
        .strip_prefix("pkg:")
        .ok_or_else(|| format!("{s:?} is not a package URL (pkg:…)"))?;
    // The spec tolerates slashes after the scheme.
    let rest = rest.trim_start_matches('/');
    let (rest, _subpath) = rest.split_once('#').unwrap_or((rest, ""));
    let (rest, qualifiers) = rest.split_once('?').unwrap_or((rest, ""));
    let (kind, path) = rest
        .split_once('/')
        .ok_or_else(|| format!("{s:?} has no package name"))?;
    if !kind.eq_ignore_ascii_case("oci") {
        return Err(format!(
            "package URL type {kind:?} is not an image (only pkg:oci names images)"
        ));
    }
    let (name, version) = match path.rsplit_once('@') {
        Some((n, v)) => (n, Some(decode(v)?)),
        None => (path, None),
    };
    let name = decode(name.trim_matches('/'))?;
    if name.is_empty() || name.contains('/') {
        return Err(format!(
            "{s:?}: a pkg:oci name is one path segment (the repository goes in repository_url)"
        ));
    }
    let mut purl = OciPurl {
        name: name.to_ascii_lowercase(),
        version: version.filter(|v| !v.is_empty()),
        repository_url: None,
        tag: None,
        arch: None,
        os: None,
    };
    for pair in qualifiers.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("{s:?}: qualifier {pair:?} has no '='"))?;
        let value = Some(decode(value)?).filter(|v| !v.is_empty());
        match key.to_ascii_lowercase().as_str() {
            "repository_url" => purl.repository_url = value,
            "tag" => purl.tag = value,
            "arch" => purl.arch = value,
            "os" => purl.os = value,
            _ => {}
        }
    }
    Ok(purl)
}

/// Percent-decoding; the result must be UTF-8.
fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("invalid percent-encoding in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} does not decode to UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_purls() {
        let p = parse_oci("pkg:oci/trivy@sha256%3A27f446230c60bbf0b70e008db798bd4f33b7826f9f76f756606f5417100beef3?repository_url=index.docker.io/aquasec/trivy&tag=0.69.4").unwrap();
        assert_eq!(p.name, "trivy");
        assert_eq!(
            p.version.as_deref(),
            Some("sha256:27f446230c60bbf0b70e008db798bd4f33b7826f9f76f756606f5417100beef3")
        );
        assert_eq!(p.repository(), "index.docker.io/aquasec/trivy");
        assert_eq!(p.tag.as_deref(), Some("0.69.4"));
        let p = parse_oci(
            "pkg:oci/debian?arch=amd64&repository_url=https%3A%2F%2Fghcr.io%2Fx%2Fdebian%2F",
        )
        .unwrap();
        assert_eq!(p.version, None);
        assert_eq!(p.arch.as_deref(), Some("amd64"));
        assert_eq!(p.repository(), "ghcr.io/x/debian");
        assert_eq!(parse_oci("pkg:oci/alpine").unwrap().repository(), "alpine");
    }

    #[test]
    fn bad_purls() {
        for s in [
            "oci/trivy",
            "pkg:npm/left-pad@1.0.0",
            "pkg:oci",
            "pkg:oci/a/b@x",
            "pkg:oci/x@sha256%3",
            "pkg:oci/x@%ff",
            "pkg:oci/x?tag",
        ] {
            assert!(parse_oci(s).is_err(), "{s}");
        }
    }
}
