//! Evidence against advisories. The rules follow from the incidents:
//! 1. a malicious digest (index or platform manifest) seen anywhere is a hit whatever the time:
//!    caches, mirrors and pins outlive the registry's fix;
//! 2. a tag seen without a digest is a hit only inside the exposure window (or the disputed
//!    window, reported as such); with no time at all it is reported, since nobody can rule it out;
//! 3. traffic to an indicator is a hit unless the advisory marks the indicator weak.

use jiff::Timestamp;
use tagwarden_advisory::{ActionVerdict, AdvisorySet, ImageVerdict, NetworkKind};
use tagwarden_evidence::{Evidence, ImageAction, Observed, SourceKind};
use tagwarden_hunt::{Hit, Matched, Verdict};
use tagwarden_reference::Reference;

/// What one piece of evidence comes to.
#[derive(Default)]
pub(crate) struct Judged {
    pub(crate) hits: Vec<Hit>,
    /// Matches of weak indicators (reported apart, never as hits).
    pub(crate) weak: Vec<Hit>,
    /// Runs of an affected tag that were not exposed (outside the window, or a clean digest):
    /// `exposure` lists their jobs' credentials apart.
    pub(crate) cleared: Vec<Hit>,
}

pub(crate) fn judge(ev: &Evidence, advisories: &AdvisorySet) -> Judged {
    let mut hits = Vec::new();
    let mut weak = Vec::new();
    let mut cleared = Vec::new();
    // Files are not runs: a reference pinned to a clean digest tells nothing about a job.
    let is_run = ev.source != SourceKind::File;
    let hit = |advisory: &str, verdict, matched: Matched, detail: String| Hit {
        advisory: advisory.to_string(),
        verdict,
        source: ev.source,
        location: ev.location.clone(),
        line: ev.line,
        timestamp: ev.timestamp,
        matched,
        host: ev.host.clone(),
        job: ev.job.clone(),
        detail,
        excerpt: ev.excerpt.clone(),
    };
    match &ev.observed {
        Observed::Image {
            action,
            reference,
            digest,
        } => {
            let what = action_words(*action);
            if let Some(d) = digest {
                for m in advisories.match_digest(d) {
                    if let ImageVerdict::MaliciousDigest { kind, platform, .. } = &m.verdict {
                        hits.push(hit(
                            &m.advisory_id,
                            Verdict::Compromised,
                            Matched::Digest(d.clone()),
                            format!(
                                "{what} {} with the malicious {kind}{} digest {}",
                                reference.as_deref().unwrap_or("an image"),
                                platform
                                    .as_ref()
                                    .map(|p| format!(" ({p})"))
                                    .unwrap_or_default(),
                                d.short()
                            ),
                        ));
                    }
                }
                // A known digest that is not malicious settles it: the tag is not evidence.
                if hits.is_empty()
                    && is_run
                    && let Some(r) = reference.as_deref().and_then(|s| Reference::parse(s).ok())
                {
                    for (advisory, matched) in affected_tags(advisories, &r) {
                        let detail = format!(
                            "{what} {} at {}, a digest no advisory lists as malicious: not exposed",
                            matched.display(),
                            d.short()
                        );
                        cleared.push(hit(&advisory, Verdict::Exposed, matched, detail));
                    }
                }
                return Judged {
                    hits,
                    weak,
                    cleared,
                };
            }
            let Some(r) = reference.as_deref().and_then(|s| Reference::parse(s).ok()) else {
                return Judged::default();
            };
            for m in advisories.match_image(&r) {
                let ImageVerdict::AffectedTag {
                    repository,
                    tag,
                    window,
                    disputed_window,
                } = &m.verdict
                else {
                    continue;
                };
                let matched = Matched::ImageTag {
                    repository: repository.clone(),
                    tag: tag.clone(),
                };
                let indicator = matched.display();
                // The event's time, or the period it happened in (an hourly export).
                let span = ev.timestamp.map(|t| {
                    let end = ev.within.and_then(|w| t.checked_add(w).ok()).unwrap_or(t);
                    (t, end)
                });
                let overlaps = |a: Timestamp, b: Timestamp| match span {
                    Some((s, e)) => s <= b && a <= e,
                    None => false,
                };
                let period = match (span, ev.within) {
                    (Some((s, e)), Some(_)) => format!(" (between {s} and {e})"),
                    _ => String::new(),
                };
                let verdict_detail = if overlaps(window.start, window.end) {
                    Some((
                        Verdict::Exposed,
                        format!(
                            "{what} {indicator} inside the exposure window ({}){period}",
                            window.describe()
                        ),
                    ))
                } else if disputed_window
                    .as_ref()
                    .is_some_and(|d| overlaps(d.start, d.end))
                {
                    Some((
                        Verdict::Disputed,
                        format!("{what} {indicator} inside the disputed window only{period}"),
                    ))
                } else if span.is_some() {
                    if is_run {
                        let detail = format!(
                            "{what} {indicator}{}, outside the exposure window ({}): not exposed",
                            match (span, ev.within) {
                                (Some((s, e)), Some(_)) => format!(" between {s} and {e}"),
                                (Some((s, _)), None) => format!(" at {s}"),
                                _ => String::new(),
                            },
                            window.describe()
                        );
                        cleared.push(hit(
                            &m.advisory_id,
                            Verdict::Exposed,
                            matched.clone(),
                            detail,
                        ));
                    }
                    None
                } else if ev.source == SourceKind::File {
                    Some((
                        Verdict::Exposed,
                        format!(
                            "{what} {indicator}: exposed if it ran {}",
                            window.describe()
                        ),
                    ))
                } else {
                    // An open window (imported, no time given) has nothing to check against.
                    let detail = if window.is_unbounded() {
                        format!(
                            "{what} {indicator} at an unknown time; the advisory gives no window, so any time counts"
                        )
                    } else {
                        format!(
                            "{what} {indicator} at an unknown time: check whether it ran {}",
                            window.describe()
                        )
                    };
                    Some((Verdict::Exposed, detail))
                };
                if let Some((verdict, detail)) = verdict_detail {
                    hits.push(hit(&m.advisory_id, verdict, matched.clone(), detail));
                }
            }
        }
        Observed::Action {
            repository,
            git_ref,
            sha,
        } => {
            let what = if ev.source == SourceKind::File {
                "uses"
            } else {
                "downloaded"
            };
            let shown = format!("{repository}@{git_ref}");
            let mut malicious = false;
            let mut known_good = false;
            for probe in sha.iter().chain(std::iter::once(git_ref)) {
                for m in advisories.match_action(repository, probe) {
                    match &m.verdict {
                        ActionVerdict::MaliciousCommit { sha, .. } => {
                            malicious = true;
                            hits.push(hit(
                                &m.advisory_id,
                                Verdict::Compromised,
                                Matched::ActionCommit {
                                    repository: repository.clone(),
                                    git_ref: git_ref.clone(),
                                    commit: sha.clone(),
                                },
                                format!("{what} {shown} at the malicious commit {sha}"),
                            ));
                        }
                        ActionVerdict::KnownGood { .. } => known_good = true,
                        ActionVerdict::AffectedTag { .. } => {}
                    }
                }
            }
            if malicious || known_good {
                return Judged {
                    hits,
                    weak,
                    cleared,
                };
            }
            for m in advisories.match_action(repository, git_ref) {
                let ActionVerdict::AffectedTag { tag, window } = &m.verdict else {
                    continue;
                };
                let inside = ev
                    .timestamp
                    .is_none_or(|t| window.start <= t && t <= window.end);
                if !inside && is_run {
                    cleared.push(hit(
                        &m.advisory_id,
                        Verdict::Exposed,
                        Matched::ActionTag {
                            repository: repository.clone(),
                            git_ref: git_ref.clone(),
                        },
                        format!(
                            "{what} {shown} outside the time tag {tag} was force-pushed ({}): not exposed",
                            window.describe()
                        ),
                    ));
                }
                if inside {
                    hits.push(hit(
                        &m.advisory_id,
                        Verdict::Exposed,
                        Matched::ActionTag {
                            repository: repository.clone(),
                            git_ref: git_ref.clone(),
                        },
                        match ev.timestamp {
                            Some(_) => format!(
                                "{what} {shown} while tag {tag} was force-pushed ({})",
                                window.describe()
                            ),
                            None => format!(
                                "{what} {shown}: tag {tag} was force-pushed {}",
                                window.describe()
                            ),
                        },
                    ));
                }
            }
        }
        Observed::Network {
            indicator,
            matched,
            remote_ip,
        } => {
            let h = hit(
                &indicator.advisory_id,
                Verdict::Contacted,
                Matched::Network {
                    kind: indicator.kind,
                    value: indicator.value.clone(),
                },
                format!(
                    "traffic to {} {}{}",
                    network_words(indicator.kind),
                    matched,
                    remote_ip
                        .filter(|ip| ip.to_string() != *matched)
                        .map(|ip| format!(" ({ip})"))
                        .unwrap_or_default()
                ),
            );
            if indicator.weak {
                weak.push(h);
            } else {
                hits.push(h);
            }
        }
    }
    Judged {
        hits,
        weak,
        cleared,
    }
}

