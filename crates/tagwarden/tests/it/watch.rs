//! `tagwarden watch` end to end: the daemon as a process against the real loopback registry,
//! webhooks to a loopback receiver, SQLite and PostgreSQL (the cluster the test script starts),
//! kill -9 and restart, two replicas sharing 1,000 tags, and the page in headless Chromium.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tagwarden_testbed::{
    Fault, OciLayout, Proxy, Receiver, Registry, RegistryOptions, free_port,
    real_registry_available,
};

use crate::watch_support::{Browser, Daemon, browser_available, database, openssl_hmac};

const SECRET: &str = "test-webhook-secret";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

/// An advisory naming `bad` malicious in `repo`.
fn advisory(host: &str, repo: &str, bad: &str) -> String {
    format!(
        r#"schema_version = 1
id = "acme-2026-05"
title = "acme kics tag overwritten"
summary = "test"
published = "2026-05-01"
updated = "2026-05-01"

[[sources]]
id = "s"
url = "https://example.invalid/advisory"

[[malicious_images]]
repositories = ["{host}/{repo}"]
tags = ["v2.1.20"]
sources = ["s"]
confidence = "P"
digests = [{{ digest = "{bad}", kind = "manifest", platform = "linux/amd64" }}]

[examples]
images_must_match = [{{ ref = "{host}/{repo}@{bad}", verdict = "malicious_digest" }}]
images_must_not_match = ["{host}/{repo}:v0.0.1"]
"#
    )
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["kind"] == kind).collect()
}

fn all_observed(d: &Daemon, count: usize) -> bool {
    let tags = d.tags();
    tags.len() == count && tags.iter().all(|t| !t["last_checked"].is_null())
}

#[test]
fn watch_on_sqlite_repush_malicious_page() {
    end_to_end(false);
}

#[test]
fn watch_on_postgres_repush_malicious() {
    end_to_end(true);
}

/// A re-pushed release tag gives one high event and one signed webhook; a digest an advisory
/// lists gives a critical one; the page shows the timeline and acknowledges (SQLite only: the
/// page reads the same store either way).
fn end_to_end(postgres: bool) {
    if !real_registry_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let Some(db) = database(postgres, dir.path(), "e2e") else {
        return;
    };
    let registry = Registry::start(RegistryOptions::default());
    let h = registry.host();
    let first = OciLayout::image("app-v1");
    first.push(&format!("{h}/app:v1.2.3"), None);
    first.push(&format!("{h}/app:latest"), None);
    OciLayout::multi_arch("multi").push(&format!("{h}/multi:v2.0.0"), None);
    OciLayout::image("kics-good").push(&format!("{h}/kics:v2.1.20"), None);
    let evil = OciLayout::image("kics-evil");
    let receiver = Receiver::start();
    write(dir.path(), "adv.toml", &advisory(&h, "kics", &evil.digest));
    let config = write(
        dir.path(),
        "watch.toml",
        &format!(
            r#"interval = "1s"
images = ["{h}/app:*", "{h}/multi:v2.0.0", "{h}/kics:v2.1.20"]
advisories = ["adv.toml"]

[[webhooks]]
name = "receiver"
url = "http://{}/hook"
secret-env = "WATCH_SECRET"
min-severity = "high"
"#,
            receiver.host()
        ),
    );
    let daemon = Daemon::start(
        dir.path(),
        "e2e",
        &config,
        &db,
        std::slice::from_ref(&h),
        &[("WATCH_SECRET", SECRET)],
    );
    daemon.wait("every tag observed", Duration::from_secs(30), |d| {
        all_observed(d, 4)
    });
    let multi = daemon
        .tags()
        .into_iter()
        .find(|t| t["reference"] == format!("{h}/multi:v2.0.0"))
        .expect("multi watched");
    assert_eq!(
        multi["children"].as_array().map(Vec::len),
        Some(2),
        "{multi}"
    );
    assert!(
        daemon.events().is_empty(),
        "the first sighting is a baseline: {:?}",
        daemon.events()
    );

    // The release tag is overwritten.
    let second = OciLayout::image("app-v2");
    second.push(&format!("{h}/app:v1.2.3"), None);
    daemon.wait("the move", Duration::from_secs(20), |d| {
        !of_kind(&d.events(), "tag-moved").is_empty() && !receiver.received().is_empty()
    });
    // Three more intervals: nothing is emitted or delivered twice.
    std::thread::sleep(Duration::from_secs(3));
    let events = daemon.events();
    let high: Vec<&Value> = events.iter().filter(|e| e["severity"] == "high").collect();
    assert_eq!(high.len(), 1, "{events:?}");
    assert_eq!(high[0]["kind"], "tag-moved");
    assert_eq!(high[0]["reference"], format!("{h}/app:v1.2.3"));
    assert_eq!(high[0]["digest_before"], first.digest.as_str());
    assert_eq!(high[0]["digest_after"], second.digest.as_str());
    let deliveries = receiver.received();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    let hook = &deliveries[0];
    assert_eq!(hook.method, "POST");
    assert_eq!(
        hook.header("X-Tagwarden-Signature-256"),
        Some(openssl_hmac(SECRET, &hook.body).as_str())
    );
    assert_eq!(hook.header("X-Tagwarden-Event"), Some("tag-moved"));
    let body: Value = serde_json::from_slice(&hook.body).expect("JSON body");
    assert_eq!(body["event"]["id"], high[0]["id"]);

    // A digest an advisory lists as malicious.
    evil.push(&format!("{h}/kics:v2.1.20"), None);
    daemon.wait("the critical event", Duration::from_secs(20), |d| {
        !of_kind(&d.events(), "malicious-digest").is_empty()
    });
    let critical = of_kind(&daemon.events(), "malicious-digest")[0].clone();
    assert_eq!(critical["severity"], "critical");
    assert!(
        critical["message"]
            .as_str()
            .is_some_and(|m| m.contains("acme-2026-05")),
        "{critical}"
    );
    daemon.wait("its webhook", Duration::from_secs(20), |_| {
        receiver
            .received()
            .iter()
            .any(|r| r.header("X-Tagwarden-Event") == Some("malicious-digest"))
    });

    if !postgres && browser_available() {
        page(
            &daemon,
            &h,
            &first.digest,
            &second.digest,
            high[0]["id"].as_i64(),
        );
    }
    let (status, stderr) = daemon.terminate();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
}

