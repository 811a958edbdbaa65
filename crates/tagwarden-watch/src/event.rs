//! What a change means: the judge compares a tag's previous observation with the new one and
//! names the events, each with its severity and a key that is the same on every replica, so that
//! the store can refuse to record (and alert) the same event twice. No I/O.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use tagwarden_findings::Severity;

use crate::target::TagKind;

/// The kinds of event, as they appear in JSON, on the page and in metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The tag points at another digest.
    TagMoved,
    /// The tag's index changed only in some platforms' images (the others are the same).
    PlatformChanged,
    /// The tag points again at a digest it served before.
    TagRestored,
    /// A tag appeared in a watched repository.
    TagCreated,
    /// The tag is gone.
    TagDeleted,
    /// The tag serves a digest (index or platform image) that an advisory lists as malicious.
    MaliciousDigest,
    /// A file pins the tag to a digest it no longer points at (what `verify` reports).
    PinMoved,
    /// A registry failed or refused the last polls in a row.
    RegistryUnhealthy,
    /// A registry answers again.
    RegistryRecovered,
    /// A new digest has no signature, though the `[signatures]` policy requires one.
    SignatureMissing,
    /// A new digest is signed, but by no signer the policy accepts (or no signature verifies).
    SignatureInvalid,
    /// A push in a tailed registry audit log strays from its repository's history.
    AuditFinding,
}

impl EventKind {
    pub const ALL: [EventKind; 12] = [
        EventKind::TagMoved,
        EventKind::PlatformChanged,
        EventKind::TagRestored,
        EventKind::TagCreated,
        EventKind::TagDeleted,
        EventKind::MaliciousDigest,
        EventKind::PinMoved,
        EventKind::RegistryUnhealthy,
        EventKind::RegistryRecovered,
        EventKind::SignatureMissing,
        EventKind::SignatureInvalid,
        EventKind::AuditFinding,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::TagMoved => "tag-moved",
            EventKind::PlatformChanged => "platform-changed",
            EventKind::TagRestored => "tag-restored",
            EventKind::TagCreated => "tag-created",
            EventKind::TagDeleted => "tag-deleted",
            EventKind::MaliciousDigest => "malicious-digest",
            EventKind::PinMoved => "pin-moved",
            EventKind::RegistryUnhealthy => "registry-unhealthy",
            EventKind::RegistryRecovered => "registry-recovered",
            EventKind::SignatureMissing => "signature-missing",
            EventKind::SignatureInvalid => "signature-invalid",
            EventKind::AuditFinding => "audit-finding",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How bad it is for a tag of this kind: a release tag should never move, a floating tag
    /// moves by design (recorded, not alarming).
    pub fn severity(self, tag: TagKind) -> Severity {
        let release = tag == TagKind::Release;
        match self {
            EventKind::MaliciousDigest => Severity::Critical,
            EventKind::PinMoved => Severity::High,
            EventKind::TagMoved | EventKind::PlatformChanged if release => Severity::High,
            EventKind::TagMoved | EventKind::PlatformChanged => Severity::Info,
            EventKind::TagRestored | EventKind::TagDeleted if release => Severity::Medium,
            EventKind::TagDeleted => Severity::Low,
            EventKind::TagRestored | EventKind::TagCreated => Severity::Info,
            EventKind::RegistryUnhealthy => Severity::Medium,
            EventKind::RegistryRecovered => Severity::Info,
            // As `verify --signatures`: high, medium when the policy only warns (see `judge`).
            EventKind::SignatureMissing | EventKind::SignatureInvalid => Severity::High,
            // Each finding carries its rule's severity; this is only the default.
            EventKind::AuditFinding => Severity::Medium,
        }
    }
}

/// A manifest an index lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Child {
    pub platform: Option<String>,
    pub digest: String,
}

/// What one poll saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    Present {
        digest: String,
        media_type: String,
        children: Vec<Child>,
    },
    Absent,
}

impl Observed {
    pub fn digest(&self) -> Option<&str> {
        match self {
            Observed::Present { digest, .. } => Some(digest),
            Observed::Absent => None,
        }
    }
}

