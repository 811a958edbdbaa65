//! The rules: every push after the baseline compared with its repository's [`History`]. Each
//! finding carries the sentence saying what it was compared with.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use tagwarden_findings::{Finding, Location, Rule, Severity, rules};
use tagwarden_reference::{Digest, TagKind};

use crate::baseline::{History, Window, hour, network};
use crate::config::Thresholds;
use crate::{AuditAction, AuditRecord};

/// The baseline period: `[from, to)`. Without `to`, it ends `recent` before the newest push;
/// without `from`, it starts with the oldest. Pushes from `to` on are judged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// One push that strays from its repository's history.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditFinding {
    pub rule: &'static Rule,
    pub severity: Severity,
    /// `registry/repository` as the log names it.
    pub repository: String,
    /// The push: `repository:tag` or `repository@digest`.
    pub reference: String,
    pub time: Timestamp,
    /// The log file and the line the record ends on.
    pub location: String,
    pub line: u64,
    pub message: String,
    /// What the push was compared with.
    pub baseline: String,
}

impl AuditFinding {
    /// The same for the same push wherever it is read again (watch alerts once per key).
    pub fn key(&self) -> String {
        format!(
            "{}:{}:{}",
            self.rule.id,
            self.reference,
            self.time.as_millisecond()
        )
    }

    /// As a finding of the shared model, for the human, JSON and SARIF outputs.
    pub fn finding(&self) -> Finding {
        let line = usize::try_from(self.line).unwrap_or(usize::MAX).max(1);
        Finding::new(
            self.rule,
            Location::point(&self.location, line, 1),
            &self.message,
        )
        .with_severity(self.severity)
        .with_image(&self.reference)
        .with_note(format!("baseline: {}", self.baseline))
    }
}

/// Everything the judge found, and what it judged against.
#[derive(Clone, Debug, Default)]
pub struct Judgement {
    pub findings: Vec<AuditFinding>,
    /// The baseline period actually used (the first and last push in it when not given).
    pub baseline_from: Option<Timestamp>,
    pub baseline_to: Option<Timestamp>,
    pub baseline_pushes: usize,
    pub judged_pushes: usize,
    pub repositories: usize,
    pub notes: Vec<String>,
}

/// A minute-precision UTC time, for messages.
pub fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn short(d: &Digest) -> String {
    let s = d.to_string();
    let end = s.find(':').map_or(0, |i| i + 1) + 12;
    s.get(..end).unwrap_or(&s).to_string()
}

/// Pushes of one repository beyond its usual release size, from the first that crossed the
/// limit to the last before the window fell back under it.
struct Burst {
    start: Timestamp,
    /// Every tag pushed in the burst, in push order.
    tags: Vec<String>,
    last: AuditRecord,
    widest: usize,
    baseline: String,
}

impl Burst {
    /// The finding, at the burst's last push.
    fn finding(self, repo: &str, t: &Thresholds) -> AuditFinding {
        let r = &self.last;
        let minutes = r.time.duration_since(self.start).as_secs() / 60;
        AuditFinding {
            rule: &rules::AUDIT_PUSH_BURST,
            severity: rules::AUDIT_PUSH_BURST.default_severity,
            repository: repo.to_string(),
            reference: r.reference(),
            time: r.time,
            location: r.location.clone(),
            line: r.line,
            message: format!(
                "{} tags of {repo} pushed within {minutes} minutes ({} – {}): {}",
                self.tags.len(),
                when(self.start),
                when(r.time),
                self.tags.join(", ")
            ),
            baseline: format!(
                "{}; at most {} tag(s) within {} minutes (threshold {})",
                self.baseline,
                self.widest,
                t.burst_window.as_secs() / 60,
                t.burst_tags
            ),
        }
    }
}

