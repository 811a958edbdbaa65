//! `tagwarden purge` end to end against real components: the CNCF registry on loopback (deletes
//! enabled, and another in proxy mode), podman's Docker-compatible API with its own storage, a
//! kubectl snapshot; a killed run resumed from its journal; credentials that never show.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tagwarden_testbed::{
    Fault, Gate, OCI_INDEX, OCI_MANIFEST, OciLayout, Podman, Proxy, Registry, RegistryOptions,
    digest_of, real_registry_available,
};

use crate::common::{Run, Tree, command, run, tagwarden};

const REPO: &str = "checkmarx/kics";

/// An advisory declaring `bad` digests malicious and `good` the known-good digest of `latest`.
fn advisory(bad: &[&str], good: &str) -> String {
    let digests: Vec<String> = bad
        .iter()
        .map(|d| format!("{{ digest = \"{d}\", kind = \"manifest\", platform = \"linux/amd64\" }}"))
        .collect();
    format!(
        r#"schema_version = 1
id = "purge-test"
title = "test images declared malicious"
summary = "test"
published = "2026-01-02"
updated = "2026-01-02"

[[sources]]
id = "s"
url = "https://example.invalid/advisory"

[[malicious_images]]
repositories = ["docker.io/{REPO}"]
tags = ["latest"]
sources = ["s"]
confidence = "P"
digests = [{}]

[[known_good_images]]
repositories = ["docker.io/{REPO}"]
tags = ["latest"]
confirmed = true
sources = ["s"]
confidence = "P"
digests = [{{ digest = "{good}" }}]

[examples]
images_must_match = [{{ ref = "{REPO}@{}", verdict = "malicious_digest" }}]
images_must_not_match = ["{REPO}@{good}"]
"#,
        digests.join(", "),
        bad[0]
    )
}

fn hex(digest: &str) -> &str {
    digest.trim_start_matches("sha256:")
}

/// The registry's state: every tag and what it points at, and which of `digests` it serves.
fn registry_state(registry: &Registry, digests: &[&str]) -> Vec<String> {
    let tags = registry.http("GET", &format!("/v2/{REPO}/tags/list"), &[], b"");
    let tags: serde_json::Value = serde_json::from_slice(&tags.body).unwrap_or_default();
    let mut tags: Vec<String> = tags["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    tags.sort();
    let mut state: Vec<String> = tags
        .iter()
        .map(|t| format!("{t} -> {:?}", registry.head_digest(REPO, t).map(|d| d.0)))
        .collect();
    for d in digests {
        state.push(format!("{d}: {}", registry.head_digest(REPO, d).is_some()));
    }
    state
}

/// What podman holds: images (ID and names) and containers.
fn engine_state(podman: &Podman) -> (String, String) {
    (
        podman.run(&[
            "images",
            "--all",
            "--format",
            "{{.ID}} {{.Repository}}:{{.Tag}}",
        ]),
        podman.run(&["ps", "--all", "--format", "{{.ID}} {{.Names}} {{.ImageID}}"]),
    )
}

fn kubectl_snapshot(reference: &str, digest: &str) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{{"apiVersion":"v1","kind":"Pod",
  "metadata":{{"name":"kics-7d9f8c6b5-x2x9z","namespace":"ci",
    "ownerReferences":[{{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"kics-7d9f8c6b5","controller":true}}]}},
  "spec":{{"nodeName":"node-a","containers":[{{"name":"kics","image":"{reference}"}}]}},
  "status":{{"containerStatuses":[{{"name":"kics","image":"{reference}",
    "imageID":"docker-pullable://{}@{digest}","state":{{"running":{{"startedAt":"2026-04-22T10:00:00Z"}}}}}}]}}}}]}}"#,
        reference.split(':').next().unwrap_or(reference)
    )
}

fn steps(run: &Run) -> Vec<serde_json::Value> {
    run.json()["steps"].as_array().cloned().unwrap_or_default()
}

