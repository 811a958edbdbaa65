//! The credential store: the files found, in lookup order, and the rules for querying them.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::config::{DockerConfig, MAX_FILE_SIZE};
use crate::error::{AuthError, AuthErrorKind};
use crate::{Credential, Credentials, Secret, helper, key};

/// How long a credential helper may take before it is killed (docker waits forever; we don't).
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// What errors and descriptions call the `DOCKER_AUTH_CONFIG` environment variable.
const DOCKER_AUTH_CONFIG_NAME: &str = "$DOCKER_AUTH_CONFIG";

/// One credentials file, parsed, and which tool's rules apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A docker `config.json`: keys are hosts, `credsStore` applies.
    DockerConfig {
        /// Where it was read from (for messages).
        path: PathBuf,
        /// Its contents.
        config: DockerConfig,
    },
    /// A containers `auth.json` (podman, buildah, skopeo): keys may carry a namespace,
    /// `credsStore` is ignored.
    PodmanAuth {
        /// Where it was read from (for messages).
        path: PathBuf,
        /// Its contents.
        config: DockerConfig,
    },
}

impl Source {
    /// Reads a docker `config.json`; `Ok(None)` if it does not exist.
    pub fn load_docker_config(path: impl Into<PathBuf>) -> Result<Option<Source>, AuthError> {
        let path = path.into();
        Ok(read_config(&path)?.map(|config| Source::DockerConfig { path, config }))
    }

    /// Reads a containers `auth.json`; `Ok(None)` if it does not exist.
    pub fn load_podman_auth(path: impl Into<PathBuf>) -> Result<Option<Source>, AuthError> {
        let path = path.into();
        Ok(read_config(&path)?.map(|config| Source::PodmanAuth { path, config }))
    }

    /// Parses the value of `$DOCKER_AUTH_CONFIG`. Only its `auths` count, as in docker; errors
    /// and [`CredentialStore::describe`] call it `$DOCKER_AUTH_CONFIG`.
    pub fn from_docker_auth_config(value: &str) -> Result<Source, AuthError> {
        let path = PathBuf::from(DOCKER_AUTH_CONFIG_NAME);
        let config = DockerConfig::parse(&path, value)?;
        Ok(Source::DockerConfig {
            path,
            config: DockerConfig {
                auths: config.auths,
                ..DockerConfig::default()
            },
        })
    }

    /// The file this source was read from (`$DOCKER_AUTH_CONFIG` for the environment variable).
    pub fn path(&self) -> &Path {
        match self {
            Source::DockerConfig { path, .. } | Source::PodmanAuth { path, .. } => path,
        }
    }

    /// The parsed file.
    pub fn config(&self) -> &DockerConfig {
        match self {
            Source::DockerConfig { config, .. } | Source::PodmanAuth { config, .. } => config,
        }
    }

    fn is_podman(&self) -> bool {
        matches!(self, Source::PodmanAuth { .. })
    }

    fn label(&self) -> &'static str {
        if self.is_podman() {
            "podman auth file"
        } else {
            "docker config"
        }
    }
}

fn read_config(path: &Path) -> Result<Option<DockerConfig>, AuthError> {
    let read_error = |error: io::Error| AuthErrorKind::ReadFile {
        path: path.to_owned(),
        error,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None);
        }
        Err(error) => return Err(read_error(error).into()),
    };
    let mut text = String::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > MAX_FILE_SIZE {
        return Err(AuthErrorKind::FileTooLarge {
            path: path.to_owned(),
            limit: MAX_FILE_SIZE,
        }
        .into());
    }
    DockerConfig::parse(path, &text).map(Some)
}

/// The environment variables the lookup reads, passed explicitly so tests need not touch the
/// process environment. Empty values count as unset, as in docker and podman.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvVars {
    /// The home directory (`$HOME`).
    pub home: Option<PathBuf>,
    /// `$REGISTRY_AUTH_FILE`: podman's auth file override.
    pub registry_auth_file: Option<PathBuf>,
    /// `$XDG_RUNTIME_DIR`: holds podman's primary `containers/auth.json`.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME`, by default `~/.config`.
    pub xdg_config_home: Option<PathBuf>,
    /// `$DOCKER_CONFIG`: the directory holding docker's `config.json`, by default `~/.docker`.
    pub docker_config: Option<PathBuf>,
    /// `$DOCKER_AUTH_CONFIG`: a docker config as JSON whose `auths` docker (and GitLab CI) use
    /// before the config file's.
    pub docker_auth_config: Option<Secret>,
    /// `$PATH`, searched for `docker-credential-*` helpers.
    pub path: Option<OsString>,
    /// The user id, for podman's `/run/containers/<uid>/auth.json` when `XDG_RUNTIME_DIR` is unset.
    pub uid: Option<u32>,
}

impl EnvVars {
    /// Reads the variables from the process environment.
    pub fn from_process() -> EnvVars {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        EnvVars {
            home: std::env::home_dir().filter(|home| !home.as_os_str().is_empty()),
            registry_auth_file: var("REGISTRY_AUTH_FILE").map(PathBuf::from),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
            xdg_config_home: var("XDG_CONFIG_HOME").map(PathBuf::from),
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            docker_auth_config: var("DOCKER_AUTH_CONFIG")
                .map(|value| Secret::new(value.to_string_lossy())),
            path: var("PATH"),
            uid: process_uid(),
        }
    }

