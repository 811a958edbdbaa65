//! Loading an advisory file: TOML into raw spanned structs, then validation into [`Advisory`].
//! Every error carries the position of the value it is about.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use tagwarden_reference::{Digest, Reference, normalize_repository};
use tagwarden_text::line_column;
use toml::Spanned;

use crate::model::*;
use crate::{AdvisoryError, action_ref};
use crate::{indicator, syntax};

/// The only format version this crate reads.
const SCHEMA_VERSION: i64 = 1;

// ---------------------------------------------------------------------------------------------
// Raw shapes, exactly as written. `Spanned` wherever a later check may need to point at a value.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdvisory {
    schema_version: Spanned<i64>,
    id: Spanned<String>,
    title: Spanned<String>,
    summary: Spanned<String>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    published: Spanned<String>,
    updated: Spanned<String>,
    sources: Spanned<Vec<RawSource>>,
    #[serde(default)]
    image_exposures: Vec<RawExposure>,
    #[serde(default)]
    malicious_images: Vec<RawImageGroup>,
    #[serde(default)]
    known_good_images: Vec<RawKnownGoodGroup>,
    #[serde(default)]
    actions: Vec<RawAction>,
    #[serde(default)]
    network_indicators: Vec<RawNetwork>,
    #[serde(default)]
    file_hashes: Vec<RawFileHash>,
    #[serde(default)]
    host_artifacts: Vec<RawHostArtifact>,
    #[serde(default)]
    other_indicators: Vec<RawOther>,
    #[serde(default)]
    not_indicators: Vec<RawNotIndicator>,
    examples: Option<Spanned<RawExamples>>,
    imported: Option<RawImported>,
}

