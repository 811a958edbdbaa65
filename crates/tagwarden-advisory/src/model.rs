//! The loaded, validated form of an advisory. Every value is already normalised.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use tagwarden_reference::Digest;

/// One advisory: an incident, what it touched, and how to recognise it.
#[derive(Clone, Debug, PartialEq)]
pub struct Advisory {
    /// The path the advisory was loaded from, as given to [`Advisory::from_toml`].
    pub path: String,
    /// Stable identifier, e.g. `kics-dockerhub-2026-04-22`.
    pub id: String,
    /// One line for humans.
    pub title: String,
    /// A paragraph: what happened and what to do.
    pub summary: String,
    /// Other identifiers of the same incident (GHSA, CVE, GO vuln ids).
    pub aliases: Vec<String>,
    /// When this advisory was first published (not the incident date: see the windows).
    pub published: Date,
    /// When this advisory last changed; never before `published`.
    pub updated: Date,
    /// The sources the values cite, by id.
    pub sources: Vec<Source>,
    /// Repositories and tags that served malicious content during a window.
    pub image_exposures: Vec<ImageExposure>,
    /// Malicious digests (index, platform manifest or signature artifact), one entry per digest.
    pub malicious_digests: Vec<MaliciousDigest>,
    /// Digests believed to be safe, one entry per digest.
    pub known_good_digests: Vec<KnownGoodDigest>,
    /// GitHub Actions whose tags were moved to malicious commits.
    pub actions: Vec<ActionAdvisory>,
    pub network_indicators: Vec<NetworkIndicator>,
    pub file_hashes: Vec<FileHash>,
    /// Files or directories left on hosts (self-hosted runners, workstations).
    pub host_artifacts: Vec<HostArtifact>,
    /// Indicators of other kinds (exfiltration repository names, strings), for humans.
    pub other_indicators: Vec<OtherIndicator>,
    /// Values a source names but says are not evidence of compromise (a MISP attribute with
    /// `to_ids: false`, a benign STIX indicator that is not an image digest…): shown, never
    /// matched.
    pub not_indicators: Vec<NotIndicator>,
    /// References the advisory must and must not match (checked by [`crate::self_test`]).
    pub examples: Examples,
    /// Set when the file was converted from a shared format (its `[imported]` table).
    pub imported: Option<ImportInfo>,
    /// Where the `id` value sits in the file, for duplicate-id errors.
    pub(crate) id_position: (usize, usize),
    /// Line and column of each example reference (and whether it must match), for self-test
    /// failures.
    pub(crate) example_positions: Vec<(String, bool, (usize, usize))>,
}

/// Where an imported advisory came from: the `[imported]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportInfo {
    /// The shared format it was converted from: `stix`, `misp`, `osv`, `openvex`, `csaf`.
    pub format: String,
    /// The file it was converted from, as given to the importer.
    pub file: String,
    /// The document's own identifier (bundle id, event uuid, OSV id, VEX `@id`…).
    pub document_id: Option<String>,
    /// Who wrote the document, as it says.
    pub author: Option<String>,
    /// When the conversion was made.
    pub imported: Date,
}

/// A cited source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub id: String,
    /// Absent only for sources with no public address; `title` then says what they are.
    pub url: Option<String>,
    pub title: Option<String>,
}

/// How a value is known, as defined in the incident notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
pub enum Confidence {
    /// `P`: read in the primary source.
    #[serde(rename = "P")]
    Primary,
    /// `P2`: primary source read through a verbatim copy.
    #[serde(rename = "P2")]
    PrimaryCopy,
    /// `S`: secondary source (IOC repositories, vendor blogs quoting the advisory).
    #[serde(rename = "S")]
    Secondary,
    /// `C`: sources conflict.
    #[serde(rename = "C")]
    Conflicting,
    /// `I`: inference, stated by no source.
    #[serde(rename = "I")]
    Inferred,
}

impl Confidence {
    /// The short tag used in advisory files: `P`, `P2`, `S`, `C`, `I`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "P",
            Self::PrimaryCopy => "P2",
            Self::Secondary => "S",
            Self::Conflicting => "C",
            Self::Inferred => "I",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a value is believed: which sources say it, how directly, and whether they disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provenance {
    /// Source ids, each one of [`Advisory::sources`].
    pub sources: Vec<String>,
    pub confidence: Confidence,
    /// Sources disagree about this value: report it, but say so.
    pub disputed: bool,
    pub note: Option<String>,
}

/// A value together with its provenance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub provenance: Provenance,
}

