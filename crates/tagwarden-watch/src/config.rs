//! The watch configuration file: what to watch, how often, where to keep the history, whom to
//! alert. Parsing does no I/O; a mistake is reported at its line and column.
//!
//! ```toml
//! interval = "5m"
//! images = ["checkmarx/kics:*", "ghcr.io/acme/app:v1.*", "alpine:3.20"]
//! scan = ["deploy"]
//!
//! [registries."docker.io"]
//! concurrency = 4
//! rate = 5
//!
//! [[webhooks]]
//! url = "https://hooks.example.com/tagwarden"
//! secret-env = "TAGWARDEN_WEBHOOK_SECRET"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use tagwarden_findings::Severity;
use toml::Spanned;

use crate::target::Pattern;

/// A configuration error at a position in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ConfigError {}

/// Where the history is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file (WAL).
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (`postgres://…` or `host=… dbname=…`).
    Postgres(String),
}

impl Database {
    /// `sqlite:PATH` (relative to `base`), a bare path, or `postgres://…` / `postgresql://…`.
    pub fn parse(value: &str, base: &Path) -> Result<Database, String> {
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(Database::Postgres(value.to_string()));
        }
        let path = value.strip_prefix("sqlite:").unwrap_or(value);
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err("the database path is empty".into());
        }
        Ok(Database::Sqlite(base.join(path)))
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            // The connection string may carry a password: show only what it is.
            Database::Postgres(_) => f.write_str("postgres"),
        }
    }
}

/// Limits for one registry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegistryLimits {
    /// Polls in flight at once.
    pub concurrency: usize,
    /// Polls started per second.
    pub rate: f64,
}

impl Default for RegistryLimits {
    fn default() -> Self {
        Self {
            concurrency: 8,
            rate: 50.0,
        }
    }
}

/// How a webhook is spoken to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookFormat {
    /// The event as JSON, signed with HMAC-SHA256 when a secret is set.
    Json,
    /// A Slack-compatible incoming webhook: `{"text": …}`.
    Slack,
}

/// Where the webhook URL and secret come from: never from the file itself when they are secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    Literal(String),
    Env(String),
    File(PathBuf),
}

/// One webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    /// A name for the page, metrics and logs (never the URL, which may hold a token).
    pub name: String,
    pub url: SecretSource,
    pub secret: Option<SecretSource>,
    pub format: WebhookFormat,
    pub min_severity: Severity,
}

