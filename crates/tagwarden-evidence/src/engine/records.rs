//! What an image store says, shared by the engine API and the snapshots of it (`docker inspect`,
//! `docker images`, `crictl images`): repo tags and repo digests per image, and the digests a
//! container's image is known by.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use tagwarden_reference::{Digest, Reference};

/// The repository (`docker.io/checkmarx/kics`) of a name or reference, for comparing spellings.
pub(crate) fn repository_of(s: &str) -> String {
    match Reference::parse(s) {
        Ok(r) => r.repository(),
        Err(_) => {
            let s = s.split('@').next().unwrap_or(s);
            // A `:` after the last `/` starts a tag; one before it is a registry port.
            match s.rfind(':') {
                Some(i) if s.get(i..).is_some_and(|rest| !rest.contains('/')) => {
                    s.get(..i).unwrap_or(s).to_string()
                }
                _ => s.to_string(),
            }
        }
    }
}

/// True for the placeholders engines print for missing names (`<none>:<none>`, `<none>@<none>`).
pub(crate) fn is_none_placeholder(s: &str) -> bool {
    s.is_empty() || s.starts_with("<none>")
}

/// One image in a store seen under a name: a reference and, when the store knows it, the
/// manifest digest it was pulled by.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Named {
    pub(crate) reference: String,
    pub(crate) digest: Option<Digest>,
}

/// The names an image is known by: one per `RepoDigests` entry (`name@sha256:…`, reported as
/// `name` and the digest), then one per `RepoTags` entry whose repository has no digest (built or
/// loaded locally). Entries whose digest does not parse are returned apart, for a problem.
/// Repeated entries count once: a hostile list costs linear time.
pub(crate) fn names(repo_tags: &[String], repo_digests: &[String]) -> (Vec<Named>, Vec<String>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let mut with_digest = HashSet::new();
    let mut seen = HashSet::new();
    for entry in repo_digests.iter().filter(|e| !is_none_placeholder(e)) {
        if !seen.insert(entry.as_str()) {
            continue;
        }
        match entry.split_once('@') {
            Some((name, digest)) => match Digest::parse(digest) {
                Ok(digest) => {
                    with_digest.insert(repository_of(name));
                    out.push(Named {
                        reference: name.to_string(),
                        digest: Some(digest),
                    });
                }
                Err(_) => bad.push(entry.clone()),
            },
            None => bad.push(entry.clone()),
        }
    }
    for tag in repo_tags.iter().filter(|t| !is_none_placeholder(t)) {
        if seen.insert(tag.as_str()) && !with_digest.contains(&repository_of(tag)) {
            out.push(Named {
                reference: tag.clone(),
                digest: None,
            });
        }
    }
    (out, bad)
}

/// The hex of an image ID, whether written `sha256:…` or bare.
fn id_key(id: &str) -> String {
    id.strip_prefix("sha256:")
        .unwrap_or(id)
        .to_ascii_lowercase()
}

/// True when a container's `Image` field is an image ID (full, `sha256:`-prefixed or short)
/// rather than a reference: the engine prints the ID once the tag has moved away.
pub(crate) fn is_image_id(image: &str, image_id: &str) -> bool {
    let key = id_key(image);
    let hex = key.len() >= 12 && key.bytes().all(|b| b.is_ascii_hexdigit());
    hex && (key.len() == 64 || id_key(image_id).starts_with(&key))
}

/// Most digests a container is judged against: a real image is known by a few (one per
/// repository or mirror it was pulled from). The image's own evidence carries every one.
pub(crate) const MAX_CONTAINER_DIGESTS: usize = 16;

/// Image ID → repo digests (parsed once, each once), to give a container the digests its image
/// was pulled by. Linear in the records however often an ID repeats.
#[derive(Debug, Default)]
pub(crate) struct DigestIndex {
    by_id: HashMap<String, Known>,
}

/// The digests one image ID is known by, with their repositories.
#[derive(Debug, Default)]
struct Known {
    entries: Vec<(String, Digest)>,
    seen: HashSet<Digest>,
    /// Distinct digests beyond [`MAX_CONTAINER_DIGESTS`].
    more: u64,
}

impl DigestIndex {
    pub(crate) fn insert(&mut self, id: &str, repo_digests: &[String]) {
        if id.is_empty() {
            return;
        }
        let known = self.by_id.entry(id_key(id)).or_default();
        for e in repo_digests {
            let Some((name, digest)) = e.split_once('@') else {
                continue;
            };
            let Ok(digest) = Digest::parse(digest) else {
                continue;
            };
            if !known.seen.insert(digest.clone()) {
                continue;
            }
            if known.entries.len() < MAX_CONTAINER_DIGESTS {
                known.entries.push((repository_of(name), digest));
            } else {
                known.more += 1;
            }
        }
    }

