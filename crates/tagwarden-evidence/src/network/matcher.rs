//! Per-field lookups for log parsers: each parser hands over the fields it found (a query name,
//! a URL, an address, a user agent) and the matcher looks each up in the [`IndicatorSet`] only
//! if the set has an indicator of a kind that field could match.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use crate::NetworkKind;
use crate::indicators::{Indicator, IndicatorSet};

/// A URL indicator split once into its parts, so that logs that keep host and path in separate
/// fields (Zeek http.log) are matched without building a URL per line.
#[derive(Debug)]
struct UrlIndicator<'s> {
    indicator: &'s Indicator,
    /// Lower-case host with a non-default port, if any.
    authority: String,
    path: String,
}

/// A fast non-cryptographic hash (FxHash) for the pre-check sets: the keys are the user's own
/// indicators, so hash flooding is not a concern, and SipHash would dominate the per-line cost.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits (the bucket index) poorly mixed: finish like
        // MurmurHash3's fmix64.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FxSet<T> = HashSet<T, BuildHasherDefault<FxHasher>>;

/// A 65,536-bit map for quick rejection.
#[derive(Debug)]
struct Bits(Box<[u64]>);

impl Default for Bits {
    fn default() -> Self {
        Bits(vec![0; 1024].into_boxed_slice())
    }
}

impl Bits {
    fn set(&mut self, key: u32) {
        let key = key & 0xffff;
        if let Some(w) = self.0.get_mut((key >> 6) as usize) {
            *w |= 1 << (key & 63);
        }
    }

    #[inline]
    fn may_contain(&self, key: u32) -> bool {
        let key = key & 0xffff;
        self.0
            .get((key >> 6) as usize)
            .is_some_and(|w| w & (1 << (key & 63)) != 0)
    }
}

/// The bit of a (lower-case) name: its length and first two bytes.
#[inline]
fn name_bit(name: &[u8]) -> u32 {
    let b0 = u32::from(name.first().copied().unwrap_or(0));
    let b1 = u32::from(name.get(1).copied().unwrap_or(0));
    ((name.len() as u32) << 11) ^ (b0 << 5) ^ b1
}

/// Longest host name checked through the pre-check set (DNS allows 253).
const MAX_NAME: usize = 256;

/// The indicator set with which kinds it holds, shared read-only by the worker threads.
#[derive(Debug)]
pub(crate) struct Matcher<'s> {
    set: &'s IndicatorSet,
    urls: Vec<UrlIndicator<'s>>,
    /// Pre-check sets: a field is handed to the [`IndicatorSet`] only if one of these says it
    /// may match, so the common no-match case costs one cheap hash per name suffix or address.
    domain_keys: FxSet<Box<[u8]>>,
    ipv4_keys: FxSet<u32>,
    ipv6_keys: FxSet<u128>,
    /// Quick rejection before the sets: a bit per /16 of IPv4 indicators, a bit per
    /// (length, first bytes) of domain indicators.
    ipv4_bits: Bits,
    domain_bits: Bits,
    /// Whether some domain indicator is a single label (`cx`): else top-level names are not
    /// looked up.
    single_label_domains: bool,
    pub(crate) has_domain: bool,
    pub(crate) has_ip: bool,
    pub(crate) has_url: bool,
    pub(crate) has_user_agent: bool,
    pub(crate) has_header: bool,
}

/// Indicators matched on one line, each once, with the field value that matched.
#[derive(Debug, Default)]
pub(crate) struct Hits<'s> {
    pub(crate) list: Vec<(&'s Indicator, String)>,
}

