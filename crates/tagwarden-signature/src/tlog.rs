//! Rekor (v1) transparency-log entries carried with a signature, checked offline: the signed
//! entry timestamp against the log's key, the Merkle inclusion proof (RFC 6962) against a
//! signed checkpoint, and the entry's body against the signature it is said to record.

use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::keys::{b64, hex, unhex};
use crate::trust_root::TrustRoot;

/// A log entry as a bundle or a cosign annotation carries it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Entry {
    pub(crate) log_id: Vec<u8>,
    pub(crate) log_index: i64,
    pub(crate) integrated_time: i64,
    /// The canonicalized entry body (JSON).
    pub(crate) body: Vec<u8>,
    /// The signed entry timestamp (the log's promise of inclusion).
    pub(crate) set: Option<Vec<u8>>,
    pub(crate) proof: Option<InclusionProof>,
    /// The entry's kind and version as the bundle names them (`dsse`, `0.0.1`).
    pub(crate) kind_version: Option<(String, String)>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct InclusionProof {
    pub(crate) log_index: u64,
    pub(crate) tree_size: u64,
    pub(crate) root_hash: Vec<u8>,
    pub(crate) hashes: Vec<Vec<u8>>,
    /// The signed note of the tree head the proof is for.
    pub(crate) checkpoint: Option<String>,
}

/// What a verified entry establishes.
#[derive(Clone, Debug)]
pub(crate) struct Verified {
    /// The time the log integrated the entry: the signing time.
    pub(crate) integrated_time: i64,
    pub(crate) log: String,
    pub(crate) log_index: i64,
}

/// Checks an entry's log signatures. `require_proof` asks for an inclusion proof too (bundles
/// from v0.2 on must carry one).
pub(crate) fn verify(
    entry: &Entry,
    root: &TrustRoot,
    require_proof: bool,
) -> Result<Verified, String> {
    if let Some((kind, version)) = &entry.kind_version
        && version != "0.0.1"
    {
        return Err(format!(
            "a Rekor v2 entry ({kind} {version}), which tagwarden cannot verify yet (it needs RFC 3161 timestamps)"
        ));
    }
    let log = root.tlog(&entry.log_id).ok_or_else(|| {
        format!(
            "the transparency-log entry is from a log that is not in the trust root (log id {})",
            hex(&entry.log_id)
        )
    })?;
    if !log.valid.contains(entry.integrated_time) {
        return Err("the transparency log's key was not valid at the entry's time".into());
    }
    let set = entry.set.as_ref().ok_or(
        "the transparency-log entry has no signed entry timestamp, so its time is unproven",
    )?;
    let promise = format!(
        r#"{{"body":{},"integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(&entry.body)),
        entry.integrated_time,
        hex(&entry.log_id),
        entry.log_index
    );
    log.key.verify(promise.as_bytes(), set).map_err(|_| {
        "the signed entry timestamp does not verify against the transparency log's key (the entry or its time was altered)"
            .to_string()
    })?;
    match &entry.proof {
        Some(proof) => verify_inclusion(entry, proof, &log.key)?,
        None if require_proof => {
            return Err(
                "the bundle carries no inclusion proof for its transparency-log entry".into(),
            );
        }
        None => {}
    }
    Ok(Verified {
        integrated_time: entry.integrated_time,
        log: log.base_url.clone(),
        log_index: entry.log_index,
    })
}

fn verify_inclusion(
    entry: &Entry,
    proof: &InclusionProof,
    key: &crate::keys::PublicKey,
) -> Result<(), String> {
    let leaf: [u8; 32] = Sha256::new()
        .chain_update([0u8])
        .chain_update(&entry.body)
        .finalize()
        .into();
    let computed = root_from_proof(proof.log_index, proof.tree_size, leaf, &proof.hashes)
        .ok_or("the inclusion proof is malformed (its length does not fit the tree size)")?;
    if computed.as_slice() != proof.root_hash.as_slice() {
        return Err("the inclusion proof does not lead to the tree's root hash".into());
    }
    let Some(note) = &proof.checkpoint else {
        return Err("the inclusion proof has no signed checkpoint".into());
    };
    let (size, root) = verify_checkpoint(note, key)?;
    if size != proof.tree_size || root != proof.root_hash {
        return Err("the signed checkpoint is for another tree than the inclusion proof".into());
    }
    Ok(())
}