fn states(run: &Run) -> Vec<(String, String)> {
    steps(run)
        .iter()
        .map(|s| {
            (
                s["key"].as_str().unwrap_or_default().to_string(),
                s["state"]["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn purge_plans_then_removes_exactly_the_malicious_targets_and_resumes_after_a_kill() {
    if !real_registry_available() || !Podman::available() {
        return;
    }
    let registry = Registry::start(RegistryOptions::default());
    let h = registry.host();
    let evil = OciLayout::image("purge-evil");
    let good = OciLayout::image("purge-good");
    let multi = OciLayout::multi_arch("purge-multi");
    let bad_child = multi.platform_digest("linux/arm64").to_string();
    let clean_child = multi.platform_digest("linux/amd64").to_string();
    let sig = OciLayout::image("purge-signature");
    evil.push(&format!("{h}/{REPO}:latest"), None);
    good.push(&format!("{h}/{REPO}:stable"), None);
    multi.push(&format!("{h}/{REPO}:v2.1.20"), None);
    sig.push(
        &format!("{h}/{REPO}:sha256-{}.sig", hex(&evil.digest)),
        None,
    );
    // A referrer of the malicious image, listed in the referrers tag schema (distribution 2.8
    // has no referrers API).
    let config = registry.upload_blob(REPO, b"{}");
    let referrer = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.sbom",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [],
        "subject": {"mediaType": OCI_MANIFEST, "digest": evil.digest, "size": evil.bytes.len()},
    }))
    .unwrap();
    let referrer_digest = digest_of(&referrer);
    registry.put_manifest(REPO, &referrer_digest, OCI_MANIFEST, &referrer);
    let referrers_index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": referrer_digest,
                        "size": referrer.len(), "artifactType": "application/vnd.example.sbom"}],
    }))
    .unwrap();
    registry.put_manifest(
        REPO,
        &format!("sha256-{}", hex(&evil.digest)),
        OCI_INDEX,
        &referrers_index,
    );

    // podman pulls the malicious image and a clean one, and creates a container from the first.
    let mut podman = Podman::new();
    podman.run(&[
        "pull",
        "--quiet",
        "--tls-verify=false",
        &format!("{h}/{REPO}:latest"),
    ]);
    podman.run(&[
        "pull",
        "--quiet",
        "--tls-verify=false",
        &format!("{h}/{REPO}:stable"),
    ]);
    podman.run(&[
        "create",
        "--name",
        "scanner",
        &format!("{h}/{REPO}:latest"),
        "/x",
    ]);
    let socket = podman.serve().join("podman.sock");
    let socket = socket.to_str().unwrap().to_string();

    // Deletes go through a proxy that stalls the first real one, so the run can be killed in the
    // middle: each of the three runs before it (two dry runs, then the one killed) sends one
    // harmless delete probe first.
    let gate = Gate::new();
    let proxy = Proxy::start(
        &h,
        Fault::Stall {
            method: "DELETE",
            skip: 3,
            gate: gate.clone(),
        },
    );
    let p = proxy.host();
    let tree = Tree::new()
        .file(
            "adv.toml",
            advisory(&[&evil.digest, &bad_child], &good.digest),
        )
        .file(
            "pods.json",
            kubectl_snapshot(&format!("{p}/{REPO}:latest"), &evil.digest),
        );
    let journal = tree.join("purge.jsonl");
    let journal_arg = journal.to_str().unwrap().to_string();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "purge",
            "--no-builtin-advisories",
            "--advisories",
            "adv.toml",
            "--registry",
            &p,
            "--insecure-registry",
            &p,
            "--engine",
            &socket,
            "--snapshot",
            "pods.json",
            "--journal",
            &journal_arg,
            "--format",
            "json",
            "--timeout",
            "5",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let digests = [
        evil.digest.as_str(),
        good.digest.as_str(),
        multi.digest.as_str(),
        bad_child.as_str(),
        clean_child.as_str(),
        sig.digest.as_str(),
        referrer_digest.as_str(),
    ];
    let registry_before = registry_state(&registry, &digests);
    let engine_before = engine_state(&podman);

    // 1. A dry run plans everything and changes nothing.
    let a = args(&["--force", "--restore-known-good"]);
    let dry = tagwarden(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        tree.path(),
    );
    assert_eq!(dry.status, 1, "{}\n{}", dry.stdout, dry.stderr);
    assert_eq!(dry.json()["format"], "tagwarden-purge/v1");
    assert_eq!(dry.json()["dry_run"], true);
    let planned = states(&dry);
    let repo = format!("{p}/{REPO}");
    let expect = [
        format!("registry:{repo}@sha256:"),
        format!("registry:{repo}@{}", evil.digest),
        format!("registry:{repo}@{}", multi.digest),
        format!("registry:{repo}@{bad_child}"),
        format!("registry:{repo}@{}", sig.digest),
        format!("registry:{repo}@{referrer_digest}"),
        format!("tag:{repo}:latest"),
        format!("engine:{socket}:image:"),
        format!("engine:{socket}:container:"),
        "pod:pods.json:ci/kics-7d9f8c6b5-x2x9z/kics".to_string(),
    ];
    for e in &expect {
        assert!(
            planned.iter().any(|(k, _)| k.starts_with(e.as_str())),
            "{e} not planned: {planned:#?}"
        );
    }
    for (key, state) in &planned {
        let by_hand = key.starts_with("pod:");
        assert_eq!(state, if by_hand { "by_hand" } else { "planned" }, "{key}");
        for untouched in [&good.digest, &clean_child] {
            assert!(
                !key.ends_with(untouched.as_str()),
                "{key} must not be a target"
            );
        }
    }
    // The referrers index (the `sha256-<hex>` tag) is a target too, and the pod names its owner.
    let all = steps(&dry);
    assert!(
        all.iter().any(|s| s["target"]["role"] == "referrers_index"),
        "{all:#?}"
    );
    let pod = all.iter().find(|s| s["target"]["kind"] == "pod").unwrap();
    assert_eq!(pod["target"]["owner"]["kind"], "ReplicaSet");
    assert!(
        pod["instead"][0]
            .as_str()
            .unwrap()
            .contains("deployment/kics"),
        "{pod}"
    );
    assert_eq!(registry_state(&registry, &digests), registry_before);
    assert_eq!(engine_state(&podman), engine_before);
    assert!(!journal.exists(), "a dry run writes no journal");
    // Without --force a container blocks its image; nothing is restored without being asked.
    let unforced = args(&[]);
    let blocked = tagwarden(
        &unforced.iter().map(String::as_str).collect::<Vec<_>>(),
        tree.path(),
    );
    for (key, state) in states(&blocked) {
        if key.starts_with("engine:") {
            assert_eq!(state, "blocked", "{key}");
        } else if key.starts_with("tag:") {
            assert_eq!(state, "by_hand", "{key}");
        }
    }

    // 2. The real run, killed while the registry stalls on its first delete.
    let mut child = command(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        tree.path(),
    )
    .arg("--yes")
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        let registry_started = text.lines().last().is_some_and(|l| {
            l.contains("\"key\":\"registry:") && l.contains("\"result\":\"started\"")
        });
        if registry_started {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed:\n{text}"
        );
        assert!(
            Instant::now() < deadline,
            "no registry step started:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    gate.open();
    // The engine went first: its targets are gone, the clean image stays.
    let (images, containers) = engine_state(&podman);
    assert!(containers.is_empty(), "{containers}");
    assert_eq!(images.lines().count(), 1, "{images}");
    assert!(
        registry.head_digest(REPO, &evil.digest).is_some(),
        "the kill came before the deletes"
    );

    // 3. The same command resumes from the journal and finishes.
    let resumed = tagwarden(
        &a.iter()
            .map(String::as_str)
            .chain(["--yes"])
            .collect::<Vec<_>>(),
        tree.path(),
    );
    assert_eq!(
        resumed.status, 1,
        "the pod is left to do by hand\n{}\n{}",
        resumed.stdout, resumed.stderr
    );
    let json = resumed.json();
    assert_eq!(json["left"].as_array().map(Vec::len), Some(0), "{json:#}");
    for (key, state) in states(&resumed) {
        let expected = if key.starts_with("pod:") {
            "by_hand"
        } else {
            "done"
        };
        assert_eq!(state, expected, "{key}: {json:#}");
    }
    let earlier = json["earlier"].as_array().cloned().unwrap_or_default();
    assert!(
        earlier
            .iter()
            .any(|r| r["key"].as_str().unwrap().starts_with("engine:")),
        "{json:#}"
    );
    // Exactly the malicious targets went: the clean image, its tag and the index's clean child
    // stayed, and latest points at the known-good digest again.
    for gone in [
        &evil.digest,
        &multi.digest,
        &bad_child,
        &sig.digest,
        &referrer_digest,
    ] {
        assert!(
            registry.head_digest(REPO, gone).is_none(),
            "{gone} is still there"
        );
    }
    assert_eq!(
        registry.head_digest(REPO, "stable").map(|d| d.0),
        Some(good.digest.clone())
    );
    assert_eq!(
        registry.head_digest(REPO, "latest").map(|d| d.0),
        Some(good.digest.clone())
    );
    assert!(registry.head_digest(REPO, &clean_child).is_some());
    assert!(registry.head_digest(REPO, "v2.1.20").is_none());
    let text = std::fs::read_to_string(&journal).unwrap();
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(record["journal"], "tagwarden-purge/v1");
    }

    // 4. A second run is a no-op: nothing found, everything reported gone from the journal.
    let again = tagwarden(
        &a.iter()
            .map(String::as_str)
            .chain(["--yes"])
            .collect::<Vec<_>>(),
        tree.path(),
    );
    assert_eq!(again.status, 1, "{}\n{}", again.stdout, again.stderr);
    let keys: Vec<String> = states(&again).into_iter().map(|(k, _)| k).collect();
    assert!(keys.iter().all(|k| k.starts_with("pod:")), "{keys:?}");
    assert!(again.json()["earlier"].as_array().unwrap().len() >= expect.len() - 1);
    let lines = text.lines().count();
    assert_eq!(
        std::fs::read_to_string(&journal).unwrap().lines().count(),
        lines,
        "nothing was done"
    );

    // The human and Markdown outputs say the same in words.
    let mut human = a.clone();
    human.retain(|s| s != "json" && s != "--format");
    let words = tagwarden(
        &human.iter().map(String::as_str).collect::<Vec<_>>(),
        tree.path(),
    );
    assert!(
        words
            .stdout
            .contains("Already gone (an earlier run, from the journal)"),
        "{}",
        words.stdout
    );
    assert!(
        words.stdout.contains("owned by ReplicaSet kics-7d9f8c6b5"),
        "{}",
        words.stdout
    );
    let md = tagwarden(
        &human
            .iter()
            .map(String::as_str)
            .chain(["--format", "markdown"])
            .collect::<Vec<_>>(),
        tree.path(),
    );
    assert!(
        md.stdout.contains("### Purged") && md.stdout.contains("### Left to do by hand"),
        "{}",
        md.stdout
    );
}

