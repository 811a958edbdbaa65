//! Sigstore bundles (media types `application/vnd.dev.sigstore.bundle+json;version=0.1`, `0.2`
//! and `application/vnd.dev.sigstore.bundle.v0.3+json`): the verification material (certificate
//! or chain, or a key hint; transparency-log entries) and the signed content. Pure parsing.

use serde::Deserialize;

use crate::keys::b64;
use crate::tlog::{Entry, InclusionProof};

/// What a bundle carries, decoded.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bundle {
    /// `(major, minor)` of the bundle format.
    pub(crate) version: (u32, u32),
    /// The signing certificate (DER), for keyless signatures.
    pub(crate) certificate: Option<Vec<u8>>,
    pub(crate) tlog_entries: Vec<Entry>,
    pub(crate) content: Content,
}

#[derive(Clone, Debug, Default)]
pub(crate) enum Content {
    #[default]
    None,
    /// A DSSE envelope: the payload, its type, and its signatures.
    Dsse {
        payload_type: String,
        payload: Vec<u8>,
        signatures: Vec<Vec<u8>>,
    },
    /// A signature over an artifact the bundle does not carry (only named by its digest).
    Message,
}

/// Bundles bigger than this are refused before parsing (real ones are a few KiB).
pub(crate) const MAX_BUNDLE: usize = 1024 * 1024;

/// A proto-JSON int64: a string, or a number from lenient writers.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Int {
    Str(String),
    Num(i64),
}

impl Int {
    fn get(&self) -> Result<i64, String> {
        match self {
            Int::Num(n) => Ok(*n),
            Int::Str(s) => s.parse().map_err(|_| format!("{s:?} is not an integer")),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    media_type: String,
    verification_material: Material,
    #[serde(default)]
    dsse_envelope: Option<Dsse>,
    #[serde(default)]
    message_signature: Option<MessageSignature>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Material {
    #[serde(default)]
    certificate: Option<RawBytes>,
    #[serde(default)]
    x509_certificate_chain: Option<Chain>,
    #[serde(default)]
    tlog_entries: Vec<TlogEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct Chain {
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TlogEntry {
    log_index: Int,
    log_id: LogId,
    integrated_time: Int,
    #[serde(default)]
    inclusion_promise: Option<Promise>,
    #[serde(default)]
    inclusion_proof: Option<Proof>,
    #[serde(default)]
    kind_version: Option<KindVersion>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
struct KindVersion {
    kind: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Promise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Proof {
    log_index: Int,
    root_hash: String,
    tree_size: Int,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    checkpoint: Option<Checkpoint>,
}

#[derive(Deserialize)]
struct Checkpoint {
    envelope: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dsse {
    payload: String,
    payload_type: String,
    signatures: Vec<DsseSignature>,
}

#[derive(Deserialize)]
struct DsseSignature {
    sig: String,
}

#[derive(Deserialize)]
struct MessageSignature {
    signature: String,
}

/// Parses a bundle's JSON. Unknown fields are ignored; what verification needs must be there.
pub(crate) fn parse(bytes: &[u8]) -> Result<Bundle, String> {
    if bytes.len() > MAX_BUNDLE {
        return Err(format!("the bundle is larger than {MAX_BUNDLE} bytes"));
    }
    let raw: Raw = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "the Sigstore bundle is not valid at line {}, column {}: {e}",
            e.line(),
            e.column()
        )
    })?;
    let version = media_type_version(&raw.media_type)
        .ok_or_else(|| format!("unknown bundle media type {:?}", raw.media_type))?;
    let m = &raw.verification_material;
    let certificate = match (&m.certificate, &m.x509_certificate_chain) {
        (Some(c), _) => Some(b64(&c.raw_bytes)?),
        (None, Some(chain)) => chain
            .certificates
            .first()
            .map(|c| b64(&c.raw_bytes))
            .transpose()?,
        (None, None) => None,
    };
    let mut tlog_entries = Vec::new();
    for e in &m.tlog_entries {
        let proof = match &e.inclusion_proof {
            Some(p) => Some(InclusionProof {
                log_index: u64::try_from(p.log_index.get()?).map_err(|_| "negative log index")?,
                tree_size: u64::try_from(p.tree_size.get()?).map_err(|_| "negative tree size")?,
                root_hash: b64(&p.root_hash)?,
                hashes: p.hashes.iter().map(|h| b64(h)).collect::<Result<_, _>>()?,
                checkpoint: p.checkpoint.as_ref().map(|c| c.envelope.clone()),
            }),
            None => None,
        };
        tlog_entries.push(Entry {
            log_id: b64(&e.log_id.key_id)?,
            log_index: e.log_index.get()?,
            integrated_time: e.integrated_time.get()?,
            body: b64(&e.canonicalized_body)?,
            set: e
                .inclusion_promise
                .as_ref()
                .map(|p| b64(&p.signed_entry_timestamp))
                .transpose()?
                .filter(|s| !s.is_empty()),
            proof,
            kind_version: e
                .kind_version
                .as_ref()
                .map(|k| (k.kind.clone(), k.version.clone())),
        });
    }
    let content = match (&raw.dsse_envelope, &raw.message_signature) {
        (Some(d), _) => Content::Dsse {
            payload_type: d.payload_type.clone(),
            payload: b64(&d.payload)?,
            signatures: d
                .signatures
                .iter()
                .map(|s| b64(&s.sig))
                .collect::<Result<_, _>>()?,
        },
        (None, Some(s)) => {
            b64(&s.signature)?;
            Content::Message
        }
        (None, None) => Content::None,
    };
    Ok(Bundle {
        version,
        certificate,
        tlog_entries,
        content,
    })
}

fn media_type_version(media_type: &str) -> Option<(u32, u32)> {
    let v = if let Some(rest) =
        media_type.strip_prefix("application/vnd.dev.sigstore.bundle+json;version=")
    {
        rest
    } else {
        media_type
            .strip_prefix("application/vnd.dev.sigstore.bundle.v")?
            .strip_suffix("+json")?
    };
    let (major, minor) = v.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert_eq!(
            media_type_version("application/vnd.dev.sigstore.bundle+json;version=0.1"),
            Some((0, 1))
        );
        assert_eq!(
            media_type_version("application/vnd.dev.sigstore.bundle.v0.3+json"),
            Some((0, 3))
        );
        assert_eq!(media_type_version("application/json"), None);
    }

    #[test]
    fn bad_bundles_are_refused_with_a_position() {
        let e = parse(b"{\n\"mediaType\": 3}").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = parse(br#"{"mediaType":"x","verificationMaterial":{}}"#).unwrap_err();
        assert!(e.contains("unknown bundle media type"), "{e}");
        let e = parse(br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"tlogEntries":[{"logIndex":"x","logId":{"keyId":""},"integratedTime":"1","canonicalizedBody":""}]}}"#).unwrap_err();
        assert!(e.contains("not an integer"), "{e}");
    }
}
