//! What the watch tests share: the daemon as a process, its API over HTTP, the databases
//! (SQLite files, or PostgreSQL databases in the cluster the test script starts), HMAC checks
//! with openssl, and a WebDriver session in headless Chromium.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tagwarden_testbed::{free_port, request};

/// Set by the test script: `postgresql://USER@/postgres?host=SOCKETDIR&port=PORT`.
pub(crate) const POSTGRES_ENV: &str = "TAGWARDEN_TEST_POSTGRES";
/// Makes a missing PostgreSQL a failure rather than a skip.
pub(crate) const REQUIRE_POSTGRES: &str = "TAGWARDEN_REQUIRE_POSTGRES";
/// Makes a missing Chromium or ChromeDriver a failure rather than a skip.
pub(crate) const REQUIRE_BROWSER: &str = "TAGWARDEN_REQUIRE_BROWSER";

/// A fresh database: an SQLite file in `dir`, or a new PostgreSQL database.
pub(crate) fn database(postgres: bool, dir: &Path, name: &str) -> Option<String> {
    if !postgres {
        return Some(format!(
            "sqlite:{}",
            dir.join(format!("{name}.db")).display()
        ));
    }
    let Some(base) = std::env::var_os(POSTGRES_ENV).and_then(|v| v.into_string().ok()) else {
        assert!(
            std::env::var_os(REQUIRE_POSTGRES).is_none(),
            "{REQUIRE_POSTGRES} is set but {POSTGRES_ENV} is not (scripts/test.sh starts a cluster)"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPING PostgreSQL test: {POSTGRES_ENV} is not set (scripts/test.sh sets it) !!!!!!!!\n"
        );
        return None;
    };
    let db = format!("{name}_{}", std::process::id());
    let out = Command::new("psql")
        .arg(&base)
        .args(["-q", "-c", &format!("DROP DATABASE IF EXISTS {db}"), "-c"])
        .arg(format!("CREATE DATABASE {db}"))
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(base.replacen("/postgres?", &format!("/{db}?"), 1))
}

/// `tagwarden watch` running as a process, its standard output (JSON lines) and error in files.
pub(crate) struct Daemon {
    child: Child,
    pub(crate) web: String,
    out: PathBuf,
    err: PathBuf,
}

impl Daemon {
    /// Starts the daemon on `config` with `db`, reaching `insecure` registries over HTTP.
    pub(crate) fn start(
        dir: &Path,
        name: &str,
        config: &Path,
        db: &str,
        insecure: &[String],
        envs: &[(&str, &str)],
    ) -> Daemon {
        let web = format!("127.0.0.1:{}", free_port());
        let out = dir.join(format!("{name}.out"));
        let err = dir.join(format!("{name}.err"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tagwarden"));
        cmd.args(["watch", "--config"])
            .arg(config)
            .args([
                "--db",
                db,
                "--listen",
                &web,
                "--replica",
                name,
                "--timeout",
                "5",
            ])
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"));
        for host in insecure {
            cmd.args(["--insecure-registry", host]);
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start tagwarden watch");
        let daemon = Daemon {
            child,
            web,
            out,
            err,
        };
        daemon.wait("the page to answer", Duration::from_secs(30), |d| {
            d.get("/healthz").0 == 200
        });
        daemon
    }

    /// GET on the daemon's server: status and body.
    pub(crate) fn get(&self, path: &str) -> (u16, String) {
        match request(&self.web, "GET", path, &[], b"") {
            Ok(r) => (r.status, String::from_utf8_lossy(&r.body).into_owned()),
            Err(_) => (0, String::new()),
        }
    }

    pub(crate) fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}\n{}", self.stderr());
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// The watched tags, from the API.
    pub(crate) fn tags(&self) -> Vec<Value> {
        self.json("/api/v1/tags")["tags"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The events printed on standard output so far.
    pub(crate) fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Waits for `done`, failing with the daemon's log after `limit`.
    pub(crate) fn wait(&self, what: &str, limit: Duration, done: impl Fn(&Daemon) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < limit,
                "timed out waiting for {what}\nstderr:\n{}\nstdout:\n{}",
                self.stderr(),
                std::fs::read_to_string(&self.out).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The counter `tagwarden_watch_polls_total` summed over its labels.
    pub(crate) fn polls(&self) -> f64 {
        self.get("/metrics")
            .1
            .lines()
            .filter(|l| l.starts_with("tagwarden_watch_polls_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// SIGTERM, then the exit status (killed after 20 s).
    pub(crate) fn terminate(mut self) -> (Option<i32>, String) {
        signal(self.child.id(), "-TERM");
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (status.code(), self.stderr());
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                return (None, self.stderr());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no chance to finish anything.
    pub(crate) fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(pid: u32, which: &str) {
    let _ = Command::new("kill")
        .arg(which)
        .arg(pid.to_string())
        .status();
}

/// The `sha256=<hex>` HMAC of `body` under `secret`, computed by openssl (not by our code).
pub(crate) fn openssl_hmac(secret: &str, body: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body)
        .expect("write to openssl");
    let out = child.wait_with_output().expect("openssl output");
    let text = String::from_utf8_lossy(&out.stdout);
    format!("sha256={}", text.rsplit("= ").next().unwrap_or("").trim())
}

/// Chromium and ChromeDriver, when installed; skips loudly, or fails when required.
pub(crate) fn browser_available() -> bool {
    let missing: Vec<&str> = ["chromium", "chromedriver", "curl"]
        .into_iter()
        .filter(|p| tagwarden_testbed::which(p).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os(REQUIRE_BROWSER).is_none(),
        "{REQUIRE_BROWSER} is set but {missing:?} are not on PATH (apt-get install chromium chromium-driver curl)"
    );
    eprintln!("\n!!!!!!!! SKIPPING browser test: {missing:?} not on PATH !!!!!!!!\n");
    false
}

/// A WebDriver session in headless Chromium, spoken to with curl.
pub(crate) struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub(crate) fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("profile dir");
        let start = Instant::now();
        while curl("GET", &format!("{base}/status"), None)["value"]["ready"] != true {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // The flags this machine needs: no sandbox as root, no GPU, and no background traffic.
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                     format!("--user-data-dir={}", profile.path().display())]
        }}}});
        let created = curl("POST", &format!("{base}/session"), Some(&caps));
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_string();
        Browser {
            driver,
            base,
            session,
            _profile: profile,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        curl(
            method,
            &format!("{}/session/{}{path}", self.base, self.session),
            body,
        )
    }

    pub(crate) fn open(&self, url: &str) {
        self.call("POST", "/url", Some(&serde_json::json!({ "url": url })));
    }

    pub(crate) fn source(&self) -> String {
        self.call("GET", "/source", None)["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Clicks the element the CSS selector finds.
    pub(crate) fn click(&self, css: &str) {
        let found = self.call(
            "POST",
            "/element",
            Some(&serde_json::json!({"using": "css selector", "value": css})),
        );
        let id = found["value"]
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string();
        self.call(
            "POST",
            &format!("/element/{id}/click"),
            Some(&serde_json::json!({})),
        );
    }

    /// A PNG of the viewport.
    pub(crate) fn screenshot(&self) -> Vec<u8> {
        let shot = self.call("GET", "/screenshot", None);
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(shot["value"].as_str().unwrap_or_default())
            .unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = curl(
            "DELETE",
            &format!("{}/session/{}", self.base, self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn curl(method: &str, url: &str, body: Option<&Value>) -> Value {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "--max-time", "60", "-X", method, url]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "-d", &b.to_string()]);
    }
    let out = cmd.output().expect("run curl");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}
