//! `tagwarden hunt` over CI logs, snapshots and exports with planted hits inside, outside and at
//! the edges of the windows, in plain, gzip and zstd files, with corrupt inputs beside them.

use std::io::Write;

use crate::common::*;

const KICS_LATEST: &str = "sha256:a0d9366f6f0166dcbf92fcdc98e1a03d2e6210e8d7e8573f74d50849130651a0";

fn gha_pull(ts: &str, image: &str, digest: Option<&str>) -> String {
    let mut s = format!(
        "{ts} ##[group]Pull down action image '{image}'\n{ts} ##[command]/usr/bin/docker pull {image}\n"
    );
    if let Some(d) = digest {
        s.push_str(&format!("{ts} Digest: {d}\n"));
    }
    s.push_str(&format!(
        "{ts} Status: Downloaded newer image for {image}\n{ts} ##[endgroup]\n"
    ));
    s
}

fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn hits(json: &serde_json::Value) -> Vec<(String, String)> {
    json["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["verdict"].as_str().unwrap().to_string(),
                h["location"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `hunt --no-files --no-engine --ci-logs logs --format json` in the tree.
fn hunt_ci_logs_json(tree: &Tree) -> (Run, serde_json::Value) {
    let args = [
        "hunt",
        "--no-files",
        "--no-engine",
        "--ci-logs",
        "logs",
        "--format",
        "json",
    ];
    let run = tagwarden(&args, tree.path());
    let json = run.json();
    (run, json)
}

#[test]
fn ci_logs_windows_and_compression() {
    let tree = Tree::new()
        // Inside the vendor window, tag only.
        .file("logs/a.txt", gha_pull("2026-04-22T12:31:00.0000000Z", "checkmarx/kics:latest", None))
        // One second after the window: disputed.
        .file("logs/b.txt", gha_pull("2026-04-22T13:00:00.0000000Z", "checkmarx/kics:debian", None))
        // After the disputed window: nothing.
        .file("logs/c.txt", gha_pull("2026-04-22T15:41:32.0000000Z", "checkmarx/kics:alpine", None))
        // A malicious digest a year later: still compromised.
        .file(
            "logs/d.log.gz",
            gzip(&gha_pull("2027-04-22T10:00:00.0000000Z", "checkmarx/kics:latest", Some(KICS_LATEST))),
        )
        .file(
            "logs/e.log.zst",
            zstd::encode_all(
                "2026-03-19T18:01:20.9615234Z Download action repository 'aquasecurity/trivy-action@0.24.0' (SHA:e0198fd2b6e1679e36d32933941182d9afa82f6f)\n".as_bytes(),
                3,
            )
            .unwrap(),
        )
        // A truncated gzip: a problem, and the rest of the hunt goes on.
        .file("logs/f.log.gz", &gzip(&"x\n".repeat(10_000))[..40]);
    let (run, json) = hunt_ci_logs_json(&tree);
    assert_eq!(run.status, 1, "{}", run.stderr);
    let got = hits(&json);
    assert!(
        got.contains(&("exposed".into(), "logs/a.txt:1".into())),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(v, l)| v == "disputed" && l.starts_with("logs/b.txt")),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(_, l)| l.starts_with("logs/c.txt")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(v, l)| v == "compromised" && l.starts_with("logs/d.log.gz")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(v, l)| v == "compromised" && l.starts_with("logs/e.log.zst")),
        "{got:?}"
    );
    let problems = json["problems"].to_string();
    assert!(problems.contains("f.log.gz"), "{problems}");
    // Timeline order, in UTC.
    let times: Vec<&str> = json["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["timestamp"].as_str())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert!(times.iter().all(|t| t.ends_with('Z')));
}

#[test]
fn clean_hunt_exits_zero_and_markdown_report() {
    let tree = Tree::new().file(
        "logs/a.txt",
        gha_pull(
            "2026-04-22T10:00:00.0000000Z",
            "checkmarx/kics:latest",
            None,
        ),
    );
    let run = tagwarden(
        &[
            "hunt",
            "--no-files",
            "--no-engine",
            "--ci-logs",
            "logs",
            "--report",
            "report.md",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("clean"), "{}", run.stdout);
    let md = std::fs::read_to_string(tree.join("report.md")).unwrap();
    assert!(md.contains("**No hits.**"), "{md}");
    assert!(md.contains("## Sources"), "{md}");
}

#[test]
fn snapshots_exports_and_files_together() {
    let pods = format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{{"apiVersion":"v1","kind":"Pod",
        "metadata":{{"name":"scanner","namespace":"ci"}},"spec":{{"nodeName":"node-1","containers":[{{"name":"kics","image":"checkmarx/kics:latest"}}]}},
        "status":{{"startTime":"2026-04-22T12:50:00Z","containerStatuses":[{{"name":"kics","image":"docker.io/checkmarx/kics:latest","imageID":"docker.io/checkmarx/kics@{KICS_LATEST}","state":{{"running":{{"startedAt":"2026-04-22T12:50:10Z"}}}}}}]}}}}]}}"#
    );
    let tree = Tree::new()
        .file("snap/pods.json", pods)
        .file(
            "export/usage.csv",
            "datehour,repository,tag,digest,ips,version_checks,pulls\n2026-04-22 12:00:00,checkmarx/kics,v2.1.20,,10.1.2.3,0,1\n",
        )
        .file("repo/Dockerfile", "FROM checkmarx/kics:v2.1.21\n");
    let run = tagwarden(
        &[
            "hunt",
            "repo",
            "--no-engine",
            "--snapshot",
            "snap",
            "--dockerhub-export",
            "export/usage.csv",
            "--format",
            "json",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let json = run.json();
    let all = json["hits"].to_string();
    assert!(
        all.contains("kubectl-snapshot") && all.contains("node-1"),
        "{all}"
    );
    assert!(all.contains("dockerhub-usage"), "{all}");
    assert!(all.contains("\"source\":\"file\""), "{all}");
    let run = tagwarden(
        &["hunt", "repo", "--no-engine", "--format", "sarif"],
        tree.path(),
    );
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "affected-tag");
}

