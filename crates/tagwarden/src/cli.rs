//! Command-line interface: every flag of every command, and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tagwarden_findings::Severity;

/// The version and the commit it was built from (see `build.rs`).
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TAGWARDEN_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "tagwarden",
    version = VERSION,
    about = "Find, pin and hunt compromised container images",
    long_about = "tagwarden answers, minutes after a container supply-chain compromise, \
                  \"were we hit?\", and hardens CI so that the next one cannot land silently.\n\n\
                  Exit status: 0 nothing at or above --fail-on, 1 findings at or above it, 2 error."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List every image reference in a tree, offline, and judge it against advisories.
    Scan(ScanArgs),
    /// Print the digest each tag points at now, asking the registries.
    Resolve(ResolveArgs),
    /// Rewrite every tag-only reference in a tree to `name:tag@sha256:…`, byte for byte.
    Pin(PinArgs),
    /// Check every pinned `name:tag@digest`: has the tag moved, is the digest still served?
    Verify(VerifyArgs),
    /// Were we hit? Search files, container engines, registries, CI logs and network logs.
    Hunt(HuntArgs),
    /// Watch tags: poll registries, keep every digest they served, alert on drift, serve a page.
    Watch(WatchArgs),
    /// Judge registry audit logs (Docker Hub, Harbor, CloudTrail, GitHub, GitLab): pushes that
    /// stray from each repository's own history.
    Audit(AuditArgs),
    /// Which credentials exposed CI jobs could read, as a rotation checklist.
    Exposure(ExposureArgs),
    /// Remove malicious images from engines and registries (a dry run unless --yes), journalled.
    Purge(PurgeArgs),
    /// List, show, check, import (STIX, MISP, OSV, OpenVEX, CSAF) and export advisories.
    #[command(subcommand)]
    Advisory(AdvisoryCommand),
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to standard output.
    Completions(CompletionsArgs),
    /// Print the man page, or write one page per command into a directory.
    Man(ManArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Compiler-style findings with the source line and a caret, then a summary.
    Human,
    /// Versioned JSON (see the README).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Options shared by commands that walk a tree.
#[derive(Debug, Args)]
pub(crate) struct WalkArgs {
    /// Scan ignored files too (.gitignore, .ignore and git's exclude files are respected by default).
    #[arg(long)]
    pub(crate) no_ignore: bool,

    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub(crate) follow: bool,

    /// Skip files larger than this many bytes, with a note.
    #[arg(long, value_name = "BYTES", default_value_t = 8 * 1024 * 1024)]
    pub(crate) max_file_size: u64,

    /// Worker threads (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub(crate) threads: Option<usize>,
}

/// Options shared by commands that print a findings report (`scan`, `verify`).
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Human)]
    pub(crate) format: OutputFormat,

    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity [default: high, or the config's].
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub(crate) fail_on: Option<Severity>,

    /// When to use colours in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
}

/// Options shared by commands that judge references against advisories.
#[derive(Debug, Args)]
pub(crate) struct AdvisoryArgs {
    /// Add advisories from a file or a directory (repeatable): TOML, or JSON in a shared format
    /// (STIX 2.1, MISP, OSV, OpenVEX, CSAF VEX), imported on the fly.
    #[arg(long = "advisories", value_name = "PATH")]
    pub(crate) advisories: Vec<PathBuf>,

    /// Do not load the built-in advisories.
    #[arg(long)]
    pub(crate) no_builtin_advisories: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Files or directories to scan.
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,

    #[command(flatten)]
    pub(crate) report: ReportArgs,

    /// Configuration file [default: tagwarden.toml or .tagwarden.toml in the first path].
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// Ignore any configuration file.
    #[arg(long, conflicts_with = "config")]
    pub(crate) no_config: bool,

    /// The tree is not trusted (a pull request from a fork): a config inside it cannot hide
    /// compromised-* findings, nor can inline ignore comments. Also TAGWARDEN_UNTRUSTED_CONFIG=1.
    #[arg(long)]
    pub(crate) untrusted_config: bool,

    #[command(flatten)]
    pub(crate) walk: WalkArgs,

    #[command(flatten)]
    pub(crate) advisory: AdvisoryArgs,
}

/// How to reach registries.
#[derive(Debug, Args)]
pub(crate) struct RegistryArgs {
    /// Reach this registry (`host[:port]`) over plain HTTP without TLS (repeatable). Only for
    /// registries on a network you trust, such as a loopback test registry.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub(crate) insecure_registries: Vec<String>,