/// An interior node of an RFC 6962 Merkle tree.
fn node(l: &[u8], r: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(l)
        .chain_update(r)
        .finalize()
        .into()
}

/// The root hash an RFC 6962 audit path leads to (RFC 9162 §2.1.3.2).
fn root_from_proof(index: u64, size: u64, leaf: [u8; 32], path: &[Vec<u8>]) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf;
    for p in path {
        if p.len() != 32 || sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// Checks a signed note (`origin\nsize\nroot\n…\n\n— name sig`) against the log's key and
/// returns its tree size and root hash.
fn verify_checkpoint(note: &str, key: &crate::keys::PublicKey) -> Result<(u64, Vec<u8>), String> {
    let bad = |why: &str| format!("the checkpoint is malformed: {why}");
    let (text, signatures) = note
        .split_once("\n\n")
        .ok_or_else(|| bad("no signature block"))?;
    let signed = format!("{text}\n");
    let mut lines = text.lines();
    let _origin = lines.next().ok_or_else(|| bad("no origin"))?;
    let size: u64 = lines
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| bad("no tree size"))?;
    let root = lines
        .next()
        .and_then(|l| b64(l).ok())
        .ok_or_else(|| bad("no root hash"))?;
    let verified = signatures.lines().any(|line| {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return false;
        };
        let Some((_, sig)) = rest.rsplit_once(' ') else {
            return false;
        };
        // Four bytes of key hint, then the signature.
        b64(sig)
            .ok()
            .filter(|s| s.len() > 4)
            .is_some_and(|s| key.verify(signed.as_bytes(), &s[4..]).is_ok())
    });
    if !verified {
        return Err(
            "the checkpoint's signature does not verify against the transparency log's key".into(),
        );
    }
    Ok((size, root))
}

/// What a `hashedrekord` or `dsse` entry body records.
#[derive(Deserialize)]
struct Body {
    kind: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
    spec: serde_json::Value,
}

/// What the entry must record for the signature it comes with.
pub(crate) struct Expected<'a> {
    /// The bytes signed (for DSSE, the payload; the body records its hash).
    pub(crate) payload: &'a [u8],
    pub(crate) signature: &'a [u8],
    /// The signing certificate (DER) or, for keyed signatures, the public key (SPKI DER).
    pub(crate) certificate: Option<&'a [u8]>,
    pub(crate) key_spki: &'a [u8],
}

