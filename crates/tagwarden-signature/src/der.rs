//! A small DER walker: the verifier needs raw TLV bytes (the TBS certificate, the public key
//! info, extension values) and a re-encoding of the TBS without its SCT extension, which typed
//! X.509 crates hide; path validation itself is left to webpki.

/// One DER element: its tag byte, its contents and its whole encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
    pub(crate) raw: &'a [u8],
}

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const OID: u8 = 0x06;
pub(crate) const BOOLEAN: u8 = 0x01;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const UTC_TIME: u8 = 0x17;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;

/// Reads elements one after another from a byte string.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element; multi-byte tags and indefinite lengths are not DER and are refused.
    pub(crate) fn next(&mut self) -> Result<Tlv<'a>, String> {
        let all = self.rest;
        let (&tag, rest) = all.split_first().ok_or("truncated DER: no tag")?;
        if tag & 0x1f == 0x1f {
            return Err("unsupported DER: multi-byte tag".into());
        }
        let (&first, mut rest) = rest.split_first().ok_or("truncated DER: no length")?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err("invalid DER length".into());
            }
            let mut len = 0usize;
            for &b in &rest[..n] {
                len = (len << 8) | usize::from(b);
            }
            rest = &rest[n..];
            len
        };
        if rest.len() < len {
            return Err("truncated DER: element longer than its input".into());
        }
        let header = all.len() - rest.len();
        let value = &rest[..len];
        self.rest = &rest[len..];
        Ok(Tlv {
            tag,
            value,
            raw: &all[..header + len],
        })
    }

    /// The next element, which must carry `tag`.
    pub(crate) fn expect(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>, String> {
        let t = self.next().map_err(|e| format!("{what}: {e}"))?;
        if t.tag != tag {
            return Err(format!(
                "{what}: expected tag {tag:#04x}, found {:#04x}",
                t.tag
            ));
        }
        Ok(t)
    }

    /// The next element when it carries `tag`; nothing is consumed otherwise.
    pub(crate) fn optional(&mut self, tag: u8) -> Option<Tlv<'a>> {
        let mut probe = *self;
        match probe.next() {
            Ok(t) if t.tag == tag => {
                *self = probe;
                Some(t)
            }
            _ => None,
        }
    }
}

impl<'a> Tlv<'a> {
    /// A reader over this element's contents.
    pub(crate) fn reader(&self) -> Reader<'a> {
        Reader::new(self.value)
    }
}

/// A length in DER form.
pub(crate) fn encode_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// An element of `tag` around `value`.
pub(crate) fn encode(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    encode_len(value.len(), &mut out);
    out.extend_from_slice(value);
    out
}

/// The dotted form of an OID's contents (`1.3.6.1.4.1.57264.1.8`).
pub(crate) fn oid_string(value: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for &b in value {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = (acc / 40).min(2);
                parts.push(first);
                parts.push(acc - first * 40);
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Seconds since the epoch of a UTCTime or GeneralizedTime (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSSZ`).
pub(crate) fn time(t: &Tlv<'_>) -> Result<i64, String> {
    let s = std::str::from_utf8(t.value).map_err(|_| "time is not ASCII".to_string())?;
    let s = s.strip_suffix('Z').ok_or("time is not in UTC")?;
    let full = match t.tag {
        UTC_TIME if s.len() == 12 => {
            let yy: i32 = s[..2].parse().map_err(|_| "bad year")?;
            format!("{}{}", if yy >= 50 { 19 } else { 20 }, s)
        }
        GENERALIZED_TIME if s.len() == 14 => s.to_string(),
        _ => return Err(format!("unsupported time {s:?}")),
    };
    let n = |a: usize, b: usize| -> Result<i32, String> {
        full.get(a..b)
            .and_then(|x| x.parse().ok())
            .ok_or_else(|| format!("bad time {full:?}"))
    };
    let date = jiff::civil::date(n(0, 4)? as i16, n(4, 6)? as i8, n(6, 8)? as i8);
    let dt = date.at(n(8, 10)? as i8, n(10, 12)? as i8, n(12, 14)? as i8, 0);
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_second())
        .map_err(|e| format!("bad time {full:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_rebuilds() {
        let inner = encode(OCTET_STRING, &[1, 2, 3]);
        let outer = encode(SEQUENCE, &inner);
        let mut r = Reader::new(&outer);
        let seq = r.expect(SEQUENCE, "outer").unwrap();
        assert!(r.is_empty());
        let oct = seq.reader().expect(OCTET_STRING, "inner").unwrap();
        assert_eq!(oct.value, &[1, 2, 3]);
        let long = encode(OCTET_STRING, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(Reader::new(&long).next().unwrap().value.len(), 300);
    }

    #[test]
    fn refuses_truncation() {
        assert!(Reader::new(&[0x30, 0x05, 0x01]).next().is_err());
        assert!(Reader::new(&[0x30, 0x85, 1, 1, 1, 1, 1]).next().is_err());
        assert!(Reader::new(&[0x30]).next().is_err());
    }

    #[test]
    fn oids_and_times() {
        assert_eq!(
            oid_string(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08]),
            "1.3.6.1.4.1.57264.1.8"
        );
        let t = encode(UTC_TIME, b"260101000000Z");
        let t = Reader::new(&t).next().unwrap();
        assert_eq!(time(&t).unwrap(), 1_767_225_600);
        let g = encode(GENERALIZED_TIME, b"20260101000000Z");
        assert_eq!(
            time(&Reader::new(&g).next().unwrap()).unwrap(),
            1_767_225_600
        );
    }
}