    /// Trust this PEM CA certificate bundle too, for registries with a private CA (repeatable).
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub(crate) ca_certs: Vec<PathBuf>,

    /// Seconds before a registry request times out.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub(crate) timeout: u64,

    /// Requests in flight at once per registry.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub(crate) concurrency: usize,

    /// Ask a mirror or pull-through cache instead of a registry, as `REGISTRY=HOST[:PORT][/PREFIX]`
    /// (e.g. `docker.io=mirror.corp:5000/dockerhub`; repeatable). Files keep the registry's name.
    #[arg(long = "registry-mirror", value_name = "REGISTRY=MIRROR", value_parser = parse_mirror)]
    pub(crate) mirrors: Vec<Mirror>,
}

/// `--registry-mirror`: references to `registry` are asked of `host`, under `prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mirror {
    /// The registry as references normalise it (`docker.io`, `ghcr.io`).
    pub(crate) registry: String,
    pub(crate) host: String,
    pub(crate) prefix: Option<String>,
}

fn parse_mirror(s: &str) -> Result<Mirror, String> {
    let (registry, mirror) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected REGISTRY=HOST[:PORT][/PREFIX]"))?;
    let registry = match registry.trim().to_ascii_lowercase().as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        r => r.to_string(),
    };
    let mirror = mirror.trim().trim_end_matches('/');
    let mirror = mirror
        .strip_prefix("https://")
        .or_else(|| mirror.strip_prefix("http://"))
        .unwrap_or(mirror);
    let (host, prefix) = match mirror.split_once('/') {
        Some((h, p)) => (h, Some(p.to_string())),
        None => (mirror, None),
    };
    if registry.is_empty() || host.is_empty() || registry.contains('/') {
        return Err(format!("{s:?}: expected REGISTRY=HOST[:PORT][/PREFIX]"));
    }
    Ok(Mirror {
        registry,
        host: host.to_string(),
        prefix,
    })
}

#[derive(Debug, Args)]
pub(crate) struct ResolveArgs {
    /// Image references, e.g. `nginx:1.27` or `ghcr.io/owner/app:v1`.
    #[arg(required = true, value_name = "REF")]
    pub(crate) references: Vec<String>,

    /// Also print the digest of this platform's manifest (`os/arch[/variant]`), or `all`.
    #[arg(long, value_name = "PLATFORM")]
    pub(crate) platform: Option<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
    pub(crate) format: ListFormat,

    /// Also show who signed each digest (cosign signatures), checked against the `[signatures]`
    /// policy of the config when one covers the image.
    #[arg(long)]
    pub(crate) signatures: bool,

    /// Configuration file for `--signatures` (default: tagwarden.toml in the current directory).
    #[arg(long, value_name = "FILE", requires = "signatures")]
    pub(crate) config: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// The watch configuration (TOML): images, scan paths, interval, webhooks.
    #[arg(long, value_name = "FILE", default_value = "tagwarden-watch.toml")]
    pub(crate) config: PathBuf,

