//! A Sigstore of the tests' own, offline: a Fulcio-like CA (root and intermediate), a Rekor log
//! key and a CT log key, all made here; signers (cosign keys, or short-lived certificates with
//! Fulcio's extensions and an embedded SCT); log entries with their signed entry timestamp and
//! an inclusion proof under a signed checkpoint; and the two ways cosign attaches signatures to
//! an image in a registry (the `.sig` tag, and Sigstore bundles as OCI referrers).
//!
//! Everything is plain data that a test may alter before attaching it, to make the tampered,
//! expired or mismatched cases.

use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::{Registry, base64, digest_of, sha256_hex};

const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn pem(label: &str, der: &[u8]) -> String {
    let b = base64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

fn der(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    der_len(value.len(), &mut out);
    out.extend_from_slice(value);
    out
}

/// The TBS certificate of a DER certificate (its first element).
fn tbs_of(cert: &[u8]) -> Vec<u8> {
    let skip_header = |b: &[u8]| -> (usize, usize) {
        let first = b[1];
        if first < 0x80 {
            (2, usize::from(first))
        } else {
            let n = usize::from(first & 0x7f);
            let len = b[2..2 + n]
                .iter()
                .fold(0usize, |a, &x| (a << 8) | usize::from(x));
            (2 + n, len)
        }
    };
    let (outer, _) = skip_header(cert);
    let inner = &cert[outer..];
    let (h, len) = skip_header(inner);
    inner[..h + len].to_vec()
}

/// A signing key: the private half for signing, the public half as cosign writes it.
pub struct Key {
    kind: KeyKind,
    pkcs8: Vec<u8>,
    /// DER `SubjectPublicKeyInfo`.
    pub spki: Vec<u8>,
}

#[derive(Clone, Copy)]
enum KeyKind {
    P256,
    Ed25519,
    Rsa,
}

impl Key {
    pub fn p256() -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .expect("P-256 key")
            .as_ref()
            .to_vec();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &rng)
            .expect("P-256 key");
        let spki = [&P256_SPKI_PREFIX[..], pair.public_key().as_ref()].concat();
        Key {
            kind: KeyKind::P256,
            pkcs8,
            spki,
        }
    }

    pub fn ed25519() -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
            .expect("Ed25519 key")
            .as_ref()
            .to_vec();
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).expect("Ed25519 key");
        let spki = [&ED25519_SPKI_PREFIX[..], pair.public_key().as_ref()].concat();
        Key {
            kind: KeyKind::Ed25519,
            pkcs8,
            spki,
        }
    }

    /// A 2048-bit RSA key from `openssl genpkey` (ring cannot make RSA keys; OpenSSL 3.0 writes
    /// DER keys in PKCS#1 form, which `pkcs8` then holds).
    pub fn rsa() -> Key {
        let out = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-outform",
                "DER",
            ])
            .output()
            .expect("run openssl genpkey");
        assert!(out.status.success(), "openssl genpkey failed");
        let pkcs8 = out.stdout;
        let pair = RsaKeyPair::from_der(&pkcs8).expect("RSA key");
        let alg = der(
            0x30,
            &[
                der(
                    0x06,
                    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
                ),
                vec![0x05, 0x00],
            ]
            .concat(),
        );
        let bits = [&[0u8][..], pair.public().as_ref()].concat();
        let spki = der(0x30, &[alg, der(0x03, &bits)].concat());
        Key {
            kind: KeyKind::Rsa,
            pkcs8,
            spki,
        }
    }

    /// The public key as a `cosign.pub` PEM file holds it.
    pub fn public_pem(&self) -> String {
        pem("PUBLIC KEY", &self.spki)
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self.kind {
            KeyKind::P256 => {
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.pkcs8, &rng)
                    .expect("P-256 key")
                    .sign(&rng, message)
                    .expect("sign")
                    .as_ref()
                    .to_vec()
            }
            KeyKind::Ed25519 => Ed25519KeyPair::from_pkcs8(&self.pkcs8)
                .expect("Ed25519 key")
                .sign(message)
                .as_ref()
                .to_vec(),
            KeyKind::Rsa => {
                let pair = RsaKeyPair::from_der(&self.pkcs8).expect("RSA key");
                let mut sig = vec![0u8; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .expect("sign");
                sig
            }
        }
    }

    /// SHA-256 of the public key info: a log's id.
    pub fn log_id(&self) -> Vec<u8> {
        Sha256::digest(&self.spki).to_vec()
    }
}