#[test]
fn a_named_engine_that_does_not_answer_is_an_error() {
    let tree = Tree::new();
    let run = tagwarden(
        &[
            "hunt",
            "--no-files",
            "--engine",
            "missing.sock",
            "--format",
            "json",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 2, "{}", run.stdout);
    let json = run.json();
    assert_eq!(json["sources"][0]["status"], "error");
    assert!(
        json["sources"][0]["error"]
            .as_str()
            .unwrap()
            .contains("missing.sock")
    );
}

#[test]
fn engine_mirror_ci_and_network_logs_in_one_hunt() {
    use tagwarden_testbed::{
        OciLayout, Podman, Registry, RegistryOptions, real_registry_available,
    };
    if !real_registry_available() || !Podman::available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let h = registry.host();
    let bad = OciLayout::image("attacker-build");
    bad.push(&format!("{h}/acme/scanner:1.0"), None);

    let tree = Tree::new()
        .file(
            "adv.toml",
            format!(
                r#"schema_version = 1
id = "acme-2026-01"
title = "acme/scanner overwritten"
summary = "test"
published = "2026-01-02"
updated = "2026-01-02"

[[sources]]
id = "s"
url = "https://example.invalid/advisory"

[[image_exposures]]
repositories = ["{h}/acme/scanner"]
tags = ["1.0"]
window = {{ start = "2026-01-01T00:00:00Z", end = "2026-01-01T01:00:00Z" }}
sources = ["s"]
confidence = "P"

[[malicious_images]]
repositories = ["{h}/acme/scanner"]
tags = ["1.0"]
sources = ["s"]
confidence = "P"
digests = [{{ digest = "{}", kind = "manifest", platform = "linux/amd64" }}]

[[network_indicators]]
kind = "domain"
value = "exfil.acme-bad[.]example"
sources = ["s"]
confidence = "P"

[[network_indicators]]
kind = "ip"
value = "192.0.2.77"
weak = true
sources = ["s"]
confidence = "P"

[[network_indicators]]
kind = "ip"
value = "198.51.100.66"
sources = ["s"]
confidence = "P"

[examples]
images_must_match = [{{ ref = "{h}/acme/scanner:1.0", verdict = "affected_tag" }}]
images_must_not_match = ["{h}/acme/scanner:2.0"]
"#,
                bad.digest
            ),
        )
        .file(
            "ci/build-42.txt",
            gha_pull("2026-01-01T00:30:00.0000000Z", &format!("{h}/acme/scanner:1.0"), None),
        )
        .file(
            "net/dns.log",
            "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n\
             1767227400.5\tC1\t10.0.5.23\t40000\t10.0.0.2\t53\tudp\texfil.acme-bad.example\t192.0.2.77\n\
             1767227401.5\tC2\t10.0.5.24\t40001\t10.0.0.2\t53\tudp\tnot-acme-bad.example\t192.0.2.77\n\
             1767227402.5\tC3\t10.0.5.25\t40002\t10.0.0.2\t53\tudp\texfil.acme-bad.example\t198.51.100.66\n",
        );

    // The local engine: podman's Docker-compatible API holding the pulled image and a container.
    let remote = format!("{h}/acme/scanner:1.0");
    let mut podman = Podman::new();
    podman.run(&["pull", "--quiet", "--tls-verify=false", &remote]);
    podman.run(&["create", "--name", "scanner", &remote, "/x"]);
    podman.serve();
    let socket = podman.socket();

    let args = [
        "hunt",
        "--no-files",
        "--advisories",
        "adv.toml",
        "--engine",
        socket.to_str().unwrap(),
        "--registry",
        &h,
        "--insecure-registry",
        &h,
        "--ci-logs",
        "ci",
        "--network-logs",
        "net",
        "--format",
        "json",
        "--report",
        "report.md",
    ];
    let run = tagwarden(&args, tree.path());
    assert_eq!(run.status, 1, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    let got: Vec<(String, String)> = json["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["verdict"].as_str().unwrap().into(),
                h["source"].as_str().unwrap().into(),
            )
        })
        .collect();
    for want in [
        ("compromised", "engine"),
        ("compromised", "registry"),
        ("exposed", "github-actions-log"),
        ("contacted", "zeek-dns"),
    ] {
        assert!(
            got.contains(&(want.0.into(), want.1.into())),
            "{want:?} not in {got:?}"
        );
    }
    // The engine names the container, and the weak IP alone is never a hit.
    assert!(json["hits"].to_string().contains("scanner"));
    assert!(!json["hits"].to_string().contains("not-acme-bad"));
    assert!(json["weak"].to_string().contains("192.0.2.77"));
    assert!(
        json["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "ok")
    );
    // One event per record: the DNS line naming the domain and the address is one row, with
    // both indicators; the weak parent match of the first line is not listed again.
    let md = std::fs::read_to_string(tree.join("report.md")).unwrap();
    assert!(
        md.contains("**Hit.**") && md.contains("Rotate credentials") && md.contains(&bad.digest)
    );
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("`net/dns.log:"))
        .collect();
    assert_eq!(rows.len(), 2, "{md}");
    assert!(
        rows[1].contains("exfil.acme-bad.example") && rows[1].contains("198.51.100.66"),
        "{md}"
    );
    assert!(
        !md.contains("Pin** to known-good digests, starting with:"),
        "{md}"
    );
    assert_eq!(
        json["weak"].as_array().unwrap().len(),
        1,
        "{}",
        json["weak"]
    );

    // SARIF: every hit at its place, not only the files.
    let mut sarif_args: Vec<&str> = args.to_vec();
    let at = sarif_args.iter().position(|a| *a == "json").unwrap();
    sarif_args[at] = "sarif";
    let run = tagwarden(&sarif_args, tree.path());
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let places: Vec<(String, String, u64)> = results
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                loc["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                loc["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    for want in [
        ("hunt-exposed", "ci/build-42.txt", 1),
        ("hunt-contacted", "net/dns.log", 3),
        ("hunt-contacted", "net/dns.log", 5),
    ] {
        assert!(
            places.contains(&(want.0.into(), want.1.into(), want.2)),
            "{want:?} not in {places:?}"
        );
    }
    assert!(
        places
            .iter()
            .any(|p| p.0 == "hunt-compromised" && p.1.ends_with("podman.sock")),
        "{places:?}"
    );
    assert!(
        places
            .iter()
            .any(|p| p.0 == "hunt-compromised" && p.1.contains("acme/scanner")),
        "{places:?}"
    );
}

/// A kubectl snapshot holding a pod that runs the malicious KICS digest.
fn pods_json() -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{{"apiVersion":"v1","kind":"Pod",
        "metadata":{{"name":"scanner","namespace":"ci"}},"spec":{{"nodeName":"node-1","containers":[{{"name":"kics","image":"checkmarx/kics:latest"}}]}},
        "status":{{"containerStatuses":[{{"name":"kics","image":"docker.io/checkmarx/kics:latest","imageID":"docker.io/checkmarx/kics@{KICS_LATEST}"}}]}}}}]}}"#
    )
}

