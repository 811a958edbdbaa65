//! The plan: every target in every place the user named, what will be done to each, what
//! cannot be done and why. Planning only reads: listings, manifests fetched by digest (and
//! hashed), harmless probes. The same planner runs again after the purge to prove what is left.

mod cluster;
mod engine;
mod registry;

use std::collections::BTreeMap;

use tagwarden_advisory::AdvisorySet;
use tagwarden_engine::Engine;
use tagwarden_hunt::{Matched, Outcome, Verdict};
use tagwarden_reference::Digest;
use tagwarden_registry::Client;

use crate::targets::Step;

/// The digests to purge, each with why.
#[derive(Clone, Debug, Default)]
pub struct Malicious {
    digests: BTreeMap<Digest, Vec<String>>,
    /// Repository paths (no registry) advisories name, where registries are searched.
    repositories: Vec<String>,
    /// `(repository path, tag, digest)` an advisory vouches for.
    known_good: Vec<(String, String, Digest)>,
}

impl Malicious {
    /// The advisories' malicious digests (index, platform manifest, signature), the repositories
    /// they name and their known-good digests.
    pub fn from_advisories(advisories: &AdvisorySet) -> Self {
        let mut out = Self::default();
        for a in advisories.advisories() {
            for m in &a.malicious_digests {
                out.add(m.digest.clone(), &a.id);
                out.add_repositories(&m.repositories);
            }
            for e in &a.image_exposures {
                out.add_repositories(&e.repositories);
            }
            for g in &a.known_good_digests {
                for r in &g.repositories {
                    let Some(path) = repository_path(r) else {
                        continue;
                    };
                    for t in &g.tags {
                        out.known_good
                            .push((path.clone(), t.clone(), g.digest.clone()));
                    }
                }
            }
        }
        out
    }

    /// Adds the digests a hunt found compromised (a feed's, or an advisory's).
    pub fn add_hunt(&mut self, outcome: &Outcome) {
        for h in &outcome.hits {
            if let (Matched::Digest(d), Verdict::Compromised) = (&h.matched, h.verdict) {
                self.add(d.clone(), &format!("hunt: {}", h.advisory));
            }
        }
    }

    /// Adds a repository to search, by its path inside the registry (`checkmarx/kics`).
    pub fn add_repository(&mut self, path: &str) {
        if !self.repositories.iter().any(|r| r == path) {
            self.repositories.push(path.to_string());
        }
    }

    fn add(&mut self, digest: Digest, why: &str) {
        let reasons = self.digests.entry(digest).or_default();
        if !reasons.iter().any(|r| r == why) {
            reasons.push(why.to_string());
        }
    }

    fn add_repositories(&mut self, repositories: &[String]) {
        for r in repositories {
            if let Some(path) = repository_path(r) {
                self.add_repository(&path);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        self.digests.contains_key(digest)
    }

    /// `sha256:… is malicious (advisory a, advisory b)`.
    pub fn why(&self, digest: &Digest) -> String {
        match self.digests.get(digest) {
            Some(reasons) => format!("{digest} is malicious ({})", reasons.join(", ")),
            None => format!("{digest}"),
        }
    }

    pub fn repositories(&self) -> &[String] {
        &self.repositories
    }
}

/// `docker.io/checkmarx/kics` → `checkmarx/kics`: a registry of one's own or a mirror keeps the
/// path, not the registry.
fn repository_path(repository: &str) -> Option<String> {
    repository
        .split_once('/')
        .map(|(_, p)| p.to_string())
        .filter(|p| !p.is_empty())
}

/// A registry to purge: `host[:port]` and an optional path prefix under which it keeps (or
/// mirrors) repositories (`harbor.example.com/dockerhub-proxy`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    pub host: String,
    pub prefix: Option<String>,
}

impl Registry {
    /// Parses `host[:port][/prefix]`.
    pub fn parse(s: &str) -> Result<Registry, String> {
        let s = s.trim().trim_end_matches('/');
        let s = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .unwrap_or(s);
        let (host, prefix) = match s.split_once('/') {
            Some((h, p)) => (h, Some(p.to_string())),
            None => (s, None),
        };
        let host_ok = !host.is_empty()
            && host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        if !host_ok {
            return Err(format!("{s:?}: expected HOST[:PORT][/PREFIX]"));
        }
        Ok(Registry {
            host: host.to_ascii_lowercase(),
            prefix,
        })
    }

