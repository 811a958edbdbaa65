//! Proxy and web server access logs: Squid's native format (with an optional trailing quoted
//! User-Agent, as in the common `squidua` custom format) and the Common/Combined Log Format
//! written by nginx, Apache and Squid's `combined`.

use std::borrow::Cow;

use super::matcher::{Hits, Matcher};
use super::{Outcome, Rec, Time};
use crate::SourceKind;

/// Next space-separated word (runs of spaces are one separator), advancing `rest`.
fn word<'l>(rest: &mut &'l str) -> Option<&'l str> {
    let b = rest.as_bytes();
    let start = b.iter().position(|&c| c != b' ').unwrap_or(b.len());
    let len = super::matcher::next_separator(b, start, b' ').unwrap_or(b.len()) - start;
    let w = rest.get(start..start + len).unwrap_or("");
    *rest = rest.get(start + len..).unwrap_or("");
    (!w.is_empty()).then_some(w)
}

/// `1776861362.114`: Squid's `%ts.%03tu`.
fn is_epoch_ms(s: &str) -> bool {
    match s.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

pub(crate) fn detect_squid_native(line: &str) -> bool {
    let mut rest = line;
    let (Some(ts), Some(elapsed), Some(_client), Some(code)) = (
        word(&mut rest),
        word(&mut rest),
        word(&mut rest),
        word(&mut rest),
    ) else {
        return false;
    };
    is_epoch_ms(ts) && elapsed.bytes().all(|c| c.is_ascii_digit()) && code.contains('/')
}

/// Squid native: `time.ms elapsed client code/status bytes method URL user hierarchy/peer mime
/// ["User-Agent"]`.
pub(crate) fn squid_native<'l, 's>(
    line: &'l str,
    m: &Matcher<'s>,
    hits: &mut Hits<'s>,
) -> Outcome<'l> {
    if line.trim().is_empty() {
        return Outcome::Skip;
    }
    let mut rest = line;
    let mut w = [""; 9];
    for slot in &mut w {
        match word(&mut rest) {
            Some(v) => *slot = v,
            None => return Outcome::Unparsed,
        }
    }
    let [ts, _elapsed, client, code, _bytes, method, url, _user, peer] = w;
    if !is_epoch_ms(ts) || !code.contains('/') {
        return Outcome::Unparsed;
    }
    let mut rec = Rec {
        time: Time::Epoch(ts),
        host: Some(Cow::Borrowed(client)),
        remote: None,
    };
    if method == "CONNECT" || super::matcher::scheme_end(url).is_none() {
        m.host(url, hits);
    } else {
        m.url(url, hits);
    }
    // `HIER_DIRECT/94.154.172.43`: the address Squid connected to.
    if let Some((_, addr)) = peer.split_once('/')
        && addr != "-"
    {
        m.ip(addr, hits);
        rec.remote = Some(Cow::Borrowed(addr));
    }
    if m.has_user_agent {
        let _mime = word(&mut rest);
        let tail = rest.trim();
        if let Some(ua) = tail.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            m.user_agent(ua, hits);
        }
    }
    Outcome::Record(rec)
}

/// A Combined (or Common) Log Format line; Squid's `combined` ends with `TCP_…:HIER_…`.
pub(crate) fn detect_combined(line: &str) -> Option<SourceKind> {
    let p = parse_combined(line)?;
    let squid = p.tail.contains("TCP_")
        || p.tail.contains("HIER_")
        || p.tail.contains("NONE")
        || p.tail.contains("UDP_");
    Some(if squid {
        SourceKind::Squid
    } else {
        SourceKind::AccessLog
    })
}

struct Combined<'l> {
    client: &'l str,
    time: &'l str,
    request: &'l str,
    user_agent: Option<&'l str>,
    /// What follows the user agent.
    tail: &'l str,
}

/// A quoted field at the start of `s` (after spaces): its contents and the rest. Quotes escaped
/// as `\"` (Apache) stay inside; nginx writes `\x22`.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(' ').strip_prefix('"')?;
    let bytes = s.as_bytes();
    let mut from = 0;
    loop {
        let at = from + memchr::memchr(b'"', bytes.get(from..)?)?;
        let backslashes = bytes
            .get(..at)?
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Some((s.get(..at)?, s.get(at + 1..)?));
        }
        from = at + 1;
    }
}

fn parse_combined(line: &str) -> Option<Combined<'_>> {
    let mut rest = line;
    let client = word(&mut rest)?;
    let open = memchr::memchr(b'[', rest.as_bytes())?;
    let after_open = rest.get(open + 1..)?;
    let close = memchr::memchr(b']', after_open.as_bytes())?;
    let time = after_open.get(..close)?;
    let (request, after) = quoted(after_open.get(close + 1..)?)?;
    let mut after = after;
    let status = word(&mut after)?;
    if !status.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let _bytes = word(&mut after)?;
    let mut user_agent = None;
    if let Some((_referer, r)) = quoted(after) {
        after = r;
        if let Some((ua, r)) = quoted(after) {
            user_agent = Some(ua);
            after = r;
        }
    }
    Some(Combined {
        client,
        time,
        request,
        user_agent,
        tail: after,
    })
}

/// `$remote_addr - $remote_user [$time_local] "$request" $status $bytes "$referer" "$ua"`.
pub(crate) fn combined<'l, 's>(line: &'l str, m: &Matcher<'s>, hits: &mut Hits<'s>) -> Outcome<'l> {
    if line.trim().is_empty() {
        return Outcome::Skip;
    }
    let Some(p) = parse_combined(line) else {
        return Outcome::Unparsed;
    };
    let mut request = p.request;
    let method = word(&mut request).unwrap_or("");
    let target = word(&mut request).unwrap_or("");
    if super::matcher::scheme_end(target).is_some() {
        m.url(target, hits);
    } else if method == "CONNECT"
        || !(target.starts_with('/') || target == "*" || target.is_empty())
    {
        m.host(target, hits);
    }
    // A path without a host cannot be tied to a URL indicator's host: not matched.
    if let Some(ua) = p.user_agent {
        m.user_agent(ua, hits);
    }
    Outcome::Record(Rec {
        time: Time::Clf(p.time),
        host: Some(Cow::Borrowed(p.client)),
        remote: None,
    })
}