    /// Where the history is kept: `sqlite:PATH` or `postgres://…` [default: the configuration's
    /// `db`, or tagwarden-watch.db beside it]. From the environment, a password stays out of `ps`.
    #[arg(
        long,
        value_name = "URL",
        env = "TAGWARDEN_WATCH_DB",
        hide_env_values = true
    )]
    pub(crate) db: Option<String>,

    /// Serve the page, API and metrics here [default: the configuration's `listen`, or
    /// 127.0.0.1:8465]; `none` serves nothing.
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<String>,

    /// One cycle, then exit: 1 when an event at or above the configuration's `fail-on` (default
    /// high) was recorded, 0 otherwise, 2 on error. For cron and CI.
    #[arg(long)]
    pub(crate) once: bool,

    /// This replica's name, when several share one PostgreSQL [default: the host name].
    #[arg(long, value_name = "NAME")]
    pub(crate) replica: Option<String>,

    /// Print one tag's history (observations and events) as JSON, and exit.
    #[arg(long, value_name = "REF", conflicts_with = "once")]
    pub(crate) export: Option<String>,

    #[command(flatten)]
    pub(crate) advisory: AdvisoryArgs,

    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct PinArgs {
    /// Files or directories to pin.
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,

    /// Change nothing, ask no registry: exit 1 when a reference is not pinned.
    #[arg(long)]
    pub(crate) check: bool,

    /// Print a unified diff of what would change instead of writing.
    #[arg(long, conflicts_with = "check")]
    pub(crate) dry_run: bool,

    /// Pin the manifest of this platform (`os/arch[/variant]`) instead of the multi-platform index.
    #[arg(long, value_name = "PLATFORM")]
    pub(crate) platform: Option<String>,

    /// Pin references that an advisory names to the advisory's known-good digest.
    #[arg(long)]
    pub(crate) to_known_good: bool,

    /// Also re-pin references already pinned (`name:tag@old` gets the tag's current digest); a
    /// pin to one platform's manifest stays on that platform.
    #[arg(long, conflicts_with = "check")]
    pub(crate) update: bool,

    /// Rewrite files that have several hard links too (the name rewritten gets a new file; the
    /// other names keep the old contents). By default they are refused.
    #[arg(long)]
    pub(crate) allow_hard_links: bool,

    /// Rewrite read-only files too (their mode is kept). By default they are refused.
    #[arg(long)]
    pub(crate) allow_read_only: bool,

    /// Configuration file [default: tagwarden.toml or .tagwarden.toml in the first path].
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) walk: WalkArgs,

    #[command(flatten)]
    pub(crate) advisory: AdvisoryArgs,

    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Files or directories to verify.
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,

    #[command(flatten)]
    pub(crate) report: ReportArgs,

    /// Configuration file [default: tagwarden.toml or .tagwarden.toml in the first path].
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// The tree is not trusted: a config inside it cannot hide compromised-* findings, nor can
    /// inline ignore comments. Also TAGWARDEN_UNTRUSTED_CONFIG=1.
    #[arg(long)]
    pub(crate) untrusted_config: bool,

    #[command(flatten)]
    pub(crate) walk: WalkArgs,

    #[command(flatten)]
    pub(crate) advisory: AdvisoryArgs,

    /// Also check every pinned digest's cosign signatures against the `[signatures]` policy
    /// of the config (findings `signature-missing`, `signature-invalid`).
    #[arg(long)]
    pub(crate) signatures: bool,

    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuditFormat {
    /// Compiler-style findings at each record's file and line, then a summary.
    Human,
    /// Versioned JSON, as `scan` writes it.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// The `Registry audit logs` section of an incident report.
    Markdown,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Audit-log exports: files or directories, JSON, JSON lines, gzip or zstd (any mix of
    /// Docker Hub, Harbor, CloudTrail, GitHub and GitLab records).
    #[arg(required = true, value_name = "LOG")]
    pub(crate) logs: Vec<PathBuf>,

    /// Start of the baseline period (RFC 3339 or a date, UTC) [default: the oldest record].
    #[arg(long, value_name = "TIME")]
    pub(crate) baseline_from: Option<String>,

    /// End of the baseline period: pushes from then on are judged [default: the `recent`
    /// period of `[audit]` (7 days) before the newest push].
    #[arg(long, value_name = "TIME")]
    pub(crate) baseline_to: Option<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = AuditFormat::Human)]
    pub(crate) format: AuditFormat,

    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity [default: high, or the config's].
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub(crate) fail_on: Option<Severity>,

    /// When to use colours in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,

    /// Configuration file, for its `[audit]` thresholds [default: tagwarden.toml or
    /// .tagwarden.toml in the current directory].
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExposureFormat {
    /// Each credential with its reasons and the first rotation step.
    Human,
    /// Versioned JSON (crates/tagwarden-exposure/JSON.md).
    Json,
    /// The checklist for an incident ticket, every rotation step a task.
    Markdown,
}

#[derive(Debug, Args)]
pub(crate) struct ExposureArgs {
    /// The repositories whose CI ran the compromised image [default: the current directory].
    pub(crate) paths: Vec<PathBuf>,

    /// A `tagwarden hunt --format json` document: its CI hits name the exposed jobs, its
    /// cleared runs the jobs that ran the image when it was clean.
    #[arg(long, value_name = "HUNT.json")]
    pub(crate) hunt: Option<PathBuf>,

    /// A job to count as exposed, `FILE:JOB` (the file as shown, the job's key), repeatable.
    /// Without --hunt or --job, every job that uses an affected image or action is exposed.
    #[arg(long = "job", value_name = "FILE:JOB")]
    pub(crate) jobs: Vec<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ExposureFormat::Human)]
    pub(crate) format: ExposureFormat,

    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Configuration file [default: tagwarden.toml or .tagwarden.toml in the first path].
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) walk: WalkArgs,

    #[command(flatten)]
    pub(crate) advisory: AdvisoryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HuntFormat {
    /// One line per hit, in time order, and a summary.
    Human,
    /// Versioned JSON (see the README).
    Json,
    /// The incident report: what was found, where, when, and what to do next.
    Markdown,
    /// SARIF for the file findings (for code scanning).
    Sarif,
    /// STIX 2.1: a sighting of the advisory's indicator per hit (weak matches marked).
    Stix,
    /// A MISP event: the matched indicators, each with its sightings.
    Misp,
}