    /// The files to read, in lookup order, each flagged `true` if it is a podman auth file.
    fn candidate_files(&self) -> Vec<(PathBuf, bool)> {
        let non_empty = |p: &Option<PathBuf>| p.clone().filter(|p| !p.as_os_str().is_empty());
        let home = non_empty(&self.home);
        let mut files = Vec::new();
        if let Some(file) = non_empty(&self.registry_auth_file) {
            files.push((file, true));
        } else if let Some(dir) = non_empty(&self.xdg_runtime_dir) {
            files.push((dir.join("containers/auth.json"), true));
        } else if let Some(uid) = self.uid {
            files.push((format!("/run/containers/{uid}/auth.json").into(), true));
        }
        let config_home =
            non_empty(&self.xdg_config_home).or_else(|| home.as_ref().map(|h| h.join(".config")));
        if let Some(dir) = config_home {
            files.push((dir.join("containers/auth.json"), true));
        }
        let docker_dir =
            non_empty(&self.docker_config).or_else(|| home.as_ref().map(|h| h.join(".docker")));
        if let Some(dir) = docker_dir {
            files.push((dir.join("config.json"), false));
        }
        // REGISTRY_AUTH_FILE may point at one of the defaults; read each file once.
        let mut seen = Vec::new();
        files.retain(|(path, _)| {
            let new = !seen.contains(path);
            seen.push(path.clone());
            new
        });
        files
    }
}

/// The owner of `/proc/self` is the process's user: std has no `getuid`, and this avoids `libc`.
#[cfg(target_os = "linux")]
fn process_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|meta| meta.uid())
}

#[cfg(not(target_os = "linux"))]
fn process_uid() -> Option<u32> {
    None
}

/// A file that was looked for and not found, kept for [`CredentialStore::describe`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Searched {
    Found(Source),
    Missing { path: PathBuf, podman: bool },
}

/// A helper's answer, or its failure, by (program, server URL); one cell per key so that
/// concurrent lookups wait for one run of the helper instead of starting their own.
type HelperAnswers = BTreeMap<(String, String), Arc<OnceLock<HelperAnswer>>>;
type HelperAnswer = Result<Option<Credential>, AuthError>;

/// Registry credentials from docker and podman config files and credential helpers: loaded once,
/// queried per registry. Helper answers, and helper failures, are cached for the life of the store.
pub struct CredentialStore {
    searched: Vec<Searched>,
    helper_search_path: Option<OsString>,
    helper_timeout: Duration,
    helper_answers: Mutex<HelperAnswers>,
}

impl fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialStore")
            .field("searched", &self.searched)
            .field("helper_search_path", &self.helper_search_path)
            .field("helper_timeout", &self.helper_timeout)
            .finish_non_exhaustive()
    }
}

impl CredentialStore {
    /// The store docker and podman would use, from the process environment (see the crate docs
    /// for the order).
    pub fn from_env() -> Result<CredentialStore, AuthError> {
        CredentialStore::from_env_with(&EnvVars::from_process())
    }

    /// The store for an explicit environment; helpers are searched on `env.path`.
    pub fn from_env_with(env: &EnvVars) -> Result<CredentialStore, AuthError> {
        let mut searched = Vec::new();
        let mut auth_config = env
            .docker_auth_config
            .as_ref()
            .filter(|value| !value.expose().trim().is_empty());
        for (path, podman) in env.candidate_files() {
            // $DOCKER_AUTH_CONFIG goes just before the docker config file it overrides.
            if let Some(value) = auth_config.take_if(|_| !podman) {
                searched.push(Searched::Found(Source::from_docker_auth_config(
                    value.expose(),
                )?));
            }
            let source = if podman {
                Source::load_podman_auth(&path)?
            } else {
                Source::load_docker_config(&path)?
            };
            searched.push(match source {
                Some(source) => Searched::Found(source),
                None => Searched::Missing { path, podman },
            });
        }
        if let Some(value) = auth_config {
            searched.push(Searched::Found(Source::from_docker_auth_config(
                value.expose(),
            )?));
        }
        let mut store = CredentialStore::from_searched(searched);
        store.helper_search_path = env.path.clone();
        Ok(store)
    }

    /// A store over explicit sources, first wins; helpers are searched on the process `PATH`
    /// unless [`with_helper_search_path`](Self::with_helper_search_path) says otherwise.
    pub fn from_sources(sources: Vec<Source>) -> CredentialStore {
        let mut store =
            CredentialStore::from_searched(sources.into_iter().map(Searched::Found).collect());
        store.helper_search_path = std::env::var_os("PATH");
        store
    }

    fn from_searched(searched: Vec<Searched>) -> CredentialStore {
        CredentialStore {
            searched,
            helper_search_path: None,
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
            helper_answers: Mutex::new(BTreeMap::new()),
        }
    }

    /// Searches these directories (in `PATH` syntax) for credential helpers.
    pub fn with_helper_search_path(mut self, path: impl Into<OsString>) -> CredentialStore {
        self.helper_search_path = Some(path.into());
        self
    }

    /// Kills a credential helper that has not answered after `timeout`.
    pub fn with_helper_timeout(mut self, timeout: Duration) -> CredentialStore {
        self.helper_timeout = timeout;
        self
    }

    /// The files that were found, in lookup order.
    pub fn sources(&self) -> impl Iterator<Item = &Source> {
        self.searched.iter().filter_map(|searched| match searched {
            Searched::Found(source) => Some(source),
            Searched::Missing { .. } => None,
        })
    }

