//! Finds credentials in one file's bytes and reports them without ever holding on to them.
//!
//! Nothing here reads files or touches the network: the caller walks the tree (respecting its
//! ignores) and hands each file's path and bytes to [`Scanner::scan`]. The path decides how the
//! file is read (a `.env`, a Terraform state, a kubeconfig, a docker `config.json`, …); see the
//! crate's README for the rule format and what is and is not detected.
//!
//! A [`Match`] carries the rule, the place (file, line, column, byte span), a redacted preview
//! and a [`Fingerprint`], never the secret: no `Debug`, `Display` or `Serialize` path can print
//! it because no match stores it. [`group`] turns matches into [`Credential`]s, one per secret
//! however many files hold it, with the rule's rotation steps.
//!
//! ```
//! use tagwarden_secrets::{Scanner, group};
//!
//! let scanner = Scanner::builtin().expect("the built-in rules load");
//! let token = ["ghp_", "q8Zr2LmV0xTf7KpW3sNd9Bc6Yh1Ja5Ue4Gi0"].concat();
//! let found = scanner.scan(".env", format!("GITHUB_TOKEN={token}\n").as_bytes());
//! let m = &found.matches[0];
//! assert_eq!(m.rule.id, "github.pat-classic");
//! assert_eq!((m.location.line, m.location.column), (1, 14));
//! assert_eq!(m.preview, "ghp_…4Gi0");
//! let credentials = group(found.matches);
//! assert_eq!(credentials[0].rule.rotation.id, "github-token");
//! ```

mod credential;
mod filters;
mod readers;
mod redact;
pub mod rules;
mod scan;

use std::fmt;
use std::sync::Arc;

pub use credential::{Credential, group};
pub use redact::Fingerprint;
pub use rules::{
    Confidence, Rotation, Rule, RuleError, RuleSet, SelfTestFailure, Source, self_test,
};
pub use scan::Scanner;
pub use tagwarden_findings::Location;
use tagwarden_text::LineIndex;

/// Limits and keys for a [`Scanner`].
#[derive(Clone)]
pub struct Options {
    /// Files larger than this are not scanned (a note says so). Default 16 MiB: a Terraform
    /// state of a large estate fits, a database dump does not.
    pub max_file_size: usize,
    /// Matches reported per file at most (a note says when more were found). Default 1,000.
    pub max_matches: usize,
    /// Key for the fingerprints (HMAC-SHA-256); `None` for a plain SHA-256, which is the same
    /// in every run and every organisation.
    pub fingerprint_key: Option<Vec<u8>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_file_size: 16 << 20,
            max_matches: 1000,
            fingerprint_key: None,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("max_file_size", &self.max_file_size)
            .field("max_matches", &self.max_matches)
            .field(
                "fingerprint_key",
                &self.fingerprint_key.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

impl Scanner {
    /// A scanner with the built-in rules and default options.
    pub fn builtin() -> Result<Scanner, Vec<RuleError>> {
        Scanner::new(RuleSet::builtin()?, Options::default())
    }
}

/// What one file holds.
#[derive(Debug, Default, serde::Serialize)]
pub struct FileScan {
    /// In the order of the file.
    pub matches: Vec<Match>,
    /// Why the file, or a part of it, was not read.
    pub notes: Vec<Note>,
}

/// A credential found at one place. Holds no secret: only a preview and a fingerprint.
#[derive(Clone, serde::Serialize)]
pub struct Match {
    #[serde(serialize_with = "rule_id")]
    pub rule: Arc<Rule>,
    /// Where the value is written; for a decoded value, the encoded text it was decoded from.
    pub location: Location,
    /// A few characters of the secret, `AKIA…Q7` (see [`Fingerprint`] for telling secrets apart).
    pub preview: String,
    pub fingerprint: Fingerprint,
    /// The name the value is bound to, when it was read as an assignment: `DB_PASSWORD`,
    /// `Secret prod/app data.token`, `auths.ghcr.io.auth`.
    pub key: Option<String>,
    /// Whose credential it is, when the file says and it is not secret: `ci-bot at ghcr.io`,
    /// `profile deploy`, a service account's e-mail, a kubeconfig user and server.
    pub account: Option<String>,
    /// How the value was decoded from the bytes at `location`: `base64 value of data.token`.
    pub decoded: Option<String>,
    /// The fingerprint of the other half of this credential found nearby (the access key id of
    /// an AWS secret key).
    pub paired_with: Option<Fingerprint>,
}

fn rule_id<S: serde::Serializer>(rule: &Arc<Rule>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rule.id)
}

impl fmt::Debug for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Match")
            .field("rule", &self.rule.id)
            .field(
                "location",
                &format_args!(
                    "{}:{}:{}",
                    self.location.path, self.location.line, self.location.column
                ),
            )
            .field("preview", &self.preview)
            .field("fingerprint", &self.fingerprint)
            .field("key", &self.key)
            .field("account", &self.account)
            .field("decoded", &self.decoded)
            .field("paired_with", &self.paired_with)
            .finish()
    }
}

/// Why a file, or part of it, was not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    /// A NUL byte in the first 8 KiB: not text.
    Binary,
    /// Larger than [`Options::max_file_size`].
    TooLarge,
    /// The structured reader met a syntax error; the lines were still searched.
    Unparsed,
    /// More matches than [`Options::max_matches`].
    Truncated,
}

/// A note about a file: what was skipped and why, at a line and column when it is about a
/// place in the file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Note {
    pub kind: NoteKind,
    pub path: String,
    /// 1-based; `None` for the whole file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl Note {
    fn file(path: &str, kind: NoteKind, message: String) -> Note {
        Note {
            kind,
            path: path.to_string(),
            line: None,
            column: None,
            message,
        }
    }

    fn at(path: &str, text: &str, offset: usize, kind: NoteKind, message: String) -> Note {
        let (line, column) = LineIndex::new(text).line_col(text, offset);
        Note {
            kind,
            path: path.to_string(),
            line: Some(line),
            column: Some(column),
            message,
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.path, self.message),
            _ => write!(f, "{}: {}", self.path, self.message),
        }
    }
}