/// A digest of the new observation that an advisory lists as malicious.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaliciousHit {
    pub digest: String,
    pub platform: Option<String>,
    pub advisory: String,
    pub title: String,
}

/// A new digest the `[signatures]` policy does not accept, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureIssue {
    /// True: no signature at all; false: signatures, none acceptable.
    pub missing: bool,
    /// `enforce`: the digest is not accepted; `warn`: it is, with this alert.
    pub enforced: bool,
    /// The checker's sentence (which check failed, per signature).
    pub reason: String,
}

/// An event the judge found, before the store gives it an id.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub severity: Severity,
    /// Unique across replicas and restarts: the same transition always gets the same key.
    pub key: String,
    pub message: String,
    pub digest_before: Option<String>,
    pub digest_after: Option<String>,
    pub detail: serde_json::Value,
}

/// Everything the judge needs about one tag.
pub struct Judged<'a> {
    /// The tag's id in the store (part of every key).
    pub tag_id: i64,
    /// `registry/repository:tag`, for messages.
    pub reference: &'a str,
    pub kind: TagKind,
    pub pins: &'a [String],
    /// The latest observation before this one, with its id; `None` the first time.
    pub previous: Option<(i64, &'a Observed)>,
    /// Digests the tag served at any time before (restorations are told apart by it).
    pub served_before: &'a HashSet<String>,
    /// True when the tag appeared in a repository listed before (its first sighting is news).
    pub announce: bool,
    pub malicious: &'a [MaliciousHit],
    /// The signature policy's refusal of a new digest.
    pub signature: Option<&'a SignatureIssue>,
}

