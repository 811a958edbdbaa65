//! JSON lines: Zeek in JSON mode, Route 53 Resolver query logs, CoreDNS `-log-format=json`, and
//! any other JSON object per line. A small scanner walks the line in place and hands each
//! string to the matcher by its key, so a line costs no allocation unless a string has escapes.

use std::borrow::Cow;

use super::matcher::{Hits, Matcher};
use super::{Outcome, Rec, Time};
use crate::SourceKind;

/// Deepest nesting followed; deeper lines are reported as unparseable.
const MAX_DEPTH: usize = 64;

/// Which JSON log this file is, from the keys of its first line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    Zeek(SourceKind),
    Route53,
    CoreDns,
    Generic,
}

impl Flavor {
    pub(crate) fn kind(self) -> SourceKind {
        match self {
            Flavor::Zeek(k) => k,
            Flavor::Route53 => SourceKind::Route53Resolver,
            Flavor::CoreDns => SourceKind::CoreDns,
            Flavor::Generic => SourceKind::JsonLines,
        }
    }
}

/// A scalar found in the line; strings are raw (escapes not yet decoded).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value<'a> {
    Str { raw: &'a str, escaped: bool },
    Num(&'a str),
}

impl<'a> Value<'a> {
    fn text(self) -> Cow<'a, str> {
        match self {
            Value::Str {
                raw,
                escaped: false,
            }
            | Value::Num(raw) => Cow::Borrowed(raw),
            Value::Str { raw, escaped: true } => Cow::Owned(unescape(raw)),
        }
    }
}