/// Who signs: a cosign key, or a short-lived certificate (DER) and its key.
pub enum Signer {
    Key(Key),
    Keyless { certificate: Vec<u8>, key: Key },
}

impl Signer {
    fn key(&self) -> &Key {
        match self {
            Signer::Key(k) | Signer::Keyless { key: k, .. } => k,
        }
    }

    /// What a log entry records as the verifier: the certificate or the public key, in PEM.
    fn verifier_pem(&self) -> String {
        match self {
            Signer::Key(k) => k.public_pem(),
            Signer::Keyless { certificate, .. } => pem("CERTIFICATE", certificate),
        }
    }
}

/// An inclusion proof and the checkpoint it is for.
#[derive(Clone, Debug)]
pub struct Proof {
    pub log_index: i64,
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: String,
}

/// A Rekor entry as bundles carry it.
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub log_id: Vec<u8>,
    pub log_index: i64,
    pub integrated_time: i64,
    pub body: Vec<u8>,
    pub set: Option<Vec<u8>>,
    pub proof: Option<Proof>,
}

/// A signature and what comes with it, before it is attached.
#[derive(Clone, Debug)]
pub struct Signed {
    /// The simple-signing payload, or the in-toto statement of a DSSE envelope.
    pub payload: Vec<u8>,
    pub dsse: bool,
    pub signature: Vec<u8>,
    pub certificate: Option<Vec<u8>>,
    pub entry: Option<LogEntry>,
}

/// The test's Sigstore: CA, Rekor and CT keys.
pub struct Sigstore {
    root_der: Vec<u8>,
    intermediate_der: Vec<u8>,
    intermediate_params: rcgen::CertificateParams,
    intermediate_key: rcgen::KeyPair,
    pub rekor: Key,
    pub ct: Key,
    serial: std::cell::Cell<u64>,
}

fn at(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).expect("time")
}

/// 2026-01-01T00:00:00Z: around when the tests' signatures are made.
pub const T0: i64 = 1_767_225_600;

impl Sigstore {
    pub fn new() -> Sigstore {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let ca_params = |cn: &str| {
            let mut p = CertificateParams::default();
            p.distinguished_name = rcgen::DistinguishedName::new();
            p.distinguished_name
                .push(DnType::OrganizationName, "tagwarden.test");
            p.distinguished_name.push(DnType::CommonName, cn);
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            p.not_before = at(T0 - 365 * 86_400);
            p.not_after = at(T0 + 10 * 365 * 86_400);
            p
        };
        let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("root key");
        let root_params = ca_params("test root");
        let root = rcgen::CertifiedIssuer::self_signed(root_params, root_key).expect("root");
        let intermediate_key =
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("intermediate key");
        let intermediate_params = ca_params("test intermediate");
        let intermediate = intermediate_params
            .signed_by(&intermediate_key, &root)
            .expect("intermediate");
        Sigstore {
            root_der: root.der().to_vec(),
            intermediate_der: intermediate.der().to_vec(),
            intermediate_params,
            intermediate_key,
            rekor: Key::p256(),
            ct: Key::p256(),
            serial: std::cell::Cell::new(1000),
        }
    }

