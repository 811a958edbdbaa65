//! Writing advisories in shared formats. Output is deterministic: ids and timestamps derive from
//! the advisory, so exporting twice gives the same bytes.
//!
//! # Ids and times
//!
//! Every id (STIX objects, the MISP event and its attributes, Sigma rules) is a UUID made from
//! SHA-256 of a name such as `stix/<advisory id>/digest/<digest>`: its first 16 bytes with the
//! RFC 4122 version-4 and variant bits set (validators expect v4 for these objects; the bits are
//! a hash, not random). Re-exporting an updated advisory keeps the ids and moves `modified`.
//! STIX `created`/`modified`, the Sigma `date`: the advisory's `updated` date (00:00:00Z).
//!
//! # Confidence
//!
//! STIX `confidence` from the value's provenance: `P` 90, `P2` 85, `S` 60, `C` 30, `I` 15; a
//! disputed value is capped at 30; a weak network indicator gets half (and `indicator_types`
//! `anomalous-activity` instead of `malicious-activity`).
//!
//! # STIX 2.1 bundle ([`stix_bundle`])
//!
//! One `identity` (tagwarden, `identity_class: system`, the `created_by_ref` of everything), one
//! `extension-definition` (a `toplevel-property-extension` declaring the `x_tagwarden*`
//! properties; every object carrying them lists it under `extensions`), then per advisory its
//! indicators and a `report` whose `object_refs` lists them. The report carries the summary, the
//! `published` date, `external_references` (`tagwarden` + advisory id, CVE/GHSA/GO aliases,
//! every source) and `x_tagwarden_other_indicators` (`[{kind, value, description, confidence,
//! sources, disputed, note?}]`: indicators tagwarden does not match on).
//!
//! Indicators (`pattern_type: stix`), by `x_tagwarden_kind`:
//!
//! | `x_tagwarden_kind` | pattern | `valid_from` / `valid_until` |
//! |---|---|---|
//! | `malicious_digest` | `[file:hashes.'SHA-256' = '<hex>']` (`SHA-512` for sha512) | first window of an exposure sharing a repository and tag, else the incident start / none (a digest is a hit at any time) |
//! | `image_exposure` | `[x-oci-image:repository IN (…) AND x-oci-image:tag IN (…)]` | window start / window end |
//! | `action_tags` | `[x-github-action:repository = '…' AND (x-github-action:ref IN (…) OR x-github-action:ref MATCHES '^v[0-9]+(\.[0-9]+){0,2}$')]`; `MATCHES` over-approximates a tag rule, `x_tagwarden.tag_rules` is exact | window start / window end |
//! | `action_commits` | `[x-github-action:repository = '…' AND x-github-action:commit IN (…)]` | window start / none |
//! | `network_indicator` | `domain-name:value`, `ipv4-addr:value` / `ipv6-addr:value`, `url:value`, `network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'` (and `.'<Name>'` for an `http_header`) | incident start (earliest window start, else `published`) / none |
//! | `file_hash` | `[file:hashes.'SHA-256' = … OR file:hashes.'SHA-1' = … OR file:hashes.MD5 = …]` | incident start / none |
//! | `host_artifact` | `[file:name = … AND file:parent_directory_ref.path = …]` (`directory:path` for a path ending in `/`) | incident start / none |
//!
//! `x-oci-image` (properties `repository`, normalised as `docker.io/checkmarx/kics`, and `tag`)
//! and `x-github-action` (`repository` as `owner/repo`, matched case-insensitively by tagwarden;
//! `ref`; `commit`, 40 lower-case hex) are custom observable types: STIX has none for images or
//! actions, and stix2-validator accepts custom types in patterns.
//!
//! Custom properties on indicators (stable: the STIX importer reads them back):
//!
//! - `x_tagwarden_advisory_id`: the advisory id (also on the report).
//! - `x_tagwarden_kind`: the table above.
//! - `x_tagwarden_confidence` (`P`/`P2`/`S`/`C`/`I`), `x_tagwarden_sources` (source ids, each an
//!   `external_references[].source_name` of the report), `x_tagwarden_disputed` (bool),
//!   `x_tagwarden_note` (when the value has one): the value's provenance, verbatim.
//! - `x_tagwarden_weak: true`: on weak network indicators only (absent means false).
//! - `x_tagwarden_network_kind`: `domain`, `ip`, `url`, `user_agent`, `http_header`.
//! - `x_tagwarden_digest` (`sha256:<hex>`), `x_tagwarden_digest_kind` (`index`, `manifest`,
//!   `signature`), `x_tagwarden_platform` (`os/arch[/variant]`, manifests only).
//! - `x_tagwarden`: an object with `repositories` and `tags` (digests, exposures, actions: the
//!   action's `owner/repo` is the one repository), plus per kind `window` and `disputed_window`
//!   (`{start, end, confidence, sources, disputed, note?}` with RFC 3339 times, or `null`),
//!   `tag_rules` (`[{prefix, below | up_to: "X.Y.Z"}]`), `commits` (SHAs); for host artifacts
//!   `{path}`.
//!
//! Not exported to STIX: known-good digests and commits, and `not_indicators` (a consumer would
//! treat any indicator as malicious).
//!
//! # MISP event ([`misp_event`])
//!
//! `{"Event": {uuid, info, date (incident start), threat_level_id 1, analysis 2, distribution 3,
//! Tag [tlp:clear, tagwarden:advisory="<id>"], Attribute, Object}}`. Attributes: the summary
//! (`comment`), each source URL (`link`), aliases (`vulnerability` for CVEs, else `text`), network
//! indicators (`domain`, `ip-dst`, `url`, `user-agent`, `pattern-in-traffic` for a header),
//! host artifacts (`filename`), other indicators (`text`), affected action tags
//! (`github-repository`, the window as its `first_seen`/`last_seen`) and malicious commits
//! (`git-commit-id`). `to_ids` is false for weak indicators and for context. Every comment names
//! the value's confidence and sources.
//! Objects: a `file` (sha256, sha1, md5, text = description) per file hash; a `container-image`
//! (registry, image-name, first tag, digest, os, architecture) per malicious digest and
//! repository (one without registry and image-name when the advisory names no repository, as
//! STIX imports do), and one (registry, image-name, tag; the window as the object's
//! `first_seen`/`last_seen`) per exposed tag.
//!
//! Machine tags (`Tag` of an attribute; on objects, of the `digest`, `tag` or `sha256` attribute)
//! carry what MISP has no field for; the MISP importer reads them back:
//! `tagwarden:kind="<x_tagwarden_kind>"` (plus `summary`, `alias`, `other_indicator`),
//! `tagwarden:confidence="P2"`, `tagwarden:disputed="true"`, `tagwarden:source="<source id>"`
//! (also on each `link`), `tagwarden:digest-kind`, `tagwarden:disputed-window="<start>/<end>"`
//! (ISO 8601 interval), `tagwarden:action-tag="<tag>"`,
//! `tagwarden:action-tag-rule="prefix=<p>;below=X.Y.Z"` (or `up_to=`),
//! `tagwarden:action="<owner/repo>"` (on commits) and `tagwarden:other-kind`.
//! Not exported to MISP: known-good digests and commits, and `not_indicators`; window provenance
//! (the record's is implied).
//!
//! # Sigma ([`sigma_rules`])
//!
//! Up to three rules per advisory, from its non-weak network indicators (weak ones are named in
//! the description): `dns` (`query` equal to each domain or URL host, or ending with `.` + it),
//! `proxy` (`cs-host` likewise, `c-uri|contains` host + path of each URL, `c-useragent`) and
//! `firewall` (`dst_ip`). `http_header` indicators have no standard proxy field and are left out.
//! Level `high`, `medium` when every value is disputed.
//!
//! # Hunt results ([`stix_hunt`], [`misp_hunt`])
//!
//! A hunt's [`Outcome`](tagwarden_hunt::Outcome): its hits and weak matches (`weak: true`). Ids derive from the hit and the
//! hunt time is passed in, so the same hunt exports to the same bytes.
//!
//! STIX: the tagwarden identity, both extension definitions (the advisory one and a
//! `tagwarden hunt properties` one for the sightings), the indicators that were hit, exactly as
//! [`stix_bundle`] exports them (same ids and content, so a TIP that imported the advisory links
//! the sightings to it; a feed indicator gets an indicator of its own, `x_tagwarden_advisory_id`
//! `feed:<file>`), one `identity` (`identity_class: system`) per host, and one `sighting` per
//! advisory, indicator, verdict, weakness, source, location and host: `count`, `first_seen` /
//! `last_seen` from the known times (none when no time is known, which the `description` says),
//! `where_sighted_refs` the host, TLP:AMBER (hosts and paths are internal), `created` /
//! `modified` the hunt time (the id stays, so a re-run updates the sighting). An affected tag
//! listed by several exposures is a sighting of the exposure whose window holds the hit. Custom
//! properties: `x_tagwarden_advisory_id`, `x_tagwarden_verdict` (`compromised`, `exposed`,
//! `disputed`, `contacted`), `x_tagwarden_weak: true` (a weak match: a sighting of an
//! `anomalous-activity` indicator, not a hit), `x_tagwarden_source`, `x_tagwarden_location` (file,
//! socket or registry), `x_tagwarden_locations` (`location:line`), `x_tagwarden_jobs`,
//! `x_tagwarden_matched` (the indicator as the hunt names it), `x_tagwarden_time_unknown` (how
//! many hits had no time). Lists stop at 20 entries.
//!
//! MISP: `{"Event": {uuid, info "tagwarden hunt <YYYY-MM-DD>", date, threat_level_id (1 when
//! something was compromised, else 2), analysis 1, distribution 0, Tag [tlp:amber,
//! tagwarden:hunt, tagwarden:advisory="<id>"…], Attribute, Object []}}`. One attribute per
//! advisory, matched indicator and weakness: `sha256`/`sha512` (digest), `git-commit-id`,
//! `text` (`repository:tag`, `owner/repo@ref`), `domain`, `ip-dst`, `url`, `user-agent`,
//! `pattern-in-traffic`; the comment gives the verdicts, the advisory (and the uuid of its MISP
//! event) and where and when (20 entries at most); `first_seen` / `last_seen` from the known
//! times; `to_ids` false for weak matches and text. Each non-weak attribute carries a
//! `Sighting` per hit (at most 1000): `{uuid, attribute_uuid, type "0", date_sighting (Unix
//! seconds; the hunt time when the hit has none, which `source` says), source "tagwarden <source>
//! <location:line> at <time>, host, job"}`. Weak matches are listed, not sighted.