    fn path(&self, repository: &str) -> String {
        match &self.prefix {
            Some(p) => format!("{p}/{repository}"),
            None => repository.to_string(),
        }
    }
}

/// Everything a plan is made from.
pub struct Inputs<'a> {
    pub malicious: &'a Malicious,
    pub engines: &'a [Engine],
    pub registries: &'a [Registry],
    /// Snapshot files, read: `(name as given, text)`.
    pub snapshots: &'a [(String, String)],
    pub client: &'a Client,
    /// Stop and remove containers created from malicious images.
    pub force: bool,
    /// Point tags back at known-good digests.
    pub restore_known_good: bool,
    /// Ask a registry that refuses deletes whether it refuses uploads too (a pull-through
    /// cache): this starts an upload and cancels it, so a dry run does not ask.
    pub probe_uploads: bool,
}

/// The steps, in the order they are taken, and what could not be looked at.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Places that could not be read (an engine that does not answer, a registry that refuses
    /// us): the plan is incomplete there.
    pub problems: Vec<String>,
}

/// Plans the purge: containers before their images, signatures and referrers before what they
/// are attached to, indexes before their children, tags restored last; pods and snapshot
/// hosts are left to the user with what to do.
pub async fn plan(inputs: &Inputs<'_>) -> Plan {
    let mut plan = Plan::default();
    for engine in inputs.engines {
        engine::plan(engine, inputs, &mut plan);
    }
    for registry in inputs.registries {
        registry::plan(registry, inputs, &mut plan).await;
    }
    for (name, text) in inputs.snapshots {
        cluster::plan(name, text, inputs.malicious, &mut plan);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_are_host_and_prefix() {
        let r = Registry::parse("https://Harbor.Example.com/dockerhub-proxy/").ok();
        assert_eq!(
            r,
            Some(Registry {
                host: "harbor.example.com".into(),
                prefix: Some("dockerhub-proxy".into())
            })
        );
        assert_eq!(
            r.map(|r| r.path("checkmarx/kics")).as_deref(),
            Some("dockerhub-proxy/checkmarx/kics")
        );
        assert!(Registry::parse("127.0.0.1:5000").is_ok());
        for bad in ["", "/x", "a b/c", "host?x"] {
            assert!(Registry::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_hunt_adds_the_digests_it_found_compromised_and_nothing_else() {
        let bad = format!("sha256:{}", "b".repeat(64));
        let seen = format!("sha256:{}", "c".repeat(64));
        let hit = |verdict: &str, digest: &str| {
            format!(
                r#"{{"advisory":"feed:x","verdict":"{verdict}","source":"engine","location":"/run/docker.sock","timestamp":null,"indicator":"{digest}","host":null,"job":null,"detail":"d","excerpt":null,"line":null,"matched":{{"kind":"digest","digest":"{digest}"}}}}"#
            )
        };
        let doc = format!(
            r#"{{"version":1,"summary":{{"hit":true,"compromised":1,"exposed":1,"disputed":0,"contacted":0,"weak":0,"evidence":2,"problems":0,"notes":0,"answer":"hit"}},"hits":[{},{}],"weak":[],"sources":[],"problems":[],"notes":[]}}"#,
            hit("compromised", &bad),
            hit("exposed", &seen)
        );
        let outcome = tagwarden_hunt::json::read(&doc);
        let Ok(outcome) = outcome else {
            panic!("{outcome:?}");
        };
        let mut malicious = Malicious::default();
        malicious.add_hunt(&outcome);
        let parse = |d: &str| Digest::parse(d).ok();
        assert!(parse(&bad).is_some_and(|d| malicious.contains(&d)));
        assert!(parse(&seen).is_some_and(|d| !malicious.contains(&d)));
        assert_eq!(malicious.len(), 1);
        assert!(parse(&bad).is_some_and(|d| malicious.why(&d).ends_with("(hunt: feed:x)")));
    }

    #[test]
    fn repositories_lose_their_registry() {
        assert_eq!(
            repository_path("docker.io/checkmarx/kics").as_deref(),
            Some("checkmarx/kics")
        );
        assert_eq!(repository_path("nohost"), None);
    }
}