    /// The trust root, in Sigstore's `trusted_root.json` format.
    pub fn trusted_root_json(&self) -> String {
        let log = |url: &str, key: &Key| {
            json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": base64(&key.spki),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2020-01-01T00:00:00Z"}
                },
                "logId": {"keyId": base64(&key.log_id())}
            })
        };
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log("https://rekor.tagwarden.test", &self.rekor)],
            "certificateAuthorities": [{
                "subject": {"organization": "tagwarden.test", "commonName": "test"},
                "uri": "https://fulcio.tagwarden.test",
                "certChain": {"certificates": [
                    {"rawBytes": base64(&self.intermediate_der)},
                    {"rawBytes": base64(&self.root_der)}
                ]},
                "validFor": {"start": "2020-01-01T00:00:00Z"}
            }],
            "ctlogs": [log("https://ctfe.tagwarden.test", &self.ct)]
        })
        .to_string()
    }

    /// A keyless signer: a certificate for `identity` (a URI SAN) from `issuer`, valid
    /// `[not_before, not_after]`, with an SCT from the test's CT log.
    pub fn keyless(&self, identity: &str, issuer: &str, not_before: i64, not_after: i64) -> Signer {
        use rcgen::{
            CertificateParams, CustomExtension, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose,
            SanType,
        };
        let key = Key::p256();
        let leaf_key = KeyPair::from_pkcs8_der_and_sign_algo(
            &rustls_pki_types::PrivatePkcs8KeyDer::from(key.pkcs8.clone()),
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )
        .expect("leaf key");
        let serial = self.serial.get();
        self.serial.set(serial + 1);
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.serial_number = Some(rcgen::SerialNumber::from(serial));
        p.subject_alt_names = vec![SanType::URI(identity.try_into().expect("URI SAN"))];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        p.not_before = at(not_before);
        p.not_after = at(not_after);
        p.custom_extensions = vec![CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 57264, 1, 8],
            der(0x0c, issuer.as_bytes()),
        )];
        let issuer_ca =
            rcgen::Issuer::from_params(&self.intermediate_params, &self.intermediate_key);
        let precert = p.signed_by(&leaf_key, &issuer_ca).expect("precertificate");
        let tbs = tbs_of(precert.der());
        // The SCT signs the TBS without the SCT extension, and the issuer's key hash.
        let issuer_spki = rcgen::PublicKeyData::subject_public_key_info(&self.intermediate_key);
        let timestamp = (not_before as u64 + 1) * 1000;
        let mut signed = vec![0u8, 0u8];
        signed.extend_from_slice(&timestamp.to_be_bytes());
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(&Sha256::digest(&issuer_spki));
        signed.extend_from_slice(&[
            (tbs.len() >> 16) as u8,
            (tbs.len() >> 8) as u8,
            tbs.len() as u8,
        ]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(&[0, 0]);
        let sig = self.ct.sign(&signed);
        let mut sct = vec![0u8];
        sct.extend_from_slice(&self.ct.log_id());
        sct.extend_from_slice(&timestamp.to_be_bytes());
        sct.extend_from_slice(&[0, 0, 4, 3]);
        sct.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        sct.extend_from_slice(&sig);
        let mut list = (sct.len() as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&sct);
        let mut tls = (list.len() as u16).to_be_bytes().to_vec();
        tls.extend_from_slice(&list);
        p.custom_extensions.push(CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2],
            der(0x04, &tls),
        ));
        let cert = p.signed_by(&leaf_key, &issuer_ca).expect("certificate");
        Signer::Keyless {
            certificate: cert.der().to_vec(),
            key,
        }
    }

    /// A cosign simple-signing signature of `digest` naming `repository`, logged at `time`.
    pub fn sign_simple(
        &self,
        signer: &Signer,
        repository: &str,
        digest: &str,
        time: i64,
    ) -> Signed {
        let payload = json!({
            "critical": {
                "identity": {"docker-reference": repository},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature"
            },
            "optional": null
        })
        .to_string()
        .into_bytes();
        let signature = signer.key().sign(&payload);
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": sha256_hex(&payload)}},
                "signature": {
                    "content": base64(&signature),
                    "publicKey": {"content": base64(signer.verifier_pem().as_bytes())}
                }
            }
        })
        .to_string()
        .into_bytes();
        Signed {
            entry: Some(self.log(body, time)),
            payload,
            dsse: false,
            signature,
            certificate: match signer {
                Signer::Keyless { certificate, .. } => Some(certificate.clone()),
                Signer::Key(_) => None,
            },
        }
    }

    /// A cosign v3 signature: an in-toto statement (predicate `cosign/sign/v1`) for `digest`
    /// in a DSSE envelope, logged at `time` as a `dsse` entry.
    pub fn sign_dsse(&self, signer: &Signer, digest: &str, time: i64) -> Signed {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        let payload = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"digest": {"sha256": hex}}],
            "predicateType": "https://sigstore.dev/cosign/sign/v1",
            "predicate": {}
        })
        .to_string()
        .into_bytes();
        let pae = [
            format!(
                "DSSEv1 {} application/vnd.in-toto+json {} ",
                "application/vnd.in-toto+json".len(),
                payload.len()
            )
            .into_bytes(),
            payload.clone(),
        ]
        .concat();
        let signature = signer.key().sign(&pae);
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": sha256_hex(&pae)},
                "payloadHash": {"algorithm": "sha256", "value": sha256_hex(&payload)},
                "signatures": [{
                    "signature": base64(&signature),
                    "verifier": base64(signer.verifier_pem().as_bytes())
                }]
            }
        })
        .to_string()
        .into_bytes();
        Signed {
            entry: Some(self.log(body, time)),
            payload,
            dsse: true,
            signature,
            certificate: match signer {
                Signer::Keyless { certificate, .. } => Some(certificate.clone()),
                Signer::Key(_) => None,
            },
        }
    }

    /// Logs a body: entry 1 of a three-entry tree, with its SET, inclusion proof and checkpoint.
    fn log(&self, body: Vec<u8>, time: i64) -> LogEntry {
        let leaf = |b: &[u8]| -> Vec<u8> {
            Sha256::new()
                .chain_update([0u8])
                .chain_update(b)
                .finalize()
                .to_vec()
        };
        let node = |l: &[u8], r: &[u8]| -> Vec<u8> {
            Sha256::new()
                .chain_update([1u8])
                .chain_update(l)
                .chain_update(r)
                .finalize()
                .to_vec()
        };
        let (l0, l1, l2) = (leaf(b"before"), leaf(&body), leaf(b"after"));
        let root = node(&node(&l0, &l1), &l2);
        let log_index = 1;
        let mut entry = LogEntry {
            log_id: self.rekor.log_id(),
            log_index,
            integrated_time: time,
            body,
            set: None,
            proof: Some(Proof {
                log_index,
                tree_size: 3,
                root_hash: root.clone(),
                hashes: vec![l0, l2],
                checkpoint: self.checkpoint(3, &root),
            }),
        };
        entry.set = Some(self.set(&entry));
        entry
    }

    /// The signed entry timestamp of an entry as it stands (re-sign after altering it).
    pub fn set(&self, entry: &LogEntry) -> Vec<u8> {
        let promise = format!(
            r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
            base64(&entry.body),
            entry.integrated_time,
            crate::hex(&entry.log_id),
            entry.log_index
        );
        self.rekor.sign(promise.as_bytes())
    }

    /// A signed note for a tree head.
    pub fn checkpoint(&self, size: i64, root: &[u8]) -> String {
        let text = format!("rekor.tagwarden.test - 1\n{size}\n{}\n", base64(root));
        let sig = self.rekor.sign(text.as_bytes());
        let hint = &self.rekor.log_id()[..4];
        format!(
            "{text}\n\u{2014} rekor.tagwarden.test {}\n",
            base64(&[hint, &sig[..]].concat())
        )
    }
}

