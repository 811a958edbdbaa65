//! Reading shared formats into tagwarden advisories.
//!
//! [`import`] takes one document's text (no I/O), maps what it can into the advisory format
//! (`crates/tagwarden-advisory/FORMAT.md`), writes the TOML text and loads it with
//! [`Advisory::from_toml`], so an import is validated exactly like a hand-written file and can
//! be saved as one. What cannot be mapped is listed with its line and column, never dropped
//! silently. The per-format mappings are documented in each module: [`stix`], [`misp`], [`osv`],
//! [`openvex`], [`csaf`].
//!
//! Known good never becomes malicious: each reader judges every value by what its format says
//! it is ([`polarity`], one table for every format) before filing it. Only malicious values are
//! matched; a benign image digest becomes known good; what a document says is not for
//! detection, or leaves unclear, goes to `[[not_indicators]]` (kept out of matching) and is
//! reported as [`Unmapped`] with `kept_out` set, printed as `path:line:column: kept out of
//! matching: …`.
//!
//! Provenance: every document becomes a `[[sources]]` entry (its id, author and URL where it has
//! one), cited by every value taken from it, with the references it lists as further sources.
//! Confidence is `S` (a third-party feed) unless the document says it comes from the vendor
//! (CSAF `publisher.category = "vendor"`: `P`); format-specific confidence (STIX `confidence`,
//! MISP `to_ids`) is mapped as each module says.
//!
//! Bounds: input over [`MAX_INPUT`] bytes is refused, JSON nesting and value counts are capped,
//! and every text kept from a document is cut at 1000 characters.

mod csaf;
mod draft;
mod json;
mod misp;
mod openvex;
mod osv;
mod polarity;
mod purl;
mod stix;
mod vex;

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use tagwarden_advisory::Advisory;

use draft::Draft;

/// Larger documents are refused: every real feed document is far smaller, and it bounds memory.
pub const MAX_INPUT: usize = 16 * 1024 * 1024;

/// A shared format tagwarden imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// A STIX 2.1 bundle of indicators.
    Stix,
    /// A MISP event (`{"Event": …}`, a bare event, or a `{"response": […]}` search result).
    Misp,
    /// An OSV record about GitHub Actions.
    Osv,
    /// An OpenVEX document naming images as `pkg:oci` purls.
    OpenVex,
    /// A CSAF 2.0 VEX document naming images as `pkg:oci` purls.
    Csaf,
}

impl Format {
    /// Every format, in detection order.
    pub const ALL: [Format; 5] = [
        Format::Stix,
        Format::Misp,
        Format::Csaf,
        Format::OpenVex,
        Format::Osv,
    ];

    /// The name used on the command line and in `[imported] format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Stix => "stix",
            Format::Misp => "misp",
            Format::Osv => "osv",
            Format::OpenVex => "openvex",
            Format::Csaf => "csaf",
        }
    }

    /// A name for humans: `STIX 2.1 bundle`, `MISP event`…
    pub fn describe(self) -> &'static str {
        match self {
            Format::Stix => "STIX 2.1 bundle",
            Format::Misp => "MISP event",
            Format::Osv => "OSV record",
            Format::OpenVex => "OpenVEX document",
            Format::Csaf => "CSAF VEX document",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown format {s:?} (stix, misp, osv, openvex, csaf)"))
    }
}

/// Something in a document that was not imported, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmapped {
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// What it was and why it was left out.
    pub message: String,
    /// The value was imported under `[[not_indicators]]`: kept out of matching, not left out.
    pub kept_out: bool,
}

impl fmt::Display for Unmapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.kept_out {
            "kept out of matching"
        } else {
            "not imported"
        };
        write!(
            f,
            "{}:{}:{}: {what}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

/// A successful import.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The advisory file, ending with the unmapped items as comments.
    pub advisory_toml: String,
    /// The same file, loaded and validated.
    pub advisory: Advisory,
    pub unmapped: Vec<Unmapped>,
}

/// Why nothing could be imported, and where: `path:line:column: message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct ImportError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// What was seen but not imported, when the document could be read.
    pub unmapped: Vec<Unmapped>,
}

/// Choices the caller makes for an import.
#[derive(Clone, Debug)]
pub struct Options {
    /// The advisory id; derived from the document when absent.
    pub id: Option<String>,
    /// The date written as `[imported] imported`.
    pub today: Date,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            id: None,
            today: jiff::Zoned::now().date(),
        }
    }
}

/// One document to import.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// Used in messages and recorded in `[imported] file`.
    pub path: &'a str,
    pub text: &'a str,
    /// `None`: detect it.
    pub format: Option<Format>,
}

/// The format of a document, or `None` when it is none tagwarden imports.
pub fn detect(text: &str) -> Option<Format> {
    if text.len() > MAX_INPUT {
        return None;
    }
    let root = json::parse(text).ok()?;
    detect_root(&root)
}

