//! Zeek TSV logs. The `#separator`, `#fields`, `#types`, `#unset_field` and `#empty_field`
//! headers say how to read the rows; they are re-read whenever they appear (rotated or
//! concatenated logs repeat them mid-file), and columns are found by name, never by position.

use std::borrow::Cow;

use super::matcher::{Hits, Matcher};
use super::{Outcome, Rec, Time};
use crate::SourceKind;

/// What a column is looked up as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Ignore,
    Ts,
    /// `id.orig_h`: the client, and an address.
    Orig,
    /// `id.resp_h`: the other end, and an address.
    Resp,
    Addr,
    /// A set or vector of addresses.
    Addrs,
    Domain,
    /// A host that may be a name or an address, maybe with a port.
    Host,
    Uri,
    UserAgent,
    /// DNS answers: a set of addresses and names.
    Answers,
}

/// Parsing state of one Zeek TSV file.
#[derive(Debug)]
pub(crate) struct Zeek {
    separator: u8,
    set_separator: u8,
    unset: String,
    empty: String,
    path: String,
    names: Vec<String>,
    types: Vec<String>,
    roles: Vec<Role>,
    kind: SourceKind,
    /// Whether any column can match the indicator set (checked once per header).
    wants_addrs: bool,
    wants_names: bool,
    wants_agents: bool,
}

impl Default for Zeek {
    fn default() -> Self {
        Zeek {
            separator: b'\t',
            set_separator: b',',
            unset: "-".into(),
            empty: "(empty)".into(),
            path: String::new(),
            names: Vec::new(),
            types: Vec::new(),
            roles: Vec::new(),
            kind: SourceKind::ZeekConn,
            wants_addrs: false,
            wants_names: false,
            wants_agents: false,
        }
    }
}

/// Whether a first line is a Zeek TSV header.
pub(crate) fn is_header(line: &str) -> bool {
    ["#separator", "#set_separator", "#fields", "#path"]
        .iter()
        .any(|h| line.starts_with(h))
}

/// `\x09` → tab; a literal character is taken as is.
fn unescape_separator(s: &str) -> Option<u8> {
    let s = s.trim_matches(|c| c == ' ' || c == '\r');
    if let Some(hex) = s.strip_prefix("\\x") {
        return u8::from_str_radix(hex.get(..2)?, 16).ok();
    }
    s.bytes().next()
}

impl Zeek {
    pub(crate) fn kind(&self) -> SourceKind {
        self.kind
    }

    fn header(&mut self, line: &str) {
        let body = line.get(1..).unwrap_or("");
        let sep = self.separator as char;
        let (name, value) = body
            .split_once(sep)
            .or_else(|| body.split_once(' '))
            .unwrap_or((body, ""));
        match name {
            "separator" => {
                if let Some(b) = unescape_separator(value) {
                    self.separator = b;
                }
            }
            "set_separator" => {
                if let Some(b) = unescape_separator(value) {
                    self.set_separator = b;
                }
            }
            "unset_field" => self.unset = value.to_string(),
            "empty_field" => self.empty = value.to_string(),
            "path" => {
                self.path = value.to_string();
                self.assign_roles();
            }
            "fields" => {
                self.names = value.split(sep).map(str::to_string).collect();
                self.types.clear();
                self.assign_roles();
            }
            "types" => {
                self.types = value.split(sep).map(str::to_string).collect();
                self.assign_roles();
            }
            _ => {}
        }
    }