    /// The credential for a registry host as written in a reference (`docker.io`, `ghcr.io`,
    /// `127.0.0.1:5000`); `Ok(None)` when no file or helper has one.
    pub fn get(&self, registry: &str) -> Result<Option<Credential>, AuthError> {
        self.get_for_repository(registry, "")
    }

    /// Like [`get`](Self::get), but a podman auth file's namespaced keys for `repository`
    /// (`team/app`, normalised: `library/nginx` on Docker Hub) win over its registry-wide key,
    /// most specific first. Files are still tried in order.
    pub fn get_for_repository(
        &self,
        registry: &str,
        repository: &str,
    ) -> Result<Option<Credential>, AuthError> {
        let registry = key::normalize_registry(registry);
        for source in self.sources() {
            if let Some(credential) = self.lookup(source, &registry, repository)? {
                return Ok(Some(credential));
            }
        }
        Ok(None)
    }

    /// One file's answer: its helper for the registry, else its global helper, else its `auths`.
    fn lookup(
        &self,
        source: &Source,
        registry: &str,
        repository: &str,
    ) -> Result<Option<Credential>, AuthError> {
        let podman = source.is_podman();
        let config = source.config();
        let helper = matching(&config.cred_helpers, registry, false, podman).next();
        match helper {
            // Docker treats an empty helper name as "use the file", skipping credsStore too.
            Some((_, name)) if name.is_empty() => {}
            Some((_, name)) => return self.run_helper(source, name, registry),
            None => {
                let store = config
                    .creds_store
                    .as_deref()
                    .filter(|name| !name.is_empty());
                if let (Some(name), false) = (store, podman) {
                    return self.run_helper(source, name, registry);
                }
            }
        }
        let scopes = key::repository_scopes(registry, if podman { repository } else { "" });
        for scope in scopes.iter().map(String::as_str).chain([registry]) {
            for (written, entry) in matching(&config.auths, scope, podman, podman) {
                let credential =
                    entry
                        .credential()
                        .map_err(|reason| AuthErrorKind::InvalidEntry {
                            path: source.path().to_owned(),
                            key: written.clone(),
                            reason,
                        })?;
                if credential.is_some() {
                    return Ok(credential);
                }
            }
        }
        Ok(None)
    }

    fn run_helper(
        &self,
        source: &Source,
        name: &str,
        registry: &str,
    ) -> Result<Option<Credential>, AuthError> {
        if !helper::is_plain_name(name) {
            return Err(AuthErrorKind::InvalidHelperName {
                path: source.path().to_owned(),
                name: name.to_owned(),
            }
            .into());
        }
        let program = helper::program_name(name);
        let server_url = key::helper_server_url(registry, source.is_podman());
        let cell = self
            .helper_answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry((program.clone(), server_url.to_owned()))
            .or_default()
            .clone();
        // A failure is kept too: a hanging or broken helper is run once per registry, not per image.
        cell.get_or_init(|| {
            match helper::find_program(&program, self.helper_search_path.as_deref()) {
                Some(path) => helper::get(&path, &program, server_url, self.helper_timeout)
                    .map_err(AuthError::from),
                None => Err(AuthErrorKind::HelperNotFound {
                    program: program.clone(),
                    path: source.path().to_owned(),
                }
                .into()),
            }
        })
        .clone()
    }

    /// Where credentials would come from, one line per file in lookup order, for `--verbose` and
    /// error messages. Names files, registries and helpers; never a secret.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for searched in &self.searched {
            match searched {
                Searched::Missing { path, podman } => {
                    let label = if *podman {
                        "podman auth file"
                    } else {
                        "docker config"
                    };
                    lines.push(format!("{label} {}: not present", path.display()));
                }
                Searched::Found(source) => lines.push(describe_source(source)),
            }
        }
        if lines.is_empty() {
            lines.push("no credentials files configured".to_owned());
        }
        lines
    }
}

impl Credentials for CredentialStore {
    fn credential(
        &self,
        registry: &str,
        repository: &str,
    ) -> Result<Option<Credential>, AuthError> {
        self.get_for_repository(registry, repository)
    }
}

fn describe_source(source: &Source) -> String {
    let config = source.config();
    let podman = source.is_podman();
    let mut parts = Vec::new();
    if !config.cred_helpers.is_empty() {
        let helpers: Vec<String> = config
            .cred_helpers
            .iter()
            .map(|(registry, name)| {
                format!(
                    "{} → {}",
                    key::normalize_key(registry, false),
                    helper::program_name(name)
                )
            })
            .collect();
        parts.push(format!("credHelpers {}", helpers.join(", ")));
    }
    if let Some(name) = config.creds_store.as_deref().filter(|n| !n.is_empty()) {
        let note = if podman {
            " (ignored, as podman does)"
        } else {
            ""
        };
        parts.push(format!("credsStore {}{note}", helper::program_name(name)));
    }
    let mut registries: Vec<String> = config
        .auths
        .iter()
        .filter(|(_, entry)| !matches!(entry.credential(), Ok(None)))
        .map(|(written, _)| key::normalize_key(written, podman))
        .collect();
    registries.sort();
    registries.dedup();
    if !registries.is_empty() {
        parts.push(format!("auths for {}", registries.join(", ")));
    }
    if parts.is_empty() {
        parts.push("no credentials".to_owned());
    }
    format!(
        "{} {}: {}",
        source.label(),
        source.path().display(),
        parts.join("; ")
    )
}