/// The events between the previous observation and `new`. The first observation of a tag is a
/// baseline: only a malicious digest or a broken pin is news then (and a creation, when the tag
/// appeared in a repository watched before). Pins and advisories are judged on every poll, since
/// either may change while the tag does not; their keys name the digest, so each is news once.
pub fn judge(j: &Judged<'_>, new: &Observed) -> Vec<NewEvent> {
    let mut events = Vec::new();
    let since = j.previous.map_or(0, |(id, _)| id);
    let before = j.previous.and_then(|(_, o)| o.digest().map(str::to_string));
    let after = new.digest().map(str::to_string);
    let changed = j.previous.is_none() || before != after;
    let reference = j.reference;
    let mut event = |kind: EventKind, key: String, message: String, detail: serde_json::Value| {
        events.push(NewEvent {
            kind,
            severity: kind.severity(j.kind),
            key: format!("{}:{}:{key}", j.tag_id, kind.as_str()),
            message,
            digest_before: before.clone(),
            digest_after: after.clone(),
            detail,
        });
    };
    let Observed::Present {
        digest, children, ..
    } = new
    else {
        if let Some(old) = before.as_ref().filter(|_| changed) {
            event(
                EventKind::TagDeleted,
                format!("{since}"),
                format!("{reference} was deleted (it pointed at {})", short(old)),
                serde_json::json!({}),
            );
        }
        return events;
    };
    let broken_pins: Vec<&String> = j
        .pins
        .iter()
        .filter(|pin| *pin != digest && !children.iter().any(|c| &c.digest == *pin))
        .collect();
    match (&before, j.previous) {
        _ if !broken_pins.is_empty() => event(
            EventKind::PinMoved,
            format!(
                "{}:{digest}",
                broken_pins
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            format!(
                "{reference} is pinned to {} but now points at {}",
                broken_pins
                    .iter()
                    .map(|p| short(p))
                    .collect::<Vec<_>>()
                    .join(", "),
                short(digest)
            ),
            serde_json::json!({ "pins": broken_pins }),
        ),
        _ if !changed => {}
        (None, None) if j.announce => event(
            EventKind::TagCreated,
            format!("{since}:{digest}"),
            format!("{reference} was created at {}", short(digest)),
            serde_json::json!({}),
        ),
        (None, None) => {}
        (None, Some(_)) => event(
            EventKind::TagCreated,
            format!("{since}:{digest}"),
            format!("{reference} was created again at {}", short(digest)),
            serde_json::json!({}),
        ),
        (Some(old), Some((_, previous))) => {
            if j.served_before.contains(digest) {
                event(
                    EventKind::TagRestored,
                    format!("{since}:{digest}"),
                    format!(
                        "{reference} is back at {}, a digest it served before (it was {})",
                        short(digest),
                        short(old)
                    ),
                    serde_json::json!({}),
                );
            } else {
                let changed = changed_platforms(previous, new);
                match changed {
                    Some(platforms) => event(
                        EventKind::PlatformChanged,
                        format!("{since}:{digest}"),
                        format!(
                            "{reference}: the image for {} changed inside the index (now {})",
                            platforms.join(", "),
                            short(digest)
                        ),
                        serde_json::json!({ "platforms": platforms }),
                    ),
                    None => event(
                        EventKind::TagMoved,
                        format!("{since}:{digest}"),
                        format!(
                            "{} tag {reference} moved from {} to {}",
                            j.kind.as_str(),
                            short(old),
                            short(digest)
                        ),
                        serde_json::json!({}),
                    ),
                }
            }
        }
        (Some(_), None) => {}
    }
    for hit in j.malicious {
        let what = match &hit.platform {
            Some(p) => format!("its {p} image {}", short(&hit.digest)),
            None => short(&hit.digest).to_string(),
        };
        event(
            EventKind::MaliciousDigest,
            format!("{digest}:{}:{}", hit.advisory, hit.digest),
            format!(
                "{reference} serves {what}, listed as malicious by {} ({})",
                hit.advisory, hit.title
            ),
            serde_json::json!({ "advisory": hit.advisory, "malicious": hit.digest, "platform": hit.platform }),
        );
    }
    if let Some(issue) = j.signature {
        let kind = if issue.missing {
            EventKind::SignatureMissing
        } else {
            EventKind::SignatureInvalid
        };
        let verdict = if issue.enforced {
            "not accepted"
        } else {
            "accepted (the policy only warns)"
        };
        events.push(NewEvent {
            kind,
            severity: if issue.enforced {
                Severity::High
            } else {
                Severity::Medium
            },
            key: format!("{}:{}:{since}:{digest}", j.tag_id, kind.as_str()),
            message: format!(
                "{reference} now serves {}, {verdict}: {}",
                short(digest),
                issue.reason
            ),
            digest_before: before.clone(),
            digest_after: after.clone(),
            detail: serde_json::json!({
                "accepted": !issue.enforced,
                "mode": if issue.enforced { "enforce" } else { "warn" },
                "reason": issue.reason,
            }),
        });
    }
    events
}

/// The platforms whose image changed when two indexes list the same platforms; `None` when the
/// change is not confined to some platforms (another kind of manifest, platforms added or gone).
fn changed_platforms(old: &Observed, new: &Observed) -> Option<Vec<String>> {
    let (
        Observed::Present {
            children: old_children,
            ..
        },
        Observed::Present {
            children: new_children,
            ..
        },
    ) = (old, new)
    else {
        return None;
    };
    if old_children.is_empty() || old_children.len() != new_children.len() {
        return None;
    }
    let mut changed = Vec::new();
    for (o, n) in old_children.iter().zip(new_children) {
        if o.platform != n.platform {
            return None;
        }
        if o.digest != n.digest {
            changed.push(o.platform.clone().unwrap_or_else(|| "(no platform)".into()));
        }
    }
    (!changed.is_empty() && changed.len() < old_children.len()).then_some(changed)
}

/// `sha256:` and the first 12 hex digits, as people read digests.
pub fn short(digest: &str) -> &str {
    let end = digest.find(':').map_or(0, |i| i + 1) + 12;
    digest.get(..end).unwrap_or(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn image(c: char) -> Observed {
        Observed::Present {
            digest: d(c),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            children: vec![],
        }
    }

    fn index(c: char, amd: char, arm: char) -> Observed {
        Observed::Present {
            digest: d(c),
            media_type: "application/vnd.oci.image.index.v1+json".into(),
            children: vec![
                Child {
                    platform: Some("linux/amd64".into()),
                    digest: d(amd),
                },
                Child {
                    platform: Some("linux/arm64".into()),
                    digest: d(arm),
                },
            ],
        }
    }

    fn run(
        kind: TagKind,
        previous: Option<&Observed>,
        new: &Observed,
    ) -> Vec<(EventKind, Severity)> {
        let served: HashSet<String> = [d('0')].into();
        let j = Judged {
            tag_id: 7,
            reference: "r/app:v1.2.3",
            kind,
            pins: &[],
            previous: previous.map(|p| (41, p)),
            served_before: &served,
            announce: false,
            malicious: &[],
            signature: None,
        };
        judge(&j, new)
            .into_iter()
            .map(|e| (e.kind, e.severity))
            .collect()
    }

    #[test]
    fn a_release_tag_that_moves_is_high_a_floating_one_info() {
        let old = image('1');
        assert_eq!(
            run(TagKind::Release, Some(&old), &image('2')),
            [(EventKind::TagMoved, Severity::High)]
        );
        assert_eq!(
            run(TagKind::Floating, Some(&old), &image('2')),
            [(EventKind::TagMoved, Severity::Info)]
        );
        assert!(run(TagKind::Release, Some(&old), &image('1')).is_empty());
    }

    #[test]
    fn the_first_sighting_is_a_baseline() {
        assert!(run(TagKind::Release, None, &image('1')).is_empty());
        assert!(run(TagKind::Release, None, &Observed::Absent).is_empty());
    }

    #[test]
    fn restored_deleted_created() {
        assert_eq!(
            run(TagKind::Release, Some(&image('1')), &image('0')),
            [(EventKind::TagRestored, Severity::Medium)]
        );
        assert_eq!(
            run(TagKind::Release, Some(&image('1')), &Observed::Absent),
            [(EventKind::TagDeleted, Severity::Medium)]
        );
        assert_eq!(
            run(TagKind::Floating, Some(&Observed::Absent), &image('2')),
            [(EventKind::TagCreated, Severity::Info)]
        );
    }

    #[test]
    fn one_platform_swapped_inside_an_index() {
        let events = run(
            TagKind::Release,
            Some(&index('1', 'a', 'b')),
            &index('2', 'a', 'c'),
        );
        assert_eq!(events, [(EventKind::PlatformChanged, Severity::High)]);
        let all = run(
            TagKind::Release,
            Some(&index('1', 'a', 'b')),
            &index('2', 'c', 'e'),
        );
        assert_eq!(all, [(EventKind::TagMoved, Severity::High)]);
    }

    #[test]
    fn pins_and_malicious_digests() {
        let served = HashSet::new();
        let pins = [d('1')];
        let hits = [MaliciousHit {
            digest: d('b'),
            platform: Some("linux/arm64".into()),
            advisory: "kics-2026-04-22".into(),
            title: "t".into(),
        }];
        let new = index('2', 'a', 'b');
        let mut j = Judged {
            tag_id: 3,
            reference: "r/kics:v2.1.20",
            kind: TagKind::Release,
            pins: &pins,
            previous: None,
            served_before: &served,
            announce: false,
            malicious: &hits,
            signature: None,
        };
        let events = judge(&j, &new);
        let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::PinMoved, EventKind::MaliciousDigest]);
        assert_eq!(events[1].severity, Severity::Critical);
        assert!(events[1].message.contains("linux/arm64"));
        // A pin to one of the index's platform images has not moved.
        let child_pin = [d('a')];
        j.pins = &child_pin;
        j.malicious = &[];
        assert!(judge(&j, &new).is_empty());
    }

    #[test]
    fn keys_name_the_transition() {
        let served = HashSet::new();
        let old = image('1');
        let j = Judged {
            tag_id: 9,
            reference: "x",
            kind: TagKind::Release,
            pins: &[],
            previous: Some((5, &old)),
            served_before: &served,
            announce: false,
            malicious: &[],
            signature: None,
        };
        let events = judge(&j, &image('2'));
        assert_eq!(events[0].key, format!("9:tag-moved:5:{}", d('2')));
        assert_eq!(short(&d('2')), "sha256:222222222222");
        assert_eq!(short("odd"), "odd");
    }
}
