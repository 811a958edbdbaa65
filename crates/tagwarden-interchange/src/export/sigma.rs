//! Sigma rules for an advisory's network indicators, written as YAML text by hand (every scalar
//! single-quoted, so no value can change the document's structure).

use std::fmt::Write as _;
use std::net::IpAddr;

use tagwarden_advisory::{Advisory, NetworkIndicator, NetworkKind};

use super::SigmaRule;
use super::common::{one_line, uuid};

/// Titles longer than this are cut (the Sigma schema allows 256 characters).
const MAX_TITLE_CHARS: usize = 200;

/// What one rule matches on.
struct Selection {
    name: String,
    /// Fields and their alternatives: any value of a field, all fields together.
    fields: Vec<(String, Vec<String>)>,
}

struct RuleSpec<'a> {
    suffix: &'static str,
    title: String,
    description: String,
    category: &'static str,
    selections: Vec<Selection>,
    technique_tags: &'a [&'a str],
    falsepositives: &'a [&'a str],
    /// True when every value the rule matches is disputed: the rule alerts at `medium`.
    all_disputed: bool,
}

pub(crate) fn rules(advisory: &Advisory) -> Vec<SigmaRule> {
    let strong: Vec<&NetworkIndicator> = advisory
        .network_indicators
        .iter()
        .filter(|n| !n.weak)
        .collect();
    let weak: Vec<&str> = advisory
        .network_indicators
        .iter()
        .filter(|n| n.weak)
        .map(|n| n.value.as_str())
        .collect();
    let left_out = if weak.is_empty() {
        String::new()
    } else {
        format!(
            " Weak indicators left out (never alert on them alone): {}.",
            weak.join(", ")
        )
    };

    let mut domains: Vec<(String, bool)> = Vec::new();
    let mut url_parts: Vec<(String, bool)> = Vec::new();
    // (host, path) of each URL: proxies that log the path alone (Zeek, Squid in some formats)
    // need the host field beside it.
    let mut host_paths: Vec<(String, String)> = Vec::new();
    let mut agents: Vec<(String, bool)> = Vec::new();
    let mut ips: Vec<(String, bool)> = Vec::new();
    for n in &strong {
        let disputed = n.provenance.disputed;
        match n.kind {
            NetworkKind::Domain => push_unique(&mut domains, n.value.clone(), disputed),
            NetworkKind::Url => {
                if let Some((host, rest)) = split_url(&n.value) {
                    if host.parse::<IpAddr>().is_ok() {
                        push_unique(&mut ips, host.to_string(), disputed);
                    } else {
                        push_unique(&mut domains, host.to_string(), disputed);
                    }
                    if !rest.is_empty() && rest != "/" {
                        push_unique(&mut url_parts, format!("{host}{rest}"), disputed);
                        let pair = (host.to_string(), rest.to_string());
                        if !host_paths.contains(&pair) {
                            host_paths.push(pair);
                        }
                    }
                }
            }
            NetworkKind::UserAgent => push_unique(&mut agents, n.value.clone(), disputed),
            NetworkKind::Ip => push_unique(&mut ips, n.value.clone(), disputed),
            // Proxy logs have no standard field for arbitrary request headers.
            NetworkKind::HttpHeader => {}
        }
    }

    let id = &advisory.id;
    let title = one_line(&advisory.title);
    let mut specs = Vec::new();
    if !domains.is_empty() {
        specs.push(RuleSpec {
            suffix: "dns",
            title: format!("DNS Query for Indicator Domains of {id}"),
            description: format!(
                "Detects DNS queries for {} or their subdomains, indicators of {title} (tagwarden advisory {id}).{left_out}",
                names(&domains)
            ),
            category: "dns",
            selections: vec![
                selection("selection_domain", "query", &domains, |d| d.to_string()),
                selection("selection_subdomain", "query|endswith", &domains, |d| format!(".{d}")),
            ],
            technique_tags: &["attack.t1071.004"],
            falsepositives: &["Security tooling or analysts resolving published indicators"],
            all_disputed: all_disputed(&domains),
        });
    }
    if !domains.is_empty() || !url_parts.is_empty() || !agents.is_empty() {
        let mut selections = Vec::new();
        if !domains.is_empty() {
            selections.push(selection("selection_host", "cs-host", &domains, |d| {
                d.to_string()
            }));
            selections.push(selection(
                "selection_subdomain",
                "cs-host|endswith",
                &domains,
                |d| format!(".{d}"),
            ));
        }
        if !url_parts.is_empty() {
            selections.push(selection(
                "selection_url",
                "c-uri|contains",
                &url_parts,
                |u| u.to_string(),
            ));
            for (i, (host, path)) in host_paths.iter().enumerate() {
                selections.push(Selection {
                    name: format!("selection_url_path_{}", i + 1),
                    fields: vec![
                        ("cs-host".to_string(), vec![host.clone()]),
                        ("c-uri|startswith".to_string(), vec![path.clone()]),
                    ],
                });
            }
        }
        if !agents.is_empty() {
            selections.push(selection(
                "selection_useragent",
                "c-useragent",
                &agents,
                |u| u.to_string(),
            ));
        }
        let mut all: Vec<(String, bool)> = domains.clone();
        all.extend(url_parts.iter().cloned());
        all.extend(agents.iter().cloned());
        let ua_note = if agents.is_empty() {
            ""
        } else {
            " The User-Agent of HTTPS requests is visible only with TLS inspection."
        };
        specs.push(RuleSpec {
            suffix: "proxy",
            title: format!("Proxy Request Matching Network Indicators of {id}"),
            description: format!(
                "Detects HTTP requests to or carrying {}, indicators of {title} (tagwarden advisory {id}).{ua_note}{left_out}",
                names(&all)
            ),
            category: "proxy",
            selections,
            technique_tags: &["attack.t1071.001"],
            falsepositives: &["Security tooling or analysts fetching published indicators"],
            all_disputed: all_disputed(&all),
        });
    }
    if !ips.is_empty() {
        specs.push(RuleSpec {
            suffix: "firewall",
            title: format!("Network Connection to Indicator Addresses of {id}"),
            description: format!(
                "Detects connections to {}, indicators of {title} (tagwarden advisory {id}). Addresses change hands: check the date.{left_out}",
                names(&ips)
            ),
            category: "firewall",
            selections: vec![selection("selection", "dst_ip", &ips, |i| i.to_string())],
            technique_tags: &["attack.t1071"],
            falsepositives: &["Other services later hosted at the same address"],
            all_disputed: all_disputed(&ips),
        });
    }
    specs
        .into_iter()
        .map(|spec| render(advisory, spec))
        .collect()
}