/// Detects the flavor from a first line; `None` if it is not a JSON object or array.
pub(crate) fn detect(line: &str) -> Option<Flavor> {
    let mut keys = 0u32;
    const UID: u32 = 1;
    const ORIG_H: u32 = 2;
    const QUERY: u32 = 4;
    const SSL: u32 = 8;
    const HTTP: u32 = 16;
    const QUERY_NAME: u32 = 32;
    const R53: u32 = 64;
    const QNAME: u32 = 128;
    const COREDNS: u32 = 256;
    walk(line, &mut |key, depth, _| {
        if depth != 1 {
            return;
        }
        keys |= match key {
            "uid" => UID,
            "id.orig_h" => ORIG_H,
            "query" => QUERY,
            "server_name" | "ssl_history" | "cipher" => SSL,
            "uri" | "method" => HTTP,
            "query_name" => QUERY_NAME,
            "srcaddr" | "vpc_id" | "query_timestamp" => R53,
            "qname" => QNAME,
            "client_ip" | "rcode" => COREDNS,
            _ => 0,
        };
    })
    .ok()?;
    let has = |k| keys & k != 0;
    Some(if has(UID) || has(ORIG_H) {
        Flavor::Zeek(if has(QUERY) {
            SourceKind::ZeekDns
        } else if has(HTTP) {
            SourceKind::ZeekHttp
        } else if has(SSL) {
            SourceKind::ZeekSsl
        } else {
            SourceKind::ZeekConn
        })
    } else if has(QUERY_NAME) && has(R53) {
        Flavor::Route53
    } else if has(QNAME) && has(COREDNS) {
        Flavor::CoreDns
    } else {
        Flavor::Generic
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Time,
    Client,
    Remote,
    Host,
    Answer,
    Url,
    UserAgent,
    Addr,
    Other,
}

fn role(key: &str) -> Role {
    match key {
        "ts" | "timestamp" | "@timestamp" | "time" | "query_timestamp" | "start" | "eventTime"
        | "time_local" | "time_iso8601" => Role::Time,
        "id.orig_h" | "srcaddr" | "client_ip" | "remote_addr" | "src_ip" | "clientip"
        | "client" | "src" | "source_ip" | "sourceIPAddress" | "client.ip" | "source.ip" => {
            Role::Client
        }
        "id.resp_h" | "dstaddr" | "dst_ip" | "dst" | "destination_ip" | "server_ip" | "ip"
        | "remote_ip" | "upstream_addr" | "destination.ip" => Role::Remote,
        "query" | "query_name" | "qname" | "server_name" | "sni" | "domain" | "hostname"
        | "host" | "http_host" | "dest_host" | "url.domain" | "destination.domain" => Role::Host,
        "answers" | "Rdata" | "rdata" | "answer" => Role::Answer,
        "url" | "uri" | "request_uri" | "request_url" | "http_url" | "request" | "url.full"
        | "url.original" => Role::Url,
        "user_agent"
        | "userAgent"
        | "http_user_agent"
        | "useragent"
        | "ua"
        | "agent"
        | "user_agent.original" => Role::UserAgent,
        _ if key.ends_with("_h") || key.ends_with("addr") => Role::Addr,
        _ => Role::Other,
    }
}

/// Parses one line of a JSON log.
pub(crate) fn line<'l, 's>(
    flavor: Flavor,
    line: &'l str,
    m: &Matcher<'s>,
    hits: &mut Hits<'s>,
) -> Outcome<'l> {
    let t = line.trim();
    if t.is_empty() {
        return Outcome::Skip;
    }
    if !(t.starts_with('{') || t.starts_with('[')) {
        return Outcome::Unparsed;
    }
    let generic = flavor == Flavor::Generic;
    // A line whose format matches nothing the set holds needs no walk beyond validation.
    let mut rec = Rec::default();
    let mut host: Option<Cow<'l, str>> = None;
    let mut path: Option<Cow<'l, str>> = None;
    let ok = walk(t, &mut |key, depth, value| {
        let role = role(key);
        match role {
            Role::Time => {
                if depth == 1 && matches!(rec.time, Time::None) {
                    rec.time = Time::Any(value.text());
                }
            }
            Role::Client => {
                let v = value.text();
                m.ip(super::matcher::strip_port(&v), hits);
                if rec.host.is_none() {
                    rec.host = Some(v);
                }
            }
            Role::Remote => {
                let v = value.text();
                m.host(&v, hits);
                if rec.remote.is_none() {
                    rec.remote = Some(v);
                }
            }
            Role::Host => {
                let v = value.text();
                m.host(&v, hits);
                if host.is_none() && !v.is_empty() {
                    host = Some(v);
                }
            }
            Role::Answer => m.ip_or_domain(value.text().trim_end_matches('.'), hits),
            Role::Url => {
                let target: Cow<'l, str> = match value.text() {
                    Cow::Borrowed(b) => Cow::Borrowed(request_target(b)),
                    Cow::Owned(o) => Cow::Owned(request_target(&o).to_string()),
                };
                if super::matcher::scheme_end(&target).is_some() || !target.starts_with('/') {
                    m.url(&target, hits);
                } else if path.is_none() {
                    path = Some(target);
                }
            }
            Role::UserAgent => m.user_agent(&value.text(), hits),
            Role::Addr => {
                if let Value::Str { .. } = value {
                    m.ip(&value.text(), hits);
                }
            }
            Role::Other => {
                if generic && let Value::Str { .. } = value {
                    let v = value.text();
                    if super::matcher::scheme_end(&v).is_some() {
                        m.url(&v, hits);
                    } else if v.contains(' ') {
                        m.text(&v, hits);
                    } else {
                        if v.contains('.') || v.contains(':') {
                            m.host(&v, hits);
                        }
                        m.user_agent(&v, hits);
                    }
                }
            }
        }
    });
    if ok.is_err() {
        return Outcome::Unparsed;
    }
    if let (Some(h), Some(p)) = (&host, &path) {
        m.host_and_path(h, p, hits);
    }
    if generic {
        m.headers(t, hits);
    }
    Outcome::Record(rec)
}

/// nginx's `$request` is `METHOD target PROTOCOL`; anything else is the target itself.
fn request_target(v: &str) -> &str {
    if v.contains(' ') {
        v.split(' ').nth(1).unwrap_or("")
    } else {
        v
    }
}