#[derive(Debug, Args)]
pub(crate) struct HuntArgs {
    /// Trees whose files to search for references [default: the current directory].
    pub(crate) paths: Vec<PathBuf>,

    /// Do not search files (only logs, engines and registries).
    #[arg(long)]
    pub(crate) no_files: bool,

    /// CI job logs: GitHub Actions (files or a run's logs zip), GitLab traces, Jenkins, docker
    /// pull and BuildKit output; files or directories, plain, gzip or zstd (repeatable).
    #[arg(long = "ci-logs", value_name = "PATH")]
    pub(crate) ci_logs: Vec<PathBuf>,

    /// Network logs: Zeek, Squid, nginx/Apache, Route 53 resolver, CoreDNS, VPC flow logs,
    /// JSON lines or plain text; files or directories, plain, gzip or zstd (repeatable).
    #[arg(long = "network-logs", value_name = "PATH")]
    pub(crate) network_logs: Vec<PathBuf>,

    /// Snapshots: `kubectl get pods -A -o json`, `docker inspect`, `docker images --digests`,
    /// `crictl images -o json` output (repeatable).
    #[arg(long = "snapshot", value_name = "FILE")]
    pub(crate) snapshots: Vec<PathBuf>,

    /// Docker Hub usage CSV exports and audit-log JSON (repeatable).
    #[arg(long = "dockerhub-export", value_name = "FILE")]
    pub(crate) dockerhub_exports: Vec<PathBuf>,

    /// Registry audit logs: Docker Hub, Harbor, CloudTrail (ECR), GitHub, GitLab; files or
    /// directories, JSON or JSON lines, plain, gzip or zstd (repeatable). Pushes of malicious
    /// digests are hits; pushes that stray from their repository's history are reported as
    /// `tagwarden audit` reports them.
    #[arg(long = "audit-logs", value_name = "PATH")]
    pub(crate) audit_logs: Vec<PathBuf>,

    /// A registry or mirror to search, `host[:port][/prefix]` (repeatable, read-only).
    #[arg(long = "registry", value_name = "HOST")]
    pub(crate) registries: Vec<String>,

    /// A Docker Engine API socket to search (docker or podman; repeatable). By default the
    /// local engine is searched when one answers.
    #[arg(long = "engine", value_name = "SOCKET")]
    pub(crate) engines: Vec<PathBuf>,

    /// Do not look for a local container engine.
    #[arg(long, conflicts_with = "engines")]
    pub(crate) no_engine: bool,

    /// Extra network indicators, one per line (a domain, an IP or a URL; `#` comments).
    #[arg(long = "indicators", value_name = "FILE")]
    pub(crate) indicators: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = HuntFormat::Human)]
    pub(crate) format: HuntFormat,

    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Also write the Markdown incident report to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) report: Option<PathBuf>,

    /// A `tagwarden purge --format json` result: its "Purged" and "Left to do by hand" section
    /// goes into the Markdown report.
    #[arg(long, value_name = "PURGE.json")]
    pub(crate) purge: Option<PathBuf>,

    /// Configuration file [default: tagwarden.toml or .tagwarden.toml in the first path].
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) walk: WalkArgs,

    #[command(flatten)]
    pub(crate) advisory: AdvisoryArgs,

    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PurgeFormat {
    /// What was planned, done, refused and left, in words.
    Human,
    /// Versioned JSON (`tagwarden-purge/v1`, see the README).
    Json,
    /// The Markdown section of the incident report ("Purged", "Left to do by hand").
    Markdown,
}

