//! One repository's history over the baseline period: who pushed it, with which credentials,
//! from which networks, at which hours (UTC), and how many tags a release touches at once.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};

use crate::AuditRecord;
use crate::config::Thresholds;

/// What the baseline saw of one repository.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub pushes: usize,
    /// Actors and how many pushes each made.
    pub actors: BTreeMap<String, usize>,
    pub tokens: BTreeSet<String>,
    /// Networks (see [`network`]) and how many pushes came from each.
    pub networks: BTreeMap<String, usize>,
    /// Pushes per hour of the day, UTC.
    pub hours: [usize; 24],
    /// The most distinct tags pushed within one burst window.
    pub widest_burst: usize,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

impl History {
    /// Adds the baseline's pushes of this repository, in time order.
    pub fn build(pushes: &[&AuditRecord], t: &Thresholds) -> History {
        let mut h = History::default();
        let mut window = Window::default();
        for r in pushes {
            h.pushes += 1;
            if let Some(a) = &r.actor {
                *h.actors.entry(a.clone()).or_default() += 1;
            }
            if let Some(k) = &r.token {
                h.tokens.insert(k.clone());
            }
            if let Some(n) = r.address.as_deref().map(|a| network(a, t)) {
                *h.networks.entry(n).or_default() += 1;
            }
            h.hours[hour(r.time)] += 1;
            h.first.get_or_insert(r.time);
            h.last = Some(r.time);
            h.widest_burst =
                h.widest_burst
                    .max(window.push(r.time, r.tag.as_deref(), t.burst_window));
        }
        h
    }

    /// Whether `hour` is within `margin` hours (around the clock) of an hour pushed at.
    pub fn usual_hour(&self, hour: usize, margin: u8) -> bool {
        let m = i64::from(margin);
        (-m..=m).any(|d| self.hours[(hour as i64 + d).rem_euclid(24) as usize] > 0)
    }

    /// The hours pushed at, as ranges (`09–17`), for messages.
    pub fn hours_text(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        let mut h = 0;
        while h < 24 {
            if self.hours[h] == 0 {
                h += 1;
                continue;
            }
            let start = h;
            while h < 24 && self.hours[h] > 0 {
                h += 1;
            }
            out.push(if h - 1 == start {
                format!("{start:02}h")
            } else {
                format!("{start:02}–{:02}h", h - 1)
            });
        }
        out.join(", ")
    }

    /// `name (n pushes), …`, the most active first, at most `limit`.
    pub fn top(map: &BTreeMap<String, usize>, limit: usize) -> String {
        let mut v: Vec<(&String, &usize)> = map.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut out: Vec<String> = v
            .iter()
            .take(limit)
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        if v.len() > limit {
            out.push(format!("{} more", v.len() - limit));
        }
        out.join(", ")
    }
}

/// The hour of the day, UTC.
pub fn hour(t: Timestamp) -> usize {
    (t.as_second().rem_euclid(86_400) / 3600) as usize
}

/// An address reduced to its network (`3.120.0.0/16`); what is not an IP address (an AWS
/// service name) is kept whole.
pub fn network(address: &str, t: &Thresholds) -> String {
    match address.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => {
            let bits = u32::from(a);
            let p = u32::from(t.address_prefix_v4.min(32));
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            format!("{}/{p}", std::net::Ipv4Addr::from(bits & mask))
        }
        Ok(IpAddr::V6(a)) => {
            let bits = u128::from(a);
            let p = u32::from(t.address_prefix_v6.min(128));
            let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            format!("{}/{p}", std::net::Ipv6Addr::from(bits & mask))
        }
        Err(_) => address.trim().to_string(),
    }
}

/// Pushes of one repository within the last burst window: how many distinct tags.
#[derive(Default)]
pub struct Window {
    recent: VecDeque<(Timestamp, Option<String>)>,
}

impl Window {
    /// Adds a push; returns the distinct tags (untagged pushes count once each) within
    /// `width` before it, itself included.
    pub fn push(&mut self, at: Timestamp, tag: Option<&str>, width: SignedDuration) -> usize {
        self.recent.push_back((at, tag.map(str::to_string)));
        while let Some((first, _)) = self.recent.front() {
            if at.duration_since(*first) > width {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        self.distinct()
    }

    pub fn distinct(&self) -> usize {
        let tags: BTreeSet<&str> = self
            .recent
            .iter()
            .filter_map(|(_, t)| t.as_deref())
            .collect();
        tags.len() + self.recent.iter().filter(|(_, t)| t.is_none()).count()
    }

    /// The tags in the window, in push order, each once.
    pub fn tags(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        self.recent
            .iter()
            .filter_map(|(_, t)| t.clone())
            .filter(|t| seen.insert(t.clone()))
            .collect()
    }

    pub fn start(&self) -> Option<Timestamp> {
        self.recent.front().map(|(t, _)| *t)
    }
}