/// The entries whose key names `wanted` once normalised: the key spelt the way the owning tool
/// writes it first, as docker looks it up, then the other spellings in key order.
fn matching<'a, V>(
    map: &'a BTreeMap<String, V>,
    wanted: &'a str,
    namespaced: bool,
    podman: bool,
) -> impl Iterator<Item = (&'a String, &'a V)> {
    // Docker writes Docker Hub's key as its v1 URL, podman as docker.io.
    let canonical = key::helper_server_url(wanted, podman);
    let exact = move |written: &str| written == canonical;
    let is_match = move |written: &str| key::normalize_key(written, namespaced) == wanted;
    let exact_first = map.iter().filter(move |(written, _)| exact(written));
    let others = map
        .iter()
        .filter(move |(written, _)| !exact(written) && is_match(written));
    exact_first.chain(others)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn basic(user: &str, password: &str) -> Option<Credential> {
        Some(Credential::Basic {
            username: user.into(),
            password: Secret::new(password),
        })
    }

    fn base64(text: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    fn config(text: &str) -> DockerConfig {
        match DockerConfig::parse(Path::new("test.json"), text) {
            Ok(config) => config,
            Err(error) => panic!("{error}"),
        }
    }

    fn docker(text: &str) -> Source {
        Source::DockerConfig {
            path: "/home/u/.docker/config.json".into(),
            config: config(text),
        }
    }

    fn podman(text: &str) -> Source {
        Source::PodmanAuth {
            path: "/run/user/1000/containers/auth.json".into(),
            config: config(text),
        }
    }

    fn get(store: &CredentialStore, registry: &str) -> Option<Credential> {
        match store.get(registry) {
            Ok(credential) => credential,
            Err(error) => panic!("{registry}: {error}"),
        }
    }

    fn write(path: &Path, text: &str) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).ok();
        }
        fs::write(path, text).ok();
    }

    fn auths(registry: &str, user: &str, password: &str) -> String {
        format!(
            r#"{{"auths": {{"{registry}": {{"auth": "{}"}}}}}}"#,
            base64(&format!("{user}:{password}"))
        )
    }

    #[test]
    fn auth_field_with_colons_in_password() {
        let store =
            CredentialStore::from_sources(vec![docker(&auths("ghcr.io", "alice", "a:b:c"))]);
        assert_eq!(get(&store, "ghcr.io"), basic("alice", "a:b:c"));
        assert_eq!(get(&store, "quay.io"), None);
    }

    #[test]
    fn username_password_and_tokens() {
        let store = CredentialStore::from_sources(vec![docker(
            r#"{"auths": {
                "a.example": {"username": "u", "password": "p"},
                "b.example": {"identitytoken": "refresh"},
                "c.example": {"registrytoken": "bearer"}
            }}"#,
        )]);
        assert_eq!(get(&store, "a.example"), basic("u", "p"));
        assert_eq!(
            get(&store, "b.example"),
            Some(Credential::IdentityToken(Secret::new("refresh")))
        );
        assert_eq!(
            get(&store, "c.example"),
            Some(Credential::RegistryToken(Secret::new("bearer")))
        );
    }

    #[test]
    fn docker_hub_key_variants() {
        for written in [
            "https://index.docker.io/v1/",
            "https://index.docker.io/v1",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
        ] {
            for source in [
                docker(&auths(written, "hub", "pw")),
                podman(&auths(written, "hub", "pw")),
            ] {
                let store = CredentialStore::from_sources(vec![source]);
                for asked in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
                    assert_eq!(
                        get(&store, asked),
                        basic("hub", "pw"),
                        "{written} / {asked}"
                    );
                }
                assert_eq!(get(&store, "ghcr.io"), None);
            }
        }
    }

    #[test]
    fn docker_hub_canonical_key_wins_over_other_spellings() {
        let store = CredentialStore::from_sources(vec![docker(&format!(
            r#"{{"auths": {{"docker.io": {{"auth": "{}"}}, "https://index.docker.io/v1/": {{"auth": "{}"}}}}}}"#,
            base64("old:x"),
            base64("new:y")
        ))]);
        assert_eq!(get(&store, "docker.io"), basic("new", "y"));
        assert_eq!(
            store.describe(),
            ["docker config /home/u/.docker/config.json: auths for docker.io"]
        );
    }

    #[test]
    fn podman_prefers_its_own_docker_hub_key() {
        let store = CredentialStore::from_sources(vec![podman(&format!(
            r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{}"}}, "docker.io": {{"auth": "{}"}}}}}}"#,
            base64("docker-style:x"),
            base64("podman-style:y")
        ))]);
        assert_eq!(get(&store, "docker.io"), basic("podman-style", "y"));
    }

    #[test]
    fn docker_auth_config_variable() {
        let Some(dir) = tempfile::tempdir().ok() else {
            return;
        };
        let home = dir.path().join("home");
        write(
            &home.join(".docker/config.json"),
            &format!(
                r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}, "quay.io": {{"auth": "{}"}}}}}}"#,
                base64("file:1"),
                base64("file:2")
            ),
        );
        write(
            &home.join(".config/containers/auth.json"),
            &auths("gcr.io", "podman", "3"),
        );
        let value = format!(
            r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}, "gcr.io": {{"auth": "{}"}}}}, "credsStore": "ignored"}}"#,
            base64("env:s3cr3t-env"),
            base64("env:4")
        );
        let env = EnvVars {
            home: Some(home),
            docker_auth_config: Some(Secret::new(value)),
            ..EnvVars::default()
        };
        assert!(!format!("{env:?}").contains("s3cr3t"));
        let store = match CredentialStore::from_env_with(&env) {
            Ok(store) => store.with_helper_search_path(""),
            Err(error) => panic!("{error}"),
        };
        // Before the docker file, after podman's files; its credsStore is not used.
        assert_eq!(get(&store, "ghcr.io"), basic("env", "s3cr3t-env"));
        assert_eq!(get(&store, "quay.io"), basic("file", "2"));
        assert_eq!(get(&store, "gcr.io"), basic("podman", "3"));
        assert_eq!(get(&store, "docker.io"), None);
        let described = store.describe();
        assert_eq!(
            described.get(1).map(String::as_str),
            Some("docker config $DOCKER_AUTH_CONFIG: auths for gcr.io, ghcr.io")
        );
        assert!(!format!("{described:?}").contains("s3cr3t"));

        // Without any file to override it is still read; a malformed value is an error naming it.
        let env = EnvVars {
            docker_auth_config: Some(Secret::new(r#"{"auths": {"ghcr.io": {"auth": "s3cr3t"}"#)),
            ..EnvVars::default()
        };
        let message = CredentialStore::from_env_with(&env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.starts_with("$DOCKER_AUTH_CONFIG:1:"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }

    #[test]
    fn podman_runtime_file_without_xdg_runtime_dir() {
        let env = EnvVars {
            uid: Some(1000),
            ..EnvVars::default()
        };
        assert_eq!(
            env.candidate_files(),
            [(PathBuf::from("/run/containers/1000/auth.json"), true)]
        );
        let env = EnvVars {
            xdg_runtime_dir: Some("/run/user/1000".into()),
            ..env
        };
        assert_eq!(
            env.candidate_files(),
            [(PathBuf::from("/run/user/1000/containers/auth.json"), true)]
        );
    }

    #[test]
    fn keys_with_scheme_and_path() {
        let store = CredentialStore::from_sources(vec![docker(&format!(
            r#"{{"auths": {{"https://ghcr.io": {{"auth": "{}"}}, "http://127.0.0.1:5000/v2/": {{"auth": "{}"}}}}}}"#,
            base64("gh:1"),
            base64("local:2")
        ))]);
        assert_eq!(get(&store, "ghcr.io"), basic("gh", "1"));
        assert_eq!(get(&store, "127.0.0.1:5000"), basic("local", "2"));
        assert_eq!(get(&store, "127.0.0.1"), None);
        assert_eq!(get(&store, "GHCR.IO"), basic("gh", "1"));
    }

    #[test]
    fn empty_entries_are_no_credential() {
        let store = CredentialStore::from_sources(vec![
            docker(r#"{"auths": {"ghcr.io": {}}}"#),
            podman(&auths("ghcr.io", "later", "file")),
        ]);
        assert_eq!(get(&store, "ghcr.io"), basic("later", "file"));
    }

    #[test]
    fn bad_auth_entry_names_file_and_key_not_value() {
        let store = CredentialStore::from_sources(vec![docker(
            r#"{"auths": {"ghcr.io": {"auth": "s3cr3t!!"}}}"#,
        )]);
        let message = store
            .get("ghcr.io")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("/home/u/.docker/config.json"), "{message}");
        assert!(message.contains("\"ghcr.io\""), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }

    #[test]
    fn podman_namespaces_most_specific_first() {
        let store = CredentialStore::from_sources(vec![podman(&format!(
            r#"{{"auths": {{
                "quay.io": {{"auth": "{}"}},
                "quay.io/team": {{"auth": "{}"}},
                "quay.io/team/app": {{"auth": "{}"}},
                "docker.io/library": {{"auth": "{}"}}
            }}}}"#,
            base64("registry:1"),
            base64("team:2"),
            base64("app:3"),
            base64("library:4")
        ))]);
        let for_repo = |registry: &str, repository: &str| match store
            .get_for_repository(registry, repository)
        {
            Ok(credential) => credential,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(for_repo("quay.io", "team/app"), basic("app", "3"));
        assert_eq!(for_repo("quay.io", "team/app/sub"), basic("app", "3"));
        assert_eq!(for_repo("quay.io", "team/other"), basic("team", "2"));
        assert_eq!(for_repo("quay.io", "else/x"), basic("registry", "1"));
        assert_eq!(for_repo("quay.io", ""), basic("registry", "1"));
        assert_eq!(get(&store, "quay.io"), basic("registry", "1"));
        assert_eq!(for_repo("docker.io", "nginx"), basic("library", "4"));
        assert_eq!(for_repo("docker.io", "bob/app"), None);
        // A namespaced key never answers for the whole registry.
        assert_eq!(get(&store, "docker.io"), None);
    }

    #[test]
    fn docker_keys_have_no_namespaces() {
        let store = CredentialStore::from_sources(vec![docker(&auths("quay.io/team", "t", "1"))]);
        assert_eq!(get(&store, "quay.io"), basic("t", "1"));
        assert_eq!(
            store
                .get_for_repository("quay.io", "other/x")
                .ok()
                .flatten(),
            basic("t", "1")
        );
    }

    #[test]
    fn missing_helper_is_an_error_naming_it() {
        let store = CredentialStore::from_sources(vec![docker(
            r#"{"credHelpers": {"ghcr.io": "nonexistent"}, "auths": {"ghcr.io": {"auth": "dTpw"}}}"#,
        )])
        .with_helper_search_path("/nonexistent-dir");
        let message = store
            .get("ghcr.io")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            message,
            "credential helper docker-credential-nonexistent not found on PATH \
             (configured in /home/u/.docker/config.json)"
        );
        // credsStore applies to every other registry.
        let store = CredentialStore::from_sources(vec![docker(
            r#"{"credsStore": "desktop", "auths": {"ghcr.io": {"auth": "dTpw"}}}"#,
        )])
        .with_helper_search_path("");
        let message = store
            .get("ghcr.io")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.starts_with("credential helper docker-credential-desktop not found"),
            "{message}"
        );
    }

    #[test]
    fn helper_precedence_without_running_one() {
        let search = "/nonexistent-dir";
        // credHelpers[registry] beats credsStore, which beats auths.
        let store = CredentialStore::from_sources(vec![docker(
            r#"{"credHelpers": {"https://ghcr.io": "per-registry", "quay.io": ""},
                "credsStore": "global",
                "auths": {"ghcr.io": {"auth": "dTpw"}, "quay.io": {"auth": "dTpw"}}}"#,
        )])
        .with_helper_search_path(search);
        let helper_of = |registry: &str| {
            store
                .get(registry)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(helper_of("ghcr.io").contains("docker-credential-per-registry"));
        assert!(helper_of("gcr.io").contains("docker-credential-global"));
        // An empty helper name means "use auths", as in docker.
        assert_eq!(get(&store, "quay.io"), basic("u", "p"));
        // podman ignores credsStore.
        let store = CredentialStore::from_sources(vec![podman(
            r#"{"credsStore": "global", "auths": {"ghcr.io": {"auth": "dTpw"}}}"#,
        )])
        .with_helper_search_path(search);
        assert_eq!(get(&store, "ghcr.io"), basic("u", "p"));
    }

    #[test]
    fn helper_names_with_paths_are_refused() {
        let store = CredentialStore::from_sources(vec![docker(
            r#"{"credHelpers": {"ghcr.io": "../../bin/sh"}}"#,
        )]);
        let message = store
            .get("ghcr.io")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("must not contain a path separator"),
            "{message}"
        );
    }

    #[test]
    fn lookup_order_from_env() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let root = dir.path();
        let home = root.join("home");
        let runtime = root.join("run");
        write(
            &runtime.join("containers/auth.json"),
            &auths("ghcr.io", "runtime", "1"),
        );
        write(
            &home.join(".config/containers/auth.json"),
            &auths("quay.io", "config", "2"),
        );
        write(
            &home.join(".docker/config.json"),
            r#"{"auths": {"ghcr.io": {"username": "docker", "password": "3"},
                          "https://index.docker.io/v1/": {"username": "docker", "password": "4"}}}"#,
        );
        let env = EnvVars {
            home: Some(home.clone()),
            xdg_runtime_dir: Some(runtime.clone()),
            ..EnvVars::default()
        };
        let store = match CredentialStore::from_env_with(&env) {
            Ok(store) => store,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(get(&store, "ghcr.io"), basic("runtime", "1"));
        assert_eq!(get(&store, "quay.io"), basic("config", "2"));
        assert_eq!(get(&store, "docker.io"), basic("docker", "4"));
        assert_eq!(store.sources().count(), 3);

        // REGISTRY_AUTH_FILE replaces the runtime file; DOCKER_CONFIG moves the docker one;
        // XDG_CONFIG_HOME moves ~/.config; missing files are fine.
        let override_file = root.join("override.json");
        write(&override_file, &auths("ghcr.io", "override", "5"));
        let env = EnvVars {
            registry_auth_file: Some(override_file.clone()),
            xdg_config_home: Some(root.join("nowhere")),
            docker_config: Some(root.join("docker-elsewhere")),
            ..env
        };
        let store = match CredentialStore::from_env_with(&env) {
            Ok(store) => store,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(get(&store, "ghcr.io"), basic("override", "5"));
        assert_eq!(get(&store, "quay.io"), None);
        assert_eq!(get(&store, "docker.io"), None);
        let described = store.describe();
        assert_eq!(described.len(), 3, "{described:?}");
        assert!(described[0].starts_with(&format!(
            "podman auth file {}: auths for ghcr.io",
            override_file.display()
        )));
        assert!(
            described[1].ends_with("containers/auth.json: not present"),
            "{described:?}"
        );
        assert!(
            described[2].ends_with("docker-elsewhere/config.json: not present"),
            "{described:?}"
        );

        // No HOME and nothing set: nothing to read, not an error.
        let store = CredentialStore::from_env_with(&EnvVars::default()).ok();
        assert_eq!(
            store.map(|s| s.describe()),
            Some(vec!["no credentials files configured".to_owned()])
        );
    }

    #[test]
    fn malformed_or_unreadable_files_are_errors_with_their_path() {
        let Some(dir) = tempfile::tempdir().ok() else {
            return;
        };
        let docker_dir = dir.path().join("docker");
        write(
            &docker_dir.join("config.json"),
            "{\n  \"auths\": {\n    \"ghcr.io\": {\"auth\": \"s3cr3t\"\n  }\n",
        );
        let env = EnvVars {
            docker_config: Some(docker_dir.clone()),
            ..EnvVars::default()
        };
        let error = CredentialStore::from_env_with(&env).err();
        let message = error.as_ref().map(|e| e.to_string()).unwrap_or_default();
        let expected = format!("{}:5:", docker_dir.join("config.json").display());
        assert!(message.starts_with(&expected), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
        assert!(matches!(
            error.as_ref().map(AuthError::kind),
            Some(AuthErrorKind::MalformedJson { line: 5, .. })
        ));
        assert_eq!(
            error.as_ref().and_then(AuthError::path),
            Some(docker_dir.join("config.json").as_path())
        );

        // A directory where the file should be cannot be read.
        let auth_dir = dir.path().join("auth.json");
        fs::create_dir_all(&auth_dir).ok();
        let env = EnvVars {
            registry_auth_file: Some(auth_dir.clone()),
            ..EnvVars::default()
        };
        let message = CredentialStore::from_env_with(&env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.starts_with(&format!(
                "cannot read credentials file {}",
                auth_dir.display()
            )),
            "{message}"
        );
    }

    #[test]
    fn debug_and_describe_never_show_secrets() {
        let store = CredentialStore::from_sources(vec![
            docker(&format!(
                r#"{{"auths": {{"ghcr.io": {{"auth": "{}", "identitytoken": "s3cr3t-id"}},
                   "a.example": {{"username": "u", "password": "s3cr3t-pw", "registrytoken": "s3cr3t-rt"}}}},
                   "credHelpers": {{"gcr.io": "gcloud"}}, "credsStore": "desktop"}}"#,
                base64("u:s3cr3t-auth")
            )),
            podman(&auths("quay.io", "q", "s3cr3t-podman")),
        ]);
        let credential = get(
            &CredentialStore::from_sources(vec![podman(
                r#"{"auths": {"a.example": {"username": "u", "password": "s3cr3t-pw"}}}"#,
            )]),
            "a.example",
        );
        assert_eq!(credential, basic("u", "s3cr3t-pw"));
        let shown = format!(
            "{store:?} {store:#?} {:?} {:?} {credential:?}",
            store.describe(),
            store.sources().collect::<Vec<_>>()
        );
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(!shown.contains(&base64("u:s3cr3t-auth")), "{shown}");
        let described = store.describe();
        assert_eq!(
            described[0],
            "docker config /home/u/.docker/config.json: credHelpers gcr.io → docker-credential-gcloud; \
             credsStore docker-credential-desktop; auths for a.example, ghcr.io"
        );
        assert_eq!(
            described[1],
            "podman auth file /run/user/1000/containers/auth.json: auths for quay.io"
        );
    }

    #[cfg(unix)]
    mod helpers {
        use super::*;
        use std::os::unix::fs::PermissionsExt;

        const SCRIPT: &str = r#"#!/bin/sh
[ "$1" = get ] || { echo "unexpected arguments" >&2; exit 3; }
server=$(cat)
echo "$server" >> "$(dirname "$0")/calls"
case "$server" in
  ghcr.io) printf '{"ServerURL":"ghcr.io","Username":"alice","Secret":"s3cr3t-helper"}\n' ;;
  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"<token>","Secret":"s3cr3t-refresh"}' "$server" ;;
  docker.io) printf '{"ServerURL":"docker.io","Username":"podman-hub","Secret":"s3cr3t-podman"}' ;;
  broken.example) echo "s3cr3t-on-stdout"; echo "keychain is locked" >&2; echo "more" >&2; exit 2 ;;
  garbage.example) echo '{"Username": "x", "Secret": 12345678}' ;;
  quiet.example) echo "credentials not found in native keychain" ;;
  empty.example) printf '{"ServerURL":"empty.example","Username":"","Secret":""}' ;;
  slow.example) echo $$ > "$(dirname "$0")/helper"; exec sleep 600 ;;
  hang.example) sleep 600 & echo $! > "$(dirname "$0")/grandchild"; echo $$ > "$(dirname "$0")/helper"; exec sleep 600 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
