//! Network indicators, looked up per field: a log line is parsed once and each field (a query
//! name, a host, an IP, a user agent) is looked up in hash maps, so ten thousand indicators
//! cost the same per line as ten.

use std::collections::HashMap;
use std::net::IpAddr;

use tagwarden_advisory::NetworkKind;

/// One indicator, with the advisory that lists it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Indicator {
    pub kind: NetworkKind,
    /// Normalised: domains and URL hosts lower-case without a trailing dot.
    pub value: String,
    /// The advisory (or feed) it comes from.
    pub advisory_id: String,
    /// Never a hit on its own (shared hosting, parking, unverified).
    pub weak: bool,
}

/// A set of indicators indexed for per-field lookups.
#[derive(Debug, Default)]
pub struct IndicatorSet {
    all: Vec<Indicator>,
    domains: HashMap<String, Vec<usize>>,
    ips: HashMap<IpAddr, Vec<usize>>,
    urls: Vec<usize>,
    user_agents: Vec<usize>,
    headers: Vec<usize>,
}

fn normalize_domain(d: &str) -> String {
    d.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl IndicatorSet {
    pub fn new(indicators: Vec<Indicator>) -> Self {
        let mut set = Self::default();
        for mut ind in indicators {
            let i = set.all.len();
            match ind.kind {
                NetworkKind::Domain => {
                    ind.value = normalize_domain(&ind.value);
                    set.domains.entry(ind.value.clone()).or_default().push(i);
                }
                NetworkKind::Ip => match ind.value.trim().parse::<IpAddr>() {
                    Ok(ip) => set.ips.entry(ip).or_default().push(i),
                    // An unparseable IP can never match; keep it out of the index.
                    Err(_) => continue,
                },
                NetworkKind::Url => {
                    ind.value = normalize_url(&ind.value);
                    set.urls.push(i);
                }
                NetworkKind::UserAgent => set.user_agents.push(i),
                NetworkKind::HttpHeader => set.headers.push(i),
            }
            set.all.push(ind);
        }
        set
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn all(&self) -> &[Indicator] {
        &self.all
    }

    fn pick(&self, ids: &[usize]) -> impl Iterator<Item = &Indicator> {
        ids.iter().filter_map(|&i| self.all.get(i))
    }

    /// Indicators matched by a host name: the name itself or any parent domain.
    pub fn match_domain(&self, name: &str) -> Vec<&Indicator> {
        if self.domains.is_empty() {
            return Vec::new();
        }
        let host = strip_port(name.trim().trim_end_matches('.'));
        let lower;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = host.to_ascii_lowercase();
            lower.as_str()
        } else {
            host
        };
        let mut out = Vec::new();
        let mut rest = host;
        loop {
            if let Some(ids) = self.domains.get(rest) {
                out.extend(self.pick(ids));
            }
            match memchr::memchr(b'.', rest.as_bytes()) {
                Some(dot) => rest = &rest[dot + 1..],
                None => break,
            }
        }
        out
    }

    pub fn match_ip(&self, ip: &str) -> Vec<&Indicator> {
        if self.ips.is_empty() {
            return Vec::new();
        }
        let ip = ip.trim().trim_start_matches('[').trim_end_matches(']');
        match ip.parse::<IpAddr>() {
            Ok(addr) => self
                .ips
                .get(&addr)
                .map(|ids| self.pick(ids).collect())
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    pub fn match_ip_addr(&self, ip: IpAddr) -> Vec<&Indicator> {
        self.ips
            .get(&ip)
            .map(|ids| self.pick(ids).collect())
            .unwrap_or_default()
    }

    /// URL indicators the URL starts with, and domain indicators its host falls under.
    pub fn match_url(&self, url: &str) -> Vec<&Indicator> {
        let mut out = Vec::new();
        if !self.urls.is_empty() {
            let u = normalize_url(url);
            out.extend(self.pick(&self.urls).filter(|i| u.starts_with(&i.value)));
        }
        if let Some(host) = url_host(url) {
            out.extend(self.match_domain(host));
            out.extend(self.match_ip(host));
        }
        out
    }

    pub fn match_user_agent(&self, ua: &str) -> Vec<&Indicator> {
        self.pick(&self.user_agents)
            .filter(|i| !i.value.is_empty() && ua.contains(i.value.as_str()))
            .collect()
    }

    /// HTTP header indicators (`Name: value`) found in a line, compared case-insensitively on
    /// the name.
    pub fn match_header_text(&self, text: &str) -> Vec<&Indicator> {
        self.pick(&self.headers)
            .filter(|i| {
                let (name, value) = i.value.split_once(':').unwrap_or((&i.value, ""));
                let value = value.trim();
                text.to_ascii_lowercase()
                    .contains(&name.trim().to_ascii_lowercase())
                    && (value.is_empty() || text.contains(value))
            })
            .collect()
    }

    /// Free text (the fallback for unknown formats): every token that looks like a host, an IP
    /// or a URL is looked up; user agents and headers are searched as substrings.
    pub fn match_text(&self, line: &str) -> Vec<&Indicator> {
        let mut out = Vec::new();
        for word in line.split(|c: char| {
            c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '(' | ')' | '<' | '>')
        }) {
            if word.contains("://") {
                out.extend(self.match_url(word.trim_matches(|c: char| c == '.' || c == ';')));
                continue;
            }
            for token in word.split(|c: char| {
                !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_' | '[' | ']'))
            }) {
                let t = token.trim_matches(|c: char| c == '.' || c == ':');
                if t.len() < 3 {
                    continue;
                }
                if t.bytes().any(|b| b.is_ascii_alphabetic()) && !t.contains("::") {
                    out.extend(self.match_domain(t));
                } else {
                    out.extend(self.match_ip(strip_port(t)));
                }
            }
        }
        out.extend(self.match_user_agent(line));
        out.extend(self.match_header_text(line));
        out.sort_by_key(|i| (i.kind.as_str(), &i.value, &i.advisory_id, i.weak));
        out.dedup();
        out
    }
}

/// `host:443` → `host`; IPv6 literals in brackets keep their brackets off.
fn strip_port(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match s.rsplit_once(':') {
        // One colon: a port. More: an IPv6 address.
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => s,
    }
}

fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = strip_port(host);
    (!host.is_empty()).then_some(host)
}

/// Lower-cases scheme and host, drops a default port; the path is kept as written.
fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = authority.to_ascii_lowercase();
    let authority = authority
        .strip_suffix(":443")
        .or_else(|| authority.strip_suffix(":80"))
        .unwrap_or(&authority);
    if scheme.is_empty() {
        format!("{authority}{path}")
    } else {
        format!("{}://{authority}{path}", scheme.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> IndicatorSet {
        let ind = |kind, value: &str, weak| Indicator {
            kind,
            value: value.into(),
            advisory_id: "kics".into(),
            weak,
        };
        IndicatorSet::new(vec![
            ind(NetworkKind::Domain, "audit.checkmarx.cx", false),
            ind(NetworkKind::Domain, "checkmarx.cx", true),
            ind(NetworkKind::Ip, "94.154.172.43", false),
            ind(
                NetworkKind::Url,
                "https://audit.checkmarx.cx/v1/telemetry",
                false,
            ),
            ind(NetworkKind::UserAgent, "KICS-Telemetry/2.0", false),
            ind(NetworkKind::HttpHeader, "X-Filename: tpcp.tar.gz", false),
        ])
    }

    #[test]
    fn domains_and_subdomains() {
        let s = set();
        let m = s.match_domain("AUDIT.checkmarx.cx.");
        assert_eq!(m.len(), 2);
        assert_eq!(s.match_domain("x.audit.checkmarx.cx:443").len(), 2);
        assert_eq!(s.match_domain("checkmarx.cx").len(), 1);
        assert!(s.match_domain("checkmarx.com").is_empty());
        assert!(s.match_domain("notcheckmarx.cx").is_empty());
    }

    #[test]
    fn ips_urls_agents() {
        let s = set();
        assert_eq!(s.match_ip("94.154.172.43").len(), 1);
        assert!(s.match_ip("94.154.172.4").is_empty());
        let u = s.match_url("https://AUDIT.checkmarx.cx:443/v1/telemetry?x=1");
        assert!(u.iter().any(|i| i.kind == NetworkKind::Url));
        assert!(u.iter().any(|i| i.kind == NetworkKind::Domain));
        assert_eq!(s.match_user_agent("Mozilla KICS-Telemetry/2.0 x").len(), 1);
        let t = s.match_text("1776861362.114 1350 10.0.5.23 TCP_TUNNEL/200 48211 CONNECT audit.checkmarx.cx:443 - HIER_DIRECT/94.154.172.43 -");
        assert!(t.iter().any(|i| i.kind == NetworkKind::Ip));
        assert!(t.iter().any(|i| i.value == "audit.checkmarx.cx"));
        assert_eq!(s.match_header_text("x-filename: tpcp.tar.gz").len(), 1);
        assert_eq!(s.match_header_text("X-Filename: other.tar.gz").len(), 0);
        assert_eq!(s.match_header_text("X-Filename: tpcp.tar.gz").len(), 1);
    }
}
