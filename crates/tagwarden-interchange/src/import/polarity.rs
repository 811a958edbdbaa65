//! How each format says that a value is not evidence of compromise, in one place, so that no
//! reader can turn a vendor's clean digest into a malicious one.
//!
//! Every value a reader finds is judged here first, and [`Draft`](super::draft::Draft) files it
//! by its [`Polarity`]: only [`Polarity::Malicious`] values are matched as compromise; a benign
//! image digest becomes known good; everything else goes to `[[not_indicators]]`, is printed on
//! standard error and is never matched. When a document is unclear, the value is kept out.
//!
//! | format | says "not malicious" or "not for detection" with | polarity |
//! |---|---|---|
//! | STIX 2.1 | `indicator_types` `benign` (2.0: `labels`) | benign |
//! | STIX 2.1 | `benign` together with `malicious-activity`, `compromised` or `attribution` | not an indicator |
//! | STIX 2.1 | only `anomalous-activity` / `anonymization` ("not necessarily malicious") | context |
//! | STIX 2.1 | an `opinion` of `disagree` / `strongly-disagree` about the indicator | not an indicator |
//! | MISP | `to_ids: false` ("not meant for detection") | context |
//! | MISP | tag `false-positive:risk="high"` | context |
//! | MISP | tag `false-positive:confirmed` (other than `"false"`), a false-positive sighting (`type` 1) | not an indicator |
//! | OpenVEX | `not_affected`, `fixed` | benign |
//! | OpenVEX, CSAF | `under_investigation` | not an indicator |
//! | CSAF | `known_not_affected`, `fixed`, `first_fixed`, `recommended` | benign |
//! | CSAF, OSV | a CWE that is not malicious code (a vulnerability, not a compromise) | not an indicator |
//! | OSV | `fixed` commits of a `GIT` range | known-good commits |
//!
//! A value a document calls malicious and another (or the same) calls benign is kept as
//! malicious, and the conflict is printed: the stronger claim wins, never silently.

use super::json::Node;

/// What a document says a value is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Polarity {
    /// Evidence of compromise: matched.
    Malicious,
    /// Not evidence on its own. A network indicator becomes weak (listed apart, never a hit
    /// alone); a digest or file hash, which cannot be weak, is kept out of matching.
    Context(String),
    /// Said to be safe. An image digest becomes known good (never vendor-confirmed unless the
    /// format says the vendor wrote it); values of other kinds are kept out of matching.
    Benign(String),
    /// Not an indicator, or unclear: kept out of matching.
    NotIndicator(String),
}

impl Polarity {
    pub(crate) fn is_malicious(&self) -> bool {
        *self == Polarity::Malicious
    }

    /// Why the value is not malicious; `None` for [`Polarity::Malicious`].
    pub(crate) fn reason(&self) -> Option<&str> {
        match self {
            Polarity::Malicious => None,
            Polarity::Context(r) | Polarity::Benign(r) | Polarity::NotIndicator(r) => Some(r),
        }
    }
}

// --- STIX --------------------------------------------------------------------------------------

/// Types that say an indicator detects malicious activity.
const STIX_MALICIOUS: [&str; 3] = ["malicious-activity", "compromised", "attribution"];
/// Types that say the activity is "not necessarily malicious".
const STIX_CONTEXT: [&str; 2] = ["anomalous-activity", "anonymization"];