/// The page in Chromium: the moved tag's timeline, then an alert acknowledged with a click.
fn page(daemon: &Daemon, h: &str, before: &str, after: &str, event: Option<i64>) {
    let event = event.expect("event id");
    let tag = daemon
        .tags()
        .into_iter()
        .find(|t| t["reference"] == format!("{h}/app:v1.2.3"))
        .and_then(|t| t["id"].as_i64())
        .expect("tag id");
    let browser = Browser::start();
    let base = format!("http://{}", daemon.web);
    browser.open(&format!("{base}/tags/{tag}"));
    let timeline = browser.source();
    assert!(
        timeline.contains(before) && timeline.contains(after),
        "{timeline}"
    );
    assert!(timeline.contains("tag-moved"), "{timeline}");
    browser.open(&format!("{base}/"));
    assert!(browser.source().contains(&format!("alert-{event}")));
    browser.click(&format!("#alert-{event} button"));
    let start = Instant::now();
    while browser.source().contains(&format!("alert-{event}")) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the alert was not acknowledged"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let open = daemon.json("/api/v1/events?open=true");
    assert!(
        open["events"]
            .as_array()
            .is_some_and(|e| e.iter().all(|e| e["id"] != event)),
        "{open}"
    );
    // Kept as an artifact under target/.
    browser.open(&format!("{base}/tags/{tag}"));
    let shot = browser.screenshot();
    assert!(shot.starts_with(b"\x89PNG"), "not a PNG");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("watch-page.png");
    std::fs::write(&path, shot).expect("write screenshot");
}

#[test]
fn registry_down_and_rate_limited_are_health_events() {
    if !real_registry_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let registry = Registry::start(RegistryOptions::default());
    OciLayout::image("app").push(&format!("{}/app:v1.0.0", registry.host()), None);
    let limited = Proxy::start(
        &registry.host(),
        Fault::TooManyRequests {
            times: usize::MAX,
            retry_after_secs: 1,
        },
    );
    let dead = format!("127.0.0.1:{}", free_port());
    let config = write(
        dir.path(),
        "watch.toml",
        &format!(
            "interval = \"1s\"\nunhealthy-after = 2\nimages = [\"{}/app:v1.0.0\", \"{dead}/app:v1.0.0\"]\n",
            limited.host()
        ),
    );
    let db = database(false, dir.path(), "health").expect("sqlite");
    let daemon = Daemon::start(
        dir.path(),
        "health",
        &config,
        &db,
        &[limited.host(), dead.clone()],
        &[],
    );
    daemon.wait("two health events", Duration::from_secs(45), |d| {
        of_kind(&d.events(), "registry-unhealthy").len() == 2
    });
    let events = daemon.events();
    let about = |host: &str| {
        of_kind(&events, "registry-unhealthy")
            .iter()
            .any(|e| e["registry"] == host)
    };
    assert!(about(&limited.host()) && about(&dead), "{events:?}");
    assert!(limited.faults() >= 2);
    assert_eq!(daemon.get("/healthz").0, 200);
    let (status, stderr) = daemon.terminate();
    assert_eq!(status, Some(0), "{stderr}");
}

#[test]
fn kill_9_and_restart_on_sqlite() {
    kill_and_restart(false);
}

#[test]
fn kill_9_and_restart_on_postgres() {
    kill_and_restart(true);
}

