//! Where docker and podman clients look for an engine's socket.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::Engine;

/// The environment socket discovery reads, passed explicitly so tests need not touch the
/// process environment.
#[derive(Clone, Debug, Default)]
pub struct DiscoverEnv {
    /// `DOCKER_HOST`, e.g. `unix:///run/user/1000/docker.sock`.
    pub docker_host: Option<String>,
    /// `CONTAINER_HOST`, podman's equivalent of `DOCKER_HOST`.
    pub container_host: Option<String>,
    /// `XDG_RUNTIME_DIR`, where rootless podman puts `podman/podman.sock`.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// The user ID, for `/run/user/$UID/podman/podman.sock`.
    pub uid: Option<u32>,
    /// `HOME`, for Docker Desktop's and colima's per-user sockets.
    pub home: Option<PathBuf>,
}

impl DiscoverEnv {
    /// Reads the process environment.
    pub fn from_process() -> Self {
        use std::os::unix::fs::MetadataExt;
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            docker_host: var("DOCKER_HOST"),
            container_host: var("CONTAINER_HOST"),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
            // The owner of /proc/self is the process's user: no libc call needed.
            uid: std::fs::metadata("/proc/self").ok().map(|m| m.uid()),
            home: var("HOME").map(PathBuf::from),
        }
    }
}

/// The engine sockets found, and why some hosts were not used.
#[derive(Debug, Default)]
pub struct Discovery {
    pub sockets: Vec<PathBuf>,
    pub problems: Vec<Unusable>,
}

/// A host named in the environment that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unusable {
    /// `DOCKER_HOST=tcp://…`.
    pub location: String,
    pub message: String,
}

impl Discovery {
    /// One [`Engine`] per socket found.
    pub fn engines(&self) -> Vec<Engine> {
        self.sockets.iter().map(Engine::new).collect()
    }
}

/// Finds engine sockets where docker and podman clients look: `DOCKER_HOST` and
/// `CONTAINER_HOST` (`unix://` only), `$XDG_RUNTIME_DIR/podman/podman.sock`,
/// `/run/user/$UID/podman/podman.sock`, `/run/podman/podman.sock`, `/var/run/docker.sock`,
/// then rootless docker (`$XDG_RUNTIME_DIR/docker.sock`), Docker Desktop
/// (`~/.docker/run/docker.sock`, `~/.docker/desktop/docker.sock`) and colima
/// (`~/.colima/default/docker.sock`). Unlike a docker client, which uses `DOCKER_HOST` alone,
/// every engine found is returned: a hunt wants them all. Only existing sockets are returned,
/// each once.
pub fn discover(env: &DiscoverEnv) -> Discovery {
    discover_with(env, &|p: &Path| {
        use std::os::unix::fs::FileTypeExt;
        std::fs::metadata(p).is_ok_and(|m| m.file_type().is_socket())
    })
}

fn discover_with(env: &DiscoverEnv, exists: &dyn Fn(&Path) -> bool) -> Discovery {
    let mut out = Discovery::default();
    let mut candidates = Vec::new();
    for (var, value) in [
        ("DOCKER_HOST", &env.docker_host),
        ("CONTAINER_HOST", &env.container_host),
    ] {
        let Some(value) = value.as_deref() else {
            continue;
        };
        let problem = |message: String| Unusable {
            location: format!("{var}={value}"),
            message,
        };
        match value.strip_prefix("unix://") {
            Some(path) if !path.is_empty() => {
                let path = PathBuf::from(path);
                if exists(&path) {
                    candidates.push(path);
                } else {
                    out.problems.push(problem(format!(
                        "{var} names {}, which is not a socket",
                        path.display()
                    )));
                }
            }
            _ => out.problems.push(problem(format!(
                "{var} is not used: only unix:// sockets are supported (tagwarden reads engines locally)"
            ))),
        }
    }
    if let Some(dir) = &env.xdg_runtime_dir {
        candidates.push(dir.join("podman/podman.sock"));
    }
    if let Some(uid) = env.uid {
        candidates.push(PathBuf::from(format!("/run/user/{uid}/podman/podman.sock")));
    }
    candidates.push(PathBuf::from("/run/podman/podman.sock"));
    candidates.push(PathBuf::from("/var/run/docker.sock"));
    if let Some(dir) = &env.xdg_runtime_dir {
        candidates.push(dir.join("docker.sock"));
    }
    if let Some(home) = &env.home {
        for path in [
            ".docker/run/docker.sock",
            ".docker/desktop/docker.sock",
            ".colima/default/docker.sock",
        ] {
            candidates.push(home.join(path));
        }
    }

    let mut seen = HashSet::new();
    for path in candidates {
        if !exists(&path) {
            continue;
        }
        // /var/run is usually a link to /run: one engine, one entry.
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.insert(key) {
            out.sockets.push(path);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn discovery_order_and_problems() {
        let present: HashSet<PathBuf> = [
            "/x/xdg/podman/podman.sock",
            "/run/user/1000/podman/podman.sock",
            "/var/run/docker.sock",
            "/custom/docker.sock",
            "/home/u/.colima/default/docker.sock",
            "/x/xdg/docker.sock",
        ]
        .into_iter()
        .map(PathBuf::from)
        .collect();
        let env = DiscoverEnv {
            docker_host: Some("unix:///custom/docker.sock".into()),
            container_host: Some("tcp://10.0.0.1:2375".into()),
            xdg_runtime_dir: Some("/x/xdg".into()),
            uid: Some(1000),
            home: Some("/home/u".into()),
        };
        let found = discover_with(&env, &|p| present.contains(p));
        assert_eq!(
            found.sockets,
            [
                "/custom/docker.sock",
                "/x/xdg/podman/podman.sock",
                "/run/user/1000/podman/podman.sock",
                "/var/run/docker.sock",
                "/x/xdg/docker.sock",
                "/home/u/.colima/default/docker.sock",
            ]
            .map(PathBuf::from)
        );
        assert_eq!(found.problems.len(), 1);
        assert!(found.problems[0].message.contains("only unix:// sockets"));
        assert_eq!(
            found.problems[0].location,
            "CONTAINER_HOST=tcp://10.0.0.1:2375"
        );

        let env = DiscoverEnv {
            docker_host: Some("unix:///missing.sock".into()),
            ..Default::default()
        };
        let found = discover_with(&env, &|_| false);
        assert!(found.sockets.is_empty());
        assert!(found.problems[0].message.contains("not a socket"));
    }

    #[test]
    fn discovers_a_real_socket_in_xdg_runtime_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("podman")).unwrap();
        let socket = dir.path().join("podman/podman.sock");
        let _listener = UnixListener::bind(&socket).unwrap();
        std::fs::write(dir.path().join("not-a-socket"), "").unwrap();
        let found = discover(&DiscoverEnv {
            docker_host: Some(format!(
                "unix://{}",
                dir.path().join("not-a-socket").display()
            )),
            xdg_runtime_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        });
        assert_eq!(found.sockets.first(), Some(&socket));
        assert_eq!(
            found.engines().first().map(crate::Engine::name),
            Some("podman")
        );
        assert_eq!(found.problems.len(), 1);
    }
}