"#;

        /// A directory holding `docker-credential-test`, to pass as the helper search path.
        fn helper_dir() -> Option<tempfile::TempDir> {
            let dir = tempfile::tempdir().ok()?;
            let script = dir.path().join("docker-credential-test");
            fs::write(&script, SCRIPT).ok()?;
            fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).ok()?;
            Some(dir)
        }

        fn store_with(sources: Vec<Source>, dir: &tempfile::TempDir) -> CredentialStore {
            // An unrelated directory first, as on a real PATH.
            let mut search = OsString::from("/nonexistent-dir:");
            search.push(dir.path());
            CredentialStore::from_sources(sources).with_helper_search_path(search)
        }

        fn calls(dir: &tempfile::TempDir) -> Vec<String> {
            fs::read_to_string(dir.path().join("calls"))
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect()
        }

        #[test]
        fn helper_answers_and_not_found() {
            let Some(dir) = helper_dir() else {
                panic!("cannot write helper")
            };
            let store = store_with(
                vec![
                    docker(&format!(
                        r#"{{"credHelpers": {{"ghcr.io": "test", "https://index.docker.io/v1/": "test", "quay.io": "test"}},
                           "auths": {{"quay.io": {{"auth": "{}"}}}}}}"#,
                        base64("same-file:x")
                    )),
                    podman(&auths("quay.io", "next-file", "y")),
                ],
                &dir,
            );
            assert_eq!(get(&store, "ghcr.io"), basic("alice", "s3cr3t-helper"));
            assert_eq!(
                get(&store, "index.docker.io"),
                Some(Credential::IdentityToken(Secret::new("s3cr3t-refresh")))
            );
            // Not found in the helper: the same file's auths are not consulted, the next file is.
            assert_eq!(get(&store, "quay.io"), basic("next-file", "y"));
            // Answers are cached: asking again does not run the helper again.
            assert_eq!(get(&store, "ghcr.io"), basic("alice", "s3cr3t-helper"));
            assert_eq!(
                calls(&dir),
                ["ghcr.io", "https://index.docker.io/v1/", "quay.io"]
            );
        }

        #[test]
        fn global_store_and_podman_hub_url() {
            let Some(dir) = helper_dir() else {
                panic!("cannot write helper")
            };
            let store = store_with(vec![docker(r#"{"credsStore": "test"}"#)], &dir);
            assert_eq!(get(&store, "ghcr.io"), basic("alice", "s3cr3t-helper"));
            assert_eq!(get(&store, "registry.example"), None);
            // podman asks its helpers for Docker Hub as docker.io.
            let store = store_with(
                vec![podman(r#"{"credHelpers": {"docker.io": "test"}}"#)],
                &dir,
            );
            assert_eq!(
                get(&store, "docker.io"),
                basic("podman-hub", "s3cr3t-podman")
            );
            // An empty secret, or "not found" with exit status 0, is no credential.
            let store = store_with(
                vec![docker(
                    r#"{"credHelpers": {"empty.example": "test", "quiet.example": "test"}}"#,
                )],
                &dir,
            );
            assert_eq!(get(&store, "empty.example"), None);
            assert_eq!(get(&store, "quiet.example"), None);
        }

        #[test]
        fn helper_failures_name_the_helper_not_the_output() {
            let Some(dir) = helper_dir() else {
                panic!("cannot write helper")
            };
            let store = store_with(
                vec![docker(
                    r#"{"credHelpers": {"broken.example": "test", "garbage.example": "test", "slow.example": "test"}}"#,
                )],
                &dir,
            )
            .with_helper_timeout(Duration::from_millis(300));
            let error = |registry: &str| {
                store
                    .get(registry)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            };
            assert_eq!(
                error("broken.example"),
                "credential helper docker-credential-test failed (exit status: 2): keychain is locked"
            );
            let garbage = error("garbage.example");
            assert!(garbage.starts_with("credential helper docker-credential-test printed malformed output: invalid type: integer"), "{garbage}");
            assert!(!garbage.contains("12345678"), "{garbage}");
            assert_eq!(
                error("slow.example"),
                "credential helper docker-credential-test did not answer within 300ms and was stopped"
            );
            // Stopped and reaped, not left running its ten minutes.
            assert!(
                !alive(&pid_in(&dir, "helper")),
                "the helper outlived its timeout"
            );
        }

        #[test]
        fn concurrent_lookups_run_a_helper_once() {
            let Some(dir) = helper_dir() else {
                panic!("cannot write helper")
            };
            let store = store_with(
                vec![docker(
                    r#"{"credHelpers": {"ghcr.io": "test", "broken.example": "test"}}"#,
                )],
                &dir,
            );
            std::thread::scope(|scope| {
                for _ in 0..4 {
                    scope.spawn(|| {
                        assert_eq!(get(&store, "ghcr.io"), basic("alice", "s3cr3t-helper"));
                        assert!(store.get("broken.example").is_err());
                    });
                }
            });
            let mut calls = calls(&dir);
            calls.sort();
            assert_eq!(calls, ["broken.example", "ghcr.io"]);
        }

        /// The process id a helper run wrote to `name` in its directory.
        fn pid_in(dir: &tempfile::TempDir, name: &str) -> String {
            let pid = fs::read_to_string(dir.path().join(name)).unwrap_or_default();
            let pid = pid.trim().to_owned();
            assert!(!pid.is_empty(), "the helper did not write {name}");
            pid
        }

        /// True while `/proc/<pid>` shows a process that has not yet exited (zombies count as gone).
        fn alive(pid: &str) -> bool {
            fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    let state = stat.rsplit_once(')')?.1.trim_start().chars().next()?;
                    Some(state != 'Z' && state != 'X')
                })
                .unwrap_or(false)
        }

        #[test]
        #[cfg(target_os = "linux")]
        fn a_hanging_helper_is_killed_with_its_children_and_not_run_again() {
            let Some(dir) = helper_dir() else {
                panic!("cannot write helper")
            };
            let store = store_with(
                vec![docker(
                    r#"{"credHelpers": {"hang.example": "test", "broken.example": "test"}}"#,
                )],
                &dir,
            )
            .with_helper_timeout(Duration::from_millis(300));
            let first = store.get("hang.example").err().map(|e| e.to_string());
            assert_eq!(
                first.as_deref(),
                Some(
                    "credential helper docker-credential-test did not answer within 300ms and was stopped"
                )
            );
            assert!(
                !alive(&pid_in(&dir, "helper")),
                "the helper outlived its timeout"
            );
            // The helper's own child (which held its output pipe) was killed with it.
            let grandchild = pid_in(&dir, "grandchild");
            // SIGKILL is asynchronous and init reaps the orphan: wait for that, far short of the
            // child's own ten minutes, so a loaded machine cannot fail the test.
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while alive(&grandchild) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(
                !alive(&grandchild),
                "process {grandchild} outlived the helper"
            );

            // The failure is remembered: asking again (another image on the same registry) does
            // not run the helper again (`calls` below), and a failing helper is run once too.
            let second = store.get("hang.example").err().map(|e| e.to_string());
            assert_eq!(second, first);
            for _ in 0..3 {
                assert!(store.get("broken.example").is_err());
            }
            assert_eq!(calls(&dir), ["hang.example", "broken.example"]);
        }
    }
}
