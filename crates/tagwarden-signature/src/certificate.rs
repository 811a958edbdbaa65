//! Signing certificates (Fulcio's short-lived ones, or any CA's in the trust root): what they
//! say (SAN, OIDC issuer), whether they chain to the trust root at the signing time, and their
//! embedded SCTs.

use rustls_pki_types::{CertificateDer, UnixTime};
use sha2::{Digest as _, Sha256};

use crate::der::{self, Reader, Tlv};
use crate::keys::PublicKey;
use crate::trust_root::TrustRoot;

const SAN: &str = "2.5.29.17";
/// Fulcio's OIDC issuer extension (a DER UTF8String), and its legacy raw-string form.
const ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
const EXTENDED_KEY_USAGE: &str = "2.5.29.37";
/// id-kp-codeSigning (1.3.6.1.5.5.7.3.3), as webpki wants it.
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

/// One extension of a certificate.
#[derive(Clone, Copy, Debug)]
struct Extension<'a> {
    oid: &'a [u8],
    /// The contents of `extnValue`.
    value: &'a [u8],
    raw: &'a [u8],
}

/// A certificate taken apart.
#[derive(Debug)]
pub(crate) struct Certificate<'a> {
    pub(crate) der: &'a [u8],
    tbs: Tlv<'a>,
    issuer: &'a [u8],
    subject: &'a [u8],
    spki: &'a [u8],
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    extensions: Vec<Extension<'a>>,
}

impl<'a> Certificate<'a> {
    pub(crate) fn parse(der_bytes: &'a [u8]) -> Result<Self, String> {
        let mut outer = Reader::new(der_bytes);
        let cert = outer.expect(der::SEQUENCE, "certificate")?;
        if !outer.is_empty() {
            return Err("certificate: trailing bytes".into());
        }
        let mut c = cert.reader();
        let tbs = c.expect(der::SEQUENCE, "certificate body")?;
        let mut t = tbs.reader();
        t.optional(0xa0);
        t.expect(0x02, "serial number")?;
        t.expect(der::SEQUENCE, "signature algorithm")?;
        let issuer = t.expect(der::SEQUENCE, "issuer")?.raw;
        let validity = t.expect(der::SEQUENCE, "validity")?;
        let mut v = validity.reader();
        let not_before = der::time(&v.next()?)?;
        let not_after = der::time(&v.next()?)?;
        let subject = t.expect(der::SEQUENCE, "subject")?.raw;
        let spki = t.expect(der::SEQUENCE, "public key")?.raw;
        t.optional(0x81);
        t.optional(0x82);
        let mut extensions = Vec::new();
        if let Some(exts) = t.optional(0xa3) {
            let list = exts.reader().expect(der::SEQUENCE, "extensions")?;
            let mut r = list.reader();
            while !r.is_empty() {
                let ext = r.expect(der::SEQUENCE, "extension")?;
                let mut e = ext.reader();
                let oid = e.expect(der::OID, "extension id")?.value;
                e.optional(der::BOOLEAN);
                let value = e.expect(der::OCTET_STRING, "extension value")?.value;
                extensions.push(Extension {
                    oid,
                    value,
                    raw: ext.raw,
                });
            }
        }
        Ok(Self {
            der: der_bytes,
            tbs,
            issuer,
            subject,
            spki,
            not_before,
            not_after,
            extensions,
        })
    }

