//! Alerts: every new event as a JSON line on standard output, and to webhooks (generic JSON
//! signed with HMAC-SHA256, or Slack-compatible) from the store's outbox, on their own task so
//! that a slow or dead receiver never holds up polling. A delivery is retried with backoff and
//! recorded as delivered once the receiver answers 2xx.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tagwarden_findings::Severity;

use crate::config::{SecretSource, Webhook, WebhookFormat};
use crate::metrics::Metrics;
use crate::store::{Delivery, Sink, Store, StoredEvent, now_ms};

/// The header carrying `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "X-Tagwarden-Signature-256";
/// Attempts before a delivery is given up.
const MAX_ATTEMPTS: i64 = 10;

/// A webhook with its URL and secret read (from the environment or a file).
#[derive(Clone)]
pub struct Hook {
    pub name: String,
    url: String,
    secret: Option<Vec<u8>>,
    format: WebhookFormat,
    pub min_severity: Severity,
}

impl fmt::Debug for Hook {
    // The URL of a Slack hook is its credential; the secret is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hook")
            .field("name", &self.name)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Hook {
    /// Reads the URL and secret a configured webhook names.
    pub fn resolve(hook: &Webhook) -> Result<Hook, String> {
        let url = read_secret(&hook.url).map_err(|e| format!("webhook {}: URL: {e}", hook.name))?;
        let parsed = reqwest::Url::parse(url.trim())
            .map_err(|e| format!("webhook {}: not a URL: {e}", hook.name))?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(format!("webhook {}: only http and https URLs", hook.name));
        }
        let secret = match &hook.secret {
            Some(s) => Some(
                read_secret(s)
                    .map_err(|e| format!("webhook {}: secret: {e}", hook.name))?
                    .trim_end_matches(['\n', '\r'])
                    .as_bytes()
                    .to_vec(),
            ),
            None => None,
        };
        Ok(Hook {
            name: hook.name.clone(),
            url: url.trim().to_string(),
            secret,
            format: hook.format,
            min_severity: hook.min_severity,
        })
    }

    /// The host the hook posts to, for messages (the URL itself may hold a token).
    fn host(&self) -> String {
        reqwest::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default()
    }
}

fn read_secret(source: &SecretSource) -> Result<String, String> {
    match source {
        SecretSource::Literal(v) => Ok(v.clone()),
        SecretSource::Env(name) => {
            std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
        }
        SecretSource::File(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else {
        // HMAC takes keys of any length; this is never reached.
        return String::new();
    };
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The body a hook is sent for an event.
pub fn payload(event: &StoredEvent, format: WebhookFormat) -> Vec<u8> {
    let value = match format {
        WebhookFormat::Json => serde_json::json!({ "version": 1, "event": event }),
        WebhookFormat::Slack => serde_json::json!({
            "text": format!(
                "[{}] {}: {}",
                event.severity.as_str().to_ascii_uppercase(),
                event.kind,
                event.message
            ),
        }),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// Writes one event as a JSON line on standard output.
pub fn print_event(event: &StoredEvent) {
    let line = serde_json::to_string(event).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    // A closed standard output must not stop the watcher.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The webhooks and the HTTP client that calls them.
pub struct Alerts {
    hooks: RwLock<Vec<Hook>>,
    http: reqwest::Client,
}

impl Alerts {
    /// Redirects are not followed: a signed alert goes where the configuration says, nowhere else.
    pub fn new(hooks: Vec<Hook>) -> Result<Alerts, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tagwarden/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the webhook client: {e}"))?;
        Ok(Alerts {
            hooks: RwLock::new(hooks),
            http,
        })
    }

    /// Replaces the hooks (on reload).
    pub fn set_hooks(&self, hooks: Vec<Hook>) {
        *self.hooks.write().unwrap_or_else(|e| e.into_inner()) = hooks;
    }

    /// The sinks events are queued for.
    pub fn sinks(&self) -> Vec<Sink> {
        self.hooks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|h| (h.name.clone(), h.min_severity))
            .collect()
    }

    /// Sends the deliveries that are due; returns how many were attempted.
    pub async fn deliver_due(&self, store: &Arc<Store>, metrics: &Metrics) -> usize {
        let claimed = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || store.claim_deliveries(now_ms(), 60_000, 32)).await
        };
        let deliveries = match claimed {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                eprintln!("warning: alerts: {e}");
                return 0;
            }
            Err(_) => return 0,
        };
        let count = deliveries.len();
        let mut tasks = tokio::task::JoinSet::new();
        for delivery in deliveries {
            let hook = self
                .hooks
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .find(|h| h.name == delivery.sink)
                .cloned();
            let http = self.http.clone();
            tasks.spawn(async move {
                let outcome = match &hook {
                    Some(hook) => send(&http, hook, &delivery).await,
                    None => Err("the webhook is no longer configured".to_string()),
                };
                (delivery, outcome, hook.is_none())
            });
        }
        while let Some(Ok((delivery, outcome, gone))) = tasks.join_next().await {
            let attempts = delivery.attempts + 1;
            let retry_at = (!gone && attempts < MAX_ATTEMPTS).then(|| {
                let wait = crate::limiter::jittered(retry_wait(attempts));
                now_ms() + wait.as_millis() as i64
            });
            let result = match (&outcome, retry_at) {
                (Ok(()), _) => "delivered",
                (Err(_), Some(_)) => "retry",
                (Err(_), None) => "failed",
            };
            metrics.delivery(&delivery.sink, result);
            if let Err(e) = &outcome {
                eprintln!(
                    "warning: alert {} to {}: {e}{}",
                    delivery.event.id,
                    delivery.sink,
                    if retry_at.is_some() {
                        " (will retry)"
                    } else {
                        " (given up)"
                    }
                );
            }
            let store = store.clone();
            let id = delivery.id;
            let saved = tokio::task::spawn_blocking(move || {
                store.finish_delivery(id, now_ms(), outcome, retry_at)
            })
            .await;
            if let Ok(Err(e)) = saved {
                eprintln!("warning: alerts: {e}");
            }
        }
        count
    }
}

/// 5 s, 10 s, 20 s… up to an hour.
fn retry_wait(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    Duration::from_secs(5)
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(Duration::from_secs(3600))
}

async fn send(http: &reqwest::Client, hook: &Hook, delivery: &Delivery) -> Result<(), String> {
    let body = payload(&delivery.event, hook.format);
    let mut request = http
        .post(&hook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Tagwarden-Event", delivery.event.kind.as_str())
        .header("X-Tagwarden-Delivery", delivery.event.id.to_string());
    if let Some(secret) = &hook.secret {
        request = request.header(SIGNATURE_HEADER, signature(secret, &body));
    }
    let response = request
        .body(body)
        .send()
        .await
        // Without the URL: it may carry a token.
        .map_err(|e| format!("{}: {}", hook.host(), e.without_url()))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{} answered HTTP {status}", hook.host()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retries_back_off() {
        assert_eq!(retry_wait(1), Duration::from_secs(5));
        assert_eq!(retry_wait(3), Duration::from_secs(20));
        assert_eq!(retry_wait(40), Duration::from_secs(3600));
    }

    #[test]
    fn debug_never_shows_the_url() {
        let hook = Hook::resolve(&Webhook {
            name: "slack".into(),
            url: SecretSource::Literal("https://hooks.slack.test/services/T0/B0/SECRET".into()),
            secret: None,
            format: WebhookFormat::Slack,
            min_severity: Severity::High,
        });
        let shown = format!("{hook:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(hook.is_ok_and(|h| h.host() == "hooks.slack.test"));
    }
}
