//! The Docker Hub usage CSV export (consumer side): one row per hour, account, repository, tag
//! and digest, with the client IPs and pull counts. Columns are found by the header's names, so
//! reordered or extra columns are fine.

use std::io::BufRead;

use tagwarden_reference::Digest;

use super::{Outcome, parse_time};
use crate::{Evidence, ImageAction, Observed, Sink, SourceKind, excerpt, input};

/// Longest logical record (a quoted field may span lines).
const MAX_RECORD: usize = 1 << 20;

/// Where each known column is.
#[derive(Debug, Default)]
struct Columns {
    time: Option<usize>,
    repository: Option<usize>,
    tag: Option<usize>,
    digest: Option<usize>,
    ips: Option<usize>,
    user: Option<usize>,
    token: Option<usize>,
    pulls: Option<usize>,
    version_checks: Option<usize>,
}

impl Columns {
    fn from_header(fields: &[String]) -> Self {
        let mut c = Columns::default();
        for (i, name) in fields.iter().enumerate() {
            let name = name
                .trim()
                .trim_start_matches('\u{feff}')
                .to_ascii_lowercase()
                .replace([' ', '-'], "_");
            let slot = match name.as_str() {
                "datehour" | "date_hour" | "date" | "time" | "timestamp" | "hour" | "datetime" => {
                    &mut c.time
                }
                "repository" | "repo" | "repository_name" | "repo_name" | "image" => {
                    &mut c.repository
                }
                "tag" | "tag_name" => &mut c.tag,
                "digest" | "manifest_digest" | "image_digest" => &mut c.digest,
                "ips" | "ip" | "ip_address" | "ip_addresses" | "client_ip" | "source_ip" => {
                    &mut c.ips
                }
                "user_name" | "username" | "user" | "account" => &mut c.user,
                // `pat_name` in exports made before late 2024.
                "access_token_name" | "pat_name" | "access_token" | "token_name" | "token" => {
                    &mut c.token
                }
                "pulls" | "pull_count" | "pull_requests" => &mut c.pulls,
                "version_checks" | "version_check" => &mut c.version_checks,
                _ => continue,
            };
            slot.get_or_insert(i);
        }
        c
    }
}

/// Whether a line is a usage export's header: it names the repository and the hour or the
/// pulls.
pub(super) fn is_header(line: &str) -> bool {
    [',', ';', '\t'].into_iter().any(|d| {
        split_csv(line, d).is_some_and(|fields| {
            let c = Columns::from_header(&fields);
            c.repository.is_some() && (c.time.is_some() || c.pulls.is_some())
        })
    })
}

/// Splits one CSV record (RFC 4180 quoting); `None` while a quoted field is still open.
fn split_csv(record: &str, delimiter: char) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (false, c) if c == delimiter => fields.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

/// The IPs column as one host string: `1.2.3.4, 5.6.7.8` whatever the separators.
fn ips(raw: &str) -> Option<String> {
    let list: Vec<&str> = raw
        .trim()
        .trim_matches(['[', ']', '{', '}'])
        .split(|c: char| matches!(c, ',' | ';' | '|') || c.is_whitespace())
        .map(|s| s.trim().trim_matches(['"', '\'']))
        .filter(|s| !s.is_empty())
        .collect();
    (!list.is_empty()).then(|| list.join(", "))
}

fn count(raw: Option<&String>) -> Option<u64> {
    raw.and_then(|s| s.trim().parse().ok())
}

