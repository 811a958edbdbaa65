//! Normalising registry names and config keys so that `https://index.docker.io/v1/` and
//! `docker.io`, or `http://127.0.0.1:5000/v2/` and `127.0.0.1:5000`, name the same registry.

/// Docker Hub's canonical registry name.
pub(crate) const DOCKER_HUB: &str = "docker.io";

/// The server URL docker uses for Docker Hub, in config keys and when asking credential helpers.
pub(crate) const DOCKER_HUB_SERVER_URL: &str = "https://index.docker.io/v1/";

/// The registry a caller names (`docker.io`, `GHCR.io`, `https://ghcr.io`) as `host[:port]`,
/// lowercased, with Docker Hub's aliases folded into `docker.io`.
pub(crate) fn normalize_registry(registry: &str) -> String {
    let trimmed = registry.trim();
    let without_scheme = strip_scheme(trimmed).unwrap_or(trimmed);
    let host = without_scheme.split('/').next().unwrap_or_default();
    fold_host(host)
}

/// A config key as the tool that wrote it means it. `namespaced` keys (podman auth files) keep a
/// path written without a scheme, since podman stores per-namespace credentials that way; docker
/// keys, and any key with a scheme, keep only the host.
pub(crate) fn normalize_key(key: &str, namespaced: bool) -> String {
    let trimmed = key.trim();
    if !namespaced || strip_scheme(trimmed).is_some() {
        return normalize_registry(trimmed);
    }
    let (host, path) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    let host = fold_host(host);
    let path = path.trim_matches('/');
    // `index.docker.io/v1/` without its scheme is docker's Hub key, not a namespace called v1.
    if path.is_empty() || (host == DOCKER_HUB && path == "v1") {
        host
    } else {
        format!("{host}/{path}")
    }
}

/// The namespaced keys podman tries for a repository, most specific first, without the bare
/// registry: `quay.io/a/b/c`, `quay.io/a/b`, `quay.io/a`.
pub(crate) fn repository_scopes(registry: &str, repository: &str) -> Vec<String> {
    let repository = repository.trim_matches('/');
    if repository.is_empty() {
        return Vec::new();
    }
    // Docker Hub's official images live under library/, as a normalised reference writes them.
    let repository = if registry == DOCKER_HUB && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository.to_owned()
    };
    let mut scopes = Vec::new();
    let mut scope = repository.as_str();
    loop {
        scopes.push(format!("{registry}/{scope}"));
        match scope.rsplit_once('/') {
            Some((parent, _)) => scope = parent,
            None => break,
        }
    }
    scopes
}

/// The server URL to hand a credential helper: docker stores Docker Hub under its v1 URL, podman
/// under `docker.io`; everything else under `host[:port]`.
pub(crate) fn helper_server_url(registry: &str, podman: bool) -> &str {
    if registry == DOCKER_HUB && !podman {
        DOCKER_HUB_SERVER_URL
    } else {
        registry
    }
}

fn strip_scheme(s: &str) -> Option<&str> {
    ["https://", "http://"].iter().find_map(|scheme| {
        let head = s.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme)
            .then(|| s.get(scheme.len()..))
            .flatten()
    })
}

fn fold_host(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_owned(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_variants_are_one_registry() {
        for name in [
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "https://index.docker.io/v1/",
            "https://index.docker.io/v1",
            "HTTPS://Index.Docker.IO/v1/",
        ] {
            assert_eq!(normalize_registry(name), "docker.io", "{name}");
            assert_eq!(normalize_key(name, false), "docker.io", "{name}");
            assert_eq!(normalize_key(name, true), "docker.io", "{name}");
        }
        assert_eq!(normalize_key("index.docker.io/v1/", false), "docker.io");
        assert_eq!(normalize_key("index.docker.io/v1/", true), "docker.io");
    }

    #[test]
    fn schemes_and_paths_are_dropped() {
        assert_eq!(normalize_key("https://ghcr.io", false), "ghcr.io");
        assert_eq!(
            normalize_key("http://127.0.0.1:5000/v2/", true),
            "127.0.0.1:5000"
        );
        assert_eq!(normalize_key("GHCR.IO", false), "ghcr.io");
        assert_eq!(normalize_registry("127.0.0.1:5000"), "127.0.0.1:5000");
    }

    #[test]
    fn podman_keys_keep_namespaces_docker_keys_do_not() {
        assert_eq!(normalize_key("quay.io/team/app/", true), "quay.io/team/app");
        assert_eq!(normalize_key("quay.io/team/app", false), "quay.io");
        assert_eq!(
            normalize_key("index.docker.io/library", true),
            "docker.io/library"
        );
    }

    #[test]
    fn scopes_go_from_specific_to_general() {
        assert_eq!(
            repository_scopes("quay.io", "a/b/c"),
            ["quay.io/a/b/c", "quay.io/a/b", "quay.io/a"]
        );
        assert_eq!(
            repository_scopes("docker.io", "nginx"),
            ["docker.io/library/nginx", "docker.io/library"]
        );
        assert!(repository_scopes("quay.io", "").is_empty());
    }

    #[test]
    fn helper_urls() {
        assert_eq!(helper_server_url("docker.io", false), DOCKER_HUB_SERVER_URL);
        assert_eq!(helper_server_url("docker.io", true), "docker.io");
        assert_eq!(helper_server_url("ghcr.io", false), "ghcr.io");
    }
}
