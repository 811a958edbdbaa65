//! AWS VPC Flow Logs: space-separated records, default version 2 layout unless a header line
//! (`version account-id interface-id srcaddr …`, written at the top of S3 objects) names the
//! fields of a custom format.

use std::borrow::Cow;

use super::matcher::{Hits, Matcher};
use super::{Outcome, Rec, Time};

const DEFAULT: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol \
                       packets bytes start end action log-status";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Ignore,
    Src,
    Dst,
    /// `pkt-srcaddr`, `pkt-dstaddr`: the addresses behind a NAT gateway.
    Addr,
    Start,
}

/// The field layout of one file.
#[derive(Debug)]
pub(crate) struct Vpc {
    cols: Vec<Col>,
}

impl Vpc {
    fn from_header(header: &str) -> Vpc {
        let cols = header
            .split_ascii_whitespace()
            .map(|name| match name {
                "srcaddr" => Col::Src,
                "dstaddr" => Col::Dst,
                "pkt-srcaddr" | "pkt-dstaddr" => Col::Addr,
                "start" => Col::Start,
                _ => Col::Ignore,
            })
            .collect();
        Vpc { cols }
    }

    pub(crate) fn line<'l, 's>(
        &mut self,
        line: &'l str,
        m: &Matcher<'s>,
        hits: &mut Hits<'s>,
    ) -> Outcome<'l> {
        let t = line.trim();
        if t.is_empty() {
            return Outcome::Skip;
        }
        if is_header(t) {
            *self = Vpc::from_header(t);
            return Outcome::Skip;
        }
        if !m.has_ip {
            return Outcome::Skip;
        }
        let mut rec = Rec::default();
        let mut count = 0;
        for value in t.split(' ') {
            let col = self.cols.get(count).copied().unwrap_or(Col::Ignore);
            count += 1;
            if value == "-" {
                continue;
            }
            match col {
                Col::Ignore => {}
                Col::Src => {
                    m.ip(value, hits);
                    rec.host = Some(Cow::Borrowed(value));
                }
                Col::Dst => {
                    m.ip(value, hits);
                    rec.remote = Some(Cow::Borrowed(value));
                }
                Col::Addr => m.ip(value, hits),
                Col::Start => rec.time = Time::Epoch(value),
            }
        }
        if count != self.cols.len() {
            return Outcome::Unparsed;
        }
        Outcome::Record(rec)
    }
}

/// A header names fields in lower-case with dashes and includes an address field.
fn is_header(line: &str) -> bool {
    line.bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b' ')
        && line
            .split(' ')
            .any(|w| matches!(w, "srcaddr" | "dstaddr" | "pkt-srcaddr" | "pkt-dstaddr"))
}

/// A header line, or a default-format record (`2 123456789012 eni-… … ACCEPT OK`).
pub(crate) fn detect(line: &str) -> Option<Vpc> {
    let t = line.trim();
    if is_header(t) {
        return Some(Vpc::from_header(t));
    }
    let words: Vec<&str> = t.split(' ').collect();
    let default = words.len() == 14
        && words
            .first()
            .is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit()))
        && words
            .get(2)
            .is_some_and(|v| v.starts_with("eni-") || *v == "-")
        && words
            .get(13)
            .is_some_and(|v| matches!(*v, "OK" | "NODATA" | "SKIPDATA"));
    default.then(|| Vpc::from_header(DEFAULT))
}
