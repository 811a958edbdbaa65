//! OSV records about GitHub Actions (`affected[].package.ecosystem == "GitHub Actions"`).
//!
//! Mapping, per affected action (`package.name` is `owner/repo`):
//!
//! - `versions` → affected tags, as listed (OSV does not say whether tags carry a `v`).
//! - `ranges` of type `SEMVER`/`ECOSYSTEM` with `introduced: "0"` and `fixed: X` →
//!   `tag_rules = [{ prefix, below = X }]`; with `last_affected: X` → `up_to = X`. A leading `v`
//!   in X becomes the prefix. Other lower bounds, or no upper bound, are unmapped (the listed
//!   versions still count).
//! - `ranges` of type `GIT`: `introduced` and `last_affected` commits → malicious commits,
//!   `fixed` commits → known-good commits (the commits between are not listed: noted).
//! - `database_specific` / `ecosystem_specific` (of the entry or of the record):
//!   `malicious_commits` (also `malicious_shas`, `commits`: SHAs or `{sha, tag}` objects) →
//!   malicious commits, `known_good_commits` → known-good commits, `window: {start, end}` → the
//!   action's window. Without a window the window is open: tag-only matches count any time.
//! - `aliases` (and the OSV id) → aliases; `references` → sources (`ADVISORY` ones cited).
//!
//! A record about a vulnerability rather than malicious code is kept out of matching: one
//! `[[not_indicators]]` entry (kind `action`) per affected action, printed. Malicious code is
//! an OpenSSF `MAL-` id or alias, listed malicious commits, or weaknesses (GitHub's
//! `database_specific.cwe_ids`) that include CWE-506 or its kin, or name none.
//!
//! Provenance: the record is the source; confidence `S` (a vulnerability database).
//! Unmapped (with position): other ecosystems, withdrawn records, invalid versions or SHAs.

use tagwarden_advisory::Confidence;

use super::draft::{Doc, Draft, DraftWindow, Prov, Rule, clip, date, one_line, timestamp};
use super::json::Node;
use super::polarity::{self, Polarity};
use super::{Format, ReadResult, Src};

/// Most affected entries and versions read from one record.
const MAX_ITEMS: usize = 1000;

pub(crate) fn read(root: &Node, src: Src<'_>, draft: &mut Draft) -> ReadResult {
    let Some(id) = root.str_of("id") else {
        return Err((root.at, "not an OSV record: no \"id\"".to_string()));
    };
    let mut doc = draft.document(
        src,
        Format::Osv,
        Some(id),
        None,
        None,
        Confidence::Secondary,
    );
    draft.alias(id);
    for a in root.strings_of("aliases") {
        draft.alias(a);
    }
    draft.dates(
        root.str_of("published").and_then(date),
        root.str_of("modified").and_then(date),
    );
    draft
        .titles
        .push(one_line(root.str_of("summary").unwrap_or(id)));
    let details = root.str_of("details").map(str::trim).unwrap_or_default();
    draft.summaries.push(clip(&format!(
        "Imported from the OSV record {id}.{}{}",
        if details.is_empty() { "" } else { " " },
        details
    )));
    let refs: Vec<(&str, String, bool)> = root
        .items_of("references")
        .iter()
        .filter_map(|r| {
            let url = r.str_of("url")?;
            let kind = r.str_of("type").unwrap_or("WEB");
            Some((
                url,
                format!("{kind} reference of {id}: {url}"),
                kind == "ADVISORY",
            ))
        })
        .collect();
    for (url, title, cited) in refs {
        let ids = draft.references([(url, title)]);
        if cited {
            for i in ids {
                if !doc.prov.sources.contains(&i) {
                    doc.prov.sources.push(i);
                }
            }
        }
    }
    if let Some(w) = root.get("withdrawn") {
        draft.unmapped(
            &doc,
            w,
            format!(
                "the record was withdrawn ({}): nothing imported",
                w.as_str().unwrap_or("?")
            ),
        );
        return Ok(());
    }
    let record_specific = [
        root.get("database_specific"),
        root.get("ecosystem_specific"),
    ];
    let polarity = record_polarity(root, id);
    for entry in root.items_of("affected").iter().take(MAX_ITEMS) {
        affected(entry, &record_specific, &polarity, &doc, draft);
    }
    Ok(())
}

/// What the record reports: malicious code when its id or an alias is an OpenSSF `MAL-` id, when
/// it lists malicious commits, or when its weaknesses (GitHub's `database_specific.cwe_ids`)
/// include malicious code or are not given; a vulnerability otherwise (see [`polarity`]).
fn record_polarity(root: &Node, id: &str) -> Polarity {
    let mal = |s: &str| s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("MAL-"));
    if mal(id) || root.strings_of("aliases").into_iter().any(mal) {
        return Polarity::Malicious;
    }
    let specific: Vec<&Node> = [root.get("database_specific")]
        .into_iter()
        .chain(
            root.items_of("affected")
                .iter()
                .take(MAX_ITEMS)
                .map(|a| a.get("database_specific")),
        )
        .flatten()
        .collect();
    let lists_commits = specific.iter().any(|s| {
        ["malicious_commits", "malicious_shas", "commits"]
            .iter()
            .any(|k| s.get(k).is_some())
    });
    if lists_commits {
        return Polarity::Malicious;
    }
    polarity::weaknesses(id, specific.iter().flat_map(|s| s.strings_of("cwe_ids")))
}