#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    /// A Docker Engine API socket to purge (docker or podman; repeatable).
    #[arg(long = "engine", value_name = "SOCKET")]
    pub(crate) engines: Vec<PathBuf>,

    /// A registry or pull-through cache you own or mirror into, `host[:port][/prefix]`
    /// (repeatable): the advisories' repositories are searched under it.
    #[arg(long = "registry", value_name = "HOST")]
    pub(crate) registries: Vec<String>,

    /// Also search this repository (its path, `team/tool`) in every registry (repeatable).
    #[arg(long = "repository", value_name = "PATH")]
    pub(crate) repositories: Vec<String>,

    /// `kubectl get pods -A -o json`, `crictl images -o json` or `docker inspect` output: pods
    /// and hosts running a malicious digest, left to do by hand (repeatable).
    #[arg(long = "snapshot", value_name = "FILE")]
    pub(crate) snapshots: Vec<PathBuf>,

    /// A hunt's JSON output: the digests it found compromised are purged too.
    #[arg(long, value_name = "HUNT.json")]
    pub(crate) hunt: Option<PathBuf>,

    /// Carry the plan out. Without it nothing is changed.
    #[arg(long)]
    pub(crate) yes: bool,

    /// Stop and remove containers created from malicious images (otherwise they block).
    #[arg(long)]
    pub(crate) force: bool,

    /// Point tags back at the known-good digest an advisory names, when that digest is in the
    /// repository and no advisory calls it malicious.
    #[arg(long)]
    pub(crate) restore_known_good: bool,

    /// The journal (JSON lines, appended and synced): a run with the same journal resumes.
    #[arg(long, value_name = "FILE", default_value = "tagwarden-purge.jsonl")]
    pub(crate) journal: PathBuf,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = PurgeFormat::Human)]
    pub(crate) format: PurgeFormat,

    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) advisory: AdvisoryArgs,

    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdvisoryCommand {
    /// Every loaded advisory: id, title, what it holds, where it was loaded from.
    List(AdvisoryListArgs),
    /// Everything an advisory says, with each value's sources and confidence.
    Show(AdvisoryShowArgs),
    /// Validate advisory files and run their self-tests (exit 1 when one fails).
    Check(AdvisoryCheckArgs),
    /// Convert STIX 2.1, MISP, OSV, OpenVEX or CSAF VEX documents to a tagwarden advisory.
    Import(AdvisoryImportArgs),
    /// Write an advisory as a STIX 2.1 bundle, a MISP event or Sigma rules.
    Export(AdvisoryExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AdvisoryListArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
    pub(crate) format: ListFormat,

    #[command(flatten)]
    pub(crate) advisory: AdvisoryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ShowFormat {
    Human,
    /// The advisory file itself (for an import: the converted file).
    Toml,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct AdvisoryShowArgs {
    /// The advisory id (see `tagwarden advisory list`).
    pub(crate) id: String,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ShowFormat::Human)]
    pub(crate) format: ShowFormat,

    #[command(flatten)]
    pub(crate) advisory: AdvisoryArgs,
}

#[derive(Debug, Args)]
pub(crate) struct AdvisoryCheckArgs {
    /// Advisory files: TOML, or JSON in an importable format.
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ImportFrom {
    /// Detect the format of each file.
    Auto,
    Stix,
    Misp,
    Osv,
    Openvex,
    Csaf,
}

#[derive(Debug, Args)]
pub(crate) struct AdvisoryImportArgs {
    /// Documents about one incident; together they make one advisory.
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,

    /// The format of the documents.
    #[arg(long, value_enum, default_value_t = ImportFrom::Auto)]
    pub(crate) from: ImportFrom,

    /// The advisory id [default: derived from the first document].
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,

    /// Write the advisory to this file (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportTo {
    /// A STIX 2.1 bundle.
    Stix,
    /// A MISP event.
    Misp,
    /// Sigma rules for DNS and proxy logs.
    Sigma,
}

#[derive(Debug, Args)]
pub(crate) struct AdvisoryExportArgs {
    /// An advisory id, or an advisory file (TOML or an importable JSON document).
    #[arg(value_name = "ID|FILE")]
    pub(crate) advisory_ref: String,

    /// The format to write.
    #[arg(long, value_enum, default_value_t = ExportTo::Stix)]
    pub(crate) to: ExportTo,

    /// Write to this file (for sigma: this directory, one file per rule) instead of standard
    /// output.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) advisory: AdvisoryArgs,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// Write `tagwarden.1` and a page per command (`tagwarden-scan.1`, …) into this directory,
    /// each atomically, instead of printing `tagwarden.1` to standard output.
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse::<Severity>()
        .map_err(|_| format!("unknown severity {s:?} (info, low, medium, high, critical)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors() {
        let m = parse_mirror("index.docker.io=https://mirror.corp:5000/dockerhub/").unwrap();
        assert_eq!(m.registry, "docker.io");
        assert_eq!(m.host, "mirror.corp:5000");
        assert_eq!(m.prefix.as_deref(), Some("dockerhub"));
        let m = parse_mirror("ghcr.io=127.0.0.1:5000").unwrap();
        assert_eq!((m.registry.as_str(), m.prefix), ("ghcr.io", None));
        assert!(parse_mirror("docker.io").is_err());
        assert!(parse_mirror("=x").is_err());
        assert!(parse_mirror("a/b=x").is_err());
    }
}