/// Walks every scalar of a JSON text, calling `f(innermost key, depth, value)`; array items get
/// the key of their array. `Err` if the text is not one well-formed JSON value.
pub(crate) fn walk<'a>(
    text: &'a str,
    f: &mut dyn FnMut(&'a str, usize, Value<'a>),
) -> Result<(), ()> {
    let mut s = Scanner {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    s.value("", 0, f)?;
    s.ws();
    if s.pos == s.bytes.len() {
        Ok(())
    } else {
        Err(())
    }
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn value(
        &mut self,
        key: &'a str,
        depth: usize,
        f: &mut dyn FnMut(&'a str, usize, Value<'a>),
    ) -> Result<(), ()> {
        if depth > MAX_DEPTH {
            return Err(());
        }
        self.ws();
        match self.peek().ok_or(())? {
            b'{' => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return Err(());
                    }
                    let (k, escaped) = self.string()?;
                    // Keys with escapes are rare; they are matched as written.
                    let _ = escaped;
                    self.ws();
                    if self.peek() != Some(b':') {
                        return Err(());
                    }
                    self.pos += 1;
                    self.value(k, depth + 1, f)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(()),
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.value(key, depth + 1, f)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(()),
                    }
                }
            }
            b'"' => {
                let (raw, escaped) = self.string()?;
                f(key, depth, Value::Str { raw, escaped });
                Ok(())
            }
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.peek() {
                    self.pos += 1;
                }
                let num = self.text.get(start..self.pos).ok_or(())?;
                f(key, depth, Value::Num(num));
                Ok(())
            }
            _ => Err(()),
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), ()> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(())
        }
    }

    /// A string at `pos` (on its opening quote): its raw contents and whether it has escapes.
    fn string(&mut self) -> Result<(&'a str, bool), ()> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            let rest = self.bytes.get(i..).ok_or(())?;
            let at = memchr::memchr2(b'"', b'\\', rest).ok_or(())?;
            i += at;
            if self.bytes.get(i) == Some(&b'\\') {
                escaped = true;
                i += 2;
                continue;
            }
            let raw = self.text.get(start..i).ok_or(())?;
            self.pos = i + 1;
            return Ok((raw, escaped));
        }
    }
}

/// Decodes JSON string escapes; malformed escapes are kept as written.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let mut code = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
                if (0xd800..0xdc00).contains(&code) {
                    let rest = chars.as_str();
                    if let Some(low) = rest
                        .strip_prefix("\\u")
                        .and_then(|r| r.get(..4))
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .filter(|l| (0xdc00..0xe000).contains(l))
                    {
                        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                        chars = rest.get(6..).unwrap_or("").chars();
                    }
                }
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_and_rejects() {
        let mut seen = Vec::new();
        walk(
            r#"{"a":"x\"y","b":[1,{"c":"d"}],"e":true,"f":null,"g":-1.5e3}"#,
            &mut |k, d, v| {
                seen.push(format!("{k}:{d}:{}", v.text()));
            },
        )
        .unwrap();
        assert_eq!(seen, ["a:1:x\"y", "b:2:1", "c:3:d", "g:1:-1.5e3"]);
        assert!(walk(r#"{"a":"x""#, &mut |_, _, _| {}).is_err());
        assert!(walk(r#"{"a":1} x"#, &mut |_, _, _| {}).is_err());
        assert!(walk(&"[".repeat(1000), &mut |_, _, _| {}).is_err());
        assert_eq!(unescape(r"a\/b\u0041\ud83d\ude00"), "a/bA😀");
    }

    #[test]
    fn flavors() {
        assert_eq!(
            detect(r#"{"ts":1.5,"uid":"C","id.orig_h":"10.0.0.1","query":"a"}"#),
            Some(Flavor::Zeek(SourceKind::ZeekDns))
        );
        assert_eq!(
            detect(r#"{"query_timestamp":"x","query_name":"a.","srcaddr":"1.2.3.4"}"#),
            Some(Flavor::Route53)
        );
        assert_eq!(
            detect(r#"{"client_ip":"1.2.3.4","qname":"a."}"#),
            Some(Flavor::CoreDns)
        );
        assert_eq!(detect(r#"{"msg":"x"}"#), Some(Flavor::Generic));
        assert_eq!(detect("not json"), None);
    }
}
