//! The [`Resolver`] that asks real registries, with credentials found the way docker and podman
//! find them. The registry client is async; commands are not, so this owns a small runtime.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result};
use tagwarden_reference::{Digest, Reference};
use tagwarden_registry::{Client, ClientConfig, RegistryError};

use crate::cli::{Mirror, RegistryArgs};
use crate::resolver::{ResolveError, Resolved, Resolver};

pub(crate) struct RegistryResolver {
    runtime: tokio::runtime::Runtime,
    client: Client,
    mirrors: Vec<Mirror>,
}

impl RegistryResolver {
    pub(crate) fn new(args: &RegistryArgs) -> Result<Self> {
        let (client, runtime) = client(args)?;
        Ok(Self {
            runtime,
            client,
            mirrors: args.mirrors.clone(),
        })
    }

    /// The reference to ask for: on its mirror when one is configured for its registry. Digests
    /// are checked against the bytes wherever they come from, so a mirror can only answer which
    /// digest a tag points at, as the registry itself could.
    pub(crate) fn route(&self, r: &Reference) -> Reference {
        let Some(m) = self.mirrors.iter().find(|m| m.registry == r.domain()) else {
            return r.clone();
        };
        let path = match &m.prefix {
            Some(p) => format!("{p}/{}", r.path()),
            None => r.path().to_string(),
        };
        Reference::from_parts(&m.host, &path, r.tag(), r.digest().cloned())
            .unwrap_or_else(|_| r.clone())
    }
}

impl RegistryResolver {
    /// The client and runtime, for work beyond resolving (signatures).
    pub(crate) fn client(&self) -> (&Client, &tokio::runtime::Runtime) {
        (&self.client, &self.runtime)
    }
}

/// A registry client configured from the command line, with docker/podman credentials, and a
/// small runtime to drive it.
pub(crate) fn client(args: &RegistryArgs) -> Result<(Client, tokio::runtime::Runtime)> {
    let mut config = ClientConfig {
        insecure_registries: args.insecure_registries.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        max_concurrency_per_registry: args.concurrency.max(1),
        ..ClientConfig::default()
    };
    for path in &args.ca_certs {
        config.extra_ca_certs_pem.push(
            std::fs::read(path)
                .with_context(|| format!("cannot read CA certificate {}", path.display()))?,
        );
    }
    let store =
        tagwarden_auth::CredentialStore::from_env().context("cannot read registry credentials")?;
    let credentials = StoreCredentials {
        store,
        warned: Mutex::new(HashSet::new()),
    };
    let client = Client::with_credentials(config, Arc::new(credentials))
        .context("cannot set up the registry client")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok((client, runtime))
}

/// docker/podman credentials, handed to the client one registry at a time.
struct StoreCredentials {
    store: tagwarden_auth::CredentialStore,
    /// Registries already warned about: the client asks once per request, the user needs it once.
    warned: Mutex<HashSet<String>>,
}

impl tagwarden_registry::Credentials for StoreCredentials {
    fn get(&self, registry_host: &str) -> Option<tagwarden_registry::Credential> {
        use tagwarden_auth::Credential as A;
        use tagwarden_registry::{Credential as R, Secret};
        match self.store.get(registry_host) {
            Ok(Some(A::Basic { username, password })) => Some(R::Basic {
                username,
                password: Secret::new(password.expose()),
            }),
            Ok(Some(A::IdentityToken(t))) => Some(R::IdentityToken(Secret::new(t.expose()))),
            // A registry token is a bearer token for one registry; the refresh flow accepts it.
            Ok(Some(A::RegistryToken(t))) => Some(R::IdentityToken(Secret::new(t.expose()))),
            Ok(None) => None,
            Err(e) => {
                // The message names the file or helper, never a secret; go on anonymously.
                let first = self
                    .warned
                    .lock()
                    .map(|mut w| w.insert(registry_host.to_string()))
                    .unwrap_or(true);
                if first {
                    eprintln!("warning: credentials for {registry_host}: {e}");
                }
                None
            }
        }
    }
}

fn convert(e: &RegistryError) -> ResolveError {
    ResolveError {
        message: e.to_string(),
        not_found: matches!(e, RegistryError::NotFound { .. }),
    }
}