/// Every affected tag the advisories list for this reference, with the advisory's id.
fn affected_tags(advisories: &AdvisorySet, r: &Reference) -> Vec<(String, Matched)> {
    advisories
        .match_image(r)
        .into_iter()
        .filter_map(|m| match &m.verdict {
            ImageVerdict::AffectedTag {
                repository, tag, ..
            } => Some((
                m.advisory_id.clone(),
                Matched::ImageTag {
                    repository: repository.clone(),
                    tag: tag.clone(),
                },
            )),
            _ => None,
        })
        .collect()
}

/// A network indicator's kind in a sentence.
fn network_words(kind: NetworkKind) -> &'static str {
    match kind {
        NetworkKind::Domain => "domain",
        NetworkKind::Ip => "IP",
        NetworkKind::Url => "URL",
        NetworkKind::UserAgent => "user agent",
        NetworkKind::HttpHeader => "HTTP header",
    }
}

fn action_words(a: ImageAction) -> &'static str {
    match a {
        ImageAction::Pulled => "pulled",
        ImageAction::Present => "has",
        ImageAction::ContainerCreated => "ran a container of",
        ImageAction::Referenced => "references",
        ImageAction::Pushed => "pushed",
        ImageAction::Served => "serves",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagwarden_evidence::Indicator;

    const KICS_LATEST: &str =
        "sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0";

    fn ev(observed: Observed, ts: Option<&str>) -> Evidence {
        Evidence {
            source: SourceKind::GithubActionsLog,
            location: "logs/job.txt".into(),
            line: Some(3),
            timestamp: ts.map(|t| t.parse().unwrap()),
            within: None,
            host: None,
            job: Some("scan".into()),
            observed,
            excerpt: None,
        }
    }

    fn pull(reference: &str, digest: Option<&str>, ts: Option<&str>) -> Evidence {
        ev(
            Observed::Image {
                action: ImageAction::Pulled,
                reference: Some(reference.into()),
                digest: digest.map(|d| d.parse().unwrap()),
            },
            ts,
        )
    }

    fn verdicts(e: &Evidence) -> Vec<Verdict> {
        judge(e, &AdvisorySet::builtin())
            .hits
            .iter()
            .map(|h| h.verdict)
            .collect()
    }

    #[test]
    fn digests_hit_whatever_the_time() {
        let e = pull(
            "checkmarx/kics:latest",
            Some(KICS_LATEST),
            Some("2025-01-01T00:00:00Z"),
        );
        assert_eq!(verdicts(&e), [Verdict::Compromised]);
        // A clean digest settles it, even inside the window.
        let clean = format!("sha256:{}", "1".repeat(64));
        let e = pull(
            "checkmarx/kics:latest",
            Some(&clean),
            Some("2026-04-22T12:40:00Z"),
        );
        assert!(verdicts(&e).is_empty());
        let judged = judge(&e, &AdvisorySet::builtin());
        assert_eq!(judged.cleared.len(), 1, "a clean digest clears the run");
        assert!(
            judged.cleared[0]
                .detail
                .contains("no advisory lists as malicious")
        );
    }

    #[test]
    fn runs_outside_the_window_are_cleared() {
        let after = pull("checkmarx/kics:alpine", None, Some("2026-04-23T09:00:00Z"));
        let judged = judge(&after, &AdvisorySet::builtin());
        assert!(judged.hits.is_empty());
        assert_eq!(judged.cleared.len(), 1);
        assert!(
            judged.cleared[0]
                .detail
                .contains("outside the exposure window")
        );
        let inside = pull("checkmarx/kics:latest", None, Some("2026-04-22T12:40:00Z"));
        assert!(judge(&inside, &AdvisorySet::builtin()).cleared.is_empty());
    }

    #[test]
    fn tags_hit_inside_windows_only() {
        let inside = pull("checkmarx/kics:latest", None, Some("2026-04-22T12:40:00Z"));
        assert_eq!(verdicts(&inside), [Verdict::Exposed]);
        let edge = pull("checkmarx/kics:latest", None, Some("2026-04-22T12:59:59Z"));
        assert_eq!(verdicts(&edge), [Verdict::Exposed]);
        let disputed = pull("checkmarx/kics:latest", None, Some("2026-04-22T14:00:00Z"));
        assert_eq!(verdicts(&disputed), [Verdict::Disputed]);
        let after = pull("checkmarx/kics:latest", None, Some("2026-04-22T15:41:32Z"));
        assert!(verdicts(&after).is_empty());
        let before = pull("checkmarx/kics:latest", None, Some("2026-04-22T12:30:59Z"));
        assert!(verdicts(&before).is_empty());
        let unknown = pull("checkmarx/kics:latest", None, None);
        assert_eq!(verdicts(&unknown), [Verdict::Exposed]);
        // An hourly export: the 12:00 hour overlaps the 12:31 – 12:59:59 window.
        let mut hour = pull("checkmarx/kics:latest", None, Some("2026-04-22T12:00:00Z"));
        hour.within = Some(jiff::SignedDuration::from_hours(1));
        assert_eq!(verdicts(&hour), [Verdict::Exposed]);
        hour.timestamp = Some("2026-04-22T11:00:00Z".parse().unwrap());
        assert!(verdicts(&hour).is_empty());
    }

    #[test]
    fn actions() {
        let a = |git_ref: &str, sha: Option<&str>, ts| {
            ev(
                Observed::Action {
                    repository: "aquasecurity/trivy-action".into(),
                    git_ref: git_ref.into(),
                    sha: sha.map(str::to_string),
                },
                ts,
            )
        };
        let bad = a(
            "0.24.0",
            Some("e0198fd2b6e1679e36d32933941182d9afa82f6f"),
            Some("2026-03-19T18:00:00Z"),
        );
        assert_eq!(verdicts(&bad), [Verdict::Compromised]);
        let tag_in = a("0.24.0", None, Some("2026-03-19T18:00:00Z"));
        assert_eq!(verdicts(&tag_in), [Verdict::Exposed]);
        let tag_out = a("0.24.0", None, Some("2026-03-25T00:00:00Z"));
        assert!(verdicts(&tag_out).is_empty());
        let good = a(
            "0.35.0",
            Some("57a97c7e7821a5776cebc9bb87c984fa69cba8f1"),
            Some("2026-03-19T18:00:00Z"),
        );
        assert!(verdicts(&good).is_empty());
    }

    #[test]
    fn weak_indicators_are_not_hits() {
        let ind = |value: &str, weak| Indicator {
            kind: NetworkKind::Ip,
            value: value.into(),
            advisory_id: "kics-2026-04-22".into(),
            weak,
        };
        let net = |i: Indicator| {
            ev(
                Observed::Network {
                    matched: i.value.clone(),
                    indicator: i,
                    remote_ip: None,
                },
                Some("2026-04-22T12:36:01Z"),
            )
        };
        let Judged { hits, weak, .. } =
            judge(&net(ind("91.195.240.123", true)), &AdvisorySet::builtin());
        assert!(hits.is_empty());
        assert_eq!(weak.len(), 1);
        let hits = judge(&net(ind("94.154.172.43", false)), &AdvisorySet::builtin()).hits;
        assert_eq!(hits[0].verdict, Verdict::Contacted);
    }
}