impl<'s> Hits<'s> {
    fn add(&mut self, found: impl IntoIterator<Item = &'s Indicator>, matched: &str) {
        for indicator in found {
            if !self
                .list
                .iter()
                .any(|(seen, _)| std::ptr::eq(*seen, indicator))
            {
                self.list.push((indicator, matched.to_string()));
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.list.clear();
    }
}

impl<'s> Matcher<'s> {
    pub(crate) fn new(set: &'s IndicatorSet) -> Self {
        let mut m = Matcher {
            set,
            urls: Vec::new(),
            domain_keys: FxSet::default(),
            ipv4_keys: FxSet::default(),
            ipv6_keys: FxSet::default(),
            ipv4_bits: Bits::default(),
            domain_bits: Bits::default(),
            single_label_domains: false,
            has_domain: false,
            has_ip: false,
            has_url: false,
            has_user_agent: false,
            has_header: false,
        };
        for indicator in set.all() {
            match indicator.kind {
                NetworkKind::Domain => {
                    m.has_domain = true;
                    let key = indicator.value.trim_end_matches('.').to_ascii_lowercase();
                    m.single_label_domains |= !key.contains('.');
                    m.domain_bits.set(name_bit(key.as_bytes()));
                    m.domain_keys.insert(key.into_bytes().into_boxed_slice());
                }
                NetworkKind::Ip => {
                    m.has_ip = true;
                    match indicator.value.trim().parse::<IpAddr>() {
                        Ok(IpAddr::V4(v4)) => {
                            m.ipv4_keys.insert(u32::from(v4));
                            m.ipv4_bits.set(u32::from(v4) >> 16);
                        }
                        Ok(IpAddr::V6(v6)) => {
                            m.ipv6_keys.insert(u128::from(v6));
                        }
                        Err(_) => {}
                    }
                }
                NetworkKind::Url => {
                    m.has_url = true;
                    let (authority, path) = split_url(&indicator.value);
                    m.urls.push(UrlIndicator {
                        indicator,
                        authority: normalize_authority(authority),
                        path: path.to_string(),
                    });
                }
                NetworkKind::UserAgent => m.has_user_agent = true,
                NetworkKind::HttpHeader => m.has_header = true,
            }
        }
        m
    }

    /// Whether host names can match anything (domains, or URLs through their host).
    pub(crate) fn wants_names(&self) -> bool {
        self.has_domain || self.has_url
    }

    /// Whether addresses can match anything (IPs, or URLs whose host is an address).
    pub(crate) fn wants_ips(&self) -> bool {
        self.has_ip || self.has_url
    }

    /// A DNS name (a query, an SNI, a Host header without port).
    pub(crate) fn domain(&self, name: &str, hits: &mut Hits<'s>) {
        if self.has_domain && !name.is_empty() && self.may_be_domain(name) {
            hits.add(self.set.match_domain(name), name);
        }
    }

    /// Whether the name or one of its parents is in the pre-check set.
    fn may_be_domain(&self, name: &str) -> bool {
        let host = strip_port(name.trim_ascii().trim_end_matches('.'));
        let bytes = host.as_bytes();
        if bytes.len() > MAX_NAME {
            return true;
        }
        let mut buf = [0u8; MAX_NAME];
        let name: &[u8] = if bytes.iter().any(u8::is_ascii_uppercase) {
            let Some(lower) = buf.get_mut(..bytes.len()) else {
                return true;
            };
            for (d, s) in lower.iter_mut().zip(bytes) {
                *d = s.to_ascii_lowercase();
            }
            lower
        } else {
            bytes
        };
        let mut rest = name;
        loop {
            let dot = rest.iter().position(|&b| b == b'.');
            if (dot.is_some() || self.single_label_domains)
                && self.domain_bits.may_contain(name_bit(rest))
                && self.domain_keys.contains(rest)
            {
                return true;
            }
            match dot {
                Some(dot) => rest = rest.get(dot + 1..).unwrap_or_default(),
                None => return false,
            }
        }
    }

    /// An address field.
    pub(crate) fn ip(&self, value: &str, hits: &mut Hits<'s>) {
        if self.has_ip && self.may_be_ip(value) {
            hits.add(self.set.match_ip(value), value);
        }
    }

    /// Whether the address is in the pre-check set (IPv4 parsed by hand: it is most fields).
    fn may_be_ip(&self, value: &str) -> bool {
        let v = value.trim_ascii();
        if let Some(v4) = parse_ipv4(v.as_bytes()) {
            return self.ipv4_bits.may_contain(v4 >> 16) && self.ipv4_keys.contains(&v4);
        }
        // Every IPv4 spelling std accepts went through `parse_ipv4`; the rest must be IPv6.
        if !v.contains(':') || !looks_like_ip(v) {
            return false;
        }
        let v = v.trim_start_matches('[').trim_end_matches(']');
        match v.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => self.ipv6_keys.contains(&u128::from(v6)),
            Ok(IpAddr::V4(v4)) => self.ipv4_keys.contains(&u32::from(v4)),
            Err(_) => false,
        }
    }

    /// A host that may be a name or an address, with or without a port (`host:443`).
    pub(crate) fn host(&self, value: &str, hits: &mut Hits<'s>) {
        let host = strip_port(value);
        if host.is_empty() || host == "-" {
            return;
        }
        if looks_like_ip(host) {
            if self.has_ip && self.may_be_ip(host) {
                hits.add(self.set.match_ip(host), value);
            }
        } else {
            self.domain(value, hits);
        }
        // A CONNECT to a URL indicator's host with an empty path.
        if self.has_url {
            self.url_parts(value, "", value, hits);
        }
    }

    /// A value that is either an address or a name (DNS answers, resolver Rdata).
    pub(crate) fn ip_or_domain(&self, value: &str, hits: &mut Hits<'s>) {
        if looks_like_ip(value) {
            self.ip(value, hits);
        } else {
            self.domain(value, hits);
        }
    }

    /// An absolute URL (`https://host/path`), or a CONNECT authority (`host:443`).
    pub(crate) fn url(&self, url: &str, hits: &mut Hits<'s>) {
        if !(self.has_domain || self.has_ip || self.has_url) {
            return;
        }
        let Some(scheme_end) = scheme_end(url) else {
            if !url.starts_with('/') {
                self.host(url, hits);
            }
            return;
        };
        let (authority, path) = split_url(url);
        let host = match authority.bytes().rposition(|b| b == b'@') {
            Some(at) => authority.get(at + 1..).unwrap_or(""),
            None => authority,
        };
        let bare = strip_port(host);
        if looks_like_ip(bare) {
            if self.has_ip && self.may_be_ip(bare) {
                hits.add(self.set.match_ip(bare), url);
            }
        } else if self.has_domain && !bare.is_empty() && self.may_be_domain(bare) {
            hits.add(self.set.match_domain(bare), url);
        }
        if self.has_url && scheme_end > 0 {
            self.url_parts(host, path, url, hits);
        }
    }

    /// URL indicators matched by a host and a path kept apart (scheme ignored: a decrypted
    /// request to the indicator's host and path is the same request).
    pub(crate) fn url_parts(
        &self,
        authority: &str,
        path: &str,
        matched: &str,
        hits: &mut Hits<'s>,
    ) {
        if !self.has_url {
            return;
        }
        for u in &self.urls {
            if authority_eq(authority, &u.authority)
                && (path.starts_with(u.path.as_str()) || (path.is_empty() && u.path == "/"))
            {
                hits.add([u.indicator], matched);
            }
        }
    }

    /// A Host field plus a request path (Zeek http.log `host` and `uri`).
    pub(crate) fn host_and_path(&self, host: &str, path: &str, hits: &mut Hits<'s>) {
        if self.has_url && path.starts_with('/') && !host.is_empty() {
            let mut matched = String::new();
            for u in &self.urls {
                if authority_eq(host, &u.authority) && path.starts_with(u.path.as_str()) {
                    if matched.is_empty() {
                        matched = format!("{host}{path}");
                    }
                    hits.add([u.indicator], &matched);
                }
            }
        }
    }

    pub(crate) fn user_agent(&self, ua: &str, hits: &mut Hits<'s>) {
        if self.has_user_agent && !ua.is_empty() && ua != "-" {
            hits.add(self.set.match_user_agent(ua), ua);
        }
    }

    /// HTTP header indicators (`Name: value`) anywhere in a line.
    pub(crate) fn headers(&self, line: &str, hits: &mut Hits<'s>) {
        if self.has_header {
            for indicator in self.set.match_header_text(line) {
                hits.add([indicator], &indicator.value);
            }
        }
    }

    /// The fallback for free text: every token that looks like a host, an address or a URL
    /// (split as [`IndicatorSet::match_text`] does) is looked up and reported as the matched
    /// value; user agents and headers are searched as substrings.
    pub(crate) fn text(&self, line: &str, hits: &mut Hits<'s>) {
        let b = line.as_bytes();
        let mut i = 0;
        // Words end at ASCII delimiters only, so every slice below is on a char boundary.
        while i < b.len() {
            let start = i;
            while b.get(i).is_some_and(|&c| !is_word_delimiter(c)) {
                i += 1;
            }
            let word = line.get(start..i).unwrap_or("");
            i += 1;
            if word.len() < 3 {
                continue;
            }
            if scheme_end(word).is_some() {
                self.url(word.trim_matches(|c: char| c == '.' || c == ';'), hits);
                continue;
            }
            let wb = word.as_bytes();
            let mut j = 0;
            while j < wb.len() {
                let token_start = j;
                while wb.get(j).is_some_and(|&c| is_token_byte(c)) {
                    j += 1;
                }
                let token = word.get(token_start..j).unwrap_or("");
                j += 1;
                let t = token.trim_matches(|c: char| c == '.' || c == ':');
                if t.len() < 3 {
                    continue;
                }
                if t.bytes().any(|b| b.is_ascii_alphabetic()) && !t.contains("::") {
                    if self.single_label_domains || t.contains('.') {
                        self.domain(t, hits);
                    }
                } else {
                    self.ip(strip_port(t), hits);
                }
            }
        }
        if self.has_user_agent {
            for indicator in self.set.match_user_agent(line) {
                hits.add([indicator], &indicator.value);
            }
        }
        if self.has_header {
            for indicator in self.set.match_header_text(line) {
                hits.add([indicator], &indicator.value);
            }
        }
    }
}

/// Where free text splits into words (as [`IndicatorSet::match_text`] does, ASCII only).
fn is_word_delimiter(c: u8) -> bool {
    c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b',' | b'(' | b')' | b'<' | b'>')
}