/// A STIX indicator, by its `indicator_types` (STIX 2.0 wrote them as `labels`) and, when an
/// `opinion` object of the bundle disagrees with it, that opinion. No type (or `unknown`) is an
/// indicator as STIX defines one: a pattern for detecting malicious activity.
pub(crate) fn stix(indicator: &Node, disagreement: Option<&str>) -> Polarity {
    let mut types: Vec<String> = indicator
        .strings_of("indicator_types")
        .into_iter()
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    if types.is_empty() {
        types = indicator
            .strings_of("labels")
            .into_iter()
            .map(|t| t.trim().to_ascii_lowercase())
            .collect();
    }
    let malicious: Vec<&str> = types
        .iter()
        .map(String::as_str)
        .filter(|t| STIX_MALICIOUS.contains(t))
        .collect();
    let benign = types.iter().any(|t| t == "benign");
    if let Some(opinion) = disagreement {
        return Polarity::NotIndicator(format!(
            "a STIX opinion in the bundle disagrees with the indicator ({opinion})"
        ));
    }
    if benign && !malicious.is_empty() {
        return Polarity::NotIndicator(format!(
            "STIX indicator_types say both benign and {}",
            malicious.join(", ")
        ));
    }
    if benign {
        return Polarity::Benign(
            "STIX indicator_types benign: the producer says it is not malicious".to_string(),
        );
    }
    if malicious.is_empty()
        && let Some(t) = types.iter().find(|t| STIX_CONTEXT.contains(&t.as_str()))
    {
        return Polarity::Context(format!(
            "STIX indicator_types {t}: not necessarily malicious"
        ));
    }
    Polarity::Malicious
}

/// The `opinion` of a STIX opinion object when it disagrees (`disagree`, `strongly-disagree`).
pub(crate) fn stix_disagreement(opinion: &Node) -> Option<&str> {
    opinion
        .str_of("opinion")
        .filter(|o| matches!(*o, "disagree" | "strongly-disagree"))
}

// --- MISP --------------------------------------------------------------------------------------

/// A MISP attribute, by `to_ids`, its `false-positive` taxonomy tags and its sightings. A missing
/// `to_ids` is MISP's default for indicator types: meant for detection.
pub(crate) fn misp(attribute: &Node) -> Polarity {
    let tags: Vec<&str> = attribute
        .items_of("Tag")
        .iter()
        .filter_map(|t| t.str_of("name"))
        .collect();
    if let Some(t) = tags.iter().find(|t| {
        t.strip_prefix("false-positive:confirmed")
            .is_some_and(|v| !v.contains("false"))
    }) {
        return Polarity::NotIndicator(format!("MISP tag {t}: a confirmed false positive"));
    }
    if attribute
        .items_of("Sighting")
        .iter()
        .any(|s| s.get("type").and_then(Node::as_u64) == Some(1))
    {
        return Polarity::NotIndicator(
            "a MISP sighting reports it as a false positive".to_string(),
        );
    }
    if let Some(t) = tags
        .iter()
        .find(|t| t.starts_with("false-positive:risk=\"high\""))
    {
        return Polarity::Context(format!("MISP tag {t}"));
    }
    if attribute.get("to_ids").and_then(Node::as_bool) == Some(false) {
        return Polarity::Context("MISP to_ids is false: not meant for detection".to_string());
    }
    Polarity::Malicious
}

// --- CWE (CSAF, OSV) ---------------------------------------------------------------------------

/// Malicious-code weaknesses: CWE-912 Hidden Functionality and its CWE-506 Embedded Malicious
/// Code family (507 Trojan Horse … 512 Spyware).
const MALICIOUS_CODE: [u32; 8] = [506, 507, 508, 509, 510, 511, 512, 912];

