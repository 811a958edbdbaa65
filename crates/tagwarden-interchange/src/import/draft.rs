//! The advisory being built from one or more documents, and its TOML text. Every value is checked
//! here the way the loader will check it, so a value the loader would refuse becomes an unmapped
//! item instead of failing the whole import.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::Date;
use tagwarden_advisory::{
    Confidence, DigestKind, NetworkKind, normalize_network_indicator, syntax,
};
use tagwarden_reference::{Digest, normalize_repository};

use super::json::Node;
use super::polarity::Polarity;
use super::{Format, Unmapped};

/// Longest note or description kept from a document; the rest is cut, with `…`.
const MAX_TEXT: usize = 1000;
/// Most sources taken from one document's reference list.
const MAX_REFERENCES: usize = 20;

/// Why a value is believed, as written under each record.
#[derive(Clone, Debug)]
pub(crate) struct Prov {
    pub(crate) sources: Vec<String>,
    pub(crate) confidence: Confidence,
    /// Sources disagree about the value (a tagwarden export says so).
    pub(crate) disputed: bool,
    pub(crate) note: Option<String>,
}

impl Prov {
    /// The same provenance with a note (appended to any note already there).
    pub(crate) fn with_note(&self, note: impl Into<String>) -> Prov {
        let note = note.into();
        let mut p = self.clone();
        p.note = Some(match &self.note {
            Some(n) => format!("{n} {note}"),
            None => note,
        });
        p
    }
}

/// A time window as far as the document gives it; both ends missing means "no window".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DraftWindow {
    pub(crate) start: Option<Timestamp>,
    pub(crate) end: Option<Timestamp>,
}

impl DraftWindow {
    fn is_empty(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }
}

/// A window with the provenance the document gives it; `None` cites the record's.
#[derive(Clone, Debug, Default)]
pub(crate) struct SourcedWindow {
    pub(crate) window: DraftWindow,
    pub(crate) prov: Option<Prov>,
}

impl From<DraftWindow> for SourcedWindow {
    fn from(window: DraftWindow) -> Self {
        SourcedWindow { window, prov: None }
    }
}

struct SourceEntry {
    id: String,
    url: Option<String>,
    title: String,
}

/// One exposed repository and tag in one window. Kept tag by tag so that a tag named twice
/// (two MISP objects of one tag, two documents) is one fact; grouped back into records when
/// written.
struct ExposedTag {
    repository: String,
    tag: String,
    window: SourcedWindow,
    disputed_window: Option<SourcedWindow>,
    prov: Prov,
}

struct DigestGroup {
    repositories: Vec<String>,
    tags: Vec<String>,
    digest: String,
    kind: DigestKind,
    platform: Option<String>,
    prov: Prov,
}

struct GoodGroup {
    repositories: Vec<String>,
    tags: Vec<String>,
    digest: String,
    platform: Option<String>,
    confirmed: bool,
    prov: Prov,
}

/// A tag rule: every `prefix` + version below (or up to) `version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) prefix: String,
    pub(crate) up_to: bool,
    pub(crate) version: String,
}

struct CommitGroup {
    shas: Vec<String>,
    /// Tags that pointed at the commit, when the document says.
    tags: Vec<String>,
    prov: Prov,
}

struct Action {
    repository: String,
    tags: Vec<String>,
    rules: Vec<Rule>,
    window: SourcedWindow,
    malicious: Vec<CommitGroup>,
    known_good: Vec<CommitGroup>,
    prov: Prov,
}

struct Network {
    kind: NetworkKind,
    value: String,
    weak: bool,
    prov: Prov,
}

struct FileHash {
    sha256: String,
    sha1: Option<String>,
    md5: Option<String>,
    description: String,
    prov: Prov,
}

struct HostArtifact {
    path: String,
    description: String,
    prov: Prov,
}

struct Other {
    kind: String,
    value: String,
    description: String,
    prov: Prov,
}

struct NotIndicator {
    kind: String,
    value: String,
    reason: String,
    prov: Prov,
}

/// One imported document: where it is, its text (for positions) and its default provenance.
pub(crate) struct Doc<'a> {
    pub(crate) path: &'a str,
    pub(crate) text: &'a str,
    /// Sources and confidence every value of this document cites unless it says more.
    pub(crate) prov: Prov,
}

/// Everything gathered so far, from every document.
#[derive(Default)]
pub(crate) struct Draft {
    pub(crate) titles: Vec<String>,
    pub(crate) summaries: Vec<String>,
    pub(crate) aliases: Vec<String>,
    pub(crate) published: Option<Date>,
    pub(crate) updated: Option<Date>,
    /// `(format, file, document id, author)` of each document.
    pub(crate) documents: Vec<(Format, String, Option<String>, Option<String>)>,
    pub(crate) id_hint: Option<String>,
    sources: Vec<SourceEntry>,
    exposures: Vec<ExposedTag>,
    malicious: Vec<DigestGroup>,
    known_good: Vec<GoodGroup>,
    actions: Vec<Action>,
    network: Vec<Network>,
    file_hashes: Vec<FileHash>,
    host_artifacts: Vec<HostArtifact>,
    other: Vec<Other>,
    not_indicators: Vec<NotIndicator>,
    pub(crate) unmapped: Vec<Unmapped>,
}