fn push_unique(list: &mut Vec<(String, bool)>, value: String, disputed: bool) {
    match list.iter_mut().find(|(v, _)| *v == value) {
        // A value is disputed only when every mention of it is.
        Some(entry) => entry.1 &= disputed,
        None => list.push((value, disputed)),
    }
}

fn all_disputed(values: &[(String, bool)]) -> bool {
    values.iter().all(|(_, d)| *d)
}

fn names(values: &[(String, bool)]) -> String {
    values
        .iter()
        .map(|(v, d)| {
            if *d {
                format!("{v} (disputed)")
            } else {
                v.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn selection(
    name: &'static str,
    field: &str,
    values: &[(String, bool)],
    map: impl Fn(&str) -> String,
) -> Selection {
    Selection {
        name: name.to_string(),
        fields: vec![(
            field.to_string(),
            values.iter().map(|(v, _)| map(v)).collect(),
        )],
    }
}

/// `(host, path-and-query)` of an `http(s)://` URL; the loader has normalised the scheme.
fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let path = rest.get(end..)?;
    // Drop user info and port: logs record the bare host.
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split_once(']')
            .map_or(host, |(h, _)| h.trim_start_matches('['))
    } else {
        host.split_once(':').map_or(host, |(h, _)| h)
    };
    if host.is_empty() {
        None
    } else {
        Some((host, path))
    }
}

fn render(advisory: &Advisory, spec: RuleSpec<'_>) -> SigmaRule {
    let mut y = String::new();
    let title: String = spec.title.chars().take(MAX_TITLE_CHARS).collect();
    let _ = writeln!(y, "title: {}", yaml_quote(&title));
    let _ = writeln!(
        y,
        "id: {}",
        uuid(&format!("sigma/{}/{}", advisory.id, spec.suffix))
    );
    let _ = writeln!(y, "status: experimental");
    let _ = writeln!(
        y,
        "description: {}",
        yaml_quote(&one_line(&spec.description))
    );
    let mut urls: Vec<&str> = Vec::new();
    for url in advisory.sources.iter().filter_map(|s| s.url.as_deref()) {
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    if !urls.is_empty() {
        let _ = writeln!(y, "references:");
        for url in urls {
            let _ = writeln!(y, "    - {}", yaml_quote(url));
        }
    }
    let _ = writeln!(y, "author: 'tagwarden'");
    // Quoted: YAML would read a bare date as a date, and the Sigma schema wants a string.
    let _ = writeln!(y, "date: '{}'", advisory.updated);
    let _ = writeln!(y, "tags:");
    let mut tags = vec![
        "attack.initial-access",
        "attack.t1195.002",
        "attack.command-and-control",
        "attack.exfiltration",
        "attack.t1041",
    ];
    tags.extend(spec.technique_tags);
    for tag in tags {
        let _ = writeln!(y, "    - {tag}");
    }
    let _ = writeln!(y, "logsource:");
    let _ = writeln!(y, "    category: {}", spec.category);
    let _ = writeln!(y, "detection:");
    for s in &spec.selections {
        let _ = writeln!(y, "    {}:", s.name);
        for (field, values) in &s.fields {
            let _ = writeln!(y, "        {field}:");
            for v in values {
                let _ = writeln!(y, "            - {}", yaml_quote(&sigma_escape(v)));
            }
        }
    }
    let condition = match spec.selections.as_slice() {
        [only] => only.name.as_str(),
        _ => "1 of selection_*",
    };
    let _ = writeln!(y, "    condition: {condition}");
    let _ = writeln!(y, "falsepositives:");
    for fp in spec.falsepositives {
        let _ = writeln!(y, "    - {}", yaml_quote(fp));
    }
    let level = if spec.all_disputed { "medium" } else { "high" };
    let _ = writeln!(y, "level: {level}");
    SigmaRule {
        file_name: format!("{}-{}.yml", advisory.id, spec.suffix),
        yaml: y,
    }
}

/// Escapes Sigma's wildcard characters (`*`, `?`) and its escape character (`\`) so a value
/// matches literally.
fn sigma_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A YAML single-quoted scalar: `'` doubled, line breaks and other control characters replaced
/// by spaces (a single-quoted scalar cannot hold them literally).
fn yaml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' || c == '\u{feff}' => {
                out.push(' ')
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(yaml_quote("it's\nx"), "'it''s x'");
        assert_eq!(sigma_escape("a*b?c\\d"), "a\\*b\\?c\\\\d");
    }

    #[test]
    fn urls() {
        assert_eq!(
            split_url("https://a.example/v1/x?q"),
            Some(("a.example", "/v1/x?q"))
        );
        assert_eq!(
            split_url("http://u@a.example:8080"),
            Some(("a.example", ""))
        );
        assert_eq!(
            split_url("http://[2001:db8::1]:80/p"),
            Some(("2001:db8::1", "/p"))
        );
        assert_eq!(split_url("ftp://a"), None);
    }
}