/// Checks that the log entry is about this signature: same payload hash, same signature, same
/// certificate or key. Otherwise a valid entry for something else could be replayed.
pub(crate) fn check_body(entry: &Entry, expected: &Expected<'_>) -> Result<(), String> {
    let body: Body = serde_json::from_slice(&entry.body)
        .map_err(|e| format!("the transparency-log entry body is not valid: {e}"))?;
    let digest = hex(&Sha256::digest(expected.payload));
    let str_at = |path: &[&str]| -> Option<&str> {
        let mut v = &body.spec;
        for p in path {
            v = v.get(*p)?;
        }
        v.as_str()
    };
    let (hash, signatures): (Option<&str>, Vec<(&str, &str)>) = match (
        body.kind.as_str(),
        body.api_version.as_str(),
    ) {
        ("hashedrekord", "0.0.1") => (
            str_at(&["data", "hash", "value"]),
            vec![(
                str_at(&["signature", "content"]).unwrap_or(""),
                str_at(&["signature", "publicKey", "content"]).unwrap_or(""),
            )],
        ),
        ("dsse", "0.0.1") => (
            str_at(&["payloadHash", "value"]),
            body.spec
                .get("signatures")
                .and_then(|s| s.as_array())
                .map(|list| {
                    list.iter()
                        .map(|s| {
                            (
                                s.get("signature").and_then(|v| v.as_str()).unwrap_or(""),
                                s.get("verifier").and_then(|v| v.as_str()).unwrap_or(""),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
        (kind, version) => {
            return Err(format!(
                "transparency-log entries of kind {kind} {version} are not supported (hashedrekord 0.0.1 and dsse 0.0.1 are)"
            ));
        }
    };
    if hash.map(str::to_ascii_lowercase).as_deref() != Some(digest.as_str()) {
        return Err("the transparency-log entry records another payload".into());
    }
    let wanted_verifier: Vec<u8> = expected.certificate.unwrap_or(expected.key_spki).to_vec();
    let matches = signatures.iter().any(|(sig, verifier)| {
        let sig_ok = b64(sig).is_ok_and(|s| s == expected.signature);
        let verifier_ok = b64(verifier).is_ok_and(|pem| {
            crate::keys::pem_blocks(&pem)
                .unwrap_or_default()
                .iter()
                .any(|(_, der)| *der == wanted_verifier)
                || pem == wanted_verifier
        });
        sig_ok && verifier_ok
    });
    if !matches {
        return Err(
            "the transparency-log entry records another signature or signer than the one presented"
                .into(),
        );
    }
    Ok(())
}

/// Parses cosign's `dev.sigstore.cosign/bundle` annotation (a Rekor entry and its SET).
pub(crate) fn from_cosign_annotation(text: &str) -> Result<Entry, String> {
    #[derive(Deserialize)]
    struct Annotation {
        #[serde(rename = "SignedEntryTimestamp")]
        set: Option<String>,
        #[serde(rename = "Payload")]
        payload: Payload,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload {
        body: String,
        integrated_time: i64,
        log_index: i64,
        #[serde(rename = "logID")]
        log_id: String,
    }
    let a: Annotation = serde_json::from_str(text)
        .map_err(|e| format!("the cosign bundle annotation is not valid: {e}"))?;
    Ok(Entry {
        log_id: unhex(&a.payload.log_id).ok_or("the cosign bundle's logID is not hex")?,
        log_index: a.payload.log_index,
        integrated_time: a.payload.integrated_time,
        body: b64(&a.payload.body)?,
        set: a
            .set
            .as_deref()
            .map(b64)
            .transpose()?
            .filter(|s| !s.is_empty()),
        proof: None,
        kind_version: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(i: u8) -> [u8; 32] {
        Sha256::new()
            .chain_update([0u8])
            .chain_update([i])
            .finalize()
            .into()
    }

    #[test]
    fn inclusion_proofs_in_a_five_leaf_tree() {
        let l: Vec<[u8; 32]> = (0..5).map(leaf).collect();
        let ab = node(&l[0], &l[1]);
        let cd = node(&l[2], &l[3]);
        let abcd = node(&ab, &cd);
        let root = node(&abcd, &l[4]);
        // Leaf 2: its sibling 3, then ab, then leaf 4.
        let path = vec![l[3].to_vec(), ab.to_vec(), l[4].to_vec()];
        assert_eq!(root_from_proof(2, 5, l[2], &path), Some(root));
        // Leaf 4, alone on the right: abcd.
        assert_eq!(root_from_proof(4, 5, l[4], &[abcd.to_vec()]), Some(root));
        // A wrong sibling or index leads elsewhere, a short path nowhere.
        assert_ne!(root_from_proof(3, 5, l[2], &path), Some(root));
        assert_eq!(root_from_proof(2, 5, l[2], &path[..2]), None);
        assert_eq!(root_from_proof(5, 5, l[2], &path), None);
    }
}