impl Draft {
    /// True when no value was imported (sources and notes do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.exposures.is_empty()
            && self.malicious.is_empty()
            && self.known_good.is_empty()
            && self.actions.is_empty()
            && self.network.is_empty()
            && self.file_hashes.is_empty()
            && self.host_artifacts.is_empty()
            && self.other.is_empty()
            && self.not_indicators.is_empty()
    }

    /// Records something that could not be imported, at a value of the document.
    pub(crate) fn unmapped(&mut self, doc: &Doc<'_>, at: &Node, message: impl Into<String>) {
        self.unmapped_at(doc, at.at, message);
    }

    /// Like [`Draft::unmapped`], at a byte offset.
    pub(crate) fn unmapped_at(&mut self, doc: &Doc<'_>, at: usize, message: impl Into<String>) {
        self.notice(doc, at, message, false);
    }

    fn notice(&mut self, doc: &Doc<'_>, at: usize, message: impl Into<String>, kept_out: bool) {
        let (line, column) = tagwarden_advisory::line_column(doc.text, at);
        self.unmapped.push(Unmapped {
            path: doc.path.to_string(),
            line,
            column,
            message: one_line(&message.into()),
            kept_out,
        });
    }

    /// Keeps the earliest publication and the latest update across documents.
    pub(crate) fn dates(&mut self, published: Option<Date>, updated: Option<Date>) {
        if let Some(p) = published {
            self.published = Some(self.published.map_or(p, |q| q.min(p)));
        }
        if let Some(u) = updated.or(published) {
            self.updated = Some(self.updated.map_or(u, |q| q.max(u)));
        }
    }

    pub(crate) fn alias(&mut self, alias: &str) {
        let alias = alias.trim();
        if syntax::is_identifier(alias) && !self.aliases.iter().any(|a| a == alias) {
            self.aliases.push(alias.to_string());
        }
    }

    /// Declares a source and returns its id; a URL already declared gives the existing id.
    pub(crate) fn source(&mut self, hint: &str, url: Option<&str>, title: &str) -> String {
        let url = url
            .map(str::trim)
            .filter(|u| {
                (u.starts_with("https://") || u.starts_with("http://"))
                    && !u.chars().any(char::is_whitespace)
                    && u.len() <= 2000
            })
            .map(str::to_string);
        if let Some(u) = &url
            && let Some(s) = self.sources.iter().find(|s| s.url.as_ref() == Some(u))
        {
            return s.id.clone();
        }
        let base = identifier(hint).unwrap_or_else(|| "source".to_string());
        let mut id = base.clone();
        let mut n = 2;
        while self.sources.iter().any(|s| s.id == id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        let title = clip(&one_line(title));
        self.sources.push(SourceEntry {
            id: id.clone(),
            url,
            title: if title.is_empty() { id.clone() } else { title },
        });
        id
    }

    /// Adds reference URLs as sources (at most [`MAX_REFERENCES`] per call), returning their ids.
    pub(crate) fn references<'u>(
        &mut self,
        refs: impl IntoIterator<Item = (&'u str, String)>,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        for (url, title) in refs.into_iter().take(MAX_REFERENCES) {
            let before = self.sources.len();
            let id = self.source("reference", Some(url), &title);
            // A reference without a usable URL would be a source saying nothing: drop it.
            if self.sources.len() > before && self.sources.last().is_some_and(|s| s.url.is_none()) {
                self.sources.pop();
                continue;
            }
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// A network indicator; an invalid value is unmapped, a repeated one merged.
    pub(crate) fn network(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        kind: NetworkKind,
        raw: &str,
        weak: bool,
        prov: Prov,
    ) {
        let value = match normalize_network_indicator(kind, raw) {
            Ok(v) => v,
            Err(m) => {
                self.unmapped(doc, at, format!("{} {}: {m}", kind.as_str(), clip(raw)));
                return;
            }
        };
        if let Some(n) = self
            .network
            .iter_mut()
            .find(|n| n.kind == kind && n.value == value)
        {
            // One strong statement is enough to make it strong.
            n.weak &= weak;
            return;
        }
        self.drop_not_indicator(doc, at, kind.as_str(), &value);
        self.network.push(Network {
            kind,
            value,
            weak,
            prov,
        });
    }

    /// A malicious image digest. A digest already listed as known good becomes malicious (the
    /// stronger claim wins) and the conflict is reported.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn malicious_digest(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        raw: &str,
        kind: DigestKind,
        platform: Option<String>,
        repositories: &[String],
        tags: &[String],
        prov: Prov,
    ) {
        let Some(digest) = self.digest(doc, at, raw) else {
            return;
        };
        if let Some(i) = self.malicious.iter().position(|g| g.digest == digest) {
            // The same digest listed again (MISP: once per repository): keep where else it was seen.
            let repositories = self.repositories(doc, at, repositories);
            let tags = self.tags(doc, at, tags);
            if let Some(g) = self.malicious.get_mut(i) {
                for r in repositories {
                    if !g.repositories.contains(&r) {
                        g.repositories.push(r);
                    }
                }
                for t in tags {
                    if !g.tags.contains(&t) {
                        g.tags.push(t);
                    }
                }
            }
            return;
        }
        if let Some(i) = self.known_good.iter().position(|g| g.digest == digest) {
            self.known_good.remove(i);
            self.unmapped(
                doc,
                at,
                format!(
                    "{digest} is listed as affected and as not affected: kept as malicious only"
                ),
            );
        }
        self.drop_not_indicator(doc, at, IMAGE_DIGEST, &digest);
        let platform = platform.filter(|p| syntax::is_platform(p));
        let repositories = self.repositories(doc, at, repositories);
        let tags = self.tags(doc, at, tags);
        self.malicious.push(DigestGroup {
            repositories,
            tags,
            digest,
            kind,
            platform: if kind == DigestKind::Manifest {
                platform
            } else {
                None
            },
            prov,
        });
    }

    /// A digest believed good; ignored (and reported) when it is also listed as malicious.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn known_good_digest(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        raw: &str,
        platform: Option<String>,
        repositories: &[String],
        tags: &[String],
        confirmed: bool,
        prov: Prov,
    ) {
        let Some(digest) = self.digest(doc, at, raw) else {
            return;
        };
        if self.malicious.iter().any(|g| g.digest == digest) {
            self.unmapped(
                doc,
                at,
                format!(
                    "{digest} is listed as affected and as not affected: kept as malicious only"
                ),
            );
            return;
        }
        if self.known_good.iter().any(|g| g.digest == digest) {
            return;
        }
        // Known good says more than "not an indicator".
        self.not_indicators
            .retain(|n| !(n.kind == IMAGE_DIGEST && n.value == digest));
        let repositories = self.repositories(doc, at, repositories);
        let tags = self.tags(doc, at, tags);
        self.known_good.push(GoodGroup {
            repositories,
            tags,
            digest,
            platform: platform.filter(|p| syntax::is_platform(p)),
            confirmed,
            prov,
        });
    }

    /// Tags that served malicious content in a window (the window may be open).
    pub(crate) fn exposure(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        repositories: &[String],
        tags: &[String],
        window: DraftWindow,
        prov: Prov,
    ) {
        self.exposure_with(doc, at, repositories, tags, window.into(), None, prov);
    }

    /// [`Draft::exposure`] with the window's own provenance and a disputed (wider) window.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn exposure_with(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        repositories: &[String],
        tags: &[String],
        window: SourcedWindow,
        disputed_window: Option<SourcedWindow>,
        prov: Prov,
    ) {
        let repositories = self.repositories(doc, at, repositories);
        let tags = self.tags(doc, at, tags);
        if repositories.is_empty() || tags.is_empty() {
            self.unmapped(doc, at, "image exposure without a valid repository and tag");
            return;
        }
        if !window_is_ordered(&window.window) {
            self.unmapped(
                doc,
                at,
                "image exposure whose window ends before it starts: not imported",
            );
            return;
        }
        // A disputed window the loader would refuse (empty or reversed) is dropped, and said so.
        let disputed_window = disputed_window.filter(|d| {
            let ok = !d.window.is_empty() && window_is_ordered(&d.window);
            if !ok {
                self.unmapped(doc, at, "disputed window without a valid start and end");
            }
            ok
        });
        for repository in &repositories {
            for tag in &tags {
                self.exposed_tag(ExposedTag {
                    repository: repository.clone(),
                    tag: tag.clone(),
                    window: window.clone(),
                    disputed_window: disputed_window.clone(),
                    prov: prov.clone(),
                });
            }
        }
    }

    /// Adds one exposed tag. The same tag in an overlapping window is the same fact: the
    /// windows are joined (the tag served malicious content throughout both) and the sources
    /// cited together, so no tag is ever exposed twice at once.
    fn exposed_tag(&mut self, mut new: ExposedTag) {
        // Joining may make the window reach another entry of the tag: repeat until none.
        while let Some(i) = self.exposures.iter().position(|e| {
            e.repository == new.repository
                && e.tag == new.tag
                && overlaps(&e.window.window, &new.window.window)
        }) {
            let old = self.exposures.remove(i);
            new.window = SourcedWindow {
                window: join(&old.window.window, &new.window.window),
                prov: old.window.prov.or(new.window.prov),
            };
            new.disputed_window = match (old.disputed_window, new.disputed_window) {
                (Some(a), Some(b)) => Some(SourcedWindow {
                    window: join(&a.window, &b.window),
                    prov: a.prov,
                }),
                (a, b) => a.or(b),
            };
            new.prov = Prov {
                sources: merge(&old.prov.sources, &new.prov.sources),
                ..old.prov
            };
        }
        self.exposures.push(new);
    }

    // --- values judged by what the document says they are (see `polarity`) -------------------

    /// An image digest: malicious, known good (benign; `confirmed` when the vendor says so) or
    /// kept out of matching.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn judged_digest(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        raw: &str,
        polarity: &Polarity,
        kind: DigestKind,
        platform: Option<String>,
        repositories: &[String],
        tags: &[String],
        confirmed: bool,
        prov: Prov,
    ) {
        match polarity {
            Polarity::Malicious => {
                self.malicious_digest(doc, at, raw, kind, platform, repositories, tags, prov);
            }
            Polarity::Benign(why) => {
                let platform = platform.filter(|_| kind == DigestKind::Manifest);
                let prov = prov.with_note(format!("{why}."));
                self.known_good_digest(doc, at, raw, platform, repositories, tags, confirmed, prov);
            }
            Polarity::Context(why) | Polarity::NotIndicator(why) => {
                let mut why = why.clone();
                let named: Vec<String> = repositories
                    .iter()
                    .flat_map(|r| {
                        if tags.is_empty() {
                            vec![r.clone()]
                        } else {
                            tags.iter().map(|t| format!("{r}:{t}")).collect()
                        }
                    })
                    .take(5)
                    .collect();
                if !named.is_empty() {
                    why = format!("{why} (image {})", named.join(", "));
                }
                self.not_indicator(doc, at, IMAGE_DIGEST, raw, &why, prov);
            }
        }
    }

    /// A file hash: imported when malicious, else kept out of matching by its SHA-256.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn judged_file_hash(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        polarity: &Polarity,
        sha256: &str,
        sha1: Option<&str>,
        md5: Option<&str>,
        description: &str,
        prov: Prov,
    ) {
        match polarity.reason() {
            None => self.file_hash(doc, at, sha256, sha1, md5, description, prov),
            Some(why) => {
                let why = format!("{why} ({})", clip(&one_line(description)));
                let sha256 = sha256.strip_prefix("sha256:").unwrap_or(sha256);
                self.not_indicator(doc, at, FILE_SHA256, sha256, &why, prov);
            }
        }
    }

    /// A network indicator: malicious (weak as the caller says), weak when only context, else
    /// kept out of matching.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn judged_network(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        polarity: &Polarity,
        kind: NetworkKind,
        raw: &str,
        weak: bool,
        prov: Prov,
    ) {
        match polarity {
            Polarity::Malicious => self.network(doc, at, kind, raw, weak, prov),
            Polarity::Context(why) => {
                let prov = prov.with_note(format!("{why}: weak, never a hit on its own."));
                self.network(doc, at, kind, raw, true, prov);
            }
            Polarity::Benign(why) | Polarity::NotIndicator(why) => {
                self.not_indicator(doc, at, kind.as_str(), raw, why, prov);
            }
        }
    }

    /// A value kept out of matching, listed under `[[not_indicators]]` and printed. A value
    /// already imported as malicious stays malicious (said so); one already known good stays
    /// known good.
    pub(crate) fn not_indicator(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        kind: &str,
        raw: &str,
        reason: &str,
        prov: Prov,
    ) {
        let value = match kind {
            IMAGE_DIGEST => match self.digest(doc, at, raw) {
                Some(d) => d,
                None => return,
            },
            FILE_SHA256 | COMMIT => {
                let (len, what) = if kind == COMMIT {
                    (40, "a full commit SHA")
                } else {
                    (64, "a SHA-256")
                };
                let v = raw.trim().to_ascii_lowercase();
                if v.len() != len || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    self.unmapped(doc, at, format!("{:?} is not {what}", clip(raw)));
                    return;
                }
                v
            }
            k => match NetworkKind::from_name(k) {
                Some(net) => match normalize_network_indicator(net, raw) {
                    Ok(v) => v,
                    Err(m) => {
                        self.unmapped(doc, at, format!("{k} {}: {m}", clip(raw)));
                        return;
                    }
                },
                None => clip(&one_line(raw)),
            },
        };
        if value.is_empty() || !syntax::is_identifier(kind) {
            return;
        }
        let reason = clip(&one_line(reason));
        let malicious = match kind {
            IMAGE_DIGEST => self.malicious.iter().any(|g| g.digest == value),
            FILE_SHA256 => self.file_hashes.iter().any(|f| f.sha256 == value),
            k => NetworkKind::from_name(k).is_some_and(|net| {
                self.network
                    .iter()
                    .any(|n| n.kind == net && n.value == value)
            }),
        };
        if malicious {
            self.unmapped(
                doc,
                at,
                format!("{kind} {value} is listed as malicious and as not an indicator ({reason}): kept as malicious only"),
            );
            return;
        }
        let known_good = kind == IMAGE_DIGEST && self.known_good.iter().any(|g| g.digest == value);
        if known_good
            || self
                .not_indicators
                .iter()
                .any(|n| n.kind == kind && n.value == value)
        {
            return;
        }
        self.notice(doc, at.at, format!("{kind} {value}: {reason}"), true);
        self.not_indicators.push(NotIndicator {
            kind: kind.to_string(),
            value,
            reason,
            prov,
        });
    }

    /// Removes a value from the not-indicators because a statement says it is malicious, and
    /// says so.
    fn drop_not_indicator(&mut self, doc: &Doc<'_>, at: &Node, kind: &str, value: &str) {
        let before = self.not_indicators.len();
        self.not_indicators
            .retain(|n| !(n.kind == kind && n.value == value));
        if self.not_indicators.len() < before {
            self.unmapped(
                doc,
                at,
                format!("{kind} {value} is listed as not an indicator and as malicious: kept as malicious only"),
            );
        }
    }

    /// A file or directory left on hosts.
    pub(crate) fn host_artifact(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        path: &str,
        description: &str,
        prov: Prov,
    ) {
        let path = path.trim();
        if path.is_empty() || path.len() > 4096 || path.chars().any(char::is_control) {
            self.unmapped(
                doc,
                at,
                format!("invalid host artifact path {:?}", clip(path)),
            );
            return;
        }
        if self.host_artifacts.iter().any(|h| h.path == path) {
            return;
        }
        let description = clip(&one_line(description));
        self.host_artifacts.push(HostArtifact {
            path: path.to_string(),
            description: if description.is_empty() {
                "Host artifact".to_string()
            } else {
                description
            },
            prov,
        });
    }

    /// Adds to the action `repository` (created on first use): tags, rules and commits.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn action(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        repository: &str,
        tags: &[String],
        rules: Vec<Rule>,
        window: impl Into<SourcedWindow>,
        malicious: &[(String, Prov)],
        known_good: &[(String, Prov)],
        prov: Prov,
    ) {
        if !syntax::is_action_repository(repository) {
            self.unmapped(
                doc,
                at,
                format!(
                    "{:?} is not a GitHub Action repository (owner/repo)",
                    clip(repository)
                ),
            );
            return;
        }
        let mut window: SourcedWindow = window.into();
        if !window_is_ordered(&window.window) {
            self.unmapped(
                doc,
                at,
                format!("action {repository}: a window that ends before it starts is left out (any time counts)"),
            );
            window = SourcedWindow::default();
        }
        let tags = self.tags(doc, at, tags);
        let mut seen: Vec<String> = self
            .actions
            .iter()
            .filter(|a| a.repository.eq_ignore_ascii_case(repository))
            .flat_map(|a| a.malicious.iter().chain(&a.known_good))
            .flat_map(|g| g.shas.clone())
            .collect();
        let mut commits = |list: &[(String, Prov)], draft: &mut Draft| -> Vec<CommitGroup> {
            let mut out = Vec::new();
            for (sha, p) in list {
                let sha = sha.trim().to_ascii_lowercase();
                if sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                    draft.unmapped(
                        doc,
                        at,
                        format!("{:?} is not a full commit SHA", clip(&sha)),
                    );
                    continue;
                }
                if seen.contains(&sha) {
                    continue;
                }
                seen.push(sha.clone());
                out.push(CommitGroup {
                    shas: vec![sha],
                    tags: Vec::new(),
                    prov: p.clone(),
                });
            }
            out
        };
        let malicious = commits(malicious, self);
        let known_good = commits(known_good, self);
        let affects = !(tags.is_empty() && rules.is_empty() && malicious.is_empty());
        if !affects && known_good.is_empty() {
            self.unmapped(
                doc,
                at,
                format!("action {repository}: no affected tag, version rule or malicious commit"),
            );
            return;
        }
        if let Some(a) = self
            .actions
            .iter_mut()
            .find(|a| a.repository.eq_ignore_ascii_case(repository))
        {
            for t in tags {
                if !a.tags.contains(&t) {
                    a.tags.push(t);
                }
            }
            for r in rules {
                if !a.rules.contains(&r) {
                    a.rules.push(r);
                }
            }
            a.malicious.extend(malicious);
            a.known_good.extend(known_good);
            if a.window.window.is_empty() {
                a.window = window;
            }
            return;
        }
        if !affects {
            self.unmapped(
                doc,
                at,
                format!("action {repository}: known-good commits only, and no affected tag or malicious commit"),
            );
            return;
        }
        self.actions.push(Action {
            repository: repository.to_string(),
            tags,
            rules,
            window,
            malicious,
            known_good,
            prov,
        });
    }

    /// Records the tags that pointed at an already imported commit of `repository`.
    pub(crate) fn commit_tags(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        repository: &str,
        sha: &str,
        tags: &[String],
    ) {
        let tags = self.tags(doc, at, tags);
        let sha = sha.trim().to_ascii_lowercase();
        let group = self
            .actions
            .iter_mut()
            .filter(|a| a.repository.eq_ignore_ascii_case(repository))
            .flat_map(|a| a.malicious.iter_mut().chain(a.known_good.iter_mut()))
            .find(|g| g.shas.contains(&sha));
        if let Some(g) = group {
            for t in tags {
                if !g.tags.contains(&t) {
                    g.tags.push(t);
                }
            }
        }
    }

    /// A malicious file's hashes; `sha1`/`md5` are kept only beside a SHA-256.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn file_hash(
        &mut self,
        doc: &Doc<'_>,
        at: &Node,
        sha256: &str,
        sha1: Option<&str>,
        md5: Option<&str>,
        description: &str,
        prov: Prov,
    ) {
        let hex = |s: &str, len: usize| {
            let s = s.trim().to_ascii_lowercase();
            (s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())).then_some(s)
        };
        let Some(sha256) = hex(sha256.strip_prefix("sha256:").unwrap_or(sha256), 64) else {
            self.unmapped(doc, at, format!("{:?} is not a SHA-256", clip(sha256)));
            return;
        };
        if self.file_hashes.iter().any(|f| f.sha256 == sha256) {
            return;
        }
        self.drop_not_indicator(doc, at, FILE_SHA256, &sha256);
        let description = clip(&one_line(description));
        self.file_hashes.push(FileHash {
            sha256,
            sha1: sha1.and_then(|s| hex(s, 40)),
            md5: md5.and_then(|s| hex(s, 32)),
            description: if description.is_empty() {
                "Malicious file".to_string()
            } else {
                description
            },
            prov,
        });
    }

    /// An indicator kept for humans.
    pub(crate) fn other(&mut self, kind: &str, value: &str, description: &str, prov: Prov) {
        let (value, description) = (clip(value.trim()), clip(&one_line(description)));
        if value.is_empty() || !syntax::is_identifier(kind) {
            return;
        }
        self.other.push(Other {
            kind: kind.to_string(),
            value,
            description: if description.is_empty() {
                kind.to_string()
            } else {
                description
            },
            prov,
        });
    }

    fn digest(&mut self, doc: &Doc<'_>, at: &Node, raw: &str) -> Option<String> {
        let raw = raw.trim().to_ascii_lowercase();
        // Feeds often give the bare hex of a SHA-256 digest.
        let text = if raw.len() == 64 && !raw.contains(':') {
            format!("sha256:{raw}")
        } else {
            raw
        };
        match Digest::parse(&text) {
            Ok(d) => Some(d.to_string()),
            Err(e) => {
                self.unmapped(
                    doc,
                    at,
                    format!("invalid digest {:?}: {}", clip(&text), e.kind()),
                );
                None
            }
        }
    }

    fn repositories(&mut self, doc: &Doc<'_>, at: &Node, list: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in list {
            match normalize_repository(r.trim()) {
                Ok(n) if !out.contains(&n) => out.push(n),
                Ok(_) => {}
                Err(e) => self.unmapped(
                    doc,
                    at,
                    format!("invalid repository {:?}: {}", clip(r), e.kind()),
                ),
            }
        }
        out
    }

    fn tags(&mut self, doc: &Doc<'_>, at: &Node, list: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in list {
            let t = t.trim();
            if !syntax::is_tag(t) {
                self.unmapped(doc, at, format!("invalid tag {:?}", clip(t)));
            } else if !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
        out
    }

    // --- TOML ----------------------------------------------------------------------------------

    /// The advisory file. `id` and `today` come from the caller.
    pub(crate) fn to_toml(&self, id: &str, today: Date) -> String {
        let mut out = String::new();
        let w = &mut out;
        let files: Vec<&str> = self.documents.iter().map(|d| d.1.as_str()).collect();
        let _ = writeln!(
            w,
            "# Imported by tagwarden from {} on {today}. Format: crates/tagwarden-advisory/FORMAT.md.",
            one_line(&files.join(", "))
        );
        let _ = writeln!(w, "schema_version = 1");
        let _ = writeln!(w, "id = {}", quote(id));
        let title = self
            .titles
            .first()
            .cloned()
            .unwrap_or_else(|| "Imported advisory".to_string());
        let _ = writeln!(w, "title = {}", quote(&clip(&one_line(&title))));
        let summary = if self.summaries.is_empty() {
            title.clone()
        } else {
            self.summaries.join("\n\n")
        };
        let _ = writeln!(w, "summary = {}", quote(&summary));
        if !self.aliases.is_empty() {
            let _ = writeln!(w, "aliases = {}", list(&self.aliases));
        }
        let published = self.published.unwrap_or(today);
        let updated = self.updated.unwrap_or(published).max(published);
        let _ = writeln!(w, "published = \"{published}\"\nupdated = \"{updated}\"");

        // One [imported] table: the first document; the others are named in the sources.
        if let Some((format, file, document_id, author)) = self.documents.first() {
            let _ = writeln!(w, "\n[imported]\nformat = \"{}\"", format.as_str());
            let _ = writeln!(w, "file = {}", quote(&one_line(file)));
            if let Some(d) = document_id {
                let _ = writeln!(w, "document_id = {}", quote(&clip(&one_line(d))));
            }
            if let Some(a) = author {
                let _ = writeln!(w, "author = {}", quote(&clip(&one_line(a))));
            }
            let _ = writeln!(w, "imported = \"{today}\"");
        }

        for s in &self.sources {
            let _ = writeln!(w, "\n[[sources]]\nid = {}", quote(&s.id));
            if let Some(u) = &s.url {
                let _ = writeln!(w, "url = {}", quote(u));
            }
            let _ = writeln!(w, "title = {}", quote(&s.title));
        }
        for (e, repositories, tags) in self.exposure_records() {
            let _ = writeln!(w, "\n[[image_exposures]]");
            let _ = writeln!(
                w,
                "repositories = {}\ntags = {}",
                list(&repositories),
                list(&tags)
            );
            prov(w, &e.prov);
            window(w, "image_exposures.window", &e.window);
            if let Some(d) = &e.disputed_window {
                window(w, "image_exposures.disputed_window", d);
            }
        }
        for g in &self.malicious {
            let _ = writeln!(w, "\n[[malicious_images]]");
            let _ = writeln!(w, "repositories = {}", list(&g.repositories));
            if !g.tags.is_empty() {
                let _ = writeln!(w, "tags = {}", list(&g.tags));
            }
            prov(w, &g.prov);
            let platform = g
                .platform
                .as_ref()
                .map(|p| format!(", platform = {}", quote(p)))
                .unwrap_or_default();
            let _ = writeln!(
                w,
                "digests = [{{ digest = {}, kind = \"{}\"{platform} }}]",
                quote(&g.digest),
                g.kind.as_str()
            );
        }
        for g in &self.known_good {
            let _ = writeln!(w, "\n[[known_good_images]]");
            let _ = writeln!(w, "repositories = {}", list(&g.repositories));
            if !g.tags.is_empty() {
                let _ = writeln!(w, "tags = {}", list(&g.tags));
            }
            let _ = writeln!(w, "confirmed = {}", g.confirmed);
            prov(w, &g.prov);
            let platform = g
                .platform
                .as_ref()
                .map(|p| format!(", platform = {}", quote(p)))
                .unwrap_or_default();
            let _ = writeln!(
                w,
                "digests = [{{ digest = {}{platform} }}]",
                quote(&g.digest)
            );
        }
        for a in &self.actions {
            let _ = writeln!(w, "\n[[actions]]\nrepository = {}", quote(&a.repository));
            if !a.tags.is_empty() {
                let _ = writeln!(w, "tags = {}", list(&a.tags));
            }
            if !a.rules.is_empty() {
                let rules: Vec<String> = a
                    .rules
                    .iter()
                    .map(|r| {
                        format!(
                            "{{ prefix = {}, {} = {} }}",
                            quote(&r.prefix),
                            if r.up_to { "up_to" } else { "below" },
                            quote(&r.version)
                        )
                    })
                    .collect();
                let _ = writeln!(w, "tag_rules = [{}]", rules.join(", "));
            }
            prov(w, &a.prov);
            window(w, "actions.window", &a.window);
            for (table, groups) in [
                ("actions.malicious_commits", &a.malicious),
                ("actions.known_good_commits", &a.known_good),
            ] {
                for g in groups {
                    let _ = writeln!(w, "\n[[{table}]]\nshas = {}", list(&g.shas));
                    if !g.tags.is_empty() {
                        let _ = writeln!(w, "tags = {}", list(&g.tags));
                    }
                    prov(w, &g.prov);
                }
            }
        }
        for n in &self.network {
            let _ = writeln!(
                w,
                "\n[[network_indicators]]\nkind = \"{}\"\nvalue = {}",
                n.kind.as_str(),
                quote(&n.value)
            );
            if n.weak {
                let _ = writeln!(w, "weak = true");
            }
            prov(w, &n.prov);
        }
        for f in &self.file_hashes {
            let _ = writeln!(w, "\n[[file_hashes]]\nsha256 = {}", quote(&f.sha256));
            if let Some(s) = &f.sha1 {
                let _ = writeln!(w, "sha1 = {}", quote(s));
            }
            if let Some(m) = &f.md5 {
                let _ = writeln!(w, "md5 = {}", quote(m));
            }
            let _ = writeln!(w, "description = {}", quote(&f.description));
            prov(w, &f.prov);
        }
        for h in &self.host_artifacts {
            let _ = writeln!(
                w,
                "\n[[host_artifacts]]\npath = {}\ndescription = {}",
                quote(&h.path),
                quote(&h.description)
            );
            prov(w, &h.prov);
        }
        for o in &self.other {
            let _ = writeln!(
                w,
                "\n[[other_indicators]]\nkind = {}\nvalue = {}\ndescription = {}",
                quote(&o.kind),
                quote(&o.value),
                quote(&o.description)
            );
            prov(w, &o.prov);
        }
        for n in &self.not_indicators {
            let _ = writeln!(
                w,
                "\n[[not_indicators]]\nkind = {}\nvalue = {}\nreason = {}",
                quote(&n.kind),
                quote(&n.value),
                quote(&n.reason)
            );
            prov(w, &n.prov);
        }
        let left_out: Vec<&Unmapped> = self.unmapped.iter().filter(|u| !u.kept_out).collect();
        if !left_out.is_empty() {
            let _ = writeln!(w, "\n# Not imported:");
            for u in left_out {
                let _ = writeln!(w, "# {u}");
            }
        }
        out
    }

    /// The exposed tags grouped back into records: tags of one repository that share windows
    /// and provenance make one record, and repositories with the same tags share it.
    fn exposure_records(&self) -> Vec<(&ExposedTag, Vec<String>, Vec<String>)> {
        let key = |e: &ExposedTag| format!("{:?}|{:?}|{:?}", e.window, e.disputed_window, e.prov);
        let mut groups: Vec<Group<'_>> = Vec::new();
        for e in &self.exposures {
            let k = key(e);
            let i = match groups.iter().position(|g| g.key == k) {
                Some(i) => i,
                None => {
                    groups.push(Group {
                        first: e,
                        key: k,
                        tags_by_repository: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            let Some(group) = groups.get_mut(i) else {
                continue;
            };
            match group
                .tags_by_repository
                .iter_mut()
                .find(|(r, _)| *r == e.repository)
            {
                Some((_, tags)) => tags.push(e.tag.clone()),
                None => group
                    .tags_by_repository
                    .push((e.repository.clone(), vec![e.tag.clone()])),
            }
        }
        let mut out: Vec<(&ExposedTag, Vec<String>, Vec<String>)> = Vec::new();
        for group in groups {
            let start = out.len();
            for (repository, tags) in group.tags_by_repository {
                let same_tags = out
                    .get_mut(start..)
                    .and_then(|rest| rest.iter_mut().find(|(_, _, t)| *t == tags));
                match same_tags {
                    Some((_, repositories, _)) => repositories.push(repository),
                    None => out.push((group.first, vec![repository], tags)),
                }
            }
        }
        out
    }
}

/// Exposed tags that share windows and provenance, by repository in first-seen order.
struct Group<'a> {
    first: &'a ExposedTag,
    key: String,
    tags_by_repository: Vec<(String, Vec<String>)>,
}

/// Kinds of `[[not_indicators]]` the importers write (FORMAT.md lists them all).
const IMAGE_DIGEST: &str = "image_digest";
const FILE_SHA256: &str = "file_sha256";
const COMMIT: &str = "commit";

/// True when two windows share a moment; an open end reaches as far as it can.
fn overlaps(a: &DraftWindow, b: &DraftWindow) -> bool {
    let before = |s: Option<Timestamp>, e: Option<Timestamp>| match (s, e) {
        (Some(s), Some(e)) => s <= e,
        _ => true,
    };
    before(a.start, b.end) && before(b.start, a.end)
}

/// The smallest window holding both; an open end stays open.
fn join(a: &DraftWindow, b: &DraftWindow) -> DraftWindow {
    if a.is_empty() || b.is_empty() {
        return DraftWindow::default();
    }
    DraftWindow {
        start: a.start.zip(b.start).map(|(x, y)| x.min(y)),
        end: a.end.zip(b.end).map(|(x, y)| x.max(y)),
    }
}

/// `a` followed by what `b` adds.
fn merge(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for s in b {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

fn prov(w: &mut String, p: &Prov) {
    let _ = writeln!(w, "sources = {}", list(&p.sources));
    let _ = writeln!(w, "confidence = \"{}\"", p.confidence.as_str());
    if p.disputed {
        let _ = writeln!(w, "disputed = true");
    }
    if let Some(n) = &p.note {
        let _ = writeln!(w, "note = {}", quote(&clip(n)));
    }
}

fn window(w: &mut String, table: &str, sourced: &SourcedWindow) {
    let win = &sourced.window;
    if win.is_empty() {
        return;
    }
    let _ = writeln!(w, "\n[{table}]");
    if let Some(s) = win.start {
        let _ = writeln!(w, "start = \"{}\"", utc(s));
    }
    if let Some(e) = win.end {
        let _ = writeln!(w, "end = \"{}\"", utc(e));
    }
    // A window table cannot say `disputed`: it inherits the record's.
    if let Some(p) = &sourced.prov {
        let _ = writeln!(w, "sources = {}", list(&p.sources));
        let _ = writeln!(w, "confidence = \"{}\"", p.confidence.as_str());
        if let Some(n) = &p.note {
            let _ = writeln!(w, "note = {}", quote(&clip(n)));
        }
    }
}

/// True unless both ends are known and the end is not after the start (the loader refuses it).
fn window_is_ordered(w: &DraftWindow) -> bool {
    match (w.start, w.end) {
        (Some(s), Some(e)) => e > s,
        _ => true,
    }
}

/// RFC 3339 in UTC with a trailing `Z`, whole seconds (as the advisory format writes them).
fn utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A TOML basic string.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// Text on one line, runs of white space and control characters made one space.
pub(crate) fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// At most [`MAX_TEXT`] characters, cut with `…`.
pub(crate) fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_TEXT) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
        None => s.to_string(),
    }
}

/// A valid advisory identifier made from free text (`bundle--5d0b…` → `bundle--5d0b…`), or
/// `None` when nothing usable is left.
pub(crate) fn identifier(s: &str) -> Option<String> {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let cut: String = trimmed.chars().take(100).collect();
    let cut = cut.trim_end_matches('-').to_string();
    syntax::is_identifier(&cut).then_some(cut)
}

/// A timestamp as documents write them: RFC 3339 with any offset, or Unix seconds (MISP).
pub(crate) fn timestamp(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    // `2026-04-22 12:31:00` and friends: read as UTC.
    if let Ok(dt) = s.replace(' ', "T").parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    if !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<i64>()
            .ok()
            .and_then(|n| Timestamp::from_second(n).ok());
    }
    None
}

