use std::fmt;

/// What is wrong with a reference, and at which byte of it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {offset})")]
pub struct ParseError {
    kind: ErrorKind,
    offset: usize,
}

impl ParseError {
    pub(crate) fn new(kind: ErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// The kind of mistake.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Byte offset in the parsed string where the mistake is.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// The ways a reference can be invalid.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    Empty,
    /// Leading or trailing white space, or white space inside.
    Whitespace,
    /// A character that cannot appear where it is.
    InvalidChar(char),
    /// The repository path has upper-case letters.
    Uppercase,
    /// A path component is empty (`a//b`, trailing `/`).
    EmptyComponent,
    /// A separator at the start or end of a path component, or an invalid run of them.
    BadSeparator,
    InvalidDomain(String),
    InvalidPort(String),
    EmptyTag,
    InvalidTag(String),
    TagTooLong(usize),
    /// The path (the name without its domain) is longer than 255 characters.
    NameTooLong(usize),
    /// A bare 64-character hexadecimal word: docker reads it as an image ID.
    HexIdentifier,
    MissingDigestAlgorithm,
    UnsupportedDigestAlgorithm(String),
    /// The hex part of a digest has the wrong length for its algorithm.
    DigestLength {
        algorithm: String,
        expected: usize,
        found: usize,
    },
    /// The hex part has a non-hex or upper-case character.
    DigestHex,
    UnexpectedTagOrDigest,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty reference"),
            Self::Whitespace => f.write_str("white space is not allowed in a reference"),
            Self::InvalidChar(c) => write!(f, "invalid character {c:?}"),
            Self::Uppercase => f.write_str("repository name must be lowercase"),
            Self::EmptyComponent => f.write_str("empty path component"),
            Self::BadSeparator => f.write_str(
                "path components must start and end with a letter or digit (separators are '.', '_', '__' or '-')",
            ),
            Self::InvalidDomain(d) => write!(f, "invalid registry host {d:?}"),
            Self::InvalidPort(p) => write!(f, "invalid registry port {p:?}"),
            Self::EmptyTag => f.write_str("empty tag after ':'"),
            Self::InvalidTag(t) => write!(
                f,
                "invalid tag {t:?}: a tag is a letter, digit or '_' followed by up to 127 letters, digits, '_', '.' or '-'"
            ),
            Self::TagTooLong(n) => write!(f, "tag is {n} characters long; the limit is 128"),
            Self::NameTooLong(n) => write!(
                f,
                "repository path is {n} characters long; the limit is 255 (without the registry host)"
            ),
            Self::HexIdentifier => f.write_str(
                "a 64-character hexadecimal name is an image ID, not a repository (docker refuses it)",
            ),
            Self::MissingDigestAlgorithm => f.write_str("digest must be written algorithm:hex"),
            Self::UnsupportedDigestAlgorithm(a) => {
                write!(f, "unsupported digest algorithm {a:?} (sha256 and sha512 are registered)")
            }
            Self::DigestLength {
                algorithm,
                expected,
                found,
            } => write!(
                f,
                "{algorithm} digest must have {expected} hex characters, found {found}"
            ),
            Self::DigestHex => f.write_str("digest must be lowercase hexadecimal"),
            Self::UnexpectedTagOrDigest => f.write_str("expected a repository name without tag or digest"),
        }
    }
}
