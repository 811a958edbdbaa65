//! A pre-filter: a line can only match if it holds a piece of some indicator, so whole chunks
//! are searched for the pieces and only the lines that hold one are parsed.
//!
//! - **Few** indicators (the advisories' handful): their pieces (domains, addresses as written,
//!   URL hosts, header names) are searched with `memmem` in a lower-cased copy of each block,
//!   which skips most bytes.
//! - **Many** (a feed of thousands): domains and IPv4 addresses (and URL hosts) are keyed. In a
//!   log they are runs of name characters with dots, and an indicator's first dot is one of the
//!   run's dots. Each dot of a block gets a key (up to four name bytes before it, up to four
//!   name-or-dot bytes after it, case folded) looked up in a bitmap, then a set, of the
//!   indicators' first-dot keys: one look-up per dot whatever the number of indicators. Dots
//!   inside numbers (the second dot of an address, a time) are passed over.
//! - User agents and header values are searched as written either way (they match
//!   case-sensitively); a header without a value by its name, case folded.
//!
//! A set the pre-filter cannot stand for (an IPv6 address has many spellings; many pieces that
//! cannot be keyed) is not pre-filtered: every line is parsed. Hosts written with escapes
//! (`audit\u002echeckmarx.cx` in JSON) are found only in the lines the pre-filter passes.

use std::net::IpAddr;

use memchr::memmem::Finder;

use super::matcher::FxSet;
use crate::NetworkKind;
use crate::indicators::IndicatorSet;

/// Most literal pieces searched for; above this every line is parsed.
const MAX_NEEDLES: usize = 24;

/// Shortest piece worth searching for: shorter ones are in most lines anyway.
const MIN_NEEDLE: usize = 4;

#[derive(Debug)]
pub(crate) struct Prefilter {
    /// Pieces searched as written (user agents: they match case-sensitively).
    exact: Vec<Finder<'static>>,
    /// Pieces searched in a lower-cased copy (header names; domains and addresses when not
    /// keyed).
    folded: Vec<Finder<'static>>,
    /// Longest piece.
    longest: usize,
    /// Domains and addresses by the keys of their first dot.
    keys: Option<DotKeys>,
}

/// Bytes searched at a time: fits in a core's L2 cache with its lower-cased copy.
const BLOCK: usize = 64 * 1024;

/// Lines that change how the next lines are read (Zeek headers, VPC header lines) must be seen
/// even when they hold no indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StateLines {
    None,
    /// Lines starting with `#`.
    Hash,
    /// Lines naming `srcaddr` / `dstaddr`.
    VpcHeader,
}

impl Prefilter {
    /// Keyed when every domain and address has a dot to key it by, else literal when the
    /// pieces are few and long enough; `None` when neither can stand for the set.
    pub(crate) fn new(set: &IndicatorSet) -> Option<Prefilter> {
        let mut dotted = Vec::new();
        let mut exact = Vec::new();
        let mut folded = Vec::new();
        for ind in set.all() {
            match ind.kind {
                NetworkKind::Domain => {
                    dotted.push(ind.value.trim_end_matches('.').to_ascii_lowercase());
                }
                NetworkKind::Ip => match ind.value.trim().parse::<IpAddr>().ok()? {
                    IpAddr::V4(v4) => dotted.push(v4.to_string()),
                    IpAddr::V6(_) => return None,
                },
                NetworkKind::Url => {
                    let rest = ind.value.split_once("://").map_or(&*ind.value, |(_, r)| r);
                    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
                    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                    if host.starts_with('[') {
                        return None;
                    }
                    let host = host.split(':').next().unwrap_or("");
                    dotted.push(host.trim_end_matches('.').to_ascii_lowercase());
                }
                // Pieces between characters a log may escape (`\/` in JSON, `\x22`).
                NetworkKind::UserAgent => exact.push(longest_piece(&ind.value)?),
                // A header matches on its value as written (the name in any case): the value,
                // when there is one, needs no lower-cased copy.
                NetworkKind::HttpHeader => match ind.value.split_once(':') {
                    Some((_, value)) if !value.trim().is_empty() => {
                        exact.push(longest_piece(value.trim())?);
                    }
                    _ => {
                        let name = ind.value.split(':').next().unwrap_or("");
                        folded.push(longest_piece(name)?.to_ascii_lowercase());
                    }
                },
            }
        }
        // A value with a character no host has (a user agent given as a domain in a feed) can
        // never match a host: it needs no key.
        let hosts: Vec<&String> = dotted
            .iter()
            .filter(|d| {
                !d.bytes()
                    .any(|b| b.is_ascii_whitespace() || b"/\"'<>,;=".contains(&b))
            })
            .collect();
        let exact = needles(exact)?;
        // Few pieces: `memmem` over a lower-cased copy skips most bytes, faster than a look at
        // every dot. Many: a look at every dot costs the same whatever their number.
        let mut literal = folded.clone();
        literal.extend(dotted.iter().cloned());
        if let Some(folded) = needles(literal) {
            return Some(Self::with(exact, folded, None));
        }
        let mut keys = DotKeys::with_capacity(hosts.len());
        if hosts.iter().all(|d| keys.add(d.as_bytes()).is_some()) {
            return Some(Self::with(exact, needles(folded)?, Some(keys)));
        }
        None
    }

