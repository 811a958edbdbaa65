//! Writing advisories in shared formats. Output is deterministic: ids and timestamps derive from
//! the advisory, so exporting twice gives the same bytes.

use tagwarden_advisory::Advisory;

/// A STIX 2.1 bundle (JSON text) holding the advisories' indicators.
pub fn stix_bundle(advisories: &[&Advisory]) -> String {
    let _ = advisories;
    unimplemented!("STIX export")
}

/// A MISP event (JSON text, `{"Event": …}`) for one advisory.
pub fn misp_event(advisory: &Advisory) -> String {
    let _ = advisory;
    unimplemented!("MISP export")
}

/// One Sigma rule, as a YAML document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigmaRule {
    /// A file name for the rule, e.g. `kics-2026-04-22-dns.yml`.
    pub file_name: String,
    pub yaml: String,
}

/// Sigma rules for the advisory's network indicators: DNS queries for its domains, proxy
/// requests to its domains, URLs and user agents, and connections to its (non-weak) addresses.
pub fn sigma_rules(advisory: &Advisory) -> Vec<SigmaRule> {
    let _ = advisory;
    unimplemented!("Sigma export")
}
