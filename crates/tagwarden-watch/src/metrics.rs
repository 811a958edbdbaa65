//! Prometheus metrics: polls, errors, events, deliveries and lag, per registry.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PollLabels {
    pub registry: String,
    /// `unchanged`, `changed`, `not_found`, `error`, `rate_limited`.
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub kind: String,
    pub severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RegistryLabels {
    pub registry: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub sink: String,
    /// `delivered`, `retry`, `failed`.
    pub result: String,
}

/// Every metric the watcher keeps.
pub struct Metrics {
    registry: Registry,
    pub polls: Family<PollLabels, Counter>,
    pub events: Family<EventLabels, Counter>,
    pub deliveries: Family<DeliveryLabels, Counter>,
    /// Seconds between when a tag was due and when its poll was recorded.
    pub lag: Family<RegistryLabels, Gauge<f64, AtomicU64>>,
    /// 1 while the registry answers, 0 after `unhealthy-after` failed polls in a row.
    pub healthy: Family<RegistryLabels, Gauge>,
    pub watched: Gauge,
    pub cycle_seconds: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tagwarden_watch");
        let polls = Family::<PollLabels, Counter>::default();
        registry.register(
            "polls",
            "Polls of watched tags, by registry and result",
            polls.clone(),
        );
        let events = Family::<EventLabels, Counter>::default();
        registry.register("events", "Events recorded by this replica", events.clone());
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register("deliveries", "Alert delivery attempts", deliveries.clone());
        let lag = Family::<RegistryLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "poll_lag_seconds",
            "Delay between a tag falling due and its last poll being recorded",
            lag.clone(),
        );
        let healthy = Family::<RegistryLabels, Gauge>::default();
        registry.register(
            "registry_healthy",
            "Whether the registry answers polls",
            healthy.clone(),
        );
        let watched = Gauge::default();
        registry.register("watched_tags", "Tags watched", watched.clone());
        let cycle_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "cycle_seconds",
            "How long the last round of due polls took",
            cycle_seconds.clone(),
        );
        Metrics {
            registry,
            polls,
            events,
            deliveries,
            lag,
            healthy,
            watched,
            cycle_seconds,
        }
    }
}

impl Metrics {
    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub fn poll(&self, registry: &str, result: &str) {
        self.polls
            .get_or_create(&PollLabels {
                registry: registry.to_string(),
                result: result.to_string(),
            })
            .inc();
    }

    pub fn event(&self, kind: &str, severity: &str) {
        self.events
            .get_or_create(&EventLabels {
                kind: kind.to_string(),
                severity: severity.to_string(),
            })
            .inc();
    }

    pub fn delivery(&self, sink: &str, result: &str) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                sink: sink.to_string(),
                result: result.to_string(),
            })
            .inc();
    }

    pub fn lag(&self, registry: &str, seconds: f64) {
        self.lag
            .get_or_create(&RegistryLabels {
                registry: registry.to_string(),
            })
            .set(seconds);
    }

    pub fn healthy(&self, registry: &str, healthy: bool) {
        self.healthy
            .get_or_create(&RegistryLabels {
                registry: registry.to_string(),
            })
            .set(i64::from(healthy));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn exposition() {
        let m = super::Metrics::default();
        m.poll("docker.io", "changed");
        m.event("tag-moved", "high");
        m.healthy("docker.io", false);
        let text = m.encode();
        assert!(
            text.contains(
                "tagwarden_watch_polls_total{registry=\"docker.io\",result=\"changed\"} 1"
            )
        );
        assert!(
            text.contains("tagwarden_watch_events_total{kind=\"tag-moved\",severity=\"high\"} 1")
        );
        assert!(text.contains("tagwarden_watch_registry_healthy{registry=\"docker.io\"} 0"));
        assert!(text.ends_with("# EOF\n"));
    }
}