/// What a host, an address or a port is made of.
fn is_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':' | b'_' | b'[' | b']')
}

/// `scheme://authority/path?q` → (`authority`, `/path?q`); without a scheme the whole is the
/// authority and path.
fn split_url(url: &str) -> (&str, &str) {
    let rest = scheme_end(url).map_or(url, |i| url.get(i + 3..).unwrap_or(""));
    match rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    }
}

fn normalize_authority(authority: &str) -> String {
    let a = authority.to_ascii_lowercase();
    let a = a.trim_end_matches('.');
    let a = a
        .strip_suffix(":443")
        .or_else(|| a.strip_suffix(":80"))
        .unwrap_or(a);
    a.trim_end_matches('.').to_string()
}

/// Compares a log's authority with a normalised one: case-insensitive, default ports ignored.
fn authority_eq(seen: &str, normalized: &str) -> bool {
    let seen = seen.rsplit_once('@').map_or(seen, |(_, h)| h);
    let seen = seen
        .strip_suffix(":443")
        .or_else(|| seen.strip_suffix(":80"))
        .unwrap_or(seen);
    let seen = seen.trim_end_matches('.');
    seen.eq_ignore_ascii_case(normalized)
}

/// The next `sep` at or after `from`, eight bytes at a time: fields are short, so this beats
/// both a byte loop and a SIMD search restarted for each field.
pub(crate) fn next_separator(bytes: &[u8], from: usize, sep: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(sep);
    let mut i = from;
    while let Some(word) = bytes.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w) ^ pattern;
        // The lowest flagged byte is exactly the first zero byte (matching `sep`).
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes
        .get(i..)?
        .iter()
        .position(|&c| c == sep)
        .map(|p| i + p)
}