pub(super) fn read(reader: &mut dyn BufRead, location: &str, sink: &dyn Sink) -> Outcome {
    let mut out = Outcome::new(SourceKind::DockerHubUsage);
    let mut columns: Option<Columns> = None;
    let mut record = String::new();
    let mut record_line = 0u64;
    // Spreadsheets in some locales write `;`, and some tools tabs: the header says which.
    let mut delimiter: Option<char> = None;
    let result = input::for_each_line(reader, |n, raw| {
        let text = String::from_utf8_lossy(raw);
        if record.is_empty() {
            if text.trim().is_empty() {
                return true;
            }
            record_line = n;
        } else {
            record.push('\n');
        }
        record.push_str(&text);
        let delimiter = *delimiter.get_or_insert_with(|| {
            [',', ';', '\t']
                .into_iter()
                .max_by_key(|d| record.matches(*d).count())
                .unwrap_or(',')
        });
        let Some(fields) = split_csv(&record, delimiter) else {
            if record.len() > MAX_RECORD {
                out.bad(record_line);
                record.clear();
            }
            return true;
        };
        let Some(cols) = &columns else {
            let cols = Columns::from_header(&fields);
            if cols.repository.is_none() {
                out.fatal = Some(
                    "not a Docker Hub usage export: the header names no repository column"
                        .to_string(),
                );
                return false;
            }
            columns = Some(cols);
            record.clear();
            return true;
        };
        out.records += 1;
        match row(cols, &fields, &record, location, record_line) {
            Ok((evidence, clean)) => {
                if !clean {
                    out.bad(record_line);
                }
                sink.evidence(evidence);
            }
            Err(()) => out.bad(record_line),
        }
        record.clear();
        true
    });
    match result {
        Ok(lines) => out.bytes = lines.bytes,
        Err(e) => {
            out.fatal = Some(format!("read stopped (corrupt or truncated?): {e}"));
        }
    }
    if !record.is_empty() && out.fatal.is_none() {
        // An unterminated quote at the end of the file.
        out.bad(record_line);
    }
    out
}

/// One data row. `Ok((evidence, false))` when part of it (time, digest) could not be read.
fn row(
    cols: &Columns,
    fields: &[String],
    raw: &str,
    location: &str,
    line: u64,
) -> Result<(Evidence, bool), ()> {
    let get = |i: Option<usize>| {
        i.and_then(|i| fields.get(i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    };
    let repository = get(cols.repository).ok_or(())?;
    let mut clean = true;
    let digest = match get(cols.digest) {
        Some(d) => {
            let parsed = Digest::parse(d).ok();
            clean &= parsed.is_some();
            parsed
        }
        None => None,
    };
    let timestamp = match get(cols.time) {
        Some(t) => {
            let parsed = parse_time(t);
            clean &= parsed.is_some();
            parsed
        }
        None => None,
    };
    if digest.is_none() && get(cols.tag).is_none() && !clean {
        return Err(());
    }
    let reference = match get(cols.tag) {
        Some(tag) => format!("{repository}:{tag}"),
        None => repository.to_string(),
    };
    let pulls = count(cols.pulls.and_then(|i| fields.get(i)));
    let checks = count(cols.version_checks.and_then(|i| fields.get(i)));
    // A row with only version checks (HEAD requests): Hub told a client what the tag was, no
    // image was fetched.
    let action = if pulls == Some(0) && checks.is_some_and(|c| c > 0) {
        ImageAction::Served
    } else {
        ImageAction::Pulled
    };
    let job = match (get(cols.user), get(cols.token)) {
        (Some(u), Some(t)) => Some(format!("{u} (token {t})")),
        (Some(u), None) => Some(u.to_string()),
        (None, Some(t)) => Some(format!("token {t}")),
        (None, None) => None,
    };
    let evidence = Evidence {
        source: SourceKind::DockerHubUsage,
        location: location.to_string(),
        line: Some(line),
        timestamp,
        // The export counts pulls per hour: the pull happened somewhere in that hour.
        within: Some(jiff::SignedDuration::from_hours(1)),
        host: get(cols.ips).and_then(ips),
        job,
        observed: Observed::Image {
            action,
            reference: Some(reference),
            digest,
        },
        // Excerpts end up on terminals: no control characters (a record may span lines).
        excerpt: Some(excerpt(
            &raw.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>(),
        )),
    };
    Ok((evidence, clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(
            split_csv(r#"a,"b,c","d ""e""",,"#, ',').unwrap(),
            ["a", "b,c", "d \"e\"", "", ""]
        );
        assert!(split_csv("a,\"open", ',').is_none());
        assert_eq!(split_csv("a;b", ';').unwrap(), ["a", "b"]);
        assert_eq!(
            ips("\"1.2.3.4,5.6.7.8\"").as_deref(),
            Some("1.2.3.4, 5.6.7.8")
        );
        assert_eq!(
            ips("[1.2.3.4; 5.6.7.8]").as_deref(),
            Some("1.2.3.4, 5.6.7.8")
        );
        assert_eq!(ips(" "), None);
    }
}