/// A date from a timestamp or a `YYYY-MM-DD` date.
pub(crate) fn date(s: &str) -> Option<Date> {
    if let Some(t) = timestamp(s) {
        return Some(t.to_zoned(jiff::tz::TimeZone::UTC).date());
    }
    let s = s.trim();
    if s.len() == 10 {
        return s.parse::<Date>().ok();
    }
    None
}

impl Draft {
    /// Starts a document: records it, declares its source, and returns the provenance its values
    /// cite. `document_id` also suggests the advisory id (the first document's).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn document<'a>(
        &mut self,
        src: super::Src<'a>,
        format: Format,
        document_id: Option<&str>,
        author: Option<&str>,
        url: Option<&str>,
        confidence: Confidence,
    ) -> Doc<'a> {
        let document_id = document_id.map(str::trim).filter(|d| !d.is_empty());
        let author = author.map(str::trim).filter(|a| !a.is_empty());
        let file_name = src.path.rsplit(['/', '\\']).next().unwrap_or(src.path);
        let mut title = format!("{} {}", format.describe(), document_id.unwrap_or(file_name));
        if let Some(a) = author {
            let _ = write!(title, " by {a}");
        }
        let _ = write!(title, " (imported from {file_name})");
        let source = self.source(format.as_str(), url, &title);
        if self.id_hint.is_none() {
            // `bundle--5d0b…` → `5d0b…`; `https://example.org/vex/x-1` → `x-1`.
            let short = document_id
                .map(|d| {
                    let d = d.trim_end_matches('/');
                    let d = d.rsplit('/').next().unwrap_or(d);
                    d.rsplit("--").next().unwrap_or(d)
                })
                .unwrap_or_else(|| file_name.rsplit_once('.').map_or(file_name, |(s, _)| s));
            let id = identifier(&format!("{}-{short}", format.as_str()));
            self.id_hint = id.or_else(|| Some(format.as_str().to_string()));
        }
        self.documents.push((
            format,
            src.path.to_string(),
            document_id.map(str::to_string),
            author.map(str::to_string),
        ));
        Doc {
            path: src.path,
            text: src.text,
            prov: Prov {
                sources: vec![source],
                confidence,
                disputed: false,
                note: None,
            },
        }
    }
}
