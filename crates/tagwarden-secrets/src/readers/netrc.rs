//! `.netrc`: `machine HOST login USER password PASS` in any layout of white space; `default`
//! stands for any host; a `macdef` body runs to the next empty line.

use tagwarden_extract::Span;

use super::{Assignment, Reading};
use crate::rules::Source;

pub(crate) fn read(text: &str) -> Reading {
    let mut out = Reading::default();
    let mut tokens = Vec::new();
    let mut i = 0;
    let b = text.as_bytes();
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if b[i] == b'#' {
            i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
            continue;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let word = &text[start..i];
        if word == "macdef" {
            // The macro's name, then its body up to an empty line.
            i = memchr::memmem::find(&b[i..], b"\n\n").map_or(b.len(), |n| i + n + 2);
            continue;
        }
        tokens.push((word, Span::new(start, i)));
    }
    let (mut machine, mut login) = (None::<&str>, None::<&str>);
    let mut k = 0;
    while k < tokens.len() {
        let (word, _) = tokens[k];
        match word {
            "machine" => {
                machine = tokens.get(k + 1).map(|t| t.0);
                login = None;
                k += 2;
            }
            "default" => {
                machine = Some("default");
                login = None;
                k += 1;
            }
            "login" => {
                login = tokens.get(k + 1).map(|t| t.0);
                k += 2;
            }
            "password" | "account" => {
                if let Some(&(value, span)) = tokens.get(k + 1) {
                    let account = match (login, machine) {
                        (Some(l), Some(m)) => Some(format!("{l}@{m}")),
                        (None, Some(m)) => Some(m.to_string()),
                        _ => None,
                    };
                    let path = format!("machine {}", machine.unwrap_or("?"));
                    out.assignments.push(
                        Assignment::new(Source::Netrc, word, path, value.to_string(), span)
                            .account(account),
                    );
                }
                k += 2;
            }
            _ => k += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines() {
        let t = "machine api.example.org\n  login ci\n  password Zq81mX\nmacdef init\ncd /\n\ndefault login anon password p2\n";
        let r = read(t);
        let got: Vec<_> = r
            .assignments
            .iter()
            .map(|a| {
                (
                    a.value.as_str(),
                    a.account.as_deref().unwrap_or(""),
                    a.span.of(t),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("Zq81mX", "ci@api.example.org", "Zq81mX"),
                ("p2", "anon@default", "p2")
            ]
        );
    }
}
