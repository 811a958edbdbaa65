use std::fmt;
use std::str::FromStr;

use crate::{ErrorKind, ParseError};

/// A registered digest algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    /// Length of the hex encoding.
    pub fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }
}

/// A content digest such as `sha256:…`, validated for its algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses `algorithm:hex`; offsets in errors are relative to `s`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let Some((alg, hex)) = s.split_once(':') else {
            return Err(ParseError::new(ErrorKind::MissingDigestAlgorithm, 0));
        };
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            "" => return Err(ParseError::new(ErrorKind::MissingDigestAlgorithm, 0)),
            other => {
                let well_formed = other.split(['+', '.', '_', '-']).all(|c| {
                    let mut cs = c.chars();
                    cs.next().is_some_and(|f| f.is_ascii_alphabetic())
                        && cs.all(|ch| ch.is_ascii_alphanumeric())
                });
                if !well_formed {
                    let (i, c) = other
                        .char_indices()
                        .find(|(_, c)| !c.is_ascii_alphanumeric() && !"+._-".contains(*c))
                        .unwrap_or((0, other.chars().next().unwrap_or(' ')));
                    return Err(ParseError::new(ErrorKind::InvalidChar(c), i));
                }
                return Err(ParseError::new(
                    ErrorKind::UnsupportedDigestAlgorithm(other.to_string()),
                    0,
                ));
            }
        };
        let start = alg.len() + 1;
        if let Some(i) = hex
            .bytes()
            .position(|b| !(b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        {
            return Err(ParseError::new(ErrorKind::DigestHex, start + i));
        }
        if hex.len() != algorithm.hex_len() {
            return Err(ParseError::new(
                ErrorKind::DigestLength {
                    algorithm: algorithm.as_str().to_string(),
                    expected: algorithm.hex_len(),
                    found: hex.len(),
                },
                start,
            ));
        }
        Ok(Self {
            algorithm,
            hex: hex.to_string(),
        })
    }

    /// Builds a sha256 digest from raw hash bytes.
    pub fn sha256_from_bytes(bytes: &[u8; 32]) -> Self {
        use fmt::Write;
        let mut hex = String::with_capacity(64);
        for b in bytes {
            let _ = write!(hex, "{b:02x}");
        }
        Self {
            algorithm: Algorithm::Sha256,
            hex,
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex characters, as `docker images` shows them.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.hex)
    }
}

impl FromStr for Digest {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
