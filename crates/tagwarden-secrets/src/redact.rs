//! What may be shown of a secret: a preview of a few characters, and a fingerprint that names
//! the same credential wherever it is found without revealing it.

use std::fmt;

use sha2::{Digest, Sha256};

/// A truncated SHA-256 (or HMAC-SHA-256 with the caller's key) of a secret: the same secret gives
/// the same fingerprint in every file, so matches group into one credential. Printed as 16 hex
/// digits.
///
/// A plain fingerprint of a short password can be brute-forced from the password list an
/// attacker would try anyway; give [`crate::Options::fingerprint_key`] a key when the report
/// leaves the team.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 8]);

impl Fingerprint {
    /// The fingerprint of `secret`: surrounding white space is ignored, so a key read from a
    /// file with its final newline and the same key matched inside a document agree.
    pub(crate) fn of(secret: &str, key: Option<&[u8]>) -> Fingerprint {
        let secret = secret.trim().as_bytes();
        let digest = match key {
            None => Sha256::digest(secret).into(),
            Some(k) => hmac_sha256(k, secret),
        };
        let mut out = [0u8; 8];
        out.copy_from_slice(&digest[..8]);
        Fingerprint(out)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// HMAC-SHA-256 (RFC 2104), written out because it is ten lines over `sha2`.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// A preview that shows what kind of value it is and lets its owner recognise it, never enough
/// to use or guess it: the format's public prefix (`ghp_`, `AKIA`, a PEM header) and at most
/// four trailing characters, or with no prefix at most four characters at each end, never more
/// than a quarter of the secret.
pub(crate) fn preview(secret: &str, public_prefix: usize) -> String {
    let secret = secret.trim();
    if secret.starts_with("-----BEGIN") {
        let header = secret.lines().next().unwrap_or("").trim();
        if header.ends_with("-----") && header.len() <= 80 {
            return format!("{header}…");
        }
    }
    let chars: Vec<char> = secret.chars().collect();
    // A prefix is public (`ghp_`, `AKIA`), but no more of it than identifies the format.
    let prefix = public_prefix.min(12).min(chars.len() / 2);
    let rest = chars.len() - prefix;
    let head: String;
    let tail_n;
    if prefix > 0 {
        head = chars[..prefix].iter().collect();
        tail_n = (rest / 8).min(4);
    } else {
        let n = (rest / 8).min(4);
        head = chars[..n].iter().collect();
        tail_n = n;
    }
    let tail: String = chars[chars.len() - tail_n..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_show_little() {
        assert_eq!(
            preview(&["AKIA", "Z7KQW2XJ3VBN4MLP"].concat(), 4),
            "AKIA…LP"
        );
        assert_eq!(
            preview(
                &["ghp_", "q8Zr2LmV0xTf7KpW3sNd9Bc6Yh1Ja5Ue4Gi0"].concat(),
                4
            ),
            "ghp_…4Gi0"
        );
        assert_eq!(preview("Tr0ub4dor&3", 0), "T…3");
        assert_eq!(preview("hunter2", 0), "…");
        assert_eq!(
            preview(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n",
                10
            ),
            "-----BEGIN OPENSSH PRIVATE KEY-----…"
        );
        let long: String = "aB3".repeat(40);
        assert_eq!(preview(&long, 0).chars().filter(|c| *c != '…').count(), 8);
    }

    #[test]
    fn fingerprints() {
        let a = Fingerprint::of("s3cret-value\n", None);
        assert_eq!(a, Fingerprint::of("s3cret-value", None));
        assert_eq!(a.to_string().len(), 16);
        // echo -n s3cret-value | sha256sum: the first 8 bytes.
        let full = Sha256::digest(b"s3cret-value");
        assert!(
            a.to_string()
                .starts_with(&format!("{:02x}{:02x}", full[0], full[1]))
        );
        let keyed = Fingerprint::of("s3cret-value", Some(b"k"));
        assert_ne!(a, keyed);
        assert_eq!(keyed, Fingerprint::of("s3cret-value", Some(b"k")));
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            mac.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