/// Tags put cheaply: one manifest under `count` tags of `repo`.
fn many_tags(registry: &Registry, repo: &str, count: usize) -> OciLayout {
    let image = OciLayout::image(repo);
    image.push(&format!("{}/{repo}:base", registry.host()), None);
    for i in 0..count {
        registry.put_manifest(repo, &format!("1.0.{i}"), image.media_type, &image.bytes);
    }
    image
}

/// kill -9 in the middle of a cycle, restart: every tag ends up observed, and an event that
/// was recorded before the next kill is neither lost nor emitted again.
fn kill_and_restart(postgres: bool) {
    if !real_registry_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let Some(db) = database(postgres, dir.path(), "restart") else {
        return;
    };
    let registry = Registry::start(RegistryOptions::default());
    let h = registry.host();
    many_tags(&registry, "many", 300);
    let config = write(
        dir.path(),
        "watch.toml",
        &format!(
            "interval = \"2s\"\nimages = [\"{h}/many:1.*\"]\n[registries.\"{h}\"]\nrate = 60\nconcurrency = 4\n"
        ),
    );
    let start = |name: &str| {
        Daemon::start(
            dir.path(),
            name,
            &config,
            &db,
            std::slice::from_ref(&h),
            &[],
        )
    };
    let checked = |d: &Daemon| {
        d.tags()
            .iter()
            .filter(|t| !t["last_checked"].is_null())
            .count()
    };
    let first = start("one");
    first.wait("some polls", Duration::from_secs(30), |d| checked(d) >= 60);
    let seen_before = checked(&first);
    first.kill9();
    assert!(
        seen_before < 300,
        "the kill came after the cycle ({seen_before})"
    );

    let second = start("one");
    second.wait("every tag observed", Duration::from_secs(60), |d| {
        all_observed(d, 300)
    });
    OciLayout::image("moved").push(&format!("{h}/many:1.0.7"), None);
    second.wait("the move", Duration::from_secs(30), |d| {
        !of_kind(&d.events(), "tag-moved").is_empty()
    });
    second.kill9();

    let third = start("one");
    std::thread::sleep(Duration::from_secs(5));
    let events = third.json("/api/v1/events")["events"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["reference"], format!("{h}/many:1.0.7"));
    assert!(third.events().is_empty(), "{:?}", third.events());
    let tags = third.tags();
    assert_eq!(tags.len(), 300);
    let id = tags
        .iter()
        .find(|t| t["reference"] == format!("{h}/many:1.0.3"))
        .and_then(|t| t["id"].as_i64())
        .expect("a tag");
    let history = third.json(&format!("/api/v1/tags/{id}/history"));
    assert_eq!(
        history["observations"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );
    let (status, stderr) = third.terminate();
    assert_eq!(status, Some(0), "{stderr}");
}

/// Two replicas on one PostgreSQL share 1,000 tags: each tag is polled once per interval
/// between them, both take part, and a move is one event and one webhook.
#[test]
fn two_replicas_share_1000_tags_on_postgres() {
    if !real_registry_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let Some(db) = database(true, dir.path(), "replicas") else {
        return;
    };
    let registry = Registry::start(RegistryOptions::default());
    let h = registry.host();
    many_tags(&registry, "fleet", 1000);
    let receiver = Receiver::start();
    let interval = 4.0;
    let config = write(
        dir.path(),
        "watch.toml",
        &format!(
            r#"interval = "4s"
images = ["{h}/fleet:1.*"]
[registries."{h}"]
rate = 2000
concurrency = 16
[[webhooks]]
url = "http://{}/hook"
"#,
            receiver.host()
        ),
    );
    let started = Instant::now();
    let a = Daemon::start(dir.path(), "a", &config, &db, std::slice::from_ref(&h), &[]);
    let b = Daemon::start(dir.path(), "b", &config, &db, std::slice::from_ref(&h), &[]);
    a.wait("every tag observed", Duration::from_secs(60), |d| {
        all_observed(d, 1000)
    });
    OciLayout::image("moved").push(&format!("{h}/fleet:1.0.42"), None);
    a.wait("the move", Duration::from_secs(30), |_| {
        a.events().len() + b.events().len() >= 1 && !receiver.received().is_empty()
    });
    std::thread::sleep(Duration::from_secs(5));
    let polls = a.polls() + b.polls();
    let elapsed = started.elapsed().as_secs_f64();
    let (pa, pb) = (a.polls(), b.polls());
    let events: Vec<Value> = a.events().into_iter().chain(b.events()).collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["kind"], "tag-moved");
    assert_eq!(receiver.received().len(), 1);
    // Once per interval between them: at most one more round than the intervals that passed.
    let most = 1000.0 * (elapsed / interval + 1.0);
    assert!(
        polls <= most,
        "{polls} polls in {elapsed:.1} s: more than {most}"
    );
    assert!(polls >= 1000.0 && pa > 0.0 && pb > 0.0, "a {pa}, b {pb}");
    assert_eq!(a.terminate().0, Some(0));
    assert_eq!(b.terminate().0, Some(0));
}