#[test]
fn a_pull_through_cache_is_reported_with_what_to_do_instead() {
    if !real_registry_available() {
        return;
    }
    let upstream = Registry::start(RegistryOptions::default());
    let evil = OciLayout::image("purge-cached");
    let good = OciLayout::image("purge-cached-good");
    evil.push(&format!("{}/{REPO}:latest", upstream.host()), None);
    let cache = Registry::start(RegistryOptions {
        proxy_of: Some(format!("http://{}", upstream.host())),
        ..RegistryOptions::default()
    });
    let c = cache.host();
    // Pulled through once: the cache holds it.
    let pulled = cache.http(
        "GET",
        &format!("/v2/{REPO}/manifests/{}", evil.digest),
        &[("Accept", OCI_MANIFEST)],
        b"",
    );
    assert_eq!(pulled.status, 200);
    let tree = Tree::new().file("adv.toml", advisory(&[&evil.digest], &good.digest));
    for yes in [false, true] {
        let mut a = vec![
            "purge",
            "--no-builtin-advisories",
            "--advisories",
            "adv.toml",
            "--registry",
            &c,
            "--insecure-registry",
            &c,
            "--format",
            "json",
        ];
        if yes {
            a.push("--yes");
        }
        let run = tagwarden(&a, tree.path());
        assert_eq!(run.status, 1, "{}\n{}", run.stdout, run.stderr);
        let all = steps(&run);
        assert_eq!(all.len(), 1, "{all:#?}");
        assert_eq!(all[0]["state"]["state"], "refused");
        let reason = all[0]["state"]["reason"].as_str().unwrap();
        let instead = all[0]["instead"].to_string();
        assert!(
            instead.contains("garbage-collect") && instead.contains("proxy.ttl"),
            "{instead}"
        );
        if yes {
            assert!(reason.contains("pull-through cache"), "{reason}");
            // The incident report includes the purge: what is left to do by hand, and why.
            std::fs::write(tree.join("purge.json"), &run.stdout).unwrap();
            let hunt = tagwarden(
                &[
                    "hunt",
                    "--no-files",
                    "--no-engine",
                    "--no-builtin-advisories",
                    "--advisories",
                    "adv.toml",
                    "--report",
                    "report.md",
                    "--purge",
                    "purge.json",
                ],
                tree.path(),
            );
            assert_ne!(hunt.status, 2, "{}", hunt.stderr);
            let report = std::fs::read_to_string(tree.join("report.md")).unwrap();
            assert!(report.contains("## Purge"), "{report}");
            let left = report
                .split("### Left to do by hand")
                .nth(1)
                .unwrap_or_default();
            assert!(
                left.contains("refused") && left.contains("garbage-collect"),
                "{report}"
            );
        }
    }
    assert!(cache.head_digest(REPO, &evil.digest).is_some());
}

