//! Sigstore's `trusted_root.json`: the Fulcio CAs, Rekor log keys and CT log keys a keyless
//! signature is checked against, each with the time range it was valid for.

use serde::Deserialize;

use crate::keys::{PublicKey, b64};

/// The public-good instance's trust root, from the `sigstore` 4.5.1 package (see
/// `trust/public-good/SOURCE.md`).
pub const PUBLIC_GOOD: &str = include_str!("../trust/public-good/trusted_root.json");

/// A certificate authority: its chain (issuing certificate first, root last) and validity.
#[derive(Clone, Debug)]
pub struct CertificateAuthority {
    pub uri: String,
    pub chain: Vec<Vec<u8>>,
    pub valid: Validity,
}

/// A transparency or CT log's key.
#[derive(Clone, Debug)]
pub struct LogKey {
    pub base_url: String,
    pub id: Vec<u8>,
    pub key: PublicKey,
    pub valid: Validity,
}

/// A time range in Unix seconds; an open end is unbounded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Validity {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Validity {
    pub fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| s <= t) && self.end.is_none_or(|e| t <= e)
    }
}

/// A parsed trust root.
#[derive(Clone, Debug, Default)]
pub struct TrustRoot {
    pub certificate_authorities: Vec<CertificateAuthority>,
    pub tlogs: Vec<LogKey>,
    pub ctlogs: Vec<LogKey>,
    /// Entries that were skipped (an unsupported key type), for the user to know.
    pub skipped: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawCa>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    base_url: String,
    public_key: RawKey,
    log_id: RawLogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    raw_bytes: String,
    #[serde(default)]
    key_details: String,
    #[serde(default)]
    valid_for: RawValidity,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize, Default)]
struct RawValidity {
    start: Option<String>,
    end: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCa {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    #[serde(default)]
    valid_for: RawValidity,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    raw_bytes: String,
}

impl TrustRoot {
    /// The built-in public-good trust root.
    pub fn public_good() -> Self {
        // Checked by a test, so this cannot fail at run time.
        Self::from_json(PUBLIC_GOOD).unwrap_or_default()
    }

    /// Parses a `trusted_root.json`; errors name the line and column.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let raw: Raw =
            serde_json::from_str(text).map_err(|e| format!("{}:{}: {e}", e.line(), e.column()))?;
        let mut root = TrustRoot::default();
        for (i, ca) in raw.certificate_authorities.iter().enumerate() {
            let chain = ca
                .cert_chain
                .certificates
                .iter()
                .map(|c| b64(&c.raw_bytes))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("certificateAuthorities[{i}]: {e}"))?;
            if chain.is_empty() {
                return Err(format!(
                    "certificateAuthorities[{i}]: empty certificate chain"
                ));
            }
            root.certificate_authorities.push(CertificateAuthority {
                uri: ca.uri.clone(),
                chain,
                valid: validity(&ca.valid_for)
                    .map_err(|e| format!("certificateAuthorities[{i}]: {e}"))?,
            });
        }
        for (list, name, out) in [
            (&raw.tlogs, "tlogs", &mut root.tlogs),
            (&raw.ctlogs, "ctlogs", &mut root.ctlogs),
        ] {
            for (i, log) in list.iter().enumerate() {
                let der =
                    b64(&log.public_key.raw_bytes).map_err(|e| format!("{name}[{i}]: {e}"))?;
                let key = match PublicKey::from_spki(&der) {
                    Ok(k) => k,
                    Err(e) => {
                        root.skipped.push(format!(
                            "{name}[{i}] ({}, {}): {e}",
                            log.base_url, log.public_key.key_details
                        ));
                        continue;
                    }
                };
                out.push(LogKey {
                    base_url: log.base_url.clone(),
                    id: b64(&log.log_id.key_id).map_err(|e| format!("{name}[{i}]: {e}"))?,
                    key,
                    valid: validity(&log.public_key.valid_for)
                        .map_err(|e| format!("{name}[{i}]: {e}"))?,
                });
            }
        }
        Ok(root)
    }

    /// The transparency log with this id, if the trust root has it.
    pub fn tlog(&self, id: &[u8]) -> Option<&LogKey> {
        self.tlogs.iter().find(|l| l.id == id)
    }

    /// The CT log with this id, if the trust root has it.
    pub fn ctlog(&self, id: &[u8]) -> Option<&LogKey> {
        self.ctlogs.iter().find(|l| l.id == id)
    }
}

fn validity(raw: &RawValidity) -> Result<Validity, String> {
    let parse = |s: &Option<String>| -> Result<Option<i64>, String> {
        s.as_deref()
            .map(|s| {
                s.parse::<jiff::Timestamp>()
                    .map(|t| t.as_second())
                    .map_err(|e| format!("invalid time {s:?}: {e}"))
            })
            .transpose()
    };
    Ok(Validity {
        start: parse(&raw.start)?,
        end: parse(&raw.end)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_good_root_parses_whole() {
        let root = TrustRoot::from_json(PUBLIC_GOOD).unwrap();
        assert_eq!(root.certificate_authorities.len(), 2);
        assert_eq!(root.certificate_authorities[1].chain.len(), 2);
        assert_eq!(root.tlogs.len(), 2);
        assert_eq!(root.ctlogs.len(), 2);
        assert!(root.skipped.is_empty(), "{:?}", root.skipped);
        // A v1 log's id is the SHA-256 of its key, which is how entries name their log (Rekor
        // v2's Ed25519 log names itself by its signed-note key id, and is not supported).
        for log in root
            .tlogs
            .iter()
            .chain(&root.ctlogs)
            .filter(|l| l.key.kind() != crate::KeyKind::Ed25519)
        {
            assert_eq!(log.id, log.key.log_id(), "{}", log.base_url);
        }
    }

    #[test]
    fn errors_have_a_position() {
        let e = TrustRoot::from_json("{\n  \"tlogs\": [1]\n}").unwrap_err();
        assert!(e.starts_with("2:"), "{e}");
    }
}