    fn assign_roles(&mut self) {
        let has = |n: &str| self.names.iter().any(|f| f == n);
        let path = if self.path.is_empty() {
            // No `#path`: guess the log from its columns.
            if has("query") {
                "dns"
            } else if has("uri") {
                "http"
            } else if has("server_name") {
                "ssl"
            } else if has("conn_state") {
                "conn"
            } else {
                ""
            }
        } else {
            self.path.as_str()
        };
        self.kind = match path {
            "dns" => SourceKind::ZeekDns,
            "http" => SourceKind::ZeekHttp,
            "ssl" => SourceKind::ZeekSsl,
            // Other logs (conn, files, x509, notice, …) have no kind of their own yet.
            _ => SourceKind::ZeekConn,
        };
        self.roles = self
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| role(path, name, self.types.get(i).map(String::as_str)))
            .collect();
        self.wants_addrs = self.roles.iter().any(|r| {
            matches!(
                r,
                Role::Orig | Role::Resp | Role::Addr | Role::Addrs | Role::Answers | Role::Host
            )
        });
        self.wants_names = self
            .roles
            .iter()
            .any(|r| matches!(r, Role::Domain | Role::Host | Role::Uri | Role::Answers));
        self.wants_agents = self.roles.contains(&Role::UserAgent);
    }

    fn relevant(&self, m: &Matcher<'_>) -> bool {
        (self.wants_addrs && m.wants_ips())
            || (self.wants_names && m.wants_names())
            || (self.wants_agents && m.has_user_agent)
    }

    pub(crate) fn line<'l, 's>(
        &mut self,
        line: &'l str,
        m: &Matcher<'s>,
        hits: &mut Hits<'s>,
    ) -> Outcome<'l> {
        if line.starts_with('#') {
            self.header(line);
            return Outcome::Skip;
        }
        if line.is_empty() {
            return Outcome::Skip;
        }
        if self.names.is_empty() {
            return Outcome::Unparsed;
        }
        if !self.relevant(m) {
            return Outcome::Skip;
        }
        let mut rec = Rec::default();
        let mut host = None;
        let mut uri = None;
        let mut count = 0;
        let mut from = 0;
        let sep = self.separator;
        let bytes = line.as_bytes();
        while from <= line.len() {
            let end = super::matcher::next_separator(bytes, from, sep).unwrap_or(line.len());
            let value = line.get(from..end).unwrap_or_default();
            from = end + 1;
            let role = self.roles.get(count).copied().unwrap_or(Role::Ignore);
            count += 1;
            if role == Role::Ignore || value == self.unset || value == self.empty {
                continue;
            }
            match role {
                Role::Ignore => {}
                Role::Ts => rec.time = Time::Any(Cow::Borrowed(value)),
                Role::Orig => {
                    m.ip(value, hits);
                    rec.host = Some(Cow::Borrowed(value));
                }
                Role::Resp => {
                    m.ip(value, hits);
                    rec.remote = Some(Cow::Borrowed(value));
                }
                Role::Addr => m.ip(value, hits),
                Role::Addrs => {
                    for v in value.split(self.set_separator as char) {
                        m.ip(v, hits);
                    }
                }
                Role::Domain => m.domain(value, hits),
                Role::Host => {
                    m.host(value, hits);
                    host = Some(value);
                }
                Role::Uri => {
                    if value.starts_with('/') {
                        uri = Some(value);
                    } else {
                        // Absolute-form proxy requests and CONNECT authorities.
                        m.url(value, hits);
                    }
                }
                Role::UserAgent => m.user_agent(value, hits),
                Role::Answers => {
                    for v in value.split(self.set_separator as char) {
                        m.ip_or_domain(v, hits);
                    }
                }
            }
        }
        if count != self.names.len() {
            return Outcome::Unparsed;
        }
        if let (Some(h), Some(u)) = (host, uri) {
            m.host_and_path(h, u, hits);
        }
        Outcome::Record(rec)
    }
}

fn role(path: &str, name: &str, ty: Option<&str>) -> Role {
    match name {
        "ts" => return Role::Ts,
        "id.orig_h" => return Role::Orig,
        "id.resp_h" => return Role::Resp,
        _ => {}
    }
    let specific = match (path, name) {
        ("dns", "query") => Role::Domain,
        ("dns", "answers") => Role::Answers,
        ("http", "host") => Role::Host,
        ("http", "uri") => Role::Uri,
        ("ssl", "server_name") => Role::Domain,
        (_, "user_agent") => Role::UserAgent,
        _ => Role::Ignore,
    };
    if specific != Role::Ignore {
        return specific;
    }
    match ty {
        Some("addr") => return Role::Addr,
        Some(t) if t.ends_with("[addr]") => return Role::Addrs,
        Some(_) => {}
        // No `#types`: addresses by Zeek's naming habit.
        None if name.ends_with("_h") || name.ends_with("_addr") => return Role::Addr,
        None => {}
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    let stringish = ty.is_none_or(|t| t == "string" || t.ends_with("[string]"));
    if stringish
        && matches!(
            last,
            "host" | "hostname" | "query" | "server_name" | "domain" | "sni" | "host_name"
        )
    {
        return Role::Host;
    }
    Role::Ignore
}

#[cfg(test)]
mod tests {
    use super::super::matcher::next_separator;

    #[test]
    fn separators() {
        let line = b"a\tbbbbbbbbbbbb\t\tc\xff\x89\t";
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(i) = next_separator(line, from, b'\t') {
            found.push(i);
            from = i + 1;
        }
        assert_eq!(found, [1, 14, 15, 19]);
    }
}