#[test]
fn credentials_are_used_and_never_shown() {
    if !real_registry_available() {
        return;
    }
    let password = "pUrge-s3cret-Pw";
    let registry = Registry::start(RegistryOptions {
        htpasswd: Some(("responder".into(), password.into())),
        ..RegistryOptions::default()
    });
    let h = registry.host();
    let evil = OciLayout::image("purge-private");
    let good = OciLayout::image("purge-private-good");
    evil.push(&format!("{h}/{REPO}:latest"), Some(("responder", password)));
    let tree = Tree::new().file("adv.toml", advisory(&[&evil.digest], &good.digest));
    let config = tree.join("docker");
    std::fs::create_dir_all(&config).unwrap();
    let auth = tagwarden_testbed::base64(format!("responder:{password}").as_bytes());
    std::fs::write(
        config.join("config.json"),
        format!(r#"{{"auths":{{"{h}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    // Without credentials the registry answers nothing: the plan is incomplete there (exit 2).
    let refused = tagwarden(
        &[
            "purge",
            "--no-builtin-advisories",
            "--advisories",
            "adv.toml",
            "--registry",
            &h,
            "--insecure-registry",
            &h,
        ],
        tree.path(),
    );
    assert_eq!(refused.status, 2, "{}\n{}", refused.stdout, refused.stderr);
    let nowhere = tagwarden(&["purge", "--advisories", "adv.toml"], tree.path());
    assert_eq!(nowhere.status, 2);
    assert!(
        nowhere.stderr.contains("name the places to purge"),
        "{}",
        nowhere.stderr
    );
    assert!(
        refused.stdout.contains("access denied"),
        "{}",
        refused.stdout
    );
    let out = run(command(
        &[
            "purge",
            "--no-builtin-advisories",
            "--advisories",
            "adv.toml",
            "--registry",
            &h,
            "--insecure-registry",
            &h,
            "--yes",
            "--restore-known-good",
        ],
        tree.path(),
    )
    .env("DOCKER_CONFIG", &config));
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert_eq!(out.status, 0, "{stdout}\n{stderr}");
    let journal = std::fs::read_to_string(tree.join("tagwarden-purge.jsonl")).unwrap();
    for text in [stdout, stderr, &journal] {
        assert!(
            !text.contains(password) && !text.contains(&auth),
            "secret shown:\n{text}"
        );
    }
    assert!(stdout.contains("nothing malicious is left"), "{stdout}");
    // The known-good digest was never pushed here: it is not restored, the user is told how.
    assert!(
        stdout.contains("is not in") && stdout.contains("copy it in first"),
        "{stdout}"
    );
    assert!(registry.head_digest(REPO, "latest").is_none());
    assert!(registry.head_digest(REPO, &evil.digest).is_none());
}

#[test]
fn a_hunt_names_digests_and_the_places_this_purge_was_not_told_about() {
    let bad = format!("sha256:{}", "b".repeat(64));
    let good = format!("sha256:{}", "c".repeat(64));
    let hit = |source: &str, location: &str| {
        format!(
            r#"{{"advisory":"feed:x","verdict":"compromised","source":"{source}","location":"{location}","timestamp":null,"indicator":"{bad}","host":null,"job":null,"detail":"d","excerpt":null,"line":null,"matched":{{"kind":"digest","digest":"{bad}"}}}}"#
        )
    };
    let hunt = format!(
        r#"{{"version":1,"summary":{{"hit":true,"compromised":2,"exposed":0,"disputed":0,"contacted":0,"weak":0,"evidence":2,"problems":0,"notes":0,"answer":"hit"}},"hits":[{},{}],"weak":[],"sources":[],"problems":[],"notes":[]}}"#,
        hit("engine", "/run/elsewhere/docker.sock"),
        hit("kubectl-snapshot", "pods.json")
    );
    let pods = kubectl_snapshot(&format!("example.com/{REPO}:latest"), &bad);
    let tree = Tree::new()
        .file("hunt.json", hunt)
        .file("pods.json", pods)
        // An advisory with nothing malicious of its own: the digest comes from the hunt.
        .file(
            "adv.toml",
            advisory(&[&good], &format!("sha256:{}", "d".repeat(64))),
        );
    let run = tagwarden(
        &[
            "purge",
            "--no-builtin-advisories",
            "--advisories",
            "adv.toml",
            "--hunt",
            "hunt.json",
            "--snapshot",
            "pods.json",
            "--format",
            "json",
        ],
        tree.path(),
    );
    assert_eq!(run.status, 2, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    let pod = &json["steps"][0];
    assert_eq!(pod["target"]["digest"], bad.as_str(), "{json:#}");
    assert!(
        pod["why"].as_str().unwrap().contains("hunt: feed:x"),
        "{json:#}"
    );
    let problems = json["problems"].to_string();
    assert!(
        problems.contains("/run/elsewhere/docker.sock: the hunt found"),
        "{problems}"
    );
    assert!(
        problems.contains("--engine") && !problems.contains("pods.json:"),
        "{problems}"
    );
}
