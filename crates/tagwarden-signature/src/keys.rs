//! Public keys as cosign and Sigstore write them (PEM or DER `SubjectPublicKeyInfo`), and the
//! signature checks each kind needs.

use base64::Engine as _;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use sha2::{Digest as _, Sha256};

use crate::der::{self, Reader};

const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const ED25519: &str = "1.3.101.112";
const RSA: &str = "1.2.840.113549.1.1.1";

/// Which kind of key, for messages and policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
    Rsa,
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyKind::EcdsaP256 => "ECDSA P-256",
            KeyKind::EcdsaP384 => "ECDSA P-384",
            KeyKind::Ed25519 => "Ed25519",
            KeyKind::Rsa => "RSA",
        })
    }
}

/// A public key that can check signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    kind: KeyKind,
    /// The whole `SubjectPublicKeyInfo`, as logs and certificates carry it.
    spki: Vec<u8>,
    /// The key bits ring wants (an EC point, an Ed25519 key, a PKCS#1 RSA key).
    bits: Vec<u8>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({} {})", self.kind, self.fingerprint())
    }
}

impl PublicKey {
    /// Reads a `PUBLIC KEY` (or `RSA PUBLIC KEY`) PEM block, or DER when the input is not PEM.
    pub fn from_pem_or_der(input: &[u8]) -> Result<Self, String> {
        match pem_blocks(input) {
            Some(blocks) => {
                let (label, der) = blocks
                    .into_iter()
                    .find(|(l, _)| l == "PUBLIC KEY" || l == "RSA PUBLIC KEY")
                    .ok_or("no PUBLIC KEY block in the PEM file")?;
                if label == "RSA PUBLIC KEY" {
                    return Self::from_pkcs1_rsa(&der);
                }
                Self::from_spki(&der)
            }
            None => Self::from_spki(input),
        }
    }

    /// Reads a DER `SubjectPublicKeyInfo`.
    pub fn from_spki(spki: &[u8]) -> Result<Self, String> {
        let mut outer = Reader::new(spki);
        let seq = outer.expect(der::SEQUENCE, "public key")?;
        if !outer.is_empty() {
            return Err("public key: trailing bytes".into());
        }
        let mut r = seq.reader();
        let alg = r.expect(der::SEQUENCE, "public key algorithm")?;
        let mut a = alg.reader();
        let oid = der::oid_string(a.expect(der::OID, "public key algorithm")?.value);
        let param = a.optional(der::OID).map(|p| der::oid_string(p.value));
        let bits = r.expect(der::BIT_STRING, "public key bits")?.value;
        let (&unused, bits) = bits.split_first().ok_or("public key: empty bit string")?;
        if unused != 0 {
            return Err("public key: bit string with unused bits".into());
        }
        let kind = match (oid.as_str(), param.as_deref()) {
            (EC_PUBLIC_KEY, Some(P256)) => KeyKind::EcdsaP256,
            (EC_PUBLIC_KEY, Some(P384)) => KeyKind::EcdsaP384,
            (EC_PUBLIC_KEY, other) => {
                return Err(format!(
                    "unsupported elliptic curve {}",
                    other.unwrap_or("(none)")
                ));
            }
            (ED25519, _) => KeyKind::Ed25519,
            (RSA, _) => KeyKind::Rsa,
            (other, _) => return Err(format!("unsupported public key algorithm {other}")),
        };
        Ok(Self {
            kind,
            spki: spki.to_vec(),
            bits: bits.to_vec(),
        })
    }

