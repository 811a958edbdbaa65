//! Pacing per registry: at most so many polls in flight and so many started per second, a pause
//! when the registry says to wait (`Retry-After`, an exhausted `RateLimit-Remaining`), and a
//! growing pause, with jitter, while it fails.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tagwarden_registry::RateLimit;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::config::RegistryLimits;

/// Longest pause after failures or a rate limit without a stated window.
const MAX_PAUSE: Duration = Duration::from_secs(300);
/// First pause after a failure; doubled per failure in a row.
const FIRST_PAUSE: Duration = Duration::from_secs(2);

/// The gates of every registry.
pub struct Limiter {
    limits: BTreeMap<String, RegistryLimits>,
    default: RegistryLimits,
    gates: Mutex<HashMap<String, Arc<Gate>>>,
}

struct Gate {
    slots: Arc<Semaphore>,
    interval: Duration,
    state: Mutex<GateState>,
}

struct GateState {
    /// When the next poll may start (rate).
    next_start: Instant,
    /// No poll before this (the registry asked, or it is failing).
    paused_until: Instant,
    failures: u32,
}

/// A slot in a registry's concurrency limit, held while polling.
pub struct Permit {
    _slot: OwnedSemaphorePermit,
}

impl Limiter {
    pub fn new(limits: BTreeMap<String, RegistryLimits>, default: RegistryLimits) -> Limiter {
        Limiter {
            limits,
            default,
            gates: Mutex::new(HashMap::new()),
        }
    }

    fn gate(&self, registry: &str) -> Arc<Gate> {
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        gates
            .entry(registry.to_string())
            .or_insert_with(|| {
                let limits = self.limits.get(registry).copied().unwrap_or(self.default);
                Arc::new(Gate {
                    slots: Arc::new(Semaphore::new(limits.concurrency.max(1))),
                    interval: Duration::from_secs_f64(1.0 / limits.rate.max(0.001)),
                    state: Mutex::new(GateState {
                        next_start: Instant::now(),
                        paused_until: Instant::now(),
                        failures: 0,
                    }),
                })
            })
            .clone()
    }

    /// Waits for a slot, the rate and any pause of the registry; `None` when the registry is
    /// paused for longer than `longest` (the caller puts the work back rather than hold it).
    pub async fn acquire(&self, registry: &str, longest: Duration) -> Option<Permit> {
        let gate = self.gate(registry);
        let slot = loop {
            if let Ok(slot) = gate.slots.clone().acquire_owned().await {
                break slot;
            }
        };
        loop {
            let start = {
                let mut s = gate.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let start = s.next_start.max(s.paused_until).max(now);
                if start <= now {
                    s.next_start = now + gate.interval;
                    None
                } else {
                    Some(start)
                }
            };
            match start {
                None => break,
                Some(at) if at.saturating_duration_since(Instant::now()) > longest => return None,
                Some(at) => tokio::time::sleep_until(at).await,
            }
        }
        Some(Permit { _slot: slot })
    }

    /// How long until the registry may be asked again (zero when it may be now).
    pub fn paused_for(&self, registry: &str) -> Duration {
        let gate = self.gate(registry);
        let s = gate.state.lock().unwrap_or_else(|e| e.into_inner());
        s.paused_until.saturating_duration_since(Instant::now())
    }

    /// Reads the registry's budget: when it is spent, pause until it refills (the `Retry-After`,
    /// else the window, else a minute).
    pub fn observe(&self, registry: &str, rate: &RateLimit) {
        let pause = match (rate.retry_after, rate.remaining) {
            (Some(wait), _) => Some(wait),
            (None, Some(0)) => Some(rate.window.unwrap_or(Duration::from_secs(60))),
            _ => None,
        };
        if let Some(pause) = pause {
            self.pause(registry, pause.min(Duration::from_secs(6 * 3600)));
        }
    }

    /// Pauses the registry for at least `duration`.
    pub fn pause(&self, registry: &str, duration: Duration) {
        let gate = self.gate(registry);
        let mut s = gate.state.lock().unwrap_or_else(|e| e.into_inner());
        s.paused_until = s.paused_until.max(Instant::now() + duration);
    }

    /// A failed poll: pause the registry, longer for each failure in a row; returns the pause.
    pub fn failed(&self, registry: &str) -> Duration {
        let gate = self.gate(registry);
        let mut s = gate.state.lock().unwrap_or_else(|e| e.into_inner());
        s.failures = s.failures.saturating_add(1);
        let pause = jittered(backoff(s.failures));
        s.paused_until = s.paused_until.max(Instant::now() + pause);
        pause
    }

    /// A poll the registry answered: failures in a row are over.
    pub fn succeeded(&self, registry: &str) {
        let gate = self.gate(registry);
        let mut s = gate.state.lock().unwrap_or_else(|e| e.into_inner());
        s.failures = 0;
    }
}

/// `FIRST_PAUSE * 2^(failures-1)`, capped.
fn backoff(failures: u32) -> Duration {
    FIRST_PAUSE
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)))
        .min(MAX_PAUSE)
}

/// `duration` plus up to a quarter more, so that replicas and registries do not move in step.
pub fn jittered(duration: Duration) -> Duration {
    duration + duration.mul_f64(random_fraction() / 4.0)
}

/// A number in [0, 1) from the OS's random source (a fixed half if it has none).
pub fn random_fraction() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), FIRST_PAUSE);
        assert_eq!(backoff(3), FIRST_PAUSE * 4);
        assert_eq!(backoff(100), MAX_PAUSE);
        let j = jittered(Duration::from_secs(4));
        assert!(
            j >= Duration::from_secs(4) && j <= Duration::from_secs(5),
            "{j:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn rate_and_pauses_are_kept() {
        let mut limits = BTreeMap::new();
        limits.insert(
            "r".to_string(),
            RegistryLimits {
                concurrency: 2,
                rate: 10.0,
            },
        );
        let limiter = Limiter::new(limits, RegistryLimits::default());
        let start = Instant::now();
        for _ in 0..5 {
            assert!(limiter.acquire("r", Duration::from_secs(1)).await.is_some());
        }
        // Five starts at ten a second: the last one 400 ms after the first.
        assert!(
            start.elapsed() >= Duration::from_millis(400),
            "{:?}",
            start.elapsed()
        );
        limiter.observe(
            "r",
            &RateLimit {
                remaining: Some(0),
                window: Some(Duration::from_secs(30)),
                ..RateLimit::default()
            },
        );
        assert!(limiter.paused_for("r") > Duration::from_secs(29));
        assert!(limiter.acquire("r", Duration::from_secs(5)).await.is_none());
        assert_eq!(limiter.paused_for("other"), Duration::ZERO);
    }
}
