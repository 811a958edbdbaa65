//! Refanging and validating network indicators and hashes. Errors are plain messages; the loader
//! attaches the position.

use std::net::IpAddr;

use crate::model::NetworkKind;

/// Undoes the usual defanging: `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `[:]`, `[://]`, `hxxp`.
pub fn refang(s: &str) -> String {
    let mut out = s.to_string();
    for (from, to) in [
        ("[://]", "://"),
        ("[:]", ":"),
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[DOT]", "."),
        ("(DOT)", "."),
    ] {
        out = out.replace(from, to);
    }
    let lower = out.to_ascii_lowercase();
    for (from, to) in [("hxxps://", "https://"), ("hxxp://", "http://")] {
        if lower.starts_with(from) {
            out = format!("{to}{}", out.get(from.len()..).unwrap_or(""));
            break;
        }
    }
    out
}

/// Refangs, validates and normalises a network indicator of the given kind.
pub fn normalize(kind: NetworkKind, raw: &str) -> Result<String, String> {
    match kind {
        NetworkKind::Domain => domain(&refang(raw)),
        NetworkKind::Ip => ip(&refang(raw)),
        NetworkKind::Url => url(&refang(raw)),
        NetworkKind::UserAgent => user_agent(raw),
        NetworkKind::HttpHeader => http_header(raw),
    }
}

/// A DNS name with at least two labels, lower-cased.
pub(crate) fn domain(s: &str) -> Result<String, String> {
    let d = s.trim_end_matches('.').to_ascii_lowercase();
    if d.is_empty() || d.len() > 253 {
        return Err(format!("{s:?} is not a domain name (1 to 253 characters)"));
    }
    let labels: Vec<&str> = d.split('.').collect();
    if labels.len() < 2 {
        return Err(format!("{s:?} is not a domain name: it has a single label"));
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(format!(
                "{s:?} is not a domain name: label {label:?} must be 1 to 63 letters, digits or '-', not starting or ending with '-'"
            ));
        }
    }
    if d.parse::<IpAddr>().is_ok() {
        return Err(format!("{s:?} is an IP address: use kind = \"ip\""));
    }
    Ok(d)
}

/// An IPv4 or IPv6 address in canonical form.
pub(crate) fn ip(s: &str) -> Result<String, String> {
    s.parse::<IpAddr>()
        .map(|a| a.to_string())
        .map_err(|_| format!("{s:?} is not an IPv4 or IPv6 address"))
}

/// An `http` or `https` URL with a valid host; scheme and host lower-cased, the rest kept.
pub(crate) fn url(s: &str) -> Result<String, String> {
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(format!("{s:?} is not a URL: expected scheme://host/…"));
    };
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "{s:?}: only http and https URLs are supported, found scheme {scheme:?}"
        ));
    }
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    if authority.contains('@') {
        return Err(format!(
            "{s:?}: URLs with user information are not supported"
        ));
    }
    let (host, port) = split_host_port(authority)
        .ok_or_else(|| format!("{s:?} is not a URL: bad host or port {authority:?}"))?;
    let host = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        format!("[{}]", ip(v6)?)
    } else if host.parse::<IpAddr>().is_ok() {
        ip(host)?
    } else {
        domain(host).map_err(|e| format!("{s:?}: bad host: {e}"))?
    };
    if tail.chars().any(char::is_whitespace) {
        return Err(format!("{s:?}: a URL cannot contain white space"));
    }
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    Ok(format!("{scheme}://{host}{port}{tail}"))
}

/// Splits `host[:port]` (IPv6 in brackets); the port, when present, must be a number.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.is_empty() {
        return None;
    }
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (h, rest) = authority.split_at(close + 1);
        match rest.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if rest.is_empty() => (h, None),
            None => return None,
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    (!host.is_empty()).then_some((host, port))
}