/// Judges every push after the baseline period against its repository's history in it.
pub fn judge(records: &[AuditRecord], period: Period, t: &Thresholds) -> Judgement {
    let mut pushes: Vec<&AuditRecord> = records
        .iter()
        .filter(|r| r.action == AuditAction::Push)
        .collect();
    pushes.sort_by(|a, b| (a.time, &a.location, a.line).cmp(&(b.time, &b.location, b.line)));
    let mut out = Judgement::default();
    let Some(newest) = pushes.last().map(|r| r.time) else {
        out.notes
            .push("no push records were read: nothing to judge".into());
        return out;
    };
    let to = period
        .to
        .unwrap_or_else(|| newest.checked_sub(t.recent).unwrap_or(newest));
    let in_baseline = |r: &AuditRecord| r.time < to && period.from.is_none_or(|f| r.time >= f);

    let mut grouped: BTreeMap<String, Vec<&AuditRecord>> = BTreeMap::new();
    for r in pushes.iter().filter(|r| in_baseline(r)) {
        grouped.entry(r.full_repository()).or_default().push(r);
    }
    let histories: HashMap<String, History> = grouped
        .iter()
        .map(|(repo, p)| (repo.clone(), History::build(p, t)))
        .collect();
    let mut tokens: BTreeSet<String> = histories
        .values()
        .flat_map(|h| h.tokens.iter().cloned())
        .collect();
    // A credential is news only in a log that was read in the baseline too (Docker Hub's names
    // none; CloudTrail's always names one, even when the baseline used only temporary keys).
    let baseline_logs: BTreeSet<&str> =
        grouped.values().flatten().map(|r| r.log.as_str()).collect();
    out.baseline_pushes = grouped.values().map(Vec::len).sum();
    out.baseline_from = period
        .from
        .or_else(|| pushes.iter().find(|r| in_baseline(r)).map(|r| r.time));
    out.baseline_to = Some(to);
    let span = match out.baseline_from {
        Some(f) => format!("{} – {}", when(f), when(to)),
        None => format!("before {}", when(to)),
    };

    let mut tags: HashMap<(String, String), (Option<Digest>, Timestamp)> = HashMap::new();
    let mut windows: HashMap<String, Window> = HashMap::new();
    // Bursts under way: reported when they end, with every tag they touched.
    let mut bursts: BTreeMap<String, Burst> = BTreeMap::new();
    let mut thin: BTreeSet<String> = BTreeSet::new();
    // New pushers and networks are reported at their first push only: one finding per repository
    // and stranger, not one per tag they pushed.
    let mut strangers: BTreeSet<(&'static str, String, String)> = BTreeSet::new();
    let mut judged_repos: BTreeSet<String> = BTreeSet::new();
    let empty = History::default();
    for r in &pushes {
        let repo = r.full_repository();
        let key = r.tag.clone().map(|tag| (repo.clone(), tag));
        if r.time < to {
            if let Some(k) = key {
                tags.insert(k, (r.digest.clone(), r.time));
            }
            continue;
        }
        out.judged_pushes += 1;
        judged_repos.insert(repo.clone());
        let h = histories.get(&repo).unwrap_or(&empty);
        let enough = h.pushes >= t.min_baseline.max(1);
        if !enough {
            thin.insert(repo.clone());
        }
        let reference = r.reference();
        let who = r.actor.as_deref().unwrap_or("an unnamed actor");
        let from_where = r
            .address
            .as_deref()
            .map(|a| format!(" from {a}"))
            .unwrap_or_default();
        let mut add = |rule: &'static Rule, message: String, baseline: String| {
            out.findings.push(AuditFinding {
                rule,
                severity: rule.default_severity,
                repository: repo.clone(),
                reference: reference.clone(),
                time: r.time,
                location: r.location.clone(),
                line: r.line,
                message,
                baseline,
            });
        };
        let pushed_by = format!(
            "{} of {repo} by {} ({span})",
            h.pushes,
            History::top(&h.actors, 3)
        );
        let summary = format!("{span}: {} pushes of {repo}", h.pushes);

        // A pusher (or a credential) never seen pushing this repository.
        if enough {
            let stranger = match (&r.actor, &r.token) {
                (Some(a), _) if !h.actors.contains_key(a) => Some(a.clone()),
                (_, Some(k)) if !h.tokens.is_empty() && !h.tokens.contains(k) => Some(k.clone()),
                _ => None,
            };
            let first = stranger
                .is_some_and(|s| strangers.insert((rules::AUDIT_NEW_PUSHER.id, repo.clone(), s)));
            match (&r.actor, &r.token) {
                _ if !first => {}
                (Some(a), _) if !h.actors.contains_key(a) => add(
                    &rules::AUDIT_NEW_PUSHER,
                    format!(
                        "{reference} pushed by {a}{from_where} at {}, who never pushed {repo} in the baseline",
                        when(r.time)
                    ),
                    format!("{pushed_by} pushes"),
                ),
                (_, Some(k)) if !h.tokens.is_empty() && !h.tokens.contains(k) => add(
                    &rules::AUDIT_NEW_PUSHER,
                    format!(
                        "{reference} pushed by {who} with credential {k}, which never pushed {repo} in the baseline"
                    ),
                    format!("{summary} with {} credential(s)", h.tokens.len()),
                ),
                _ => {}
            }
        }
        // From a network never seen pushing this repository.
        if let Some(a) = &r.address
            && !h.networks.is_empty()
        {
            let net = network(a, t);
            if !h.networks.contains_key(&net)
                && strangers.insert((rules::AUDIT_NEW_ADDRESS.id, repo.clone(), net.clone()))
            {
                add(
                    &rules::AUDIT_NEW_ADDRESS,
                    format!(
                        "{reference} pushed by {who} from {a} ({net}), a network that never pushed {repo} in the baseline"
                    ),
                    format!("{summary} from {}", History::top(&h.networks, 4)),
                );
            }
        }
        // At an hour the publisher never pushed at.
        let hr = hour(r.time);
        if enough
            && !h.usual_hour(hr, t.hour_margin)
            && strangers.insert((rules::AUDIT_UNUSUAL_HOUR.id, repo.clone(), hr.to_string()))
        {
            add(
                &rules::AUDIT_UNUSUAL_HOUR,
                format!(
                    "{reference} pushed by {who} at {}, an hour {repo} was never pushed at in the baseline",
                    when(r.time)
                ),
                format!(
                    "{summary}, at {} (±{}h counts as usual)",
                    h.hours_text(),
                    t.hour_margin
                ),
            );
        }
        // A credential used for the first time.
        if let Some(k) = &r.token
            && baseline_logs.contains(r.log.as_str())
            && tokens.insert(k.clone())
        {
            add(
                &rules::AUDIT_NEW_TOKEN,
                format!(
                    "{reference} pushed by {who} with credential {k}, used here for the first time"
                ),
                format!(
                    "{span}: {} credential(s) seen pushing any repository",
                    tokens.len() - 1
                ),
            );
        }
        // A release tag pushed again with another image.
        if let (Some(tag), Some(k)) = (&r.tag, &key)
            && TagKind::of(tag) == TagKind::Release
            && let Some((before, since)) = tags.get(k)
            && (before.is_none() || r.digest.is_none() || *before != r.digest)
        {
            let was = match before {
                Some(d) => format!("it pointed at {} since {}", short(d), when(*since)),
                None => format!("it was pushed before, on {}", when(*since)),
            };
            let now = r
                .digest
                .as_ref()
                .map(|d| format!(" with {}", short(d)))
                .unwrap_or_default();
            add(
                &rules::AUDIT_TAG_OVERWRITTEN,
                format!(
                    "release tag {reference} pushed again{now} by {who}{from_where} at {}: {was}",
                    when(r.time)
                ),
                format!(
                    "{summary}; a release tag names one build and is never pushed twice by a release"
                ),
            );
        }
        // Many tags within minutes, more than any window of the baseline (a repository without
        // history has no usual release size to compare with).
        let window = windows.entry(repo.clone()).or_default();
        let count = window.push(r.time, r.tag.as_deref(), t.burst_window);
        let limit = t.burst_tags.max(h.widest_burst);
        if enough && count > limit {
            let burst = bursts.entry(repo.clone()).or_insert_with(|| Burst {
                start: window.start().unwrap_or(r.time),
                tags: Vec::new(),
                last: (*r).clone(),
                widest: h.widest_burst,
                baseline: summary.clone(),
            });
            for tag in window.tags() {
                if !burst.tags.contains(&tag) {
                    burst.tags.push(tag);
                }
            }
            burst.last = (*r).clone();
        } else if let Some(burst) = bursts.remove(&repo) {
            out.findings.push(burst.finding(&repo, t));
        }
        if let Some(k) = key {
            tags.insert(k, (r.digest.clone(), r.time));
        }
    }
    for (repo, burst) in std::mem::take(&mut bursts) {
        out.findings.push(burst.finding(&repo, t));
    }
    out.repositories = judged_repos.len();
    if !thin.is_empty() {
        out.notes.push(format!(
            "too little history to judge who pushed and when (fewer than {} pushes in the baseline): {}",
            t.min_baseline.max(1),
            thin.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if out.judged_pushes == 0 {
        out.notes.push(format!(
            "no push after the baseline ({}) to judge",
            when(to)
        ));
    }
    out.findings
        .sort_by(|a, b| (a.time, a.rule.id).cmp(&(b.time, b.rule.id)));
    out
}

#[cfg(test)]
mod tests;