    fn extension(&self, oid: &str) -> Option<&Extension<'a>> {
        self.extensions
            .iter()
            .find(|e| der::oid_string(e.oid) == oid)
    }

    /// True when the certificate's extended key usage lists code signing.
    fn is_for_code_signing(&self) -> bool {
        let Some(ext) = self.extension(EXTENDED_KEY_USAGE) else {
            return false;
        };
        let Ok(seq) = Reader::new(ext.value).expect(der::SEQUENCE, "EKU") else {
            return false;
        };
        let mut r = seq.reader();
        while let Ok(oid) = r.next() {
            if oid.tag == der::OID && oid.value == CODE_SIGNING {
                return true;
            }
        }
        false
    }

    pub(crate) fn public_key(&self) -> Result<PublicKey, String> {
        PublicKey::from_spki(self.spki)
    }

    /// The subject alternative names: URIs, e-mail addresses, DNS names and Fulcio's
    /// `otherName` usernames, as text.
    pub(crate) fn sans(&self) -> Vec<String> {
        let Some(ext) = self.extension(SAN) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let Ok(seq) = Reader::new(ext.value).expect(der::SEQUENCE, "SAN") else {
            return out;
        };
        let mut r = seq.reader();
        while let Ok(name) = r.next() {
            match name.tag {
                0x81 | 0x82 | 0x86 => {
                    if let Ok(s) = std::str::from_utf8(name.value) {
                        out.push(s.to_string());
                    }
                }
                // otherName: type-id, [0] EXPLICIT value (a UTF8String for Fulcio usernames).
                0xa0 => {
                    let mut o = name.reader();
                    let _ = o.next();
                    if let Some(explicit) = o.optional(0xa0)
                        && let Ok(inner) = explicit.reader().next()
                        && let Ok(s) = std::str::from_utf8(inner.value)
                    {
                        out.push(s.to_string());
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The OIDC issuer Fulcio recorded, from the current extension or the legacy one.
    pub(crate) fn oidc_issuer(&self) -> Option<String> {
        if let Some(ext) = self.extension(ISSUER_V2) {
            let s = Reader::new(ext.value).next().ok()?;
            return std::str::from_utf8(s.value).ok().map(str::to_string);
        }
        let ext = self.extension(ISSUER_V1)?;
        std::str::from_utf8(ext.value).ok().map(str::to_string)
    }

    /// Validates the path from this certificate to a CA of the trust root that was valid at
    /// `time` (the log's integrated time), as a code-signing certificate. Returns the CA's URI
    /// and the issuing certificate's public key info (for the SCT).
    pub(crate) fn verify_chain(
        &self,
        root: &TrustRoot,
        time: i64,
    ) -> Result<(String, Vec<u8>), String> {
        // webpki applies a required EKU to every certificate of the path, and CAs need not
        // list one: so the CAs are checked "if present" and the signing certificate here.
        if !self.is_for_code_signing() {
            return Err("the signing certificate is not for code signing".into());
        }
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(time.max(0) as u64));
        let ee_der = CertificateDer::from(self.der);
        let ee = webpki::EndEntityCert::try_from(&ee_der)
            .map_err(|e| format!("the signing certificate cannot be read: {e:?}"))?;
        let mut last_error = None;
        let mut considered = 0;
        for ca in &root.certificate_authorities {
            if !ca.valid.contains(time) {
                continue;
            }
            considered += 1;
            let Some((root_der, intermediates)) = ca.chain.split_last() else {
                continue;
            };
            let root_cert = CertificateDer::from(root_der.as_slice());
            let Ok(anchor) = webpki::anchor_from_trusted_cert(&root_cert) else {
                continue;
            };
            let intermediates: Vec<CertificateDer<'_>> = intermediates
                .iter()
                .map(|c| CertificateDer::from(c.as_slice()))
                .collect();
            match ee.verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &[anchor],
                &intermediates,
                at,
                webpki::KeyUsage::required_if_present(CODE_SIGNING),
                None,
                None,
            ) {
                Ok(_) => {
                    let issuer_spki = ca
                        .chain
                        .iter()
                        .filter_map(|c| Certificate::parse(c).ok())
                        .find(|c| c.subject == self.issuer)
                        .map(|c| c.spki.to_vec())
                        .ok_or("the issuing certificate is not in the trust root's chain")?;
                    return Ok((ca.uri.clone(), issuer_spki));
                }
                Err(e) => last_error = Some(e),
            }
        }
        if considered == 0 {
            return Err(format!(
                "no certificate authority of the trust root was valid at the log's time {}",
                show_time(time)
            ));
        }
        Err(match last_error {
            Some(webpki::Error::CertExpired { .. }) => format!(
                "the signing certificate had expired at the log's time {} (valid {} to {})",
                show_time(time),
                show_time(self.not_before),
                show_time(self.not_after)
            ),
            Some(webpki::Error::CertNotValidYet { .. }) => format!(
                "the signing certificate was not yet valid at the log's time {} (valid {} to {})",
                show_time(time),
                show_time(self.not_before),
                show_time(self.not_after)
            ),
            Some(webpki::Error::UnknownIssuer) => {
                "the signing certificate does not chain to a certificate authority of the trust root"
                    .to_string()
            }
            // A CA of the same name signed it, but not with the trust root's key.
            Some(webpki::Error::InvalidSignatureForPublicKey) => {
                "the signing certificate does not chain to a certificate authority of the trust root (its issuer's signature does not verify)"
                    .to_string()
            }
            Some(webpki::Error::RequiredEkuNotFoundContext(_)) => {
                "the signing certificate is not for code signing".to_string()
            }
            Some(e) => format!("the signing certificate's chain is invalid: {e:?}"),
            None => "the signing certificate's chain is invalid".to_string(),
        })
    }

    /// Checks the embedded SCTs: at least one must verify against a CT log of the trust root.
    pub(crate) fn verify_sct(
        &self,
        root: &TrustRoot,
        issuer_spki: &[u8],
    ) -> Result<String, String> {
        let ext = self
            .extension(SCT_LIST)
            .ok_or("the signing certificate carries no SCT (certificate transparency proof)")?;
        let list = Reader::new(ext.value)
            .expect(der::OCTET_STRING, "SCT list")?
            .value;
        let scts = tls_vec(list, 2).ok_or("malformed SCT list")?.0;
        let precert = self.precert_tbs()?;
        let issuer_key_hash: [u8; 32] = Sha256::digest(issuer_spki).into();
        let mut rest = scts;
        let mut reasons = Vec::new();
        while !rest.is_empty() {
            let (sct, next) = tls_vec(rest, 2).ok_or("malformed SCT list")?;
            rest = next;
            match verify_one_sct(sct, root, &issuer_key_hash, &precert) {
                Ok(log) => return Ok(log),
                Err(e) => reasons.push(e),
            }
        }
        Err(reasons
            .pop()
            .unwrap_or_else(|| "the SCT list is empty".to_string()))
    }

    /// The TBS certificate without the SCT extension: what the CT log signed.
    fn precert_tbs(&self) -> Result<Vec<u8>, String> {
        let mut body = Vec::new();
        let mut t = self.tbs.reader();
        while !t.is_empty() {
            let field = t.next()?;
            if field.tag != 0xa3 {
                body.extend_from_slice(field.raw);
                continue;
            }
            let kept: Vec<u8> = self
                .extensions
                .iter()
                .filter(|e| der::oid_string(e.oid) != SCT_LIST)
                .flat_map(|e| e.raw.iter().copied())
                .collect();
            body.extend(der::encode(0xa3, &der::encode(der::SEQUENCE, &kept)));
        }
        Ok(der::encode(der::SEQUENCE, &body))
    }
}

fn verify_one_sct(
    sct: &[u8],
    root: &TrustRoot,
    issuer_key_hash: &[u8; 32],
    precert: &[u8],
) -> Result<String, String> {
    // version(1) log_id(32) timestamp(8) extensions(2+n) hash(1) sig-alg(1) signature(2+n)
    let bad = || "malformed SCT".to_string();
    let (&version, rest) = sct.split_first().ok_or_else(bad)?;
    if version != 0 || rest.len() < 40 {
        return Err(bad());
    }
    let (log_id, rest) = rest.split_at(32);
    let (timestamp, rest) = rest.split_at(8);
    let (extensions, rest) = tls_vec(rest, 2).ok_or_else(bad)?;
    if rest.len() < 2 {
        return Err(bad());
    }
    let (signature, tail) = tls_vec(&rest[2..], 2).ok_or_else(bad)?;
    if !tail.is_empty() {
        return Err(bad());
    }
    let log = root
        .ctlog(log_id)
        .ok_or("the SCT is from a CT log that is not in the trust root")?;
    let ms = u64::from_be_bytes(timestamp.try_into().map_err(|_| bad())?);
    if !log.valid.contains((ms / 1000) as i64) {
        return Err("the SCT's CT log key was not valid at the SCT's time".into());
    }
    let mut signed = vec![0u8, 0u8];
    signed.extend_from_slice(timestamp);
    signed.extend_from_slice(&[0, 1]);
    signed.extend_from_slice(issuer_key_hash);
    let len = precert.len();
    if len >= 1 << 24 {
        return Err(bad());
    }
    signed.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8]);
    signed.extend_from_slice(precert);
    signed.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    signed.extend_from_slice(extensions);
    log.key
        .verify(&signed, signature)
        .map_err(|_| "the SCT's signature does not verify against its CT log's key".to_string())?;
    Ok(log.base_url.clone())
}

/// A TLS vector with a `width`-byte length prefix, and what follows it.
fn tls_vec(input: &[u8], width: usize) -> Option<(&[u8], &[u8])> {
    let (len, rest) = input.split_at_checked(width)?;
    let n = len
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    rest.split_at_checked(n)
}

pub(crate) fn show_time(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_good_ca_certificates_parse() {
        let root = TrustRoot::public_good();
        for ca in &root.certificate_authorities {
            for der in &ca.chain {
                let c = Certificate::parse(der).unwrap();
                assert!(c.not_before < c.not_after);
                c.public_key().unwrap();
                assert!(c.sans().is_empty());
                // A CA is not a code-signing leaf.
                assert!(c.verify_chain(&root, c.not_before + 1).is_err());
            }
        }
        assert!(Certificate::parse(b"\x30\x03\x02\x01").is_err());
    }
}
