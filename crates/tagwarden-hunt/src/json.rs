//! The hunt's JSON, version 1: written by `tagwarden hunt --format json`, read back by the
//! commands that act on a hunt. The format is documented in `JSON.md` beside this crate.

use std::borrow::Cow;
use std::io::{self, Write};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tagwarden_advisory::NetworkKind;
use tagwarden_reference::Digest;

use crate::{Answer, Hit, Matched, Outcome, Problem, SourceKind, SourceRun, SourceStatus, Verdict};

/// The version this crate writes and reads.
pub const VERSION: u64 = 1;

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not JSON, or not the shape of a hunt document (with the line and column).
    #[error("not a tagwarden hunt document (JSON version 1): {0}")]
    Json(#[from] serde_json::Error),
    /// A version this reader does not know.
    #[error("hunt JSON version {0} is not supported: this tagwarden reads version {VERSION}")]
    Version(u64),
}

/// Writes the outcome as one line of JSON followed by a newline.
pub fn write(outcome: &Outcome, w: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        version: VERSION,
        summary: Some(Summary::of(outcome)),
        hits: outcome.hits.iter().map(WireHit::from).collect(),
        weak: outcome.weak.iter().map(WireHit::from).collect(),
        sources: outcome.sources.iter().map(WireSource::from).collect(),
        problems: outcome.problems.iter().map(WireProblem::from).collect(),
        notes: outcome.notes.iter().map(WireProblem::from).collect(),
        cleared: outcome.cleared.iter().map(WireHit::from).collect(),
    };
    serde_json::to_writer(&mut *w, &doc)?;
    writeln!(w)
}

/// Reads a document [`write`] wrote. Keys this version does not know are ignored; a document of
/// another version is refused.
pub fn read(json: &str) -> Result<Outcome, ReadError> {
    #[derive(Deserialize)]
    struct Version {
        version: u64,
    }
    let Version { version } = serde_json::from_str(json)?;
    if version != VERSION {
        return Err(ReadError::Version(version));
    }
    let doc: Document<'_> = serde_json::from_str(json)?;
    let problems = |list: Vec<WireProblem<'_>>| list.into_iter().map(Problem::from).collect();
    Ok(Outcome {
        hits: doc.hits.into_iter().map(Hit::from).collect(),
        weak: doc.weak.into_iter().map(Hit::from).collect(),
        sources: doc.sources.into_iter().map(SourceRun::from).collect(),
        problems: problems(doc.problems),
        notes: problems(doc.notes),
        evidence: doc.summary.map_or(0, |s| s.evidence),
        cleared: doc.cleared.into_iter().map(Hit::from).collect(),
    })
}

#[derive(Serialize, Deserialize)]
struct Document<'a> {
    version: u64,
    #[serde(default)]
    summary: Option<Summary>,
    #[serde(borrow)]
    hits: Vec<WireHit<'a>>,
    #[serde(borrow)]
    weak: Vec<WireHit<'a>>,
    #[serde(borrow)]
    sources: Vec<WireSource<'a>>,
    #[serde(borrow)]
    problems: Vec<WireProblem<'a>>,
    #[serde(borrow, default)]
    notes: Vec<WireProblem<'a>>,
    #[serde(borrow, default)]
    cleared: Vec<WireHit<'a>>,
}

/// Counts, for people and dashboards; recomputed from the lists when read.
#[derive(Serialize, Deserialize)]
struct Summary {
    hit: bool,
    compromised: usize,
    exposed: usize,
    disputed: usize,
    contacted: usize,
    weak: usize,
    evidence: u64,
    /// Problems plus sources that failed.
    problems: usize,
    #[serde(default)]
    notes: usize,
    /// `hit`, `clean` or `incomplete`.
    #[serde(default)]
    answer: String,
}

