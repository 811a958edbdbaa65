//! A literal pre-filter for small indicator sets: a line can only match if it contains, in
//! lower case, some piece of an indicator (a domain, an address as written, a URL's host, a
//! piece of a user agent). Whole chunks are searched for those pieces with `memmem`, and only
//! the lines that hold one are parsed. With many indicators the per-line parser is faster, and
//! the pre-filter is not used.

use std::net::IpAddr;

use memchr::memmem::Finder;

use crate::NetworkKind;
use crate::indicators::IndicatorSet;

/// Most pieces searched for; above this, parsing every line is faster.
const MAX_NEEDLES: usize = 24;

/// Shortest piece worth searching for: shorter ones are in most lines anyway.
const MIN_NEEDLE: usize = 4;

#[derive(Debug)]
pub(crate) struct Prefilter {
    needles: Vec<Finder<'static>>,
    /// Whether any needle has letters (else the chunk needs no lower-casing).
    fold_case: bool,
    /// Longest needle (state-line needles included).
    longest: usize,
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
    /// `None` when the set is too large or holds something a literal search cannot stand for
    /// (an IPv6 address has many spellings).
    pub(crate) fn new(set: &IndicatorSet) -> Option<Prefilter> {
        // Pieces implied by others are dropped below, but not enough to matter past this.
        if set.len() > 8 * MAX_NEEDLES {
            return None;
        }
        let mut pieces: Vec<String> = Vec::new();
        for ind in set.all() {
            let piece = match ind.kind {
                NetworkKind::Domain => ind.value.trim_end_matches('.').to_ascii_lowercase(),
                NetworkKind::Ip => match ind.value.trim().parse::<IpAddr>().ok()? {
                    IpAddr::V4(v4) => v4.to_string(),
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
                    host.trim_end_matches('.').to_ascii_lowercase()
                }
                // Pieces between characters a log may escape (`\/` in JSON, `\x22`).
                NetworkKind::UserAgent => longest_piece(&ind.value)?,
                NetworkKind::HttpHeader => {
                    let name = ind.value.split(':').next().unwrap_or("");
                    longest_piece(name)?
                }
            };
            if piece.len() < MIN_NEEDLE {
                return None;
            }
            pieces.push(piece);
        }
        pieces.sort();
        pieces.dedup();
        // A piece that contains another is implied by it.
        let kept: Vec<String> = pieces
            .iter()
            .filter(|p| !pieces.iter().any(|q| q != *p && p.contains(q.as_str())))
            .cloned()
            .collect();
        if kept.len() > MAX_NEEDLES {
            return None;
        }
        let fold_case = kept
            .iter()
            .any(|p| p.bytes().any(|b| b.is_ascii_alphabetic()));
        let longest = kept.iter().map(String::len).max().unwrap_or(0).max(8);
        Some(Prefilter {
            longest,
            needles: kept
                .iter()
                .map(|p| Finder::new(p.as_bytes()).into_owned())
                .collect(),
            fold_case,
        })
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
        // Block by block, so that the lower-cased copy and every search stay in cache; blocks
        // overlap by a needle's length so that nothing straddling a boundary is missed.
        let overlap = self.longest.saturating_sub(1);
        let mut start = 0;
        while start < data.len() {
            let end = (start + BLOCK).min(data.len());
            let block = data.get(start..end).unwrap_or_default();
            let hay: &[u8] = if self.fold_case {
                lower.clear();
                lower.extend(block.iter().map(u8::to_ascii_lowercase));
                lower
            } else {
                block
            };
            for finder in &self.needles {
                for at in finder.find_iter(hay) {
                    out.push(line_start(data, start + at));
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
                        for at in memchr::memmem::find_iter(hay, needle) {
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

fn line_start(data: &[u8], at: usize) -> usize {
    data.get(..at)
        .and_then(|before| memchr::memrchr(b'\n', before))
        .map_or(0, |nl| nl + 1)
}

/// The longest run of `s` (lower-cased) without characters a log writer may escape.
fn longest_piece(s: &str) -> Option<String> {
    s.split(|c: char| matches!(c, '/' | '"' | '\\' | '\'') || !c.is_ascii() || c.is_control())
        .max_by_key(|p| p.len())
        .map(str::to_ascii_lowercase)
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
        // checkmarx.cx implies audit.checkmarx.cx; the UA piece is "kics-telemetry".
        assert_eq!(p.needles.len(), 3);
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
    }
}