    fn from_pkcs1_rsa(pkcs1: &[u8]) -> Result<Self, String> {
        let alg = der::encode(
            der::SEQUENCE,
            &[
                der::encode(
                    der::OID,
                    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
                ),
                vec![0x05, 0x00],
            ]
            .concat(),
        );
        let mut bits = vec![0u8];
        bits.extend_from_slice(pkcs1);
        let spki = der::encode(
            der::SEQUENCE,
            &[alg, der::encode(der::BIT_STRING, &bits)].concat(),
        );
        Self::from_spki(&spki)
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The DER `SubjectPublicKeyInfo`.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// `sha256:<hex>` of the `SubjectPublicKeyInfo`: how a key is named in messages.
    pub fn fingerprint(&self) -> String {
        format!("sha256:{}", hex(&Sha256::digest(&self.spki)))
    }

    /// The SHA-256 of the `SubjectPublicKeyInfo`: a Rekor or CT log's id.
    pub fn log_id(&self) -> [u8; 32] {
        Sha256::digest(&self.spki).into()
    }

    /// Checks a signature over `message` the way Sigstore clients make them: ASN.1 ECDSA with
    /// the curve's hash, pure Ed25519, RSA PKCS#1 v1.5 (or PSS) with SHA-256.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), String> {
        let algorithms: &[&'static dyn VerificationAlgorithm] = match self.kind {
            KeyKind::EcdsaP256 => &[&signature::ECDSA_P256_SHA256_ASN1],
            KeyKind::EcdsaP384 => &[&signature::ECDSA_P384_SHA384_ASN1],
            KeyKind::Ed25519 => &[&signature::ED25519],
            KeyKind::Rsa => &[
                &signature::RSA_PKCS1_2048_8192_SHA256,
                &signature::RSA_PSS_2048_8192_SHA256,
            ],
        };
        let ok = algorithms.iter().any(|alg| {
            UnparsedPublicKey::new(*alg, &self.bits)
                .verify(message, signature)
                .is_ok()
        });
        if ok {
            Ok(())
        } else {
            Err(format!(
                "the signature does not verify with the {} key {}",
                self.kind,
                self.fingerprint()
            ))
        }
    }
}

/// The PEM blocks of a text as (label, DER), or `None` when it holds none.
pub(crate) fn pem_blocks(input: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let text = std::str::from_utf8(input).ok()?;
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            current = Some((label.to_string(), String::new()));
        } else if line.starts_with("-----END ") {
            if let Some((label, body)) = current.take()
                && let Ok(der) = base64::engine::general_purpose::STANDARD.decode(body)
            {
                out.push((label, der));
            }
        } else if let Some((_, body)) = current.as_mut()
            && !line.contains(':')
        {
            body.push_str(line);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The certificates of a PEM text, in order.
pub(crate) fn pem_certificates(input: &[u8]) -> Vec<Vec<u8>> {
    pem_blocks(input)
        .unwrap_or_default()
        .into_iter()
        .filter(|(l, _)| l == "CERTIFICATE")
        .map(|(_, d)| d)
        .collect()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Standard base64, as Sigstore's JSON carries bytes.
pub(crate) fn b64(s: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| format!("invalid base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};

    const P256_SPKI_PREFIX: &str = "3059301306072a8648ce3d020106082a8648ce3d030107034200";
    const ED25519_SPKI_PREFIX: &str = "302a300506032b6570032100";

    #[test]
    fn ecdsa_and_ed25519_keys_verify_their_signatures_only() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let spki = [
            unhex(P256_SPKI_PREFIX).unwrap(),
            pair.public_key().as_ref().to_vec(),
        ]
        .concat();
        let key = PublicKey::from_spki(&spki).unwrap();
        assert_eq!(key.kind(), KeyKind::EcdsaP256);
        let sig = pair.sign(&rng, b"payload").unwrap();
        assert!(key.verify(b"payload", sig.as_ref()).is_ok());
        assert!(key.verify(b"other", sig.as_ref()).is_err());

        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let ed = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let spki = [
            unhex(ED25519_SPKI_PREFIX).unwrap(),
            ed.public_key().as_ref().to_vec(),
        ]
        .concat();
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(&spki)
        );
        let key = PublicKey::from_pem_or_der(pem.as_bytes()).unwrap();
        assert_eq!(key.kind(), KeyKind::Ed25519);
        assert!(key.verify(b"m", ed.sign(b"m").as_ref()).is_ok());
        assert!(key.verify(b"m", ed.sign(b"n").as_ref()).is_err());
    }

    #[test]
    fn rejects_garbage() {
        assert!(PublicKey::from_pem_or_der(b"not a key").is_err());
        assert!(
            PublicKey::from_pem_or_der(
                b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
            )
            .is_err()
        );
    }
}
