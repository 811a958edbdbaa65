//! Matches grouped into credentials: one per secret, wherever it was found, with the two halves
//! of a paired credential (an AWS access key id and its secret key) as one.

use std::collections::HashMap;
use std::sync::Arc;

use crate::{Fingerprint, Match, Rule};

/// One credential and every place it was found: what to rotate.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Credential {
    /// The credential's fingerprint: for a pair, that of the half that names it (the access
    /// key id).
    pub fingerprint: Fingerprint,
    /// The most specific rule among its matches, whose rotation steps apply.
    #[serde(serialize_with = "rule_summary")]
    pub rule: Arc<Rule>,
    /// The preview of the match that names it.
    pub preview: String,
    /// Every account the matches name, in order of appearance, without repeats.
    pub accounts: Vec<String>,
    /// Every match, in the order given.
    pub occurrences: Vec<Match>,
}

fn rule_summary<S: serde::Serializer>(rule: &Arc<Rule>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(rule.as_ref(), s)
}

/// Groups matches (of one file or of many) by credential, in order of first appearance.
pub fn group(matches: impl IntoIterator<Item = Match>) -> Vec<Credential> {
    let matches: Vec<Match> = matches.into_iter().collect();
    // A secret key paired with an id belongs to the id's credential, but only when the id was
    // reported itself; otherwise it stands alone.
    let present: std::collections::HashSet<Fingerprint> =
        matches.iter().map(|m| m.fingerprint).collect();
    let mut order: Vec<Fingerprint> = Vec::new();
    let mut groups: HashMap<Fingerprint, Vec<Match>> = HashMap::new();
    for m in matches {
        let key = match m.paired_with {
            Some(p) if present.contains(&p) => p,
            _ => m.fingerprint,
        };
        groups
            .entry(key)
            .or_insert_with(|| {
                order.push(key);
                Vec::new()
            })
            .push(m);
    }
    order
        .into_iter()
        .filter_map(|fp| {
            let occurrences = groups.remove(&fp)?;
            let namer = occurrences
                .iter()
                .find(|m| m.fingerprint == fp)
                .or(occurrences.first())?;
            // The rotation of the named half decides (an AWS access key, not its secret).
            let rule = occurrences
                .iter()
                .filter(|m| m.fingerprint == fp)
                .max_by_key(|m| m.rule.precedence())
                .map_or_else(|| Arc::clone(&namer.rule), |m| Arc::clone(&m.rule));
            let mut accounts: Vec<String> = Vec::new();
            for a in occurrences.iter().filter_map(|m| m.account.as_ref()) {
                if !accounts.contains(a) {
                    accounts.push(a.clone());
                }
            }
            Some(Credential {
                fingerprint: fp,
                preview: namer.preview.clone(),
                rule,
                accounts,
                occurrences,
            })
        })
        .collect()
}