/// `tagwarden hunt` through bash, so that `<(…)` process substitutions work as responders use
/// them.
fn hunt_in_bash(script_args: &str, cwd: &std::path::Path) -> Run {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "\"{}\" hunt --no-files --no-engine {script_args}",
            env!("CARGO_BIN_EXE_tagwarden")
        ))
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("bash");
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn streams_are_evidence_and_an_empty_one_is_not_clean() {
    let tree = Tree::new().file("snap/pods.json", pods_json()).file(
        "logs/a.txt",
        gha_pull(
            "2026-04-22T12:31:00.0000000Z",
            "checkmarx/kics:latest",
            None,
        ),
    );
    // Process substitutions, as responders pipe `kubectl` and CI logs in.
    let run = hunt_in_bash(
        "--snapshot <(cat snap/pods.json) --ci-logs <(gzip -c logs/a.txt) --format json",
        tree.path(),
    );
    assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    let sources: Vec<&str> = json["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["source"].as_str().unwrap())
        .collect();
    assert!(sources.contains(&"kubectl-snapshot"), "{sources:?}");
    assert!(sources.contains(&"github-actions-log"), "{sources:?}");
    // A stream that gives nothing (the command writing it failed) is not a clean answer.
    let run = hunt_in_bash("--snapshot <(false) --format json", tree.path());
    assert_eq!(run.status, 2, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["summary"]["answer"], "incomplete");
    assert!(
        json["problems"].to_string().contains("stream gave nothing"),
        "{}",
        json["problems"]
    );
    // A FIFO named as evidence is read like a file.
    let fifo = tree.join("pods.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if made {
        let writer = {
            let fifo = fifo.clone();
            let body = pods_json();
            std::thread::spawn(move || std::fs::write(fifo, body).unwrap())
        };
        let run = tagwarden(
            &[
                "hunt",
                "--no-files",
                "--no-engine",
                "--snapshot",
                "pods.fifo",
            ],
            tree.path(),
        );
        writer.join().unwrap();
        assert_eq!(run.status, 1, "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("compromised"), "{}", run.stdout);
    }
}

#[test]
fn evidence_is_read_by_its_content_wherever_it_is_given() {
    let tree = Tree::new()
        .file(
            "logs/1_scan.txt",
            gha_pull("2026-04-22T10:00:00.0000000Z", "checkmarx/kics:latest", None),
        )
        .file(
            "logs/hub/usage.csv",
            "datehour,repository,tag,digest,ips,version_checks,pulls\n2026-04-22 12:00:00,checkmarx/kics,v2.1.20,,10.1.2.3,0,1\n",
        )
        .file("logs/cluster/pods.json.gz", gzip(&pods_json()))
        .file(
            "logs/net/dns.log",
            "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n\
             1776861361.5\tC1\t10.0.5.23\t40000\t10.0.0.2\t53\tudp\taudit.checkmarx.cx\t94.154.172.43\n",
        );
    let (run, json) = hunt_ci_logs_json(&tree);
    assert_eq!(run.status, 1, "{}", run.stderr);
    let all = json["hits"].to_string();
    for source in ["dockerhub-usage", "kubectl-snapshot", "zeek-dns"] {
        assert!(all.contains(source), "{source} not in {all}");
    }
    assert_eq!(json["summary"]["answer"], "hit");
    assert!(json["problems"].as_array().unwrap().is_empty(), "{json}");
}

/// A zstd frame whose header declares a 2 GiB window, then one raw byte.
const ZSTD_BOMB: [u8; 10] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa8, 0x09, 0x00, 0x00, b'x'];

#[test]
fn loops_window_bombs_and_unread_evidence_are_said_in_every_format() {
    let tree = Tree::new()
        .file(
            "logs/a.txt",
            gha_pull(
                "2026-04-22T10:00:00.0000000Z",
                "checkmarx/kics:latest",
                None,
            ),
        )
        .file("logs/bomb.log.zst", ZSTD_BOMB);
    std::os::unix::fs::symlink(tree.join("logs"), tree.join("logs/loop")).unwrap();
    let args = |format: &'static str| {
        vec![
            "hunt",
            "--no-files",
            "--no-engine",
            "--ci-logs",
            "logs",
            "--network-logs",
            "logs",
            "--format",
            format,
        ]
    };
    let run = tagwarden(&args("json"), tree.path());
    // Nothing hit, but the bomb was not read: not clean.
    assert_eq!(run.status, 2, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["summary"]["answer"], "incomplete");
    let problems = json["problems"].to_string();
    assert!(problems.contains("bomb.log.zst"), "{problems}");
    assert!(problems.contains("window over 128 MiB"), "{problems}");
    let notes = json["notes"].to_string();
    assert!(notes.contains("read once"), "{notes}");
    let run = tagwarden(&args("human"), tree.path());
    assert!(run.stdout.contains("NOT CLEAN"), "{}", run.stdout);
    assert!(run.stdout.contains("window over 128 MiB"), "{}", run.stdout);
    let run = tagwarden(&args("markdown"), tree.path());
    assert!(run.stdout.contains("### Not searched"), "{}", run.stdout);
    assert!(run.stdout.contains("bomb.log.zst"), "{}", run.stdout);
    let run = tagwarden(&args("sarif"), tree.path());
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"].to_string();
    assert!(
        notes.contains("not searched") && notes.contains("bomb.log.zst"),
        "{notes}"
    );
    let run = tagwarden(&args("stix"), tree.path());
    assert!(run.stdout.contains("\"type\": \"note\""), "{}", run.stdout);
    assert!(run.stdout.contains("bomb.log.zst"), "{}", run.stdout);
    let run = tagwarden(&args("misp"), tree.path());
    assert!(
        run.stdout.contains("\"type\": \"comment\""),
        "{}",
        run.stdout
    );
}

#[test]
fn a_registry_refusing_credentials_is_not_a_clean_answer() {
    use tagwarden_testbed::{Registry, RegistryOptions, real_registry_available};
    if !real_registry_available() {
        return;
    }
    // Credentials rotated mid-incident: every request gets 401.
    let registry = Registry::start(RegistryOptions {
        htpasswd: Some(("responder".into(), "rotated".into())),
        ..RegistryOptions::default()
    });
    let h = registry.host();
    let tree = Tree::new();
    let run = tagwarden(
        &[
            "hunt",
            "--no-files",
            "--no-engine",
            "--registry",
            &h,
            "--insecure-registry",
            &h,
            "--format",
            "json",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 2, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["summary"]["answer"], "incomplete");
    let unread = format!("{}{}", json["problems"], json["sources"]);
    assert!(unread.contains(&h), "{unread}");
}