/// Any non-empty single-line string; kept exactly (user agents are compared byte for byte).
pub(crate) fn user_agent(s: &str) -> Result<String, String> {
    if s.trim().is_empty() || s.contains(['\r', '\n']) {
        return Err(format!("{s:?} is not a user agent: empty or multi-line"));
    }
    Ok(s.to_string())
}

/// `Name: value` with a token name; normalised to a single space after the colon.
pub(crate) fn http_header(s: &str) -> Result<String, String> {
    let Some((name, value)) = s.split_once(':') else {
        return Err(format!(
            "{s:?} is not an HTTP header: expected `Name: value`"
        ));
    };
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(format!("{s:?}: header name {name:?} is not an HTTP token"));
    }
    let value = value.trim();
    if value.is_empty() || value.contains(['\r', '\n']) {
        return Err(format!("{s:?}: header value is empty or multi-line"));
    }
    Ok(format!("{name}: {value}"))
}

/// A hex hash of the given length, lower-cased.
pub(crate) fn hex_hash(s: &str, len: usize, what: &str) -> Result<String, String> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{s:?} is not a {what}: expected {len} hexadecimal characters"
        ));
    }
    Ok(s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refangs() {
        assert_eq!(refang("audit.checkmarx[.]cx"), "audit.checkmarx.cx");
        assert_eq!(refang("94[.]154[.]172[.]43"), "94.154.172.43");
        assert_eq!(
            refang("hxxps://audit.checkmarx[.]cx/v1/telemetry"),
            "https://audit.checkmarx.cx/v1/telemetry"
        );
        assert_eq!(refang("hXXp[://]a(.)b"), "http://a.b");
        assert_eq!(refang("x[dot]example{.}org"), "x.example.org");
    }

    #[test]
    fn domains() {
        assert_eq!(
            normalize(NetworkKind::Domain, "Audit.Checkmarx[.]CX").unwrap(),
            "audit.checkmarx.cx"
        );
        assert!(domain("localhost").is_err());
        assert!(domain("a..b").is_err());
        assert!(domain("-a.b").is_err());
        assert!(domain("a b.c").is_err());
        assert!(domain("1.2.3.4").is_err());
    }

    #[test]
    fn ips() {
        assert_eq!(
            normalize(NetworkKind::Ip, "94[.]154[.]172[.]43").unwrap(),
            "94.154.172.43"
        );
        assert_eq!(ip("2001:DB8::1").unwrap(), "2001:db8::1");
        assert!(ip("94.154.172").is_err());
        assert!(ip("300.1.1.1").is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(
            normalize(
                NetworkKind::Url,
                "hxxps://Audit.Checkmarx[.]cx/v1/telemetry"
            )
            .unwrap(),
            "https://audit.checkmarx.cx/v1/telemetry"
        );
        assert_eq!(url("http://1.2.3.4:8080").unwrap(), "http://1.2.3.4:8080");
        assert_eq!(url("http://[::1]:80/x").unwrap(), "http://[::1]:80/x");
        assert!(url("ftp://a.b/").is_err());
        assert!(url("https://").is_err());
        assert!(url("https://a.b:99999/").is_err());
        assert!(url("https://u@a.b/").is_err());
        assert!(url("audit.checkmarx.cx/v1").is_err());
    }

    #[test]
    fn headers_and_agents() {
        assert_eq!(
            http_header("X-Filename:  tpcp.tar.gz").unwrap(),
            "X-Filename: tpcp.tar.gz"
        );
        assert!(http_header("X Filename: a").is_err());
        assert!(http_header("X-Filename:").is_err());
        assert!(http_header("no colon").is_err());
        assert_eq!(
            user_agent("KICS-Telemetry/2.0").unwrap(),
            "KICS-Telemetry/2.0"
        );
        assert!(user_agent(" ").is_err());
    }

    #[test]
    fn hashes() {
        assert_eq!(hex_hash("ABCD", 4, "x").unwrap(), "abcd");
        assert!(hex_hash("abcg", 4, "x").is_err());
        assert!(hex_hash("abc", 4, "x").is_err());
    }
}