/// A record that names its weaknesses: malicious when one of them is malicious code, else a
/// vulnerability (kept out: a vulnerable image or action is not a compromised one). Records
/// that name none are read as the compromise reports tagwarden imports them as.
pub(crate) fn weaknesses<'a>(record: &str, cwes: impl IntoIterator<Item = &'a str>) -> Polarity {
    let named: Vec<&str> = cwes
        .into_iter()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .take(20)
        .collect();
    let malicious = |c: &&str| {
        let digits = c
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("CWE-"))
            .and_then(|_| c.get(4..));
        digits
            .and_then(|d| d.parse::<u32>().ok())
            .is_some_and(|n| MALICIOUS_CODE.contains(&n))
    };
    if named.is_empty() || named.iter().any(malicious) {
        return Polarity::Malicious;
    }
    Polarity::NotIndicator(format!(
        "{record} is about {}, a weakness rather than malicious code (CWE-506): a vulnerability, not a compromise",
        named.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::json::parse;

    fn stix_of(types: &str) -> Polarity {
        stix(
            &parse(&format!("{{\"indicator_types\": {types}}}")).unwrap(),
            None,
        )
    }

    #[test]
    fn stix_types() {
        assert_eq!(stix_of("[\"malicious-activity\"]"), Polarity::Malicious);
        assert_eq!(stix_of("[]"), Polarity::Malicious);
        assert_eq!(stix_of("[\"unknown\"]"), Polarity::Malicious);
        assert!(matches!(stix_of("[\"Benign\"]"), Polarity::Benign(_)));
        assert!(matches!(
            stix_of("[\"benign\", \"compromised\"]"),
            Polarity::NotIndicator(r) if r.contains("both benign and compromised")
        ));
        assert!(matches!(
            stix_of("[\"anomalous-activity\"]"),
            Polarity::Context(_)
        ));
        assert_eq!(
            stix_of("[\"anomalous-activity\", \"malicious-activity\"]"),
            Polarity::Malicious
        );
        // STIX 2.0 kept the types in labels.
        let v20 = parse("{\"labels\": [\"benign\"]}").unwrap();
        assert!(matches!(stix(&v20, None), Polarity::Benign(_)));
        let bad = parse("{\"indicator_types\": [\"malicious-activity\"]}").unwrap();
        assert!(matches!(
            stix(&bad, Some("strongly-disagree")),
            Polarity::NotIndicator(_)
        ));
        let o = parse("{\"opinion\": \"agree\"}").unwrap();
        assert_eq!(stix_disagreement(&o), None);
    }

    #[test]
    fn misp_attributes() {
        let of = |a: &str| misp(&parse(a).unwrap());
        assert_eq!(of("{\"to_ids\": true}"), Polarity::Malicious);
        assert_eq!(of("{}"), Polarity::Malicious);
        assert!(matches!(of("{\"to_ids\": \"0\"}"), Polarity::Context(_)));
        assert!(matches!(
            of("{\"to_ids\": true, \"Tag\": [{\"name\": \"false-positive:risk=\\\"high\\\"\"}]}"),
            Polarity::Context(_)
        ));
        assert_eq!(
            of("{\"to_ids\": true, \"Tag\": [{\"name\": \"false-positive:risk=\\\"low\\\"\"}]}"),
            Polarity::Malicious
        );
        assert!(matches!(
            of(
                "{\"to_ids\": true, \"Tag\": [{\"name\": \"false-positive:confirmed=\\\"true\\\"\"}]}"
            ),
            Polarity::NotIndicator(_)
        ));
        assert!(matches!(
            of("{\"to_ids\": true, \"Sighting\": [{\"type\": \"1\"}]}"),
            Polarity::NotIndicator(_)
        ));
        assert_eq!(
            of("{\"to_ids\": true, \"Sighting\": [{\"type\": \"0\"}]}"),
            Polarity::Malicious
        );
    }

    #[test]
    fn cwes() {
        assert_eq!(weaknesses("X", []), Polarity::Malicious);
        assert_eq!(weaknesses("X", ["CWE-506"]), Polarity::Malicious);
        assert_eq!(weaknesses("X", ["CWE-79", "cwe-912"]), Polarity::Malicious);
        assert!(matches!(
            weaknesses("GHSA-x", ["CWE-79", "CWE-20"]),
            Polarity::NotIndicator(r) if r.contains("GHSA-x is about CWE-79, CWE-20")
        ));
        assert!(matches!(
            weaknesses("X", ["CWE-5060"]),
            Polarity::NotIndicator(_)
        ));
    }
}
