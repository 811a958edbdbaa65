//! The engine source against a real podman API service, with its own storage, fed from a real
//! loopback registry (CNCF Distribution) with an image built by umoci and pushed by skopeo.
//!
//! Podman flags that work as root in a sandbox without systemd or a cgroup manager:
//! `podman --root R --runroot RR --storage-driver vfs --cgroup-manager cgroupfs
//! --events-backend file`. vfs keeps the storage plain directories (no overlay mounts left behind
//! in the temporary directory); the other two avoid systemd. Skipped (loudly) when podman,
//! docker-registry, umoci or skopeo is missing, unless `TAGWARDEN_REQUIRE_ENGINE` is set.

#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tagwarden_evidence::engine::Engine;
use tagwarden_evidence::snapshot;
use tagwarden_evidence::{Collect, EvidenceSource, ImageAction, Observed};
use tagwarden_reference::Digest;
use tagwarden_testbed::Podman;

const TOOLS: [&str; 4] = ["podman", "docker-registry", "umoci", "skopeo"];

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// Kills and reaps the child when the test ends, pass or fail.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what} did not come up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn podman_reports_the_pushed_digest_and_the_created_container() {
    let missing: Vec<&str> = TOOLS.into_iter().filter(|t| !on_path(t)).collect();
    if !missing.is_empty() {
        assert!(
            std::env::var_os("TAGWARDEN_REQUIRE_ENGINE").is_none(),
            "TAGWARDEN_REQUIRE_ENGINE is set but {missing:?} not installed"
        );
        eprintln!(
            "SKIPPED podman engine test: {missing:?} not installed \
             (apt-get install podman docker-registry umoci skopeo)"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // A loopback registry on a free port.
    let port = free_port();
    let config = dir.join("registry.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog: {{level: warn}}\nstorage:\n  filesystem: {{rootdirectory: {}}}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.join("registry").display()
        ),
    )
    .unwrap();
    let _registry = Guard(
        Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("docker-registry", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });

    // A one-file image, pushed with skopeo; the digest skopeo reports is the truth.
    let layout = dir.join("oci");
    let image = format!("{}:base", layout.display());
    run(Command::new("umoci")
        .args(["init", "--layout"])
        .arg(&layout));
    run(Command::new("umoci").args(["new", "--image", &image]));
    std::fs::write(dir.join("marker"), "tagwarden engine test\n").unwrap();
    run(Command::new("umoci")
        .args(["insert", "--image", &image])
        .arg(dir.join("marker"))
        .arg("/marker"));
    let remote = format!("127.0.0.1:{port}/checkmarx/kics:latest");
    let digest_file = dir.join("pushed.digest");
    run(Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", "--digestfile"])
        .arg(&digest_file)
        .arg(format!("oci:{image}"))
        .arg(format!("docker://{remote}")));
    let pushed = Digest::parse(std::fs::read_to_string(&digest_file).unwrap().trim()).unwrap();

    // podman pulls it and creates (does not run) a container.
    let mut podman = Podman::new();
    run(podman
        .command()
        .args(["pull", "--quiet", "--tls-verify=false", &remote]));
    let before = jiff::Timestamp::now();
    let container_id =
        run(podman
            .command()
            .args(["create", "--name", "tw-scanner", &remote, "/marker"]));
    let after = jiff::Timestamp::now();

    podman.serve();
    let socket: PathBuf = podman.socket();

    let engine = Engine::new(&socket);
    assert_eq!(engine.name(), "podman");
    let sink = Collect::default();
    let stats = engine.collect(&sink).unwrap();
    let (evidence, problems) = sink.into_parts();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(stats.records, 2, "{evidence:#?}");

    let repository = format!("127.0.0.1:{port}/checkmarx/kics");
    let present: Vec<_> = evidence
        .iter()
        .filter(|e| {
            matches!(
                e.observed,
                Observed::Image {
                    action: ImageAction::Present,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(present.len(), 1, "{evidence:#?}");
    assert_eq!(
        present[0].observed,
        Observed::Image {
            action: ImageAction::Present,
            reference: Some(repository.clone()),
            digest: Some(pushed.clone()),
        }
    );
    assert_eq!(present[0].location, socket.display().to_string());
    assert_eq!(present[0].timestamp, None);

    let created: Vec<_> = evidence
        .iter()
        .filter(|e| {
            matches!(
                e.observed,
                Observed::Image {
                    action: ImageAction::ContainerCreated,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(created.len(), 1, "{evidence:#?}");
    assert_eq!(
        created[0].observed,
        Observed::Image {
            action: ImageAction::ContainerCreated,
            reference: Some(remote.clone()),
            digest: Some(pushed.clone()),
        }
    );
    assert_eq!(created[0].job.as_deref(), Some("tw-scanner"));
    let at = created[0].timestamp.expect("container creation time");
    // The API gives whole seconds.
    assert!(
        at.as_second() >= before.as_second() && at.as_second() <= after.as_second(),
        "{at} not within {before}..{after}"
    );
    assert!(
        created[0]
            .excerpt
            .as_deref()
            .unwrap_or_default()
            .contains(container_id.trim().get(..12).unwrap_or_default())
    );

    // Nothing was changed: the store still has one image and one container.
    let listed = run(podman
        .command()
        .args(["ps", "-a", "--format", "{{.Names}}"]));
    assert_eq!(listed.trim(), "tw-scanner");

    // The same store as the snapshots people paste: each must give the pushed digest, except
    // `ps --format json` and a lone docker `container inspect`, which name the image but not its
    // digest. The docker CLI (when installed) talks to the same podman service.
    let docker = |args: &[&str]| {
        let mut cmd = Command::new("docker");
        cmd.args(args)
            .env("DOCKER_HOST", format!("unix://{}", socket.display()))
            .env("DOCKER_CONFIG", dir.join("docker-config"));
        cmd
    };
    let podman_cmd = |args: &[&str]| {
        let mut cmd = podman.command();
        cmd.args(args);
        cmd
    };
    use ImageAction::{ContainerCreated as Container, Present};
    let mut snapshots: Vec<(String, Command, ImageAction, bool)> = vec![
        (
            "podman images --digests".into(),
            podman_cmd(&["images", "--digests"]),
            Present,
            true,
        ),
        (
            "podman images --format json".into(),
            podman_cmd(&["images", "--format", "json"]),
            Present,
            true,
        ),
        (
            "podman image inspect".into(),
            podman_cmd(&["image", "inspect", &remote]),
            Present,
            true,
        ),
        (
            "podman ps -a --format json".into(),
            podman_cmd(&["ps", "-a", "--format", "json"]),
            Container,
            false,
        ),
        (
            "podman container inspect".into(),
            podman_cmd(&["container", "inspect", "tw-scanner"]),
            Container,
            true,
        ),
    ];
    if on_path("docker") {
        snapshots.extend([
            (
                "docker images --digests".into(),
                docker(&["images", "--digests"]),
                Present,
                true,
            ),
            (
                "docker images --format json".into(),
                docker(&["images", "--digests", "--format", "json"]),
                Present,
                true,
            ),
            (
                "docker ps -a --format json".into(),
                docker(&["ps", "-a", "--format", "json"]),
                Container,
                false,
            ),
            (
                "docker container inspect".into(),
                docker(&["container", "inspect", "tw-scanner"]),
                Container,
                false,
            ),
            (
                "docker inspect image and container".into(),
                docker(&["inspect", &remote, "tw-scanner"]),
                Container,
                true,
            ),
        ]);
    } else {
        eprintln!("docker CLI not installed: docker snapshot formats not checked against it");
    }
    for (what, mut cmd, action, has_digest) in snapshots {
        let expected = has_digest.then(|| pushed.clone());
        let text = run(&mut cmd);
        let parsed =
            snapshot::parse(&what, &text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
        assert!(parsed.problems.is_empty(), "{what}: {:?}", parsed.problems);
        let found: Vec<_> = parsed.evidence.iter().map(|e| &e.observed).collect();
        assert!(
            found.iter().any(|o| matches!(o,
                Observed::Image { action: a, digest: d, .. } if *a == action && *d == expected)),
            "{what}: {found:#?}\n{text}"
        );
        if action == Container {
            let e = parsed
                .evidence
                .iter()
                .find(|e| {
                    matches!(
                        e.observed,
                        Observed::Image {
                            action: Container,
                            ..
                        }
                    )
                })
                .unwrap();
            assert_eq!(e.job.as_deref(), Some("tw-scanner"), "{what}");
            assert_eq!(
                e.timestamp.map(|t| t.as_second()),
                Some(at.as_second()),
                "{what}\n{text}"
            );
        }
    }
}

#[test]
fn a_stopped_engine_is_a_clear_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let socket = tmp.path().join("podman").join("podman.sock");
    let e = Engine::new(&socket)
        .collect(&Collect::default())
        .unwrap_err();
    assert!(
        e.message.starts_with("cannot connect to podman at ")
            && e.message
                .contains("no such socket; start it with `podman system service`"),
        "{}",
        e.message
    );
}