impl Default for Sigstore {
    fn default() -> Self {
        Self::new()
    }
}

impl Signed {
    /// cosign's `dev.sigstore.cosign/bundle` annotation: the entry and its SET.
    pub fn rekor_annotation(&self) -> Option<String> {
        let e = self.entry.as_ref()?;
        Some(
            json!({
                "SignedEntryTimestamp": e.set.as_ref().map(|s| base64(s)).unwrap_or_default(),
                "Payload": {
                    "body": base64(&e.body),
                    "integratedTime": e.integrated_time,
                    "logIndex": e.log_index,
                    "logID": crate::hex(&e.log_id)
                }
            })
            .to_string(),
        )
    }

    /// A Sigstore bundle v0.3 holding this (DSSE) signature.
    pub fn bundle(&self) -> String {
        let mut material = serde_json::Map::new();
        if let Some(c) = &self.certificate {
            material.insert("certificate".into(), json!({"rawBytes": base64(c)}));
        } else {
            material.insert("publicKey".into(), json!({"hint": ""}));
        }
        let entries: Vec<serde_json::Value> = self
            .entry
            .iter()
            .map(|e| {
                let mut v = json!({
                    "logIndex": e.log_index.to_string(),
                    "logId": {"keyId": base64(&e.log_id)},
                    "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                    "integratedTime": e.integrated_time.to_string(),
                    "canonicalizedBody": base64(&e.body)
                });
                if let Some(set) = &e.set {
                    v["inclusionPromise"] = json!({"signedEntryTimestamp": base64(set)});
                }
                if let Some(p) = &e.proof {
                    v["inclusionProof"] = json!({
                        "logIndex": p.log_index.to_string(),
                        "rootHash": base64(&p.root_hash),
                        "treeSize": p.tree_size.to_string(),
                        "hashes": p.hashes.iter().map(|h| base64(h)).collect::<Vec<_>>(),
                        "checkpoint": {"envelope": p.checkpoint}
                    });
                }
                v
            })
            .collect();
        material.insert("tlogEntries".into(), json!(entries));
        json!({
            "mediaType": BUNDLE_V03,
            "verificationMaterial": material,
            "dsseEnvelope": {
                "payload": base64(&self.payload),
                "payloadType": "application/vnd.in-toto+json",
                "signatures": [{"sig": base64(&self.signature), "keyid": ""}]
            }
        })
        .to_string()
    }
}