fn affected(
    entry: &Node,
    record: &[Option<&Node>; 2],
    polarity: &Polarity,
    doc: &Doc<'_>,
    draft: &mut Draft,
) {
    let package = entry.get("package");
    let ecosystem = package
        .and_then(|p| p.str_of("ecosystem"))
        .unwrap_or("none");
    let name = package.and_then(|p| p.str_of("name")).unwrap_or_default();
    if ecosystem != "GitHub Actions" {
        draft.unmapped(
            doc,
            entry,
            format!(
                "package {name:?} of ecosystem {ecosystem:?}: only GitHub Actions are imported"
            ),
        );
        return;
    }
    let at = package.unwrap_or(entry);
    let prov = doc.prov.clone();
    let tags: Vec<String> = entry
        .strings_of("versions")
        .into_iter()
        .take(MAX_ITEMS)
        .map(str::to_string)
        .collect();
    if let Some(why) = polarity.reason() {
        // A vulnerable action is not a hijacked one: what the record lists is kept for humans.
        let listed = if tags.is_empty() {
            "no versions listed".to_string()
        } else {
            let mut shown: Vec<&str> = tags.iter().map(String::as_str).take(10).collect();
            if tags.len() > shown.len() {
                shown.push("…");
            }
            format!("versions {}", shown.join(", "))
        };
        draft.not_indicator(doc, at, "action", name, &format!("{why} ({listed})"), prov);
        return;
    }
    let mut rules = Vec::new();
    let mut malicious: Vec<(String, Prov)> = Vec::new();
    let mut known_good: Vec<(String, Prov)> = Vec::new();
    for range in entry.items_of("ranges").iter().take(MAX_ITEMS) {
        let kind = range.str_of("type").unwrap_or_default();
        let events = range.items_of("events");
        let event = |key: &str| events.iter().find_map(|e| e.str_of(key));
        match kind {
            "SEMVER" | "ECOSYSTEM" => {
                let introduced = event("introduced");
                let bound = event("fixed")
                    .map(|v| (v, false))
                    .or(event("last_affected").map(|v| (v, true)));
                match (introduced, bound) {
                    (Some("0"), Some((version, up_to))) => match rule(version, up_to) {
                        Some(r) => rules.push(r),
                        None => draft.unmapped(doc, range, format!("version {:?} is not X, X.Y or X.Y.Z: no tag rule", clip(version))),
                    },
                    (Some(low), _) if low != "0" => draft.unmapped(doc, range, format!("range introduced at {:?}: a lower bound cannot be written as a tag rule (listed versions are imported)", clip(low))),
                    _ => draft.unmapped(doc, range, "range without an upper bound (fixed or last_affected): every version, not written as a tag rule"),
                }
            }
            "GIT" => {
                let note = "From an OSV GIT range; the commits between introduced and fixed are not listed.";
                for e in events {
                    for key in ["introduced", "last_affected", "fixed"] {
                        if let Some(sha) = e.str_of(key).filter(|s| *s != "0") {
                            let list = if key == "fixed" {
                                &mut known_good
                            } else {
                                &mut malicious
                            };
                            list.push((sha.to_string(), prov.with_note(note)));
                        }
                    }
                }
            }
            other => draft.unmapped(doc, range, format!("range type {other:?} is not read")),
        }
    }
    let specific = [
        entry.get("database_specific"),
        entry.get("ecosystem_specific"),
    ];
    let mut window = DraftWindow::default();
    for s in specific.iter().chain(record).flatten() {
        for key in ["malicious_commits", "malicious_shas", "commits"] {
            malicious.extend(commits(s.get(key), &prov));
        }
        known_good.extend(commits(s.get("known_good_commits"), &prov));
        if window == DraftWindow::default()
            && let Some(w) = s.get("window")
        {
            window = DraftWindow {
                start: w.str_of("start").and_then(timestamp),
                end: w.str_of("end").and_then(timestamp),
            };
        }
    }
    draft.action(
        doc,
        at,
        name,
        &tags,
        rules,
        window,
        &malicious,
        &known_good,
        prov,
    );
}

/// SHAs listed as strings or as `{sha|commit, tag}` objects.
fn commits(list: Option<&Node>, prov: &Prov) -> Vec<(String, Prov)> {
    let Some(list) = list else {
        return Vec::new();
    };
    list.items()
        .iter()
        .take(MAX_ITEMS)
        .filter_map(|c| {
            if let Some(s) = c.as_str() {
                return Some((s.to_string(), prov.clone()));
            }
            let sha = c.str_of("sha").or(c.str_of("commit"))?;
            let p = match c.str_of("tag") {
                Some(t) => prov.with_note(format!("Tag {t}.")),
                None => prov.clone(),
            };
            Some((sha.to_string(), p))
        })
        .collect()
}

/// `v0.35.0` → prefix `v`, version `0.35.0`, when the rest is 1 to 3 numeric parts.
fn rule(version: &str, up_to: bool) -> Option<Rule> {
    let digits_at = version.find(|c: char| c.is_ascii_digit())?;
    let (prefix, rest) = version.split_at(digits_at);
    let parts: Vec<&str> = rest.split('.').collect();
    let ok = (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
        && !prefix.chars().any(char::is_whitespace);
    ok.then(|| Rule {
        prefix: prefix.to_string(),
        up_to,
        version: rest.to_string(),
    })
}