/// Where `://` starts, without setting up a substring searcher per call.
pub(crate) fn scheme_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = b.get(from..)?.iter().position(|&c| c == b':') {
        let at = from + i;
        if b.get(at + 1..at + 3) == Some(b"//") {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// `host:443` → `host`, `[::1]:53` → `::1`; a bare IPv6 address is kept whole.
pub(crate) fn strip_port(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    let b = s.as_bytes();
    match b.iter().rposition(|&c| c == b':') {
        Some(colon)
            if !b.get(..colon).unwrap_or_default().contains(&b':')
                && b.get(colon + 1..)
                    .unwrap_or_default()
                    .iter()
                    .all(u8::is_ascii_digit) =>
        {
            s.get(..colon).unwrap_or(s)
        }
        _ => s,
    }
}

/// A cheap shape test before parsing: digits and dots, or hex digits and colons.
pub(crate) fn looks_like_ip(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 2 || b.len() > 45 {
        return false;
    }
    let v4 = b.iter().all(|c| c.is_ascii_digit() || *c == b'.');
    if v4 {
        return true;
    }
    b.contains(&b':')
        && b.iter()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.' | b'[' | b']' | b'%'))
}

/// Dotted-quad IPv4 as std accepts it (no leading zeros), without the generic parser's cost.
fn parse_ipv4(b: &[u8]) -> Option<u32> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let (mut out, mut n, mut digits, mut dots) = (0u32, 0u32, 0u32, 0u32);
    for &c in b {
        if c == b'.' {
            if digits == 0 || dots == 3 {
                return None;
            }
            out = (out << 8) | n;
            (n, digits, dots) = (0, 0, dots + 1);
        } else if c.is_ascii_digit() {
            if digits > 0 && n == 0 {
                // A leading zero: std refuses it (octal ambiguity), so must we.
                return None;
            }
            n = n * 10 + u32::from(c - b'0');
            digits += 1;
            if n > 255 {
                return None;
            }
        } else {
            return None;
        }
    }
    (dots == 3 && digits > 0).then_some((out << 8) | n)
}

/// Parses an address field, if it is one.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = strip_port(s.trim());
    if !looks_like_ip(s) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(kind: NetworkKind, value: &str) -> Indicator {
        Indicator {
            kind,
            value: value.into(),
            advisory_id: "t".into(),
            weak: false,
        }
    }

    #[test]
    fn url_parts_and_hosts() {
        let set = IndicatorSet::new(vec![
            ind(NetworkKind::Url, "https://audit.checkmarx.cx/v1/telemetry"),
            ind(NetworkKind::Domain, "audit.checkmarx.cx"),
            ind(NetworkKind::Ip, "94.154.172.43"),
        ]);
        let m = Matcher::new(&set);
        let mut h = Hits::default();
        m.url("https://AUDIT.checkmarx.cx:443/v1/telemetry?x", &mut h);
        assert_eq!(h.list.len(), 2);
        h.clear();
        m.host_and_path("audit.checkmarx.cx", "/v1/telemetry", &mut h);
        assert_eq!(h.list.len(), 1);
        h.clear();
        m.host_and_path("audit.checkmarx.cx", "/v2", &mut h);
        assert!(h.is_empty());
        m.url("http://94.154.172.43/x", &mut h);
        assert_eq!(h.list.len(), 1);
        h.clear();
        m.host("audit.checkmarx.cx:443", &mut h);
        assert_eq!(h.list.len(), 1);
        h.clear();
        m.host("notcheckmarx.cx:443", &mut h);
        m.url("https://checkmarx.com/v1/telemetry", &mut h);
        assert!(h.is_empty());
        assert_eq!(strip_port("[::1]:53"), "::1");
        assert_eq!(strip_port("::1"), "::1");
        assert!(looks_like_ip("2001:db8::1"));
        assert!(!looks_like_ip("audit.checkmarx.cx"));
        assert_eq!(parse_ipv4(b"94.154.172.43"), Some(0x5e9a_ac2b));
        assert_eq!(parse_ipv4(b"94.154.172.043"), None);
        assert_eq!(parse_ipv4(b"94.154.172.256"), None);
        assert_eq!(parse_ipv4(b"94.154.172"), None);
        assert_eq!(parse_ipv4(b"1.2.3.4.5"), None);
        assert_eq!(parse_ipv4(b"0.0.0.0"), Some(0));
        assert_eq!(parse_ipv4(b"1..2.3"), None);
        assert_eq!(parse_ipv4(b"1.2.3.4."), None);
        assert_eq!(parse_ipv4(b"255.255.255.255"), Some(u32::MAX));
    }
}