    /// Image IDs known by more digests than a container is judged against, with how many more.
    pub(crate) fn crowded(&self) -> impl Iterator<Item = (&str, u64)> {
        self.by_id
            .iter()
            .filter(|(_, k)| k.more > 0)
            .map(|(id, k)| (id.as_str(), k.more))
    }

    /// The digests a container's image is known by: the one in `image` when it is pinned,
    /// else the store's repo digests of `image_id`, those of `image`'s repository first (the
    /// others name the same content, so they are kept when none matches).
    pub(crate) fn container_digests(&self, image: &str, image_id: &str) -> Vec<Digest> {
        if let Some((_, digest)) = image.split_once('@') {
            return Digest::parse(digest).into_iter().collect();
        }
        let Some(known) = self.by_id.get(&id_key(image_id)) else {
            return Vec::new();
        };
        let repository = repository_of(image);
        let matching: Vec<Digest> = known
            .entries
            .iter()
            .filter(|(r, _)| *r == repository)
            .map(|(_, d)| d.clone())
            .collect();
        if matching.is_empty() || is_image_id(image, image_id) {
            known.entries.iter().map(|(_, d)| d.clone()).collect()
        } else {
            matching
        }
    }
}

/// An epoch-seconds field as a timestamp.
pub(crate) fn from_epoch(seconds: i64) -> Option<Timestamp> {
    Timestamp::from_second(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn names_prefer_digests_and_keep_undigested_tags() {
        let tags = vec![
            "checkmarx/kics:latest".to_string(),
            "localhost/built:1".to_string(),
            "<none>:<none>".to_string(),
        ];
        let digests = vec![
            format!("docker.io/checkmarx/kics@{}", d('a')),
            "<none>@<none>".to_string(),
            "broken@sha256:zz".to_string(),
        ];
        let (named, bad) = names(&tags, &digests);
        assert_eq!(
            named,
            [
                Named {
                    reference: "docker.io/checkmarx/kics".into(),
                    digest: Some(Digest::parse(&d('a')).unwrap()),
                },
                Named {
                    reference: "localhost/built:1".into(),
                    digest: None,
                },
            ]
        );
        assert_eq!(bad, ["broken@sha256:zz"]);
    }

    #[test]
    fn container_digests_from_the_image_index() {
        let mut index = DigestIndex::default();
        let id = d('1');
        index.insert(
            &id,
            &[
                format!("other/mirror@{}", d('b')),
                format!("checkmarx/kics@{}", d('a')),
            ],
        );
        let a = Digest::parse(&d('a')).unwrap();
        let b = Digest::parse(&d('b')).unwrap();
        assert_eq!(
            index.container_digests("checkmarx/kics:latest", &id),
            std::slice::from_ref(&a)
        );
        assert_eq!(
            index.container_digests("somewhere/else:1", &id),
            [b.clone(), a.clone()]
        );
        assert_eq!(
            index.container_digests(&id_key(&id)[..12], &id),
            [b, a.clone()]
        );
        assert_eq!(
            index.container_digests(&format!("x/y@{}", d('c')), &id),
            [Digest::parse(&d('c')).unwrap()]
        );
        assert!(index.container_digests("x", &d('2')).is_empty());
        assert!(is_image_id(&id, &id));
        assert!(!is_image_id("checkmarx/kics", &id));
        assert_eq!(repository_of("127.0.0.1:5000/a/b:t"), "127.0.0.1:5000/a/b");
        assert_eq!(repository_of("kics"), "docker.io/library/kics");
    }

    #[test]
    fn hostile_image_lists_with_repeated_ids_stay_linear() {
        // 34,000 records of one image ID, each with its own digest, and as many containers of
        // it: quadratic work here once took minutes.
        let n = 34_000;
        let id = d('1');
        let mut index = DigestIndex::default();
        let digests: Vec<String> = (0..n).map(|i| format!("kics@sha256:{:064x}", i)).collect();
        for entry in &digests {
            index.insert(&id, std::slice::from_ref(entry));
            index.insert(&id, std::slice::from_ref(entry));
        }
        let crowded: Vec<_> = index.crowded().collect();
        assert_eq!(crowded, [(&id[7..], (n - MAX_CONTAINER_DIGESTS) as u64)]);
        for _ in 0..n {
            let got = index.container_digests("kics:latest", &id);
            assert_eq!(got.len(), MAX_CONTAINER_DIGESTS);
        }
        // One record naming the same tags and digests over and over.
        let tags: Vec<String> = (0..n).map(|i| format!("kics:{}", i % 100)).collect();
        let (named, bad) = names(&tags, &digests);
        assert!(bad.is_empty());
        assert_eq!(named.len(), n);
    }
}