/// A validated configuration.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// The file it was read from (for messages) and the directory paths are relative to.
    pub path: PathBuf,
    pub interval: Duration,
    pub patterns: Vec<Pattern>,
    /// Trees whose references `scan` finds are watched too.
    pub scan: Vec<PathBuf>,
    pub advisories: Vec<PathBuf>,
    pub database: Option<Database>,
    pub listen: Option<String>,
    pub replica: Option<String>,
    /// History older than this is pruned (the latest observation of a tag is always kept).
    pub retention: Option<Duration>,
    pub fail_on: Severity,
    /// Failed polls in a row, per registry, before a health event.
    pub unhealthy_after: u32,
    pub registries: BTreeMap<String, RegistryLimits>,
    pub default_limits: RegistryLimits,
    pub webhooks: Vec<Webhook>,
    /// Who must have signed a new digest before it is accepted (the `[signatures]` section,
    /// as in `tagwarden.toml`); filled by [`WatchConfig::load_signatures`], which reads files.
    pub signatures: Option<tagwarden_signature::Policy>,
    /// The `[audit]` section: thresholds, and the exports to tail (resolved against the file's
    /// folder in `audit_exports`).
    pub audit: Option<tagwarden_audit::AuditConfig>,
    pub audit_exports: Vec<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    interval: Option<Spanned<String>>,
    #[serde(default)]
    images: Vec<Spanned<String>>,
    #[serde(default)]
    scan: Vec<String>,
    #[serde(default)]
    advisories: Vec<String>,
    db: Option<Spanned<String>>,
    listen: Option<String>,
    replica: Option<String>,
    retention: Option<Spanned<String>>,
    fail_on: Option<Spanned<String>>,
    unhealthy_after: Option<Spanned<i64>>,
    #[serde(default)]
    registries: BTreeMap<String, Spanned<RawLimits>>,
    #[serde(default)]
    webhooks: Vec<Spanned<RawWebhook>>,
    /// Read by `tagwarden_signature::policy`, the one parser of this section.
    #[allow(dead_code)]
    signatures: Option<toml::Value>,
    /// Read by `tagwarden_audit::config`, the one parser of this section.
    #[allow(dead_code)]
    audit: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLimits {
    concurrency: Option<i64>,
    rate: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWebhook {
    name: Option<String>,
    url: Option<String>,
    url_env: Option<String>,
    secret_env: Option<String>,
    secret_file: Option<String>,
    format: Option<String>,
    min_severity: Option<String>,
}

impl WatchConfig {
    /// An empty configuration for `path` (nothing watched): every default.
    pub fn empty(path: &Path) -> WatchConfig {
        WatchConfig {
            path: path.to_path_buf(),
            interval: Duration::from_secs(300),
            patterns: Vec::new(),
            scan: Vec::new(),
            advisories: Vec::new(),
            database: None,
            listen: None,
            replica: None,
            retention: None,
            fail_on: Severity::High,
            unhealthy_after: 3,
            registries: BTreeMap::new(),
            default_limits: RegistryLimits::default(),
            webhooks: Vec::new(),
            signatures: None,
            audit: None,
            audit_exports: Vec::new(),
        }
    }

    /// Reads the `[signatures]` section of `text` (the file at `self.path`) and the key and
    /// trust-root files it names, relative to the file's folder.
    pub fn load_signatures(&mut self, text: &str) -> Result<(), ConfigError> {
        let base = self.path.parent().unwrap_or(Path::new("."));
        let policy = tagwarden_signature::policy::parse(text)
            .and_then(|draft| draft.map(|d| d.load(base)).transpose());
        match policy {
            Ok(p) => {
                self.signatures = p;
                Ok(())
            }
            Err(e) => {
                let (line, column) =
                    tagwarden_advisory::line_column(text, e.span.map_or(0, |s| s.start));
                Err(ConfigError {
                    path: self.path.display().to_string(),
                    line,
                    column,
                    message: e.message,
                })
            }
        }
    }

    /// Parses the text of the file at `path`; relative paths are resolved against its directory.
    pub fn parse(path: &Path, text: &str) -> Result<WatchConfig, ConfigError> {
        let shown = path.display().to_string();
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = tagwarden_advisory::line_column(text, span.start);
            ConfigError {
                path: shown.clone(),
                line,
                column,
                message,
            }
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            at(span, e.message().to_string())
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut config = WatchConfig::empty(path);
        if let Some(v) = raw.interval {
            config.interval = parse_duration(v.get_ref()).map_err(|e| at(v.span(), e))?;
            if config.interval < Duration::from_secs(1) {
                return Err(at(v.span(), "the interval must be at least 1s".into()));
            }
        }
        for image in &raw.images {
            config
                .patterns
                .push(Pattern::parse(image.get_ref()).map_err(|e| at(image.span(), e))?);
        }
        config.scan = raw.scan.iter().map(|p| base.join(p)).collect();
        config.advisories = raw.advisories.iter().map(|p| base.join(p)).collect();
        if let Some(db) = raw.db {
            config.database =
                Some(Database::parse(db.get_ref(), base).map_err(|e| at(db.span(), e))?);
        }
        config.listen = raw.listen;
        config.replica = raw.replica;
        if let Some(v) = raw.retention {
            config.retention = Some(parse_duration(v.get_ref()).map_err(|e| at(v.span(), e))?);
        }
        if let Some(v) = raw.fail_on {
            config.fail_on = v
                .get_ref()
                .parse()
                .map_err(|_| at(v.span(), format!("unknown severity {:?}", v.get_ref())))?;
        }
        if let Some(v) = raw.unhealthy_after {
            config.unhealthy_after = u32::try_from(*v.get_ref())
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| at(v.span(), "unhealthy-after must be a positive number".into()))?;
        }
        for (host, limits) in raw.registries {
            let span = limits.span();
            let limits = limits.into_inner();
            let mut out = RegistryLimits::default();
            if let Some(c) = limits.concurrency {
                out.concurrency = usize::try_from(c)
                    .ok()
                    .filter(|c| (1..=256).contains(c))
                    .ok_or_else(|| at(span.clone(), "concurrency must be 1 to 256".into()))?;
            }
            if let Some(r) = limits.rate {
                if !(r.is_finite() && r > 0.0) {
                    return Err(at(
                        span,
                        "rate must be a positive number of polls per second".into(),
                    ));
                }
                out.rate = r;
            }
            let host =
                tagwarden_reference::normalize_domain(&host.to_ascii_lowercase()).to_string();
            if host == "*" {
                config.default_limits = out;
            } else {
                config.registries.insert(host, out);
            }
        }
        for (i, hook) in raw.webhooks.into_iter().enumerate() {
            let span = hook.span();
            let hook = hook.into_inner();
            let url = match (hook.url, hook.url_env) {
                (Some(u), None) => SecretSource::Literal(u),
                (None, Some(e)) => SecretSource::Env(e),
                _ => {
                    return Err(at(
                        span,
                        "a webhook needs exactly one of url and url-env".into(),
                    ));
                }
            };
            let secret = match (hook.secret_env, hook.secret_file) {
                (None, None) => None,
                (Some(e), None) => Some(SecretSource::Env(e)),
                (None, Some(f)) => Some(SecretSource::File(base.join(f))),
                _ => return Err(at(span, "give secret-env or secret-file, not both".into())),
            };
            let format = match hook.format.as_deref() {
                None | Some("json") => WebhookFormat::Json,
                Some("slack") => WebhookFormat::Slack,
                Some(other) => {
                    return Err(at(
                        span,
                        format!("unknown webhook format {other:?} (json or slack)"),
                    ));
                }
            };
            let min_severity = match hook.min_severity {
                None => Severity::Low,
                Some(s) => s
                    .parse()
                    .map_err(|_| at(span.clone(), format!("unknown severity {s:?}")))?,
            };
            config.webhooks.push(Webhook {
                name: hook.name.unwrap_or_else(|| format!("webhook-{}", i + 1)),
                url,
                secret,
                format,
                min_severity,
            });
        }
        match tagwarden_audit::config::parse(text) {
            Ok(audit) => {
                config.audit_exports = audit
                    .iter()
                    .flat_map(|a| a.exports.iter().map(|e| base.join(e)))
                    .collect();
                config.audit = audit;
            }
            Err(e) => return Err(at(e.span.unwrap_or(0..0), e.message)),
        }
        Ok(config)
    }
}