/// Uploads a blob to a repository of the registry (monolithic upload); returns its digest.
pub fn upload_blob(registry: &Registry, repository: &str, bytes: &[u8]) -> String {
    let digest = digest_of(bytes);
    let r = registry.http(
        "POST",
        &format!("/v2/{repository}/blobs/uploads/"),
        &[],
        b"",
    );
    assert_eq!(
        r.status,
        202,
        "start upload: {}",
        String::from_utf8_lossy(&r.body)
    );
    let location = r.header("Location").expect("upload location").to_string();
    let path = match location.find("/v2/") {
        Some(i) => location[i..].to_string(),
        None => location,
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = registry.http(
        "PUT",
        &format!("{path}{sep}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        bytes,
    );
    assert_eq!(
        r.status,
        201,
        "finish upload: {}",
        String::from_utf8_lossy(&r.body)
    );
    digest
}

/// Attaches simple-signing signatures the way cosign 2 does: one layer each in the manifest
/// tagged `sha256-<hex>.sig`.
pub fn attach_sig_tag(
    registry: &Registry,
    repository: &str,
    image_digest: &str,
    signatures: &[Signed],
) {
    let config =
        br#"{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = upload_blob(registry, repository, config);
    let layers: Vec<serde_json::Value> = signatures
        .iter()
        .map(|s| {
            let digest = upload_blob(registry, repository, &s.payload);
            let mut annotations = serde_json::Map::new();
            annotations.insert(
                "dev.cosignproject.cosign/signature".into(),
                json!(base64(&s.signature)),
            );
            if let Some(c) = &s.certificate {
                annotations.insert(
                    "dev.sigstore.cosign/certificate".into(),
                    json!(pem("CERTIFICATE", c)),
                );
            }
            if let Some(b) = s.rekor_annotation() {
                annotations.insert("dev.sigstore.cosign/bundle".into(), json!(b));
            }
            json!({
                "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "size": s.payload.len(),
                "digest": digest,
                "annotations": annotations
            })
        })
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": config_digest},
        "layers": layers
    })
    .to_string();
    let tag = format!("{}.sig", image_digest.replace(':', "-"));
    registry.put_manifest(repository, &tag, OCI_MANIFEST, manifest.as_bytes());
}

/// Attaches Sigstore bundles the way cosign 3 does: an artifact manifest per bundle whose
/// subject is the image, listed in the referrers tag-schema index `sha256-<hex>` (the loopback
/// registry has no referrers API).
pub fn attach_bundles(
    registry: &Registry,
    repository: &str,
    image_digest: &str,
    image_media_type: &str,
    bundles: &[String],
) {
    let empty = b"{}";
    let empty_digest = upload_blob(registry, repository, empty);
    let mut entries = Vec::new();
    for b in bundles {
        let blob = upload_blob(registry, repository, b.as_bytes());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": BUNDLE_V03,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "digest": empty_digest},
            "layers": [{"mediaType": BUNDLE_V03, "size": b.len(), "digest": blob}],
            "subject": {"mediaType": image_media_type, "digest": image_digest}
        })
        .to_string();
        let digest = digest_of(manifest.as_bytes());
        registry.put_manifest(repository, &digest, OCI_MANIFEST, manifest.as_bytes());
        entries.push(json!({
            "mediaType": OCI_MANIFEST,
            "size": manifest.len(),
            "digest": digest,
            "artifactType": BUNDLE_V03
        }));
    }
    let index =
        json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).to_string();
    registry.put_manifest(
        repository,
        &image_digest.replace(':', "-"),
        OCI_INDEX,
        index.as_bytes(),
    );
}
