//! One signature against one policy rule, as the Sigstore client specification orders it: the
//! payload names this digest (and repository), the signature verifies, the transparency-log
//! entry is genuine and records this signature, the certificate chains to the trust root at the
//! log's time with a valid SCT, and its identity and issuer are the ones the rule names.

use tagwarden_reference::{Digest, Reference};

use crate::certificate::{Certificate, show_time};
use crate::payload::{self, Claims};
use crate::policy::Rule;
use crate::tlog::{self, Entry, Expected};
use crate::trust_root::TrustRoot;

/// A signature found for an image, whatever way it was stored.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    /// Where it was found, for messages (`tag sha256-….sig, layer 1`, `referrer sha256:…`).
    pub(crate) origin: String,
    pub(crate) statement: Statement,
    pub(crate) signature: Vec<u8>,
    /// The signing certificate (DER), for keyless signatures.
    pub(crate) certificate: Option<Vec<u8>>,
    pub(crate) tlog: Vec<Entry>,
    /// Bundles from v0.2 on must carry inclusion proofs.
    pub(crate) require_proof: bool,
}

impl Candidate {
    /// A bundle as a candidate; `None` for what is not an image signature (an attestation).
    pub(crate) fn from_bundle(origin: &str, bytes: &[u8]) -> Result<Option<Candidate>, String> {
        let b = crate::bundle::parse(bytes)?;
        let (statement, signature) = match b.content {
            crate::bundle::Content::Dsse {
                payload_type,
                payload,
                mut signatures,
            } => {
                // Attestations share the artifact type; only cosign's signature predicate counts.
                if payload_type == "application/vnd.in-toto+json"
                    && crate::payload::in_toto(&payload).is_err_and(|e| e.contains("attestation"))
                {
                    return Ok(None);
                }
                if signatures.len() != 1 {
                    return Err(format!(
                        "a DSSE envelope with {} signatures (one expected)",
                        signatures.len()
                    ));
                }
                (
                    Statement::Dsse {
                        payload_type,
                        payload,
                    },
                    signatures.remove(0),
                )
            }
            crate::bundle::Content::Message => {
                return Err(
                    "a message-signature bundle signs an artifact it does not carry, not this image"
                        .into(),
                );
            }
            crate::bundle::Content::None => return Err("the bundle holds no signature".into()),
        };
        Ok(Some(Candidate {
            origin: origin.to_string(),
            statement,
            signature,
            certificate: b.certificate,
            tlog: b.tlog_entries,
            require_proof: b.version >= (0, 2),
        }))
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Statement {
    /// cosign's simple-signing payload, signed as is.
    SimpleSigning(Vec<u8>),
    /// A DSSE envelope's payload, signed through DSSE's pre-authentication encoding.
    Dsse {
        payload_type: String,
        payload: Vec<u8>,
    },
}

/// Who signed, once verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signer {
    /// A policy key, by the name the policy gave it and its fingerprint.
    Key { name: String, fingerprint: String },
    /// A certificate identity and the OIDC issuer that vouched for it.
    Keyless { identity: String, issuer: String },
}

impl std::fmt::Display for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signer::Key { name, fingerprint } => write!(f, "key {name} ({fingerprint})"),
            Signer::Keyless { identity, issuer } => write!(f, "{identity} (issuer {issuer})"),
        }
    }
}

/// A verified signature: who, where it was found, and the log entry that dates it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub signer: Signer,
    pub origin: String,
    /// `(log URL, entry index, integrated time)` when a log entry was verified.
    pub logged: Option<(String, i64, i64)>,
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.signer)?;
        if let Some((log, index, time)) = &self.logged {
            write!(f, ", logged {} in {log} entry {index}", show_time(*time))?;
        }
        Ok(())
    }
}

const IN_TOTO: &str = "application/vnd.in-toto+json";

/// Why a keyed signature fails a rule that names no key (`inspect` tells it apart).
pub(crate) const NO_POLICY_KEY: &str =
    "a keyed signature, but the policy accepts only keyless signers";