/// A closed time interval, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Window {
    /// The window of a value whose source gives no time: from 1970 to the end of year 9999, so
    /// every pull counts. Only imported advisories have it (see FORMAT.md).
    pub const OPEN: Window = Window {
        start: Timestamp::UNIX_EPOCH,
        end: Timestamp::constant(253_402_128_000, 0),
    };

    /// The window in words, for messages: `between A and B`, `since A`, `until B`, or `at any
    /// time` when both ends are open (an imported value whose source gave no time).
    pub fn describe(&self) -> String {
        match (
            self.start == Window::OPEN.start,
            self.end == Window::OPEN.end,
        ) {
            (false, false) => format!("between {} and {}", self.start, self.end),
            (false, true) => format!("since {}", self.start),
            (true, false) => format!("until {}", self.end),
            (true, true) => "at any time".to_string(),
        }
    }

    /// True when the window is open at both ends: every time counts.
    pub fn is_unbounded(&self) -> bool {
        *self == Window::OPEN
    }

    /// True when `t` falls inside the window, both ends included.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t <= self.end
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An open end reads as "…" rather than as a made-up date.
        let end = |t: Timestamp, open: Timestamp| {
            if t == open {
                "…".to_string()
            } else {
                t.to_string()
            }
        };
        write!(
            f,
            "{} – {}",
            end(self.start, Window::OPEN.start),
            end(self.end, Window::OPEN.end)
        )
    }
}

/// Tags of some repositories that pointed at malicious content during a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageExposure {
    /// Normalised repositories (`docker.io/checkmarx/kics`).
    pub repositories: Vec<String>,
    pub tags: Vec<String>,
    pub window: Sourced<Window>,
    /// A wider window some sources claim; tag-only evidence inside it is reported as disputed.
    pub disputed_window: Option<Sourced<Window>>,
    pub provenance: Provenance,
}

/// What a digest names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestKind {
    /// A multi-platform image index (what `docker pull` prints as `Digest:`).
    Index,
    /// A single-platform image manifest.
    Manifest,
    /// A signature artifact (e.g. cosign `.sig`).
    Signature,
}

impl DigestKind {
    /// `index`, `manifest` or `signature`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Index => "index",
            Self::Manifest => "manifest",
            Self::Signature => "signature",
        }
    }
}

impl fmt::Display for DigestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A digest of malicious content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaliciousDigest {
    pub digest: Digest,
    pub kind: DigestKind,
    /// `os/arch[/variant]` for platform manifests.
    pub platform: Option<String>,
    /// Repositories the digest was published in (normalised); matching does not depend on them.
    pub repositories: Vec<String>,
    /// Tags it was pushed as.
    pub tags: Vec<String>,
    pub provenance: Provenance,
}

/// A digest believed to be safe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownGoodDigest {
    pub digest: Digest,
    /// Unknown when no source says whether it is an index or a platform manifest.
    pub kind: Option<DigestKind>,
    pub platform: Option<String>,
    pub repositories: Vec<String>,
    pub tags: Vec<String>,
    /// The vendor confirmed it; false when only third parties vouch for it.
    pub confirmed: bool,
    pub provenance: Provenance,
}

/// A GitHub Action whose tags were moved to malicious commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionAdvisory {
    /// `owner/repo` as written in the file; matched case-insensitively.
    pub repository: String,
    /// Affected tags listed one by one.
    pub tags: Vec<String>,
    /// Affected tags described by a version rule.
    pub tag_rules: Vec<TagRule>,
    pub window: Sourced<Window>,
    pub malicious_commits: Vec<Commit>,
    pub known_good_commits: Vec<Commit>,
    pub provenance: Provenance,
}

impl ActionAdvisory {
    /// True when `tag` is listed or matched by a rule.
    pub fn tag_is_affected(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag) || self.tag_rules.iter().any(|r| r.matches(tag))
    }
}

/// A commit, lower-case 40-hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    pub sha: String,
    /// Tags that pointed at it, when the sources say.
    pub tags: Vec<String>,
    pub provenance: Provenance,
}

/// "Every version tag `<prefix>X[.Y[.Z]]` below (or up to) a version."
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagRule {
    /// The literal text before the version (`""` or `"v"`); a tag with another prefix never matches.
    pub prefix: String,
    pub bound: VersionBound,
}

/// The upper bound of a [`TagRule`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionBound {
    /// Versions strictly below.
    Below([u64; 3]),
    /// Versions up to and including.
    UpTo([u64; 3]),
}

impl TagRule {
    /// True when `tag` is the prefix followed by a 1–3 part numeric version within the bound.
    /// Missing parts count as zero, so `v2` is `2.0.0`.
    pub fn matches(&self, tag: &str) -> bool {
        let Some(rest) = tag.strip_prefix(self.prefix.as_str()) else {
            return false;
        };
        let Some(version) = parse_version(rest) else {
            return false;
        };
        match self.bound {
            VersionBound::Below(b) => version < b,
            VersionBound::UpTo(b) => version <= b,
        }
    }
}

/// Parses `X`, `X.Y` or `X.Y.Z` (digits only) into three parts, missing ones zero.
pub(crate) fn parse_version(s: &str) -> Option<[u64; 3]> {
    let mut parts = [0u64; 3];
    for (i, piece) in s.split('.').enumerate() {
        // Nine digits keep the value far from overflow; no real version part is longer.
        if piece.is_empty() || piece.len() > 9 || !piece.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *parts.get_mut(i)? = piece.parse().ok()?;
    }
    Some(parts)
}

