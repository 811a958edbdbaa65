//! A set of advisories and the questions asked of it: does this image reference, digest or action
//! ref fall under an advisory?

use tagwarden_reference::{Digest, Reference};

use crate::model::{Advisory, Window};
use crate::{AdvisoryError, action_ref, builtin};

/// Advisories with unique ids, in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct AdvisorySet {
    advisories: Vec<Advisory>,
}

/// An image reference or digest that an advisory speaks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageMatch {
    pub advisory_id: String,
    pub advisory_title: String,
    pub verdict: ImageVerdict,
}

/// What an advisory says about an image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageVerdict {
    /// The reference (or evidence) names a malicious digest: a hit whatever the time.
    MaliciousDigest {
        digest: String,
        /// `index`, `manifest` or `signature`.
        kind: String,
        platform: Option<String>,
        /// Tags the digest was pushed as.
        tags: Vec<String>,
        /// `P`, `P2`, `S`, `C` or `I`.
        confidence: String,
        disputed: bool,
    },
    /// An unpinned reference to an affected repository and tag: exposed if pulled in the window.
    AffectedTag {
        repository: String,
        tag: String,
        window: Window,
        disputed_window: Option<Window>,
    },
    /// Pinned to a digest the advisory lists as known good.
    KnownGood { digest: String, confirmed: bool },
}

/// A GitHub Action ref that an advisory speaks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionMatch {
    pub advisory_id: String,
    pub advisory_title: String,
    pub verdict: ActionVerdict,
}

/// What an advisory says about an action ref.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionVerdict {
    /// Pinned to a commit the attacker pushed: a hit whatever the time.
    MaliciousCommit { sha: String, confidence: String },
    /// A tag that pointed at a malicious commit during the window.
    AffectedTag { tag: String, window: Window },
    /// Pinned to a commit the advisory lists as known good.
    KnownGood { sha: String },
}

impl AdvisorySet {
    /// The advisories embedded in tagwarden. Every built-in file is checked by the tests, so none is
    /// skipped in practice; one that failed to load would be left out rather than panic.
    pub fn builtin() -> AdvisorySet {
        let mut set = AdvisorySet::empty();
        for (path, text) in builtin::FILES {
            if let Ok(a) = Advisory::from_toml(path, text) {
                let _ = set.add(a);
            }
        }
        set
    }

    pub fn empty() -> AdvisorySet {
        AdvisorySet::default()
    }

    /// Adds an advisory; an id already in the set is an error pointing at the new file's `id`.
    pub fn add(&mut self, a: Advisory) -> Result<(), AdvisoryError> {
        if let Some(existing) = self.advisories.iter().find(|e| e.id == a.id) {
            let (line, column) = a.id_position;
            return Err(AdvisoryError {
                path: a.path.clone(),
                line,
                column,
                message: format!(
                    "duplicate advisory id {:?}: already loaded from {}",
                    a.id, existing.path
                ),
            });
        }
        self.advisories.push(a);
        Ok(())
    }

    pub fn advisories(&self) -> &[Advisory] {
        &self.advisories
    }

    /// The advisory with this id.
    pub fn get(&self, id: &str) -> Option<&Advisory> {
        self.advisories.iter().find(|a| a.id == id)
    }

    /// Judges an image reference.
    ///
    /// - Pinned (`@digest`): a malicious digest gives [`ImageVerdict::MaliciousDigest`] in any
    ///   repository (a digest is a content address, so a mirror serving it serves the same bytes);
    ///   a known-good digest gives [`ImageVerdict::KnownGood`]. The tag of a pinned reference is
    ///   ignored: the digest decides what is pulled.
    /// - Unpinned: the effective tag (implicit `latest`) of an affected repository gives one
    ///   [`ImageVerdict::AffectedTag`] per exposure that lists it, each distinct window once.
    ///
    /// An advisory never gives the same verdict twice, however often its data repeats a fact.
    pub fn match_image(&self, r: &Reference) -> Vec<ImageMatch> {
        if let Some(d) = r.digest() {
            return self.match_digest(d);
        }
        let Some(tag) = r.effective_tag() else {
            return Vec::new();
        };
        let repository = r.repository();
        let mut out = Vec::new();
        for a in &self.advisories {
            for e in &a.image_exposures {
                if e.repositories.contains(&repository) && e.tags.iter().any(|t| t == tag) {
                    affected_tag(
                        &mut out,
                        a,
                        &repository,
                        tag,
                        e.window.value,
                        e.disputed_window.as_ref().map(|w| w.value),
                    );
                }
            }
        }
        out
    }