impl Summary {
    fn of(o: &Outcome) -> Self {
        Summary {
            hit: !o.hits.is_empty(),
            compromised: o.count(Verdict::Compromised),
            exposed: o.count(Verdict::Exposed),
            disputed: o.count(Verdict::Disputed),
            contacted: o.count(Verdict::Contacted),
            weak: o.weak.len(),
            evidence: o.evidence,
            problems: o.problems.len() + o.failed_sources().count(),
            notes: o.notes.len(),
            answer: match o.answer() {
                Answer::Hit => "hit",
                Answer::Clean => "clean",
                Answer::Incomplete => "incomplete",
            }
            .to_string(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct WireHit<'a> {
    #[serde(borrow)]
    advisory: Cow<'a, str>,
    verdict: Verdict,
    source: SourceKind,
    /// `location:line` when there is a line.
    #[serde(borrow)]
    location: Cow<'a, str>,
    timestamp: Option<Timestamp>,
    #[serde(borrow)]
    indicator: Cow<'a, str>,
    #[serde(borrow)]
    host: Option<Cow<'a, str>>,
    #[serde(borrow)]
    job: Option<Cow<'a, str>>,
    #[serde(borrow)]
    detail: Cow<'a, str>,
    #[serde(borrow)]
    excerpt: Option<Cow<'a, str>>,
    #[serde(default)]
    line: Option<u64>,
    matched: WireMatched,
}

impl<'a> From<&'a Hit> for WireHit<'a> {
    fn from(h: &'a Hit) -> Self {
        WireHit {
            advisory: Cow::Borrowed(&h.advisory),
            verdict: h.verdict,
            source: h.source,
            location: Cow::Owned(h.place()),
            timestamp: h.timestamp,
            indicator: Cow::Owned(h.indicator()),
            host: h.host.as_deref().map(Cow::Borrowed),
            job: h.job.as_deref().map(Cow::Borrowed),
            detail: Cow::Borrowed(&h.detail),
            excerpt: h.excerpt.as_deref().map(Cow::Borrowed),
            line: h.line,
            matched: WireMatched::from(&h.matched),
        }
    }
}

impl From<WireHit<'_>> for Hit {
    fn from(w: WireHit<'_>) -> Self {
        let place = w.location.into_owned();
        // `location` carries the line for people; the model keeps them apart.
        let location = match w.line {
            Some(l) => place
                .strip_suffix(&format!(":{l}"))
                .map_or_else(|| place.clone(), str::to_string),
            None => place,
        };
        Hit {
            advisory: w.advisory.into_owned(),
            verdict: w.verdict,
            source: w.source,
            location,
            line: w.line,
            timestamp: w.timestamp,
            matched: w.matched.into(),
            host: w.host.map(Cow::into_owned),
            job: w.job.map(Cow::into_owned),
            detail: w.detail.into_owned(),
            excerpt: w.excerpt.map(Cow::into_owned),
        }
    }
}

/// What matched, tagged by `kind`: `digest`, `image_tag`, `action_commit`, `action_tag`, or a
/// network indicator's kind as advisories spell it (`domain`, `ip`, `url`, `user_agent`,
/// `http_header`).
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum WireMatched {
    Digest {
        #[serde(with = "digest_text")]
        digest: Digest,
    },
    ImageTag {
        repository: String,
        tag: String,
    },
    ActionCommit {
        repository: String,
        #[serde(rename = "ref")]
        git_ref: String,
        commit: String,
    },
    ActionTag {
        repository: String,
        #[serde(rename = "ref")]
        git_ref: String,
    },
    Domain {
        value: String,
    },
    Ip {
        value: String,
    },
    Url {
        value: String,
    },
    UserAgent {
        value: String,
    },
    HttpHeader {
        value: String,
    },
}

impl From<&Matched> for WireMatched {
    fn from(m: &Matched) -> Self {
        match m.clone() {
            Matched::Digest(digest) => Self::Digest { digest },
            Matched::ImageTag { repository, tag } => Self::ImageTag { repository, tag },
            Matched::ActionCommit {
                repository,
                git_ref,
                commit,
            } => Self::ActionCommit {
                repository,
                git_ref,
                commit,
            },
            Matched::ActionTag {
                repository,
                git_ref,
            } => Self::ActionTag {
                repository,
                git_ref,
            },
            Matched::Network { kind, value } => match kind {
                NetworkKind::Domain => Self::Domain { value },
                NetworkKind::Ip => Self::Ip { value },
                NetworkKind::Url => Self::Url { value },
                NetworkKind::UserAgent => Self::UserAgent { value },
                NetworkKind::HttpHeader => Self::HttpHeader { value },
            },
        }
    }
}

impl From<WireMatched> for Matched {
    fn from(w: WireMatched) -> Self {
        let network = |kind, value| Matched::Network { kind, value };
        match w {
            WireMatched::Digest { digest } => Matched::Digest(digest),
            WireMatched::ImageTag { repository, tag } => Matched::ImageTag { repository, tag },
            WireMatched::ActionCommit {
                repository,
                git_ref,
                commit,
            } => Matched::ActionCommit {
                repository,
                git_ref,
                commit,
            },
            WireMatched::ActionTag {
                repository,
                git_ref,
            } => Matched::ActionTag {
                repository,
                git_ref,
            },
            WireMatched::Domain { value } => network(NetworkKind::Domain, value),
            WireMatched::Ip { value } => network(NetworkKind::Ip, value),
            WireMatched::Url { value } => network(NetworkKind::Url, value),
            WireMatched::UserAgent { value } => network(NetworkKind::UserAgent, value),
            WireMatched::HttpHeader { value } => network(NetworkKind::HttpHeader, value),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct WireSource<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    status: SourceStatus,
    #[serde(borrow)]
    error: Option<Cow<'a, str>>,
    files: u64,
    bytes: u64,
    records: u64,
}

impl<'a> From<&'a SourceRun> for WireSource<'a> {
    fn from(s: &'a SourceRun) -> Self {
        WireSource {
            name: Cow::Borrowed(&s.name),
            status: s.status,
            error: s.error.as_deref().map(Cow::Borrowed),
            files: s.files,
            bytes: s.bytes,
            records: s.records,
        }
    }
}

impl From<WireSource<'_>> for SourceRun {
    fn from(w: WireSource<'_>) -> Self {
        SourceRun {
            name: w.name.into_owned(),
            status: w.status,
            error: w.error.map(Cow::into_owned),
            files: w.files,
            bytes: w.bytes,
            records: w.records,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct WireProblem<'a> {
    source: SourceKind,
    #[serde(borrow)]
    location: Cow<'a, str>,
    #[serde(borrow)]
    message: Cow<'a, str>,
}

impl<'a> From<&'a Problem> for WireProblem<'a> {
    fn from(p: &'a Problem) -> Self {
        WireProblem {
            source: p.source,
            location: Cow::Borrowed(&p.location),
            message: Cow::Borrowed(&p.message),
        }
    }
}

impl From<WireProblem<'_>> for Problem {
    fn from(w: WireProblem<'_>) -> Self {
        Problem {
            source: w.source,
            location: w.location.into_owned(),
            message: w.message.into_owned(),
        }
    }
}

/// The model's names on the wire: each type's stable string, refused when unknown.
macro_rules! as_text {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = Cow::<'de, str>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
as_text!(Verdict, SourceKind, SourceStatus);

mod digest_text {
    use std::borrow::Cow;

    use serde::{Deserialize, Deserializer, Serializer};
    use tagwarden_reference::Digest;

    pub(super) fn serialize<S: Serializer>(d: &Digest, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = Cow::<'de, str>::deserialize(d)?;
        Digest::parse(&s).map_err(|e| serde::de::Error::custom(format!("digest {s:?}: {e}")))
    }
}
