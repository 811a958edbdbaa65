//! The [`Resolver`] that asks real registries, with credentials found the way docker and podman
//! find them. The registry client is async; commands are not, so this owns a small runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result};
use tagwarden_reference::Reference;
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

    /// The client and runtime, for work beyond resolving (signatures).
    pub(crate) fn client(&self) -> (&Client, &tokio::runtime::Runtime) {
        (&self.client, &self.runtime)
    }

    /// Runs `ask` for every reference (routed to its mirror) concurrently, within the client's
    /// per-registry limit; results in the same order, progress after each.
    fn for_each<T, F, Fut>(
        &self,
        refs: &[Reference],
        ask: F,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Vec<Result<T, ResolveError>>
    where
        T: Send + 'static,
        F: Fn(Client, Reference) -> Fut,
        Fut: std::future::Future<Output = Result<T, RegistryError>> + Send + 'static,
    {
        let total = refs.len();
        let done = AtomicUsize::new(0);
        self.runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (i, r) in refs.iter().enumerate() {
                let asked = ask(self.client.clone(), self.route(r));
                set.spawn(async move { (i, asked.await.map_err(|e| convert(&e))) });
            }
            let mut out: Vec<Option<Result<T, ResolveError>>> = (0..total).map(|_| None).collect();
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
    // The client asks the store itself: one credentials model, no translation.
    let store =
        tagwarden_auth::CredentialStore::from_env().context("cannot read registry credentials")?;
    let client = Client::with_credentials(config, Arc::new(store))
        .context("cannot set up the registry client")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok((client, runtime))
}

fn convert(e: &RegistryError) -> ResolveError {
    ResolveError {
        message: e.to_string(),
        not_found: matches!(e, RegistryError::NotFound { .. }),
    }
}

/// What a tag points at, with the digest confirmed: `pin` writes it and `verify` trusts it, so
/// the registry must serve bytes that hash to it, not only name it in a header.
async fn resolve_one(
    client: &Client,
    r: &Reference,
    with_children: bool,
) -> Result<Resolved, RegistryError> {
    let (head, index) = if with_children {
        client.resolve_with_index(r).await?
    } else {
        (client.resolve_confirmed(r).await?, None)
    };
    let children = index
        .iter()
        .flat_map(|index| index.platforms())
        .map(|(platform, digest)| (platform.to_string(), digest.clone()))
        .collect();
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
        self.for_each(
            refs,
            |client, r| async move { resolve_one(&client, &r, with_children).await },
            progress,
        )
    }

    fn platforms_of(&self, refs: &[Reference]) -> Vec<Result<Option<String>, ResolveError>> {
        self.for_each(
            refs,
            |client, r| async move { client.platform_of(&r).await },
            &|_, _| {},
        )
    }

    fn exists_all(&self, refs: &[Reference]) -> Vec<Result<bool, ResolveError>> {
        // The bytes are fetched and hashed: a registry cannot just say it has them.
        self.for_each(
            refs,
            |client, r| async move {
                match client.confirm(&r).await {
                    Ok(()) => Ok(true),
                    Err(RegistryError::NotFound { .. }) => Ok(false),
                    Err(e) => Err(e),
                }
            },
            &|_, _| {},
        )
    }
}