/// Where an imported advisory came from (see FORMAT.md, "Imported advisories").
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImported {
    format: Spanned<String>,
    file: Spanned<String>,
    document_id: Option<Spanned<String>>,
    author: Option<Spanned<String>>,
    imported: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: Spanned<String>,
    url: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    // Both required, except in imported files where an open end is allowed (see `window`).
    start: Option<Spanned<String>>,
    end: Option<Spanned<String>>,
    sources: Option<Vec<Spanned<String>>>,
    confidence: Option<Confidence>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExposure {
    repositories: Spanned<Vec<Spanned<String>>>,
    tags: Spanned<Vec<Spanned<String>>>,
    window: Option<Spanned<RawWindow>>,
    disputed_window: Option<Spanned<RawWindow>>,
    sources: Spanned<Vec<Spanned<String>>>,
    confidence: Confidence,
    #[serde(default)]
    disputed: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImageGroup {
    repositories: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    digests: Spanned<Vec<RawDigestItem>>,
    sources: Spanned<Vec<Spanned<String>>>,
    confidence: Confidence,
    #[serde(default)]
    disputed: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDigestItem {
    digest: Spanned<String>,
    kind: Spanned<DigestKind>,
    platform: Option<Spanned<String>>,
    sources: Option<Spanned<Vec<Spanned<String>>>>,
    confidence: Option<Confidence>,
    disputed: Option<bool>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKnownGoodGroup {
    repositories: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    confirmed: bool,
    digests: Spanned<Vec<RawGoodItem>>,
    sources: Spanned<Vec<Spanned<String>>>,
    confidence: Confidence,
    #[serde(default)]
    disputed: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGoodItem {
    digest: Spanned<String>,
    kind: Option<Spanned<DigestKind>>,
    platform: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    repository: Spanned<String>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    #[serde(default)]
    tag_rules: Vec<Spanned<RawTagRule>>,
    window: Option<Spanned<RawWindow>>,
    #[serde(default)]
    malicious_commits: Vec<RawCommitGroup>,
    #[serde(default)]
    known_good_commits: Vec<RawCommitGroup>,
    sources: Spanned<Vec<Spanned<String>>>,
    confidence: Confidence,
    #[serde(default)]
    disputed: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTagRule {
    #[serde(default)]
    prefix: String,
    below: Option<Spanned<String>>,
    up_to: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommitGroup {
    shas: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    sources: Spanned<Vec<Spanned<String>>>,
    confidence: Confidence,
    #[serde(default)]
    disputed: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    kind: NetworkKind,
    value: Spanned<String>,
    #[serde(default)]
    weak: bool,
    sources: Spanned<Vec<Spanned<String>>>,
    confidence: Confidence,
    #[serde(default)]
    disputed: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFileHash {
    sha256: Spanned<String>,
    sha1: Option<Spanned<String>>,
    md5: Option<Spanned<String>>,
    description: Spanned<String>,
    sources: Spanned<Vec<Spanned<String>>>,
    confidence: Confidence,
    #[serde(default)]
    disputed: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHostArtifact {
    path: Spanned<String>,
    description: Spanned<String>,
    sources: Spanned<Vec<Spanned<String>>>,
    confidence: Confidence,
    #[serde(default)]
    disputed: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOther {
    kind: Spanned<String>,
    value: Spanned<String>,
    description: Spanned<String>,
    sources: Spanned<Vec<Spanned<String>>>,
    confidence: Confidence,
    #[serde(default)]
    disputed: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotIndicator {
    kind: Spanned<String>,
    value: Spanned<String>,
    reason: Spanned<String>,
    sources: Spanned<Vec<Spanned<String>>>,
    confidence: Confidence,
    #[serde(default)]
    disputed: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExamples {
    #[serde(default)]
    images_must_match: Vec<RawExample>,
    #[serde(default)]
    images_must_not_match: Vec<Spanned<String>>,
    #[serde(default)]
    actions_must_match: Vec<RawExample>,
    #[serde(default)]
    actions_must_not_match: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    #[serde(rename = "ref")]
    reference: Spanned<String>,
    verdict: Spanned<ExpectedVerdict>,
}

// ---------------------------------------------------------------------------------------------

/// Parses and validates one advisory file.
pub(crate) fn from_toml(path: &str, text: &str) -> Result<Advisory> {
    let raw: RawAdvisory = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        let (line, column) = line_column(text, at);
        AdvisoryError {
            path: path.to_string(),
            line,
            column,
            message: e.message().trim_end().to_string(),
        }
    })?;
    Loader {
        path,
        text,
        source_ids: HashSet::new(),
        imported: false,
        example_positions: Vec::new(),
    }
    .advisory(raw)
}

struct Loader<'a> {
    path: &'a str,
    text: &'a str,
    source_ids: HashSet<String>,
    /// The file has an `[imported]` table: examples, windows and repositories may be missing.
    imported: bool,
    /// Where each example reference is written, for self-test failures.
    example_positions: Vec<(String, bool, (usize, usize))>,
}

type Result<T> = std::result::Result<T, AdvisoryError>;

impl Loader<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> AdvisoryError {
        let (line, column) = line_column(self.text, span.start);
        AdvisoryError {
            path: self.path.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    fn advisory(mut self, raw: RawAdvisory) -> Result<Advisory> {
        self.imported = raw.imported.is_some();
        if *raw.schema_version.get_ref() != SCHEMA_VERSION {
            return Err(self.error(
                raw.schema_version.span(),
                format!(
                    "unsupported schema_version {}: this tagwarden reads version {SCHEMA_VERSION}",
                    raw.schema_version.get_ref()
                ),
            ));
        }
        let id = self.identifier(&raw.id, "advisory id")?;
        let title = self.text_value(&raw.title, "title")?;
        let summary = self.text_value(&raw.summary, "summary")?;
        let aliases = raw
            .aliases
            .iter()
            .map(|a| self.identifier(a, "alias"))
            .collect::<Result<Vec<_>>>()?;
        let published = self.date(&raw.published)?;
        let updated = self.date(&raw.updated)?;
        if updated < published {
            return Err(self.error(
                raw.updated.span(),
                format!("updated ({updated}) is before published ({published})"),
            ));
        }

        let sources = self.sources(&raw.sources)?;
        let imported = raw
            .imported
            .as_ref()
            .map(|i| self.import_info(i))
            .transpose()?;

        let mut seen = Seen::default();
        let image_exposures = raw
            .image_exposures
            .iter()
            .map(|e| self.exposure(e, &mut seen))
            .collect::<Result<Vec<_>>>()?;
        let mut malicious_digests = Vec::new();
        for group in &raw.malicious_images {
            malicious_digests.extend(self.malicious_group(group, &mut seen)?);
        }
        let mut known_good_digests = Vec::new();
        for group in &raw.known_good_images {
            known_good_digests.extend(self.known_good_group(group, &mut seen)?);
        }
        let mut actions = Vec::new();
        let mut action_names = HashMap::new();
        for a in &raw.actions {
            let action = self.action(a)?;
            let key = action.repository.to_ascii_lowercase();
            if action_names.insert(key, ()).is_some() {
                return Err(self.error(
                    a.repository.span(),
                    format!(
                        "action {} is listed twice: merge the entries",
                        action.repository
                    ),
                ));
            }
            actions.push(action);
        }
        let network_indicators = self.network(&raw.network_indicators)?;
        let file_hashes = raw
            .file_hashes
            .iter()
            .map(|f| self.file_hash(f))
            .collect::<Result<Vec<_>>>()?;
        let host_artifacts = raw
            .host_artifacts
            .iter()
            .map(|h| {
                Ok(HostArtifact {
                    path: self.text_value(&h.path, "path")?,
                    description: self.text_value(&h.description, "description")?,
                    provenance: self.provenance(&h.sources, h.confidence, h.disputed, &h.note)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let other_indicators = raw
            .other_indicators
            .iter()
            .map(|o| {
                Ok(OtherIndicator {
                    kind: self.identifier(&o.kind, "kind")?,
                    value: self.text_value(&o.value, "value")?,
                    description: self.text_value(&o.description, "description")?,
                    provenance: self.provenance(&o.sources, o.confidence, o.disputed, &o.note)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let not_indicators = raw
            .not_indicators
            .iter()
            .map(|n| self.not_indicator(n, &network_indicators, &mut seen))
            .collect::<Result<Vec<_>>>()?;

        let has_images = !image_exposures.is_empty() || !malicious_digests.is_empty();
        // An import cannot invent examples; its values are checked one by one instead.
        let examples = self.examples(
            raw.examples.as_ref(),
            &raw.id,
            has_images && !self.imported,
            !actions.is_empty() && !self.imported,
        )?;

        Ok(Advisory {
            path: self.path.to_string(),
            id_position: line_column(self.text, raw.id.span().start),
            id,
            title,
            summary,
            aliases,
            published,
            updated,
            sources,
            image_exposures,
            malicious_digests,
            known_good_digests,
            actions,
            network_indicators,
            file_hashes,
            host_artifacts,
            other_indicators,
            not_indicators,
            examples,
            imported,
            example_positions: self.example_positions,
        })
    }

    fn import_info(&self, raw: &RawImported) -> Result<ImportInfo> {
        let optional = |v: &Option<Spanned<String>>, what: &str| {
            v.as_ref().map(|v| self.text_value(v, what)).transpose()
        };
        Ok(ImportInfo {
            format: self.identifier(&raw.format, "import format")?,
            file: self.text_value(&raw.file, "imported file")?,
            document_id: optional(&raw.document_id, "document_id")?,
            author: optional(&raw.author, "author")?,
            imported: self.date(&raw.imported)?,
        })
    }

    // --- scalars -----------------------------------------------------------------------------

    /// Letters, digits, `.`, `_`, `-`; starts with a letter or digit; at most 100 characters.
    fn identifier(&self, v: &Spanned<String>, what: &str) -> Result<String> {
        let s = v.get_ref();
        if !syntax::is_identifier(s) {
            return Err(self.error(
                v.span(),
                format!(
                    "invalid {what} {s:?}: use letters, digits, '.', '_' or '-' (starting with a letter or digit, at most 100)"
                ),
            ));
        }
        Ok(s.clone())
    }

    fn text_value(&self, v: &Spanned<String>, what: &str) -> Result<String> {
        let s = v.get_ref().trim();
        if s.is_empty() {
            return Err(self.error(v.span(), format!("{what} must not be empty")));
        }
        Ok(s.to_string())
    }

    fn date(&self, v: &Spanned<String>) -> Result<Date> {
        let s = v.get_ref();
        let ok_shape = s.len() == 10 && s.as_bytes().get(4) == Some(&b'-');
        match s.parse::<Date>() {
            Ok(d) if ok_shape => Ok(d),
            _ => Err(self.error(v.span(), format!("invalid date {s:?}: expected YYYY-MM-DD"))),
        }
    }

    /// An RFC 3339 timestamp written in UTC with a trailing `Z`.
    fn timestamp(&self, v: &Spanned<String>) -> Result<Timestamp> {
        let s = v.get_ref();
        if !s.ends_with('Z') {
            return Err(self.error(
                v.span(),
                format!(
                    "invalid timestamp {s:?}: write it in UTC as RFC 3339 with a trailing Z, e.g. 2026-04-22T12:31:00Z"
                ),
            ));
        }
        s.parse::<Timestamp>()
            .map_err(|e| self.error(v.span(), format!("invalid timestamp {s:?}: {e}")))
    }

    /// A record's window. Imported files may leave it out (the source gave none): the window
    /// is then open at both ends, so tag-only evidence counts whenever it happened.
    fn required_window(
        &self,
        w: &Option<Spanned<RawWindow>>,
        record: Range<usize>,
        parent: &Provenance,
    ) -> Result<Sourced<Window>> {
        match w {
            Some(w) => self.window(w, parent),
            None if self.imported => Ok(Sourced {
                value: Window::OPEN,
                provenance: Provenance {
                    note: Some("The source gives no time window: any time counts.".to_string()),
                    ..parent.clone()
                },
            }),
            None => Err(self.error(record, "missing field `window`")),
        }
    }

    fn window(&self, spanned: &Spanned<RawWindow>, parent: &Provenance) -> Result<Sourced<Window>> {
        let w = spanned.get_ref();
        // Imported files may give one end only; the other stays open.
        let end_point = |v: &Option<Spanned<String>>, name: &str, open: Timestamp| match v {
            Some(v) => self.timestamp(v),
            None if self.imported => Ok(open),
            None => Err(self.error(spanned.span(), format!("missing field `{name}`"))),
        };
        let start = end_point(&w.start, "start", Window::OPEN.start)?;
        let end = end_point(&w.end, "end", Window::OPEN.end)?;
        if end <= start {
            let at = w.end.as_ref().map_or(spanned.span(), |e| e.span());
            return Err(self.error(
                at,
                format!("window end {end} is not after its start {start}"),
            ));
        }
        let sources = match &w.sources {
            Some(list) => self.source_refs(list)?,
            None => parent.sources.clone(),
        };
        Ok(Sourced {
            value: Window { start, end },
            provenance: Provenance {
                sources,
                confidence: w.confidence.unwrap_or(parent.confidence),
                disputed: parent.disputed,
                note: w.note.clone(),
            },
        })
    }

    fn repository(&self, v: &Spanned<String>) -> Result<String> {
        normalize_repository(v.get_ref()).map_err(|e| {
            self.error(
                v.span(),
                format!(
                    "invalid repository {:?}: {} (write a repository name without tag or digest, e.g. docker.io/checkmarx/kics)",
                    v.get_ref(),
                    e.kind()
                ),
            )
        })
    }

    /// The repositories of a digest group: informational (digests match anywhere), so an
    /// import whose source names none may leave the list empty.
    fn image_repositories(&self, list: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<String>> {
        if self.imported && list.get_ref().is_empty() {
            return Ok(Vec::new());
        }
        self.repositories(list)
    }

    fn repositories(&self, list: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<String>> {
        if list.get_ref().is_empty() {
            return Err(self.error(list.span(), "list at least one repository"));
        }
        let mut out: Vec<String> = Vec::new();
        for r in list.get_ref() {
            let n = self.repository(r)?;
            if out.contains(&n) {
                return Err(self.error(r.span(), format!("repository {n} is listed twice")));
            }
            out.push(n);
        }
        Ok(out)
    }

    /// An image tag: a letter, digit or `_`, then up to 127 letters, digits, `_`, `.` or `-`.
    fn tag(&self, v: &Spanned<String>) -> Result<String> {
        let s = v.get_ref();
        if !syntax::is_tag(s) {
            return Err(self.error(
                v.span(),
                format!(
                    "invalid tag {s:?}: a tag is a letter, digit or '_' followed by up to 127 letters, digits, '_', '.' or '-'"
                ),
            ));
        }
        Ok(s.clone())
    }

    fn tags(&self, list: &[Spanned<String>]) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for t in list {
            let tag = self.tag(t)?;
            if out.contains(&tag) {
                return Err(self.error(t.span(), format!("tag {tag} is listed twice")));
            }
            out.push(tag);
        }
        Ok(out)
    }

    fn digest(&self, v: &Spanned<String>) -> Result<Digest> {
        Digest::parse(v.get_ref()).map_err(|e| {
            self.error(
                v.span(),
                format!("invalid digest {:?}: {}", v.get_ref(), e.kind()),
            )
        })
    }

    /// `os/arch[/variant]`, lower-case.
    fn platform(&self, v: &Spanned<String>) -> Result<String> {
        let s = v.get_ref();
        if !syntax::is_platform(s) {
            return Err(self.error(
                v.span(),
                format!(
                    "invalid platform {s:?}: expected os/arch or os/arch/variant, e.g. linux/amd64"
                ),
            ));
        }
        Ok(s.clone())
    }

    /// A full commit SHA, 40 hex characters, lower-cased.
    fn sha(&self, v: &Spanned<String>) -> Result<String> {
        indicator::hex_hash(v.get_ref(), 40, "full commit SHA").map_err(|m| self.error(v.span(), m))
    }

    // --- provenance ----------------------------------------------------------------------------

    fn sources(&mut self, list: &Spanned<Vec<RawSource>>) -> Result<Vec<Source>> {
        if list.get_ref().is_empty() {
            return Err(self.error(list.span(), "list at least one source"));
        }
        let mut out = Vec::new();
        for s in list.get_ref() {
            let id = self.identifier(&s.id, "source id")?;
            if !self.source_ids.insert(id.clone()) {
                return Err(self.error(s.id.span(), format!("source id {id:?} is used twice")));
            }
            let title = s
                .title
                .as_ref()
                .map(|t| self.text_value(t, "source title"))
                .transpose()?;
            let url = match &s.url {
                Some(u) => {
                    let url = u.get_ref();
                    if !(url.starts_with("https://") || url.starts_with("http://"))
                        || url.chars().any(char::is_whitespace)
                    {
                        return Err(self.error(
                            u.span(),
                            format!("invalid source url {url:?}: expected an http(s) URL"),
                        ));
                    }
                    Some(url.clone())
                }
                None if title.is_none() => {
                    return Err(self.error(
                        s.id.span(),
                        format!("source {id:?} needs a url, or a title saying what it is"),
                    ));
                }
                None => None,
            };
            out.push(Source { id, url, title });
        }
        Ok(out)
    }

    fn source_refs(&self, list: &[Spanned<String>]) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for s in list {
            if !self.source_ids.contains(s.get_ref()) {
                let known: Vec<&str> = {
                    let mut k: Vec<&str> = self.source_ids.iter().map(String::as_str).collect();
                    k.sort_unstable();
                    k
                };
                return Err(self.error(
                    s.span(),
                    format!(
                        "unknown source {:?}: declare it under [[sources]] (known: {})",
                        s.get_ref(),
                        known.join(", ")
                    ),
                ));
            }
            if !out.contains(s.get_ref()) {
                out.push(s.get_ref().clone());
            }
        }
        Ok(out)
    }

    fn provenance(
        &self,
        sources: &Spanned<Vec<Spanned<String>>>,
        confidence: Confidence,
        disputed: bool,
        note: &Option<String>,
    ) -> Result<Provenance> {
        if sources.get_ref().is_empty() {
            return Err(self.error(sources.span(), "cite at least one source"));
        }
        Ok(Provenance {
            sources: self.source_refs(sources.get_ref())?,
            confidence,
            // A conflict between sources is a dispute whatever the file says.
            disputed: disputed || confidence == Confidence::Conflicting,
            note: note.clone(),
        })
    }

    /// An item's provenance: its own values where given, the group's otherwise.
    fn item_provenance(
        &self,
        group: &Provenance,
        sources: &Option<Spanned<Vec<Spanned<String>>>>,
        confidence: Option<Confidence>,
        disputed: Option<bool>,
        note: &Option<String>,
    ) -> Result<Provenance> {
        let sources = match sources {
            Some(list) if list.get_ref().is_empty() => {
                return Err(self.error(list.span(), "cite at least one source"));
            }
            Some(list) => self.source_refs(list.get_ref())?,
            None => group.sources.clone(),
        };
        let confidence = confidence.unwrap_or(group.confidence);
        Ok(Provenance {
            sources,
            confidence,
            disputed: disputed.unwrap_or(group.disputed) || confidence == Confidence::Conflicting,
            note: note.clone().or_else(|| group.note.clone()),
        })
    }

    // --- records -------------------------------------------------------------------------------

    fn exposure(&self, e: &RawExposure, seen: &mut Seen) -> Result<ImageExposure> {
        let provenance = self.provenance(&e.sources, e.confidence, e.disputed, &e.note)?;
        if e.tags.get_ref().is_empty() {
            return Err(self.error(e.tags.span(), "list at least one tag"));
        }
        let window = self.required_window(&e.window, e.repositories.span(), &provenance)?;
        let disputed_window = match &e.disputed_window {
            Some(w) => {
                let mut w = self.window(w, &provenance)?;
                w.provenance.disputed = true;
                Some(w)
            }
            None => None,
        };
        let repositories = self.repositories(&e.repositories)?;
        let tags = self.tags(e.tags.get_ref())?;
        // The same tag in the same window twice would be one fact reported twice.
        for r in &repositories {
            for (tag, at) in tags.iter().zip(e.tags.get_ref()) {
                let key = (r.clone(), tag.clone(), window.value);
                if !seen.exposures.insert(key) {
                    return Err(self.error(
                        at.span(),
                        format!(
                            "{r}:{tag} is already listed in an exposure with the same window: merge the entries"
                        ),
                    ));
                }
            }
        }
        Ok(ImageExposure {
            repositories,
            tags,
            window,
            disputed_window,
            provenance,
        })
    }

    /// A value kept out of matching. Values of the kinds tagwarden knows are checked and
    /// normalised like their matched counterparts, and may not also be listed as those.
    fn not_indicator(
        &self,
        n: &RawNotIndicator,
        network: &[NetworkIndicator],
        seen: &mut Seen,
    ) -> Result<NotIndicator> {
        let kind = self.identifier(&n.kind, "kind")?;
        let raw = n.value.get_ref();
        let value = match kind.as_str() {
            "image_digest" => {
                let digest = self.digest(&n.value)?;
                seen.digest(self, &digest, &n.value, "not an indicator")?;
                digest.to_string()
            }
            "file_sha256" => indicator::hex_hash(raw, 64, "SHA-256")
                .map_err(|m| self.error(n.value.span(), m))?,
            "commit" => self.sha(&n.value)?,
            k => match NetworkKind::from_name(k) {
                Some(net) => {
                    let value = indicator::normalize(net, raw)
                        .map_err(|m| self.error(n.value.span(), m))?;
                    if network.iter().any(|o| o.kind == net && o.value == value) {
                        return Err(self.error(
                            n.value.span(),
                            format!("{k} {value} is also listed under network_indicators"),
                        ));
                    }
                    value
                }
                None => self.text_value(&n.value, "value")?,
            },
        };
        Ok(NotIndicator {
            kind,
            value,
            reason: self.text_value(&n.reason, "reason")?,
            provenance: self.provenance(&n.sources, n.confidence, n.disputed, &n.note)?,
        })
    }

    fn malicious_group(&self, g: &RawImageGroup, seen: &mut Seen) -> Result<Vec<MaliciousDigest>> {
        let provenance = self.provenance(&g.sources, g.confidence, g.disputed, &g.note)?;
        let repositories = self.image_repositories(&g.repositories)?;
        let tags = self.tags(&g.tags)?;
        if g.digests.get_ref().is_empty() {
            return Err(self.error(g.digests.span(), "list at least one digest"));
        }
        let mut out = Vec::new();
        for item in g.digests.get_ref() {
            let digest = self.digest(&item.digest)?;
            seen.digest(self, &digest, &item.digest, "malicious")?;
            let kind = *item.kind.get_ref();
            let platform = self.platform_for(kind, &item.platform, &item.kind)?;
            out.push(MaliciousDigest {
                digest,
                kind,
                platform,
                repositories: repositories.clone(),
                tags: tags.clone(),
                provenance: self.item_provenance(
                    &provenance,
                    &item.sources,
                    item.confidence,
                    item.disputed,
                    &item.note,
                )?,
            });
        }
        Ok(out)
    }

    /// Platform manifests need a platform; indexes and signatures cannot have one.
    fn platform_for(
        &self,
        kind: DigestKind,
        platform: &Option<Spanned<String>>,
        kind_span: &Spanned<DigestKind>,
    ) -> Result<Option<String>> {
        match (kind, platform) {
            (DigestKind::Manifest, Some(p)) => Ok(Some(self.platform(p)?)),
            // A shared format may name a platform manifest without saying which platform.
            (DigestKind::Manifest, None) if self.imported => Ok(None),
            (DigestKind::Manifest, None) => Err(self.error(
                kind_span.span(),
                "a platform manifest needs platform = \"os/arch\"",
            )),
            (_, Some(p)) => Err(self.error(
                p.span(),
                format!("only kind = \"manifest\" has a platform, not {kind}"),
            )),
            (_, None) => Ok(None),
        }
    }

    fn known_good_group(
        &self,
        g: &RawKnownGoodGroup,
        seen: &mut Seen,
    ) -> Result<Vec<KnownGoodDigest>> {
        let provenance = self.provenance(&g.sources, g.confidence, g.disputed, &g.note)?;
        let repositories = self.image_repositories(&g.repositories)?;
        let tags = self.tags(&g.tags)?;
        if g.digests.get_ref().is_empty() {
            return Err(self.error(g.digests.span(), "list at least one digest"));
        }
        let mut out = Vec::new();
        for item in g.digests.get_ref() {
            let digest = self.digest(&item.digest)?;
            seen.digest(self, &digest, &item.digest, "known good")?;
            let (kind, platform) = match &item.kind {
                Some(k) => (
                    Some(*k.get_ref()),
                    self.platform_for(*k.get_ref(), &item.platform, k)?,
                ),
                None => match &item.platform {
                    Some(p) => (None, Some(self.platform(p)?)),
                    None => (None, None),
                },
            };
            out.push(KnownGoodDigest {
                digest,
                kind,
                platform,
                repositories: repositories.clone(),
                tags: tags.clone(),
                confirmed: g.confirmed,
                provenance: provenance.clone(),
            });
        }
        Ok(out)
    }

    fn action(&self, a: &RawAction) -> Result<ActionAdvisory> {
        let provenance = self.provenance(&a.sources, a.confidence, a.disputed, &a.note)?;
        let repository = a.repository.get_ref();
        if !action_ref::is_repository(repository) {
            return Err(self.error(
                a.repository.span(),
                format!("invalid action repository {repository:?}: expected owner/repo"),
            ));
        }
        let tags = self.tags(&a.tags)?;
        let tag_rules = a
            .tag_rules
            .iter()
            .map(|r| self.tag_rule(r))
            .collect::<Result<Vec<_>>>()?;
        if tags.is_empty() && tag_rules.is_empty() && a.malicious_commits.is_empty() {
            return Err(self.error(
                a.repository.span(),
                "an action needs tags, tag_rules or malicious_commits",
            ));
        }
        let window = self.required_window(&a.window, a.repository.span(), &provenance)?;
        let mut shas = HashSet::new();
        let malicious_commits = self.commits(&a.malicious_commits, &mut shas)?;
        let known_good_commits = self.commits(&a.known_good_commits, &mut shas)?;
        Ok(ActionAdvisory {
            repository: repository.clone(),
            tags,
            tag_rules,
            window,
            malicious_commits,
            known_good_commits,
            provenance,
        })
    }

    fn tag_rule(&self, r: &Spanned<RawTagRule>) -> Result<TagRule> {
        let raw = r.get_ref();
        let version = |v: &Spanned<String>| {
            parse_version(v.get_ref()).ok_or_else(|| {
                self.error(
                    v.span(),
                    format!(
                        "invalid version {:?}: expected X, X.Y or X.Y.Z with digits only",
                        v.get_ref()
                    ),
                )
            })
        };
        let bound = match (&raw.below, &raw.up_to) {
            (Some(b), None) => VersionBound::Below(version(b)?),
            (None, Some(u)) => VersionBound::UpTo(version(u)?),
            _ => {
                return Err(self.error(
                    r.span(),
                    "a tag rule needs exactly one of below = \"X.Y.Z\" or up_to = \"X.Y.Z\"",
                ));
            }
        };
        if raw
            .prefix
            .chars()
            .any(|c| c.is_ascii_digit() || c.is_whitespace())
        {
            return Err(self.error(
                r.span(),
                format!(
                    "tag rule prefix {:?} cannot contain digits or white space",
                    raw.prefix
                ),
            ));
        }
        Ok(TagRule {
            prefix: raw.prefix.clone(),
            bound,
        })
    }

    fn commits(
        &self,
        groups: &[RawCommitGroup],
        seen: &mut HashSet<String>,
    ) -> Result<Vec<Commit>> {
        let mut out = Vec::new();
        for g in groups {
            let provenance = self.provenance(&g.sources, g.confidence, g.disputed, &g.note)?;
            if g.shas.get_ref().is_empty() {
                return Err(self.error(g.shas.span(), "list at least one commit SHA"));
            }
            let tags = self.tags(&g.tags)?;
            for s in g.shas.get_ref() {
                let sha = self.sha(s)?;
                if !seen.insert(sha.clone()) {
                    return Err(self.error(s.span(), format!("commit {sha} is listed twice")));
                }
                out.push(Commit {
                    sha,
                    tags: tags.clone(),
                    provenance: provenance.clone(),
                });
            }
        }
        Ok(out)
    }

    fn network(&self, list: &[RawNetwork]) -> Result<Vec<NetworkIndicator>> {
        let mut out: Vec<NetworkIndicator> = Vec::new();
        for n in list {
            let value = indicator::normalize(n.kind, n.value.get_ref())
                .map_err(|m| self.error(n.value.span(), m))?;
            if out.iter().any(|o| o.kind == n.kind && o.value == value) {
                return Err(self.error(
                    n.value.span(),
                    format!("{} {value} is listed twice", n.kind.as_str()),
                ));
            }
            out.push(NetworkIndicator {
                kind: n.kind,
                value,
                weak: n.weak,
                provenance: self.provenance(&n.sources, n.confidence, n.disputed, &n.note)?,
            });
        }
        Ok(out)
    }

    fn file_hash(&self, f: &RawFileHash) -> Result<FileHash> {
        let hash = |v: &Spanned<String>, len: usize, what: &str| {
            indicator::hex_hash(v.get_ref(), len, what).map_err(|m| self.error(v.span(), m))
        };
        Ok(FileHash {
            sha256: hash(&f.sha256, 64, "SHA-256")?,
            sha1: f.sha1.as_ref().map(|v| hash(v, 40, "SHA-1")).transpose()?,
            md5: f.md5.as_ref().map(|v| hash(v, 32, "MD5")).transpose()?,
            description: self.text_value(&f.description, "description")?,
            provenance: self.provenance(&f.sources, f.confidence, f.disputed, &f.note)?,
        })
    }

    // --- examples ------------------------------------------------------------------------------

    fn examples(
        &mut self,
        raw: Option<&Spanned<RawExamples>>,
        id: &Spanned<String>,
        has_images: bool,
        has_actions: bool,
    ) -> Result<Examples> {
        let Some(raw) = raw else {
            if has_images || has_actions {
                return Err(self.error(
                    id.span(),
                    "an advisory needs an [examples] table with references it must and must not match",
                ));
            }
            return Ok(Examples::default());
        };
        let ex = raw.get_ref();
        let positives = ex
            .images_must_match
            .iter()
            .chain(&ex.actions_must_match)
            .map(|e| (&e.reference, true));
        let negatives = ex
            .images_must_not_match
            .iter()
            .chain(&ex.actions_must_not_match)
            .map(|r| (r, false));
        for (r, must_match) in positives.chain(negatives) {
            self.example_positions.push((
                r.get_ref().clone(),
                must_match,
                line_column(self.text, r.span().start),
            ));
        }
        let image = |v: &Spanned<String>| {
            Reference::parse(v.get_ref())
                .map(|_| v.get_ref().clone())
                .map_err(|e| {
                    self.error(
                        v.span(),
                        format!("invalid image reference {:?}: {}", v.get_ref(), e.kind()),
                    )
                })
        };
        let action = |v: &Spanned<String>| {
            if action_ref::split(v.get_ref()).is_none() {
                return Err(self.error(
                    v.span(),
                    format!(
                        "invalid action example {:?}: expected owner/repo@ref",
                        v.get_ref()
                    ),
                ));
            }
            Ok(v.get_ref().clone())
        };
        let positive = |e: &RawExample, is_image: bool| {
            let verdict = *e.verdict.get_ref();
            let allowed = if is_image {
                verdict != ExpectedVerdict::MaliciousCommit
            } else {
                verdict != ExpectedVerdict::MaliciousDigest
            };
            if !allowed {
                return Err(self.error(
                    e.verdict.span(),
                    format!(
                        "verdict {} does not apply to {} examples",
                        verdict.as_str(),
                        if is_image { "image" } else { "action" }
                    ),
                ));
            }
            let reference = if is_image {
                image(&e.reference)?
            } else {
                action(&e.reference)?
            };
            Ok(Example { reference, verdict })
        };
        let out = Examples {
            images_must_match: ex
                .images_must_match
                .iter()
                .map(|e| positive(e, true))
                .collect::<Result<_>>()?,
            images_must_not_match: ex
                .images_must_not_match
                .iter()
                .map(image)
                .collect::<Result<_>>()?,
            actions_must_match: ex
                .actions_must_match
                .iter()
                .map(|e| positive(e, false))
                .collect::<Result<_>>()?,
            actions_must_not_match: ex
                .actions_must_not_match
                .iter()
                .map(action)
                .collect::<Result<_>>()?,
        };
        if has_images && (out.images_must_match.is_empty() || out.images_must_not_match.is_empty())
        {
            return Err(self.error(
                raw.span(),
                "an advisory about images needs images_must_match and images_must_not_match examples",
            ));
        }
        if has_actions
            && (out.actions_must_match.is_empty() || out.actions_must_not_match.is_empty())
        {
            return Err(self.error(
                raw.span(),
                "an advisory about actions needs actions_must_match and actions_must_not_match examples",
            ));
        }
        Ok(out)
    }
}

/// What this file already listed: each digest once (as malicious, known good or not an
/// indicator), each exposed repository and tag once per window.
#[derive(Default)]
struct Seen {
    digests: HashMap<Digest, &'static str>,
    exposures: HashSet<(String, String, Window)>,
}

impl Seen {
    fn digest(
        &mut self,
        loader: &Loader<'_>,
        digest: &Digest,
        at: &Spanned<String>,
        what: &'static str,
    ) -> Result<()> {
        if let Some(before) = self.digests.insert(digest.clone(), what) {
            return Err(loader.error(
                at.span(),
                format!("digest {digest} is already listed (as {before})"),
            ));
        }
        Ok(())
    }
}
