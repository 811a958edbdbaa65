//! CoreDNS `log` plugin lines: `[INFO] 10.244.1.17:43512 - 51234 "A IN name. udp 47 false 512"
//! NOERROR qr,rd,ra 98 0.012s`, optionally after an RFC 3339 timestamp (`kubectl logs
//! --timestamps`, some versions). Its JSON format goes through the JSON parser.

use std::borrow::Cow;

use super::matcher::{Hits, Matcher};
use super::{Outcome, Rec, Time};

/// The level tag and what follows, after an optional leading timestamp.
fn split(line: &str) -> Option<(Option<&str>, &str)> {
    let t = line.trim_start();
    let (stamp, rest) = if t.starts_with(|c: char| c.is_ascii_digit()) {
        let (s, r) = t.split_once(' ')?;
        (Some(s), r.trim_start())
    } else {
        (None, t)
    };
    let rest = rest.strip_prefix('[')?;
    let (level, after) = rest.split_once(']')?;
    if level.is_empty() || !level.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    Some((stamp, after.trim_start()))
}

pub(crate) fn detect(line: &str) -> bool {
    split(line).is_some_and(|(_, rest)| query(rest).is_some())
}

/// `ip:port - id "TYPE CLASS name proto size do bufsize" …` → (client, name).
fn query(rest: &str) -> Option<(&str, &str)> {
    let (remote, after) = rest.split_once(' ')?;
    if !remote.contains(':') {
        return None;
    }
    let open = memchr::memchr(b'"', after.as_bytes())?;
    let inner = after.get(open + 1..)?;
    let close = memchr::memchr(b'"', inner.as_bytes())?;
    let mut words = inner.get(..close)?.split(' ');
    let (_ty, _class, name) = (words.next()?, words.next()?, words.next()?);
    Some((remote, name))
}

pub(crate) fn line<'l, 's>(line: &'l str, m: &Matcher<'s>, hits: &mut Hits<'s>) -> Outcome<'l> {
    if line.trim().is_empty() {
        return Outcome::Skip;
    }
    let Some((stamp, rest)) = split(line) else {
        return Outcome::Unparsed;
    };
    let Some((remote, name)) = query(rest) else {
        // Startup, reload and error messages: searched as text.
        return Outcome::Text;
    };
    m.domain(name, hits);
    Outcome::Record(Rec {
        time: stamp.map_or(Time::None, Time::Rfc3339),
        host: Some(Cow::Borrowed(remote)),
        remote: None,
    })
}