/// `30s`, `5m`, `2h`, `90d`, or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (like 30s, 5m, 2h, 90d)"))?;
    let seconds = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?} is not a duration (like 30s, 5m, 2h, 90d)"
            ));
        }
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WatchConfig, ConfigError> {
        WatchConfig::parse(Path::new("/etc/tw/watch.toml"), text)
    }

    #[test]
    fn a_full_configuration() {
        let config = parse(
            r#"
interval = "2m"
images = ["checkmarx/kics:*", "alpine:3.20"]
scan = ["deploy"]
db = "sqlite:state/watch.db"
retention = "90d"
fail-on = "critical"

[registries."docker.io"]
concurrency = 2
rate = 1.5

[[webhooks]]
url-env = "HOOK"
secret-file = "hook.secret"
format = "slack"
min-severity = "high"
"#,
        )
        .map_err(|e| e.to_string());
        let Ok(config) = config else {
            panic!("{config:?}");
        };
        assert_eq!(config.interval, Duration::from_secs(120));
        assert_eq!(config.patterns.len(), 2);
        assert_eq!(config.scan, [PathBuf::from("/etc/tw/deploy")]);
        assert_eq!(
            config.database,
            Some(Database::Sqlite("/etc/tw/state/watch.db".into()))
        );
        assert_eq!(config.retention, Some(Duration::from_secs(90 * 86_400)));
        assert_eq!(config.fail_on, Severity::Critical);
        assert_eq!(config.registries["docker.io"].concurrency, 2);
        let hook = &config.webhooks[0];
        assert_eq!(hook.url, SecretSource::Env("HOOK".into()));
        assert_eq!(
            hook.secret,
            Some(SecretSource::File("/etc/tw/hook.secret".into()))
        );
        assert_eq!(hook.format, WebhookFormat::Slack);
    }

    #[test]
    fn mistakes_are_reported_where_they_are() {
        let e = parse("interval = \"5m\"\nimages = [\"ok:1\", \"bad image:*\"]\n");
        let e = e.err().map(|e| (e.line, e.column));
        assert_eq!(e, Some((2, 19)));
        let e = parse("interval = \"soon\"\n").err().map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.starts_with("/etc/tw/watch.toml:1:12: ")),
            "{e:?}"
        );
        let e = parse("\n\nunknown-key = 1\n").err().map(|e| e.line);
        assert_eq!(e, Some(3));
        let e = parse("[[webhooks]]\nurl = \"x\"\nurl-env = \"Y\"\n").err();
        assert!(e.is_some_and(|e| e.message.contains("exactly one")));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("3h"), Ok(Duration::from_secs(10_800)));
        assert!(parse_duration("3w").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn databases() {
        let base = Path::new("/srv");
        assert_eq!(
            Database::parse("w.db", base),
            Ok(Database::Sqlite("/srv/w.db".into()))
        );
        assert_eq!(
            Database::parse("sqlite:///var/w.db", base),
            Ok(Database::Sqlite("/var/w.db".into()))
        );
        let pg = Database::parse("postgres://u:secret@h/db", base);
        assert!(matches!(pg, Ok(Database::Postgres(_))));
        assert!(!format!("{}", pg.unwrap_or(Database::Sqlite("x".into()))).contains("secret"));
    }
}
