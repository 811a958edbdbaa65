//! INI-style files: `[section]` headers and `key = value` (or `key: value`) lines, `#` and `;`
//! comments. AWS credential files (the section is the profile), `.pypirc` (the section is the
//! index), `.npmrc` (no sections; `//registry/:_authToken=…` keys), and other `*.ini`/`*.cfg`.

use tagwarden_extract::Span;

use super::{Assignment, Reading, decode_base64, decoded_text};
use crate::rules::Source;

/// One `key = value` line: the key, the value, and the value's span.
fn entries<'t>(
    text: &'t str,
    separators: &'static [char],
) -> impl Iterator<Item = (Option<&'t str>, &'t str, &'t str, Span)> {
    let mut section = None;
    let mut offset = 0;
    text.split_inclusive('\n').filter_map(move |raw| {
        let at = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let body = line.trim_start();
        if body.starts_with(['#', ';']) || body.is_empty() {
            return None;
        }
        if let Some(name) = body.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = Some(name.trim());
            return None;
        }
        let sep = body.find(separators)?;
        let key = body[..sep].trim();
        let rest = &body[sep + 1..];
        let value = rest.trim();
        let v_at =
            at + (line.len() - body.len()) + sep + 1 + (rest.len() - rest.trim_start().len());
        Some((section, key, value, Span::new(v_at, v_at + value.len())))
    })
}

pub(crate) fn read(text: &str, source: Source, wanted: &dyn Fn(&str) -> bool) -> Reading {
    let mut out = Reading::default();
    // A credential file's values are all read; a generic file's only under names that matter.
    let keep_all = source != Source::Ini;
    // configparser (`.pypirc`, `*.cfg`) also takes `key: value`; the AWS CLI does not.
    let separators: &[char] = if source == Source::AwsCredentials {
        &['=']
    } else {
        &['=', ':']
    };
    for (section, key, value, span) in entries(text, separators) {
        if !keep_all && !wanted(key) {
            continue;
        }
        let path = match section {
            Some(s) => format!("[{s}] {key}"),
            None => key.to_string(),
        };
        let account = match source {
            Source::AwsCredentials => {
                section.map(|s| format!("profile {}", s.trim_start_matches("profile ")))
            }
            Source::Pypirc => section.map(str::to_string),
            _ => None,
        };
        let (value, span) = unquote(value, span);
        out.assignments
            .push(Assignment::new(source, key, path, value, span).account(account));
    }
    out
}

/// `.npmrc`: `_authToken`, `_auth` (base64 `user:password`) and `_password` (base64), scoped to
/// a registry by a `//host/path/:` prefix.
pub(crate) fn read_npmrc(text: &str) -> Reading {
    let mut out = Reading::default();
    for (_, key, value, span) in entries(text, &['=']) {
        // `//registry.npmjs.org/:_authToken`: the registry, then the setting.
        let (registry, name) = match key.rsplit_once(':') {
            Some((reg, name)) if reg.starts_with("//") => (
                Some(reg.trim_start_matches('/').trim_end_matches('/')),
                name,
            ),
            _ => (None, key),
        };
        let (value, span) = unquote(value, span);
        let mut a = Assignment::new(Source::Npmrc, name, key.to_string(), value, span)
            .account(registry.map(str::to_string));
        if matches!(name, "_auth" | "_password")
            && let Some(decoded) = decode_base64(&a.value).and_then(decoded_text)
        {
            a.value = match (name, decoded.split_once(':')) {
                ("_auth", Some((user, pass))) => {
                    a.account = Some(format!("{user}@{}", registry.unwrap_or("default registry")));
                    pass.to_string()
                }
                _ => decoded,
            };
            a.decoded = Some("base64");
        }
        out.assignments.push(a);
    }
    out
}

fn unquote(value: &str, span: Span) -> (String, Span) {
    let b = value.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'"' | b'\'') && b[b.len() - 1] == b[0] {
        return (
            value[1..value.len() - 1].to_string(),
            Span::new(span.start + 1, span.end - 1),
        );
    }
    (value.to_string(), span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_profiles() {
        let t = "[default]\naws_access_key_id = AKIAX\naws_secret_access_key = abc/def\n\n[profile ci]\nregion = eu-west-1\n";
        let r = read(t, Source::AwsCredentials, &|_| false);
        let got: Vec<_> = r
            .assignments
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.span.of(t),
                    a.account.as_deref().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("aws_access_key_id", "AKIAX", "profile default"),
                ("aws_secret_access_key", "abc/def", "profile default"),
                ("region", "eu-west-1", "profile ci"),
            ]
        );
    }

    #[test]
    fn npmrc_tokens() {
        // base64("ci:Zq81mX")
        let t = "registry=https://registry.npmjs.org/\n//npm.pkg.github.com/:_authToken=abc\n//r.example/:_auth=Y2k6WnE4MW1Y\n";
        let r = read_npmrc(t);
        let got: Vec<_> = r
            .assignments
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.value.as_str(),
                    a.account.as_deref().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("registry", "https://registry.npmjs.org/", ""),
                ("_authToken", "abc", "npm.pkg.github.com"),
                ("_auth", "Zq81mX", "ci@r.example"),
            ]
        );
    }
}