pub(crate) fn verify(
    candidate: &Candidate,
    rule: &Rule,
    root: &TrustRoot,
    image: &Reference,
    digest: &Digest,
) -> Result<Verified, String> {
    let (claims, signed, payload): (Claims, Vec<u8>, &[u8]) = match &candidate.statement {
        Statement::SimpleSigning(p) => (payload::simple_signing(p)?, p.clone(), p),
        Statement::Dsse {
            payload_type,
            payload: p,
        } => {
            if payload_type != IN_TOTO {
                return Err(format!(
                    "a DSSE envelope of type {payload_type:?}, not an in-toto statement"
                ));
            }
            (payload::in_toto(p)?, payload::dsse_pae(payload_type, p), p)
        }
    };
    let wanted = digest.to_string();
    if !claims
        .digests
        .iter()
        .any(|d| d.eq_ignore_ascii_case(&wanted))
    {
        return Err(format!(
            "the signature is for {}, not for {wanted}",
            claims.digests.first().map_or("no digest", String::as_str)
        ));
    }
    if rule.repository_binding
        && let Some(named) = &claims.reference
    {
        let same = Reference::parse(named).is_ok_and(|r| r.repository() == image.repository());
        if !same {
            return Err(format!(
                "the signature names repository {named}, not {} (a signature copied from another repository)",
                image.repository()
            ));
        }
    }

    let Some(cert_der) = &candidate.certificate else {
        return verify_keyed(candidate, rule, root, &signed, payload);
    };
    if rule.keyless.is_empty() {
        return Err(
            "a keyless (certificate) signature, but the policy accepts only its keys".into(),
        );
    }
    let cert = Certificate::parse(cert_der)
        .map_err(|e| format!("the signing certificate cannot be read: {e}"))?;
    let key = cert.public_key()?;
    key.verify(&signed, &candidate.signature)
        .map_err(|_| "the signature does not verify with its certificate's key (the payload or signature was altered)".to_string())?;
    let logged = verify_log(
        candidate,
        root,
        &Expected {
            payload,
            signature: &candidate.signature,
            certificate: Some(cert_der),
            key_spki: key.spki(),
        },
    )?
    .ok_or("a keyless signature without a transparency-log entry: the certificate's short validity cannot be checked")?;
    let (_, issuer_spki) = cert.verify_chain(root, logged.integrated_time)?;
    cert.verify_sct(root, &issuer_spki)?;
    let sans = cert.sans();
    let issuer = cert
        .oidc_issuer()
        .ok_or("the signing certificate names no OIDC issuer")?;
    let san_matches: Vec<_> = rule
        .keyless
        .iter()
        .filter(|id| sans.iter().any(|s| id.matches_san(s)))
        .collect();
    if san_matches.is_empty() {
        return Err(format!(
            "signed by {}, which is not an identity the policy accepts ({})",
            sans.first().map_or("(no identity)", String::as_str),
            rule.keyless
                .iter()
                .map(|i| i.identity.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !san_matches.iter().any(|id| id.matches_issuer(&issuer)) {
        return Err(format!(
            "signed by {} with OIDC issuer {issuer}, but the policy wants issuer {}",
            sans.first().map_or("", String::as_str),
            san_matches[0].issuer
        ));
    }
    Ok(Verified {
        signer: Signer::Keyless {
            identity: sans
                .iter()
                .find(|s| san_matches.iter().any(|id| id.matches_san(s)))
                .cloned()
                .unwrap_or_default(),
            issuer,
        },
        origin: candidate.origin.clone(),
        logged: Some((logged.log, logged.log_index, logged.integrated_time)),
    })
}

fn verify_keyed(
    candidate: &Candidate,
    rule: &Rule,
    root: &TrustRoot,
    signed: &[u8],
    payload: &[u8],
) -> Result<Verified, String> {
    if rule.keys.is_empty() {
        return Err(NO_POLICY_KEY.into());
    }
    let Some(named) = rule
        .keys
        .iter()
        .find(|k| k.key.verify(signed, &candidate.signature).is_ok())
    else {
        return Err(format!(
            "the signature does not verify with any key of the policy ({})",
            rule.keys
                .iter()
                .map(|k| k.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    let logged = if rule.transparency_log {
        let entry = verify_log(
            candidate,
            root,
            &Expected {
                payload,
                signature: &candidate.signature,
                certificate: None,
                key_spki: named.key.spki(),
            },
        )?
        .ok_or("no transparency-log entry for this keyed signature (the rule sets transparency-log = true)")?;
        Some((entry.log, entry.log_index, entry.integrated_time))
    } else {
        None
    };
    Ok(Verified {
        signer: Signer::Key {
            name: named.name.clone(),
            fingerprint: named.key.fingerprint(),
        },
        origin: candidate.origin.clone(),
        logged,
    })
}

/// The first log entry that verifies and records this signature; `None` when there is none at
/// all; the last reason when none verifies.
fn verify_log(
    candidate: &Candidate,
    root: &TrustRoot,
    expected: &Expected<'_>,
) -> Result<Option<tlog::Verified>, String> {
    let mut reason = None;
    for entry in &candidate.tlog {
        match tlog::verify(entry, root, candidate.require_proof)
            .and_then(|v| tlog::check_body(entry, expected).map(|()| v))
        {
            Ok(v) => return Ok(Some(v)),
            Err(e) => reason = Some(e),
        }
    }
    match reason {
        Some(e) => Err(e),
        None => Ok(None),
    }
}