    /// Judges a digest seen anywhere (logs, caches, `imageID`s), whatever its repository.
    pub fn match_digest(&self, digest: &Digest) -> Vec<ImageMatch> {
        let mut out = Vec::new();
        for a in &self.advisories {
            // A digest listed twice by one advisory is one verdict, with every tag it was
            // pushed as.
            let mut found: Option<ImageVerdict> = None;
            for m in a.malicious_digests.iter().filter(|m| &m.digest == digest) {
                match &mut found {
                    Some(ImageVerdict::MaliciousDigest { tags, .. }) => {
                        for t in &m.tags {
                            if !tags.contains(t) {
                                tags.push(t.clone());
                            }
                        }
                    }
                    _ => {
                        found = Some(ImageVerdict::MaliciousDigest {
                            digest: m.digest.to_string(),
                            kind: m.kind.as_str().to_string(),
                            platform: m.platform.clone(),
                            tags: m.tags.clone(),
                            confidence: m.provenance.confidence.as_str().to_string(),
                            disputed: m.provenance.disputed,
                        });
                    }
                }
            }
            if let Some(verdict) = found {
                out.push(image_match(a, verdict));
            }
            for g in a.known_good_digests.iter().filter(|g| &g.digest == digest) {
                push_once(
                    &mut out,
                    image_match(
                        a,
                        ImageVerdict::KnownGood {
                            digest: g.digest.to_string(),
                            confirmed: g.confirmed,
                        },
                    ),
                );
            }
        }
        out
    }

    /// Judges a GitHub Action ref. `repository` is `owner/repo` (a trailing `/path` is ignored),
    /// compared case-insensitively; `git_ref` is a tag, a branch or a full 40-hex SHA (any case).
    /// `refs/tags/` is stripped. Abbreviated SHAs are not matched: they are ambiguous.
    pub fn match_action(&self, repository: &str, git_ref: &str) -> Vec<ActionMatch> {
        let Some(repository) = action_ref::repository_of(repository) else {
            return Vec::new();
        };
        let git_ref = git_ref.strip_prefix("refs/tags/").unwrap_or(git_ref);
        let sha = action_ref::is_full_sha(git_ref).then(|| git_ref.to_ascii_lowercase());
        let mut out = Vec::new();
        for a in &self.advisories {
            for action in a
                .actions
                .iter()
                .filter(|x| x.repository.eq_ignore_ascii_case(repository))
            {
                let make = |verdict| ActionMatch {
                    advisory_id: a.id.clone(),
                    advisory_title: a.title.clone(),
                    verdict,
                };
                if let Some(sha) = &sha {
                    for c in action.malicious_commits.iter().filter(|c| &c.sha == sha) {
                        push_once(
                            &mut out,
                            make(ActionVerdict::MaliciousCommit {
                                sha: c.sha.clone(),
                                confidence: c.provenance.confidence.as_str().to_string(),
                            }),
                        );
                    }
                    for c in action.known_good_commits.iter().filter(|c| &c.sha == sha) {
                        push_once(
                            &mut out,
                            make(ActionVerdict::KnownGood { sha: c.sha.clone() }),
                        );
                    }
                }
                if action.tag_is_affected(git_ref) {
                    push_once(
                        &mut out,
                        make(ActionVerdict::AffectedTag {
                            tag: git_ref.to_string(),
                            window: action.window.value,
                        }),
                    );
                }
            }
        }
        out
    }
}

/// Adds an affected-tag verdict. The same tag and window listed again by the advisory is the same
/// fact: one verdict, its disputed window the smallest holding every one given.
fn affected_tag(
    out: &mut Vec<ImageMatch>,
    a: &Advisory,
    repository: &str,
    tag: &str,
    window: Window,
    disputed: Option<Window>,
) {
    for m in out.iter_mut().filter(|m| m.advisory_id == a.id) {
        if let ImageVerdict::AffectedTag {
            repository: r,
            tag: t,
            window: w,
            disputed_window,
        } = &mut m.verdict
            && r == repository
            && t == tag
            && *w == window
        {
            *disputed_window = match (*disputed_window, disputed) {
                (Some(x), Some(y)) => Some(Window {
                    start: x.start.min(y.start),
                    end: x.end.max(y.end),
                }),
                (x, y) => x.or(y),
            };
            return;
        }
    }
    out.push(image_match(
        a,
        ImageVerdict::AffectedTag {
            repository: repository.to_string(),
            tag: tag.to_string(),
            window,
            disputed_window: disputed,
        },
    ));
}

/// Adds a match unless the same advisory already said the same: one fact listed twice (two
/// exposures of one tag and window, from any source) must make one finding, not two.
fn push_once<T: PartialEq>(out: &mut Vec<T>, m: T) {
    if !out.contains(&m) {
        out.push(m);
    }
}

fn image_match(a: &Advisory, verdict: ImageVerdict) -> ImageMatch {
    ImageMatch {
        advisory_id: a.id.clone(),
        advisory_title: a.title.clone(),
        verdict,
    }
}