/// The kinds of network indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkKind {
    Domain,
    Ip,
    Url,
    UserAgent,
    /// A whole header line, `Name: value`.
    HttpHeader,
}

impl NetworkKind {
    pub const ALL: [NetworkKind; 5] = [
        Self::Domain,
        Self::Ip,
        Self::Url,
        Self::UserAgent,
        Self::HttpHeader,
    ];

    /// The kind written `name` in advisory files (`domain`, `ip`, `url`, `user_agent`,
    /// `http_header`).
    pub fn from_name(name: &str) -> Option<NetworkKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Domain => "domain",
            Self::Ip => "ip",
            Self::Url => "url",
            Self::UserAgent => "user_agent",
            Self::HttpHeader => "http_header",
        }
    }
}

/// A network indicator, refanged and normalised (lower-case host names, `http`/`https` schemes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkIndicator {
    pub kind: NetworkKind,
    pub value: String,
    /// Never alert on this indicator alone (shared hosting, parking, unverified).
    pub weak: bool,
    pub provenance: Provenance,
}

/// Hashes of a malicious file, lower-case hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHash {
    pub sha256: String,
    pub sha1: Option<String>,
    pub md5: Option<String>,
    pub description: String,
    pub provenance: Provenance,
}

/// A path left on a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostArtifact {
    pub path: String,
    pub description: String,
    pub provenance: Provenance,
}

/// An indicator tagwarden does not match on, kept for humans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherIndicator {
    /// Free-form, e.g. `github_repository_name`.
    pub kind: String,
    pub value: String,
    pub description: String,
    pub provenance: Provenance,
}

/// A value kept out of matching because its source says it is not an indicator, or is unsure:
/// shown to humans, never matched, never exported as an indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotIndicator {
    /// What the value is: `image_digest`, `file_sha256`, `commit`, a network kind (`domain`,
    /// `ip`, `url`, `user_agent`, `http_header`) or another identifier.
    pub kind: String,
    /// Normalised for the kinds above (a digest, lower-case hex, a refanged host…).
    pub value: String,
    /// Why it is kept out, in the source's terms (`MISP to_ids is false`, `STIX indicator_types
    /// benign`…).
    pub reason: String,
    pub provenance: Provenance,
}

/// The verdict kind an example must produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedVerdict {
    MaliciousDigest,
    AffectedTag,
    KnownGood,
    MaliciousCommit,
}

impl ExpectedVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MaliciousDigest => "malicious_digest",
            Self::AffectedTag => "affected_tag",
            Self::KnownGood => "known_good",
            Self::MaliciousCommit => "malicious_commit",
        }
    }
}

/// A positive example: the reference and the verdict kind it must produce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    pub reference: String,
    pub verdict: ExpectedVerdict,
}

/// Self-test examples. Image examples are image references; action examples are `owner/repo@ref`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Examples {
    pub images_must_match: Vec<Example>,
    /// Must produce no malicious-digest or affected-tag verdict (known-good is allowed).
    pub images_must_not_match: Vec<String>,
    pub actions_must_match: Vec<Example>,
    /// Must produce no malicious-commit or affected-tag verdict (known-good is allowed).
    pub actions_must_not_match: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(prefix: &str, bound: VersionBound) -> TagRule {
        TagRule {
            prefix: prefix.to_string(),
            bound,
        }
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("0.24.0"), Some([0, 24, 0]));
        assert_eq!(parse_version("2"), Some([2, 0, 0]));
        assert_eq!(parse_version("2.1"), Some([2, 1, 0]));
        assert_eq!(parse_version("1.2.3.4"), None);
        assert_eq!(parse_version("v1"), None);
        assert_eq!(parse_version(""), None);
        assert_eq!(parse_version("1..2"), None);
        assert_eq!(parse_version("1.2.3-rc1"), None);
        assert_eq!(parse_version("9999999999"), None);
    }

    #[test]
    fn tag_rules() {
        let trivy = rule("", VersionBound::Below([0, 35, 0]));
        assert!(trivy.matches("0.24.0"));
        assert!(trivy.matches("0.34.2"));
        assert!(trivy.matches("0.0.1"));
        assert!(!trivy.matches("0.35.0"));
        assert!(!trivy.matches("v0.24.0"));
        assert!(!trivy.matches("master"));
        let setup = rule("v", VersionBound::Below([0, 2, 6]));
        assert!(setup.matches("v0.2.5"));
        assert!(!setup.matches("0.2.5"));
        assert!(!setup.matches("v0.2.6"));
        let kics = rule("v", VersionBound::UpTo([2, 1, 20]));
        assert!(kics.matches("v1"));
        assert!(kics.matches("v2"));
        assert!(kics.matches("v2.1.20"));
        assert!(!kics.matches("v2.1.21"));
    }
}