fn detect_root(root: &json::Node) -> Option<Format> {
    if !root.is_object() {
        return None;
    }
    if root.str_of("type") == Some("bundle")
        || (root.get("objects").is_some()
            && root.str_of("id").is_some_and(|i| i.starts_with("bundle--")))
    {
        return Some(Format::Stix);
    }
    if root.get("Event").is_some_and(json::Node::is_object)
        || root.get("response").is_some()
        || (root.str_of("info").is_some()
            && (root.get("Attribute").is_some() || root.get("Object").is_some()))
    {
        return Some(Format::Misp);
    }
    if root
        .get("document")
        .is_some_and(|d| d.get("csaf_version").is_some())
    {
        return Some(Format::Csaf);
    }
    if root
        .str_of("@context")
        .is_some_and(|c| c.contains("openvex"))
        || (root.get("statements").is_some() && root.get("@id").is_some())
    {
        return Some(Format::OpenVex);
    }
    if root.str_of("id").is_some() && root.get("modified").is_some() {
        return Some(Format::Osv);
    }
    None
}

/// Imports one document (see the module documentation), dated today.
pub fn import(path: &str, text: &str, format: Format) -> Result<Imported, ImportError> {
    import_all(
        &[Input {
            path,
            text,
            format: Some(format),
        }],
        &Options::default(),
    )
}

/// Imports several documents about one incident into one advisory: values are merged (a digest,
/// indicator or commit once), each document is a source. The first document gives the id, title
/// and `[imported]` table unless `options` says otherwise.
pub fn import_all(inputs: &[Input<'_>], options: &Options) -> Result<Imported, ImportError> {
    let mut draft = Draft::default();
    let first_path = inputs.first().map_or("", |i| i.path);
    if let Some(id) = &options.id
        && !tagwarden_advisory::syntax::is_identifier(id)
    {
        return Err(ImportError {
            path: first_path.to_string(),
            line: 1,
            column: 1,
            message: format!(
                "invalid advisory id {id:?}: use letters, digits, '.', '_' or '-' (starting with a letter or digit, at most 100)"
            ),
            unmapped: Vec::new(),
        });
    }
    let error = |path: &str, text: &str, at: usize, message: String, draft: &Draft| {
        let (line, column) = tagwarden_advisory::line_column(text, at);
        ImportError {
            path: path.to_string(),
            line,
            column,
            message,
            unmapped: draft.unmapped.clone(),
        }
    };
    for input in inputs {
        if input.text.len() > MAX_INPUT {
            return Err(error(
                input.path,
                "",
                0,
                format!(
                    "the file is larger than {} MiB: not imported",
                    MAX_INPUT / (1024 * 1024)
                ),
                &draft,
            ));
        }
        let root = json::parse(input.text).map_err(|e| {
            error(
                input.path,
                input.text,
                e.at,
                format!("not valid JSON: {}", e.message),
                &draft,
            )
        })?;
        let format = match input.format.or_else(|| detect_root(&root)) {
            Some(f) => f,
            None => {
                return Err(error(
                    input.path,
                    input.text,
                    root.at,
                    "not a format tagwarden imports (STIX 2.1 bundle, MISP event, OSV record, OpenVEX or CSAF VEX document)".to_string(),
                    &draft,
                ));
            }
        };
        let file = Src {
            path: input.path,
            text: input.text,
        };
        let result = match format {
            Format::Stix => stix::read(&root, file, &mut draft),
            Format::Misp => misp::read(&root, file, &mut draft),
            Format::Osv => osv::read(&root, file, &mut draft),
            Format::OpenVex => openvex::read(&root, file, &mut draft),
            Format::Csaf => csaf::read(&root, file, &mut draft),
        };
        if let Err((at, message)) = result {
            return Err(error(input.path, input.text, at, message, &draft));
        }
    }
    let first_text = inputs.first().map_or("", |i| i.text);
    if draft.is_empty() {
        return Err(error(
            first_path,
            first_text,
            0,
            "nothing could be imported".to_string(),
            &draft,
        ));
    }
    let id = match &options.id {
        Some(id) => id.clone(),
        None => draft
            .id_hint
            .clone()
            .unwrap_or_else(|| "imported".to_string()),
    };
    let advisory_toml = draft.to_toml(&id, options.today);
    let advisory = Advisory::from_toml(first_path, &advisory_toml).map_err(|e| ImportError {
        path: e.path.clone(),
        line: e.line,
        column: e.column,
        message: format!("the converted advisory does not load: {}", e.message),
        unmapped: draft.unmapped.clone(),
    })?;
    Ok(Imported {
        advisory_toml,
        advisory,
        unmapped: draft.unmapped,
    })
}

/// A document's path and text, handed to each format's reader.
#[derive(Clone, Copy)]
pub(crate) struct Src<'a> {
    pub(crate) path: &'a str,
    pub(crate) text: &'a str,
}

/// A hard failure of a reader: the byte offset and the message.
pub(crate) type ReadResult = Result<(), (usize, String)>;

#[cfg(test)]
mod tests;