    fn with(exact: Vec<String>, folded: Vec<String>, keys: Option<DotKeys>) -> Prefilter {
        let finders = |pieces: &[String]| {
            pieces
                .iter()
                .map(|p| Finder::new(p.as_bytes()).into_owned())
                .collect()
        };
        Prefilter {
            longest: exact
                .iter()
                .chain(&folded)
                .map(String::len)
                .max()
                .unwrap_or(0)
                .max(8),
            exact: finders(&exact),
            folded: finders(&folded),
            keys,
        }
    }

    /// Sorted, distinct starts of the lines of `data` that may match, plus the state lines.
    pub(crate) fn candidates(
        &self,
        data: &[u8],
        state_lines: StateLines,
        lower: &mut Vec<u8>,
        out: &mut Vec<usize>,
    ) {
        out.clear();
        if let Some(keys) = self.keys.as_ref().filter(|k| !k.exact.is_empty()) {
            keys.candidates(data, out);
        }
        // Block by block, so that the lower-cased copy and every search stay in cache; blocks
        // overlap by a needle's length so that nothing straddling a boundary is missed.
        let overlap = self.longest.saturating_sub(1);
        let mut start = 0;
        while start < data.len() {
            let end = (start + BLOCK).min(data.len());
            let block = data.get(start..end).unwrap_or_default();
            for finder in &self.exact {
                for at in finder.find_iter(block) {
                    out.push(line_start(data, start + at));
                }
            }
            if !self.folded.is_empty() {
                lower.clear();
                lower.extend(block.iter().map(u8::to_ascii_lowercase));
                for finder in &self.folded {
                    for at in finder.find_iter(lower.as_slice()) {
                        out.push(line_start(data, start + at));
                    }
                }
            }
            match state_lines {
                StateLines::None => {}
                StateLines::Hash => {
                    if start == 0 && data.first() == Some(&b'#') {
                        out.push(0);
                    }
                    for at in memchr::memmem::find_iter(block, b"\n#") {
                        out.push(start + at + 1);
                    }
                }
                StateLines::VpcHeader => {
                    for needle in [&b"srcaddr"[..], b"dstaddr"] {
                        for at in memchr::memmem::find_iter(block, needle) {
                            out.push(line_start(data, start + at));
                        }
                    }
                }
            }
            if end == data.len() {
                break;
            }
            start = end.saturating_sub(overlap).max(start + 1);
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// The literal pieces to search for, each implied one dropped; `None` when there are too many
/// or one is too short to be worth it.
fn needles(mut pieces: Vec<String>) -> Option<Vec<String>> {
    if pieces.iter().any(|p| p.len() < MIN_NEEDLE) {
        return None;
    }
    pieces.sort();
    pieces.dedup();
    // Pieces implied by others are dropped below, but not enough to matter past this.
    if pieces.len() > 8 * MAX_NEEDLES {
        return None;
    }
    // A piece that contains another is implied by it.
    let kept: Vec<String> = pieces
        .iter()
        .filter(|p| !pieces.iter().any(|q| q != *p && p.contains(q.as_str())))
        .cloned()
        .collect();
    (kept.len() <= MAX_NEEDLES).then_some(kept)
}

/// Largest key bitmap: 2^18 bits (32 KiB).
const KEY_BITS_MAX_LOG2: u32 = 18;

/// The first-dot keys of a set's domains and addresses: a bitmap that rejects almost every dot
/// of a log at the cost of one bit test, and the exact keys behind it.
#[derive(Debug)]
struct DotKeys {
    bits: Box<[u64]>,
    /// 64 minus the bitmap's log2 size: a hash's top bits index it.
    shift: u32,
    exact: FxSet<u64>,
    /// Whether some key that is not an address's has digits on both sides of its dot: else a
    /// dot between digits matters only where an address starts (one to three digits after a
    /// character that is neither a name's nor a dot), and the other dots of addresses and
    /// numbers are passed over.
    digit_dot_names: bool,
}

impl DotKeys {
    /// Room for `n` keys: a bitmap of about 32 bits a key, between 4,096 bits and 2^18 (32 KiB,
    /// in a core's L1 cache: it is read for every dot); the few percent of dots that pass it
    /// are checked in the set of keys.
    fn with_capacity(n: usize) -> Self {
        let log2 = (n.max(1) * 32)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(12, KEY_BITS_MAX_LOG2);
        DotKeys {
            bits: vec![0; 1 << (log2 - 6)].into_boxed_slice(),
            shift: 64 - log2,
            exact: FxSet::default(),
            digit_dot_names: false,
        }
    }
}

/// The nine bytes around a dot near an end of `s`, zeros (not name bytes) where there are none.
#[cold]
fn edge_window(s: &[u8], dot: usize) -> [u8; 9] {
    let mut w = [0u8; 9];
    for (k, slot) in w.iter_mut().enumerate() {
        if let Some(&b) = (dot + k).checked_sub(4).and_then(|i| s.get(i)) {
            *slot = b;
        }
    }
    w
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
const LOWS: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// Per byte of `x` (ASCII bytes only: others never count), the high bit set where the byte is
/// at least `lo`.
#[inline(always)]
fn at_least(x7: u64, lo: u8) -> u64 {
    x7.wrapping_add(ONES * u64::from(0x80 - lo)) & HIGHS
}

/// Per byte, the high bit set where the byte is in `lo..=hi`.
#[inline(always)]
fn within(x7: u64, lo: u8, hi: u8) -> u64 {
    at_least(x7, lo) & !at_least(x7, hi + 1)
}

/// Per byte, the high bit set where the byte is zero.
#[inline(always)]
fn zeros(x: u64) -> u64 {
    !(((x & LOWS).wrapping_add(LOWS)) | x) & HIGHS
}

/// The key of the dot at `dot` in `s`: the name bytes (letters, digits, `-`, `_`) just before
/// it (at most four, none past a dot or another character) and the name-or-dot bytes just after
/// it (at most four), case folded. A domain or address has the same key at its first dot
/// wherever it is written, since it starts at a label boundary and ends where the name ends.
/// Eight bytes at once, without tables or branches: it runs for every dot of the logs.
#[inline(always)]
fn dot_key(s: &[u8], dot: usize) -> u64 {
    key_of(around(s, dot)).0
}

/// The four bytes before the dot (the nearest lowest) and the four after it (likewise), as one
/// word; zeros (not name bytes) past the ends of `s`.
#[inline(always)]
fn around(s: &[u8], dot: usize) -> u64 {
    // Read in place (a copy to the stack would stall the loads that follow it).
    let four = |w: &[u8], at: usize| -> [u8; 4] {
        w.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0; 4])
    };
    let (before, after) = match dot.checked_sub(4).and_then(|from| s.get(from..dot + 5)) {
        Some(window) => (four(window, 0), four(window, 5)),
        None => {
            let w = edge_window(s, dot);
            (four(&w, 0), four(&w, 5))
        }
    };
    u64::from(u32::from_be_bytes(before)) | u64::from(u32::from_le_bytes(after)) << 32
}

/// The key of the bytes around a dot (see [`dot_key`]), and whether the dot is between digits
/// but cannot be an address's first dot: the digits before it are four or more
/// (`1776861361.5`) or follow a dot or a name byte (the second dot of `10.0.5.23`, `v1.2`), or
/// four digits follow it (`0.012031`).
#[inline(always)]
fn key_of(x: u64) -> (u64, bool) {
    let x7 = x & LOWS;
    let ascii = !x & HIGHS;
    let upper = within(x7, b'A', b'Z');
    let digits = within(x7, b'0', b'9') & ascii;
    let name =
        (digits | upper | within(x7, b'a', b'z') | within(x7, b'-', b'-') | within(x7, b'_', b'_'))
            & ascii;
    let dots = zeros(x ^ (ONES * u64::from(b'.')));
    // Before the dot only names count; after it, dots too.
    let valid = (name & 0x8080_8080) | ((name | dots) & 0x8080_8080_0000_0000);
    let folded = x | (upper >> 2);
    let run = |valid: u32, bytes: u32| {
        let len = (!valid & 0x8080_8080).trailing_zeros() / 8;
        let keep = if len >= 4 {
            u32::MAX
        } else {
            (1u32 << (8 * len)) - 1
        };
        bytes & keep
    };
    let before = run(valid as u32, folded as u32);
    let after = run((valid >> 32) as u32, (folded >> 32) as u32);
    let key = (u64::from(before) << 32) | u64::from(after);
    let number = digits & 0x80 != 0 && digits & (0x80 << 32) != 0 && {
        let digits_before = (!digits & 0x8080_8080).trailing_zeros() / 8;
        let next_is_name_or_dot = ((name | dots) >> (8 * digits_before.min(3))) & 0x80 != 0;
        digits_before >= 4 || (digits >> 32) & 0x8080_8080 == 0x8080_8080 || next_is_name_or_dot
    };
    (key, number)
}

impl DotKeys {
    /// Adds a domain or address; `None` when it has no dot to key it by.
    fn add(&mut self, value: &[u8]) -> Option<()> {
        let dot = memchr::memchr(b'.', value)?;
        if dot == 0 {
            return None;
        }
        let digits = |i: usize| value.get(i).is_some_and(u8::is_ascii_digit);
        if digits(dot - 1)
            && digits(dot + 1)
            && std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<std::net::Ipv4Addr>().ok())
                .is_none()
        {
            self.digit_dot_names = true;
        }
        let key = dot_key(value, dot);
        let bit = self.bit_of(key);
        if let Some(w) = self.bits.get_mut(bit >> 6) {
            *w |= 1 << (bit & 63);
        }
        self.exact.insert(key);
        Some(())
    }

    #[inline]
    fn bit_of(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    #[inline]
    fn may_hold(&self, key: u64) -> bool {
        let bit = self.bit_of(key);
        self.bits
            .get(bit >> 6)
            .is_some_and(|w| w & (1 << (bit & 63)) != 0)
            && self.exact.contains(&key)
    }

    /// Pushes the start of every line holding a dot whose key is an indicator's.
    fn candidates(&self, data: &[u8], out: &mut Vec<usize>) {
        let mut last_line = usize::MAX;
        // Dots found eight bytes at a time: they are frequent (addresses, times, names), so
        // this beats a vector search restarted at each.
        let words = data.chunks_exact(8);
        let tail = words.remainder().len();
        for (i, word) in words.enumerate() {
            let x = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            let mut dots = zeros(x ^ (ONES * u64::from(b'.')));
            while dots != 0 {
                let dot = i * 8 + (dots.trailing_zeros() / 8) as usize;
                dots &= dots - 1;
                let (key, number) = key_of(around(data, dot));
                if (self.digit_dot_names || !number) && self.may_hold(key) {
                    self.found(data, dot, &mut last_line, out);
                }
            }
        }
        let from = data.len() - tail;
        for (k, &b) in data.get(from..).unwrap_or_default().iter().enumerate() {
            if b == b'.' && self.may_hold(dot_key(data, from + k)) {
                self.found(data, from + k, &mut last_line, out);
            }
        }
    }

    /// Pushes the start of the line holding `dot`, once for several dots of one line.
    #[cold]
    fn found(&self, data: &[u8], dot: usize, last_line: &mut usize, out: &mut Vec<usize>) {
        let start = line_start(data, dot);
        if start != *last_line {
            out.push(start);
            *last_line = start;
        }
    }
}

fn line_start(data: &[u8], at: usize) -> usize {
    data.get(..at)
        .and_then(|before| memchr::memrchr(b'\n', before))
        .map_or(0, |nl| nl + 1)
}

/// The longest run of `s` without characters a log writer may escape.
fn longest_piece(s: &str) -> Option<String> {
    s.split(|c: char| matches!(c, '/' | '"' | '\\' | '\'') || !c.is_ascii() || c.is_control())
        .max_by_key(|p| p.len())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::Indicator;

    fn ind(kind: NetworkKind, value: &str) -> Indicator {
        Indicator {
            kind,
            value: value.into(),
            advisory_id: "t".into(),
            weak: false,
        }
    }

    #[test]
    fn pieces_and_candidates() {
        let set = IndicatorSet::new(vec![
            ind(NetworkKind::Domain, "audit.checkmarx.cx"),
            ind(NetworkKind::Domain, "checkmarx.cx"),
            ind(NetworkKind::Url, "https://audit.checkmarx.cx/v1/telemetry"),
            ind(NetworkKind::UserAgent, "KICS-Telemetry/2.0"),
            ind(NetworkKind::Ip, "94.154.172.43"),
        ]);
        let p = Prefilter::new(&set).unwrap();
        // Few: literal pieces (checkmarx.cx implies audit.checkmarx.cx); the UA piece, as
        // written, is "KICS-Telemetry".
        assert!(p.keys.is_none());
        assert_eq!((p.exact.len(), p.folded.len()), (1, 2));
        let data = b"a\nAUDIT.CHECKMARX.CX x\nb\n#h\nKICS-Telemetry\\/2.0\n94.154.172.43\n";
        let mut out = Vec::new();
        p.candidates(data, StateLines::Hash, &mut Vec::new(), &mut out);
        assert_eq!(out, [2, 25, 28, 48]);
        // A needle across a block boundary.
        let mut big = Vec::new();
        while big.len() < BLOCK - 5 {
            big.extend_from_slice(b"filler line\n");
        }
        big.truncate(BLOCK - 5);
        big.extend_from_slice(b"\naudit.Checkmarx.cx\n");
        p.candidates(&big, StateLines::None, &mut Vec::new(), &mut out);
        assert_eq!(out, [BLOCK - 4]);
        let v6 = IndicatorSet::new(vec![ind(NetworkKind::Ip, "2001:db8::1")]);
        assert!(Prefilter::new(&v6).is_none());
        // A domain of one label: searched as a literal, case folded.
        let set = IndicatorSet::new(vec![
            ind(NetworkKind::Domain, "intranet-c2"),
            ind(NetworkKind::Domain, "audit.checkmarx.cx"),
        ]);
        let p = Prefilter::new(&set).unwrap();
        assert!(p.keys.is_none());
        assert_eq!(p.folded.len(), 2);
        let data = b"x\nGET http://INTRANET-C2/ 200\naudit.checkmarx.cx\n";
        p.candidates(data, StateLines::None, &mut Vec::new(), &mut out);
        assert_eq!(out, [2, 30]);
    }

    #[test]
    fn large_sets_are_keyed_by_their_first_dot() {
        let mut all: Vec<Indicator> = (0..500)
            .map(|i| {
                ind(
                    NetworkKind::Domain,
                    &format!("bad{i:05}.api.example-threat.net"),
                )
            })
            .collect();
        all.push(ind(NetworkKind::Domain, "ab.evil.io"));
        all.push(ind(NetworkKind::Ip, "94.154.172.43"));
        all.push(ind(NetworkKind::Ip, "8.8.4.4"));
        all.push(ind(NetworkKind::Url, "http://c2.example.org/x"));
        all.push(ind(NetworkKind::UserAgent, "KICS-Telemetry/2.0"));
        // A user agent given as a domain (a feed line): no host is that, no key needed.
        all.push(ind(NetworkKind::Domain, "KICS-Telemetry/2.0"));
        let p = Prefilter::new(&IndicatorSet::new(all)).unwrap();
        assert!(p.keys.is_some());
        assert_eq!(p.exact.len(), 1);
        let lines: &[(&[u8], bool)] = &[
            (b"q x.BAD00042.Api.example-threat.net A\n", true),
            (b"q bad00042.api.example-threat.net.\n", true),
            // The key sees four bytes: this line is parsed, and the parser finds no match.
            (b"q xbad00042.api.example-threat.net\n", true),
            (b"q bad00042.apix.example-threat.net\n", false),
            (b"CONNECT ab.evil.io:443 -\n", true),
            (b"CONNECT cab.evil.io:443 -\n", false),
            (b"HIER_DIRECT/94.154.172.43 -\n", true),
            (b"HIER_DIRECT/194.154.172.43 -\n", false),
            (b"dst=8.8.4.4\n", true),
            (b"dst=8.8.8.8\n", false),
            // Inside a longer dotted number: not an address, its dots passed over.
            (b"oid=10.94.154.172.43 t=1776861361.512345\n", false),
            (b"GET http://C2.example.org/x HTTP/1.1\n", true),
            (b"ua \"KICS-Telemetry\\/2.0\"\n", true),
            (b"1776861361.512345 api.cdn123.com 300.000000\n", false),
        ];
        let mut data = Vec::new();
        let mut want = Vec::new();
        for (line, hit) in lines {
            if *hit {
                want.push(data.len());
            }
            data.extend_from_slice(line);
        }
        let mut out = Vec::new();
        p.candidates(&data, StateLines::None, &mut Vec::new(), &mut out);
        assert_eq!(out, want);
        // A name with digits around its first dot: every dot between digits is looked at.
        let mut numeric: Vec<Indicator> = (0..100)
            .map(|i| ind(NetworkKind::Domain, &format!("d{i}.example")))
            .collect();
        numeric.push(ind(NetworkKind::Domain, "1.2.example.com"));
        let p = Prefilter::new(&IndicatorSet::new(numeric)).unwrap();
        p.candidates(
            b"q x.1.2.example.com\n",
            StateLines::None,
            &mut Vec::new(),
            &mut out,
        );
        assert_eq!(out, [0]);
        // Many domains and one of a single label: neither keyed nor few enough to search as
        // literals, every line is parsed.
        let mut odd: Vec<Indicator> = (0..100)
            .map(|i| ind(NetworkKind::Domain, &format!("d{i}.example")))
            .collect();
        odd.push(ind(NetworkKind::Domain, "localhost"));
        assert!(Prefilter::new(&IndicatorSet::new(odd)).is_none());
    }

    /// The key as its definition says, byte by byte.
    fn slow_key(s: &[u8], dot: usize) -> u64 {
        let name = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        let mut before = 0u64;
        for k in 0..4 {
            match dot.checked_sub(k + 1).and_then(|i| s.get(i)) {
                Some(&b) if name(b) => before |= u64::from(b.to_ascii_lowercase()) << (8 * k),
                _ => break,
            }
        }
        let mut after = 0u64;
        for k in 0..4 {
            match s.get(dot + 1 + k) {
                Some(&b) if name(b) || b == b'.' => {
                    after |= u64::from(b.to_ascii_lowercase()) << (8 * k);
                }
                _ => break,
            }
        }
        (before << 32) | after
    }

    /// Whether a dot is inside a number, as [`key_of`] defines it, byte by byte.
    fn slow_number(s: &[u8], dot: usize) -> bool {
        let digit = |i: Option<usize>| i.and_then(|i| s.get(i)).is_some_and(u8::is_ascii_digit);
        if !(digit(dot.checked_sub(1)) && digit(Some(dot + 1))) {
            return false;
        }
        let mut run = 0;
        while run < 4 && digit(dot.checked_sub(run + 1)) {
            run += 1;
        }
        let after = (1..=4).all(|k| digit(Some(dot + k)));
        let next = dot.checked_sub(run + 1).and_then(|i| s.get(i)).copied();
        run >= 4
            || after
            || next
                .is_some_and(|b| b == b'.' || b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    #[test]
    fn dot_keys_eight_bytes_at_once_match_the_definition() {
        let alphabet = b"aZ0912345.-_:/ \t\r\x7f\x80\xff@[`{~";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut s = [0u8; 13];
            for b in &mut s {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = alphabet[(seed % alphabet.len() as u64) as usize];
            }
            s[6] = b'.';
            for dot in [6, 1, 11] {
                let mut s = s;
                s[dot] = b'.';
                assert_eq!(dot_key(&s, dot), slow_key(&s, dot), "{s:?} at {dot}");
                assert_eq!(
                    key_of(around(&s, dot)).1,
                    slow_number(&s, dot),
                    "{s:?} at {dot}"
                );
            }
        }
    }
}