/// The platform manifests an index lists, as (`os/arch[/variant]`, digest).
fn index_children(bytes: &[u8]) -> Vec<(String, Digest)> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Vec::new();
    };
    let Some(manifests) = v.get("manifests").and_then(|m| m.as_array()) else {
        return Vec::new();
    };
    manifests
        .iter()
        .filter_map(|m| {
            let digest = Digest::parse(m.get("digest")?.as_str()?).ok()?;
            let p = m.get("platform")?;
            let os = p.get("os")?.as_str()?;
            let arch = p.get("architecture")?.as_str()?;
            // Attestation manifests (BuildKit writes `unknown/unknown`) are not platforms.
            if os == "unknown" {
                return None;
            }
            let platform = match p.get("variant").and_then(|v| v.as_str()) {
                Some(variant) => format!("{os}/{arch}/{variant}"),
                None => format!("{os}/{arch}"),
            };
            Some((platform, digest))
        })
        .collect()
}

async fn resolve_one(
    client: &Client,
    r: &Reference,
    with_children: bool,
) -> Result<Resolved, ResolveError> {
    let head = client.resolve(r).await.map_err(|e| convert(&e))?;
    let mut children = Vec::new();
    if with_children && head.is_index {
        let manifest = client
            .fetch_manifest(&r.with_digest(head.digest.clone()))
            .await
            .map_err(|e| convert(&e))?;
        children = index_children(&manifest.bytes);
    }
    Ok(Resolved {
        digest: head.digest,
        children,
    })
}

impl Resolver for RegistryResolver {
    fn resolve_all(
        &self,
        refs: &[Reference],
        with_children: bool,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Vec<Result<Resolved, ResolveError>> {
        let total = refs.len();
        let done = AtomicUsize::new(0);
        self.runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (i, r) in refs.iter().enumerate() {
                let client = self.client.clone();
                let r = self.route(r);
                set.spawn(async move { (i, resolve_one(&client, &r, with_children).await) });
            }
            let mut out: Vec<Option<Result<Resolved, ResolveError>>> = vec![None; total];
            while let Some(joined) = set.join_next().await {
                if let Ok((i, res)) = joined {
                    out[i] = Some(res);
                }
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            }
            out.into_iter()
                .map(|o| {
                    o.unwrap_or_else(|| {
                        Err(ResolveError {
                            message: "internal error: the lookup task failed".into(),
                            not_found: false,
                        })
                    })
                })
                .collect()
        })
    }

    fn platforms_of(&self, refs: &[Reference]) -> Vec<Result<Option<String>, ResolveError>> {
        self.runtime.block_on(async {
            let mut out = Vec::with_capacity(refs.len());
            for r in refs {
                let r = self.route(r);
                out.push(self.client.platform_of(&r).await.map_err(|e| convert(&e)));
            }
            out
        })
    }

    fn exists_all(&self, refs: &[Reference]) -> Vec<Result<bool, ResolveError>> {
        self.runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (i, r) in refs.iter().enumerate() {
                let client = self.client.clone();
                let r = self.route(r);
                set.spawn(async move {
                    let res = match client.resolve(&r).await {
                        Ok(_) => Ok(true),
                        Err(RegistryError::NotFound { .. }) => Ok(false),
                        Err(e) => Err(convert(&e)),
                    };
                    (i, res)
                });
            }
            let mut out: Vec<Option<Result<bool, ResolveError>>> = vec![None; refs.len()];
            while let Some(joined) = set.join_next().await {
                if let Ok((i, res)) = joined {
                    out[i] = Some(res);
                }
            }
            out.into_iter()
                .map(|o| {
                    o.unwrap_or_else(|| {
                        Err(ResolveError {
                            message: "internal error: the lookup task failed".into(),
                            not_found: false,
                        })
                    })
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_of_an_index() {
        let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[
            {{"digest":"{}","platform":{{"os":"linux","architecture":"amd64"}}}},
            {{"digest":"{}","platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}},
            {{"digest":"{}","platform":{{"os":"unknown","architecture":"unknown"}}}}]}}"#,
            d('a'),
            d('b'),
            d('c')
        );
        let c = index_children(index.as_bytes());
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].0, "linux/arm64/v8");
    }
}