mod common;
mod hunt;
mod hunt_misp;
mod hunt_stix;
mod misp;
mod sigma;
mod stix;

use jiff::Timestamp;
use tagwarden_advisory::Advisory;
use tagwarden_hunt::Outcome;

/// A STIX 2.1 bundle (JSON text) holding the advisories' indicators. An advisory whose id
/// appears earlier in the slice is left out (its object ids would repeat).
pub fn stix_bundle(advisories: &[&Advisory]) -> String {
    stix::bundle(advisories)
}

/// A MISP event (JSON text, `{"Event": …}`) for one advisory.
pub fn misp_event(advisory: &Advisory) -> String {
    misp::event(advisory)
}

/// A hunt's hits (weak matches included, marked) as a STIX 2.1 bundle of sightings of the
/// advisories' indicators, with the ids [`stix_bundle`] gives them. `generated` is when the hunt
/// ran: the sightings' `created`/`modified`.
pub fn stix_hunt(advisories: &[&Advisory], outcome: &Outcome, generated: Timestamp) -> String {
    hunt_stix::bundle(advisories, outcome, generated)
}

/// A hunt's hits as a MISP event `tagwarden hunt <date>`: one attribute per matched indicator,
/// each with its MISP sightings. `generated` is when the hunt ran.
pub fn misp_hunt(advisories: &[&Advisory], outcome: &Outcome, generated: Timestamp) -> String {
    hunt_misp::event(advisories, outcome, generated)
}

/// One Sigma rule, as a YAML document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigmaRule {
    /// A file name for the rule, e.g. `kics-2026-04-22-dns.yml`.
    pub file_name: String,
    /// The rule, a complete YAML document.
    pub yaml: String,
}

/// Sigma rules for the advisory's network indicators: DNS queries for its domains, proxy
/// requests to its domains, URLs and user agents, and connections to its (non-weak) addresses.
pub fn sigma_rules(advisory: &Advisory) -> Vec<SigmaRule> {
    sigma::rules(advisory)
}
