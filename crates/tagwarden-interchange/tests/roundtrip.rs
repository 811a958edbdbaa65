//! The built-in advisories survive a trip through STIX 2.1 and MISP: exported, imported back, the
//! facts a hunt matches on are the same (malicious digests with their kind and platform, tag
//! exposures with their windows, network indicators and whether they are weak, actions' tags,
//! rules and commits, file hashes). Provenance comes back too: the document is a source, and the
//! confidence, disputed flag and cited sources are the exported ones.
//!
//! Nothing is reported as "not imported": what the formats cannot carry is simply not exported
//! (known-good digests and commits, which a consumer would take for indicators; MISP also has no
//! place for window provenance or digest tags beyond the first), so it never shows up as unmapped.

use std::collections::BTreeSet;

use tagwarden_advisory::{Advisory, BUILTIN_FILES, VersionBound};
use tagwarden_interchange::export::{misp_event, stix_bundle};
use tagwarden_interchange::import::{Format, Input, Options, import_all};

/// Repository, tag, window start and end, disputed window.
type Exposure = (
    Vec<String>,
    Vec<String>,
    String,
    String,
    Option<(String, String)>,
);
/// Repository (lower case), tags, tag rules, malicious commits.
type Action = (String, Vec<String>, Vec<String>, Vec<String>);

/// What a hunt matches on, as comparable sets.
#[derive(Debug, PartialEq, Eq)]
struct Facts {
    digests: BTreeSet<(String, String, Option<String>)>,
    exposures: BTreeSet<Exposure>,
    /// What each value is believed on: (what, confidence, disputed).
    confidence: BTreeSet<(String, String, bool)>,
    network: BTreeSet<(String, String, bool)>,
    actions: BTreeSet<Action>,
    file_hashes: BTreeSet<String>,
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}

fn facts(a: &Advisory) -> Facts {
    // An exposure listed once per tag or once per group is the same fact: compare tag by tag.
    let mut exposures = BTreeSet::new();
    for e in &a.image_exposures {
        for r in &e.repositories {
            for t in &e.tags {
                exposures.insert((
                    vec![r.clone()],
                    vec![t.clone()],
                    e.window.value.start.to_string(),
                    e.window.value.end.to_string(),
                    e.disputed_window
                        .as_ref()
                        .map(|d| (d.value.start.to_string(), d.value.end.to_string())),
                ));
            }
        }
    }
    let mut actions = BTreeSet::new();
    for act in &a.actions {
        let rules = act
            .tag_rules
            .iter()
            .map(|r| match r.bound {
                VersionBound::Below(b) => format!("{}<{b:?}", r.prefix),
                VersionBound::UpTo(b) => format!("{}<={b:?}", r.prefix),
            })
            .collect::<Vec<_>>();
        let commits = act
            .malicious_commits
            .iter()
            .map(|c| c.sha.clone())
            .collect::<Vec<_>>();
        actions.insert((
            act.repository.to_ascii_lowercase(),
            sorted(&act.tags),
            sorted(&rules),
            sorted(&commits),
        ));
    }
    let mut confidence = BTreeSet::new();
    let mut believe = |what: String, p: &tagwarden_advisory::Provenance| {
        confidence.insert((what, p.confidence.as_str().to_string(), p.disputed));
    };
    for d in &a.malicious_digests {
        believe(d.digest.to_string(), &d.provenance);
    }
    for n in &a.network_indicators {
        believe(n.value.clone(), &n.provenance);
    }
    for act in &a.actions {
        believe(act.repository.to_ascii_lowercase(), &act.provenance);
        for c in &act.malicious_commits {
            believe(c.sha.clone(), &c.provenance);
        }
    }
    for h in &a.file_hashes {
        believe(h.sha256.clone(), &h.provenance);
    }
    Facts {
        confidence,
        digests: a
            .malicious_digests
            .iter()
            .map(|d| {
                (
                    d.digest.to_string(),
                    d.kind.as_str().to_string(),
                    d.platform.clone(),
                )
            })
            .collect(),
        exposures,
        network: a
            .network_indicators
            .iter()
            .map(|n| (n.kind.as_str().to_string(), n.value.clone(), n.weak))
            .collect(),
        actions,
        file_hashes: a.file_hashes.iter().map(|h| h.sha256.clone()).collect(),
    }
}

fn builtins() -> Vec<Advisory> {
    BUILTIN_FILES
        .iter()
        .map(|(path, text)| Advisory::from_toml(path, text).expect("built-in loads"))
        .collect()
}

fn import(path: &str, text: &str, format: Format, id: &str) -> Advisory {
    let options = Options {
        id: Some(id.to_string()),
        ..Options::default()
    };
    let input = Input {
        path,
        text,
        format: Some(format),
    };
    let imported = import_all(&[input], &options).unwrap_or_else(|e| panic!("{path}: {e}"));
    let unmapped: Vec<String> = imported.unmapped.iter().map(|u| u.to_string()).collect();
    assert!(
        unmapped.is_empty(),
        "{id}: a tagwarden export must import without loss:\n{}",
        unmapped.join("\n")
    );
    let back = imported.advisory;
    // The document is a source of every value, beside the sources the export named.
    let document = back
        .sources
        .first()
        .map(|s| s.id.clone())
        .unwrap_or_default();
    for n in &back.network_indicators {
        assert!(
            n.provenance.sources.contains(&document),
            "{id}: {}",
            n.value
        );
        assert!(
            n.provenance.sources.len() > 1,
            "{id}: {} lost its sources",
            n.value
        );
    }
    back
}

#[test]
fn builtins_round_trip_through_stix() {
    for a in builtins() {
        let bundle = stix_bundle(&[&a]);
        let back = import("bundle.json", &bundle, Format::Stix, &a.id);
        assert_eq!(facts(&back), facts(&a), "{} through STIX", a.id);
    }
}

#[test]
fn builtins_round_trip_through_misp() {
    for a in builtins() {
        let event = misp_event(&a);
        let back = import("event.json", &event, Format::Misp, &a.id);
        assert_eq!(facts(&back), facts(&a), "{} through MISP", a.id);
    }
}

#[test]
fn a_reimported_advisory_exports_the_same_indicators() {
    // Import is the inverse of export on what matters: a second trip changes nothing more.
    for a in builtins() {
        let once = import("b.json", &stix_bundle(&[&a]), Format::Stix, &a.id);
        let twice = import("b.json", &stix_bundle(&[&once]), Format::Stix, &a.id);
        assert_eq!(facts(&twice), facts(&once), "{}", a.id);
    }
}

#[test]
fn digests_without_repositories_survive_misp() {
    // A third-party STIX bundle names no repository: the MISP export must still carry every
    // digest, and importing it back gives the same digests, kinds and platforms.
    let text = tagwarden_testbed::testdata_text("formats/stix_bundle.json");
    let input = Input {
        path: "stix_bundle.json",
        text: &text,
        format: Some(Format::Stix),
    };
    let a = import_all(&[input], &Options::default())
        .expect("example imports")
        .advisory;
    assert!(!a.malicious_digests.is_empty());
    assert!(
        a.malicious_digests
            .iter()
            .all(|d| d.repositories.is_empty())
    );
    let back = import("event.json", &misp_event(&a), Format::Misp, &a.id);
    assert_eq!(facts(&back).digests, facts(&a).digests);
}
